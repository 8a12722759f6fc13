"""The daily report rendered from a known history, checked against golden files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from freezegun import freeze_time

from lpsectl.store import Store

GOLDEN = Path(__file__).parent / "golden"

SYSTEM = {
    "probe": "proc",
    "hostname": "spse-app-01",
    "os": {"system": "Linux", "release": "5.15.0", "pretty_name": "Ubuntu 22.04.4 LTS"},
    "boot_time": 1795000000.0,
    "uptime_seconds": 1_000_000.0,
    "load": {"1": 5.0, "5": 4.5, "15": 4.2},
    "cpu": {"count": 4, "percent": 63.5},
    # as the probe sends them: psutil's per-process CPU (one core = 100) and RSS
    "top_cpu": [
        {"pid": 1234, "name": "java", "user": "appserv", "cpu_percent": 230.0, "rss": 6 * 2**30},
        {"pid": 812, "name": "nginx", "user": "www-data", "cpu_percent": 12.0, "rss": 60 * 2**20},
    ],
    "top_mem": [
        {"pid": 1234, "name": "java", "user": "appserv", "cpu_percent": 230.0, "rss": 6 * 2**30},
    ],
    "memory": {"total": 16 * 2**30, "available": 1 * 2**30, "used_percent": 93.8},
    "swap": {"total": 0, "used": 0, "used_percent": 0.0},
    "filesystems": [
        {
            "mount": "/",
            "device": "/dev/sda1",
            "fstype": "ext4",
            "total": 100 * 2**30,
            "used": 60 * 2**30,
            "free": 40 * 2**30,
            "used_percent": 60.0,
        },
        {
            "mount": "/home",
            "device": "/dev/sdb1",
            "fstype": "xfs",
            "total": 500 * 2**30,
            "used": 440 * 2**30,
            "free": 60 * 2**30,
            "used_percent": 88.0,
        },
    ],
    "services": {
        "spse": {
            "expected": True,
            "running": True,
            "pid": 1234,
            "detail": "/home/appserv/spse/server.pid: pid 1234 running",
        },
        "postgres": {
            "expected": False,
            "running": False,
            "pid": None,
            "detail": "no postgres/postmaster process",
        },
    },
    "logs": [
        {
            "path": "/home/appserv/spse/logs/application.log",
            "exists": True,
            "readable": True,
            "size": 5_000_000,
            "mtime": 0,
            "age_seconds": 7200.0,
            "fresh": False,
        },
    ],
}


def insert_run(
    store: Store,
    stamp: str,
    day: str,
    db_ok: bool = True,
    app: dict = SYSTEM,
    db_error_type: str | None = None,
) -> None:
    """One collect run: spse-app answered (``app``), spse-db answered or refused the
    connection (``db_error_type`` stored only when given)."""
    run = store.insert("runs", {"job": "collect", "started_at": stamp})
    common = {"run_id": run, "kind": "system", "taken_at": stamp, "day": day, "unavailable": {}}
    store.insert("snapshots", {**common, "host": "spse-app", "ok": 1, "data": app})
    db = {
        **common,
        "host": "spse-db",
        "ok": int(db_ok),
        "data": SYSTEM if db_ok else {},
        "error": None if db_ok else "cannot connect to 10.0.0.11:22: Connection refused",
    }
    if db_error_type:
        db["error_type"] = db_error_type
    store.insert("snapshots", db)


@pytest.fixture
def history(tmp_path):
    """Two runs on 2026-11-20: the app host always up, the db host down at the last run."""
    config = tmp_path / "lpsectl.toml"
    config.write_text(
        f'[lpse]\nname = "LPSE Kabupaten Uji"\ndata_dir = "{tmp_path}"\n'
        '[[hosts]]\nname = "spse-app"\nrole = "app"\naddress = "10.0.0.10"\n'
        '[[hosts]]\nname = "spse-db"\nrole = "db"\naddress = "10.0.0.11"\n'
        '[hosts.postgres]\ndatabase = "epns_prod"\n'
    )
    store = Store.open_sqlite(tmp_path / "history.sqlite3")
    for stamp, db_ok in (("2026-11-20T06:00:00+07:00", True), ("2026-11-20T12:00:00+07:00", False)):
        insert_run(store, stamp, "2026-11-20", db_ok=db_ok)
    store.close()
    return str(config)


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("LPSECTL_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


@freeze_time("2026-11-21 00:30:00")
@pytest.mark.parametrize("lang", ["id", "en"])
def test_daily_text_matches_golden(history, cli, lang):
    result = cli("--config", history, "--lang", lang, "report", "daily", "--date", "2026-11-20")
    assert result.exit_code == 0, result.stderr
    golden(f"daily_{lang}.txt", result.stdout)


@freeze_time("2026-11-21 00:30:00")
def test_daily_html_matches_golden_and_escapes(history, cli, tmp_path):
    out = tmp_path / "daily.html"
    result = cli(
        "--config",
        history,
        "report",
        "daily",
        "--date",
        "2026-11-20",
        "--format",
        "html",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.stderr
    golden("daily_id.html", out.read_text())


@freeze_time("2026-11-21 00:30:00")
def test_daily_json_alerts(history, cli):
    doc = cli(
        "--config", history, "report", "daily", "--date", "2026-11-20", "--format", "json"
    ).json()
    assert doc["generated_at"] == "2026-11-21T07:30:00+07:00"
    assert doc["date"] == "2026-11-20"
    hosts = {h["name"]: h for h in doc["hosts"]}
    assert hosts["spse-app"]["reachable"] == 2 and hosts["spse-app"]["collections"] == 2
    assert hosts["spse-db"]["status"] == "down" and hosts["spse-db"]["reachable"] == 1
    found = {(a["severity"], a["host"], a["item"]) for a in doc["alerts"]}
    assert found == {
        ("critical", "spse-db", "host"),
        ("warning", "spse-app", "disk /home"),
        ("warning", "spse-app", "memory"),
        ("warning", "spse-app", "load"),
        ("warning", "spse-app", "log /home/appserv/spse/logs/application.log"),
    }
    # the verdict first (issue 16): the counts of the alerts above, the critical one named
    verdict = doc["verdict"]
    assert (verdict["critical"], verdict["warning"]) == (1, 4)
    assert verdict["text"].startswith("1 kritis, 4 peringatan. Terpenting: spse-db — server:")


def test_a_quiet_day_says_so_in_its_verdict():
    from lpsectl.reports.daily import verdict

    assert verdict([{"name": "a"}, {"name": "b"}], [], "id")["text"] == (
        "Semua layanan berjalan normal: 2 server terpantau, tanpa peringatan."
    )


def test_bad_date_is_a_usage_error(history, cli):
    result = cli("--config", history, "report", "daily", "--date", "20-11-2026")
    assert result.exit_code == 2
    assert "--date '20-11-2026' is not a valid date" in result.stderr
    impossible = cli("--config", history, "report", "daily", "--date", "2026-02-30")
    assert impossible.exit_code == 2 and "is not a valid date" in impossible.stderr


@freeze_time("2026-11-21 00:30:00")
def test_yesterday_and_a_day_without_data(history, cli):
    doc = cli(
        "--config", history, "report", "daily", "--date", "yesterday", "--format", "json"
    ).json()
    assert doc["date"] == "2026-11-20"
    empty = cli(
        "--config", history, "report", "daily", "--date", "2020-01-01", "--format", "json"
    ).json()
    assert {h["status"] for h in empty["hosts"]} == {"no-data"}
    assert {(a["severity"], a["item"]) for a in empty["alerts"]} == {("warning", "host")}
    assert "tidak ada data" in empty["alerts"][0]["message"]


def test_unwritable_output_is_a_clear_usage_error(history, cli):
    result = cli("--config", history, "report", "daily", "-o", "/nonexistent/dir/x.html")
    assert result.exit_code == 2
    assert result.stderr == (
        "lpsectl: --output /nonexistent/dir/x.html: cannot write there: "
        "the directory /nonexistent/dir does not exist\n"
    )
    assert not Path("/nonexistent").exists()


@freeze_time("2026-11-21 00:30:00")
def test_daily_email_goes_through_the_outbox_and_survives_smtp_down(history, smtp_server, cli):
    config = Path(history)
    config.write_text(config.read_text() + smtp_server.mail_toml())
    smtp_server.stop()
    down = cli(
        "--config", history, "report", "daily", "--date", "2026-11-20", "--email", "-o", os.devnull
    )
    assert down.exit_code == 5
    assert "outbox" in down.stderr
    assert smtp_server.received == []
    smtp_server.start()
    assert cli("--config", history, "outbox", "flush").exit_code == 0
    again = cli("--config", history, "outbox", "flush")
    assert again.exit_code == 0
    assert len(smtp_server.received) == 1  # delivered exactly once
    message = smtp_server.received[0].message
    assert message["To"] == "kepala@uji.example"
    assert (
        message["Subject"]
        == "Laporan Monitoring Kinerja — LPSE Kabupaten Uji — Jumat, 20 November 2026"
    )
    assert "tidak terjangkau" in message.get_body(("plain",)).get_content()
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "laporan-monitoring-kinerja-2026-11-20.html"
    assert "<h1>Laporan Monitoring Kinerja</h1>" in attachment.get_content()


@freeze_time("2026-11-21 00:30:00")
def test_email_to_another_address_after_the_day_was_sent_is_a_new_message(
    history, smtp_server, cli
):
    config = Path(history)
    config.write_text(config.read_text() + smtp_server.mail_toml())
    args = (
        "--config",
        history,
        "-v",
        "report",
        "daily",
        "--date",
        "2026-11-20",
        "--email",
        "-o",
        os.devnull,
    )
    first = cli(*args)
    same = cli(*args)
    other = cli(*args, "--to", "Bapak Wiryo Santoso, S.Kom. <wakil@uji.example>")
    bad = cli(*args, "--to", "wakil@uji.example\nBcc: x@evil.example")
    assert first.exit_code == same.exit_code == other.exit_code == 0, other.stderr
    assert [r.rcpt_tos for r in smtp_server.received] == [
        ["kepala@uji.example"],
        ["wakil@uji.example"],
    ]
    assert "not sent again" in same.stderr
    assert "e-mailed to wakil@uji.example" in other.stderr
    assert bad.exit_code == 2 and "--to" in bad.stderr and "control character" in bad.stderr
    assert len(smtp_server.received) == 2


@freeze_time("2026-11-21 00:30:00")
def test_busiest_processes_are_shown_as_a_share_of_all_cores(history, cli):
    """java at 230 % of one core on 4 cores is 57,5 % of the server's CPU."""
    from lpsectl.reports.daily_text import labels, process_rows

    report = cli(
        "--config", history, "report", "daily", "--date", "2026-11-20", "--format", "json"
    ).json()
    rows = process_rows(report, labels("id"), "id")
    assert ["spse-app", "CPU", "java", "appserv", 1234, "57,5%", "6,0 GiB"] in rows
    assert ["spse-app", "memori", "java", "appserv", 1234, "57,5%", "6,0 GiB"] in rows
    assert all(row[0] == "spse-app" for row in rows)  # spse-db was down at the last run


