"""The alerts that hold *now* (issue 21): what `lpsectl notify run` tells the team.

An alert is a state with a stable key, not a message: the same condition found
again on the next run is the same alert. Sources, all from the history:

- each configured host's latest collection (the daily report's host alerts:
  unreachable, disk, memory, swap, load, a service stopped), from today's
  snapshots, or yesterday's before today's first collect;
- each ``[[checks]]`` address: down for ``down_after_checks`` consecutive checks
  (critical), its certificate refused or expiring (the daily report's rules);
- the outbox: an e-mail a recipient refused for good in the last 7 days.

A host or the address down while a maintenance window lpsectl announced is on is
*planned*: kept as a state but not notified (:mod:`lpsectl.notify`); still down
when the window is over, it is told then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lpsectl import webcheck
from lpsectl.availability import Window, in_window
from lpsectl.config import Config
from lpsectl.i18n import gettext, localize
from lpsectl.render import clock
from lpsectl.reports import daily, daily_web
from lpsectl.store import Store
from lpsectl.thresholds import host_thresholds, web_thresholds

SEVERITIES = ("warning", "critical")


@dataclass(frozen=True)
class LiveAlert:
    key: str  # "host:spse-db:host", "check:spse:down", "outbox:12" — stable across runs
    severity: str  # "warning" | "critical"
    subject: str  # the host, check or message it is about
    message: str  # what, one sentence, in the report's language
    next_step: str  # the one thing to do first
    since: datetime | None = None
    planned: bool = False


def next_step_for(item: str, subject: str, lang: str) -> str:
    """Pure: the first thing to do for an alert of ``item`` (the daily report's items)."""
    _ = gettext(lang)
    if item == "host":
        return _("check the network and SSH to {host}: `lpsectl hosts check`").format(host=subject)
    if item.startswith("disk "):
        mount = item.split(" ", 1)[1]
        pattern = mount.rstrip("/") + "/*"
        return _("free space on {host}: `df -h {mount}`, `du -xsh {pattern}`").format(
            host=subject, mount=mount, pattern=pattern
        )
    if item.startswith("service "):
        service = item.split(" ", 1)[1]
        return _("check the service {service} on {host}: `systemctl status {service}`").format(
            service=service, host=subject
        )
    if item in ("memory", "swap", "load"):
        return _("check the top processes on {host}: `top -o %MEM`").format(host=subject)
    return _("see `lpsectl report daily`")


def host_alerts(store: Store, config: Config, now: datetime, lang: str) -> list[LiveAlert]:
    limits = host_thresholds(config)
    found = []
    for host in config.hosts:
        entry = daily.host_entry(store, config, host.name, now.date())
        if entry["status"] == "no-data":  # before today's first collect: the last known state
            entry = daily.host_entry(store, config, host.name, now.date() - timedelta(days=1))
            if entry["status"] == "no-data":
                continue  # never collected: the daily report says so; nothing live to tell
        for alert in daily.host_alerts(entry, limits, lang):
            found.append(
                LiveAlert(
                    key=f"host:{host.name}:{alert['item']}",
                    severity=alert["severity"],
                    subject=host.name,
                    message=f"{host.name}: {daily.item_label(alert['item'], lang)} {alert['message']}",
                    next_step=next_step_for(alert["item"], host.name, lang),
                    since=_local(_stamp(entry.get("taken_at")), config),
                )
            )
    return found


def _local(moment: datetime | None, config: Config) -> datetime | None:
    return moment.astimezone(config.tz) if moment else None  # "WIB", not "UTC+07:00"


def watched_by(config: Config) -> Callable[[str], bool]:
    """Whether an alert's source is still looked at: a host or check still in the config.
    Others (a removed check, an e-mail out of the 7 days) close without "recovered"."""
    prefixes = tuple(
        [f"host:{h.name}:" for h in config.hosts]
        + [f"check:{c.name}:" for c in webcheck.load_checks(config)]
    )
    return lambda key: key.startswith(prefixes)


def check_alerts(
    store: Store, config: Config, now: datetime, windows: list[Window], lang: str
) -> list[LiveAlert]:
    """The [[checks]] addresses: down now, certificate refused or expiring."""
    checks = webcheck.load_checks(config)
    if not checks or not store.has_table("web_checks"):
        return []
    limits = web_thresholds(config)
    _ = gettext(lang)
    found = []
    for check in checks:
        of_check = webcheck.latest_results(store, check.name, config.tz)
        if of_check:
            last = of_check[-1]["checked_at"]
            stale_after = timedelta(minutes=max(3 * check.interval, 15))
            if now - last > stale_after:
                # no result for long: the last state is kept (never a false "recovered"),
                # and that the check stopped is an alert of its own
                found.append(
                    LiveAlert(
                        key=f"check:{check.name}:stale",
                        severity="warning",
                        subject=check.name,
                        message=_("no result of the check {name} since {since}").format(
                            name=check.name, since=clock(last, lang)
                        ),
                        next_step="`lpsectl check --name " + check.name + "`; `lpsectl cron print`",
                        since=last,
                    )
                )
        # no windows here: whether a window explains it is judged by now, not by its start
        entry = daily_web.check_entry(check.name, check, of_check, [], [], limits, now)
        for alert in daily_web.entry_alerts(entry, limits, lang):
            code = alert.get("code")
            if code not in ("down_now", "cert_refused", "cert_critical", "cert_warning"):
                continue  # the day's history (ended outages, availability): the report's
            kind = "down" if code == "down_now" else "certificate"
            since = entry["outages"][-1]["start"] if kind == "down" else None
            found.append(
                LiveAlert(
                    key=f"check:{check.name}:{kind}",
                    severity=alert["severity"],
                    subject=check.name,
                    message=alert["message"],
                    next_step=(
                        _(
                            "check SPSE and nginx on the application server "
                            "(`systemctl status nginx`), then `lpsectl check --name {name}`"
                        ).format(name=check.name)
                        if kind == "down"
                        else _("renew the TLS certificate of {url}").format(url=check.url)
                    ),
                    since=since,
                )
            )
    return found


def outbox_alerts(store: Store, now: datetime, lang: str) -> list[LiveAlert]:
    """E-mails a recipient refused for good (5xx) in the last 7 days: someone did not get
    a maintenance notice or a report."""
    if not store.has_table("outbox"):
        return []
    since = (now - timedelta(days=7)).isoformat()
    _ = gettext(lang)
    found = []
    for row in store.query(
        "SELECT id, subject, status, last_error, created_at FROM outbox "
        "WHERE status IN ('failed', 'partial') AND created_at >= ? ORDER BY id",
        [since],
    ):
        subject = (row.get("subject") or "")[:80]
        found.append(
            LiveAlert(
                key=f"outbox:{row['id']}",
                severity="warning",
                subject=f"outbox {row['id']}",
                message=_(
                    "e-mail '{subject}' was not delivered to every recipient: {reason}"
                ).format(subject=subject, reason=localize(row.get("last_error") or "-", lang)),
                next_step=f"`lpsectl outbox show {row['id']}`",
                since=_stamp(row.get("created_at")),
            )
        )
    return found


def live_alerts(store: Store, config: Config, now: datetime, lang: str) -> list[LiveAlert]:
    """Every alert that holds at ``now``, keys unique."""
    windows = webcheck.maintenance_windows(store, now - timedelta(days=2), now + timedelta(days=1))
    found: dict[str, LiveAlert] = {}
    for alert in [
        *host_alerts(store, config, now, lang),
        *check_alerts(store, config, now, windows, lang),
        *outbox_alerts(store, now, lang),
    ]:
        if alert.key not in found:
            if explained_by_maintenance(alert) and in_window(now, windows):
                alert = LiveAlert(**{**alert.__dict__, "planned": True})
            found[alert.key] = alert
    return list(found.values())


def explained_by_maintenance(alert: LiveAlert) -> bool:
    """A host or the SPSE address down while a maintenance window is on is planned
    downtime; a certificate, a disk or a bounced e-mail is not explained by one."""
    item = alert.key.split(":", 2)[-1]
    return (
        alert.key.startswith("check:")
        and item == "down"
        or (alert.key.startswith("host:") and (item == "host" or item.startswith("service ")))
    )


def _stamp(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else None
