"""Retention of the history (issue 20): snapshots older than [store] retention_days are cut
to their roll-up; the monthly report of their month reads the same before and after."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time

from lpsectl import retention
from lpsectl.collect.run import previous_data
from lpsectl.config import load_config_file
from lpsectl.reports.monthly import build_monthly
from lpsectl.store import Store
from tests.fixtures.common import run_cli
from tests.test_monthly import FROZEN, WIB, build_history, insert_snapshot
from tests.test_monthly import write_config as write_monthly_config


def _without_stamp(report: dict) -> dict:
    return {k: v for k, v in report.items() if k != "generated_at"}


def _sql(path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """The history read with sqlite3 directly, not through lpsectl's store."""
    with sqlite3.connect(path) as db:
        return db.execute(sql, params).fetchall()


def _whole_ones(path: Path, cutoff: str) -> int:
    """Rows prune must keep whole: the newest good snapshot of each host and kind, and the
    newest before the cutoff (the baseline of the first day kept)."""
    newest = _sql(path, "SELECT max(id) FROM snapshots WHERE ok = 1 GROUP BY host, kind")
    before = _sql(
        path,
        "SELECT max(id) FROM snapshots WHERE ok = 1 AND day < ? GROUP BY host, kind",
        (cutoff,),
    )
    return len(set(newest) | set(before))


# -- a real history: collect of this machine and a real PostgreSQL ------------------------


@pytest.fixture
def collected(tmp_path, pg_cluster):
    log = pg_cluster.log_files()["stderr"]
    path = tmp_path / "lpsectl.toml"
    path.write_text(
        f'[lpse]\nname = "LPSE Retensi"\ndata_dir = "{tmp_path / "data"}"\n\n'
        '[[hosts]]\nname = "spse-db"\nrole = "db"\naddress = "local"\n'
        f'logs = ["{log}"]\nlog_line_prefix = "%m [%p] %q%u@%d "\n'
        f'[hosts.postgres]\ndatabase = "{pg_cluster.dbname}"\n'
        f"psql = {json.dumps(pg_cluster.psql_argv())}\n",
        encoding="utf-8",
    )
    for _ in range(3):
        pg_cluster.run_workload()
        result = run_cli("--config", str(path), "collect")
        assert result.exit_code in (0, 3), result.stderr
    return path, tmp_path / "data" / "history.sqlite3"


def test_prune_keeps_the_monthly_report_and_the_next_collect(collected, pg_cluster):
    path, history = collected
    today = datetime.now(WIB).date()
    month = today.strftime("%Y-%m")
    rows = _sql(history, "SELECT count(*) FROM snapshots")[0][0]
    assert rows == 9  # 3 runs x system, postgres, logs
    before = run_cli(
        "--config", str(path), "report", "monthly", "--month", month, "--format", "json"
    )
    assert before.exit_code == 0, before.stderr
    later = datetime.combine(today + timedelta(days=100), datetime.min.time(), WIB)

    with freeze_time(later):
        dry = run_cli("--config", str(path), "store", "prune", "--dry-run", "--format", "json")
        assert dry.exit_code == 0, dry.stderr
        assert _sql(history, "SELECT count(*) FROM snapshots WHERE pruned_on IS NOT NULL") == [(0,)]
        done = run_cli("--config", str(path), "store", "prune", "--format", "json")
    assert done.exit_code == 0, done.stderr
    expected = rows - _whole_ones(history, done.json()["cutoff"])
    assert dry.json()["pruned"] == done.json()["pruned"] == expected == 6
    assert done.json()["left"] == 0
    cleared = _sql(
        history, "SELECT data, rollup IS NOT NULL FROM snapshots WHERE pruned_on IS NOT NULL"
    )
    assert len(cleared) == expected and all(row == ("{}", 1) for row in cleared)

    after = run_cli(
        "--config", str(path), "report", "monthly", "--month", month, "--format", "json"
    )
    assert after.exit_code == 0, after.stderr
    assert _without_stamp(after.json()) == _without_stamp(before.json())

    # the daily report needs the whole snapshots: said, not an empty report
    with freeze_time(later):
        daily = run_cli("--config", str(path), "report", "daily", "--date", today.isoformat())
    assert daily.exit_code == 2
    assert "pruned" in daily.stderr and today.isoformat() in daily.stderr

    # the newest snapshot of each kind is whole: the next collect goes on from its cursors
    config = load_config_file(path)
    with Store.open_sqlite(history) as store:
        latest = previous_data(store, config.hosts)
    assert set(latest) == {("spse-db", kind) for kind in ("system", "postgres", "logs")}
    assert all(data for data in latest.values())
    ((log_path, cursor),) = latest[("spse-db", "logs")]["cursors"].items()
    pg_cluster.run_workload()
    again = run_cli("--config", str(path), "collect")
    assert again.exit_code in (0, 3), again.stderr
    newest = json.loads(
        _sql(history, "SELECT data FROM snapshots WHERE kind = 'logs' ORDER BY id DESC LIMIT 1")[0][
            0
        ]
    )
    offset = newest["cursors"][log_path]["offset"]
    assert offset > cursor["offset"] and newest["warnings"] == []
    # read on from the kept cursor: exactly the lines written since (counted with Python)
    with open(log_path, "rb") as log:
        log.seek(cursor["offset"])
        since = log.read(offset - cursor["offset"]).count(b"\n")
    assert newest["files"][log_path]["summary"]["lines"] == since


