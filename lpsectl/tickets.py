"""Helpdesk tickets (SOP 001): import, the SOP 003 groups, SLA arithmetic.

Tickets come from "LPSE Support" exports (CSV or JSON). Columns are mapped
through ``[tickets.columns]``; rows that cannot be read are reported with
their line numbers and the rest is imported. Importing is idempotent: the
ticket number is the key, so a re-import updates and never duplicates.

Classification and SLA are pure functions of the stored fields (and of an
injected ``now``), computed when read, so a changed keyword list or priority
table applies to tickets already imported.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

from lpsectl import timeutil
from lpsectl.config import Config, load_section
from lpsectl.csvfiles import decode_text, read_table
from lpsectl.errors import ConfigError, UsageError
from lpsectl.i18n import N_
from lpsectl.slaclock import CLOCKS, WORKING, SlaClock, national_holidays, parse_working_hours
from lpsectl.store import Store

# -- settings -------------------------------------------------------------------

GROUPS = ("a", "b", "c")
GROUP_LABELS = {
    "a": N_("Uploading and downloading data"),
    "b": N_("Using the SPSE application"),
    "c": N_("Other complaints about SPSE"),
}

#: ticket field -> header names accepted for it (first match wins, case-insensitive)
DEFAULT_COLUMNS: dict[str, list[str]] = {
    "number": ["No Tiket", "Nomor Tiket", "No. Tiket", "Ticket", "Ticket Number", "number"],
    "opened_at": ["Tanggal Dibuat", "Dibuat", "Tanggal", "Opened", "Created", "opened_at"],
    "reporter_type": ["Jenis Pelapor", "Pelapor", "Reporter Type", "reporter_type"],
    "subject": ["Judul", "Subjek", "Subject", "subject"],
    "description": ["Uraian", "Deskripsi", "Keterangan", "Description", "description"],
    "category": ["Kategori", "Category", "category"],
    "group_override": ["Kelompok", "Kelompok SOP", "Group", "group_override"],
    "priority": ["Prioritas", "Priority", "priority"],
    "status": ["Status", "status"],
    "first_response_at": [
        "Respon Pertama",
        "Tanggapan Pertama",
        "First Response",
        "first_response_at",
    ],
    "priority_set_at": ["Prioritas Ditetapkan", "Priority Set", "priority_set_at"],
    "data_requested_at": ["Data Diminta", "Permintaan Data", "Data Requested", "data_requested_at"],
    "data_received_at": ["Data Diterima", "Data Received", "data_received_at"],
    "escalated_to": ["Eskalasi", "Eskalasi Ke", "Escalated To", "escalated_to"],
    "resolved_at": ["Tanggal Selesai", "Selesai", "Resolved", "resolved_at"],
    "closed_at": ["Tanggal Ditutup", "Ditutup", "Closed", "closed_at"],
}
REQUIRED_FIELDS = ("number", "opened_at")
TIME_FIELDS = (
    "opened_at",
    "first_response_at",
    "priority_set_at",
    "data_requested_at",
    "data_received_at",
    "resolved_at",
    "closed_at",
)

DEFAULT_UPLOAD_KEYWORDS = [
    "unggah",
    "upload",
    "unduh",
    "download",
    "dokumen penawaran",
    "file",
    "berkas",
    "lampiran",
    "spamkodok",
    "apendo",
    "kirim penawaran",
    "dokumen kualifikasi",
]
DEFAULT_USAGE_KEYWORDS = [
    "login",
    "log in",
    "akun",
    "password",
    "kata sandi",
    "jadwal",
    "paket",
    "tender",
    "evaluasi",
    "pokja",
    "menu",
    "user id",
    "registrasi",
    "verifikasi",
    "aktivasi",
    "kode error",
    "lelang",
]


@dataclass
class TicketSettings:
    """``[tickets]``: column mapping, keyword lists, the SOP 001 time limits."""

    columns: dict[str, Any] = field(default_factory=dict)
    upload_keywords: list[str] = field(default_factory=lambda: list(DEFAULT_UPLOAD_KEYWORDS))
    usage_keywords: list[str] = field(default_factory=lambda: list(DEFAULT_USAGE_KEYWORDS))
    response_minutes: float = 30.0
    priority_minutes: float = 30.0
    data_reply_minutes: float = 15.0
    #: Tabel Prioritas Penyelesaian Permasalahan SPSE: priority -> hours to resolve
    resolution_hours: dict[str, Any] = field(
        default_factory=lambda: {"Tinggi": 4, "Menengah": 24, "Rendah": 72}
    )
    resolved_statuses: list[str] = field(
        default_factory=lambda: ["Selesai", "Ditutup", "Closed", "Resolved", "Solved"]
    )
    escalation_targets: list[str] = field(default_factory=lambda: ["Admin PPE", "Helpdesk LKPP"])
    #: the clock the limits run on: "calendar" (every minute) or "working" (office hours)
    clock: str = "calendar"
    #: the helpdesk's office hours, for clock = "working"
    working_hours: str = "Mon-Thu 08:00-16:00, Fri 08:00-16:30"
    #: national holidays from the holidays package ("ID"); "" for none
    holidays_country: str = "ID"
    #: the LPSE's own closed days besides (cuti bersama), "YYYY-MM-DD"
    cuti_bersama: list[str] = field(default_factory=list)
    #: statuses that put the resolution clock on the reporter (waiting for their data)
    pause_statuses: list[str] = field(default_factory=lambda: ["Menunggu Data"])


def ticket_settings(config: Config) -> TicketSettings:
    settings = load_section(config, "tickets", TicketSettings)
    for name in settings.columns:
        if name not in DEFAULT_COLUMNS:
            raise ConfigError(
                f"{config.source}: tickets.columns.{name}: unknown ticket field "
                f"(known: {', '.join(DEFAULT_COLUMNS)})"
            )
    try:
        sla_clock(settings)
    except ValueError as exc:
        raise ConfigError(f"{config.source}: tickets: {exc}") from None
    for priority, hours in settings.resolution_hours.items():
        if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
            raise ConfigError(
                f"{config.source}: tickets.resolution_hours.{priority}: expected a positive "
                f"number of hours, got {hours!r}"
            )
    return settings


def sla_clock(settings: TicketSettings, tz: tzinfo | None = None) -> SlaClock:
    """The clock of ``[tickets]`` (office hours read in ``tz``, the LPSE's); ValueError
    names the key that is wrong."""
    if settings.clock not in CLOCKS:
        raise ValueError(f"clock {settings.clock!r} is not one of: {', '.join(CLOCKS)}")
    try:
        hours = parse_working_hours(settings.working_hours)
    except ValueError as exc:
        raise ValueError(f"working_hours: {exc}") from None
    closed = set()
    for text in settings.cuti_bersama:
        try:
            closed.add(date.fromisoformat(str(text)))
        except ValueError:
            raise ValueError(f"cuti_bersama: {text!r} is not a date YYYY-MM-DD") from None
    if settings.holidays_country and settings.clock == WORKING:
        try:
            national_holidays(settings.holidays_country.upper(), 2026)
        except (NotImplementedError, KeyError):
            raise ValueError(
                f"holidays_country {settings.holidays_country!r} is not a country the holidays "
                'package knows (ID for Indonesia; "" for none)'
            ) from None
    return SlaClock(settings.clock, hours, settings.holidays_country.upper(), frozenset(closed), tz)


def column_names(settings: TicketSettings) -> dict[str, list[str]]:
    """Effective mapping: the config's columns win over the defaults, field by field."""
    merged = {name: list(headers) for name, headers in DEFAULT_COLUMNS.items()}
    for name, headers in settings.columns.items():
        merged[name] = [headers] if isinstance(headers, str) else [str(h) for h in headers]
    return merged


# -- records ---------------------------------------------------------------------


@dataclass
class Ticket:
    number: str
    opened_at: datetime
    reporter_type: str = ""
    subject: str = ""
    description: str = ""
    category: str = ""
    group_override: str = ""
    priority: str = ""
    status: str = ""
    first_response_at: datetime | None = None
    priority_set_at: datetime | None = None
    data_requested_at: datetime | None = None
    data_received_at: datetime | None = None
    escalated_to: str = ""
    resolved_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass
class Problem:
    """A row (or one field of it) that could not be read. ``skipped``: row not imported."""

    line: int
    message: str
    field: str = ""
    ticket: str = ""
    skipped: bool = False


@dataclass
class ParsedExport:
    source: str
    rows: int
    tickets: list[Ticket]
    problems: list[Problem]
    #: headers of the columns the file lacks (the first name lpsectl looks for: "Data Diminta")
    missing_columns: list[str] = field(default_factory=list)


@dataclass
class ImportSummary:
    source: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    skipped: int
    problems: list[Problem]
    missing_columns: list[str]


# -- dates -----------------------------------------------------------------------

_MONTHS = {
    "jan": 1,
    "januari": 1,
    "january": 1,
    "feb": 2,
    "februari": 2,
    "february": 2,
    "mar": 3,
    "maret": 3,
    "march": 3,
    "apr": 4,
    "april": 4,
    "mei": 5,
    "may": 5,
    "jun": 6,
    "juni": 6,
    "june": 6,
    "jul": 7,
    "juli": 7,
    "july": 7,
    "agu": 8,
    "agt": 8,
    "ags": 8,
    "agustus": 8,
    "aug": 8,
    "august": 8,
    "sep": 9,
    "sept": 9,
    "september": 9,
    "okt": 10,
    "oktober": 10,
    "oct": 10,
    "october": 10,
    "nov": 11,
    "nop": 11,
    "nopember": 11,
    "november": 11,
    "des": 12,
    "desember": 12,
    "dec": 12,
    "december": 12,
}
_ZONES = {"WIB": 7, "WITA": 8, "WIT": 9}
_TIME = r"(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:[:.](?P<S>\d{2}))?(?:\s*(?P<ampm>[AaPp])\.?[Mm]\.?)?"
_ZONE = r"(?:\s*(?P<zone>WIB|WITA|WIT))?"
_ISO_WITH_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}")
_DAY_FIRST = re.compile(
    r"^(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})[ T,]+" + _TIME + _ZONE + "$"
)
_YEAR_FIRST_SLASH = re.compile(
    r"^(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})[ T]+" + _TIME + _ZONE + "$"
)
#: Excel's "2-Nov-26 8:15" (d-mmm-yy), Indonesian or English month names
_DAY_MON_YEAR = re.compile(
    r"^(?P<d>\d{1,2})-(?P<mon>[A-Za-z]+)-(?P<y>\d{2}|\d{4})[ T]+" + _TIME + _ZONE + "$"
)
#: a numeric date "a/b/yyyy": which part is the day a file shows only where one is over 12
_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{4}\b")
_MONTH_NAME = re.compile(
    r"^(?:[A-Za-z]+,\s*)?(?P<d>\d{1,2})\s+(?P<mon>[A-Za-z]+)\.?\s+(?P<y>\d{4}),?\s+"
    r"(?:pukul\s+|jam\s+|at\s+)?" + _TIME + _ZONE + "$",
    re.IGNORECASE,
)


