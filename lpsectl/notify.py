"""Alerts where the LPSE team is (issue 21): Telegram, WhatsApp gateways, e-mail, webhooks
through Apprise, each alert told once when it opens, when it escalates, as a reminder
while it stays open, and when it recovers — never again on every cron run.

- ``[notify]`` names a file (or an environment variable) with the Apprise URLs, one
  per line with an optional minimum severity: ``critical tgram://TOKEN/CHAT``. The
  URLs hold secrets (bot tokens, passwords): they are never in the config, never
  printed, never stored — a target is known by its Apprise *privacy* URL and a hash.
- The state of every alert (:mod:`lpsectl.alerts`) lives in ``alert_states``; a
  transition queues one notification per target in ``notifications``, delivered with
  the outbox's discipline: a target that fails is retried with a growing wait until
  ``retry_hours``, and listed with its reason.
- Quiet hours hold warnings until they end; criticals go out at once. An alert inside
  an announced maintenance window (planned downtime) is not told at all; if it is
  still there when the window is over, it is told then, saying so.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import stat
import threading
import time as time_module
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lpsectl.alerts import SEVERITIES, LiveAlert
from lpsectl.config import Config, load_section
from lpsectl.errors import ConfigError
from lpsectl.i18n import N_, translated
from lpsectl.render import clock, long_datetime
from lpsectl.store import Store
from lpsectl.timeutil import isoformat

#: waits between delivery attempts of one notification (then the last one, repeated)
BACKOFF_MINUTES = (1, 5, 15, 30, 60)
#: seconds of delivering per run at most (the notify job is stopped at 4 minutes)
RUN_SECONDS = 150.0


@dataclass
class NotifySettings:
    """``[notify]``."""

    #: file of Apprise URLs, one per line, optionally after a severity: "critical URL"
    urls_file: str = ""
    #: or an environment variable holding such lines (newline-separated)
    urls_env: str = ""
    #: "22:00-06:00": warnings wait until the end (LPSE time); criticals never wait
    quiet_hours: str = ""
    #: hours after which an alert still open is told again (0: never)
    remind_hours: float = 12.0
    #: hours a notification is retried before it is given up (listed as failed)
    retry_hours: float = 24.0
    #: seconds for one delivery to one target
    timeout: float = 20.0
    #: a link to the HTML reports, added to every message ("" = none)
    report_url: str = ""


def notify_settings(config: Config) -> NotifySettings:
    settings = load_section(config, "notify", NotifySettings)
    where = f"{config.source}: notify"
    if settings.quiet_hours:
        quiet_window(settings.quiet_hours, f"{where}.quiet_hours")
    for key, most in (("remind_hours", 720.0), ("retry_hours", 720.0), ("timeout", 120.0)):
        value = getattr(settings, key)
        if not math.isfinite(value) or value < 0 or (key == "timeout" and value == 0):
            raise ConfigError(f"{where}.{key} must be a positive number")
        if value > most:
            raise ConfigError(f"{where}.{key} must be at most {most:g}")
    return settings


_QUIET = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def quiet_window(text: str, where: str = "notify.quiet_hours") -> tuple[time, time]:
    match = _QUIET.match(text)
    if not match:
        raise ConfigError(f"{where}: {text!r} is not a span such as 22:00-06:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ConfigError(f"{where}: {text!r} is not a span of clock times")
    return time(h1, m1), time(h2, m2)


def quiet_until(settings: NotifySettings, now: datetime) -> datetime | None:
    """Pure: the end of the quiet hours ``now`` falls in, or None outside them."""
    if not settings.quiet_hours:
        return None
    start, end = quiet_window(settings.quiet_hours)
    moment = now.timetz().replace(tzinfo=None)
    inside = start <= moment < end if start <= end else (moment >= start or moment < end)
    if not inside:
        return None
    ends = now.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    return ends if ends > now else ends + timedelta(days=1)


# -- targets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    url: str = field(repr=False)  # the secret one: only given to Apprise
    shown: str  # Apprise's privacy form: no token, no password
    ident: str  # sha256 of the URL, 16 hex digits: the same target across runs
    min_severity: str = "warning"

    def wants(self, severity: str) -> bool:
        return SEVERITIES.index(severity) >= SEVERITIES.index(self.min_severity)


def load_targets(settings: NotifySettings, source: str) -> list[Target]:
    """The targets of ``urls_file`` and ``urls_env``. ConfigError (exit 4) for a file that
    cannot be read, one readable by other users (it holds secrets: ``chmod 600``), or a
    line Apprise does not understand — named by file and line, never by its text."""
    lines: list[tuple[str, str]] = []
    if settings.urls_file:
        path = Path(settings.urls_file).expanduser()
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                raise ConfigError(f"{source}: notify.urls_file {path} is not a regular file")
            if info.st_mode & 0o077:
                raise ConfigError(
                    f"{source}: notify.urls_file {path} is readable by other users "
                    f"(mode {stat.S_IMODE(info.st_mode):04o}) but holds secrets: chmod 600 {path}"
                )
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise ConfigError(f"{source}: notify.urls_file {path}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{source}: notify.urls_file {path} is not UTF-8 text") from exc
        lines += [(f"{path}:{n}", line) for n, line in enumerate(text.splitlines(), 1)]
    if settings.urls_env:
        value = os.environ.get(settings.urls_env)
        if value is None:
            raise ConfigError(
                f"{source}: notify.urls_env names {settings.urls_env}, which is not set"
            )
        lines += [
            (f"${settings.urls_env}:{n}", line) for n, line in enumerate(value.splitlines(), 1)
        ]
    targets: list[Target] = []
    for where, line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        if parts[0].lower() in SEVERITIES and len(parts) == 2:
            severity, url = parts[0].lower(), parts[1].strip()
        else:
            severity, url = "warning", line
        if re.search(r"\s", url) or url.count("://") != 1:
            raise ConfigError(
                f"{where}: one Apprise URL per line (this line holds spaces or several URLs)"
            )
        target = _target(url, severity, where)
        same = next((t for t in targets if t.ident == target.ident), None)
        if same is None:
            targets.append(target)
        elif SEVERITIES.index(severity) < SEVERITIES.index(same.min_severity):
            targets[targets.index(same)] = target  # the same URL twice: once, the wider
    return targets


def _target(url: str, severity: str, where: str) -> Target:
    import apprise  # here: only notify needs it (and it loads ~100 plugins)

    with scrubbed_logs([Target(url, "", "")]):
        found = apprise.Apprise.instantiate(url)
    if not found:
        raise ConfigError(f"{where}: not an Apprise URL this installation can use")
    ident = hashlib.sha256(url.encode()).hexdigest()[:16]
    return Target(url, shown_url(found.url(privacy=True)), ident, severity)


def shown_url(private: str) -> str:
    """Apprise's privacy URL without its path and query: a gateway's API key is often in
    the path (``json://gw.example/api/KEY/send``), which Apprise does not mask."""
    parts = urlsplit(private)
    return f"{parts.scheme}://{parts.netloc}" + (
        "/…" if parts.path.strip("/") or parts.query else ""
    )


def scrub(text: str, targets: Iterable[Target]) -> str:
    """``text`` with every part of the targets' URLs that could be a secret (any piece of
    6 characters or more between separators, but the host) replaced by ***."""
    for target in targets:
        host = urlsplit(target.url).hostname or ""
        for piece in sorted(set(re.split(r"[/:@?&=#+]+", target.url)), key=len, reverse=True):
            if len(piece) >= 6 and piece != host and piece not in SCHEMES:
                text = text.replace(piece, "***")
    return text


#: URL pieces that are no secret (schemes and Apprise's own parameter values)
SCHEMES = frozenset({"mailto", "mailtos", "https", "json", "jsons", "form", "forms", "insecure"})


class _Scrubbed(logging.Filter):
    """Apprise logs what it does, URLs included; lpsectl's -v shows those lines: they
    pass through :func:`scrub` first."""

    def __init__(self, targets: Iterable[Target]) -> None:
        super().__init__()
        self.targets = list(targets)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage(), self.targets)
        record.args = ()
        return True


