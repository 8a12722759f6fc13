"""Tickets and the monthly report with the history in PostgreSQL (lpse.database_url)."""

from __future__ import annotations

from datetime import datetime

from freezegun import freeze_time

from lpsectl import tickets
from lpsectl.config import load_config_file
from lpsectl.reports.monthly import build_monthly, table_exists
from lpsectl.store import Store
from tests.fixtures.common import run_cli
from tests.test_monthly import DATA, FROZEN, WIB, build_history


def test_tickets_and_monthly_report_on_postgresql(pg_cluster_factory, tmp_path):
    cluster = pg_cluster_factory(preload=False, workload=False)
    cluster.psql("CREATE DATABASE lpsectl_history")
    url = f"postgresql://postgres@{cluster.host}:{cluster.port}/lpsectl_history"
    path = tmp_path / "lpsectl.toml"
    path.write_text(
        f'[lpse]\nname = "LPSE PG"\ndatabase_url = "{url}"\n\n'
        '[[hosts]]\nname = "spse-app"\nrole = "app"\naddress = "10.10.1.10"\n'
        '[[hosts]]\nname = "spse-db"\nrole = "db"\naddress = "10.10.1.11"\n',
        encoding="utf-8",
    )
    export = str(DATA / "lpse-support-tickets.csv")
    assert run_cli("--config", str(path), "tickets", "import", export).exit_code == 0
    again = run_cli("--config", str(path), "tickets", "import", export, "--format", "json")
    assert again.json()["files"][0]["unchanged"] == 140

    store = Store.open_url(url)
    assert store.query_one("SELECT count(*) AS n FROM tickets")["n"] == 140
    assert table_exists(store, "tickets") and not table_exists(store, "no_such_table")
    build_history(store)
    config = load_config_file(path)
    with freeze_time(FROZEN):
        report = build_monthly(store, config, "2026-10", "id", datetime.now(WIB))
    store.close()
    app = report["hosts"][0]
    assert (app["up"], app["down"]) == (28, 2)
    assert report["tickets"]["total"] == 140
    assert report["database"][0]["totals"]["xact_commit"] == 10000 * 18
    with Store.open_url(url) as reopened:
        assert len(tickets.load_tickets(reopened, WIB, "2026-10")) == 140
