"""lpsectl.mail against a real SMTP server (aiosmtpd): build, spool, send, retry."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from icalendar import Calendar

from lpsectl import mail
from lpsectl.config import parse_config
from lpsectl.errors import ExitCode
from lpsectl.store import Store
from tests.fixtures.smtp import TLS_PASSWORD, TLS_USER

NOW = datetime.fromisoformat("2026-12-01T09:00:00+07:00")


def make_config(server, tmp_path: Path, **mail_extra):
    section = {
        "smtp_host": server.host,
        "smtp_port": server.port,
        "timeout": 5,
        "sender": "LPSE Kabupaten Uji <lpse@uji.example>",
        "helpdesk": ["helpdesk@uji.example"],
        **mail_extra,
    }
    return parse_config({"lpse": {"data_dir": str(tmp_path / "data")}, "mail": section})


def open_store(tmp_path: Path) -> Store:
    return Store.open_sqlite(tmp_path / "history.sqlite3")


def test_message_goes_through_the_outbox_with_text_html_and_attachment(smtp_server, tmp_path):
    config = make_config(smtp_server, tmp_path)
    store = open_store(tmp_path)
    ics = mail.calendar_event(
        "uid-1@uji.example", 0, NOW, NOW + timedelta(hours=2), "Uji", "desc", NOW
    )
    message = mail.build_message(
        config,
        to=["a@uji.example"],
        cc=["b@uji.example"],
        bcc=["rahasia@uji.example"],
        subject="Laporan harian — Senin",
        text="Isi laporan: ✓ selesai\n",
        html="<p>Isi laporan</p>",
        attachments=[mail.Attachment("acara.ics", ics, "text/calendar", {"method": "PUBLISH"})],
    )
    outbox_id = mail.queue_message(
        store, message, "report-daily", ref="report:2026-12-01", now=NOW
    ).id
    assert [r["status"] for r in mail.outbox_rows(store)] == ["queued"]
    assert smtp_server.received == []  # spooled, not sent yet

    result = mail.flush(store, config, NOW)

    assert result.ok and result.sent == [outbox_id] and result.remaining == 0
    (received,) = smtp_server.received
    assert received.mail_from == "lpse@uji.example"
    assert sorted(received.rcpt_tos) == ["a@uji.example", "b@uji.example", "rahasia@uji.example"]
    parsed = received.message
    assert parsed["Bcc"] is None  # Bcc travels in the envelope only
    assert str(parsed["Subject"]) == "Laporan harian — Senin"
    assert (
        parsed.get_body(("plain",)).get_content().replace("\r\n", "\n")
        == "Isi laporan: ✓ selesai\n"
    )
    assert parsed.get_body(("html",)).get_content().strip() == "<p>Isi laporan</p>"
    (attachment,) = list(parsed.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "PUBLISH"
    event = Calendar.from_ical(attachment.get_content()).walk("VEVENT")[0]
    assert str(event["UID"]) == "uid-1@uji.example"
    (row,) = mail.outbox_rows(store, include_done=True)
    assert row["status"] == "sent" and row["sent_at"] and row["attempts"] == 1


def test_same_message_id_is_spooled_and_sent_once(smtp_server, tmp_path):
    config = make_config(smtp_server, tmp_path)
    store = open_store(tmp_path)
    message_id = mail.message_key(config, "uji", 1, "helpdesk")

    def build():
        return mail.build_message(
            config, to=["a@uji.example"], subject="s", text="t", message_id=message_id
        )

    first = mail.queue_message(store, build(), "test").id
    assert mail.queue_message(store, build(), "test").id == first
    mail.flush(store, config, NOW)
    assert mail.queue_message(store, build(), "test").id == first  # already sent: still not a copy
    assert mail.flush(store, config, NOW).sent == []
    assert len(smtp_server.received) == 1
    assert smtp_server.received[0].message["Message-ID"] == message_id


def test_server_down_keeps_everything_and_flush_later_delivers_each_once(smtp_server, tmp_path):
    config = make_config(smtp_server, tmp_path)
    store = open_store(tmp_path)
    smtp_server.stop()
    ids = [
        mail.queue_message(
            store,
            mail.build_message(config, to=[f"p{i}@uji.example"], subject=f"m{i}", text="x"),
            "test",
        ).id
        for i in range(3)
    ]

    down = mail.flush(store, config, NOW)

    assert down.error and "cannot use the SMTP server" in down.error
    assert f"{smtp_server.host}:{smtp_server.port}" in down.error
    assert down.error_exit == ExitCode.UNAVAILABLE and down.remaining == 3
    rows = mail.outbox_rows(store)
    assert [r["status"] for r in rows] == ["queued"] * 3
    assert all(r["last_error"] == down.error and r["attempts"] == 1 for r in rows)

    smtp_server.start()
    back = mail.flush(store, config, NOW + timedelta(minutes=5))
    again = mail.flush(store, config, NOW + timedelta(minutes=10))

    assert back.ok and back.sent == ids and again.sent == []
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == [
        f"p{i}@uji.example" for i in range(3)
    ]


def test_starttls_and_login_with_password_from_a_file(smtp_tls_server, tmp_path):
    secret = tmp_path / "smtp-password"
    secret.write_text(TLS_PASSWORD + "\n")
    config = make_config(
        smtp_tls_server, tmp_path, starttls=True, username=TLS_USER, password_file=str(secret)
    )
    store = open_store(tmp_path)
    mail.queue_message(
        store, mail.build_message(config, to=["a@uji.example"], subject="tls", text="x"), "t"
    )

    result = mail.flush(store, config, NOW)

    assert result.ok, result
    assert [r.message["Subject"] for r in smtp_tls_server.received] == ["tls"]


def test_wrong_password_is_a_config_error_and_the_message_waits(smtp_tls_server, tmp_path):
    secret = tmp_path / "smtp-password"
    secret.write_text("salah")
    config = make_config(
        smtp_tls_server, tmp_path, starttls=True, username=TLS_USER, password_file=str(secret)
    )
    store = open_store(tmp_path)
    mail.queue_message(
        store, mail.build_message(config, to=["a@uji.example"], subject="x", text="x"), "t"
    )

    result = mail.flush(store, config, NOW)

    assert result.error_exit == ExitCode.CONFIG
    assert "refused the login" in result.error and repr(TLS_USER) in result.error
    assert TLS_PASSWORD not in result.error and "salah" not in result.error
    assert smtp_tls_server.received == [] and result.remaining == 1


def test_missing_password_file_is_named(smtp_tls_server, tmp_path):
    config = make_config(
        smtp_tls_server,
        tmp_path,
        starttls=True,
        username=TLS_USER,
        password_file=str(tmp_path / "nope"),
    )
    store = open_store(tmp_path)
    mail.queue_message(
        store, mail.build_message(config, to=["a@uji.example"], subject="x", text="x"), "t"
    )
    result = mail.flush(store, config, NOW)
    assert result.error_exit == ExitCode.CONFIG
    assert str(tmp_path / "nope") in result.error and "password_file" in result.error


def test_without_starttls_the_server_refuses_and_the_message_waits(smtp_tls_server, tmp_path):
    config = make_config(smtp_tls_server, tmp_path)  # starttls = false
    store = open_store(tmp_path)
    outbox_id = mail.queue_message(
        store, mail.build_message(config, to=["a@uji.example"], subject="x", text="x"), "t"
    ).id
    result = mail.flush(store, config, NOW)
    # 530 at MAIL FROM is about our session (TLS required), not this message:
    # nothing is marked failed, the flush says to fix the config (exit 4)
    assert result.failed == {} and result.exit_code == ExitCode.CONFIG
    assert "530" in result.error and "mail.starttls" in result.error
    (row,) = mail.outbox_rows(store)
    assert row["id"] == outbox_id and row["status"] == "queued"
    assert [r["status"] for r in row["recipients"]] == ["queued"]
    assert smtp_tls_server.received == []


def test_a_send_interrupted_mid_way_is_retried_after_the_stale_period(smtp_server, tmp_path):
    config = make_config(smtp_server, tmp_path)
    store = open_store(tmp_path)
    outbox_id = mail.queue_message(
        store, mail.build_message(config, to=["a@uji.example"], subject="x", text="x"), "t"
    ).id
    # what a run that died between claiming and marking leaves behind
    store.execute(
        "UPDATE outbox SET status = 'sending', last_attempt_at = ? WHERE id = ?",
        [NOW.isoformat(), outbox_id],
    )

    soon = mail.flush(store, config, NOW + timedelta(minutes=1))
    assert soon.sent == [] and smtp_server.received == []

    later = mail.flush(store, config, NOW + mail.STALE_CLAIM + timedelta(minutes=1))
    assert later.released == [outbox_id] and later.sent == [outbox_id]
    assert len(smtp_server.received) == 1
