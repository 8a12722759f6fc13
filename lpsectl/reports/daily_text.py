"""Plain-text rendering of the daily report (tabulate tables), Indonesian or English."""

from __future__ import annotations

import importlib
from typing import Any

from tabulate import tabulate

from lpsectl.render import human_bytes, human_duration, long_date, long_datetime, number
from lpsectl.reports import DAILY_SECTIONS

LABELS: dict[str, dict[str, str]] = {
    "id": {
        "title": "Laporan Monitoring Kinerja",
        "date": "Tanggal",
        "generated": "Dibuat",
        "servers": "Ketersediaan dan sumber daya server",
        "server": "Server",
        "role": "Peran",
        "status": "Status",
        "reached": "Terjangkau",
        "uptime": "Uptime",
        "load": "Load 15 mnt",
        "cpu": "CPU %",
        "memory": "Memori %",
        "disk": "Disk terpenuh",
        "services": "Layanan",
        "service": "Layanan",
        "expected": "Diharapkan",
        "running": "Berjalan",
        "detail": "Keterangan",
        "logs": "Sistem log (apakah monitoring aktif)",
        "file": "Berkas",
        "size": "Ukuran",
        "age": "Terakhir ditulis",
        "alerts": "Peringatan",
        "severity": "Tingkat",
        "item": "Item",
        "message": "Pesan",
        "no_alerts": "Tidak ada peringatan.",
        "unavailable": "Data yang tidak dapat dikumpulkan",
        "top_cpu": "Proses teratas (CPU)",
        "yes": "ya",
        "no": "tidak",
        "ago": "lalu",
        "up": "aktif",
        "partial": "sebagian",
        "down": "tidak terjangkau",
        "uncollected": "tidak terpantau",
        "no-data": "tidak ada data",
        "critical": "KRITIS",
        "warning": "peringatan",
        "missing": "tidak ada",
        "stale": "tidak diperbarui",
    },
    "en": {
        "title": "Performance Monitoring Report",
        "date": "Date",
        "generated": "Generated",
        "servers": "Server availability and resources",
        "server": "Server",
        "role": "Role",
        "status": "Status",
        "reached": "Reached",
        "uptime": "Uptime",
        "load": "Load 15 min",
        "cpu": "CPU %",
        "memory": "Memory %",
        "disk": "Fullest disk",
        "services": "Services",
        "service": "Service",
        "expected": "Expected",
        "running": "Running",
        "detail": "Detail",
        "logs": "Log system (is monitoring active)",
        "file": "File",
        "size": "Size",
        "age": "Last written",
        "alerts": "Alerts",
        "severity": "Severity",
        "item": "Item",
        "message": "Message",
        "no_alerts": "No alerts.",
        "unavailable": "Data that could not be collected",
        "top_cpu": "Top processes (CPU)",
        "yes": "yes",
        "no": "no",
        "ago": "ago",
        "up": "up",
        "partial": "partial",
        "down": "unreachable",
        "uncollected": "not monitored",
        "no-data": "no data",
        "critical": "CRITICAL",
        "warning": "warning",
        "missing": "missing",
        "stale": "stale",
    },
}


def labels(lang: str) -> dict[str, str]:
    return LABELS.get(lang, LABELS["en"])


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


def service_rows(report: dict[str, Any], t: dict[str, str]) -> list[list[Any]]:
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
                    state.get("detail", ""),
                ]
            )
    return rows


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
        "",
        f"== {t['alerts']} ==",
    ]
    alerts = report["alerts"]
    if alerts:
        out.append(
            _table(
                [
                    [t.get(a["severity"], a["severity"]), a["host"], a["item"], a["message"]]
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
    services = service_rows(report, t)
    if services:
        out += [
            "",
            f"== {t['services']} ==",
            _table(services, [t["server"], t["service"], t["expected"], t["running"], t["detail"]]),
        ]
    logs = log_rows(report, t, lang)
    if logs:
        out += [
            "",
            f"== {t['logs']} ==",
            _table(logs, [t["server"], t["file"], t["size"], t["age"], t["status"]]),
        ]
    missing = [
        [h["name"], item, reason]
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
