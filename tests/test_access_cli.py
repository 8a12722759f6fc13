"""`lpsectl access ...` end to end: real SQLite store, real files, real SMTP, frozen clock."""

from __future__ import annotations

import json
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time

from tests.fixtures.common import run_cli

GOLDEN = Path(__file__).parent / "golden"
DATA = Path(__file__).parent / "data" / "access"
START = "2026-11-23 01:30:00"  # Monday 08.30 WIB


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("LPSECTL_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.fixture
def env(tmp_path):
    """A config, a data dir and the scanned documents of one applicant."""
    berkas = tmp_path / "berkas"
    berkas.mkdir()
    (berkas / "surat.pdf").write_bytes(b"%PDF-1.4 surat")
    (berkas / "sk.pdf").write_bytes(b"%PDF-1.4 sk")
    config = tmp_path / "lpsectl.toml"
    config.write_text(
        f'[lpse]\nname = "LPSE Kabupaten Contoh"\ndata_dir = "{tmp_path / "data"}"\n',
        encoding="utf-8",
    )
    return {"config": str(config), "berkas": berkas, "data": tmp_path / "data", "tmp": tmp_path}


def cli(env, *args, input=None):
    return run_cli("--config", env["config"], *args, input=input)


def new_budi(env, *extra):
    b = env["berkas"]
    result = cli(
        env,
        "access",
        "new",
        "--activate",
        "--role",
        "ppk",
        "--name",
        "Budi Santoso",
        "--nip",
        "19850312 201001 1 003",
        "--rank",
        "Penata / III c",
        "--position",
        "Kepala Seksi Jalan",
        "--agency",
        "Dinas Pekerjaan Umum",
        "--address",
        "Jl. Merdeka No. 1",
        "--phone",
        "0812-3456-7890",
        "--email",
        "budi@contoh.go.id",
        "--letter",
        str(b / "surat.pdf"),
        "--decree",
        str(b / "sk.pdf"),
        "--decree-date",
        "05-01-2026",
        "--via",
        "email",
        "--format",
        "json",
        *extra,
    )
    assert result.exit_code == 0, result.stderr
    return result.json()


def new_incomplete(env, *extra):
    result = cli(
        env,
        "access",
        "new",
        "--deactivate",
        "--role",
        "pokja",
        "--name",
        "Sri Wahyuni",
        "--nip",
        "198502292010012003",
        "--phone",
        "12345",
        "--email",
        "sri@contoh",
        "--agency",
        "Dinas Kesehatan",
        "--decree",
        "/srv/berkas/tidak-ada.pdf",
        "--format",
        "json",
        *extra,
    )
    assert result.exit_code == 0, result.stderr
    return result.json()["id"]


def notices(env) -> Path:
    return env["data"] / "access" / "notices"


@freeze_time(START)
def test_new_records_and_acknowledges(env):
    created = new_budi(env)
    assert created["status"] == "received"
    assert created["received_at"] == "2026-11-23T08:30:00+07:00"
    ack = Path(created["acknowledgement"])
    assert ack == notices(env) / "request-1-ack.txt"
    assert stat.S_IMODE(ack.stat().st_mode) == 0o600
    golden("access_ack.id.txt", ack.read_text(encoding="utf-8"))


@freeze_time(START)
def test_new_requires_action_role_and_name_without_a_terminal(env):
    result = cli(env, "access", "new", "--role", "ppk", "--name", "Budi")
    assert result.exit_code == 2
    assert "--activate/--deactivate is required" in result.stderr


@freeze_time(START)
def test_new_interactive_prompts_for_what_is_missing(env):
    answers = (
        "\n".join(
            [
                "activate",
                "pokja",
                "Ani Lestari",
                "199105172022212001",
                "Penata Muda / III a",
                "Staf",
                "Dinas Kesehatan",
                "Jl. Sehat 2",
                "+62 811 2233 4455",
                "ani@contoh.go.id",
                str(env["berkas"] / "surat.pdf"),
                str(env["berkas"] / "sk.pdf"),
                "2026-02-01",
                "",
            ]
        )
        + "\n"
    )
    result = cli(env, "access", "new", "-i", "--no-ack", "--format", "json", input=answers)
    assert result.exit_code == 0, result.stdout + result.stderr
    shown = cli(
        env, "access", "show", str(result.json()["id"]), "--full", "--format", "json"
    ).json()
    assert (shown["action"], shown["role"], shown["name"], shown["nip"], shown["phone"]) == (
        "activate",
        "pokja",
        "Ani Lestari",
        "199105172022212001",
        "+62 811 2233 4455",
    )
    assert [d["kind"] for d in shown["documents"]] == ["letter", "decree"]
    assert shown["decree_date"] == "2026-02-01" and shown["decree_expires"] is None
    assert (shown["nip_valid"], shown["nip_kind"]) == (True, "pppk")
    assert not notices(env).exists()  # --no-ack
    checked = cli(env, "access", "check", str(result.json()["id"]), "--format", "json").json()
    assert checked["complete"] is True, checked["problems"]


@pytest.mark.parametrize("lang", ["id", "en"])
@freeze_time(START)
def test_check_returns_an_incomplete_request_with_what_is_missing(env, lang):
    request_id = new_incomplete(env)
    result = cli(env, "--lang", lang, "access", "check", str(request_id), "--format", "json")
    assert result.exit_code == 0, result.stderr
    body = result.json()
    assert (body["status"], body["complete"]) == ("returned", False)
    assert [p["code"] for p in body["problems"]] == [
        "missing_field",
        "missing_field",
        "missing_field",
        "nip_invalid",
        "phone_invalid",
        "email_invalid",
        "document_missing",
        "document_file_missing",
        "decree_date_missing",
    ]
    notice = Path(body["notice"])
    assert notice.name == "request-1-return.txt" and stat.S_IMODE(notice.stat().st_mode) == 0o600
    golden(f"access_return.{lang}.txt", notice.read_text(encoding="utf-8"))


@freeze_time(START)
def test_check_to_stdout_and_a_second_check_keeps_the_first_notice(env):
    request_id = str(new_incomplete(env, "--no-ack"))
    first = cli(env, "access", "check", request_id, "--notice", "-")
    assert first.stdout.startswith(
        "Perihal: Pengembalian permohonan penonaktifan akun SPSE (nomor 1)"
    )
    second = cli(env, "access", "check", request_id)
    assert "incomplete and was returned" in second.stdout
    # the birth date is personal data, as the NIP holding it (issue 15): masked too
    assert (
        "  - NIP 1985**********2003 is not valid: birth date ******** (digits 1-8)" in second.stdout
    )
    assert "19850229" not in second.stdout
    assert "198502292010012003" not in second.stdout and "12345 " not in second.stdout
    listed = cli(env, "access", "list", "--format", "json").json()
    assert "198502292010012003" not in json.dumps(listed)
    full = cli(env, "access", "show", request_id, "--full").stdout
    assert "  - NIP 198502292010012003 is not valid" in full
    assert sorted(p.name for p in notices(env).iterdir()) == ["request-1-return.txt"]
    third = cli(env, "access", "check", request_id)
    assert third.exit_code == 0
    assert sorted(p.name for p in notices(env).iterdir()) == [
        "request-1-return-2.txt",
        "request-1-return.txt",
    ]


def test_full_flow_with_timers_and_result_notice(env):
    with freeze_time(START) as clock:
        request_id = str(new_budi(env)["id"])
        clock.tick(timedelta(minutes=4))
        checked = cli(env, "access", "check", request_id, "--format", "json").json()
        assert (checked["status"], checked["notice"]) == ("forwarded", None)
        clock.tick(timedelta(minutes=13))  # the Admin Agency is slow: 13 > 10 minutes
        listed = cli(env, "access", "list", "--format", "json").json()
        assert listed[0]["timers"]["action"] == {
            "state": "running",
            "start": "2026-11-23T08:34:00+07:00",
            "end": None,
            "elapsed_seconds": 780.0,
            "limit_seconds": 600.0,
            "breach": True,
        }
        assert listed[0]["breaches"] == ["action"]
        assert cli(env, "access", "list", "--fail-on-breach").exit_code == 1
        decided = cli(
            env,
            "access",
            "decide",
            request_id,
            "--done",
            "--at",
            "2026-11-23 08:45",
            "--format",
            "json",
        ).json()
        assert decided["decided_at"] == "2026-11-23T08:45:00+07:00"
        golden("access_result.id.txt", Path(decided["notice"]).read_text(encoding="utf-8"))
        clock.tick(timedelta(minutes=3))
        archived = cli(env, "access", "archive", request_id, "--format", "json").json()
        assert Path(archived["path"]) == env["data"] / "access" / "archive" / "request-1"
        shown = cli(env, "access", "show", request_id, "--format", "json").json()
    timers = shown["timers"]
    assert [(s, timers[s]["elapsed_seconds"], timers[s]["breach"]) for s in timers] == [
        ("check", 240.0, False),
        ("action", 660.0, True),
        ("notify", 120.0, False),
        ("archive", 180.0, False),
    ]
    assert [e["step"] for e in shown["events"]] == [
        "received",
        "notice",
        "check",
        "decide",
        "notice",
        "archive",
    ]
    # archived requests leave the default list but stay in --all
    assert cli(env, "access", "list", "--format", "json").json() == []
    assert [r["id"] for r in cli(env, "access", "list", "--all", "--format", "json").json()] == [1]


@freeze_time(START)
def test_rejection_needs_a_reason_and_tells_it(env):
    request_id = str(new_budi(env, "--no-ack")["id"])
    cli(env, "access", "check", request_id)
    refused = cli(env, "access", "decide", request_id, "--rejected")
    assert refused.exit_code == 2 and "a rejection needs --reason" in refused.stderr
    nothing = cli(env, "access", "decide", request_id)
    assert nothing.exit_code == 2 and "--done or --rejected" in nothing.stderr
    result = cli(
        env,
        "--lang",
        "en",
        "access",
        "decide",
        request_id,
        "--rejected",
        "--reason",
        "no SPSE account has this NIP",
        "--notice",
        "-",
    )
    assert result.exit_code == 0
    golden("access_result_rejected.en.txt", result.stdout)


@freeze_time(START)
def test_listing_masks_personal_data_unless_full(env):
    new_budi(env, "--no-ack")
    table = cli(env, "access", "list").stdout
    assert "1985**********1003" in table and "198503122010011003" not in table
    rows = cli(env, "access", "list", "--format", "json").json()
    assert (rows[0]["nip"], rows[0]["phone"], rows[0]["email"]) == (
        "1985**********1003",
        "0812*****890",
        "b***@contoh.go.id",
    )
    full = cli(env, "access", "list", "--full", "--format", "json").json()
    assert (full[0]["nip"], full[0]["phone"]) == ("198503122010011003", "0812-3456-7890")
    shown = cli(env, "access", "show", "1").stdout
    assert "0812-3456-7890" not in shown and "Jl. Merdeka" not in shown


@freeze_time(START)
def test_history_file_with_personal_data_is_made_private_again(env):
    new_budi(env, "--no-ack")
    history = env["data"] / "history.sqlite3"
    history.chmod(0o644)  # e.g. restored from a backup
    assert cli(env, "access", "list").exit_code == 0
    assert history.stat().st_mode & 0o777 == 0o600


@freeze_time(START)
def test_unknown_request_is_a_usage_error(env):
    result = cli(env, "access", "check", "42")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "lpsectl: access request 42 does not exist (see `lpsectl access list`)"
    )