# -- a history stored before roll-ups existed (migration 0011) ------------------------------


@pytest.fixture
def october(tmp_path):
    """The monthly report's October 2026 (tests/test_monthly.py), rows without roll-ups."""
    path = write_monthly_config(tmp_path)
    history = tmp_path / "data" / "history.sqlite3"
    with Store.open_sqlite(history) as store:
        build_history(store)
    assert _sql(history, "SELECT count(*) FROM snapshots WHERE rollup IS NOT NULL") == [(0,)]
    return path, history


def _monthly(path: Path, history: Path) -> dict:
    config = load_config_file(path)
    with Store.open_sqlite(history) as store, freeze_time(FROZEN):
        return build_monthly(store, config, "2026-10", "id", datetime.now(WIB))


def _store_rollups_as_collect_does(history: Path) -> None:
    """Every row's roll-up stored, as `collect` stores it; and the month's newest postgres
    row without top statements (pg_stat_statements gone), so the report falls back to the
    statements of the row before it — which pruning must keep."""
    with Store.open_sqlite(history) as store:
        last = store.query_one(
            "SELECT max(id) AS id FROM snapshots WHERE kind = 'postgres' AND ok = 1"
        )["id"]
        for row in store.query("SELECT id, kind, data FROM snapshots WHERE ok = 1"):
            data = json.loads(row["data"])
            if row["id"] == last:
                del data["statements"]
            store.execute(
                "UPDATE snapshots SET data = ?, rollup = ? WHERE id = ?",
                [json.dumps(data), retention.rollup_at_collect(row["kind"], data), row["id"]],
            )


@pytest.mark.parametrize("rollups", [False, True], ids=["stored-before-0011", "from-collect"])
def test_prune_an_old_history_keeps_october(october, rollups):
    path, history = october
    if rollups:
        _store_rollups_as_collect_does(history)
    before = _monthly(path, history)
    assert before["database"][0]["top_statements"]
    total = _sql(history, "SELECT count(*) FROM snapshots")[0][0]
    settings = retention.StoreSettings(retention_days=90)
    with Store.open_sqlite(history) as store:
        result = retention.prune(store, date(2027, 2, 1), settings)
    # every row but the newest good one of each host and kind (November's for spse-app)
    assert result.cutoff == "2026-11-03"
    assert result.pruned == total - _whole_ones(history, "2026-11-03") == 121 - 5  # app 2, db 3
    assert _sql(history, "SELECT pruned_on FROM snapshots WHERE day = '2026-11-01'") == [(None,)]
    after = _monthly(path, history)
    assert _without_stamp(after) == _without_stamp(before)
    # a second run finds nothing more to do
    with Store.open_sqlite(history) as store:
        assert retention.prune(store, date(2027, 2, 1), settings).pruned == 0


