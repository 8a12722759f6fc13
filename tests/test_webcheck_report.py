"""A day of real checks under freezegun (every 5 minutes, the application failing on cue)
and what the daily report makes of it: availability with and without the announced
maintenance, outages, the tender deadline an outage hit, alerts (issue 18)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy
from freezegun import freeze_time

from lpsectl.store import Store
from tests.fixtures.common import run_cli

WIB = ZoneInfo("Asia/Jakarta")
DAY = datetime(2026, 12, 7, tzinfo=WIB)
#: (time of day, the application's answer): the day the checks see
PLAN = [
    ("08:00", 200),
    ("08:05", 200),
    ("08:10", 500),  # an outage: three checks down
    ("08:15", 500),
    ("08:20", 500),
    ("08:25", 200),
    ("08:30", 500),  # one failed check alone: counted, but no outage (down_after_checks = 2)
    ("08:35", 200),
    ("22:00", 500),  # inside the announced maintenance window 22:00-23:00: planned
    ("22:05", 500),
    ("22:10", 200),
    ("23:30", 500),  # still down when the day ends
    ("23:35", 500),
]


def at(clock: str) -> datetime:
    hours, minutes = (int(p) for p in clock.split(":"))
    return DAY.replace(hour=hours, minute=minutes)


def write_config(tmp_path, web) -> str:
    tenders = tmp_path / "tender.csv"
    tenders.write_text(
        "kode_tender,nama_paket,pokja,tahap,mulai,selesai\n"
        "10001373,Paket Rehab Gedung 1,Pokja Pemilihan 3,Upload Dokumen Penawaran,"
        "2026-12-01 08:00,2026-12-07 08:15\n"
        "10001374,Paket Jalan 2,Pokja Pemilihan 1,Upload Dokumen Penawaran,"
        "2026-12-01 08:00,2026-12-07 12:00\n",
        encoding="utf-8",
    )
    path = tmp_path / "lpsectl.toml"
    path.write_text(
        f'[lpse]\nname = "LPSE Uji"\ndata_dir = "{tmp_path / "data"}"\n\n'
        '[[hosts]]\nname = "spse-app"\nrole = "app"\naddress = "local"\n\n'
        f'[maintenance]\ntender_schedule_file = "{tenders}"\n\n'
        f'[[checks]]\nname = "spse"\nurl = "{web.url(path="/eproc4/state")}"\n'
        f'ca_file = "{web.pki.ca}"\nexpect_text = "Pengadaan"\ntimeout = 5\n',
        encoding="utf-8",
    )
    return str(path)


def announce_window(tmp_path) -> None:
    with Store.open_sqlite(tmp_path / "data" / "history.sqlite3") as store:
        store.insert(
            "maintenance_windows",
            {
                "uid": "mw-1",
                "start_at": at("22:00").isoformat(),
                "end_at": at("23:00").isoformat(),
                "reason": "Pembaruan SPSE",
                "services": "[]",
                "status": "completed",
                "created_at": (DAY - timedelta(days=4)).isoformat(),
            },
        )


def test_a_day_of_checks_in_the_daily_report(tmp_path, web_servers):
    web = web_servers
    config = write_config(tmp_path, web)
    with freeze_time(at("07:00"), tick=True) as frozen:
        for clock, status in PLAN:
            web.state.status = status
            frozen.move_to(at(clock))
            result = run_cli("--config", config, "check", "--due")
            assert result.exit_code == (0 if status == 200 else 5), (clock, result.stderr)
        web.state.status = 200
    announce_window(tmp_path)

    with freeze_time(at("23:59")):
        report = run_cli("--config", config, "report", "daily", "--format", "json")
    assert report.exit_code == 0, report.stderr
    data = report.json()
    [entry] = data["sections"]["web"]["checks"]
    # hand counts from PLAN
    ups = sum(1 for _, s in PLAN if s == 200)
    planned = sum(1 for c, s in PLAN if s == 500 and "22:00" <= c <= "23:00")
    assert (entry["checks"], entry["up"], entry["planned_down"]) == (len(PLAN), ups, planned)
    assert entry["availability_percent"] == round(100 * ups / len(PLAN), 2)
    assert entry["availability_unplanned_percent"] == round(100 * ups / (len(PLAN) - planned), 2)
    outages = entry["outages"]
    assert [(o["start"][11:16], (o["end"] or "")[11:16], o["planned"]) for o in outages] == [
        ("08:10", "08:25", False),
        ("22:00", "22:10", True),
        ("23:30", "", False),
    ]
    assert outages[0]["first_error"] == "HTTP 500 (expected 200-399)"
    assert outages[0]["duration_seconds"] == 15 * 60
    # the 08:15 deadline fell inside the first outage; the 12:00 one did not
    assert [t["code"] for t in outages[0]["tenders"]] == ["10001373"]
    assert entry["certificate"]["days_left"] > 300
    # percentiles: numpy's nearest-rank method over the stored total times of the up checks
    with sqlite3.connect(tmp_path / "data" / "history.sqlite3") as db:
        times = [t for (t,) in db.execute("SELECT total_ms FROM web_checks WHERE up = 1")]
    assert entry["p50_ms"] == float(numpy.percentile(times, 50, method="inverted_cdf"))
    assert entry["p95_ms"] == float(numpy.percentile(times, 95, method="inverted_cdf"))

    alerts = [a for a in data["alerts"] if a["host"] == "spse"]
    messages = " | ".join(a["message"] for a in alerts)
    assert any(a["severity"] == "critical" and "sejak 23.30" in a["message"] for a in alerts)
    assert "08.10 WIB–08.25 WIB (15 menit)" in messages
    assert "Upload Dokumen Penawaran" in messages and "Pokja Pemilihan 3" in messages
    assert "22.00" not in messages  # planned: no alert
    assert "Paket Jalan 2" not in messages

    text = run_cli("--config", config, "report", "daily", "--date", "2026-12-07")
    assert "Akses aplikasi SPSE" in text.stdout
    assert "terjadwal" in text.stdout and "masih berlangsung" in text.stdout
    html = run_cli(
        "--config", config, "report", "daily", "--date", "2026-12-07", "--format", "html"
    )
    assert '<section class="daily-web">' in html.stdout and "Pokja Pemilihan 3" in html.stdout


def test_a_configured_check_without_results_is_an_alert(tmp_path, web_servers):
    config = write_config(tmp_path, web_servers)
    report = run_cli(
        "--config", config, "report", "daily", "--date", "2026-12-07", "--format", "json"
    )
    assert report.exit_code == 0, report.stderr
    [entry] = report.json()["sections"]["web"]["checks"]
    assert entry["checks"] == 0 and entry["availability_percent"] is None
    assert any("tidak ada hasil pemeriksaan spse" in a["message"] for a in report.json()["alerts"])


def test_certificate_alerts(tmp_path, web_servers):
    web = web_servers
    path = tmp_path / "lpsectl.toml"
    checks = "".join(
        f'[[checks]]\nname = "{kind}"\nurl = "{web.url(kind)}"\nca_file = "{web.pki.ca}"\n\n'
        for kind in ("good", "expiring", "expired")
    )
    path.write_text(
        f'[lpse]\ndata_dir = "{tmp_path / "data"}"\n\n[[hosts]]\nname = "a"\naddress = "local"\n\n'
        + checks
    )
    assert run_cli("--config", str(path), "check").exit_code == 3
    report = run_cli("--config", str(path), "report", "daily", "--format", "json").json()
    alerts = {(a["host"], a["item"]): a for a in report["alerts"] if a["item"] == "certificate"}
    assert set(alerts) == {("expiring", "certificate"), ("expired", "certificate")}
    assert alerts[("expiring", "certificate")]["severity"] == "critical"  # 5 days < 7
    assert "berakhir dalam" in alerts[("expiring", "certificate")]["message"]
    assert "certificate has expired" in alerts[("expired", "certificate")]["message"]
    assert json.dumps(report)  # serialisable as printed


def test_the_month_of_the_checks(tmp_path, web_servers):
    """The same day in the monthly report, plus a second day all up."""
    web = web_servers
    config = write_config(tmp_path, web)
    with freeze_time(at("07:00"), tick=True) as frozen:
        for clock, status in [*PLAN, ("23:59", 200)]:
            web.state.status = status
            frozen.move_to(at(clock))
            run_cli("--config", config, "check")
        web.state.status = 200
        for minute in (0, 5, 10):
            frozen.move_to(at("09:00") + timedelta(days=1, minutes=minute))
            assert run_cli("--config", config, "check").exit_code == 0
    announce_window(tmp_path)
    with freeze_time("2027-01-01 02:00:00"):
        report = run_cli(
            "--config", config, "report", "monthly", "--month", "2026-12", "--format", "json"
        )
        md = run_cli(
            "--config", config, "report", "monthly", "--month", "2026-12", "--format", "md"
        )
        html = run_cli(
            "--config", config, "report", "monthly", "--month", "2026-12", "--format", "html"
        )
    assert report.exit_code == 0, report.stderr
    [entry] = report.json()["web"]
    ups = sum(1 for _, s in PLAN if s == 200) + 1 + 3
    total = len(PLAN) + 1 + 3
    planned = 2
    assert (entry["checks"], entry["up"], entry["planned_down"]) == (total, ups, planned)
    assert entry["availability_unplanned_percent"] == round(100 * ups / (total - planned), 2)
    assert [d["day"] for d in entry["daily"]] == ["2026-12-07", "2026-12-08"]
    assert entry["daily"][1]["availability_percent"] == 100.0
    # 08:10-08:25 and 23:30-23:59 unplanned; 22:00-22:10 planned
    assert entry["unplanned_minutes"] == 15 + 29 and entry["planned_minutes"] == 10
    assert "| spse |" in md.stdout and "Pokja Pemilihan 3" in md.stdout
    assert "tidak terjadwal" in md.stdout
    assert html.exit_code == 0 and 'alt="Akses aplikasi SPSE' in html.stdout


def test_outages_across_midnight_and_beyond_a_window(tmp_path, web_servers):
    web = web_servers
    config = write_config(tmp_path, web)
    plan = [
        (at("22:00"), 500),  # the window is 22:00-23:00; this outage outlasts it: unplanned
        (at("22:30"), 500),
        (at("23:10"), 200),
        (at("23:50"), 500),  # across midnight: one outage, 23:50 to 00:05
        (at("23:55"), 500),
        (at("00:00") + timedelta(days=1), 500),
        (at("00:05") + timedelta(days=1), 200),
    ]
    with freeze_time(at("21:00"), tick=True) as frozen:
        for moment, status in plan:
            web.state.status = status
            frozen.move_to(moment)
            run_cli("--config", config, "check")
        web.state.status = 200
    announce_window(tmp_path)
    with freeze_time(at("06:00") + timedelta(days=1)):
        first = run_cli(
            "--config", config, "report", "daily", "--date", "2026-12-07", "--format", "json"
        )
        second = run_cli(
            "--config", config, "report", "daily", "--date", "2026-12-08", "--format", "json"
        )
    [day7] = first.json()["sections"]["web"]["checks"]
    [day8] = second.json()["sections"]["web"]["checks"]
    shown = [(o["start"][11:16], (o["end"] or "")[11:16], o["planned"]) for o in day7["outages"]]
    assert shown == [("22:00", "23:10", False), ("23:50", "", False)]
    assert [(o["start"][:16], o["end"][:16]) for o in day8["outages"]] == [
        ("2026-12-07T23:50", "2026-12-08T00:05")
    ]
    assert day8["outages"][0]["duration_seconds"] == 15 * 60
