"""SLA clocks (issue 15): calendar or office hours, national holidays, cuti bersama, pauses.

Expected minutes are counted by hand in each test's comment.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from lpsectl import tickets as core
from lpsectl.config import parse_config
from lpsectl.errors import ConfigError
from lpsectl.slaclock import CALENDAR, WORKING, SlaClock, national_holidays, parse_working_hours

WIB = ZoneInfo("Asia/Jakarta")
HOURS = parse_working_hours("Mon-Thu 08:00-16:00, Fri 08:00-16:30")


def at(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day} {clock}").replace(tzinfo=WIB)


def working(*closed: str) -> SlaClock:
    return SlaClock(WORKING, HOURS, "ID", frozenset(date.fromisoformat(d) for d in closed))


def test_a_weekend_does_not_count():
    # Fri 27 Nov 2026 15:00 -> Mon 30 Nov 09:00: Fri 15.00-16.30 (90) + Mon 08.00-09.00 (60)
    assert date(2026, 11, 27).weekday() == 4
    assert working().minutes(at("2026-11-27", "15:00"), at("2026-11-30", "09:00")) == 150
    assert (
        SlaClock(CALENDAR).minutes(at("2026-11-27", "15:00"), at("2026-11-30", "09:00")) == 66 * 60
    )


def test_a_national_holiday_and_a_cuti_bersama_day_do_not_count():
    # 17 August 2026 (Independence Day, the holidays package) is a Monday
    assert date(2026, 8, 17) in national_holidays("ID", 2026) and date(2026, 8, 17).weekday() == 0
    # Fri 14 Aug 16:00 -> Tue 18 Aug 09:00: Fri 16.00-16.30 (30) + Tue 08.00-09.00 (60)
    assert working().minutes(at("2026-08-14", "16:00"), at("2026-08-18", "09:00")) == 90
    # with Tue 18 Aug as cuti bersama, to Wed 09:00: 30 + Wed 60
    assert working("2026-08-18").minutes(at("2026-08-14", "16:00"), at("2026-08-19", "09:00")) == 90


def test_nights_and_early_mornings_do_not_count():
    # Mon 22:00 -> Tue 08:10: only Tue 08.00-08.10
    assert working().minutes(at("2026-11-30", "22:00"), at("2026-12-01", "08:10")) == 10
    # inside the day
    assert working().minutes(at("2026-12-01", "09:15"), at("2026-12-01", "10:00")) == 45
    assert working().minutes(at("2026-12-01", "10:00"), at("2026-12-01", "09:00")) == 0


def test_the_reporters_time_is_paused_on_both_clocks():
    opened, resolved = at("2026-11-30", "08:00"), at("2026-11-30", "12:00")
    pause = [(at("2026-11-30", "09:00"), at("2026-11-30", "11:00"))]
    assert working().minutes(opened, resolved, pause) == 120  # 240 - 120
    assert SlaClock(CALENDAR).minutes(opened, resolved, pause) == 120
    # overlapping pauses are one; a pause over the night takes off only working time
    pauses = [
        (at("2026-11-30", "15:00"), at("2026-12-01", "09:00")),
        (at("2026-11-30", "15:30"), at("2026-11-30", "16:00")),
    ]
    # Mon 08.00 -> Tue 10.00 on the working clock: 480 + 120 = 600; paused Mon 15.00-16.00 (60)
    # and Tue 08.00-09.00 (60)
    assert working().minutes(at("2026-11-30", "08:00"), at("2026-12-01", "10:00"), pauses) == 480


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Mon-Fri", "not like"),
        ("Mon-Fri 16:00-08:00", "start before it ends"),
        ("Fri-Mon 08:00-16:00", "Monday to Sunday"),
        ("Mon-Fri 08:00-16:00, Fri 08:00-11:00", "overlaps"),
        ("Xyz 08:00-16:00", "unknown day"),
        ("Mon 25:00-26:00", "time of day"),
    ],
)
def test_working_hours_that_cannot_be_read_are_refused(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_working_hours(text)


def test_indonesian_day_names_and_dots():
    hours = parse_working_hours("Senin-Kamis 07.30-16.00, Jumat 07.30-11.30")
    assert (
        hours.spans[0] == ((450, 960),) and hours.spans[4] == ((450, 690),) and 5 not in hours.spans
    )


def test_the_config_is_checked_at_load():
    for tickets, words in (
        ({"clock": "kantor"}, "clock 'kantor'"),
        ({"clock": "working", "working_hours": "Mon-Fri 16:00-08:00"}, "working_hours"),
        ({"cuti_bersama": ["24-12-2026"]}, "cuti_bersama"),
        ({"clock": "working", "holidays_country": "XX"}, "holidays_country"),
    ):
        with pytest.raises(ConfigError, match=words):
            core.ticket_settings(parse_config({"tickets": tickets}))


def _ticket(**values) -> core.Ticket:
    base = {
        "number": "T1",
        "opened_at": at("2026-11-27", "15:00"),
        "priority": "Tinggi",
        "status": "Proses",
    }
    return core.Ticket(**{**base, **values})


def test_a_ticket_on_the_working_clock_and_one_waiting_for_the_reporter():
    settings = core.ticket_settings(parse_config({"tickets": {"clock": "working"}}))
    # Tinggi: 4 working hours. Opened Fri 15:00, resolved Mon 10:30: 90 + 150 = 240 -> met
    done = _ticket(resolved_at=at("2026-11-30", "10:30"), status="Selesai")
    (resolution,) = [
        c
        for c in core.evaluate(done, settings, at("2026-12-01", "12:00")).checks
        if c.name == "resolution"
    ]
    assert resolution.actual_minutes == 240 and resolution.met is True
    # still open on Tue 12:00 but waiting for the reporter's data since Mon 09:00: not a breach
    waiting = _ticket(status="Menunggu Data", data_requested_at=at("2026-11-30", "09:00"))
    (resolution,) = [
        c
        for c in core.evaluate(waiting, settings, at("2026-12-01", "12:00")).checks
        if c.name == "resolution"
    ]
    assert resolution.met is None and resolution.note == "waiting for the reporter (Menunggu Data)"
    assert resolution.actual_minutes == 90 + 60  # Fri 15.00-16.30, Mon 08.00-09.00
    # waiting for the reporter does not excuse the LPSE's own minutes over the limit: opened
    # Thu 26 Nov 08:00, data asked only Mon 30 Nov 09:00 (Thu 480 + Fri 510 + Mon 60 = 1050)
    late = _ticket(
        opened_at=at("2026-11-26", "08:00"),
        status="Menunggu Data",
        data_requested_at=at("2026-11-30", "09:00"),
    )
    (resolution,) = [
        c
        for c in core.evaluate(late, settings, at("2026-12-01", "12:00")).checks
        if c.name == "resolution"
    ]
    assert resolution.met is False and resolution.actual_minutes == 1050
    assert resolution.note == "still open, overdue (now Menunggu Data)"
    summary = core.month_summary([done, waiting], settings, at("2026-12-01", "12:00"))
    assert summary["clock"]["clock"] == "working" and summary["waiting_for_reporter"] == 1


def test_a_break_splits_a_day_and_zones_of_the_inputs_do_not_matter():
    hours = parse_working_hours("Mon-Thu 08:00-16:00, Fri 08:00-11:30, Fri 13:00-16:30")
    clock = SlaClock(WORKING, hours, "ID", frozenset(), WIB)
    # Fri 27 Nov 11:00 -> 14:00: 11.00-11.30 and 13.00-14.00 (Friday prayers apart)
    assert clock.minutes(at("2026-11-27", "11:00"), at("2026-11-27", "14:00")) == 90
    # the same moments given in UTC: the office hours are still WIB's
    utc = ZoneInfo("UTC")
    assert (
        clock.minutes(
            at("2026-11-27", "11:00").astimezone(utc), at("2026-11-27", "14:00").astimezone(utc)
        )
        == 90
    )
    assert (
        core.ticket_settings(parse_config({"tickets": {"holidays_country": "id"}})).holidays_country
        == "id"
    )


def test_working_hours_are_described_in_the_documents_language():
    from lpsectl.slaclock import describe_working_hours, working_duration

    hours = parse_working_hours("Senin-Kamis 07.30-16.00, Jum 07.30-11.30, Jum 13.00-16.30")
    assert describe_working_hours(hours, "id") == (
        "Senin–Kamis 07.30–16.00, Jumat 07.30–11.30 dan 13.00–16.30"
    )
    assert describe_working_hours(hours, "en") == (
        "Monday–Thursday 07:30–16:00, Friday 07:30–11:30 and 13:00–16:30"
    )
    # Monday and Wednesday alike but not adjacent: not grouped across Tuesday
    odd = parse_working_hours("Mon 08:00-12:00, Tue 09:00-12:00, Wed 08:00-12:00")
    assert describe_working_hours(odd, "id") == (
        "Senin 08.00–12.00, Selasa 09.00–12.00, Rabu 08.00–12.00"
    )
    assert working_duration(30 * 60 + 15, "id") == "30 jam kerja 15 menit"
    assert working_duration(60, "en") == "1 working hour"
    assert working_duration(0, "id") == "0 menit"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_hours_a_report_prints_read_back_as_the_same_hours(lang):
    from lpsectl.slaclock import describe_working_hours

    hours = parse_working_hours(
        "Mon-Thu 08:00-16:00, Fri 08:00-11:30, Fri 13:00-16:30, Sat 08:00-12:00"
    )
    printed = describe_working_hours(hours, lang)
    assert parse_working_hours(printed) == hours
    # a trailing comma and ";" between groups are fine too
    assert parse_working_hours("Mon-Fri 08:00-16:00;") == parse_working_hours("Mon-Fri 08:00-16:00")
