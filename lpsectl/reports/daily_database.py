"""Daily report section "database": PostgreSQL health of every db host for one day.

Built from the ``postgres`` snapshots in the store: the day's last successful
snapshot gives the current picture (connections, top queries, tables); the
chain from the previous day's last snapshot through the day's snapshots gives
"since yesterday" counts (commits, rollbacks, deadlocks, temp files), summed
step by step so a statistics reset in the middle loses nothing before it.
Alerts follow the ``[thresholds]`` keys of :class:`DatabaseThresholds`.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, tzinfo
from typing import Any

from tabulate import tabulate

from lpsectl.collect.schemas import query_snapshots
from lpsectl.config import Config
from lpsectl.i18n import N_, localize, translated
from lpsectl.pgstats import cache_hit_ratio, statement_deltas, sum_deltas
from lpsectl.render import human_bytes, human_duration, long_datetime, number
from lpsectl.store import Store, decode_json
from lpsectl.thresholds import DATABASE_SECTION, DatabaseThresholds, database_thresholds

KIND = "postgres"
TOP_QUERIES = 10
THRESHOLDS_SECTION = DATABASE_SECTION


def load_thresholds(config: Config) -> DatabaseThresholds:
    """``[thresholds.database]``."""
    return database_thresholds(config)


# -- building ------------------------------------------------------------------------


def build(store: Store, config: Config, day: date | str, lang: str) -> dict | None:
    """The section for ``day`` (a date or YYYY-MM-DD), or None when no db host was collected."""
    day = day.isoformat() if isinstance(day, date) else day
    rows = query_snapshots(
        store,
        "SELECT * FROM snapshots WHERE kind = ? AND day = ? ORDER BY host, taken_at, id",
        [KIND, day],
    )
    if not rows:
        return None
    limits = load_thresholds(config)
    hosts = []
    for name in dict.fromkeys(r["host"] for r in rows):
        of_host = [r for r in rows if r["host"] == name]
        baseline = _baseline(store, name, day)
        hosts.append(host_summary(name, of_host, baseline, limits, config.tz))
    alerts = [alert for host in hosts for alert in host_alerts(host, limits, lang)]
    return {
        "day": day,
        "hosts": hosts,
        "alerts": alerts,
        "thresholds": dataclasses.asdict(limits),
    }


def _baseline(store: Store, host: str, day: str) -> dict | None:
    rows = query_snapshots(
        store,
        # newest first by id (runs are stored in time order): the snapshots_latest index
        # walked back from the end, not a sort of the host's whole history
        "SELECT * FROM snapshots WHERE host = ? AND kind = ? AND ok = 1 AND day < ? "
        "AND pruned_on IS NULL ORDER BY id DESC LIMIT 1",
        [host, KIND, day],
    )
    return rows[0] if rows and rows[0]["ok"] else None


def host_summary(
    name: str, rows: list[dict], baseline: dict | None, limits: DatabaseThresholds, tz: tzinfo
) -> dict[str, Any]:
    """Pure: one host's figures from its snapshot rows of the day (oldest first).

    Timestamps become aware datetimes in the LPSE zone ``tz`` (JSON output turns
    them back into ISO 8601 with offset; templates format them the Indonesian way).
    """
    good = [r for r in rows if r["ok"]]
    last_row = rows[-1]
    summary: dict[str, Any] = {
        "host": name,
        "snapshots": len(rows),
        "taken_at": moment(last_row["taken_at"], tz),
        "error": last_row["error"] if not last_row["ok"] else None,
    }
    if not good:
        return summary | {"unavailable": {}}
    latest = good[-1]
    data = decode_json(latest["data"], {})
    chain = ([decode_json(baseline["data"], {})] if baseline else []) + [
        decode_json(r["data"], {}) for r in good
    ]
    totals = sum_deltas(chain)
    summary.update(
        {
            "taken_at": moment(latest["taken_at"], tz),
            "unavailable": decode_json(latest["unavailable"], {}),
            "database": data.get("database"),
            "server": _server(data, tz),
            "since": moment((baseline or good[0])["taken_at"], tz) if totals["steps"] else None,
            "since_yesterday": totals["counters"] or None,
            "stats_resets": totals["resets"],
            "cache_hit_ratio": _cache_hit(data, totals["counters"]),
            "size_bytes": (data.get("database_stats") or {}).get("size_bytes"),
            "connections": _connections(data),
            "long_queries": _long_queries(data, limits.long_query_seconds),
            "idle_in_transaction": _idle_in_transaction(data),
            "statements": _statements(
                data, tz, chain, moment((baseline or good[0])["taken_at"], tz)
            ),
            "wraparound_percent": (data.get("wraparound") or {}).get("percent_of_limit"),
            "bloated_tables": _bloated_tables(data, limits),
        }
    )
    return summary


def _server(data: dict, tz: tzinfo) -> dict | None:
    server = data.get("server")
    if not server:
        return None
    summary = {k: server.get(k) for k in ("version", "uptime_s", "in_recovery")}
    return summary | {"started_at": moment(server.get("started_at"), tz)}


def moment(timestamp: str | None, tz: tzinfo) -> datetime | None:
    """An ISO 8601 text (store or PostgreSQL) as an aware datetime in ``tz``."""
    if not timestamp:
        return None
    return datetime.fromisoformat(timestamp).astimezone(tz)


def _cache_hit(data: dict, day_counters: dict) -> dict | None:
    """The day's ratio from the block deltas when known, else the cumulative one."""
    stats = data.get("database_stats")
    if not stats:
        return None
    day = (
        cache_hit_ratio(day_counters.get("blks_hit"), day_counters.get("blks_read"))
        if day_counters
        else None
    )
    return {"day": day, "cumulative": stats.get("cache_hit_ratio")}