def test_a_time_on_another_day_carries_its_date():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from lpsectl.render import day_clock

    moment = datetime(2026, 11, 21, 6, 10, tzinfo=ZoneInfo("Asia/Jakarta"))
    assert day_clock(moment, "2026-11-21", "id") == "06.10"
    assert day_clock(moment, "2026-11-20", "id") == "21 Nov 06.10"
    assert day_clock(moment, "2026-11-20", "en") == "21 Nov 06:10"


@freeze_time("2026-11-21 00:30:00")
def test_what_changed_since_yesterday(history, cli, tmp_path):
    """On the 19th both servers answered; spse-app's /home was at 96 % (critical). On the
    20th spse-db is down and /home is at 88 % (a warning): spse-db's reachability alert is
    new, /home changed severity, and spse-db's other alerts of the 19th did not "end" —
    it could not be measured on the 20th."""
    import copy

    store = Store.open_sqlite(tmp_path / "history.sqlite3")
    fuller = copy.deepcopy(SYSTEM)
    for fs in fuller["filesystems"]:
        if fs["mount"] == "/home":
            fs["used_percent"] = 96.0
    insert_run(store, "2026-11-19T12:00:00+07:00", "2026-11-19", app=fuller)
    store.close()
    doc = cli(
        "--config", history, "report", "daily", "--date", "2026-11-20", "--format", "json"
    ).json()
    since = doc["verdict"]["since_yesterday"]
    assert [(a["host"], a["item"]) for a in since["new"]] == [("spse-db", "host")]
    assert [(a["host"], a["item"], a["severity"]) for a in since["changed"]] == [
        ("spse-app", "disk /home", "warning")
    ]
    assert since["ended"] == []
    text = cli("--config", history, "report", "daily", "--date", "2026-11-20").stdout
    assert (
        "Dibanding kemarin: 1 peringatan baru (spse-db server); "
        "1 berganti tingkat (spse-app disk /home)." in text
    )


@freeze_time("2026-11-21 00:30:00")
def test_no_change_since_yesterday_is_said(history, cli, tmp_path):
    store = Store.open_sqlite(tmp_path / "history.sqlite3")
    # spse-db was down on the 19th too: its reachability alert is no news
    insert_run(
        store,
        "2026-11-19T12:00:00+07:00",
        "2026-11-19",
        db_ok=False,
        db_error_type="UnreachableError",
    )
    store.close()
    text = cli("--config", history, "report", "daily", "--date", "2026-11-20").stdout
    assert "Tidak ada perubahan pada pemeriksaan server sejak kemarin." in text
