"""PostgreSQL's own weekday log files, written by a real server (issue 14).

A PostgreSQL 15 server with ``log_filename = 'postgresql-%a.log'`` and
``log_truncate_on_rotation = on`` (the PGDG packages' setting on RHEL) runs under
libfaketime while its clock walks through a week: each midnight
``pg_rotate_logfile()`` wakes the logger, which rotates by time, so after seven
days the week-old weekday file is truncated and written afresh. lpsectl reads the
set ``postgresql-%a.log`` once on the first day and once at 05:50 a week later;
every day's figures, split by the entries' own times (WIB), must equal grep's
count on the very files and pgBadger's ``--begin/--end`` for that day.

libfaketime is the one fake here: a real clock cannot be moved a week on.
"""

from __future__ import annotations

import glob
import os
import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lpsectl.collect import logs as collector
from lpsectl.config import HostConfig
from lpsectl.logs import summarize_remote as engine
from tests.fixtures.pgbadger import queries_and_errors, run_pgbadger
from tests.fixtures.postgres import PgCluster

# clusters made here directly (initdb as postgres: root), not through the fixtures
pytestmark = pytest.mark.postgres

WIB = ZoneInfo("Asia/Jakarta")
PREFIX = "%m [%p] %q%u@%d "
FIRST_DAY = datetime(2026, 11, 24, 10, 0, tzinfo=WIB)  # a Tuesday


def libfaketime() -> str:
    found = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
    if not found:  # scripts/test installs it: missing is a broken setup, not a skip
        raise RuntimeError("libfaketime is not installed (apt-get install libfaketime)")
    return found[0]


class Clock:
    """The server's clock: an offset from the real one in a file libfaketime reads at every call."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def set(self, when: datetime) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(f"{round(when.timestamp() - time.time()):+d}s\n")
        tmp.chmod(0o644)
        os.replace(tmp, self.path)  # the server never reads half a line


def grep_day(files: list[bytes], day: str) -> tuple[int, int]:
    """(queries, ERROR events) of ``day``: lines that start with the date, as grep counts them."""
    query = re.compile(
        rb"^" + day.encode() + rb" .*? LOG:  duration: [\d.]+ ms  (?:statement|execute [^:]*): "
    )
    error = re.compile(rb"^" + day.encode() + rb" .*? ERROR:  ")
    lines = [line for data in files for line in data.splitlines()]
    return sum(1 for line in lines if query.match(line)), sum(
        1 for line in lines if error.match(line)
    )


def pgbadger_day(files: list[Path], day: str, workdir: Path) -> tuple[int, int]:
    return queries_and_errors(run_pgbadger(files, PREFIX, workdir, day=day, tz="Asia/Jakarta"))


@pytest.fixture
def weekday_cluster():
    lib = libfaketime()
    cluster = PgCluster(
        preload=False,
        settings={
            "log_destination": "'stderr'",
            "log_filename": "'postgresql-%a.log'",
            "log_truncate_on_rotation": "on",
            "log_rotation_age": "'1d'",
            "log_timezone": "'Asia/Jakarta'",
            "log_connections": "off",
        },
    )
    clock = Clock(cluster.root / "clock")
    clock.set(FIRST_DAY)
    cluster.env = {
        **os.environ,
        "LD_PRELOAD": lib,
        "FAKETIME_TIMESTAMP_FILE": str(clock.path),
        "FAKETIME_NO_CACHE": "1",
    }
    try:
        cluster.start()
        yield cluster, clock
    finally:
        cluster.remove()


def rotate_into(cluster: PgCluster, clock: Clock, when: datetime) -> Path:
    """Move the server's clock to ``when`` (just after a midnight) and have it rotate by time."""
    clock.set(when)
    expected = cluster.log_dir / f"postgresql-{when.strftime('%a')}.log"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        # not logged itself: with it, a statement lands in the old file at the new day's
        # time, and pgBadger once counted one query fewer than grep for that day (it
        # orders lines across files); that case is not the layout under test here
        cluster.psql("SET log_min_duration_statement = -1; SELECT pg_rotate_logfile()")
        if cluster.log_files()["stderr"] == expected:
            return expected
        time.sleep(0.3)
    raise RuntimeError(f"the server did not rotate into {expected.name}")


def workload(cluster: PgCluster, tag: int) -> None:
    """Statements (simple protocol) and errors; the counts differ per tag."""
    statements = [f"SELECT {i} + {tag} AS n;" for i in range(3 + tag % 4)]
    statements += [f"SELECT * FROM tabel_tidak_ada_{tag}_{i};" for i in range(1 + tag % 3)]
    for sql in statements:
        cluster.psql(sql, check=False)


def run(host: HostConfig, previous: dict | None) -> dict:
    request = {**collector.build_request(host, previous), "quiet_seconds": 0}
    return collector.from_answer(engine.run_request(request)).data


def test_a_real_week_of_weekday_files_gives_each_day_grep_and_pgbadger_figures(
    weekday_cluster, tmp_path
):
    cluster, clock = weekday_cluster
    host = HostConfig(
        name="db", logs=[str(cluster.log_dir / "postgresql-%a.log")], log_line_prefix=PREFIX
    )
    tuesday = cluster.log_dir / "postgresql-Tue.log"
    workload(cluster, 0)
    assert cluster.log_files()["stderr"] == tuesday

    first = run(host, None)  # the evening of the first day
    week_old_tuesday = tuesday.read_bytes()
    assert first["warnings"] == [] and list(first["files"]) == [str(tuesday)]

    for offset in range(1, 7):  # Wednesday 25th .. Monday 30th, each just after midnight
        rotate_into(
            cluster, clock, FIRST_DAY.replace(hour=0, minute=0, second=5) + timedelta(days=offset)
        )
        workload(cluster, offset)
    clock.set(datetime(2026, 11, 30, 23, 59, 40, tzinfo=WIB))  # Monday, just before midnight
    workload(cluster, 7)
    # Tuesday again: the week-old Tuesday file is truncated (same name) and written afresh
    assert rotate_into(cluster, clock, datetime(2026, 12, 1, 0, 0, 5, tzinfo=WIB)) == tuesday
    workload(cluster, 8)
    assert not tuesday.read_bytes().startswith(week_old_tuesday[:200])
    members = sorted(cluster.log_dir.glob("postgresql-*.log"))
    assert len(members) == 7

    clock.set(datetime(2026, 12, 1, 5, 50, tzinfo=WIB))  # the 05:50 collection
    second = run(host, first)

    assert second["warnings"] == []
    assert sorted(second["files"]) == [str(m) for m in members]
    # every member read whole, the rewritten Tuesday from its first byte
    for member in members:
        assert second["files"][str(member)]["summary"]["lines"] == len(
            member.read_bytes().splitlines()
        )

    def ours(day: str) -> tuple[int, int]:
        parts = [
            f["days"][day]
            for run_ in (first, second)
            for f in run_["files"].values()
            if day in f["days"]
        ]
        return (
            sum(p["query_count"] for p in parts),
            sum(p["by_severity"].get("ERROR", 0) for p in parts),
        )

    now_files = [m.read_bytes() for m in members]
    days = [(FIRST_DAY + timedelta(days=n)).strftime("%Y-%m-%d") for n in range(8)]
    for day in days:
        expected = grep_day([week_old_tuesday, *now_files], day)
        assert expected[0] > 0 and expected[1] > 0, day
        assert ours(day) == expected, day
    # the two days on both sides of midnight, as pgBadger counts them on today's files
    for day in ("2026-11-30", "2026-12-01"):
        assert ours(day) == pgbadger_day(members, day, tmp_path), day