def _connections(data: dict) -> dict | None:
    act = data.get("activity")
    if not act:
        return None
    return {
        k: act.get(k)
        for k in (
            "total",
            "max_connections",
            "usage_ratio",
            "by_state",
            "idle_in_transaction",
            "waiting_on_locks",
        )
    }


def _sessions(data: dict) -> list[dict]:
    return (data.get("activity") or {}).get("sessions") or []


def _long_queries(data: dict, seconds: float) -> list[dict]:
    return [
        s
        for s in _sessions(data)
        if s.get("state") == "active" and (s.get("query_seconds") or 0) > seconds
    ]


def _idle_in_transaction(data: dict) -> list[dict]:
    return [s for s in _sessions(data) if (s.get("state") or "").startswith("idle in transaction")]


def _statements(
    data: dict, tz: tzinfo, chain: list[dict], first: datetime | None
) -> dict[str, Any]:
    """The day's busiest statements from the snapshots' deltas (``period`` "day"); the
    totals since the last pg_stat_statements reset when there is only one snapshot."""
    stmts = data.get("statements")
    if not stmts:
        return {"available": False, "top_by_calls": [], "top_by_total_time": []}
    day = statement_deltas(chain)
    if day["steps"]:
        rows = list(day["by_query"].values())
        return {
            "available": True,
            "period": "day",
            "since": first,
            "partial": day["partial"],
            "total_calls": sum(r["calls"] for r in rows),
            "top_by_calls": sorted(rows, key=lambda r: (-r["calls"], -r["total_ms"]))[:TOP_QUERIES],
            "top_by_total_time": sorted(rows, key=lambda r: (-r["total_ms"], -r["calls"]))[
                :TOP_QUERIES
            ],
        }
    since = stmts.get("stats_reset") or (data.get("server") or {}).get("started_at")
    return {
        "available": True,
        "period": "since_reset",
        "since": moment(since, tz),
        "partial": False,
        "total_calls": stmts.get("total_calls"),
        "top_by_calls": (stmts.get("top_by_calls") or [])[:TOP_QUERIES],
        "top_by_total_time": (stmts.get("top_by_total_time") or [])[:TOP_QUERIES],
    }


