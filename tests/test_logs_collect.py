"""Log summaries made on the server over real SSH, stored, and shown in the daily report."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest

from lpsectl.collect import logs as logs_collector
from lpsectl.config import HostConfig
from lpsectl.remote.runner import LocalRunner
from lpsectl.store import Store, decode_json
from tests.fixtures.sshd import make_path_without_python, ssh_config_text

DATA = Path(__file__).parent / "data"
PG_LINES = (DATA / "pg" / "postgresql.log").read_bytes().splitlines(keepends=True)
SPSE = DATA / "spse-application.log"


@pytest.fixture
def log_dir(sshd_factory, request):
    """A directory the sshd test user can read (pytest's tmp dirs are private)."""
    path = Path(sshd_factory.root) / f"logs-{request.node.name}"
    path.mkdir(mode=0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def write(path: Path, data: bytes, mode: str = "wb") -> None:
    with open(path, mode) as handle:
        handle.write(data)
    path.chmod(0o644)


def make_quiet(*paths: Path) -> None:
    """As if nothing was written for a while: the last entries count as complete."""
    for path in paths:
        stamp = path.stat().st_mtime - 600
        os.utime(path, (stamp, stamp))


def config_file(tmp_path, hosts, ssh_client_key, extra) -> str:
    text = ssh_config_text(hosts, ssh_client_key, tmp_path / "known_hosts", tmp_path / "data", host_extra=extra)
    path = tmp_path / "lpsectl.toml"
    path.write_text(text)
    return str(path)


def logs_rows(tmp_path: Path) -> list[dict]:
    store = Store.open_sqlite(tmp_path / "data" / "history.sqlite3")
    rows = store.query("SELECT host, ok, error, data, unavailable FROM snapshots WHERE kind = 'logs' ORDER BY id")
    store.close()
    return rows


def test_collect_over_ssh_across_rotation_then_daily_report(sshd_factory, ssh_client_key, log_dir, tmp_path, cli):
    host = sshd_factory.start("logs-both", address="127.0.0.41")  # leave .2-.4 to three_hosts
    pg, app = log_dir / "postgresql.log", log_dir / "application.log"
    half = len(PG_LINES) // 2
    write(pg, b"".join(PG_LINES[:half]))
    write(app, SPSE.read_bytes())
    extra = {"logs-both": {"role": "[]", "logs": f'["{pg}", "{app}"]', "log_line_prefix": '"%m [%p] %q%u@%d "'}}
    config = config_file(tmp_path, [host], ssh_client_key, extra)

    first = cli("--config", config, "collect", "--format", "json")
    assert first.exit_code == 0, first.stderr
    # logrotate: rename + compress, then PostgreSQL writes the rest to a new file
    rotated = log_dir / "postgresql.log.1"
    pg.rename(rotated)
    with open(rotated, "rb") as src, gzip.open(log_dir / "postgresql.log.1.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    rotated.unlink()
    (log_dir / "postgresql.log.1.gz").chmod(0o644)
    write(pg, b"".join(PG_LINES[half:]))
    make_quiet(pg, app)
    second = cli("--config", config, "collect", "--format", "json")
    assert second.exit_code == 0, second.stderr

    rows = logs_rows(tmp_path)
    assert [r["ok"] for r in rows] == [1, 1]
    cursors = decode_json(rows[-1]["data"])["cursors"]
    assert cursors[str(pg)]["offset"] == pg.stat().st_size
    assert cursors[str(app)]["offset"] == app.stat().st_size

    report = cli("--config", config, "--lang", "en", "report", "daily", "--format", "json")
    assert report.exit_code == 0, report.stderr
    section = report.json()["sections"]["logs"]
    (entry,) = section["hosts"]
    assert entry["host"] == "logs-both" and entry["runs"] == 2 and entry["warnings"] == []
    db, application = entry["database"], entry["application"]
    # both halves and the rotation in between: every line of the real log once
    assert db["query_count"] == 387 and db["lines"] == len(PG_LINES)
    assert db["deadlocks"] == 1 and db["by_severity"] == {"ERROR": 4}
    assert (db["queries"][0]["fingerprint"], db["queries"][0]["count"]) == ("begin;", 51)
    assert application["error_count"] == 705
    assert application["errors"][0]["signature"] == "java.lang.NullPointerException: null"
    assert application["exceptions"][0] == {"class": "java.lang.NullPointerException", "count": 133}
    assert any(a["item"] == "database log" and "1 deadlocks" in a["message"] for a in report.json()["alerts"])

    text = cli("--config", config, "report", "daily").stdout
    assert "Log basis data (PostgreSQL)" in text and "Log aplikasi SPSE" in text
    assert "java.lang.NullPointerException: null" in text
    assert "deadlock detected" in text
    html = cli("--config", config, "report", "daily", "--format", "html").stdout
    assert '<section class="daily-logs">' in html
    assert "relation &#34;...&#34; does not exist" in html  # autoescaped
    assert "Kode Error terakhir" in html


def test_host_without_python_is_reported_not_crashed(sshd_factory, ssh_client_key, log_dir, tmp_path, cli):
    bare = sshd_factory.start("logs-nopy", address="127.0.0.42",
                            path=make_path_without_python(Path(sshd_factory.root)))
    write(log_dir / "application.log", SPSE.read_bytes())
    extra = {"logs-nopy": {"role": "[]", "logs": f'["{log_dir / "application.log"}"]'}}
    config = config_file(tmp_path, [bare], ssh_client_key, extra)
    result = cli("--config", config, "collect", "--format", "json")
    assert result.exit_code == 3, result.stderr
    (row,) = logs_rows(tmp_path)
    assert row["ok"] == 0
    assert "python3 is not installed on logs-nopy" in row["error"]
    report = cli("--config", config, "report", "daily", "--format", "json").json()
    assert report["sections"]["logs"]["hosts"][0]["error"] == row["error"]


def test_local_collector_carries_cursors_and_reports_unreadable_files(tmp_path):
    log = tmp_path / "application.log"
    write(log, SPSE.read_bytes())
    make_quiet(log)
    host = HostConfig(name="here", logs=[str(log), str(tmp_path / "missing.log")])
    runner = LocalRunner(host)
    first = logs_collector.collect(runner, host, None)
    assert first.ok
    assert first.data["files"][str(log)]["summary"]["error_count"] == 705
    assert "missing.log: No such file or directory" in first.unavailable[str(tmp_path / "missing.log")]
    again = logs_collector.collect(runner, host, first.data)
    assert again.data["files"][str(log)]["summary"]["lines"] == 0  # nothing new, nothing twice
    assert again.data["cursors"][str(log)] == first.data["cursors"][str(log)]
    # the summariser cannot run at all: that is an error of the whole kind
    nothing = HostConfig(name="none", logs=[str(log)], python=str(tmp_path / "no-such-python"))
    failed = logs_collector.collect(LocalRunner(nothing), nothing, None)
    assert not failed.ok and "no-such-python is not installed on none" in failed.error
    assert logs_collector.applies(host) and not logs_collector.applies(HostConfig(name="x"))
