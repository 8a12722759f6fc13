"""Account request core (SOP 004): completeness, timers, batch import, year end, archive."""

from __future__ import annotations

import hashlib
import json
import stat
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lpsectl import access
from lpsectl.config import parse_config
from lpsectl.errors import ConfigError, NotFoundError, UsageError
from lpsectl.store import Store

WIB = ZoneInfo("Asia/Jakarta")
T0 = datetime(2026, 11, 23, 8, 30, tzinfo=WIB)
TODAY = T0.date()
SETTINGS = access.AccessSettings()


@pytest.fixture
def store(tmp_path):
    with Store.open_sqlite(tmp_path / "history.sqlite3") as opened:
        yield opened


@pytest.fixture
def docs(tmp_path):
    folder = tmp_path / "berkas"
    folder.mkdir()
    (folder / "surat.pdf").write_bytes(b"%PDF-1.4 surat permohonan")
    (folder / "sk.pdf").write_bytes(b"%PDF-1.4 surat keputusan")
    return folder


def complete_input(docs: Path, **changes) -> access.RequestInput:
    data = access.RequestInput(
        action="activate",
        role="ppk",
        name="Budi Santoso",
        nip="19850312 201001 1 003",
        rank="Penata / III c",
        position="Kepala Seksi Jalan",
        agency="Dinas Pekerjaan Umum",
        address="Jl. Merdeka No. 1, Contoh",
        phone="0812-3456-7890",
        email="budi@contoh.go.id",
        documents=[
            access.Document("letter", str(docs / "surat.pdf")),
            access.Document("decree", str(docs / "sk.pdf")),
        ],
        decree_date=date(2026, 1, 5),
        received_at=T0,
    )
    return replace(data, **changes)


def as_row(data: access.RequestInput) -> dict:
    """The stored shape the check works on."""
    return {
        **{f: getattr(data, f) for f in access.PERSONAL_FIELDS},
        "documents": [{"kind": d.kind, "path": d.path} for d in data.documents],
        "decree_date": data.decree_date.isoformat() if data.decree_date else None,
        "decree_expires": data.decree_expires.isoformat() if data.decree_expires else None,
    }


def codes(problems):
    return [(p.code, p.field) for p in problems]


# -- completeness -----------------------------------------------------------------------


def test_a_complete_request_has_no_problems(docs):
    assert access.check_completeness(as_row(complete_input(docs)), SETTINGS, TODAY) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"rank": ""}, [("missing_field", "rank")]),
        ({"email": "", "phone": "  "}, [("missing_field", "phone"), ("missing_field", "email")]),
        ({"nip": "198502292010011003"}, [("nip_invalid", "nip")]),
        ({"nip": "199105172022212001"}, []),  # PPPK numbers are accepted
        ({"phone": "12345"}, [("phone_invalid", "phone")]),
        ({"email": "budi@contoh"}, [("email_invalid", "email")]),
        ({"decree_date": None}, [("decree_date_missing", "decree_date")]),
        ({"decree_date": date(2025, 1, 5)}, [("decree_expired", "decree_expires")]),
        ({"decree_expires": date(2026, 11, 22)}, [("decree_expired", "decree_expires")]),
        ({"decree_expires": date(2026, 11, 23)}, []),  # valid through its last day
        ({"decree_date": date(2026, 12, 1)}, [("decree_not_yet_valid", "decree_date")]),
        ({"documents": []}, [("document_missing", "letter"), ("document_missing", "decree")]),
    ],
)
def test_each_rule_reports_exactly_what_is_missing(docs, changes, expected):
    row = as_row(complete_input(docs, **changes))
    assert codes(access.check_completeness(row, SETTINGS, TODAY)) == expected


def test_a_listed_document_whose_file_is_gone_is_reported(docs):
    (docs / "sk.pdf").unlink()
    problems = access.check_completeness(as_row(complete_input(docs)), SETTINGS, TODAY)
    assert codes(problems) == [("document_file_missing", "decree")]
    assert str(docs / "sk.pdf") in problems[0].message("id")
    assert problems[0].message("id").startswith("berkas Surat Tugas / SK")


