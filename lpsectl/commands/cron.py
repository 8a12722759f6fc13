"""`lpsectl cron print | install`: the cron.d file for this config."""

from __future__ import annotations

from pathlib import Path

import click

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
from lpsectl.cronjobs import (
    CronFile,
    cron_file_for,
    cron_settings,
    job_command,
    next_runs,
    render_crontab,
    systemd_units,
)
from lpsectl.errors import UnavailableError
from lpsectl.files import write_text


@click.group("cron")
def command() -> None:
    """Run lpsectl from cron: the cron.d lines for the current config.

    \b
    The jobs and their times come from the job table and [schedule] in the
    config; the lines call the installed lpsectl with the absolute path of
    the config, discard stdout, and are quiet on success, so cron mails
    only failures (MAILTO from [cron] mailto).
    """


@command.command("print")
@format_option("cron", "systemd", "table", "json")
@output_option
@pass_app
def print_(app: AppContext, fmt: str, output: str | None) -> None:
    """Print the cron.d file (or systemd units, or the job list).

    \b
    Examples:
      lpsectl cron print                      the /etc/cron.d/lpsectl file
      lpsectl cron print --format table       jobs, times and next runs
      lpsectl cron print --format systemd     .service/.timer units instead
      lpsectl cron print --format json        for scripts
    """
    cron = cron_file_for(app.config)
    if fmt == "cron":
        emit(render_crontab(cron), output)
    elif fmt == "systemd":
        units = systemd_units(cron)
        emit("\n".join(f"### {name}\n{text}" for name, text in units.items()), output)
    elif fmt == "json":
        emit(dump_json(_job_rows(app, cron)), output)
    else:
        rows = [
            [r["name"], r["cron"], r["next_run"].strftime("%Y-%m-%d %H:%M %Z"), " ".join(r["argv"])]
            for r in _job_rows(app, cron)
        ]
        emit(table(rows, ["job", "cron", "next run", "lpsectl arguments"]), output)


def _job_rows(app: AppContext, cron: CronFile) -> list[dict]:
    now = app.now()
    return [
        {
            "name": job.name,
            "cron": job.cron,
            "timezone": cron.timezone,
            "argv": list(job.argv),
            "command": job_command(job, cron.executable, cron.config_path),
            "timeout_seconds": job.timeout,
            "description": job.description,
            "next_run": next_runs(job, now)[0],
        }
        for job in cron.jobs
    ]


@command.command("install")
@click.option("--dry-run", is_flag=True, help="Show what would be written; change nothing.")
@click.option(
    "--path",
    metavar="FILE",
    help="Where to write (default: [cron] path, /etc/cron.d/lpsectl).",
)
@pass_app
def install(app: AppContext, dry_run: bool, path: str | None) -> None:
    """Write the cron.d file (mode 0644; cron picks it up by itself).

    \b
    Examples:
      lpsectl cron install --dry-run          show the file and where it goes
      sudo lpsectl --config /etc/lpsectl/lpsectl.toml cron install
      lpsectl cron install --path ./lpsectl.cron
    """
    target = Path(path or cron_settings(app.config).path)
    text = render_crontab(cron_file_for(app.config))
    if dry_run:
        info(app, f"dry run: would write {target}")
        emit(text)
        return
    if target.exists() and _read(target) == text:
        info(app, f"{target} is already up to date")
        return
    _write(target, text)
    info(app, f"wrote {target}")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def _write(path: Path, text: str) -> None:
    # cron reads every file in cron.d: write beside it under a name cron ignores
    # (cron.d names may not contain '.'), then rename in one step
    # the one writer names its temporary file ".NAME.tmpPID": cron ignores names with '.';
    # 0644 because cron ignores files that are group- or world-writable
    try:
        write_text(
            path, text, what="cron file", mode=0o644, error=UnavailableError, make_parents=False
        )
    except UnavailableError as exc:
        raise UnavailableError(f"{exc.message} (run as root, or use --path)") from None
