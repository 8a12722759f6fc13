"""Daily report section "logs": most frequent errors (database and application) and queries.

Built from the ``logs`` snapshots of the day: each holds, per log file, the
summary of what was new since the previous run, so the day's figures are the
sum of its runs (:func:`lpsectl.logs.summary.merge_summaries`). A host's
PostgreSQL logs make its "database" part, SPSE application logs its
"application" part. Alerts follow the ``[logs]`` keys of :class:`LogsSettings`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from tabulate import tabulate

from lpsectl.collect.schemas import query_snapshots
from lpsectl.config import Config, load_section
from lpsectl.i18n import N_, localize, translated
from lpsectl.logs.summary import DATABASE_FORMATS, merge_summaries
from lpsectl.render import day_clock, number
from lpsectl.store import Store, decode_json

KIND = "logs"
PARTS = ("database", "application")


@dataclass
class LogsSettings:
    """``[logs]``: how much of the summaries the report shows and when it raises alerts."""

    #: queries and errors listed per host and part
    top: int = 10
    #: ERROR/FATAL/PANIC events in one day in the database log before a warning
    database_errors_warning: int = 100
    #: ERROR/FATAL events in one day in the SPSE application log before a warning
    application_errors_warning: int = 50
    #: deadlocks in one day before a warning
    deadlocks_warning: int = 1


def load_settings(config: Config) -> LogsSettings:
    return load_section(config, "logs", LogsSettings)


def build(store: Store, config: Config, day: date | str, lang: str) -> dict | None:
    """The section for ``day``, or None when no host had its logs summarised that day."""
    day = day.isoformat() if isinstance(day, date) else day
    # a day's entries are collected that day and the next morning (cron 05:50): the rows
    # of both collection days, each giving its part of ``day`` by the entries' own time
    # (a backlog read later — the first run after install — is found up to a month on)
    last = (date.fromisoformat(day) + timedelta(days=LOOK_AHEAD_DAYS)).isoformat()
    rows = [
        dict(r, part_of_day=day)
        for r in query_snapshots(
            store,
            "SELECT host, day, taken_at, ok, error, data, unavailable, shape_checked FROM snapshots "
            "WHERE kind = ? AND day >= ? AND day <= ? ORDER BY host, taken_at, id",
            [KIND, day, last],
            KIND,
        )
    ]
    settings = load_settings(config)
    hosts = []
    for name in dict.fromkeys(r["host"] for r in rows):
        of_host = [r for r in rows if r["host"] == name]
        host = host_summary(name, of_host, settings.top, config.tz)
        if host["runs"]:
            hosts.append(host)
    if not hosts:
        return None
    alerts = [alert for host in hosts for alert in host_alerts(host, settings, lang)]
    return {"day": day, "hosts": hosts, "alerts": alerts, "settings": dataclasses.asdict(settings)}


def host_summary(name: str, rows: list[dict], top: int, tz: tzinfo) -> dict[str, Any]:
    """Pure: one host's day from its ``logs`` snapshot rows (oldest first)."""
    by_part: dict[str, list[dict]] = {part: [] for part in PARTS}
    warnings: list[str] = []
    used = []  # the report day's own runs, and later runs that read entries of that day
    for row in rows:
        data = decode_json(row["data"], {}) if row["ok"] else {}
        if _own(row):
            warnings += data.get("warnings") or []
        contributed = False
        for entry in (data.get("files") or {}).values():
            summary = _part_of_day(entry, row)
            if summary is not None:
                whole = entry.get("summary") or {}
                # counts are the day's by event time; lines and bytes are what the runs
                # that read the day's entries read (per day they are not counted)
                summary = dict(summary, lines=whole.get("lines"), bytes=whole.get("bytes"))
                by_part[part_of(summary.get("format") or entry.get("format"))].append(summary)
                contributed = True
        if _own(row) or contributed:
            used.append(row)
    own = [r for r in rows if _own(r)]
    latest = (own or used or rows)[-1]  # the state of the report's day, not of the next morning
    host: dict[str, Any] = {
        "host": name,
        "runs": len(used),
        "error": None if latest["ok"] else latest["error"],
        "unavailable": decode_json(latest["unavailable"], {}),
        "warnings": list(dict.fromkeys(warnings)),
    }
    for part in PARTS:
        host[part] = _part(by_part[part], top, tz) if by_part[part] else None
    return host


#: collection days after a day that may still hold its entries
LOOK_AHEAD_DAYS = 31


def _own(row: dict) -> bool:
    """A run collected on the report's day (a row without ``day`` is taken as one)."""
    return row.get("day", row.get("part_of_day")) == row.get("part_of_day")


