"""Daily report section "database": real snapshots from a real cluster, in a real store."""

from __future__ import annotations

from datetime import date

import pytest

from lpsectl import messages, pgstats
from lpsectl.collect import postgres
from lpsectl.config import HostConfig, PostgresSettings, parse_config
from lpsectl.errors import ConfigError
from lpsectl.remote.runner import LocalRunner
from lpsectl.render import render
from lpsectl.reports import daily_database
from lpsectl.store import Store

DAY = "2026-11-21"


def _snapshot(store: Store, host: str, day: str, taken_at: str, collected) -> None:
    run = store.insert("runs", {"job": "collect", "started_at": taken_at, "status": "ok"})
    store.insert(
        "snapshots",
        {
            "run_id": run,
            "host": host,
            "kind": "postgres",
            "taken_at": taken_at,
            "day": day,
            "ok": int(collected.ok),
            "error": collected.error,
            "data": collected.data,
            "unavailable": collected.unavailable,
        },
    )


def _collect(cluster, database: str | None = None):
    host = HostConfig(
        name="spse-db",
        role=["db"],
        postgres=PostgresSettings(database=database or cluster.dbname, psql=cluster.psql_argv()),
    )
    return postgres.collect(LocalRunner(host), host, None)


@pytest.fixture(scope="module")
def history(tmp_path_factory, pg_cluster):
    """Yesterday's last snapshot, then today: a morning one, a stats reset, an evening one."""
    # a fresh cluster of our own: this module resets statistics
    from tests.fixtures.postgres import _make

    cluster = _make()
    store = Store.open_sqlite(tmp_path_factory.mktemp("history") / "history.sqlite3")
    try:
        _snapshot(store, "spse-db", "2026-11-20", "2026-11-20T23:00:00+07:00", _collect(cluster))
        yesterday = cluster.counter("xact_rollback")
        cluster.force_rollback()
        cluster.force_rollback()
        cluster.force_deadlock()
        cluster.psql(
            "".join("SELECT count(*) FROM pgbench_branches WHERE bid < 5;\n" for _ in range(60))
        )
        _snapshot(store, "spse-db", DAY, "2026-11-21T08:00:00+07:00", _collect(cluster))
        morning = cluster.counter("xact_rollback")
        cluster.psql("SELECT pg_stat_reset()")
        cluster.force_rollback()
        evening = _collect(cluster)
        _snapshot(store, "spse-db", DAY, "2026-11-21T20:00:00+07:00", evening)
        failed = postgres.Collected(
            "postgres",
            error=messages.PSQL_NOT_FOUND.format(program="psql", host="spse-db2", setting="'psql'"),
        )
        _snapshot(store, "spse-db2", DAY, "2026-11-21T20:00:00+07:00", failed)
        expected = {
            "rollbacks": (morning - yesterday) + evening.data["database_stats"]["xact_rollback"],
            "evening": evening.data,
        }
        yield store, expected
    finally:
        store.close()
        cluster.remove()


def test_since_yesterday_counts_survive_a_reset(history):
    store, expected = history
    section = daily_database.build(store, parse_config({}), DAY, "id")
    host = next(h for h in section["hosts"] if h["host"] == "spse-db")
    assert host["since"].isoformat() == "2026-11-20T23:00:00+07:00"
    assert host["since"].tzinfo.key == "Asia/Jakarta"
    assert host["stats_resets"] == 1
    assert host["since_yesterday"]["xact_rollback"] == expected["rollbacks"] >= 4
    assert host["since_yesterday"]["deadlocks"] == 1
    assert all(v >= 0 for v in host["since_yesterday"].values())


def test_top_queries_are_the_days_not_the_totals_since_reset(history):
    store, expected = history
    section = daily_database.build(store, parse_config({}), DAY, "en")
    host = next(h for h in section["hosts"] if h["host"] == "spse-db")
    statements = host["statements"]
    assert (
        statements["period"] == "day"
        and statements["since"].isoformat() == "2026-11-20T23:00:00+07:00"
    )
    # a hand count: the fixture ran this statement 60 times since yesterday's snapshot, and
    # pgbench ran it before that (so the total since reset is larger)
    top = statements["top_by_calls"][0]
    assert (
        top["query"] == "SELECT count(*) FROM pgbench_branches WHERE bid < $1"
        and top["calls"] == 60
    )
    cumulative = {q["query"]: q["calls"] for q in expected["evening"]["statements"]["top_by_calls"]}
    assert cumulative.get(top["query"], 60) >= 60
    # lpsectl's own monitoring statements (each answers in JSON) never fill the list; the
    # test fixture's own counters (SELECT deadlocks FROM pg_stat_database ...) may
    listed = [q["query"] for q in statements["top_by_calls"] + statements["top_by_total_time"]]
    assert not any("json_" in q or "lpsectl" in q for q in listed), listed
    assert host["connections"]["max_connections"] == 100
    stats = expected["evening"]["database_stats"]
    assert host["cache_hit_ratio"]["cumulative"] == stats["cache_hit_ratio"]


