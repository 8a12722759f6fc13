"""`lpsectl report daily|monthly` — the performance reports."""

from __future__ import annotations

from datetime import date, timedelta

import click

from lpsectl.commands._common import dump_json, emit, format_option, output_option, pass_app
from lpsectl.commands._report_mail import email_report
from lpsectl.commands.report_monthly import monthly
from lpsectl.context import AppContext
from lpsectl.errors import UsageError
from lpsectl.lock import job_lock
from lpsectl.render import long_date, render
from lpsectl.reports import DAILY_SECTIONS
from lpsectl.reports.daily import build_daily
from lpsectl.reports.daily_text import (
    labels,
    log_rows,
    process_headers,
    process_rows,
    render_text,
    server_headers,
    server_rows,
    service_rows,
)
from lpsectl.timeutil import FIRST_YEAR, LAST_YEAR, in_range


@click.group("report")
def command() -> None:
    """The daily and monthly performance reports."""


def parse_day(text: str | None, today: date) -> date:
    """YYYY-MM-DD, 'today' (default) or 'yesterday' (what a morning cron job reports)."""
    if not text or text == "today":
        return today
    if text == "yesterday":
        return today - timedelta(days=1)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--date {text!r} is not a valid date (YYYY-MM-DD, 'today' or 'yesterday')"
        ) from None
    if not in_range(day.year):
        raise UsageError(f"--date {text!r} is outside {FIRST_YEAR}–{LAST_YEAR}")
    return day


@command.command("daily")
@click.option(
    "--date",
    "day",
    metavar="YYYY-MM-DD",
    help="Day to report: a date, 'today' (default, LPSE time) or 'yesterday'.",
)
@format_option("text", "html", "json")
@output_option
@click.option(
    "--email",
    "send_email",
    is_flag=True,
    help="Also e-mail it (text body, HTML attached) to [mail] head, through the outbox.",
)
@click.option(
    "--to",
    "recipients",
    multiple=True,
    metavar="ADDR",
    help="With --email: send to ADDR instead of [mail] head (repeatable).",
)
@pass_app
def daily(
    app: AppContext,
    day: str | None,
    fmt: str,
    output: str | None,
    send_email: bool,
    recipients: tuple[str, ...],
) -> None:
    """The daily performance report (Laporan Monitoring Kinerja), SOP 003 step 1.

    \b
    For each host: was it reachable, its resources, whether SPSE and
    PostgreSQL ran, whether the log system is alive; then alerts (disk,
    memory, load, service down, stale log) — from the snapshots that
    `lpsectl collect` stored that day. Indonesian by default
    (`lpsectl --lang en report daily` for English).

    \b
    Examples:
      lpsectl report daily
      lpsectl report daily --date 2026-11-20 --format html -o laporan.html
      lpsectl --lang en report daily --format json
      lpsectl report daily --date yesterday --email -o /dev/null   # cron, 06:00
    """
    if recipients and not send_email:
        raise UsageError("--to goes with --email (e.g. --email --to kepala@lpse.contoh.example)")
    if recipients:
        from lpsectl.mail import (
            addresses,  # checked before any work: a bad address is a usage error
        )

        addresses(recipients, "--to")
    now = app.now()
    with job_lock(app.config.data_dir, "report-daily"):
        report = build_daily(app.store, app.config, parse_day(day, now.date()), app.lang, now)
    if fmt == "json":
        emit(dump_json(report), output)
    elif fmt == "html":
        emit(render_daily_html(report, app.lang, app.templates_dir), output)
    else:
        emit(render_text(report, app.lang), output)
    if send_email:
        email_report(
            app,
            purpose="daily-report",
            key=report["date"].isoformat(),
            subject=f"{labels(app.lang)['title']} — {report['lpse']} — {long_date(report['date'], app.lang)}",
            text=render_text(report, app.lang),
            html=render_daily_html(report, app.lang, app.templates_dir),
            attachment_name=f"laporan-monitoring-kinerja-{report['date'].isoformat()}.html",
            to=list(recipients) or app.config.mail.head,
            generated_at=now,
        )


def render_daily_html(report: dict, lang: str, templates_dir: str) -> str:
    t = labels(lang)
    return render(
        "daily_report.html.j2",
        lang,
        templates_dir,
        report=report,
        t=t,
        server_headers=server_headers(t),
        server_rows=server_rows(report, t, lang),
        service_rows=service_rows(report, t, lang),
        log_rows=log_rows(report, t, lang),
        process_rows=process_rows(report, t, lang),
        process_headers=process_headers(t),
        section_templates=[
            (name, f"daily_{name}.html.j2")
            for name, _ in DAILY_SECTIONS
            if name in report["sections"]
        ],
    )


command.add_command(monthly)