def _part_of_day(entry: dict, row: dict) -> dict | None:
    """What one file of one run holds of the report's day: its entries of that day by their
    own timestamps; a summary stored before per-day counting counts on its collection day."""
    day = row.get("part_of_day")
    days = entry.get("days")
    if isinstance(days, dict):
        parts = [days.get(day)]
        if row.get("day") == day:
            parts.append(days.get(""))  # entries without a time: the day they were collected
        found = [p for p in parts if p]
        if not found:
            return None
        part = found[0] if len(found) == 1 else merge_summaries(found, top=10_000)
        return dict(part, format=part.get("format") or entry.get("format"))
    if day is None or row.get("day") == day:
        return entry.get("summary") or {}
    return None


def part_of(log_format: str | None) -> str:
    return "database" if log_format in DATABASE_FORMATS else "application"


def _part(summaries: list[dict], top: int, tz: tzinfo) -> dict[str, Any]:
    merged = merge_summaries(summaries, top=max(top, 1) * 5)
    merged["queries"] = merged["queries"][:top]
    merged["errors"] = [
        dict(e, first=moment(e.get("first"), tz), last=moment(e.get("last"), tz))
        for e in merged["errors"][:top]
    ]
    merged["exceptions"] = merged["exceptions"][:top]
    merged["error_codes"] = merged["error_codes"][-top:]
    merged["start"] = moment(merged["start"], tz)
    merged["end"] = moment(merged["end"], tz)
    return merged


