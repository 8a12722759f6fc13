"""SPSE usage (issue 19): who used SPSE, how much and how fast, from the proxy's access log.

The settings (``[usage]``), what a collect run asks the server for, and the
figures the daily and monthly reports read: each access snapshot holds, per
event day, the counts of that run (:mod:`lpsectl.logs.usage` merges runs and
days). The parsing is :mod:`lpsectl.logs.access_remote`, run on the server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from lpsectl.collect.schemas import checked_row
from lpsectl.config import Config, HostConfig, load_section
from lpsectl.errors import ConfigError
from lpsectl.logs.access_remote import DEFAULT_ACTIVITIES, parse_statuses
from lpsectl.logs.usage import merge_days, sketch_problem
from lpsectl.retention import report_data
from lpsectl.store import Store

KIND = "access"
MAX_TOP_CLIENTS = 1000
ACTIVITY_KEYS = ("method", "route", "ok")


@dataclass
class UsageSettings:
    """``[usage]``: what the access log summaries keep."""

    #: client addresses kept per day with their request counts (0: none; personal data)
    top_clients: int = 10
    #: SPSE activities by route: {name = {method = "POST", route = "regex", ok = "300-399"}};
    #: empty: the shipped defaults (login, bid_upload, download, announcement)
    activities: dict[str, Any] = field(default_factory=dict)


def usage_settings(config: Config) -> UsageSettings:
    """``[usage]`` read and checked: ConfigError names the key and what is wrong."""
    settings = load_section(config, "usage", UsageSettings)
    if not 0 <= settings.top_clients <= MAX_TOP_CLIENTS:
        raise ConfigError(f"{config.source}: usage.top_clients must be within 0..{MAX_TOP_CLIENTS}")
    problem = activities_problem(settings.activities)
    if problem:
        raise ConfigError(f"{config.source}: usage.activities: {problem}")
    return settings


def activities_problem(activities: dict[str, Any]) -> str | None:
    """Why an activities table cannot be used (None: it can)."""
    for name, rule in activities.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", name):
            return f"{name!r}: a name is lowercase letters, digits and '_'"
        if not isinstance(rule, dict) or set(rule) - set(ACTIVITY_KEYS) or "route" not in rule:
            return f"{name}: a table with route (a regex) and optional method and ok (statuses)"
        if not all(isinstance(v, str) for v in rule.values()):
            return f"{name}: method, route and ok are strings"
        try:
            re.compile(rule["route"])
        except re.error as exc:
            return f"{name}.route is not a regular expression ({exc})"
        try:
            parse_statuses(rule.get("ok") or "100-599")
        except ValueError as exc:
            return f"{name}.ok: {exc}"
        if rule.get("method") and not re.fullmatch(r"[A-Za-z]{1,10}", rule["method"]):
            return f"{name}.method {rule['method']!r} is not an HTTP method"
    return None


def request_options(host: HostConfig) -> dict[str, Any]:
    """The ``access`` part of the summariser's request for ``host``."""
    settings = host.usage or {}
    return {
        "top_clients": settings.get("top_clients", 10),
        "activities": settings.get("activities") or DEFAULT_ACTIVITIES,
        "utc_offset_minutes": settings.get("utc_offset_minutes", 0),
    }


# -- what the reports read ----------------------------------------------------------------


