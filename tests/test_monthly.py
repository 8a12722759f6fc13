"""The monthly report (Laporan Kinerja Aplikasi SPSE) from a month of stored history (issue 7)."""

from __future__ import annotations

import base64
import os
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from lpsectl import tickets
from lpsectl.config import load_config_file
from lpsectl.reports import charts
from lpsectl.reports.monthly import build_monthly, render_monthly, table_exists
from lpsectl.store import Store, open_store
from tests.fixtures.common import free_port, run_cli

DATA = Path(__file__).parent / "data"
GOLDEN = Path(__file__).parent / "golden"
WIB = ZoneInfo("Asia/Jakarta")
FROZEN = "2026-11-02 01:00:00"  # 08.00 WIB, the morning the report is made
GIB = 1024**3

# the maintenance feature's table, created here when that feature is not installed
MAINTENANCE_TABLE = """CREATE TABLE IF NOT EXISTS maintenance_windows (
    id INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL UNIQUE, start_at TEXT NOT NULL,
    end_at TEXT NOT NULL, reason TEXT NOT NULL, services TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'scheduled', emergency INTEGER NOT NULL DEFAULT 0,
    emergency_why TEXT, sequence INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL,
    announced_at TEXT, started_at TEXT, completed_at TEXT, cancelled_at TEXT, cancel_reason TEXT)"""


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "lpsectl.toml"
    path.write_text(
        f"""[lpse]
name = "LPSE Kabupaten Contoh"
data_dir = "{tmp_path / "data"}"

[[hosts]]
name = "spse-app"
role = "app"
address = "10.10.1.10"

[[hosts]]
name = "spse-db"
role = "db"
address = "10.10.1.11"
""",
        encoding="utf-8",
    )
    return path


def system_data(day: int, host: str, spse_running: bool = True) -> dict:
    is_app = host == "spse-app"
    return {
        "hostname": host,
        "os": {"system": "Linux", "release": "5.10", "pretty_name": "Debian GNU/Linux 11"},
        "uptime_seconds": 86400.0 * day,
        "load": {"1": 0.5 + day / 20, "5": 0.4, "15": 0.3},
        "cpu": {"count": 4, "percent": 10.0 + day},
        "memory": {"total": 16 * GIB, "available": 8 * GIB, "used_percent": 40.0 + day / 2},
        "swap": {"total": 0, "used": 0, "used_percent": 0.0},
        "filesystems": [
            {
                "mount": "/",
                "device": "/dev/sda1",
                "fstype": "ext4",
                "total": 100 * GIB,
                "used": (50 + day) * GIB,
                "free": (50 - day) * GIB,
                "used_percent": 50.0 + day,
            }
        ],
        "services": {
            "spse": {
                "expected": is_app,
                "running": spse_running if is_app else False,
                "pid": 1234 if spse_running else None,
                "detail": "",
            },
            "postgres": {
                "expected": not is_app,
                "running": True if not is_app else None,
                "pid": 99,
                "detail": "",
            },
        },
        "logs": [],
        "probe": "psutil",
    }


def postgres_data(day: int, reset_day: int = 20) -> dict:
    # counters grow every day; on reset_day the statistics were reset
    base = day - reset_day if day >= reset_day else day
    return {
        "database": "epns_prod",
        "server": {"version": "15.8", "version_num": 150008},
        "database_stats": {
            "xact_commit": 10000 * base,
            "xact_rollback": 100 * base,
            "deadlocks": day // 10,
            "temp_files": base,
            "blks_hit": 99000 * base,
            "blks_read": 1000 * base,
            "stats_reset": "2026-10-20T00:00:00+07:00" if day >= reset_day else None,
            "size_bytes": (2 + day / 100) * GIB,
        },
        "statements": {
            "count": 2,
            "total_calls": 100 * day,
            "stats_reset": None,
            "top_by_calls": [
                {
                    "query": "SELECT * FROM paket WHERE pkt_id = $1",
                    "calls": 90 * day,
                    "total_ms": 9.0 * day,
                    "mean_ms": 0.1,
                    "max_ms": 3.5,
                }
            ],
            "top_by_total_time": [],
        },
        "activity": {"max_connections": 100, "total": 20 + day, "usage_ratio": (20 + day) / 100},
    }