def moment(value: str | None, tz: tzinfo) -> datetime | None:
    """ISO text → aware datetime in the LPSE zone (a log time without offset is taken as LPSE time)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed.astimezone(tz)


# -- alerts ---------------------------------------------------------------------------

MESSAGES = {
    "failed": N_("log summary not available: {error}"),
    "file": N_("log file not readable: {reason}"),
    "warning": N_("{warning}"),
    "panic": N_("{n} PANIC events in the database log"),
    "fatal": N_("{n} FATAL events in the database log"),
    "deadlocks": N_("{n} deadlocks in the database log"),
    "db_errors": N_("{n} errors in the database log (limit {limit})"),
    "app_errors": N_("{n} errors in the SPSE application log (limit {limit})"),
}


def host_alerts(host: dict[str, Any], settings: LogsSettings, lang: str) -> list[dict[str, str]]:
    say = translated(MESSAGES, lang)
    name = host["host"]
    alerts = []

    def add(severity: str, item: str, key: str, **values: Any) -> None:
        alerts.append(
            {
                "severity": severity,
                "host": name,
                "item": item,
                "message": say[key].format(**{k: localize(v, lang) for k, v in values.items()}),
            }
        )

    if host["error"]:
        add("warning", "logs", "failed", error=host["error"])
    for path, reason in host["unavailable"].items():
        add("warning", f"log {path}", "file", reason=reason)
    for warning in host["warnings"]:
        add("warning", "logs", "warning", warning=warning)
    db = host.get("database")
    if db:
        severities = db["by_severity"]
        if severities.get("PANIC"):
            add("critical", "database log", "panic", n=severities["PANIC"])
        if severities.get("FATAL"):
            add("warning", "database log", "fatal", n=severities["FATAL"])
        if db["deadlocks"] >= settings.deadlocks_warning > 0:
            add("warning", "database log", "deadlocks", n=db["deadlocks"])
        db_errors = sum(severities.get(s, 0) for s in ("ERROR", "FATAL", "PANIC"))
        if db_errors >= settings.database_errors_warning > 0:
            add(
                "warning",
                "database log",
                "db_errors",
                n=db_errors,
                limit=settings.database_errors_warning,
            )
    app = host.get("application")
    if app:
        app_errors = sum(app["by_severity"].get(s, 0) for s in ("ERROR", "FATAL"))
        if app_errors >= settings.application_errors_warning > 0:
            add(
                "warning",
                "application log",
                "app_errors",
                n=app_errors,
                limit=settings.application_errors_warning,
            )
    return alerts


# -- text -------------------------------------------------------------------------------

LABELS = {
    "title": N_("Database and application logs"),
    "host": N_("Server"),
    "runs": N_("collections"),
    "failed": N_("Could not be summarised"),
    "database": N_("Database log (PostgreSQL)"),
    "application": N_("SPSE application log"),
    "lines": N_("lines"),
    "queries": N_("Most frequent queries (with a duration)"),
    "errors": N_("Most frequent errors"),
    "count": N_("Count"),
    "total": N_("Total (ms)"),
    "mean": N_("Mean (ms)"),
    "max": N_("Max (ms)"),
    "query": N_("Query"),
    "severity": N_("Severity"),
    "signature": N_("Message"),
    "last": N_("Last"),
    "deadlocks": N_("Deadlocks"),
    "lock_waits": N_("Lock waits"),
    "temp_files": N_("Temporary files"),
    "checkpoints": N_("Checkpoints"),
    "connections": N_("Connections"),
    "exceptions": N_("Exception classes"),
    "codes": N_("Latest error codes"),
    "unavailable": N_("Not readable"),
    "none": N_("(none)"),
    "unparsed": N_("unparsed lines"),
}


def labels(lang: str) -> dict[str, str]:
    return translated(LABELS, lang)


def text(section: dict, lang: str) -> str:
    lab = labels(lang)
    lines = [f"== {lab['title']} =="]
    for host in section["hosts"]:
        lines += [""] + _host_text(host, lang, lab, section.get("day"))
    return "\n".join(lines) + "\n"


def _host_text(host: dict, lang: str, lab: dict, day: str | None = None) -> list[str]:
    lines = [f"{lab['host']} {host['host']} ({host['runs']} {lab['runs']})"]
    if host["error"]:
        lines.append(f"  {lab['failed']}: {localize(host['error'], lang)}")
    for path, reason in host["unavailable"].items():
        lines.append(f"  {lab['unavailable']} ({path}): {localize(reason, lang)}")
    for warning in host["warnings"]:
        lines.append(f"  ! {localize(warning, lang)}")
    for part in PARTS:
        summary = host.get(part)
        if summary:
            lines += _part_text(part, summary, lang, lab, day)
    return lines


def _part_text(part: str, summary: dict, lang: str, lab: dict, day: str | None) -> list[str]:
    n = lambda v: number(v, lang, 0)  # noqa: E731 - local shorthand
    lines = [
        "",
        f"  {lab[part]}: {n(summary['lines'])} {lab['lines']}, "
        f"{n(summary['unparsed'])} {lab['unparsed']}",
    ]
    if part == "database":
        temp = summary.get("temp_files") or {}
        lines.append(
            f"  {lab['deadlocks']}: {n(summary['deadlocks'])}, {lab['lock_waits']}: {n(summary['lock_waits'])}, "
            f"{lab['temp_files']}: {n(temp.get('count', 0))}, "
            f"{lab['checkpoints']}: {n((summary.get('checkpoints') or {}).get('count', 0))}, "
            f"{lab['connections']}: {n((summary.get('connections') or {}).get('authorized', 0))}"
        )
        if summary["queries"]:
            lines += ["", f"  {lab['queries']}:"]
            lines += _indent(queries_table(summary["queries"], lang))
    lines += ["", f"  {lab['errors']}:"]
    lines += _indent(
        errors_table(summary["errors"], lang, day) if summary["errors"] else lab["none"]
    )
    if part == "application" and summary.get("exceptions"):
        lines.append(
            f"  {lab['exceptions']}: "
            + ", ".join(f"{e['class']} ({n(e['count'])})" for e in summary["exceptions"])
        )
    if part == "application" and summary.get("error_codes"):
        lines.append(f"  {lab['codes']}: " + ", ".join(c["code"] for c in summary["error_codes"]))
    return lines


def queries_table(rows: list[dict], lang: str) -> str:
    lab = labels(lang)
    body = [
        [
            number(r["count"], lang, 0),
            number(r["total_ms"], lang, 1),
            number(r["mean_ms"], lang, 2),
            "≈" + number(r["p95_ms"], lang, 2) if r.get("p95_ms") is not None else "-",
            number(r["max_ms"], lang, 1),
            shorten(r["fingerprint"], 70),
        ]
        for r in rows
    ]
    return tabulate(
        body,
        headers=[lab["count"], lab["total"], lab["mean"], "p95 ms", lab["max"], lab["query"]],
        disable_numparse=True,
        colalign=("right",) * 5 + ("left",),
    )


def errors_table(rows: list[dict], lang: str, day: str | None = None) -> str:
    lab = labels(lang)
    body = [
        [
            r["severity"],
            number(r["count"], lang, 0),
            day_clock(r["last"], day, lang) if r.get("last") else "-",
            shorten(r["signature"], 70),
        ]
        for r in rows
    ]
    return tabulate(
        body,
        headers=[lab["severity"], lab["count"], lab["last"], lab["signature"]],
        disable_numparse=True,
        colalign=("left", "right", "left", "left"),
    )


def shorten(text_: str, width: int) -> str:
    flat = " ".join(text_.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _indent(block: str) -> list[str]:
    return ["    " + line for line in block.splitlines()]