def test_required_documents_and_decree_validity_come_from_settings(docs):
    settings = access.AccessSettings(
        required_documents=["letter", "decree", "ktp"], decree_validity_days=30
    )
    row = as_row(complete_input(docs, decree_date=date(2026, 10, 1)))
    assert codes(access.check_completeness(row, settings, TODAY)) == [
        ("document_missing", "ktp"),
        ("decree_expired", "decree_expires"),
    ]
    no_decree = access.AccessSettings(required_documents=["letter"])
    row = as_row(
        complete_input(
            docs, documents=[access.Document("letter", str(docs / "surat.pdf"))], decree_date=None
        )
    )
    assert access.check_completeness(row, no_decree, TODAY) == []


def test_problem_messages_in_both_languages(docs):
    row = as_row(complete_input(docs, nip="19850312201001100", rank=""))
    problems = access.check_completeness(row, SETTINGS, TODAY)
    assert [p.message("id") for p in problems] == [
        "pangkat/golongan belum diisi",
        "NIP 19850312201001100 tidak valid: NIP harus 18 digit, bukan 17",
    ]
    assert [p.message("en") for p in problems] == [
        "rank/grade is missing",
        "NIP 19850312201001100 is not valid: NIP must have 18 digits, not 17",
    ]


@pytest.mark.parametrize(
    ("phone", "ok"),
    [
        ("081234567890", True),
        ("0812-3456-7890", True),
        ("+62 812 3456 7890", True),
        ("62812345678", True),
        ("(0274) 512345", True),
        ("021-5551234", True),
        ("0812.3456.789", True),
        ("12345", False),
        ("0812", False),
        ("08123456789012345", False),
        ("+1 555 123 4567", False),
        ("0012345678", False),
        ("0812-abc-7890", False),
        ("", False),
        ("0912345678", False),
    ],
)
def test_indonesian_phone_formats(phone, ok):
    assert access.phone_is_valid(phone) is ok


@pytest.mark.parametrize(
    ("email", "ok"),
    [
        ("budi@contoh.go.id", True),
        ("budi.santoso+lpse@pu.contoh.example", True),
        ("budi@contoh", False),
        ("budi contoh@x.id", False),
        ("@contoh.go.id", False),
        ("budi@@contoh.go.id", False),
        ("budi..s@contoh.go.id", False),
        ("budi", False),
    ],
)
def test_email_formats(email, ok):
    assert access.email_is_valid(email) is ok


# -- recording and the step flow -------------------------------------------------------


def test_record_check_forwards_complete_and_returns_incomplete(store, docs):
    good = access.create_request(store, complete_input(docs), T0)
    bad = access.create_request(store, complete_input(docs, email="x"), T0)
    for request_id in (good, bad):
        request = access.get_request(store, request_id)
        problems = access.check_completeness(request, SETTINGS, TODAY)
        access.record_check(store, request, problems, T0 + timedelta(minutes=3))
    assert access.get_request(store, good)["status"] == "forwarded"
    returned = access.get_request(store, bad)
    assert returned["status"] == "returned"
    assert [p.code for p in access.stored_problems(returned)] == ["email_invalid"]
    with pytest.raises(UsageError, match="already checked"):
        access.record_check(store, access.get_request(store, good), [], T0)


def test_decision_rules(store, docs):
    request_id = access.create_request(store, complete_input(docs), T0)
    with pytest.raises(UsageError, match="access check"):
        access.record_decision(store, access.get_request(store, request_id), "done", "", T0, T0)
    access.record_check(store, access.get_request(store, request_id), [], T0 + timedelta(minutes=2))
    request = access.get_request(store, request_id)
    with pytest.raises(UsageError, match="--reason"):
        access.record_decision(store, request, "rejected", " ", T0, T0 + timedelta(minutes=5))
    with pytest.raises(UsageError, match="before the check"):
        access.record_decision(store, request, "done", "", T0, T0 + timedelta(minutes=5))
    access.record_decision(
        store, request, "done", "", T0 + timedelta(minutes=4), T0 + timedelta(minutes=5)
    )
    decided = access.get_request(store, request_id)
    assert (decided["status"], decided["decided_at"]) == ("done", "2026-11-23T08:34:00+07:00")