@freeze_time(START)
def test_batch_import_reports_bad_rows_by_line(env):
    batch = env["tmp"] / "permohonan.csv"
    batch.write_text((DATA / "permohonan.csv").read_text(encoding="utf-8"), encoding="utf-8")
    (env["tmp"] / "scan").mkdir()
    result = cli(env, "access", "new", "--batch", str(batch), "--format", "json")
    assert result.exit_code == 3
    body = result.json()
    assert [(r["line"], r["id"]) for r in body["imported"]] == [(2, 1), (3, 2), (6, 3)]
    assert [(e["line"], e["message"]) for e in body["errors"]] == [
        (4, "role 'kepala dinas' is not one of: ppk, pokja, pejabat-pengadaan"),
        (5, "column 'name' is empty"),
        (7, "time '23-11-2026 pagi' is not YYYY-MM-DD HH:MM (ISO 8601)"),
    ]
    assert "3 row(s) of" in result.stderr
    listed = cli(env, "access", "list", "--format", "json").json()
    assert [r["name"] for r in listed] == ["Rina Marlina", "Agus Salim", "Budi Santoso"]
    assert listed[0]["documents"][0]["path"] == str(env["tmp"] / "scan" / "rina-surat.pdf")


@freeze_time(START)
def test_year_end_lists_records_and_notifies(env):
    request_id = str(new_budi(env, "--no-ack")["id"])
    cli(env, "access", "check", request_id)
    cli(env, "access", "decide", request_id, "--done")
    accounts = DATA / "akun-spse.csv"
    preview = cli(
        env, "access", "year-end", "--year", "2026", "--accounts", str(accounts), "--format", "json"
    ).json()
    assert [(a["name"], a["sources"], a["request"]) for a in preview["accounts"]] == [
        ("Citra Lestari", ["accounts"], None),
        ("Budi Santoso", ["register", "accounts"], None),
    ]
    assert not (notices(env) / "year-end-2026").exists()

    md = cli(
        env,
        "access",
        "year-end",
        "--year",
        "2026",
        "--accounts",
        str(accounts),
        "--record",
        "--format",
        "md",
    )
    assert md.exit_code == 0, md.stderr
    golden("access_year_end.id.md", md.stdout)
    notice_files = sorted((notices(env) / "year-end-2026").iterdir())
    assert [p.name for p in notice_files] == ["request-2-year-end.txt", "request-3-year-end.txt"]
    golden("access_year_end_notice.id.txt", notice_files[1].read_text(encoding="utf-8"))
    again = cli(
        env,
        "access",
        "year-end",
        "--year",
        "2026",
        "--accounts",
        str(accounts),
        "--record",
        "--format",
        "json",
    ).json()
    assert [(a["request"], a["notice"]) for a in again["accounts"]] == [(2, None), (3, None)]
    forwarded = cli(env, "access", "list", "--status", "forwarded", "--format", "json").json()
    assert [(r["id"], r["action"], r["source"]) for r in forwarded] == [
        (2, "deactivate", "year-end:2026"),
        (3, "deactivate", "year-end:2026"),
    ]
    done = cli(env, "access", "decide", "3", "--done", "--notice", "-")
    assert "Sesuai pemberitahuan penonaktifan akun akhir tahun anggaran 2026,\n" in done.stdout
    assert (
        "telah dinonaktifkan\noleh Admin Agency pada Senin, 23 November 2026 pukul 08.30 WIB."
        in done.stdout
    )
    after = cli(env, "access", "year-end", "--year", "2026", "--format", "json").json()
    assert [a["name"] for a in after["accounts"]] == []  # Budi's deactivation is done


