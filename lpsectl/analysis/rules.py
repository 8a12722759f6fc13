"""Tuning and health rules over the history: snapshots in, recommendations out.

Every rule is a pure function ``rule(snapshots, settings) -> list[Recommendation]``
over plain snapshot dicts (see :mod:`lpsectl.analysis.facts`). A rule that lacks
the data it needs stays silent; it never guesses a zero. Each recommendation
carries the numbers that made it fire (``evidence``), the proposed change, its
class (minor/major, SOP 003 step 5) and route, and its texts in Indonesian and
English so documents can be written in either language.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lpsectl.analysis import facts
from lpsectl.analysis.classify import MAJOR, MINOR, ROUTE_DESCRIPTIONS, route_for
from lpsectl.analysis.pgtune import MEMORY_SETTINGS, pg_size, recommend_memory
from lpsectl.config import Config, load_section
from lpsectl.i18n import LANGUAGES, N_, gettext
from lpsectl.render import human_bytes, long_datetime, number
from lpsectl.thresholds import (
    DATABASE_SECTION,
    HOST_SECTION,
    DatabaseThresholds,
    HostThresholds,
    database_thresholds,
    host_thresholds,
)

log = logging.getLogger(__name__)

Snapshot = facts.Snapshot
DAY = 86400.0
PSEUDO_FILESYSTEMS = {"tmpfs", "devtmpfs", "overlay", "squashfs", "proc", "sysfs", "devfs", "ramfs"}


#: [analysis] keys of earlier releases → (section, key, factor): the limit now lives
#: with the daily report's in [thresholds.*], in percent; still read, with a warning
DEPRECATED_KEYS = {
    "cache_hit_min": (DATABASE_SECTION, "cache_hit_min_percent", 100.0),
    "long_query_max_ms": (DATABASE_SECTION, "long_query_seconds", 0.001),
    "dead_tuple_ratio": (DATABASE_SECTION, "dead_tuples_max_percent", 100.0),
    "memory_used_percent": (HOST_SECTION, "memory_warning_percent", 1.0),
    "swap_used_percent": (HOST_SECTION, "swap_warning_percent", 1.0),
    "load_per_cpu": (HOST_SECTION, "load_per_core_warning", 1.0),
    "connections_ratio": ("analysis", "connections_percent", 100.0),
    "rollback_ratio": ("analysis", "rollback_percent", 100.0),
}


@dataclass
class AnalysisSettings:
    """``[analysis]`` in the config: what only the rules judge by (defaults shown). The
    limits the daily report shares are in ``host`` and ``database`` ([thresholds.*])."""

    window_days: int = 7
    pgtune_tolerance: float = 0.5
    cache_min_blocks: int = 10000
    temp_files_per_day: float = 100.0
    temp_bytes_per_day: float = 1024.0**3
    #: connections in use, percent of max_connections, on saturated days (the report's
    #: alert is [thresholds.database] connections_max_percent, for one moment)
    connections_percent: float = 80.0
    slow_query_mean_ms: float = 500.0
    slow_query_min_calls: int = 100
    slow_query_max_reported: int = 3
    #: rollbacks, percent of transactions, in the second half of the window
    rollback_percent: float = 5.0
    deadlocks_per_day: float = 1.0
    #: dead tuples a table must have before its share counts (the report's
    #: [thresholds.database] dead_tuples_min_rows is the table's size: another idea)
    dead_tuple_min: int = 10000
    disk_days_warning: float = 30.0
    disk_used_percent: float = 90.0
    disk_min_span_hours: float = 12.0
    cpu_percent: float = 90.0
    saturated_days: int = 3
    app_error_min_count: int = 20
    app_error_min_days: int = 2
    app_error_max_reported: int = 5
    # deprecated names (see DEPRECATED_KEYS): read once, with a warning
    cache_hit_min: float | None = None
    long_query_max_ms: float | None = None
    dead_tuple_ratio: float | None = None
    memory_used_percent: float | None = None
    swap_used_percent: float | None = None
    load_per_cpu: float | None = None
    connections_ratio: float | None = None
    rollback_ratio: float | None = None
    host: HostThresholds = field(default_factory=HostThresholds, metadata={"config": False})
    database: DatabaseThresholds = field(
        default_factory=DatabaseThresholds, metadata={"config": False}
    )


def analysis_settings(config: Config) -> AnalysisSettings:
    """``[analysis]`` with the shared limits of ``[thresholds.*]``. A deprecated key still
    counts (converted to percent) unless its new key is set too; each one is named in a
    warning (log) with the key to write instead."""
    settings = load_section(config, "analysis", AnalysisSettings)
    settings.host = host_thresholds(config)
    settings.database = database_thresholds(config)
    raw = config.sections
    for old, (section, new, factor) in DEPRECATED_KEYS.items():
        value = getattr(settings, old)
        if value is None:
            continue
        target: Any = {HOST_SECTION: settings.host, DATABASE_SECTION: settings.database}.get(
            section, settings
        )
        top, _, sub = section.partition(".")
        table = raw.get(top, {})
        table = table.get(sub, {}) if sub and isinstance(table, dict) else table
        # rounded: 700 ms is 0.7 s, not 0.7000000000000001 (the warning says write it so)
        converted = type(getattr(target, new))(round(value * factor, 6))
        if isinstance(table, dict) and new in table:
            log.warning(
                "%s: [analysis] %s is deprecated and ignored: [%s] %s is set",
                config.source,
                old,
                section,
                new,
            )
            continue
        log.warning(
            "%s: [analysis] %s is deprecated: write [%s] %s = %s instead",
            config.source,
            old,
            section,
            new,
            converted,
        )
        setattr(target, new, converted)
    return settings


@dataclass
class Recommendation:
    rule: str
    host: str
    severity: str  # "warning" | "critical"
    change_class: str
    evidence: dict[str, Any]
    texts: dict[str, dict[str, str]]  # lang -> {"title", "finding", "proposal"}
    subject: str = ""
    id: int | None = None
    route: str = field(default="")

    def __post_init__(self) -> None:
        self.route = self.route or route_for(self.change_class)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        text = self.texts.get(lang) or self.texts["en"]
        return {
            "id": self.id,
            "rule": self.rule,
            "host": self.host,
            "subject": self.subject,
            "severity": self.severity,
            "class": self.change_class,
            "route": self.route,
            "route_description": ROUTE_DESCRIPTIONS[self.route],
            "title": text["title"],
            "finding": text["finding"],
            "proposal": text["proposal"],
            "evidence": self.evidence,
        }


class Msg(str):
    """A parameter that is itself a message (a msgid, marked N_ where it is written): it is
    translated into each language before it goes into the text."""


def texts(title: str, finding: str, proposal: str, /, **params: Any) -> dict[str, dict[str, str]]:
    """A finding's three texts in every shipped language, from msgids (``N_("…")``):
    each is translated through the catalog, then formatted with ``params``. A parameter
    may be a callable of the language (a locale number: ``lambda lang: num(x, lang)``)
    or a :class:`Msg`. Stored with the recommendation (``texts`` column), so a report
    shows them in its language without analysing again."""
    out = {}
    for lang in LANGUAGES:
        _ = gettext(lang)
        values = {
            key: _(value) if isinstance(value, Msg) else value(lang) if callable(value) else value
            for key, value in params.items()
        }
        out[lang] = {
            "title": _(title).format(**values),
            "finding": _(finding).format(**values),
            "proposal": _(proposal).format(**values),
        }
    return out


def _size_or_unknown(size: float | None) -> Callable[[str], str]:
    """A setting's size in the text's language ('128,0 MiB'), '?' when unknown."""
    return lambda lang: human_bytes(size, lang) if size else "?"


def pct(value: float, lang: str, digits: int = 1) -> str:
    return f"{number(value * 100, lang, digits)}%"


def num(value: float, lang: str, digits: int = 0) -> str:
    return number(value, lang, digits)


# -- PostgreSQL memory settings vs RAM (PGTune) --------------------------------------------
@dataclass(frozen=True)
class MemoryAdvice:
    """PGTune's arithmetic for one database host, from one function: every rule that
    proposes a memory setting (memory_settings, cache_hit_low, temp_files_frequent)
    proposes these same values in a run (the same snapshots give the same figures)."""

    ram: int
    max_connections: int
    advice: Any  # lpsectl.analysis.pgtune.MemoryAdvice


def memory_advice(snapshots: list[Snapshot]) -> dict[str, MemoryAdvice]:
    """host → its PGTune figures from the latest postgres (and system) snapshot; hosts
    whose RAM or max_connections is unknown are absent."""
    systems = facts.by_host(snapshots, "system")
    found = {}
    for host, snaps in facts.by_host(snapshots, "postgres").items():
        data = snaps[-1]["data"]
        system = systems[host][-1]["data"] if host in systems else None
        ram = facts.ram_bytes(system) or facts.number(data.get("ram_bytes"))
        max_conn = facts.pg_max_connections(data)
        if ram and max_conn:
            advice = recommend_memory(int(ram), max_conn, facts.cpu_count(system) or 2)
            found[host] = MemoryAdvice(int(ram), max_conn, advice)
    return found


def memory_settings(snapshots: list[Snapshot], s: AnalysisSettings) -> list[Recommendation]:
    out = []
    advices = memory_advice(snapshots)
    for host, snaps in facts.by_host(snapshots, "postgres").items():
        data = snaps[-1]["data"]
        if host not in advices:
            continue
        ram, max_conn, advice = (
            advices[host].ram,
            advices[host].max_connections,
            advices[host].advice,
        )
        off = {}
        for name in MEMORY_SETTINGS:
            current = facts.pg_setting_bytes(data, name)
            wanted = advice.recommended(name)
            if current is None or current <= 0:
                continue
            if current < wanted * s.pgtune_tolerance or current > wanted / s.pgtune_tolerance:
                off[name] = {"current": current, "recommended": wanted}
        if off:
            out.append(_memory_recommendation(host, ram, max_conn, off))
    return out


def _memory_recommendation(
    host: str, ram: int, max_conn: int, off: dict[str, dict[str, int]]
) -> Recommendation:
    def lines(lang: str) -> str:
        return ", ".join(
            f"{n} {human_bytes(v['current'], lang)} → {pg_size(v['recommended'])}"
            for n, v in off.items()
        )

    assign = "; ".join(f"{n} = '{pg_size(v['recommended'])}'" for n, v in off.items())
    restart = "shared_buffers" in off
    return Recommendation(
        rule="memory_settings",
        host=host,
        severity="warning",
        change_class=MINOR,
        evidence={"ram_bytes": ram, "max_connections": max_conn, "settings": off},
        texts=texts(
            N_("Adjust PostgreSQL memory settings on {host}"),
            N_(
                "RAM {ram}, max_connections {max_conn}; settings far from PGTune's formulas: {lines}."
            ),
            N_("Set in postgresql.conf: {assign}; then {then}"),
            host=host,
            ram=lambda lang: human_bytes(ram, lang),
            max_conn=max_conn,
            lines=lines,
            assign=assign,
            then=Msg(N_("restart PostgreSQL (shared_buffers needs a restart)."))
            if restart
            else Msg(N_("reload PostgreSQL.")),
        ),
    )


# -- cache hit ratio -------------------------------------------------------------------------
def cache_hit_low(snapshots: list[Snapshot], s: AnalysisSettings) -> list[Recommendation]:
    out = []
    advices = memory_advice(snapshots)
    for host, snaps in facts.by_host(snapshots, "postgres").items():
        hits = sum(d for _, d in facts.counter_deltas(snaps, "blks_hit"))
        reads = sum(d for _, d in facts.counter_deltas(snaps, "blks_read"))
        if hits + reads < s.cache_min_blocks:
            continue  # too little traffic in the period to judge
        ratio = hits / (hits + reads)
        if ratio >= s.database.cache_hit_min_percent / 100:
            continue
        shared = facts.pg_setting_bytes(snaps[-1]["data"], "shared_buffers")
        sb = _size_or_unknown(shared)
        tuned = advices.get(host)
        wanted = tuned.advice.recommended("shared_buffers") if tuned else None
        target = f"'{pg_size(wanted)}'" if wanted else "25% RAM"
        if wanted and shared and shared >= wanted * s.pgtune_tolerance:
            # shared_buffers is already where PGTune puts it: raising it is not the fix
            proposal = N_(
                "shared_buffers is already at PGTune's value ({sb}); the data read often is "
                "larger than the cache: find the queries with the most shared_blks_read in "
                "pg_stat_statements, or add RAM (a hardware change: major)."
            )
        else:
            proposal = N_(
                "Raise shared_buffers: shared_buffers = {target} (PGTune) in postgresql.conf "
                "and restart PostgreSQL."
            )
        out.append(
            Recommendation(
                rule="cache_hit_low",
                host=host,
                severity="warning",
                change_class=MINOR,
                evidence={
                    "cache_hit_ratio": round(ratio, 4),
                    "blocks_hit": int(hits),
                    "blocks_read": int(reads),
                    "threshold": s.database.cache_hit_min_percent / 100,
                    "shared_buffers_bytes": shared,
                },
                texts=texts(
                    N_("Low cache hit ratio on {host}"),
                    N_(
                        "Cache hit ratio {ratio} (threshold {threshold}): {reads} blocks read "
                        "from disk, {hits} from cache; shared_buffers {sb}."
                    ),
                    proposal,
                    host=host,
                    ratio=lambda lang, r=ratio: pct(r, lang, 2),
                    threshold=lambda lang: pct(s.database.cache_hit_min_percent / 100, lang, 0),
                    reads=lambda lang, n=reads: num(n, lang),
                    hits=lambda lang, n=hits: num(n, lang),
                    sb=sb,
                    target=target,
                ),
            )
        )
    return out


# -- temporary files (work_mem) -------------------------------------------------------------
def temp_files_frequent(snapshots: list[Snapshot], s: AnalysisSettings) -> list[Recommendation]:
    out = []
    advices = memory_advice(snapshots)
    for host, snaps in facts.by_host(snapshots, "postgres").items():
        files = facts.per_day(facts.counter_deltas(snaps, "temp_files"))
        size = facts.per_day(facts.counter_deltas(snaps, "temp_bytes"))
        if not files:
            continue
        files_day = sum(files.values()) / len(files)
        bytes_day = sum(size.values()) / len(size) if size else 0.0
        if files_day < s.temp_files_per_day and bytes_day < s.temp_bytes_per_day:
            continue
        work_mem = facts.pg_setting_bytes(snaps[-1]["data"], "work_mem")
        wm = _size_or_unknown(work_mem)
        tuned = advices.get(host)
        wanted = tuned.advice.recommended("work_mem") if tuned else None
        target = pg_size(wanted) if wanted else (pg_size(work_mem * 2) if work_mem else "8MB")
        if wanted and work_mem and work_mem >= wanted * s.pgtune_tolerance:
            # already at PGTune's value for this RAM and max_connections: more would risk
            # memory (max_connections × work_mem); find the queries that spill instead
            proposal = N_(
                "work_mem is already at PGTune's value ({wm}); set log_temp_files = 0 and look "
                "at the queries that write temporary files (large sorts/hashes) rather than "
                "raising work_mem further."
            )
        else:
            proposal = N_(
                "Raise work_mem: work_mem = '{target}' (PGTune) in postgresql.conf, keeping "
                "max_connections × work_mem within RAM; reload PostgreSQL."
            )
        out.append(
            Recommendation(
                rule="temp_files_frequent",
                host=host,
                severity="warning",
                change_class=MINOR,
                evidence={
                    "temp_files_per_day": round(files_day, 1),
                    "temp_bytes_per_day": int(bytes_day),
                    "days": len(files),
                    "work_mem_bytes": work_mem,
                },
                texts=texts(
                    N_("Frequent temporary files on {host}"),
                    N_(
                        "On average {files} temporary files ({size}) per day over {days} days; "
                        "work_mem {wm}."
                    ),
                    proposal,
                    host=host,
                    files=lambda lang, n=files_day: num(n, lang),
                    size=lambda lang, n=bytes_day: human_bytes(n, lang),
                    days=len(files),
                    wm=wm,
                    target=target,
                ),
            )
        )
    return out


# -- connections near max_connections ------------------------------------------------------------
def connections_near_max(snapshots: list[Snapshot], s: AnalysisSettings) -> list[Recommendation]:
    out = []
    for host, snaps in facts.by_host(snapshots, "postgres").items():
        peak: tuple[float, int, int, Snapshot] | None = None
        for snap in snaps:
            used, limit = facts.pg_connections(snap["data"]), facts.pg_max_connections(snap["data"])
            if used is None or not limit:
                continue
            if peak is None or used / limit > peak[0]:
                peak = (used / limit, used, limit, snap)
        if peak is None or peak[0] < s.connections_percent / 100:
            continue
        ratio, used, limit, snap = peak
        at = facts.taken_at(snap)
        when = at.isoformat(timespec="minutes")
        out.append(
            Recommendation(
                rule="connections_near_max",
                host=host,
                severity="critical" if ratio >= 0.95 else "warning",
                change_class=MINOR,
                evidence={
                    "peak_connections": used,
                    "max_connections": limit,
                    "peak_ratio": round(ratio, 3),
                    "at": when,
                    "threshold": s.connections_percent / 100,
                },
                texts=texts(
                    N_("Database connections near the limit on {host}"),
                    N_("Peak of {used} of {limit} connections ({ratio}) at {when}."),
                    N_(
                        "Check SPSE's connection pool size (db.pool.maxSize) and idle sessions; if "
                        "needed raise max_connections in postgresql.conf (mind work_mem × "
                        "connections) and restart PostgreSQL."
                    ),
                    host=host,
                    used=used,
                    limit=limit,
                    ratio=lambda lang, r=ratio: pct(r, lang, 0),
                    when=lambda lang, at=at: long_datetime(at, lang),
                ),
            )
        )
    return out


# -- slow and frequent queries ---------------------------------------------------------------------
def slow_frequent_query(snapshots: list[Snapshot], s: AnalysisSettings) -> list[Recommendation]:
    out = []
    for host, queries in _queries_by_host(snapshots).items():
        slow = [
            q
            for q in queries.values()
            if (q["calls"] >= s.slow_query_min_calls and q["mean_ms"] >= s.slow_query_mean_ms)
            or q["max_ms"] >= s.database.long_query_seconds * 1000
        ]
        slow.sort(key=lambda q: q["total_ms"], reverse=True)
        out += [_slow_query_recommendation(host, q) for q in slow[: s.slow_query_max_reported]]
    return out


def _queries_by_host(snapshots: list[Snapshot]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per host, per query: calls/mean/max/total. pg_stat_statements (latest snapshot:
    its counters are cumulative) wins; log summaries (per period: summed) fill in."""
    found: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for host, snaps in facts.by_host(snapshots, "postgres").items():
        for row in facts.pg_statements(snaps[-1]["data"]):
            found[host][_normal(row["query"])] = _query(row, row.get("calls"), "pg_stat_statements")
    for host, snaps in facts.by_host(snapshots, "logs").items():
        if found.get(host):
            continue
        merged: dict[str, dict[str, Any]] = {}
        for snap in snaps:
            for summary in facts.log_summaries(snap["data"]):
                if facts.is_spse_summary(summary):
                    continue
                for row in summary.get("queries") or []:
                    _merge_log_query(merged, row)
        found[host].update(merged)
    return {h: q for h, q in found.items() if q}