def test_alerts_follow_thresholds(history):
    store, _ = history
    config = parse_config(
        {
            "thresholds": {
                "database": {"connections_max_percent": 0.5, "cache_hit_min_percent": 0.0},
                "host": {"disk_warning_percent": 80.0},
            }
        }
    )
    section = daily_database.build(store, config, DAY, "en")
    items = {(a["host"], a["item"]): a for a in section["alerts"]}
    assert items[("spse-db", "connections")]["severity"] == "critical"
    assert items[("spse-db", "deadlocks")]["message"] == "Deadlocks today: 1"
    assert ("spse-db", "cache_hit_ratio") not in items
    assert items[("spse-db2", "postgres")]["message"] == (
        "Database statistics could not be collected: "
        "psql not found on spse-db2 (hosts.postgres.psql = 'psql'...)"
    )
    default = daily_database.build(store, parse_config({}), DAY, "id")
    assert not any(a["item"] == "connections" for a in default["alerts"])
    assert any(a["message"] == "1 deadlock tercatat hari ini" for a in default["alerts"])


def test_text_reads_in_indonesian_and_english(history):
    store, expected = history
    section = daily_database.build(store, parse_config({}), DAY, "id")
    text_id = daily_database.text(section, "id")
    assert "Basis data (PostgreSQL)" in text_id
    # the stored English error in the document's language
    assert "psql tidak ditemukan di spse-db2 (hosts.postgres.psql = 'psql'...)" in text_id
    assert "Sejak Jumat, 20 November 2026 pukul 23.00 WIB:" in text_id
    assert f"Transaksi gagal (rollback): {expected['rollbacks']}" in text_id
    assert "Deadlock: 1" in text_id
    assert "UPDATE pgbench_accounts SET abalance" in text_id
    assert (
        "Server spse-db2 (per Sabtu, 21 November 2026 pukul 20.00 WIB)\n  GAGAL: psql tidak ditemukan"
        in text_id
    )
    section_en = daily_database.build(store, parse_config({}), DAY, "en")
    text_en = daily_database.text(section_en, "en")
    assert "Since Friday, 20 November 2026 at 23:00 WIB:" in text_en
    assert f"Failed transactions (rollback): {expected['rollbacks']}" in text_en
    assert "Most frequent queries (pg_stat_statements, since " in text_en


def test_html_is_escaped_and_localised(history):
    store, _ = history
    section = daily_database.build(store, parse_config({}), DAY, "id")
    html = render("daily_database.html.j2", "id", section=section)
    assert "SELECT count(*) FROM pgbench_branches WHERE bid &lt; $1" in html
    assert "Transaksi gagal (rollback)" in html
    assert "<strong>Kritis</strong> spse-db2" in html
    assert "(per Sabtu, 21 November 2026 pukul 20.00 WIB)" in html
    html_en = render("daily_database.html.j2", "en", section=section)
    assert "Failed transactions (rollback)" in html_en


def test_no_snapshot_no_section(history):
    store, _ = history
    assert daily_database.build(store, parse_config({}), "2026-01-01", "id") is None


def test_statements_advice_is_translated(pg_cluster, tmp_path):
    store = Store.open_sqlite(tmp_path / "h.sqlite3")
    _snapshot(store, "spse-db", DAY, "2026-11-21T20:00:00+07:00", _collect(pg_cluster, "postgres"))
    section = daily_database.build(store, parse_config({}), DAY, "id")
    store.close()
    alert = next(a for a in section["alerts"] if a["item"] == "statements")
    assert alert["message"] == (
        "pg_stat_statements tidak tersedia: ekstensi belum dipasang di basis data postgres; "
        "tambahkan pg_stat_statements ke shared_preload_libraries di postgresql.conf, restart "
        "PostgreSQL, lalu jalankan CREATE EXTENSION pg_stat_statements; di basis data postgres"
    )
    host = section["hosts"][0]
    assert host["statements"]["available"] is False
    assert host["database"] == "postgres"


def test_threshold_of_wrong_type_names_the_key():
    with pytest.raises(ConfigError) as info:  # when the config is loaded, not first used
        parse_config({"thresholds": {"database": {"long_query_seconds": "lama"}}}, "lpsectl.toml")
    assert info.value.message == (
        "lpsectl.toml: thresholds.database.long_query_seconds: expected a number, "
        "got a string ('lama')"
    )