def test_prune_work_is_bounded_and_continues(october, monkeypatch):
    path, history = october
    before = _monthly(path, history)
    monkeypatch.setattr(retention, "BATCH", 7)
    ticks = iter(range(1000))
    settings = retention.StoreSettings(retention_days=90, prune_seconds=2)
    runs = []
    while not runs or runs[-1].left:
        with Store.open_sqlite(history) as store:
            runs.append(
                retention.prune(store, date(2027, 2, 1), settings, clock=lambda: next(ticks))
            )
        assert len(runs) < 50
    assert len(runs) > 2
    # each run stopped after its budget and said how much was left: nothing twice, nothing lost
    for one, following in zip(runs, runs[1:], strict=False):
        assert one.left == following.pruned + following.left
    pruned = _sql(history, "SELECT count(*) FROM snapshots WHERE pruned_on IS NOT NULL")[0][0]
    assert sum(r.pruned for r in runs) == pruned == runs[0].pruned + runs[0].left
    assert _without_stamp(_monthly(path, history)) == _without_stamp(before)


def test_data_that_does_not_fit_is_kept_whole(october):
    _path, history = october
    with Store.open_sqlite(history) as store:
        run_id = store.query_one("SELECT min(id) AS id FROM runs")["id"]
        insert_snapshot(
            store, run_id, "spse-odd", "system", datetime(2026, 10, 3, 7, tzinfo=WIB), {"cpu": "x"}
        )
        insert_snapshot(
            store,
            run_id + 1,
            "spse-odd",
            "system",
            datetime(2026, 10, 4, 7, tzinfo=WIB),
            {"cpu": "y"},
        )
        result = retention.prune(store, date(2027, 2, 1), retention.StoreSettings())
    assert result.kept_unusable == 1  # the other one is the host's newest: kept anyway
    assert _sql(history, "SELECT data FROM snapshots WHERE host = 'spse-odd' ORDER BY id") == [
        ('{"cpu": "x"}',),
        ('{"cpu": "y"}',),
    ]


def test_vacuum_gives_the_space_back(october):
    _path, history = october
    with Store.open_sqlite(history) as store:
        runs = [r["id"] for r in store.query("SELECT id FROM runs ORDER BY id")]
        padding = {"top_processes": [{"name": "x" * 200, "n": i} for i in range(500)]}
        for day in range(1, 20):
            moment = datetime(2026, 10, day, tzinfo=WIB)
            insert_snapshot(store, runs[day - 1], "spse-big", "system", moment, padding)

    def on_disk() -> int:
        """The file and its WAL, as `ls` would count them (the WAL may be gone when the
        last connection closed: SQLite then folded it into the file)."""
        wal = history.with_name(history.name + "-wal")
        return history.stat().st_size + (wal.stat().st_size if wal.exists() else 0)

    size = on_disk()
    with Store.open_sqlite(history) as store:
        result = retention.prune(store, date(2027, 2, 1), retention.StoreSettings())
        assert result.vacuumed
        assert result.bytes_before is not None and result.bytes_before >= size / 2
        assert on_disk() == result.bytes_after < size / 2


def test_prune_cli_errors_and_zero(october):
    path, history = october
    bad = run_cli("--config", str(path), "store", "prune", "--retention-days", "10")
    assert bad.exit_code == 2 and "--retention-days" in bad.stderr
    text = path.read_text() + "\n[store]\nretention_days = 7\n"
    path.write_text(text)
    wrong = run_cli("--config", str(path), "store", "prune")
    assert wrong.exit_code == 4 and "store.retention_days" in wrong.stderr
    path.write_text(text.replace("retention_days = 7", "retention_days = 0"))
    with freeze_time("2028-01-01"):
        kept = run_cli("--config", str(path), "store", "prune")
    assert kept.exit_code == 0 and "kept whole" in kept.stdout and "retention 0" in kept.stdout
    assert _sql(history, "SELECT count(*) FROM snapshots WHERE pruned_on IS NOT NULL") == [(0,)]
    unknown = run_cli("--config", str(path), "store", "prune", "--retention-days", "-1")
    assert unknown.exit_code == 2


