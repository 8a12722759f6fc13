"""SPSE usage from access logs, this side: shapes, merging days and runs, the figures.

The counting happens on the server (:mod:`lpsectl.logs.access_remote`); what
comes back is one dict per event day and collection run ("an access day"):

    {"requests": int, "bytes_out": int, "bytes_in": int | None,
     "status": {"2xx": int, ...}, "minutes": {"HH:MM": int},
     "routes": [{"route", "count", "total_ms", "max_ms", "p50_ms", "p95_ms",
                 "histogram": {bucket: int}, "errors_5xx", "timed"}],
     "routes_dropped": int, "activities": {name: {"ok": int, "failed": int}},
     "visitors": int, "visitors_exact": bool, "visitor_sketch": {...},
     "top_clients": [[address, int]], "timed": bool, "first": iso, "last": iso}

Several runs (and files) of one day, or the days of a month, merge into one
such dict with :func:`merge_days`; visitors merge through their sketches, so a
day split over many runs still counts an address once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lpsectl.logs.access_remote import Visitors, capped, percentile

#: routes kept in a merged figure (the rest is summed as "(other)")
MERGED_ROUTES = 200

_INT = {"type": "integer", "minimum": 0}
_COUNTS = {"type": "object", "additionalProperties": _INT}
ACCESS_DAY = {
    "type": "object",
    "required": ["requests", "status", "minutes", "routes", "visitors", "visitor_sketch"],
    "properties": {
        "requests": _INT,
        "bytes_out": _INT,
        "bytes_in": {"type": ["integer", "null"], "minimum": 0},
        "status": _COUNTS,
        "minutes": {
            "type": "object",
            "propertyNames": {"pattern": r"^([01]\d|2[0-3]):[0-5]\d$"},
            "additionalProperties": _INT,
        },
        "routes": {
            "type": "array",
            "maxItems": 5000,
            "items": {
                "type": "object",
                "required": ["route", "count"],
                "properties": {
                    "route": {"type": "string", "maxLength": 400},
                    "count": _INT,
                    "total_ms": {"type": "number", "minimum": 0},
                    "max_ms": {"type": "number", "minimum": 0},
                    "histogram": {
                        "type": "object",
                        "propertyNames": {"pattern": r"^\d{1,3}$"},
                        "additionalProperties": _INT,
                    },
                    "errors_5xx": _INT,
                    "timed": _INT,
                },
            },
        },
        "activities": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["ok", "failed"],
                "properties": {"ok": _INT, "failed": _INT},
            },
        },
        "visitors": _INT,
        "visitors_exact": {"type": "boolean"},
        "visitor_sketch": {"type": "object"},
        "top_clients": {
            "type": "array",
            "items": {
                "type": "array",
                "minItems": 2,
                "maxItems": 2,
                "prefixItems": [{"type": "string", "maxLength": 100}, _INT],
            },
        },
        "first": {"type": ["string", "null"]},
        "last": {"type": ["string", "null"]},
    },
}


def sketch_problem(day: dict[str, Any]) -> str | None:
    """Why a day's visitor sketch cannot be read (None: it can)."""
    try:
        Visitors.from_json(day.get("visitor_sketch"))
    except (ValueError, TypeError) as exc:
        return f"its visitor sketch is not readable ({exc})"
    return None


