"""The job table: what runs unattended, when, and with which lpsectl arguments.

One source of truth for ``lpsectl cron print`` (cron.d lines, systemd units)
and ``lpsectl schedule run`` (the in-process apscheduler). Times are cron
expressions in the LPSE's time zone; ``[schedule]`` in the config overrides
them and ``[cron]`` says how the cron.d file is written.
"""

from __future__ import annotations

import getpass
import os
import re
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from croniter import croniter

from lpsectl.config import Config, load_section
from lpsectl.errors import ConfigError, UsageError

#: Disables a job when given as its expression in [schedule].
OFF = ("", "off")

#: Environment variable the scheduler sets for every job it runs: the start of
#: the last successful run of that job (ISO 8601), so a catch-up covers the gap.
SINCE_LAST_RUN_ENV = "LPSECTL_SINCE_LAST_RUN"
SCHEDULED_AT_ENV = "LPSECTL_SCHEDULED_AT"
CATCH_UP_ENV = "LPSECTL_CATCH_UP"

_JOB_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Job:
    name: str
    cron: str  # 5 fields; 6 (leading seconds) only for the scheduler
    argv: tuple[str, ...]  # arguments after `lpsectl [--config FILE]`
    description: str
    timeout: int  # seconds before a hung run is interrupted

    @property
    def has_seconds(self) -> bool:
        return len(self.cron.split()) == 6


@dataclass(frozen=True)
class _JobSpec:
    name: str
    key: str  # field of ScheduleSettings holding the expression
    argv: tuple[str, ...]
    description: str
    timeout: int
    #: a config section the job needs; without it the job is not scheduled
    only_with: str = ""


# Collect shortly before the reports so they see fresh figures; the monthly
# report waits half an hour after the daily one so both never contend for
# the report lock on the 1st.
JOB_TABLE: tuple[_JobSpec, ...] = (
    _JobSpec("collect", "collect", ("collect",), "snapshot of every host", 30 * 60),
    _JobSpec(
        "report-daily",
        "report_daily",
        ("report", "daily", "--date", "yesterday", "--email"),
        "Laporan Monitoring Kinerja by e-mail",
        30 * 60,
    ),
    _JobSpec(
        "analyze-month",
        "analyze_month",
        ("analyze", "--month", "last"),
        "recommendations of the month, for the monthly report",
        30 * 60,
    ),
    _JobSpec(
        "report-monthly",
        "report_monthly",
        ("report", "monthly", "--email"),
        "Laporan Kinerja Aplikasi SPSE by e-mail",
        60 * 60,
    ),
    _JobSpec(
        "maintenance-remind",
        "maintenance_remind",
        ("maintenance", "remind"),
        "maintenance notices and reminders that are due",
        10 * 60,
    ),
    _JobSpec("outbox-flush", "outbox_flush", ("outbox", "flush"), "retry the e-mail spool", 9 * 60),
    _JobSpec(
        "store-prune",
        "store_prune",
        ("store", "prune"),
        "history retention: old snapshots cut to their roll-up",
        30 * 60,
    ),
    _JobSpec(
        "check",
        "check",
        ("check", "--due"),
        "the SPSE web address as its users see it ([[checks]])",
        4 * 60,
        only_with="checks",
    ),
    _JobSpec(
        "notify",
        "notify",
        ("notify", "run"),
        "alerts told to the team: opened, worse, reminder, recovered ([notify])",
        4 * 60,
        only_with="notify",
    ),
)


@dataclass
class ScheduleSettings:
    """``[schedule]``: when each job runs ("off" disables it)."""

    collect: str = "50 5,11,17 * * *"
    report_daily: str = "0 6 * * *"
    #: the month's recommendations, before the monthly report reads them
    analyze_month: str = "10 6 1 * *"
    report_monthly: str = "30 6 1 * *"
    maintenance_remind: str = "*/15 * * * *"
    outbox_flush: str = "*/10 * * * *"
    #: at night, away from collect (05:50...) and the reports (06:00)
    store_prune: str = "20 3 * * *"
    #: the [[checks]]; each runs when its own interval has passed (`check --due`)
    check: str = "*/5 * * * *"
    #: tell what changed in the alerts (only with [notify])
    notify: str = "*/5 * * * *"
    #: how late the scheduler may still catch up a missed run (once)
    misfire_grace_hours: float = 12.0
    #: more lpsectl jobs: [[schedule.extra]] name, cron, argv, timeout_minutes
    extra: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CronSettings:
    """``[cron]``: how the cron.d file and systemd units are written."""

    user: str = ""  # account the jobs run as (default: whoever runs `cron print`)
    mailto: str = "root"  # cron mails only failures; "" disables mail
    executable: str = ""  # absolute path of lpsectl (default: the installed script)
    path: str = "/etc/cron.d/lpsectl"