def _normal(text: str) -> str:
    return " ".join(str(text).split())


def _query(row: dict[str, Any], calls: Any, source: str) -> dict[str, Any]:
    return {
        "query": _normal(row.get("query") or row.get("example") or row.get("fingerprint") or ""),
        "calls": int(facts.number(calls) or 0),
        "mean_ms": facts.number(row.get("mean_ms")) or 0.0,
        "max_ms": facts.number(row.get("max_ms")) or 0.0,
        "total_ms": facts.number(row.get("total_ms")) or 0.0,
        "source": source,
    }


def _merge_log_query(merged: dict[str, dict[str, Any]], row: dict[str, Any]) -> None:
    key = _normal(row.get("fingerprint") or row.get("example") or "")
    if not key:
        return
    new = _query(row, row.get("count"), "logs")
    new["query"] = _normal(row.get("example") or key)
    old = merged.get(key)
    if old is None:
        merged[key] = new
        return
    old["calls"] += new["calls"]
    old["total_ms"] += new["total_ms"]
    old["max_ms"] = max(old["max_ms"], new["max_ms"])
    old["mean_ms"] = old["total_ms"] / old["calls"] if old["calls"] else 0.0


def _slow_query_recommendation(host: str, q: dict[str, Any]) -> Recommendation:
    subject = hashlib.sha1(q["query"].encode()).hexdigest()[:10]  # noqa: S324 - a label, not security
    short = q["query"][:160] + ("…" if len(q["query"]) > 160 else "")
    calls, mean, peak = q["calls"], q["mean_ms"], q["max_ms"]
    return Recommendation(
        rule="slow_frequent_query",
        host=host,
        subject=subject,
        severity="warning",
        change_class=MAJOR,
        evidence={
            "query": short,
            "calls": calls,
            "mean_ms": round(mean, 1),
            "max_ms": round(peak, 1),
            "total_ms": round(q["total_ms"], 1),
            "source": q["source"],
        },
        texts=texts(
            N_("Slow, frequent query on {host}: «{title}»"),
            N_("{calls} calls, mean {mean} ms, max {peak} ms: «{query}»"),
            N_(
                "Application change (an index or a rewritten query) in SPSE, which is LKPP's "
                "software: consult LKPP's ITO team with the query and the numbers above."
            ),
            host=host,
            title=_short(short, 50),
            calls=lambda lang: num(calls, lang),
            mean=lambda lang: num(mean, lang, 1),
            peak=lambda lang: num(peak, lang, 1),
            query=short,
        ),
    )