#: the loggers that may write a target's URL: Apprise's, and the HTTP libraries it uses
#: (urllib3 logs every request line, path and query included)
URL_LOGGERS = ("apprise", "urllib3", "urllib3.connectionpool", "requests")


@contextmanager
def scrubbed_logs(targets: Iterable[Target]) -> Iterator[None]:
    guard = _Scrubbed(targets)
    loggers = [logging.getLogger(name) for name in URL_LOGGERS]
    for logger in loggers:
        logger.addFilter(guard)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(guard)


# -- states and the queue ---------------------------------------------------------------


@dataclass
class Transition:
    kind: str  # open | escalate | remind | recover | after_maintenance
    key: str
    severity: str
    subject: str
    message: str
    next_step: str
    since: datetime | None


def _when(value: Any) -> datetime | None:
    """A stored time, or None when the row was damaged (not ISO 8601, no zone)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _due(value: Any, now: datetime, latest: datetime) -> bool:
    due = _when(value)
    return due is None or due <= now or due > latest


def _rank(severity: Any) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


def reconcile(
    store: Store,
    alerts: list[LiveAlert],
    now: datetime,
    settings: NotifySettings,
    watched: Callable[[str], bool] | None = None,
) -> list[Transition]:
    """Bring ``alert_states`` to ``alerts`` and return what changed that must be told.
    ``watched(key)``: whether an alert's source is still looked at; one that is not (a
    check removed from the config, an e-mail aged out) closes without a recovery notice."""
    stamp = isoformat(now)
    live = {a.key: a for a in alerts}
    told: list[Transition] = []
    with store.transaction():
        open_rows = {
            r["key"]: r for r in store.query("SELECT * FROM alert_states WHERE closed_at IS NULL")
        }
        for key, alert in live.items():
            row = open_rows.get(key)
            since = isoformat(alert.since) if alert.since else stamp
            if row is None:
                store.insert(
                    "alert_states",
                    {
                        "key": key,
                        "severity": alert.severity,
                        "subject": alert.subject,
                        "message": alert.message,
                        "next_step": alert.next_step,
                        "since": since,
                        "opened_at": stamp,
                        "last_seen_at": stamp,
                        "told_at": None if alert.planned else stamp,
                        "told_severity": None if alert.planned else alert.severity,
                        "planned": int(alert.planned),
                    },
                )
                if not alert.planned:
                    told.append(_transition("open", alert))
                continue
            kind = None
            if alert.planned:
                pass  # planned downtime: kept, not told
            elif row["told_at"] is None:
                kind = "after_maintenance" if row["planned"] else "open"
            elif _rank(alert.severity) > _rank(row["told_severity"]):
                kind = "escalate"
            elif settings.remind_hours and now - min(
                now, _when(row["told_at"]) or now
            ) >= timedelta(hours=settings.remind_hours):
                kind = "remind"
            values: dict[str, Any] = {
                "severity": alert.severity,
                "message": alert.message,
                "next_step": alert.next_step,
                "last_seen_at": stamp,
                "planned": int(alert.planned),
            }
            if kind:
                values |= {"told_at": stamp, "told_severity": alert.severity}
                told.append(_transition(kind, alert))
            store.execute(
                f"UPDATE alert_states SET {', '.join(f'{c} = ?' for c in values)} WHERE id = ?",
                [*values.values(), row["id"]],
            )
        for key, row in open_rows.items():
            if key in live:
                continue
            store.execute("UPDATE alert_states SET closed_at = ? WHERE id = ?", [stamp, row["id"]])
            if watched is not None and not watched(key):
                continue  # its source is no longer configured or looked at: no "recovered"
            if row["told_at"] is not None:  # an alert never told needs no recovery notice
                told.append(
                    Transition(
                        "recover",
                        key,
                        row["told_severity"] if row["told_severity"] in SEVERITIES else "warning",
                        row["subject"],
                        row["message"],
                        "",
                        _when(row["since"]),
                    )
                )
    return told


def _transition(kind: str, alert: LiveAlert) -> Transition:
    return Transition(
        kind, alert.key, alert.severity, alert.subject, alert.message, alert.next_step, alert.since
    )


TITLES = {
    "open": N_("{level}: {subject}"),
    "escalate": N_("{level} (worse): {subject}"),
    "remind": N_("Still {level}: {subject}"),
    "after_maintenance": N_("{level} after maintenance: {subject}"),
    "recover": N_("RECOVERED: {subject}"),
    "critical": N_("CRITICAL"),
    "warning": N_("WARNING"),
    "since": N_("since"),
    "next": N_("Next step"),
    "recovered": N_("has recovered; it was"),
    "recovered_at": N_("recovered at"),
    "maintenance": N_("still there after the maintenance window ended"),
    "report": N_("Report"),
}


def compose(
    change: Transition, lpse: str, now: datetime, settings: NotifySettings, lang: str
) -> tuple[str, str]:
    """Pure: (title, body) of one notification — short, in the LPSE's language."""
    say = translated(TITLES, lang)
    level = say[change.severity]
    title = f"[{lpse}] " + say[change.kind].format(level=level, subject=change.subject)
    lines = []
    if change.kind == "recover":
        lines.append(f"{change.subject} {say['recovered']}: {change.message}")
    else:
        lines.append(change.message)
        if change.kind == "after_maintenance":
            lines.append(say["maintenance"])
    if change.since and f"{say['since']} " not in change.message:
        lines.append(f"{say['since']} {long_datetime(change.since, lang)}")
    if change.kind == "recover":
        lines.append(f"{say['recovered_at']} {clock(now, lang)}")
    if change.next_step and change.kind != "recover":
        lines.append(f"{say['next']}: {change.next_step}")
    if settings.report_url:
        lines.append(f"{say['report']}: {settings.report_url}")
    return title, "\n".join(lines)


