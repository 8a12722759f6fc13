"""The same history schema on PostgreSQL (lpse.database_url), on a real cluster."""

from __future__ import annotations

import pytest

from lpsectl.errors import ConfigError, UnavailableError
from lpsectl.store import Store, migration_scripts


@pytest.fixture
def history_url(pg_cluster_factory):
    cluster = pg_cluster_factory(preload=False, workload=False)
    cluster.psql("CREATE DATABASE lpsectl_history")
    return f"postgresql://postgres@{cluster.host}:{cluster.port}/lpsectl_history"


def test_every_migration_applies_on_postgresql(history_url):
    store = Store.open_url(history_url)
    assert store.engine == "postgres"
    assert store.schema_version == migration_scripts()[-1][0]
    with store.transaction():
        run_id = store.insert("runs", {"job": "collect", "started_at": "2026-11-21T06:00:00+07:00"})
    assert store.query_one("SELECT job FROM runs WHERE id = ?", [run_id]) == {"job": "collect"}
    store.close()
    assert Store.open_url(history_url).migrate() == []


def test_collect_and_report_with_history_in_postgresql(history_url, tmp_path, cli):
    config = tmp_path / "lpsectl.toml"
    config.write_text(
        f'[lpse]\nname = "LPSE PG"\ndatabase_url = "{history_url}"\n'
        '[[hosts]]\nname = "here"\naddress = "local"\n'
    )
    assert cli("--config", str(config), "collect").exit_code == 0
    report = cli("--config", str(config), "report", "daily", "--format", "json").json()
    assert [h["name"] for h in report["hosts"]] == ["here"]
    assert report["hosts"][0]["status"] == "up"
    assert not (tmp_path / "history.sqlite3").exists()


def test_bad_urls_are_clear_errors():
    with pytest.raises(ConfigError) as err:
        Store.open_url("mysql://x@y/z")
    assert "is not a postgresql:// URL" in err.value.message
    with pytest.raises(UnavailableError) as down:
        Store.open_url("postgresql://lpse:secret@127.0.0.1:1/none")
    assert "127.0.0.1:1/none: cannot connect" in down.value.message
    assert "secret" not in down.value.message