class DateError(ValueError):
    pass


def parse_timestamp(text: str, tz: tzinfo, month_first: bool = False) -> datetime | None:
    """A ticket time in any of the formats exports use; naive times are in ``tz``.

    Accepts ISO 8601 (with or without offset), ``16/10/2026 07:03``,
    ``16-10-2026 07.03``, ``2026/10/16 07:03``, ``16 Okt 2026 07:03 WIB``, Excel's
    ``2-Nov-26 8:15`` and a 12-hour clock (``2:05 PM``). ``month_first``: numeric dates
    are month/day/year (Excel en-US; :func:`numeric_date_order` tells from a file).
    A date without a time of day is refused: SLA limits are in minutes.
    """
    text = " ".join(text.split())
    if not text:
        return None
    if _ISO_WITH_TIME.match(text):
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise DateError(f"unreadable time {text!r}") from exc
        return moment if moment.tzinfo else moment.replace(tzinfo=tz)
    for pattern in (_DAY_FIRST, _YEAR_FIRST_SLASH, _MONTH_NAME, _DAY_MON_YEAR):
        match = pattern.match(text)
        if match:
            return _from_match(match, text, tz, month_first and pattern is _DAY_FIRST)
    if re.match(r"^\d{4}-\d{2}-\d{2}$|^\d{1,2}[/.-]\d{1,2}[/.-]\d{4}$", text):
        raise DateError(f"{text!r} has no time of day")
    raise DateError(f"unreadable time {text!r}")


