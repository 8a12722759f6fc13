"""Procurement committees (Pokja) and their tender schedules, read from CSV exports.

``committees_file`` (``[mail]``): ``name,email[,satker]`` with a header line;
several addresses in one cell may be separated by ``;``. A row that cannot be
used (no name, a bad address) is skipped and named in ``problems`` with its
file and line, so one bad row never stops the others from being told.
A committee's identity is its name, case- and space-folded (:func:`fold_name`),
never its row: the file may be re-ordered or grow between announcements.

``tender_schedule_file`` (``[maintenance]``): one tender stage per line. The
column names differ between exports, so they are configurable
(``maintenance.tender_columns``); the default matches the SPSE-style export
``kode_tender,nama_paket,pokja,tahap,mulai,selesai``. Times are local (the
LPSE's zone) unless they carry an offset.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from email.headerregistry import Address
from pathlib import Path

from lpsectl.addresses import AddressError, parse_address
from lpsectl.csvfiles import decode_text, normal_name, read_table
from lpsectl.errors import ConfigError

DEFAULT_TENDER_COLUMNS = {
    "code": "kode_tender",
    "package": "nama_paket",
    "committee": "pokja",
    "stage": "tahap",
    "start": "mulai",
    "end": "selesai",
}

TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M", "%d-%m-%Y %H:%M")


@dataclass
class Committee:
    name: str
    emails: list[str]
    satker: str = ""

    @property
    def key(self) -> str:
        return fold_name(self.name)

    @property
    def addresses(self) -> list[Address]:
        return [parse_address(e) for e in self.emails]


@dataclass
class Committees:
    """What a committees file gave: the usable committees, and every row skipped (with why)."""

    committees: list[Committee]
    problems: list[str] = field(default_factory=list)
    #: names of committees whose row was skipped (they are not e-mailed)
    skipped: list[str] = field(default_factory=list)

    def __iter__(self):
        return iter(self.committees)

    def __len__(self) -> int:
        return len(self.committees)

    def keys(self) -> set[str]:
        return {c.key for c in self.committees}


def fold_name(name: str) -> str:
    """A committee name as identity: case-folded, runs of white space made one space."""
    return " ".join(name.split()).casefold()


@dataclass
class TenderStage:
    code: str
    package: str
    committee: str
    stage: str
    start: datetime
    end: datetime
    #: set by :func:`stages_in_window`: the stage ends (its deadline) inside the window
    deadline_inside: bool = field(default=False)


def read_committees(path: str | Path) -> Committees:
    """Committees from a CSV.

    Raises :class:`ConfigError` only when the file as a whole is unusable
    (missing, unreadable, not CSV, no ``name``/``email`` column). A bad row is
    skipped and described in ``Committees.problems`` as ``"FILE:LINE: ..."``;
    a name seen twice keeps its first row.
    """
    rows = _read_csv(path, required=("name", "email"))
    result = Committees([])
    seen: set[str] = set()
    for line, row in rows:
        where = f"{path}:{line}"
        name = " ".join((row.get("name") or "").split())
        cells = [e.strip() for e in (row.get("email") or "").split(";") if e.strip()]
        if not name:
            result.problems.append(f"{where}: the committee has no name; row skipped")
            continue
        if not cells:
            result.problems.append(
                f"{where}: committee {name!r} has no e-mail address; row skipped"
            )
            result.skipped.append(name)
            continue
        if fold_name(name) in seen:
            result.problems.append(
                f"{where}: committee {name!r} appears again; the first row is used"
            )
            continue
        emails, bad = [], ""
        for cell in cells:
            try:
                emails.append(str(parse_address(cell)))
            except AddressError as exc:
                bad = str(exc)
                break
        if bad:
            result.problems.append(f"{where}: committee {name!r}: {bad}; row skipped")
            result.skipped.append(name)
            continue
        seen.add(fold_name(name))
        result.committees.append(
            Committee(name, emails, " ".join((row.get("satker") or "").split()))
        )
    return result


def read_tender_schedule(
    path: str | Path,
    tz: tzinfo,
    columns: Mapping[str, str] | None = None,
    problems: list[str] | None = None,
) -> list[TenderStage]:
    """Tender stages from a CSV export (column names from ``columns``).

    A row that cannot be read (a date that is no date, a stage ending before it
    starts) is skipped and described in ``problems`` as ``"FILE:LINE: ..."``, so one
    bad cell never blocks an announcement with the 3-day deadline at stake; without
    ``problems`` it raises :class:`ConfigError`. The file as a whole unusable
    (missing, not CSV, a column missing) always raises."""
    names = {**DEFAULT_TENDER_COLUMNS, **(columns or {})}
    unknown = set(names) - set(DEFAULT_TENDER_COLUMNS)
    if unknown:
        raise ConfigError(
            f"maintenance.tender_columns: unknown field {sorted(unknown)[0]!r} "
            f"(known: {', '.join(DEFAULT_TENDER_COLUMNS)})"
        )
    names = {
        key: " ".join(value.split()).casefold() for key, value in names.items()
    }  # as the header
    rows = _read_csv(path, required=tuple(names[k] for k in ("committee", "stage", "start", "end")))
    stages = []
    for line, row in rows:
        where = f"{path}:{line}"
        try:
            stage = TenderStage(
                code=(row.get(names["code"]) or "").strip(),
                package=(row.get(names["package"]) or "").strip(),
                committee=(row.get(names["committee"]) or "").strip(),
                stage=(row.get(names["stage"]) or "").strip(),
                start=parse_local_time(row.get(names["start"]) or "", tz, where),
                end=parse_local_time(row.get(names["end"]) or "", tz, where),
            )
            if stage.end < stage.start:
                raise ConfigError(
                    f"{where}: the stage ends ({stage.end:%Y-%m-%d %H:%M}) before it "
                    f"starts ({stage.start:%Y-%m-%d %H:%M})"
                )
        except ConfigError as exc:
            if problems is None:
                raise
            problems.append(f"{exc.message}; row skipped")
            continue
        stages.append(stage)
    return stages


def stages_in_window(
    stages: Iterable[TenderStage], committee: str, start: datetime, end: datetime
) -> list[TenderStage]:
    """The committee's stages that overlap ``[start, end)``, by start time."""
    key = fold_name(committee)
    found = []
    for stage in stages:
        if fold_name(stage.committee) != key:
            continue
        if stage.start < end and stage.end > start:
            stage.deadline_inside = start <= stage.end <= end
            found.append(stage)
    return sorted(found, key=lambda s: (s.start, s.code))