# -- rollbacks and deadlocks rising --------------------------------------------------------------
def rollback_deadlock_rising(
    snapshots: list[Snapshot], s: AnalysisSettings
) -> list[Recommendation]:
    out = []
    for host, snaps in facts.by_host(snapshots, "postgres").items():
        commits = facts.per_day(facts.counter_deltas(snaps, "xact_commit"))
        rollbacks = facts.per_day(facts.counter_deltas(snaps, "xact_rollback"))
        deadlocks = facts.per_day(facts.counter_deltas(snaps, "deadlocks"))
        days = sorted(set(commits) & set(rollbacks))
        if len(days) < 2:
            continue
        ratios = {
            d: rollbacks[d] / (commits[d] + rollbacks[d]) if commits[d] + rollbacks[d] else 0.0
            for d in days
        }
        early, late = _halves(days)
        r_early, r_late = _mean(ratios, early), _mean(ratios, late)
        d_early, d_late = _mean(deadlocks, early), _mean(deadlocks, late)
        rollback_rising = r_late >= s.rollback_percent / 100 and r_late > r_early * 1.5
        deadlock_rising = d_late >= s.deadlocks_per_day and d_late > d_early
        if not (rollback_rising or deadlock_rising):
            continue
        # the proposal asks to turn log_lock_waits on only when it is not on already
        lock_waits = (facts.pg_setting_text(snaps[-1]["data"], "log_lock_waits") or "").lower()
        out.append(
            _rollback_recommendation(
                host,
                days,
                ratios,
                deadlocks,
                (r_early, r_late, d_early, d_late),
                lock_waits in ("on", "true", "1"),
            )
        )
    return out


