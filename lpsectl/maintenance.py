"""Maintenance windows (SOP 000): notice rule, overlaps, announcements, reminders.

The pure part (no I/O, ``now`` injected): :func:`parse_duration`,
:func:`parse_start`, :func:`check_notice`, :func:`find_overlaps`,
:func:`reminder_plan`, :func:`clean_running_text`.

The workflow part reads/writes the store and spools e-mail through
:mod:`lpsectl.mail`: :func:`schedule`, :func:`reschedule`, :func:`announce`,
:func:`remind`, :func:`complete`, :func:`cancel`. Each returns what it did
(and, with ``dry_run=True``, what it would send, without touching anything).

A window keeps one iCalendar UID for its whole life; every change that is
announced (reschedule, cancel) raises its SEQUENCE, so calendars update the
entry in place.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from lpsectl import mail, timeutil
from lpsectl.committees import (
    Committees,
    TenderStage,
    fold_name,
    read_committees,
    read_tender_schedule,
    stages_in_window,
)
from lpsectl.config import Config, load_section
from lpsectl.errors import ConfigError, LpsectlError, NotFoundError, ProblemsError, UsageError
from lpsectl.files import write_text
from lpsectl.render import long_datetime, render
from lpsectl.store import Store, decode_json

SCHEDULED, ANNOUNCED, STARTED, COMPLETED, CANCELLED = (
    "scheduled",
    "announced",
    "started",
    "completed",
    "cancelled",
)
#: windows that still hold their time slot
ACTIVE = (SCHEDULED, ANNOUNCED, STARTED)


@dataclass
class MaintenanceSettings:
    """``[maintenance]`` in the config."""

    #: SOP 000: the announcement must be shown at least this many days ahead
    min_notice_days: int = 3
    #: SPSE's running-text field is short; the line is cut to fit
    running_text_max: int = 300
    #: reminders before the start ("3d" = H-3, "1d" = H-1, "1h" = one hour before)
    reminders: list[str] = field(default_factory=lambda: ["3d", "1d", "1h"])
    #: where announcement files go (default: <data_dir>/announcements)
    output_dir: str = ""
    #: CSV export of tender stages, to tell each committee what falls in the window
    tender_schedule_file: str = ""
    tender_columns: dict[str, str] = field(default_factory=dict)
    #: e-mail the committees of mail.committees_file
    notify_committees: bool = True
    #: copy the helpdesk e-mail to mail.head (the Kepala LPSE)
    cc_head: bool = True
    #: send "finished" and close the window by itself at its end (from `remind`)
    auto_complete: bool = False
    #: longest window accepted
    max_duration: str = "3d"
    #: address shown to users in the announcement (optional)
    spse_url: str = ""


def settings_from(config: Config) -> MaintenanceSettings:
    settings = load_section(config, "maintenance", MaintenanceSettings)
    where = f"{config.source}: maintenance"
    if settings.min_notice_days < 0:
        raise ConfigError(f"{where}.min_notice_days must not be negative")
    if settings.running_text_max < 60:
        raise ConfigError(f"{where}.running_text_max must be at least 60 characters")
    for text in settings.reminders:
        _parse_duration_or(text, f"{where}.reminders: {text!r}")
    _parse_duration_or(settings.max_duration, f"{where}.max_duration: {settings.max_duration!r}")
    return settings


def _parse_duration_or(text: str, where: str) -> timedelta:
    try:
        return parse_duration(text)
    except UsageError as exc:
        raise ConfigError(f"{where} is not a duration like 3d, 1h or 30m") from exc


# -- the record --------------------------------------------------------------------


@dataclass
class Window:
    id: int
    uid: str
    start: datetime
    end: datetime
    reason: str
    services: list[str]
    status: str
    emergency: bool
    emergency_why: str | None
    sequence: int
    created_at: datetime
    announced_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def ref(self) -> str:
        return f"maintenance:{self.id}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "uid": self.uid,
            "start": self.start,
            "end": self.end,
            "duration_minutes": int(self.duration.total_seconds() // 60),
            "reason": self.reason,
            "services": self.services,
            "status": self.status,
            "emergency": self.emergency,
            "emergency_why": self.emergency_why,
            "sequence": self.sequence,
            "created_at": self.created_at,
            "announced_at": self.announced_at,
            "started_at": self.started_at,
            "completed_at": self.completed_at,
            "cancelled_at": self.cancelled_at,
            "cancel_reason": self.cancel_reason,
        }


def _window_from_row(row: dict[str, Any], tz: Any) -> Window:
    def when(key: str) -> datetime | None:
        return timeutil.parse_iso(row[key]).astimezone(tz) if row.get(key) else None

    return Window(
        id=int(row["id"]),
        uid=row["uid"],
        start=when("start_at"),  # type: ignore[arg-type]  # NOT NULL columns
        end=when("end_at"),  # type: ignore[arg-type]
        reason=row["reason"],
        services=decode_json(row["services"], []),
        status=row["status"],
        emergency=bool(row["emergency"]),
        emergency_why=row["emergency_why"],
        sequence=int(row["sequence"]),
        created_at=when("created_at"),  # type: ignore[arg-type]
        announced_at=when("announced_at"),
        started_at=when("started_at"),
        completed_at=when("completed_at"),
        cancelled_at=when("cancelled_at"),
        cancel_reason=row["cancel_reason"],
    )


# -- pure rules ------------------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+)\s*(d|h|m)", re.IGNORECASE)


def parse_duration(text: str) -> timedelta:
    """'4h', '90m', '1h30m', '2d' → timedelta; plain digits are minutes."""
    compact = text.strip().replace(" ", "").lower()
    if compact.isdigit():
        return timedelta(minutes=int(compact))
    if not compact or _DURATION_PART.sub("", compact):
        raise UsageError(f"duration {text!r} is not like 4h, 90m, 1h30m or 2d")
    total = timedelta()
    for amount, unit in _DURATION_PART.findall(compact):
        total += timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[unit]: int(amount)})
    return total


def parse_start(text: str, tz: Any) -> datetime:
    """'2026-12-07 22:00' in the LPSE's zone (an explicit offset is honoured)."""
    try:
        return timeutil.parse_local(text, tz)
    except ValueError as exc:
        raise UsageError(f'start {text!r} is not a date and time like "2026-12-07 22:00"') from exc