def schedule_settings(config: Config) -> ScheduleSettings:
    settings = load_section(config, "schedule", ScheduleSettings)
    if settings.misfire_grace_hours < 0:
        raise ConfigError(f"{config.source}: schedule.misfire_grace_hours must not be negative")
    return settings


def cron_settings(config: Config) -> CronSettings:
    settings = load_section(config, "cron", CronSettings)
    if settings.executable and not Path(settings.executable).is_absolute():
        raise ConfigError(f"{config.source}: cron.executable must be an absolute path")
    # each value lands on a cron.d line: a line break would smuggle in a job
    if settings.user and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", settings.user):
        raise ConfigError(f"{config.source}: cron.user {settings.user!r} is not a user name")
    for key in ("mailto", "executable", "path"):
        if re.search(r"[\x00-\x1f]", getattr(settings, key)):
            raise ConfigError(
                f"{config.source}: cron.{key} must not contain line breaks or control characters"
            )
    return settings


def load_jobs(config: Config) -> list[Job]:
    """The enabled jobs for this config, every expression checked."""
    settings = schedule_settings(config)
    jobs = []
    for spec in JOB_TABLE:
        expr = getattr(settings, spec.key).strip()
        if expr.lower() in OFF or (spec.only_with and not config.sections.get(spec.only_with)):
            continue
        check_expression(expr, f"{config.source}: schedule.{spec.key}")
        jobs.append(Job(spec.name, expr, spec.argv, spec.description, spec.timeout))
    for index, raw in enumerate(settings.extra):
        jobs.append(_extra_job(raw, f"{config.source}: schedule.extra[{index}]"))
    _check_unique(jobs, config.source)
    return jobs


def _extra_job(raw: Any, where: str) -> Job:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a table with name, cron and argv")
    unknown = set(raw) - {"name", "cron", "argv", "timeout_minutes", "description"}
    if unknown:
        raise ConfigError(
            f"{where}.{sorted(unknown)[0]}: unknown key (known: argv, cron, description, name, timeout_minutes)"
        )
    name, expr, argv = raw.get("name"), raw.get("cron"), raw.get("argv")
    if not isinstance(name, str) or not _JOB_NAME.match(name):
        raise ConfigError(f"{where}.name must be lower-case letters, digits and '-'")
    if not isinstance(expr, str):
        raise ConfigError(f"{where}.cron must be a cron expression string")
    check_expression(expr, f"{where}.cron")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise ConfigError(f"{where}.argv must be a non-empty list of lpsectl arguments")
    timeout = raw.get("timeout_minutes", 30)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigError(f"{where}.timeout_minutes must be a positive number")
    description = str(raw.get("description", "lpsectl " + " ".join(argv)))
    return Job(name, expr.strip(), tuple(argv), description, int(timeout * 60))


def _check_unique(jobs: list[Job], source: str) -> None:
    seen: set[str] = set()
    for job in jobs:
        if job.name in seen:
            raise ConfigError(f"{source}: schedule.extra: job name {job.name!r} is already taken")
        seen.add(job.name)


def check_expression(expr: str, where: str) -> None:
    """Raise ConfigError unless ``expr`` means the same to cron and to apscheduler."""
    fields = expr.split()
    if len(fields) not in (5, 6):
        raise ConfigError(f"{where}: {expr!r} must have 5 fields (minute hour day month weekday)")
    if not croniter.is_valid(expr, second_at_beginning=True):
        raise ConfigError(f"{where}: {expr!r} is not a valid cron expression")
    day, weekday = fields[-3], fields[-1]
    if day != "*" and weekday != "*":
        # cron runs when EITHER matches, apscheduler only when BOTH do
        raise ConfigError(f"{where}: {expr!r} restricts both day of month and weekday; pick one")


def trigger_fields(expr: str) -> dict[str, str]:
    """Keyword arguments for apscheduler's CronTrigger, in cron's meaning."""
    fields = expr.split()
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, weekday = fields
    return {
        "second": second,
        "minute": minute,
        "hour": hour,
        "day": day,
        "month": month,
        # apscheduler 3 counts weekdays from Monday=0; cron from Sunday=0: use names
        "day_of_week": _weekday_names(weekday),
    }


def _weekday_names(field_text: str) -> str:
    return re.sub(
        r"\d+",
        lambda m: _DOW_NAMES[int(m.group())] if int(m.group()) < 8 else m.group(),
        field_text,
    )


