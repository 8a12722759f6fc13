"""Plain-text rendering of the daily report (tabulate tables), Indonesian or English."""

from __future__ import annotations

import importlib
from typing import Any

from tabulate import tabulate

from lpsectl.i18n import N_, localize, translated
from lpsectl.render import human_bytes, human_duration, long_date, long_datetime, number
from lpsectl.reports import DAILY_SECTIONS

LABELS: dict[str, str] = {
    "title": N_("Performance Monitoring Report"),
    "date": N_("Date"),
    "generated": N_("Generated"),
    "servers": N_("Server availability and resources"),
    "server": N_("Server"),
    "role": N_("Role"),
    "status": N_("Status"),
    "reached": N_("Reached"),
    "uptime": N_("Uptime"),
    "load": N_("Load 15 min"),
    "cpu": N_("CPU %"),
    "memory": N_("Memory %"),
    "disk": N_("Fullest disk"),
    "services": N_("Services"),
    "service": N_("Service"),
    "expected": N_("Expected"),
    "running": N_("Running"),
    "detail": N_("Detail"),
    "logs": N_("Log system (is monitoring active)"),
    "file": N_("File"),
    "size": N_("Size"),
    "age": N_("Last written"),
    "alerts": N_("Alerts"),
    "severity": N_("Severity"),
    "item": N_("Item"),
    "message": N_("Message"),
    "no_alerts": N_("No alerts."),
    "unavailable": N_("Data that could not be collected"),
    "top_cpu": N_("Top processes (CPU)"),
    "yes": N_("yes"),
    "no": N_("no"),
    "ago": N_("ago"),
    "up": N_("up"),
    "partial": N_("partial"),
    "down": N_("unreachable"),
    "uncollected": N_("not monitored"),
    "no-data": N_("no data"),
    "critical": N_("CRITICAL"),
    "warning": N_("warning"),
    "missing": N_("missing"),
    "stale": N_("stale"),
    "processes": N_("Busiest processes (last collection)"),
    "top_by": N_("By"),
    "by_cpu": N_("CPU"),
    "by_memory": N_("memory"),
    "process": N_("Process"),
    "user": N_("User"),
    "cpu_all": N_("CPU % (all cores)"),
    "rss": N_("Memory (RSS)"),
}


def labels(lang: str) -> dict[str, str]:
    return translated(LABELS, lang)


def _table(rows: list[list[Any]], headers: list[str]) -> str:
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def fullest_disk(entry: dict[str, Any]) -> str:
    filesystems = entry.get("filesystems") or []
    if not filesystems:
        return "-"
    fs = max(filesystems, key=lambda f: f.get("used_percent") or 0)
    return f"{fs['mount']} {fs['used_percent']:.0f}%"


def server_headers(t: dict[str, str]) -> list[str]:
    """The columns of :func:`server_rows`, in the report's language (text and HTML alike)."""
    keys = ("server", "role", "status", "reached", "uptime", "load", "cpu", "memory", "disk")
    return [t[key] for key in keys]


def server_rows(report: dict[str, Any], t: dict[str, str], lang: str) -> list[list[Any]]:
    rows = []
    for h in report["hosts"]:
        uptime = h.get("uptime_seconds")
        rows.append(
            [
                h["name"],
                "+".join(h.get("roles") or []) or "-",
                t.get(h["status"], h["status"]),
                f"{h['reachable']}/{h['collections']}",
                human_duration(uptime, lang) if uptime else "-",
                number(h["load"]["15"], lang, 2) if h.get("load") else "-",
                _pct((h.get("cpu") or {}).get("percent")),
                _pct((h.get("memory") or {}).get("used_percent")),
                fullest_disk(h),
            ]
        )
    return rows


def service_rows(report: dict[str, Any], t: dict[str, str], lang: str) -> list[list[Any]]:
    rows = []
    for h in report["hosts"]:
        for name, state in (h.get("services") or {}).items():
            if not state.get("expected") and not state.get("running"):
                continue
            running = {True: t["yes"], False: t["no"], None: "-"}[state.get("running")]
            rows.append(
                [
                    h["name"],
                    name,
                    t["yes"] if state.get("expected") else t["no"],
                    running,
                    localize(state.get("detail", ""), lang),
                ]
            )
    return rows


