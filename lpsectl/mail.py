"""E-mail: building MIME messages, the outbox spool, and SMTP delivery.

Nothing is ever sent straight away: every message is first written to the
``outbox`` table (in the same store as the history), then :func:`flush`
delivers what is pending. A failed send stays in the outbox with its error
and is retried by the next flush (``lpsectl outbox flush``, run by cron).

API for other features (e.g. ``report daily --email``)::

    from lpsectl import mail
    message = mail.build_message(config, to=config.mail.head, subject="Laporan ...",
                                 text=text, html=html,
                                 attachments=[mail.Attachment("laporan.pdf", data, "application/pdf")])
    mail.enqueue(store, message, purpose="report-daily", ref="report:2026-12-07")
    result = mail.flush(store, config, now)     # -> FlushResult
    if result.error or result.failed: ...       # messages stay in the outbox

"Never sent twice": every message has a Message-ID; enqueueing a message
whose Message-ID is already in the outbox returns the existing row instead
of adding a copy (so callers can make Message-IDs deterministic and re-run
safely), and a flush claims each row atomically (``pending`` → ``sending``)
before handing it to the server, then marks it ``sent``. A row left in
``sending`` by a run that died mid-send is given back to ``pending`` after
``STALE_CLAIM`` and re-sent with the same Message-ID (receiving mail clients
fold duplicates with one Message-ID); this is the only case of a repeat.
"""

from __future__ import annotations

import copy
import smtplib
import socket
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from lpsectl import timeutil
from lpsectl.config import Config, MailSettings
from lpsectl.errors import ConfigError, ExitCode, UsageError
from lpsectl.store import Store, decode_json

#: a claim older than this is from a run that died while sending
STALE_CLAIM = timedelta(minutes=15)

PENDING, SENDING, SENT = "pending", "sending", "sent"


@dataclass
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"
    #: extra Content-Type parameters, e.g. {"method": "PUBLISH"} for text/calendar
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class FlushResult:
    """What one flush did. ``error`` is set when the server could not be used at all."""

    sent: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    remaining: int = 0
    error: str | None = None
    error_exit: int = int(ExitCode.UNAVAILABLE)
    released: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed


# -- building ------------------------------------------------------------------

def sender_domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"


def build_message(
    config: Config,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Iterable[Attachment] = (),
    cc: Sequence[str] = (),
    bcc: Sequence[str] = (),
    message_id: str | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """A message from ``mail.sender``: text part, optional HTML alternative, attachments.

    Text parts are quoted-printable so the stored message is 7-bit clean.
    ``message_id`` (without angle brackets is fine) makes re-enqueueing idempotent.
    """
    message = EmailMessage()
    message["From"] = config.mail.sender
    if to:
        message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    if bcc:
        message["Bcc"] = ", ".join(bcc)
    message["Subject"] = subject
    message["Date"] = format_datetime(now or timeutil.now(config.tz))
    message["Message-ID"] = _bracket(message_id) if message_id else make_msgid(
        domain=sender_domain(config.mail.sender)
    )
    message.set_content(text, cte="quoted-printable")
    if html is not None:
        message.add_alternative(html, subtype="html", cte="quoted-printable")
    for item in attachments:
        maintype, _, subtype = item.mime_type.partition("/")
        message.add_attachment(
            item.content, maintype=maintype, subtype=subtype, filename=item.filename,
            params=item.params,
        )
    return message


def deterministic_message_id(config: Config, *parts: object) -> str:
    """``<part1.part2...@sender-domain>``: the same inputs always give the same id."""
    local = ".".join(str(p).replace("@", "-at-").replace(" ", "_") for p in parts)
    return f"<{local}@{sender_domain(config.mail.sender)}>"


def _bracket(message_id: str) -> str:
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def recipients_of(message: EmailMessage) -> list[str]:
    """Envelope recipients: To + Cc + Bcc, each address once, in order."""
    values = [str(v) for key in ("To", "Cc", "Bcc") for v in message.get_all(key, [])]
    seen: list[str] = []
    for _, address in getaddresses(values):
        if address and address not in seen:
            seen.append(address)
    return seen


def describe(message: EmailMessage) -> dict[str, Any]:
    """What a message is, for --dry-run and listings: headers, parts, text."""
    parts = [p.get_content_type() for p in message.walk() if not p.is_multipart()]
    attachments = [p.get_filename() for p in message.iter_attachments()]
    text_part = message.get_body(preferencelist=("plain",))
    return {
        "message_id": str(message["Message-ID"] or ""),
        "from": str(message["From"] or ""),
        "to": _header_list(message, "To"),
        "cc": _header_list(message, "Cc"),
        "bcc": _header_list(message, "Bcc"),
        "subject": str(message["Subject"] or ""),
        "parts": parts,
        "attachments": attachments,
        "text": text_part.get_content() if text_part is not None else "",
    }


def _header_list(message: EmailMessage, name: str) -> list[str]:
    values = [str(v) for v in message.get_all(name, [])]
    return [address for _, address in getaddresses(values) if address]


def parse_raw(raw: str) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw.encode("utf-8"))  # type: ignore[return-value]