def merge_days(days: Iterable[dict[str, Any]], top_clients: int = 10) -> dict[str, Any]:
    """Access days (runs of a day, days of a month) → one access day of their sum.

    Visitors are counted once over all of them (their sketches merge). The top
    clients are summed over the lists each part kept: with more than one part a
    count is a lower bound (a client outside one run's list lost that run's
    requests), and ``top_clients_complete`` is false."""
    merged: dict[str, Any] = {
        "requests": 0,
        "bytes_out": 0,
        "bytes_in": None,
        "status": {},
        "minutes": {},
        "routes_dropped": 0,
        "activities": {},
        "first": None,
        "last": None,
        "timed": False,
    }
    routes: dict[str, dict[str, Any]] = {}
    visitors = Visitors()
    exact = True
    clients: dict[str, int] = {}
    listed = 0
    complete = True
    for day in days:
        complete = complete and day.get("top_clients_complete", True) is not False
        merged["requests"] += day.get("requests") or 0
        merged["bytes_out"] += day.get("bytes_out") or 0
        if day.get("bytes_in") is not None:
            merged["bytes_in"] = (merged["bytes_in"] or 0) + day["bytes_in"]
        merged["timed"] = merged["timed"] or bool(day.get("timed"))
        _add(merged["status"], day.get("status") or {})
        _add(merged["minutes"], day.get("minutes") or {})
        merged["routes_dropped"] += day.get("routes_dropped") or 0
        for name, counts in (day.get("activities") or {}).items():
            into = merged["activities"].setdefault(name, {"ok": 0, "failed": 0})
            _add(into, counts)
        for route in day.get("routes") or []:
            _merge_route(routes, route)
        visitors.merge(Visitors.from_json(day.get("visitor_sketch") or {}))
        exact = exact and bool(day.get("visitors_exact", True))
        if day.get("top_clients"):
            listed += 1
        for address, count in day.get("top_clients") or []:
            clients[address] = clients.get(address, 0) + count
        for key, pick in (("first", min), ("last", max)):
            if day.get(key):
                merged[key] = day[key] if merged[key] is None else pick(merged[key], day[key])
    count, sketch_exact = visitors.count()
    merged["visitors"] = count
    merged["visitors_exact"] = exact and sketch_exact
    merged["visitor_sketch"] = visitors.to_json()
    merged["top_clients_complete"] = complete and listed <= 1
    merged["top_clients"] = [
        [a, n] for a, n in sorted(clients.items(), key=lambda kv: (-kv[1], kv[0]))[:top_clients]
    ]
    merged["routes"] = _route_list(routes)
    return merged


def _add(into: dict[str, Any], values: dict[str, Any]) -> None:
    for key, value in values.items():
        into[key] = into.get(key, 0) + value


def _merge_route(into: dict[str, dict[str, Any]], route: dict[str, Any]) -> None:
    entry = into.get(route["route"])
    if entry is None:
        entry = into[route["route"]] = {
            "route": route["route"],
            "count": 0,
            "total_ms": 0.0,
            "max_ms": 0.0,
            "histogram": {},
            "errors_5xx": 0,
            "timed": 0,
        }
    entry["count"] += route.get("count") or 0
    entry["total_ms"] += route.get("total_ms") or 0.0
    entry["max_ms"] = max(entry["max_ms"], route.get("max_ms") or 0.0)
    entry["errors_5xx"] += route.get("errors_5xx") or 0
    entry["timed"] += route.get("timed") or 0
    _add(entry["histogram"], route.get("histogram") or {})


