"""Each rule fires on a history that should trigger it and stays silent on a healthy one."""

from __future__ import annotations

import pytest

from lpsectl.analysis import rules
from lpsectl.analysis.pgtune import GB, KB, MB, pg_size, recommend_memory, setting_bytes
from lpsectl.analysis.rules import AnalysisSettings, analyze
from tests.test_analysis_builders import (
    GIB,
    MIB,
    healthy_settings,
    postgres_data,
    setting,
    spse_errors,
    system_data,
    week,
)

S = AnalysisSettings()


def fired(rule, snaps):
    return rule(snaps, S)


def test_healthy_week_gives_no_recommendation():
    assert analyze(week()) == []


@pytest.mark.parametrize("rule", rules.RULES, ids=lambda r: r.__name__)
def test_every_rule_is_silent_on_a_healthy_week(rule):
    assert rule(week(), S) == []


@pytest.mark.parametrize("rule", rules.RULES, ids=lambda r: r.__name__)
def test_every_rule_is_silent_without_data(rule):
    assert rule([], S) == []


# -- PGTune ----------------------------------------------------------------------------
def test_pgtune_formulas_for_16_gib():
    advice = recommend_memory(16 * GB, 100, 4)
    assert advice.shared_buffers == 4 * GB
    assert advice.effective_cache_size == 12 * GB
    assert advice.maintenance_work_mem == GB
    assert advice.work_mem == (16 * GB - 4 * GB) // (104 * 3)


def test_pgtune_caps_maintenance_work_mem_and_floors_work_mem():
    assert recommend_memory(64 * GB, 100).maintenance_work_mem == 2 * GB
    assert recommend_memory(512 * MB, 10_000).work_mem == 64 * KB


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("shared_buffers", "128MB", 128 * MB),
        ("shared_buffers", "16384", 16384 * 8 * KB),
        ("work_mem", "4096", 4 * MB),
        ("work_mem", {"setting": "4096", "unit": "kB"}, 4 * MB),
        ("shared_buffers", {"setting": "16384", "unit": "8kB"}, 128 * MB),
        ("effective_cache_size", "4GB", 4 * GB),
        ("work_mem", "garbage", None),
    ],
)
def test_setting_bytes_reads_every_spelling(name, value, expected):
    assert setting_bytes(name, value) == expected


def test_pg_size_writes_postgresql_conf_units():
    assert pg_size(4 * GB) == "4GB"
    assert pg_size(512 * MB) == "512MB"
    assert pg_size(100 * KB) == "100kB"


def test_memory_settings_fires_on_default_shared_buffers():
    settings = healthy_settings()
    settings["shared_buffers"] = setting("128MB", 128 * MIB, "16384")
    recs = fired(
        rules.memory_settings, week(2, postgres=lambda i, at: postgres_data(i, settings=settings))
    )
    assert len(recs) == 1
    rec = recs[0]
    assert rec.change_class == "minor" and rec.route == "internal"
    assert rec.evidence["settings"] == {
        "shared_buffers": {"current": 128 * MIB, "recommended": 4 * GIB}
    }
    assert rec.evidence["ram_bytes"] == 16 * GIB
    assert "shared_buffers = '4GB'" in rec.texts["en"]["proposal"]
    assert "restart" in rec.texts["en"]["proposal"]


# -- cache hit ----------------------------------------------------------------------------------
def test_cache_hit_low_fires_with_the_ratio():
    recs = fired(
        rules.cache_hit_low,
        week(2, postgres=lambda i, at: postgres_data(i, hit_per_step=90_000, read_per_step=10_000)),
    )
    assert len(recs) == 1
    assert recs[0].evidence["cache_hit_ratio"] == pytest.approx(0.9)
    assert recs[0].change_class == "minor"
    assert "90,00%" in recs[0].texts["id"]["finding"]