def earliest_allowed_start(now: datetime, min_notice_days: int) -> datetime:
    """``now`` + the notice period, rounded up to the next whole minute."""
    earliest = now + timedelta(days=min_notice_days)
    if earliest.second or earliest.microsecond:
        earliest = earliest.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return earliest


def check_notice(
    start: datetime,
    now: datetime,
    min_notice_days: int,
    emergency: bool,
    why: str | None,
    lang: str = "en",
) -> None:
    """Refuse a start inside the notice period unless it is a declared emergency."""
    if start <= now:
        raise UsageError(f"start {long_datetime(start, lang)} is not in the future")
    if emergency:
        if not (why or "").strip():
            raise UsageError("--emergency needs --why TEXT: the reason is recorded with the window")
        return
    earliest = earliest_allowed_start(now, min_notice_days)
    if start < earliest:
        raise UsageError(
            f"start {long_datetime(start, lang)} gives less than {min_notice_days} days of notice; "
            f"the earliest allowed start is {long_datetime(earliest, lang)} "
            f"({earliest:%Y-%m-%d %H:%M}), or use --emergency --why TEXT"
        )


def check_duration(duration: timedelta, max_duration: timedelta) -> None:
    if duration <= timedelta(0):
        raise UsageError("duration must be longer than zero")
    if duration > max_duration:
        raise UsageError(
            f"duration {duration} is longer than maintenance.max_duration ({max_duration})"
        )


def find_overlaps(
    start: datetime, end: datetime, windows: list[Window], exclude_id: int | None = None
) -> list[Window]:
    """Active windows whose time intersects ``[start, end)``."""
    return [
        w
        for w in windows
        if w.status in ACTIVE and w.id != exclude_id and w.start < end and w.end > start
    ]


@dataclass
class PlannedNotice:
    """One notice of a window's plan. state: sent | due | skip | later."""

    kind: str
    due_at: datetime
    state: str
    sent_at: datetime | None = None


def reminder_kind(offset_text: str) -> str:
    return f"reminder-{offset_text.strip().lower()}"


def reminder_plan(
    window: Window,
    offsets: list[str],
    now: datetime,
    done: dict[str, datetime],
    auto_complete: bool = False,
) -> list[PlannedNotice]:
    """The notices of a window at ``now``: which were sent, which are due now, which later.

    ``done`` maps notice kinds already recorded (for this SEQUENCE) to when.
    Reminders whose time was before the announcement are skipped (the
    announcement itself told people); when cron missed several reminders
    only the latest is sent. "started" is due from the start until the end;
    "finished" is due at the end only with ``auto_complete`` (otherwise it
    is sent by ``complete``).
    """
    if window.status not in (ANNOUNCED, STARTED) and window.status != COMPLETED:
        return []
    plan = _reminder_items(window, offsets, now, done)
    plan.append(_started_item(window, now, done))
    plan.append(_finished_item(window, now, done, auto_complete))
    return plan


def _reminder_items(
    window: Window, offsets: list[str], now: datetime, done: dict[str, datetime]
) -> list[PlannedNotice]:
    items = sorted(
        ((reminder_kind(o), window.start - parse_duration(o)) for o in offsets),
        key=lambda item: item[1],
    )
    plan = []
    for kind, due in items:
        if kind in done:
            plan.append(PlannedNotice(kind, due, "sent", done[kind]))
        elif window.announced_at and due < window.announced_at:
            plan.append(PlannedNotice(kind, due, "skip"))
        elif due <= now < window.start and window.status == ANNOUNCED:
            plan.append(PlannedNotice(kind, due, "due"))
        elif now >= window.start or window.status != ANNOUNCED:
            plan.append(PlannedNotice(kind, due, "skip"))
        else:
            plan.append(PlannedNotice(kind, due, "later"))
    # a reminder is superseded once a later one is due or went out
    later_went = False
    for item in reversed(plan):
        if item.state == "due" and later_went:
            item.state = "skip"
        later_went = later_went or item.state in ("due", "sent")
    return plan


def _started_item(window: Window, now: datetime, done: dict[str, datetime]) -> PlannedNotice:
    if "started" in done:
        return PlannedNotice("started", window.start, "sent", done["started"])
    if window.status == COMPLETED or now >= window.end:
        return PlannedNotice("started", window.start, "skip")
    return PlannedNotice("started", window.start, "due" if now >= window.start else "later")


