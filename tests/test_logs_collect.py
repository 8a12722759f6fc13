"""Log summaries made on the server over real SSH, stored, and shown in the daily report."""

from __future__ import annotations

import gzip
import os
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lpsectl.collect import logs as logs_collector
from lpsectl.config import HostConfig
from lpsectl.remote.runner import LocalRunner
from lpsectl.store import Store, decode_json
from tests.fixtures.sshd import make_path_without_python, ssh_config_text

DATA = Path(__file__).parent / "data"
#: the report of a day shows the entries logged that day (by their own time): the sample
#: logs are moved to today (LPSE time), the day the report below is made for
TODAY = datetime.now(ZoneInfo("Asia/Jakarta")).date()
PG_LINES = (
    (DATA / "pg" / "postgresql.log")
    .read_bytes()
    .replace(b"2026-11-21", TODAY.isoformat().encode())
    .splitlines(keepends=True)
)
SPSE_BYTES = (
    (DATA / "spse-application.log")
    .read_bytes()
    .replace(b"\n011026 ", b"\n" + TODAY.strftime("%d%m%y ").encode())
)
if SPSE_BYTES.startswith(b"011026 "):
    SPSE_BYTES = TODAY.strftime("%d%m%y").encode() + SPSE_BYTES[6:]


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
    text = ssh_config_text(
        hosts, ssh_client_key, tmp_path / "known_hosts", tmp_path / "data", host_extra=extra
    )
    path = tmp_path / "lpsectl.toml"
    path.write_text(text)
    return str(path)


def logs_rows(tmp_path: Path) -> list[dict]:
    store = Store.open_sqlite(tmp_path / "data" / "history.sqlite3")
    rows = store.query(
        "SELECT host, ok, error, data, unavailable FROM snapshots WHERE kind = 'logs' ORDER BY id"
    )
    store.close()
    return rows


def test_collect_over_ssh_across_rotation_then_daily_report(
    sshd_factory, ssh_client_key, log_dir, tmp_path, cli
):
    host = sshd_factory.start("logs-both", address="127.0.0.41")  # leave .2-.4 to three_hosts
    pg, app = log_dir / "postgresql.log", log_dir / "application.log"
    half = len(PG_LINES) // 2
    write(pg, b"".join(PG_LINES[:half]))
    write(app, SPSE_BYTES)
    extra = {
        "logs-both": {
            "role": "[]",
            "logs": f'["{pg}", "{app}"]',
            "log_line_prefix": '"%m [%p] %q%u@%d "',
        }
    }
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

    report = cli(
        "--config",
        config,
        "--lang",
        "en",
        "report",
        "daily",
        "--date",
        TODAY.isoformat(),
        "--format",
        "json",
    )
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
    assert any(
        a["item"] == "database log" and "1 deadlocks" in a["message"]
        for a in report.json()["alerts"]
    )

    text = cli("--config", config, "report", "daily").stdout
    assert "Log basis data (PostgreSQL)" in text and "Log aplikasi SPSE" in text
    assert "java.lang.NullPointerException: null" in text
    assert "deadlock detected" in text
    html = cli("--config", config, "report", "daily", "--format", "html").stdout
    assert '<section class="daily-logs">' in html
    assert "relation &#34;...&#34; does not exist" in html  # autoescaped
    assert "«Kode Error» SPSE terakhir" in html


def test_host_without_python_is_reported_not_crashed(
    sshd_factory, ssh_client_key, log_dir, tmp_path, cli
):
    bare = sshd_factory.start(
        "logs-nopy", address="127.0.0.42", path=make_path_without_python(Path(sshd_factory.root))
    )
    write(log_dir / "application.log", SPSE_BYTES)
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
    write(log, SPSE_BYTES)
    make_quiet(log)
    host = HostConfig(name="here", logs=[str(log), str(tmp_path / "missing.log")])
    runner = LocalRunner(host)
    first = logs_collector.collect(runner, host, None)
    assert first.ok
    assert first.data["files"][str(log)]["summary"]["error_count"] == 705
    assert (
        "missing.log: No such file or directory" in first.unavailable[str(tmp_path / "missing.log")]
    )
    again = logs_collector.collect(runner, host, first.data)
    assert again.data["files"][str(log)]["summary"]["lines"] == 0  # nothing new, nothing twice
    assert again.data["cursors"][str(log)] == first.data["cursors"][str(log)]
    # the summariser cannot run at all: that is an error of the whole kind
    nothing = HostConfig(name="none", logs=[str(log)], python=str(tmp_path / "no-such-python"))
    failed = logs_collector.collect(LocalRunner(nothing), nothing, None)
    assert not failed.ok and "no-such-python is not installed on none" in failed.error
    assert logs_collector.applies(host) and not logs_collector.applies(HostConfig(name="x"))