@freeze_time(START)
def test_year_end_html_is_escaped(env, tmp_path):
    export = tmp_path / "akun.csv"
    export.write_text(
        "nip,nama,peran,instansi\n198811112015032002,<b>Citra</b>,PPK,Dinas & Badan\n",
        encoding="utf-8",
    )
    out = tmp_path / "daftar.html"
    result = cli(
        env,
        "--lang",
        "en",
        "access",
        "year-end",
        "--year",
        "2026",
        "--accounts",
        str(export),
        "--format",
        "html",
        "--output",
        str(out),
        "--full",
    )
    assert result.exit_code == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    assert "&lt;b&gt;Citra&lt;/b&gt;" in html and "Dinas &amp; Badan" in html
    assert "198811112015032002" in html and '<html lang="en">' in html


@freeze_time(START)
def test_archive_copies_documents(env, tmp_path):
    request_id = str(new_budi(env, "--no-ack")["id"])
    early = cli(env, "access", "archive", request_id)
    assert early.exit_code == 2 and "still received" in early.stderr
    cli(env, "access", "check", request_id)
    cli(env, "access", "decide", request_id, "--done")
    result = cli(env, "access", "archive", request_id, "--copy-to", str(tmp_path / "arsip"))
    assert (
        result.stdout.strip() == f"access request 1 archived in {tmp_path / 'arsip' / 'request-1'}"
    )
    copies = tmp_path / "arsip" / "request-1"
    assert (copies / "letter-surat.pdf").read_bytes() == b"%PDF-1.4 surat"
    assert (env["berkas"] / "surat.pdf").exists()
    record = json.loads((copies / "record.json").read_text(encoding="utf-8"))
    assert record["nip"] == "198503122010011003" and record["status"] == "done"


