"""SOP compliance with the time standards (Mutu Baku) of every step lpsectl can measure.

One row per step with a time standard: how many were assessed in the period, how many
met it, how many breached it, and the worst case; a note where the data to judge is
missing. The standards (``../shared/mission`` seeds 000, 001 and 004):

- SOP 000 step 2: the maintenance announcement at least ``[maintenance] min_notice_days``
  (3) days ahead — a declared emergency window is listed with its reason instead of
  counted as a breach; steps 3 and 4: the helpdesk and the procurement committees
  told within 30 minutes of the announcement (:func:`lpsectl.maintenance.sop_checks`);
- SOP 001 steps 2, 3–5 and the resolution: first response and priority within 30
  minutes, the data request answered within 15, resolution within the priority's
  limit (:func:`lpsectl.tickets.month_summary`, on the configured clock);
- SOP 004 steps 3, 6, 8 and 9: check, action in SPSE, notice and archive, 10 minutes
  each (:func:`lpsectl.access.step_timers`).

The figures come from the functions that judge each step for its own command (one
home each); this module only puts them side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lpsectl import timeutil
from lpsectl.config import Config
from lpsectl.i18n import N_, translated
from lpsectl.render import human_duration
from lpsectl.slaclock import working_duration
from lpsectl.store import Store

STEPS = {
    "000-notice": N_("Maintenance announced in SPSE and running text in time"),
    "000-helpdesk": N_("Helpdesk told of the maintenance"),
    "000-committee": N_("Procurement committees told of the maintenance"),
    "001-response": N_("Ticket received and studied (first response)"),
    "001-priority": N_("Priority set from the priority table"),
    "001-data_reply": N_("Data request answered by the reporter"),
    "001-resolution": N_("Ticket resolved within its priority's limit"),
    "004-check": N_("Account request checked for completeness"),
    "004-action": N_("Account (de)activated in SPSE"),
    "004-notify": N_("Applicant notified of the result"),
    "004-archive": N_("Documents and data archived"),
}
WORDS = {
    "days_ahead": N_("at least {days} days ahead"),
    "by_priority": N_("by priority"),
    "late_by": N_("{duration} late ({what})"),
    "not_announced": N_("window {id} was not announced"),
    "no_windows": N_("no maintenance window in this period"),
    "no_tickets": N_("no tickets in this period"),
    "no_data_times": N_(
        "the ticket export has no data request/received times: this step cannot be judged"
    ),
    "no_requests": N_("no account request in this period"),
    "no_access": N_("account requests are not recorded in this installation"),
    "no_maintenance": N_("maintenance windows are not recorded in this installation"),
    "unsent": N_("not all e-mails sent"),
    "undelivered": N_("an e-mail could not be delivered to every recipient (window {id})"),
    "no_mail": N_("no e-mail of this kind was queued for the announced windows"),
    "not_judged": N_("nothing to judge: no window was announced"),
}

#: a breach that has no duration (never announced, never sent, not delivered) ranks
#: above any timed overrun as the worst case of its step
UNTIMED = float("inf")


def _row(key: str, standard: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "sop": key.split("-")[0],
        "step": key,
        "label": labels[key],
        "standard": standard,
        "assessed": 0,
        "met": 0,
        "breached": 0,
        "worst": None,
        "worst_minutes": None,
        "note": None,
    }


def _late(
    row: dict[str, Any],
    minutes: float,
    what: str,
    lang: str,
    words: dict,
    working_clock: bool = False,
) -> None:
    """Keep the worst overrun of the step (the longest past its standard); on the
    helpdesk's working clock in working hours, never 24-hour days."""
    if minutes <= 0:
        return  # not an overrun (a breach of another kind is _untimed)
    if row["worst_minutes"] is None or minutes > row["worst_minutes"]:
        row["worst_minutes"] = minutes
        duration = (
            working_duration(minutes, lang)
            if working_clock
            else human_duration(timedelta(minutes=minutes), lang)
        )
        row["worst"] = words["late_by"].format(duration=duration, what=what)


def _untimed(row: dict[str, Any], text: str) -> None:
    """A breach without a duration: the worst case of its step unless one came first."""
    if row["worst_minutes"] != UNTIMED:
        row["worst_minutes"] = UNTIMED
        row["worst"] = text


def compliance_section(
    store: Store,
    config: Config,
    start: datetime,
    end: datetime,
    now: datetime,
    ticket_summary: dict[str, Any] | None,
    lang: str,
) -> dict[str, Any]:
    """The Mutu Baku table for ``[start, end)``.

    Shape: ``{"rows": [{sop, step, label, standard, assessed, met, breached, worst,
    worst_minutes, note}], "emergencies": [{window, start, reason}]}``; ``worst`` is the
    worst case in words — a breach without a duration (never announced, not sent) before
    the longest overrun — and ``worst_minutes`` that overrun in minutes (None for the
    former)."""
    labels = translated(STEPS, lang)
    words = translated(WORDS, lang)
    rows: list[dict[str, Any]] = []
    emergencies: list[dict[str, Any]] = []
    scope = _Scope(store, config, start, end, now, labels, words, lang)
    rows += _maintenance_rows(scope, emergencies)
    rows += _ticket_rows(ticket_summary, labels, words, lang)
    rows += _access_rows(scope)
    for row in rows:
        if row["worst_minutes"] == UNTIMED:
            row["worst_minutes"] = None  # no duration to give (and JSON has no infinity)
    return {"rows": rows, "emergencies": emergencies}