def _halves(days: list[str]) -> tuple[list[str], list[str]]:
    middle = len(days) // 2
    return days[:middle], days[middle:]


def _mean(values: dict[str, float], days: list[str]) -> float:
    present = [values.get(d, 0.0) for d in days]
    return sum(present) / len(present) if present else 0.0


def _rollback_recommendation(
    host: str,
    days: list[str],
    ratios: dict[str, float],
    deadlocks: dict[str, float],
    means: tuple[float, float, float, float],
    lock_waits_logged: bool = False,
) -> Recommendation:
    r_early, r_late, d_early, d_late = means
    return Recommendation(
        rule="rollback_deadlock_rising",
        host=host,
        severity="warning",
        change_class=MAJOR,
        evidence={
            "days": days,
            "rollback_ratio_by_day": {d: round(ratios[d], 4) for d in days},
            "deadlocks_by_day": {d: int(deadlocks.get(d, 0)) for d in days},
            "rollback_ratio_before": round(r_early, 4),
            "rollback_ratio_after": round(r_late, 4),
            "deadlocks_per_day_before": round(d_early, 2),
            "deadlocks_per_day_after": round(d_late, 2),
        },
        texts=texts(
            N_("Rollbacks/deadlocks rising on {host}"),
            N_(
                "Rollback ratio rose from {before} to {after}; deadlocks per day from "
                "{d_before} to {d_after} ({first} to {last})."
            ),
            N_(
                "Consult LKPP's ITO team about the failing transactions (the lock waits are in "
                "the PostgreSQL log: log_lock_waits is on): the cause lies in the SPSE "
                "application (LKPP's software)."
            )
            if lock_waits_logged
            else N_(
                "Enable log_lock_waits for evidence, then consult LKPP's ITO team about the "
                "failing transactions: the cause lies in the SPSE application (LKPP's software)."
            ),
            host=host,
            before=lambda lang: pct(r_early, lang),
            after=lambda lang: pct(r_late, lang),
            d_before=lambda lang: num(d_early, lang, 1),
            d_after=lambda lang: num(d_late, lang, 1),
            first=days[0],
            last=days[-1],
        ),
    )