def _finished_item(
    window: Window, now: datetime, done: dict[str, datetime], auto_complete: bool
) -> PlannedNotice:
    if "finished" in done:
        return PlannedNotice("finished", window.end, "sent", done["finished"])
    if auto_complete and now >= window.end:
        return PlannedNotice("finished", window.end, "due")
    return PlannedNotice("finished", window.end, "later")


_TAG = re.compile(r"<[^>]*>")
_UNSAFE = re.compile(r"[<>\x00-\x1f\x7f]")


def clean_running_text(text: str) -> str:
    """One plain line: tags removed, no angle brackets or control characters.

    SPSE may show the running text as HTML; without ``<`` and ``>`` nothing
    in it can become markup or script.
    """
    without_tags = _TAG.sub(" ", text)
    return " ".join(_UNSAFE.sub(" ", without_tags).split())


# -- store access ------------------------------------------------------------------


def get(store: Store, config: Config, window_id: int) -> Window:
    row = store.query_one("SELECT * FROM maintenance_windows WHERE id = ?", [window_id])
    if row is None:
        raise NotFoundError(
            f"maintenance window {window_id} does not exist (see `lpsectl maintenance list`)"
        )
    return _window_from_row(row, config.tz)


def list_windows(store: Store, config: Config, include_done: bool = False) -> list[Window]:
    sql = "SELECT * FROM maintenance_windows"
    params: list[Any] = []
    if not include_done:
        sql += f" WHERE status IN ({', '.join('?' for _ in ACTIVE)})"
        params.extend(ACTIVE)
    rows = store.query(sql + " ORDER BY start_at, id", params)
    return [_window_from_row(r, config.tz) for r in rows]


def history(store: Store, config: Config, window_id: int) -> list[dict[str, Any]]:
    rows = store.query(
        "SELECT at, kind, sequence, detail FROM maintenance_events WHERE window_id = ? ORDER BY id",
        [window_id],
    )
    return [
        {
            "at": timeutil.parse_iso(r["at"]).astimezone(config.tz),
            "kind": r["kind"],
            "sequence": r["sequence"],
            "detail": decode_json(r["detail"], {}),
        }
        for r in rows
    ]


def _record(store: Store, window: Window, kind: str, now: datetime, **detail: Any) -> None:
    store.insert(
        "maintenance_events",
        {
            "window_id": window.id,
            "at": timeutil.isoformat(now),
            "kind": kind,
            "sequence": window.sequence,
            "detail": detail,
        },
    )


def _done_notices(store: Store, window: Window) -> dict[str, datetime]:
    rows = store.query(
        "SELECT kind, at, sequence FROM maintenance_events WHERE window_id = ? ORDER BY id",
        [window.id],
    )
    done = {}
    for row in rows:
        kind = row["kind"]
        this_sequence = row["sequence"] == window.sequence
        if kind.endswith("-skipped"):
            continue
        if (kind.startswith("reminder-") and this_sequence) or kind in ("started", "finished"):
            done[kind] = timeutil.parse_iso(row["at"])
    return done


def _save_times(store: Store, window: Window, **values: Any) -> None:
    encoded = {
        k: timeutil.isoformat(v) if isinstance(v, datetime) else v for k, v in values.items()
    }
    store.update("maintenance_windows", window.id, encoded)


# -- scheduling ------------------------------------------------------------------------


def schedule(
    store: Store,
    config: Config,
    start: datetime,
    duration: timedelta,
    reason: str,
    now: datetime,
    services: list[str] | None = None,
    emergency: bool = False,
    why: str | None = None,
) -> Window:
    """Record a new window after the notice, duration and overlap checks."""
    settings = settings_from(config)
    if not reason.strip():
        raise UsageError("--reason is empty: users need to know why SPSE will be unavailable")
    check_duration(duration, parse_duration(settings.max_duration))
    check_notice(start, now, settings.min_notice_days, emergency, why)
    end = start + duration
    with store.transaction():
        _refuse_overlaps(store, config, start, end, None)
        window_id = store.insert(
            "maintenance_windows",
            {
                "uid": f"maintenance-{uuid.uuid4()}@{mail.sender_domain(config.mail.sender)}",
                "start_at": timeutil.isoformat(start),
                "end_at": timeutil.isoformat(end),
                "reason": reason.strip(),
                "services": services or ["SPSE"],
                "status": SCHEDULED,
                "emergency": int(emergency),
                "emergency_why": (why or "").strip() or None,
                "sequence": 0,
                "created_at": timeutil.isoformat(now),
            },
        )
        window = get(store, config, window_id)
        _record(
            store,
            window,
            "scheduled",
            now,
            start=window.start.isoformat(),
            end=window.end.isoformat(),
            emergency=emergency,
            why=window.emergency_why,
        )
    return window


def _refuse_overlaps(
    store: Store, config: Config, start: datetime, end: datetime, exclude_id: int | None
) -> None:
    clashes = find_overlaps(start, end, list_windows(store, config), exclude_id)
    if clashes:
        other = clashes[0]
        raise UsageError(
            f"the window overlaps maintenance window {other.id} "
            f"({other.start:%Y-%m-%d %H:%M} to {other.end:%Y-%m-%d %H:%M}, {other.status})"
        )