def test_cache_hit_ignores_an_idle_database():
    recs = fired(
        rules.cache_hit_low,
        week(2, postgres=lambda i, at: postgres_data(i, hit_per_step=10, read_per_step=10)),
    )
    assert recs == []


# -- temp files ---------------------------------------------------------------------------------
def test_temp_files_with_work_mem_already_at_pgtune_point_at_the_queries():
    """work_mem 39 MiB is PGTune's value for 16 GiB and 100 connections: raising it is
    not proposed (it would not be the value memory_settings asks for either)."""
    recs = fired(
        rules.temp_files_frequent,
        week(3, postgres=lambda i, at: postgres_data(i, temp_files_per_step=100)),
    )
    assert len(recs) == 1
    assert recs[0].evidence["temp_files_per_day"] == pytest.approx(400, rel=0.1)
    proposal = recs[0].texts["en"]["proposal"]
    assert "already at PGTune's value" in proposal and "log_temp_files = 0" in proposal
    assert "Raise work_mem" not in proposal


def test_one_run_proposes_one_value_per_memory_setting():
    """work_mem 4 MB and shared_buffers 128 MB on 16 GiB: memory_settings, temp files and
    the cache rule all name PGTune's figures — (16 GiB − 4 GiB) / (104 × 3) and 4 GiB."""
    settings = healthy_settings()
    settings["work_mem"] = setting("4MB", 4 * MIB, "4096")
    settings["shared_buffers"] = setting("128MB", 128 * MIB, "16384")
    snaps = week(
        3,
        postgres=lambda i, at: postgres_data(
            i,
            settings=settings,
            temp_files_per_step=100,
            hit_per_step=90_000,
            read_per_step=10_000,
        ),
    )
    work_mem = pg_size((16 * GIB - 4 * GIB) // (104 * 3))
    memory = fired(rules.memory_settings, snaps)[0].texts["en"]["proposal"]
    temp = fired(rules.temp_files_frequent, snaps)[0].texts["en"]["proposal"]
    cache = fired(rules.cache_hit_low, snaps)[0].texts["en"]["proposal"]
    assert f"work_mem = '{work_mem}'" in memory and f"work_mem = '{work_mem}'" in temp
    assert "shared_buffers = '4GB'" in memory and "shared_buffers = '4GB'" in cache


def test_cache_rule_with_shared_buffers_already_at_pgtune_does_not_ask_to_raise_it():
    recs = fired(
        rules.cache_hit_low,
        week(2, postgres=lambda i, at: postgres_data(i, hit_per_step=90_000, read_per_step=10_000)),
    )
    proposal = recs[0].texts["en"]["proposal"]
    assert "already at PGTune's value" in proposal and "Raise shared_buffers" not in proposal


def test_temp_files_counter_reset_is_not_a_negative_rate():
    def pg(i, at):
        data = postgres_data(i, temp_files_per_step=1)
        if i >= 4:  # stats reset on the second day
            data["database_stats"]["temp_files"] = i - 4
        return data

    assert fired(rules.temp_files_frequent, week(2, postgres=pg)) == []


# -- connections ------------------------------------------------------------------------------------
def test_connections_near_max_fires_on_the_peak():
    recs = fired(
        rules.connections_near_max,
        week(2, postgres=lambda i, at: postgres_data(i, connections=96 if i == 5 else 20)),
    )
    assert len(recs) == 1
    assert recs[0].evidence["peak_connections"] == 96
    assert recs[0].severity == "critical"
    assert recs[0].evidence["at"].startswith("2026-11-16T07:00")


# -- slow queries -----------------------------------------------------------------------------------
SLOW = {
    "queryid": "9",
    "query": "SELECT * FROM jadwal j JOIN paket p ON p.pkt_id = j.pkt_id WHERE j.dtj_tglawal > $1",
    "calls": 4_000,
    "total_ms": 4_000 * 850.0,
    "mean_ms": 850.0,
    "max_ms": 9_000.0,
    "rows": 4_000,
}


def test_slow_frequent_query_from_pg_stat_statements_is_an_application_change():
    recs = fired(
        rules.slow_frequent_query,
        week(1, postgres=lambda i, at: postgres_data(i, statements=[SLOW])),
    )
    assert len(recs) == 1
    rec = recs[0]
    assert rec.change_class == "major" and rec.route == "consult_lkpp"
    assert rec.evidence["calls"] == 4000 and rec.evidence["mean_ms"] == 850.0
    assert "jadwal" in rec.evidence["query"]


def test_slow_query_from_log_summaries_when_no_pg_stat_statements():
    def logs(i, at):
        return {
            "files": [
                {
                    "path": "/var/log/postgresql/postgresql.log",
                    "format": "stderr",
                    "errors": [],
                    "queries": [
                        {
                            "fingerprint": "select * from jadwal where id = ?",
                            "count": 50,
                            "total_ms": 50 * 700.0,
                            "mean_ms": 700.0,
                            "max_ms": 1500.0,
                            "example": "select * from jadwal where id = 7",
                        }
                    ],
                }
            ]
        }

    snaps = [s for s in week(1, logs=logs) if s["kind"] != "postgres"]
    recs = fired(rules.slow_frequent_query, snaps)
    assert len(recs) == 1
    assert recs[0].evidence["calls"] == 200  # 50 per summary, 4 summaries
    assert recs[0].evidence["source"] == "logs"


def test_one_very_long_query_fires_even_if_rare():
    long = dict(SLOW, calls=2, mean_ms=70_000.0, max_ms=120_000.0, total_ms=140_000.0)
    assert (
        len(
            fired(
                rules.slow_frequent_query,
                week(1, postgres=lambda i, at: postgres_data(i, statements=[long])),
            )
        )
        == 1
    )


# -- rollbacks / deadlocks -------------------------------------------------------------------------
def test_rollback_rate_rising_fires():
    recs = fired(
        rules.rollback_deadlock_rising,
        week(
            4,
            postgres=lambda i, at: postgres_data(
                i, rollbacks_per_step=lambda k: 10 if k < 8 else 2_000
            ),
        ),
    )
    assert len(recs) == 1
    ev = recs[0].evidence
    assert ev["rollback_ratio_after"] > ev["rollback_ratio_before"] * 1.5
    assert recs[0].change_class == "major"


def test_deadlocks_rising_fires():
    recs = fired(
        rules.rollback_deadlock_rising,
        week(
            4,
            postgres=lambda i, at: postgres_data(i, deadlocks_per_step=lambda k: 0 if k < 8 else 3),
        ),
    )
    assert len(recs) == 1
    assert recs[0].evidence["deadlocks_per_day_after"] == 12  # 3 per sample, 4 samples a day
    assert recs[0].evidence["deadlocks_per_day_before"] == 0


def test_steady_high_rollbacks_are_not_rising():
    recs = fired(
        rules.rollback_deadlock_rising,
        week(4, postgres=lambda i, at: postgres_data(i, rollbacks_per_step=2_000)),
    )
    assert recs == []


# -- autovacuum -------------------------------------------------------------------------------------
def test_autovacuum_lagging_names_the_table():
    tables = [
        {
            "schema": "public",
            "name": "jadwal",
            "live_tuples": 100_000,
            "dead_tuples": 60_000,
            "dead_ratio": 0.375,
            "last_autovacuum": None,
        }
    ]
    recs = fired(
        rules.autovacuum_lagging, week(1, postgres=lambda i, at: postgres_data(i, tables=tables))
    )
    assert len(recs) == 1
    assert recs[0].evidence["tables"][0]["table"] == "public.jadwal"
    assert "VACUUM (ANALYZE) on public.jadwal" in recs[0].texts["en"]["proposal"]


# -- disk -------------------------------------------------------------------------------------------
def test_disk_filling_projects_days_until_full():
    # 150 GiB used of 200, growing 2 GiB a day: 25 days left
    recs = fired(
        rules.disk_filling,
        week(7, system=lambda i, at: system_data(disk_used=150 * GIB + int(i * GIB / 2))),
    )
    assert len(recs) == 1
    rec = recs[0]
    assert rec.subject == "/" and rec.change_class == "major" and rec.route == "consult_lkpp"
    assert rec.evidence["growth_bytes_per_day"] == pytest.approx(2 * GIB, rel=0.01)
    assert rec.evidence["days_until_full"] == pytest.approx(
        (50 * GIB - 27 * GIB / 2) / (2 * GIB), abs=0.2
    )


def test_disk_slowly_growing_with_room_is_silent_and_tmpfs_ignored():
    assert (
        fired(
            rules.disk_filling,
            week(7, system=lambda i, at: system_data(disk_used=40 * GIB + i * MIB)),
        )
        == []
    )


def test_disk_nearly_full_fires_even_without_growth():
    recs = fired(rules.disk_filling, week(1, system=lambda i, at: system_data(disk_used=195 * GIB)))
    assert recs[0].severity == "critical" and recs[0].evidence["days_until_full"] is None


# -- saturation ---------------------------------------------------------------------------------------
def test_memory_saturated_for_three_days_is_major():
    recs = fired(
        rules.memory_saturated,
        week(5, system=lambda i, at: system_data(mem_pct=95.0 if i % 4 == 2 and i < 12 else 50.0)),
    )
    assert len(recs) == 1
    assert recs[0].evidence["days_saturated"] == 3 and recs[0].change_class == "major"
    assert "Tambah RAM" in recs[0].texts["id"]["proposal"]


def test_memory_saturated_two_days_is_not_enough():
    assert (
        fired(
            rules.memory_saturated,
            week(5, system=lambda i, at: system_data(mem_pct=95.0 if i in (1, 5) else 50.0)),
        )
        == []
    )


def test_cpu_saturated_by_load_per_cpu():
    recs = fired(rules.cpu_saturated, week(4, system=lambda i, at: system_data(load15=6.0)))
    assert len(recs) == 1 and recs[0].evidence["days_saturated"] == 4


# -- logging ------------------------------------------------------------------------------------------
def test_logging_not_configured_lists_each_problem():
    settings = healthy_settings()
    settings["logging_collector"] = setting("off")
    settings["log_min_duration_statement"] = {
        "shown": "-1",
        "setting": "-1",
        "unit": "ms",
        "bytes": None,
        "ms": None,
    }
    snaps = week(
        1,
        postgres=lambda i, at: postgres_data(i, settings=settings),
        system=lambda i, at: system_data(logs_fresh=False),
        postgres_unavailable={"statements": "pg_stat_statements is not installed"},
    )
    recs = {r.host: r for r in fired(rules.logging_not_configured, snaps)}
    items = [p["item"] for p in recs["db1"].evidence["problems"]]
    assert items == [
        "logging_collector",
        "log_min_duration_statement",
        "pg_stat_statements",
        "/var/log/postgresql/postgresql.log",
    ]
    assert recs["db1"].change_class == "minor" and recs["db1"].route == "internal"


# -- application errors ------------------------------------------------------------------------------
def test_recurring_app_errors_route_to_lkpp():
    recs = fired(rules.app_errors_recurring, week(3, logs=lambda i, at: spse_errors(5)))
    assert len(recs) == 1
    assert recs[0].evidence["count"] == 60 and len(recs[0].evidence["days"]) == 3
    assert recs[0].route == "consult_lkpp"


def test_app_errors_on_a_single_day_are_not_recurring():
    assert (
        fired(
            rules.app_errors_recurring, week(3, logs=lambda i, at: spse_errors(50 if i < 4 else 0))
        )
        == []
    )


def test_analyze_sorts_major_first_and_each_has_evidence():
    snaps = week(
        7,
        system=lambda i, at: system_data(disk_used=150 * GIB + int(i * GIB / 2)),
        postgres=lambda i, at: postgres_data(i, temp_files_per_step=100),
    )
    recs = analyze(snaps)
    assert [r.rule for r in recs] == ["disk_filling", "temp_files_frequent"]
    for rec in recs:
        d = rec.to_dict("id")
        assert d["evidence"] and d["proposal"] and d["class"] in ("minor", "major") and d["route"]


# -- one name per limit (issue 17) ----------------------------------------------------------
def test_the_cache_hit_limit_is_one_key_for_the_report_and_analyze(caplog):
    """[thresholds.database] cache_hit_min_percent moves both; the old [analysis]
    cache_hit_min still counts, converted, with a warning naming the new key."""
    from lpsectl.config import parse_config
    from lpsectl.reports.daily_database import load_thresholds

    history = week(
        2, postgres=lambda i, at: postgres_data(i, hit_per_step=90_000, read_per_step=10_000)
    )
    lowered = parse_config({"thresholds": {"database": {"cache_hit_min_percent": 85.0}}}, "t.toml")
    assert load_thresholds(lowered).cache_hit_min_percent == 85.0  # the report's
    assert rules.cache_hit_low(history, rules.analysis_settings(lowered)) == []  # 90 % >= 85 %

    old = parse_config({"analysis": {"cache_hit_min": 0.85}}, "t.toml")
    with caplog.at_level("WARNING"):
        settings = rules.analysis_settings(old)
    assert settings.database.cache_hit_min_percent == 85.0
    assert rules.cache_hit_low(history, settings) == []
    assert (
        "[analysis] cache_hit_min is deprecated: write [thresholds.database] cache_hit_min_percent = 85.0"
        in caplog.text
    )

    both = parse_config(
        {
            "analysis": {"cache_hit_min": 0.5},
            "thresholds": {"database": {"cache_hit_min_percent": 99.5}},
        },
        "t.toml",
    )
    assert rules.analysis_settings(both).database.cache_hit_min_percent == 99.5  # the new key wins
    assert (
        len(rules.cache_hit_low(history, rules.analysis_settings(parse_config({}, "t.toml")))) == 1
    )


# -- recommendations that respect their evidence (issue 16) --------------------------------------
def errors_log(*errors: tuple[str, str, int]) -> dict:
    """A logs snapshot whose SPSE summary has these (signature, example, count) errors."""
    data = spse_errors(0)
    summary = next(iter(data["files"].values()))["summary"]
    summary["errors"] = [
        {"severity": "ERROR", "signature": sig, "example": example, "count": count}
        for sig, example, count in errors
    ]
    return data


def test_a_full_disk_in_the_spse_log_is_the_disk_rule_not_an_application_change():
    log = errors_log(
        (
            "IOException: No space left on device",
            "java.io.IOException: No space left on device",
            30,
        ),
        ("NullPointerException at LelangCtr.view", "@7a1b NullPointerException", 30),
    )
    snaps = week(3, logs=lambda i, at: log)
    app = fired(rules.app_errors_recurring, snaps)
    assert [r.evidence["signature"] for r in app] == ["NullPointerException at LelangCtr.view"]
    (disk,) = fired(rules.storage_full_errors, snaps)
    assert disk.change_class == "minor" and disk.severity == "critical"
    logs_snapshots = sum(1 for snap in snaps if snap["kind"] == "logs")
    assert disk.evidence["count"] == 30 * logs_snapshots and len(disk.evidence["days"]) == 3
    assert "Not a change to SPSE's code" in disk.texts["en"]["proposal"]


def test_five_errors_of_one_class_have_titles_that_tell_them_apart():
    log = errors_log(
        *[
            (f"SQLException at PaketDao.find{n}", f"ORA-0{n} at PaketDao.find{n}", 20)
            for n in range(5)
        ]
    )
    recs = analyze(week(3, logs=lambda i, at: log))
    titles = [r.texts["id"]["title"] for r in recs if r.rule == "app_errors_recurring"]
    assert len(titles) == 5 and len(set(titles)) == 5
    assert all(t.startswith("Galat aplikasi SPSE berulang di ") for t in titles)
    assert "SQLException at PaketDao.find3" in " ".join(titles)


def test_identical_findings_are_merged_with_their_count():
    snaps = week(3, logs=lambda i, at: errors_log(("Timeout at Upload", "x", 30)))
    rec = fired(rules.app_errors_recurring, snaps)[0]
    merged = rules.merge_identical([rec, rules.Recommendation(**{**rec.__dict__})])
    assert len(merged) == 1 and merged[0].evidence["occurrences"] == 2


def test_cpu_is_a_percent_of_all_cores_and_load_per_core_apart():
    """A load of 20 on 4 cores from the shell fallback (no CPU percent): "load 5 per core",
    never "CPU 500%"."""

    def shell_only(i, at):
        data = system_data(load15=20.0)
        data["cpu"] = {"count": 4}
        return data

    (rec,) = fired(rules.cpu_saturated, week(4, system=shell_only))
    assert rec.evidence["peak_percent"] is None and rec.evidence["peak_load_per_core"] == 5.0
    assert (
        "load 5.00 per core" in rec.texts["en"]["finding"] and "%" not in rec.texts["en"]["finding"]
    )
    assert "beban 5,00 per core" in rec.texts["id"]["finding"]
    (hot,) = fired(rules.cpu_saturated, week(4, system=lambda i, at: system_data(cpu_pct=97.0)))
    assert hot.evidence["peak_percent"] == 97.0
    assert "CPU 97.0% of all cores" in hot.texts["en"]["finding"]


def test_every_finding_reads_in_indonesian_without_english():
    """Findings of many rules at once (disk, temp files, cache, CPU, logs, app errors):
    their Indonesian texts come from the catalog, with no English word outside quotes."""
    from tests.test_i18n import english_words

    settings = healthy_settings()
    settings["work_mem"] = setting("4MB", 4 * MIB, "4096")
    settings["shared_buffers"] = setting("128MB", 128 * MIB, "16384")
    log = errors_log(
        ("IOException: No space left on device", "No space left on device", 30),
        ("NullPointerException at LelangCtr.view", "@7a1b", 30),
    )
    snaps = week(
        7,
        system=lambda i, at: system_data(
            disk_used=150 * GIB + int(i * GIB / 2), cpu_pct=97.0, logs_fresh=False
        ),
        postgres=lambda i, at: postgres_data(
            i, settings=settings, temp_files_per_step=100, hit_per_step=90_000, read_per_step=10_000
        ),
        logs=lambda i, at: log,
    )
    recs = analyze(snaps)
    assert len({r.rule for r in recs}) >= 7
    for rec in recs:
        for key, text in rec.texts["id"].items():
            # code spans, settings and the log's own words are quoted or kept as written
            cleaned = text.replace("log_temp_files", "").replace("shared_blks_read", "")
            assert english_words(cleaned) == [], (rec.rule, key, text)
        assert rec.texts["id"]["title"] != rec.texts["en"]["title"]


def test_the_rollback_rule_asks_for_log_lock_waits_only_when_it_is_off():
    def rising(log_lock_waits: str):
        settings = healthy_settings()
        settings["log_lock_waits"] = setting(log_lock_waits, None, log_lock_waits)
        return fired(
            rules.rollback_deadlock_rising,
            week(
                4,
                postgres=lambda i, at: postgres_data(
                    i, settings=settings, rollbacks_per_step=lambda k: 10 if k < 8 else 2_000
                ),
            ),
        )

    (off,) = rising("off")
    (on,) = rising("on")
    assert "Enable log_lock_waits" in off.texts["en"]["proposal"]
    assert "Enable log_lock_waits" not in on.texts["en"]["proposal"]
    assert "log_lock_waits is on" in on.texts["en"]["proposal"]