def logs_data(source: str) -> dict:
    if source == "spse":
        summary = {
            "format": "spse",
            "errors": [
                {
                    "severity": "ERROR",
                    "signature": "NullPointerException at LelangCtr.view",
                    "count": 3,
                    "example": "...",
                    "first": None,
                    "last": None,
                },
                {
                    "severity": "ERROR",
                    "signature": "Kode Error | timeout upload",
                    "count": 1,
                    "example": "...",
                    "first": None,
                    "last": None,
                },
            ],
        }
    else:
        summary = {
            "format": "stderr",
            "errors": [
                {
                    "severity": "ERROR",
                    "signature": "deadlock detected",
                    "count": 1,
                    "example": "...",
                    "first": None,
                    "last": None,
                },
            ],
        }
    # the shape lpsectl.collect.logs.from_answer stores: files keyed by path
    return {
        "files": {"/var/log/x.log": {"format": summary["format"], "summary": summary}},
        "cursors": {},
        "warnings": [],
    }


def insert_snapshot(
    store: Store,
    run_id: int,
    host: str,
    kind: str,
    moment: datetime,
    data: dict,
    ok: bool = True,
    unavailable: dict | None = None,
    error: str | None = None,
) -> None:
    store.insert(
        "snapshots",
        {
            "run_id": run_id,
            "host": host,
            "kind": kind,
            "taken_at": moment.isoformat(),
            "day": moment.date().isoformat(),
            "ok": int(ok),
            "error": error,
            "data": data,
            "unavailable": unavailable or {},
        },
    )


def build_history(store: Store) -> None:
    """October 2026: spse-app all month (no run on the 10th, SPSE down on the 15th,
    unreachable on the 16th); spse-db added on the 12th, statistics reset on the 20th."""
    for day in range(1, 32):
        if day == 10:
            continue
        moment = datetime(2026, 10, day, 7, 0, tzinfo=WIB)
        run_id = store.insert(
            "runs",
            {
                "job": "collect",
                "started_at": moment.isoformat(),
                "finished_at": moment.isoformat(),
                "status": "ok",
            },
        )
        if day == 16:
            insert_snapshot(
                store,
                run_id,
                "spse-app",
                "system",
                moment,
                {},
                ok=False,
                error="spse-app: connection refused",
            )
        else:
            insert_snapshot(
                store,
                run_id,
                "spse-app",
                "system",
                moment,
                system_data(day, "spse-app", spse_running=day != 15),
            )
        insert_snapshot(store, run_id, "spse-app", "logs", moment, logs_data("spse"))
        if day >= 12:
            insert_snapshot(store, run_id, "spse-db", "system", moment, system_data(day, "spse-db"))
            unavailable = (
                {
                    "statements": "pg_stat_statements is not installed in database spse on spse-db: add pg_stat_statements to shared_preload_libraries in postgresql.conf, restart PostgreSQL, then run CREATE EXTENSION pg_stat_statements; in database spse"
                }
                if day == 25
                else {}
            )
            data = postgres_data(day)
            if day == 25:
                del data["statements"]
            insert_snapshot(
                store, run_id, "spse-db", "postgres", moment, data, unavailable=unavailable
            )
            insert_snapshot(store, run_id, "spse-db", "logs", moment, logs_data("db"))
    # a November snapshot must not leak into October
    late = datetime(2026, 11, 1, 7, 0, tzinfo=WIB)
    run_id = store.insert(
        "runs", {"job": "collect", "started_at": late.isoformat(), "status": "ok"}
    )
    insert_snapshot(store, run_id, "spse-app", "system", late, system_data(31, "spse-app", False))