def test_analysis_of_a_pruned_month_says_so(october):
    path, history = october
    with Store.open_sqlite(history) as store:
        retention.prune(store, date(2027, 2, 1), retention.StoreSettings())
    result = run_cli("--config", str(path), "analyze", "--month", "2026-10")
    assert result.exit_code == 2
    assert "pruned on 2027-02-01" in result.stderr


def test_prune_on_a_postgresql_history(pg_cluster_factory, tmp_path):
    cluster = pg_cluster_factory(preload=False, workload=False)
    cluster.psql("CREATE DATABASE lpsectl_history")
    url = f"postgresql://postgres@{cluster.host}:{cluster.port}/lpsectl_history"
    path = write_monthly_config(tmp_path)
    path.write_text(path.read_text().replace("[lpse]\n", f'[lpse]\ndatabase_url = "{url}"\n'))
    config = load_config_file(path)
    with Store.open_url(url) as store:
        build_history(store)
        with freeze_time(FROZEN):
            before = build_monthly(store, config, "2026-10", "id", datetime.now(WIB))
        result = retention.prune(store, date(2027, 2, 1), retention.StoreSettings())
        assert result.pruned > 100 and result.warnings == []
        assert result.bytes_after is not None and result.bytes_after > 0
        with freeze_time(FROZEN):
            after = build_monthly(store, config, "2026-10", "id", datetime.now(WIB))
    assert _without_stamp(after) == _without_stamp(before)
    rows = cluster.psql(
        "SELECT count(*) FROM snapshots WHERE pruned_on IS NOT NULL AND data = '{}'",
        dbname="lpsectl_history",
    )
    assert int(rows.strip()) == result.pruned


def test_migration_0011_on_a_store_made_before_it(tmp_path):
    path = write_monthly_config(tmp_path)
    history = tmp_path / "data" / "history.sqlite3"
    with Store.open_sqlite(history) as store:
        # as a store of the version before: no roll-up columns, 0011 not applied
        store.execute("ALTER TABLE snapshots DROP COLUMN rollup")
        store.execute("ALTER TABLE snapshots DROP COLUMN pruned_on")
        store.execute("DELETE FROM schema_migrations WHERE name LIKE '0011%'")
        build_history(store)
    columns = {row[1] for row in _sql(history, "PRAGMA table_info(snapshots)")}
    assert "rollup" not in columns
    rows = _sql(history, "SELECT id, data FROM snapshots ORDER BY id")
    before = _monthly(path, history)  # opening the store applies 0011
    columns = {row[1] for row in _sql(history, "PRAGMA table_info(snapshots)")}
    assert {"rollup", "pruned_on"} <= columns
    assert _sql(history, "SELECT id, data FROM snapshots ORDER BY id") == rows
    with Store.open_sqlite(history) as store:
        retention.prune(store, date(2027, 2, 1), retention.StoreSettings())
    assert _without_stamp(_monthly(path, history)) == _without_stamp(before)


# -- hostile rows (found by a break-test of `store prune`) ------------------------------------


def _first_id(history: Path, where: str) -> int:
    return _sql(history, f"SELECT min(id) FROM snapshots WHERE {where}")[0][0]


def test_a_damaged_failed_row_neither_stops_prune_nor_the_report(october):
    path, history = october
    _store_rollups_as_collect_does(history)
    failed = _first_id(history, "ok = 0")
    with sqlite3.connect(history) as db:
        db.execute("UPDATE snapshots SET data = 'garbage{', rollup = NULL WHERE id = ?", (failed,))
    before = _monthly(path, history)
    with Store.open_sqlite(history) as store:
        result = retention.prune(store, date(2027, 2, 1), retention.StoreSettings())
    assert result.pruned == 121 - 5 and result.kept_unusable == 0
    assert _without_stamp(_monthly(path, history)) == _without_stamp(before)