def test_unknown_request_is_named(store):
    with pytest.raises(NotFoundError, match="access request 99 does not exist"):
        access.get_request(store, 99)


def test_received_time_in_the_future_is_refused(store, docs):
    with pytest.raises(UsageError, match="in the future"):
        access.create_request(store, complete_input(docs, received_at=T0 + timedelta(hours=1)), T0)


def _timers(request, now):
    return {t.step: t for t in access.step_timers(request, SETTINGS, now)}


def test_timers_follow_each_step_against_the_limits(store, docs):
    request_id = access.create_request(store, complete_input(docs), T0)
    timers = _timers(access.get_request(store, request_id), T0 + timedelta(minutes=12))
    assert (timers["check"].state, timers["check"].elapsed, timers["check"].breach) == (
        "running",
        timedelta(minutes=12),
        True,
    )
    assert timers["action"].state == "waiting" and not timers["action"].breach

    access.record_check(store, access.get_request(store, request_id), [], T0 + timedelta(minutes=9))
    access.record_decision(
        store,
        access.get_request(store, request_id),
        "done",
        "",
        T0 + timedelta(minutes=30),
        T0 + timedelta(minutes=31),
    )
    access.record_notice(
        store, access.get_request(store, request_id), "result", "stdout", T0 + timedelta(minutes=35)
    )
    timers = _timers(access.get_request(store, request_id), T0 + timedelta(minutes=50))
    assert (timers["check"].elapsed, timers["check"].breach) == (timedelta(minutes=9), False)
    assert (timers["action"].elapsed, timers["action"].breach) == (timedelta(minutes=21), True)
    assert (timers["notify"].elapsed, timers["notify"].breach) == (timedelta(minutes=5), False)
    assert (timers["archive"].state, timers["archive"].elapsed, timers["archive"].breach) == (
        "running",
        timedelta(minutes=15),
        True,
    )
    assert access.breaches(timers.values()) == ["action", "archive"]


def test_a_returned_request_has_no_action_step(store, docs):
    request_id = access.create_request(store, complete_input(docs, email=""), T0)
    request = access.get_request(store, request_id)
    access.record_check(
        store,
        request,
        access.check_completeness(request, SETTINGS, TODAY),
        T0 + timedelta(minutes=2),
    )
    timers = _timers(access.get_request(store, request_id), T0 + timedelta(minutes=20))
    assert timers["action"].state == "n/a"
    assert (timers["notify"].state, timers["notify"].elapsed, timers["notify"].breach) == (
        "running",
        timedelta(minutes=18),
        True,
    )


def test_exactly_the_limit_is_not_a_breach(store, docs):
    request_id = access.create_request(store, complete_input(docs), T0)
    assert not _timers(access.get_request(store, request_id), T0 + timedelta(minutes=10))[
        "check"
    ].breach
    assert _timers(access.get_request(store, request_id), T0 + timedelta(minutes=10, seconds=1))[
        "check"
    ].breach


# -- batch import ------------------------------------------------------------------------