def access_days(
    store: Store, hosts: list[str], first: date, last: date, top_clients: int = 10
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """{day: merged access day} over the hosts' access snapshots whose runs counted
    days within [first, last], and the problems met (unreadable parts, said, not counted).

    A run counts the days its lines fell on, so runs collected up to a day after
    ``last`` are read too (a run at 00.05 holds 23.55's requests)."""
    parts: dict[str, list[dict[str, Any]]] = {}
    problems: list[str] = []
    if not hosts or not store.has_table("snapshots"):
        return {}, problems
    marks = ",".join("?" for _ in hosts)
    # a run counts the days its lines fell on: the next morning's run holds the evening, and
    # a run after an outage or a backlog (read budget, a first read of an old log) holds
    # days long past; those are found by their day keys ('"2026-11-30"') in the JSON
    months = sorted(
        {(first + timedelta(days=i)).strftime("%Y-%m") for i in range((last - first).days + 1)}
    )
    later = " OR ".join("data LIKE ? OR rollup LIKE ?" for _ in months) or "0"
    patterns = [p for month in months for p in (f'%"{month}-__"%',) * 2]
    rows = store.iterate(
        "SELECT host, kind, taken_at, day, ok, data, shape_checked, rollup, error, pruned_on "
        "FROM snapshots "
        f"WHERE kind = ? AND ok = 1 AND host IN ({marks}) AND day >= ? "
        f"AND (day <= ? OR {later}) ORDER BY id",
        [KIND, *hosts, first.isoformat(), (last + timedelta(days=1)).isoformat(), *patterns],
    )
    wanted_first, wanted_last = first.isoformat(), last.isoformat()
    for raw in rows:
        # kept whole: its data (the top clients too); pruned: its roll-up, the same days
        row = report_data(raw) if raw.get("pruned_on") else checked_row(raw)
        data = row.get("data")  # decoded by checked_row / report_data
        if not row.get("ok"):
            problems.append(f"{row['host']} ({row['taken_at']}): {row.get('error') or 'unusable'}")
            continue
        if not isinstance(data, dict):
            continue
        for path, item in (data.get("files") or {}).items():
            for day, figures in (item.get("days") or {}).items():
                if not wanted_first <= day <= wanted_last:
                    continue
                problem = sketch_problem(figures) if isinstance(figures, dict) else "not a table"
                if problem:
                    problems.append(f"{row['host']} {path} {day} ({row['taken_at']}): {problem}")
                    continue
                parts.setdefault(day, []).append(figures)
    merged = {day: merge_days(found, top_clients) for day, found in sorted(parts.items())}
    return merged, problems


#: rows of the monthly tables
MONTH_TOP_ROUTES = 10
BUSIEST_DAYS = 5
#: a route is ranked by p95 only with at least this many timed requests in the month
MIN_TIMED_FOR_P95 = 100


def monthly_usage(
    store: Store, config: Config, first: date, last: date, stages: list[Any]
) -> dict[str, Any] | None:
    """The usage section of the monthly report (None when no host has access logs).

    ``stages``: the tender schedule (``committees.TenderStage``); the busiest days
    are shown with the stage deadlines that fell on them. Shape: {hosts, total,
    daily[{day, requests, visitors, visitors_exact, errors_5xx, bytes_out,
    peak_hour, activities}], hours{HH: n}, top_routes, slowest_routes,
    activities, busiest_days[{day, requests, deadlines[...]}], days_without_data,
    problems}."""
    from lpsectl.logs.usage import hours, peak_hour

    hosts = [h.name for h in config.hosts if h.access_logs]
    if not hosts:
        return None
    days, problems = access_days(store, hosts, first, last, top_clients=0)
    total = merge_days(days.values(), top_clients=0)
    daily = [
        {
            "day": day,
            "requests": figures["requests"],
            "visitors": figures["visitors"],
            "visitors_exact": figures["visitors_exact"],
            "errors_5xx": (figures.get("status") or {}).get("5xx", 0),
            "bytes_out": figures.get("bytes_out") or 0,
            "peak_hour": peak_hour(figures),
            "activities": figures.get("activities") or {},
        }
        for day, figures in days.items()
    ]
    wanted = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
    busiest = sorted(daily, key=lambda d: (-d["requests"], d["day"]))[:BUSIEST_DAYS]
    timed = [r for r in total["routes"] if (r.get("timed") or 0) >= MIN_TIMED_FOR_P95]
    return {
        "hosts": hosts,
        "total": {
            k: v for k, v in total.items() if k not in ("visitor_sketch", "top_clients", "routes")
        },
        "daily": daily,
        "hours": hours(total),
        "top_routes": total["routes"][:MONTH_TOP_ROUTES],
        "slowest_routes": sorted(timed, key=lambda r: (-r["p95_ms"], r["route"]))[
            :MONTH_TOP_ROUTES
        ],
        "activities": total["activities"],
        "busiest_days": [
            {
                "day": d["day"],
                "requests": d["requests"],
                "deadlines": deadlines_on(stages, date.fromisoformat(d["day"]), config),
            }
            for d in busiest
        ],
        "days_without_data": [day for day in wanted if day not in days],
        "problems": problems,
    }


def deadlines_on(stages: list[Any], day: date, config: Config) -> list[dict[str, str]]:
    """Tender stages whose deadline (the stage's end) falls on ``day`` (local time)."""
    return [
        {
            "stage": s.stage,
            "package": s.package,
            "committee": s.committee,
            "end": s.end.astimezone(config.tz).strftime("%H.%M"),
        }
        for s in stages
        if s.end.astimezone(config.tz).date() == day
    ]
