"""`lpsectl collect` — gather a snapshot from every host and store it."""

from __future__ import annotations

import click

from lpsectl.collect.run import CollectRun, run_collection
from lpsectl.commands._common import (
    dump_json,
    emit,
    format_option,
    pass_app,
    sigterm_interrupts,
    table,
)
from lpsectl.context import AppContext
from lpsectl.errors import ExitCode
from lpsectl.lock import job_lock


@click.command("collect")
@click.option("--host", "hosts", multiple=True, metavar="NAME", help="Only this host (repeatable).")
@format_option("table", "json")
@pass_app
def command(app: AppContext, hosts: tuple[str, ...], fmt: str) -> None:
    """Gather a snapshot from every host (or --host NAME...) and store it.

    \b
    Per host: hostname, OS, uptime, load, CPU, memory, swap, filesystems,
    top processes, whether SPSE / PostgreSQL run, whether each configured
    log file exists and was written recently; for database hosts the
    PostgreSQL statistics; for hosts with logs a summary of what is new.

    \b
    Exit codes: 0 all collected, 3 some hosts or items could not be
    collected (the rest is stored), 5 no host could be reached,
    6 another collect run is in progress.

    \b
    Examples:
      lpsectl collect
      lpsectl collect --host spse-db --format json
    """
    with job_lock(app.config.data_dir, "collect"), sigterm_interrupts():
        run = run_collection(app.config, app.store, app.now(), list(hosts) or None)
    if fmt == "json":
        emit(dump_json(run_as_json(run)))
    elif app.verbosity >= 0:  # quiet (-q, cron) prints only problems
        emit(run_as_table(run))
    problems = [f"{h.host}: {p}" for h in run.hosts for p in h.problems()]
    for problem in problems:
        click.echo(f"lpsectl: {problem}", err=True)
    if run.status == "failed":
        click.echo("lpsectl: no host could be reached; nothing was collected", err=True)
        click.get_current_context().exit(ExitCode.UNAVAILABLE)
    if problems:
        click.get_current_context().exit(ExitCode.PARTIAL)


def run_as_json(run: CollectRun) -> dict:
    return {
        "run_id": run.run_id,
        "taken_at": run.taken_at,
        "status": run.status,
        "hosts": [
            {
                "host": h.host,
                "reachable": h.error is None,
                "error": h.error,
                "error_type": h.error_type,
                "collected": [i.kind for i in h.items if i.ok],
                "failed": [
                    {"kind": i.kind, "error": i.error, "error_type": i.error_type}
                    for i in h.items
                    if not i.ok
                ],
                "problems": h.problems(),
            }
            for h in run.hosts
        ],
    }


def run_as_table(run: CollectRun) -> str:
    rows = []
    for h in run.hosts:
        probe = next((i.data.get("probe", "") for i in h.items if i.kind == "system"), "")
        collected = ", ".join(i.kind for i in h.items if i.ok)
        status = "unreachable" if h.error else ("partial" if h.problems() else "ok")
        rows.append([h.host, status, probe, collected or "-", len(h.problems())])
    header = f"collect run {run.run_id} at {run.taken_at:%Y-%m-%d %H:%M %Z}: {run.status}\n"
    return header + table(rows, ["host", "status", "probe", "collected", "problems"])
