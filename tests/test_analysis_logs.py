"""Log-based rules on real summaries: `lpsectl logs summarize` of the sample SPSE log
and of a real PostgreSQL 15 log, stored the way the logs collector stores them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from lpsectl.analysis import rules
from lpsectl.analysis.rules import AnalysisSettings
from tests.fixtures.common import run_cli
from tests.test_analysis_builders import START, snapshot

DATA = Path(__file__).parent / "data"


def summary_of(path: Path) -> dict:
    result = run_cli("logs", "summarize", str(path), "--format", "json")
    assert result.exit_code == 0, result.stderr
    return result.json()


def daily_log_snapshots(host: str, path: Path, days: int) -> list[dict]:
    """The same summary on each of ``days`` days, in the collector's data shape."""
    summary = summary_of(path)
    return [
        snapshot(
            host,
            "logs",
            START + timedelta(days=d, hours=9),
            {
                "files": {str(path): {"format": summary["format"], "summary": summary}},
                "cursors": {},
                "warnings": [],
            },
        )
        for d in range(days)
    ]


def test_recurring_errors_of_the_sample_spse_log():
    path = DATA / "spse-application.log"
    summary = summary_of(path)
    top = max((e for e in summary["errors"] if e["severity"] == "ERROR"), key=lambda e: e["count"])
    recs = rules.app_errors_recurring(daily_log_snapshots("app1", path, 3), AnalysisSettings())
    assert recs, "recurring SPSE errors must be recommended"
    first = recs[0]
    assert first.evidence["signature"] == top["signature"][:160]
    assert first.evidence["count"] == 3 * top["count"]
    assert first.evidence["days"] == ["2026-11-15", "2026-11-16", "2026-11-17"]
    assert first.change_class == "major" and first.route == "consult_lkpp"
    # warnings (failed logins, pool nearly full) are not application errors
    assert all("login" not in r.evidence["signature"].lower() for r in recs)


def test_one_day_of_the_sample_log_is_not_recurring():
    recs = rules.app_errors_recurring(
        daily_log_snapshots("app1", DATA / "spse-application.log", 1), AnalysisSettings()
    )
    assert recs == []


def test_slow_query_from_a_real_postgresql_log():
    path = DATA / "pg" / "postgresql.log"
    summary = summary_of(path)
    wanted = next(
        q for q in summary["queries"] if q["fingerprint"].startswith("update pgbench_accounts")
    )
    settings = replace(
        AnalysisSettings(),
        slow_query_mean_ms=wanted["mean_ms"] * 0.9,
        slow_query_min_calls=3 * wanted["count"],
        slow_query_max_reported=50,
    )
    recs = rules.slow_frequent_query(daily_log_snapshots("db1", path, 3), settings)
    found = {r.evidence["query"]: r for r in recs}
    rec = next(r for q, r in found.items() if "pgbench_accounts set abalance" in q.lower())
    assert rec.evidence["calls"] == 3 * wanted["count"]
    assert rec.evidence["mean_ms"] == round(wanted["total_ms"] / wanted["count"], 1)
    assert rec.evidence["max_ms"] == round(wanted["max_ms"], 1)
    assert rec.evidence["source"] == "logs"
    # the PostgreSQL log is not an SPSE log: no application-error recommendation from it
    assert rules.app_errors_recurring(daily_log_snapshots("db1", path, 3), AnalysisSettings()) == []
