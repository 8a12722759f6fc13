"""NIP (Nomor Induk Pegawai) validation — pure functions, no I/O.

An NIP is 18 digits:

* civil servant (PNS): ``YYYYMMDD`` birth date, ``YYYYMM`` appointment
  (TMT CPNS), ``1``/``2`` sex, ``NNN`` sequence;
* contract staff (PPPK): ``YYYYMMDD`` birth date, ``YYYY`` appointment year,
  a two-digit code that is not a month (``21`` in BKN's numbering), sex, sequence.

So digits 13–14 decide the kind: a month (01–12) means PNS, anything else
PPPK. PPPK numbers must never be rejected just because that pair is not a
month. Validation gives reasons (codes with readable messages in Indonesian
and English), never a bare bool.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from lpsectl.i18n import N_, translated

NIP_LENGTH = 18
#: nobody still in service was born earlier; guards against typos like 1195...
EARLIEST_BIRTH_YEAR = 1940
#: minimum age at appointment, and for holding an account at all
MIN_AGE = 18
#: the code BKN puts in digits 13–14 of PPPK numbers
PPPK_CODE = "21"

PNS = "pns"
PPPK = "pppk"

_SEPARATORS = re.compile(r"[\s.\-]")

MESSAGES: dict[str, str] = {
    "empty": N_("NIP is empty"),
    "not_digits": N_("NIP may contain only digits (found {chars})"),
    "length": N_("NIP must have 18 digits, not {length}"),
    "birth_date_invalid": N_("birth date {text} (digits 1-8) is not a real date"),
    "birth_date_implausible": N_("birth date {text} (digits 1-8) is implausible: {why}"),
    "appointment_invalid": N_("appointment {text} (digits 9-14) is not a valid year and month"),
    "appointment_too_early": N_("appointment {text} is before the 18th birthday ({limit})"),
    "appointment_future": N_("appointment {text} is in the future"),
    "sex_digit": N_("sex digit (digit 15) must be 1 or 2, not {digit}"),
    "sequence_zero": N_("sequence number (digits 16-18) cannot be 000"),
}

_IMPLAUSIBLE = {"too_old": N_("before {year}"), "too_young": N_("younger than {age} years")}


@dataclass(frozen=True)
class NipProblem:
    """One reason an NIP is invalid: a stable code plus the values in the message."""

    code: str
    params: dict[str, str] = field(default_factory=dict)

    def message(self, lang: str = "en") -> str:
        table = translated(MESSAGES, lang)
        params = dict(self.params)
        if self.code == "birth_date_implausible":
            why = translated(_IMPLAUSIBLE, lang)[params["why"]]
            params["why"] = why.format(year=EARLIEST_BIRTH_YEAR, age=MIN_AGE)
        return table[self.code].format(**params)


@dataclass(frozen=True)
class NipInfo:
    """The outcome of validating one NIP."""

    nip: str  # digits only, separators removed
    valid: bool
    kind: str | None = None  # "pns" | "pppk" | None when unreadable
    birth_date: date | None = None
    appointment: str | None = None  # "YYYY-MM" (PNS) or "YYYY" (PPPK)
    sex: str | None = None  # "male" | "female"
    sequence: int | None = None
    pppk_code: str | None = None
    problems: tuple[NipProblem, ...] = ()

    def reasons(self, lang: str = "en") -> list[str]:
        return [p.message(lang) for p in self.problems]


def normalize(text: str) -> str:
    """Drop the spaces, dots and dashes people type into NIPs (``19850312 201001 1 003``)."""
    return _SEPARATORS.sub("", text or "")


def validate(text: str, today: date) -> NipInfo:
    """Validate ``text`` as an NIP as of ``today``; every problem found is listed."""
    nip = normalize(text)
    if not nip:
        return NipInfo(nip=nip, valid=False, problems=(NipProblem("empty"),))
    if not nip.isdigit() or not nip.isascii():
        bad = "".join(sorted({c for c in nip if not (c.isascii() and c.isdigit())}))
        return NipInfo(
            nip=nip, valid=False, problems=(NipProblem("not_digits", {"chars": repr(bad)}),)
        )
    if len(nip) != NIP_LENGTH:
        return NipInfo(
            nip=nip, valid=False, problems=(NipProblem("length", {"length": str(len(nip))}),)
        )

    problems: list[NipProblem] = []
    birth = _birth_date(nip[:8], today, problems)
    kind = PNS if 1 <= int(nip[12:14]) <= 12 else PPPK
    if kind == PNS:
        appointment = f"{nip[8:12]}-{nip[12:14]}"
        _check_pns_appointment(nip, birth, today, problems)
    else:
        appointment = nip[8:12]
        _check_pppk_appointment(nip, birth, today, problems)
    sex_digit = nip[14]
    sex = {"1": "male", "2": "female"}.get(sex_digit)
    if sex is None:
        problems.append(NipProblem("sex_digit", {"digit": sex_digit}))
    sequence = int(nip[15:])
    if sequence == 0:
        problems.append(NipProblem("sequence_zero"))
    return NipInfo(
        nip=nip,
        valid=not problems,
        kind=kind,
        birth_date=birth,
        appointment=appointment,
        sex=sex,
        sequence=sequence,
        pppk_code=nip[12:14] if kind == PPPK else None,
        problems=tuple(problems),
    )


def is_valid(text: str, today: date) -> bool:
    return validate(text, today).valid


def mask(text: str) -> str:
    """``1985*********1003``-style: enough to tell people apart, not enough to misuse."""
    nip = normalize(text)
    if len(nip) <= 8:
        return "*" * len(nip)
    return nip[:4] + "*" * (len(nip) - 8) + nip[-4:]


def _birth_date(text: str, today: date, problems: list[NipProblem]) -> date | None:
    try:
        birth = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        problems.append(NipProblem("birth_date_invalid", {"text": text}))
        return None
    if birth.year < EARLIEST_BIRTH_YEAR:
        problems.append(NipProblem("birth_date_implausible", {"text": text, "why": "too_old"}))
    elif _add_years(birth, MIN_AGE) > today:
        problems.append(NipProblem("birth_date_implausible", {"text": text, "why": "too_young"}))
    return birth


def _check_pns_appointment(
    nip: str, birth: date | None, today: date, problems: list[NipProblem]
) -> None:
    year, month = int(nip[8:12]), int(nip[12:14])
    text = f"{nip[8:12]}{nip[12:14]}"
    if year < EARLIEST_BIRTH_YEAR:
        problems.append(NipProblem("appointment_invalid", {"text": text}))
        return
    if (year, month) > (today.year, today.month):
        problems.append(NipProblem("appointment_future", {"text": text}))
    if birth is not None:
        # appointments are dated from the first of a month (TMT), so the
        # month of the 18th birthday itself is accepted
        limit_year, limit_month = birth.year + MIN_AGE, birth.month
        if (year, month) < (limit_year, limit_month):
            limit = f"{limit_year:04d}{limit_month:02d}"
            problems.append(NipProblem("appointment_too_early", {"text": text, "limit": limit}))


def _check_pppk_appointment(
    nip: str, birth: date | None, today: date, problems: list[NipProblem]
) -> None:
    year = int(nip[8:12])
    text = nip[8:12]
    if year < EARLIEST_BIRTH_YEAR:
        problems.append(NipProblem("appointment_invalid", {"text": nip[8:14]}))
        return
    if year > today.year:
        problems.append(NipProblem("appointment_future", {"text": text}))
    if birth is not None and year < birth.year + MIN_AGE:
        limit = str(birth.year + MIN_AGE)
        problems.append(NipProblem("appointment_too_early", {"text": text, "limit": limit}))


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 1 March in a non-leap year
        return date(day.year + years, 3, 1)
