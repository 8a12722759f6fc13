"""PostgreSQL collector over a real sshd against a real cluster (no mocks)."""

from __future__ import annotations

import subprocess
import time

import pytest

from lpsectl import pgstats
from lpsectl.collect import postgres
from lpsectl.config import HostConfig, PostgresSettings, SshSettings
from lpsectl.remote.runner import SshRunner
from tests.fixtures.sshd import TEST_USER


@pytest.fixture(scope="module")
def db_sshd(sshd_factory):
    return sshd_factory.start("pg-db")


@pytest.fixture
def connect(db_sshd, ssh_client_key, tmp_path):
    """connect(psql_argv, database) -> (runner, host) logging in as lpsetest over SSH."""
    runners: list[SshRunner] = []
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(db_sshd.known_hosts_line + "\n")
    ssh = SshSettings(
        known_hosts=str(known_hosts),
        key_file=str(ssh_client_key),
        user=TEST_USER,
        ssh_config=str(tmp_path / "no-ssh-config"),
    )

    def make(psql: list[str], database: str = "epns_prod") -> tuple[SshRunner, HostConfig]:
        host = HostConfig(
            name="spse-db",
            role=["db"],
            address=db_sshd.address,
            port=db_sshd.port,
            postgres=PostgresSettings(database=database, psql=psql),
        )
        runner = SshRunner(host, ssh)
        runners.append(runner)
        return runner, host

    yield make
    for runner in runners:
        runner.close()


def collect(connect, psql, database="epns_prod"):
    runner, host = connect(psql, database)
    assert postgres.applies(host)
    return postgres.collect(runner, host, None)


def test_collects_everything_and_matches_the_views(connect, pg_cluster):
    result = collect(connect, pg_cluster.psql_argv())
    assert result.ok and result.unavailable == {}
    data = result.data
    assert data["server"]["version_num"] == int(pg_cluster.psql("SHOW server_version_num"))
    assert data["server"]["user"] == "lpsemon"
    stats = data["database_stats"]
    for counter in ("deadlocks", "temp_files", "temp_bytes"):
        assert stats[counter] == pg_cluster.counter(counter), counter
    assert 2 <= stats["xact_rollback"] <= pg_cluster.counter("xact_rollback")
    assert stats["xact_commit"] <= pg_cluster.counter("xact_commit")
    hit, read = stats["blks_hit"], stats["blks_read"]
    assert stats["cache_hit_ratio"] == pytest.approx(hit / (hit + read))
    direct = (
        pg_cluster.psql(
            "SELECT calls, round(total_exec_time::numeric, 3), round(max_exec_time::numeric, 3), rows "
            "FROM pg_stat_statements WHERE query LIKE 'UPDATE pgbench_accounts SET abalance = abalance + $1%'"
        )
        .strip()
        .split("|")
    )
    top = data["statements"]["top_by_calls"]
    update = next(q for q in top if q["query"].startswith("UPDATE pgbench_accounts SET abalance"))
    assert update["calls"] == int(direct[0]) >= 400
    assert update["total_ms"] == pytest.approx(float(direct[1]), abs=0.001)
    assert update["max_ms"] == pytest.approx(float(direct[2]), abs=0.001)
    assert update["rows"] == int(direct[3])
    assert [q["calls"] for q in top] == sorted((q["calls"] for q in top), reverse=True)
    assert not any(q["query"].upper().startswith(("BEGIN", "END", "COMMIT")) for q in top)
    by_time = data["statements"]["top_by_total_time"]
    assert [q["total_ms"] for q in by_time] == sorted(
        (q["total_ms"] for q in by_time), reverse=True
    )
    assert data["settings"]["shared_buffers"]["bytes"] == int(
        pg_cluster.psql("SELECT pg_size_bytes(current_setting('shared_buffers'))")
    )
    assert data["settings"]["log_line_prefix"]["shown"] == "%m [%p] %q%u@%d "
    assert data["settings"]["deadlock_timeout"]["ms"] == 200.0
    assert data["activity"]["max_connections"] == 100
    assert data["activity"]["usage_ratio"] == data["activity"]["total"] / 100
    assert data["replication"] == {"in_recovery": False, "replay_lag_s": None, "replicas": []}
    ages = dict(
        line.split("|")
        for line in pg_cluster.psql(
            "SELECT datname, age(datfrozenxid) FROM pg_database WHERE datallowconn"
        ).split()
    )
    assert data["wraparound"]["max_age"] == max(int(a) for a in ages.values())
    tables = {t["name"]: t for t in data["tables"]}
    assert data["tables"][0]["name"] == "pgbench_accounts"
    live, dead = (
        int(x)
        for x in pg_cluster.psql(
            "SELECT n_live_tup, n_dead_tup FROM pg_stat_user_tables WHERE relname = 'pgbench_tellers'"
        )
        .strip()
        .split("|")
    )
    assert tables["pgbench_tellers"]["dead_ratio"] == pytest.approx(dead / (live + dead))


