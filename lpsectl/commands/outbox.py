"""`lpsectl outbox list | show | flush | retry | drop` — the e-mail spool."""

from __future__ import annotations

from typing import Any

import click

from lpsectl import mail
from lpsectl.commands._common import dump_json, emit, format_option, info, pass_app, table
from lpsectl.context import AppContext
from lpsectl.lock import job_lock
from lpsectl.timeutil import parse_iso


@click.group("outbox")
def command() -> None:
    """The e-mail spool: every e-mail lpsectl sends is written here first.

    Delivery is judged per recipient from the SMTP server's replies: 2xx
    sent; 4xx, a lost connection or a timeout deferred (tried again later,
    given up after mail.retry_hours); 5xx failed, with the server's reply
    kept. One refused address never holds up the others.

    \b
    Message states: queued, sending, deferred, sent, partial (some
    recipients failed), failed (nobody got it), dropped.

    \b
    Examples:
      lpsectl outbox list                  what waits or failed, and why
      lpsectl outbox list --all --format json
      lpsectl outbox show 3                the server's replies per recipient
      lpsectl outbox flush --dry-run       what would be sent now
      lpsectl outbox flush                 send everything due
      lpsectl outbox retry 3               try message 3 again now
      lpsectl outbox drop 3 --why "alamat salah"
    """


@command.command("list")
@click.option("--all", "include_done", is_flag=True, help="Include messages sent or dropped.")
@format_option("table", "json")
@pass_app
def list_cmd(app: AppContext, include_done: bool, fmt: str) -> None:
    """List messages waiting or failed (with --all: sent and dropped ones too).

    Each recipient is shown with its state: `addr` when sent, `addr
    [failed]`, `addr [deferred]`, ...

    \b
    Examples:
      lpsectl outbox list
      lpsectl outbox list --all --format json
    """
    rows = [_localise(app, r) for r in mail.outbox_rows(app.store, include_done=include_done)]
    if fmt == "json":
        emit(dump_json(rows))
        return
    if not rows:
        emit(
            "The outbox has nothing waiting or failed."
            if not include_done
            else "The outbox is empty."
        )
        return
    emit(
        table(
            [
                [
                    r["id"],
                    r["status"],
                    r["purpose"],
                    _short(recipients_text(r["recipients"]), 50),
                    _short(r["subject"], 40),
                    r["attempts"],
                    _stamp(r["sent_at"] or r["created_at"]),
                    _short(r["last_error"] or "", 60),
                ]
                for r in rows
            ],
            ["id", "status", "purpose", "to", "subject", "tries", "sent/queued", "last reply"],
        )
    )


def recipients_text(recipients: list[dict[str, Any]]) -> str:
    """``a@x, b@x [failed]``: a recipient's state unless it was sent."""
    return ", ".join(
        r["address"] + ("" if r["status"] == mail.SENT else f" [{r['status']}]") for r in recipients
    )


#: outbox ids are SQLite row ids: a larger number cannot exist
OUTBOX_ID = click.IntRange(1, 2**63 - 1)


@command.command("show")
@click.argument("outbox_id", type=OUTBOX_ID)
@click.option("--raw", is_flag=True, help="Print only the message exactly as it is (or was) sent.")
@format_option("text", "json")
@pass_app
def show_cmd(app: AppContext, outbox_id: int, raw: bool, fmt: str) -> None:
    """One message: its state, each recipient's outcome with the server's reply, the message.

    \b
    Examples:
      lpsectl outbox show 3
      lpsectl outbox show 3 --raw > pesan.eml
      lpsectl outbox show 3 --format json
    """
    message = mail.raw_message(app.store, outbox_id)
    if raw:
        emit(mail.raw_text(app.store, outbox_id).replace("\r\n", "\n"))
        return
    (row,) = [
        _localise(app, r) for r in mail.outbox_rows(app.store, include_done=True, ids=[outbox_id])
    ]
    if fmt == "json":
        emit(dump_json({**row, "message": mail.describe(message)}))
        return
    lines = [
        f"outbox {row['id']}: {row['status']} ({row['purpose']}), {row['attempts']} attempt(s)",
        f"queued {_stamp(row['created_at'])}"
        + (f", first delivered {_stamp(row['sent_at'])}" if row["sent_at"] else "")
        + (f", next try after {_stamp(row['next_attempt_at'])}" if row["next_attempt_at"] else ""),
        "",
        table(
            [
                [r["address"], r["status"], r["attempts"], r["reply"] or ""]
                for r in row["recipients"]
            ],
            ["recipient", "state", "tries", "server reply"],
        ),
        "",
        describe_text(mail.describe(message)),
    ]
    emit("\n".join(lines))


