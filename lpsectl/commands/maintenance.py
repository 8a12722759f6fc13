"""`lpsectl maintenance ...` — announcing SPSE maintenance (SOP 000)."""

from __future__ import annotations

from typing import Any

import click

from lpsectl import maintenance as core
from lpsectl.commands._common import (
    at_option,
    dump_json,
    emit,
    format_option,
    info,
    pass_app,
    table,
    warn,
)
from lpsectl.commands.outbox import delivery_dict, describe_text, recipients_text
from lpsectl.context import AppContext
from lpsectl.errors import UsageError
from lpsectl.lock import job_lock
from lpsectl.mail import describe


@click.group("maintenance")
def command() -> None:
    """Maintenance windows: schedule, announce, remind, complete (SOP 000).

    SOP 000 asks for the announcement (running text and an announcement in
    SPSE) at least 3 days before SPSE becomes unreachable, the helpdesk told
    within 30 minutes, and the procurement committees within 30 more.
    Every e-mail goes through the outbox (`lpsectl outbox`), so nothing is
    lost when the SMTP server is down.

    \b
    Examples:
      lpsectl maintenance schedule --start "2026-12-07 22:00" --duration 4h \\
          --reason "Upgrade PostgreSQL 15"
      lpsectl maintenance announce 1 --dry-run     see every e-mail first
      lpsectl maintenance announce 1
      lpsectl maintenance remind                   from cron, every 15 minutes
      lpsectl maintenance complete 1               SPSE is back: tell everyone
      lpsectl maintenance show 1                   full history, send times
    """