# -- autovacuum lagging --------------------------------------------------------------------------
def autovacuum_lagging(snapshots: list[Snapshot], s: AnalysisSettings) -> list[Recommendation]:
    out = []
    for host, snaps in facts.by_host(snapshots, "postgres").items():
        lagging = []
        for table in facts.pg_tables(snaps[-1]["data"]):
            live = facts.number(table.get("live_tuples")) or 0.0
            dead = facts.number(table.get("dead_tuples")) or 0.0
            ratio = facts.number(table.get("dead_ratio"))
            ratio = ratio if ratio is not None else (dead / (live + dead) if live + dead else 0.0)
            if dead >= s.dead_tuple_min and ratio >= s.database.dead_tuples_max_percent / 100:
                name = ".".join(str(p) for p in (table.get("schema"), table.get("name")) if p)
                lagging.append(
                    {
                        "table": name,
                        "dead_tuples": int(dead),
                        "live_tuples": int(live),
                        "dead_ratio": round(ratio, 3),
                        "last_autovacuum": table.get("last_autovacuum"),
                    }
                )
        if lagging:
            out.append(_vacuum_recommendation(host, lagging))
    return out


def _vacuum_recommendation(host: str, lagging: list[dict[str, Any]]) -> Recommendation:
    def listing(lang: str) -> str:
        _ = gettext(lang)
        return ", ".join(
            _("{table} ({ratio} dead, {count})").format(
                table=t["table"],
                ratio=pct(t["dead_ratio"], lang, 0),
                count=num(t["dead_tuples"], lang),
            )
            for t in lagging
        )

    names = ", ".join(t["table"] for t in lagging)
    return Recommendation(
        rule="autovacuum_lagging",
        host=host,
        severity="warning",
        change_class=MINOR,
        evidence={"tables": lagging},
        texts=texts(
            N_("Autovacuum lagging on {host}"),
            N_("Tables with many dead rows: {listing}."),
            N_(
                "Run VACUUM (ANALYZE) on {names}; lower autovacuum_vacuum_scale_factor (e.g. "
                "0.05) for those tables or raise autovacuum_max_workers."
            ),
            host=host,
            listing=listing,
            names=names,
        ),
    )


# -- disk filling ----------------------------------------------------------------------------------
def disk_filling(snapshots: list[Snapshot], s: AnalysisSettings) -> list[Recommendation]:
    out = []
    for host, snaps in facts.by_host(snapshots, "system").items():
        for mount, points in _disk_points(snaps).items():
            rec = _disk_recommendation(host, mount, points, s)
            if rec:
                out.append(rec)
    return out


def _disk_points(snaps: list[Snapshot]) -> dict[str, list[tuple[float, dict[str, Any]]]]:
    mounts: dict[str, list[tuple[float, dict[str, Any]]]] = defaultdict(list)
    for snap in snaps:
        moment = facts.taken_at(snap).timestamp()
        for fs in snap["data"].get("filesystems") or []:
            if (
                isinstance(fs, dict)
                and fs.get("mount")
                and fs.get("fstype") not in PSEUDO_FILESYSTEMS
            ):
                if facts.number(fs.get("total")) and facts.number(fs.get("used")) is not None:
                    mounts[str(fs["mount"])].append((moment, fs))
    return mounts


def slope_per_day(points: list[tuple[float, float]]) -> float:
    """Least-squares growth (units per day) of (unix time, value) points."""
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return 0.0
    cov = sum((t - mean_t) * (v - mean_v) for t, v in points)
    return cov / var * DAY


