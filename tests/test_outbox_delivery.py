"""Per-message, per-recipient delivery against real SMTP servers that refuse (issue 12).

Every server here is real: aiosmtpd answering 550 at RCPT, 451 or 550 at
DATA, with or without SMTPUTF8, STARTTLS with a self-signed certificate; a
plain socket server that hangs up after DATA. What each recipient got is
read back from the server, never from lpsectl.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from lpsectl import mail
from lpsectl.config import parse_config
from lpsectl.errors import ConfigError, ExitCode
from lpsectl.store import Store
from tests.fixtures.common import run_cli

NOW = datetime.fromisoformat("2026-12-01T09:00:00+07:00")


def make_config(host: str, port: int, tmp_path: Path, **mail_extra):
    section = {
        "smtp_host": host,
        "smtp_port": port,
        "timeout": 5,
        "sender": "LPSE Kabupaten Uji <lpse@uji.example>",
        **mail_extra,
    }
    return parse_config({"lpse": {"data_dir": str(tmp_path / "data")}, "mail": section})


def store_at(tmp_path: Path) -> Store:
    """The store the CLI opens for a config with ``data_dir = tmp_path/data``."""
    return Store.open_sqlite(tmp_path / "data" / "history.sqlite3")


def queue(store: Store, config, to: list[str], subject: str) -> int:
    return mail.queue_message(
        store, mail.build_message(config, to=to, subject=subject, text=subject), "t", now=NOW
    ).id


def states(store: Store, outbox_id: int) -> dict[str, str]:
    return {r["address"]: r["status"] for r in mail.recipient_rows(store, outbox_id)}


def test_one_refused_recipient_fails_alone_and_the_others_get_it(scripted_smtp, tmp_path):
    server = scripted_smtp(
        rcpt_replies={"salah@uji.example": "550 5.1.1 <salah@uji.example>: no such user"}
    )
    config = make_config(server.host, server.port, tmp_path)
    store = store_at(tmp_path)
    mixed = queue(store, config, ["a@uji.example", "salah@uji.example", "b@uji.example"], "campur")

    result = mail.flush(store, config, NOW)

    assert [sorted(r.rcpt_tos) for r in server.received] == [["a@uji.example", "b@uji.example"]]
    assert states(store, mixed) == {
        "a@uji.example": "sent",
        "salah@uji.example": "failed",
        "b@uji.example": "sent",
    }
    (row,) = mail.outbox_rows(store, include_done=True)
    assert row["status"] == "partial" and row["sent_at"]
    refused = [r for r in row["recipients"] if r["status"] == "failed"][0]
    assert refused["reply"] == "550 5.1.1 <salah@uji.example>: no such user"
    assert result.exit_code == ExitCode.PROBLEMS and "salah@uji.example" in result.summary()
    # the next flush sends nothing twice and has nothing to complain about
    again = mail.flush(store, config, NOW + timedelta(hours=1))
    assert again.outcomes == [] and again.exit_code == 0 and len(server.received) == 1


def test_a_refused_message_never_blocks_the_queue(scripted_smtp, tmp_path):
    server = scripted_smtp(rcpt_replies={"pokja1@uji.example": "550 5.7.1 relaying denied"})
    config = make_config(server.host, server.port, tmp_path)
    store = store_at(tmp_path)
    first = queue(store, config, ["pokja1@uji.example"], "pokja 1")
    later = [queue(store, config, [f"pokja{i}@uji.example"], f"pokja {i}") for i in (2, 3)]

    cli = run_cli("--config", _toml(tmp_path, server), "outbox", "flush")

    assert cli.exit_code == 1, cli.stderr
    assert "550 5.7.1 relaying denied" in cli.stderr and "pokja1@uji.example" in cli.stderr
    assert sorted(r.rcpt_tos[0] for r in server.received) == [
        "pokja2@uji.example",
        "pokja3@uji.example",
    ]
    rows = {r["id"]: r["status"] for r in mail.outbox_rows(store, include_done=True)}
    assert rows == {first: "failed", later[0]: "sent", later[1]: "sent"}
    # dead letter: later flushes neither retry it nor fail because of it
    again = run_cli("--config", _toml(tmp_path, server), "outbox", "flush")
    assert again.exit_code == 0 and len(server.received) == 2
    listed = run_cli("--config", _toml(tmp_path, server), "outbox", "list")
    assert "failed" in listed.stdout and "pokja1@uji.example [failed]" in listed.stdout


def _toml(tmp_path: Path, server, extra: str = "") -> str:
    path = tmp_path / "lpsectl.toml"
    path.write_text(
        f'[lpse]\ndata_dir = "{tmp_path / "data"}"\n'
        f'[mail]\nsmtp_host = "{server.host}"\nsmtp_port = {server.port}\ntimeout = 5\n'
        'sender = "LPSE Kabupaten Uji <lpse@uji.example>"\n'
        'helpdesk = ["helpdesk@uji.example"]\n' + extra,
        encoding="utf-8",
    )
    return str(path)


def test_451_at_data_defers_with_back_off_then_delivers_once(scripted_smtp, tmp_path):
    server = scripted_smtp(data_replies=["451 4.3.0 try again later"])
    config = make_config(server.host, server.port, tmp_path)
    store = store_at(tmp_path)
    outbox_id = queue(store, config, ["a@uji.example"], "nanti")

    first = mail.flush(store, config, NOW)
    assert first.exit_code == ExitCode.UNAVAILABLE and first.deferred
    (row,) = mail.outbox_rows(store)
    assert (
        row["status"] == "deferred"
        and row["recipients"][0]["reply"] == "message refused at DATA: 451 4.3.0 try again later"
    )
    assert mail.timeutil.parse_iso(row["next_attempt_at"]) == NOW + mail.BACKOFF[0]

    early = mail.flush(store, config, NOW + timedelta(minutes=1))
    assert early.outcomes == [] and server.received == []

    due = mail.flush(store, config, NOW + mail.BACKOFF[0])
    assert due.exit_code == 0 and due.sent == [outbox_id]
    assert len(server.received) == 1 and states(store, outbox_id) == {"a@uji.example": "sent"}
    assert mail.flush(store, config, NOW + timedelta(hours=2)).outcomes == []


def test_550_at_data_is_a_dead_letter_and_the_next_message_goes(scripted_smtp, tmp_path):
    server = scripted_smtp(data_replies=["554 5.6.0 message content rejected"])
    config = make_config(server.host, server.port, tmp_path)
    store = store_at(tmp_path)
    bad = queue(store, config, ["a@uji.example", "b@uji.example"], "ditolak")
    good = queue(store, config, ["c@uji.example"], "diterima")

    result = mail.flush(store, config, NOW)

    assert states(store, bad) == {"a@uji.example": "failed", "b@uji.example": "failed"}
    assert {r["id"]: r["status"] for r in mail.outbox_rows(store, include_done=True)} == {
        bad: "failed",
        good: "sent",
    }
    assert [r.rcpt_tos for r in server.received] == [["c@uji.example"]]
    assert result.exit_code == ExitCode.PROBLEMS and "554 5.6.0" in result.failed[bad]


def test_deferred_too_long_is_given_up(scripted_smtp, tmp_path):
    server = scripted_smtp(rcpt_replies={"a@uji.example": "450 4.2.1 mailbox busy"})
    config = make_config(server.host, server.port, tmp_path, retry_hours=2)
    store = store_at(tmp_path)
    outbox_id = queue(store, config, ["a@uji.example"], "sibuk")
    assert mail.flush(store, config, NOW).exit_code == ExitCode.UNAVAILABLE
    assert states(store, outbox_id) == {"a@uji.example": "deferred"}
    late = mail.flush(store, config, NOW + timedelta(hours=3))
    assert late.exit_code == ExitCode.PROBLEMS
    (row,) = mail.outbox_rows(store)
    assert row["status"] == "failed"
    assert row["recipients"][0]["reply"].startswith(
        "gave up after 2 hours of deferrals; last: 450 4.2.1"
    )


def test_connection_dropped_after_data_defers_that_message_and_goes_on(dropping_smtp, tmp_path):
    config = make_config(dropping_smtp.host, dropping_smtp.port, tmp_path)
    store = store_at(tmp_path)
    first = queue(store, config, ["a@uji.example"], "putus")
    second = queue(store, config, ["b@uji.example"], "lanjut")

    result = mail.flush(store, config, NOW)

    assert states(store, first) == {"a@uji.example": "deferred"}
    assert states(store, second) == {"b@uji.example": "sent"}  # a new connection took it
    assert "connection lost while sending" in result.deferred[first]
    assert result.exit_code == ExitCode.UNAVAILABLE
    assert len(dropping_smtp.messages) == 1 and b"lanjut" in dropping_smtp.messages[0]
    later = mail.flush(store, config, NOW + mail.BACKOFF[0])
    assert later.sent == [first] and len(dropping_smtp.messages) == 2
    assert not [r for r in mail.outbox_rows(store, include_done=True) if r["status"] == "sending"]


def test_non_ascii_address_needs_smtputf8(scripted_smtp, tmp_path):
    old = scripted_smtp(smtputf8=False)
    config = make_config(old.host, old.port, tmp_path)
    store = store_at(tmp_path)
    mixed = queue(store, config, ["pokjā@contoh.example", "biasa@contoh.example"], "utf8")

    result = mail.flush(store, config, NOW)

    assert states(store, mixed) == {
        "pokjā@contoh.example": "failed",
        "biasa@contoh.example": "sent",
    }
    assert "SMTPUTF8" in result.failed[mixed]
    assert [r.rcpt_tos for r in old.received] == [["biasa@contoh.example"]]
    assert old.received[0].data.isascii()  # headers the old server can carry

    modern = scripted_smtp(smtputf8=True)
    config2 = make_config(modern.host, modern.port, tmp_path / "b")
    store2 = store_at(tmp_path / "b")
    wide = queue(store2, config2, ["pokjā@contoh.example"], "utf8")
    assert mail.flush(store2, config2, NOW).exit_code == 0
    assert [r.rcpt_tos for r in modern.received] == [["pokjā@contoh.example"]]
    assert states(store2, wide) == {"pokjā@contoh.example": "sent"}
    assert "pokjā@contoh.example" in str(modern.received[0].message["To"])


def test_idn_domain_is_encoded_on_the_wire(scripted_smtp, tmp_path):
    server = scripted_smtp(smtputf8=False)
    config = make_config(server.host, server.port, tmp_path)
    store = store_at(tmp_path)
    queue(store, config, ["pokja@bücher.example"], "idn")
    assert mail.flush(store, config, NOW).exit_code == 0
    assert server.received[0].rcpt_tos == ["pokja@" + "bücher.example".encode("idna").decode()]


def test_a_display_name_with_a_comma_is_one_recipient(scripted_smtp, tmp_path):
    server = scripted_smtp()
    head = "Bapak Wiryo Santoso, S.Kom. <kepala@contoh.example>"
    config = make_config(server.host, server.port, tmp_path, head=[head])
    store = store_at(tmp_path)
    queue(store, config, config.mail.head, "kepala")
    mail.flush(store, config, NOW)
    (received,) = server.received
    assert received.rcpt_tos == ["kepala@contoh.example"]
    (address,) = received.message["To"].addresses
    assert (
        address.display_name == "Bapak Wiryo Santoso, S.Kom."
        and address.addr_spec == "kepala@contoh.example"
    )


@pytest.mark.parametrize(
    "key,value,fragment",
    [
        ("head", ["kepala@contoh.example\r\nBcc: x@evil.example"], "control character"),
        ("helpdesk", ["helpdesk"], "has no '@'"),
        ("helpdesk", ["a@b.example, c@d.example"], "is not one e-mail address"),
        ("sender", "LPSE <lpse@>", "nothing after the '@'"),
    ],
)
def test_bad_config_addresses_are_refused_at_load(key, value, fragment, tmp_path):
    with pytest.raises(ConfigError, match=fragment) as raised:
        make_config("127.0.0.1", 25, tmp_path, **{key: value})
    assert f"mail.{key}" in raised.value.message


def test_auth_without_tls_is_refused_unless_allowed_explicitly(tmp_path):
    with pytest.raises(ConfigError, match="clear text") as raised:
        make_config("127.0.0.1", 25, tmp_path, username="lpse", password_file="/x")
    assert "starttls = true" in raised.value.message
    allowed = make_config(
        "127.0.0.1", 25, tmp_path, username="lpse", password_file="/x", allow_plain_auth=True
    )
    assert allowed.mail.allow_plain_auth


def test_starttls_with_a_self_signed_certificate_trusted_through_ca_file(
    smtp_cert, tmp_path, monkeypatch
):
    from tests.fixtures.common import free_port
    from tests.fixtures.smtp import TLS_PASSWORD, TLS_USER, SmtpServer

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    cert, key = smtp_cert
    server = SmtpServer(port=free_port(), tls=True, cafile=str(cert), keyfile=str(key))
    server.start()
    try:
        secret = tmp_path / "smtp.secret"
        secret.write_text(TLS_PASSWORD)
        common = {"starttls": True, "username": TLS_USER, "password_file": str(secret)}
        untrusted = make_config(server.host, server.port, tmp_path, **common)
        store = store_at(tmp_path)
        queue(store, untrusted, ["a@uji.example"], "tls")
        refused = mail.flush(store, untrusted, NOW)
        assert refused.exit_code == ExitCode.CONFIG and "mail.ca_file" in refused.error
        assert "certificate" in refused.error and server.received == []

        trusted = make_config(server.host, server.port, tmp_path, ca_file=str(cert), **common)
        assert mail.flush(store, trusted, NOW).exit_code == 0
        assert len(server.received) == 1
    finally:
        server.stop()


def test_ca_file_that_does_not_exist_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="mail.ca_file"):
        make_config("127.0.0.1", 25, tmp_path, ca_file=str(tmp_path / "nope.pem"))


def test_retry_and_drop_from_the_command_line(scripted_smtp, tmp_path):
    server = scripted_smtp(rcpt_replies={"a@uji.example": "550 5.1.1 no such user"})
    config_path = _toml(tmp_path, server)
    config = make_config(server.host, server.port, tmp_path)
    store = store_at(tmp_path)
    first = queue(store, config, ["a@uji.example"], "satu")
    second = queue(store, config, ["a@uji.example", "b@uji.example"], "dua")
    assert run_cli("--config", config_path, "outbox", "flush").exit_code == 1

    shown = run_cli("--config", config_path, "outbox", "show", str(second))
    assert "partial" in shown.stdout and "550 5.1.1 no such user" in shown.stdout
    assert (
        run_cli("--config", config_path, "outbox", "show", str(second), "--format", "json").json()[
            "recipients"
        ][0]["reply"]
        == "550 5.1.1 no such user"
    )

    server.handler.rcpt_replies.clear()  # the mailbox was created
    retried = run_cli("--config", config_path, "outbox", "retry", str(second))
    assert retried.exit_code == 0, retried.stderr
    assert [sorted(r.rcpt_tos) for r in server.received] == [["b@uji.example"], ["a@uji.example"]]
    assert states(store, second) == {"a@uji.example": "sent", "b@uji.example": "sent"}

    dropped = run_cli("--config", config_path, "outbox", "drop", str(first), "--why", "alamat lama")
    assert dropped.exit_code == 0
    assert mail.outbox_rows(store) == []  # nothing waits or failed any more
    (kept,) = mail.outbox_rows(store, include_done=True, ids=[first])
    assert kept["status"] == "dropped" and "alamat lama" in kept["last_error"]
    sent_again = run_cli("--config", config_path, "outbox", "retry", str(second))
    assert sent_again.exit_code == 2 and "nothing to retry" in sent_again.stderr
    missing = run_cli("--config", config_path, "outbox", "drop", "99")
    assert missing.exit_code == 2 and "does not exist" in missing.stderr


# -- found by trying to break it ---------------------------------------------------------


def test_a_server_that_trickles_its_greeting_is_given_up_within_the_step_budget(
    trickling_smtp, tmp_path
):
    import time

    config = make_config(trickling_smtp.host, trickling_smtp.port, tmp_path, timeout=2)
    store = store_at(tmp_path)
    queue(store, config, ["a@uji.example"], "pelan")
    started = time.monotonic()
    result = mail.flush(store, config, NOW)
    took = time.monotonic() - started
    assert took < mail.step_budget(config.mail) + 5, took
    assert (
        result.exit_code == ExitCode.UNAVAILABLE and "no complete answer within 6 s" in result.error
    )
    (row,) = mail.outbox_rows(store)
    assert row["status"] == "queued"  # untried, and never left "sending"


def test_421_reconnects_and_sends_the_message_again(scripted_smtp, tmp_path):
    server = scripted_smtp(data_replies=["421 4.4.2 closing: too many messages on this connection"])
    config = make_config(server.host, server.port, tmp_path)
    store = store_at(tmp_path)
    ids = [queue(store, config, [f"p{i}@uji.example"], f"m{i}") for i in range(3)]
    result = mail.flush(store, config, NOW)
    assert result.exit_code == 0, result.summary()
    assert sorted(r.rcpt_tos[0] for r in server.received) == [f"p{i}@uji.example" for i in range(3)]
    assert all(states(store, i) == {f"p{n}@uji.example": "sent"} for n, i in enumerate(ids))


def test_452_too_many_recipients_sends_the_rest_at_once(scripted_smtp, tmp_path):
    server = scripted_smtp(max_rcpt=3)
    config = make_config(server.host, server.port, tmp_path)
    store = store_at(tmp_path)
    to = [f"pokja{i}@uji.example" for i in range(10)]
    outbox_id = queue(store, config, to, "banyak")
    result = mail.flush(store, config, NOW)
    assert result.exit_code == 0, result.summary()
    assert [len(r.rcpt_tos) for r in server.received] == [3, 3, 3, 1]
    assert sorted(a for r in server.received for a in r.rcpt_tos) == sorted(to)
    assert set(states(store, outbox_id).values()) == {"sent"}


def test_retry_hours_count_from_the_first_deferral_not_from_queueing(scripted_smtp, tmp_path):
    server = scripted_smtp(rcpt_replies={"a@uji.example": "451 4.7.1 greylisted, try later"})
    config = make_config(server.host, server.port, tmp_path, retry_hours=2)
    store = store_at(tmp_path)
    outbox_id = queue(store, config, ["a@uji.example"], "abu-abu")
    later = NOW + timedelta(days=4)  # queued during a long-weekend outage
    assert mail.flush(store, config, later).exit_code == ExitCode.UNAVAILABLE
    assert states(store, outbox_id) == {"a@uji.example": "deferred"}  # not given up at once
    server.handler.rcpt_replies.clear()
    assert mail.flush(store, config, later + mail.BACKOFF[0]).exit_code == 0
    assert states(store, outbox_id) == {"a@uji.example": "sent"}


@pytest.mark.parametrize("content", ["\ufeffrahasia-uji\n", "pässwort\n"])
def test_password_file_with_a_bom_or_non_ascii(content, smtp_cert, tmp_path, monkeypatch):
    from tests.fixtures.common import free_port
    from tests.fixtures.smtp import TLS_USER, SmtpServer

    cert, key = smtp_cert
    server = SmtpServer(port=free_port(), tls=True, cafile=str(cert), keyfile=str(key))
    server.start()
    try:
        secret = tmp_path / "smtp.secret"
        secret.write_text(content, encoding="utf-8")
        config = make_config(
            server.host,
            server.port,
            tmp_path,
            starttls=True,
            username=TLS_USER,
            password_file=str(secret),
            ca_file=str(cert),
        )
        store = store_at(tmp_path)
        queue(store, config, ["a@uji.example"], "x")
        result = mail.flush(store, config, NOW)
        if content.startswith("\ufeff"):
            assert result.exit_code == 0, result.error  # Notepad's BOM is not part of the password
        else:
            assert result.exit_code == ExitCode.CONFIG and "only ASCII" in result.error
            assert [r["status"] for r in mail.outbox_rows(store)] == ["queued"]
    finally:
        server.stop()


@pytest.mark.parametrize(
    "key,value,fragment",
    [
        ("smtp_host", "a..b", "is not a host name"),
        ("smtp_host", "", "is not a host name"),
        ("sender", "LPSE <lpsé@uji.example>", "non-ASCII letters before the '@'"),
        ("head", ["kepala\u200b@uji.example"], "invisible character (U+200B ZERO WIDTH SPACE)"),
        ("head", ["kepala\u00a0lpse@uji.example"], "invalid part before the '@'"),
        ("head", ["Bapak \u202eWiryo <kepala@uji.example>"], "invisible character (U+202E"),
    ],
)
def test_more_bad_config_values_are_refused_at_load(key, value, fragment, tmp_path):
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        make_config("127.0.0.1", 25, tmp_path, **{key: value})


def test_huge_or_odd_outbox_ids_are_usage_errors(scripted_smtp, tmp_path):
    server = scripted_smtp()
    config_path = _toml(tmp_path, server)
    for args in (("retry", "99999999999999999999"), ("drop", "0"), ("show", "-5"), ("show", "abc")):
        result = run_cli("--config", config_path, "outbox", *args)
        assert result.exit_code == 2, (args, result.stderr)


def test_raw_show_is_the_stored_message(scripted_smtp, tmp_path):
    server = scripted_smtp()
    config = make_config(server.host, server.port, tmp_path)
    store = store_at(tmp_path)
    outbox_id = queue(store, config, ["pokjā@contoh.example"], "utf8")
    shown = run_cli("--config", _toml(tmp_path, server), "outbox", "show", str(outbox_id), "--raw")
    assert "To: pokjā@contoh.example" in shown.stdout and "unknown-8bit" not in shown.stdout


def test_an_interrupted_flush_leaves_nothing_sending(trickling_smtp, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    config = make_config(trickling_smtp.host, trickling_smtp.port, tmp_path, timeout=20)
    store = store_at(tmp_path)
    outbox_id = queue(store, config, ["a@uji.example"], "putus")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lpsectl",
            "--config",
            _toml(tmp_path, trickling_smtp),
            "outbox",
            "flush",
        ],
        stderr=subprocess.PIPE,
        text=True,
        # started as a shell's background job is: with SIGINT ignored (Python then installs
        # no handler of its own); lpsectl must still be interruptible by cron's SIGINT
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    # interrupted while it talks to the server (a loaded machine may take a while to start it)
    deadline = time.monotonic() + 60
    while trickling_smtp.connections == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1)
    proc.send_signal(signal.SIGINT)  # cron's `timeout -s INT`, or Ctrl-C
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in stderr, stderr
    (row,) = mail.outbox_rows(store)
    assert row["id"] == outbox_id and row["status"] == "queued"
    assert (
        run_cli(
            "--config", _toml(tmp_path, trickling_smtp), "outbox", "drop", str(outbox_id)
        ).exit_code
        == 0
    )


# -- found by the review ---------------------------------------------------------------


def test_two_addresses_in_one_value_are_refused_not_half_taken(tmp_path):
    for value in ("Kepala <a@x.example>, Wakil <b@y.example>", "a@x.example <b@y.example>"):
        with pytest.raises(ConfigError, match="holds more than one address"):
            make_config("127.0.0.1", 25, tmp_path, head=[value])


def test_a_sender_refused_after_a_452_never_resends_to_who_got_it(scripted_smtp, tmp_path):
    server = scripted_smtp(max_rcpt=1)
    server.handler.mail_replies = ["", "550 5.7.1 sender blocked for now"]
    config = make_config(server.host, server.port, tmp_path)
    store = store_at(tmp_path)
    outbox_id = queue(store, config, ["a@uji.example", "b@uji.example"], "dua")
    first = mail.flush(store, config, NOW)
    assert first.exit_code == ExitCode.CONFIG and "550 5.7.1" in first.error
    assert [r.rcpt_tos for r in server.received] == [["a@uji.example"]]
    assert states(store, outbox_id) == {"a@uji.example": "sent", "b@uji.example": "deferred"}
    later = mail.flush(store, config, NOW + timedelta(hours=1))
    assert later.exit_code == 0
    assert [r.rcpt_tos for r in server.received] == [["a@uji.example"], ["b@uji.example"]]


def test_an_old_server_gets_every_header_encoded(scripted_smtp, tmp_path):
    server = scripted_smtp(smtputf8=False)
    config = make_config(server.host, server.port, tmp_path)
    store = store_at(tmp_path)
    message = mail.build_message(
        config,
        to=["pokjā@contoh.example", "Bu Ānī <ani@contoh.example>"],
        subject="Ujī pemeliharaan",
        text="isi",
    )
    mail.queue_message(store, message, "t", now=NOW)
    mail.flush(store, config, NOW)
    (received,) = server.received
    assert received.data.isascii()
    parsed = received.message
    assert str(parsed["Subject"]) == "Ujī pemeliharaan"
    assert [a.display_name for a in parsed["To"].addresses][-1] == "Bu Ānī"
