"""Data of the monthly report (Laporan Kinerja Aplikasi SPSE), SOP 003 steps 3-4.

Pure over the store: a month of ``snapshots`` (system, postgres, logs), the
imported tickets, and — when those features are installed — maintenance
windows, change requests and recommendations. Whatever is missing is said in
``notes`` (one sentence each, in the report's language), never shown as zero.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from statistics import mean
from typing import Any

from lpsectl import i18n, tickets
from lpsectl.availability import daily_figures
from lpsectl.collect.run import UNREACHABLE_TYPES
from lpsectl.compliance import compliance_section
from lpsectl.config import Config
from lpsectl.i18n import N_, localize, translated
from lpsectl.pgstats import cache_hit_ratio, counter_delta
from lpsectl.render import long_date, number, render
from lpsectl.retention import STATEMENT_KEYS, TOP_STATEMENTS, report_data, summaries_in
from lpsectl.slaclock import describe_working_hours, parse_working_hours
from lpsectl.store import Store, decode_json
from lpsectl.timeutil import month_bounds

DB_COUNTERS = ("xact_commit", "xact_rollback", "deadlocks", "temp_files", "blks_hit", "blks_read")
DB_LOG_FORMATS = ("stderr", "csvlog", "jsonlog", "postgres", "postgresql")
TOP_ERRORS = 10

NOTES = {
    "no_snapshots": N_("No server monitoring data for this month (run `lpsectl collect`)."),
    "host_no_data": N_("Server {host}: no monitoring data this month."),
    "host_started": N_("Server {host}: monitoring data only from {day}."),
    "host_gaps": N_("Server {host}: no collection on {count} days."),
    "no_postgres": N_("No database statistics (PostgreSQL snapshots) this month."),
    "postgres_missing": N_("Database on {host}: {items} not collected ({reason})."),
    "no_logs": N_("No log summaries (database or SPSE) this month."),
    "no_tickets": N_("No helpdesk tickets imported for this month (`lpsectl tickets import`)."),
    "no_data_reply": N_(
        "The ticket export has no data request/reply times; the 15-minute limit cannot be judged."
    ),
    "no_maintenance": N_("Maintenance window data is not available in this installation."),
    "no_changes": N_("Change request data is not available in this installation."),
    "removed_hosts": N_(
        "{count} server(s) no longer in the config ({hosts}) are not shown; their "
        "history is kept (`--all-hosts` shows them)."
    ),
    "no_usage": N_(
        "No access log figures this month (access_logs on {hosts}; run `lpsectl collect`)."
    ),
    "usage_gaps": N_("Access logs: no figures on {count} days; this month's usage is incomplete."),
    "usage_unreadable": N_(
        "Part of the access log history could not be read and is not counted: {reason}."
    ),
}


def build_monthly(
    store: Store, config: Config, month: str, lang: str, now: datetime, all_hosts: bool = False
) -> dict[str, Any]:
    """Everything the monthly report shows, as plain data (JSON-ready): of the configured
    hosts only, unless ``all_hosts`` (the history of a host removed from the config is
    kept, and shown only when asked; a note says how many were left out)."""
    year, number = (int(part) for part in month.split("-"))
    start, end = month_bounds(year, number, config.tz)
    days = _days(start.date(), min(end, max(now, start + timedelta(days=1))).date())
    snapshots = load_snapshots(store, start.date(), (end - timedelta(days=1)).date())
    notes: list[dict[str, Any]] = []
    configured = {h.name for h in config.hosts}
    removed = sorted({h for hosts in snapshots.values() for h in hosts} - configured)
    if removed and not all_hosts:
        for hosts in snapshots.values():
            for name in removed:
                hosts.pop(name, None)
        notes.append(_note("removed_hosts", lang, count=len(removed), hosts=", ".join(removed)))
    schedule = TenderSchedule(config, notes)
    report: dict[str, Any] = {
        "report": "monthly",
        "lpse": config.lpse.name,
        "month": month,
        "period": {"start": start, "end": end},
        "timezone": config.lpse.timezone,
        "generated_at": now,
        "hosts": host_sections(config, snapshots, days, notes, lang),
        "database": database_section(snapshots, notes, lang),
        "errors": error_section(snapshots, notes, lang),
        "tickets": ticket_section(store, config, month, now, notes, lang),
        "maintenance": maintenance_section(store, start, end, notes, lang),
        "web": web_section(store, config, start, end, now, notes, lang, schedule),
        "usage": usage_section(store, config, start, end, now, notes, lang, schedule),
        "changes": change_section(store, month, start, end, notes, lang),
    }
    report["compliance"] = compliance_section(
        store, config, start, end, now, report["tickets"], lang
    )
    if not snapshots:
        notes.insert(0, _note("no_snapshots", lang))
    report["notes"] = notes
    report["verdict"] = monthly_verdict(report, lang)
    return report


def monthly_verdict(report: dict[str, Any], lang: str) -> str:
    """The report's first sentence for the head of the LPSE: the least available server,
    tickets resolved in time, and the SOP steps that missed their time standard."""
    _ = i18n.gettext(lang)
    ngettext = i18n.ngettext(lang)
    parts = []
    known = [h for h in report["hosts"] if h.get("availability_percent") is not None]
    blind = [h["name"] for h in report["hosts"] if h.get("availability_percent") is None]
    if known:
        worst = min(known, key=lambda h: (h["availability_percent"], -(h.get("down") or 0)))
        whole = all(
            not h.get("down") and not h.get("unknown") and not h.get("days_without_data")
            for h in known
        )
        if whole and not blind:
            parts.append(_("every server available all month"))
        else:
            parts.append(
                _("lowest availability {host} {percent}%").format(
                    host=worst["name"], percent=number(worst["availability_percent"], lang, 1)
                )
            )
    if blind:
        parts.append(_("no figures for {hosts}").format(hosts=", ".join(blind)))
    tk = report.get("tickets") or {}
    resolution = (tk.get("sla") or {}).get("resolution") or {}
    if tk.get("total") and resolution.get("percent") is not None:
        parts.append(
            _("{percent} of the {judged} tickets judged resolved in time").format(
                percent=number(resolution["percent"], lang, 1) + "%", judged=resolution["judged"]
            )
        )
    rows = (report.get("compliance") or {}).get("rows") or []
    missed = [r for r in rows if r["breached"]]
    if any(r["assessed"] for r in rows):
        parts.append(
            ngettext(
                "{n} SOP step missed its time standard",
                "{n} SOP steps missed their time standard",
                len(missed),
            ).format(n=len(missed))
            if missed
            else _("every SOP step assessed met its time standard")
        )
    if not parts:
        return _("No data for this month.")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


class TenderSchedule:
    """The tender schedule the web and usage sections both show deadlines from: read once,
    when first needed, and a file that cannot be read said once in the notes."""

    def __init__(self, config: Config, notes: list) -> None:
        self.config, self.notes = config, notes
        self._stages: list[Any] | None = None

    def stages(self) -> list[Any]:
        if self._stages is None:
            from lpsectl.reports import daily_web

            self._stages, problems = daily_web.tender_stages(self.config)
            self.notes.extend({"code": "tender_schedule", "text": p} for p in problems)
        return self._stages


def web_section(
    store: Store,
    config: Config,
    start: datetime,
    end: datetime,
    now: datetime,
    notes: list,
    lang: str,
    schedule: TenderSchedule | None = None,
) -> list[dict[str, Any]]:
    """The SPSE address as its users saw it over the month ([[checks]]): per check the
    month's and each day's availability (with and without the announced maintenance),
    response times, the outages and the certificate (:mod:`lpsectl.reports.daily_web`)."""
    from lpsectl.reports import daily_web
    from lpsectl.thresholds import web_thresholds
    from lpsectl.webcheck import UNCHECKED, load_checks, maintenance_windows

    checks = load_checks(config)
    context, rows = daily_web.results_around(store, start, end)
    margin = timedelta(days=1)
    if not checks and not rows:
        return []
    limits = web_thresholds(config)
    windows = maintenance_windows(store, start - margin, end + margin)
    stages = (schedule or TenderSchedule(config, notes)).stages()
    period_end = min(end, now)
    names = [c.name for c in checks] + sorted(n for n in rows if n not in {c.name for c in checks})
    section = []
    for name in names:
        check = next((c for c in checks if c.name == name), None)
        of_check = rows.get(name, [])
        entry = daily_web.check_entry(
            name,
            check,
            of_check,
            windows,
            stages,
            limits,
            period_end,
            period_start=start,
            context=context.get(name, []),
            now=now,
        )
        entry["daily"] = daily_figures(
            [r for r in of_check if r.get("error_kind") not in UNCHECKED], windows
        )
        entry["planned_minutes"] = round(
            sum(o["duration_seconds"] for o in entry["outages"] if o["planned"]) / 60, 1
        )
        entry["unplanned_minutes"] = round(
            sum(o["duration_seconds"] for o in entry["outages"] if not o["planned"]) / 60, 1
        )
        section.append(entry)
    return section


def usage_section(
    store: Store,
    config: Config,
    start: datetime,
    end: datetime,
    now: datetime,
    notes: list,
    lang: str,
    schedule: TenderSchedule | None = None,
) -> dict[str, Any] | None:
    """SPSE's use over the month from the proxy's access logs (:func:`lpsectl.usage.monthly_usage`);
    days without figures and unreadable history are notes."""
    from lpsectl.usage import monthly_usage

    if not any(h.access_logs for h in config.hosts):
        return None
    stages = (schedule or TenderSchedule(config, notes)).stages()
    last = min(end - timedelta(days=1), now).date()  # today's requests so far count too
    section = monthly_usage(store, config, start.date(), last, stages)
    if section is None:
        return None
    if not section["daily"]:
        notes.append(_note("no_usage", lang, hosts=", ".join(section["hosts"])))
    elif section["days_without_data"]:
        notes.append(_note("usage_gaps", lang, count=len(section["days_without_data"])))
    for problem in section["problems"][:5]:
        notes.append(_note("usage_unreadable", lang, reason=problem))
    return section


def _note(code: str, lang: str, **params: Any) -> dict[str, Any]:
    text = translated(NOTES, lang)[code].format(**{k: localize(v, lang) for k, v in params.items()})
    return {"code": code, **params, "text": text}


def _days(first: date, last_exclusive: date) -> list[date]:
    count = max((last_exclusive - first).days, 1)
    return [first + timedelta(days=i) for i in range(count)]


# -- snapshots -----------------------------------------------------------------------


def load_snapshots(
    store: Store, first: date, last: date
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """kind -> host -> snapshots of the month, oldest first, each with the data the report
    reads: its roll-up (:func:`lpsectl.retention.report_data`), so a month pruned to its
    roll-ups reads the same as one kept whole. Rows are read one at a time, so a month
    of 20 hosts' snapshots is never in memory whole."""
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for raw in store.iterate(
        "SELECT host, kind, taken_at, day, ok, error, error_type, data, unavailable, "
        "shape_checked, rollup FROM snapshots WHERE day >= ? AND day <= ?",
        [first.isoformat(), last.isoformat()],
    ):
        row = report_data(raw)
        row["unavailable"] = decode_json(row["unavailable"], {}) or {}
        grouped[row["kind"]][row["host"]].append(row)
    for hosts in grouped.values():
        for rows in hosts.values():
            rows.sort(key=lambda r: datetime.fromisoformat(r["taken_at"]))
    return grouped