def _disk_recommendation(
    host: str, mount: str, points: list[tuple[float, dict[str, Any]]], s: AnalysisSettings
) -> Recommendation | None:
    latest = points[-1][1]
    total, used = float(latest["total"]), float(latest["used"])
    free = facts.number(latest.get("free"))
    free = free if free is not None else total - used
    used_pct = facts.number(latest.get("used_percent")) or used / total * 100
    span_hours = (points[-1][0] - points[0][0]) / 3600
    growth = (
        slope_per_day([(t, float(fs["used"])) for t, fs in points])
        if span_hours >= s.disk_min_span_hours
        else 0.0
    )
    days_left = free / growth if growth > 0 else None
    filling = days_left is not None and days_left <= s.disk_days_warning
    if not filling and used_pct < s.disk_used_percent:
        return None
    critical = (days_left is not None and days_left <= 7) or used_pct >= 95

    def left(lang: str) -> str:
        _ = gettext(lang)
        if days_left is None:
            return _("not growing")
        return _("full in about {days} days").format(days=num(days_left, lang))

    return Recommendation(
        rule="disk_filling",
        host=host,
        subject=mount,
        severity="critical" if critical else "warning",
        change_class=MAJOR,
        evidence={
            "mount": mount,
            "total_bytes": int(total),
            "used_bytes": int(used),
            "free_bytes": int(free),
            "used_percent": round(used_pct, 1),
            "growth_bytes_per_day": int(growth),
            "days_until_full": round(days_left, 1) if days_left is not None else None,
            "samples": len(points),
            "span_hours": round(span_hours, 1),
        },
        texts=texts(
            N_("Disk {mount} on {host} filling up"),
            N_("{used} of {total} used ({percent}%), growing {growth}/day: {left}."),
            N_(
                "Add disk capacity for {mount} (new hardware: a major change, consult LKPP's ITO "
                "team); meanwhile move old logs and backups away."
            ),
            mount=mount,
            host=host,
            used=lambda lang: human_bytes(used, lang),
            total=lambda lang: human_bytes(total, lang),
            percent=lambda lang: num(used_pct, lang, 1),
            growth=lambda lang: human_bytes(growth, lang),
            left=left,
        ),
    )


# -- memory / CPU saturated for days ---------------------------------------------------------------
def memory_saturated(snapshots: list[Snapshot], s: AnalysisSettings) -> list[Recommendation]:
    def saturated(data: dict[str, Any]) -> float | None:
        mem = facts.number(facts.dig(data, "memory", "used_percent"))
        swap = facts.number(facts.dig(data, "swap", "used_percent"))
        if mem is None:
            return None
        hot = mem >= s.host.memory_warning_percent or (swap or 0) >= s.host.swap_warning_percent
        return mem if hot else -mem

    return _saturation(snapshots, s, "memory_saturated", saturated, "memory")


def cpu_saturated(snapshots: list[Snapshot], s: AnalysisSettings) -> list[Recommendation]:
    """Days on which CPU use (percent of all cores, 0–100) or the 15-minute load per core
    was over its threshold; the two are reported apart (a load of 20 on 4 cores is a load
    of 5 per core, not "CPU 500%")."""
    out = []
    for host, snaps in facts.by_host(snapshots, "system").items():
        days: dict[str, tuple[float | None, float | None]] = {}
        for snap in snaps:
            data = snap["data"]
            percent = facts.number(facts.dig(data, "cpu", "percent"))
            percent = min(100.0, max(0.0, percent)) if percent is not None else None
            load = facts.number(facts.dig(data, "load", "15"))
            cpus = facts.cpu_count(data)
            per_core = load / cpus if load is not None and cpus else None
            hot = (percent or 0) >= s.cpu_percent or (per_core or 0) >= s.host.load_per_core_warning
            if not hot:
                continue
            day = str(snap["day"])
            before = days.get(day, (None, None))
            days[day] = (_max(before[0], percent), _max(before[1], per_core))
        if len(days) < s.saturated_days:
            continue
        out.append(_cpu_recommendation(host, days, snaps[-1]["data"]))
    return out