def add_other_features(store: Store) -> None:
    store.execute(MAINTENANCE_TABLE)
    for uid, start, status in (
        ("w1", datetime(2026, 10, 17, 22, 0, tzinfo=WIB), "completed"),
        ("w2", datetime(2026, 10, 24, 22, 0, tzinfo=WIB), "cancelled"),
        ("w3", datetime(2026, 11, 7, 22, 0, tzinfo=WIB), "scheduled"),
    ):
        store.insert(
            "maintenance_windows",
            {
                "uid": uid,
                "start_at": start.isoformat(),
                "end_at": (start + timedelta(hours=2)).isoformat(),
                "reason": "Pembaruan SPSE <4.5>",
                "status": status,
                "created_at": start.isoformat(),
            },
        )
    stamp = datetime(2026, 10, 21, 10, 0, tzinfo=WIB).isoformat()
    store.insert(
        "change_requests",
        {
            "title": "Naikkan shared_buffers ke 4GB",
            "change_class": "minor",
            "class_source": "rule",
            "route": "internal",
            "status": "approved",
            "created_at": stamp,
            "updated_at": stamp,
        },
    )


@pytest.fixture
def history(tmp_path):
    config = load_config_file(write_config(tmp_path))
    store = open_store(config)
    build_history(store)
    add_other_features(store)
    parsed = tickets.read_export(DATA / "lpse-support-tickets.csv", tickets.TicketSettings(), WIB)
    tickets.save_tickets(store, parsed, datetime(2026, 11, 1, tzinfo=WIB))
    yield config, store, tmp_path
    store.close()


def report_for(history, lang: str = "id", month: str = "2026-10") -> dict:
    config, store, _ = history
    with freeze_time(FROZEN):
        return build_monthly(store, config, month, lang, datetime.now(WIB))


# -- data --------------------------------------------------------------------------


def test_availability_counts_collections_where_every_expected_service_ran(history):
    report = report_for(history)
    app, db = report["hosts"]
    assert app["name"] == "spse-app" and app["roles"] == ["app"]
    assert app["collections"] == 30  # no run on the 10th
    assert (app["up"], app["down"], app["unknown"]) == (28, 2, 0)
    assert app["availability_percent"] == round(100 * 28 / 30, 1)
    assert app["down_days"] == ["2026-10-15", "2026-10-16"]
    assert app["days_without_data"] == ["2026-10-10"]
    assert app["services"]["spse"] == {"expected": 29, "running": 28}
    assert db["collections"] == 20 and db["availability_percent"] == 100.0
    assert db["first_day"] == "2026-10-12"


def test_resource_trends(history):
    app = report_for(history)["hosts"][0]
    assert app["daily"][0] == {
        "day": "2026-10-01",
        "cpu_percent": 11.0,
        "load1": 0.55,
        "memory_percent": 40.5,
        "disk_percent": 51.0,
    }
    assert app["summary"]["cpu_percent"]["max"] == 41.0
    assert app["cpu_count"] == 4
    [disk] = app["disks"]
    assert disk["mount"] == "/" and disk["growth_bytes"] == 30 * GIB


def test_database_trends_survive_a_statistics_reset(history):
    [db] = report_for(history)["database"]
    assert db["host"] == "spse-db" and db["snapshots"] == 20
    by_day = {d["day"]: d for d in db["daily"]}
    assert "2026-10-12" not in by_day  # the first snapshot is only a baseline
    assert by_day["2026-10-13"]["xact_commit"] == 10000
    assert by_day["2026-10-20"]["xact_commit"] == 0  # reset: counted from zero
    assert all(d["xact_commit"] >= 0 for d in db["daily"])
    assert db["totals"]["xact_commit"] == 10000 * (7 + 11)
    assert db["totals"]["cache_hit_ratio"] == 0.99
    assert db["unavailable"] == ["statements"]
    assert db["top_statements"][0]["calls"] == 90 * 31
    assert db["connections_peak_percent"] == 51.0


def test_top_errors_are_summed_over_the_month(history):
    errors = report_for(history)["errors"]
    assert errors["application"][0]["signature"] == "NullPointerException at LelangCtr.view"
    assert errors["application"][0]["count"] == 3 * 30
    assert errors["database"] == [
        {
            "host": "spse-db",
            "severity": "ERROR",
            "signature": "deadlock detected",
            "count": 20,
            "example": "...",
            "first": None,
            "last": None,
        }
    ]


