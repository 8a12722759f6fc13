#!/usr/bin/env python3
"""`lpsectl logs summarize` on an access log against GoAccess on the same file.

Run from the repository root (GoAccess from Debian: ``apt-get install goaccess``):

    python bench/access_vs_goaccess.py [--size-mb 1100] [--log FILE] [--keep]

Without --log it writes an nginx access log in the layout
``combined`` + `` $request_time`` (what docs/usage.md recommends) with a
realistic SPSE mix: announcement and schedule pages, document downloads,
logins, bid uploads on deadline afternoons, static files, bots, 4xx/5xx, a
busy morning and a quiet night, 4,000-6,000 client addresses a day (each
with one user agent, so GoAccess's visitor — address, day and user agent —
is lpsectl's address per day). Then GoAccess (one thread, JSON output) and
lpsectl (``logs summarize --format json``) each run as their own process;
the bench prints CPU time (user+sys of the child, from wait4), throughput,
peak RSS and the ratio, and checks that both count the same requests,
status classes and unique visitors. Exit 1 when the counts differ.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

GOACCESS = shutil.which("goaccess") or "/usr/bin/goaccess"
NGINX_FORMAT = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent" $request_time'
)
GOACCESS_FORMAT = '%h %^ %e [%d:%t %^] "%r" %s %b "%R" "%u" %T'

#: (weight, method, path template, (size low, high), (seconds low, high))
ROUTES = [
    (30, "GET", "/eproc4/lelang/{id}/pengumumanlelang", (8000, 40000), (0.02, 0.4)),
    (14, "GET", "/eproc4/nontender/{id}/jadwal", (3000, 9000), (0.01, 0.2)),
    (12, "GET", "/eproc4/dt/lelang?draw={n}&start={n}", (2000, 20000), (0.05, 1.5)),
    (10, "GET", "/eproc4/dokumen/{id}/unduh", (50000, 4000000), (0.05, 3.0)),
    (20, "GET", "/eproc4/public/js/app.{n}.js", (20000, 200000), (0.001, 0.01)),
    (6, "GET", "/eproc4/public/css/style.css", (10000, 30000), (0.001, 0.01)),
    (4, "POST", "/eproc4/login", (0, 2000), (0.1, 0.8)),
    (2, "POST", "/eproc4/penawaran/{id}/kirim", (200, 2000), (0.5, 12.0)),
    (3, "GET", "/eproc4/evaluasi/{id}/hasil", (4000, 30000), (0.05, 2.0)),
    (2, "GET", "/eproc4", (15000, 25000), (0.01, 0.1)),
]
STATUSES = [(900, "200"), (40, "302"), (30, "304"), (20, "404"), (6, "403"), (4, "500"), (1, "502")]
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{v}.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:{v}.0) Gecko/20100101 Firefox/{v}.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
]


def make_log(path: Path, size_mb: int, seed: int = 20) -> None:
    rng = random.Random(seed)
    weights = [r[0] for r in ROUTES]
    status_weights = [s[0] for s in STATUSES]
    target = size_mb * 1024 * 1024
    day = datetime(2026, 11, 1)
    written = 0
    with path.open("w", encoding="utf-8") as out:
        while written < target:
            clients = [
                f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                for _ in range(rng.randrange(4000, 6000))
            ]
            agent_of = {c: rng.choice(AGENTS).format(v=rng.randrange(100, 130)) for c in clients}
            lines_today = rng.randrange(180_000, 260_000)
            # busy office hours, a peak before the 15:00 deadlines, a quiet night
            hour_weights = [
                1,
                1,
                1,
                1,
                1,
                2,
                4,
                10,
                18,
                20,
                20,
                18,
                12,
                16,
                22,
                26,
                14,
                8,
                5,
                4,
                3,
                2,
                2,
                1,
            ]
            hours = sorted(rng.choices(range(24), hour_weights, k=lines_today))
            seconds = sorted(h * 3600 + rng.randrange(3600) for h in hours)
            batch = []
            for second in seconds:
                route = rng.choices(ROUTES, weights)[0]
                _w, method, template, size, took = route
                client = rng.choice(clients)
                stamp = (day + timedelta(seconds=second)).strftime("%d/%b/%Y:%H:%M:%S +0700")
                path_text = template.format(id=rng.randrange(1, 99999), n=rng.randrange(1, 50))
                status = rng.choices(STATUSES, status_weights)[0][1]
                batch.append(
                    f'{client} - - [{stamp}] "{method} {path_text} HTTP/1.1" {status} '
                    f'{rng.randrange(*size) if status != "304" else 0} "-" "{agent_of[client]}" '
                    f"{rng.uniform(*took):.3f}\n"
                )
            text = "".join(batch)
            out.write(text)
            written += len(text.encode("utf-8"))
            day += timedelta(days=1)


def measure(argv: list[str]) -> dict[str, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[0]} failed: {err.strip()[-500:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024}


def goaccess_counts(path: Path) -> tuple[int, int, dict[str, int]]:
    data = json.loads(path.read_text())
    general = data["general"]
    classes: dict[str, int] = {}
    for item in data["status_codes"]["data"]:
        for code in item.get("items", []):
            klass = code["data"][:1] + "xx"
            classes[klass] = classes.get(klass, 0) + code["hits"]["count"]
    return general["total_requests"], general["unique_visitors"], classes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--size-mb", type=int, default=1100, help="size of the log to make (default 1100)"
    )
    parser.add_argument(
        "--log", type=Path, help="use this access log (layout: combined + $request_time)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--make-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make_only:
        make_log(args.make_only, args.size_mb)
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="lpsectl-bench-access-"))
    try:
        log = args.log
        if log is None:
            log = workdir / "access.log"
            started = time.perf_counter()
            # in a process of its own: a child forked from a big parent would count the
            # parent's pages in its peak RSS
            subprocess.run(
                [sys.executable, __file__, "--size-mb", str(args.size_mb), "--make-only", str(log)],
                check=True,
            )
            print(f"made the log in {time.perf_counter() - started:.0f} s")
        mib = log.stat().st_size / 1024 / 1024
        lines = sum(1 for _ in log.open("rb"))
        print(f"log: {log} ({mib:.1f} MiB, {lines:,} lines)")
        g_out, o_out = workdir / "goaccess.json", workdir / "lpsectl.json"
        goaccess = measure(
            [
                GOACCESS,
                "--no-global-config",
                f"--log-format={GOACCESS_FORMAT}",
                "--date-format=%d/%b/%Y",
                "--time-format=%H:%M:%S",
                "-o",
                str(g_out),
                str(log),
            ]
        )
        ours = measure(
            [
                sys.executable,
                "-m",
                "lpsectl",
                "logs",
                "summarize",
                "--format-log",
                "access",
                "--access-format",
                NGINX_FORMAT,
                "--format",
                "json",
                "-o",
                str(o_out),
                str(log),
            ]
        )
        floor = measure(
            [
                sys.executable,
                "-c",
                "import sys\nfor line in open(sys.argv[1], 'rb'): pass",
                str(log),
            ]
        )
        g_requests, g_visitors, g_classes = goaccess_counts(g_out)
        result = json.loads(o_out.read_text())
        total = result["total"]
        o_visitors = sum(day["visitors"] for day in result["days"].values())
        exact = all(day["visitors_exact"] for day in result["days"].values())
        o_classes = {k: v for k, v in total["status"].items() if v}

        print(f"{'':10} {'wall s':>8} {'cpu s':>8} {'MiB/s cpu':>10} {'peak RSS MiB':>13}")
        for name, m in (("GoAccess", goaccess), ("lpsectl", ours), ("line loop", floor)):
            print(
                f"{name:10} {m['wall']:8.2f} {m['cpu']:8.2f} {mib / m['cpu']:10.1f} {m['rss_mib']:13.1f}"
            )
        print(
            f"throughput ratio by CPU: {goaccess['cpu'] / ours['cpu']:.2f}x GoAccess   "
            f"target >= 1x (issue 19), lpsectl peak RSS <= 100 MiB: "
            f"{'met' if ours['rss_mib'] <= 100 else 'NOT met'}"
        )
        print(f"requests: GoAccess {g_requests:,}, lpsectl {total['requests']:,}")
        print(
            f"unique visitors (sum of days): GoAccess {g_visitors:,}, lpsectl {o_visitors:,}"
            f"{'' if exact else ' (estimated)'}"
        )
        print(
            f"status classes: GoAccess {dict(sorted(g_classes.items()))}, lpsectl {dict(sorted(o_classes.items()))}"
        )
        agree = (
            g_requests == total["requests"] and g_visitors == o_visitors and g_classes == o_classes
        )
        print("counts agree" if agree else "COUNTS DISAGREE")
        return 0 if agree else 1
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
