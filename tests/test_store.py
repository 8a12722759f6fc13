"""The history store: migrations once, WAL, transactions."""

from __future__ import annotations

import pytest

from lpsectl.errors import UnavailableError
from lpsectl.store import Store, migration_scripts


def test_migrations_apply_once_and_wal(tmp_path):
    path = tmp_path / "h.sqlite3"
    store = Store.open_sqlite(path)
    names = [n for n, _ in migration_scripts()]
    assert store.schema_version == names[-1]
    assert store.query_one("PRAGMA journal_mode")["journal_mode"] == "wal"
    store.close()
    again = Store.open_sqlite(path)
    assert again.migrate() == []
    assert len(again.query("SELECT * FROM schema_migrations")) == len(names)


def test_transaction_rolls_back_on_error(tmp_path):
    store = Store.open_sqlite(tmp_path / "h.sqlite3")
    with pytest.raises(RuntimeError), store.transaction():
        store.insert("runs", {"job": "x", "started_at": "2026-11-21T06:00:00+07:00"})
        raise RuntimeError("boom")
    assert store.query("SELECT * FROM runs") == []
    with store.transaction():
        run_id = store.insert("runs", {"job": "y", "started_at": "2026-11-21T06:00:00+07:00"})
    assert store.query_one("SELECT job FROM runs WHERE id = ?", [run_id]) == {"job": "y"}


def test_unwritable_data_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    from lpsectl.errors import UnavailableError

    with pytest.raises(UnavailableError) as err:
        Store.open_sqlite(blocker / "sub" / "h.sqlite3")
    assert "cannot open the history database" in err.value.message


def test_history_file_is_private(tmp_path):
    path = tmp_path / "data" / "h.sqlite3"
    store = Store.open_sqlite(path)
    store.insert("runs", {"job": "x", "started_at": "2026-11-21T06:00:00+07:00"})
    assert path.stat().st_mode & 0o777 == 0o600
    assert (path.parent.stat().st_mode & 0o777) == 0o700
    wal = path.with_name(path.name + "-wal")
    assert not wal.exists() or wal.stat().st_mode & 0o077 == 0
    store.close()
    path.chmod(0o644)  # an older installation
    Store.open_sqlite(path).close()
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_latest_snapshot_index_on_an_existing_history(tmp_path):
    """0009 on a store made before it: the index appears, the rows stay, and the look-up
    collect makes per host and kind uses it (no scan of the history)."""
    import json

    from lpsectl.collect.run import previous_data
    from lpsectl.config import HostConfig

    path = tmp_path / "h.sqlite3"
    store = Store.open_sqlite(path)
    # as a store of the version before: without the index, 0009 not applied
    store.execute("DROP INDEX snapshots_latest")
    store.execute("DELETE FROM schema_migrations WHERE name LIKE '0009%'")
    with store.transaction():
        for day in range(1, 31):
            run_id = store.insert(
                "runs", {"job": "collect", "started_at": f"2026-11-{day:02d}T06:00:00+07:00"}
            )
            for kind in ("system", "logs"):
                ok = not (kind == "logs" and day == 30)  # the last logs run failed
                store.insert(
                    "snapshots",
                    {
                        "run_id": run_id,
                        "host": "db",
                        "kind": kind,
                        "taken_at": f"2026-11-{day:02d}T06:00:00+07:00",
                        "day": f"2026-11-{day:02d}",
                        "ok": int(ok),
                        "error": None if ok else "timed out",
                        "data": json.dumps({"day": day}),
                        "unavailable": "{}",
                    },
                )
    store.close()

    store = Store.open_sqlite(path)
    assert store.query(
        "SELECT name FROM schema_migrations WHERE name LIKE '0009%'"
    )  # applied again
    assert len(store.query("SELECT id FROM snapshots")) == 60
    found = previous_data(store, [HostConfig(name="db")], ["system", "logs", "postgres"])
    assert found == {("db", "system"): {"day": 30}, ("db", "logs"): {"day": 29}}
    plan = store.query(
        "EXPLAIN QUERY PLAN SELECT kind, ok, data FROM snapshots WHERE host = ? AND kind = ? "
        "AND ok = 1 ORDER BY id DESC LIMIT 1",
        ["db", "logs"],
    )
    assert any("snapshots_latest" in row["detail"] for row in plan)
    store.close()


def test_a_migration_applied_meanwhile_by_another_process_is_not_applied_again(tmp_path):
    """Two processes upgraded together (cron's collect and a report): the second, which read
    the list of applied migrations before the first applied 0010, looks again under the
    lock and does nothing — no 'duplicate column', no 'damaged history'."""
    path = tmp_path / "h.sqlite3"
    Store.open_sqlite(path).close()  # 0010 applied by "the first process"
    (name, sql) = [item for item in migration_scripts() if item[0].startswith("0010")][0]
    second = Store.open_sqlite(path)
    assert second.apply_migration(name, sql) is False  # what migrate() calls for a stale list
    columns = [row["name"] for row in second.query("PRAGMA table_info(snapshots)")]
    assert columns.count("shape_checked") == 1
    second.execute("DELETE FROM schema_migrations WHERE name = ?", [name])
    with pytest.raises(UnavailableError):  # without the record the change is tried, and refused
        second.apply_migration(name, sql)
    second.close()