def parse_local_time(text: str, tz: tzinfo, where: str) -> datetime:
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
        for fmt in TIME_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if moment is None:
        # what Excel writes besides (25/11/2026 08.00, 2-Nov-26 8:15, 11/25/2026 2:05 PM):
        # the ticket exports' reader, the one home of these formats
        from lpsectl.tickets import DateError, parse_timestamp

        try:
            found = parse_timestamp(text, tz)
        except DateError:
            found = None
        if found is None:
            raise ConfigError(
                f"{where}: {text!r} is not a date and time (write it as YYYY-MM-DD HH:MM, or "
                "DD/MM/YYYY HH.MM as Excel does)"
            )
        return found.astimezone(tz)
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)


#: a committees or schedule file larger than this is not a spreadsheet export
MAX_FILE_BYTES = 16 * 1024 * 1024


def _read_csv(path: str | Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Rows (with the line each starts on) of a spreadsheet export, as Excel saves it:
    UTF-8/UTF-16/Windows-1252, ',' ';' or tab, header names in any case."""
    path = Path(path).expanduser()
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file: {exc.strerror}") from exc
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(
            f"{path}: larger than {MAX_FILE_BYTES // 1048576} MiB; not a committees/schedule export"
        )
    try:
        table = read_table(decode_text(raw), str(path), wanted=required)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    header = [normal_name(h) for h in table.header]
    missing = [c for c in required if normal_name(c) not in header]
    if missing:
        raise ConfigError(
            f"{path}:{table.header_line}: column {missing[0]!r} is missing "
            f"(header: {', '.join(header) or 'empty'})"
        )
    return [(line, dict(zip(header, cells, strict=False))) for line, cells in table.rows]
