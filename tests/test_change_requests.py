"""Change requests: status history, routing per SOP 003 steps 5-6, the CLI around them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from lpsectl import changes
from lpsectl.analysis.history import save_recommendations
from lpsectl.analysis.rules import analyze
from lpsectl.errors import NotFoundError, UsageError
from lpsectl.store import Store
from tests.fixtures.common import run_cli, write_config
from tests.test_analysis_builders import GIB, system_data, week

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=WIB)


@pytest.fixture
def store(tmp_path):
    with Store.open_sqlite(tmp_path / "history.sqlite3") as st:
        yield st


def later(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


# -- SOP 003 steps 5-6 ---------------------------------------------------------------------
def test_minor_change_is_internal_and_skips_consultation(store):
    change = changes.create_change(store, NOW, title="Naikkan work_mem menjadi 16MB")
    assert (change.change_class, change.route, change.status) == ("minor", "internal", "analysed")
    assert changes.documents_for(change) == ["request"]
    with pytest.raises(UsageError, match="minor: it is handled inside the LPSE"):
        changes.decide(store, change.id, "lkpp", later(1))
    for step, status in enumerate(("approved", "implemented", "closed"), start=1):
        change = changes.set_status(store, change.id, status, later(step))
    assert [h.status for h in change.history] == [
        "recorded",
        "analysed",
        "approved",
        "implemented",
        "closed",
    ]


@pytest.mark.parametrize(
    "outcome, route, documents",
    [
        ("internal", "internal", ["request", "consultation"]),
        ("lkpp", "lkpp_assistance", ["request", "consultation", "assistance"]),
        ("vendor", "vendor_proposal", ["request", "consultation", "proposal"]),
    ],
)
def test_major_change_is_consulted_then_routed_by_the_outcome(store, outcome, route, documents):
    change = changes.create_change(store, NOW, title="Tambah RAM server database menjadi 32GB")
    assert (change.change_class, change.route) == ("major", "consult_lkpp")
    assert changes.documents_for(change) == ["request", "consultation"]
    with pytest.raises(UsageError, match="can move to consulted, closed, not approved"):
        changes.set_status(store, change.id, "approved", later(1))
    change = changes.decide(store, change.id, outcome, later(2), "hasil rapat dengan ITO")
    assert (change.status, change.outcome, change.route) == ("consulted", outcome, route)
    assert changes.documents_for(change) == documents
    assert change.history[-1].note == "hasil rapat dengan ITO"
    for step, status in enumerate(("approved", "implemented", "closed"), start=3):
        change = changes.set_status(store, change.id, status, later(step))
    assert [h.status for h in change.history] == list(changes.STATUSES)
    assert [h.at for h in change.history] == [NOW, NOW, later(2), later(3), later(4), later(5)]


def test_consultation_is_recorded_once(store):
    change = changes.create_change(store, NOW, title="Upgrade PostgreSQL 11 ke 15")
    changes.decide(store, change.id, "lkpp", later(1))
    with pytest.raises(
        UsageError, match="is consulted: the consultation result can only be recorded once"
    ):
        changes.decide(store, change.id, "vendor", later(2))


def test_statuses_cannot_be_skipped_and_early_close_needs_a_note(store):
    change = changes.create_change(store, NOW, title="set work_mem = 16MB")
    with pytest.raises(UsageError, match="can move to approved, closed, not implemented"):
        changes.set_status(store, change.id, "implemented", later(1))
    with pytest.raises(UsageError, match="needs --note"):
        changes.set_status(store, change.id, "closed", later(1))
    closed = changes.set_status(store, change.id, "closed", later(1), "dibatalkan")
    with pytest.raises(UsageError, match="nothing \\(it is closed\\)"):
        changes.set_status(store, closed.id, "approved", later(2))


def test_unknown_text_needs_a_class_and_the_class_option_wins(store):
    with pytest.raises(UsageError, match="give --class minor or --class major"):
        changes.create_change(store, NOW, title="Perbaiki masalah lambat")
    change = changes.create_change(
        store, NOW, title="Perbaiki masalah lambat", forced_class="major"
    )
    assert (change.change_class, change.class_source, change.route) == (
        "major",
        "administrator",
        "consult_lkpp",
    )


def test_missing_change_and_recommendation_name_themselves(store):
    with pytest.raises(NotFoundError, match="change request 42 does not exist"):
        changes.get_change(store, 42)
    with pytest.raises(NotFoundError, match="recommendation 7 does not exist"):
        changes.create_change(store, NOW, recommendation_id=7)


def test_change_from_a_recommendation_carries_its_evidence(store):
    recs = analyze(
        week(7, system=lambda i, at: system_data(disk_used=150 * GIB + int(i * GIB / 2)))
    )
    save_recommendations(store, "2026-11-21", recs, NOW)
    disk = next(r for r in recs if r.rule == "disk_filling")
    change = changes.create_change(
        store, NOW, recommendation_id=disk.id, rollback="kembalikan disk lama"
    )
    assert change.title == "Disk / di db1 hampir penuh"
    assert change.change_class == "major" and change.class_source == "analysis"
    assert (
        change.reasons[0]
        == f"from recommendation {disk.id} (disk_filling): the analysis classes it major"
    )
    assert "Tambah kapasitas disk" in change.plan
    assert change.recommendation["evidence"]["days_until_full"] == disk.evidence["days_until_full"]


def test_reanalysing_keeps_recommendation_ids(store):
    snaps = week(7, system=lambda i, at: system_data(disk_used=150 * GIB + int(i * GIB / 2)))
    first = analyze(snaps)
    save_recommendations(store, "2026-11-21", first, NOW)
    again = analyze(snaps)
    save_recommendations(store, "2026-11-21", again, later(5))
    assert [r.id for r in again] == [r.id for r in first]
    assert store.query_one("SELECT count(*) AS n FROM recommendations")["n"] == len(first)


def test_list_filters_by_status_and_class(store):
    changes.create_change(store, NOW, title="set work_mem = 16MB")
    major = changes.create_change(store, NOW, title="ganti harddisk")
    changes.decide(store, major.id, "vendor", later(1))
    assert [c.id for c in changes.list_changes(store, change_class="major")] == [major.id]
    assert [c.id for c in changes.list_changes(store, status="analysed")] == [1]


# -- the command line -----------------------------------------------------------------------
@pytest.fixture
def config(tmp_path):
    return str(
        write_config(
            tmp_path / "lpsectl.toml",
            f"""
