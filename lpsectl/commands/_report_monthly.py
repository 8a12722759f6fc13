"""`lpsectl report monthly` — Laporan Kinerja Aplikasi SPSE (attached by commands/report.py)."""

from __future__ import annotations

import click

from lpsectl.commands._common import dump_json, emit, format_option, output_option, pass_app
from lpsectl.context import AppContext
from lpsectl.reports.monthly import build_monthly, render_monthly
from lpsectl.tickets import parse_month, previous_month


@click.command("monthly")
@click.option("--month", metavar="YYYY-MM", help="Month to report (default: last month, LPSE time).")
@format_option("text", "md", "html", "json")
@output_option
@pass_app
def monthly(app: AppContext, month: str | None, fmt: str, output: str | None) -> None:
    """The monthly report (Laporan Kinerja Aplikasi SPSE), SOP 003 steps 3-4.

    \b
    Server availability (share of collections in which every expected
    service ran), resource and database trends, the most frequent database
    and SPSE errors, the helpdesk tickets by the SOP's three groups
    (a. upload/download data, b. using SPSE, c. other) with SLA compliance
    and escalations, maintenance windows held and changes made or
    recommended. Whatever data is missing is listed at the end.
    Indonesian by default (--lang en); html has charts embedded as PNG.

    \b
    Examples:
      lpsectl report monthly
      lpsectl report monthly --month 2026-10 --format html -o laporan-2026-10.html
      lpsectl --lang en report monthly --month 2026-10 --format md
      lpsectl report monthly --month 2026-10 --format json
    """
    now = app.now()
    wanted = parse_month(month) if month else previous_month(now)
    report = build_monthly(app.store, app.config, wanted, app.lang, now)
    if fmt == "json":
        emit(dump_json(report), output)
    else:
        emit(render_monthly(report, fmt, app.lang, app.templates_dir), output)