def host_names(config: Config, seen: set[str]) -> list[str]:
    """Configured hosts first (config order), then hosts seen only in the history."""
    names = [h.name for h in config.hosts]
    return names + sorted(seen - set(names))


# -- availability and resources ----------------------------------------------------------


def host_sections(
    config: Config, snapshots: dict, days: list[date], notes: list, lang: str
) -> list[dict[str, Any]]:
    system = snapshots.get("system", {})
    sections = []
    for name in host_names(config, set(system)):
        rows = system.get(name, [])
        roles = next((h.role for h in config.hosts if h.name == name), [])
        section = {"name": name, "roles": roles, **availability(rows), **resources(rows)}
        sections.append(section)
        _host_notes(section, rows, days, notes, lang)
    return sections


def _host_notes(section: dict, rows: list[dict], days: list[date], notes: list, lang: str) -> None:
    name = section["name"]
    section["days_without_data"] = []
    if not rows:
        notes.append(_note("host_no_data", lang, host=name))
        return
    seen = {row["day"] for row in rows}
    first = min(seen)
    if first > days[0].isoformat():
        notes.append(
            _note("host_started", lang, host=name, day=long_date(date.fromisoformat(first), lang))
        )
    gaps = [d for d in days if d.isoformat() >= first and d.isoformat() not in seen]
    section["days_without_data"] = [d.isoformat() for d in gaps]
    if gaps:
        notes.append(_note("host_gaps", lang, host=name, count=len(gaps)))