def test_csv_batch_imports_good_rows_and_reports_bad_ones_by_line(tmp_path):
    (tmp_path / "sk.pdf").write_bytes(b"sk")
    batch = tmp_path / "permohonan.csv"
    batch.write_text(
        "aksi,peran,nama,nip,telepon,email,sk,tanggal_sk,diterima\n"
        "aktivasi,PPK,Budi Santoso,198503122010011003,081234567890,budi@contoh.go.id,sk.pdf,05-01-2026,"
        "2026-11-23 08:00\n"
        "pindah,ppk,Ani,198503122010012003,,,,,\n"
        "nonaktifkan,pokja,,198503122010011004,,,,,\n"
        "\n"
        "deactivate,pejabat pengadaan,Sri Wahyuni,199105172022212001,,,,31/02/2026,\n"
        "deactivate,Pokja ULP,Dewi,,,,,,\n",
        encoding="utf-8",
    )
    rows, errors = access.parse_batch(batch, WIB)
    assert [(r.line, r.request.name, r.request.action, r.request.role) for r in rows] == [
        (2, "Budi Santoso", "activate", "ppk"),
        (7, "Dewi", "deactivate", "pokja"),
    ]
    assert [(e.line, e.message) for e in errors] == [
        (3, "action 'pindah' is not one of: activate, deactivate"),
        (4, "column 'name' is empty"),
        (6, "date '31/02/2026' is not YYYY-MM-DD or DD-MM-YYYY"),
    ]
    budi = rows[0].request
    assert budi.documents == [access.Document("decree", str(tmp_path / "sk.pdf"))]
    assert budi.decree_date == date(2026, 1, 5)
    assert budi.received_at == datetime(2026, 11, 23, 8, 0, tzinfo=WIB)


def test_json_lines_batch_reports_lines_and_array_reports_items(tmp_path):
    lines = tmp_path / "batch.jsonl"
    lines.write_text(
        '{"action": "activate", "role": "ppk", "name": "Budi"}\n'
        "not json\n"
        '{"action": "activate", "role": "auditor", "name": "Ani"}\n'
        '["a list"]\n',
        encoding="utf-8",
    )
    rows, errors = access.parse_batch(lines, WIB)
    assert [r.line for r in rows] == [1]
    assert [(e.line, e.message.split(":")[0]) for e in errors] == [
        (2, "invalid JSON"),
        (3, "role 'auditor' is not one of"),
        (4, "entry is not an object"),
    ]

    array = tmp_path / "batch.json"
    array.write_text(
        json.dumps(
            [
                {"action": "activate", "role": "ppk", "name": "Budi"},
                {"action": "activate", "role": "ppk", "nama": ""},
            ]
        ),
        encoding="utf-8",
    )
    rows, errors = access.parse_batch(array, WIB)
    assert [r.line for r in rows] == [1] and [(e.line, e.message) for e in errors] == [
        (2, "column 'name' is empty")
    ]


