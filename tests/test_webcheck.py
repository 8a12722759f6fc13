"""`lpsectl check` against real servers (issue 18): nginx serving HTTPS with certificates of
an openssl-made CA, proxying to an application that answers, fails, is slow or hangs."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pytest

from lpsectl.remote.ship import BOOTSTRAP
from tests.fixtures.common import run_cli


def config_text(tmp_path: Path, web, checks: list[dict], extra: str = "") -> Path:
    lines = [f'[lpse]\nname = "LPSE Uji"\ndata_dir = "{tmp_path / "data"}"\n', extra]
    lines.append('[[hosts]]\nname = "spse-app"\nrole = "app"\naddress = "local"\n')
    for check in checks:
        lines.append("[[checks]]")
        check = {"ca_file": str(web.pki.ca), **check}
        lines += [f"{key} = {json.dumps(value)}" for key, value in check.items()]
        lines.append("")
    path = tmp_path / "lpsectl.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def openssl_enddate(cert: Path) -> datetime:
    """The certificate's notAfter as openssl prints it: the independent reading."""
    out = subprocess.run(
        ["openssl", "x509", "-noout", "-enddate", "-in", str(cert)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    stamp = out.strip().split("=", 1)[1]
    return datetime.strptime(stamp, "%b %d %H:%M:%S %Y %Z")


def stored(tmp_path: Path) -> list[dict]:
    with sqlite3.connect(tmp_path / "data" / "history.sqlite3") as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM web_checks ORDER BY id")]


def test_up_down_and_the_reasons(tmp_path, web_servers):
    web = web_servers
    checks = [
        {"name": "spse", "url": web.url(), "expect_text": "Pengadaan Secara Elektronik"},
        {"name": "error", "url": web.url(path="/eproc4/error")},
        {"name": "wrongtext", "url": web.url(path="/eproc4/other"), "expect_text": "Pengadaan"},
        {"name": "slow", "url": web.url(path="/eproc4/slow"), "timeout": 2},
        {"name": "hang", "url": web.url(path="/eproc4/hang"), "timeout": 2},
        {"name": "trickle", "url": web.app_url("/eproc4/trickle"), "timeout": 2},
        {"name": "closed", "url": "http://127.0.0.1:9/eproc4", "timeout": 2},
        {"name": "plain", "url": f"http://127.0.0.1:{web.http_port}/eproc4"},
    ]
    path = config_text(tmp_path, web, checks)
    began = time.monotonic()
    result = run_cli("--config", str(path), "check", "--format", "json")
    elapsed = time.monotonic() - began
    assert result.exit_code == 3, result.stderr  # some down
    # checks run side by side, each bounded by its own timeout (+2 s grace)
    assert elapsed < 10
    rows = {r["name"]: r for r in result.json()}
    assert rows["spse"]["up"] and rows["spse"]["status"] == 200
    assert rows["spse"]["bytes"] == len(
        "<!DOCTYPE html><html><head><title>SPSE 4.5</title></head><body>"
        "<h1>Sistem Pengadaan Secara Elektronik</h1></body></html>"
    )
    assert 0 < rows["spse"]["ttfb_ms"] <= rows["spse"]["total_ms"]
    assert rows["plain"]["up"] and rows["plain"]["certificate"] is None
    assert not rows["error"]["up"] and rows["error"]["error"] == "HTTP 500 (expected 200-399)"
    assert (
        not rows["wrongtext"]["up"] and "does not contain 'Pengadaan'" in rows["wrongtext"]["error"]
    )
    for name in ("slow", "hang", "trickle"):
        assert not rows[name]["up"], name
        assert rows[name]["error_kind"] == "timeout", rows[name]
        assert "within 2 s" in rows[name]["error"]
    assert rows["closed"]["error_kind"] == "connect" and "refused" in rows["closed"]["error"]
    # what nginx saw: every check through it was one GET with our user agent
    access = (Path(web.pki.dir).parent / "nginx" / "access.log").read_text()
    assert "lpsectl-check/1" in access

    # stored, one row per check, as printed
    saved = {r["name"]: r for r in stored(tmp_path)}
    assert set(saved) == {c["name"] for c in checks}
    assert saved["spse"]["up"] == 1 and saved["spse"]["status"] == 200
    assert saved["hang"]["up"] == 0 and saved["hang"]["error_kind"] == "timeout"

    table = run_cli("--config", str(path), "check", "--name", "spse", "--name", "error")
    assert table.exit_code == 3
    assert "DOWN" in table.stdout and "HTTP 500" in table.stdout


@pytest.mark.parametrize(
    ("kind", "up", "error_part"),
    [
        ("good", True, None),
        ("expiring", True, None),
        ("expired", False, "certificate has expired"),
        ("wrongname", False, "IP address mismatch"),
    ],
)
def test_certificates(tmp_path, web_servers, kind, up, error_part):
    web = web_servers
    path = config_text(tmp_path, web, [{"name": "spse", "url": web.url(kind)}])
    result = run_cli("--config", str(path), "check", "--format", "json")
    assert result.exit_code == (0 if up else 5), result.stderr
    [row] = result.json()
    cert = row["certificate"]
    end = openssl_enddate(web.pki.dir / f"{kind}.pem")
    assert cert["expires_at"].startswith(end.strftime("%Y-%m-%dT%H:%M:%S"))
    days = (end - datetime.utcnow()).total_seconds() / 86400
    assert cert["days_left"] == pytest.approx(days, abs=0.01)
    assert "LPSE Uji Root CA" in cert["issuer"]
    assert row["up"] is up
    if error_part:
        assert error_part in cert["error"] and error_part in row["error"]
    else:
        assert cert["error"] is None


def test_an_unknown_ca_is_refused_as_a_browser_would(tmp_path, web_servers):
    web = web_servers
    path = config_text(tmp_path, web, [{"name": "spse", "url": web.url(), "ca_file": ""}])
    result = run_cli("--config", str(path), "check", "--format", "json")
    assert result.exit_code == 5
    [row] = result.json()
    assert "unable to get local issuer certificate" in row["certificate"]["error"]
    assert row["certificate"]["days_left"] > 300  # still read, for the report


def test_due_runs_a_check_once_per_interval(tmp_path, web_servers):
    web = web_servers
    path = config_text(tmp_path, web, [{"name": "spse", "url": web.url(), "interval": 5}])
    assert run_cli("--config", str(path), "check", "--due").exit_code == 0
    assert run_cli("--config", str(path), "check", "--due").exit_code == 0
    assert len(stored(tmp_path)) == 1  # the second run: not due yet
    assert run_cli("--config", str(path), "check").exit_code == 0  # by hand: always
    assert len(stored(tmp_path)) == 2


def test_no_checks_and_unknown_names(tmp_path, web_servers):
    web = web_servers
    empty = config_text(tmp_path, web, [])
    result = run_cli("--config", str(empty), "check")
    assert result.exit_code == 4 and "no [[checks]]" in result.stderr
    path = config_text(tmp_path, web, [{"name": "spse", "url": web.url()}])
    result = run_cli("--config", str(path), "check", "--name", "spce")
    assert result.exit_code == 2 and "no check named 'spce'" in result.stderr


def test_a_flood_is_read_up_to_max_bytes(tmp_path, web_servers):
    web = web_servers
    path = config_text(
        tmp_path, web, [{"name": "flood", "url": web.app_url("/eproc4/flood"), "max_bytes": 100000}]
    )
    result = run_cli("--config", str(path), "check", "--format", "json")
    assert result.exit_code == 0, result.stderr
    [row] = result.json()
    assert 100000 <= row["bytes"] < 100000 + 65536


def test_checks_from_a_host_run_there_through_the_probe(
    tmp_path, web_servers, sshd_factory, ssh_client_key
):
    from tests.fixtures.sshd import ssh_config_text

    web = web_servers
    # the host's user cannot read pytest's private tmp: the CA and the log where it can
    shared = Path(tempfile.mkdtemp(prefix="lpsectl-web-from-"))
    shared.chmod(0o755)
    ca = shared / "ca.pem"
    shutil.copy(web.pki.ca, ca)
    ca.chmod(0o644)
    ran = shared / "commands.log"
    ran.touch()
    ran.chmod(0o666)
    host = sshd_factory.start(
        "web-from",
        force_command=f'echo "$SSH_ORIGINAL_COMMAND" >> {ran}; '
        'exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"',
    )
    text = ssh_config_text([host], ssh_client_key, tmp_path / "known_hosts", tmp_path / "data")
    for name, url, extra in (
        ("spse", web.url(), ""),
        ("error", web.url(path="/eproc4/error"), ""),
        ("expired", web.url("expired"), ""),
        ("hang", web.url(path="/eproc4/hang"), "timeout = 2\n"),
        ("trickle", web.app_url("/eproc4/trickle"), "timeout = 2\n"),
        ("garbage", web.app_url("/eproc4/garbage"), ""),
    ):
        text += (
            f'\n[[checks]]\nname = "{name}"\nurl = "{url}"\nfrom = "{host.name}"\n'
            f'ca_file = "{ca}"\n{extra}'
        )
    path = tmp_path / "lpsectl.toml"
    path.write_text(text)
    try:
        result = run_cli("--config", str(path), "check", "--format", "json")
        assert result.exit_code == 3, result.stderr
        rows = {r["name"]: r for r in result.json()}
        assert all(r["source"] == host.name for r in rows.values())
        assert rows["spse"]["up"] and rows["spse"]["status"] == 200, rows["spse"]
        assert rows["error"]["error"] == "HTTP 500 (expected 200-399)"
        assert "certificate has expired" in rows["expired"]["error"]
        assert rows["expired"]["certificate"]["days_left"] < 0
        assert rows["hang"]["error_kind"] == "timeout"
        # headers a byte at a time: given up at its own timeout, the others still answered
        assert rows["trickle"]["error_kind"] == "timeout", rows["trickle"]
        assert rows["trickle"]["total_ms"] < 2000 + 1000
        # a 5,000-character status line: this check's error, cut short; the others stand
        assert rows["garbage"]["error_kind"] == "http" and len(rows["garbage"]["error"]) <= 500
        # one SSH session ran the stdlib script for all four
        [command] = ran.read_text().splitlines()
        argv = shlex.split(command)  # the script itself came compressed on stdin
        assert argv[:3] == ["python3", "-c", BOOTSTRAP]
        assert argv[3].startswith('{"deadline": 49.0')  # 4 x 10 s + 2 x 2 s + 5 s
    finally:
        shutil.rmtree(shared)


def test_the_check_job_is_scheduled_only_with_checks(tmp_path, web_servers):
    web = web_servers
    without = config_text(tmp_path, web, [])
    names = [
        j["name"]
        for j in run_cli("--config", str(without), "cron", "print", "--format", "json").json()
    ]
    assert "check" not in names
    path = config_text(tmp_path, web, [{"name": "spse", "url": web.url()}])
    jobs = {
        j["name"]: j
        for j in run_cli("--config", str(path), "cron", "print", "--format", "json").json()
    }
    assert jobs["check"]["cron"] == "*/5 * * * *"
    assert jobs["check"]["argv"] == ["check", "--due"]
    crontab = run_cli("--config", str(path), "cron", "print").stdout
    assert "check --due" in crontab


def test_a_host_that_cannot_run_its_checks_is_not_an_outage(
    tmp_path, web_servers, sshd_factory, ssh_client_key
):
    from tests.fixtures.sshd import ssh_config_text

    web = web_servers
    host = sshd_factory.start("web-gone")
    text = ssh_config_text([host], ssh_client_key, tmp_path / "known_hosts", tmp_path / "data")
    text += f'\n[[checks]]\nname = "dalam"\nurl = "{web.app_url()}"\nfrom = "{host.name}"\n'
    path = tmp_path / "lpsectl.toml"
    path.write_text(text)
    host.stop()
    for _ in range(3):
        result = run_cli("--config", str(path), "check", "--format", "json")
        assert result.exit_code == 5
        [row] = result.json()
        assert row["error_kind"] == "not-run" and "not checked from" in row["error"]
    report = run_cli("--config", str(path), "report", "daily", "--format", "json").json()
    [entry] = report["sections"]["web"]["checks"]
    assert (entry["checks"], entry["not_checked"], entry["outages"]) == (0, 3, [])
    messages = [a["message"] for a in report["alerts"] if a["host"] == "dalam"]
    assert any("tidak dapat dijalankan 3 kali" in m for m in messages)
    assert not any("tidak dapat diakses" in m for m in messages)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://[::1/eproc4", "is not a valid address"),
        ("https://127.0.0.1:99999/", "is not a valid address"),
        ("https://spse.example:abc/", "is not a valid address"),
        ("https://admin:Rahasia123@spse.example/eproc4", "must not hold a user or password"),
    ],
)
def test_addresses_refused_when_the_config_is_read(tmp_path, url, message):
    path = tmp_path / "lpsectl.toml"
    path.write_text(f'[lpse]\ndata_dir = "{tmp_path}"\n[[checks]]\nname = "spse"\nurl = "{url}"\n')
    for args in (("check",), ("hosts", "list"), ("cron", "print")):
        result = run_cli("--config", str(path), *args)
        assert result.exit_code == 4, (args, result.stderr)
        assert message in result.stderr and "Rahasia123" not in result.stderr