def _window_row(w: core.Window) -> list[Any]:
    return [
        w.id,
        f"{w.start:%Y-%m-%d %H:%M}",
        f"{w.end:%Y-%m-%d %H:%M}",
        _minutes(w.duration.total_seconds() // 60),
        w.status + (" (emergency)" if w.emergency else ""),
        _short(w.reason, 50),
    ]


WINDOW_HEADERS = ["id", "start", "end", "duration", "status", "reason"]


@command.command("schedule")
@click.option(
    "--start",
    required=True,
    metavar="'YYYY-MM-DD HH:MM'",
    help="Start, in the LPSE's time zone (lpse.timezone).",
)
@click.option("--duration", required=True, metavar="DURATION", help="How long: 4h, 90m, 1h30m, 1d.")
@click.option(
    "--reason", required=True, metavar="TEXT", help="Why SPSE will be unavailable (shown to users)."
)
@click.option(
    "--services", multiple=True, metavar="NAME", help="Affected service (repeat; default SPSE)."
)
@click.option(
    "--emergency", is_flag=True, help="Allow less than maintenance.min_notice_days notice."
)
@click.option(
    "--why", metavar="TEXT", help="Why it is an emergency (required with --emergency; recorded)."
)
@format_option("text", "json")
@pass_app
def schedule_cmd(
    app: AppContext,
    start: str,
    duration: str,
    reason: str,
    services: tuple[str, ...],
    emergency: bool,
    why: str | None,
    fmt: str,
) -> None:
    """Record a maintenance window (refused when too soon or overlapping).

    A start less than maintenance.min_notice_days (3) days ahead is refused
    with the earliest allowed start, unless --emergency --why TEXT.

    \b
    Examples:
      lpsectl maintenance schedule --start "2026-12-07 22:00" --duration 4h \\
          --reason "Upgrade PostgreSQL 15"
      lpsectl maintenance schedule --start "2026-12-02 20:00" --duration 1h \\
          --reason "Ganti disk" --emergency --why "disk RAID rusak"
    """
    window = core.schedule(
        app.store,
        app.config,
        core.parse_start(start, app.config.tz),
        core.parse_duration(duration),
        reason,
        app.now(),
        services=list(services) or None,
        emergency=emergency,
        why=why,
    )
    if fmt == "json":
        emit(dump_json(window.as_dict()))
        return
    emit(
        f"Scheduled maintenance window {window.id}: {window.start:%Y-%m-%d %H:%M} to "
        f"{window.end:%Y-%m-%d %H:%M} {window.start:%Z}"
        + (" (emergency)" if window.emergency else "")
    )
    info(app, f"next: lpsectl maintenance announce {window.id} --dry-run, then without --dry-run")


@command.command("list")
@click.option(
    "--all", "include_done", is_flag=True, help="Include completed and cancelled windows."
)
@format_option("table", "json")
@pass_app
def list_cmd(app: AppContext, include_done: bool, fmt: str) -> None:
    """List maintenance windows (upcoming and running; --all for every one).

    \b
    Examples:
      lpsectl maintenance list
      lpsectl maintenance list --all --format json
    """
    windows = core.list_windows(app.store, app.config, include_done)
    if fmt == "json":
        emit(dump_json([w.as_dict() for w in windows]))
        return
    emit(table([_window_row(w) for w in windows], WINDOW_HEADERS))


@command.command("show")
@click.argument("window_id", type=int)
@format_option("text", "json")
@pass_app
def show_cmd(app: AppContext, window_id: int, fmt: str) -> None:
    """One window: details, notice plan, full history, e-mails with send times, SOP checks.

    \b
    Examples:
      lpsectl maintenance show 1
      lpsectl maintenance show 1 --format json
    """
    data = core.details(app.store, app.config, window_id, app.now())
    emit(dump_json(data) if fmt == "json" else _show_text(data))


def _show_text(data: dict[str, Any]) -> str:
    w = data["window"]
    lines = [
        f"Maintenance window {w['id']} ({w['status']}{', emergency: ' + str(w['emergency_why']) if w['emergency'] else ''})",
        f"  start    {w['start']:%Y-%m-%d %H:%M %Z}",
        f"  end      {w['end']:%Y-%m-%d %H:%M %Z}  ({_minutes(w['duration_minutes'])})",
        f"  reason   {w['reason']}",
        f"  services {', '.join(w['services'])}",
        f"  calendar UID {w['uid']}, SEQUENCE {w['sequence']}",
        "",
        "Notices:",
        table(
            [
                [p["kind"], _stamp(p["due_at"]), p["state"], _stamp(p["sent_at"])]
                for p in data["plan"]
            ],
            ["notice", "due", "state", "recorded"],
        ),
        "",
        "History:",
        table(
            [
                [_stamp(e["at"]), e["kind"], e["sequence"], _detail(e["detail"])]
                for e in data["history"]
            ],
            ["at", "event", "seq", "detail"],
        ),
        "",
        "E-mails:",
        table(
            [
                [
                    m["id"],
                    m["purpose"],
                    _short(recipients_text(m["recipients"]), 40),
                    m["status"],
                    _stamp(m["created_at"]),
                    _stamp(m["sent_at"]),
                    _short(m["last_error"] or "", 40),
                ]
                for m in data["mails"]
            ],
            ["outbox", "purpose", "to", "status", "queued", "sent", "last error"],
        ),
    ]
    if data["sop"]:
        lines += [
            "",
            "SOP 000 checks:",
            table(
                [
                    [
                        c["check"],
                        c["limit"],
                        _minutes(c["actual_minutes"]),
                        {True: "ok", False: "NOT MET", None: "waiting"}[c["ok"]],
                    ]
                    for c in data["sop"]
                ],
                ["check", "limit", "actual", "result"],
            ),
        ]
    return "\n".join(lines)


@command.command("announce")
@click.argument("window_id", type=int)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show the announcement and every e-mail; write and send nothing.",
)
@format_option("text", "json")
@pass_app
def announce_cmd(app: AppContext, window_id: int, dry_run: bool, fmt: str) -> None:
    """Write the SPSE announcement + running text, e-mail the helpdesk and committees.

    Files go to maintenance.output_dir (default <data_dir>/announcements):
    the HTML snippet to paste into SPSE's announcement, the running-text
    line, and the .ics. The helpdesk gets one e-mail (Cc mail.head); each
    committee of mail.committees_file gets its own, listing its tender
    stages in the window when maintenance.tender_schedule_file is set.

    Announcing again is safe: e-mails already spooled are not spooled twice.
    When the SMTP server is down everything stays in the outbox and the
    exit status is 5; `lpsectl outbox flush` (cron) sends it later.

    \b
    Examples:
      lpsectl maintenance announce 1 --dry-run
      lpsectl --lang en maintenance announce 1
    """
    # one announce of a window at a time: a second one at once exits 6 (nothing recorded twice)
    with job_lock(app.config.data_dir, f"maintenance-announce-{window_id}"):
        result = core.announce(app.store, app.config, window_id, app.now(), app.lang, dry_run)
    if fmt == "json":
        emit(
            dump_json(
                {
                    "window": result.window.as_dict(),
                    "dry_run": dry_run,
                    "running_text": result.running_text,
                    "announcement_html": result.announcement_html,
                    "files": result.files,
                    **delivery_dict(result.delivery),
                }
            )
        )
    else:
        emit(_announce_text(result, dry_run))
    _warn(app, result.delivery)
    result.delivery.raise_for_status()


