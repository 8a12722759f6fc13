"""A read budget per run (issue 20): a log bigger than one run may read is read over
several runs, from cursors at entry boundaries, with nothing lost or counted twice —
on the engine (any split points), and through `collect` over real SSH."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lpsectl.collect import logs as collector
from lpsectl.config import HostConfig
from lpsectl.logs import summarize_remote as engine
from tests.test_logs_collect import config_file, log_dir, logs_rows, make_quiet, write  # noqa: F401 (log_dir: a fixture)

DATA = Path(__file__).parent / "data"
PREFIX = "%m [%p] %q%u@%d "
#: the sample log (multi-line statements, errors with DETAIL/STATEMENT) on three days
BIG = b"".join(
    (DATA / "pg" / "postgresql.log").read_bytes().replace(b"2026-11-21", day)
    for day in (b"2026-11-29", b"2026-11-30", b"2026-12-01")
)


def per_day(runs: list[dict]) -> dict[str, tuple[int, int, dict[str, int]]]:
    """Each day's (queries, ERROR events, {fingerprint: count}) summed over the runs."""
    out: dict[str, tuple[int, int, dict[str, int]]] = {}
    for data in runs:
        for item in data["files"].values():
            for day, part in item["days"].items():
                queries, errors, prints = out.get(day, (0, 0, {}))
                prints = dict(prints)
                for q in part["queries"]:
                    prints[q["fingerprint"]] = prints.get(q["fingerprint"], 0) + q["count"]
                out[day] = (
                    queries + part["query_count"],
                    errors + part["by_severity"].get("ERROR", 0),
                    prints,
                )
    return out


