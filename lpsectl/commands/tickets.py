"""`lpsectl tickets import|list|sla` — helpdesk tickets (SOP 001) and their SLA."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from lpsectl import tickets as core
from lpsectl.commands._common import (
    at_option,
    dump_json,
    emit,
    format_option,
    info,
    output_option,
    pass_app,
    table,
)
from lpsectl.context import AppContext
from lpsectl.errors import ExitCode

CHECK_LABELS = {
    "response": "first response",
    "priority": "priority set",
    "data_reply": "data reply",
    "resolution": "resolution",
}


@click.group("tickets")
def command() -> None:
    """Helpdesk tickets from "LPSE Support" exports: import, list, SLA (SOP 001).

    \b
    Examples:
      lpsectl tickets import export-oktober.csv
      lpsectl tickets list --month 2026-10 --group a
      lpsectl tickets sla --month 2026-10 --fail-on-breach
    """


@command.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Read and check the files, store nothing.")
@format_option("table", "json")
@pass_app
def import_(app: AppContext, files: tuple[Path, ...], dry_run: bool, fmt: str) -> None:
    """Import ticket exports (CSV or JSON); re-importing updates, never duplicates.

    Columns are found by their header (the LPSE Support names by default; map
    others in [tickets.columns]). Dates may be ISO, 16/10/2026 07:03,
    16-10-2026 07.03 or 16 Okt 2026 07:03 WIB; files may be UTF-8 (with or
    without BOM) or Windows-1252, separated by ',' or ';'. Rows that cannot be
    read are listed with their line numbers and the rest is imported; exit
    code 3 when any row was skipped.

    \b
    Examples:
      lpsectl tickets import tiket-2026-10.csv
      lpsectl tickets import --dry-run --format json tiket.json
    """
    settings = core.ticket_settings(app.config)
    summaries = []
    for path in files:
        parsed = core.read_export(path, settings, app.config.tz)
        if dry_run:
            summary = core.ImportSummary(
                parsed.source,
                parsed.rows,
                0,
                0,
                0,
                sum(p.skipped for p in parsed.problems),
                parsed.problems,
                parsed.missing_columns,
            )
        else:
            summary = core.save_tickets(app.store, parsed, app.now())
        summaries.append(summary)
    if fmt == "json":
        emit(dump_json({"dry_run": dry_run, "files": summaries}))
    else:
        emit("\n\n".join(_import_text(s, dry_run) for s in summaries))
    if any(s.skipped for s in summaries):
        click.get_current_context().exit(int(ExitCode.PARTIAL))


def _import_text(summary: core.ImportSummary, dry_run: bool) -> str:
    lines = [
        f"{summary.source}: {summary.rows} rows; "
        + (
            f"{summary.rows - summary.skipped} readable (dry run, nothing stored)"
            if dry_run
            else f"{summary.inserted} new, {summary.updated} updated, {summary.unchanged} unchanged"
        )
        + f", {summary.skipped} skipped"
    ]
    if summary.missing_columns:
        lines.append(
            "columns not in the file (add them with these headers, or map yours in "
            "[tickets.columns]): " + ", ".join(f'"{name}"' for name in summary.missing_columns)
        )
        data_step = {"Data Diminta", "Data Diterima"} & set(summary.missing_columns)
        if data_step:
            lines.append(
                "without "
                + " and ".join(f'"{n}"' for n in sorted(data_step))
                + " the 15-minute data step (SOP 001) cannot be judged"
            )
    if summary.problems:
        rows = [
            (
                p.line,
                p.ticket or "-",
                p.field or "-",
                "skipped" if p.skipped else "warning",
                p.message,
            )
            for p in summary.problems
        ]
        lines.append(table(rows, ["line", "ticket", "field", "kind", "problem"]))
    return "\n".join(lines)


@command.command("list")
@click.option("--month", metavar="YYYY-MM", help="Only tickets opened in this month (local time).")
@click.option("--group", type=click.Choice(core.GROUPS), help="Only SOP group a, b or c.")
@click.option("--open", "only_open", is_flag=True, help="Only tickets not yet resolved.")
@format_option("table", "json")
@output_option
@pass_app
def list_(
    app: AppContext,
    month: str | None,
    group: str | None,
    only_open: bool,
    fmt: str,
    output: str | None,
) -> None:
    """List imported tickets with their SOP group (a upload/download, b SPSE use, c other).

    \b
    Examples:
      lpsectl tickets list --month 2026-10
      lpsectl tickets list --group a --open --format json
    """
    settings = core.ticket_settings(app.config)
    loaded = core.load_tickets(app.store, app.config.tz, core.parse_month(month) if month else None)
    now = app.now()
    evaluated = [core.evaluate(t, settings, now) for t in loaded]
    evaluated = [
        e
        for e in evaluated
        if (group is None or e.group == group) and not (only_open and e.resolved)
    ]
    if fmt == "json":
        emit(dump_json([core.ticket_row(e) for e in evaluated]), output)
        return
    rows = [
        (
            e.ticket.number,
            f"{e.ticket.opened_at:%Y-%m-%d %H:%M}",
            e.group,
            e.ticket.priority or "-",
            e.ticket.status or "-",
            e.ticket.escalated_to or "-",
            len(e.breaches),
            _short(e.ticket.subject),
        )
        for e in evaluated
    ]
    emit(
        table(
            rows,
            ["ticket", "opened", "group", "priority", "status", "escalated", "breaches", "subject"],
        ),
        output,
    )


@command.command("sla")
@click.option(
    "--month", metavar="YYYY-MM", help="Tickets opened in this month (default: last month)."
)
@click.option("--fail-on-breach", is_flag=True, help="Exit 1 when any SLA limit was breached.")
@format_option("table", "json")
@output_option
@at_option
@pass_app
def sla(
    app: AppContext, month: str | None, fail_on_breach: bool, fmt: str, output: str | None
) -> None:
    """SLA compliance and breaches for a month (limits of SOP 001).

    Limits: first response and priority set within 30 minutes of opening,
    data requests answered within 15 minutes, resolution by priority
    (Tinggi 4 h, Menengah 24 h, Rendah 72 h by default) — all set in
    [tickets]. Open tickets past their limit count as breaches.

    \b
    Examples:
      lpsectl tickets sla --month 2026-10
      lpsectl tickets sla --month 2026-10 --fail-on-breach --format json
      lpsectl tickets sla --month 2026-11 --at "2026-11-30 16:00"   # open tickets as of then
    """
    settings = core.ticket_settings(app.config)
    now = app.now()
    wanted = core.parse_month(month) if month else core.previous_month(now)
    loaded = core.load_tickets(app.store, app.config.tz, wanted)
    summary = core.month_summary(loaded, settings, now)
    if not loaded:
        info(app, f"no tickets opened in {wanted} are imported")
    if fmt == "json":
        emit(dump_json({"month": wanted, "as_of": now, **summary}), output)
    else:
        emit(_sla_text(wanted, summary), output)
    if fail_on_breach and summary["breaches"]:
        click.get_current_context().exit(int(ExitCode.PROBLEMS))


def _sla_text(month: str, summary: dict[str, Any]) -> str:
    compliance = [
        (
            CHECK_LABELS[name],
            c["judged"],
            c["met"],
            c["breached"],
            "-" if c["percent"] is None else f"{c['percent']:.1f}%",
        )
        for name, c in summary["sla"].items()
    ]
    breaches = [
        (
            b["number"],
            f"{b['opened_at']:%Y-%m-%d %H:%M}",
            b["priority"] or "-",
            CHECK_LABELS[b["check"]],
            _minutes(b["target_minutes"]),
            _minutes(b["actual_minutes"]),
            b["note"] or "-",
        )
        for b in summary["breaches"]
    ]
    return "\n".join(
        [
            f"Tickets opened in {month}: {summary['total']} "
            f"({summary['resolved']} resolved, {summary['open']} open)",
            "",
            table(compliance, ["limit", "judged", "met", "breached", "compliance"]),
            "",
            f"Breaches: {len(breaches)}",
            table(breaches, ["ticket", "opened", "priority", "limit", "target", "actual", "note"]),
        ]
    )


def _minutes(value: float | None) -> str:
    if value is None:
        return "-"
    hours, minutes = divmod(int(round(value)), 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


def _short(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