def collection_state(row: dict[str, Any]) -> str:
    """'up' (all expected services ran), 'down' (unreachable or one stopped), 'unknown'
    (the host answered but could not be read: neither up nor down)."""
    if not row["ok"]:
        answered = row.get("error_type") and row["error_type"] not in UNREACHABLE_TYPES
        return "unknown" if answered else "down"
    services = [s for s in (row["data"].get("services") or {}).values() if s.get("expected")]
    if any(s.get("running") is False for s in services):
        return "down"
    if any(s.get("running") is None for s in services):
        return "unknown"
    return "up"


def availability(rows: list[dict[str, Any]]) -> dict[str, Any]:
    states = [collection_state(row) for row in rows]
    up, down = states.count("up"), states.count("down")
    services: dict[str, dict[str, int]] = defaultdict(lambda: {"expected": 0, "running": 0})
    for row in rows:
        for service, state in (row["data"].get("services") or {}).items():
            if state.get("expected"):
                services[service]["expected"] += 1
                services[service]["running"] += state.get("running") is True
    return {
        "collections": len(rows),
        "reachable": sum(1 for row in rows if row["ok"]),
        "up": up,
        "down": down,
        "unknown": states.count("unknown"),
        "availability_percent": round(100.0 * up / (up + down), 1) if up + down else None,
        "days_with_data": len({row["day"] for row in rows}),
        "first_day": rows[0]["day"] if rows else None,
        "last_day": rows[-1]["day"] if rows else None,
        "services": dict(services),
        "down_days": sorted(
            {row["day"] for row, state in zip(rows, states, strict=True) if state == "down"}
        ),
    }


