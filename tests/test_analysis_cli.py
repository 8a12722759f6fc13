"""`lpsectl analyze` on a week of history in the store."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from lpsectl.store import Store
from tests.fixtures.common import run_cli, write_config
from tests.test_analysis_builders import GIB, postgres_data, spse_errors, system_data, week


def sick_week():
    return week(
        7,
        system=lambda i, at: system_data(disk_used=150 * GIB + int(i * GIB / 2)),
        postgres=lambda i, at: postgres_data(i, temp_files_per_step=100),
        logs=lambda i, at: spse_errors(5),
    )


@pytest.fixture
def config(tmp_path):
    path = write_config(
        tmp_path / "lpsectl.toml",
        f"""
[lpse]
name = "LPSE Kabupaten Contoh"
data_dir = "{tmp_path / "data"}"

[analysis]
window_days = 7
""",
    )
    with Store.open_sqlite(tmp_path / "data" / "history.sqlite3") as store:
        for snap in sick_week():
            run_id = store.insert("runs", {"job": "collect", "started_at": snap["taken_at"]})
            store.insert("snapshots", dict(snap, run_id=run_id, ok=1))
    return str(path)


def analyze(config, *args):
    with freeze_time("2026-11-21 05:00:00"):
        return run_cli("--config", config, *args)


def test_week_gives_recommendations_with_numbers(config):
    result = analyze(config, "analyze", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert (report["period"], report["from"], report["to"]) == (
        "2026-11-21",
        "2026-11-15",
        "2026-11-21",
    )
    assert report["snapshots"] == 7 * 4 * 4
    rules = [(r["rule"], r["class"], r["route"]) for r in report["recommendations"]]
    assert rules == [
        ("app_errors_recurring", "major", "consult_lkpp"),
        ("disk_filling", "major", "consult_lkpp"),
        ("temp_files_frequent", "minor", "internal"),
    ]
    disk = report["recommendations"][1]
    assert disk["evidence"]["days_until_full"] == 18.2
    assert disk["id"] == 2 and disk["title"] == "Disk / di db1 hampir penuh"


def test_text_output_in_english_and_stable_ids(config):
    first = analyze(config, "--lang", "en", "analyze")
    again = analyze(config, "--lang", "en", "analyze")
    assert first.stdout == again.stdout
    assert (
        "Analysis of 2026-11-15 .. 2026-11-21 (112 snapshots): 3 recommendation(s)" in first.stdout
    )
    assert "[2] Disk / on db1 filling up (disk_filling)" in first.stdout
    assert "full in about 18 days" in first.stdout


def test_fail_on_findings_exits_1_for_cron(config):
    assert analyze(config, "analyze", "--fail-on-findings").exit_code == 1


def test_an_empty_period_says_so(config):
    result = analyze(config, "-v", "analyze", "--month", "2026-01", "--format", "json")
    assert result.exit_code == 0
    assert result.json()["recommendations"] == [] and result.json()["snapshots"] == 0
    assert "no snapshots from 2026-01-01 to 2026-01-31" in result.stderr
    text = analyze(config, "analyze", "--month", "2026-01")
    assert "(0 snapshots): 0 recommendation(s)" in text.stdout
    assert "run `lpsectl collect` first" in text.stdout


def test_month_covers_the_whole_month(config):
    result = analyze(config, "analyze", "--month", "2026-11", "--format", "json")
    assert (result.json()["from"], result.json()["to"]) == ("2026-11-01", "2026-11-30")
    assert len(result.json()["recommendations"]) == 3


@pytest.mark.parametrize(
    "args, message",
    [
        (["--date", "2026-11-21", "--month", "2026-11"], "give either --date or --month, not both"),
        (["--month", "2026-13"], "--month '2026-13' is not a month like 2026-11"),
    ],
)
def test_usage_errors(config, args, message):
    result = analyze(config, "analyze", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_bad_threshold_in_config_names_the_key(tmp_path):
    path = write_config(tmp_path / "bad.toml", '[analysis]\nwindow_days = "seven"\n')
    result = run_cli("--config", str(path), "analyze")
    assert result.exit_code == 4
    assert "analysis.window_days: expected a whole number" in result.stderr


def test_help_teaches_with_examples():
    for args in (
        ["analyze"],
        ["change"],
        ["change", "new"],
        ["change", "show"],
        ["change", "classify"],
    ):
        result = run_cli(*args, "--help")
        assert result.exit_code == 0 and "Examples:" in result.stdout
