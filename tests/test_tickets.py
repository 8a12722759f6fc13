"""Ticket import, SOP groups and SLA arithmetic (issue 7)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from lpsectl import tickets as core
from lpsectl.config import parse_config
from lpsectl.errors import ConfigError, UsageError
from lpsectl.store import Store
from tests.fixtures.common import run_cli

DATA = Path(__file__).parent / "data"
WIB = ZoneInfo("Asia/Jakarta")
SETTINGS = core.TicketSettings()


def problems_by_line(parsed: core.ParsedExport) -> dict[int, list[core.Problem]]:
    found: dict[int, list[core.Problem]] = {}
    for problem in parsed.problems:
        found.setdefault(problem.line, []).append(problem)
    return found


# -- dates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2026-10-16 07:03",
        "2026-10-16T07:03:00+07:00",
        "2026-10-16T00:03:00Z",
        "16/10/2026 07:03",
        "16-10-2026 07.03",
        "16.10.2026 07:03:00",
        "2026/10/16 07:03",
        "16 Okt 2026 07:03",
        "Jumat, 16 Oktober 2026 pukul 07.03 WIB",
        "16 Oct 2026 08:03 WITA",
    ],
)
def test_timestamps_in_every_export_format_mean_the_same_moment(text):
    expected = datetime(2026, 10, 16, 0, 3, tzinfo=UTC)
    assert core.parse_timestamp(text, WIB) == expected


def test_naive_times_are_in_the_configured_zone():
    moment = core.parse_timestamp("16/10/2026 07:03", ZoneInfo("Asia/Jayapura"))
    assert moment.utcoffset() == timedelta(hours=9)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2026-10-25", "no time of day"),
        ("kemarin", "unreadable"),
        ("31/02/2026 10:00", "impossible"),
        ("16 Foo 2026 10:00", "unknown month"),
        ("2026-10-16 07:", "unreadable"),
    ],
)
def test_unreadable_timestamps_say_why(text, fragment):
    with pytest.raises(core.DateError, match=fragment):
        core.parse_timestamp(text, WIB)


def test_blank_timestamp_is_none():
    assert core.parse_timestamp("  ", WIB) is None


# -- reading exports -------------------------------------------------------------


def test_sample_export_reads_every_row():
    parsed = core.read_export(DATA / "lpse-support-tickets.csv", SETTINGS, WIB)
    assert parsed.rows == 140
    assert len(parsed.tickets) == 140
    assert parsed.problems == []
    # said as the headers to add (issue 15), not lpsectl's field names
    assert {"Data Diminta", "Data Diterima"} <= set(parsed.missing_columns)
    assert not any("_" in name for name in parsed.missing_columns)
    first = parsed.tickets[0]
    assert first.number == "LPSE-202600001"
    assert first.opened_at == datetime(2026, 10, 16, 7, 3, tzinfo=WIB)
    assert first.resolved_at == datetime(2026, 10, 16, 9, 3, tzinfo=WIB)
    assert first.closed_at is None


def test_windows_1252_semicolon_export_with_messy_rows():
    parsed = core.read_export(DATA / "tickets-messy-cp1252.csv", SETTINGS, WIB)
    tickets = {t.number: t for t in parsed.tickets}
    by_line = problems_by_line(parsed)
    # readable rows are imported; the others are named by line
    assert sorted(tickets) == ["MSY-001", "MSY-002", "MSY-004", "MSY-005"]
    assert [p.skipped for p in by_line[4]] == [True] and "kemarin sore" in by_line[4][0].message
    assert by_line[5][0].skipped and by_line[5][0].field == "number"
    assert by_line[10][0].skipped and "impossible" in by_line[10][0].message
    # Windows-1252 punctuation decoded
    assert tickets["MSY-001"].subject == "Gagal unggah dokumen penawaran – file 20 MB"
    assert "“Request Entity Too Large”" in tickets["MSY-001"].description
    # dotted times, truncated escalation names
    assert tickets["MSY-001"].first_response_at == datetime(2026, 10, 16, 7, 20, tzinfo=WIB)
    assert tickets["MSY-001"].escalated_to == "Admin PPE"
    assert tickets["MSY-004"].escalated_to == "Helpdesk LKPP"
    # a truncated time loses that field only
    assert tickets["MSY-004"].first_response_at is None
    assert tickets["MSY-004"].priority_set_at == datetime(2026, 10, 18, 10, 10, tzinfo=WIB)
    assert any(p.field == "first_response_at" and not p.skipped for p in by_line[6])
    # duplicate number: the later row wins and the earlier line is named
    assert tickets["MSY-002"].subject.endswith("(diperbarui)")
    assert tickets["MSY-002"].escalated_to == "Admin PPE"
    assert any("line 3" in p.message for p in by_line[8])
    # lowercase priority normalised; a response before opening is dropped
    assert tickets["MSY-002"].priority == "Menengah"
    assert tickets["MSY-005"].first_response_at is None
    assert {p.field for p in by_line[9]} == {
        "first_response_at",
        "resolved_at",
        "escalated_to",
        "group_override",
    }


def test_utf8_bom_header_is_recognised():
    parsed = core.read_export(DATA / "tickets-bom.csv", SETTINGS, WIB)
    assert len(parsed.tickets) == 10
    assert parsed.tickets[0].number == "LPSE-202600001"


def test_json_export_with_bad_records():
    parsed = core.read_export(DATA / "tickets.json", SETTINGS, WIB)
    assert [t.number for t in parsed.tickets] == ["JS-1", "JS-2"]
    skipped = [p.line for p in parsed.problems if p.skipped]
    assert skipped == [3, 4]
    assert parsed.tickets[1].opened_at == datetime(2026, 10, 6, 9, 0, tzinfo=WIB)
    assert parsed.tickets[0].priority == "Tinggi"


def test_missing_number_column_is_a_usage_error_naming_the_file():
    with pytest.raises(UsageError, match=r"x\.csv: no column for the ticket number"):
        core.parse_csv("Judul,Tanggal Dibuat\nA,2026-10-01 10:00\n", SETTINGS, WIB, "x.csv")


def test_column_mapping_from_config():
    config = parse_config({"tickets": {"columns": {"number": "ID", "opened_at": ["Waktu Lapor"]}}})
    settings = core.ticket_settings(config)
    parsed = core.parse_csv(
        "ID,Waktu Lapor,Judul\nT-9,01/10/2026 10:00,Login gagal\n", settings, WIB
    )
    assert parsed.tickets[0].number == "T-9"
    assert core.classify(parsed.tickets[0], settings)[0] == "b"


@pytest.mark.parametrize(
    "section",
    [
        {"columns": {"nomor": "No"}},
        {"resolution_hours": {"Tinggi": -1}},
        {"resolution_hours": {"Tinggi": "lama"}},
        {"response_minutes": "tiga puluh"},
    ],
)
def test_bad_tickets_config_names_the_key(section):
    with pytest.raises(ConfigError, match=r"lpsectl\.toml: tickets\."):
        core.ticket_settings(parse_config({"tickets": section}, "lpsectl.toml"))


# -- classification ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "group"),
    [
        ("Tidak bisa mengunggah dokumen penawaran", "a"),
        ("Dokumen pemilihan tidak dapat diunduh", "a"),
        ("Upload dokumen kualifikasi gagal", "a"),
        ("Lupa password akun", "b"),
        ("Bagaimana cara mengubah jadwal tender", "b"),
        ("Status menunggu verifikasi sejak kemarin", "b"),
        ("Email notifikasi tidak diterima", "c"),
        ("Tiket menunggu balasan", "c"),  # 'menunggu' is not the keyword 'menu'
    ],
)
def test_sop_groups_from_indonesian_keywords(subject, group):
    ticket = core.Ticket("T", datetime(2026, 10, 1, tzinfo=WIB), subject=subject)
    assert core.classify(ticket, SETTINGS)[0] == group


def test_override_column_wins_over_keywords():
    ticket = core.Ticket(
        "T", datetime(2026, 10, 1, tzinfo=WIB), subject="Gagal upload", group_override="c"
    )
    assert core.classify(ticket, SETTINGS) == ("c", "override")
    ticket.group_override = "Penggunaan aplikasi"
    assert core.classify(ticket, SETTINGS)[0] == "b"


# -- SLA ---------------------------------------------------------------------------


def make_ticket(**kwargs) -> core.Ticket:
    opened = datetime(2026, 10, 5, 9, 0, tzinfo=WIB)
    return core.Ticket("T-1", opened, priority=kwargs.pop("priority", "Tinggi"), **kwargs)


def at(hour: int, minute: int = 0, day: int = 5) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=WIB)


def checks(sla: core.TicketSla) -> dict[str, core.Check]:
    return {c.name: c for c in sla.checks}


def test_sla_limits_of_sop_001():
    ticket = make_ticket(
        first_response_at=at(9, 30),
        priority_set_at=at(9, 31),
        data_requested_at=at(9, 40),
        data_received_at=at(9, 55),
        resolved_at=at(13, 1),
        status="Selesai",
    )
    found = checks(core.evaluate(ticket, SETTINGS, at(18)))
    assert found["response"].met is True and found["response"].actual_minutes == 30
    assert found["priority"].met is False and found["priority"].actual_minutes == 31
    assert found["data_reply"].met is True and found["data_reply"].actual_minutes == 15
    # 09.00 to 13.01 is 241 minutes, 15 of them the reporter's (data asked 09.40, given 09.55)
    assert found["resolution"].met is True and found["resolution"].actual_minutes == 226
    assert found["resolution"].target_minutes == 240
    never_paused = core.ticket_settings(parse_config({"tickets": {"pause_statuses": []}}))
    found = checks(core.evaluate(ticket, never_paused, at(18)))
    assert found["resolution"].met is False and found["resolution"].actual_minutes == 241


def test_open_ticket_becomes_overdue_as_time_passes():
    ticket = make_ticket(priority="Menengah", status="Proses")
    with freeze_time("2026-10-06 01:00:00"):  # 08:00 WIB next day: 23 h open
        now = datetime.now(UTC).astimezone(WIB)
        assert checks(core.evaluate(ticket, SETTINGS, now))["resolution"].met is None
    with freeze_time("2026-10-06 03:00:00"):  # 25 h open
        now = datetime.now(UTC).astimezone(WIB)
        resolution = checks(core.evaluate(ticket, SETTINGS, now))["resolution"]
    assert resolution.met is False
    assert resolution.note == "still open, overdue"
    assert resolution.actual_minutes == 25 * 60


def test_missing_times_are_not_judged():
    ticket = make_ticket(priority="", closed_at=at(10), status="Ditutup")
    found = checks(core.evaluate(ticket, SETTINGS, at(18)))
    assert found["response"].met is None and found["response"].note == "not recorded"
    assert found["resolution"].met is None and found["resolution"].note == "no priority"
    assert "data_reply" not in found


def test_closed_time_stands_in_for_a_missing_resolution_time():
    ticket = make_ticket(closed_at=at(12), status="Ditutup")
    assert checks(core.evaluate(ticket, SETTINGS, at(18)))["resolution"].met is True


def test_priority_table_is_configurable():
    settings = core.ticket_settings(parse_config({"tickets": {"resolution_hours": {"Tinggi": 2}}}))
    ticket = make_ticket(resolved_at=at(11, 30))
    assert checks(core.evaluate(ticket, settings, at(18)))["resolution"].met is False


def test_month_summary_counts():
    parsed = core.read_export(DATA / "lpse-support-tickets.csv", SETTINGS, WIB)
    summary = core.month_summary(parsed.tickets, SETTINGS, datetime(2026, 11, 1, tzinfo=WIB))
    assert summary["total"] == 140
    assert sum(summary["by_group"].values()) == 140
    assert summary["by_priority"] == {"Tinggi": 19, "Menengah": 79, "Rendah": 42}
    assert summary["escalations"] == {"Admin PPE": 31, "Helpdesk LKPP": 16}
    response = summary["sla"]["response"]
    assert response["met"] + response["breached"] == response["judged"] == 140
    assert len(summary["breaches"]) == sum(c["breached"] for c in summary["sla"].values())


# -- store and CLI -----------------------------------------------------------------


def test_reimport_updates_and_never_duplicates(tmp_path):
    store = Store.open_sqlite(tmp_path / "h.sqlite3")
    now = datetime(2026, 11, 1, tzinfo=WIB)
    parsed = core.read_export(DATA / "lpse-support-tickets.csv", SETTINGS, WIB)
    first = core.save_tickets(store, parsed, now)
    assert (first.inserted, first.updated, first.unchanged) == (140, 0, 0)
    parsed.tickets[0].status = "Ditutup"
    again = core.save_tickets(store, parsed, now)
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 139)
    assert store.query_one("SELECT count(*) AS n FROM tickets")["n"] == 140
    loaded = core.load_tickets(store, WIB, "2026-10")
    assert len(loaded) == 140
    assert {t.number: t for t in loaded}["LPSE-202600001"].status == "Ditutup"


def test_month_follows_the_configured_zone(tmp_path):
    store = Store.open_sqlite(tmp_path / "h.sqlite3")
    wit = ZoneInfo("Asia/Jayapura")
    text = "No Tiket,Tanggal Dibuat\nZ-1,2026-10-31T23:30:00+07:00\n"
    core.save_tickets(store, core.parse_csv(text, SETTINGS, wit), datetime(2026, 11, 2, tzinfo=wit))
    assert core.load_tickets(store, wit, "2026-10") == []
    [ticket] = core.load_tickets(store, wit, "2026-11")
    assert ticket.opened_at == datetime(2026, 11, 1, 1, 30, tzinfo=wit)


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "lpsectl.toml"
    path.write_text(
        f'[lpse]\nname = "LPSE Uji"\ndata_dir = "{tmp_path / "data"}"\n{extra}', encoding="utf-8"
    )
    return path


def test_cli_import_list_and_sla(tmp_path):
    config = str(write_config(tmp_path))
    export = tmp_path / "export.csv"
    shutil.copy(DATA / "lpse-support-tickets.csv", export)
    first = run_cli("--config", config, "tickets", "import", str(export))
    assert first.exit_code == 0, first.stderr
    assert "140 new, 0 updated, 0 unchanged, 0 skipped" in first.stdout
    second = run_cli("--config", config, "tickets", "import", str(export), "--format", "json")
    assert second.json()["files"][0]["unchanged"] == 140

    listed = run_cli(
        "--config",
        config,
        "tickets",
        "list",
        "--month",
        "2026-10",
        "--group",
        "c",
        "--format",
        "json",
    )
    assert listed.exit_code == 0
    assert listed.json() and all(t["group"] == "c" for t in listed.json())
    assert listed.json()[0]["opened_at"].endswith("+07:00")

    with freeze_time("2026-11-03 02:00:00"):
        sla = run_cli(
            "--config", config, "tickets", "sla", "--month", "2026-10", "--format", "json"
        )
        failing = run_cli(
            "--config", config, "tickets", "sla", "--month", "2026-10", "--fail-on-breach"
        )
        default_month = run_cli("--config", config, "tickets", "sla", "--format", "json")
    data = sla.json()
    assert sla.exit_code == 0
    assert data["as_of"] == "2026-11-03T09:00:00+07:00"
    assert data["total"] == 140 and data["breaches"]
    assert failing.exit_code == 1
    assert "Breaches:" in failing.stdout
    assert default_month.json()["month"] == "2026-10"


def test_cli_import_reports_skipped_rows_with_exit_3(tmp_path):
    config = str(write_config(tmp_path))
    result = run_cli(
        "--config", config, "tickets", "import", str(DATA / "tickets-messy-cp1252.csv")
    )
    assert result.exit_code == 3
    assert "4 new" in result.stdout and "3 skipped" in result.stdout
    assert "kemarin sore" in result.stdout


def test_cli_dry_run_stores_nothing(tmp_path):
    config = str(write_config(tmp_path))
    result = run_cli(
        "--config", config, "tickets", "import", "--dry-run", str(DATA / "tickets.json")
    )
    assert result.exit_code == 3
    listed = run_cli("--config", config, "tickets", "list", "--format", "json")
    assert listed.json() == []


def test_cli_errors_are_one_sentence(tmp_path):
    config = str(write_config(tmp_path, '[tickets]\ncolumns = { nomor = "No" }\n'))
    bad_config = run_cli("--config", config, "tickets", "list")
    assert bad_config.exit_code == 4
    assert "tickets.columns.nomor: unknown ticket field" in bad_config.stderr
    good = str(write_config(tmp_path))
    bad_month = run_cli("--config", good, "tickets", "sla", "--month", "Oktober")
    assert bad_month.exit_code == 2 and "YYYY-MM" in bad_month.stderr
    missing = run_cli("--config", good, "tickets", "import", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and "nope.csv: cannot read" in missing.stderr


def test_sla_at_a_moment_is_the_sla_the_clock_would_give_then(tmp_path):
    """Issue 15: `tickets sla --at T` judges open tickets as of T, as the clock at T would."""
    config = str(write_config(tmp_path))
    assert (
        run_cli(
            "--config", config, "tickets", "import", str(DATA / "lpse-support-tickets.csv")
        ).exit_code
        == 0
    )
    for moment, clock in (
        ("2026-10-20 09:00", "2026-10-20 02:00:00"),
        ("2026-11-03 09:00", "2026-11-03 02:00:00"),
    ):
        planned = run_cli(
            "--config",
            config,
            "tickets",
            "sla",
            "--month",
            "2026-10",
            "--at",
            moment,
            "--format",
            "json",
        )
        with freeze_time(clock):
            real = run_cli(
                "--config", config, "tickets", "sla", "--month", "2026-10", "--format", "json"
            )
        assert planned.exit_code == 0, planned.stderr
        assert planned.json() == real.json()
        assert planned.json()["as_of"] == moment.replace(" ", "T") + ":00+07:00"
    early = run_cli(
        "--config",
        config,
        "tickets",
        "sla",
        "--month",
        "2026-10",
        "--at",
        "2026-10-20 09:00",
        "--format",
        "json",
    ).json()
    late = run_cli(
        "--config",
        config,
        "tickets",
        "sla",
        "--month",
        "2026-10",
        "--at",
        "2026-11-03 09:00",
        "--format",
        "json",
    ).json()
    assert (
        early != late
    )  # the moment matters (tickets opened after the 20th, open ones breach later)
