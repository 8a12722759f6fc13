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


#: two clauses, or a title with its plan (joined by a line, as `change new` joins them):
#: each clause is judged alone, so words never pair across a sentence (issue 15)
CLAUSE_CASES = [
    (
        "Ubah konfigurasi timeout nginx di web server\n\npasang konfigurasi baru lalu reload nginx",
        "minor",
    ),
    ("Naikkan heap Java di server aplikasi. Ganti nilai -Xmx dari 2g ke 4g", "minor"),
    ("Aktifkan kompresi gzip di nginx server. Tambah baris gzip_types di konfigurasi", "minor"),
    ("Perbarui sertifikat SSL server. Ganti file sertifikat dan kunci", "minor"),
    ("Tambah swap file 4GB di server database", "minor"),
    ("Memperbarui sertifikat SSL di web server", "minor"),
    (
        "Increase the proxy timeout on the web server. Install the new configuration and reload",
        "minor",
    ),
    ("Enable gzip compression on the nginx server. Add a gzip_types line", "minor"),
    ("Renew the SSL certificate of the server. Replace the certificate file", "minor"),
    (
        "Ubah log_min_duration_statement di server database\n\nganti nilai lalu reload postgresql",
        "minor",
    ),
    ("Set work_mem ke 16MB di server database. Tambah baris di postgresql.conf", "minor"),
    ("Atur ulang jadwal vacuum di server database. Pasang crontab baru", "minor"),
    ("Restart layanan SPSE di server aplikasi. Tambah catatan di log", "minor"),
    (
        "Naikkan max_connections di server database\n\nganti konfigurasi, restart postgresql",
        "minor",
    ),
    ("Aktifkan logrotate untuk log nginx. Pasang file konfigurasi baru", "minor"),
    ("Add a swap file on the database server", "minor"),
    ("Ubah timezone server ke Asia/Jakarta. Restart layanan", "minor"),
    ("Tune shared_buffers on the db server. Replace the value in postgresql.conf", "minor"),
    ("Tambah RAM server database. Ubah shared_buffers setelahnya", "major"),
    ("Ganti harddisk yang rusak di server database. Salin data dari backup", "major"),
    ("Replace the failed power supply of the database server", "major"),
    ("Penggantian catu daya server aplikasi. Uji ulang layanan", "major"),
    ("Add a new SSD to the db server. Move the WAL there and set wal_buffers", "major"),
    ("Upgrade PostgreSQL 13 ke 15 di server database. Ubah konfigurasi setelahnya", "major"),
    ("Upgrade server ke Ubuntu 22.04. Pasang paket yang dibutuhkan", "major"),
    ("Tambah index pada tabel jadwal\n\nbuat index dengan CREATE INDEX CONCURRENTLY", "major"),
    # a hard-wrapped line is one clause; a server upgraded to a new specification is hardware
    ("Kami akan mengganti\ndisk server yang rusak", "major"),
    ("Upgrade\nPostgreSQL 15 ke 16", "major"),
    ("Upgrade server aplikasi ke spesifikasi 8 vCPU 32 GB", "major"),
    ("Pengadaan server baru untuk SPSE. Pasang sistem operasi", "major"),
    ("Ganti switch jaringan di ruang server. Atur ulang VLAN", "major"),
    ("Upgrade the CPU of the application server. Tune the JVM heap afterwards", "major"),
    ("Perbaiki bug pada modul tender. Ubah konfigurasi aplikasi", "major"),
    ("Tambah disk 500GB untuk arsip. Atur mount point", "major"),
    ("Upgrade SPSE ke versi 4.5. Restart layanan", "major"),
]


#: found by a break-test session: a device word next to "server" in a settings change, a
#: patch release, SPSE's own config, a Java upgrade, a RAID controller
CLAUSE_CASES += [
    ("Ganti port SSH server menjadi 2222. Perbarui firewall.", "minor"),
    ("Tambah user baru di server aplikasi. Berikan akses sudo.", "minor"),
    ("Upgrade paket openssl di server. Restart nginx.", "minor"),
    ("Ganti DNS resolver server ke 8.8.8.8. Restart systemd-resolved.", "minor"),
    ("Pasang monitoring node_exporter di server database. Buka port 9100.", "minor"),
    ("Ganti nama host server. Perbarui /etc/hosts.", "minor"),
    ("Ganti IP server aplikasi. Perbarui konfigurasi nginx.", "minor"),
    ("Increase the disk quota for the backup user. Reload quotas.", "minor"),
    ("Perbarui PostgreSQL ke rilis perbaikan 15.8. Restart.", "minor"),
    ("Update SPSE config application.conf timeout. Restart SPSE.", "minor"),
    ("Free up disk space on the database server. Delete old WAL archives.", "minor"),
    ("Upgrade Java 8 ke Java 11 untuk SPSE. Uji di staging.", "major"),
    ("Install a new RAID controller. Rebuild the array.", "major"),
]


def test_the_clause_table_is_large_and_bilingual():
    assert len(CLAUSE_CASES) >= 30
    assert {want for _, want in CLAUSE_CASES} == {"minor", "major"}


@pytest.mark.parametrize("text, expected", CLAUSE_CASES, ids=[t[:40] for t, _ in CLAUSE_CASES])
def test_each_clause_is_judged_alone(text, expected):
    result = classify(text)
    assert result.change_class == expected, result.reasons


def test_an_os_upgrade_says_so_not_server_hardware():
    result = classify("Upgrade server ke Ubuntu 22.04")
    assert result.change_class == "major"
    assert all("server hardware" not in reason for reason in result.reasons)
    assert "operating system version upgrade" in result.reasons[0]


def test_clauses_split_at_sentences_and_lines_not_inside_names_or_numbers():
    from lpsectl.analysis.classify import clauses

    assert clauses("Ubah postgresql.conf ke 15.4. Lalu reload\n\nrencana: uji") == [
        "Ubah postgresql.conf ke 15.4",
        " Lalu reload",
        "rencana: uji",
    ]
    assert len(clauses("Kami akan mengganti\ndisk server")) == 1  # a wrapped line


def test_a_server_moved_to_new_hardware_with_its_database_says_both():
    result = classify("Upgrade server DB (PostgreSQL) ke mesin baru")
    assert result.change_class == "major"
    assert any("server hardware" in r for r in result.reasons)