def _bloated_tables(data: dict, limits: DatabaseThresholds) -> list[dict]:
    return [
        t
        for t in data.get("tables") or []
        if (t.get("live_tuples") or 0) + (t.get("dead_tuples") or 0) >= limits.dead_tuples_min_rows
        and (t.get("dead_ratio") or 0) * 100 > limits.dead_tuples_max_percent
    ]


ADVICE = {
    "not_installed": N_("the extension is not installed in database {db}"),
    "not_preloaded": N_("the extension is not loaded through shared_preload_libraries"),
    "how": (
        N_(
            "add pg_stat_statements to shared_preload_libraries in postgresql.conf, "
            "restart PostgreSQL, then run CREATE EXTENSION pg_stat_statements; "
            "in database {db}"
        )
    ),
}


def statements_advice(reason: str, db: str, lang: str) -> str:
    """The collector's reason in the report's language, with how to enable the extension."""
    words = translated(ADVICE, lang)
    if "not preloaded" in reason:
        return f"{words['not_preloaded']}; {words['how'].format(db=db)}"
    if "not installed" in reason:
        return f"{words['not_installed'].format(db=db)}; {words['how'].format(db=db)}"
    return reason


# -- alerts ----------------------------------------------------------------------------

MESSAGES = {
    "error": N_("Database statistics could not be collected: {reason}"),
    "statements": N_("pg_stat_statements is not available: {reason}"),
    # the percentages come with their sign ("45,0%"): a "% o" in a msgid reads as a
    # printf format to gettext tools (pybabel compile)
    "cache": N_("Cache hit ratio {value} is below {limit}"),
    "connections": N_("Connections use {value} of max_connections (limit {limit})"),
    "long": N_("Queries running longer than {limit}: {count} (longest {longest})"),
    "idle": N_("Sessions idle in transaction: {count} (longest {longest})"),
    "deadlocks": N_("Deadlocks today: {count}"),
    "wraparound": N_("Transaction ID age is {value} of the wraparound limit (warning at {limit})"),
    "bloat": N_("Table {table}: {value} dead tuples (limit {limit})"),
}


def host_alerts(host: dict, limits: DatabaseThresholds, lang: str) -> list[dict]:
    """Pure: the alerts one host summary raises under ``limits``."""
    msg = translated(MESSAGES, lang)
    out: list[dict] = []

    def add(severity: str, item: str, key: str, **values: Any) -> None:
        out.append(
            {
                "severity": severity,
                "host": host["host"],
                "item": item,
                "message": msg[key].format(**{k: localize(v, lang) for k, v in values.items()}),
            }
        )

    if host.get("error"):
        add("critical", "postgres", "error", reason=host["error"])
        return out
    reason = (host.get("unavailable") or {}).get("statements")
    if reason:
        add(
            "warning",
            "statements",
            "statements",
            reason=statements_advice(reason, host.get("database") or "", lang),
        )
    pct = _percent(lang)
    cache = host.get("cache_hit_ratio") or {}
    ratio = cache.get("day") if cache.get("day") is not None else cache.get("cumulative")
    if ratio is not None and ratio * 100 < limits.cache_hit_min_percent:
        add(
            "warning",
            "cache_hit_ratio",
            "cache",
            value=pct(ratio * 100),
            limit=pct(limits.cache_hit_min_percent),
        )
    conn = host.get("connections") or {}
    if (
        conn.get("usage_ratio") is not None
        and conn["usage_ratio"] * 100 > limits.connections_max_percent
    ):
        add(
            "critical",
            "connections",
            "connections",
            value=pct(conn["usage_ratio"] * 100),
            limit=pct(limits.connections_max_percent),
        )
    _session_alerts(host, limits, lang, add)
    deadlocks = (host.get("since_yesterday") or {}).get("deadlocks", 0)
    if deadlocks > limits.deadlocks_max:
        add("warning", "deadlocks", "deadlocks", count=deadlocks)
    wrap = host.get("wraparound_percent")
    if wrap is not None and wrap > limits.wraparound_max_percent:
        add(
            "critical",
            "wraparound",
            "wraparound",
            value=pct(wrap),
            limit=pct(limits.wraparound_max_percent),
        )
    for table in host.get("bloated_tables") or []:
        add(
            "warning",
            "dead_tuples",
            "bloat",
            table=f"{table['schema']}.{table['name']}",
            value=pct(table["dead_ratio"] * 100),
            limit=pct(limits.dead_tuples_max_percent),
        )
    return out