@freeze_time(START)
def test_notices_go_out_by_email_through_the_outbox(env, smtp_server):
    config = Path(env["config"])
    config.write_text(config.read_text() + smtp_server.mail_toml(), encoding="utf-8")
    request_id = str(new_budi(env, "--send-ack")["id"])
    cli(env, "access", "check", request_id)
    decided = cli(
        env, "access", "decide", request_id, "--done", "--email", "--format", "json"
    ).json()
    assert "outbox:" in decided["notice"]
    flushed = cli(env, "outbox", "flush")
    assert flushed.exit_code == 0, flushed.stderr
    messages = [r.message for r in smtp_server.received]
    assert [m["Subject"] for m in messages] == [
        "Tanda terima permohonan aktivasi akun SPSE (nomor 1)",
        "Hasil permohonan aktivasi akun SPSE (nomor 1)",
    ]
    assert all(r.rcpt_tos == ["budi@contoh.go.id"] for r in smtp_server.received)
    assert "telah diaktifkan oleh Admin Agency" in messages[1].get_body(("plain",)).get_content()
    # a decided request cannot be decided (nor notified) twice
    again = cli(env, "access", "decide", request_id, "--done", "--email")
    assert again.exit_code == 2 and "is done, not forwarded" in again.stderr
    assert cli(env, "outbox", "flush").exit_code == 0
    assert len(smtp_server.received) == 2


