"""PNG charts for the monthly report, embedded in HTML as data: URIs.

matplotlib's object API with the Agg canvas: no display, no pyplot global
state, so it works from cron and from threads. A chart with nothing to draw
is not made at all (the template then shows no image, and the notes say why).
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

import matplotlib
import matplotlib.colors as mcolors
import matplotlib.dates as mdates
from babel.numbers import format_decimal
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

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
    "transactions_line": N_("transactions (solid)"),
    "rollbacks_line": N_("rollbacks (dashed)"),
}


#: Okabe & Ito's colour-blind-safe palette ("Color Universal Design", 2008), black last;
#: a host keeps its colour in every chart of the document (:func:`series_colours`)
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
)


#: past the eight of :data:`PALETTE`: matplotlib's tab20, then the whole list again
EXTRA = tuple(mcolors.to_hex(matplotlib.colormaps["tab20"](i)) for i in range(20))


def series_colours(names: Iterable[str]) -> dict[str, str]:
    """name → colour, in the order given (the report's host order): Okabe–Ito for the
    first eight, tab20 for the next twenty (28 distinct colours), repeating after."""
    unique = list(dict.fromkeys(names))
    colours = PALETTE + tuple(c for c in EXTRA if c.upper() not in PALETTE)
    return {name: colours[index % len(colours)] for index, name in enumerate(unique)}


def document_colours(report: dict[str, Any]) -> dict[str, str]:
    """One colour per host (then per web check) for the whole monthly document: the
    configured hosts first, in the report's order, so spse-db is the same colour in the
    resource, database and any other chart, present in a panel or not."""
    names = [h["name"] for h in report.get("hosts") or []]
    names += [db["host"] for db in report.get("database") or []]
    names += [c["name"] for c in report.get("web") or []]
    return series_colours(names)


def png_data_uri(figure: Figure) -> str:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    # no Software/date metadata: the same data gives the same bytes
    figure.savefig(buffer, format="png", dpi=96, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _days(rows: list[dict[str, Any]]) -> list[date]:
    return [date.fromisoformat(row["day"]) for row in rows]


def _month_days(period: dict[str, datetime] | None, rows: list[date]) -> tuple[date, date]:
    """The first and last day of the x axis: the report's period (one day of data still
    gets the month's axis, not one matplotlib stretches over years)."""
    if period:
        return period["start"].date(), (period["end"] - timedelta(days=1)).date()
    return (min(rows), max(rows)) if rows else (date.today(), date.today())


def _series(
    rows: list[dict[str, Any]],
    key: Callable[[dict[str, Any]], float | None],
    days: tuple[date, date] | None = None,
) -> tuple[list[date], list[float]]:
    """A value for every day from ``days[0]`` to ``days[1]`` (else the rows' own days), a day
    without a row or without the value as NaN: the line breaks there (a gap), it is not
    drawn across the missing days nor shifted to another host's colour."""
    by_day = {date.fromisoformat(row["day"]): row for row in rows}
    if days is None:
        every = sorted(by_day)
    else:
        every = [days[0] + timedelta(days=n) for n in range((days[1] - days[0]).days + 1)]
    values = []
    for one in every:
        row = by_day.get(one)
        value = key(row) if row is not None else None
        values.append(math.nan if value is None else float(value))
    return every, values


def itemgetter_or_none(key: str) -> Callable[[dict[str, Any]], float | None]:
    def get(row: dict[str, Any]) -> float | None:
        return row.get(key)

    return get


def _date_axis(ax: Axes, first: date, last: date) -> None:
    ax.set_xlim(
        mdates.date2num(datetime.combine(first, datetime.min.time()) - timedelta(hours=12)),
        mdates.date2num(datetime.combine(last, datetime.min.time()) + timedelta(hours=12)),
    )
    span = (last - first).days + 1
    ax.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, round(span / 8))))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d/%m"))
    ax.tick_params(axis="x", labelsize=7)


def _number_axis(ax: Axes, lang: str) -> None:
    """Tick labels with the locale's decimal sign (4,5 in Indonesian), as the tables."""
    ax.yaxis.set_major_formatter(
        FuncFormatter(lambda value, _pos: format_decimal(value, "#,##0.##", locale=lang))
    )


