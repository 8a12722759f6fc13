#!/usr/bin/env python3
"""Wall time of `lpsectl collect` for 1 vs 10 hosts (real local sshd instances).

Run as root from the repository root:  python bench/collect_hosts.py [--hosts 10] [--repeat 3]
Prints the times and the ratio (10 hosts / 1 host); with ssh.parallel >= 10
the ratio shows how well the fan-out overlaps the per-host probe time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lpsectl.collect.run import run_collection  # noqa: E402
from lpsectl.config import load_config_file  # noqa: E402
from lpsectl.store import Store  # noqa: E402
from lpsectl.timeutil import now  # noqa: E402
from tests.fixtures.sshd import ssh_config_text, standalone_factory  # noqa: E402


def timed_collect(config_path: Path, repeat: int) -> float:
    config = load_config_file(config_path)
    times = []
    for _ in range(repeat):
        store = Store.open_sqlite(config.data_dir / "history.sqlite3")
        start = time.perf_counter()
        run = run_collection(config, store, now(config.tz))
        times.append(time.perf_counter() - start)
        store.close()
        assert run.status == "ok", [h.problems() for h in run.hosts]
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
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
            config.write_text(ssh_config_text(hosts[:count], key, workdir / "known_hosts", workdir / "data"))
            results[count] = timed_collect(config, args.repeat)
            print(f"collect {count:>2} host(s): {results[count]:.2f} s (median of {args.repeat})")
        print(f"ratio {args.hosts} hosts / 1 host: {results[args.hosts] / results[1]:.2f}x "
              f"(sequential would be ~{args.hosts}x)")
    finally:
        factory.stop_all()


if __name__ == "__main__":
    main()