def numeric_date_order(texts: Iterable[str]) -> str | None:
    """ "day" or "month" first for the numeric dates of one file, from those whose first or
    second part is over 12; None when none tells (or they contradict: each row then says)."""
    day_first = month_first = False
    for text in texts:
        match = _NUMERIC_DATE.match(text or "")
        if match:
            first, second = int(match.group(1)), int(match.group(2))
            day_first = day_first or first > 12
            month_first = month_first or second > 12
    if day_first == month_first:
        return None
    return "day" if day_first else "month"


def _from_match(match: re.Match[str], text: str, tz: tzinfo, month_first: bool = False) -> datetime:
    parts = match.groupdict()
    if month_first:
        parts["d"], parts["m"] = parts["m"], parts["d"]
    month = int(parts["m"]) if parts.get("m") else _MONTHS.get(parts["mon"].lower())
    if month is None:
        raise DateError(f"unknown month name in {text!r}")
    zone: tzinfo = tz
    if parts.get("zone"):
        zone = timezone(timedelta(hours=_ZONES[parts["zone"].upper()]))
    year, hour = int(parts["y"]), int(parts["H"])
    if year < 100:
        year += 2000  # Excel's two-digit year ("26"): this century
    if parts.get("ampm"):
        if not 1 <= hour <= 12:
            raise DateError(f"impossible time {text!r}")
        hour = hour % 12 + (12 if parts["ampm"].lower() == "p" else 0)
    try:
        return datetime(
            year,
            month,
            int(parts["d"]),
            hour,
            int(parts["M"]),
            int(parts["S"] or 0),
            tzinfo=zone,
        )
    except ValueError as exc:
        raise DateError(f"impossible date {text!r}") from exc


