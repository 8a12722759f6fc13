"""PNG charts for the monthly report, embedded in HTML as data: URIs.

matplotlib's object API with the Agg canvas: no display, no pyplot global
state, so it works from cron and from threads. A chart with nothing to draw
is not made at all (the template then shows no image, and the notes say why).
"""

from __future__ import annotations

import base64
import io
from datetime import date
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lpsectl.i18n import N_, translated

LABELS = {
    "cpu_percent": N_("CPU (%)"),
    "load1": N_("Load (1 min)"),
    "memory_percent": N_("Memory (%)"),
    "disk_percent": N_("Fullest disk (%)"),
    "transactions": N_("Transactions per day"),
    "rollbacks": N_("Rollbacks per day"),
    "cache": N_("Cache hit (%)"),
    "groups": N_("Tickets per group"),
    "sla": N_("Resolved in time per priority (%)"),
    "web_p95": N_("Response time p95 per day (ms)"),
    "web_availability": N_("Availability per day (%, planned maintenance apart)"),
    "usage_daily": N_("Requests and visitors per day"),
    "usage_hours": N_("Requests per hour (the month)"),
    "requests": N_("requests"),
    "visitors": N_("visitors"),
}


def png_data_uri(figure: Figure) -> str:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    # no Software/date metadata: the same data gives the same bytes
    figure.savefig(buffer, format="png", dpi=96, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _days(rows: list[dict[str, Any]]) -> list[date]:
    return [date.fromisoformat(row["day"]) for row in rows]


def resource_chart(hosts: list[dict[str, Any]], lang: str) -> str | None:
    """Four panels (CPU, load, memory, fullest disk), one line per host."""
    if not any(h.get("daily") for h in hosts):
        return None
    labels = translated(LABELS, lang)
    figure = Figure(figsize=(9, 6), layout="constrained")
    axes = figure.subplots(2, 2, sharex=True)
    for ax, metric in zip(
        axes.flat, ("cpu_percent", "load1", "memory_percent", "disk_percent"), strict=True
    ):
        for host in hosts:
            points = [
                (d, row[metric])
                for d, row in zip(_days(host["daily"]), host["daily"], strict=True)
                if row[metric] is not None
            ]
            if points:
                ax.plot(
                    [p[0] for p in points], [p[1] for p in points], marker=".", label=host["name"]
                )
        ax.set_title(labels[metric], fontsize=10)
        ax.grid(alpha=0.3)
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    axes.flat[0].legend(fontsize=8)
    return png_data_uri(figure)


def database_chart(databases: list[dict[str, Any]], lang: str) -> str | None:
    """Transactions and rollbacks per day, and the daily cache hit ratio."""
    if not any(db.get("daily") for db in databases):
        return None
    labels = translated(LABELS, lang)
    figure = Figure(figsize=(9, 3.5), layout="constrained")
    left, right = figure.subplots(1, 2)
    for db in databases:
        days = _days(db["daily"])
        left.plot(
            days,
            [r["xact_commit"] + r["xact_rollback"] for r in db["daily"]],
            marker=".",
            label=f"{db['host']}: {labels['transactions']}",
        )
        left.plot(
            days,
            [r["xact_rollback"] for r in db["daily"]],
            linestyle="--",
            label=f"{db['host']}: {labels['rollbacks']}",
        )
        cache = [
            (d, r["cache_hit_ratio"] * 100)
            for d, r in zip(days, db["daily"], strict=True)
            if r["cache_hit_ratio"] is not None
        ]
        right.plot([c[0] for c in cache], [c[1] for c in cache], marker=".", label=db["host"])
    left.set_title(labels["transactions"], fontsize=10)
    right.set_title(labels["cache"], fontsize=10)
    right.set_ylim(top=100.5)  # a ratio: nothing above 100 %
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        ax.legend(fontsize=7)
    return png_data_uri(figure)


def ticket_chart(summary: dict[str, Any], lang: str) -> str | None:
    """Tickets per SOP group, and resolution compliance per priority."""
    if not summary.get("total"):
        return None
    labels = translated(LABELS, lang)
    figure = Figure(figsize=(9, 3.5), layout="constrained")
    left, right = figure.subplots(1, 2)
    groups = summary["groups"]
    left.bar([f"{g['code']}." for g in groups], [g["count"] for g in groups], color="#2b6cb0")
    left.set_title(labels["groups"], fontsize=10)
    priorities = [
        (p, c["percent"]) for p, c in summary["sla_by_priority"].items() if c["percent"] is not None
    ]
    right.bar([p for p, _ in priorities], [v for _, v in priorities], color="#2f855a")
    right.set_ylim(0, 100)
    right.set_title(labels["sla"], fontsize=10)
    for ax in (left, right):
        ax.grid(axis="y", alpha=0.3)
    return png_data_uri(figure)


def web_chart(checks: list[dict[str, Any]], lang: str) -> str | None:
    """The SPSE address per day: availability (planned maintenance apart) and p95, a line
    per check."""
    if not any(c.get("daily") for c in checks):
        return None
    labels = translated(LABELS, lang)
    figure = Figure(figsize=(9, 3.5), layout="constrained")
    left, right = figure.subplots(1, 2)
    for check in checks:
        days = _days(check.get("daily") or [])
        if not days:
            continue
        left.plot(
            days,
            [d["availability_unplanned_percent"] for d in check["daily"]],
            marker=".",
            label=check["name"],
        )
        right.plot(days, [d["p95_ms"] for d in check["daily"]], marker=".", label=check["name"])
    left.set_title(labels["web_availability"], fontsize=10)
    left.set_ylim(bottom=0, top=100.5)
    right.set_title(labels["web_p95"], fontsize=10)
    right.set_ylim(bottom=0)
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    left.legend(fontsize=7)
    return png_data_uri(figure)


def usage_chart(usage: dict[str, Any] | None, lang: str) -> str | None:
    """SPSE's use: requests (bars) and visitors (line, own axis) per day; requests per hour
    of the day over the month."""
    if not usage or not usage.get("daily"):
        return None
    labels = translated(LABELS, lang)
    figure = Figure(figsize=(9, 3.5), layout="constrained")
    left, right = figure.subplots(1, 2)
    days = [date.fromisoformat(d["day"]) for d in usage["daily"]]
    left.bar(
        days, [d["requests"] for d in usage["daily"]], color="#2b6cb0", label=labels["requests"]
    )
    visitors = left.twinx()
    visitors.plot(
        days,
        [d["visitors"] for d in usage["daily"]],
        color="#c05621",
        marker=".",
        label=labels["visitors"],
    )
    visitors.set_ylim(bottom=0)
    left.set_title(labels["usage_daily"], fontsize=10)
    left.tick_params(axis="x", labelrotation=45, labelsize=7)
    handles = left.get_legend_handles_labels()[0] + visitors.get_legend_handles_labels()[0]
    left.legend(handles=handles, fontsize=7, loc="upper left")
    hours = usage["hours"]
    right.bar(list(hours), list(hours.values()), color="#2f855a")
    right.set_title(labels["usage_hours"], fontsize=10)
    right.tick_params(axis="x", labelsize=7)
    for ax in (left, right):
        ax.grid(axis="y", alpha=0.3)
    return png_data_uri(figure)


def monthly_charts(report: dict[str, Any], lang: str) -> dict[str, str]:
    """name -> data URI, only for charts that have data."""
    charts = {
        "resources": resource_chart(report["hosts"], lang),
        "database": database_chart(report["database"], lang),
        "tickets": ticket_chart(report["tickets"], lang),
        "web": web_chart(report.get("web") or [], lang),
        "usage": usage_chart(report.get("usage"), lang),
    }
    return {name: uri for name, uri in charts.items() if uri}