def _route_list(routes: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    ordered = sorted(routes.values(), key=lambda r: (-r["count"], r["route"]))
    kept, rest = ordered[:MERGED_ROUTES], ordered[MERGED_ROUTES:]
    if rest:
        other = routes.get("(other)") or {"route": "(other)"}
        for route in rest:
            if route is not other:
                _merge_route(routes, {**route, "route": "(other)"})
        kept = [r for r in kept if r["route"] != "(other)"] + [routes["(other)"]]
    for route in kept:
        histogram = route["histogram"]
        route["total_ms"] = round(route["total_ms"], 3)
        route["p50_ms"] = capped(percentile(histogram, 0.5), route["max_ms"])
        route["p95_ms"] = capped(percentile(histogram, 0.95), route["max_ms"])
        route["mean_ms"] = round(route["total_ms"] / route["timed"], 3) if route["timed"] else None
    return kept


def hours(day: dict[str, Any]) -> dict[str, int]:
    """Requests per hour ('08' → n) from a day's minutes; all 24 hours present."""
    out = {f"{h:02d}": 0 for h in range(24)}
    for minute, count in (day.get("minutes") or {}).items():
        out[minute[:2]] = out.get(minute[:2], 0) + count
    return out


def peak_hour(day: dict[str, Any]) -> tuple[str, int] | None:
    """('08', requests) of the busiest hour (the earliest on a tie); None without requests."""
    per_hour = hours(day)
    best = max(per_hour.items(), key=lambda kv: (kv[1], -int(kv[0])))
    return best if best[1] else None


def peak_minute(day: dict[str, Any]) -> tuple[str, int] | None:
    """('08:05', requests) of the busiest minute (the earliest on a tie)."""
    minutes = day.get("minutes") or {}
    if not minutes:
        return None
    minute = min(minutes, key=lambda m: (-minutes[m], m))
    return minute, minutes[minute]


def error_rate(day: dict[str, Any]) -> float | None:
    """Share of 5xx answers among all requests (0..1); None without requests."""
    requests = day.get("requests") or 0
    return (day.get("status") or {}).get("5xx", 0) / requests if requests else None


def slowest_routes(
    day: dict[str, Any], count: int = 5, min_requests: int = 20
) -> list[dict[str, Any]]:
    """Routes by p95 time, those with at least ``min_requests`` timed requests."""
    timed = [r for r in day.get("routes") or [] if (r.get("timed") or 0) >= min_requests]
    return sorted(timed, key=lambda r: (-(r.get("p95_ms") or 0.0), r["route"]))[:count]


def usage_text(result: dict[str, Any], top: int = 20) -> str:
    """`logs summarize` of an access log as text: the whole, then a line per day."""
    from tabulate import tabulate

    total = result["total"]
    files = ", ".join(result.get("files", [])) or "(log)"
    visitors = f"{total['visitors']:,}" + ("" if total["visitors_exact"] else " (estimated)")
    lines = [
        f"{files}: access log, {result['lines']:,} lines, {result['bytes'] / 1048576:.1f} MiB",
        f"from {result.get('start') or '-'} to {result.get('end') or '-'}",
        f"requests {total['requests']:,}, visitors {visitors}, "
        f"sent {total['bytes_out'] / 1048576:.1f} MiB, status "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(total["status"].items())),
        "",
    ]
    rows = []
    for day, figures in sorted(result["days"].items()):
        hour = peak_hour(figures)
        minute = peak_minute(figures)
        rows.append(
            [
                day,
                figures["requests"],
                figures["visitors"],
                f"{hour[0]}:00 ({hour[1]})" if hour else "-",
                f"{minute[0]} ({minute[1]})" if minute else "-",
                (figures.get("status") or {}).get("5xx", 0),
            ]
        )
    lines.append(tabulate(rows, ["day", "requests", "visitors", "peak hour", "peak minute", "5xx"]))
    lines.append("")
    route_rows = [
        [
            r["count"],
            _ms(r.get("p50_ms"), r),
            _ms(r.get("p95_ms"), r),
            _ms(r.get("max_ms"), r),
            r["errors_5xx"],
            r["route"],
        ]
        for r in total["routes"][:top]
    ]
    lines.append(tabulate(route_rows, ["count", "p50 ms", "p95 ms", "max ms", "5xx", "route"]))
    if total["activities"]:
        lines += [
            "",
            "SPSE activities: "
            + ", ".join(
                f"{name} {c['ok']:,} ok / {c['failed']:,} failed"
                for name, c in sorted(total["activities"].items())
            ),
        ]
    lines.append(f"Unparsed lines: {result['unparsed']}")
    return "\n".join(lines) + "\n"


def _ms(value: float | None, route: dict[str, Any]) -> str:
    return "-" if value is None or not route.get("timed") else f"{value:.1f}"