# -- reading exports -------------------------------------------------------------


def read_export(path: Path, settings: TicketSettings, tz: tzinfo) -> ParsedExport:
    """Read a CSV or JSON export file (I/O edge of :func:`parse_csv` / :func:`parse_json`)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the ticket export: {exc.strerror}") from exc
    text = decode_export(raw)
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("[", "{")):
        return parse_json(text, settings, tz, str(path))
    return parse_csv(text, settings, tz, str(path))


def decode_export(raw: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252 — what Excel writes."""
    return decode_text(raw)


def parse_csv(
    text: str, settings: TicketSettings, tz: tzinfo, source: str = "<csv>"
) -> ParsedExport:
    wanted = [name for field in REQUIRED_FIELDS for name in column_names(settings)[field]]
    try:
        table = read_table(text, source, wanted)
    except ValueError as exc:
        message = str(exc)
        raise UsageError(
            f"{source}: the ticket export is empty" if message.endswith("is empty") else message
        ) from None
    positions, missing = _map_header(table.header, settings, source)
    records = [
        (line, {name: row[i] if i < len(row) else "" for name, i in positions.items()})
        for line, row in table.rows
    ]
    parsed = _parse_records(records, settings, tz, source)
    parsed.missing_columns = missing
    return parsed


def parse_json(
    text: str, settings: TicketSettings, tz: tzinfo, source: str = "<json>"
) -> ParsedExport:
    """A list of objects (or ``{"tickets": [...]}``) keyed like the CSV header."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source}: not valid JSON (line {exc.lineno}): {exc.msg}") from exc
    if isinstance(data, dict):
        data = data.get("tickets")
    if not isinstance(data, list):
        raise UsageError(f'{source}: expected a list of tickets or {{"tickets": [...]}}')
    keys = sorted({key for item in data if isinstance(item, dict) for key in item})
    positions, missing = _map_header(keys, settings, source)
    records = []
    problems = []
    for index, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            problems.append(Problem(index, "not an object", skipped=True))
            continue
        values = {name: _json_text(item.get(keys[i])) for name, i in positions.items()}
        records.append((index, values))
    parsed = _parse_records(records, settings, tz, source)
    parsed.problems = problems + parsed.problems
    parsed.rows += len(problems)
    parsed.missing_columns = missing
    return parsed


def _json_text(value: Any) -> str:
    return "" if value is None else str(value)


def _map_header(
    header: list[str], settings: TicketSettings, source: str
) -> tuple[dict[str, int], list[str]]:
    normalised = [" ".join(h.split()).casefold() for h in header]
    positions: dict[str, int] = {}
    for name, candidates in column_names(settings).items():
        for candidate in candidates:
            key = " ".join(candidate.split()).casefold()
            if key in normalised:
                positions[name] = normalised.index(key)
                break
    for name in REQUIRED_FIELDS:
        if name not in positions:
            wanted = " or ".join(repr(c) for c in column_names(settings)[name])
            raise UsageError(
                f"{source}: no column for the ticket {name.replace('_at', '')} "
                f"(looked for {wanted}; map it in [tickets.columns])"
            )
    # said as the header to add, as the export names it ("Data Diminta"), not lpsectl's field
    names = column_names(settings)
    missing = [names[name][0] for name in DEFAULT_COLUMNS if name not in positions]
    return positions, missing


def _parse_records(
    records: list[tuple[int, dict[str, str]]], settings: TicketSettings, tz: tzinfo, source: str
) -> ParsedExport:
    by_number: dict[str, Ticket] = {}
    first_line: dict[str, int] = {}
    problems: list[Problem] = []
    # Excel en-US writes 11/25/2026, id-ID 25/11/2026: the file's own dates tell which
    month_first = (
        numeric_date_order(v.get(name, "") for _l, v in records for name in TIME_FIELDS) == "month"
    )
    for line, values in records:
        ticket = _ticket_from_row(line, values, settings, tz, problems, month_first)
        if ticket is None:
            continue
        if ticket.number in by_number:
            problems.append(
                Problem(
                    line,
                    f"ticket {ticket.number} already appeared on line "
                    f"{first_line[ticket.number]}; this later row is used",
                    "number",
                    ticket.number,
                )
            )
        else:
            first_line[ticket.number] = line
        by_number[ticket.number] = ticket
    return ParsedExport(source, len(records), list(by_number.values()), problems)


def _ticket_from_row(
    line: int,
    values: dict[str, str],
    settings: TicketSettings,
    tz: tzinfo,
    problems: list[Problem],
    month_first: bool = False,
) -> Ticket | None:
    text = {name: " ".join((value or "").split()) for name, value in values.items()}
    number = text.get("number", "")
    if not number:
        problems.append(Problem(line, "no ticket number; row skipped", "number", skipped=True))
        return None
    times: dict[str, datetime | None] = {}
    for name in TIME_FIELDS:
        try:
            moment = parse_timestamp(text.get(name, ""), tz, month_first)
            # one zone for all: the LPSE-local month of a ticket is its month
            times[name] = moment.astimezone(tz) if moment else None
        except DateError as exc:
            if name == "opened_at":
                problems.append(Problem(line, f"{exc}; row skipped", name, number, skipped=True))
                return None
            problems.append(Problem(line, f"{exc}; field left empty", name, number))
            times[name] = None
    if times["opened_at"] is None:
        problems.append(
            Problem(line, "no opening time; row skipped", "opened_at", number, skipped=True)
        )
        return None
    _drop_times_before_opening(line, number, times, problems)
    escalated = normalise_escalation(text.get("escalated_to", ""), settings)
    if escalated and escalated not in settings.escalation_targets:
        problems.append(
            Problem(
                line,
                f"unknown escalation target {escalated!r} kept as written",
                "escalated_to",
                number,
            )
        )
    override = text.get("group_override", "")
    if override and parse_group(override) is None:
        problems.append(
            Problem(line, f"unknown group override {override!r} ignored", "group_override", number)
        )
    return Ticket(
        number=number,
        reporter_type=text.get("reporter_type", ""),
        subject=text.get("subject", ""),
        description=text.get("description", ""),
        category=text.get("category", ""),
        group_override=override,
        priority=normalise_priority(text.get("priority", ""), settings),
        status=text.get("status", ""),
        escalated_to=escalated,
        **times,  # type: ignore[arg-type]
    )


def _drop_times_before_opening(
    line: int, number: str, times: dict[str, datetime | None], problems: list[Problem]
) -> None:
    opened = times["opened_at"]
    assert opened is not None
    for name in TIME_FIELDS[1:]:
        moment = times[name]
        if moment is not None and moment < opened:
            problems.append(
                Problem(line, f"{name} is before the opening time; field left empty", name, number)
            )
            times[name] = None


def normalise_escalation(value: str, settings: TicketSettings) -> str:
    """'Admin PP', 'Ad', 'hel' → the configured target they begin (truncated exports)."""
    value = " ".join(value.split())
    if not value:
        return ""
    matches = [t for t in settings.escalation_targets if t.casefold().startswith(value.casefold())]
    return matches[0] if len(matches) == 1 else value


def normalise_priority(value: str, settings: TicketSettings) -> str:
    """Match the priority table case-insensitively; English names map to Indonesian ones."""
    value = " ".join(value.split())
    aliases = {"high": "tinggi", "medium": "menengah", "sedang": "menengah", "low": "rendah"}
    key = aliases.get(value.casefold(), value.casefold())
    for name in settings.resolution_hours:
        if name.casefold() == key:
            return name
    return value


# -- store -----------------------------------------------------------------------

STORED_FIELDS = [
    "reporter_type",
    "subject",
    "description",
    "category",
    "group_override",
    "priority",
    "status",
    "escalated_to",
    *TIME_FIELDS,
]


def _row_values(ticket: Ticket) -> dict[str, Any]:
    values = {}
    for name in STORED_FIELDS:
        value = getattr(ticket, name)
        values[name] = value.isoformat(timespec="seconds") if isinstance(value, datetime) else value
    return values


def save_tickets(store: Store, parsed: ParsedExport, now: datetime) -> ImportSummary:
    """Insert new tickets, update changed ones, in one transaction."""
    inserted = updated = unchanged = 0
    stamp = now.isoformat(timespec="seconds")
    with store.transaction():
        for ticket in parsed.tickets:
            values = _row_values(ticket)
            values["month"] = ticket.opened_at.strftime("%Y-%m")
            existing = store.query_one("SELECT * FROM tickets WHERE number = ?", [ticket.number])
            if existing is None:
                store.insert(
                    "tickets",
                    {
                        "number": ticket.number,
                        **values,
                        "source": parsed.source,
                        "imported_at": stamp,
                        "updated_at": stamp,
                    },
                )
                inserted += 1
            elif any((existing[k] or "") != (v or "") for k, v in values.items()):
                store.update(
                    "tickets",
                    existing["id"],
                    {**values, "source": parsed.source, "updated_at": stamp},
                )
                updated += 1
            else:
                unchanged += 1
    skipped = sum(1 for p in parsed.problems if p.skipped)
    return ImportSummary(
        parsed.source,
        parsed.rows,
        inserted,
        updated,
        unchanged,
        skipped,
        parsed.problems,
        parsed.missing_columns,
    )


def load_tickets(store: Store, tz: tzinfo, month: str | None = None) -> list[Ticket]:
    """Stored tickets (opened in ``month`` 'YYYY-MM' local time, when given), oldest first."""
    if month:
        rows = store.query(
            "SELECT * FROM tickets WHERE month = ? ORDER BY opened_at, number", [month]
        )
    else:
        rows = store.query("SELECT * FROM tickets ORDER BY opened_at, number")
    return [_ticket_from_store(row, tz) for row in rows]


def _ticket_from_store(row: dict[str, Any], tz: tzinfo) -> Ticket:
    values: dict[str, Any] = {"number": row["number"]}
    for name in STORED_FIELDS:
        value = row[name]
        if name in TIME_FIELDS:
            values[name] = datetime.fromisoformat(value).astimezone(tz) if value else None
        else:
            values[name] = value or ""
    return Ticket(**values)


# -- classification ----------------------------------------------------------------

_PREFIXES = r"(?:me|mem|men|meng|meny|di|ter|ke|pe|pem|pen|peng|per)?"
_SUFFIXES = r"(?:an|kan|nya|i|s)?"


def parse_group(value: str) -> str | None:
    """An override value: 'a'/'b'/'c', '1'-'3' or a word naming the group."""
    key = value.strip().casefold().rstrip(".")
    words = {
        "a": "a",
        "1": "a",
        "unggah": "a",
        "unduh": "a",
        "upload": "a",
        "download": "a",
        "b": "b",
        "2": "b",
        "penggunaan": "b",
        "usage": "b",
        "aplikasi": "b",
        "c": "c",
        "3": "c",
        "lainnya": "c",
        "lain": "c",
        "other": "c",
        "keluhan": "c",
    }
    return words.get(key) or words.get(key.split(" ")[0]) if key else None


def _keyword_pattern(keywords: list[str]) -> re.Pattern[str]:
    # Indonesian affixes: "mengunggah", "diunduh", "pengunggahan" all name the stem
    alternatives = "|".join(
        re.escape(k.casefold()) for k in sorted(keywords, key=len, reverse=True)
    )
    return re.compile(rf"(?<![\w]){_PREFIXES}(?:{alternatives}){_SUFFIXES}(?![\w])")


def classify(ticket: Ticket, settings: TicketSettings) -> tuple[str, str]:
    """(group, why): the override column, else upload keywords, else usage keywords, else 'c'."""
    override = parse_group(ticket.group_override) if ticket.group_override else None
    if override:
        return override, "override"
    text = " ".join((ticket.subject, ticket.description, ticket.category)).casefold()
    for group, keywords in (("a", settings.upload_keywords), ("b", settings.usage_keywords)):
        match = _keyword_pattern(keywords).search(text) if keywords else None
        if match:
            return group, f"keyword {match.group(0)!r}"
    return "c", "no keyword"


# -- SLA -------------------------------------------------------------------------

CHECKS = ("response", "priority", "data_reply", "resolution")


@dataclass
class Check:
    name: str
    target_minutes: float | None
    actual_minutes: float | None
    met: bool | None  # None: cannot be judged (time not in the export, or still running)
    note: str = ""


@dataclass
class TicketSla:
    ticket: Ticket
    group: str
    group_reason: str
    resolved: bool
    checks: list[Check]

    @property
    def breaches(self) -> list[Check]:
        return [c for c in self.checks if c.met is False]


def is_resolved(ticket: Ticket, settings: TicketSettings) -> bool:
    done = {s.casefold() for s in settings.resolved_statuses}
    return ticket.status.casefold() in done or ticket.resolved_at is not None


Pause = tuple[datetime, datetime]


def _minutes(
    clock: SlaClock, start: datetime | None, end: datetime | None, pauses: list[Pause] | None = None
) -> float | None:
    if start is None or end is None:
        return None
    return clock.minutes(start, end, pauses or [])


def _step(
    clock: SlaClock,
    name: str,
    target: float,
    start: datetime | None,
    end: datetime | None,
    pauses: list[Pause] | None = None,
) -> Check:
    actual = _minutes(clock, start, end, pauses)
    if actual is None:
        return Check(name, target, None, None, "not recorded")
    return Check(name, target, actual, actual <= target)


def evaluate(
    ticket: Ticket, settings: TicketSettings, now: datetime, clock: SlaClock | None = None
) -> TicketSla:
    """The SOP 001 steps the export allows us to time, each against its limit, on
    ``clock`` (``[tickets] clock``: calendar or working hours)."""
    clock = clock or sla_clock(settings, now.tzinfo)
    group, why = classify(ticket, settings)
    resolved = is_resolved(ticket, settings)
    checks = [
        _step(
            clock, "response", settings.response_minutes, ticket.opened_at, ticket.first_response_at
        ),
        _step(
            clock, "priority", settings.priority_minutes, ticket.opened_at, ticket.priority_set_at
        ),
    ]
    if ticket.data_requested_at is not None:
        checks.append(
            _step(
                clock,
                "data_reply",
                settings.data_reply_minutes,
                ticket.data_requested_at,
                ticket.data_received_at,
            )
        )
    checks.append(_resolution(ticket, settings, resolved, now, clock))
    return TicketSla(ticket, group, why, resolved, checks)


def _waiting_for_reporter(ticket: Ticket, settings: TicketSettings) -> bool:
    paused = {s.casefold() for s in settings.pause_statuses}
    return ticket.status.casefold() in paused


def reporter_pauses(ticket: Ticket, settings: TicketSettings, now: datetime) -> list[Pause]:
    """The time the resolution clock is the reporter's: from "Data Diminta" to "Data
    Diterima" (to ``now`` while the ticket still waits in a pause status)."""
    if ticket.data_requested_at is None or not settings.pause_statuses:
        return []  # no pause statuses: the clock never stops (the calendar as it was)
    end = ticket.data_received_at
    if end is None:
        end = now if _waiting_for_reporter(ticket, settings) else _done_at(ticket)
    return [(ticket.data_requested_at, end)] if end is not None else []