def enqueue(
    store: Store,
    changes: list[Transition],
    targets: list[Target],
    now: datetime,
    settings: NotifySettings,
    lpse: str,
    lang: str,
) -> int:
    """One notification per change and target that wants its severity; warnings in the
    quiet hours wait for their end (status ``held``). Returns how many were queued."""
    quiet = quiet_until(settings, now)
    count = 0
    with store.transaction():
        for change in changes:
            title, body = compose(change, lpse, now, settings, lang)
            for target in targets:
                if not target.wants(change.severity):
                    continue
                held = quiet is not None and change.severity != "critical"
                # what still waits for this alert and target is out of date: the team gets
                # the newest state, never a KRITIS after its PULIH
                store.execute(
                    "UPDATE notifications SET status = 'superseded' WHERE alert_key = ? "
                    "AND target = ? AND status IN ('queued', 'held', 'deferred')",
                    [change.key, target.ident],
                )
                store.insert(
                    "notifications",
                    {
                        "alert_key": change.key,
                        "kind": change.kind,
                        "severity": change.severity,
                        "target": target.ident,
                        "target_shown": target.shown,
                        "title": title,
                        "body": body,
                        "status": "held" if held else "queued",
                        "attempts": 0,
                        "created_at": isoformat(now),
                        "next_attempt_at": isoformat(quiet if held and quiet else now),
                    },
                )
                count += 1
    return count


