"""The in-process scheduler: the job table in one long-running process.

apscheduler 3 (BlockingScheduler + CronTrigger) fires the jobs; each job runs
``lpsectl ...`` as a subprocess so a hung run can be interrupted at its
timeout without taking the scheduler down. While running, apscheduler's
``coalesce`` + ``misfire_grace_time`` turn a burst of missed fires into one
run. Across restarts the last run of every job is kept in a small JSON file
in the data dir (SQLAlchemy, which apscheduler's persistent store needs, is
not a dependency); on start a job whose fire time passed while the
scheduler was down is caught up once, if within the grace period.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from croniter import croniter

from lpsectl import timeutil
from lpsectl.config import Config
from lpsectl.cronjobs import (
    CATCH_UP_ENV,
    SCHEDULED_AT_ENV,
    SINCE_LAST_RUN_ENV,
    Job,
    config_file,
    trigger_fields,
)
from lpsectl.errors import ExitCode, UnavailableError
from lpsectl.files import write_text
from lpsectl.lock import job_lock

log = logging.getLogger("lpsectl.scheduler")

STATE_FILE = "schedule-state.json"
#: exit codes after which the next run may start where this one stopped
SUCCESS_CODES = (ExitCode.OK, ExitCode.PROBLEMS)
#: how long an interrupted job may take to stop before it is killed
KILL_GRACE_SECONDS = 10.0


@dataclass
class RunRecord:
    job: str
    scheduled_at: datetime
    started_at: datetime
    finished_at: datetime
    exit_code: int | None  # None: the process could not be started
    catch_up: bool = False
    timed_out: bool = False
    interrupted: bool = False  # stopped by the scheduler's own shutdown

    @property
    def succeeded(self) -> bool:
        return self.exit_code in SUCCESS_CODES


class RunState:
    """Last run of every job, in a JSON file that survives restarts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            # a damaged state file costs at most one catch-up, never the scheduler
            log.warning("%s: unreadable (%s); starting without run history", self.path, exc)
            return {}
        return data if isinstance(data, dict) else {}

    def entry(self, job: str) -> dict[str, Any]:
        return self.read().get(job, {})

    def last_fire(self, job: str) -> datetime | None:
        """When this job last ran (or was first scheduled): catch-up counts from here."""
        entry = self.entry(job)
        value = entry.get("last_scheduled") or entry.get("seen_since")
        return timeutil.parse_iso(value) if value else None

    def last_success(self, job: str) -> datetime | None:
        value = self.entry(job).get("last_success")
        return timeutil.parse_iso(value) if value else None

    def mark_seen(self, jobs: list[Job], now: datetime) -> None:
        """Remember when a job was first scheduled, so a later restart can catch it up."""
        with self._lock:
            data = self.read()
            for job in jobs:
                data.setdefault(job.name, {}).setdefault("seen_since", timeutil.isoformat(now))
            self._write(data)

    def record(self, run: RunRecord) -> None:
        with self._lock:
            data = self.read()
            entry = data.setdefault(run.job, {})
            if not run.interrupted:
                # an interrupted run did not finish its work: a restart catches it up
                entry["last_scheduled"] = timeutil.isoformat(run.scheduled_at)
            entry.update(
                last_started=timeutil.isoformat(run.started_at),
                last_finished=timeutil.isoformat(run.finished_at),
                last_exit=run.exit_code,
                last_catch_up=run.catch_up,
                last_timed_out=run.timed_out,
                last_interrupted=run.interrupted,
                runs=int(entry.get("runs", 0)) + 1,
            )
            if run.succeeded and not run.interrupted:
                entry["last_success"] = timeutil.isoformat(run.started_at)
            self._write(data)

    def _write(self, data: dict[str, Any]) -> None:
        write_text(
            self.path,
            json.dumps(data, indent=2, sort_keys=True),
            what="scheduler state",
            private=True,
            error=UnavailableError,
        )


def missed_run(
    expr: str, last_fire: datetime | None, now: datetime, grace: timedelta
) -> datetime | None:
    """The latest fire time in (last_fire, now] no older than ``grace``, else None.

    However many fires were missed, one run catches them up (coalescing).
    A job never scheduled before (``last_fire`` None) is not caught up: a
    fresh install must not fire everything at once.
    """
    if last_fire is None:
        return None
    latest = croniter(expr, now, second_at_beginning=True).get_prev(datetime)
    if latest <= last_fire or now - latest > grace:
        return None
    return latest