def test_tickets_maintenance_and_changes(history):
    report = report_for(history)
    assert report["tickets"]["total"] == 140
    assert [g["count"] for g in report["tickets"]["groups"]] == [59, 68, 13]
    assert report["tickets"]["groups"][0]["label"] == "Cara unggah dan unduh data"
    maintenance = report["maintenance"]
    assert [w["status"] for w in maintenance["windows"]] == ["completed", "cancelled"]
    assert maintenance["held"] == 1
    assert report["changes"]["changes"][0]["title"] == "Naikkan shared_buffers ke 4GB"


def test_notes_say_what_is_missing(history):
    codes = [(n["code"], n.get("host")) for n in report_for(history)["notes"]]
    assert ("host_started", "spse-db") in codes
    assert ("host_gaps", "spse-app") in codes
    assert ("postgres_missing", "spse-db") in codes
    assert ("no_data_reply", None) in codes
    texts = [n["text"] for n in report_for(history, "en")["notes"]]
    assert "Server spse-db: monitoring data only from Monday, 12 October 2026." in texts


def test_empty_month_says_so_and_does_not_crash(history):
    report = report_for(history, month="2026-09")
    codes = {n["code"] for n in report["notes"]}
    assert {"no_snapshots", "host_no_data", "no_postgres", "no_logs", "no_tickets"} <= codes
    assert report["hosts"][0]["availability_percent"] is None
    text = render_monthly(report, "md", "id")
    assert "Tidak ada tiket helpdesk yang diimpor untuk bulan ini" in text
    html = render_monthly(report, "html", "id")
    assert "data:image/png" not in html


def test_missing_feature_tables_are_reported(tmp_path):
    store = Store.open_sqlite(tmp_path / "h.sqlite3")
    store.execute("DROP TABLE IF EXISTS maintenance_events")
    store.execute("DROP TABLE IF EXISTS maintenance_windows")
    assert not table_exists(store, "maintenance_windows")
    assert table_exists(store, "tickets")
    config = load_config_file(write_config(tmp_path))
    with freeze_time(FROZEN):
        report = build_monthly(store, config, "2026-10", "id", datetime.now(WIB))
    assert report["maintenance"] is None
    assert "no_maintenance" in {n["code"] for n in report["notes"]}