def _figure_legend(
    figure: Figure, colours: dict[str, str], names: list[str], extra: list[Line2D] | None = None
) -> None:
    """One legend for the whole figure, above its panels: every host of the figure with
    its document colour, whether or not each panel has data for it."""
    handles = [Line2D([], [], color=colours[n], marker=".", label=n) for n in names]
    handles += extra or []
    figure.legend(
        handles=handles,
        loc="outside upper center",
        ncols=min(len(handles), 6),
        fontsize=8,
        frameon=False,
    )


def resource_figure(
    hosts: list[dict[str, Any]],
    lang: str,
    colours: dict[str, str] | None = None,
    period: dict[str, datetime] | None = None,
) -> Figure | None:
    """Four panels (CPU, load, memory, fullest disk), one line per host, one legend."""
    if not any(h.get("daily") for h in hosts):
        return None
    labels = translated(LABELS, lang)
    colours = colours or series_colours(h["name"] for h in hosts)
    figure = Figure(figsize=(9, 6.4), layout="constrained")
    axes = figure.subplots(2, 2, sharex=True)
    all_days = [d for h in hosts for d in _days(h.get("daily") or [])]
    first, last = _month_days(period, all_days)
    for ax, metric in zip(
        axes.flat, ("cpu_percent", "load1", "memory_percent", "disk_percent"), strict=True
    ):
        for host in hosts:
            if host.get("daily"):
                days, values = _series(host["daily"], itemgetter_or_none(metric), (first, last))
                ax.plot(days, values, marker=".", color=colours[host["name"]], label=host["name"])
        ax.set_title(labels[metric], fontsize=10)
        ax.grid(alpha=0.3)
        _date_axis(ax, first, last)
        _number_axis(ax, lang)
        if metric != "load1":
            ax.set_ylim(0, 100.5)  # percentages
        else:
            ax.set_ylim(bottom=0)
    _figure_legend(figure, colours, [h["name"] for h in hosts])
    return figure


def database_figure(
    databases: list[dict[str, Any]],
    lang: str,
    colours: dict[str, str] | None = None,
    period: dict[str, datetime] | None = None,
) -> Figure | None:
    """Transactions (solid) and rollbacks (dashed) per day, and the daily cache hit ratio;
    a database server in its host colour."""
    if not any(db.get("daily") for db in databases):
        return None
    labels = translated(LABELS, lang)
    colours = colours or series_colours(db["host"] for db in databases)
    figure = Figure(figsize=(9, 3.9), layout="constrained")
    left, right = figure.subplots(1, 2)
    all_days = [d for db in databases for d in _days(db.get("daily") or [])]
    first, last = _month_days(period, all_days)
    for db in databases:
        rows, colour = db.get("daily") or [], colours[db["host"]]
        span = (first, last)
        days, total = _series(rows, lambda r: r["xact_commit"] + r["xact_rollback"], span)
        left.plot(days, total, marker=".", color=colour, label=db["host"])
        days, rollbacks = _series(rows, lambda r: r["xact_rollback"], span)
        left.plot(days, rollbacks, linestyle="--", color=colour)
        days, cache = _series(
            rows,
            lambda r: None if r["cache_hit_ratio"] is None else r["cache_hit_ratio"] * 100,
            span,
        )
        right.plot(days, cache, marker=".", color=colour, label=db["host"])
    left.set_title(labels["transactions"], fontsize=10)
    left.set_ylim(bottom=0)
    right.set_title(labels["cache"], fontsize=10)
    right.set_ylim(top=100.5)  # a ratio: nothing above 100 %
    for ax in (left, right):
        ax.grid(alpha=0.3)
        _date_axis(ax, first, last)
        _number_axis(ax, lang)
    styles = [
        Line2D([], [], color="#555555", label=labels["transactions_line"]),
        Line2D([], [], color="#555555", linestyle="--", label=labels["rollbacks_line"]),
    ]
    _figure_legend(figure, colours, [db["host"] for db in databases], styles)
    return figure


def ticket_figure(summary: dict[str, Any], lang: str) -> Figure | None:
    """Tickets per SOP group, and resolution compliance per priority."""
    if not summary.get("total"):
        return None
    labels = translated(LABELS, lang)
    figure = Figure(figsize=(9, 3.5), layout="constrained")
    left, right = figure.subplots(1, 2)
    groups = summary["groups"]
    left.bar([f"{g['code']}." for g in groups], [g["count"] for g in groups], color=PALETTE[0])
    left.set_title(labels["groups"], fontsize=10)
    priorities = [
        (p, c["percent"]) for p, c in summary["sla_by_priority"].items() if c["percent"] is not None
    ]
    right.bar([p for p, _ in priorities], [v for _, v in priorities], color=PALETTE[2])
    right.set_ylim(0, 100)
    right.set_title(labels["sla"], fontsize=10)
    for ax in (left, right):
        ax.grid(axis="y", alpha=0.3)
        _number_axis(ax, lang)
    return figure


