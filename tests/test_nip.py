"""NIP validation: a table of valid and invalid numbers, with the reasons given."""

from __future__ import annotations

from datetime import date

import pytest

from lpsectl import nip

TODAY = date(2026, 11, 21)

VALID = [
    # (nip, kind, birth, appointment, sex)
    ("198503122010011003", "pns", date(1985, 3, 12), "2010-01", "male"),
    ("19850312 201001 2 003", "pns", date(1985, 3, 12), "2010-01", "female"),
    ("19850312.201001.1.003", "pns", date(1985, 3, 12), "2010-01", "male"),
    ("198802292014031001", "pns", date(1988, 2, 29), "2014-03", "male"),  # leap year
    ("200002292018021001", "pns", date(2000, 2, 29), "2018-02", "male"),  # 2000 is leap
    ("199001152008012001", "pns", date(1990, 1, 15), "2008-01", "female"),  # month of 18th birthday
    ("197512312000121999", "pns", date(1975, 12, 31), "2000-12", "male"),
    # PPPK: digits 13-14 are not a month
    ("199105172022212001", "pppk", date(1991, 5, 17), "2022", "female"),
    ("198207012023211045", "pppk", date(1982, 7, 1), "2023", "male"),
    ("199612302024991001", "pppk", date(1996, 12, 30), "2024", "male"),
    (
        "199612302024001001",
        "pppk",
        date(1996, 12, 30),
        "2024",
        "male",
    ),  # "00" is not a month either
    ("199612302024131001", "pppk", date(1996, 12, 30), "2024", "male"),  # "13" neither
]

INVALID = [
    # (nip, expected problem codes)
    ("", ["empty"]),
    ("   ", ["empty"]),
    ("19850312201001100", ["length"]),  # 17 digits
    ("1985031220100110033", ["length"]),  # 19 digits
    ("19850312201001100A", ["not_digits"]),
    ("I98503122010011003", ["not_digits"]),
    ("١٩٨٥٠٣١٢٢٠١٠٠١١٠٠٣", ["not_digits"]),  # Arabic-Indic digits are not ASCII digits
    ("198502292010011003", ["birth_date_invalid"]),  # 1985 not leap
    ("190002292010011003", ["birth_date_invalid"]),  # 1900 not leap
    ("198513122010011003", ["birth_date_invalid"]),  # month 13
    ("198504312010011003", ["birth_date_invalid"]),  # 31 April
    ("198500122010011003", ["birth_date_invalid"]),  # month 00
    ("198503002010011003", ["birth_date_invalid"]),  # day 00
    ("193003122010011003", ["birth_date_implausible"]),  # born 1930
    ("201503122010011003", ["birth_date_implausible", "appointment_too_early"]),  # 11 years old
    ("198503122000011003", ["appointment_too_early"]),  # appointed at 14
    ("198503121980011003", ["appointment_too_early"]),  # appointed before birth
    ("199001152007122001", ["appointment_too_early"]),  # one month before 18th birthday
    ("198503122027011003", ["appointment_future"]),
    ("198503122026121003", ["appointment_future"]),  # next month
    ("198503120000011003", ["appointment_invalid"]),  # year 0000
    ("198503122010013003", ["sex_digit"]),
    ("198503122010010003", ["sex_digit"]),
    ("198503122010011000", ["sequence_zero"]),
    ("199105172000212001", ["appointment_too_early"]),  # PPPK appointed at 9
    ("199105172030212001", ["appointment_future"]),  # PPPK in the future
    ("199102302022212001", ["birth_date_invalid"]),  # PPPK with 30 February
    ("198502292010013000", ["birth_date_invalid", "sex_digit", "sequence_zero"]),  # all listed
]


@pytest.mark.parametrize(("text", "kind", "birth", "appointment", "sex"), VALID)
def test_valid_numbers_are_accepted_and_read(text, kind, birth, appointment, sex):
    info = nip.validate(text, TODAY)
    assert info.valid, info.reasons()
    assert info.problems == ()
    assert (info.kind, info.birth_date, info.appointment, info.sex) == (
        kind,
        birth,
        appointment,
        sex,
    )
    assert len(info.nip) == 18 and info.nip.isdigit()


@pytest.mark.parametrize(("text", "codes"), INVALID)
def test_invalid_numbers_are_rejected_with_reasons(text, codes):
    info = nip.validate(text, TODAY)
    assert not info.valid
    assert [p.code for p in info.problems] == codes
    assert all(info.reasons("en")) and all(info.reasons("id"))


def test_pppk_code_is_kept():
    info = nip.validate("199105172022212001", TODAY)
    assert info.kind == "pppk" and info.pppk_code == "21"
    assert nip.validate("198503122010011003", TODAY).pppk_code is None


def test_reasons_name_the_digits_at_fault_in_both_languages():
    info = nip.validate("198502292010011003", TODAY)
    assert info.reasons("en") == ["birth date 19850229 (digits 1-8) is not a real date"]
    assert info.reasons("id") == ["tanggal lahir 19850229 (digit 1-8) bukan tanggal yang ada"]
    early = nip.validate("199001152007122001", TODAY)
    assert early.reasons("en") == ["appointment 200712 is before the 18th birthday (200801)"]
    assert nip.validate("12345", TODAY).reasons("id") == ["NIP harus 18 digit, bukan 5"]
    young = nip.validate("201503122010011003", TODAY)
    assert "younger than 18 years" in young.reasons("en")[0]
    assert "usia di bawah 18 tahun" in young.reasons("id")[0]


def test_today_decides_what_is_in_the_future():
    text = "198503122026121003"
    assert not nip.is_valid(text, TODAY)
    assert nip.is_valid(text, date(2026, 12, 1))


def test_mask_hides_the_middle():
    assert nip.mask("19850312 201001 1 003") == "1985**********1003"
    assert nip.mask("123") == "***"
    assert "0312" not in nip.mask("198503122010011003")
