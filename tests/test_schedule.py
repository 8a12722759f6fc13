"""The in-process scheduler: cron triggers, catch-up once, timeouts, SIGTERM, its lock."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from croniter import croniter
from freezegun import freeze_time

from lpsectl.config import Config
from lpsectl.cronjobs import Job, load_jobs
from lpsectl.scheduler import STATE_FILE, JobRunner, RunState, build_scheduler, missed_run
from tests.fixtures.common import run_cli, write_config

JAKARTA = ZoneInfo("Asia/Jakarta")
ALL_DEFAULT_JOBS_OFF = (
    '[schedule]\ncollect = "off"\nreport_daily = "off"\nanalyze_month = "off"\nreport_monthly = "off"\n'
    'maintenance_remind = "off"\noutbox_flush = "off"\nstore_prune = "off"\ncheck = "off"\nnotify = "off"\n'
)


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll until ``predicate`` holds; generous, only to avoid hanging forever."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def scheduler_config(tmp_path: Path, extra: str, grace_hours: float = 12) -> tuple[Path, Path]:
    data = tmp_path / "data"
    text = f'[lpse]\ndata_dir = "{data}"\n' + ALL_DEFAULT_JOBS_OFF
    text += f"misfire_grace_hours = {grace_hours}\n" + extra
    return write_config(tmp_path / "lpsectl.toml", text), data


def start_scheduler(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "lpsectl", "--config", str(config), "schedule", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def state(data: Path) -> dict:
    path = data / STATE_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def runs(data: Path, job: str) -> int:
    return state(data).get(job, {}).get("runs", 0)


# --- pure catch-up arithmetic -------------------------------------------


def test_many_missed_fires_are_caught_up_once_at_the_latest():
    last = datetime(2026, 12, 4, 6, 0, tzinfo=JAKARTA)
    now = datetime(2026, 12, 7, 9, 30, tzinfo=JAKARTA)
    assert missed_run("0 6 * * *", last, now, timedelta(hours=12)) == datetime(
        2026, 12, 7, 6, 0, tzinfo=JAKARTA
    )


def test_nothing_to_catch_up():
    last = datetime(2026, 12, 7, 6, 0, tzinfo=JAKARTA)
    now = datetime(2026, 12, 7, 9, 30, tzinfo=JAKARTA)
    assert missed_run("0 6 * * *", last, now, timedelta(hours=12)) is None


def test_a_miss_older_than_the_grace_is_dropped():
    last = datetime(2026, 12, 6, 6, 0, tzinfo=JAKARTA)
    now = datetime(2026, 12, 7, 19, 0, tzinfo=JAKARTA)
    assert missed_run("0 6 * * *", last, now, timedelta(hours=12)) is None
    assert missed_run("0 6 * * *", last, now, timedelta(hours=14)) is not None


def test_a_job_never_scheduled_before_is_not_caught_up():
    now = datetime(2026, 12, 7, 9, 30, tzinfo=JAKARTA)
    assert missed_run("0 6 * * *", None, now, timedelta(hours=12)) is None


# --- apscheduler set-up ----------------------------------------------------


@freeze_time("2026-12-07 05:55:00+07:00")
def test_each_job_gets_a_coalescing_cron_trigger(tmp_path):
    jobs = load_jobs(Config())
    runner = JobRunner(["lpsectl"], RunState(tmp_path / STATE_FILE), JAKARTA)
    scheduler = build_scheduler(jobs, JAKARTA, runner, timedelta(hours=12), BackgroundScheduler)
    scheduler.start(paused=True)  # job defaults apply once the scheduler holds the jobs
    try:
        entries = {entry.id: entry for entry in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    assert set(entries) == {job.name for job in jobs}
    now = datetime.now(JAKARTA)
    for job in jobs:
        entry = entries[job.name]
        assert entry.coalesce is True
        assert entry.misfire_grace_time == 12 * 3600
        assert entry.max_instances == 1
        assert entry.trigger.get_next_fire_time(None, now) == croniter(job.cron, now).get_next(
            datetime
        )


# --- the job runner (real subprocesses) ----------------------------------


def test_a_hung_job_is_interrupted_at_its_timeout(tmp_path):
    hang = [sys.executable, "-c", "import time; time.sleep(600)"]
    runner = JobRunner(hang, RunState(tmp_path / STATE_FILE), JAKARTA)
    run = runner.run(Job("hang", "* * * * *", (), "sleeps", timeout=1))
    assert run is not None and run.timed_out
    assert run.exit_code != 0
    entry = RunState(tmp_path / STATE_FILE).entry("hang")
    assert entry["last_timed_out"] is True and "last_success" not in entry


def test_each_run_is_told_when_the_last_good_run_started(tmp_path):
    seen = tmp_path / "seen.txt"
    script = "import os, sys; open(sys.argv[1], 'a').write(os.environ.get('LPSECTL_SINCE_LAST_RUN', '-') + '\\n')"
    runner = JobRunner([sys.executable, "-c", script], RunState(tmp_path / STATE_FILE), JAKARTA)
    job = Job("note", "* * * * *", (str(seen),), "notes the gap", timeout=60)
    first = runner.run(job)
    second = runner.run(job)
    assert first is not None and second is not None and first.succeeded
    lines = seen.read_text().splitlines()
    assert lines[0] == "-"
    assert datetime.fromisoformat(lines[1]) == first.started_at.replace(microsecond=0)


# --- `lpsectl schedule run` as a real process -------------------------


def test_scheduler_runs_a_job_on_its_trigger_and_stops_on_sigterm(tmp_path):
    config, data = scheduler_config(
        tmp_path, '[[schedule.extra]]\nname = "tick"\ncron = "* * * * * *"\nargv = ["--version"]\n'
    )
    proc = start_scheduler(config)
    try:
        wait_for(lambda: runs(data, "tick") >= 2)
        # a second scheduler on the same data dir refuses to start
        second = subprocess.run(
            [sys.executable, "-m", "lpsectl", "--config", str(config), "schedule", "run"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 6
        assert "another 'scheduler' run is in progress" in second.stderr
    finally:
        code, err = stop(proc)
    assert code == 0, err
    assert "tick: done" in err and "SIGTERM received; stopping" in err
    assert state(data)["tick"]["last_exit"] == 0


def test_a_run_missed_while_down_is_caught_up_exactly_once(tmp_path):
    config, data = scheduler_config(
        tmp_path,
        '[[schedule.extra]]\nname = "new-year"\ncron = "0 0 1 1 *"\nargv = ["--version"]\n'
        '[[schedule.extra]]\nname = "tick"\ncron = "* * * * * *"\nargv = ["--version"]\n',
        grace_hours=5 * 366 * 24,
    )
    # the scheduler last ran "new-year" three New Years ago: three fires missed
    now = datetime.now(JAKARTA)
    three_ago = datetime(now.year - 3, 1, 1, tzinfo=JAKARTA)
    data.mkdir()
    (data / STATE_FILE).write_text(
        json.dumps({"new-year": {"last_scheduled": three_ago.isoformat(), "runs": 0}})
    )
    proc = start_scheduler(config)
    try:
        wait_for(lambda: runs(data, "new-year") >= 1)
        # let the scheduler go on for several more trigger fires
        ticks = runs(data, "tick")
        wait_for(lambda: runs(data, "tick") >= ticks + 3)
    finally:
        code, err = stop(proc)
    assert code == 0, err
    entry = state(data)["new-year"]
    assert entry["runs"] == 1
    assert entry["last_catch_up"] is True and entry["last_exit"] == 0
    assert entry["last_scheduled"] == datetime(now.year, 1, 1, tzinfo=JAKARTA).isoformat()
    assert err.count("new-year: missed its") == 1

    # restarted: nothing left to catch up
    proc = start_scheduler(config)
    try:
        ticks = runs(data, "tick")
        wait_for(lambda: runs(data, "tick") >= ticks + 2)
    finally:
        code, err = stop(proc)
    assert code == 0 and "new-year" not in err
    assert state(data)["new-year"]["runs"] == 1


def test_schedule_list_shows_next_and_last_runs(tmp_path):
    config, data = scheduler_config(
        tmp_path, '[[schedule.extra]]\nname = "nightly"\ncron = "0 1 * * *"\nargv = ["--version"]\n'
    )
    data.mkdir()
    (data / STATE_FILE).write_text(
        json.dumps(
            {
                "nightly": {
                    "last_started": "2026-12-07T01:00:00+07:00",
                    "last_exit": 3,
                    "runs": 4,
                }
            }
        )
    )
    with freeze_time("2026-12-07 05:55:00+07:00"):
        result = run_cli("--config", str(config), "schedule", "list", "--format", "json")
    assert result.exit_code == 0, result.stderr
    [row] = result.json()
    assert row["name"] == "nightly" and row["argv"] == ["--version"]
    assert row["next_run"] == "2026-12-08T01:00:00+07:00"
    assert row["last_started"] == "2026-12-07T01:00:00+07:00"
    assert row["last_exit"] == 3 and row["runs"] == 4
    table = run_cli("--config", str(config), "schedule", "list")
    assert "nightly" in table.stdout and "0 1 * * *" in table.stdout


def test_nothing_enabled_is_a_config_error(tmp_path):
    config, _ = scheduler_config(tmp_path, "")
    result = run_cli("--config", str(config), "schedule", "run")
    assert result.exit_code == 4
    assert "every job in [schedule] is off" in result.stderr


def test_sigterm_interrupts_a_running_job_and_its_run_is_caught_up_later(tmp_path):
    # the job is itself a scheduler (with its own data dir): it runs until interrupted
    (tmp_path / "inner").mkdir()
    inner, _ = scheduler_config(
        tmp_path / "inner",
        '[[schedule.extra]]\nname = "idle"\ncron = "0 0 1 1 *"\nargv = ["--version"]\n',
    )
    config, data = scheduler_config(
        tmp_path,
        '[[schedule.extra]]\nname = "long"\ncron = "* * * * * *"\n'
        f'argv = ["--config", "{inner}", "schedule", "run"]\n',
    )
    proc = start_scheduler(config)
    try:
        wait_for(lambda: (tmp_path / "inner" / "data" / STATE_FILE).exists())
    finally:
        code, err = stop(proc)
    assert code == 0, err
    assert "long: interrupting (scheduler stopping)" in err
    entry = state(data)["long"]
    assert entry["last_interrupted"] is True
    # the interrupted run does not count as done: its fire time stays due
    assert "last_scheduled" not in entry and "last_success" not in entry
