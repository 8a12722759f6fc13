"""Config loading and validation: every error names the file and the key (exit 4)."""

from __future__ import annotations

import socket
import tomllib

import pytest

from lpsectl.commands.init import example_config
from lpsectl.config import load_config, load_section, parse_config
from lpsectl.errors import ConfigError
from lpsectl.reports.daily import HostThresholds


def write(tmp_path, text):
    path = tmp_path / "lpsectl.toml"
    path.write_text(text)
    return path


def test_no_config_at_all_is_the_local_host_only():
    config = load_config(None)
    assert config.source == "<embedded default>"
    assert [h.address for h in config.hosts] == ["local"]
    assert config.hosts[0].name == socket.gethostname()


def test_the_example_written_by_init_is_valid():
    config = parse_config(tomllib.loads(example_config()), "example")
    assert [h.name for h in config.hosts] == ["spse-app", "spse-proxy", "spse-db"]
    assert config.hosts[1].access_logs == ["/var/log/nginx/access.log"]
    assert config.hosts[2].postgres.psql == ["sudo", "-n", "-u", "postgres", "psql"]
    assert load_section(config, "thresholds.host", HostThresholds).disk_warning_percent == 85.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[lpse\nname = 1", "invalid TOML"),
        ('[[hosts]]\nname = "a"\nrole = "web"\n', "hosts[0] ('a').role: unknown role 'web'"),
        (
            '[[hosts]]\nname = "a"\naddress = "10.0.0.1"\nport = 70000\n',
            "hosts[0] ('a').port: 70000 is not a port",
        ),
        ('[[hosts]]\nname = "a"\nport = "22"\n', "hosts[0].port: expected a whole number"),
        ('[[hosts]]\nrole = "app"\n', "hosts[0].name is required"),
        ('[[hosts]]\nname = "a; rm -rf /"\n', "may contain only letters"),
        ("[ssh]\nparalel = 4\n", "ssh.paralel: unknown key"),
        ('[lpse]\ntimezone = "Asia/Jakrta"\n', "lpse.timezone: unknown time zone 'Asia/Jakrta'"),
        ("[bogus]\n", "unknown section [bogus]"),
        ('[[hosts]]\nname = "a"\n[[hosts]]\nname = "a"\n', "host name 'a' appears twice"),
        ("[access]\ncheck_minuts = 5\n", "access.check_minuts: unknown key"),
        ("[thresholds.hots]\ndisk_warning_percent = 5\n", "unknown section [thresholds.hots]"),
        ("[report]\nx = 1\n", "unknown section [report]"),
        (
            '[[hosts]]\nname = "a"\nlog_read_mib = 0\n',
            "log_read_mib and log_read_seconds must be at least 1",
        ),
        (
            '[[hosts]]\nname = "a"\nlog_read_seconds = nan\n',
            "log_read_mib and log_read_seconds must be at least 1",
        ),
        (
            '[[hosts]]\nname = "a"\nlog_read_seconds = inf\n',
            "log_read_mib and log_read_seconds must be at least 1",
        ),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(str(path))
    assert str(path) in err.value.message
    assert expected in err.value.message
    assert err.value.exit_code == 4


def test_cli_exit_code_4_for_missing_and_broken_config(tmp_path, cli):
    missing = cli("--config", str(tmp_path / "nope.toml"), "hosts", "list")
    assert missing.exit_code == 4
    assert "nope.toml: config file not found" in missing.stderr
    broken = write(tmp_path, '[[hosts]]\nname = "x"\nrole = "dbb"\n')
    result = cli("--config", str(broken), "collect")
    assert result.exit_code == 4
    assert "role: unknown role 'dbb'" in result.stderr
    assert result.stderr.count("\n") == 1  # one clear sentence, no traceback


def test_config_from_environment_variable(tmp_path, cli, monkeypatch):
    path = write(tmp_path, '[lpse]\nname = "LPSE Env"\n[[hosts]]\nname = "h1"\n')
    monkeypatch.setenv("LPSECTL_CONFIG", str(path))
    result = cli("hosts", "list", "--format", "json")
    assert result.exit_code == 0
    assert [h["name"] for h in result.json()] == ["h1"]


def test_init_writes_example_and_refuses_to_overwrite(tmp_path, cli):
    target = tmp_path / "conf" / "lpsectl.toml"
    first = cli("init", "--path", str(target))
    assert first.exit_code == 0
    assert target.read_text() == example_config()
    second = cli("init", "--path", str(target))
    assert second.exit_code == 2
    assert "already exists" in second.stderr
    assert cli("init", "--path", str(target), "--force").exit_code == 0


def test_every_feature_section_of_the_example_is_valid():
    from lpsectl.access import AccessSettings
    from lpsectl.analysis.rules import AnalysisSettings
    from lpsectl.cronjobs import CronSettings, ScheduleSettings
    from lpsectl.maintenance import MaintenanceSettings
    from lpsectl.reports.daily_database import DatabaseThresholds
    from lpsectl.reports.daily_logs import LogsSettings
    from lpsectl.tickets import TicketSettings

    config = parse_config(tomllib.loads(example_config()), "example")
    sections = {
        "maintenance": MaintenanceSettings,
        "tickets": TicketSettings,
        "access": AccessSettings,
        "analysis": AnalysisSettings,
        "schedule": ScheduleSettings,
        "cron": CronSettings,
        "logs": LogsSettings,
        "thresholds.database": DatabaseThresholds,
    }
    for name, cls in sections.items():
        top = name.split(".")[0]
        assert top in config.sections, name
        assert isinstance(load_section(config, name, cls), cls)
    assert load_section(config, "tickets", TicketSettings).resolution_hours["Tinggi"] == 4