@freeze_time(START)
def test_email_needs_a_valid_address(env):
    request_id = str(new_incomplete(env, "--no-ack"))
    result = cli(env, "access", "check", request_id, "--email")
    assert result.exit_code == 2
    assert "access request 1 has no valid e-mail address" in result.stderr
    # refused before anything was recorded
    assert cli(env, "access", "show", request_id, "--format", "json").json()["status"] == "received"


def test_help_teaches_with_examples():
    for sub in ("new", "check", "decide", "list", "show", "archive", "year-end"):
        result = run_cli("access", sub, "--help")
        assert result.exit_code == 0 and "Examples:" in result.stdout, sub


def test_list_at_a_moment_shows_the_timers_as_they_will_be(env):
    """Issue 15: `access list --at T` is the list the clock at T would show."""
    with freeze_time(START):
        new_budi(env)
    planned = cli(env, "access", "list", "--at", "2026-11-23 08:45", "--format", "json").json()
    with freeze_time(START) as clock:
        clock.move_to("2026-11-23 01:45:00")  # 08.45 WIB
        real = cli(env, "access", "list", "--format", "json").json()
    assert planned == real
    assert planned[0]["breaches"] == ["check"]  # 15 minutes unchecked: over the 10-minute limit


def test_a_complete_request_says_it_was_forwarded_even_with_notice_to_stdout(env):
    with freeze_time(START):
        request_id = str(new_budi(env)["id"])
        result = cli(env, "access", "check", request_id, "--notice", "-")
    assert result.exit_code == 0, result.stderr
    assert "complete and was forwarded to the Admin Agency" in result.stdout


def test_timers_over_an_hour_read_as_hours_minutes_seconds(env):
    with freeze_time(START) as clock:
        new_budi(env)
        clock.tick(timedelta(hours=28, minutes=3, seconds=15))
        listed = cli(env, "access", "list")
    assert "28:03:15" in listed.stdout and "1683:15" not in listed.stdout


def test_a_notice_that_cannot_be_written_leaves_the_request_unchecked(env, tmp_path):
    """Issue 15: the notice is written before the check is recorded."""
    request_id = str(new_incomplete(env))
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    result = cli(env, "access", "check", request_id, "--notice", str(blocked / "notice.txt"))
    assert result.exit_code == 2 and "cannot write there" in result.stderr
    shown = cli(env, "access", "show", request_id, "--format", "json").json()
    assert shown["status"] == "received" and "check" not in [e["step"] for e in shown["events"]]
    again = cli(env, "access", "check", request_id, "--format", "json")  # fixed: checked now
    assert again.exit_code == 0 and again.json()["status"] == "returned"