# -- the outbox ------------------------------------------------------------------

def enqueue(store: Store, message: EmailMessage, purpose: str, ref: str | None = None,
            now: datetime | None = None) -> int:
    """Spool ``message``; return its outbox id (the existing one if already spooled)."""
    if not message["Message-ID"]:
        message["Message-ID"] = make_msgid(domain=sender_domain(str(message["From"] or "")))
    message_id = str(message["Message-ID"]).strip()
    existing = store.query_one("SELECT id FROM outbox WHERE message_id = ?", [message_id])
    if existing:
        return int(existing["id"])
    recipients = recipients_of(message)
    if not recipients:
        raise UsageError(f"e-mail {str(message['Subject'])!r} has no recipients")
    stored = copy.deepcopy(message)
    del stored["Bcc"]  # Bcc addresses travel in the envelope only
    return store.insert("outbox", {
        "message_id": message_id,
        "purpose": purpose,
        "ref": ref,
        "sender": parseaddr(str(message["From"] or ""))[1],
        "recipients": recipients,
        "subject": str(message["Subject"] or ""),
        "raw": stored.as_bytes(policy=policy.SMTP).decode("utf-8"),
        "status": PENDING,
        "attempts": 0,
        "created_at": timeutil.isoformat(now or timeutil.now()),
    })


