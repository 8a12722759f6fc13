"""The minor/major classifier on a table of phrasings (Indonesian, English, typos, case)."""

from __future__ import annotations

import pytest

from lpsectl.analysis.classify import classify, route_for, tokenize
from lpsectl.changes import decide_class
from lpsectl.errors import UsageError

CASES = [
    ("Naikkan shared_buffers menjadi 4GB (25% dari RAM 16GB)", "minor"),
    ("Ubah konfigurasi work_mem di postgresql.conf", "minor"),
    ("set work_mem = 16MB", "minor"),
    ("Increase max_connections to 300", "minor"),
    ("Restart layanan SPSE setelah perubahan konfigurasi", "minor"),
    ("RESTART POSTGRESQL SERVICE", "minor"),
    ("Aktifkan log_min_duration_statement = 1000", "minor"),
    ("enable logging_collector and set log_line_prefix", "minor"),
    ("Atur autovacuum_vacuum_scale_factor ke 0.05", "minor"),
    ("Tune effective_cache_size to 12GB", "minor"),
    ("Ubah pengaturan logrotate untuk log aplikasi", "minor"),
    ("konfigurasii ulang parameter memori jvm (xmx)", "minor"),
    ("Reload pg_hba.conf", "minor"),
    ("pengaturan timezone server ke Asia/Jakarta", "minor"),
    ("update postgresql 15.3 ke 15.4", "minor"),
    ("apply OS security patches", "minor"),
    ("Enable the pg_stat_statements extension", "minor"),
    ("reboot server aplikasi", "minor"),
    ("Tambah RAM server database dari 16GB ke 32GB", "major"),
    ("tambah ram", "major"),
    ("Add 16 GB of memory to the DB server", "major"),
    ("Ganti harddisk yang rusak", "major"),
    ("replace the failing hard disk", "major"),
    ("Penambahan kapasitas storage untuk database", "major"),
    ("Upgrade CPU server aplikasi", "major"),
    ("Pengadaan server baru untuk SPSE", "major"),
    ("migrasi ke server baru", "major"),
    ("Ganti switch jaringan di ruang server", "major"),
    ("Replace the core router", "major"),
    ("Upgrade PostgreSQL 11 ke 15", "major"),
    ("upgrade postgres from 9.6 to 13", "major"),
    ("Upgrade sistem operasi CentOS 7 ke Rocky Linux 9", "major"),
    ("Upgrade Ubuntu 18.04 to 22.04", "major"),
    ("Upgrade SPSE ke versi 4.5", "major"),
    ("pembaruan versi SPSE", "major"),
    ("Tambah index pada tabel jadwal", "major"),
    ("optimasi query lelang yang lambat", "major"),
    ("Perbaiki bug pada modul tender", "major"),
    ("TAMBAH DISK 500GB", "major"),
    ("upgarde memroy server", "major"),
    ("tambh RAM 8GB", "major"),
    ("Penggantian UPS ruang server", "major"),
    ("add a new SSD for WAL and set wal_buffers", "major"),
    ("pg_upgrade cluster", "major"),
    ("Upgrade", "unknown"),
    ("Perbaiki masalah lambat", "unknown"),
    ("make it faster", "unknown"),
    ("tolong dicek", "unknown"),
]


def test_the_table_is_large_and_covers_each_class():
    assert len(CASES) >= 40
    assert {want for _, want in CASES} == {"minor", "major", "unknown"}


@pytest.mark.parametrize("text, expected", CASES, ids=[t[:40] for t, _ in CASES])
def test_classification(text, expected):
    result = classify(text)
    assert result.change_class == expected
    assert result.reasons, "every decision says why"
    assert (
        result.route
        == {"minor": "internal", "major": "consult_lkpp", "unknown": "undecided"}[expected]
    )


def test_route_follows_sop_003_step_5():
    assert route_for("minor") == "internal"
    assert route_for("major") == "consult_lkpp"
    assert route_for("unknown") == "undecided"


def test_reasons_quote_the_deciding_words():
    result = classify("Tambah RAM server database dari 16GB ke 32GB")
    assert result.reasons[0].startswith('"tambah ram": adds or replaces memory (RAM)')


def test_a_change_with_hardware_and_settings_is_major_and_says_both():
    result = classify("add a new SSD for WAL and set wal_buffers")
    assert result.change_class == "major"
    assert "wal_buffers" in result.reasons[-1] and "major" in result.reasons[-1]


def test_setting_that_mentions_ram_is_not_a_hardware_change():
    result = classify("Naikkan shared_buffers menjadi 4GB (25% dari RAM 16GB)")
    assert result.signals["major"] == []


def test_typos_are_corrected_only_towards_words_of_similar_length():
    assert tokenize("upgarde memroy") == ["upgrade", "memory"]
    assert tokenize("setelah") == ["setelah"]


def test_to_dict_has_the_documented_fields():
    data = classify("ganti harddisk").to_dict()
    assert set(data) >= {"class", "route", "reasons"}
    assert data["class"] == "major" and data["route"] == "consult_lkpp"


def test_unknown_text_asks_for_class():
    with pytest.raises(UsageError, match="--class minor or --class major"):
        decide_class("tolong dicek", None)


def test_administrator_class_wins_and_notes_disagreement():
    change_class, source, reasons = decide_class("ganti harddisk", "minor")
    assert (change_class, source) == ("minor", "administrator")
    assert reasons[1].startswith("the classifier would say major")
