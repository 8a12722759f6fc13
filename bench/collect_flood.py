#!/usr/bin/env python3
"""Peak RSS and CPU time of `lpsectl collect` against a host that floods its output.

Run as root from the repository root:  python bench/collect_flood.py [--cap-mib 32]

Two real sshd hosts on 127.0.0.x: `good` (a normal host) and `flood`
(`ForceCommand exec cat /dev/zero`). `lpsectl collect` runs in a child
process for each, and the child's peak RSS (ru_maxrss) and CPU time
(user+sys, which does not depend on machine load) are read from the kernel
by wait4(). The reference is the same collect against the good host alone,
in the same run. Issue 13's target: peak RSS under 150 MB against the
flooding host (the cap, ssh.max_output_bytes, bounds it: about twice the cap
plus the interpreter).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures.sshd import ssh_config_text, standalone_factory  # noqa: E402


def measure(config: Path) -> tuple[float, float, float, int]:
    """(peak RSS MiB, CPU s, wall s, exit code) of one `lpsectl collect` child."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lpsectl", "--config", str(config), "collect"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    return (
        usage.ru_maxrss / 1024,
        usage.ru_utime + usage.ru_stime,
        wall,
        os.waitstatus_to_exitcode(status),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cap-mib",
        type=int,
        default=16,
        help="ssh.max_output_bytes in MiB (default 16, as lpsectl)",
    )
    args = parser.parse_args()
    factory, key = standalone_factory("lpsectl-bench-flood-")
    root = factory.root
    factory._next_octet = 60  # clear of the test suite's hosts  # noqa: SLF001
    try:
        good = factory.start("good")
        flood = factory.start("flood", force_command="exec cat /dev/zero")
        rows = []
        for label, hosts in (("good host (reference)", [good]), ("flooding host", [flood])):
            workdir = root / f"run-{label.split()[0]}"
            workdir.mkdir()
            config = workdir / "lpsectl.toml"
            text = ssh_config_text(hosts, key, workdir / "known_hosts", workdir / "data")
            text = text.replace(
                "connect_timeout = 5\n",
                f"connect_timeout = 5\nmax_output_bytes = {args.cap_mib * 1048576}\n",
            )
            config.write_text(text)
            rows.append((label, *measure(config)))
    finally:
        factory.stop_all()
    print(f"ssh.max_output_bytes = {args.cap_mib} MiB")
    print(f"{'case':24} {'peak RSS MiB':>13} {'CPU s':>8} {'wall s':>8} {'exit':>5}")
    for label, rss, cpu, wall, code in rows:
        print(f"{label:24} {rss:13.1f} {cpu:8.2f} {wall:8.2f} {code:5d}")
    (_, ref_rss, ref_cpu, *_), (_, rss, cpu, *_) = rows
    print(
        f"ratio flood/reference: RSS {rss / ref_rss:.2f}x, CPU {cpu / ref_cpu:.2f}x; "
        f"target peak RSS < 150 MiB: {'met' if rss < 150 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