def test_unreadable_data_is_left_as_it_is(october):
    path, history = october
    _store_rollups_as_collect_does(history)
    bad = _first_id(history, "ok = 1 AND kind = 'system'")
    odd = _first_id(history, f"ok = 1 AND kind = 'system' AND id > {bad}")
    with sqlite3.connect(history) as db:
        db.execute("UPDATE snapshots SET data = 'garbage{' WHERE id = ?", (bad,))
        db.execute("UPDATE snapshots SET data = '{\"cpu\": 5}' WHERE id = ?", (odd,))
    with Store.open_sqlite(history) as store:
        dry = retention.prune(store, date(2027, 2, 1), retention.StoreSettings(), dry_run=True)
        result = retention.prune(store, date(2027, 2, 1), retention.StoreSettings())
    assert (dry.pruned, dry.kept_unusable) == (result.pruned, result.kept_unusable) == (114, 2)
    assert _sql(
        history, "SELECT data FROM snapshots WHERE id IN (?, ?) ORDER BY id", (bad, odd)
    ) == [
        ("garbage{",),
        ('{"cpu": 5}',),
    ]


def test_a_roll_up_of_the_wrong_shape_is_unusable_not_a_crash(october):
    path, history = october
    _store_rollups_as_collect_does(history)
    before = _monthly(path, history)
    row = _first_id(history, "ok = 1 AND kind = 'system' AND day = '2026-10-05'")
    with sqlite3.connect(history) as db:
        db.execute("UPDATE snapshots SET rollup = '{\"cpu\": 5}' WHERE id = ?", (row,))
    after = _monthly(path, history)
    app_before = next(h for h in before["hosts"] if h["name"] == "spse-app")
    app_after = next(h for h in after["hosts"] if h["name"] == "spse-app")
    assert app_after["unknown"] == app_before["unknown"] + 1
    assert app_after["up"] == app_before["up"] - 1
    # pruning makes it again from the data, which is fine
    with Store.open_sqlite(history) as store:
        retention.prune(store, date(2027, 2, 1), retention.StoreSettings())
    assert _without_stamp(_monthly(path, history)) == _without_stamp(before)


def test_the_first_day_kept_whole_reports_the_same(october):
    path, history = october
    day = "2026-10-20"  # spse-db's statistics were reset that day: the baseline matters
    today = (date.fromisoformat(day) + timedelta(days=90)).isoformat()

    def daily() -> dict:
        with freeze_time(today + " 01:00:00"):
            result = run_cli(
                "--config", str(path), "report", "daily", "--date", day, "--format", "json"
            )
        assert result.exit_code == 0, result.stderr
        return _without_stamp(result.json())

    before = daily()
    with freeze_time(today + " 01:00:00"):
        done = run_cli("--config", str(path), "store", "prune", "--format", "json")
    assert done.exit_code == 0 and done.json()["cutoff"] == day and done.json()["pruned"] > 0
    assert daily() == before
    assert before["sections"]["database"]["hosts"][0]["since"] is not None


def test_retention_beyond_a_century_is_refused(october):
    path, _history = october
    option = run_cli("--config", str(path), "store", "prune", "--retention-days", "1000000")
    assert option.exit_code == 2 and "35..36500" in option.stderr
    path.write_text(path.read_text() + "\n[store]\nretention_days = 99999999999\n")
    config = run_cli("--config", str(path), "store", "prune", "--dry-run")
    assert config.exit_code == 4 and "at most 36500" in config.stderr
    path.write_text(path.read_text().replace("99999999999", "90\nprune_seconds = nan"))
    nan = run_cli("--config", str(path), "store", "prune", "--dry-run")
    assert nan.exit_code == 4 and "prune_seconds" in nan.stderr