def _resolution(
    ticket: Ticket, settings: TicketSettings, resolved: bool, now: datetime, clock: SlaClock
) -> Check:
    hours = settings.resolution_hours.get(ticket.priority)
    pauses = reporter_pauses(ticket, settings, now)
    if hours is None:
        note = (
            f"priority {ticket.priority!r} not in the table" if ticket.priority else "no priority"
        )
        return Check(
            "resolution",
            None,
            _minutes(clock, ticket.opened_at, _done_at(ticket), pauses),
            None,
            note,
        )
    target = float(hours) * 60
    done_at = _done_at(ticket)
    if done_at is not None:
        return _step(clock, "resolution", target, ticket.opened_at, done_at, pauses)
    waited = _minutes(clock, ticket.opened_at, now, pauses) or 0.0
    if resolved:
        return Check("resolution", target, None, None, "resolved, time not recorded")
    waiting = _waiting_for_reporter(ticket, settings)
    if waited > target:
        # the LPSE's own minutes (the reporter's are already taken off) are over the limit
        note = "still open, overdue" + (f" (now {ticket.status})" if waiting else "")
        return Check("resolution", target, waited, False, note)
    if waiting:
        # the clock is the reporter's now: not the LPSE's breach while within the limit
        return Check(
            "resolution", target, waited, None, f"waiting for the reporter ({ticket.status})"
        )
    return Check("resolution", target, waited, None, "still open")


