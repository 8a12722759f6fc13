"""PostgreSQL statistics arithmetic, pure: the one home for it.

Counter deltas between snapshots (aware of statistics resets: a new
``stats_reset``, a server restart, a counter going down), their sums over a
chain of snapshots, per-statement deltas of ``pg_stat_statements``, ratios and
setting units. The collectors, the reports and ``analyze`` all use these, so
a figure is the same wherever it is shown.

Source of the rules: PostgreSQL's documentation of the cumulative statistics
system (``pg_stat_database``, ``pg_stat_statements``: counters are cumulative
since ``stats_reset`` or the server start) and of ``pg_settings.unit``.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise
from typing import Any

#: cumulative pg_stat_database counters the report shows as "since yesterday"
COUNTERS = (
    "xact_commit",
    "xact_rollback",
    "deadlocks",
    "conflicts",
    "temp_files",
    "temp_bytes",
    "blks_hit",
    "blks_read",
)


UNIT_BYTES = {"B": 1, "kB": 1024, "8kB": 8192, "16kB": 16384, "MB": 1024**2, "GB": 1024**3}
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "min": 60000.0, "h": 3600000.0, "d": 86400000.0}


def add_setting_values(settings: dict[str, dict]) -> dict[str, dict]:
    """Give memory settings a ``bytes`` and time settings an ``ms`` value (None for -1)."""
    for item in settings.values():
        unit = item.get("unit")
        number = _to_float(item.get("setting"))
        usable = number is not None and number >= 0  # -1: "no limit"
        item["bytes"] = (
            int(number * UNIT_BYTES[unit])
            if number is not None and usable and unit in UNIT_BYTES
            else None
        )
        item["ms"] = (
            number * UNIT_MS[unit] if number is not None and usable and unit in UNIT_MS else None
        )
    return settings


def _to_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def cache_hit_ratio(hit: int | None, read: int | None) -> float | None:
    total = (hit or 0) + (read or 0)
    return (hit or 0) / total if total else None


def dead_ratio(live: int | None, dead: int | None) -> float | None:
    """Dead tuples over all tuples of a table (None for an empty table)."""
    total = (live or 0) + (dead or 0)
    return (dead or 0) / total if total else None


def database_stats(data: dict[str, Any] | None) -> dict[str, Any]:
    """The pg_stat_database row of a postgres snapshot's data ({} when absent);
    older snapshots named it ``stat_database`` or ``pg_stat_database``."""
    for key in ("database_stats", "stat_database", "pg_stat_database"):
        value = (data or {}).get(key)
        if isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, dict):
            return value
    return {}


def statement_deltas(chain: list[dict]) -> dict[str, Any]:
    """Pure: per statement, what its cumulative counters grew by along ``chain``
    (postgres snapshot data, oldest first) — the day's figures, not the totals since reset.

    Between two snapshots a statement's delta is ``current - previous``; after a
    reset (``stats_reset`` changed, or a counter went down) or for a statement
    new to a complete list, it is the current value. A statement that was
    outside an incomplete list before is not counted for that step
    (``partial`` says so). Returns ``{"steps", "partial", "by_query": {queryid:
    {"queryid", "query", "calls", "total_ms", "rows", "max_ms"}}}``.
    """
    found: dict[str, dict[str, Any]] = {}
    steps = 0
    partial = False
    for previous, current in pairwise(chain):
        before = previous.get("statements") or {}
        now = current.get("statements") or {}
        if "by_query" not in before or "by_query" not in now:
            continue
        steps += 1
        reset = before.get("stats_reset") != now.get("stats_reset")
        old = {q["queryid"]: q for q in before.get("by_query") or []}
        for row in now.get("by_query") or []:
            prior = old.get(row["queryid"])
            if (
                prior is not None
                and not reset
                and (row.get("calls") or 0) >= (prior.get("calls") or 0)
            ):
                calls = (row.get("calls") or 0) - (prior.get("calls") or 0)
                total = (row.get("total_ms") or 0.0) - (prior.get("total_ms") or 0.0)
                rows = (row.get("rows") or 0) - (prior.get("rows") or 0)
            elif prior is not None or reset or before.get("tracked_all"):
                calls, total, rows = (
                    row.get("calls") or 0,
                    row.get("total_ms") or 0.0,
                    row.get("rows") or 0,
                )
            else:
                partial = True
                continue
            if calls <= 0:
                continue
            entry = found.setdefault(
                row["queryid"],
                {
                    "queryid": row["queryid"],
                    "query": row.get("query"),
                    "calls": 0,
                    "total_ms": 0.0,
                    "rows": 0,
                    "max_ms": None,
                },
            )
            entry["calls"] += calls
            entry["total_ms"] += total
            entry["rows"] += rows
            entry["max_ms"] = row.get("max_ms")  # the maximum since reset: not a day's figure
    for entry in found.values():
        entry["mean_ms"] = entry["total_ms"] / entry["calls"] if entry["calls"] else None
    return {"steps": steps, "partial": partial, "by_query": found}


def counter_delta(previous: dict | None, current: dict | None) -> dict[str, Any]:
    """Change of the pg_stat_database counters from ``previous`` to ``current`` data.

    A counter that went down, a new ``stats_reset`` or a server restart means the
    statistics were reset: the delta is then the current value (what happened
    since the reset — a lower bound), never a negative number. Returns
    ``{"counters": {name: int}, "reset": bool}``; with no usable previous
    snapshot, ``{"counters": {}, "reset": False, "baseline": False}``.
    """
    now = database_stats(current)
    before = database_stats(previous)
    if not now or not before:
        return {"counters": {}, "reset": False, "baseline": False}
    reset = (
        now.get("stats_reset") != before.get("stats_reset")
        or _started_at(current) != _started_at(previous)
        or any((now.get(c) or 0) < (before.get(c) or 0) for c in COUNTERS)
    )
    counters = {
        c: (now.get(c) or 0) if reset else (now.get(c) or 0) - (before.get(c) or 0)
        for c in COUNTERS
    }
    return {"counters": counters, "reset": reset, "baseline": True}


def _started_at(data: dict | None) -> Any:
    return ((data or {}).get("server") or {}).get("started_at")


def sum_deltas(chain: list[dict]) -> dict[str, Any]:
    """Add up :func:`counter_delta` over consecutive snapshots (oldest first).

    Summing step by step keeps what happened before a reset in the middle of
    the chain, which comparing only the two ends would lose.
    """
    # a snapshot whose database_stats could not be read is skipped, not a gap
    chain = [data for data in chain if database_stats(data)]
    total: dict[str, int] = {c: 0 for c in COUNTERS}
    resets = 0
    steps = 0
    for before, after in pairwise(chain):
        step = counter_delta(before, after)
        if not step["baseline"]:
            continue
        steps += 1
        resets += step["reset"]
        for name, value in step["counters"].items():
            total[name] += value
    return {"counters": total if steps else {}, "resets": resets, "steps": steps}


def counter_steps(chain: Iterable[dict | None], counter: str) -> list[tuple[int, int]]:
    """(index in ``chain``, increase of ``counter`` since the previous usable snapshot)
    for each snapshot after the first, by :func:`counter_delta` (resets included)."""
    out: list[tuple[int, int]] = []
    previous: dict | None = None
    for index, data in enumerate(chain):
        if not database_stats(data):
            continue
        if previous is not None:
            out.append((index, counter_delta(previous, data)["counters"].get(counter, 0)))
        previous = data
    return out