# -- outgoing messages ---------------------------------------------------------------


@dataclass
class Delivery:
    """Messages a step produced, and what the flush did with them."""

    messages: list[EmailMessage] = field(default_factory=list)
    outbox_ids: list[int] = field(default_factory=list)
    flush: mail.FlushResult | None = None
    warnings: list[str] = field(default_factory=list)
    #: committees that could not be told by e-mail (bad row, not in committees_file):
    #: the helpdesk mail lists them so the helpdesk can phone them (SOP 000 step 4)
    problems: list[str] = field(default_factory=list)

    def raise_for_status(self) -> None:
        """The flush's error (4/5/1), else :class:`ProblemsError` (exit 1) for ``problems``."""
        if self.flush is not None:
            self.flush.raise_for_status()
        if self.problems:
            raise ProblemsError(
                f"the committees' e-mail list has {len(self.problems)} problem(s); "
                "the helpdesk e-mail lists the committees to phone: " + "; ".join(self.problems)
            )

    @property
    def unsent(self) -> int:
        return self.flush.remaining if self.flush else 0


@dataclass
class _Env:
    """What building messages needs, gathered once."""

    store: Store
    config: Config
    settings: MaintenanceSettings
    lang: str
    now: datetime

    def render(self, template: str, **context: Any) -> str:
        return render(
            template,
            self.lang,
            self.config.lpse.templates_dir,
            lpse=self.config.lpse.name,
            settings=self.settings,
            **context,
        )


def _helpdesk(env: _Env) -> list[str]:
    if not env.config.mail.helpdesk:
        raise ConfigError(
            f"{env.config.source}: mail.helpdesk is empty; SOP 000 requires telling the helpdesk"
        )
    return list(env.config.mail.helpdesk)


def _committees(env: _Env, delivery: Delivery) -> Committees:
    if not env.settings.notify_committees:
        return Committees([])
    if not env.config.mail.committees_file:
        delivery.warnings.append("mail.committees_file is not set: no committee was e-mailed")
        return Committees([])
    found = read_committees(env.config.mail.committees_file)
    for problem in found.problems:
        if problem not in delivery.problems:
            delivery.problems.append(problem)
    return found


def _unlisted(
    committees: Committees,
    stages: list[TenderStage] | None,
    window: Window,
    delivery: Delivery,
    env: _Env,
) -> list[dict[str, Any]]:
    """Committees with tender stages in the window that get no e-mail of their own:
    missing from ``committees_file``, or their row there was skipped."""
    if stages is None or not env.settings.notify_committees:
        return []
    known = committees.keys()
    names: dict[str, str] = {}
    for stage in stages:
        key = fold_name(stage.committee)
        if stage.committee.strip() and key not in known:
            names.setdefault(key, " ".join(stage.committee.split()))
    unlisted = []
    for name in names.values():
        affected = stages_in_window(stages, name, window.start, window.end)
        if not affected:
            continue
        unlisted.append({"name": name, "stages": affected})
        problem = (
            f"committee {name!r} has {len(affected)} tender stage(s) in the window but no "
            f"usable row in {env.config.mail.committees_file or 'mail.committees_file'}; "
            "the helpdesk e-mail lists them so the helpdesk can phone"
        )
        if problem not in delivery.problems:
            delivery.problems.append(problem)
    return unlisted


def _tender_stages(env: _Env, delivery: Delivery) -> list[TenderStage] | None:
    """The tender schedule's stages; a row that cannot be read is skipped and said in
    ``delivery.warnings`` (the announcement goes out: the 3-day deadline is at stake)."""
    if not env.settings.tender_schedule_file:
        return None
    problems: list[str] = []
    stages = read_tender_schedule(
        env.settings.tender_schedule_file, env.config.tz, env.settings.tender_columns, problems
    )
    for problem in problems:
        if problem not in delivery.warnings:
            delivery.warnings.append(problem)
    return stages


def _subject(env: _Env, kind: str, window: Window) -> str:
    return " ".join(env.render("maintenance_subject.txt.j2", kind=kind, w=window).split())


def _calendar(env: _Env, window: Window, cancel: bool = False) -> mail.Attachment:
    summary = env.render("maintenance_ics_summary.txt.j2", w=window).strip()
    data = mail.calendar_event(
        window.uid,
        window.sequence,
        window.start,
        window.end,
        summary,
        description=clean_running_text(window.reason),
        now=env.now,
        method="CANCEL" if cancel else "PUBLISH",
        organizer=env.config.mail.sender,
    )
    return mail.Attachment(
        f"maintenance-{window.id}.ics",
        data,
        "text/calendar",
        {"method": "CANCEL" if cancel else "PUBLISH"},
    )