def _done_at(ticket: Ticket) -> datetime | None:
    # an export without a resolution time still tells us when the ticket was closed
    return ticket.resolved_at or ticket.closed_at


# -- summaries -----------------------------------------------------------------------


def month_summary(tickets: list[Ticket], settings: TicketSettings, now: datetime) -> dict[str, Any]:
    """Counts by group, priority and status; SLA compliance; escalations; breaches; and
    the clock the limits ran on (``clock``: :meth:`SlaClock.describe`)."""
    clock = sla_clock(settings, now.tzinfo)
    evaluated = [evaluate(t, settings, now, clock) for t in tickets]
    priorities = list(settings.resolution_hours)
    extra = sorted({e.ticket.priority for e in evaluated} - set(priorities))
    return {
        "total": len(evaluated),
        "resolved": sum(e.resolved for e in evaluated),
        "open": sum(not e.resolved for e in evaluated),
        "by_group": {g: sum(e.group == g for e in evaluated) for g in GROUPS},
        "by_priority": {
            p or "-": sum(e.ticket.priority == p for e in evaluated) for p in [*priorities, *extra]
        },
        "by_status": dict(Counter(e.ticket.status or "-" for e in evaluated).most_common()),
        "sla": {name: _compliance(evaluated, name) for name in CHECKS},
        "sla_by_priority": {
            p: _compliance([e for e in evaluated if e.ticket.priority == p], "resolution")
            for p in priorities
        },
        "escalations": dict(
            Counter(e.ticket.escalated_to for e in evaluated if e.ticket.escalated_to).most_common()
        ),
        "breaches": [breach_row(e, c) for e in evaluated for c in e.breaches],
        "clock": {**clock.describe(), "pause_statuses": list(settings.pause_statuses)},
        # open tickets in a pause status now (those past the limit on the LPSE's own minutes
        # are breaches all the same, their note says "now Menunggu Data")
        "waiting_for_reporter": sum(
            1 for e in evaluated if not e.resolved and _waiting_for_reporter(e.ticket, settings)
        ),
    }


