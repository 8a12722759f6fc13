"""The history store: migrations once, WAL, transactions."""

from __future__ import annotations

import pytest

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