def _message(
    env: _Env,
    window: Window,
    purpose: str,
    to: list[str],
    subject: str,
    template: str,
    key: str,
    cc: list[str] | None = None,
    bcc: list[str] | None = None,
    attach: mail.Attachment | None = None,
    **context: Any,
) -> EmailMessage:
    text = env.render(f"{template}.txt.j2", w=window, **context)
    html = env.render(f"{template}.html.j2", w=window, **context)
    message_id = mail.message_key(
        env.config, "maintenance", window.id, f"s{window.sequence}", purpose, key
    )
    message = mail.build_message(
        env.config,
        to=to,
        subject=subject,
        text=text,
        html=html,
        attachments=[attach] if attach else [],
        cc=cc or [],
        bcc=bcc or [],
        message_id=message_id,
        now=env.now,
    )
    # recorded in the outbox and handy for the helpdesk's mail filters
    message["X-Lpsectl-Purpose"] = f"maintenance-{purpose}"
    return message


def _announcement_messages(
    env: _Env, window: Window, delivery: Delivery, kind: str, previous: Window | None = None
) -> list[EmailMessage]:
    """Helpdesk e-mail plus one per committee (with its stages in the window)."""
    helpdesk = _helpdesk(env)
    committees = _committees(env, delivery)
    stages = _tender_stages(env, delivery)
    running = running_text(env, window)
    cc = list(env.config.mail.head) if env.settings.cc_head else []
    unlisted = _unlisted(committees, stages, window, delivery, env)
    messages = [
        _message(
            env,
            window,
            f"{kind}-helpdesk",
            helpdesk,
            _subject(env, f"{kind}-helpdesk", window),
            "maintenance_helpdesk",
            "helpdesk",
            cc=cc,
            attach=_calendar(env, window),
            committees=committees,
            running_text=running,
            previous=previous,
            unlisted=unlisted,
            skipped=committees.skipped,
        )
    ]
    for committee in committees:
        affected = (
            stages_in_window(stages, committee.name, window.start, window.end)
            if stages is not None
            else None
        )
        messages.append(
            _message(
                env,
                window,
                f"{kind}-committee",
                committee.emails,
                _subject(env, f"{kind}-committee", window),
                "maintenance_committee",
                # identity is the committee's folded name, never its row in the file
                f"committee-{committee.key}",
                attach=_calendar(env, window),
                committee=committee,
                stages=affected,
                helpdesk=helpdesk,
                previous=previous,
            )
        )
    return messages


def _notice_message(
    env: _Env, window: Window, kind: str, delivery: Delivery, cancel: bool = False
) -> EmailMessage:
    """A reminder/started/finished/cancelled notice: helpdesk in To, committees in Bcc."""
    bcc = [e for c in _committees(env, delivery) for e in c.emails]
    attach = _calendar(env, window, cancel=True) if cancel else None
    return _message(
        env,
        window,
        kind,
        _helpdesk(env),
        _subject(env, kind, window),
        "maintenance_notice",
        "all",
        bcc=bcc,
        attach=attach,
        kind=kind,
    )


def _spool_and_send(env: _Env, window: Window, delivery: Delivery, dry_run: bool) -> Delivery:
    if dry_run:
        return delivery
    with env.store.transaction():
        for message in delivery.messages:
            purpose = _purpose_of(message)
            delivery.outbox_ids.append(
                mail.queue_message(env.store, message, purpose, window.ref, env.now).id
            )
    delivery.flush = mail.flush(env.store, env.config, env.now, ids=delivery.outbox_ids)
    # an earlier attempt of the same messages may have failed for good: say so on every
    # run of the step, not only the one that found it (nothing new is sent for them)
    tried_now = {o.outbox_id for o in delivery.flush.outcomes}
    for row in mail.outbox_rows(env.store, include_done=True, ids=delivery.outbox_ids):
        if row["id"] in tried_now or row["status"] not in (mail.FAILED, mail.PARTIAL):
            continue
        failed = [
            f"{r['address']} ({r['reply']})"
            for r in row["recipients"]
            if r["status"] == mail.FAILED
        ]
        problem = (
            f"outbox {row['id']} was refused earlier for {', '.join(failed)}; correct the address "
            f"and announce again, or `lpsectl outbox retry {row['id']}`"
        )
        if problem not in delivery.problems:
            delivery.problems.append(problem)
    return delivery


def _purpose_of(message: EmailMessage) -> str:
    return str(message["X-Lpsectl-Purpose"] or "maintenance")


# -- announcement --------------------------------------------------------------------


@dataclass
class Announcement:
    window: Window
    announcement_html: str
    running_text: str
    files: list[Path]
    delivery: Delivery


@dataclass
class Followup:
    """What a reschedule or a cancellation did, and what the administrator does in SPSE.

    ``announcement_html`` and ``running_text``: the new texts to paste into SPSE's
    announcement form and running text (a rescheduled window's, or the cancellation's);
    None when the window was never announced (nothing is on SPSE). ``take_down``: the
    announcement and running text on SPSE must come down (a cancelled announced window)."""

    window: Window
    delivery: Delivery
    announcement_html: str | None = None
    running_text: str | None = None
    files: list[Path] = field(default_factory=list)
    take_down: bool = False