def outbox_rows(store: Store, include_sent: bool = False, ref: str | None = None,
                ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Outbox rows (without the raw message), oldest first; recipients decoded."""
    where, params = [], []
    if not include_sent:
        where.append("status <> ?")
        params.append(SENT)
    if ref is not None:
        where.append("ref = ?")
        params.append(ref)
    if ids:
        where.append(f"id IN ({', '.join('?' for _ in ids)})")
        params.extend(ids)
    sql = (
        "SELECT id, message_id, purpose, ref, sender, recipients, subject, status, attempts, "
        "created_at, last_attempt_at, last_error, sent_at FROM outbox"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + " ORDER BY id"
    )
    rows = store.query(sql, params)
    for row in rows:
        row["recipients"] = decode_json(row["recipients"], [])
    return rows


def pending_count(store: Store) -> int:
    row = store.query_one("SELECT count(*) AS n FROM outbox WHERE status <> ?", [SENT])
    return int(row["n"]) if row else 0


def raw_message(store: Store, outbox_id: int) -> EmailMessage:
    row = store.query_one("SELECT raw FROM outbox WHERE id = ?", [outbox_id])
    if row is None:
        raise UsageError(f"outbox message {outbox_id} does not exist")
    return parse_raw(row["raw"])


def release_stale_claims(store: Store, now: datetime) -> list[int]:
    """Give rows claimed by a run that died mid-send back to ``pending``."""
    cutoff = timeutil.isoformat(now - STALE_CLAIM)
    rows = store.query(
        "SELECT id, last_attempt_at FROM outbox WHERE status = ?", [SENDING]
    )
    stale = [r["id"] for r in rows if not r["last_attempt_at"] or _before(r["last_attempt_at"], cutoff)]
    for row_id in stale:
        store.execute(
            "UPDATE outbox SET status = ?, last_error = ? WHERE id = ? AND status = ?",
            [PENDING, "a previous send was interrupted; sending again with the same Message-ID",
             row_id, SENDING],
        )
    return stale


def _before(stamp: str, cutoff: str) -> bool:
    return timeutil.parse_iso(stamp) < timeutil.parse_iso(cutoff)


# -- SMTP ----------------------------------------------------------------------------

def read_password(mail: MailSettings) -> str:
    """The SMTP password from ``mail.password_file`` (never from argv or the config)."""
    if not mail.password_file:
        raise ConfigError("mail.password_file is empty but mail.username is set; "
                          "put the SMTP password in a file readable only by lpsectl")
    path = Path(mail.password_file).expanduser()
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read mail.password_file: {exc.strerror}") from exc


def connect(mail: MailSettings) -> smtplib.SMTP:
    """An SMTP session, with STARTTLS/SSL and login as the config says."""
    context = ssl.create_default_context(cafile=getattr(mail, "ca_file", "") or None)
    if mail.ssl:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            mail.smtp_host, mail.smtp_port, timeout=mail.timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(mail.smtp_host, mail.smtp_port, timeout=mail.timeout)
    try:
        smtp.ehlo()
        if mail.starttls and not mail.ssl:
            smtp.starttls(context=context)
            smtp.ehlo()
        if mail.username:
            smtp.login(mail.username, read_password(mail))
    except BaseException:
        smtp.close()
        raise
    return smtp


def flush(store: Store, config: Config, now: datetime, ids: Sequence[int] | None = None) -> FlushResult:
    """Send pending outbox messages (all, or only ``ids``); never raises for SMTP trouble.

    A connection or login failure leaves every message pending with that error
    recorded (``FlushResult.error``); a message the server refuses stays pending
    with its own error (``FlushResult.failed``) while the others go out.
    """
    result = FlushResult(released=release_stale_claims(store, now))
    rows = _pending_rows(store, ids)
    if not rows:
        return result
    where = f"{config.mail.smtp_host}:{config.mail.smtp_port}"
    try:
        smtp = connect(config.mail)
    except ConfigError as exc:
        return _fail_all(store, rows, now, result, exc.message, int(ExitCode.CONFIG))
    except smtplib.SMTPAuthenticationError as exc:
        return _fail_all(store, rows, now, result,
                         f"{where}: the SMTP server refused the login of mail.username "
                         f"{config.mail.username!r} ({_smtp_text(exc)})", int(ExitCode.CONFIG))
    except (OSError, smtplib.SMTPException) as exc:
        return _fail_all(store, rows, now, result,
                         f"{where}: cannot use the SMTP server: {_error_text(exc)}",
                         int(ExitCode.UNAVAILABLE))
    try:
        _send_rows(store, smtp, rows, now, result, where)
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    result.remaining = pending_count(store)
    return result


def _pending_rows(store: Store, ids: Sequence[int] | None) -> list[dict[str, Any]]:
    sql = "SELECT id, sender, recipients, raw FROM outbox WHERE status = ?"
    params: list[Any] = [PENDING]
    if ids:
        sql += f" AND id IN ({', '.join('?' for _ in ids)})"
        params.extend(ids)
    return store.query(sql + " ORDER BY id", params)


def _send_rows(store: Store, smtp: smtplib.SMTP, rows: list[dict[str, Any]], now: datetime,
               result: FlushResult, where: str) -> None:
    for index, row in enumerate(rows):
        if not _claim(store, row["id"], now):
            continue  # another flush took it
        try:
            refused = smtp.sendmail(row["sender"], decode_json(row["recipients"], []),
                                    row["raw"].encode("utf-8"))
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            message = f"{where}: connection lost while sending: {_error_text(exc)}"
            _unclaim(store, row["id"], message)
            result.failed[row["id"]] = message
            for later in rows[index + 1:]:
                _record_error(store, later["id"], now, message)
                result.failed[later["id"]] = message
            return
        except smtplib.SMTPException as exc:
            message = f"{where}: the SMTP server refused the message: {_smtp_text(exc)}"
            _unclaim(store, row["id"], message)
            result.failed[row["id"]] = message
            continue
        _mark_sent(store, row["id"], refused)
        result.sent.append(row["id"])


def _claim(store: Store, row_id: int, now: datetime) -> bool:
    changed = store.execute(
        "UPDATE outbox SET status = ?, attempts = attempts + 1, last_attempt_at = ? "
        "WHERE id = ? AND status = ?",
        [SENDING, timeutil.isoformat(now), row_id, PENDING],
    )
    return changed == 1


def _unclaim(store: Store, row_id: int, error: str) -> None:
    store.execute("UPDATE outbox SET status = ?, last_error = ? WHERE id = ?", [PENDING, error, row_id])


def _mark_sent(store: Store, row_id: int, refused: dict[str, Any]) -> None:
    note = None
    if refused:
        note = "refused recipients: " + ", ".join(
            f"{addr} ({_decode(reply[1])})" for addr, reply in refused.items()
        )
    store.execute(
        "UPDATE outbox SET status = ?, sent_at = ?, last_error = ? WHERE id = ?",
        [SENT, timeutil.isoformat(timeutil.now()), note, row_id],
    )


def _record_error(store: Store, row_id: int, now: datetime, error: str) -> None:
    store.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?, last_error = ? "
        "WHERE id = ? AND status = ?",
        [timeutil.isoformat(now), error, row_id, PENDING],
    )


def _fail_all(store: Store, rows: list[dict[str, Any]], now: datetime, result: FlushResult,
              error: str, exit_code: int) -> FlushResult:
    for row in rows:
        _record_error(store, row["id"], now, error)
    result.error = error
    result.error_exit = exit_code
    result.remaining = pending_count(store)
    return result


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, smtplib.SMTPException):
        return _smtp_text(exc)
    return getattr(exc, "strerror", None) or str(exc) or exc.__class__.__name__


def _smtp_text(exc: BaseException) -> str:
    code = getattr(exc, "smtp_code", None)
    text = getattr(exc, "smtp_error", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "all recipients refused: " + ", ".join(
            f"{addr} ({_decode(reply[1])})" for addr, reply in exc.recipients.items()
        )
    if code is not None:
        return f"{code} {_decode(text)}"
    return str(exc) or exc.__class__.__name__


def _decode(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def format_address(name: str, address: str) -> str:
    """'Pokja Pemilihan 1 <pokja1@x>' with the display name quoted when needed."""
    return str(Address(display_name=name, addr_spec=address))


# -- calendar ------------------------------------------------------------------------

def calendar_event(uid: str, sequence: int, start: datetime, end: datetime, summary: str,
                   description: str, now: datetime, method: str = "PUBLISH",
                   organizer: str = "") -> bytes:
    """An iCalendar file with one VEVENT (times in UTC, so no VTIMEZONE is needed).

    Keep ``uid`` stable and raise ``sequence`` on every change so calendars
    update the entry instead of adding a second one; ``method="CANCEL"``
    removes it.
    """
    from icalendar import Calendar, Event, vCalAddress

    calendar = Calendar()
    calendar.add("prodid", "-//lpsectl//maintenance//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", start.astimezone(UTC))
    event.add("dtend", end.astimezone(UTC))
    event.add("summary", summary)
    event.add("description", description)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    if organizer:
        name, address = parseaddr(organizer)
        organizer_value = vCalAddress(f"mailto:{address}")
        if name:
            organizer_value.params["cn"] = name
        event.add("organizer", organizer_value)
    calendar.add_component(event)
    return calendar.to_ical()
