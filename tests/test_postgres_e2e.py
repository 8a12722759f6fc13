"""`lpsectl collect` then `lpsectl report daily` against the fixture cluster, over real SSH."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.common import run_cli
from tests.fixtures.sshd import ssh_config_text


@pytest.fixture
def config_file(sshd_factory, ssh_client_key, tmp_path, pg_cluster):
    host = sshd_factory.start("pg-e2e")
    psql = json.dumps(pg_cluster.psql_argv())
    extra = {
        host.name: {
            "role": '"db"',
            "postgres": f'{{ database = "{pg_cluster.dbname}", psql = {psql} }}',
        }
    }
    text = ssh_config_text(
        [host], ssh_client_key, tmp_path / "known_hosts", tmp_path / "data", host_extra=extra
    )
    path = tmp_path / "lpsectl.toml"
    path.write_text(text)
    return path, host.name


def test_collect_then_daily_report_shows_the_database(config_file, pg_cluster):
    path, name = config_file
    collected = run_cli("--config", str(path), "collect")
    assert collected.exit_code in (0, 3), collected.stderr
    report = run_cli("--config", str(path), "report", "daily", "--format", "json")
    assert report.exit_code == 0, report.stderr
    section = report.json()["sections"]["database"]
    host = section["hosts"][0]
    assert host["host"] == name and host["error"] is None
    direct = (
        pg_cluster.psql(
            "SELECT calls, round(mean_exec_time::numeric, 3) FROM pg_stat_statements "
            "WHERE query LIKE 'UPDATE pgbench_tellers SET tbalance%'"
        )
        .strip()
        .split("|")
    )
    tellers = next(
        q
        for q in host["statements"]["top_by_calls"]
        if q["query"].startswith("UPDATE pgbench_tellers")
    )
    assert tellers["calls"] == int(direct[0])
    assert tellers["mean_ms"] == pytest.approx(float(direct[1]), abs=0.001)
    assert host["connections"]["max_connections"] == 100
    assert 0 < host["cache_hit_ratio"]["cumulative"] <= 1
    assert host["taken_at"].endswith("+07:00")
    # no earlier snapshot: nothing to count changes from yet
    assert host["since_yesterday"] is None and host["since"] is None

    # a rollback and a second collection: today's changes count from the first snapshot
    pg_cluster.force_rollback()
    assert run_cli("--config", str(path), "collect").exit_code in (0, 3)
    again = run_cli("--config", str(path), "report", "daily", "--format", "json").json()
    host = again["sections"]["database"]["hosts"][0]
    assert host["since"] == section["hosts"][0]["taken_at"]
    assert host["since_yesterday"]["xact_rollback"] >= 1
    assert host["since_yesterday"]["deadlocks"] == 0

    text_id = run_cli("--config", str(path), "report", "daily")
    assert "Basis data (PostgreSQL)" in text_id.stdout
    assert "Kueri paling sering" in text_id.stdout
    assert "Transaksi gagal (rollback): " in text_id.stdout
    text_en = run_cli("--config", str(path), "--lang", "en", "report", "daily")
    assert "Most frequent queries" in text_en.stdout
    html = run_cli("--config", str(path), "report", "daily", "--format", "html")
    assert html.exit_code == 0, html.stderr
    assert '<section class="daily-database">' in html.stdout
    assert "Transaksi gagal (rollback)" in html.stdout
    assert "Kueri paling sering" in html.stdout


def test_a_configured_prefix_that_differs_from_the_server_is_said(
    sshd_factory, ssh_client_key, tmp_path, pg_cluster
):
    host = sshd_factory.start("pg-prefix")
    server_prefix = pg_cluster.psql("SHOW log_line_prefix", dbname="postgres").rstrip(
        "\n"
    )  # keeps its blank
    wrong = "%t [%p]: [%l-1] "
    log = pg_cluster.log_files()["stderr"]
    psql = json.dumps(pg_cluster.psql_argv())
    extra = {
        host.name: {
            "role": '"db"',
            "logs": f'["{log}"]',
            "log_line_prefix": f'"{wrong}"',
            "postgres": f'{{ database = "{pg_cluster.dbname}", psql = {psql} }}',
        }
    }
    path = tmp_path / "lpsectl.toml"
    path.write_text(
        ssh_config_text(
            [host], ssh_client_key, tmp_path / "known_hosts", tmp_path / "data", host_extra=extra
        )
    )
    collected = run_cli("--config", str(path), "collect")
    assert collected.exit_code == 3, collected.stderr
    said = f"hosts.log_line_prefix {wrong!r} differs from the server's log_line_prefix {server_prefix!r}"
    assert said in collected.stderr
    report = run_cli("--config", str(path), "report", "daily", "--format", "json").json()
    assert any(said in a["message"] for a in report["alerts"]), report["alerts"]