def _max(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _cpu_recommendation(
    host: str, days: dict[str, tuple[float | None, float | None]], latest: dict[str, Any]
) -> Recommendation:
    listing = ", ".join(sorted(days))
    peak_percent = max((p for p, _ in days.values() if p is not None), default=None)
    peak_load = max((lo for _, lo in days.values() if lo is not None), default=None)
    cpus = facts.cpu_count(latest)

    def peaks(lang: str) -> str:
        _ = gettext(lang)
        parts = []
        if peak_percent is not None:
            parts.append(
                _("CPU {percent} of all cores").format(percent=num(peak_percent, lang, 1) + "%")
            )
        if peak_load is not None:
            parts.append(_("load {load} per core").format(load=num(peak_load, lang, 2)))
        return ", ".join(parts)

    return Recommendation(
        rule="cpu_saturated",
        host=host,
        severity="critical",
        change_class=MAJOR,
        evidence={
            "days_saturated": len(days),
            "days": sorted(days),
            "peak_percent": round(peak_percent, 1) if peak_percent is not None else None,
            "peak_load_per_core": round(peak_load, 2) if peak_load is not None else None,
            "cpu_count": cpus,
        },
        texts=texts(
            N_("CPU of {host} saturated for {days} days"),
            N_("CPU use/load above the threshold on {listing} (peaks: {peaks}; {cpus} CPUs)."),
            N_(
                "Add CPUs/vCPUs or replace the server (a hardware change: major, consult LKPP's "
                "ITO team)."
            ),
            host=host,
            days=len(days),
            listing=listing,
            peaks=peaks,
            cpus=cpus or "?",
        ),
    )


def _saturation(
    snapshots: list[Snapshot],
    s: AnalysisSettings,
    rule: str,
    measure: Callable[[dict[str, Any]], float | None],
    what: str,
) -> list[Recommendation]:
    """Days on which a host was saturated (a positive measure) at any sample."""
    out = []
    for host, snaps in facts.by_host(snapshots, "system").items():
        days: dict[str, float] = {}
        for snap in snaps:
            value = measure(snap["data"])
            if value is not None and value >= 0:
                days[str(snap["day"])] = max(days.get(str(snap["day"]), 0.0), value)
        if len(days) < s.saturated_days:
            continue
        out.append(_saturation_recommendation(rule, host, days, what, snaps[-1]["data"]))
    return out


def _saturation_recommendation(
    rule: str, host: str, days: dict[str, float], what: str, latest: dict[str, Any]
) -> Recommendation:
    peak = max(days.values())
    listing = ", ".join(sorted(days))
    evidence: dict[str, Any] = {
        "days_saturated": len(days),
        "days": sorted(days),
        "peak_percent": round(peak, 1),
    }
    if what != "memory":
        raise ValueError(f"saturation of {what!r}: only memory (CPU has cpu_saturated)")
    evidence["ram_bytes"] = facts.ram_bytes(latest)
    return Recommendation(
        rule=rule,
        host=host,
        severity="critical",
        change_class=MAJOR,
        evidence=evidence,
        texts=texts(
            N_("Memory of {host} saturated for {days} days"),
            N_("Memory/swap use above the threshold on {listing} (peak {peak}%, RAM {ram})."),
            N_("Add RAM to the server (a hardware change: major, consult LKPP's ITO team)."),
            host=host,
            days=len(days),
            listing=listing,
            peak=lambda lang: num(peak, lang, 1),
            ram=lambda lang: human_bytes(evidence["ram_bytes"], lang),
        ),
    )


# -- logging not configured for monitoring ---------------------------------------------------------
def logging_not_configured(snapshots: list[Snapshot], s: AnalysisSettings) -> list[Recommendation]:
    problems: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for host, snaps in facts.by_host(snapshots, "postgres").items():
        problems[host] += _postgres_logging_problems(snaps[-1])
    for host, snaps in facts.by_host(snapshots, "system").items():
        for log in snaps[-1]["data"].get("logs") or []:
            path = str(log.get("path")) if isinstance(log, dict) else ""
            if isinstance(log, dict) and log.get("exists") is False:
                problems[host].append(
                    _logging_problem(
                        path, "missing", N_("missing"), N_("make sure {path} is written"), path=path
                    )
                )
            elif isinstance(log, dict) and log.get("fresh") is False:
                problems[host].append(
                    _logging_problem(
                        path,
                        "stale",
                        N_("not updated"),
                        N_("find out why {path} is not updated"),
                        path=path,
                        age_seconds=log.get("age_seconds"),
                    )
                )
    return [
        _logging_recommendation(host, items) for host, items in sorted(problems.items()) if items
    ]


def _logging_problem(
    item: str, problem: str, problem_text: str, fix: str, **params: Any
) -> dict[str, Any]:
    """One finding: ``problem`` a stable code for the evidence, ``problem_text`` and ``fix``
    msgids formatted with ``params`` in each language."""
    return {"item": item, "problem": problem, "_text": problem_text, "_fix": fix, "_params": params}


def _postgres_logging_problems(snap: Snapshot) -> list[dict[str, Any]]:
    data, found = snap["data"], []
    if (facts.pg_setting_text(data, "logging_collector") or "").lower() == "off":
        found.append(
            _logging_problem("logging_collector", "off", N_("off"), N_("logging_collector = on"))
        )
    duration = facts.pg_setting_number(data, "log_min_duration_statement")
    if duration is not None and duration < 0:
        found.append(
            _logging_problem(
                "log_min_duration_statement",
                "-1 (disabled)",
                N_("-1 (disabled)"),
                N_("log_min_duration_statement = 1000"),
            )
        )
    prefix = facts.pg_setting_text(data, "log_line_prefix")
    if prefix is not None and "%t" not in prefix and "%m" not in prefix:
        found.append(
            _logging_problem(
                "log_line_prefix",
                f"{prefix!r} has no timestamp",
                N_("{prefix} has no timestamp"),
                N_("log_line_prefix = '%m [%p] %q%u@%d '"),
                prefix=repr(prefix),
            )
        )
    if "statements" in (snap.get("unavailable") or {}):
        found.append(
            _logging_problem(
                "pg_stat_statements",
                "not available",
                N_("not available"),
                N_("shared_preload_libraries = 'pg_stat_statements' and CREATE EXTENSION"),
            )
        )
    return found


def _logging_recommendation(host: str, items: list[dict[str, Any]]) -> Recommendation:
    def what(lang: str) -> str:
        _ = gettext(lang)
        return ", ".join(f"{i['item']}: {_(i['_text']).format(**i['_params'])}" for i in items)

    def fixes(lang: str) -> str:
        _ = gettext(lang)
        return "; ".join(_(i["_fix"]).format(**i["_params"]) for i in items)

    evidence = [
        {k: v for k, v in i.items() if not k.startswith("_")}
        | {k: v for k, v in i["_params"].items() if k == "age_seconds"}
        for i in items
    ]
    return Recommendation(
        rule="logging_not_configured",
        host=host,
        severity="warning",
        change_class=MINOR,
        evidence={"problems": evidence},
        texts=texts(
            N_("Logging not set up for monitoring on {host}"),
            N_("Found: {what}."),
            N_("Change the log settings: {fixes}; then reload/restart the service."),
            host=host,
            what=what,
            fixes=fixes,
        ),
    )


# -- recurring application errors ------------------------------------------------------------------
#: errors that mean a full disk or quota, whatever program wrote them: infrastructure,
#: not SPSE's code (ENOSPC, EDQUOT; PostgreSQL's "could not extend file")
STORAGE_FULL = re.compile(
    r"no space left on device|disk quota exceeded|\benospc\b|\bedquot\b|disk (is )?full"
    r"|could not extend file|could not write to file.*no space",
    re.IGNORECASE,
)


def _spse_errors(snaps: list[Snapshot]) -> dict[str, dict[str, Any]]:
    errors: dict[str, dict[str, Any]] = {}
    for snap in snaps:
        for summary in facts.log_summaries(snap["data"]):
            if facts.is_spse_summary(summary):
                for row in summary.get("errors") or []:
                    _merge_error(errors, row, str(snap["day"]))
    return errors


def _storage_full(error: dict[str, Any]) -> bool:
    return bool(STORAGE_FULL.search(f"{error['signature']} {error['example']}"))


def storage_full_errors(snapshots: list[Snapshot], s: AnalysisSettings) -> list[Recommendation]:
    """ "No space left on device" and its kin in the SPSE log: the disk, not the code."""
    out = []
    for host, snaps in facts.by_host(snapshots, "logs").items():
        full = [e for e in _spse_errors(snaps).values() if _storage_full(e)]
        if not full:
            continue
        count = sum(e["count"] for e in full)
        days = sorted({d for e in full for d in e["days"]})
        example = str(full[0]["example"])[:200]
        out.append(
            Recommendation(
                rule="storage_full_errors",
                host=host,
                severity="critical",
                change_class=MINOR,
                evidence={
                    "count": count,
                    "days": days,
                    "examples": [str(e["example"])[:300] for e in full[:5]],
                },
                texts=texts(
                    N_("Disk full according to the SPSE log on {host}"),
                    N_(
                        "{count} out-of-space errors over {days} days ({first} to {last}), "
                        "e.g. «{example}»."
                    ),
                    N_(
                        "Free disk space (old logs, temporary files, backups) and watch the "
                        "partition; if space stays short, request more disk (a hardware change: "
                        "major). Not a change to SPSE's code."
                    ),
                    host=host,
                    count=lambda lang, n=count: num(n, lang),
                    days=len(days),
                    first=days[0],
                    last=days[-1],
                    example=example,
                ),
            )
        )
    return out


def app_errors_recurring(snapshots: list[Snapshot], s: AnalysisSettings) -> list[Recommendation]:
    out = []
    for host, snaps in facts.by_host(snapshots, "logs").items():
        errors = _spse_errors(snaps)
        recurring = [
            e
            for e in errors.values()
            if e["count"] >= s.app_error_min_count
            and len(e["days"]) >= s.app_error_min_days
            and not _storage_full(e)  # storage_full_errors: the disk, not the code
        ]
        recurring.sort(key=lambda e: e["count"], reverse=True)
        out += [_app_error_recommendation(host, e) for e in recurring[: s.app_error_max_reported]]
    return out


def _merge_error(errors: dict[str, dict[str, Any]], row: dict[str, Any], day: str) -> None:
    signature = str(row.get("signature") or row.get("example") or "")
    count = int(facts.number(row.get("count")) or 0)
    if (
        not signature
        or not count
        or str(row.get("severity", "ERROR")).upper() not in ("ERROR", "FATAL", "SEVERE", "PANIC")
    ):
        return
    entry = errors.setdefault(
        signature,
        {
            "signature": signature,
            "count": 0,
            "days": set(),
            "example": row.get("example") or signature,
        },
    )
    entry["count"] += count
    entry["days"].add(day)


def _short(signature: str, width: int = 60) -> str:
    """What tells one error apart in a title: its signature, one line, cut at ``width``."""
    line = " ".join(signature.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _app_error_recommendation(host: str, e: dict[str, Any]) -> Recommendation:
    subject = hashlib.sha1(e["signature"].encode()).hexdigest()[:10]  # noqa: S324 - a label
    sig = e["signature"][:160]
    days = sorted(e["days"])
    return Recommendation(
        rule="app_errors_recurring",
        host=host,
        subject=subject,
        severity="warning",
        change_class=MAJOR,
        evidence={
            "signature": sig,
            "count": e["count"],
            "days": days,
            "example": str(e["example"])[:300],
        },
        texts=texts(
            N_("Recurring SPSE application error on {host}: «{title}»"),
            N_("{count} times over {days} days ({first} to {last}): «{signature}»"),
            N_(
                "An application change in SPSE (LKPP's software): consult LKPP's ITO team with "
                "the error example, its error code and the counts."
            ),
            host=host,
            title=_short(sig),
            count=lambda lang: num(e["count"], lang),
            days=len(days),
            first=days[0],
            last=days[-1],
            signature=sig,
        ),
    )


RULES: tuple[Callable[[list[Snapshot], AnalysisSettings], list[Recommendation]], ...] = (
    memory_settings,
    cache_hit_low,
    temp_files_frequent,
    connections_near_max,
    slow_frequent_query,
    rollback_deadlock_rising,
    autovacuum_lagging,
    disk_filling,
    memory_saturated,
    cpu_saturated,
    logging_not_configured,
    storage_full_errors,
    app_errors_recurring,
)


def merge_identical(found: list[Recommendation]) -> list[Recommendation]:
    """Findings that say the same (rule, host and title) are one, with their count in
    ``evidence["occurrences"]``: the report lists each once."""
    merged: dict[tuple[str, str, str], Recommendation] = {}
    for rec in found:
        key = (rec.rule, rec.host, rec.texts["en"]["title"])
        if key in merged:
            first = merged[key]
            first.evidence["occurrences"] = first.evidence.get("occurrences", 1) + 1
        else:
            merged[key] = rec
    return list(merged.values())


def analyze(
    snapshots: list[Snapshot], settings: AnalysisSettings | None = None
) -> list[Recommendation]:
    """All rules over the snapshots; major and critical findings first."""
    settings = settings or AnalysisSettings()
    found = merge_identical([rec for rule in RULES for rec in rule(snapshots, settings)])
    order = {"critical": 0, "warning": 1}
    return sorted(
        found,
        key=lambda r: (
            r.change_class != MAJOR,
            order.get(r.severity, 2),
            r.rule,
            r.host,
            r.subject,
        ),
    )
