"""Reading facts out of snapshot data, tolerant of missing items.

A snapshot is a plain dict: ``{"host", "kind", "taken_at", "day", "ok", "data",
"unavailable"}`` (``data`` and ``unavailable`` already decoded). Items that could
not be collected are simply absent, so every reader here returns None or an
empty list rather than raising.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from lpsectl import pgstats
from lpsectl.analysis.pgtune import setting_bytes, setting_number, setting_text
from lpsectl.timeutil import parse_iso

Snapshot = dict[str, Any]


def taken_at(snapshot: Snapshot) -> datetime:
    value = snapshot["taken_at"]
    return value if isinstance(value, datetime) else parse_iso(value)


def by_host(snapshots: Iterable[Snapshot], kind: str) -> dict[str, list[Snapshot]]:
    """Successful snapshots of ``kind`` per host, oldest first."""
    hosts: dict[str, list[Snapshot]] = defaultdict(list)
    for snap in snapshots:
        if snap.get("kind") == kind and snap.get("ok", True) and isinstance(snap.get("data"), dict):
            hosts[snap["host"]].append(snap)
    return {host: sorted(items, key=taken_at) for host, items in sorted(hosts.items())}


def dig(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# -- system --------------------------------------------------------------------------
def ram_bytes(system: dict[str, Any] | None) -> int | None:
    total = number(dig(system, "memory", "total"))
    return int(total) if total else None


def cpu_count(system: dict[str, Any] | None) -> int | None:
    count = number(dig(system, "cpu", "count"))
    return int(count) if count else None


# -- postgres ------------------------------------------------------------------------
def pg_setting(data: dict[str, Any], name: str) -> Any:
    settings = data.get("settings")
    if isinstance(settings, list):  # rows of pg_settings
        settings = {row.get("name"): row for row in settings if isinstance(row, dict)}
    return settings.get(name) if isinstance(settings, dict) else None


def pg_setting_bytes(data: dict[str, Any], name: str) -> int | None:
    raw = pg_setting(data, name)
    if isinstance(raw, dict) and isinstance(raw.get("bytes"), int | float):
        return int(raw["bytes"])
    return setting_bytes(name, raw)


def pg_setting_number(data: dict[str, Any], name: str) -> float | None:
    raw = pg_setting(data, name)
    if isinstance(raw, dict) and isinstance(raw.get("ms"), int | float):
        return float(raw["ms"])
    return setting_number(raw)


def pg_setting_text(data: dict[str, Any], name: str) -> str | None:
    raw = pg_setting(data, name)
    if isinstance(raw, dict) and raw.get("setting") is None and raw.get("shown") is not None:
        return str(raw["shown"])
    return setting_text(raw)


def pg_database(data: dict[str, Any]) -> dict[str, Any]:
    return pgstats.database_stats(data)


def pg_max_connections(data: dict[str, Any]) -> int | None:
    value = number(dig(data, "activity", "max_connections")) or pg_setting_number(
        data, "max_connections"
    )
    return int(value) if value else None


def pg_connections(data: dict[str, Any]) -> int | None:
    value = number(dig(data, "activity", "total"))
    return None if value is None else int(value)


def pg_statements(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Statements from pg_stat_statements, each once, with calls/mean/total/max."""
    block = data.get("statements")
    rows: list[Any] = []
    if isinstance(block, dict):
        for key in ("top_by_calls", "top_by_total_time"):
            rows += block.get(key) or []
    elif isinstance(block, list):
        rows = block
    seen: dict[str, dict[str, Any]] = {}
    for row in rows:
        if isinstance(row, dict) and row.get("query"):
            key = str(row.get("queryid") or row["query"])
            seen.setdefault(key, row)
    return list(seen.values())


def pg_tables(data: dict[str, Any]) -> list[dict[str, Any]]:
    tables = data.get("tables")
    return [t for t in tables if isinstance(t, dict)] if isinstance(tables, list) else []


# -- counters ---------------------------------------------------------------------------
def counter_deltas(snaps: list[Snapshot], field: str) -> list[tuple[Snapshot, float]]:
    """(snapshot, increase since the previous one) for a cumulative counter of
    pg_stat_database, by :func:`lpsectl.pgstats.counter_delta`: after a reset (a new
    ``stats_reset``, a server restart, a counter going down) the increase is the
    new value itself — the same figure the reports show."""
    return [
        (snaps[index], float(amount))
        for index, amount in pgstats.counter_steps([snap["data"] for snap in snaps], field)
    ]


def per_day(deltas: list[tuple[Snapshot, float]]) -> dict[str, float]:
    days: dict[str, float] = defaultdict(float)
    for snap, amount in deltas:
        days[str(snap["day"])] += amount
    return dict(sorted(days.items()))


# -- log summaries -------------------------------------------------------------------------
def log_summaries(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every summary (a dict with ``queries`` or ``errors``) inside a logs snapshot,
    whatever the nesting (per file, per source)."""
    if depth > 4:
        return
    if isinstance(data, dict):
        if isinstance(data.get("queries"), list) or isinstance(data.get("errors"), list):
            yield data
            return
        for key, value in data.items():
            if key != "days":  # per-day parts of a summary already counted whole
                yield from log_summaries(value, depth + 1)
    elif isinstance(data, list):
        for value in data:
            yield from log_summaries(value, depth + 1)


def is_spse_summary(summary: dict[str, Any]) -> bool:
    fmt = str(summary.get("format") or summary.get("source") or "").lower()
    if fmt:
        return fmt == "spse"
    return "application" in str(summary.get("path") or "")