def _announce_text(result: core.Announcement, dry_run: bool) -> str:
    blocks = [
        "Running text:",
        result.running_text,
        "",
        "SPSE announcement (HTML):",
        result.announcement_html.rstrip(),
    ]
    if result.files:
        blocks += ["", "Written: " + ", ".join(str(f) for f in result.files)]
    blocks += ["", _delivery_text(result.delivery, dry_run)]
    return "\n".join(blocks)


def _delivery_text(delivery: core.Delivery, dry_run: bool) -> str:
    if not delivery.messages:
        return "No e-mail to send."
    if dry_run:
        parts = [f"Would send {len(delivery.messages)} e-mail(s):"]
        parts += [
            describe_text(describe(m), header=f"--- e-mail {i} ---")
            for i, m in enumerate(delivery.messages, 1)
        ]
        return "\n\n".join(parts)
    flush = delivery.flush
    sent = len(flush.sent) if flush else 0
    line = (
        f"E-mails: {len(delivery.messages)} spooled (outbox {_ids(delivery.outbox_ids)}), "
        f"{sent} sent now, {flush.remaining if flush else 0} waiting in the outbox."
    )
    if flush and flush.failed:
        line += f" Refused for good: {len(flush.failed)} (`lpsectl outbox list`)."
    return line


def _warn(app: AppContext, delivery: core.Delivery) -> None:
    for warning in delivery.warnings + delivery.problems:
        warn(warning)


@command.command("reschedule")
@click.argument("window_id", type=int)
@click.option(
    "--start", required=True, metavar="'YYYY-MM-DD HH:MM'", help="New start (LPSE time zone)."
)
@click.option("--duration", metavar="DURATION", help="New duration (default: unchanged).")
@click.option("--emergency", is_flag=True, help="Allow less than the notice period.")
@click.option("--why", metavar="TEXT", help="Why it is an emergency.")
@click.option("--dry-run", is_flag=True, help="Show the update e-mails; change and send nothing.")
@format_option("text", "json")
@pass_app
def reschedule_cmd(
    app: AppContext,
    window_id: int,
    start: str,
    duration: str | None,
    emergency: bool,
    why: str | None,
    dry_run: bool,
    fmt: str,
) -> None:
    """Move a window; if announced, everyone gets the update (.ics SEQUENCE+1).

    \b
    Examples:
      lpsectl maintenance reschedule 1 --start "2026-12-14 22:00"
      lpsectl maintenance reschedule 1 --start "2026-12-14 21:00" --duration 5h --dry-run
    """
    followup = core.reschedule(
        app.store,
        app.config,
        window_id,
        core.parse_start(start, app.config.tz),
        core.parse_duration(duration) if duration else None,
        app.now(),
        app.lang,
        emergency=emergency,
        why=why,
        dry_run=dry_run,
    )
    window = followup.window
    _emit_followup(
        app,
        fmt,
        followup,
        dry_run,
        f"Window {window.id} {'would move' if dry_run else 'moved'} to "
        f"{window.start:%Y-%m-%d %H:%M} - {window.end:%Y-%m-%d %H:%M} (SEQUENCE {window.sequence}).",
    )


@command.command("cancel")
@click.argument("window_id", type=int)
@click.option("--reason", default="", metavar="TEXT", help="Why it is cancelled (told to users).")
@click.option(
    "--dry-run", is_flag=True, help="Show the cancellation e-mail; change and send nothing."
)
@format_option("text", "json")
@pass_app
def cancel_cmd(app: AppContext, window_id: int, reason: str, dry_run: bool, fmt: str) -> None:
    """Cancel a window; if announced, everyone gets the cancellation (.ics METHOD:CANCEL).

    \b
    Example:
      lpsectl maintenance cancel 1 --reason "vendor postponed the upgrade"
    """
    followup = core.cancel(app.store, app.config, window_id, reason, app.now(), app.lang, dry_run)
    _emit_followup(
        app,
        fmt,
        followup,
        dry_run,
        f"Window {followup.window.id} {'would be' if dry_run else 'is'} cancelled.",
    )


