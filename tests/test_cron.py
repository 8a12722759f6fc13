"""`lpsectl cron print | install`, the job table and its cron expressions."""

from __future__ import annotations

import shlex
import stat
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from croniter import croniter
from freezegun import freeze_time

from lpsectl.config import Config
from lpsectl.cronjobs import (
    JOB_TABLE,
    example_cron_file,
    load_jobs,
    render_crontab,
    since_last_run,
    systemd_units,
    to_oncalendar,
    trigger_fields,
)
from lpsectl.errors import ConfigError, UsageError
from tests.fixtures.common import run_cli, write_config

REPO = Path(__file__).resolve().parent.parent
JAKARTA = ZoneInfo("Asia/Jakarta")


def job_lines(text: str) -> list[str]:
    return [
        line
        for line in text.splitlines()
        if line and not line.startswith("#") and "=" not in line.split()[0]
    ]


def test_every_printed_line_is_a_valid_cron_d_entry():
    result = run_cli("cron", "print")
    assert result.exit_code == 0, result.stderr
    lines = job_lines(result.stdout)
    assert len(lines) == len([s for s in JOB_TABLE if not s.only_with])  # no [[checks]] here
    for line in lines:
        fields = line.split(None, 6)
        assert croniter.is_valid(" ".join(fields[:5])), line
        argv = shlex.split(fields[6])
        assert argv[:3] == ["timeout", "-s", "INT"]
        executable = argv[6]
        assert Path(executable).is_absolute() and Path(executable).exists(), line
        # stdout discarded: cron mails only what lpsectl says on stderr
        assert argv[-1] == ">/dev/null"
    assert "CRON_TZ=Asia/Jakarta" in result.stdout.splitlines()
    assert "MAILTO=root" in result.stdout.splitlines()


def test_lines_name_the_config_file_and_its_time_zone(tmp_path):
    config = write_config(
        tmp_path / "lpsectl.toml",
        '[lpse]\nname = "LPSE Kota Contoh"\ntimezone = "Asia/Makassar"\n'
        '[cron]\nuser = "lpsemon"\nmailto = "admin@lpse.contoh.example"\n'
        '[schedule]\ncollect = "0 */2 * * *"\nreport_monthly = "off"\n',
    )
    result = run_cli("--config", str(config), "cron", "print")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "CRON_TZ=Asia/Makassar" in lines
    assert "MAILTO=admin@lpse.contoh.example" in lines
    collect = next(line for line in job_lines(result.stdout) if line.endswith("collect >/dev/null"))
    assert collect.startswith("0 */2 * * * lpsemon ")
    assert f"--config {config.resolve()} collect" in collect
    assert "report monthly" not in result.stdout
    assert "LPSE Kota Contoh" in lines[0]


@freeze_time("2026-12-07 05:55:00+07:00")
def test_next_runs_in_the_lpse_time_zone():
    result = run_cli("cron", "print", "--format", "json")
    assert result.exit_code == 0, result.stderr
    next_run = {job["name"]: job["next_run"] for job in result.json()}
    assert next_run == {
        "collect": "2026-12-07T11:50:00+07:00",
        "report-daily": "2026-12-07T06:00:00+07:00",
        "analyze-month": "2027-01-01T06:10:00+07:00",
        "report-monthly": "2027-01-01T06:30:00+07:00",
        "maintenance-remind": "2026-12-07T06:00:00+07:00",
        "outbox-flush": "2026-12-07T06:00:00+07:00",
        "store-prune": "2026-12-08T03:20:00+07:00",
    }


@freeze_time("2026-12-07 05:55:00+07:00")
def test_next_runs_follow_the_configured_zone(tmp_path):
    config = write_config(tmp_path / "c.toml", '[lpse]\ntimezone = "Asia/Jayapura"\n')
    result = run_cli("--config", str(config), "cron", "print", "--format", "json")
    collect = next(job for job in result.json() if job["name"] == "collect")
    # 05:55 WIB is 07:55 WIT: the next collect is 11:50 WIT
    assert collect["next_run"] == "2026-12-07T11:50:00+09:00"
    assert collect["command"][-1] == "collect" and "--config" in collect["command"]