# -- rendering -----------------------------------------------------------------------


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("LPSECTL_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(("lang", "fmt"), [("id", "md"), ("en", "md"), ("id", "text")])
def test_rendered_report_matches_golden(history, lang, fmt):
    report = report_for(history, lang)
    check_golden(
        f"monthly_report.{lang}.{'txt' if fmt == 'text' else 'md'}",
        render_monthly(report, fmt, lang),
    )


def test_html_is_escaped_and_has_charts(history):
    report = report_for(history)
    html = render_monthly(report, "html", "id")
    assert (
        "<title>Laporan Kinerja Aplikasi SPSE — LPSE Kabupaten Contoh — Oktober 2026</title>"
        in html
    )
    assert "Pembaruan SPSE &lt;4.5&gt;" in html and "<4.5>" not in html
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 3
    assert all(base64.b64decode(image).startswith(b"\x89PNG\r\n\x1a\n") for image in images)


def test_charts_only_when_there_is_data():
    empty = {"hosts": [{"name": "x", "daily": []}], "database": [], "tickets": {"total": 0}}
    assert charts.monthly_charts(empty, "id") == {}


# -- command line --------------------------------------------------------------------


def test_cli_report_monthly_formats(history):
    config, store, tmp_path = history
    store.close()
    out = tmp_path / "r.html"
    with freeze_time(FROZEN):
        html = run_cli(
            "--config",
            str(config.source),
            "report",
            "monthly",
            "--month",
            "2026-10",
            "--format",
            "html",
            "--output",
            str(out),
        )
        data = run_cli("--config", str(config.source), "report", "monthly", "--format", "json")
        english = run_cli(
            "--config",
            str(config.source),
            "--lang",
            "en",
            "report",
            "monthly",
            "--month",
            "2026-10",
            "--format",
            "md",
        )
    assert html.exit_code == 0, html.stderr
    assert out.read_text(encoding="utf-8").count("data:image/png") == 3
    assert data.exit_code == 0
    body = data.json()
    assert body["month"] == "2026-10"  # last month by default
    assert body["generated_at"] == "2026-11-02T08:00:00+07:00"
    assert body["period"]["start"] == "2026-10-01T00:00:00+07:00"
    assert body["tickets"]["breaches"][0]["opened_at"].endswith("+07:00")
    assert english.stdout.startswith("# SPSE Application Performance Report")


def test_cli_bad_month_is_a_usage_error(tmp_path):
    result = run_cli(
        "--config", str(write_config(tmp_path)), "report", "monthly", "--month", "2026-13"
    )
    assert result.exit_code == 2
    assert "2026-13" in result.stderr


# -- end to end with a real snapshot of this machine ---------------------------------------


def test_report_from_a_real_collection_of_this_machine(tmp_path):
    from lpsectl.collect.run import run_collection

    path = tmp_path / "lpsectl.toml"
    path.write_text(
        f'[lpse]\nname = "LPSE Uji"\ndata_dir = "{tmp_path / "data"}"\n\n'
        '[[hosts]]\nname = "lokal"\naddress = "local"\n',
        encoding="utf-8",
    )
    config = load_config_file(path)
    store = open_store(config)
    now = datetime.now(WIB)
    run_collection(config, store, now)
    month = f"{now:%Y-%m}"
    report = build_monthly(store, config, month, "id", now)
    [host] = report["hosts"]
    assert host["collections"] == 1
    assert host["up"] + host["down"] + host["unknown"] == 1
    [day] = host["daily"]
    assert day["day"] == now.date().isoformat()
    assert 0 < day["memory_percent"] < 100
    assert day["disk_percent"] is not None
    html = render_monthly(report, "html", "id")
    assert html.count("data:image/png") == 1  # resources only: no tickets, no database here
    assert date.fromisoformat(day["day"]).month == now.month


# -- e-mail to the Kepala LPSE (real SMTP server) ---------------------------------------


def test_email_goes_to_the_head_through_the_outbox(history, smtp_server):
    config, store, tmp_path = history
    store.close()
    path = Path(config.source)
    path.write_text(path.read_text(encoding="utf-8") + smtp_server.mail_toml(), encoding="utf-8")
    with freeze_time(FROZEN):
        first = run_cli(
            "--config",
            str(path),
            "report",
            "monthly",
            "--month",
            "2026-10",
            "--email",
            "--output",
            str(tmp_path / "r.txt"),
        )
        again = run_cli(
            "--config",
            str(path),
            "report",
            "monthly",
            "--month",
            "2026-10",
            "--email",
            "--output",
            str(tmp_path / "r.txt"),
        )
    assert first.exit_code == 0, first.stderr
    assert again.exit_code == 0, again.stderr
    [received] = smtp_server.received  # the same day's re-run is not sent twice
    assert received.rcpt_tos == ["kepala@uji.example"]
    message = received.message
    assert (
        message["Subject"] == "Laporan Kinerja Aplikasi SPSE Oktober 2026 — LPSE Kabupaten Contoh"
    )
    assert "Rekap penanganan permasalahan" in message.get_body(("plain",)).get_content()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "laporan-kinerja-spse-2026-10.html"
    assert attachment.get_content().count("data:image/png") == 3
    outbox = open_store(load_config_file(path)).query("SELECT status, purpose FROM outbox")
    assert outbox == [{"status": "sent", "purpose": "monthly-report"}]


def test_email_when_smtp_is_down_stays_in_the_outbox(history):
    config, store, tmp_path = history
    store.close()
    path = Path(config.source)
    path.write_text(
        path.read_text(encoding="utf-8")
        + f'[mail]\nsmtp_host = "127.0.0.1"\nsmtp_port = {free_port()}\n'
        'head = ["kepala@uji.example"]\ntimeout = 2\n',
        encoding="utf-8",
    )
    with freeze_time(FROZEN):
        result = run_cli(
            "--config",
            str(path),
            "report",
            "monthly",
            "--month",
            "2026-10",
            "--email",
            "--output",
            str(tmp_path / "r.txt"),
        )
    assert result.exit_code == 5
    assert "outbox" in result.stderr
    assert (
        (tmp_path / "r.txt").read_text(encoding="utf-8").startswith("Laporan Kinerja Aplikasi SPSE")
    )
    pending = open_store(load_config_file(path)).query("SELECT status FROM outbox")
    assert pending == [{"status": "queued"}]


def test_email_without_a_head_address_is_a_config_error(history):
    config, store, _ = history
    store.close()
    result = run_cli(
        "--config", str(config.source), "report", "monthly", "--month", "2026-10", "--email"
    )
    assert result.exit_code == 4
    assert "mail.head is empty" in result.stderr


def test_errors_from_a_real_log_summary(tmp_path):
    """A logs snapshot shaped as the collector stores it, from the real summariser."""
    summary = run_cli(
        "logs", "summarize", str(DATA / "spse-application.log"), "--format", "json"
    ).json()
    path = write_config(tmp_path)
    config = load_config_file(path)
    store = open_store(config)
    log_path = "/home/appserv/spse/logs/application.log"
    data = {
        "files": {log_path: {"format": summary["format"], "summary": summary}},
        "cursors": {},
        "warnings": [],
    }
    for hour in (7, 8):  # two collections: counts add up
        moment = datetime(2026, 10, 5, hour, 0, tzinfo=WIB)
        run_id = store.insert(
            "runs", {"job": "collect", "started_at": moment.isoformat(), "status": "ok"}
        )
        insert_snapshot(store, run_id, "spse-app", "logs", moment, data)
    with freeze_time(FROZEN):
        report = build_monthly(store, config, "2026-10", "id", datetime.now(WIB))
    top = report["errors"]["application"][0]
    assert top["signature"] == summary["errors"][0]["signature"]
    assert top["count"] == 2 * summary["errors"][0]["count"]
    assert report["errors"]["database"] == []
    assert len(report["errors"]["application"]) == min(10, len(summary["errors"]))


def test_a_host_no_longer_configured_is_not_shown_unless_asked(history):
    """Issue 16: the quick start's local host, removed from the config, stays out."""
    config, store, _ = history
    moment = datetime(2026, 10, 5, 7, 0, tzinfo=WIB)
    run_id = store.insert(
        "runs",
        {
            "job": "collect",
            "started_at": moment.isoformat(),
            "finished_at": moment.isoformat(),
            "status": "ok",
        },
    )
    insert_snapshot(
        store, run_id, "laptop-quickstart", "system", moment, system_data(5, "laptop-quickstart")
    )
    with freeze_time(FROZEN):
        plain = build_monthly(store, config, "2026-10", "en", datetime.now(WIB))
        everything = build_monthly(
            store, config, "2026-10", "en", datetime.now(WIB), all_hosts=True
        )
    assert "laptop-quickstart" not in [h["name"] for h in plain["hosts"]]
    assert any(
        n["code"] == "removed_hosts" and "laptop-quickstart" in n["text"] for n in plain["notes"]
    )
    assert "laptop-quickstart" in [h["name"] for h in everything["hosts"]]


def test_the_working_clock_reads_in_the_documents_language(history):
    """[tickets] clock = "working", written with English day names: the Indonesian report
    names the days in Indonesian, and its durations are working hours, never 24-hour days."""
    config, store, tmp_path = history
    path = write_config(tmp_path)
    path.write_text(
        path.read_text()
        + '\n[tickets]\nclock = "working"\nworking_hours = "Mon-Thu 08:00-16:00, Fri 08:00-11:30, Fri 13:00-16:30"\n'
    )
    working = load_config_file(path)
    with freeze_time(FROZEN):
        report = build_monthly(store, working, "2026-10", "id", datetime.now(WIB))
    text = render_monthly(report, "md", "id")
    assert "Senin–Kamis 08.00–16.00, Jumat 08.00–11.30 dan 13.00–16.30" in text
    assert "Mon" not in text and "Fri" not in text
    breaches = report["tickets"]["breaches"]
    assert breaches
    rows = [line for line in text.splitlines() if line.startswith("| LPSE-")]
    assert rows and all("hari" not in row.split("|")[6] for row in rows)
    first = breaches[0]
    hours, minutes = divmod(int(first["actual_minutes"]), 60)
    want = f"{hours} jam kerja" + (f" {minutes} menit" if minutes else "")
    assert f"| {want} |" in rows[0]
    # and the English report of the same month, in English
    with freeze_time(FROZEN):
        english = build_monthly(store, working, "2026-10", "en", datetime.now(WIB))
    assert "Monday–Thursday 08:00–16:00, Friday 08:00–11:30 and 13:00–16:30" in render_monthly(
        english, "md", "en"
    )


def test_an_override_from_an_older_version_is_named_not_a_crash(history):
    """A templates_dir copy of the labels that lacks a newer word (section 8's): exit 4,
    naming the file's folder, not an internal error (exit 70)."""
    config, store, tmp_path = history
    store.close()
    overrides = tmp_path / "templates" / "id"
    overrides.mkdir(parents=True)
    (overrides / "monthly_labels.j2").write_text('{% set t = {"title": "Laporan"} %}\n')
    path = write_config(tmp_path)
    path.write_text(
        path.read_text().replace(
            "[lpse]\n", f'[lpse]\ntemplates_dir = "{tmp_path / "templates"}"\n'
        )
    )
    with freeze_time(FROZEN):
        result = run_cli("--config", str(path), "report", "monthly", "--month", "2026-10")
    assert result.exit_code == 4, result.stderr
    assert "lpse.templates_dir" in result.stderr and str(tmp_path / "templates") in result.stderr


def test_the_indonesian_html_opens_with_its_verdict_and_has_no_english(history):
    """The document e-mailed to the head: verdict first, section 8, no English outside
    quoted log text (the Markdown goldens are read the same way in test_i18n)."""
    from tests.test_i18n import english_words

    report = report_for(history, "id")
    html = render_monthly(report, "html", "id")
    body = re.sub(r"<style.*?</style>", " ", html, flags=re.S)
    assert body.index('class="verdict"') < body.index("<h2>")
    missed = sum(1 for r in report["compliance"]["rows"] if r["breached"])
    assert f"{missed} langkah SOP melewati Mutu Baku" in report["verdict"]
    assert "8. Kepatuhan Mutu Baku SOP" in body
    found = [w for line in body.splitlines() for w in english_words(line)]
    assert found == []


def test_the_verdict_says_every_server_available_only_when_true():
    from lpsectl.reports.monthly import monthly_verdict

    def host(name, percent, down=0, unknown=0, missing=()):
        return {
            "name": name,
            "availability_percent": percent,
            "down": down,
            "unknown": unknown,
            "days_without_data": list(missing),
        }

    base = {"tickets": {"total": 0}, "compliance": {"rows": []}}
    whole = monthly_verdict(base | {"hosts": [host("a", 100.0), host("b", 100.0)]}, "id")
    assert whole == "Semua server tersedia sepanjang bulan."
    # 2,999 of 3,000 collections: 99.97 % rounds to 100.0, but one was missed
    rounded = monthly_verdict(base | {"hosts": [host("a", 100.0, down=1)]}, "id")
    assert rounded == "Ketersediaan terendah a 100,0%."
    blind = monthly_verdict(base | {"hosts": [host("a", 100.0), host("b", None)]}, "id")
    assert blind == "Ketersediaan terendah a 100,0%; tanpa angka untuk b."
    gaps = monthly_verdict(base | {"hosts": [host("a", 100.0, missing=["2026-10-03"])]}, "en")
    assert gaps == "Lowest availability a 100.0%."
