"""The change forms against golden files (Indonesian and English, md and html)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from freezegun import freeze_time

from lpsectl.analysis.history import save_recommendations
from lpsectl.analysis.rules import analyze
from lpsectl.store import Store
from lpsectl.timeutil import now
from tests.fixtures.common import run_cli, write_config
from tests.test_analysis_builders import GIB, system_data, week

GOLDEN = Path(__file__).parent / "golden" / "changes"

# (change id, document) — change 1 goes to a vendor, change 2 to LKPP
DOCUMENTS = [(1, "request"), (1, "consultation"), (1, "proposal"), (2, "assistance")]


@pytest.fixture
def config(tmp_path):
    path = write_config(
        tmp_path / "lpsectl.toml",
        f"""
[lpse]
name = "LPSE Kabupaten Contoh"
timezone = "Asia/Jakarta"
data_dir = "{tmp_path / "data"}"
""",
    )
    with freeze_time("2026-11-21 02:00:00"):
        with Store.open_sqlite(tmp_path / "data" / "history.sqlite3") as store:
            recs = analyze(
                week(7, system=lambda i, at: system_data(disk_used=150 * GIB + int(i * GIB / 2)))
            )
            save_recommendations(store, "2026-11-21", recs, now())
        cli = ["--config", str(path), "change"]
        assert (
            run_cli(
                *cli,
                "new",
                "--from",
                "1",
                "--impact",
                "SPSE tidak dapat diakses selama 2 jam",
                "--rollback",
                "Pasang kembali disk lama",
                "--schedule",
                "2026-12-07 22:00",
                "--requester",
                "Budi Santoso",
            ).exit_code
            == 0
        )
        assert (
            run_cli(
                *cli,
                "new",
                "Upgrade PostgreSQL 11 ke 15",
                "--plan",
                "pg_upgrade --link",
                "--rollback",
                "Pulihkan dari pg_basebackup",
            ).exit_code
            == 0
        )
    with freeze_time("2026-11-23 03:30:00"):
        assert (
            run_cli(
                *cli,
                "decide",
                "1",
                "--outcome",
                "vendor",
                "--note",
                "ITO: penambahan disk melalui penyedia",
            ).exit_code
            == 0
        )
        assert run_cli(*cli, "decide", "2", "--outcome", "lkpp").exit_code == 0
    return str(path)


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("change_id, doc", DOCUMENTS)
def test_document_matches_golden(config, lang, fmt, change_id, doc, tmp_path):
    out = tmp_path / f"out.{fmt}"
    with freeze_time("2026-11-24 01:00:00"):
        result = run_cli(
            "--config",
            config,
            "--lang",
            lang,
            "change",
            "show",
            str(change_id),
            "--format",
            fmt,
            "--doc",
            doc,
            "--output",
            str(out),
        )
    assert result.exit_code == 0, result.stderr
    golden = GOLDEN / lang / f"{doc}.{fmt}"
    if os.environ.get("LPSECTL_UPDATE_GOLDEN"):  # regenerate after a deliberate template change
        golden.write_text(out.read_text(encoding="utf-8"), encoding="utf-8")
    assert out.read_text(encoding="utf-8") == golden.read_text(encoding="utf-8")


def test_html_is_escaped(config):
    cli = ["--config", config, "change"]
    assert run_cli(*cli, "new", "set work_mem <script>alert(1)</script>").exit_code == 0
    html = run_cli(*cli, "show", "3", "--format", "html").stdout
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    md = run_cli(*cli, "show", "3", "--format", "md").stdout
    assert "<script>alert(1)</script>" in md  # markdown is text: kept as written


def test_minor_change_has_no_consultation_form(config):
    cli = ["--config", config, "change"]
    assert run_cli(*cli, "new", "set work_mem = 16MB").exit_code == 0
    result = run_cli(*cli, "show", "3", "--format", "md", "--doc", "consultation")
    assert result.exit_code == 2
    assert "only major changes are consulted with LKPP" in result.stderr