def running_text(
    env: _Env,
    window: Window,
    template: str = "maintenance_running_text.txt.j2",
    reason: str | None = None,
) -> str:
    """The running-text line, shortened (reason first) to ``running_text_max``."""
    limit = env.settings.running_text_max
    reason = clean_running_text(window.reason if reason is None else reason)
    line = clean_running_text(env.render(template, w=window, reason=reason))
    if len(line) <= limit:
        return line
    keep = max(0, len(reason) - (len(line) - limit) - 1)
    short = reason[:keep].rstrip() + "…" if keep else ""
    line = clean_running_text(env.render(template, w=window, reason=short))
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def announce(
    store: Store,
    config: Config,
    window_id: int,
    now: datetime,
    lang: str = "id",
    dry_run: bool = False,
) -> Announcement:
    """Write the SPSE announcement and running text, e-mail helpdesk and committees.

    Announcing again (e.g. after the SMTP server was down) spools nothing
    twice: the Message-IDs are the same, so only what is still pending goes.
    """
    env = _Env(store, config, settings_from(config), lang, now)
    window = get(store, config, window_id)
    _check_can_announce(window, env)
    html = env.render("maintenance_announcement.html.j2", w=window, reason=window.reason)
    line = running_text(env, window)
    delivery = Delivery()
    delivery.messages = _announcement_messages(env, window, delivery, "announcement")
    files: list[Path] = []
    if not dry_run:
        files = _write_files(env, window, html, line)
        with store.transaction():
            if window.status == SCHEDULED:
                _save_times(store, window, status=ANNOUNCED, announced_at=now)
                window.status, window.announced_at = ANNOUNCED, now
            _record(
                store,
                window,
                "announced",
                now,
                files=[str(f) for f in files],
                messages=len(delivery.messages),
            )
        _spool_and_send(env, window, delivery, dry_run)
    return Announcement(window, html, line, files, delivery)


def _check_can_announce(window: Window, env: _Env) -> None:
    if window.status not in (SCHEDULED, ANNOUNCED):
        raise UsageError(
            f"maintenance window {window.id} is {window.status}; only scheduled or "
            "announced windows can be announced"
        )
    if env.now >= window.end:
        raise UsageError(f"maintenance window {window.id} has already ended")
    late = env.now > window.start - timedelta(days=env.settings.min_notice_days)
    if window.status == SCHEDULED and late and not window.emergency:
        earliest = earliest_allowed_start(env.now, env.settings.min_notice_days)
        raise UsageError(
            f"maintenance window {window.id} starts in less than {env.settings.min_notice_days} "
            f"days, so announcing it now is too late; reschedule it to {earliest:%Y-%m-%d %H:%M} "
            "or later, or reschedule with --emergency --why TEXT"
        )


def _write_files(
    env: _Env, window: Window, html: str, line: str, cancel: bool = False
) -> list[Path]:
    """The announcement HTML, the running text and the .ics of ``window`` (each written
    whole, atomically): a cancellation rewrites all three, so no file left on disk
    still says SPSE will be down."""
    folder = (
        Path(env.settings.output_dir).expanduser()
        if env.settings.output_dir
        else (env.config.data_dir / "announcements")
    )
    outputs = {
        folder / f"maintenance-{window.id}-announcement.html": html,
        folder / f"maintenance-{window.id}-running-text.txt": line + "\n",
        folder / f"maintenance-{window.id}.ics": _calendar(
            env, window, cancel=cancel
        ).content.decode("utf-8"),
    }
    for path, text in outputs.items():
        write_text(path, text, what="maintenance.output_dir", error=ConfigError)
    return list(outputs)


def _rewrite_files(
    env: _Env, window: Window, html: str, line: str, delivery: Delivery, cancel: bool = False
) -> list[Path]:
    """:func:`_write_files` after a change already recorded and spooled: a file that cannot
    be written is a warning (the texts are printed for SPSE all the same)."""
    try:
        return _write_files(env, window, html, line, cancel)
    except LpsectlError as exc:
        delivery.warnings.append(f"{exc.message}; the texts below are not on disk")
        return []


# -- changes after scheduling --------------------------------------------------------


def reschedule(
    store: Store,
    config: Config,
    window_id: int,
    start: datetime,
    duration: timedelta | None,
    now: datetime,
    lang: str = "id",
    emergency: bool = False,
    why: str | None = None,
    dry_run: bool = False,
) -> Followup:
    """Move a window; when it was announced, rewrite the announcement, running text and
    .ics, send the update (same UID, SEQUENCE+1) and give the new texts for SPSE."""
    env = _Env(store, config, settings_from(config), lang, now)
    old = get(store, config, window_id)
    if old.status not in (SCHEDULED, ANNOUNCED):
        raise UsageError(f"maintenance window {old.id} is {old.status} and cannot be rescheduled")
    duration = duration or old.duration
    check_duration(duration, parse_duration(env.settings.max_duration))
    check_notice(
        start,
        now,
        env.settings.min_notice_days,
        emergency or old.emergency,
        why or old.emergency_why,
    )
    new = Window(
        **{
            **old.__dict__,
            "start": start,
            "end": start + duration,
            "sequence": old.sequence + 1,
            "emergency": emergency or old.emergency,
            "emergency_why": (why or "").strip() or old.emergency_why,
        }
    )
    delivery = Delivery()
    followup = Followup(new, delivery)
    if old.status == ANNOUNCED:
        delivery.messages = _announcement_messages(env, new, delivery, "rescheduled", previous=old)
        followup.announcement_html = env.render(
            "maintenance_announcement.html.j2", w=new, reason=new.reason
        )
        followup.running_text = running_text(env, new)
    if dry_run:
        _refuse_overlaps(store, config, new.start, new.end, old.id)
        return followup
    with store.transaction():
        _refuse_overlaps(store, config, new.start, new.end, old.id)
        _save_times(
            store,
            new,
            start_at=new.start,
            end_at=new.end,
            sequence=new.sequence,
            emergency=int(new.emergency),
            emergency_why=new.emergency_why,
        )
        _record(
            store,
            new,
            "rescheduled",
            now,
            previous_start=old.start.isoformat(),
            previous_end=old.end.isoformat(),
            start=new.start.isoformat(),
            end=new.end.isoformat(),
            emergency=new.emergency,
            why=new.emergency_why,
        )
    if followup.announcement_html is not None and followup.running_text is not None:
        _spool_and_send(env, new, delivery, dry_run)
        followup.files = _rewrite_files(
            env, new, followup.announcement_html, followup.running_text, delivery
        )
    return followup