def test_batch_with_an_unknown_column_is_refused_naming_it(tmp_path):
    batch = tmp_path / "b.csv"
    batch.write_text("action,role,name,hobby\nactivate,ppk,Budi,golf\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"b.csv:1: unknown column 'hobby'"):
        access.parse_batch(batch, WIB)


# -- year end --------------------------------------------------------------------------------


def _carried_out(store, data, at):
    request_id = access.create_request(store, replace(data, received_at=at), at)
    access.record_check(store, access.get_request(store, request_id), [], at)
    access.record_decision(store, access.get_request(store, request_id), "done", "", at, at)
    return request_id


def test_year_end_lists_active_ppk_from_register_and_export(store, docs, tmp_path):
    budi = _carried_out(store, complete_input(docs), T0 - timedelta(days=300))
    _carried_out(
        store,
        complete_input(docs, name="Ani Pokja", nip="198702142012012001", role="pokja"),
        T0 - timedelta(days=200),
    )
    gone = complete_input(docs, name="Joko", nip="197001012000031001")
    _carried_out(store, gone, T0 - timedelta(days=250))
    _carried_out(store, replace(gone, action="deactivate"), T0 - timedelta(days=100))
    _carried_out(
        store, complete_input(docs, name="Gita", nip="199002022015032004"), T0 - timedelta(days=90)
    )
    export = tmp_path / "akun.csv"
    export.write_text(
        "NIP,Nama,Peran,Email,Instansi,Status\n"
        "19850312 201001 1 003,Budi Santoso,PPK,budi@contoh.go.id,Dinas Pekerjaan Umum,aktif\n"
        "198811112015032002,Citra Lestari,PPK,citra@contoh.go.id,Dinas Kesehatan,aktif\n"
        "198811112015031003,Dodi,PPK,dodi@contoh.go.id,Dinas Kesehatan,nonaktif\n"
        "198811112015031004,Eka,Auditor,eka@contoh.go.id,Inspektorat,aktif\n"
        "198811112015031005,Fajar,Pokja,fajar@contoh.go.id,Setda,aktif\n"
        "199002022015032004,Gita,PPK,gita@contoh.go.id,Setda,Nonaktif\n"
        ",Hadi Tanpa NIP,PPK,hadi@contoh.go.id,Setda,aktif\n",
        encoding="utf-8",
    )
    found = access.year_end_candidates(store, 2026, SETTINGS, access.read_accounts_csv(export))
    # Gita is active in the register but SPSE says her account is already inactive
    assert [(a.name, a.nip, a.sources) for a in found] == [
        ("Citra Lestari", "198811112015032002", ["accounts"]),
        ("Budi Santoso", "198503122010011003", ["register", "accounts"]),
        ("Hadi Tanpa NIP", "", ["accounts"]),
    ]
    assert found[1].request_id == budi and found[1].decree_end == date(2027, 1, 5)
    found = found[:2]

    first = access.record_year_end(store, 2026, found, T0)
    assert [created for _, _, created in first] == [True, True]
    again = access.record_year_end(store, 2026, found, T0 + timedelta(days=1))
    assert [(rid, created) for _, rid, created in again] == [(rid, False) for _, rid, _ in first]
    request = access.get_request(store, first[1][1])
    assert (request["action"], request["status"], request["source"]) == (
        "deactivate",
        "forwarded",
        "year-end:2026",
    )
    # once the Admin Agency deactivates Budi, the register no longer lists him
    # (Gita stays: without the export, the register is all that is known)
    access.record_decision(
        store, request, "done", "", T0 + timedelta(days=2), T0 + timedelta(days=2)
    )
    assert [a.name for a in access.year_end_candidates(store, 2026, SETTINGS)] == ["Gita"]


def test_account_export_without_a_nip_column_is_refused(tmp_path):
    export = tmp_path / "akun.csv"
    export.write_text("Nama,Peran\nBudi,PPK\n", encoding="utf-8")
    with pytest.raises(UsageError, match="akun.csv: the account export has no 'nip' column"):
        access.read_accounts_csv(export)


# -- archive and files --------------------------------------------------------------------


def test_archive_records_and_copies_without_deleting(store, docs, tmp_path):
    request_id = access.create_request(store, complete_input(docs), T0)
    with pytest.raises(UsageError, match="still received"):
        access.archive_request(store, access.get_request(store, request_id), tmp_path / "a", T0)
    _carry_out_existing(store, request_id)
    folder = access.archive_request(
        store,
        access.get_request(store, request_id),
        tmp_path / "arsip",
        T0 + timedelta(minutes=20),
        copy_to=tmp_path / "salinan",
    )
    assert folder == tmp_path / "salinan" / f"request-{request_id}"
    assert sorted(p.name for p in folder.iterdir()) == [
        "decree-sk.pdf",
        "letter-surat.pdf",
        "record.json",
    ]
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert (docs / "surat.pdf").exists() and (docs / "sk.pdf").exists()  # nothing deleted
    record = json.loads((folder / "record.json").read_text())
    assert record["name"] == "Budi Santoso" and [e["step"] for e in record["events"]] == [
        "received",
        "check",
        "decide",
    ]
    stored = access.get_request(store, request_id)
    assert stored["archived_at"] == "2026-11-23T08:50:00+07:00"
    assert (
        stored["archive_manifest"][0]["sha256"]
        == hashlib.sha256(b"%PDF-1.4 surat permohonan").hexdigest()
    )
    with pytest.raises(UsageError, match="already archived"):
        access.archive_request(store, stored, tmp_path / "arsip", T0)


def test_archive_notes_a_document_that_disappeared(store, docs, tmp_path):
    request_id = access.create_request(store, complete_input(docs), T0)
    _carry_out_existing(store, request_id)
    (docs / "sk.pdf").unlink()
    folder = access.archive_request(
        store, access.get_request(store, request_id), tmp_path / "arsip", T0
    )
    assert folder == tmp_path / "arsip" / f"request-{request_id}"
    manifest = access.get_request(store, request_id)["archive_manifest"]
    assert [(m["kind"], m["present"]) for m in manifest] == [("letter", True), ("decree", False)]
    assert sorted(p.name for p in folder.iterdir()) == ["record.json"]


def _carry_out_existing(store, request_id):
    access.record_check(store, access.get_request(store, request_id), [], T0 + timedelta(minutes=1))
    access.record_decision(
        store,
        access.get_request(store, request_id),
        "done",
        "",
        T0 + timedelta(minutes=2),
        T0 + timedelta(minutes=2),
    )


def test_private_files_are_0600_and_never_overwritten(tmp_path):
    path = access.write_private(tmp_path / "n" / "notice.txt", "isi")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == "isi\n"
    assert access.unused_path(path) == tmp_path / "n" / "notice-2.txt"
    assert path.stat().st_mode & 0o077 == 0


def test_listing_view_masks_personal_data(docs):
    row = {
        **as_row(complete_input(docs)),
        "nip": "198503122010011003",
        "phone": "+62 812-3456-7890",
    }
    masked = access.view(row)
    assert masked["nip"] == "1985**********1003"
    assert masked["phone"] == "0812*****890"
    assert masked["email"] == "b***@contoh.go.id"
    assert masked["address"] == "***"
    assert access.view(row, full=True)["nip"] == "198503122010011003"


def test_settings_are_validated_with_the_key_named():
    config = parse_config({"access": {"check_minutes": 0}}, "lpsectl.toml")
    with pytest.raises(ConfigError, match="access.check_minutes must be positive"):
        access.load_settings(config)
    config = parse_config({"access": {"year_end_roles": ["ppk", "kepala"]}}, "lpsectl.toml")
    with pytest.raises(ConfigError, match="access.year_end_roles: unknown role 'kepala'"):
        access.load_settings(config)
    config = parse_config(
        {"access": {"required_documents": ["letter"], "archive_minutes": 30}}, "x"
    )
    assert access.load_settings(config).limit("archive") == timedelta(minutes=30)


# -- the same flow on a real PostgreSQL history database ---------------------------------


def test_flow_on_postgresql(pg_cluster_factory, docs):
    cluster = pg_cluster_factory(preload=False, workload=False, dbname="lpsectl_access")
    url = f"postgresql://postgres@{cluster.host}:{cluster.port}/{cluster.dbname}"
    with Store.open_url(url) as pg:
        request_id = access.create_request(pg, complete_input(docs), T0)
        request = access.get_request(pg, request_id)
        access.record_check(
            pg,
            request,
            access.check_completeness(request, SETTINGS, TODAY),
            T0 + timedelta(minutes=1),
        )
        access.record_decision(
            pg,
            access.get_request(pg, request_id),
            "done",
            "",
            T0 + timedelta(minutes=3),
            T0 + timedelta(minutes=3),
        )
        found = access.year_end_candidates(pg, 2026, SETTINGS)
        assert [a.nip for a in found] == ["198503122010011003"]
        assert [e["step"] for e in access.events(pg, request_id)] == ["received", "check", "decide"]


# -- issue 15 -------------------------------------------------------------------------------


def _year_end_request(listed: datetime) -> dict:
    stamp = listed.isoformat()
    return {
        "status": access.FORWARDED,
        "source": "year-end:2026",
        "received_at": stamp,
        "checked_at": stamp,
        "decided_at": None,
        "notified_at": None,
        "archived_at": None,
    }


def test_a_year_end_deactivation_is_due_at_the_end_of_the_year_not_when_listed():
    wib = ZoneInfo("Asia/Jakarta")
    listed = datetime(2026, 12, 1, 9, 0, tzinfo=wib)
    settings = access.AccessSettings()
    request = _year_end_request(listed)

    def action(req: dict, now: datetime):
        return {t.step: t for t in access.step_timers(req, settings, now)}["action"]

    # all December, the 31st included: scheduled, never a breach (no cron alert for a month)
    for now in (listed + timedelta(minutes=11), datetime(2026, 12, 31, 23, 59, tzinfo=wib)):
        timer = action(request, now)
        assert (timer.state, timer.breach) == ("scheduled", False)
        assert timer.start == datetime(2027, 1, 1, tzinfo=wib)
    # not done when the year ends: the ten minutes run from 00.00 on 1 January
    timer = action(request, datetime(2027, 1, 1, 0, 11, tzinfo=wib))
    assert timer.state == "running" and timer.breach and timer.elapsed == timedelta(minutes=11)
    # done on the 31st at 09.00 (a working day): in time, never a negative time
    done = {**request, "decided_at": datetime(2026, 12, 31, 9, 0, tzinfo=wib).isoformat()}
    timer = action(done, datetime(2027, 1, 2, tzinfo=wib))
    assert (timer.state, timer.breach, timer.elapsed) == ("done", False, timedelta(0))
    # an ordinary request is timed from its check, as before
    ordinary = {**request, "source": "manual"}
    timer = action(ordinary, listed + timedelta(minutes=11))
    assert timer.breach and timer.elapsed == timedelta(minutes=11)


def test_the_monthly_compliance_table_counts_each_step_of_each_request(store, docs, tmp_path):
    """Two requests of November: one in time at every step, one 21 minutes at the action
    (11 past the 10) and still not archived 15 minutes after notifying (5 past); a
    December request is not counted. The rows equal a hand count of those timers."""
    from lpsectl.compliance import compliance_section

    config = parse_config({"lpse": {"data_dir": str(tmp_path)}}, "lpsectl.toml")
    fast = access.create_request(store, complete_input(docs), T0)
    access.record_check(store, access.get_request(store, fast), [], T0 + timedelta(minutes=5))
    access.record_decision(
        store,
        access.get_request(store, fast),
        "done",
        "",
        T0 + timedelta(minutes=9),
        T0 + timedelta(minutes=9),
    )
    access.record_notice(
        store, access.get_request(store, fast), "result", "stdout", T0 + timedelta(minutes=12)
    )
    access.archive_request(
        store, access.get_request(store, fast), tmp_path / "arsip", T0 + timedelta(minutes=14)
    )
    slow_start = T0 + timedelta(hours=2)
    slow = access.create_request(store, complete_input(docs, received_at=slow_start), slow_start)
    access.record_check(
        store, access.get_request(store, slow), [], slow_start + timedelta(minutes=9)
    )
    access.record_decision(
        store,
        access.get_request(store, slow),
        "done",
        "",
        slow_start + timedelta(minutes=30),
        slow_start + timedelta(minutes=31),
    )
    access.record_notice(
        store,
        access.get_request(store, slow),
        "result",
        "stdout",
        slow_start + timedelta(minutes=35),
    )
    december = datetime(2026, 12, 2, 9, 0, tzinfo=WIB)
    access.create_request(store, complete_input(docs, received_at=december), december)

    now = slow_start + timedelta(minutes=50)
    section = compliance_section(
        store,
        config,
        datetime(2026, 11, 1, tzinfo=WIB),
        datetime(2026, 12, 1, tzinfo=WIB),
        now,
        None,
        "en",
    )
    rows = {r["step"]: r for r in section["rows"]}
    counts = {
        step: (
            rows[f"004-{step}"]["assessed"],
            rows[f"004-{step}"]["met"],
            rows[f"004-{step}"]["breached"],
        )
        for step in access.STEPS
    }
    assert counts == {
        "check": (2, 2, 0),
        "action": (2, 1, 1),
        "notify": (2, 2, 0),
        "archive": (2, 1, 1),  # the slow one is still running, already past its 10 minutes
    }
    assert rows["004-action"]["worst_minutes"] == 11
    assert rows["004-action"]["worst"] == f"11 minutes late (#{slow})"
    assert rows["004-archive"]["worst_minutes"] == 5
