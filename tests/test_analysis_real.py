"""Rules on real snapshots: `lpsectl collect` against the PostgreSQL fixture cluster
on three (frozen) days, then `lpsectl analyze` and `lpsectl change new --from`."""

from __future__ import annotations

import json

from freezegun import freeze_time

from tests.fixtures.common import run_cli, write_config


def config_for(tmp_path, cluster) -> str:
    text = f"""
[lpse]
name = "LPSE Kabupaten Uji"
timezone = "Asia/Jakarta"
data_dir = "{tmp_path / "data"}"

[[hosts]]
name = "db1"
role = ["db"]
address = "local"

[hosts.postgres]
psql = {json.dumps(cluster.psql_argv())}
database = "{cluster.dbname}"

[analysis]
temp_files_per_day = 1.0
"""
    return str(write_config(tmp_path / "lpsectl.toml", text))


def collect_on(config: str, moment: str) -> None:
    with freeze_time(moment):
        result = run_cli("--config", config, "-q", "collect")
    assert result.exit_code in (0, 3), result.stderr


def test_analyze_real_history_of_the_fixture_cluster(tmp_path, pg_cluster):
    config = config_for(tmp_path, pg_cluster)
    collect_on(config, "2026-11-19 03:00:00")
    temp_start = pg_cluster.counter("temp_files")
    pg_cluster.force_temp_files()
    collect_on(config, "2026-11-20 03:00:00")
    pg_cluster.force_temp_files()
    pg_cluster.force_deadlock()
    collect_on(config, "2026-11-21 03:00:00")
    temp_end = pg_cluster.counter("temp_files")

    with freeze_time("2026-11-21 04:00:00"):
        result = run_cli("--config", config, "analyze", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert report["snapshots"] >= 6  # system + postgres, three runs
    by_rule = {r["rule"]: r for r in report["recommendations"]}

    # the fixture runs with initdb's shared_buffers (128MB): far below RAM/4 on any test machine
    memory = by_rule["memory_settings"]
    shown = int(
        pg_cluster.psql(
            "SELECT setting::bigint * 8192 FROM pg_settings WHERE name = 'shared_buffers'"
        )
    )
    assert memory["evidence"]["settings"]["shared_buffers"]["current"] == shown
    assert memory["class"] == "minor" and memory["route"] == "internal"

    # temp files: two days of deltas, as the server counted them
    temp = by_rule["temp_files_frequent"]
    assert temp["evidence"]["days"] == 2
    assert temp["evidence"]["temp_files_per_day"] == round((temp_end - temp_start) / 2, 1)

    # no deadlock on day 2, at least one on day 3: rising
    dead = by_rule["rollback_deadlock_rising"]
    assert dead["evidence"]["deadlocks_by_day"]["2026-11-20"] == 0
    assert dead["evidence"]["deadlocks_by_day"]["2026-11-21"] >= 1
    assert dead["class"] == "major" and dead["route"] == "consult_lkpp"

    # the fixture logs durations with a timestamped prefix and preloads pg_stat_statements
    assert "logging_not_configured" not in by_rule

    with freeze_time("2026-11-21 04:05:00"):
        new = run_cli(
            "--config", config, "change", "new", "--from", str(dead["id"]), "--format", "json"
        )
    assert new.exit_code == 0, new.stderr
    change = new.json()
    assert change["class"] == "major" and change["route"] == "consult_lkpp"
    assert change["documents"] == ["request", "consultation"]
    assert change["recommendation_id"] == dead["id"]
    assert [h["status"] for h in change["history"]] == ["recorded", "analysed"]
