#!/usr/bin/env python3
"""Wall and CPU time of `lpsectl collect` for 1 vs N hosts (real local sshd instances).

Run as root from the repository root:
    python bench/collect_hosts.py [--hosts 10] [--repeat 3] [--known-hosts-lines 1000]

Prints the wall times and their ratio (N hosts / 1 host; with ssh.parallel >= N
the ratio shows how well the fan-out overlaps the per-host probe time), and
lpsectl's own CPU time (user+sys of this process, every thread: the servers'
work is not in it) per host. ``--known-hosts-lines`` pads known_hosts with that
many other hosts' lines, then hashes the file (``ssh-keygen -H``), as a long-lived
admin machine's is.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lpsectl.collect.run import run_collection  # noqa: E402
from lpsectl.config import load_config_file  # noqa: E402
from lpsectl.store import Store  # noqa: E402
from lpsectl.timeutil import now  # noqa: E402
from tests.fixtures.sshd import ssh_config_text, standalone_factory  # noqa: E402


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed_collect(config_path: Path, repeat: int) -> tuple[float, float]:
    """(median wall s, median CPU s) of one collect run."""
    config = load_config_file(config_path)
    times, cpus = [], []
    for _ in range(repeat):
        store = Store.open_sqlite(config.data_dir / "history.sqlite3")
        start, cpu = time.perf_counter(), cpu_seconds()
        run = run_collection(config, store, now(config.tz))
        times.append(time.perf_counter() - start)
        cpus.append(cpu_seconds() - cpu)
        store.close()
        assert run.status == "ok", [h.problems() for h in run.hosts]
    return statistics.median(times), statistics.median(cpus)


def pad_known_hosts(path: Path, lines: int) -> None:
    """Other hosts' keys before ours, then every name hashed."""
    ours = path.read_text()
    key = ours.split()[1:3]
    with path.open("w") as out:
        for i in range(lines):
            out.write(f"10.{i // 65536}.{i // 256 % 256}.{i % 256} {key[0]} {key[1]}\n")
        out.write(ours)
    subprocess.run(["ssh-keygen", "-H", "-f", str(path)], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--known-hosts-lines", type=int, default=0)
    args = parser.parse_args()
    factory, key = standalone_factory("lpsectl-bench-")
    root = factory.root
    try:
        hosts = [factory.start(f"h{i}") for i in range(args.hosts)]
        results = {}
        for count in (1, args.hosts):
            workdir = root / f"run{count}"
            workdir.mkdir()
            config = workdir / "lpsectl.toml"
            config.write_text(
                ssh_config_text(hosts[:count], key, workdir / "known_hosts", workdir / "data")
            )
            if args.known_hosts_lines:
                pad_known_hosts(workdir / "known_hosts", args.known_hosts_lines)
            results[count] = timed_collect(config, args.repeat)
            wall, cpu = results[count]
            print(
                f"collect {count:>3} host(s): {wall:.2f} s wall, lpsectl CPU {cpu:.3f} s = "
                f"{cpu / count * 1000:.1f} ms per host (median of {args.repeat})"
            )
        print(
            f"ratio {args.hosts} hosts / 1 host (wall): {results[args.hosts][0] / results[1][0]:.2f}x "
            f"(sequential would be ~{args.hosts}x); target: <= 15 ms CPU per host"
        )
    finally:
        factory.stop_all()


if __name__ == "__main__":
    main()