#: processes shown per server and measure (CPU, memory)
TOP_PROCESSES = 3


def process_rows(report: dict[str, Any], t: dict[str, str], lang: str) -> list[list[Any]]:
    """The busiest processes of each server at the last collection: the top by CPU
    (percent of all cores: psutil's per-process figure divided by the core count) and
    the top by resident memory."""
    rows = []
    for h in report["hosts"]:
        cores = (h.get("cpu") or {}).get("count") or 1
        for measure, key in (("cpu", "top_cpu"), ("memory", "top_mem")):
            for proc in (h.get(key) or [])[:TOP_PROCESSES]:
                if not isinstance(proc, dict):
                    continue
                cpu = proc.get("cpu_percent")
                rows.append(
                    [
                        h["name"],
                        t[f"by_{measure}"],
                        proc.get("name") or "-",
                        proc.get("user") or "-",
                        proc.get("pid") if proc.get("pid") is not None else "-",
                        f"{number(min(100.0, cpu / cores), lang, 1)}%" if cpu is not None else "-",
                        human_bytes(proc.get("rss"), lang),
                    ]
                )
    return rows


def process_headers(t: dict[str, str]) -> list[str]:
    return [t["server"], t["top_by"], t["process"], t["user"], "PID", t["cpu_all"], t["rss"]]


def log_rows(report: dict[str, Any], t: dict[str, str], lang: str) -> list[list[Any]]:
    rows = []
    for h in report["hosts"]:
        for lg in h.get("logs") or []:
            if not lg.get("exists"):
                rows.append([h["name"], lg["path"], "-", "-", t["missing"]])
                continue
            age = lg.get("age_seconds")
            when = f"{human_duration(age, lang)} {t['ago']}" if age is not None else "-"
            rows.append(
                [
                    h["name"],
                    lg["path"],
                    human_bytes(lg.get("size"), lang),
                    when,
                    "ok" if lg.get("fresh") else t["stale"],
                ]
            )
    return rows


def render_text(report: dict[str, Any], lang: str) -> str:
    t = labels(lang)
    generated = report["generated_at"]
    out = [
        f"{t['title']} — {report['lpse']}",
        f"{t['date']}: {long_date(report['date'], lang)}",
        f"{t['generated']}: {long_datetime(generated, lang)}",
        "",
        report["verdict"]["text"],
        *(
            [report["verdict"]["since_yesterday"]["text"]]
            if report["verdict"]["since_yesterday"]["text"]
            else []
        ),
        "",
        f"== {t['alerts']} ==",
    ]
    alerts = report["alerts"]
    if alerts:
        out.append(
            _table(
                [
                    [t.get(a["severity"], a["severity"]), a["host"], a["item_label"], a["message"]]
                    for a in alerts
                ],
                [t["severity"], t["server"], t["item"], t["message"]],
            )
        )
    else:
        out.append(t["no_alerts"])
    out += [
        "",
        f"== {t['servers']} ==",
        _table(server_rows(report, t, lang), server_headers(t)),
    ]
    services = service_rows(report, t, lang)
    if services:
        out += [
            "",
            f"== {t['services']} ==",
            _table(services, [t["server"], t["service"], t["expected"], t["running"], t["detail"]]),
        ]
    processes = process_rows(report, t, lang)
    if processes:
        out += ["", f"== {t['processes']} ==", _table(processes, process_headers(t))]
    logs = log_rows(report, t, lang)
    if logs:
        out += [
            "",
            f"== {t['logs']} ==",
            _table(logs, [t["server"], t["file"], t["size"], t["age"], t["status"]]),
        ]
    missing = [
        [h["name"], item, localize(reason, lang)]
        for h in report["hosts"]
        for item, reason in (h.get("unavailable") or {}).items()
    ]
    if missing:
        out += [
            "",
            f"== {t['unavailable']} ==",
            _table(missing, [t["server"], t["item"], t["detail"]]),
        ]
    for name, module_name in DAILY_SECTIONS:
        if name in report["sections"]:
            module = importlib.import_module(module_name)
            out += ["", module.text(report["sections"][name], lang).rstrip("\n")]
    return "\n".join(out) + "\n"
