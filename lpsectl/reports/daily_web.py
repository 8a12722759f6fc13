"""Daily report section "web" — Akses aplikasi SPSE: the SPSE address as its users saw it.

From the day's ``web_checks`` rows (``lpsectl check``): availability with and
without the announced maintenance, the outages (start, end, duration, first
error; planned or not; tender deadlines they hit), response times (p50/p95) and
the certificate. Alerts follow ``[thresholds.web]``. A configured check with no
result that day is itself an alert: "no data" is never shown as "up".
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from tabulate import tabulate

from lpsectl import availability, timeutil, webcheck
from lpsectl.config import Config
from lpsectl.errors import LpsectlError
from lpsectl.i18n import N_, translated
from lpsectl.render import clock, human_duration, number
from lpsectl.store import Store
from lpsectl.thresholds import WebThresholds, web_thresholds


def build(store: Store, config: Config, day: date | str, lang: str) -> dict | None:
    """The section for ``day``, or None when no check is configured and none ran."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    checks = webcheck.load_checks(config)
    start = datetime.combine(day, time(0), config.tz)
    end = start + timedelta(days=1)
    context, rows = results_around(store, start, end)
    if not checks and not rows:
        return None
    limits = web_thresholds(config)
    windows = webcheck.maintenance_windows(
        store, start - timedelta(days=1), end + timedelta(days=1)
    )
    stages, notes = tender_stages(config)
    names = [c.name for c in checks] + [n for n in rows if n not in {c.name for c in checks}]
    now = timeutil.now(config.tz)
    entries = []
    for name in names:
        check = next((c for c in checks if c.name == name), None)
        entries.append(
            check_entry(
                name,
                check,
                rows.get(name, []),
                windows,
                stages,
                limits,
                end,
                period_start=start,
                context=context.get(name, []),
                now=now,
            )
        )
    alerts = [a for entry in entries for a in entry_alerts(entry, limits, lang)]
    return {
        "day": day.isoformat(),
        "checks": entries,
        "windows": [{"start": w.start, "end": w.end, "label": w.label} for w in windows],
        "notes": notes,
        "alerts": alerts,
    }