[lpse]
name = "LPSE Kabupaten Contoh"
data_dir = "{tmp_path / "data"}"
""",
        )
    )


def test_cli_classify_json_and_unknown_exit_code(config):
    result = run_cli(
        "--config", config, "change", "classify", "--format", "json", "Ganti", "harddisk", "server"
    )
    assert result.exit_code == 0
    data = result.json()
    assert data["class"] == "major" and data["route"] == "consult_lkpp" and data["reasons"]
    unknown = run_cli("--config", config, "change", "classify", "--format", "json", "tolong dicek")
    assert unknown.exit_code == 1
    assert unknown.json()["class"] == "unknown"
    assert "--class" in unknown.json()["reasons"][0]


def test_cli_full_flow_for_a_major_change(config):
    new = run_cli(
        "--config",
        config,
        "change",
        "new",
        "Upgrade PostgreSQL 11 ke 15",
        "--impact",
        "SPSE offline 2 jam",
        "--rollback",
        "pulihkan dari cadangan",
        "--schedule",
        "2026-12-07 22:00",
        "--format",
        "json",
    )
    assert new.exit_code == 0, new.stderr
    created = new.json()
    assert created["scheduled_for"] == "2026-12-07T22:00:00+07:00"
    assert created["route"] == "consult_lkpp"
    cid = str(created["id"])
    early = run_cli(
        "--config", config, "change", "show", cid, "--format", "md", "--doc", "assistance"
    )
    assert early.exit_code == 2
    assert "has no assistance document" in early.stderr
    decided = run_cli(
        "--config", config, "change", "decide", cid, "--outcome", "lkpp", "--format", "json"
    )
    assert decided.json()["route"] == "lkpp_assistance"
    doc = run_cli(
        "--config", config, "change", "show", cid, "--format", "md", "--doc", "assistance"
    )
    assert doc.exit_code == 0
    assert doc.stdout.startswith("# Permohonan Bantuan Teknis")
    assert "Senin, 7 Desember 2026 pukul 22.00 WIB" in doc.stdout
    approved = run_cli("--config", config, "change", "status", cid, "approved", "--format", "json")
    assert approved.json()["status"] == "approved"
    listing = run_cli("--config", config, "change", "list")
    assert "lkpp_assistance" in listing.stdout and "approved" in listing.stdout
    shown = run_cli("--config", config, "change", "show", cid)
    assert "history:" in shown.stdout and "consulted" in shown.stdout


def test_cli_new_with_ambiguous_text_asks_for_class(config):
    result = run_cli("--config", config, "change", "new", "tolong", "dicek")
    assert result.exit_code == 2
    assert "give --class minor or --class major" in result.stderr
    forced = run_cli(
        "--config",
        config,
        "change",
        "new",
        "tolong",
        "dicek",
        "--class",
        "minor",
        "--format",
        "json",
    )
    assert forced.exit_code == 0 and forced.json()["route"] == "internal"


def test_cli_missing_change_is_one_sentence(config):
    result = run_cli("--config", config, "change", "show", "99")
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == "lpsectl: change request 99 does not exist (see `lpsectl change list`)"
    )


# -- the same on a PostgreSQL history database -------------------------------------------------
def test_lifecycle_on_postgresql(pg_cluster_factory):
    cluster = pg_cluster_factory(preload=False, workload=False, dbname="lpsectl_changes")
    url = f"postgresql://postgres@{cluster.host}:{cluster.port}/{cluster.dbname}"
    with Store.open_url(url) as pg:
        recs = analyze(
            week(7, system=lambda i, at: system_data(disk_used=150 * GIB + int(i * GIB / 2)))
        )
        save_recommendations(pg, "2026-11-21", recs, NOW)
        save_recommendations(pg, "2026-11-21", recs, later(1))  # same ids the second time
        change = changes.create_change(pg, NOW, recommendation_id=recs[0].id)
        change = changes.decide(pg, change.id, "lkpp", later(2), "ITO membantu")
        change = changes.set_status(pg, change.id, "approved", later(3))
        assert (change.route, change.status) == ("lkpp_assistance", "approved")
        assert [h.status for h in change.history] == [
            "recorded",
            "analysed",
            "consulted",
            "approved",
        ]
        assert changes.get_change(pg, change.id).recommendation["evidence"]["mount"] == "/"
        assert pg.query_one("SELECT count(*) AS n FROM recommendations")["n"] == len(recs)


def test_the_title_and_the_plan_are_judged_apart(config):
    """Issue 15: 'server' in the title and 'pasang' in the plan are no server being installed."""
    result = run_cli(
        "--config",
        config,
        "change",
        "new",
        "Ubah konfigurasi timeout nginx di web server",
        "--plan",
        "pasang konfigurasi baru lalu reload nginx",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    assert (result.json()["class"], result.json()["route"]) == ("minor", "internal")