@dataclass
class Delivery:
    id: int
    target: str
    title: str
    status: str  # sent | deferred | failed | orphaned
    error: str | None = None


def deliver(
    store: Store, targets: list[Target], now: datetime, settings: NotifySettings
) -> list[Delivery]:
    """Send every notification that is due; a failure is retried later (BACKOFF_MINUTES),
    given up after ``retry_hours`` (status ``failed``, with the reason)."""
    by_ident = {t.ident: t for t in targets}
    done: list[Delivery] = []
    failed_now: set[str] = set()  # a target that failed once this run is not tried again
    budget_end = time_module.monotonic() + RUN_SECONDS
    rows = store.query(
        "SELECT * FROM notifications WHERE status IN ('queued', 'held', 'deferred') ORDER BY id"
    )
    # due now; one due "in the future" beyond any wait lpsectl sets was stored with the
    # clock ahead: due now too, not in a year
    latest = now + timedelta(hours=settings.retry_hours + 24)
    rows = [r for r in rows if _due(r["next_attempt_at"], now, latest)]
    rows.sort(key=lambda r: (r["severity"] != "critical", r["id"]))  # criticals first
    for row in rows:
        if time_module.monotonic() > budget_end:
            break  # the rest next run: a run stays within the notify job's time
        if row["target"] in failed_now:
            continue
        target = by_ident.get(row["target"])
        if target is None:  # its line was removed from urls_file: nobody to send it to
            store.execute(
                "UPDATE notifications SET status = 'failed', last_error = ? WHERE id = ?",
                ["its target is no longer in notify.urls_file", row["id"]],
            )
            done.append(
                Delivery(row["id"], row["target_shown"], row["title"], "failed", "target removed")
            )
            continue
        ok, reason = send(target, row["title"], row["body"], row["kind"], row["severity"], settings)
        attempts = (row["attempts"] if isinstance(row["attempts"], int) else 0) + 1
        if ok:
            store.execute(
                "UPDATE notifications SET status = 'sent', attempts = ?, sent_at = ?, "
                "last_error = NULL WHERE id = ?",
                [attempts, isoformat(now), row["id"]],
            )
            done.append(Delivery(row["id"], target.shown, row["title"], "sent"))
            continue
        failed_now.add(row["target"])
        reason = scrub(reason or "delivery failed", targets)
        created = _when(row["created_at"])
        if created is None or created > now:
            created = now  # a damaged row, or the clock was ahead: counted from now
        wait = timedelta(minutes=BACKOFF_MINUTES[min(attempts, len(BACKOFF_MINUTES)) - 1])
        if now + wait - created > timedelta(hours=settings.retry_hours):
            status, values = "failed", [attempts, reason, row["next_attempt_at"]]
        else:
            status, values = "deferred", [attempts, reason, isoformat(now + wait)]
        store.execute(
            f"UPDATE notifications SET status = '{status}', attempts = ?, last_error = ?, "
            "next_attempt_at = ? WHERE id = ?",
            [*values, row["id"]],
        )
        done.append(Delivery(row["id"], target.shown, row["title"], status, reason))
    return done