def next_runs(job: Job, after: datetime, count: int = 1) -> list[datetime]:
    """The next ``count`` run times after ``after`` (aware, in after's zone)."""
    it = croniter(job.cron, after, second_at_beginning=True)
    return [it.get_next(datetime) for _ in range(count)]


def since_last_run(env: Mapping[str, str] | None = None) -> datetime | None:
    """Start of this job's last successful run, as passed by the scheduler (None under cron)."""
    value = (os.environ if env is None else env).get(SINCE_LAST_RUN_ENV, "")
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(f"{SINCE_LAST_RUN_ENV}: {value!r} is not an ISO 8601 time") from exc
    if moment.tzinfo is None:
        raise UsageError(f"{SINCE_LAST_RUN_ENV}: {value!r} has no UTC offset")
    return moment


# --- how lpsectl is invoked ------------------------------------------------


def installed_executable(settings: CronSettings | None = None) -> list[str]:
    """argv that starts this lpsectl: the configured path, the console script, or -m."""
    if settings and settings.executable:
        return [settings.executable]
    # the script next to the running interpreter, not a shell shim (pyenv) cron cannot use
    script = Path(sys.executable).parent / "lpsectl"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [str(Path(sys.executable).resolve()), "-m", "lpsectl"]


def config_file(config: Config) -> str | None:
    """Absolute path of the config file, None for the embedded default."""
    path = Path(config.source)
    if config.source.startswith("<") or not path.exists():
        return None
    return str(path.resolve())


def job_command(job: Job, executable: list[str], config_path: str | None) -> list[str]:
    argv = list(executable)
    if config_path:
        argv += ["--config", config_path]
    return argv + list(job.argv)


# --- cron.d ------------------------------------------------------------------


@dataclass
class CronFile:
    """Everything a cron.d file depends on, so rendering stays a pure function."""

    jobs: list[Job]
    timezone: str
    executable: list[str]
    config_path: str | None
    user: str
    mailto: str
    lpse_name: str = ""
    environment: dict[str, str] = field(default_factory=dict)


def cron_file_for(config: Config) -> CronFile:
    settings = cron_settings(config)
    env = {}
    if not config.lpse.data_dir and os.environ.get("XDG_DATA_HOME"):
        # the data dir cron sees must be the one this shell sees
        env["XDG_DATA_HOME"] = os.environ["XDG_DATA_HOME"]
    return CronFile(
        jobs=load_jobs(config),
        timezone=config.lpse.timezone,
        executable=installed_executable(settings),
        config_path=config_file(config),
        user=settings.user or getpass.getuser(),
        mailto=settings.mailto,
        lpse_name=" ".join(config.lpse.name.split()),  # one comment line, whatever the name
        environment=env,
    )


def render_crontab(cron: CronFile) -> str:
    """The cron.d file: one line per job, quiet on success, errors mailed."""
    lines = [
        f"# /etc/cron.d/lpsectl: unattended lpsectl jobs for {cron.lpse_name} (`lpsectl cron print`).",
        f"# Times are {cron.timezone}: CRON_TZ below (cronie honours it; Debian's cron uses the",
        "# system time zone: set that, or use the systemd timers or `lpsectl schedule run`).",
        "# stdout is discarded and lpsectl is quiet off a terminal, so cron mails only failures.",
        "# Each run is interrupted (SIGINT, then killed) when it outlives its timeout.",
        "# Exit codes: 0 ok, 1 problems, 2 usage, 3 partial, 4 config, 5 unavailable, 6 locked.",
        "SHELL=/bin/sh",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        f"CRON_TZ={cron.timezone}",
        f"MAILTO={cron.mailto or chr(34) * 2}",
    ]
    lines += [f"{key}={value}" for key, value in sorted(cron.environment.items())]
    if cron.config_path is None:
        lines.append(
            "# no config file was found: the jobs use the embedded default (local host only)"
        )
    for job in cron.jobs:
        lines += ["", f"# {job.name}: {job.description}", crontab_line(job, cron)]
    return "\n".join(lines) + "\n"


def crontab_line(job: Job, cron: CronFile) -> str:
    if job.has_seconds:
        raise UsageError(
            f"job {job.name!r}: cron cannot run {job.cron!r} (seconds); use `lpsectl schedule run`"
        )
    # cron hands the line to /bin/sh; each argument is quoted, and % is special to cron
    argv = ["timeout", "-s", "INT", "-k", "60", str(job.timeout)]
    argv += job_command(job, cron.executable, cron.config_path)
    command = shlex.join(argv).replace("%", "\\%")
    return f"{job.cron} {cron.user} {command} >/dev/null"


# --- systemd -------------------------------------------------------------