@command.command("complete")
@click.argument("window_id", type=int)
@click.option(
    "--dry-run", is_flag=True, help="Show the 'SPSE is available again' e-mail; send nothing."
)
@format_option("text", "json")
@pass_app
def complete_cmd(app: AppContext, window_id: int, dry_run: bool, fmt: str) -> None:
    """Close a window and tell everyone SPSE is available again.

    \b
    Example:
      lpsectl maintenance complete 1
    """
    window, delivery = core.complete(app.store, app.config, window_id, app.now(), app.lang, dry_run)
    _emit_change(
        app,
        fmt,
        window,
        delivery,
        dry_run,
        f"Window {window.id} {'would be' if dry_run else 'is'} completed.",
    )


@command.command("remind")
@click.option(
    "--dry-run", is_flag=True, help="Show the notices that are due; record and send nothing."
)
@format_option("text", "json")
@at_option
@pass_app
def remind_cmd(app: AppContext, dry_run: bool, fmt: str) -> None:
    """Send the notices that are due now (run from cron every 15 minutes).

    Reminders at maintenance.reminders before the start (default H-3, H-1
    and 1 hour), "maintenance started" at the start, and with
    maintenance.auto_complete "finished" at the end. Each is sent once;
    when cron missed several reminders only the latest goes out.

    \b
    Examples:
      lpsectl maintenance remind --dry-run
      lpsectl maintenance remind --dry-run --at "2026-12-06 22:00"   # what goes out then
      lpsectl -q maintenance remind      # cron
    """
    if app.at is not None and not dry_run:
        raise UsageError("--at only with --dry-run: notices are sent and recorded at the real time")
    lock = job_lock(app.config.data_dir, "maintenance-remind")
    with lock:
        result = core.remind(app.store, app.config, app.now(), app.lang, dry_run)
    if fmt == "json":
        emit(
            dump_json(
                {
                    "dry_run": dry_run,
                    "sent": result.sent,
                    "skipped": result.skipped,
                    **delivery_dict(result.delivery),
                }
            )
        )
    else:
        lines = [
            f"{'due' if dry_run else 'sent'}: window {s['window']} {s['kind']}" for s in result.sent
        ]
        lines += [
            f"skipped: window {s['window']} {s['kind']} (superseded or before the announcement)"
            for s in result.skipped
        ]
        text = "\n".join(lines) or "Nothing due."
        if dry_run and result.delivery.messages:
            text += "\n\n" + _delivery_text(result.delivery, dry_run)
        emit(text)
    _warn(app, result.delivery)
    result.delivery.raise_for_status()


def _emit_change(
    app: AppContext,
    fmt: str,
    window: core.Window,
    delivery: core.Delivery,
    dry_run: bool,
    headline: str,
) -> None:
    if fmt == "json":
        emit(dump_json({"window": window.as_dict(), "dry_run": dry_run, **delivery_dict(delivery)}))
    else:
        emit(headline + "\n" + _delivery_text(delivery, dry_run))
    _warn(app, delivery)
    delivery.raise_for_status()


def _emit_followup(
    app: AppContext, fmt: str, followup: core.Followup, dry_run: bool, headline: str
) -> None:
    """A reschedule's or a cancellation's result, with what to do in SPSE itself."""
    delivery = followup.delivery
    if fmt == "json":
        emit(
            dump_json(
                {
                    "window": followup.window.as_dict(),
                    "dry_run": dry_run,
                    "take_down": followup.take_down,
                    "running_text": followup.running_text,
                    "announcement_html": followup.announcement_html,
                    "files": followup.files,
                    **delivery_dict(delivery),
                }
            )
        )
    else:
        blocks = [headline]
        if followup.running_text is None:
            blocks.append("It was never announced: there is nothing on SPSE to change.")
        else:
            blocks += [
                "",
                (
                    "In SPSE: take the maintenance announcement and the running text down, or "
                    "replace them with the cancellation below."
                    if followup.take_down
                    else "In SPSE: replace the maintenance announcement and the running text "
                    "with the new ones below."
                ),
                "",
                "Running text:",
                followup.running_text,
                "",
                "SPSE announcement (HTML):",
                (followup.announcement_html or "").rstrip(),
            ]
            if followup.files:
                blocks += ["", "Written: " + ", ".join(str(f) for f in followup.files)]
        blocks += ["", _delivery_text(delivery, dry_run)]
        emit("\n".join(blocks))
    _warn(app, delivery)
    delivery.raise_for_status()


def _minutes(value: float | None) -> str:
    if value is None:
        return "-"
    days, rest = divmod(int(value), 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h{minutes:02d}m"
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


def _stamp(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _detail(detail: dict[str, Any]) -> str:
    return _short(", ".join(f"{k}={v}" for k, v in detail.items() if v not in (None, "", [])), 70)


def _ids(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids) or "-"