@dataclass(frozen=True)
class _Scope:
    """What every SOP's rows are read with: the history, the period, the words."""

    store: Store
    config: Config
    start: datetime
    end: datetime
    now: datetime
    labels: dict[str, str]
    words: dict[str, str]
    lang: str


def _maintenance_rows(scope: _Scope, emergencies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    store, config, start, end, now = scope.store, scope.config, scope.start, scope.end, scope.now
    labels, words, lang = scope.labels, scope.words, scope.lang
    from lpsectl import maintenance

    settings = maintenance.settings_from(config)
    notice = _row("000-notice", words["days_ahead"].format(days=settings.min_notice_days), labels)
    told = {
        audience: _row(f"000-{audience}", human_duration(maintenance.SOP_LIMIT, lang), labels)
        for audience in ("helpdesk", "committee")
    }
    out = [notice, *told.values()]
    if not store.has_table("maintenance_windows"):
        for row in out:
            row["note"] = words["no_maintenance"]
        return out
    windows = [
        w
        for w in maintenance.list_windows(store, config, include_done=True)
        if start <= w.start < end and w.status != "cancelled"
    ]
    if not windows:
        for row in out:
            row["note"] = words["no_windows"]
        return out
    limit_minutes = maintenance.SOP_LIMIT.total_seconds() / 60
    for window in windows:
        if window.emergency:
            emergencies.append(
                {"window": window.id, "start": window.start, "reason": window.emergency_why}
            )
        if window.announced_at is None:
            if window.start <= now:
                notice["assessed"] += 1
                notice["breached"] += 1
                _untimed(notice, words["not_announced"].format(id=window.id))
            continue
        mails = maintenance.window_mails(store, config, window)
        for check in maintenance.sop_checks(window, mails, settings.min_notice_days, now):
            if check["ok"] is None:
                continue  # a mail still within its 30 minutes: not judged yet
            if check["check"] == "notice":
                row = notice
                if window.emergency:
                    continue  # listed with its reason below the table, not judged
            else:
                row = told[check["check"].split()[0]]
            row["assessed"] += 1
            if check["ok"]:
                row["met"] += 1
                continue
            row["breached"] += 1
            actual = check["actual_minutes"]
            if check["check"] == "notice":
                short = settings.min_notice_days * 24 * 60 - actual
                _late(notice, short, window.start.strftime("%d-%m-%Y"), lang, words)
            elif actual is None:
                _untimed(row, words["unsent"])
            elif actual <= limit_minutes:
                # sent in time, but not to everybody (failed, partial, dropped): the
                # helpdesk must phone those committees
                _untimed(row, words["undelivered"].format(id=window.id))
            else:
                _late(row, actual - limit_minutes, window.start.strftime("%d-%m-%Y"), lang, words)
    announced = any(w.announced_at is not None for w in windows)
    for row in told.values():
        if row["assessed"] == 0:
            row["note"] = words["no_mail"] if announced else words["not_judged"]
    return out


def _ticket_rows(
    summary: dict[str, Any] | None, labels: dict[str, str], words: dict[str, str], lang: str
) -> list[dict[str, Any]]:
    from lpsectl import tickets

    names = ("response", "priority", "data_reply", "resolution")
    defaults = tickets.TicketSettings()
    limits = {
        "response": defaults.response_minutes,
        "priority": defaults.priority_minutes,
        "data_reply": defaults.data_reply_minutes,
    }
    if summary and summary.get("limits"):
        limits = {n: summary["limits"][f"{n}_minutes"] for n in limits}
    out = []
    for name in names:
        standard = (
            words["by_priority"]
            if name == "resolution"
            else human_duration(timedelta(minutes=limits[name]), lang)
        )  # 15 and 30 minutes read the same on either clock
        row = _row(f"001-{name}", standard, labels)
        out.append(row)
        if not summary or not summary.get("total"):
            row["note"] = words["no_tickets"]
            continue
        sla = summary["sla"][name]
        row.update(assessed=sla["judged"], met=sla["met"], breached=sla["breached"])
        if name == "data_reply" and sla["judged"] == 0:
            row["note"] = words["no_data_times"]
        working = (summary.get("clock") or {}).get("clock") == "working"
        for breach in summary["breaches"]:
            if breach["check"] == name and breach["actual_minutes"] is not None:
                over = breach["actual_minutes"] - (breach["target_minutes"] or 0)
                _late(row, over, breach["number"], lang, words, working)
    return out


def _access_rows(scope: _Scope) -> list[dict[str, Any]]:
    store, config, start, end, now = scope.store, scope.config, scope.start, scope.end, scope.now
    labels, words, lang = scope.labels, scope.words, scope.lang
    from lpsectl import access

    settings = access.load_settings(config)
    rows = {
        step: _row(f"004-{step}", human_duration(settings.limit(step), lang), labels)
        for step in access.STEPS
    }
    out = list(rows.values())
    if not store.has_table("access_requests"):
        for row in out:
            row["note"] = words["no_access"]
        return out
    requests = [
        r
        for r in access.list_requests(store)
        if r.get("received_at")
        and start <= timeutil.parse_iso(r["received_at"]).astimezone(config.tz) < end
    ]
    if not requests:
        for row in out:
            row["note"] = words["no_requests"]
        return out
    for request in requests:
        for timer in access.step_timers(request, settings, now):
            if timer.elapsed is None or (timer.state == "running" and not timer.breach):
                continue  # not started, not applicable, or still within its minutes
            row = rows[timer.step]
            row["assessed"] += 1
            if timer.breach:
                row["breached"] += 1
                over = (timer.elapsed - timer.limit).total_seconds() / 60
                _late(row, over, f"#{request['id']}", lang, words)
            else:
                row["met"] += 1
    return out
