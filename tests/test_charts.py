"""The monthly report's charts, read from matplotlib's figure objects (not pixels):
one colour per host across every panel and chart, one legend per figure, missing
data as gaps, the month's axis for a short period, locale tick labels."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import matplotlib.colors as mcolors
import matplotlib.dates as mdates

from lpsectl.reports import charts

WIB = ZoneInfo("Asia/Jakarta")
PERIOD = {"start": datetime(2026, 10, 1, tzinfo=WIB), "end": datetime(2026, 11, 1, tzinfo=WIB)}


def day(n: int, **values) -> dict:
    row = {"day": f"2026-10-{n:02d}", "cpu_percent": None, "load1": None}
    row.update({"memory_percent": None, "disk_percent": None})
    return row | values


def report(hosts: list[dict], databases: list[dict] | None = None) -> dict:
    return {
        "hosts": hosts,
        "database": databases or [],
        "tickets": {"total": 0},
        "web": [],
        "usage": None,
        "period": PERIOD,
    }


def colours_by_label(figure) -> dict[str, set[str]]:
    """host → the colours its lines have, over every panel of the figure."""
    found: dict[str, set[str]] = {}
    for ax in figure.axes:
        for line in ax.get_lines():
            label = line.get_label()
            if not label.startswith("_"):
                found.setdefault(label, set()).add(mcolors.to_hex(line.get_color()))
    return found


def legend_mapping(figure) -> dict[str, str]:
    (legend,) = figure.legends
    return {
        text.get_text(): mcolors.to_hex(handle.get_color())
        for text, handle in zip(legend.get_texts(), legend.legend_handles, strict=True)
        if hasattr(handle, "get_color")
    }


def test_one_colour_per_host_across_panels_and_charts_and_one_legend():
    # spse-db has no load and no CPU figure at all: its other lines keep its colour,
    # and spse-app's lines do not take it over
    app = {
        "name": "spse-app",
        "daily": [
            day(n, cpu_percent=20 + n, load1=1.5, memory_percent=50, disk_percent=60)
            for n in range(1, 11)
        ],
    }
    db = {
        "name": "spse-db",
        "daily": [day(n, memory_percent=70, disk_percent=40) for n in range(1, 11)],
    }
    extra = {
        "name": "spse-web",
        "daily": [
            day(n, cpu_percent=5, load1=0.2, memory_percent=30, disk_percent=20)
            for n in range(1, 11)
        ],
    }
    database = [
        {
            "host": "spse-db",
            "daily": [
                {
                    "day": f"2026-10-{n:02d}",
                    "xact_commit": 100,
                    "xact_rollback": 1,
                    "cache_hit_ratio": 0.99,
                }
                for n in range(1, 11)
            ],
        }
    ]
    figures = charts.monthly_figures(report([app, db, extra], database), "id")
    document = charts.document_colours(report([app, db, extra], database))
    assert len(set(document.values())) == 3

    resources = figures["resources"]
    used = colours_by_label(resources)
    assert used == {name: {document[name].lower()} for name in ("spse-app", "spse-db", "spse-web")}
    # one legend, for the figure, naming every host with its colour; no per-panel legends
    assert all(ax.get_legend() is None for ax in resources.axes)
    assert legend_mapping(resources) == {n: document[n].lower() for n in document}
    # the database chart: spse-db in the colour it has in the resource chart
    database_figure = figures["database"]
    assert colours_by_label(database_figure) == {"spse-db": {document["spse-db"].lower()}}
    assert all(ax.get_legend() is None for ax in database_figure.axes)
    assert legend_mapping(database_figure)["spse-db"] == document["spse-db"].lower()


def test_missing_days_are_gaps_not_joined_lines():
    rows = [day(n, cpu_percent=float(n)) for n in (1, 2, 3, 5, 6)]
    rows[2]["cpu_percent"] = None  # day 3 collected without a CPU figure, day 4 not at all
    figure = charts.resource_figure([{"name": "spse-app", "daily": rows}], "id", period=PERIOD)
    (line,) = figure.axes[0].get_lines()
    values = list(line.get_ydata())
    assert len(values) == 31  # every day of October
    assert values[:2] == [1.0, 2.0] and values[4:6] == [5.0, 6.0]
    assert math.isnan(values[2]) and math.isnan(values[3]) and all(map(math.isnan, values[6:]))


def test_one_day_of_data_gets_the_months_axis():
    figure = charts.resource_figure(
        [{"name": "spse-app", "daily": [day(15, cpu_percent=10.0)]}], "id", period=PERIOD
    )
    left, right = (mdates.num2date(x).date().isoformat() for x in figure.axes[0].get_xlim())
    assert (left, right) == ("2026-09-30", "2026-10-31")  # half a day either side


def test_tick_labels_use_the_locales_decimal_sign():
    figure = charts.resource_figure(
        [{"name": "spse-app", "daily": [day(1, load1=4.5), day(2, load1=1234.5)]}],
        "id",
        period=PERIOD,
    )
    formatter = figure.axes[1].yaxis.get_major_formatter()
    assert formatter(4.5, 0) == "4,5" and formatter(1234.5, 0) == "1.234,5"
    english = charts.resource_figure(
        [{"name": "spse-app", "daily": [day(1, load1=4.5)]}], "en", period=PERIOD
    )
    assert english.axes[1].yaxis.get_major_formatter()(1234.5, 0) == "1,234.5"


def test_ten_hosts_get_ten_colours_in_order():
    names = [f"h{i}" for i in range(30)]
    colours = charts.series_colours(names)
    assert [colours[n] for n in names[:8]] == list(charts.PALETTE)
    assert len({colours[n] for n in names[:28]}) == 28  # distinct up to 28 hosts
    assert colours["h28"] == charts.PALETTE[0]
