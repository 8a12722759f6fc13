"""`lpsectl analyze`: recommendations from the history (SOP 003 steps 2 and 4)."""

from __future__ import annotations

import re
from datetime import datetime

import click

from lpsectl.analysis.history import load_snapshots, period_days, save_recommendations
from lpsectl.analysis.rules import Recommendation, analysis_settings, analyze
from lpsectl.commands._common import (
    dump_json,
    emit,
    format_option,
    info,
    output_option,
    pass_app,
    table,
)
from lpsectl.context import AppContext
from lpsectl.errors import UsageError

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@click.command("analyze")
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Analyse the window ([analysis] window_days, default 7) ending on this day (default today).",
)
@click.option(
    "--month", metavar="YYYY-MM", help="Analyse a whole month instead ('last': the month before)."
)
@click.option(
    "--fail-on-findings", is_flag=True, help="Exit 1 when there is any recommendation (for cron)."
)
@format_option("table", "json")
@output_option
@pass_app
def command(
    app: AppContext,
    day: datetime | None,
    month: str | None,
    fail_on_findings: bool,
    fmt: str,
    output: str | None,
) -> None:
    """Recommend database, configuration and hardware changes from the history.

    Rules look at the host, PostgreSQL and log snapshots stored by `lpsectl
    collect`: memory settings against PGTune's formulas, cache hit ratio,
    temporary files, connections, slow frequent queries, rollbacks and
    deadlocks, autovacuum, disk growth, memory/CPU saturation, logging, and
    recurring SPSE errors. Each recommendation has the numbers that made it
    fire, the proposed change, its class (minor/major) and route, and an id
    to turn it into a change request.

    \b
    Examples:
      lpsectl analyze                         the last 7 days
      lpsectl analyze --date 2026-11-21 --format json
      lpsectl analyze --month 2026-11 -o analisis.txt
      lpsectl analyze --month last            cron, before the monthly report
      lpsectl change new --from 12            a change request from recommendation 12
    """
    if day and month:
        raise UsageError("give either --date or --month, not both")
    if month == "last":
        from lpsectl.tickets import previous_month

        month = previous_month(app.now())
    if month and not MONTH.match(month):
        raise UsageError(f"--month {month!r} is not a month like 2026-11")
    settings = analysis_settings(app.config)
    period, first, last = period_days(
        day.date() if day else None, month, app.now().date(), settings.window_days
    )
    snapshots = load_snapshots(app.store, first, last)
    if not snapshots:
        info(app, f"no snapshots from {first} to {last}: run `lpsectl collect` first")
    recs = analyze(snapshots, settings)
    save_recommendations(app.store, period, recs, app.now())
    if fmt == "json":
        emit(
            dump_json(
                {
                    "period": period,
                    "from": first,
                    "to": last,
                    "snapshots": len(snapshots),
                    "recommendations": [r.to_dict(app.lang) for r in recs],
                }
            ),
            output,
        )
    else:
        emit(
            render_text(recs, app.lang, first.isoformat(), last.isoformat(), len(snapshots)), output
        )
    if fail_on_findings and recs:
        click.get_current_context().exit(1)


def render_text(recs: list[Recommendation], lang: str, first: str, last: str, count: int) -> str:
    head = f"Analysis of {first} .. {last} ({count} snapshots): {len(recs)} recommendation(s)"
    if not count:
        return head + "\nno snapshots in this period: run `lpsectl collect` first\n"
    if not recs:
        return head + "\n"
    rows = [
        [r.id, r.host, r.change_class, r.route, r.severity, r.to_dict(lang)["title"]] for r in recs
    ]
    lines = [head, "", table(rows, ["ID", "HOST", "CLASS", "ROUTE", "SEVERITY", "TITLE"]), ""]
    for rec in recs:
        data = rec.to_dict(lang)
        lines += [
            f"[{rec.id}] {data['title']} ({rec.rule})",
            f"    {data['finding']}",
            f"    -> {data['proposal']}",
            "",
        ]
    return "\n".join(lines)
