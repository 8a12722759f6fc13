"""`lpsectl maintenance` end to end: real SMTP server, e-mails parsed back, time frozen."""

from __future__ import annotations

import csv
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from freezegun import freeze_time
from icalendar import Calendar

from tests.fixtures.common import run_cli

DATA = Path(__file__).parent / "data"
#: the SMTP server runs in another thread on asyncio: leave its clock alone
REAL_CLOCK = ["asyncio", "aiosmtpd", "smtplib", "ssl", "socket", "selectors"]


@contextmanager
def at(moment: str):
    with freeze_time(moment, ignore=REAL_CLOCK):
        yield


def write_config(
    tmp_path: Path, server, timezone: str = "Asia/Jakarta", maintenance: str = ""
) -> str:
    path = tmp_path / "lpsectl.toml"
    path.write_text(
        "[lpse]\n"
        'name = "LPSE Kabupaten Uji"\n'
        f'timezone = "{timezone}"\n'
        f'data_dir = "{tmp_path / "data"}"\n\n'
        + server.mail_toml(extra=f'committees_file = "{DATA / "pokja.csv"}"\n')
        + "\n[maintenance]\n"
        f'tender_schedule_file = "{DATA / "tender-schedule.csv"}"\n'
        f'output_dir = "{tmp_path / "out"}"\n' + maintenance,
        encoding="utf-8",
    )
    return str(path)


def lpsectl(config: str, *args: str):
    return run_cli("--config", config, *args)


def schedule(
    config: str,
    start: str = "2026-12-08 07:00",
    duration: str = "4h",
    reason: str = "Pembaruan PostgreSQL 15",
    *extra: str,
) -> int:
    result = lpsectl(
        config,
        "maintenance",
        "schedule",
        "--start",
        start,
        "--duration",
        duration,
        "--reason",
        reason,
        "--format",
        "json",
        *extra,
    )
    assert result.exit_code == 0, result.stderr
    return result.json()["id"]