def test_a_returned_request_is_amended_and_checked_again(env, tmp_path):
    """Issue 15: `access amend` keeps the history and re-runs the check."""
    letter, decree = tmp_path / "surat.pdf", tmp_path / "sk.pdf"
    letter.write_bytes(b"%PDF-1.4 surat")
    decree.write_bytes(b"%PDF-1.4 sk")
    with freeze_time(START) as clock:
        request_id = str(new_incomplete(env))
        returned = cli(env, "access", "check", request_id, "--format", "json").json()
        assert returned["status"] == "returned"
        clock.tick(timedelta(hours=2))
        partly = cli(
            env, "access", "amend", request_id, "--phone", "0812-3456-7890", "--format", "json"
        )
        assert partly.exit_code == 0, partly.stderr
        assert partly.json()["status"] == "returned"  # still incomplete: a new return notice
        assert "phone_invalid" not in [p["code"] for p in partly.json()["problems"]]
        fixed = cli(
            env,
            "access",
            "amend",
            request_id,
            "--nip",
            "19850228 201001 2 003",
            "--email",
            "sri@contoh.go.id",
            "--rank",
            "Penata / III c",
            "--position",
            "Kasi",
            "--address",
            "Jl. Merdeka 1",
            "--letter",
            str(letter),
            "--decree",
            str(decree),
            "--decree-date",
            "2026-11-01",
            "--format",
            "json",
        )
        assert fixed.exit_code == 0, fixed.stderr
        assert (fixed.json()["status"], fixed.json()["complete"]) == ("forwarded", True)
        late = cli(env, "access", "amend", request_id, "--phone", "0812-0000-0000")
        shown = cli(env, "access", "show", request_id, "--format", "json").json()
    assert (
        late.exit_code == 2 and "only a received or returned request can be amended" in late.stderr
    )
    steps = [e["step"] for e in shown["events"]]
    assert steps.count("amend") == 2 and steps.count("check") == 3
    assert shown["checked_at"] == returned_time(shown)  # the SOP timer keeps the first check


def returned_time(shown: dict) -> str:
    return next(e["at"] for e in shown["events"] if e["step"] == "check")


def test_a_custom_notice_template_does_not_become_the_subject(env, smtp_server):
    """Issue 15: the subject has its own template; a notice's first line is the letter's."""
    templates = env["tmp"] / "templates"
    (templates / "id").mkdir(parents=True)
    (templates / "id" / "access_ack.txt.j2").write_text(
        "Kepada Yth. {{ request.name }}\n\nPermohonan Saudara sudah kami terima.\n",
        encoding="utf-8",
    )
    config = Path(env["config"])
    text = config.read_text().replace("[lpse]\n", f'[lpse]\ntemplates_dir = "{templates}"\n')
    config.write_text(text + smtp_server.mail_toml(), encoding="utf-8")
    new_budi(env, "--send-ack")
    assert cli(env, "outbox", "flush").exit_code == 0
    (message,) = [r.message for r in smtp_server.received]
    assert message["Subject"] == "Tanda terima permohonan aktivasi akun SPSE (nomor 1)"
    assert message.get_body(("plain",)).get_content().startswith("Kepada Yth. Budi Santoso")


def test_after_an_amend_the_admin_agency_is_timed_from_the_forwarding(env, tmp_path):
    """Break-test: the action step ran from the first check, in breach before it began."""
    letter, decree = tmp_path / "surat.pdf", tmp_path / "sk.pdf"
    letter.write_bytes(b"%PDF-1.4 surat")
    decree.write_bytes(b"%PDF-1.4 sk")
    with freeze_time(START) as clock:
        request_id = str(new_budi(env, "--no-ack")["id"])
        (env["berkas"] / "sk.pdf").unlink()  # the decree is missing: returned
        assert (
            cli(env, "access", "check", request_id, "--format", "json").json()["status"]
            == "returned"
        )
        clock.tick(timedelta(days=2))
        amended = cli(
            env, "access", "amend", request_id, "--decree", str(decree), "--format", "json"
        )
        assert amended.json()["status"] == "forwarded", amended.stdout
        clock.tick(timedelta(minutes=5))
        (listed,) = cli(env, "access", "list", "--format", "json").json()
        failing = cli(env, "access", "list", "--fail-on-breach")
    action, archive = listed["timers"]["action"], listed["timers"]["archive"]
    assert (action["elapsed_seconds"], action["breach"]) == (300.0, False)
    assert archive["state"] == "waiting" and listed["breaches"] == []
    assert failing.exit_code == 0


def test_send_ack_to_a_bad_address_records_nothing(env):
    result = cli(
        env,
        "access",
        "new",
        "--activate",
        "--role",
        "ppk",
        "--name",
        "Sri",
        "--email",
        "sri@contoh",
        "--send-ack",
    )
    assert result.exit_code == 2 and "nothing was recorded" in result.stderr
    assert cli(env, "access", "list", "--all", "--format", "json").json() == []