def _session_alerts(host: dict, limits: DatabaseThresholds, lang: str, add: Any) -> None:
    long = host.get("long_queries") or []
    if long:
        longest = max(s.get("query_seconds") or 0 for s in long)
        add(
            "warning",
            "long_queries",
            "long",
            count=len(long),
            limit=_seconds(limits.long_query_seconds, lang),
            longest=_seconds(longest, lang),
        )
    idle = [
        s
        for s in host.get("idle_in_transaction") or []
        if (s.get("state_seconds") or 0) >= limits.idle_in_transaction_seconds
    ]
    if idle:
        longest = max(s.get("state_seconds") or 0 for s in idle)
        add(
            "warning",
            "idle_in_transaction",
            "idle",
            count=len(idle),
            longest=_seconds(longest, lang),
        )


def _percent(lang: str) -> Any:
    """45.0 -> '45,0%' in Indonesian."""
    return lambda value: number(value, lang, 1) + "%"


def _seconds(value: float, lang: str) -> str:
    if value < 60:
        return f"{number(value, lang, 0)} {'detik' if lang != 'en' else 's'}"
    return human_duration(value, lang)


# -- plain text ------------------------------------------------------------------------

LABELS = {
    "title": N_("Database (PostgreSQL)"),
    "host": N_("Server"),
    "at": N_("as of"),
    "error": N_("FAILED"),
    "version": N_("Version"),
    "uptime": N_("up for"),
    "since": N_("Since {since}"),
    "no_baseline": N_("No earlier snapshot yet to count today's changes from."),
    "reset": N_("Statistics were reset {n} time(s) today; figures are a lower bound."),
    "commits": N_("Committed transactions"),
    "rollbacks": N_("Failed transactions (rollback)"),
    "deadlocks": N_("Deadlocks"),
    "temp_files": N_("Temporary files"),
    "temp_bytes": N_("size"),
    "cache": N_("Cache hit ratio"),
    "today": N_("today"),
    "cumulative": N_("cumulative"),
    "connections": N_("Connections"),
    "of": N_("of"),
    "idle_tx": N_("idle in transaction"),
    "waiting": N_("waiting on locks"),
    "size": N_("Database size"),
    "top": N_("Most frequent queries (pg_stat_statements, since {since})"),
    "top_time": N_("Queries with the largest total time"),
    "calls": N_("Calls"),
    "mean": N_("Mean ms"),
    "max": N_("Max ms"),
    "total": N_("Total ms"),
    "rows": N_("Rows"),
    "query": N_("Query"),
    "unavailable": N_("Not collected"),
    "alerts": N_("Alerts"),
    "none": N_("No alerts."),
    "critical": N_("CRITICAL"),
    "warning": N_("WARNING"),
}


def labels(lang: str) -> dict[str, str]:
    return translated(LABELS, lang)


def text(section: dict, lang: str) -> str:
    """The section as plain text (for e-mail bodies and the terminal)."""
    lab = labels(lang)
    lines = [lab["title"], "=" * len(lab["title"])]
    for host in section["hosts"]:
        lines += [""] + _host_text(host, lang, lab)
    lines += ["", f"{lab['alerts']}:"]
    if not section["alerts"]:
        lines.append(f"  {lab['none']}")
    for alert in section["alerts"]:
        lines.append(f"  [{lab[alert['severity']]}] {alert['host']}: {alert['message']}")
    return "\n".join(lines) + "\n"