def _compliance(evaluated: list[TicketSla], name: str) -> dict[str, Any]:
    judged = [c for e in evaluated for c in e.checks if c.name == name and c.met is not None]
    met = sum(1 for c in judged if c.met)
    return {
        "judged": len(judged),
        "met": met,
        "breached": len(judged) - met,
        "percent": round(100.0 * met / len(judged), 1) if judged else None,
    }


def breach_row(sla: TicketSla, check: Check) -> dict[str, Any]:
    return {
        "number": sla.ticket.number,
        "opened_at": sla.ticket.opened_at,
        "group": sla.group,
        "priority": sla.ticket.priority,
        "status": sla.ticket.status,
        "check": check.name,
        "target_minutes": check.target_minutes,
        "actual_minutes": check.actual_minutes,
        "note": check.note,
        "escalated_to": sla.ticket.escalated_to,
        "subject": sla.ticket.subject,
    }


def ticket_row(sla: TicketSla) -> dict[str, Any]:
    """One ticket for listings and JSON."""
    row = asdict(sla.ticket)
    row["group"] = sla.group
    row["group_reason"] = sla.group_reason
    row["resolved"] = sla.resolved
    row["checks"] = [asdict(c) for c in sla.checks]
    return row


def parse_month(text: str) -> str:
    """'2026-10' (also '10/2026') → '2026-10'."""
    match = re.fullmatch(r"(\d{4})-(\d{1,2})|(\d{1,2})/(\d{4})", text.strip())
    if not match:
        raise UsageError(f"month {text!r} is not in the form YYYY-MM")
    year, month = (
        (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
    )
    if not 1 <= int(month) <= 12:
        raise UsageError(f"month {text!r} has no month number {int(month)}")
    if not timeutil.in_range(int(year)):
        raise UsageError(f"month {text!r} is outside {timeutil.FIRST_YEAR}–{timeutil.LAST_YEAR}")
    return f"{int(year):04d}-{int(month):02d}"


def previous_month(now: datetime) -> str:
    first = now.replace(day=1)
    last = first - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"
