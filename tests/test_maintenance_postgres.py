"""Maintenance windows and the outbox with the history in PostgreSQL (real cluster, real SMTP)."""

from __future__ import annotations

from pathlib import Path

import psycopg  # noqa: F401 - loaded before freezegun swaps datetime (its C part checks the type)
from freezegun import freeze_time

from tests.fixtures.common import run_cli

DATA = Path(__file__).parent / "data"
REAL_CLOCK = ["asyncio", "aiosmtpd", "smtplib", "ssl", "socket", "selectors", "psycopg"]


def test_announce_outage_and_flush_with_history_in_postgresql(
    pg_cluster_factory, smtp_server, tmp_path
):
    cluster = pg_cluster_factory(preload=False, workload=False)
    cluster.psql("CREATE DATABASE lpsectl_maint")
    url = f"postgresql://postgres@{cluster.host}:{cluster.port}/lpsectl_maint"
    config = tmp_path / "lpsectl.toml"
    config.write_text(
        f'[lpse]\nname = "LPSE PG"\ndatabase_url = "{url}"\ndata_dir = "{tmp_path / "data"}"\n'
        + smtp_server.mail_toml(extra=f'committees_file = "{DATA / "pokja.csv"}"\n')
    )
    with freeze_time("2026-12-01 02:00:00+00:00", ignore=REAL_CLOCK):
        scheduled = run_cli(
            "--config",
            str(config),
            "maintenance",
            "schedule",
            "--start",
            "2026-12-08 07:00",
            "--duration",
            "4h",
            "--reason",
            "Upgrade",
            "--format",
            "json",
        )
        clash = run_cli(
            "--config",
            str(config),
            "maintenance",
            "schedule",
            "--start",
            "2026-12-08 08:00",
            "--duration",
            "1h",
            "--reason",
            "x",
        )
        smtp_server.stop()
        down = run_cli(
            "--config", str(config), "maintenance", "announce", str(scheduled.json()["id"])
        )
        smtp_server.start()
        flushed = run_cli("--config", str(config), "outbox", "flush", "--format", "json")
        again = run_cli("--config", str(config), "outbox", "flush", "--format", "json")
    assert scheduled.exit_code == 0, scheduled.stderr
    assert clash.exit_code == 2
    assert down.exit_code == 5 and "6 message(s) wait in the outbox" in down.stderr
    assert len(flushed.json()["sent"]) == 6 and again.json()["sent"] == []
    assert len(smtp_server.received) == 6
    assert not (tmp_path / "data" / "history.sqlite3").exists()
