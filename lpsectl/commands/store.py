"""`lpsectl store prune` — the history's retention and housekeeping."""

from __future__ import annotations

import click

from lpsectl import retention
from lpsectl.commands._common import dump_json, emit, format_option, pass_app, warn
from lpsectl.context import AppContext
from lpsectl.errors import ExitCode, UsageError
from lpsectl.lock import job_lock


@click.group("store")
def command() -> None:
    """The history lpsectl keeps (lpse.data_dir/history.sqlite3 or lpse.database_url).

    Every snapshot is kept whole for [store] retention_days (default 90);
    after that only its roll-up stays — the figures the monthly report
    reads — so monthly reports of any past month stay the same, while the
    daily report and `analyze` work within the retention.

    \b
    Examples:
      lpsectl store prune --dry-run        how many snapshots would be cut
      lpsectl store prune                  cut them, then compact the file
      lpsectl store prune --format json
    """


@command.command("prune")
@click.option(
    "--retention-days",
    type=int,
    default=None,
    help="Keep snapshots whole this many days (default: [store] retention_days).",
)
@click.option("--dry-run", is_flag=True, help="Count what would be pruned; change nothing.")
@format_option("text", "json")
@pass_app
def prune_cmd(app: AppContext, retention_days: int | None, dry_run: bool, fmt: str) -> None:
    """Cut snapshots older than the retention to their roll-up, then tidy the store
    (ANALYZE; VACUUM when [store] vacuum_free_percent of an SQLite file is free). The
    scheduler runs this every night (job store-prune). Work per run is bounded by
    [store] prune_seconds; what is left is pruned by the next run. Kept whole always:
    the newest good snapshot of each host and kind (the next collect starts from it),
    the newest before the cutoff (the daily report of the first day kept counts from
    it), and any whose stored data cannot be read.

    \b
    Exit status:
      0  pruned (or nothing was old enough); work left for the next run is said
      2  --retention-days out of range
      3  pruned, but the file could not be compacted (e.g. not enough free disk)
      4  [store] is wrong
      5  the history cannot be written
      6  another prune is running

    \b
    Examples:
      lpsectl store prune --dry-run
      lpsectl store prune --retention-days 180
      lpsectl store prune --retention-days 0 --dry-run   # nothing: every snapshot kept
    """
    settings = retention.store_settings(app.config)
    if retention_days is not None:
        problem = retention.retention_problem(retention_days)
        if problem:
            raise UsageError(f"--retention-days {problem}")
        settings.retention_days = retention_days
    if dry_run:  # reads only: no lock, works on a read-only copy of the history
        result = retention.prune(app.store, app.now().date(), settings, dry_run=True)
    else:
        with job_lock(app.config.data_dir, "store"):
            result = retention.prune(app.store, app.now().date(), settings)
    if fmt == "json":
        emit(dump_json(result))
    else:
        emit(_text(result))
    for message in result.warnings:
        warn(message)
    if result.warnings:
        click.get_current_context().exit(int(ExitCode.PARTIAL))


def _mib(value: int | None) -> str:
    return "?" if value is None else f"{value / 1048576:.1f} MiB"


def _text(result: retention.PruneResult) -> str:
    if result.retention_days == 0:
        return "retention 0 days: every snapshot is kept whole; nothing pruned."
    verb = "would cut" if result.dry_run else "cut"
    lines = [
        f"{verb} {result.pruned} snapshot(s) of days before {result.cutoff} to their roll-up "
        f"(retention {result.retention_days} days)"
    ]
    if result.left:
        lines.append(f"{result.left} more left for the next run ([store] prune_seconds reached)")
    if result.kept_unusable:
        lines.append(
            f"{result.kept_unusable} snapshot(s) left as they are: their stored data cannot "
            "be read (not JSON, or not of its kind's shape); lpsectl does not clear what it "
            "cannot read"
        )
    if not result.dry_run:
        compacted = ", compacted (VACUUM)" if result.vacuumed else ""
        lines.append(
            f"history: {_mib(result.bytes_before)} before, {_mib(result.bytes_after)} after{compacted}"
        )
    return "\n".join(lines)
