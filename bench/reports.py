#!/usr/bin/env python3
"""The reports and the store after a year of history: CPU, peak RSS, size.

Run as root from the repository root:

    python bench/reports.py [--hosts 20] [--days 365] [--runs-per-day 3]

One real `collect` of this machine against a real PostgreSQL 15 (initdb, with
pgbench traffic and its log) gives one snapshot of each kind as PostgreSQL and
the probe really write them; the year is those snapshots repeated for every host,
run and day (counters growing, the logs' days moved to the run's day), inserted
straight into a fresh SQLite history. Then, each as its own process: `report
monthly --format html` and `report daily`, with CPU time (user+sys) and peak RSS
(wait4); in this process: the store work one `collect` run does (the previous
snapshots of every host, then one run's rows). Prints figures and the targets of
issue 20; never pass/fail.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lpsectl.collect.run import previous_data, run_collection  # noqa: E402
from lpsectl.collect.schemas import shape_mark  # noqa: E402
from lpsectl.config import load_config_file  # noqa: E402
from lpsectl.retention import rollup_at_collect  # noqa: E402
from lpsectl.store import Store, encode  # noqa: E402
from tests.fixtures.postgres import PgCluster  # noqa: E402

WIB = ZoneInfo("Asia/Jakarta")
COUNTERS = ("xact_commit", "xact_rollback", "blks_hit", "blks_read", "temp_files", "temp_bytes")


def config_text(data_dir: Path, cluster: PgCluster | None, hosts: int) -> str:
    lines = [f'[lpse]\nname = "LPSE Bench"\ndata_dir = "{data_dir}"\n']
    for i in range(hosts):
        db = i % 2 == 1
        lines.append(
            f'[[hosts]]\nname = "h{i:02d}"\nrole = "{"db" if db else "app"}"\naddress = "local"\n'
        )
        if cluster is not None and db:
            log = cluster.log_files()["stderr"]
            lines.append(f'logs = ["{log}"]\nlog_line_prefix = "%m [%p] %q%u@%d "\n')
            lines.append(
                f'[hosts.postgres]\ndatabase = "{cluster.dbname}"\npsql = {json.dumps(cluster.psql_argv())}\n'
            )
    return "\n".join(lines)


def real_snapshots(workdir: Path) -> dict[str, dict]:
    """One snapshot of each kind from a real collect (this machine, a real PostgreSQL)."""
    cluster = PgCluster()
    try:
        cluster.start()
        cluster.run_workload()
        config_path = workdir / "one.toml"
        config_path.write_text(config_text(workdir / "one", cluster, 2))
        config = load_config_file(config_path)
        store = Store.open_sqlite(workdir / "one" / "history.sqlite3")
        run_collection(config, store, datetime.now(WIB))
        rows = store.query("SELECT kind, data FROM snapshots WHERE host = 'h01' AND ok = 1")
        store.close()
    finally:
        cluster.remove()
    found = {row["kind"]: json.loads(row["data"]) for row in rows}
    assert set(found) == {"system", "postgres", "logs"}, found.keys()
    return found


def grown(template: dict, kind: str, step: int, day: str) -> dict:
    data = copy.deepcopy(template)
    if kind == "postgres":
        stats = data.get("database_stats") or {}
        for name in COUNTERS:
            if isinstance(stats.get(name), int):
                stats[name] = stats[name] * (step + 1)
    elif kind == "logs":
        for item in data.get("files", {}).values():
            days = item.get("days") or {}
            if days:
                item["days"] = {day: next(iter(days.values()))}
    return data


def seed(
    store: Store,
    templates: dict[str, dict],
    hosts: int,
    days: int,
    runs_per_day: int,
    last_day: datetime,
) -> None:
    first = last_day - timedelta(days=days - 1)
    db = store._conn  # noqa: SLF001 - a bulk load: executemany on the one connection
    step = 0
    for d in range(days):
        day = first + timedelta(days=d)
        rows = []
        for r in range(runs_per_day):
            at = day.replace(hour=5 + 6 * r, minute=50)
            cur = db.execute(
                "INSERT INTO runs (job, started_at, finished_at, status) VALUES (?, ?, ?, 'ok')",
                ("collect", at.isoformat(), at.isoformat()),
            )
            run_id = cur.lastrowid
            step += 1
            for h in range(hosts):
                kinds = ("system", "postgres", "logs") if h % 2 else ("system",)
                for kind in kinds:
                    data = grown(templates[kind], kind, step, day.date().isoformat())
                    text = encode(data)  # as collect stores it, with the mark of its check
                    rows.append(
                        (
                            run_id,
                            f"h{h:02d}",
                            kind,
                            at.isoformat(),
                            day.date().isoformat(),
                            1,
                            None,
                            text,
                            "{}",
                            shape_mark(text),
                            rollup_at_collect(kind, data),
                        )
                    )
        db.executemany(
            "INSERT INTO snapshots (run_id, host, kind, taken_at, day, ok, error, data, unavailable, "
            "shape_checked, rollup) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        db.commit()


@contextlib.contextmanager
def freeze(day: datetime) -> Iterator[None]:
    """The child's clock at ``day`` (libfaketime, as the tests use it): prune as on that day."""
    lib = next(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"), None)
    if lib is None:
        raise SystemExit("libfaketime is needed: apt-get install libfaketime")
    saved = dict(os.environ)
    os.environ.update(LD_PRELOAD=str(lib), FAKETIME="@" + day.strftime("%Y-%m-%d 03:20:00"))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def measure(argv: list[str]) -> dict:
    start = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        # stderr to a file: a pipe read after stdout could fill and stall the child
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors)
        out = proc.stdout.read() if proc.stdout else b""
        _pid, status, usage = os.wait4(proc.pid, 0)
        errors.seek(0)
        err = errors.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(argv[3:6])} failed: {err.strip()}")
    return {
        "wall": time.perf_counter() - start,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mib": usage.ru_maxrss / 1024,
        "stdout": out.decode(errors="replace"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs-per-day", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="lpsectl-bench-reports-"))
    workdir.chmod(0o755)
    templates = real_snapshots(workdir)
    sizes = {kind: len(json.dumps(data)) for kind, data in templates.items()}
    print("one snapshot (JSON bytes): " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
    data_dir = workdir / "year"
    config_path = workdir / "year.toml"
    config_path.write_text(config_text(data_dir, None, args.hosts))
    config = load_config_file(config_path)
    store = Store.open_sqlite(data_dir / "history.sqlite3")
    last_day = datetime(2026, 11, 30, tzinfo=WIB)
    began = time.perf_counter()
    seed(store, templates, args.hosts, args.days, args.runs_per_day, last_day)
    count = store.query_one("SELECT count(*) AS n FROM snapshots")["n"]
    print(
        f"seeded {count:,} snapshots ({args.hosts} hosts x {args.days} days x {args.runs_per_day} runs) "
        f"in {time.perf_counter() - began:.0f} s"
    )

    cpu = resource.getrusage(resource.RUSAGE_SELF)
    t0 = cpu.ru_utime + cpu.ru_stime
    previous_data(store, config.hosts)
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    store_work = cpu.ru_utime + cpu.ru_stime - t0
    store.close()
    size = (data_dir / "history.sqlite3").stat().st_size
    lpsectl = [sys.executable, "-m", "lpsectl", "--config", str(config_path)]
    monthly = measure(
        [
            *lpsectl,
            "report",
            "monthly",
            "--month",
            "2026-11",
            "--format",
            "html",
            "-o",
            str(workdir / "monthly.html"),
        ]
    )
    daily = measure(
        [*lpsectl, "report", "daily", "--date", "2026-11-30", "-o", str(workdir / "daily.txt")]
    )
    print(f"{'':28} {'cpu s':>7} {'peak RSS MiB':>13}")
    print(
        f"{'report monthly --format html':28} {monthly['cpu']:7.2f} {monthly['rss_mib']:13.1f}   target <= 3 s, <= 150 MiB"
    )
    print(f"{'report daily':28} {daily['cpu']:7.2f} {daily['rss_mib']:13.1f}   target <= 0.5 s")
    print(
        f"collect's store look-up (previous snapshots of {args.hosts} hosts): {store_work:.3f} s CPU   target <= 0.1 s"
    )
    print(
        f"history: {size / 1048576:.0f} MiB = {size / 1048576 / args.hosts * 365 / args.days:.1f} MiB per host-year "
        "kept whole"
    )
    with freeze(last_day + timedelta(days=1)):
        prune = measure([*lpsectl, "store", "prune", "--format", "json"])
    pruned = json.loads(prune["stdout"])
    size = (data_dir / "history.sqlite3").stat().st_size
    print(
        f"{'store prune (first, a year)':28} {prune['cpu']:7.2f} {prune['rss_mib']:13.1f}   "
        f"{pruned['pruned']:,} snapshots cut to their roll-up, vacuumed: {pruned['vacuumed']}"
    )
    print(
        f"history after prune: {size / 1048576:.0f} MiB = "
        f"{size / 1048576 / args.hosts * 365 / args.days:.1f} MiB per host-year "
        f"(retention {pruned['retention_days']} days; target <= 10 MiB)"
    )
    old_month = (last_day - timedelta(days=150)).strftime("%Y-%m")
    pruned_monthly = measure(
        [
            *lpsectl,
            "report",
            "monthly",
            "--month",
            old_month,
            "--format",
            "html",
            "-o",
            str(workdir / "monthly-old.html"),
        ]
    )
    print(
        f"{'report monthly ' + old_month + ' (pruned)':28} {pruned_monthly['cpu']:7.2f} "
        f"{pruned_monthly['rss_mib']:13.1f}   read from the roll-ups"
    )
    print(f"kept {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
