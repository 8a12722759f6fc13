"""Data of the daily performance report (Laporan Monitoring Kinerja), SOP 003 step 1.

Pure over the store: the last snapshot of the day per host, how many of the
day's runs reached each host, and alerts from thresholds in
``[thresholds.host]``. Feature sections (database, logs) plug in through
``DAILY_SECTIONS``.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from datetime import date, datetime, timedelta
from typing import Any

from lpsectl import i18n
from lpsectl.collect.run import UNREACHABLE_TYPES
from lpsectl.collect.schemas import query_snapshots
from lpsectl.config import Config
from lpsectl.i18n import N_, localize, translated
from lpsectl.render import number
from lpsectl.reports import DAILY_SECTIONS
from lpsectl.retention import require_whole
from lpsectl.store import Store, decode_json
from lpsectl.thresholds import HostThresholds, host_thresholds

log = logging.getLogger(__name__)


def build_daily(
    store: Store, config: Config, day: date, lang: str, now: datetime
) -> dict[str, Any]:
    require_whole(store, day, day, "the daily report")
    thresholds = host_thresholds(config)
    hosts = [host_entry(store, config, name, day) for name in host_names(store, config, day)]
    host_level = [alert for entry in hosts for alert in host_alerts(entry, thresholds, lang)]
    alerts = list(host_level)
    sections = {}
    for name, module_name in DAILY_SECTIONS:
        if importlib.util.find_spec(module_name) is None:
            continue  # that feature is not part of this installation
        module = importlib.import_module(module_name)
        section = module.build(store, config, day, lang)
        if section:
            sections[name] = section
            alerts += section.get("alerts", [])
    ordered = sorted(
        unique_alerts(alerts), key=lambda a: (a["severity"] != "critical", a["host"], a["item"])
    )
    ordered = [a | {"item_label": item_label(a["item"], lang)} for a in ordered]
    since_yesterday = changes_since_yesterday(store, config, day, hosts, host_level, lang)
    return {
        "report": "daily",
        "lpse": config.lpse.name,
        "date": day,
        "timezone": config.lpse.timezone,
        "generated_at": now,
        "verdict": verdict(hosts, ordered, lang) | {"since_yesterday": since_yesterday},
        "hosts": hosts,
        "alerts": ordered,
        "sections": sections,
    }


#: the first word of an alert's item (a stable key in --format json), as people read it
ITEM_WORDS = {
    "host": N_("server"),
    "memory": N_("memory"),
    "load": N_("load"),
    "service": N_("service"),
    "logs": N_("log summary"),
    "database log": N_("database log"),
    "web tender": N_("tender deadline"),
    "web check": N_("web check"),
    "certificate": N_("certificate"),
    "history": N_("history"),
    "usage": N_("SPSE usage"),
}


def item_label(item: str, lang: str) -> str:
    """An alert's item for a document: ``host`` → "server", ``log /a/b/app.log`` → "log app.log"
    (the full path stays in the item key and in the report's detail sections)."""
    words = translated(ITEM_WORDS, lang)
    if item in words:
        return str(words[item])
    head, _, rest = item.partition(" ")
    if head == "log" and "/" in rest:
        return f"log {rest.rstrip('/').rsplit('/', 1)[-1]}"
    if head in words and rest:
        return f"{words[head]} {rest}"
    return item


VERDICT = {
    "some": N_("{counts}. First: {host} — {item}: {message}"),
}


def verdict(hosts: list[dict[str, Any]], alerts: list[dict[str, str]], lang: str) -> dict[str, Any]:
    """The report's first line: normal, or how many critical/warning alerts and the worst one
    (``alerts`` sorted critical first). Shape: {text, critical, warning}."""
    words = translated(VERDICT, lang)
    ngettext = i18n.ngettext(lang)
    critical = sum(1 for a in alerts if a["severity"] == "critical")
    warning = len(alerts) - critical
    if not alerts:
        text = ngettext(
            "All services ran normally: {n} server monitored, no alerts.",
            "All services ran normally: {n} servers monitored, no alerts.",
            len(hosts),
        ).format(n=len(hosts))
    else:
        first = alerts[0]
        message = first["message"] if len(first["message"]) <= 120 else first["message"][:119] + "…"
        counts = ", ".join(
            [ngettext("{n} critical", "{n} critical", critical).format(n=critical)]
            + [ngettext("{n} warning", "{n} warnings", warning).format(n=warning)]
        )
        text = words["some"].format(
            counts=counts,
            host=first["host"],
            item=first["item_label"],
            message=message,
        )
    return {"text": text, "critical": critical, "warning": warning}


def changes_since_yesterday(
    store: Store,
    config: Config,
    day: date,
    hosts: list[dict[str, Any]],
    today: list[dict[str, str]],
    lang: str,
) -> dict[str, Any]:
    """The server checks' alerts (reachability, disk, memory, load, services, log files)
    new since the day before, ended, or of another severity. A server measured on only
    one of the two days is compared on its reachability alone (its disk alert did not end
    because it could not be read). Shape: {"new", "ended", "changed": [{host, item,
    item_label, severity}], "text": one sentence, or None without data the day before}."""
    thresholds = host_thresholds(config)
    before = day - timedelta(days=1)
    entries = [
        host_entry(store, config, name, before) for name in host_names(store, config, before)
    ]
    if all(e["status"] == "no-data" for e in entries):
        return {"new": [], "ended": [], "changed": [], "text": None}
    yesterday = [a for e in entries for a in host_alerts(e, thresholds, lang)]
    unmeasured = {
        e["name"] for e in [*entries, *hosts] if e["status"] in ("down", "uncollected", "no-data")
    }

    def keyed(alerts: list[dict[str, str]]) -> dict[tuple[str, str], dict[str, str]]:
        return {
            (a["host"], a["item"]): {
                "host": a["host"],
                "item": a["item"],
                "item_label": item_label(a["item"], lang),
                "severity": a["severity"],
            }
            for a in alerts
            if a["item"] == "host" or a["host"] not in unmeasured
        }

    _ = i18n.gettext(lang)
    now, then = keyed(today), keyed(yesterday)
    new = [now[k] for k in now if k not in then]
    ended = [then[k] for k in then if k not in now]
    changed = [now[k] for k in now if k in then and now[k]["severity"] != then[k]["severity"]]
    if not new and not ended and not changed:
        return {
            "new": [],
            "ended": [],
            "changed": [],
            "text": _("No change in the server checks since yesterday."),
        }
    ngettext = i18n.ngettext(lang)

    def listed(count: str, alerts: list[dict[str, str]]) -> str:
        return f"{count} (" + ", ".join(f"{a['host']} {a['item_label']}" for a in alerts) + ")"

    parts = []
    if new:
        parts.append(
            listed(ngettext("{n} new alert", "{n} new alerts", len(new)).format(n=len(new)), new)
        )
    if changed:
        parts.append(
            listed(
                ngettext("{n} of another severity", "{n} of another severity", len(changed)).format(
                    n=len(changed)
                ),
                changed,
            )
        )
    if ended:
        parts.append(
            listed(ngettext("{n} ended", "{n} ended", len(ended)).format(n=len(ended)), ended)
        )
    text = _("Since yesterday: {changes}.").format(changes="; ".join(parts))
    return {"new": new, "ended": ended, "changed": changed, "text": text}


def host_names(store: Store, config: Config, day: date) -> list[str]:
    """The configured hosts, in config order (a host no longer configured is not reported)."""
    return [h.name for h in config.hosts]


def host_entry(store: Store, config: Config, name: str, day: date) -> dict[str, Any]:
    runs = query_snapshots(
        store,
        "SELECT taken_at, ok, error, error_type, data, unavailable, shape_checked FROM snapshots "
        "WHERE host = ? AND kind = 'system' AND day = ? ORDER BY id",
        [name, day.isoformat()],
        "system",
    )
    roles = next((h.role for h in config.hosts if h.name == name), [])
    entry: dict[str, Any] = {
        "name": name,
        "roles": roles,
        "collections": len(runs),
        "reachable": sum(1 for r in runs if r["ok"]),
    }
    if not runs:
        return entry | {"status": "no-data", "error": None}
    last = runs[-1]
    if not last["ok"]:
        # "unreachable" only when it was (connect, host key, login); a host that answered
        # badly (timed out, flooded, wrong shape) could not be monitored: unknown, not down
        answered = last.get("error_type") and last["error_type"] not in UNREACHABLE_TYPES
        return entry | {
            "status": "uncollected" if answered else "down",
            "taken_at": last["taken_at"],
            "error": last["error"],
        }
    data = decode_json(last["data"], {})
    unavailable = decode_json(last["unavailable"], {})
    status = (
        "partial"
        if unavailable or any(not lg.get("exists") for lg in data.get("logs", []))
        else "up"
    )
    return entry | {
        "status": status,
        "taken_at": last["taken_at"],
        "unavailable": unavailable,
        **data,
    }


MESSAGES = {
    "down": N_("not reachable: {error}"),
    "uncollected": N_("reachable, but could not be monitored: {error}"),
    "no_data": N_("no data: nothing was collected on this date"),
    "used": N_("{pct} used"),  # pct with its sign: "91%"
    "load": N_("load {load} above the number of cores ({cores})"),
    "not_running": N_("not running ({detail})"),
    "log_missing": N_("file does not exist"),
    "log_stale": N_("not written for {minutes:.0f} min"),
    "log_unreadable": N_("not readable"),
}


def host_alerts(
    entry: dict[str, Any], limits: HostThresholds, lang: str = "id"
) -> list[dict[str, str]]:
    say = translated(MESSAGES, lang)
    name = entry["name"]
    if entry["status"] == "no-data":
        return [_alert("warning", name, "host", say["no_data"])]
    if entry["status"] in ("down", "uncollected"):
        return [
            _alert(
                "critical",
                name,
                "host",
                say[entry["status"]].format(error=localize(entry.get("error"), lang)),
            )
        ]
    alerts = []
    for fs in entry.get("filesystems", []):
        pct = fs.get("used_percent") or 0
        if pct >= limits.disk_warning_percent:
            severity = "critical" if pct >= limits.disk_critical_percent else "warning"
            alerts.append(
                _alert(severity, name, f"disk {fs['mount']}", say["used"].format(pct=f"{pct:.0f}%"))
            )
    memory = entry.get("memory") or {}
    if (memory.get("used_percent") or 0) >= limits.memory_warning_percent:
        alerts.append(
            _alert(
                "warning", name, "memory", say["used"].format(pct=f"{memory['used_percent']:.0f}%")
            )
        )
    swap = entry.get("swap") or {}
    if swap.get("total") and (swap.get("used_percent") or 0) >= limits.swap_warning_percent:
        alerts.append(
            _alert("warning", name, "swap", say["used"].format(pct=f"{swap['used_percent']:.0f}%"))
        )
    cores = (entry.get("cpu") or {}).get("count") or 0
    load15 = (entry.get("load") or {}).get("15")
    if cores and load15 is not None and load15 > cores * limits.load_per_core_warning:
        alerts.append(
            _alert(
                "warning",
                name,
                "load",
                say["load"].format(load=number(load15, lang, 2), cores=cores),
            )
        )
    for service, state in (entry.get("services") or {}).items():
        if state.get("expected") and state.get("running") is False:
            alerts.append(
                _alert(
                    "critical",
                    name,
                    f"service {service}",
                    say["not_running"].format(detail=localize(state.get("detail", ""), lang)),
                )
            )
    for logfile in entry.get("logs", []):
        alerts += _log_alerts(name, logfile, say)
    return alerts


def _log_alerts(host: str, logfile: dict[str, Any], say: dict[str, str]) -> list[dict[str, str]]:
    item = f"log {logfile['path']}"
    if not logfile.get("exists"):
        return [_alert("warning", host, item, say["log_missing"])]
    if not logfile.get("readable", True):
        return [_alert("warning", host, item, say["log_unreadable"])]
    if not logfile.get("fresh"):
        return [
            _alert(
                "warning",
                host,
                item,
                say["log_stale"].format(minutes=(logfile.get("age_seconds") or 0) / 60),
            )
        ]
    return []


#: alert items of which every message is a fact of its own (never merged)
EACH_ITS_OWN = ("logs", "web", "web tender", "web check", "usage")


def unique_alerts(alerts: list[dict[str, str]]) -> list[dict[str, str]]:
    """One alert per host and item: the first one raised (host checks come before sections).

    The log summariser's own warnings (item ``logs``) are each a different
    fact (a damaged .gz, a wrong prefix, a truncation), and so are a web address's
    outages and the tender deadlines they hit: all of them are kept.
    """
    seen: set[tuple[str, ...]] = set()
    kept = []
    for alert in alerts:
        key = (alert["host"], alert["item"]) + (
            (alert["message"],) if alert["item"] in EACH_ITS_OWN else ()
        )
        if key not in seen:
            seen.add(key)
            kept.append(alert)
    return kept


def _alert(severity: str, host: str, item: str, message: str) -> dict[str, str]:
    return {"severity": severity, "host": host, "item": item, "message": message}
