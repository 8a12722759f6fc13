"""Daily report section "usage" — Penggunaan SPSE: the day as the proxy's access log saw it.

From the day's access snapshots (``collect`` on hosts with ``access_logs``):
requests, visitors, the peak hour and minute, 5xx answers, the slowest routes
and the SPSE activities. A host with access logs but no figures for the day,
a file that could not be read, or a part of the history that could not be
decoded is an alert: an empty block is never shown as a quiet day.
"""

from __future__ import annotations

from datetime import date, timedelta

from lpsectl import usage
from lpsectl.collect.schemas import query_snapshots
from lpsectl.config import Config
from lpsectl.i18n import N_, translated
from lpsectl.logs.usage import error_rate, peak_hour, peak_minute, slowest_routes
from lpsectl.render import human_bytes, number
from lpsectl.store import Store, decode_json

LABELS = {
    "title": N_("SPSE usage"),
    "requests": N_("Requests"),
    "visitors": N_("Visitors (IP addresses)"),
    "estimated": N_("estimated"),
    "sent": N_("Data sent"),
    "peak_hour": N_("Busiest hour"),
    "peak_minute": N_("Busiest minute"),
    "errors": N_("5xx answers"),
    "slowest": N_("Slowest routes (p95)"),
    "activities": N_("SPSE activities"),
    "ok": N_("done"),
    "failed": N_("failed"),
    "route": N_("Route"),
    "count": N_("Count"),
    "no_data": N_(
        "no access log figures for this date (collect did not read the access logs of {hosts})"
    ),
    "unreadable": N_("access log not readable: {reason}"),
    "history": N_("part of the usage history could not be read: {reason}"),
    "none": N_("none"),
    "login": N_("login"),
    "bid_upload": N_("bid upload"),
    "download": N_("document download"),
    "announcement": N_("announcement view"),
}


def labels(lang: str) -> dict[str, str]:
    return translated(LABELS, lang)


def build(store: Store, config: Config, day: date | str, lang: str) -> dict | None:
    """The section for ``day``, or None when no configured host has access logs."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    hosts = [h.name for h in config.hosts if h.access_logs]
    if not hosts:
        return None
    lab = labels(lang)
    top = max([h.usage.get("top_clients", 10) for h in config.hosts if h.access_logs] or [10])
    days, problems = usage.access_days(store, hosts, day, day, top)
    figures = days.get(day.isoformat())
    alerts = [_alert("warning", "-", lab["history"].format(reason=p)) for p in problems[:5]]
    for host, reason in unreadable(store, hosts, day):
        alerts.append(_alert("warning", host, lab["unreadable"].format(reason=reason)))
    if figures is None or not figures["requests"]:
        alerts.append(
            _alert("warning", ", ".join(hosts), lab["no_data"].format(hosts=", ".join(hosts)))
        )
        return {"day": day.isoformat(), "hosts": hosts, "figures": None, "alerts": alerts}
    return {
        "day": day.isoformat(),
        "hosts": hosts,
        "figures": figures,
        "peak_hour": peak_hour(figures),
        "peak_minute": peak_minute(figures),
        "error_rate": error_rate(figures),
        "slowest": slowest_routes(figures, 5),
        "alerts": alerts,
    }


def unreadable(store: Store, hosts: list[str], day: date) -> list[tuple[str, str]]:
    """(host, reason) of the day's access files a collect run could not read, each once."""
    marks = ",".join("?" for _ in hosts)
    found: dict[tuple[str, str], str] = {}
    for row in query_snapshots(
        store,
        "SELECT host, ok, error, data, unavailable, shape_checked FROM snapshots "
        f"WHERE kind = ? AND day IN (?, ?) AND host IN ({marks}) ORDER BY id",
        # the day's runs and the next morning's, which reads the day's evening
        [usage.KIND, day.isoformat(), (day + timedelta(days=1)).isoformat(), *hosts],
        usage.KIND,
    ):
        if not row["ok"]:
            found[(row["host"], "run")] = row["error"] or "-"
            continue
        for path, reason in (decode_json(row["unavailable"], {}) or {}).items():
            found[(row["host"], path)] = reason
        for warning in (decode_json(row["data"], {}) or {}).get("warnings") or []:
            found[(row["host"], warning)] = warning
    return [(host, reason) for (host, _key), reason in found.items()]


def _alert(severity: str, host: str, message: str) -> dict[str, str]:
    return {"severity": severity, "host": host, "item": "usage", "message": message}


def activity_label(name: str, lang: str) -> str:
    return labels(lang).get(name, name)


def text(section: dict, lang: str) -> str:
    lab = labels(lang)
    lines = [f"== {lab['title']} =="]
    figures = section["figures"]
    if figures is None:
        lines.append(lab["none"])
        return "\n".join(lines) + "\n"
    visitors = number(figures["visitors"], lang, 0)
    if not figures["visitors_exact"]:
        visitors += f" ({lab['estimated']})"
    hour, minute = section["peak_hour"], section["peak_minute"]
    rate = section["error_rate"] or 0.0
    lines += [
        f"{lab['requests']}: {number(figures['requests'], lang, 0)}; {lab['visitors']}: {visitors}; "
        f"{lab['sent']}: {human_bytes(figures['bytes_out'], lang)}",
        f"{lab['peak_hour']}: {hour[0]}.00–{hour[0]}.59 ({number(hour[1], lang, 0)}); "
        f"{lab['peak_minute']}: {minute[0].replace(':', '.')} ({number(minute[1], lang, 0)})",
        f"{lab['errors']}: {number(figures['status'].get('5xx', 0), lang, 0)} "
        f"({number(rate * 100, lang, 2)}%)",
    ]
    if section["slowest"]:
        lines.append(f"{lab['slowest']}:")
        for route in section["slowest"]:
            lines.append(
                f"  {route['route']}: p95 {number(route['p95_ms'], lang, 0)} ms, "
                f"{number(route['count'], lang, 0)} ×"
            )
    if figures["activities"]:
        lines.append(
            f"{lab['activities']}: "
            + "; ".join(
                f"{activity_label(name, lang)} {number(c['ok'], lang, 0)} {lab['ok']}"
                + (f", {number(c['failed'], lang, 0)} {lab['failed']}" if c["failed"] else "")
                for name, c in sorted(figures["activities"].items())
            )
        )
    return "\n".join(lines) + "\n"