@command.command("flush")
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send nothing.")
@format_option("text", "json")
@pass_app
def flush_cmd(app: AppContext, dry_run: bool, fmt: str) -> None:
    """Send every message that is due (cron runs this every few minutes).

    \b
    Exit status:
      0  everything due was delivered (or nothing was due)
      1  a recipient was refused for good (5xx): see `outbox show N`
      4  the login, password file or mail.ca_file is wrong
      5  the SMTP server could not be reached, or deferred a message (4xx)
      6  another flush is running

    \b
    Examples:
      lpsectl outbox flush --dry-run
      lpsectl outbox flush -q            # from cron: quiet unless something fails
    """
    if dry_run:
        now = app.now()
        rows = [
            r
            for r in mail.outbox_rows(app.store)
            if r["status"] in mail.WAITING
            and (not r["next_attempt_at"] or parse_iso(r["next_attempt_at"]) <= now)
        ]
        previews = [
            {**_localise(app, r), "message": mail.describe(mail.raw_message(app.store, r["id"]))}
            for r in rows
        ]
        emit(dump_json(previews) if fmt == "json" else _preview_text(previews))
        return
    with job_lock(app.config.data_dir, "outbox"):
        result = mail.flush(app.store, app.config, app.now())
    _report(app, result, fmt)


@command.command("retry")
@click.argument("outbox_ids", type=OUTBOX_ID, nargs=-1, required=True)
@format_option("text", "json")
@pass_app
def retry_cmd(app: AppContext, outbox_ids: tuple[int, ...], fmt: str) -> None:
    """Send messages again now: their deferred, failed and dropped recipients
    (after you fixed an address, or the server's trouble is over).

    Recipients that already got the message are not sent it again.

    \b
    Examples:
      lpsectl outbox retry 3
      lpsectl outbox retry 3 4 7
    """
    with job_lock(app.config.data_dir, "outbox"):
        ids = mail.retry(app.store, outbox_ids, app.now())
        result = mail.flush(app.store, app.config, app.now(), ids=ids)
    _report(app, result, fmt)


@command.command("drop")
@click.argument("outbox_ids", type=OUTBOX_ID, nargs=-1, required=True)
@click.option("--why", default="", help="Why, kept with the message.")
@pass_app
def drop_cmd(app: AppContext, outbox_ids: tuple[int, ...], why: str) -> None:
    """Take messages out of the queue; they stay in the outbox as `dropped`, for the record.

    \b
    Example:
      lpsectl outbox drop 3 --why "pokja dibubarkan"
    """
    with job_lock(app.config.data_dir, "outbox"):
        ids = mail.drop(app.store, outbox_ids, app.now(), why)
    info(
        app, f"dropped: outbox {', '.join(str(i) for i in ids)} (kept; `lpsectl outbox list --all`)"
    )


def _report(app: AppContext, result: mail.FlushResult, fmt: str) -> None:
    if fmt == "json":
        emit(dump_json(_result_dict(result)))
    else:
        info(app, _result_line(result))
    result.raise_for_status()


def _preview_text(previews: list[dict[str, Any]]) -> str:
    if not previews:
        return "Nothing to send: the outbox is empty."
    blocks = [f"{len(previews)} message(s) would be sent now:"]
    blocks += [describe_text(p["message"], header=f"[outbox {p['id']}]") for p in previews]
    return "\n\n".join(blocks)


def describe_text(described: dict[str, Any], header: str = "") -> str:
    """A message for people: envelope, parts, attachments and the plain text."""
    lines = [header] if header else []
    lines += [
        f"Message-ID: {described['message_id']}",
        f"From: {described['from']}",
        f"To: {', '.join(described['to'])}",
    ]
    if described["cc"]:
        lines.append(f"Cc: {', '.join(described['cc'])}")
    if described["bcc"]:
        lines.append(f"Bcc: {', '.join(described['bcc'])}")
    lines.append(f"Subject: {described['subject']}")
    lines.append(f"Parts: {', '.join(described['parts'])}")
    if described["attachments"]:
        lines.append(f"Attachments: {', '.join(str(a) for a in described['attachments'])}")
    lines.append("")
    lines.append(described["text"].rstrip())
    return "\n".join(lines)


def _result_dict(result: mail.FlushResult) -> dict[str, Any]:
    return {
        "sent": result.sent,
        "failed": [{"id": k, "error": v} for k, v in result.failed.items()],
        "deferred": [{"id": k, "error": v} for k, v in result.deferred.items()],
        "recipients": [o.__dict__ for o in result.outcomes],
        "remaining": result.remaining,
        "error": result.error,
        "exit_code": result.exit_code,
    }


def _result_line(result: mail.FlushResult) -> str:
    messages = len({o.outbox_id for o in result.outcomes})
    line = f"outbox: {messages} message(s) tried, {result.summary()}"
    if result.released:
        line += f" ({len(result.released)} interrupted send(s) retried)"
    return line


def delivery_dict(delivery: Any) -> dict[str, Any]:
    """JSON of a maintenance Delivery: messages (as described), outbox ids, send result."""
    return {
        "messages": [mail.describe(m) for m in delivery.messages],
        "outbox_ids": delivery.outbox_ids,
        "flush": _result_dict(delivery.flush) if delivery.flush else None,
        "warnings": delivery.warnings,
        "problems": delivery.problems,
    }


def _localise(app: AppContext, row: dict[str, Any]) -> dict[str, Any]:
    from lpsectl.timeutil import parse_iso

    out = dict(row)
    for key in ("created_at", "last_attempt_at", "sent_at", "next_attempt_at"):
        if out.get(key):
            out[key] = parse_iso(out[key]).astimezone(app.config.tz)
    return out


def _stamp(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
