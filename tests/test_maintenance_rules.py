"""Pure rules of maintenance windows: notice period, durations, overlaps, reminder plan."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from lpsectl import maintenance as m
from lpsectl.committees import read_committees, read_tender_schedule, stages_in_window
from lpsectl.errors import ConfigError, UsageError
from lpsectl.timeutil import now as tz_now

WIB = ZoneInfo("Asia/Jakarta")
WITA = ZoneInfo("Asia/Makassar")
DATA = "tests/data"


def window(
    start: datetime,
    hours: int = 4,
    status: str = m.ANNOUNCED,
    announced_at: datetime | None = None,
    wid: int = 1,
) -> m.Window:
    return m.Window(
        id=wid,
        uid="u@x",
        start=start,
        end=start + timedelta(hours=hours),
        reason="r",
        services=["SPSE"],
        status=status,
        emergency=False,
        emergency_why=None,
        sequence=0,
        created_at=start - timedelta(days=10),
        announced_at=announced_at or start - timedelta(days=5),
    )


@pytest.mark.parametrize(
    "text,expected",
    [
        ("4h", timedelta(hours=4)),
        ("90m", timedelta(minutes=90)),
        ("1h30m", timedelta(minutes=90)),
        ("2d", timedelta(days=2)),
        ("45", timedelta(minutes=45)),
        ("1d 2h", timedelta(hours=26)),
    ],
)
def test_parse_duration(text, expected):
    assert m.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "4x", "h", "four hours", "4h-"])
def test_parse_duration_rejects_nonsense(text):
    with pytest.raises(UsageError, match="duration"):
        m.parse_duration(text)


def test_parse_start_uses_the_lpse_zone_and_honours_offsets():
    assert m.parse_start("2026-12-07 22:00", WITA) == datetime(2026, 12, 7, 22, 0, tzinfo=WITA)
    explicit = m.parse_start("2026-12-07T22:00+07:00", WITA)
    assert explicit.utcoffset() == timedelta(hours=8) and explicit.hour == 23
    with pytest.raises(UsageError, match="2026-13-01"):
        m.parse_start("2026-13-01 10:00", WIB)


@freeze_time("2026-12-01 02:30:20+00:00")  # 09:30:20 WIB
def test_two_days_ahead_is_refused_with_the_earliest_allowed_start():
    now = tz_now(WIB)
    with pytest.raises(UsageError) as caught:
        m.check_notice(now + timedelta(days=2), now, 3, emergency=False, why=None)
    message = caught.value.message
    assert "less than 3 days" in message
    assert "2026-12-04 09:31" in message  # rounded up to the next whole minute
    assert "Friday, 4 December 2026 at 09:31 WIB" in message


@freeze_time("2026-12-01 02:30:00+00:00")
def test_exactly_the_notice_period_and_more_are_accepted():
    now = tz_now(WIB)
    m.check_notice(now + timedelta(days=3), now, 3, emergency=False, why=None)
    m.check_notice(now + timedelta(days=5), now, 3, emergency=False, why=None)


@freeze_time("2026-12-01 02:30:00+00:00")
def test_emergency_needs_a_reason_and_the_start_must_be_in_the_future():
    now = tz_now(WIB)
    with pytest.raises(UsageError, match="--why"):
        m.check_notice(now + timedelta(hours=2), now, 3, emergency=True, why="  ")
    m.check_notice(now + timedelta(hours=2), now, 3, emergency=True, why="disk rusak")
    with pytest.raises(UsageError, match="not in the future"):
        m.check_notice(now - timedelta(minutes=1), now, 3, emergency=True, why="x")


def test_min_notice_days_is_configurable():
    now = datetime(2026, 12, 1, 9, 0, tzinfo=WIB)
    m.check_notice(now + timedelta(days=1, minutes=1), now, 1, emergency=False, why=None)
    with pytest.raises(UsageError, match="7 days"):
        m.check_notice(now + timedelta(days=5), now, 7, emergency=False, why=None)


def test_overlaps_ignore_cancelled_and_touching_windows():
    base = datetime(2026, 12, 7, 22, 0, tzinfo=WIB)
    existing = [window(base, 4, wid=1), window(base + timedelta(days=1), 4, m.CANCELLED, wid=2)]
    assert [
        w.id
        for w in m.find_overlaps(base + timedelta(hours=3), base + timedelta(hours=5), existing)
    ] == [1]
    assert m.find_overlaps(base + timedelta(hours=4), base + timedelta(hours=6), existing) == []
    assert (
        m.find_overlaps(base + timedelta(days=1), base + timedelta(days=1, hours=1), existing) == []
    )
    assert m.find_overlaps(base, base + timedelta(hours=1), existing, exclude_id=1) == []


def states(plan: list[m.PlannedNotice]) -> dict[str, str]:
    return {p.kind: p.state for p in plan}


START = datetime(2026, 12, 7, 22, 0, tzinfo=WIB)
OFFSETS = ["3d", "1d", "1h"]


@pytest.mark.parametrize(
    "moment,expected",
    [
        (
            "2026-12-04 14:00+00:00",
            {"reminder-3d": "later", "reminder-1d": "later", "started": "later"},
        ),
        (
            "2026-12-04 15:00+00:00",
            {"reminder-3d": "due", "reminder-1d": "later", "reminder-1h": "later"},
        ),
        ("2026-12-06 15:05+00:00", {"reminder-1d": "due", "reminder-1h": "later"}),
        ("2026-12-07 14:00+00:00", {"reminder-1h": "due", "started": "later"}),
        ("2026-12-07 15:00+00:00", {"started": "due", "finished": "later"}),
        ("2026-12-07 19:30+00:00", {"finished": "later"}),
    ],
)
def test_reminder_plan_h3_h1_one_hour_started(moment, expected):
    with freeze_time(moment):
        plan = m.reminder_plan(
            window(START, announced_at=START - timedelta(days=10)), OFFSETS, tz_now(WIB), done={}
        )
    got = states(plan)
    assert {k: got[k] for k in expected} == expected


def test_reminders_already_sent_are_not_due_again():
    now = datetime(2026, 12, 6, 23, 0, tzinfo=WIB)
    done = {"reminder-3d": now - timedelta(days=2), "reminder-1d": now - timedelta(hours=1)}
    plan = m.reminder_plan(
        window(START, announced_at=START - timedelta(days=10)), OFFSETS, now, done
    )
    assert states(plan)["reminder-1d"] == "sent"
    assert [p for p in plan if p.state == "due"] == []


def test_when_cron_missed_reminders_only_the_latest_goes_out():
    now = datetime(2026, 12, 7, 21, 30, tzinfo=WIB)  # 3d, 1d and 1h all passed, none sent
    plan = m.reminder_plan(window(START, announced_at=START - timedelta(days=10)), OFFSETS, now, {})
    assert states(plan) == {
        "reminder-3d": "skip",
        "reminder-1d": "skip",
        "reminder-1h": "due",
        "started": "later",
        "finished": "later",
    }


def test_reminders_before_a_late_emergency_announcement_are_skipped():
    announced = START - timedelta(hours=30)  # after H-3, before H-1
    now = announced + timedelta(minutes=5)
    plan = m.reminder_plan(window(START, announced_at=announced), OFFSETS, now, {})
    assert states(plan)["reminder-3d"] == "skip"
    assert states(plan)["reminder-1d"] == "later"


def test_finished_is_due_at_the_end_only_with_auto_complete():
    after = START + timedelta(hours=4, minutes=1)
    w = window(START, status=m.STARTED)
    assert states(m.reminder_plan(w, OFFSETS, after, {"started": START}))["finished"] == "later"
    assert (
        states(m.reminder_plan(w, OFFSETS, after, {"started": START}, auto_complete=True))[
            "finished"
        ]
        == "due"
    )


def test_no_notices_for_unannounced_or_cancelled_windows():
    now = START - timedelta(hours=1)
    assert m.reminder_plan(window(START, status=m.SCHEDULED), OFFSETS, now, {}) == []
    assert m.reminder_plan(window(START, status=m.CANCELLED), OFFSETS, now, {}) == []


def test_running_text_cleaning_removes_markup_and_line_breaks():
    dirty = 'Upgrade <script>alert("x")</script>\n<b>DB</b> & <img src=x onerror=alert(1)> 5 > 3'
    clean = m.clean_running_text(dirty)
    assert "<" not in clean and ">" not in clean and "\n" not in clean
    assert clean.startswith('Upgrade alert("x") DB &')


def test_committees_and_tender_stages_from_the_sample_exports():
    committees = read_committees(f"{DATA}/pokja.csv")
    assert [c.name for c in committees][:2] == ["Pokja Pemilihan 1", "Pokja Pemilihan 2"]
    third = committees.committees[2]
    assert third.emails == ["pokja3@contoh.example"] and third.satker == "Dinas Pendidikan"
    stages = read_tender_schedule(f"{DATA}/tender-schedule.csv", WIB)
    start = datetime(2026, 12, 8, 7, 0, tzinfo=WIB)
    found = stages_in_window(stages, "pokja pemilihan 3", start, start + timedelta(hours=2))
    assert ("10001373", "Pengumuman Pascakualifikasi") in [(s.code, s.stage) for s in found]
    assert all(s.start < start + timedelta(hours=2) and s.end > start for s in found)
    assert all(s.committee == "Pokja Pemilihan 3" for s in found)


def test_a_stage_whose_deadline_falls_inside_is_marked():
    stages = read_tender_schedule(f"{DATA}/tender-schedule.csv", WIB)
    start = datetime(2026, 12, 11, 11, 0, tzinfo=WIB)  # 10001373 download stage ends 12:00
    found = stages_in_window(stages, "Pokja Pemilihan 3", start, start + timedelta(hours=2))
    marks = {s.stage: s.deadline_inside for s in found}
    assert marks["Pengumuman Pascakualifikasi"] is True
    assert marks["Download Dokumen Pemilihan"] is False


def test_a_bad_committee_row_is_skipped_naming_file_and_line(tmp_path):
    bad = tmp_path / "pokja.csv"
    bad.write_text("name,email\nPokja A,a@x.example\nPokja B,not-an-address\nPokja C,c@x.example\n")
    found = read_committees(bad)
    assert [c.name for c in found] == ["Pokja A", "Pokja C"]
    (problem,) = found.problems
    assert (
        problem.startswith(f"{bad}:3: committee 'Pokja B': 'not-an-address'")
        and "no '@'" in problem
    )
    assert found.skipped == ["Pokja B"]
    missing = tmp_path / "nocol.csv"
    missing.write_text("nama,surel\nA,a@x.example\n")
    with pytest.raises(ConfigError, match="column 'name' is missing"):
        read_committees(missing)


def test_tender_columns_are_configurable(tmp_path):
    export = tmp_path / "jadwal.csv"
    export.write_text("kode;x\n")  # replaced below with a comma export using other names
    export.write_text(
        "id,paket,panitia,nama_tahap,awal,akhir\n"
        "77,Paket X,Pokja 9,Upload Penawaran,07/12/2026 08:00,07/12/2026 23:00\n"
    )
    columns = {
        "code": "id",
        "package": "paket",
        "committee": "panitia",
        "stage": "nama_tahap",
        "start": "awal",
        "end": "akhir",
    }
    (stage,) = read_tender_schedule(export, WIB, columns)
    assert stage.code == "77" and stage.end == datetime(2026, 12, 7, 23, 0, tzinfo=WIB)
    with pytest.raises(ConfigError, match="unknown field 'kode'"):
        read_tender_schedule(export, WIB, {"kode": "id"})


def test_an_older_reminder_is_not_sent_after_a_later_one_went_out():
    now = datetime(2026, 12, 7, 21, 40, tzinfo=WIB)
    done = {"reminder-1h": now - timedelta(minutes=10)}
    plan = m.reminder_plan(
        window(START, announced_at=START - timedelta(days=10)), OFFSETS, now, done
    )
    assert states(plan)["reminder-1d"] == "skip" and states(plan)["reminder-3d"] == "skip"


@pytest.mark.parametrize(
    "encoding,delimiter", [("utf-8-sig", ","), ("cp1252", ";"), ("utf-16", "\t"), ("utf-8", ";")]
)
def test_committees_file_as_excel_saves_it(tmp_path, encoding, delimiter):
    path = tmp_path / "pokja.csv"
    rows = [
        ["Name", "Email", "Satker"],
        ["Pokja Pemilihan 1", "pokja1@contoh.example", "Dinas PU; Bina Marga"],
        ["Pokja Pemilihan 2", "pokja2@contoh.example", "Dinas Kesehatan"],
    ]
    text = (
        "\r\n".join(delimiter.join(f'"{c}"' if delimiter in c else c for c in row) for row in rows)
        + "\r\n"
    )
    path.write_bytes(text.encode(encoding))
    found = read_committees(path)
    assert [(c.name, c.emails, c.satker) for c in found] == [
        ("Pokja Pemilihan 1", ["pokja1@contoh.example"], "Dinas PU; Bina Marga"),
        ("Pokja Pemilihan 2", ["pokja2@contoh.example"], "Dinas Kesehatan"),
    ]
    assert found.problems == []