def test_a_days_entries_are_in_its_report_whenever_they_were_collected(tmp_path):
    """Entries on both sides of midnight, collected at 17:50 and at 05:50 the next morning:
    each day's report holds exactly the entries logged that day (grep by date)."""
    from lpsectl.config import parse_config
    from lpsectl.reports import daily_logs

    log = tmp_path / "postgresql.log"
    line = '{} UTC [{}] u@d ERROR:  relation "t{}" does not exist\n'
    evening = ["2026-11-30 10:00:00.000"]
    night = [
        "2026-11-30 20:15:00.000",
        "2026-11-30 23:59:59.900",
        "2026-12-01 00:00:00.100",
        "2026-12-01 03:00:00.000",
        "2026-12-01 05:49:00.000",
    ]
    write(log, "".join(line.format(t, i, i) for i, t in enumerate(evening)).encode())
    make_quiet(log)
    host = HostConfig(name="db", logs=[str(log)], log_line_prefix="%m [%p] %q%u@%d ")
    store = Store.open_sqlite(tmp_path / "history.sqlite3")
    previous = None
    for collected_on, times in (("2026-11-30", evening), ("2026-12-01", night)):
        if times is night:
            write(
                log,
                "".join(line.format(t, i + 10, i) for i, t in enumerate(night)).encode(),
                mode="ab",
            )
            make_quiet(log)
        item = logs_collector.collect(LocalRunner(host), host, previous)
        assert item.ok, item.error
        run = store.insert(
            "runs", {"job": "collect", "started_at": f"{collected_on}T05:50:00+07:00"}
        )
        store.insert(
            "snapshots",
            {
                "run_id": run,
                "host": "db",
                "kind": "logs",
                "day": collected_on,
                "taken_at": f"{collected_on}T17:50:00+07:00",
                "ok": 1,
                "error": None,
                "data": item.data,
                "unavailable": item.unavailable,
            },
        )
        previous = item.data
    text = log.read_text()
    for day in ("2026-11-30", "2026-12-01"):
        by_grep = sum(1 for row in text.splitlines() if row.startswith(day) and " ERROR:  " in row)
        section = daily_logs.build(store, parse_config({}), day, "en")
        (entry,) = section["hosts"]
        assert entry["database"]["by_severity"] == {"ERROR": by_grep}
        # the runs that read this day's entries: the 30th's two (its own and the night's), the 1st's one
        assert entry["runs"] == {"2026-11-30": 2, "2026-12-01": 1}[day]
    assert by_grep == 3  # 00:00:00.100, 03:00 and 05:49 belong to the 1st, whenever collected


def test_a_days_long_statements_are_listed_within_what_the_runner_reads_back(tmp_path):
    """Two days of 600 distinct 9 KB statements each would answer ~10 MB; with a
    1 MiB cap on what the runner reads, the lists are cut to fit and every query is
    still counted (grep), the rest in each day's `other`."""
    columns = ", ".join(f"kolom_{k} = ${k}" for k in range(2, 700))
    log = tmp_path / "postgresql.log"
    with log.open("w") as handle:
        for i in range(1200):
            day = "2026-11-29" if i < 600 else "2026-11-30"
            statement = f"UPDATE paket_{i} SET {columns} WHERE id = $1"[:9000]
            handle.write(
                f"{day} 08:{i // 60 % 60:02d}:{i % 60:02d}.000 UTC [4] spse@epns LOG:  "
                f"duration: 1.000 ms  execute <unnamed>: {statement}\n"
            )
    make_quiet(log)
    host = HostConfig(
        name="here", logs=[str(log)], log_format="stderr", log_line_prefix="%m [%p] %q%u@%d "
    )
    runner = LocalRunner(host, max_output_bytes=1024 * 1024)
    collected = logs_collector.collect(runner, host, None)
    assert collected.ok, collected.error
    days = collected.data["files"][str(log)]["days"]
    for day in ("2026-11-29", "2026-11-30"):
        expected = sum(1 for line in log.read_text().splitlines() if line.startswith(day))
        assert days[day]["query_count"] == expected == 600
        assert 0 < len(days[day]["queries"]) < 600
        assert len(days[day]["queries"]) + days[day]["other"]["queries"] == 600
