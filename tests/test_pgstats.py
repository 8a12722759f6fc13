"""The one home of the PostgreSQL statistics arithmetic (issue 17): every reader
(daily and monthly reports, analyze) takes the same delta over the same snapshots.
Expected values are hand counts from PostgreSQL's rule: cumulative counters start
again from 0 at a stats reset or a server start."""

from __future__ import annotations

import pytest

from lpsectl import pgstats
from lpsectl.analysis import facts


def snap(
    rollbacks: int,
    reset: str = "2026-11-01T00:00:00+07:00",
    started: str = "2026-11-01T00:00:00+07:00",
    commits: int = 1000,
    key: str = "database_stats",
) -> dict:
    stats = {c: 0 for c in pgstats.COUNTERS} | {
        "xact_rollback": rollbacks,
        "xact_commit": commits,
        "stats_reset": reset,
    }
    return {key: stats, "server": {"started_at": started}}


CASES = [
    # (name, chain, rollbacks counted by hand)
    ("plain growth", [snap(100), snap(150)], 50),
    ("stats_reset between", [snap(100), snap(30, reset="2026-11-20T10:00:00+07:00")], 30),
    (
        "restart between, counters higher than before",
        [snap(100), snap(150, started="2026-11-20T09:00:00+07:00")],
        150,
    ),
    ("counter went down", [snap(100), snap(40)], 40),
    (
        "reset mid-chain keeps what came before",
        [snap(100), snap(160), snap(20, reset="x"), snap(25, reset="x")],
        60 + 20 + 5,
    ),
    (
        "legacy key pg_stat_database",
        [snap(10, key="pg_stat_database"), snap(17, key="pg_stat_database")],
        7,
    ),
    ("a snapshot without stats is skipped", [snap(10), {"server": {}}, snap(12)], 2),
]


@pytest.mark.parametrize(("name", "chain", "expected"), CASES, ids=[c[0] for c in CASES])
def test_every_reader_counts_the_same(name, chain, expected):
    reports = pgstats.sum_deltas(chain)["counters"]["xact_rollback"]
    rows = [
        {"data": data, "day": f"2026-11-{20 + i}", "taken_at": f"2026-11-{20 + i}T06:00:00+07:00"}
        for i, data in enumerate(chain)
    ]
    analyze = sum(amount for _snap, amount in facts.counter_deltas(rows, "xact_rollback"))
    assert reports == analyze == expected


def test_ratios_and_units():
    assert pgstats.cache_hit_ratio(990, 10) == 0.99
    assert pgstats.cache_hit_ratio(0, 0) is None
    assert pgstats.dead_ratio(75, 25) == 0.25 and pgstats.dead_ratio(0, 0) is None
    settings = pgstats.add_setting_values(
        {
            "shared_buffers": {"setting": "16384", "unit": "8kB"},
            "statement_timeout": {"setting": "2", "unit": "min"},
            "work_mem": {"setting": "-1", "unit": "kB"},
        }
    )
    assert settings["shared_buffers"]["bytes"] == 16384 * 8192 == 128 * 1024**2
    assert settings["statement_timeout"]["ms"] == 120000.0
    assert settings["work_mem"]["bytes"] is None