def cancel(
    store: Store,
    config: Config,
    window_id: int,
    reason: str,
    now: datetime,
    lang: str = "id",
    dry_run: bool = False,
) -> Followup:
    """Cancel a window; when it was announced, send the cancellation (METHOD:CANCEL),
    rewrite the announcement, running text and .ics as the cancellation, and say that
    SPSE's announcement and running text must come down (``Followup.take_down``)."""
    env = _Env(store, config, settings_from(config), lang, now)
    window = get(store, config, window_id)
    if window.status not in (SCHEDULED, ANNOUNCED):
        raise UsageError(
            f"maintenance window {window.id} is {window.status} and cannot be cancelled"
        )
    was_announced = window.status == ANNOUNCED
    window.sequence += 1
    window.status, window.cancelled_at, window.cancel_reason = (
        CANCELLED,
        now,
        reason.strip() or None,
    )
    delivery = Delivery()
    followup = Followup(window, delivery, take_down=was_announced)
    if was_announced:
        delivery.messages = [_notice_message(env, window, "cancelled", delivery, cancel=True)]
        reason_text = window.cancel_reason or ""
        followup.announcement_html = env.render(
            "maintenance_cancelled_announcement.html.j2", w=window, reason=reason_text
        )
        followup.running_text = running_text(
            env, window, "maintenance_cancelled_running_text.txt.j2", reason_text
        )
    if dry_run:
        return followup
    with store.transaction():
        _save_times(
            store,
            window,
            status=CANCELLED,
            cancelled_at=now,
            sequence=window.sequence,
            cancel_reason=window.cancel_reason,
        )
        _record(store, window, "cancelled", now, reason=window.cancel_reason)
    # the e-mails first (recorded, nothing is lost): a file that cannot be rewritten is a
    # warning, never a cancellation nobody hears of
    _spool_and_send(env, window, delivery, dry_run)
    if followup.announcement_html is not None and followup.running_text is not None:
        # the files said SPSE will be down: now they say it will not (the .ics cancels)
        followup.files = _rewrite_files(
            env, window, followup.announcement_html, followup.running_text, delivery, cancel=True
        )
    return followup


def complete(
    store: Store,
    config: Config,
    window_id: int,
    now: datetime,
    lang: str = "id",
    dry_run: bool = False,
) -> tuple[Window, Delivery]:
    """Close a window and tell everyone SPSE is available again."""
    env = _Env(store, config, settings_from(config), lang, now)
    window = get(store, config, window_id)
    if window.status not in (ANNOUNCED, STARTED, SCHEDULED):
        raise UsageError(f"maintenance window {window.id} is already {window.status}")
    if now < window.start:
        raise UsageError(
            f"maintenance window {window.id} has not started yet "
            f"(starts {window.start:%Y-%m-%d %H:%M}); cancel it instead"
        )
    return _finish(env, window, dry_run)


def _finish(env: _Env, window: Window, dry_run: bool) -> tuple[Window, Delivery]:
    announced = window.status in (ANNOUNCED, STARTED)
    window.completed_at = env.now  # the notice says since when SPSE is back
    delivery = Delivery()
    if announced:
        delivery.messages = [_notice_message(env, window, "finished", delivery)]
    if dry_run:
        return window, delivery
    with env.store.transaction():
        _save_times(env.store, window, status=COMPLETED, completed_at=env.now)
        window.status, window.completed_at = COMPLETED, env.now
        if announced:
            _record(env.store, window, "finished", env.now)
        _record(env.store, window, "completed", env.now)
    return window, _spool_and_send(env, window, delivery, dry_run)


# -- reminders (cron) -------------------------------------------------------------------


@dataclass
class RemindResult:
    sent: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    delivery: Delivery = field(default_factory=Delivery)


def remind(
    store: Store, config: Config, now: datetime, lang: str = "id", dry_run: bool = False
) -> RemindResult:
    """Send every notice that is due now (reminders, started, auto finished)."""
    env = _Env(store, config, settings_from(config), lang, now)
    result = RemindResult()
    for window in list_windows(store, config):
        _warn_unannounced(env, window, result)
        plan = reminder_plan(
            window,
            env.settings.reminders,
            now,
            _done_notices(store, window),
            env.settings.auto_complete,
        )
        for item in plan:
            _act_on(env, window, item, result, dry_run)
    return result