def _max_disk(data: dict[str, Any]) -> float | None:
    values = [fs.get("used_percent") for fs in data.get("filesystems") or []]
    values = [v for v in values if isinstance(v, int | float)]
    return max(values) if values else None


METRICS = {
    "cpu_percent": lambda d: (d.get("cpu") or {}).get("percent"),
    "load1": lambda d: (d.get("load") or {}).get("1"),
    "memory_percent": lambda d: (d.get("memory") or {}).get("used_percent"),
    "disk_percent": _max_disk,
}


def resources(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Daily averages of each metric, the month's mean and peak, and disk growth per mount."""
    by_day: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if not row["ok"]:
            continue
        for metric, read in METRICS.items():
            value = read(row["data"])
            if isinstance(value, int | float):
                by_day[row["day"]][metric].append(float(value))
    daily = [
        {"day": day, **{m: round(mean(v[m]), 2) if v.get(m) else None for m in METRICS}}
        for day, v in sorted(by_day.items())
    ]
    summary = {}
    for metric in METRICS:
        values = [float(x) for day in by_day.values() for x in day.get(metric, [])]
        summary[metric] = {
            "mean": round(mean(values), 2) if values else None,
            "max": round(max(values), 2) if values else None,
        }
    ok_rows = [row for row in rows if row["ok"]]
    cores = next(
        (
            (r["data"].get("cpu") or {}).get("count")
            for r in reversed(ok_rows)
            if (r["data"].get("cpu") or {}).get("count")
        ),
        None,
    )
    return {"daily": daily, "summary": summary, "cpu_count": cores, "disks": disk_growth(ok_rows)}


def disk_growth(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    first: dict[str, dict] = {}
    last: dict[str, dict] = {}
    for row in rows:
        for fs in row["data"].get("filesystems") or []:
            mount = fs.get("mount")
            if mount:
                first.setdefault(mount, fs)
                last[mount] = fs
    growth = []
    for mount, end in last.items():
        begin = first[mount]
        growth.append(
            {
                "mount": mount,
                "total": end.get("total"),
                "used_start": begin.get("used"),
                "used_end": end.get("used"),
                "used_percent_start": begin.get("used_percent"),
                "used_percent_end": end.get("used_percent"),
                "growth_bytes": _difference(end.get("used"), begin.get("used")),
            }
        )
    return growth


def _difference(after: Any, before: Any) -> float | None:
    if isinstance(after, int | float) and isinstance(before, int | float):
        return after - before
    return None


# -- database ------------------------------------------------------------------------


def database_section(snapshots: dict, notes: list, lang: str) -> list[dict[str, Any]]:
    postgres = snapshots.get("postgres", {})
    if not postgres:
        notes.append(_note("no_postgres", lang))
    return [database_host(host, rows, notes, lang) for host, rows in sorted(postgres.items())]


def database_host(host: str, rows: list[dict[str, Any]], notes: list, lang: str) -> dict[str, Any]:
    good = [row for row in rows if row["ok"]]
    daily: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(DB_COUNTERS, 0))
    previous = None
    for row in good:
        if not row["data"].get("database_stats"):
            continue
        # the collector's delta: a reset, a restart or a counter going down is not negative
        change = counter_delta(previous, row["data"])["counters"]
        previous = row["data"]
        for counter in DB_COUNTERS:
            if counter in change:
                daily[row["day"]][counter] += change[counter]
    missing = sorted({item for row in rows for item in row["unavailable"]})
    if missing:
        reason = next(
            (
                r["unavailable"][missing[-1]]
                for r in reversed(rows)
                if missing[-1] in r["unavailable"]
            ),
            "",
        )
        notes.append(
            _note(
                "postgres_missing", lang, host=host, items=", ".join(missing), reason=reason or "-"
            )
        )
    return {
        "host": host,
        "snapshots": len(rows),
        "failed": len(rows) - len(good),
        "unavailable": missing,
        "daily": [
            {"day": day, **values, "cache_hit_ratio": _hit_ratio(values)}
            for day, values in sorted(daily.items())
        ],
        "totals": _db_totals(daily),
        **_db_latest(good),
    }


def _hit_ratio(values: dict[str, int]) -> float | None:
    ratio = cache_hit_ratio(values["blks_hit"], values["blks_read"])
    return round(ratio, 4) if ratio is not None else None


def _db_totals(daily: dict[str, dict[str, int]]) -> dict[str, Any]:
    if not daily:
        return {}
    totals: dict[str, Any] = {c: sum(day[c] for day in daily.values()) for c in DB_COUNTERS}
    transactions = totals["xact_commit"] + totals["xact_rollback"]
    totals["rollback_percent"] = (
        round(100.0 * totals["xact_rollback"] / transactions, 2) if transactions else None
    )
    totals["cache_hit_ratio"] = _hit_ratio(totals)
    return totals


def _db_latest(good: list[dict[str, Any]]) -> dict[str, Any]:
    """Size growth, connection peak and the busiest statements (as of the last snapshot)."""
    sizes = [(r["data"].get("database_stats") or {}).get("size_bytes") for r in good]
    sizes = [s for s in sizes if isinstance(s, int | float)]
    ratios = [(r["data"].get("activity") or {}).get("usage_ratio") for r in good]
    usage = [float(u) for u in ratios if isinstance(u, int | float)]
    statements: dict[str, Any] = next(
        (r["data"]["statements"] for r in reversed(good) if r["data"].get("statements")), {}
    )
    top = [
        {k: s.get(k) for k in STATEMENT_KEYS}
        for s in (statements.get("top_by_calls") or [])[:TOP_STATEMENTS]
    ]
    server: dict[str, Any] = (
        next((r["data"].get("server") for r in reversed(good) if r["data"].get("server")), {}) or {}
    )
    return {
        "version": server.get("version"),
        "size_start": sizes[0] if sizes else None,
        "size_end": sizes[-1] if sizes else None,
        "connections_peak_percent": round(100 * max(usage), 1) if usage else None,
        "top_statements": top,
        "statements_since": statements.get("stats_reset"),
    }


# -- errors from log summaries ------------------------------------------------------------


def error_section(snapshots: dict, notes: list, lang: str) -> dict[str, list[dict[str, Any]]]:
    """Top recurring errors of the month, database and application, summed over snapshots."""
    totals: dict[tuple[str, str, str], dict[str, Any]] = {}
    for host, rows in snapshots.get("logs", {}).items():
        for row in rows:
            for summary in summaries_in(row["data"]):
                source = "database" if summary.get("format") in DB_LOG_FORMATS else "application"
                for error in summary["errors"]:
                    if isinstance(error, dict) and error.get("signature"):
                        _add_error(totals, host, source, error)
    if not totals:
        notes.append(_note("no_logs", lang))
    result: dict[str, list[dict[str, Any]]] = {"database": [], "application": []}
    for (_, source, _), entry in sorted(totals.items(), key=lambda kv: -kv[1]["count"]):
        if len(result[source]) < TOP_ERRORS:
            result[source].append(entry)
    return result


def _add_error(totals: dict, host: str, source: str, error: dict[str, Any]) -> None:
    key = (host, source, error["signature"])
    entry = totals.setdefault(
        key,
        {
            "host": host,
            "severity": error.get("severity", ""),
            "signature": error["signature"],
            "count": 0,
            "example": error.get("example", ""),
            "first": error.get("first"),
            "last": error.get("last"),
        },
    )
    entry["count"] += int(error.get("count") or 0)
    if error.get("last"):
        entry["last"] = error["last"]


# -- tickets ---------------------------------------------------------------------------


def ticket_section(
    store: Store, config: Config, month: str, now: datetime, notes: list, lang: str
) -> dict[str, Any]:
    settings = tickets.ticket_settings(config)
    loaded = tickets.load_tickets(store, config.tz, month)
    summary = tickets.month_summary(loaded, settings, now)
    if not loaded:
        notes.append(_note("no_tickets", lang))
    elif summary["sla"]["data_reply"]["judged"] == 0:
        notes.append(_note("no_data_reply", lang))
    # the head reads the worst first: unresolved/late resolutions, then the longest overrun
    summary["breaches"].sort(
        key=lambda b: (
            b["check"] != "resolution",
            -((b["actual_minutes"] or 0) - (b["target_minutes"] or 0)),
        )
    )
    labels = translated(tickets.GROUP_LABELS, lang)
    summary["groups"] = [
        {"code": g, "label": labels[g], "count": summary["by_group"][g]} for g in tickets.GROUPS
    ]
    summary["limits"] = {
        "response_minutes": settings.response_minutes,
        "priority_minutes": settings.priority_minutes,
        "data_reply_minutes": settings.data_reply_minutes,
        "resolution_hours": dict(settings.resolution_hours),
    }
    summary["clock_text"] = clock_sentence(settings, summary["waiting_for_reporter"], lang)
    return summary


CLOCK_WORDS = {
    "calendar": N_("Time limits are counted in calendar time (24 hours a day, every day)"),
    "working": N_(
        "Time limits are counted in the helpdesk's working hours ({hours}), national "
        "holidays ({country}) and {cuti} apart"
    ),
    "working_no_holidays": N_(
        "Time limits are counted in the helpdesk's working hours ({hours}), {cuti} apart"
    ),
    "pause": N_(
        "; time waiting for the reporter's data ({statuses}: from Data Diminta to Data "
        "Diterima) is not counted — {waiting}"
    ),
    "no_pause": N_("; time waiting for the reporter is counted too"),
}


def clock_sentence(settings: tickets.TicketSettings, waiting: int, lang: str) -> str:
    """Which clock the SLA figures used, in the report's language (SOP 001's limits)."""
    words = translated(CLOCK_WORDS, lang)
    ngettext = i18n.ngettext(lang)
    if settings.clock == "working":
        n = len(settings.cuti_bersama)
        cuti = ngettext("{n} cuti bersama day", "{n} cuti bersama days", n).format(n=n)
        hours = describe_working_hours(parse_working_hours(settings.working_hours), lang)
        if settings.holidays_country:
            text = words["working"].format(
                hours=hours, country=settings.holidays_country, cuti=cuti
            )
        else:  # holidays_country = "": only the LPSE's own list of days off
            text = words["working_no_holidays"].format(hours=hours, cuti=cuti)
    else:
        text = words["calendar"]
    if settings.pause_statuses:
        now_waiting = ngettext(
            "{n} ticket now waits for the reporter",
            "{n} tickets now wait for the reporter",
            waiting,
        ).format(n=waiting)
        text += words["pause"].format(
            statuses=", ".join(settings.pause_statuses), waiting=now_waiting
        )
    else:
        text += words["no_pause"]
    return text + "."


# -- maintenance and changes (other features; used only when installed) ------------------


def table_exists(store: Store, name: str) -> bool:
    return store.has_table(name)


def _within(stamp: str | None, start: datetime, end: datetime) -> bool:
    if not stamp:
        return False
    try:
        return start <= datetime.fromisoformat(stamp) < end
    except ValueError:
        return False


def maintenance_section(
    store: Store, start: datetime, end: datetime, notes: list, lang: str
) -> dict[str, Any] | None:
    if not table_exists(store, "maintenance_windows"):
        notes.append(_note("no_maintenance", lang))
        return None
    rows = store.query("SELECT * FROM maintenance_windows ORDER BY start_at")
    windows = [
        {
            "start": datetime.fromisoformat(r["start_at"]).astimezone(start.tzinfo),
            "end": datetime.fromisoformat(r["end_at"]).astimezone(start.tzinfo),
            "reason": r.get("reason", ""),
            "status": r.get("status", ""),
            "emergency": bool(r.get("emergency")),
        }
        for r in rows
        if _within(r.get("start_at"), start, end)
    ]
    held = [w for w in windows if w["status"] in ("completed", "started")]
    return {
        "windows": windows,
        "held": len(held),
        "cancelled": sum(w["status"] == "cancelled" for w in windows),
    }


def change_section(
    store: Store, month: str, start: datetime, end: datetime, notes: list, lang: str
) -> dict[str, Any] | None:
    if not table_exists(store, "change_requests"):
        notes.append(_note("no_changes", lang))
        return None
    changes = [
        {
            "id": r["id"],
            "title": r["title"],
            "class": r.get("change_class"),
            "status": r.get("status"),
            "route": r.get("route"),
            "created_at": r.get("created_at"),
        }
        for r in store.query("SELECT * FROM change_requests ORDER BY id")
        if _within(r.get("created_at"), start, end) or _within(r.get("updated_at"), start, end)
    ]
    recommendations = []
    if table_exists(store, "recommendations"):
        for r in store.query("SELECT * FROM recommendations ORDER BY id"):
            if str(r.get("period", "")).startswith(month):
                recommendations.append(
                    {
                        "host": r["host"],
                        "rule": r["rule"],
                        "severity": r["severity"],
                        "class": r["change_class"],
                        "text": _recommendation_text(r.get("texts"), lang),
                    }
                )
    return {"changes": changes, "recommendations": recommendations}


def _recommendation_text(texts: Any, lang: str) -> str:
    decoded = decode_json(texts, {}) if isinstance(texts, str) else texts
    if isinstance(decoded, dict):
        value = decoded.get(lang) or decoded.get("id") or next(iter(decoded.values()), "")
        if isinstance(value, dict):
            value = value.get("title") or value.get("summary") or value.get("text") or ""
        return str(value)
    return str(decoded or "")


# -- rendering ---------------------------------------------------------------------------

BREACH_ROWS = 25


def month_label(month: str, lang: str) -> str:
    """'Oktober 2026' / 'October 2026'."""
    from babel.dates import format_date

    return format_date(date.fromisoformat(f"{month}-01"), "MMMM y", locale=lang)


def render_monthly(report: dict[str, Any], fmt: str, lang: str, templates_dir: str = "") -> str:
    """The report as 'md', 'text' (the Markdown with underlined headings) or 'html'."""
    from lpsectl.render import zone_abbreviation

    start = report["period"]["start"]
    context = {
        "report": report,
        "month_label": month_label(report["month"], lang),
        "last_day": report["period"]["end"] - timedelta(days=1),
        "zone": zone_abbreviation(start),
        "fmt_day": lambda text: long_date(date.fromisoformat(text), lang),
        "breach_limit": BREACH_ROWS,
        "plain": fmt == "text",
    }
    if fmt == "html":
        from lpsectl.reports.charts import monthly_charts

        return render(
            "monthly_report.html.j2",
            lang,
            templates_dir,
            charts=monthly_charts(report, lang),
            **context,
        )
    return render("monthly_report.md.j2", lang, templates_dir, **context)