def test_table_lists_every_job(tmp_path):
    result = run_cli("cron", "print", "--format", "table")
    assert result.exit_code == 0
    for spec in JOB_TABLE:
        assert (spec.name in result.stdout) is not bool(spec.only_with)  # no [[checks]] here


@pytest.mark.parametrize(
    ("schedule", "key"),
    [
        ('collect = "61 * * * *"', "schedule.collect"),
        ('outbox_flush = "every ten minutes"', "schedule.outbox_flush"),
        ('report_daily = "0 6 1 * 1"', "schedule.report_daily"),
        ("collect = 5", "schedule.collect"),
        ('colect = "0 * * * *"', "schedule.colect"),
    ],
)
def test_bad_expressions_are_config_errors_naming_the_key(tmp_path, schedule, key):
    config = write_config(tmp_path / "c.toml", f"[schedule]\n{schedule}\n")
    result = run_cli("--config", str(config), "cron", "print")
    assert result.exit_code == 4
    assert key in result.stderr and str(config) in result.stderr


def test_extra_jobs_join_the_table(tmp_path):
    config = write_config(
        tmp_path / "c.toml",
        '[[schedule.extra]]\nname = "analyze"\ncron = "0 7 * * 1"\nargv = ["analyze"]\ntimeout_minutes = 5\n',
    )
    result = run_cli("--config", str(config), "cron", "print")
    assert result.exit_code == 0, result.stderr
    line = next(line for line in job_lines(result.stdout) if line.endswith("analyze >/dev/null"))
    assert line.startswith("0 7 * * 1 ") and " 300 " in line


def test_seconds_cannot_go_to_cron(tmp_path):
    config = write_config(
        tmp_path / "c.toml",
        '[[schedule.extra]]\nname = "tick"\ncron = "* * * * * *"\nargv = ["--version"]\n',
    )
    result = run_cli("--config", str(config), "cron", "print")
    assert result.exit_code == 2
    assert "'tick'" in result.stderr and "schedule run" in result.stderr


def test_percent_is_escaped_for_cron(tmp_path):
    config = write_config(
        tmp_path / "c.toml",
        '[[schedule.extra]]\nname = "report-file"\ncron = "0 8 * * *"\n'
        'argv = ["report", "daily", "--output", "/srv/lpse/%Y.html"]\n',
    )
    result = run_cli("--config", str(config), "cron", "print")
    assert "/srv/lpse/\\%Y.html" in result.stdout


def test_install_writes_what_print_prints(tmp_path):
    target = tmp_path / "cron.d" / "lpsectl"
    target.parent.mkdir()
    printed = run_cli("cron", "print").stdout
    result = run_cli("-v", "cron", "install", "--path", str(target))
    assert result.exit_code == 0, result.stderr
    assert target.read_text() == printed
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert f"wrote {target}" in result.stderr
    again = run_cli("-v", "cron", "install", "--path", str(target))
    assert "already up to date" in again.stderr
    assert [p.name for p in target.parent.iterdir()] == ["lpsectl"]


def test_install_dry_run_writes_nothing(tmp_path):
    target = tmp_path / "lpsectl"
    result = run_cli("cron", "install", "--dry-run", "--path", str(target))
    assert result.exit_code == 0
    assert not target.exists()
    assert "CRON_TZ=" in result.stdout


def test_install_into_a_missing_directory_names_the_file(tmp_path):
    target = tmp_path / "no-such-dir" / "lpsectl"
    result = run_cli("cron", "install", "--path", str(target))
    assert result.exit_code == 5
    assert str(target) in result.stderr


def test_quiet_is_implied_off_a_terminal(tmp_path):
    # the test runner's stderr is not a terminal, as under cron
    target = tmp_path / "lpsectl"
    result = run_cli("cron", "install", "--path", str(target))
    assert result.exit_code == 0 and target.exists()
    assert result.stderr == ""
    loud = run_cli("-v", "cron", "install", "--path", str(tmp_path / "other"))
    assert "wrote" in loud.stderr