def run(host: HostConfig, previous: dict | None, **budget) -> dict:
    request = {**collector.build_request(host, previous), "quiet_seconds": 0, **budget}
    return collector.from_answer(engine.run_request(request)).data


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(budgets=st.lists(st.integers(min_value=1, max_value=len(BIG) // 2), min_size=2, max_size=6))
def test_any_split_into_budgeted_runs_counts_what_one_read_counts(tmp_path_factory, budgets):
    folder = tmp_path_factory.mktemp("budget")
    log = folder / "postgresql.log"
    log.write_bytes(BIG)
    host = HostConfig(name="db", logs=[str(log)], log_line_prefix=PREFIX)
    whole = run(host, None)

    runs, previous = [], None
    for budget in budgets:
        previous = run(host, previous, read_bytes=budget)
        runs.append(previous)
    while not runs or runs[-1]["cursors"][str(log)]["offset"] < len(BIG):  # the rest, unbudgeted
        previous = run(host, previous)
        runs.append(previous)

    assert per_day(runs) == per_day([whole])
    assert sum(f["summary"]["lines"] for r in runs for f in r["files"].values()) == BIG.count(b"\n")
    # every budgeted run that stopped early said so, with what is left
    for data in runs[: len(budgets)]:
        if data["cursors"][str(log)]["offset"] < len(BIG):
            assert any("up to the read budget" in w and "MiB left" in w for w in data["warnings"])


def test_a_time_budget_stops_between_blocks_and_the_next_runs_go_on(tmp_path):
    from freezegun import freeze_time

    log = tmp_path / "postgresql.log"
    copies = 8 * engine.BLOCK // len(BIG) + 1
    log.write_bytes(BIG * copies)  # over eight 4 MiB blocks
    host = HostConfig(name="db", logs=[str(log)], log_line_prefix=PREFIX)

    # every clock reading moves time on by 1 s: a budget of 4.5 s is spent after a few
    # blocks (how many depends on how often the clock is read on the way), not all eight
    with freeze_time("2026-12-01 05:50:00", auto_tick_seconds=1):
        first = run(host, None, read_seconds=4.5)

    offset = first["cursors"][str(log)]["offset"]
    assert 0 < offset < log.stat().st_size - engine.BLOCK  # stopped mid-file
    (warning,) = [w for w in first["warnings"] if "up to the read budget" in w]
    assert f"({(log.stat().st_size - offset) / 1048576:.1f} MiB left)" in warning
    runs, previous = [first], first
    for _ in range(10):
        previous = run(host, previous)
        runs.append(previous)
        if previous["cursors"][str(log)]["offset"] == log.stat().st_size:
            break
    assert per_day(runs) == per_day(
        [run(HostConfig(name="db", logs=[str(log)], log_line_prefix=PREFIX), None)]
    )
    expected = sum(1 for line in log.read_bytes().splitlines() if re.search(rb" ERROR:  ", line))
    assert sum(e for _q, e, _p in per_day(runs).values()) == expected


def test_an_entry_longer_than_the_budget_is_read_whole_not_for_ever(tmp_path):
    log = tmp_path / "postgresql.log"
    giant = (
        b"2026-12-01 05:00:00.000 UTC [7] u@d LOG:  duration: 2.000 ms  statement: SELECT\n"
        + b"".join(b"\t, kolom_%d\n" % i for i in range(200_000))  # 2.5 MiB of continuation lines
        + b"\tFROM paket\n"
    )
    after = b'2026-12-01 05:00:01.000 UTC [7] u@d ERROR:  relation "x" does not exist\n'
    log.write_bytes(BIG + giant + after)
    host = HostConfig(name="db", logs=[str(log)], log_line_prefix=PREFIX)
    whole = run(host, None)

    runs, previous = [], None
    for _ in range(8):
        previous = run(host, previous, read_bytes=1024 * 1024)
        runs.append(previous)
        if previous["cursors"][str(log)]["offset"] == log.stat().st_size:
            break
    assert previous["cursors"][str(log)]["offset"] == log.stat().st_size
    assert per_day(runs) == per_day([whole])


def test_a_compressed_member_of_a_set_is_read_once(tmp_path):
    """A rotated .gz in a log set: its cursor offset is in decompressed bytes, its size is
    compressed; it is read once, never again from its first byte."""
    import gzip

    (tmp_path / "postgresql.log.1.gz").write_bytes(gzip.compress(BIG * 30))
    (tmp_path / "postgresql.log").write_bytes(BIG)
    host = HostConfig(name="db", logs=[str(tmp_path / "postgresql.log*")], log_line_prefix=PREFIX)
    runs, previous = [], None
    for budget in (1024 * 1024, None, None, None, None):
        previous = run(host, previous, **({"read_bytes": budget} if budget else {}))
        runs.append(previous)
    expected = sum(1 for line in (BIG * 31).splitlines() if b" ERROR:  " in line)
    assert sum(e for _q, e, _p in per_day(runs).values()) == expected
    assert (
        sum(f["summary"]["lines"] for f in runs[-1]["files"].values()) == 0
    )  # nothing new, nothing read


def test_collect_over_ssh_reads_a_backlog_over_runs_without_loss(
    sshd_factory,
    ssh_client_key,
    log_dir,  # noqa: F811
    tmp_path,
    cli,
):
    host = sshd_factory.start("logs-budget", address="127.0.0.46")
    log = log_dir / "postgresql.log"
    data = BIG * 20  # 4 MiB: four runs at 1 MiB each
    write(log, data)
    make_quiet(log)
    extra = {
        "logs-budget": {
            "role": "[]",
            "logs": f'["{log}"]',
            "log_line_prefix": f'"{PREFIX}"',
            "log_read_mib": "1",
        }
    }
    config = config_file(tmp_path, [host], ssh_client_key, extra)

    exits = []
    for _ in range(6):
        result = cli("--config", config, "collect", "--format", "json")
        exits.append(result.exit_code)
    rows = logs_rows(tmp_path)
    runs = [json.loads(row["data"]) for row in rows]
    assert all(row["ok"] for row in rows) and set(exits) == {0}
    offsets = [r["cursors"][str(log)]["offset"] for r in runs]
    # a run stops at the first line end after its budget (reads of 8 KiB at least)
    assert 1024 * 1024 - 20_000 < offsets[0] <= 1024 * 1024 + 8192 + 20_000 < offsets[1]
    assert offsets[-1] == len(data)
    assert offsets == sorted(offsets)
    assert any("MiB left" in w for w in runs[0]["warnings"])
    errors_by_grep = sum(1 for line in data.splitlines() if b" ERROR:  " in line)
    queries_by_grep = sum(1 for line in data.splitlines() if b"LOG:  duration: " in line)
    totals = per_day(runs)
    assert sum(e for _q, e, _p in totals.values()) == errors_by_grep
    assert sum(q for q, _e, _p in totals.values()) == queries_by_grep


def test_the_rest_of_a_rotated_file_is_read_within_the_budget_too(tmp_path):
    log = tmp_path / "postgresql.log"
    log.write_bytes(BIG * 20)  # 4 MiB
    host = HostConfig(name="db", logs=[str(log)], log_line_prefix=PREFIX)
    budget = {"read_bytes": 1024 * 1024}
    runs = [run(host, None, **budget)]
    log.rename(tmp_path / "postgresql.log.1")  # logrotate, with most of the file unread
    log.write_bytes(BIG)
    reads = []
    for _ in range(10):
        runs.append(run(host, runs[-1], **budget))
        reads.append(sum(f["summary"]["bytes"] for f in runs[-1]["files"].values()))
        if runs[-1]["cursors"][str(log)].get("ino") == log.stat().st_ino and runs[-1]["cursors"][
            str(log)
        ]["offset"] == len(BIG):
            break
    # never the whole rest at once: a budget's worth of the rotated file per run (the last
    # run also reads the new file, whose budget is its own)
    assert max(reads[:-1]) <= 1024 * 1024 + 8192 + 20_000 and len(reads) >= 3
    assert any("of the rotated" in w for r in runs for w in r["warnings"])
    expected = sum(1 for line in (BIG * 21).splitlines() if b" ERROR:  " in line)
    assert sum(e for _q, e, _p in per_day(runs).values()) == expected
    together = tmp_path / "together.log"  # the same lines in one file, read at once
    together.write_bytes(BIG * 21)
    whole = run(HostConfig(name="x", logs=[str(together)], log_line_prefix=PREFIX), None)
    assert per_day(runs) == per_day([whole])


def test_a_file_that_ends_where_the_budget_does_is_complete(tmp_path):
    log = tmp_path / "postgresql.log"
    log.write_bytes(BIG)
    host = HostConfig(name="db", logs=[str(log)], log_line_prefix=PREFIX)
    exact = run(host, None, read_bytes=len(BIG))
    assert exact["warnings"] == [] and exact["cursors"][str(log)]["offset"] == len(BIG)
    assert per_day([exact]) == per_day([run(host, None)])


def test_a_weekday_member_rewritten_before_its_backlog_was_read_says_what_is_missing(tmp_path):
    member = tmp_path / "postgresql-Mon.log"
    member.write_bytes(BIG * 10)
    host = HostConfig(name="db", logs=[str(tmp_path / "postgresql-%a.log")], log_line_prefix=PREFIX)
    first = run(host, None, read_bytes=512 * 1024)
    left = len(BIG * 10) - first["cursors"][str(member)]["offset"]
    assert left > 0
    with member.open("r+b") as handle:  # a week later: log_truncate_on_rotation, same inode
        handle.truncate(0)
        handle.write(BIG)
    second = run(host, first)
    (warning,) = [w for w in second["warnings"] if "written afresh" in w]
    assert f"the last {left / 1048576:.1f} MiB of its old content" in warning
    assert second["files"][str(member)]["summary"]["lines"] == BIG.count(
        b"\n"
    )  # the new content, whole


def test_an_entry_longer_than_the_budget_does_not_open_the_rest_of_the_file(tmp_path):
    """The fallback for a giant entry reads that entry, not the backlog behind it."""
    log = tmp_path / "postgresql.log"
    giant = (
        b"2026-12-01 05:00:00.000 UTC [7] u@d LOG:  duration: 2.000 ms  statement: SELECT\n"
        + b"".join(b"\t, kolom_%d\n" % i for i in range(200_000))  # 2.5 MiB
        + b"\tFROM paket\n"
    )
    log.write_bytes(giant + BIG * 60)  # and 12 MiB behind it
    host = HostConfig(name="db", logs=[str(log)], log_line_prefix=PREFIX)
    first = run(host, None, read_bytes=1024 * 1024)
    offset = first["cursors"][str(log)]["offset"]
    assert len(giant) <= offset <= 2 * len(giant) + 8 * 1024 * 1024 < log.stat().st_size
    assert any("MiB left" in w for w in first["warnings"])
