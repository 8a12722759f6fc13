"""`lpsectl schedule run | list`: every unattended job in one process."""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timedelta

import click

from lpsectl.commands._common import dump_json, emit, format_option, output_option, pass_app, table
from lpsectl.context import AppContext
from lpsectl.cronjobs import load_jobs, next_runs, schedule_settings
from lpsectl.errors import ConfigError
from lpsectl.scheduler import STATE_FILE, RunState, command_prefix, serve


@click.group("schedule")
def command() -> None:
    """The in-process scheduler: cron's jobs without cron.

    \b
    Runs the same jobs as `lpsectl cron print` (times from [schedule]) in one
    long-running process, e.g. under systemd (lpsectl-scheduler.service).
    A run missed while the scheduler was down is caught up once on start
    (within [schedule] misfire_grace_hours).
    """


@command.command("run")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    help="What the scheduler logs to stderr (the journal under systemd).",
)
@pass_app
def run(app: AppContext, log_level: str) -> None:
    """Run the scheduler until SIGTERM or Ctrl-C.

    \b
    Each job runs as `lpsectl [--config FILE] ARGS...` in a subprocess and is
    interrupted at its timeout. Only one scheduler runs per data directory:
    a second one exits at once with code 6.

    \b
    Every job gets in its environment:
      LPSECTL_SCHEDULED_AT    the fire time this run stands for
      LPSECTL_SINCE_LAST_RUN  start of the job's last successful run, if any
      LPSECTL_CATCH_UP        "1" when the run catches up a missed fire

    \b
    Examples:
      lpsectl schedule run
      lpsectl --config /etc/lpsectl/lpsectl.toml schedule run --log-level warning
    """
    _log_to_stderr(log_level, app.verbosity)
    jobs = load_jobs(app.config)
    if not jobs:
        raise ConfigError(f"{app.config.source}: every job in [schedule] is off; nothing to run")
    grace = timedelta(hours=schedule_settings(app.config).misfire_grace_hours)
    serve(app.config, jobs, grace, command_prefix(app.config))


def _log_to_stderr(level: str, verbosity: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s lpsectl schedule %(levelname)s %(message)s")
    )
    logger = logging.getLogger("lpsectl.scheduler")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(level.upper())
    # apscheduler's own chatter only when debugging
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if verbosity >= 2 else logging.ERROR)


@command.command("list")
@format_option("table", "json")
@output_option
@pass_app
def list_(app: AppContext, fmt: str, output: str | None) -> None:
    """The jobs, their next run and how their last run went.

    \b
    Examples:
      lpsectl schedule list
      lpsectl schedule list --format json
    """
    rows = _rows(app)
    if fmt == "json":
        emit(dump_json(rows), output)
        return
    emit(
        table(
            [_table_row(r) for r in rows], ["job", "cron", "next run", "last run", "exit", "runs"]
        ),
        output,
    )


def _rows(app: AppContext) -> list[dict]:
    state = RunState(app.config.data_dir / STATE_FILE).read()
    now = app.now()
    rows = []
    for job in load_jobs(app.config):
        entry = state.get(job.name, {})
        rows.append(
            {
                "name": job.name,
                "cron": job.cron,
                "argv": list(job.argv),
                "description": job.description,
                "timeout_seconds": job.timeout,
                "next_run": next_runs(job, now)[0],
                "last_started": _when(entry.get("last_started"), app),
                "last_finished": _when(entry.get("last_finished"), app),
                "last_exit": entry.get("last_exit"),
                "last_success": _when(entry.get("last_success"), app),
                "last_catch_up": bool(entry.get("last_catch_up", False)),
                "runs": int(entry.get("runs", 0)),
            }
        )
    return rows


def _when(value: str | None, app: AppContext) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(app.config.tz) if value else None


def _table_row(row: dict) -> list[str]:
    def short(moment: datetime | None) -> str:
        return moment.strftime("%Y-%m-%d %H:%M %Z") if moment else "-"

    exit_code = "-" if row["last_exit"] is None else str(row["last_exit"])
    return [
        row["name"],
        row["cron"],
        short(row["next_run"]),
        short(row["last_started"]),
        exit_code,
        str(row["runs"]),
    ]