def test_shipped_files_match_the_job_table():
    example = example_cron_file()
    assert (REPO / "cron" / "lpsectl").read_text() == render_crontab(example)
    units = systemd_units(example)
    shipped = {p.name: p.read_text() for p in (REPO / "cron" / "systemd").iterdir()}
    assert shipped == units


@pytest.mark.parametrize(
    ("expr", "calendar"),
    [
        ("50 5,11,17 * * *", "*-*-* 05,11,17:50:00 Asia/Jakarta"),
        ("*/15 * * * *", "*-*-* *:00/15:00 Asia/Jakarta"),
        ("30 6 1 * *", "*-*-01 06:30:00 Asia/Jakarta"),
        ("0 7 * * 1-5", "Mon..Fri *-*-* 07:00:00 Asia/Jakarta"),
        ("0 22 * * sun", "Sun *-*-* 22:00:00 Asia/Jakarta"),
    ],
)
def test_oncalendar(expr, calendar):
    assert to_oncalendar(expr, "Asia/Jakarta") == calendar


def test_oncalendar_refuses_what_it_cannot_express():
    with pytest.raises(UsageError, match="systemd"):
        to_oncalendar("0 1-10/2 * * *", "Asia/Jakarta")


@pytest.mark.parametrize(
    "expr",
    [
        "50 5,11,17 * * *",
        "*/15 * * * *",
        "30 6 1 * *",
        "0 7 * * 1-5",
        "0 22 * * 0",
        "0 8 * * 7",
        "15 3 * * mon,wed",
    ],
)
def test_scheduler_and_cron_agree_on_fire_times(expr):
    # apscheduler 3 counts weekdays from Monday: trigger_fields must translate
    trigger = CronTrigger(timezone=JAKARTA, **trigger_fields(expr))
    start = datetime(2026, 12, 5, 23, 59, 30, tzinfo=JAKARTA)
    expected = croniter(expr, start)
    fire = None
    for _ in range(12):
        fire = trigger.get_next_fire_time(fire, fire or start)
        assert fire == expected.get_next(datetime), expr


def test_jobs_of_the_default_config():
    names = [job.name for job in load_jobs(Config())]
    assert names == [
        "collect",
        "report-daily",
        "analyze-month",
        "report-monthly",
        "maintenance-remind",
        "outbox-flush",
        "store-prune",
    ]


def test_since_last_run_from_the_scheduler():
    assert since_last_run({}) is None
    moment = since_last_run({"LPSECTL_SINCE_LAST_RUN": "2026-12-07T06:00:00+07:00"})
    assert moment == datetime(2026, 12, 7, 6, tzinfo=JAKARTA)
    with pytest.raises(UsageError, match="offset"):
        since_last_run({"LPSECTL_SINCE_LAST_RUN": "2026-12-07T06:00:00"})


def test_duplicate_extra_job_is_refused(tmp_path):
    config = write_config(
        tmp_path / "c.toml",
        '[[schedule.extra]]\nname = "collect"\ncron = "0 * * * *"\nargv = ["collect"]\n',
    )
    from lpsectl.config import load_config

    with pytest.raises(ConfigError, match="'collect' is already taken"):
        load_jobs(load_config(str(config)))


@pytest.mark.parametrize(
    ("cron_section", "key"),
    [
        ('mailto = "root\\n* * * * * root rm -rf /"', "cron.mailto"),
        ('user = "root x"', "cron.user"),
        ('executable = "lpsectl"', "cron.executable"),
    ],
)
def test_cron_settings_cannot_break_the_file(tmp_path, cron_section, key):
    config = write_config(tmp_path / "c.toml", f"[cron]\n{cron_section}\n")
    result = run_cli("--config", str(config), "cron", "print")
    assert result.exit_code == 4
    assert key in result.stderr


def test_a_multi_line_lpse_name_stays_one_comment(tmp_path):
    config = write_config(tmp_path / "c.toml", '[lpse]\nname = "LPSE\\n* * * * * root evil"\n')
    result = run_cli("--config", str(config), "cron", "print")
    assert result.exit_code == 0
    assert all("evil" not in line for line in job_lines(result.stdout))
