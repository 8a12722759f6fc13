"""`collect` and `report daily` against real sshd hosts on 127.0.0.x."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lpsectl.store import Store, decode_json
from tests.fixtures.sshd import make_path_without_python, ssh_config_text


@pytest.fixture
def config_for(tmp_path, ssh_client_key):
    """Write a config naming the given sshd hosts; return its path."""

    def make(hosts, host_extra=None, extra="", known=None):
        text = ssh_config_text(
            hosts,
            ssh_client_key,
            tmp_path / "known_hosts",
            tmp_path / "data",
            host_extra=host_extra,
            extra=extra,
        )
        if known is not None:
            (tmp_path / "known_hosts").write_text(known)
        path = tmp_path / "lpsectl.toml"
        path.write_text(text)
        return str(path)

    return make


def snapshots(tmp_path: Path) -> list[dict]:
    store = Store.open_sqlite(tmp_path / "data" / "history.sqlite3")
    rows = store.query("SELECT host, kind, ok, error, data, unavailable FROM snapshots ORDER BY id")
    store.close()
    return rows


def test_collect_three_hosts_then_daily_report(three_hosts, config_for, tmp_path, cli):
    extra = {
        "spse-app": {"role": '"app"'},
        "spse-db": {"role": "[]"},  # database statistics are tested with a real cluster elsewhere
        "spse-both": {"role": '["app"]'},
    }
    config = config_for(three_hosts, host_extra=extra)
    result = cli("--config", config, "collect", "--format", "json")
    assert result.exit_code == 0, result.stderr
    run = result.json()
    assert run["status"] == "ok"
    assert [h["host"] for h in run["hosts"]] == ["spse-app", "spse-db", "spse-both"]
    assert all(h["reachable"] and "system" in h["collected"] for h in run["hosts"])

    rows = [r for r in snapshots(tmp_path) if r["kind"] == "system"]
    assert len(rows) == 3
    data = decode_json(rows[0]["data"])
    assert data["hostname"] == subprocess.check_output(["hostname"], text=True).strip()
    assert data["memory"]["total"] > 0
    assert any(fs["mount"] == "/" for fs in data["filesystems"])
    assert data["services"]["spse"]["expected"] is True
    assert data["services"]["spse"]["running"] is False  # no SPSE on this machine

    report = cli("--config", config, "report", "daily", "--format", "json")
    assert report.exit_code == 0, report.stderr
    doc = report.json()
    assert [h["name"] for h in doc["hosts"]] == ["spse-app", "spse-db", "spse-both"]
    assert {h["status"] for h in doc["hosts"]} == {"up"}
    assert doc["date"] and doc["generated_at"].endswith("+07:00")
    # SPSE expected on two hosts, not running → critical alerts naming them
    spse_alerts = {a["host"] for a in doc["alerts"] if a["item"] == "service spse"}
    assert spse_alerts == {"spse-app", "spse-both"}

    text = cli("--config", config, "report", "daily")
    assert "Laporan Monitoring Kinerja" in text.stdout
    for name in ("spse-app", "spse-db", "spse-both"):
        assert name in text.stdout
    english = cli("--config", config, "--lang", "en", "report", "daily")
    assert "Performance Monitoring Report" in english.stdout


def test_failures_are_reported_per_host_and_others_still_stored(
    sshd_factory, three_hosts, config_for, tmp_path, cli
):
    good = three_hosts[0]
    # nothing listens on this port: unreachable
    closed = type(good)("closed", "127.0.0.1", 1, good.workdir, good.host_key_pub)
    config = config_for(
        [good, closed], host_extra={"spse-app": {"logs": '["/nonexistent/application.log"]'}}
    )
    result = cli("--config", config, "collect")
    assert result.exit_code == 3
    assert "closed: cannot connect to 127.0.0.1:1" in result.stderr
    assert "spse-app: log file /nonexistent/application.log does not exist" in result.stderr
    rows = snapshots(tmp_path)
    assert {(r["host"], r["ok"]) for r in rows} == {("spse-app", 1), ("closed", 0)}
    report = cli("--config", config, "report", "daily", "--format", "json").json()
    status = {h["name"]: h["status"] for h in report["hosts"]}
    assert status == {"spse-app": "partial", "closed": "down"}


def test_all_hosts_unreachable_is_exit_5(three_hosts, config_for, cli):
    good = three_hosts[0]
    closed = type(good)("closed", "127.0.0.1", 1, good.workdir, good.host_key_pub)
    result = cli("--config", config_for([closed]), "collect")
    assert result.exit_code == 5
    assert "no host could be reached" in result.stderr


def test_changed_host_key_is_refused(sshd_factory, three_hosts, config_for, tmp_path, cli):
    host = three_hosts[1]
    other = three_hosts[2]
    kind, key = other.host_key_pub.split()[:2]
    forged = f"[{host.address}]:{host.port} {kind} {key}\n"
    config = config_for([host], known=forged)
    result = cli("--config", config, "collect")
    assert result.exit_code == 5
    assert "spse-db: host key CHANGED" in result.stderr
    assert "refusing to connect" in result.stderr
    # never auto-accepted: known_hosts is untouched
    assert (tmp_path / "known_hosts").read_text() == forged


def test_unknown_host_key_is_refused(three_hosts, config_for, tmp_path, cli):
    config = config_for([three_hosts[0]], known="")
    result = cli("--config", config, "hosts", "check")
    assert result.exit_code == 3
    assert (
        f"host key of [{three_hosts[0].address}]" in result.stderr and "is unknown" in result.stderr
    )
    assert (tmp_path / "known_hosts").read_text() == ""


def test_wrong_key_is_an_authentication_failure(three_hosts, config_for, tmp_path, cli):
    wrong = tmp_path / "wrong_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(wrong)], check=True)
    config = config_for([three_hosts[0]])
    text = Path(config).read_text().replace('key_file = "', f'key_file = "{wrong}"\n#', 1)
    Path(config).write_text(text)
    result = cli("--config", config, "collect")
    assert result.exit_code == 5
    assert "spse-app: authentication failed for user lpsetest" in result.stderr


def test_host_without_python_falls_back_to_shell(sshd_factory, config_for, tmp_path, cli):
    bare = sshd_factory.start("no-python", path=make_path_without_python(Path(sshd_factory.root)))
    config = config_for([bare], host_extra={"no-python": {"logs": '["/etc/hostname"]'}})
    result = cli("--config", config, "collect", "--format", "json")
    assert result.exit_code == 3  # partial: some items need python
    assert (
        "no-python: system cpu.percent not collected: python3 not found on the host"
        in result.stderr
    )
    row = snapshots(tmp_path)[0]
    data = decode_json(row["data"])
    assert data["probe"] == "shell"
    assert data["memory"]["total"] > 0
    assert data["load"]["15"] >= 0
    assert any(fs["mount"] == "/" for fs in data["filesystems"])
    assert data["logs"][0]["path"] == "/etc/hostname" and data["logs"][0]["exists"] is True
    assert "cpu.percent" in decode_json(row["unavailable"])


def test_hostile_config_values_run_nothing(three_hosts, config_for, tmp_path, cli):
    marker = Path("/tmp/lpsectl-pwned")
    marker.unlink(missing_ok=True)
    hostile = {
        "spse-app": {
            "logs": '["/tmp/x; touch /tmp/lpsectl-pwned", "$(touch /tmp/lpsectl-pwned)", "a\'b\\"c d`touch /tmp/lpsectl-pwned`"]',
            "app_home": '"/srv/spse; touch /tmp/lpsectl-pwned"',
            "python": '"python3 -c \'open(\\"/tmp/lpsectl-pwned\\",\\"w\\")\'"',
        }
    }
    config = config_for([three_hosts[0]], host_extra=hostile)
    result = cli("--config", config, "collect", "--format", "json")
    assert result.exit_code == 3
    assert not marker.exists()
    data = decode_json(snapshots(tmp_path)[0]["data"])
    # the odd paths were looked at literally, as file names
    assert [lg["path"] for lg in data["logs"]][0] == "/tmp/x; touch /tmp/lpsectl-pwned"
    assert all(lg["exists"] is False for lg in data["logs"])


def test_hosts_check_table(three_hosts, config_for, cli):
    config = config_for(three_hosts[:2])
    result = cli("--config", config, "hosts", "check", "--format", "json")
    assert result.exit_code == 0, result.stderr
    checks = result.json()
    assert [c["host"] for c in checks] == ["spse-app", "spse-db"]
    assert all(c["reachable"] and c["host_key"] and c["auth"] and c["python"] for c in checks)


def test_unreadable_log_is_permission_denied_not_a_crash(three_hosts, config_for, tmp_path, cli):
    secret = Path("/tmp/lpsectl-root-only.log")
    secret.write_text("private\n")
    secret.chmod(0o600)  # root's; the ssh login user may not read it
    config = config_for([three_hosts[0]], host_extra={"spse-app": {"logs": f'["{secret}"]'}})
    result = cli("--config", config, "collect")
    assert result.exit_code == 3
    assert f"spse-app: log file {secret} is not readable" in result.stderr
    report = cli("--config", config, "report", "daily", "--format", "json").json()
    assert any(a["item"] == f"log {secret}" for a in report["alerts"])


def test_unknown_host_name_is_a_usage_error(three_hosts, config_for, cli):
    result = cli("--config", config_for(three_hosts[:1]), "collect", "--host", "nope")
    assert result.exit_code == 2
    assert "no host named 'nope'" in result.stderr and "known hosts: spse-app" in result.stderr
