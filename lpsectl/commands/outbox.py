"""`lpsectl outbox list | flush | show` — the e-mail spool."""

from __future__ import annotations

from typing import Any

import click

from lpsectl import mail
from lpsectl.commands._common import dump_json, emit, format_option, info, pass_app, table
from lpsectl.context import AppContext
from lpsectl.errors import ConfigError, ExitCode, LpsectlError, UnavailableError
from lpsectl.lock import job_lock


@click.group("outbox")
def command() -> None:
    """The e-mail spool: every e-mail lpsectl sends is written here first.

    A message that could not be sent (SMTP server down, login refused, ...)
    stays in the outbox with its error; `lpsectl outbox flush` (run by cron)
    sends it later. A message is never sent twice.

    \b
    Examples:
      lpsectl outbox list                  what is waiting, and why
      lpsectl outbox list --all --format json
      lpsectl outbox flush --dry-run       what would be sent now
      lpsectl outbox flush                 send everything pending
    """


@command.command("list")
@click.option("--all", "include_sent", is_flag=True, help="Include messages already sent.")
@format_option("table", "json")
@pass_app
def list_cmd(app: AppContext, include_sent: bool, fmt: str) -> None:
    """List messages waiting in the outbox (with --all: sent ones too).

    \b
    Examples:
      lpsectl outbox list
      lpsectl outbox list --all --format json
    """
    rows = [_localise(app, r) for r in mail.outbox_rows(app.store, include_sent=include_sent)]
    if fmt == "json":
        emit(dump_json(rows))
        return
    emit(table(
        [[r["id"], r["status"], r["purpose"], _short(", ".join(r["recipients"]), 40),
          _short(r["subject"], 50), r["attempts"], _stamp(r["sent_at"] or r["created_at"]),
          _short(r["last_error"] or "", 60)] for r in rows],
        ["id", "status", "purpose", "to", "subject", "tries", "sent/queued", "last error"],
    ))


@command.command("show")
@click.argument("outbox_id", type=int)
@pass_app
def show_cmd(app: AppContext, outbox_id: int) -> None:
    """Print one spooled message exactly as it will be (or was) sent.

    \b
    Example:
      lpsectl outbox show 3
    """
    message = mail.raw_message(app.store, outbox_id)
    emit(message.as_string())


@command.command("flush")
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send nothing.")
@format_option("text", "json")
@pass_app
def flush_cmd(app: AppContext, dry_run: bool, fmt: str) -> None:
    """Send every pending message (cron runs this every few minutes).

    Exit status 5 when the SMTP server cannot be reached or refuses messages
    (they stay in the outbox), 4 when the login or password file is wrong,
    6 when another flush is running.

    \b
    Examples:
      lpsectl outbox flush --dry-run
      lpsectl outbox flush -q            # from cron: quiet unless something fails
    """
    if dry_run:
        rows = [r for r in mail.outbox_rows(app.store) if r["status"] == mail.PENDING]
        previews = [{**_localise(app, r), "message": mail.describe(mail.raw_message(app.store, r["id"]))}
                    for r in rows]
        emit(dump_json(previews) if fmt == "json" else _preview_text(previews))
        return
    with job_lock(app.config.data_dir, "outbox"):
        result = mail.flush(app.store, app.config, app.now())
    if fmt == "json":
        emit(dump_json(_result_dict(result)))
    else:
        info(app, _result_line(result))
    raise_if_unsent(result)


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
        "remaining": result.remaining,
        "error": result.error,
    }


def _result_line(result: mail.FlushResult) -> str:
    line = f"outbox: {len(result.sent)} sent, {result.remaining} waiting"
    if result.released:
        line += f" ({len(result.released)} interrupted send(s) retried)"
    return line


def raise_if_unsent(result: mail.FlushResult | None) -> None:
    """Exit 5 (4 for a login/password problem) when a flush left messages behind."""
    if result is None or result.ok:
        return
    reason = result.error or next(iter(result.failed.values()))
    message = (f"{reason}; {result.remaining} message(s) wait in the outbox "
               "(`lpsectl outbox list`), `lpsectl outbox flush` sends them")
    error: LpsectlError
    if result.error_exit == int(ExitCode.CONFIG) and result.error:
        error = ConfigError(message)
    else:
        error = UnavailableError(message)
    raise error


def delivery_dict(delivery: Any) -> dict[str, Any]:
    """JSON of a maintenance Delivery: messages (as described), outbox ids, send result."""
    return {
        "messages": [mail.describe(m) for m in delivery.messages],
        "outbox_ids": delivery.outbox_ids,
        "flush": _result_dict(delivery.flush) if delivery.flush else None,
        "warnings": delivery.warnings,
    }


def _localise(app: AppContext, row: dict[str, Any]) -> dict[str, Any]:
    from lpsectl.timeutil import parse_iso

    out = dict(row)
    for key in ("created_at", "last_attempt_at", "sent_at"):
        if out.get(key):
            out[key] = parse_iso(out[key]).astimezone(app.config.tz)
    return out


def _stamp(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