def web_figure(
    checks: list[dict[str, Any]],
    lang: str,
    colours: dict[str, str] | None = None,
    period: dict[str, datetime] | None = None,
) -> Figure | None:
    """The SPSE address per day: availability (planned maintenance apart) and p95, a line
    per check, one legend."""
    if not any(c.get("daily") for c in checks):
        return None
    labels = translated(LABELS, lang)
    colours = colours or series_colours(c["name"] for c in checks)
    figure = Figure(figsize=(9, 3.9), layout="constrained")
    left, right = figure.subplots(1, 2)
    all_days = [d for c in checks for d in _days(c.get("daily") or [])]
    first, last = _month_days(period, all_days)
    shown = []
    for check in checks:
        rows = check.get("daily") or []
        if not rows:
            continue
        shown.append(check["name"])
        colour = colours[check["name"]]
        span = (first, last)
        days, availability = _series(rows, lambda d: d.get("availability_unplanned_percent"), span)
        left.plot(days, availability, marker=".", color=colour, label=check["name"])
        days, p95 = _series(rows, lambda d: d.get("p95_ms"), span)
        right.plot(days, p95, marker=".", color=colour, label=check["name"])
    left.set_title(labels["web_availability"], fontsize=10)
    left.set_ylim(bottom=0, top=100.5)
    right.set_title(labels["web_p95"], fontsize=10)
    right.set_ylim(bottom=0)
    for ax in (left, right):
        ax.grid(alpha=0.3)
        _date_axis(ax, first, last)
        _number_axis(ax, lang)
    _figure_legend(figure, colours, shown)
    return figure


def usage_figure(
    usage: dict[str, Any] | None, lang: str, period: dict[str, datetime] | None = None
) -> Figure | None:
    """SPSE's use: requests (bars) and visitors (line, own axis) per day; requests per hour
    of the day over the month."""
    if not usage or not usage.get("daily"):
        return None
    labels = translated(LABELS, lang)
    figure = Figure(figsize=(9, 3.9), layout="constrained")
    left, right = figure.subplots(1, 2)
    days = [date.fromisoformat(d["day"]) for d in usage["daily"]]
    left.bar(days, [d["requests"] for d in usage["daily"]], color=PALETTE[0])
    visitors = left.twinx()
    first, last = _month_days(period, days)
    every, counts = _series(usage["daily"], lambda d: d.get("visitors"), (first, last))
    visitors.plot(every, counts, color=PALETTE[3], marker=".")  # a day without data: a gap
    visitors.set_ylim(bottom=0)
    left.set_title(labels["usage_daily"], fontsize=10)
    _date_axis(left, first, last)
    _number_axis(left, lang)
    _number_axis(visitors, lang)
    hours = usage["hours"]
    right.bar(list(hours), list(hours.values()), color=PALETTE[2])
    right.set_title(labels["usage_hours"], fontsize=10)
    right.tick_params(axis="x", labelsize=7)
    _number_axis(right, lang)
    for ax in (left, right):
        ax.grid(axis="y", alpha=0.3)
    figure.legend(
        handles=[
            Patch(color=PALETTE[0], label=labels["requests"]),
            Line2D([], [], color=PALETTE[3], marker=".", label=labels["visitors"]),
        ],
        loc="outside upper center",
        ncols=2,
        fontsize=8,
        frameon=False,
    )
    return figure


def monthly_figures(report: dict[str, Any], lang: str) -> dict[str, Figure]:
    """name -> figure, only for charts that have data; one colour per host throughout."""
    colours = document_colours(report)
    period = report.get("period")
    figures = {
        "resources": resource_figure(report["hosts"], lang, colours, period),
        "database": database_figure(report["database"], lang, colours, period),
        "tickets": ticket_figure(report["tickets"], lang),
        "web": web_figure(report.get("web") or [], lang, colours, period),
        "usage": usage_figure(report.get("usage"), lang, period),
    }
    return {name: figure for name, figure in figures.items() if figure is not None}


def monthly_charts(report: dict[str, Any], lang: str) -> dict[str, str]:
    """name -> PNG data URI, only for charts that have data."""
    return {name: png_data_uri(figure) for name, figure in monthly_figures(report, lang).items()}
