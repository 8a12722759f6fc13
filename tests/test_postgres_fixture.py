"""The PostgreSQL fixture itself: the workload really happened and logs are readable."""

from __future__ import annotations

import os
import pwd
import subprocess

from tests.fixtures.sshd import ensure_test_user


def test_workload_left_its_marks(pg_cluster):
    assert pg_cluster.counter("deadlocks") >= 1
    assert pg_cluster.counter("xact_rollback") >= 2
    assert pg_cluster.counter("temp_files") >= 1
    calls = pg_cluster.psql(
        "SELECT sum(calls) FROM pg_stat_statements WHERE query LIKE 'UPDATE pgbench_accounts%'"
    )
    assert int(calls.strip()) >= 400


def test_monitor_user_reads_statistics(pg_cluster):
    out = pg_cluster.psql(
        "SELECT pg_has_role(current_user, 'pg_monitor', 'member')", user=pg_cluster.monitor_user
    )
    assert out.strip() == "t"
    argv = pg_cluster.psql_argv()
    proc = subprocess.run(
        [*argv, "-X", "-A", "-t", "-d", pg_cluster.dbname, "-c", "SELECT 1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.stdout.strip() == "1", proc.stderr


def test_log_files_exist_and_are_readable_by_the_ssh_user(pg_cluster):
    files = pg_cluster.log_files()
    assert set(files) == {"stderr", "csvlog", "jsonlog"}
    user = pwd.getpwnam(ensure_test_user())
    for path in files.values():
        assert path.stat().st_size > 0
        assert path.stat().st_mode & 0o004, path
    proc = subprocess.run(
        ["runuser", "-u", user.pw_name, "--", "head", "-c", "10", str(files["stderr"])],
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout
    assert "deadlock detected" in files["stderr"].read_text(errors="replace")
    assert os.access(pg_cluster.log_dir, os.X_OK)


def test_factory_makes_a_fresh_cluster_without_preload(pg_cluster_factory, pg_cluster):
    fresh = pg_cluster_factory(preload=False, workload=False)
    assert fresh.port != pg_cluster.port
    assert fresh.psql("SHOW shared_preload_libraries").strip() == ""
    assert fresh.counter("deadlocks") == 0