def calendar_of(message) -> tuple[str, object]:
    (ics,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    calendar = Calendar.from_ical(ics.get_content())
    return str(calendar["METHOD"]), calendar.walk("VEVENT")[0]


NOW = "2026-12-01 02:00:00+00:00"  # Selasa, 1 Desember 2026 pukul 09.00 WIB


def test_scheduling_two_days_ahead_is_refused_with_the_earliest_allowed_start(
    smtp_server, tmp_path
):
    config = write_config(tmp_path, smtp_server)
    with at(NOW):
        result = lpsectl(
            config,
            "maintenance",
            "schedule",
            "--start",
            "2026-12-03 09:00",
            "--duration",
            "2h",
            "--reason",
            "x",
        )
    assert result.exit_code == 2
    assert (
        "earliest allowed start is Friday, 4 December 2026 at 09:00 WIB (2026-12-04 09:00)"
        in result.stderr
    )
    with at(NOW):
        listed = lpsectl(config, "maintenance", "list", "--format", "json")
    assert listed.json() == []


def test_overlaps_are_refused_and_emergencies_recorded(smtp_server, tmp_path):
    config = write_config(tmp_path, smtp_server)
    with at(NOW):
        first = schedule(config)
        clash = lpsectl(
            config,
            "maintenance",
            "schedule",
            "--start",
            "2026-12-08 10:00",
            "--duration",
            "2h",
            "--reason",
            "x",
        )
        urgent = lpsectl(
            config,
            "maintenance",
            "schedule",
            "--start",
            "2026-12-01 20:00",
            "--duration",
            "1h",
            "--reason",
            "Ganti disk",
            "--emergency",
            "--why",
            "disk RAID rusak",
            "--format",
            "json",
        )
        shown = lpsectl(config, "maintenance", "show", str(urgent.json()["id"]), "--format", "json")
    assert clash.exit_code == 2 and f"overlaps maintenance window {first}" in clash.stderr
    assert urgent.exit_code == 0 and urgent.json()["emergency"] is True
    history = shown.json()["history"]
    assert history[0]["kind"] == "scheduled" and history[0]["detail"]["why"] == "disk RAID rusak"


def test_announce_sends_helpdesk_and_one_mail_per_committee_with_a_valid_ics(smtp_server, tmp_path):
    config = write_config(tmp_path, smtp_server)
    with at(NOW):
        window_id = schedule(config)
        result = lpsectl(config, "maintenance", "announce", str(window_id), "--format", "json")
    assert result.exit_code == 0, result.stderr
    out = result.json()
    assert out["flush"]["sent"] == out["outbox_ids"] and len(out["outbox_ids"]) == 6

    received = smtp_server.received
    assert len(received) == 6
    helpdesk = received[0].message
    assert sorted(received[0].rcpt_tos) == ["helpdesk@uji.example", "kepala@uji.example"]
    assert str(helpdesk["Cc"]) == "kepala@uji.example"
    committees = {r.rcpt_tos[0]: r.message for r in received[1:]}
    assert sorted(committees) == [f"pokja{i}@contoh.example" for i in range(1, 6)]

    uids = set()
    for message in [helpdesk, *committees.values()]:
        types = [p.get_content_type() for p in message.walk() if not p.is_multipart()]
        assert types == ["text/plain", "text/html", "text/calendar"]
        assert (
            "Selasa, 8 Desember 2026 pukul 07.00 WIB" in message.get_body(("plain",)).get_content()
        )
        method, event = calendar_of(message)
        assert method == "PUBLISH" and int(event["SEQUENCE"]) == 0
        assert event.decoded("DTSTART") == datetime(2026, 12, 8, 0, 0, tzinfo=UTC)
        assert event.decoded("DTEND") == datetime(2026, 12, 8, 4, 0, tzinfo=UTC)
        uids.add(str(event["UID"]))
    assert len(uids) == 1  # one calendar entry, whoever receives it

    pokja3 = committees["pokja3@contoh.example"].get_body(("plain",)).get_content()
    assert "Yth. Pokja Pemilihan 3 (Dinas Pendidikan)" in pokja3
    assert "10001373 Paket Rehab Gedung 1: Pengumuman Pascakualifikasi" in pokja3
    assert "Pokja Pemilihan 2" not in pokja3

    files = {Path(f).name: Path(f) for f in out["files"]}
    running = files[f"maintenance-{window_id}-running-text.txt"].read_text().strip()
    assert running == out["running_text"] and len(running) <= 300
    assert "Selasa, 8 Desember 2026 pukul 07.00 WIB s.d. 11.00 WIB (4 jam)" in running
    assert (
        "Pembaruan PostgreSQL 15" in files[f"maintenance-{window_id}-announcement.html"].read_text()
    )


def test_send_times_and_the_30_minute_checks_are_shown(smtp_server, tmp_path):
    config = write_config(tmp_path, smtp_server)
    with at(NOW):
        window_id = schedule(config)
        lpsectl(config, "maintenance", "announce", str(window_id))
        shown = lpsectl(config, "maintenance", "show", str(window_id), "--format", "json").json()
        text = lpsectl(config, "maintenance", "show", str(window_id)).stdout
    assert all(
        m["status"] == "sent" and m["sent_at"].startswith("2026-12-01T09:00")
        for m in shown["mails"]
    )
    checks = {c["check"]: c for c in shown["sop"]}
    assert checks["helpdesk within 30 minutes"]["ok"] is True
    assert checks["committee within 30 minutes"]["actual_minutes"] == 0
    assert checks["notice"]["ok"] is True
    assert "helpdesk within 30 minutes" in text and "NOT MET" not in text


def test_smtp_down_loses_nothing_and_flush_delivers_each_exactly_once(smtp_server, tmp_path):
    config = write_config(tmp_path, smtp_server)
    with at(NOW):
        window_id = schedule(config)
        smtp_server.stop()
        first = lpsectl(config, "maintenance", "announce", str(window_id))
        again = lpsectl(config, "maintenance", "announce", str(window_id))
        waiting = lpsectl(config, "outbox", "list", "--format", "json").json()
    assert first.exit_code == 5 and again.exit_code == 5
    assert "6 message(s) wait in the outbox" in first.stderr
    assert "cannot use the SMTP server" in first.stderr
    assert len(waiting) == 6 and all(w["status"] == "queued" for w in waiting)
    assert all(w["attempts"] == 2 and "Connection refused" in w["last_error"] for w in waiting)

    smtp_server.start()
    with at("2026-12-01 02:20:00+00:00"):
        flushed = lpsectl(config, "outbox", "flush", "--format", "json")
        flushed_again = lpsectl(config, "outbox", "flush", "--format", "json")
        empty = lpsectl(config, "outbox", "list", "--format", "json").json()
    assert flushed.exit_code == 0 and len(flushed.json()["sent"]) == 6
    assert flushed_again.json()["sent"] == [] and empty == []
    message_ids = [r.message["Message-ID"] for r in smtp_server.received]
    assert len(message_ids) == 6 and len(set(message_ids)) == 6


def test_markup_in_the_reason_is_escaped_in_html_and_harmless_in_running_text(
    smtp_server, tmp_path
):
    config = write_config(tmp_path, smtp_server)
    reason = 'Upgrade <script>alert("x")</script> & <b>DB</b>'
    with at(NOW):
        window_id = schedule(config, "2026-12-08 07:00", "4h", reason)
        out = lpsectl(config, "maintenance", "announce", str(window_id), "--format", "json").json()
    html = Path(next(f for f in out["files"] if f.endswith(".html"))).read_text()
    assert (
        "<script>" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp;" in html
    )
    assert "<" not in out["running_text"] and ">" not in out["running_text"]
    assert 'alert("x")' in out["running_text"]
    mail_html = smtp_server.received[0].message.get_body(("html",)).get_content()
    assert "<script>" not in mail_html and "&lt;script&gt;" in mail_html
    assert reason in smtp_server.received[0].message.get_body(("plain",)).get_content()


def test_dry_run_shows_every_mail_and_sends_nothing(smtp_server, tmp_path):
    config = write_config(tmp_path, smtp_server)
    with at(NOW):
        window_id = schedule(config)
        dry = lpsectl(
            config, "maintenance", "announce", str(window_id), "--dry-run", "--format", "json"
        )
        text = lpsectl(config, "maintenance", "announce", str(window_id), "--dry-run")
        listed = lpsectl(config, "maintenance", "list", "--format", "json").json()
        outbox = lpsectl(config, "outbox", "list", "--all", "--format", "json").json()
    messages = dry.json()["messages"]
    assert [m["to"] for m in messages][:2] == [["helpdesk@uji.example"], ["pokja1@contoh.example"]]
    assert messages[0]["cc"] == ["kepala@uji.example"]
    assert all(m["attachments"] == [f"maintenance-{window_id}.ics"] for m in messages)
    assert dry.json()["files"] == [] and not (tmp_path / "out").exists()
    assert (
        "Would send 6 e-mail(s)" in text.stdout
        and "Subject: Pemberitahuan pemeliharaan" in text.stdout
    )
    assert smtp_server.received == [] and outbox == [] and listed[0]["status"] == "scheduled"


def test_reminders_h3_h1_one_hour_started_and_finished(smtp_server, tmp_path):
    config = write_config(tmp_path, smtp_server)
    with at(NOW):
        window_id = schedule(config)
        lpsectl(config, "maintenance", "announce", str(window_id))
    announced = len(smtp_server.received)

    def remind(moment: str) -> list[str]:
        with at(moment):
            result = lpsectl(config, "maintenance", "remind", "--format", "json")
        assert result.exit_code == 0, result.stderr
        return [s["kind"] for s in result.json()["sent"]]

    assert remind("2026-12-04 23:00:00+00:00") == []  # before H-3 (00:00 WIB on the 5th)
    assert remind("2026-12-05 00:05:00+00:00") == ["reminder-3d"]
    assert remind("2026-12-05 00:20:00+00:00") == []  # not twice
    assert remind("2026-12-07 00:05:00+00:00") == ["reminder-1d"]
    assert remind("2026-12-07 23:10:00+00:00") == ["reminder-1h"]
    assert remind("2026-12-08 00:05:00+00:00") == ["started"]
    with at("2026-12-08 03:40:00+00:00"):
        done = lpsectl(config, "maintenance", "complete", str(window_id))
        shown = lpsectl(config, "maintenance", "show", str(window_id), "--format", "json").json()
    assert done.exit_code == 0, done.stderr

    notices = smtp_server.received[announced:]
    subjects = [str(r.message["Subject"]) for r in notices]
    assert [s.split(":")[0] for s in subjects[:3]] == ["Pengingat"] * 3
    assert subjects[3].startswith("Pemeliharaan SPSE LPSE Kabupaten Uji sedang berlangsung")
    assert subjects[4] == "Pemeliharaan selesai: SPSE LPSE Kabupaten Uji dapat diakses kembali"
    for notice in notices:
        assert notice.message["Bcc"] is None
        assert (
            "pokja5@contoh.example" in notice.rcpt_tos and "helpdesk@uji.example" in notice.rcpt_tos
        )
    finished = notices[4].message.get_body(("plain",)).get_content()
    assert "sejak Selasa, 8 Desember 2026 pukul 10.40 WIB" in finished
    kinds = [e["kind"] for e in shown["history"]]
    assert kinds == [
        "scheduled",
        "announced",
        "reminder-3d",
        "reminder-1d",
        "reminder-1h",
        "started",
        "finished",
        "completed",
    ]
    assert shown["window"]["status"] == "completed"


def test_reminders_missed_by_cron_are_not_all_sent(smtp_server, tmp_path):
    config = write_config(tmp_path, smtp_server)
    with at(NOW):
        window_id = schedule(config)
        lpsectl(config, "maintenance", "announce", str(window_id))
    with at("2026-12-07 23:30:00+00:00"):  # 30 minutes before the start, cron was down
        result = lpsectl(config, "maintenance", "remind", "--format", "json").json()
        again = lpsectl(config, "maintenance", "remind", "--format", "json").json()
    assert [s["kind"] for s in result["sent"]] == ["reminder-1h"]
    assert [s["kind"] for s in result["skipped"]] == ["reminder-3d", "reminder-1d"]
    assert again["sent"] == [] and again["skipped"] == []


def test_reschedule_and_cancel_update_the_same_calendar_entry(smtp_server, tmp_path):
    config = write_config(tmp_path, smtp_server)
    with at(NOW):
        window_id = schedule(config)
        lpsectl(config, "maintenance", "announce", str(window_id))
        moved = lpsectl(
            config,
            "maintenance",
            "reschedule",
            str(window_id),
            "--start",
            "2026-12-09 21:00",
            "--duration",
            "3h",
        )
        too_soon = lpsectl(
            config, "maintenance", "reschedule", str(window_id), "--start", "2026-12-02 21:00"
        )
        cancelled = lpsectl(
            config, "maintenance", "cancel", str(window_id), "--reason", "vendor menunda"
        )
    assert moved.exit_code == 0 and cancelled.exit_code == 0, (moved.stderr, cancelled.stderr)
    assert too_soon.exit_code == 2 and "earliest allowed start" in too_soon.stderr
    original_uid = str(calendar_of(smtp_server.received[0].message)[1]["UID"])

    update = smtp_server.received[6].message
    assert str(update["Subject"]).startswith("Perubahan jadwal pemeliharaan SPSE")
    assert (
        "Jadwal lama : Selasa, 8 Desember 2026 pukul 07.00 WIB"
        in update.get_body(("plain",)).get_content()
    )
    method, event = calendar_of(update)
    assert (method, str(event["UID"]), int(event["SEQUENCE"])) == ("PUBLISH", original_uid, 1)
    assert event.decoded("DTSTART") == datetime(2026, 12, 9, 14, 0, tzinfo=UTC)

    cancel = smtp_server.received[-1].message
    method, event = calendar_of(cancel)
    assert (method, str(event["UID"]), int(event["SEQUENCE"])) == ("CANCEL", original_uid, 2)
    assert str(event["STATUS"]) == "CANCELLED"
    assert "vendor menunda" in cancel.get_body(("plain",)).get_content()
    assert len(smtp_server.received) == 6 + 6 + 1


def test_english_documents_and_wita_times(smtp_server, tmp_path):
    config = write_config(tmp_path, smtp_server, timezone="Asia/Makassar")
    with at(NOW):
        window_id = schedule(config)
        result = lpsectl(
            config, "--lang", "en", "maintenance", "announce", str(window_id), "--format", "json"
        )
    assert result.exit_code == 0, result.stderr
    subject = str(smtp_server.received[0].message["Subject"])
    assert (
        subject
        == "SPSE maintenance notice, LPSE Kabupaten Uji: Tuesday, 8 December 2026 at 07:00 WITA"
    )
    assert result.json()["running_text"].startswith(
        "NOTICE: SPSE LPSE Kabupaten Uji will be unavailable from Tuesday, 8 December 2026 at 07:00 WITA to 11:00 WITA"
    )
    _, event = calendar_of(smtp_server.received[0].message)
    assert event.decoded("DTSTART") == datetime(2026, 12, 7, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize("timezone,label", [("Asia/Jayapura", "WIT"), ("Asia/Jakarta", "WIB")])
def test_indonesian_dates_in_each_zone(smtp_server, tmp_path, timezone, label):
    config = write_config(tmp_path, smtp_server, timezone=timezone)
    with at(NOW):
        window_id = schedule(config, "2026-12-07 22:00")
        lpsectl(config, "maintenance", "announce", str(window_id))
    text = smtp_server.received[0].message.get_body(("plain",)).get_content()
    assert f"Mulai     : Senin, 7 Desember 2026 pukul 22.00 {label}" in text
    assert f"Selesai   : Selasa, 8 Desember 2026 pukul 02.00 {label}" in text


def test_late_first_announcement_is_refused_unless_emergency(smtp_server, tmp_path):
    config = write_config(tmp_path, smtp_server)
    with at(NOW):
        window_id = schedule(config, "2026-12-05 07:00")
    with at("2026-12-03 02:00:00+00:00"):
        late = lpsectl(config, "maintenance", "announce", str(window_id))
    assert late.exit_code == 2 and "too late" in late.stderr
    assert smtp_server.received == []


def test_unknown_window_and_bad_config_are_named(smtp_server, tmp_path):
    config = write_config(tmp_path, smtp_server, maintenance="min_notice_days = -1\n")
    result = lpsectl(
        config,
        "maintenance",
        "schedule",
        "--start",
        "2030-01-01 10:00",
        "--duration",
        "1h",
        "--reason",
        "x",
    )
    assert result.exit_code == 4 and "maintenance.min_notice_days" in result.stderr
    config = write_config(tmp_path, smtp_server)
    missing = lpsectl(config, "maintenance", "show", "42")
    assert missing.exit_code == 2 and "maintenance window 42 does not exist" in missing.stderr


def test_hostile_committees_file_every_other_committee_gets_exactly_one_mail(
    scripted_smtp, tmp_path
):
    """Issue 12, done-when: a refused address, a non-ASCII one on a server without
    SMTPUTF8, a CR/LF row, a committee missing from the file, and a committee
    inserted in the middle after the first announce."""
    server = scripted_smtp(
        rcpt_replies={"pokja2@contoh.example": "550 5.1.1 mailbox unavailable"}, smtputf8=False
    )
    committees = tmp_path / "pokja.csv"
    rows = [
        "name,email,satker",
        "Pokja Pemilihan 1,pokja1@contoh.example,Dinas PU",
        "Pokja Pemilihan 2,pokja2@contoh.example,Dinas Kesehatan",
        "Pokja Pemilihan 3,pokjā3@contoh.example,Dinas Pendidikan",
        '"Pokja Jahat","jahat@contoh.example\r\nBcc: curi@evil.example",Tidak ada',
        # Pokja Pemilihan 5 has four stages in the window but no row at all
    ]
    committees.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")
    config = write_config(tmp_path, server)
    Path(config).write_text(
        Path(config).read_text().replace(str(DATA / "pokja.csv"), str(committees))
    )
    with at(NOW):
        window_id = schedule(config)
        first = lpsectl(config, "maintenance", "announce", str(window_id), "--format", "json")
    assert first.exit_code == 1, first.stderr
    got = sorted(a for r in server.received for a in r.rcpt_tos)
    assert got == ["helpdesk@uji.example", "kepala@uji.example", "pokja1@contoh.example"]
    assert "curi@evil.example" not in str(server.handler.rcpt_seen)
    assert (
        "pokja.csv:5: committee 'Pokja Jahat'" in first.stderr
        and "control character" in first.stderr
    )
    with (DATA / "tender-schedule.csv").open(newline="") as handle:  # an independent count
        in_window = [
            r
            for r in csv.DictReader(handle)
            if r["mulai"] < "2026-12-08 11:00" and r["selesai"] > "2026-12-08 07:00"
        ]
    fives = [r for r in in_window if r["pokja"] == "Pokja Pemilihan 5"]
    fours = [r for r in in_window if r["pokja"] == "Pokja Pemilihan 4"]
    assert f"'Pokja Pemilihan 5' has {len(fives)} tender stage(s) in the window" in first.stderr
    helpdesk_text = server.received[0].message.get_body(("plain",)).get_content()
    assert "PERLU DIHUBUNGI LEWAT TELEPON" in helpdesk_text and "Pokja Jahat" in helpdesk_text
    assert helpdesk_text.count("Pokja Pemilihan 5:") == 1
    stage_lines = [line.strip() for line in helpdesk_text.splitlines() if line.startswith("      ")]
    assert len(stage_lines) == len(fives) + len(fours) > 0
    assert all(
        any(
            line.startswith(f"{r['kode_tender']} {r['nama_paket']}: {r['tahap']}")
            for line in stage_lines
        )
        for r in fives
    )

    outcomes = {
        r["address"]: (r["status"], r["reply"])
        for m in first.json()["flush"]["recipients"]
        for r in [m]
    }
    assert outcomes["pokja2@contoh.example"] == ("failed", "550 5.1.1 mailbox unavailable")
    assert (
        outcomes["pokjā3@contoh.example"][0] == "failed"
        and "SMTPUTF8" in outcomes["pokjā3@contoh.example"][1]
    )

    # a committee inserted in the middle of the file; the announcement is made again
    rows.insert(2, "Pokja Pemilihan 4,pokja4@contoh.example,Setda")
    committees.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")
    with at("2026-12-01 02:10:00+00:00"):
        again = lpsectl(config, "maintenance", "announce", str(window_id))
        flushed = lpsectl(config, "outbox", "flush")
        listed = lpsectl(config, "outbox", "list", "--all", "--format", "json").json()
        shown = lpsectl(config, "maintenance", "show", str(window_id), "--format", "json").json()
    new = sorted(a for r in server.received[1 + 1 :] for a in r.rcpt_tos)
    assert new == ["pokja4@contoh.example"]  # exactly the missing mail, nobody twice
    assert len(server.received) == 3
    assert again.exit_code == 1 and flushed.exit_code == 0
    assert (
        "was refused earlier for pokja2@contoh.example (550 5.1.1 mailbox unavailable)"
        in again.stderr
    )
    assert not [m for m in listed if m["status"] in ("sending", "queued", "deferred")]
    assert {m["status"] for m in listed} == {"sent", "failed"}
    checks = {c["check"]: c["ok"] for c in shown["sop"]}
    assert (
        checks["committee within 30 minutes"] is False
    )  # two committees were never told by e-mail


def test_a_second_announce_at_the_same_time_exits_6(smtp_server, tmp_path):
    from lpsectl.lock import job_lock

    config = write_config(tmp_path, smtp_server)
    with at(NOW):
        window_id = schedule(config)
        with job_lock(tmp_path / "data", f"maintenance-announce-{window_id}"):
            second = lpsectl(config, "maintenance", "announce", str(window_id))
        first = lpsectl(config, "maintenance", "announce", str(window_id), "--format", "json")
        history = lpsectl(config, "maintenance", "show", str(window_id), "--format", "json").json()[
            "history"
        ]
    assert second.exit_code == 6 and "another 'maintenance-announce-1' run" in second.stderr
    assert first.exit_code == 0, first.stderr
    assert [e["kind"] for e in history].count("announced") == 1


def test_a_bad_row_in_the_tender_schedule_is_skipped_with_its_line_and_the_rest_announced(
    smtp_server, tmp_path
):
    """Issue 15: one bad date must not block the announcement (the 3-day deadline)."""
    rows = (DATA / "tender-schedule.csv").read_text().splitlines()
    # line 2: Paket Rehab Gedung 1's stage inside the window, with a date that is no date
    bad = rows[1].replace("2026-12-08 08:00,2026-12-11 12:00", "31/13/2026 25:00,2026-12-11 12:00")
    backwards = rows[3].replace(
        "2026-12-15 12:00,2026-12-18 15:00", "2026-12-18 15:00,2026-12-15 12:00"
    )
    schedule_file = tmp_path / "jadwal.csv"
    schedule_file.write_text("\n".join([rows[0], bad, rows[2], backwards, *rows[4:]]) + "\n")
    path = Path(write_config(tmp_path, smtp_server))
    path.write_text(path.read_text().replace(str(DATA / "tender-schedule.csv"), str(schedule_file)))
    config = str(path)
    with at(NOW):
        window_id = schedule(config)
        result = lpsectl(config, "maintenance", "announce", str(window_id), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert f"{schedule_file}:2: '31/13/2026 25:00' is not a date and time" in result.stderr
    assert f"{schedule_file}:4: the stage ends" in result.stderr and "row skipped" in result.stderr
    pokja3 = (
        next(r.message for r in smtp_server.received if r.rcpt_tos == ["pokja3@contoh.example"])
        .get_body(("plain",))
        .get_content()
    )
    assert "Paket Pembangunan Jalan 7: Pemberian Penjelasan" in pokja3  # a good row in the window
    assert "Paket Rehab Gedung 1" not in pokja3  # the bad row: skipped, not guessed


def test_reschedule_gives_the_new_texts_and_cancel_rewrites_the_files_and_says_take_down(
    smtp_server, tmp_path
):
    """Issue 15: after a reschedule the admin pastes the new texts into SPSE; after a
    cancellation no file on disk still says SPSE will be down, and SPSE's texts come down."""
    from icalendar import Calendar

    config = write_config(tmp_path, smtp_server)
    out = tmp_path / "out"
    with at(NOW):
        window_id = schedule(config)
        lpsectl(config, "maintenance", "announce", str(window_id))
        moved = lpsectl(
            config,
            "maintenance",
            "reschedule",
            str(window_id),
            "--start",
            "2026-12-09 21:00",
            "--duration",
            "3h",
        )
        running = (out / f"maintenance-{window_id}-running-text.txt").read_text().strip()
        cancelled = lpsectl(
            config,
            "maintenance",
            "cancel",
            str(window_id),
            "--reason",
            "vendor menunda",
            "--format",
            "json",
        )
    assert moved.exit_code == 0, moved.stderr
    assert "In SPSE: replace the maintenance announcement and the running text" in moved.stdout
    assert "Rabu, 9 Desember 2026 pukul 21.00 WIB" in running and running in moved.stdout
    assert cancelled.exit_code == 0, cancelled.stderr
    result = cancelled.json()
    assert result["take_down"] is True
    assert "DIBATALKAN" in result["running_text"] and "vendor menunda" in result["running_text"]
    files = {Path(f).name: Path(f) for f in result["files"]}
    assert sorted(files) == sorted(
        f"maintenance-{window_id}{suffix}"
        for suffix in ("-announcement.html", "-running-text.txt", ".ics")
    )
    for name in ("-announcement.html", "-running-text.txt"):  # nothing says SPSE will be down
        assert "tidak dapat diakses" not in files[f"maintenance-{window_id}{name}"].read_text()
    assert "dibatalkan" in files[f"maintenance-{window_id}-announcement.html"].read_text()
    calendar = Calendar.from_ical(files[f"maintenance-{window_id}.ics"].read_bytes())
    # the .ics cancels the event it announced (its summary stays: a calendar matches it by UID)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(calendar.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
    with at(NOW):
        text = lpsectl(
            config,
            "maintenance",
            "schedule",
            "--start",
            "2026-12-10 07:00",
            "--duration",
            "1h",
            "--reason",
            "uji",
            "--format",
            "json",
        )
        other = text.json()["id"]
        never = lpsectl(config, "maintenance", "cancel", str(other))
    assert never.exit_code == 0 and "never announced: there is nothing on SPSE" in never.stdout


def test_remind_dry_run_at_a_moment_shows_what_the_clock_at_that_moment_would_send(
    smtp_server, tmp_path
):
    """Issue 15: `remind --dry-run --at T` answers "what goes out at T" without faking the
    clock; the answer is the one a dry run at T gives, and nothing is recorded."""
    config = write_config(tmp_path, smtp_server)
    with at(NOW):
        window_id = schedule(config)
        assert lpsectl(config, "maintenance", "announce", str(window_id)).exit_code == 0
        planned = {
            moment: lpsectl(
                config, "maintenance", "remind", "--dry-run", "--at", moment, "--format", "json"
            )
            for moment in (
                "2026-12-05 07:05",
                "2026-12-07 07:05",
                "2026-12-08 06:10",
                "2026-12-03 12:00",
            )
        }
        refused = lpsectl(config, "maintenance", "remind", "--at", "2026-12-05 07:05")
    assert refused.exit_code == 2 and "--at only with --dry-run" in refused.stderr
    kinds = {m: [s["kind"] for s in r.json()["sent"]] for m, r in planned.items()}
    assert kinds == {
        "2026-12-05 07:05": ["reminder-3d"],
        "2026-12-07 07:05": ["reminder-1d"],
        "2026-12-08 06:10": ["reminder-1h"],
        "2026-12-03 12:00": [],
    }
    for moment, result in planned.items():  # the same as a dry run with the clock at that moment
        with at(f"{moment}:00+07:00"):
            real = lpsectl(config, "maintenance", "remind", "--dry-run", "--format", "json")
        assert real.json()["sent"] == result.json()["sent"]
    sent_before = len(smtp_server.received)
    with at("2026-12-05 00:10:00+00:00"):  # 07.10 WIB: the H-3 reminder was never recorded
        due = lpsectl(config, "maintenance", "remind", "--format", "json")
    assert [s["kind"] for s in due.json()["sent"]] == ["reminder-3d"]
    assert len(smtp_server.received) > sent_before


def test_a_cancellation_is_sent_even_when_its_files_cannot_be_rewritten(smtp_server, tmp_path):
    """Review: the e-mails first, then the files; a file that cannot be written is a warning."""
    config = write_config(tmp_path, smtp_server)
    with at(NOW):
        window_id = schedule(config)
        assert lpsectl(config, "maintenance", "announce", str(window_id)).exit_code == 0
        out = tmp_path / "out"
        for child in out.iterdir():
            child.unlink()
        out.rmdir()
        out.write_text("a file where the folder was")
        before = len(smtp_server.received)
        cancelled = lpsectl(config, "maintenance", "cancel", str(window_id), "--format", "json")
    assert cancelled.exit_code == 0, cancelled.stderr
    assert "not on disk" in cancelled.stderr and cancelled.json()["files"] == []
    assert len(smtp_server.received) == before + 1  # the cancellation went out
