"""E-mail: building MIME messages, the outbox spool, and SMTP delivery.

Nothing is ever sent straight away: every message is first written to the
``outbox`` table (in the same store as the history) by :func:`queue_message`,
then :func:`flush` delivers what is due. Delivery is judged **per recipient**
from the SMTP replies (RFC 5321 §4.2.1):

* 2xx — ``sent`` for that recipient;
* 4xx, a lost connection, a timeout — ``deferred``: tried again after a
  back-off (:data:`BACKOFF`), given up as ``failed`` after ``mail.retry_hours``;
* 5xx — ``failed`` for that recipient, with the server's reply kept.

One refused recipient or message never holds up the others: the flush goes
on with the next recipient, the next message, and after a dropped
connection a new one. The message's own status sums its recipients up:
``queued``, ``sending`` (claimed), ``deferred``, ``sent``, ``partial`` (some
sent, some failed), ``failed`` (dead letter: nobody got it) or ``dropped``
(``outbox drop``; kept for the record, never deleted).

API for other features::

    from lpsectl import mail
    message = mail.build_message(config, to=config.mail.head, subject="Laporan ...",
                                 text=text, html=html, message_id=mail.message_key(...))
    queued = mail.queue_message(store, message, purpose="report-daily", ref="report:2026-12-07")
    result = mail.flush(store, config, now, ids=[queued.id])   # -> FlushResult
    result.raise_for_status()   # ProblemsError (exit 1) / UnavailableError (5) / ConfigError (4)

"Never sent twice": a message's identity is its Message-ID, built by
:func:`message_key` from what the message *is* (purpose, subject object,
recipient identity), never from a position in a file. Queueing a Message-ID
that is already in the outbox returns the existing row. A flush claims each
row atomically before talking to the server; a row left ``sending`` by a run
that died mid-send is given back after :data:`STALE_CLAIM` and sent again to
the recipients not yet marked ``sent``, with the same Message-ID (mail
clients fold duplicates with one Message-ID): the only case of a repeat.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import re
import smtplib
import socket
import ssl
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from lpsectl import timeutil
from lpsectl.addresses import AddressError, is_ascii, parse_address
from lpsectl.collect.schemas import clean_text
from lpsectl.config import Config, MailSettings
from lpsectl.errors import (
    ConfigError,
    ExitCode,
    LpsectlError,
    ProblemsError,
    UnavailableError,
    UsageError,
)
from lpsectl.files import read_secret
from lpsectl.store import Store, decode_json

#: a claim older than this is from a run that died while sending
STALE_CLAIM = timedelta(minutes=15)

#: wait after the n-th deferral (the last value repeats), like an MTA's queue runs
BACKOFF = (
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
)

QUEUED, SENDING, DEFERRED, SENT, PARTIAL, FAILED, DROPPED = (
    "queued",
    "sending",
    "deferred",
    "sent",
    "partial",
    "failed",
    "dropped",
)
#: MAIL FROM replies that say the sender or session is wrong (RFC 4954, 3207, 5321),
#: not the message: the flush stops and nothing is marked failed
SENDER_CONFIG_CODES = (530, 535, 550, 553, 554)
#: message states a flush picks up
WAITING = (QUEUED, DEFERRED)


@dataclass
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"
    #: extra Content-Type parameters, e.g. {"method": "PUBLISH"} for text/calendar
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class Outcome:
    """What happened to one recipient of one message in one flush."""

    outbox_id: int
    address: str
    status: str  # sent | deferred | failed
    reply: str = ""


@dataclass
class FlushResult:
    """What one flush did.

    ``error`` is set when the server could not be used at all (nothing was
    tried, or the rest was not tried after a connection could not be made
    again); ``outcomes`` has one entry per recipient tried.
    """

    outcomes: list[Outcome] = field(default_factory=list)
    remaining: int = 0
    error: str | None = None
    error_exit: int = int(ExitCode.UNAVAILABLE)
    released: list[int] = field(default_factory=list)

    def _ids(self, status: str) -> list[int]:
        return sorted({o.outbox_id for o in self.outcomes if o.status == status})

    @property
    def sent(self) -> list[int]:
        """Messages that reached at least one recipient in this flush."""
        return self._ids(SENT)

    def _reasons(self, status: str) -> dict[int, str]:
        out: dict[int, str] = {}
        for o in self.outcomes:
            if o.status == status:
                out.setdefault(o.outbox_id, f"{o.address}: {o.reply}")
        return out

    @property
    def failed(self) -> dict[int, str]:
        """Messages with a recipient refused for good in this flush → the first reason."""
        return self._reasons(FAILED)

    @property
    def deferred(self) -> dict[int, str]:
        """Messages with a recipient deferred (4xx, lost connection) in this flush → the first reason."""
        return self._reasons(DEFERRED)

    def recipients(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed and not self.deferred

    @property
    def exit_code(self) -> int:
        """0 all delivered; 1 a recipient refused for good; 5 server unusable or deferred; 4 login."""
        if self.error is not None:
            return self.error_exit
        if self.failed:
            return int(ExitCode.PROBLEMS)
        if self.deferred:
            return int(ExitCode.UNAVAILABLE)
        return int(ExitCode.OK)

    def merge(self, other: FlushResult) -> None:
        self.outcomes.extend(other.outcomes)
        self.released.extend(other.released)
        self.remaining = other.remaining
        if other.error is not None:
            self.error, self.error_exit = other.error, other.error_exit

    def summary(self) -> str:
        """One sentence: what was sent, what failed (with the first reason), what waits."""
        parts = [f"{len(self.recipients(SENT))} recipient(s) accepted"]
        failed = self.recipients(FAILED)
        if failed:
            parts.append(
                f"{len(failed)} refused for good ({failed[0].address}: {failed[0].reply}"
                + (", …" if len(failed) > 1 else "")
                + ")"
            )
        deferred = self.recipients(DEFERRED)
        if deferred:
            parts.append(f"{len(deferred)} deferred ({deferred[0].address}: {deferred[0].reply})")
        if self.error:
            parts.append(self.error)
        return "; ".join(parts) + f"; {self.remaining} message(s) wait in the outbox"

    def raise_for_status(self) -> None:
        """Raise the error cron acts on (see :attr:`exit_code`); return when all was delivered."""
        code = self.exit_code
        if code == ExitCode.OK:
            return
        message = self.summary()
        if self.remaining:
            message += " (`lpsectl outbox list`; `lpsectl outbox flush` sends them when due)"
        if code == ExitCode.PROBLEMS:
            message += "; see `lpsectl outbox show N` for the server's replies"
        error: LpsectlError
        if code == ExitCode.CONFIG:
            error = ConfigError(message)
        elif code == ExitCode.PROBLEMS:
            error = ProblemsError(message)
        else:
            error = UnavailableError(message)
        raise error


@dataclass
class Queued:
    """The outbox row a message is in; ``new`` is False when it was there already."""

    id: int
    new: bool
    status: str
    sent_at: str | None = None


# -- building ------------------------------------------------------------------


def sender_domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"


def addresses(values: Iterable[str | Address], where: str = "e-mail address") -> list[Address]:
    """Parse each value as one mailbox; :class:`UsageError` naming ``where`` and the value."""
    out = []
    for value in values:
        if isinstance(value, Address):
            out.append(value)
            continue
        try:
            out.append(parse_address(value))
        except AddressError as exc:
            raise UsageError(f"{where}: {exc}") from exc
    return out


def build_message(
    config: Config,
    to: Sequence[str | Address],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Iterable[Attachment] = (),
    cc: Sequence[str | Address] = (),
    bcc: Sequence[str | Address] = (),
    message_id: str | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """A message from ``mail.sender``: text part, optional HTML alternative, attachments.

    Each of ``to``/``cc``/``bcc`` is a list of single addresses (``addr`` or
    ``Name <addr>``, a name may hold commas), parsed by
    :func:`lpsectl.addresses.parse_address`; a bad one raises
    :class:`UsageError`. Text parts are quoted-printable so the stored message
    is 7-bit clean. ``message_id`` makes re-queueing idempotent.
    """
    message = EmailMessage()
    message["From"] = addresses([config.mail.sender], "mail.sender")[0]
    for header, values in (("To", to), ("Cc", cc), ("Bcc", bcc)):
        if values:
            message[header] = addresses(values, header)
    message["Subject"] = " ".join(subject.split())  # a header never carries a line break
    message["Date"] = format_datetime(now or timeutil.now(config.tz))
    message["Message-ID"] = (
        _bracket(message_id) if message_id else make_msgid(domain=sender_domain(config.mail.sender))
    )
    message.set_content(text, cte="quoted-printable")
    if html is not None:
        message.add_alternative(html, subtype="html", cte="quoted-printable")
    for item in attachments:
        maintype, _, subtype = item.mime_type.partition("/")
        message.add_attachment(
            item.content,
            maintype=maintype,
            subtype=subtype,
            filename=item.filename,
            params=item.params,
        )
    return message


_UNSAFE_ID = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")


def message_key(config: Config, *parts: object) -> str:
    """A stable Message-ID ``<part1.part2...@sender-domain>`` from what a message is.

    Pass the purpose, the subject object (window, report day) and the
    recipient identity (a committee's folded name, the set of addresses) —
    never a row number. Unsafe characters are folded to ``_``; a part longer
    than 40 characters, or one that had to be folded, is shortened and
    followed by 10 hex digits of its SHA-256, so different inputs never share
    an id.
    """
    pieces = []
    for part in parts:
        text = str(part)
        safe = _UNSAFE_ID.sub("_", text).strip("._") or "x"
        if safe != text or len(safe) > 40:
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
            safe = f"{safe[:40].rstrip('._')}-{digest}"
        pieces.append(safe)
    return f"<{'.'.join(pieces)}@{sender_domain(config.mail.sender)}>"


def recipients_key(values: Iterable[str | Address]) -> str:
    """The recipient identity of a list of addresses: sorted, lower-cased addr-specs."""
    specs = sorted({a.addr_spec.lower() for a in addresses(values)})
    return hashlib.sha256("\n".join(specs).encode("utf-8")).hexdigest()[:12]


def _bracket(message_id: str) -> str:
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def recipients_of(message: EmailMessage) -> list[str]:
    """Envelope recipients: To + Cc + Bcc addr-specs, each once (case-insensitively), in order."""
    seen: list[str] = []
    for key in ("To", "Cc", "Bcc"):
        for header in message.get_all(key, []):
            for address in getattr(header, "addresses", ()):
                spec = address.addr_spec
                if spec and spec.lower() not in {s.lower() for s in seen}:
                    seen.append(spec)
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
    return [a.addr_spec for h in message.get_all(name, []) for a in getattr(h, "addresses", ())]


def parse_raw(raw: str) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw.encode("utf-8"))


def _serialise(message: EmailMessage) -> str:
    """The message as stored: SMTP line endings; UTF-8 headers only where an address needs them.

    With an address whose local part is not ASCII the headers are written as
    UTF-8 (RFC 6532); :func:`flush` then needs the server's SMTPUTF8.
    """
    specs = recipients_of(message) + [a.addr_spec for a in message["From"].addresses]
    utf8 = not all(is_ascii(spec) for spec in specs)
    return message.as_bytes(policy=policy.SMTPUTF8 if utf8 else policy.SMTP).decode("utf-8")


# -- the outbox ------------------------------------------------------------------


def queue_message(
    store: Store,
    message: EmailMessage,
    purpose: str,
    ref: str | None = None,
    now: datetime | None = None,
) -> Queued:
    """Spool ``message`` with one ``queued`` row per envelope recipient.

    Returns the row, ``new=False`` (and its status) when the Message-ID was
    already spooled — the caller can tell "sent before" from "queued now".
    Raises :class:`UsageError` for a message without recipients.
    """
    if not message["Message-ID"]:
        message["Message-ID"] = make_msgid(domain=sender_domain(str(message["From"] or "")))
    message_id = str(message["Message-ID"]).strip()
    existing = store.query_one(
        "SELECT id, status, sent_at FROM outbox WHERE message_id = ?", [message_id]
    )
    if existing:
        return Queued(int(existing["id"]), False, existing["status"], existing["sent_at"])
    recipients = recipients_of(message)
    if not recipients:
        raise UsageError(f"e-mail {str(message['Subject'])!r} has no recipients")
    stored = copy.deepcopy(message)
    del stored["Bcc"]  # Bcc addresses travel in the envelope only
    stamp = timeutil.isoformat(now or timeutil.now())
    with store.transaction():
        outbox_id = store.insert(
            "outbox",
            {
                "message_id": message_id,
                "purpose": purpose,
                "ref": ref,
                "sender": message["From"].addresses[0].addr_spec,
                "recipients": recipients,
                "subject": str(message["Subject"] or ""),
                "raw": _serialise(stored),
                "status": QUEUED,
                "attempts": 0,
                "created_at": stamp,
            },
        )
        _add_recipients(store, outbox_id, recipients, stamp)
    return Queued(outbox_id, True, QUEUED)


def _add_recipients(store: Store, outbox_id: int, recipients: Sequence[str], stamp: str) -> None:
    for address in recipients:
        store.execute(
            "INSERT INTO outbox_recipients (outbox_id, address, status, attempts, updated_at) "
            "VALUES (?, ?, ?, 0, ?)",
            [outbox_id, address, QUEUED, stamp],
        )


def recipient_rows(store: Store, outbox_id: int) -> list[dict[str, Any]]:
    """Per-recipient state of one message, in envelope order.

    Messages spooled before per-recipient delivery existed get their rows
    here, with the message's own state.
    """
    rows = store.query(
        "SELECT address, status, attempts, reply, updated_at FROM outbox_recipients "
        "WHERE outbox_id = ? ORDER BY id",
        [outbox_id],
    )
    if rows:
        return rows
    message = store.query_one(
        "SELECT recipients, status, last_error, created_at FROM outbox WHERE id = ?", [outbox_id]
    )
    if message is None:
        return []
    status = {"pending": QUEUED, SENDING: QUEUED}.get(message["status"], message["status"])
    with store.transaction():
        for address in decode_json(message["recipients"], []):
            # ON CONFLICT: two readers may fill the same legacy message at once
            store.execute(
                "INSERT INTO outbox_recipients (outbox_id, address, status, attempts, reply, updated_at) "
                "VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT (outbox_id, address) DO NOTHING",
                [outbox_id, address, status, message["last_error"], message["created_at"]],
            )
    return store.query(
        "SELECT address, status, attempts, reply, updated_at FROM outbox_recipients "
        "WHERE outbox_id = ? ORDER BY id",
        [outbox_id],
    )


def outbox_rows(
    store: Store,
    include_done: bool = False,
    ref: str | None = None,
    ids: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Outbox rows (without the raw message), oldest first, each with ``recipients``
    as a list of ``{"address", "status", "attempts", "reply", "updated_at"}``.

    By default only messages still to be delivered (``queued``, ``sending``,
    ``deferred``) and those that failed (``failed``, ``partial``): what an
    admin has to look at. ``include_done`` adds ``sent`` and ``dropped``.
    """
    where: list[str] = []
    params: list[Any] = []
    if not include_done:
        where.append("status NOT IN (?, ?)")
        params += [SENT, DROPPED]
    if ref is not None:
        where.append("ref = ?")
        params.append(ref)
    if ids:
        where.append(f"id IN ({', '.join('?' for _ in ids)})")
        params.extend(ids)
    sql = (
        "SELECT id, message_id, purpose, ref, sender, subject, status, attempts, "
        "created_at, last_attempt_at, next_attempt_at, last_error, sent_at FROM outbox"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + " ORDER BY id"
    )
    rows = store.query(sql, params)
    for row in rows:
        row["recipients"] = recipient_rows(store, row["id"])
    return rows


def pending_count(store: Store) -> int:
    """Messages still to be delivered (queued, sending or deferred)."""
    row = store.query_one(
        "SELECT count(*) AS n FROM outbox WHERE status IN (?, ?, ?)", [QUEUED, SENDING, DEFERRED]
    )
    return int(row["n"]) if row else 0


def raw_text(store: Store, outbox_id: int) -> str:
    """The message exactly as stored and sent (SMTP line endings, UTF-8 headers where needed)."""
    row = store.query_one("SELECT raw FROM outbox WHERE id = ?", [outbox_id])
    if row is None:
        raise UsageError(f"outbox message {outbox_id} does not exist (`lpsectl outbox list --all`)")
    return str(row["raw"])


def raw_message(store: Store, outbox_id: int) -> EmailMessage:
    return parse_raw(raw_text(store, outbox_id))


def release_stale_claims(store: Store, now: datetime) -> list[int]:
    """Give rows claimed by a run that died mid-send back to ``queued``."""
    cutoff = now - STALE_CLAIM
    rows = store.query("SELECT id, last_attempt_at FROM outbox WHERE status = ?", [SENDING])
    stale = [
        r["id"]
        for r in rows
        if not r["last_attempt_at"] or timeutil.parse_iso(r["last_attempt_at"]) < cutoff
    ]
    for row_id in stale:
        store.execute(
            "UPDATE outbox SET status = ?, last_error = ? WHERE id = ? AND status = ?",
            [
                QUEUED,
                "a previous send was interrupted; sending again with the same Message-ID",
                row_id,
                SENDING,
            ],
        )
    return stale


def retry(store: Store, ids: Sequence[int], now: datetime) -> list[int]:
    """Make messages due now: their ``deferred``, ``failed`` and ``dropped`` recipients
    go back to ``queued`` (sent ones stay sent). Returns the ids changed.

    Raises :class:`UsageError` for an id that does not exist or was fully sent.
    """
    changed = []
    for outbox_id in ids:
        row = _existing(store, outbox_id)
        if row["status"] == SENT:
            raise UsageError(
                f"outbox message {outbox_id} was sent to every recipient; nothing to retry"
            )
        if row["status"] == SENDING:
            raise UsageError(f"outbox message {outbox_id} is being sent right now")
        recipient_rows(store, outbox_id)
        with store.transaction():
            # attempts start again: the back-off of a retried message begins at its first step
            store.execute(
                "UPDATE outbox_recipients SET status = ?, updated_at = ?, first_deferred_at = NULL, "
                "attempts = 0 WHERE outbox_id = ? AND status IN (?, ?, ?)",
                [QUEUED, timeutil.isoformat(now), outbox_id, DEFERRED, FAILED, DROPPED],
            )
            if (
                store.execute(
                    "UPDATE outbox SET status = ?, next_attempt_at = NULL WHERE id = ? "
                    "AND status <> ?",
                    [QUEUED, outbox_id, SENDING],
                )
                != 1
            ):
                raise UsageError(f"outbox message {outbox_id} is being sent right now")
        changed.append(outbox_id)
    return changed


def drop(store: Store, ids: Sequence[int], now: datetime, reason: str = "") -> list[int]:
    """Take messages out of the queue (``dropped``), kept for the record; sent recipients stay sent."""
    note = f"dropped by the administrator{': ' + reason if reason else ''}"
    for outbox_id in ids:
        row = _existing(store, outbox_id)
        if row["status"] in (SENT, DROPPED):
            raise UsageError(f"outbox message {outbox_id} is already {row['status']}")
        if row["status"] == SENDING:
            raise UsageError(f"outbox message {outbox_id} is being sent right now")
    for outbox_id in ids:
        recipient_rows(store, outbox_id)
        with store.transaction():
            store.execute(
                "UPDATE outbox_recipients SET status = ?, reply = ?, updated_at = ? "
                "WHERE outbox_id = ? AND status <> ?",
                [DROPPED, note, timeutil.isoformat(now), outbox_id, SENT],
            )
            if (
                store.execute(
                    "UPDATE outbox SET status = ?, last_error = ?, next_attempt_at = NULL "
                    "WHERE id = ? AND status <> ?",
                    [DROPPED, note, outbox_id, SENDING],
                )
                != 1
            ):
                raise UsageError(f"outbox message {outbox_id} is being sent right now")
    return list(ids)


def not_delivered_error(row: dict[str, Any]) -> LpsectlError:
    """The error for an :func:`outbox_rows` row that is not (fully) sent: exit 5 while it
    waits, exit 1 when a recipient was refused for good or it was dropped."""
    problems = [
        f"{r['address']}: {r['status']}" + (f" ({r['reply']})" if r["reply"] else "")
        for r in row["recipients"]
        if r["status"] != SENT
    ]
    text = f"outbox message {row['id']} is {row['status']}: " + "; ".join(problems)
    if row["status"] in WAITING or row["status"] == SENDING:
        when = f", next try after {row['next_attempt_at']}" if row.get("next_attempt_at") else ""
        return UnavailableError(f"{text}{when} (`lpsectl outbox flush` sends it when due)")
    return ProblemsError(
        f"{text} (`lpsectl outbox show {row['id']}`; `lpsectl outbox retry {row['id']}` "
        "sends it again)"
    )


def _existing(store: Store, outbox_id: int) -> dict[str, Any]:
    row = store.query_one("SELECT id, status FROM outbox WHERE id = ?", [outbox_id])
    if row is None:
        raise UsageError(f"outbox message {outbox_id} does not exist (`lpsectl outbox list --all`)")
    return row


# -- SMTP ----------------------------------------------------------------------------


def read_password(mail: MailSettings) -> str:
    """The SMTP password from ``mail.password_file`` (never from argv or the config)."""
    if not mail.password_file:
        raise ConfigError(
            "mail.password_file is empty but mail.username is set; "
            "put the SMTP password in a file readable only by lpsectl"
        )
    path = Path(mail.password_file).expanduser()
    try:
        return read_secret(path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read mail.password_file: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: mail.password_file is not UTF-8 text") from exc


def tls_context(mail: MailSettings) -> ssl.SSLContext:
    """The system's CAs, or ``mail.ca_file`` for an internal CA / self-signed certificate."""
    cafile = str(Path(mail.ca_file).expanduser()) if mail.ca_file else None
    try:
        return ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"mail.ca_file: {cafile}: not a PEM certificate lpsectl can read "
            f"({getattr(exc, 'strerror', None) or exc})"
        ) from exc


class Watchdog:
    """Closes an SMTP connection's socket when a whole step outlives its budget.

    ``mail.timeout`` bounds each socket read; a server that trickles a reply
    (one byte a second) never trips it. The watchdog bounds the whole step
    (greeting, login, one message) by shutting the socket down from a timer
    thread, which makes the blocked read fail at once.
    """

    def __init__(self, smtp: smtplib.SMTP) -> None:
        self.smtp = smtp
        self.timer: threading.Timer | None = None
        self.fired = False

    def arm(self, seconds: float) -> None:
        self.disarm()
        self.timer = threading.Timer(seconds, self._fire)
        self.timer.daemon = True
        self.timer.start()

    def disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _fire(self) -> None:
        self.fired = True
        sock = getattr(self.smtp, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def step_budget(mail: MailSettings, size: int = 0) -> float:
    """Seconds one step may take in all: three socket timeouts, plus 50 kB/s for a message."""
    return 3 * mail.timeout + size / 50_000


def connect(mail: MailSettings) -> smtplib.SMTP:
    """An SMTP session, with STARTTLS/SSL and login as the config says, within one step budget.

    AUTH is only sent over TLS unless ``mail.allow_plain_auth`` (the config
    loader refuses the combination too; this is the last guard).
    """
    if mail.username and not (mail.ssl or mail.starttls or mail.allow_plain_auth):
        raise ConfigError(
            "mail.username is set but neither mail.starttls nor mail.ssl: "
            "the password would cross the network in clear text"
        )
    context = tls_context(mail)
    password = read_password(mail) if mail.username else ""
    smtp: smtplib.SMTP = (
        smtplib.SMTP_SSL(timeout=mail.timeout, context=context)
        if mail.ssl
        else smtplib.SMTP(timeout=mail.timeout)
    )
    # smtplib takes the TLS server name (SNI, certificate check) from _host, which only its
    # constructor sets; connecting after construction lets the watchdog cover the greeting
    smtp._host = mail.smtp_host  # type: ignore[attr-defined]  # noqa: SLF001
    watchdog = Watchdog(smtp)
    watchdog.arm(step_budget(mail))
    try:
        smtp.connect(mail.smtp_host, mail.smtp_port)
        smtp.ehlo()
        if mail.starttls and not mail.ssl:
            if not smtp.has_extn("starttls"):
                raise ConfigError(
                    f"{mail.smtp_host}:{mail.smtp_port}: the server does not offer "
                    "STARTTLS (mail.starttls = true); check mail.smtp_port (587)"
                )
            smtp.starttls(context=context)
            smtp.ehlo()
        if mail.username:
            if not smtp.has_extn("auth"):
                raise ConfigError(
                    f"{mail.smtp_host}:{mail.smtp_port}: the server offers no AUTH here "
                    "(it may want STARTTLS first); check mail.starttls and mail.username"
                )
            try:
                smtp.login(mail.username, password)
            except UnicodeEncodeError as exc:
                raise ConfigError(
                    "mail.username or mail.password_file holds characters SMTP AUTH "
                    "cannot send (only ASCII)"
                ) from exc
    except BaseException as exc:
        smtp.close()
        if watchdog.fired and not isinstance(exc, ConfigError):
            raise TimeoutError(f"no complete answer within {step_budget(mail):g} s") from exc
        raise
    finally:
        watchdog.disarm()
    return smtp


def flush(
    store: Store, config: Config, now: datetime, ids: Sequence[int] | None = None
) -> FlushResult:
    """Deliver the messages that are due (all, or only ``ids``); never raises for SMTP trouble.

    Each recipient's outcome comes from the server's reply (see the module
    docstring). A connection that cannot be made leaves every message as it
    was, with the reason in ``FlushResult.error``; a connection lost in the
    middle is made again once for the remaining messages.
    """
    result = FlushResult(released=release_stale_claims(store, now))
    rows = _due_rows(store, now, ids)
    if not rows:
        result.remaining = pending_count(store)
        return result
    where = f"{config.mail.smtp_host}:{config.mail.smtp_port}"
    session = _Session(config.mail, where)
    claimed: int | None = None
    try:
        for row in rows:
            if not _claim(store, row["id"], now):
                continue  # another flush took it
            claimed = row["id"]
            if not session.open(result):
                _release(store, row["id"], result.error or "")
                claimed = None
                for later in rows[rows.index(row) + 1 :]:
                    _record_error(store, later["id"], now, result.error or "")
                break
            _send_one(store, config, session, row, now, result)
            claimed = None
    finally:
        if claimed is not None:  # Ctrl-C, SIGTERM, a bug: never leave a row "sending"
            _release(store, claimed, "the flush was interrupted before this message was settled")
        session.close()
    result.remaining = pending_count(store)
    return result


class _Session:
    """One SMTP connection, made when first needed and again after it was lost."""

    def __init__(self, mail: MailSettings, where: str) -> None:
        self.mail, self.where = mail, where
        self.smtp: smtplib.SMTP | None = None
        self.watchdog: Watchdog | None = None
        self.tries = 0
        #: the server refused our sender: nothing more is tried this flush
        self.refused = False

    def closed_by_server(self) -> bool:
        """smtplib closes the socket itself on a 421 ("service closing"): reconnect for
        the next message, without counting it as a lost connection."""
        if self.smtp is not None and getattr(self.smtp, "sock", None) is None:
            self.smtp = None
            self.tries = max(0, self.tries - 1)
            return True
        return False

    def open(self, result: FlushResult) -> bool:
        if self.refused:
            return False
        if self.smtp is not None:
            return True
        if self.tries >= 2:  # the first connection and one after an unexpected loss
            result.error = (
                result.error or f"{self.where}: the connection was lost twice; the rest waits"
            )
            return False
        self.tries += 1
        try:
            self.smtp = connect(self.mail)
            self.watchdog = Watchdog(self.smtp)
            return True
        except ConfigError as exc:
            result.error, result.error_exit = exc.message, int(ExitCode.CONFIG)
        except smtplib.SMTPAuthenticationError as exc:
            result.error = (
                f"{self.where}: the SMTP server refused the login of mail.username "
                f"{self.mail.username!r} ({_smtp_text(exc)})"
            )
            result.error_exit = int(ExitCode.CONFIG)
        except ssl.SSLCertVerificationError as exc:
            result.error = (
                f"{self.where}: the mail server's certificate is not trusted "
                f"({exc.verify_message}); name its CA in mail.ca_file"
            )
            result.error_exit = int(ExitCode.CONFIG)
        except (smtplib.SMTPNotSupportedError, UnicodeError, ValueError) as exc:
            result.error = f"{self.where}: cannot use the SMTP server as configured: {exc}"
            result.error_exit = int(ExitCode.CONFIG)
        except (OSError, smtplib.SMTPException) as exc:
            result.error = f"{self.where}: cannot use the SMTP server: {_error_text(exc)}"
            result.error_exit = int(ExitCode.UNAVAILABLE)
        return False

    def lost(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
        self.smtp = None

    def close(self) -> None:
        if self.smtp is None:
            return
        if self.watchdog is not None:
            self.watchdog.arm(step_budget(self.mail))  # a trickled QUIT reply must not hold us
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            self.smtp.close()
        finally:
            if self.watchdog is not None:
                self.watchdog.disarm()
        self.smtp = None


def _due_rows(store: Store, now: datetime, ids: Sequence[int] | None) -> list[dict[str, Any]]:
    sql = "SELECT id, sender, raw, created_at, next_attempt_at FROM outbox WHERE status IN (?, ?)"
    params: list[Any] = list(WAITING)
    if ids:
        sql += f" AND id IN ({', '.join('?' for _ in ids)})"
        params.extend(ids)
    rows = store.query(sql + " ORDER BY id", params)
    return [
        r
        for r in rows
        if not r["next_attempt_at"] or timeutil.parse_iso(r["next_attempt_at"]) <= now
    ]


def _send_one(
    store: Store,
    config: Config,
    session: _Session,
    row: dict[str, Any],
    now: datetime,
    result: FlushResult,
) -> None:
    """One message to its waiting recipients; every outcome recorded, the row's status settled.

    Recipients a server takes only so many of at a time (452, RFC 5321
    §4.5.3.1.10) are sent at once in further transactions; a message cut
    off by a 421 is tried once more on a new connection.
    """
    waiting = [r["address"] for r in recipient_rows(store, row["id"]) if r["status"] in WAITING]
    outcomes: dict[str, tuple[str, str]] = {}
    reconnected = False
    for _ in range(100):  # transactions for one message in one flush
        if session.smtp is None and not session.open(result):
            break  # the rest keep their state; the flush's error says why
        if not _transaction(session, row, waiting, outcomes, result):
            # our sender was refused (the config's fault): what an earlier transaction of this
            # message delivered is recorded, the rest waits untouched
            if outcomes:
                _settle(store, config, row, outcomes, now, result)
            else:
                _release(store, row["id"], result.error or "")
            return
        deferred = [a for a in waiting if outcomes[a][0] == DEFERRED]
        if not deferred:
            break
        if session.closed_by_server() and not reconnected:
            reconnected, waiting = True, deferred  # 421: the same message on a new connection
            continue
        too_many = [a for a in deferred if outcomes[a][1].startswith("452")]
        if too_many and any(outcomes[a][0] == SENT for a in waiting):
            waiting = too_many  # the server took some: the rest in the next transaction
            continue
        break
    session.closed_by_server()
    if not outcomes:  # no connection could be had for it: untried, not deferred
        _release(store, row["id"], result.error or "")
        return
    _settle(store, config, row, outcomes, now, result)


def _transaction(
    session: _Session,
    row: dict[str, Any],
    waiting: list[str],
    outcomes: dict[str, tuple[str, str]],
    result: FlushResult,
) -> bool:
    """One MAIL/RCPT/DATA transaction; outcomes per recipient. False when our sender was refused."""
    smtp = session.smtp
    assert smtp is not None
    raw = row["raw"]
    needs_utf8 = not raw.isascii()
    wide = [a for a in waiting if not is_ascii(a)]
    if wide and not smtp.has_extn("smtputf8"):
        reason = (
            f"{session.where} does not offer SMTPUTF8, which an address with non-ASCII "
            "letters before the '@' needs"
        )
        for address in wide:
            outcomes[address] = (FAILED, reason)
        waiting = [a for a in waiting if is_ascii(a)]
    if needs_utf8 and not smtp.has_extn("smtputf8"):
        raw, needs_utf8 = _ascii_headers(raw), False  # headers the old server can carry
    if not waiting:
        return True
    options = ["SMTPUTF8"] if needs_utf8 else []
    if needs_utf8 and smtp.has_extn("8bitmime"):
        options.append("BODY=8BITMIME")
    data = raw.encode("utf-8")
    watchdog = session.watchdog
    if watchdog is not None:
        watchdog.arm(step_budget(session.mail, len(data)))
    try:
        refused = smtp.sendmail(row["sender"], waiting, data, mail_options=options)
        for address in waiting:
            outcomes[address] = (
                _reply_outcome(refused[address]) if address in refused else (SENT, "250")
            )
    except smtplib.SMTPRecipientsRefused as exc:
        for address in waiting:
            reply = exc.recipients.get(address)
            outcomes[address] = _reply_outcome(reply) if reply else (DEFERRED, "not tried")
    except smtplib.SMTPSenderRefused as exc:
        if exc.smtp_code in SENDER_CONFIG_CODES:
            # about us, not this message (TLS or login required, sender not allowed):
            # every message would get it, so none is marked; the admin fixes the config
            result.error = (
                f"{session.where}: the server refused the sender {row['sender']}: "
                f"{_smtp_text(exc)}; check mail.sender, mail.starttls and mail.username"
            )
            result.error_exit = int(ExitCode.CONFIG)
            session.refused = True
            return False
        outcomes.update(
            dict.fromkeys(
                waiting, _reply_outcome((exc.smtp_code, exc.smtp_error), "MAIL FROM refused: ")
            )
        )
    except smtplib.SMTPDataError as exc:
        outcomes.update(
            dict.fromkeys(
                waiting,
                _reply_outcome((exc.smtp_code, exc.smtp_error), "message refused at DATA: "),
            )
        )
    except smtplib.SMTPResponseException as exc:
        outcomes.update(dict.fromkeys(waiting, _reply_outcome((exc.smtp_code, exc.smtp_error))))
        session.lost()
    except (smtplib.SMTPException, OSError) as exc:
        # the connection broke, timed out or was cut by the watchdog mid-conversation:
        # whether the server kept the message is unknown; try again later, same Message-ID
        why = (
            "no complete answer within the step's time"
            if watchdog and watchdog.fired
            else _error_text(exc)
        )
        outcomes.update(dict.fromkeys(waiting, (DEFERRED, f"connection lost while sending: {why}")))
        session.lost()
    except Exception as exc:  # noqa: BLE001 - one broken message must not stop the queue
        reason = (
            f"lpsectl could not send this message ({type(exc).__name__}: {exc}); please report it"
        )
        outcomes.update(dict.fromkeys(waiting, (FAILED, reason)))
    finally:
        if watchdog is not None:
            watchdog.disarm()
    return True


def _ascii_headers(raw: str) -> str:
    """``raw`` with every non-ASCII header re-encoded (RFC 2047) for a server without SMTPUTF8.

    Addresses whose local part is not ASCII cannot be represented and keep an
    encoded word (their recipients were refused before this is called).
    """
    message = parse_raw(raw)
    for name, value in list(message.items()):
        text = str(value)
        if text.isascii():
            continue
        del message[name]
        message[name] = text  # re-parsed from its decoded text, written back encoded
    return message.as_bytes(policy=policy.SMTP).decode("ascii")


def _reply_outcome(reply: tuple[int, Any] | Any, prefix: str = "") -> tuple[str, str]:
    """(status, text) from an SMTP reply: 5xx failed, anything else not 2xx deferred."""
    try:
        code, text = int(reply[0]), _decode(reply[1])
    except (TypeError, ValueError, IndexError):
        return DEFERRED, f"{prefix}unexpected reply {reply!r}"
    if not 200 <= code < 600:  # smtplib's -1: the line was not an SMTP reply at all
        return DEFERRED, clean_text(f"{prefix}unexpected reply {' '.join(text.split())[:200]!r}")
    line = clean_text(f"{prefix}{code} {' '.join(text.split())[:500]}".strip())  # a server's words
    if 200 <= code < 300:
        return SENT, line
    return (FAILED if 500 <= code < 600 else DEFERRED), line


def _settle(
    store: Store,
    config: Config,
    row: dict[str, Any],
    outcomes: dict[str, tuple[str, str]],
    now: datetime,
    result: FlushResult,
) -> None:
    stamp = timeutil.isoformat(now)
    patience = timedelta(hours=config.mail.retry_hours)
    first_deferred = {
        r["address"]: r["first_deferred_at"]
        for r in store.query(
            "SELECT address, first_deferred_at FROM outbox_recipients WHERE outbox_id = ?",
            [row["id"]],
        )
    }
    with store.transaction():
        for address, (status, reply) in outcomes.items():
            since = first_deferred.get(address)
            if status == DEFERRED:
                since = since or stamp
                # the patience counts from the first deferral, not from queueing: a message
                # queued during a long outage still gets mail.retry_hours of tries
                if timeutil.parse_iso(since) + patience <= now:
                    status = FAILED
                    reply = f"gave up after {config.mail.retry_hours:g} hours of deferrals; last: {reply}"
            store.execute(
                "UPDATE outbox_recipients SET status = ?, reply = ?, attempts = attempts + 1, "
                "updated_at = ?, first_deferred_at = ? WHERE outbox_id = ? AND address = ?",
                [status, reply, stamp, since if status == DEFERRED else None, row["id"], address],
            )
            result.outcomes.append(Outcome(row["id"], address, status, reply))
        recipients = recipient_rows(store, row["id"])
        states = [r["status"] for r in recipients]
        # back-off counts the server's deferrals, not the flushes that could not connect
        attempts = max([int(r["attempts"]) for r in recipients if r["status"] in WAITING] or [1])
        errors = [f"{a}: {reply}" for a, (s, reply) in outcomes.items() if s != SENT]
        values: dict[str, Any] = {
            "last_error": "; ".join(errors)[:2000] or None,
            "next_attempt_at": None,
        }
        if any(s in WAITING for s in states):
            values["status"] = DEFERRED
            values["next_attempt_at"] = timeutil.isoformat(
                now + BACKOFF[min(attempts, len(BACKOFF)) - 1]
            )
        elif all(s == SENT for s in states):
            values["status"] = SENT
        elif any(s == SENT for s in states):
            values["status"] = PARTIAL
        else:
            values["status"] = FAILED if any(s == FAILED for s in states) else DROPPED
        if SENT in states and not _sent_before(store, row["id"]):
            values["sent_at"] = stamp  # when the first recipient got it
        store.update("outbox", row["id"], values)


def _sent_before(store: Store, outbox_id: int) -> bool:
    row = store.query_one("SELECT sent_at FROM outbox WHERE id = ?", [outbox_id])
    return bool(row and row["sent_at"])


def _claim(store: Store, row_id: int, now: datetime) -> bool:
    # stamped with the time of the claim itself (not the flush's start), so a long flush's
    # later claims never look stale to another flush
    stamp = max(now, timeutil.now(now.tzinfo))
    changed = store.execute(
        "UPDATE outbox SET status = ?, attempts = attempts + 1, last_attempt_at = ? "
        "WHERE id = ? AND status IN (?, ?)",
        [SENDING, timeutil.isoformat(stamp), row_id, *WAITING],
    )
    return changed == 1


def _release(store: Store, row_id: int, error: str) -> None:
    """Give a claimed row back untried (the connection could not be made)."""
    store.execute(
        "UPDATE outbox SET status = ?, last_error = ? WHERE id = ?", [QUEUED, error, row_id]
    )
    # a deferred row keeps its recipients' states; it is simply due again
    store.execute(
        "UPDATE outbox SET status = ? WHERE id = ? AND EXISTS (SELECT 1 FROM outbox_recipients "
        "WHERE outbox_id = ? AND status = ?)",
        [DEFERRED, row_id, row_id, DEFERRED],
    )


def _record_error(store: Store, row_id: int, now: datetime, error: str) -> None:
    store.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?, last_error = ? "
        "WHERE id = ? AND status IN (?, ?)",
        [timeutil.isoformat(now), error, row_id, *WAITING],
    )


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        text = str(exc)
        return text if text and text != "timed out" else "timed out"
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


# -- calendar ------------------------------------------------------------------------


def calendar_event(
    uid: str,
    sequence: int,
    start: datetime,
    end: datetime,
    summary: str,
    description: str,
    now: datetime,
    method: str = "PUBLISH",
    organizer: str = "",
) -> bytes:
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