def command_prefix(config: Config) -> list[str]:
    """How the scheduler starts lpsectl: this interpreter, this config."""
    prefix = [sys.executable, "-m", "lpsectl"]
    path = config_file(config)
    return prefix + (["--config", path] if path else [])


class JobRunner:
    """Runs one job as a subprocess, with its timeout, and records the outcome."""

    def __init__(
        self, prefix: list[str], state: RunState, tz: tzinfo, env: Mapping[str, str] | None = None
    ) -> None:
        self.prefix = prefix
        self.state = state
        self.tz = tz
        self.env = dict(os.environ if env is None else env)
        self._guard = threading.Lock()
        self._busy: dict[str, threading.Lock] = {}
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._interrupted: set[str] = set()
        self._stopping = threading.Event()

    def run(
        self, job: Job, scheduled_at: datetime | None = None, catch_up: bool = False
    ) -> RunRecord | None:
        """Run ``job`` unless it is still running from last time (then skip)."""
        if self._stopping.is_set():
            return None
        with self._guard:
            busy = self._busy.setdefault(job.name, threading.Lock())
        if not busy.acquire(blocking=False):
            log.warning("%s: the previous run is still going; this run is skipped", job.name)
            return None
        try:
            return self._run(job, scheduled_at, catch_up)
        finally:
            busy.release()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        """Interrupt every running job and start no more."""
        self._stopping.set()
        with self._guard:
            children = list(self._children.items())
        for name, proc in children:
            log.info("%s: interrupting (scheduler stopping)", name)
            self._interrupted.add(name)
            _signal_group(proc, signal.SIGINT)

    def _run(self, job: Job, scheduled_at: datetime | None, catch_up: bool) -> RunRecord:
        started = timeutil.now(self.tz)
        scheduled_at = scheduled_at or started.replace(microsecond=0)
        argv = self.prefix + list(job.argv)
        log.info(
            "%s: starting%s: %s", job.name, " (catch-up)" if catch_up else "", shlex.join(argv)
        )
        exit_code, timed_out, stderr = self._execute(
            job, argv, self._job_env(job, scheduled_at, catch_up)
        )
        run = RunRecord(
            job.name,
            scheduled_at,
            started,
            timeutil.now(self.tz),
            exit_code,
            catch_up,
            timed_out,
            interrupted=job.name in self._interrupted,
        )
        self.state.record(run)
        _log_outcome(job, run, stderr)
        return run

    def _job_env(self, job: Job, scheduled_at: datetime, catch_up: bool) -> dict[str, str]:
        env = dict(self.env)
        env[SCHEDULED_AT_ENV] = timeutil.isoformat(scheduled_at)
        env.pop(SINCE_LAST_RUN_ENV, None)
        env.pop(CATCH_UP_ENV, None)
        since = self.state.last_success(job.name)
        if since:
            env[SINCE_LAST_RUN_ENV] = timeutil.isoformat(since)
        if catch_up:
            env[CATCH_UP_ENV] = "1"
        return env

    def _execute(
        self, job: Job, argv: list[str], env: dict[str, str]
    ) -> tuple[int | None, bool, str]:
        try:
            # a session of its own: the timeout reaches the job's children too
            proc = subprocess.Popen(  # noqa: S603 - argv list: lpsectl and the job table's arguments
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=env,
                start_new_session=True,
            )
        except OSError as exc:
            return None, False, f"cannot start {argv[0]}: {exc.strerror}"
        with self._guard:
            self._children[job.name] = proc
        try:
            _, err = proc.communicate(timeout=job.timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
            err = _interrupt(proc)
        finally:
            with self._guard:
                self._children.pop(job.name, None)
        return proc.returncode, timed_out, err.decode("utf-8", "replace")


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(proc.pid, signum)
    except ProcessLookupError:
        pass


def _interrupt(proc: subprocess.Popen[bytes]) -> bytes:
    # SIGINT first: lpsectl then says on stderr that it was interrupted
    _signal_group(proc, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        _signal_group(proc, signal.SIGKILL)
        _, err = proc.communicate()
    return err or b""


def _log_outcome(job: Job, run: RunRecord, stderr: str) -> None:
    seconds = (run.finished_at - run.started_at).total_seconds()
    tail = " | ".join(stderr.strip().splitlines()[-5:])
    if run.interrupted:
        log.warning(
            "%s: interrupted by the scheduler's shutdown (exit %s); caught up on restart",
            job.name,
            run.exit_code,
        )
    elif run.timed_out:
        log.error(
            "%s: interrupted after its %d s timeout (exit %s) %s",
            job.name,
            job.timeout,
            run.exit_code,
            tail,
        )
    elif run.exit_code == ExitCode.LOCKED:
        log.warning("%s: skipped, another run holds the lock: %s", job.name, tail)
    elif run.exit_code == ExitCode.OK:
        log.info("%s: done in %.1f s", job.name, seconds)
    else:
        log.error("%s: exit %s after %.1f s: %s", job.name, run.exit_code, seconds, tail)


def build_scheduler(
    jobs: list[Job],
    tz: tzinfo,
    runner: JobRunner,
    grace: timedelta,
    scheduler_cls: type[BaseScheduler] = BlockingScheduler,
) -> BaseScheduler:
    """A scheduler with one cron-triggered entry per job; not started."""
    scheduler = scheduler_cls(
        timezone=tz,
        executors={"default": ThreadPoolExecutor(max(4, len(jobs) + 1))},
        job_defaults={
            "coalesce": True,  # many missed fires → one run
            "max_instances": 1,
            "misfire_grace_time": max(1, int(grace.total_seconds())),
        },
    )
    for job in jobs:
        trigger = CronTrigger(timezone=tz, **trigger_fields(job.cron))
        scheduler.add_job(runner.run, trigger, args=[job], id=job.name, name=job.name)
    # apscheduler logs these itself, but under its own name and level; say them in ours
    scheduler.add_listener(_log_skipped, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
    return scheduler


def _log_skipped(event: JobEvent) -> None:
    # a submission event carries a list of run times, an execution event one
    times = getattr(event, "scheduled_run_times", None) or [
        getattr(event, "scheduled_run_time", None)
    ]
    when = ", ".join(timeutil.isoformat(t) for t in times if t is not None)
    if event.code == EVENT_JOB_MAX_INSTANCES:
        log.warning(
            "%s: the previous run is still going; the %s run is skipped", event.job_id, when
        )
    else:
        log.warning(
            "%s: the %s run was missed by more than the grace time; skipped", event.job_id, when
        )


def add_catch_ups(
    scheduler: BaseScheduler, jobs: list[Job], runner: JobRunner, now: datetime, grace: timedelta
) -> list[tuple[Job, datetime]]:
    """Queue one immediate run for each job that missed a fire while we were down."""
    queued = []
    for job in jobs:
        missed = missed_run(job.cron, runner.state.last_fire(job.name), now, grace)
        if missed is None:
            continue
        log.info(
            "%s: missed its %s run; catching up once now", job.name, timeutil.isoformat(missed)
        )
        scheduler.add_job(
            runner.run,
            "date",
            run_date=now,
            args=[job, missed, True],
            id=f"{job.name}:catch-up",
            misfire_grace_time=None,
        )
        queued.append((job, missed))
    return queued


def serve(
    config: Config, jobs: list[Job], grace: timedelta, prefix: list[str] | None = None
) -> None:
    """Run the scheduler until SIGTERM/SIGINT; only one per data dir (lock)."""
    with job_lock(config.data_dir, "scheduler"):
        state = RunState(config.data_dir / STATE_FILE)
        runner = JobRunner(prefix or command_prefix(config), state, config.tz)
        now = timeutil.now(config.tz)
        scheduler = build_scheduler(jobs, config.tz, runner, grace)
        add_catch_ups(scheduler, jobs, runner, now, grace)
        state.mark_seen(jobs, now)
        previous = _on_stop_signals(scheduler, runner)
        try:
            log.info("scheduler started: %d jobs, state in %s", len(jobs), state.path)
            scheduler.start()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        log.info("scheduler stopped")


def _on_stop_signals(scheduler: BaseScheduler, runner: JobRunner) -> dict[int, Any]:
    def stop(signum: int, _frame: object) -> None:
        if runner.stopping:
            return
        log.info("%s received; stopping", signal.Signals(signum).name)
        runner.stop()
        # shutdown waits for the interrupted jobs; not from inside the signal handler
        threading.Thread(target=_shutdown, args=(scheduler,), daemon=True).start()

    return {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}


def _shutdown(scheduler: BaseScheduler) -> None:
    if scheduler.running:
        scheduler.shutdown(wait=True)