def _warn_unannounced(env: _Env, window: Window, result: RemindResult) -> None:
    if window.status == SCHEDULED:
        deadline = window.start - timedelta(days=env.settings.min_notice_days)
        if env.now >= deadline - timedelta(days=1):
            result.delivery.warnings.append(
                f"maintenance window {window.id} ({window.start:%Y-%m-%d %H:%M}) is not announced "
                f"yet; announce it before {deadline:%Y-%m-%d %H:%M} (`lpsectl maintenance announce {window.id}`)"
            )


def _act_on(
    env: _Env, window: Window, item: PlannedNotice, result: RemindResult, dry_run: bool
) -> None:
    entry = {"window": window.id, "kind": item.kind, "due_at": item.due_at}
    if (
        item.state == "skip"
        and item.kind.startswith("reminder-")
        and _never_recorded(env, window, item)
    ):
        result.skipped.append(entry)
        if not dry_run:
            _record(
                env.store, window, f"{item.kind}-skipped", env.now, due_at=item.due_at.isoformat()
            )
        return
    if item.state != "due":
        return
    result.sent.append(entry)
    if item.kind == "finished":
        _, delivery = _finish(env, window, dry_run)
        _merge(result.delivery, delivery)
        return
    delivery = Delivery(messages=[_notice_message(env, window, item.kind, result.delivery)])
    if not dry_run:
        with env.store.transaction():
            _record(env.store, window, item.kind, env.now, due_at=item.due_at.isoformat())
            if item.kind == "started":
                _save_times(env.store, window, status=STARTED, started_at=env.now)
                window.status = STARTED
        _spool_and_send(env, window, delivery, dry_run)
    _merge(result.delivery, delivery)


def _never_recorded(env: _Env, window: Window, item: PlannedNotice) -> bool:
    row = env.store.query_one(
        "SELECT id FROM maintenance_events WHERE window_id = ? AND kind = ? AND sequence = ?",
        [window.id, f"{item.kind}-skipped", window.sequence],
    )
    return row is None


def _merge(total: Delivery, part: Delivery) -> None:
    total.messages.extend(part.messages)
    total.outbox_ids.extend(part.outbox_ids)
    total.warnings.extend(w for w in part.warnings if w not in total.warnings)
    total.problems.extend(p for p in part.problems if p not in total.problems)
    if part.flush is not None:
        if total.flush is None:
            total.flush = mail.FlushResult()
        total.flush.merge(part.flush)


# -- what happened: for `maintenance show` ---------------------------------------------

#: SOP 000 steps 3 and 4: helpdesk and committees told within 30 minutes
SOP_LIMIT = timedelta(minutes=30)


def window_mails(store: Store, config: Config, window: Window) -> list[dict[str, Any]]:
    """The outbox rows of ``window``'s e-mails, their times as aware datetimes in the LPSE
    zone (what :func:`sop_checks` compares with the announcement)."""
    mails = mail.outbox_rows(store, include_done=True, ref=window.ref)
    for row in mails:
        for key in ("created_at", "last_attempt_at", "sent_at"):
            if row[key]:
                row[key] = timeutil.parse_iso(row[key]).astimezone(config.tz)
    return mails


def details(store: Store, config: Config, window_id: int, now: datetime) -> dict[str, Any]:
    """The window, its full history, its e-mails with send times, and the SOP checks."""
    settings = settings_from(config)
    window = get(store, config, window_id)
    mails = window_mails(store, config, window)
    plan = reminder_plan(
        window, settings.reminders, now, _done_notices(store, window), settings.auto_complete
    )
    return {
        "window": window.as_dict(),
        "history": history(store, config, window_id),
        "mails": mails,
        "plan": [p.__dict__ for p in plan],
        "sop": sop_checks(window, mails, settings.min_notice_days, now),
    }


def sop_checks(
    window: Window, mails: list[dict[str, Any]], min_notice_days: int, now: datetime
) -> list[dict[str, Any]]:
    """Notice period met? Helpdesk and committees told within 30 minutes of the announcement?

    ``ok`` is None while a mail is still unsent but the 30 minutes are not over.
    """
    checks: list[dict[str, Any]] = []
    if window.announced_at is None:
        return checks
    notice = window.start - window.announced_at
    checks.append(
        {
            "check": "notice",
            "limit": f"{min_notice_days}d",
            "actual_minutes": int(notice.total_seconds() // 60),
            "ok": notice >= timedelta(days=min_notice_days) or window.emergency,
        }
    )
    for audience in ("helpdesk", "committee"):
        purpose = f"maintenance-announcement-{audience}"
        sent = [m for m in mails if m["purpose"] == purpose]
        if not sent:
            continue
        times = [m["sent_at"] for m in sent]
        last = max(times) if all(times) else None
        delay = (last - window.announced_at) if last else None
        ok: bool | None = delay is not None and delay <= SOP_LIMIT
        if delay is None and now - window.announced_at <= SOP_LIMIT:
            ok = None
        if any(m["status"] in (mail.FAILED, mail.PARTIAL, mail.DROPPED) for m in sent):
            ok = False  # somebody will never get it by e-mail: the helpdesk must phone
        checks.append(
            {
                "check": f"{audience} within 30 minutes",
                "limit": "30m",
                "actual_minutes": int(delay.total_seconds() // 60) if delay is not None else None,
                "ok": ok,
            }
        )
    return checks
