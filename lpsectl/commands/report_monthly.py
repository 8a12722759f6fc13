"""`lpsectl report monthly` — Laporan Kinerja Aplikasi SPSE (attached by commands/report.py)."""

from __future__ import annotations

from typing import Any

import click

from lpsectl.commands._common import dump_json, emit, format_option, output_option, pass_app
from lpsectl.commands._report_mail import email_report
from lpsectl.context import AppContext
from lpsectl.i18n import N_, gettext
from lpsectl.reports.monthly import build_monthly, month_label, render_monthly
from lpsectl.tickets import parse_month, previous_month

#: the monthly report e-mail's subject (a catalog message)
SUBJECT = N_("SPSE Application Performance Report {month} — {lpse}")


@click.command("monthly")
@click.option(
    "--month", metavar="YYYY-MM", help="Month to report (default: last month, LPSE time)."
)
@format_option("text", "md", "html", "json")
@output_option
@click.option(
    "--email",
    "send_email",
    is_flag=True,
    help="Also e-mail the report to the Kepala LPSE ([mail] head): text in the body, "
    "the HTML document with charts attached; kept in the outbox until sent.",
)
@click.option(
    "--all-hosts",
    is_flag=True,
    help="Also the hosts no longer in the config (their history is kept).",
)
@pass_app
def monthly(
    app: AppContext,
    month: str | None,
    fmt: str,
    output: str | None,
    send_email: bool,
    all_hosts: bool,
) -> None:
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
      lpsectl report monthly --email          # cron, on the 1st of each month
    """
    now = app.now()
    wanted = parse_month(month) if month else previous_month(now)
    report = build_monthly(app.store, app.config, wanted, app.lang, now, all_hosts)
    if fmt == "json":
        emit(dump_json(report), output)
    else:
        emit(render_monthly(report, fmt, app.lang, app.templates_dir), output)
    if send_email:
        _email_to_head(app, report)


def _email_to_head(app: AppContext, report: dict[str, Any]) -> None:
    month = report["month"]
    email_report(
        app,
        purpose="monthly-report",
        key=month,
        subject=gettext(app.lang)(SUBJECT).format(
            month=month_label(month, app.lang), lpse=report["lpse"]
        ),
        text=render_monthly(report, "text", app.lang, app.templates_dir),
        html=render_monthly(report, "html", app.lang, app.templates_dir),
        attachment_name=f"laporan-kinerja-spse-{month}.html",
        to=app.config.mail.head,
        generated_at=report["generated_at"],
    )