def test_a_ca_file_that_is_a_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "ca.pem"
    os.mkfifo(fifo)
    path = tmp_path / "lpsectl.toml"
    path.write_text(
        f'[lpse]\ndata_dir = "{tmp_path}"\n[[checks]]\nname = "spse"\n'
        f'url = "https://127.0.0.1/"\nca_file = "{fifo}"\n'
    )
    began = time.monotonic()
    result = run_cli("--config", str(path), "hosts", "list")
    assert result.exit_code == 4 and "not a regular file" in result.stderr
    assert time.monotonic() - began < 5


def test_forty_checks_at_once_are_all_up(tmp_path, web_servers):
    web = web_servers
    checks = [{"name": f"spse{i:02d}", "url": web.url(), "timeout": 5} for i in range(40)]
    path = config_text(tmp_path, web, checks)
    before = web.state.requests
    result = run_cli("--config", str(path), "check", "--format", "json")
    assert result.exit_code == 0, [r["error"] for r in result.json() if not r["up"]][:3]
    assert web.state.requests - before == 40  # every one asked nginx, which asked the app


def test_due_with_a_row_from_the_future_or_damaged(tmp_path, web_servers):
    web = web_servers
    path = config_text(tmp_path, web, [{"name": "spse", "url": web.url()}])
    assert run_cli("--config", str(path), "check").exit_code == 0
    history = tmp_path / "data" / "history.sqlite3"
    with sqlite3.connect(history) as db:
        db.execute("UPDATE web_checks SET checked_at = '2027-12-08T00:20:00+07:00'")
    assert run_cli("--config", str(path), "check", "--due").exit_code == 0
    assert len(stored(tmp_path)) == 2  # the clock was ahead once: due now, not in a year
    with sqlite3.connect(history) as db:
        db.execute("UPDATE web_checks SET checked_at = '2026-12-08T00:15:00', total_ms = 'abc'")
    assert run_cli("--config", str(path), "check", "--due").exit_code == 0
    report = run_cli("--config", str(path), "report", "daily", "--format", "json")
    assert report.exit_code == 0, report.stderr


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("[store]\nretention_days = 7\n", "store.retention_days"),
        ("[thresholds.web]\ncertificate_critical_days = 40\n", "certificate_critical_days"),
        ("[thresholds.web]\nslow_p95_ms = nan\n", "slow_p95_ms"),
        ('[notify]\nquiet_hours = "25:00-06:00"\n', "quiet_hours"),
    ],
)
def test_ranges_are_checked_when_the_config_is_read(tmp_path, section, message):
    path = tmp_path / "lpsectl.toml"
    path.write_text(f'[lpse]\ndata_dir = "{tmp_path}"\n' + section)
    result = run_cli("--config", str(path), "hosts", "list")
    assert result.exit_code == 4 and message in result.stderr, result.stderr