def test_psql_missing_is_named(connect):
    result = collect(connect, ["/nonexistent/bin/psql"])
    assert (
        result.error
        == "psql not found on spse-db (hosts.postgres.psql = '/nonexistent/bin/psql'...)"
    )
    assert "server" not in result.data


def test_sudo_refused_is_named(connect):
    result = collect(connect, ["sudo", "-n", "-u", "postgres", "psql"])
    assert result.error.startswith("sudo refused to run psql without a password on spse-db")
    assert "NOPASSWD" in result.error


def test_wrong_database_is_named(connect, pg_cluster):
    result = collect(connect, pg_cluster.psql_argv(), database="epns_salah")
    assert result.error == (
        'database "epns_salah" does not exist on spse-db (check hosts.postgres.database)'
    )


def test_extension_absent_rest_still_collected(connect, pg_cluster):
    # the extension is preloaded but was never created in database "postgres"
    result = collect(connect, pg_cluster.psql_argv(), database="postgres")
    assert result.ok
    assert set(result.unavailable) == {"statements"}
    assert result.unavailable["statements"].startswith(
        "pg_stat_statements is not installed in database postgres on spse-db: add pg_stat_statements"
    )
    assert result.data["database_stats"]["datname"] == "postgres"
    assert result.data["activity"]["total"] >= 1


def test_extension_not_preloaded(connect, pg_cluster_factory):
    cluster = pg_cluster_factory(preload=False, workload=False)
    cluster.psql("CREATE EXTENSION pg_stat_statements")
    result = collect(connect, cluster.psql_argv())
    assert result.ok
    assert result.unavailable["statements"].startswith(
        "pg_stat_statements is installed but not preloaded on spse-db"
    )
    assert "shared_preload_libraries" in result.unavailable["statements"]


def test_stats_reset_between_snapshots_is_not_negative(connect, pg_cluster_factory):
    cluster = pg_cluster_factory()
    first = collect(connect, cluster.psql_argv()).data
    assert first["database_stats"]["deadlocks"] == 1
    cluster.psql("SELECT pg_stat_reset()")
    cluster.force_rollback()
    second = collect(connect, cluster.psql_argv()).data
    delta = pgstats.counter_delta(first, second)
    assert delta["reset"] is True
    assert delta["counters"]["deadlocks"] == 0
    assert delta["counters"]["xact_rollback"] == second["database_stats"]["xact_rollback"] >= 1
    assert all(value >= 0 for value in delta["counters"].values())
    assert second["database_stats"]["stats_reset"] is not None
    # without a reset, the delta is the plain difference
    cluster.force_rollback()
    third = collect(connect, cluster.psql_argv()).data
    plain = pgstats.counter_delta(second, third)
    assert plain["reset"] is False
    assert plain["counters"]["xact_rollback"] == (
        third["database_stats"]["xact_rollback"] - second["database_stats"]["xact_rollback"]
    )


def test_idle_in_transaction_and_lock_waits_are_seen(connect, pg_cluster_factory):
    cluster = pg_cluster_factory(workload=False)
    cluster.psql(
        "CREATE TABLE antrian (id int PRIMARY KEY, n int); INSERT INTO antrian VALUES (1, 0)"
    )
    base = cluster.session_argv()
    holder = subprocess.Popen(base, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    waiter = None
    try:
        holder.stdin.write("BEGIN; UPDATE antrian SET n = n + 1 WHERE id = 1;\n")
        holder.stdin.flush()
        _wait_until(
            cluster, "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'"
        )
        waiter = subprocess.Popen(
            [*base, "-c", "UPDATE antrian SET n = n + 1 WHERE id = 1"], stdout=subprocess.DEVNULL
        )
        _wait_until(cluster, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        activity = collect(connect, cluster.psql_argv()).data["activity"]
    finally:
        holder.stdin.write("ROLLBACK;\n")
        holder.stdin.close()
        holder.wait(timeout=30)
        if waiter:
            waiter.wait(timeout=30)
    assert activity["idle_in_transaction"] == 1
    assert activity["waiting_on_locks"] == 1
    idle = next(s for s in activity["sessions"] if s["state"] == "idle in transaction")
    blocked = next(s for s in activity["sessions"] if s["blocked_by"])
    assert blocked["blocked_by"] == [idle["pid"]]
    assert blocked["wait_event_type"] == "Lock"
    assert blocked["query"] == "UPDATE antrian SET n = n + 1 WHERE id = 1"
    assert activity["by_state"]["idle in transaction"] == 1


def _wait_until(cluster, sql: str) -> None:
    """Poll until ``sql`` counts at least one row (a session reached the state we need)."""
    for _ in range(200):
        if int(cluster.psql(sql).strip()) >= 1:
            return
        time.sleep(0.05)
    raise AssertionError(f"never true: {sql}")