def _host_text(host: dict, lang: str, lab: dict) -> list[str]:
    head = f"{lab['host']} {host['host']} ({lab['at']} {when(host['taken_at'], lang)})"
    if host.get("error"):
        return [head, f"  {lab['error']}: {localize(host['error'], lang)}"]
    lines = [head]
    server = host.get("server")
    if server:
        lines.append(
            f"  {lab['version']} {server['version']}, {lab['uptime']} "
            f"{human_duration(server['uptime_s'] or 0, lang)}"
        )
    lines += _counters_text(host, lang, lab)
    lines += _health_text(host, lang, lab)
    lines += _statements_text(host, lang, lab)
    for item, reason in (host.get("unavailable") or {}).items():
        lines.append(f"  {lab['unavailable']} ({item}): {localize(reason, lang)}")
    return lines


def _counters_text(host: dict, lang: str, lab: dict) -> list[str]:
    counters = host.get("since_yesterday")
    if not counters:
        return [f"  {lab['no_baseline']}"]
    lines = [f"  {lab['since'].format(since=when(host['since'], lang))}:"]
    n = lambda v: number(v, lang, 0)  # noqa: E731 - local shorthand
    lines.append(f"    {lab['commits']}: {n(counters['xact_commit'])}")
    lines.append(f"    {lab['rollbacks']}: {n(counters['xact_rollback'])}")
    lines.append(f"    {lab['deadlocks']}: {n(counters['deadlocks'])}")
    lines.append(
        f"    {lab['temp_files']}: {n(counters['temp_files'])} "
        f"({lab['temp_bytes']} {human_bytes(counters['temp_bytes'])})"
    )
    if host.get("stats_resets"):
        lines.append(f"    {lab['reset'].format(n=host['stats_resets'])}")
    return lines


def _health_text(host: dict, lang: str, lab: dict) -> list[str]:
    lines = []
    cache = host.get("cache_hit_ratio")
    if cache:
        parts = [
            f"{ratio_text(cache[k], lang)} {lab[name]}"
            for k, name in (("day", "today"), ("cumulative", "cumulative"))
            if cache.get(k) is not None
        ]
        lines.append(f"  {lab['cache']}: {', '.join(parts) or '-'}")
    conn = host.get("connections")
    if conn:
        lines.append(
            f"  {lab['connections']}: {conn['total']} {lab['of']} {conn['max_connections']} "
            f"({ratio_text(conn['usage_ratio'], lang)}), {conn['idle_in_transaction']} "
            f"{lab['idle_tx']}, {conn['waiting_on_locks']} {lab['waiting']}"
        )
    if host.get("size_bytes") is not None:
        lines.append(f"  {lab['size']}: {human_bytes(host['size_bytes'])}")
    return lines


def _statements_text(host: dict, lang: str, lab: dict) -> list[str]:
    stmts = host.get("statements") or {}
    if not stmts.get("available"):
        return []
    lines = ["", f"  {lab['top'].format(since=when(stmts['since'], lang))}:"]
    lines += ["    " + line for line in statements_table(stmts["top_by_calls"], lang).splitlines()]
    return lines


def statements_table(rows: list[dict], lang: str) -> str:
    lab = labels(lang)
    body = [
        [
            r["calls"],
            number(r["mean_ms"], lang, 2),
            number(r["max_ms"], lang, 2),
            number(r["total_ms"], lang, 1),
            r["rows"],
            shorten(r["query"], 70),
        ]
        for r in rows
    ]
    return tabulate(
        body,
        headers=[lab["calls"], lab["mean"], lab["max"], lab["total"], lab["rows"], lab["query"]],
        disable_numparse=True,
        colalign=("right",) * 5 + ("left",),
    )


def shorten(query: str, width: int) -> str:
    flat = " ".join(query.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def ratio_text(ratio: float | None, lang: str) -> str:
    return "-" if ratio is None else f"{number(ratio * 100, lang, 2)}%"


def when(value: datetime | None, lang: str) -> str:
    """'Sabtu, 21 November 2026 pukul 20.00 WIB', or '-' when unknown."""
    return long_datetime(value, lang) if value else "-"