def results_around(
    store: Store, start: datetime, end: datetime
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """(every check's results from a day before ``start`` to a day after ``end``, those
    within ``start`` .. ``end``): an outage across the period's edges is seen whole."""
    if not store.has_table("web_checks"):
        return {}, {}
    margin = timedelta(days=1)
    context = webcheck.results_between(store, start - margin, end + margin)
    rows = {
        name: inside
        for name, of_check in context.items()
        if (inside := [r for r in of_check if start <= r["checked_at"] < end])
    }
    return context, rows


def tender_stages(config: Config) -> tuple[list[Any], list[str]]:
    """The tender schedule ``[maintenance] tender_schedule_file`` names (SOP 000 reads the
    same file), or none; a file that cannot be read is a note, not a failed report."""
    from lpsectl.committees import read_tender_schedule
    from lpsectl.maintenance import settings_from

    try:
        settings = settings_from(config)
        if not settings.tender_schedule_file:
            return [], []
        problems: list[str] = []
        stages = read_tender_schedule(
            settings.tender_schedule_file, config.tz, settings.tender_columns, problems
        )
        return stages, [f"tender schedule: {problem}" for problem in problems]
    except LpsectlError as exc:
        return [], [f"tender schedule not read: {exc.message}"]


def check_entry(
    name: str,
    check: webcheck.CheckSettings | None,
    rows: list[dict[str, Any]],
    windows: list[availability.Window],
    stages: list[Any],
    limits: WebThresholds,
    period_end: datetime,
    period_start: datetime | None = None,
    context: list[dict[str, Any]] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Pure: one check's period. ``rows``: its results in the period; ``context``: the
    results around it too (an outage across the period's start or end is seen whole).
    Results of checks that could not run (``webcheck.UNCHECKED``) say nothing of the
    address: counted apart as ``not_checked``."""
    checked = [r for r in rows if r.get("error_kind") not in webcheck.UNCHECKED]
    unchecked = [r for r in rows if r.get("error_kind") in webcheck.UNCHECKED]
    around = [
        r
        for r in (context if context is not None else rows)
        if r.get("error_kind") not in webcheck.UNCHECKED
    ]
    begin = period_start or (rows[0]["checked_at"] if rows else period_end)
    seen_until = min(period_end, around[-1]["checked_at"]) if around else period_end
    outages = [
        o
        for o in availability.outages(around, limits.down_after_checks, windows)
        if o.start < period_end and (o.end is None or o.end > begin)
    ]
    for outage in outages:
        if outage.end is not None and outage.end > period_end:
            outage.end = None  # still down when the period ended
        outage.tenders = availability.tenders_hit(outage, stages, seen_until)
    last = checked[-1] if checked else None
    cert_row = next(
        (r for r in reversed(checked) if r.get("cert_expires_at") or r.get("cert_error")), None
    )
    ongoing = bool(outages) and outages[-1].end is None
    expected = None
    if check is not None and period_start is not None:
        until = min(period_end, now) if now is not None else period_end
        expected = max(0, int((until - period_start).total_seconds() // (check.interval * 60)))
    return {
        "name": name,
        "url": check.url if check else (rows[0]["url"] if rows else ""),
        "source": check.run_from if check else (rows[0]["source"] if rows else ""),
        "configured": check is not None,
        **availability.figures(checked, windows),
        "not_checked": len(unchecked),
        "not_checked_reason": unchecked[-1]["error"] if unchecked else None,
        "expected_checks": expected,
        "outages": [
            {
                "start": o.start,
                "end": o.end,
                "last_down": o.last_down,
                "duration_seconds": o.duration_seconds(seen_until),
                "checks": o.checks,
                "first_error": o.first_error,
                "planned": o.planned,
                "window": o.window,
                "tenders": o.tenders,
            }
            for o in outages
        ],
        "down_now": ongoing and not outages[-1].planned,
        "last": {
            "checked_at": last["checked_at"],
            "up": last["up"],
            "error": last["error"],
        }
        if last
        else None,
        "certificate": {
            "days_left": cert_row.get("cert_days_left"),
            "expires_at": cert_row.get("cert_expires_at"),
            "issuer": cert_row.get("cert_issuer"),
            "error": cert_row.get("cert_error"),
            "checked_at": cert_row["checked_at"],
        }
        if cert_row
        else None,
    }


#: below this share of the checks the interval asks for, the day's figures say little
MIN_COVERAGE = 0.8


MESSAGES = {
    "no_data": N_("no check result of {name} this day (does `lpsectl check` run from cron?)"),
    "coverage": N_(
        "only {done} of the {expected} checks of {name} expected ran (does `lpsectl check --due` run from cron?)"
    ),
    "not_checked": N_("the check {name} could not be run {n} times: {reason}"),
    "down_now": N_("the SPSE address {name} has been unreachable since {since}: {error}"),
    "outage": N_("the SPSE address {name} was unreachable {start}–{end} ({duration}): {error}"),
    "tender": N_(
        'the outage of {name} {start}–{end} hit the deadline of stage "{stage}" of package {package} ({code}, {committee}, {deadline}): the Pokja may have to extend that stage'
    ),
    "availability": N_(
        "availability of {name} {percent}% (planned maintenance apart), below {limit}%"
    ),
    "slow": N_("response time of {name} p95 {p95} ms, above {limit} ms"),
    "cert_refused": N_("the TLS certificate of {name} is refused: {error}"),
    "cert_critical": N_("the TLS certificate of {name} expires in {days} days ({expires})"),
    "cert_warning": N_("the TLS certificate of {name} expires in {days} days ({expires})"),
}


def entry_alerts(entry: dict[str, Any], limits: WebThresholds, lang: str) -> list[dict[str, str]]:
    say = translated(MESSAGES, lang)
    name = entry["name"]
    alerts: list[dict[str, str]] = []

    def add(severity: str, item: str, key: str, **values: Any) -> None:
        alerts.append(
            {
                "severity": severity,
                "host": name,
                "item": item,
                "code": key,
                "message": say[key].format(name=name, **values),
            }
        )

    if not entry["configured"]:
        return alerts  # a check no longer configured: shown, not alerted on
    if entry["not_checked"]:
        add(
            "warning",
            "web check",
            "not_checked",
            n=entry["not_checked"],
            reason=entry["not_checked_reason"],
        )
    if not entry["checks"]:
        if not entry["not_checked"]:
            add("warning", "web", "no_data")
        return alerts
    expected = entry.get("expected_checks")
    done = entry["checks"] + entry["not_checked"]
    if expected and done < expected * MIN_COVERAGE:
        add("warning", "web check", "coverage", done=done, expected=expected)
    for outage in entry["outages"]:
        if outage["planned"]:
            continue
        start = clock(outage["start"], lang)
        if outage["end"] is None:
            add("critical", "web", "down_now", since=start, error=outage["first_error"])
            end_text = "…"
        else:
            end_text = clock(outage["end"], lang)
            add(
                "warning",
                "web",
                "outage",
                start=start,
                end=end_text,
                duration=human_duration(outage["duration_seconds"], lang),
                error=outage["first_error"],
            )
        for stage in outage["tenders"]:
            add(
                "critical",
                "web tender",
                "tender",
                start=start,
                end=end_text,
                stage=stage["stage"],
                package=stage["package"] or "-",
                code=stage["code"] or "-",
                committee=stage["committee"],
                deadline=clock(stage["end"], lang),
            )
    percent = entry["availability_unplanned_percent"]
    if percent is not None and percent < limits.availability_min_percent:
        add(
            "warning",
            "web",
            "availability",
            percent=number(percent, lang, 2),
            limit=number(limits.availability_min_percent, lang, 1),
        )
    if entry["p95_ms"] is not None and entry["p95_ms"] > limits.slow_p95_ms:
        add(
            "warning",
            "web",
            "slow",
            p95=number(entry["p95_ms"], lang, 0),
            limit=number(limits.slow_p95_ms, lang, 0),
        )
    cert = entry["certificate"]
    if cert:
        days = cert.get("days_left")
        expires = str(cert.get("expires_at") or "-")[:10]
        if cert.get("error"):
            add("critical", "certificate", "cert_refused", error=cert["error"])
        elif days is not None and days < limits.certificate_critical_days:
            add(
                "critical",
                "certificate",
                "cert_critical",
                days=number(days, lang, 0),
                expires=expires,
            )
        elif days is not None and days < limits.certificate_warning_days:
            add(
                "warning",
                "certificate",
                "cert_warning",
                days=number(days, lang, 0),
                expires=expires,
            )
    return alerts


# -- text -------------------------------------------------------------------------------

LABELS = {
    "title": N_("Access to the SPSE application"),
    "from": N_("from"),
    "checks": N_("checks"),
    "availability": N_("Availability"),
    "unplanned": N_("planned maintenance apart"),
    "response": N_("Response time"),
    "outages": N_("Outages"),
    "none": N_("none"),
    "planned": N_("planned"),
    "unplanned_word": N_("unplanned"),
    "ongoing": N_("ongoing"),
    "certificate": N_("TLS certificate"),
    "days_left": N_("days left"),
    "refused": N_("REFUSED"),
    "no_data": N_("no check result"),
    "tenders": N_("tender stage deadlines"),
    "start": N_("Start"),
    "end": N_("End"),
    "duration": N_("Duration"),
    "kind": N_("Kind"),
    "error": N_("First error"),
}


def labels(lang: str) -> dict[str, str]:
    return translated(LABELS, lang)


def text(section: dict, lang: str) -> str:
    lab = labels(lang)
    lines = [f"== {lab['title']} =="]
    for entry in section["checks"]:
        lines += ["", f"{entry['name']} ({entry['url']}, {lab['from']} {entry['source']})"]
        if not entry["checks"]:
            lines.append(f"  {lab['no_data']}")
            continue
        lines.append(
            f"  {lab['availability']}: {number(entry['availability_percent'], lang, 2)}% "
            f"({entry['up']}/{entry['checks']} {lab['checks']}); "
            f"{lab['unplanned']}: {number(entry['availability_unplanned_percent'], lang, 2)}%"
        )
        lines.append(
            f"  {lab['response']}: p50 {number(entry['p50_ms'], lang, 0)} ms, "
            f"p95 {number(entry['p95_ms'], lang, 0)} ms"
        )
        cert = entry["certificate"]
        if cert:
            state = f", {lab['refused']}: {cert['error']}" if cert.get("error") else ""
            lines.append(
                f"  {lab['certificate']}: {number(cert.get('days_left'), lang, 0)} {lab['days_left']} "
                f"({str(cert.get('expires_at') or '-')[:10]}; {cert.get('issuer') or '-'}){state}"
            )
        if entry["outages"]:
            lines += ["", f"  {lab['outages']}:"]
            lines += ["  " + line for line in outage_table(entry["outages"], lang).splitlines()]
        else:
            lines.append(f"  {lab['outages']}: {lab['none']}")
    for note in section.get("notes", []):
        lines.append(f"! {note}")
    return "\n".join(lines) + "\n"


def outage_table(outages: list[dict[str, Any]], lang: str) -> str:
    lab = labels(lang)
    body = [
        [
            clock(o["start"], lang),
            clock(o["end"], lang) if o["end"] else lab["ongoing"],
            human_duration(o["duration_seconds"], lang),
            lab["planned"] if o["planned"] else lab["unplanned_word"],
            (o["first_error"] or "")[:70],
        ]
        for o in outages
    ]
    return tabulate(
        body,
        headers=[lab["start"], lab["end"], lab["duration"], lab["kind"], lab["error"]],
        disable_numparse=True,
    )