def systemd_units(cron: CronFile) -> dict[str, str]:
    """A .service and .timer per job, plus lpsectl-scheduler.service; name → text."""
    units = {}
    for job in cron.jobs:
        unit = f"lpsectl-{job.name}"
        units[f"{unit}.service"] = _service_unit(job, cron)
        units[f"{unit}.timer"] = (
            "[Unit]\n"
            f"Description=lpsectl {job.name}: {job.description}\n\n"
            "[Timer]\n"
            f"OnCalendar={to_oncalendar(job.cron, cron.timezone)}\n"
            "# a run missed while the machine was off is caught up once at boot\n"
            "Persistent=true\n\n"
            "[Install]\n"
            "WantedBy=timers.target\n"
        )
    units["lpsectl-scheduler.service"] = _scheduler_unit(cron)
    return units


def _systemd_exec(argv: list[str]) -> str:
    return shlex.join(argv).replace("%", "%%")


def _service_unit(job: Job, cron: CronFile) -> str:
    env = "".join(f"Environment={k}={v}\n" for k, v in sorted(cron.environment.items()))
    return (
        "[Unit]\n"
        f"Description=lpsectl {job.name}: {job.description}\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"User={cron.user}\n"
        f"{env}"
        f"ExecStart={_systemd_exec(job_command(job, cron.executable, cron.config_path))}\n"
        "StandardOutput=null\n"
        "# SIGINT lets lpsectl say it was interrupted before it stops\n"
        "KillSignal=SIGINT\n"
        f"TimeoutStartSec={job.timeout}\n"
    )


def _scheduler_unit(cron: CronFile) -> str:
    argv = list(cron.executable)
    if cron.config_path:
        argv += ["--config", cron.config_path]
    env = "".join(f"Environment={k}={v}\n" for k, v in sorted(cron.environment.items()))
    return (
        "[Unit]\n"
        "Description=lpsectl scheduler: every lpsectl job in one process (instead of the timers)\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n\n"
        "[Service]\n"
        "Type=simple\n"
        f"User={cron.user}\n"
        f"{env}"
        f"ExecStart={_systemd_exec(argv + ['schedule', 'run'])}\n"
        "Restart=on-failure\n"
        "RestartSec=30\n"
        "# exit code 6: another scheduler already runs; retrying will not help\n"
        "RestartPreventExitStatus=6\n"
        "KillSignal=SIGTERM\n\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n"
    )


def to_oncalendar(expr: str, timezone: str) -> str:
    """A 5-field cron expression as systemd OnCalendar (the common subset)."""
    fields = expr.split()
    if len(fields) != 5:
        raise UsageError(f"{expr!r}: systemd timers need a 5-field cron expression")
    minute, hour, day, month, weekday = fields
    calendar = (
        f"*-{_calendar_field(month, 1, expr)}-{_calendar_field(day, 1, expr)} "
        f"{_calendar_field(hour, 0, expr)}:{_calendar_field(minute, 0, expr)}:00 {timezone}"
    )
    if weekday != "*":
        calendar = f"{_calendar_weekdays(weekday, expr)} {calendar}"
    return calendar


def _calendar_field(text: str, first: int, expr: str) -> str:
    if text == "*":
        return "*"
    if text.startswith("*/") and text[2:].isdigit():
        return f"{first:02d}/{int(text[2:])}"
    parts = []
    for part in text.split(","):
        if re.fullmatch(r"\d+", part):
            parts.append(f"{int(part):02d}")
        elif re.fullmatch(r"\d+-\d+", part):
            low, high = part.split("-")
            parts.append(f"{int(low):02d}..{int(high):02d}")
        else:
            raise UsageError(
                f"{expr!r}: cannot write {text!r} as a systemd timer; use cron or the scheduler"
            )
    return ",".join(parts)


def _calendar_weekdays(text: str, expr: str) -> str:
    names = {str(i): n.capitalize() for i, n in enumerate(_DOW_NAMES)}
    names.update({n: n.capitalize() for n in _DOW_NAMES})
    parts = []
    for part in text.lower().split(","):
        ends = part.split("-")
        if len(ends) > 2 or not all(e in names for e in ends):
            raise UsageError(f"{expr!r}: cannot write weekday {text!r} as a systemd timer")
        parts.append("..".join(names[e] for e in ends))
    return ",".join(parts)


def example_cron_file() -> CronFile:
    """What cron/lpsectl and cron/systemd/ in the source tree are written from."""
    return CronFile(
        jobs=load_jobs(Config()),
        timezone="Asia/Jakarta",
        executable=["/usr/local/bin/lpsectl"],
        config_path="/etc/lpsectl/lpsectl.toml",
        user="root",
        mailto="root",
        lpse_name="the example config /etc/lpsectl/lpsectl.toml",
    )