# -- pure ------------------------------------------------------------------------------


def _data(started="2026-11-20T01:00:00+07:00", reset=None, **counters):
    stats = {c: 0 for c in pgstats.COUNTERS} | {"stats_reset": reset} | counters
    return {"server": {"started_at": started}, "database_stats": stats}


def test_counter_delta_plain_reset_and_restart():
    assert pgstats.counter_delta(_data(xact_rollback=3), _data(xact_rollback=10)) == {
        "counters": {c: 7 if c == "xact_rollback" else 0 for c in pgstats.COUNTERS},
        "reset": False,
        "baseline": True,
    }
    down = pgstats.counter_delta(_data(deadlocks=5, xact_commit=100), _data(xact_commit=120))
    assert down["reset"] is True and down["counters"]["xact_commit"] == 120
    restart = pgstats.counter_delta(
        _data(xact_commit=100), _data(started="2026-11-21T03:00:00+07:00", xact_commit=150)
    )
    assert restart["reset"] is True and restart["counters"]["xact_commit"] == 150
    assert pgstats.counter_delta(None, _data())["baseline"] is False


def test_sum_deltas_skips_snapshots_without_stats():
    chain = [_data(xact_rollback=1), {"server": {}}, _data(xact_rollback=4), _data(xact_rollback=2)]
    total = pgstats.sum_deltas(chain)
    assert total["counters"]["xact_rollback"] == 3 + 2
    assert total["resets"] == 1 and total["steps"] == 2


def test_classify_psql_errors():
    host = HostConfig(name="db1", role=["db"], postgres=PostgresSettings(psql=["psql"]))
    assert postgres.classify_psql_error(
        host,
        2,
        'psql: error: connection to server at "127.0.0.1", port 5999 failed: Connection refused',
    ) == (
        'cannot connect to PostgreSQL on db1: connection to server at "127.0.0.1", port 5999 '
        "failed: Connection refused"
    )
    assert postgres.classify_psql_error(
        host, 3, "ERROR:  permission denied for table pg_authid"
    ) == ("permission denied on db1: permission denied for table pg_authid")
    sudo = HostConfig(
        name="db1",
        role=["db"],
        postgres=PostgresSettings(psql=["sudo", "-n", "-u", "postgres", "psql"]),
    )
    assert postgres.classify_psql_error(sudo, 1, "sudo: psql: command not found").startswith(
        "psql not found on db1"
    )


def test_section_serialises_to_json_with_offsets(history):
    import json

    from lpsectl.commands._common import dump_json

    store, _ = history
    section = daily_database.build(store, parse_config({}), date(2026, 11, 21), "en")
    decoded = json.loads(dump_json(section))
    host = next(h for h in decoded["hosts"] if h["host"] == "spse-db")
    assert host["since"] == "2026-11-20T23:00:00+07:00"
    assert host["taken_at"] == "2026-11-21T20:00:00+07:00"
    assert decoded["thresholds"]["cache_hit_min_percent"] == 99.0


def test_psql_argv_adds_user_port_and_options():
    host = HostConfig(
        name="db1",
        role=["db"],
        postgres=PostgresSettings(
            database="epns_prod",
            psql=["sudo", "-n", "-u", "postgres", "psql"],
            user="lpsemon",
            port=5433,
        ),
    )
    assert postgres.psql_argv(host) == [
        "sudo",
        "-n",
        "-u",
        "postgres",
        "psql",
        "-U",
        "lpsemon",
        "-p",
        "5433",
        "-X",
        "-A",
        "-t",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-d",
        "dbname='epns_prod' application_name=lpsectl",
    ]


def test_one_statement_run_by_two_roles_is_one_row(pg_cluster):
    for user in ("postgres", pg_cluster.monitor_user):
        pg_cluster.psql(
            "".join("SELECT 'dua peran' AS perhitungan_bersama;\n" for _ in range(5)), user=user
        )
    collected = _collect(pg_cluster)
    rows = [
        q for q in collected.data["statements"]["by_query"] if "perhitungan_bersama" in q["query"]
    ]
    assert len(rows) == 1 and rows[0]["calls"] == 10  # 5 + 5, by hand; not 5 and 5
    users = pg_cluster.psql(
        "SELECT count(DISTINCT userid) FROM pg_stat_statements "
        "WHERE query LIKE '%perhitungan_bersama%'"
    ).strip()
    assert users == "2"  # pg_stat_statements itself keeps two rows
