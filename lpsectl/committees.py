"""Procurement committees (Pokja) and their tender schedules, read from CSV exports.

``committees_file`` (``[mail]``): ``name,email[,satker]`` with a header line;
several addresses in one cell may be separated by ``;``.

``tender_schedule_file`` (``[maintenance]``): one tender stage per line. The
column names differ between exports, so they are configurable
(``maintenance.tender_columns``); the default matches the SPSE-style export
``kode_tender,nama_paket,pokja,tahap,mulai,selesai``. Times are local (the
LPSE's zone) unless they carry an offset.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from email.utils import parseaddr
from pathlib import Path

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


def read_committees(path: str | Path) -> list[Committee]:
    """Committees from a CSV; every error names the file and line."""
    rows = _read_csv(path, required=("name", "email"))
    committees = []
    for line, row in rows:
        name = (row.get("name") or "").strip()
        emails = [e.strip() for e in (row.get("email") or "").split(";") if e.strip()]
        if not name:
            raise ConfigError(f"{path}:{line}: the committee has no name")
        if not emails:
            raise ConfigError(f"{path}:{line}: committee {name!r} has no e-mail address")
        for email in emails:
            if not _looks_like_address(email):
                raise ConfigError(f"{path}:{line}: {email!r} is not an e-mail address")
        committees.append(Committee(name, emails, (row.get("satker") or "").strip()))
    return committees


def read_tender_schedule(path: str | Path, tz: tzinfo,
                         columns: Mapping[str, str] | None = None) -> list[TenderStage]:
    """Tender stages from a CSV export (column names from ``columns``)."""
    names = {**DEFAULT_TENDER_COLUMNS, **(columns or {})}
    unknown = set(names) - set(DEFAULT_TENDER_COLUMNS)
    if unknown:
        raise ConfigError(
            f"maintenance.tender_columns: unknown field {sorted(unknown)[0]!r} "
            f"(known: {', '.join(DEFAULT_TENDER_COLUMNS)})"
        )
    rows = _read_csv(path, required=tuple(names[k] for k in ("committee", "stage", "start", "end")))
    stages = []
    for line, row in rows:
        stages.append(TenderStage(
            code=(row.get(names["code"]) or "").strip(),
            package=(row.get(names["package"]) or "").strip(),
            committee=(row.get(names["committee"]) or "").strip(),
            stage=(row.get(names["stage"]) or "").strip(),
            start=parse_local_time(row.get(names["start"]) or "", tz, f"{path}:{line}"),
            end=parse_local_time(row.get(names["end"]) or "", tz, f"{path}:{line}"),
        ))
    return stages


def stages_in_window(stages: Iterable[TenderStage], committee: str, start: datetime,
                     end: datetime) -> list[TenderStage]:
    """The committee's stages that overlap ``[start, end)``, by start time."""
    key = committee.strip().casefold()
    found = []
    for stage in stages:
        if stage.committee.casefold() != key:
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
        raise ConfigError(f"{where}: {text!r} is not a date and time (expected YYYY-MM-DD HH:MM)")
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)


def _looks_like_address(text: str) -> bool:
    address = parseaddr(text)[1]
    local, _, domain = address.rpartition("@")
    return bool(local) and "." in domain and " " not in address


def _read_csv(path: str | Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    path = Path(path).expanduser()
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            missing = [c for c in required if c not in header]
            if missing:
                raise ConfigError(
                    f"{path}: column {missing[0]!r} is missing (header: {', '.join(header) or 'empty'})"
                )
            return [(reader.line_num, row) for row in reader if any((v or "").strip() for v in row.values() if isinstance(v, str))]
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: the file is not UTF-8 text") from exc
    except csv.Error as exc:
        raise ConfigError(f"{path}: not a valid CSV file: {exc}") from exc