def send(
    target: Target, title: str, body: str, kind: str, severity: str, settings: NotifySettings
) -> tuple[bool, str | None]:
    """One message to one target through Apprise: (delivered, why not). Apprise's own
    log lines are the reason (its plugins say what the service answered)."""
    import apprise

    notify_type = (
        apprise.NotifyType.FAILURE if severity == "critical" else apprise.NotifyType.WARNING
    )
    if kind in ("recover", "test"):
        notify_type = apprise.NotifyType.SUCCESS if kind == "recover" else apprise.NotifyType.INFO
    # the plugin is called here, not through Apprise.notify: that dispatches to a
    # concurrent.futures worker, which Python joins when the process ends, so a target
    # that trickles would keep lpsectl alive long after its run
    with scrubbed_logs([target]):
        plugin = apprise.Apprise.instantiate(target.url)
    if not plugin:
        return False, "not an Apprise URL this installation can use"
    for attribute in ("socket_connect_timeout", "socket_read_timeout"):
        if hasattr(plugin, attribute):
            setattr(plugin, attribute, settings.timeout)
    if hasattr(plugin, "redirects"):
        # a redirect would carry the message's headers (an API key) to another host and
        # count as delivered: a 3xx is a failure, with its status as the reason
        plugin.redirects = False
    outcome: dict[str, Any] = {}

    def deliver_one() -> None:
        with scrubbed_logs([target]), apprise.LogCapture(level=apprise.logging.WARNING) as output:
            try:
                outcome["ok"] = bool(plugin.notify(body=body, title=title, notify_type=notify_type))
            except Exception as exc:  # noqa: BLE001 - a plugin's bug must not stop the others
                outcome["error"] = f"{type(exc).__name__}: {exc}"
            outcome["log"] = output.getvalue().strip()

    # one deadline for the whole delivery, whatever the service does (a daemon thread:
    # one still stuck on a socket ends with the process)
    worker = threading.Thread(target=deliver_one, daemon=True, name="notify-send")
    worker.start()
    worker.join(settings.timeout + 5)
    if worker.is_alive():
        return False, f"the service did not finish within {settings.timeout + 5:g} s"
    if "error" in outcome:
        return False, scrub(outcome["error"], [target])[:500]
    if outcome.get("ok"):
        return True, None
    last = [line for line in str(outcome.get("log", "")).splitlines() if line.strip()]
    reason = _LOG_PREFIX.sub("", last[-1]) if last else "the service did not accept it"
    return False, scrub(reason, [target])[:500]


#: "2026-12-01 07:14:40,131 - WARNING - " before each of Apprise's log lines
_LOG_PREFIX = re.compile(r"^\S+ \S+ - [A-Z]+ - ")


def pending(store: Store, include_done: bool = False) -> list[dict[str, Any]]:
    """Notifications waiting or failed (``include_done``: sent ones too), newest first."""
    if include_done:
        return store.query("SELECT * FROM notifications ORDER BY id DESC LIMIT 500")
    return store.query(
        "SELECT * FROM notifications WHERE status != 'sent' ORDER BY id DESC LIMIT 500"
    )


def open_alerts(store: Store) -> list[dict[str, Any]]:
    return store.query("SELECT * FROM alert_states WHERE closed_at IS NULL ORDER BY id")
