"""Input: one request (validated at the boundary) and batch imports (CSV/JSON)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from lpsectl import nip as nip_rules
from lpsectl.access.base import (
    ACTIONS,
    ACTIVATE,
    DEACTIVATE,
    DECREE,
    LETTER,
    PERSONAL_FIELDS,
    RECEIVED,
    ROLES,
    VIAS,
    _iso,
    add_event,
)
from lpsectl.csvfiles import decode_text, read_table
from lpsectl.errors import UsageError
from lpsectl.store import Store

# -- input: one request ---------------------------------------------------------------------


@dataclass
class Document:
    kind: str  # "letter", "decree" or any other name the desk uses
    path: str


@dataclass
class RequestInput:
    """What the desk records when a request arrives."""

    action: str
    role: str
    name: str
    nip: str = ""
    rank: str = ""
    position: str = ""
    agency: str = ""
    address: str = ""
    phone: str = ""
    email: str = ""
    documents: list[Document] = field(default_factory=list)
    decree_date: date | None = None
    decree_expires: date | None = None
    via: str = "desk"
    received_at: datetime | None = None


ACTION_WORDS = {
    "activate": ACTIVATE,
    "aktivasi": ACTIVATE,
    "aktifkan": ACTIVATE,
    "aktif": ACTIVATE,
    "deactivate": DEACTIVATE,
    "nonaktif": DEACTIVATE,
    "nonaktifkan": DEACTIVATE,
    "penonaktifan": DEACTIVATE,
    "deaktivasi": DEACTIVATE,
}
ROLE_WORDS = {
    "ppk": "ppk",
    "pokja": "pokja",
    "pokja-pemilihan": "pokja",
    "pokja-ulp": "pokja",
    "pejabat-pengadaan": "pejabat-pengadaan",
    "pp": "pejabat-pengadaan",
}


def normalize_action(text: str) -> str:
    key = text.strip().lower()
    if key not in ACTION_WORDS:
        raise ValueError(f"action {text!r} is not one of: activate, deactivate")
    return ACTION_WORDS[key]


def normalize_role(text: str) -> str:
    key = re.sub(r"[\s_]+", "-", text.strip().lower())
    if key not in ROLE_WORDS:
        raise ValueError(f"role {text!r} is not one of: {', '.join(ROLES)}")
    return ROLE_WORDS[key]


def parse_day(text: str) -> date:
    """``2026-12-31``, the Indonesian ``31-12-2026`` / ``31/12/2026``, or Excel's
    ``31-Dec-26`` / ``31-Dec-2026``."""
    value = text.strip()
    for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d-%b-%y", "%d-%b-%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"date {text!r} is not YYYY-MM-DD or DD-MM-YYYY")


def parse_moment(text: str, tz: tzinfo) -> datetime:
    """ISO 8601 (offset optional: local LPSE time when absent) or ``YYYY-MM-DD HH:MM``."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"time {text!r} is not YYYY-MM-DD HH:MM (ISO 8601)") from exc
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def validate_input(data: RequestInput) -> None:
    """Refuse what cannot even be recorded; everything else is for :func:`check_completeness`."""
    if data.action not in ACTIONS:
        raise UsageError(f"action {data.action!r} is not one of: {', '.join(ACTIONS)}")
    if data.role not in ROLES:
        raise UsageError(f"role {data.role!r} is not one of: {', '.join(ROLES)}")
    if not data.name.strip():
        raise UsageError("the applicant's name is required")
    if data.via not in VIAS:
        raise UsageError(f"via {data.via!r} is not one of: {', '.join(VIAS)}")


def create_request(store: Store, data: RequestInput, now: datetime, source: str = "manual") -> int:
    validate_input(data)
    received = data.received_at or now
    if received > now + timedelta(minutes=1):
        raise UsageError(f"received time {received.isoformat(timespec='minutes')} is in the future")
    row = {
        "action": data.action,
        "role": data.role,
        "name": data.name.strip(),
        "nip": nip_rules.normalize(data.nip),
        "rank": data.rank.strip(),
        "position": data.position.strip(),
        "agency": data.agency.strip(),
        "address": data.address.strip(),
        "phone": data.phone.strip(),
        "email": data.email.strip(),
        "documents": [asdict(d) for d in data.documents],
        "decree_date": data.decree_date.isoformat() if data.decree_date else None,
        "decree_expires": data.decree_expires.isoformat() if data.decree_expires else None,
        "via": data.via,
        "source": source,
        "status": RECEIVED,
        "received_at": _iso(received),
        "created_at": _iso(now),
    }
    with store.transaction():
        request_id = store.insert("access_requests", row)
        add_event(store, request_id, now, "received", {"via": data.via, "source": source})
    return request_id


# -- batch import ---------------------------------------------------------------------------

COLUMN_ALIASES = {
    "action": ("action", "aksi", "jenis", "permohonan"),
    "role": ("role", "peran"),
    "name": ("name", "nama", "nama_lengkap"),
    "nip": ("nip",),
    "rank": ("rank", "pangkat", "golongan", "pangkat_golongan"),
    "position": ("position", "jabatan"),
    "agency": ("agency", "instansi", "satker"),
    "address": ("address", "alamat"),
    "phone": ("phone", "telepon", "telp", "hp", "no_hp"),
    "email": ("email", "e-mail", "surel"),
    "letter": ("letter", "surat", "surat_permohonan"),
    "decree": ("decree", "sk", "surat_tugas"),
    "decree_date": ("decree_date", "tanggal_sk"),
    "decree_expires": ("decree_expires", "berlaku_sampai"),
    "documents": ("documents", "dokumen"),
    "via": ("via", "melalui"),
    "received_at": ("received_at", "diterima"),
}


@dataclass
class BatchError:
    line: int
    message: str


@dataclass
class BatchRow:
    line: int
    request: RequestInput


def parse_batch(path: Path, tz: tzinfo) -> tuple[list[BatchRow], list[BatchError]]:
    """Read a CSV, JSON array or JSON-lines file; bad rows come back with their line number.

    Relative document paths are taken relative to the batch file's folder.
    """
    try:
        # as Excel saves it: UTF-8 (with a BOM or not), UTF-16, or Windows-1252
        text = decode_text(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the batch file: {exc.strerror}") from exc
    if path.suffix.lower() in (".json", ".jsonl", ".ndjson"):
        entries = _json_entries(text, path)
    else:
        entries = _csv_entries(text, path)
    rows: list[BatchRow] = []
    errors: list[BatchError] = []
    for line, mapping in entries:
        if isinstance(mapping, str):  # a line that could not even be parsed
            errors.append(BatchError(line, mapping))
            continue
        try:
            rows.append(BatchRow(line, request_from_mapping(mapping, tz, path.parent)))
        except ValueError as exc:
            errors.append(BatchError(line, str(exc)))
    return rows, errors


def request_from_mapping(raw: Mapping[str, Any], tz: tzinfo, base: Path) -> RequestInput:
    """One batch row (column names in English or Indonesian) → a request; ValueError says why not."""
    row = _canonical_columns(raw)
    for required in ("action", "role", "name"):
        if not row.get(required):
            raise ValueError(f"column {required!r} is empty")
    documents = []
    for kind in (LETTER, DECREE):
        if row.get(kind):
            documents.append(Document(kind, _resolve(row[kind], base)))
    for item in filter(None, (row.get("documents") or "").split(";")):
        kind, sep, doc_path = item.partition("=")
        if not sep or not kind.strip() or not doc_path.strip():
            raise ValueError(f"document {item!r} is not KIND=PATH")
        documents.append(Document(kind.strip(), _resolve(doc_path.strip(), base)))
    via = (row.get("via") or "desk").lower()
    if via not in VIAS:
        raise ValueError(f"via {via!r} is not one of: {', '.join(VIAS)}")
    return RequestInput(
        action=normalize_action(row["action"]),
        role=normalize_role(row["role"]),
        name=row["name"],
        **{key: row.get(key, "") for key in PERSONAL_FIELDS if key != "name"},
        documents=documents,
        decree_date=parse_day(row["decree_date"]) if row.get("decree_date") else None,
        decree_expires=parse_day(row["decree_expires"]) if row.get("decree_expires") else None,
        via=via,
        received_at=parse_moment(row["received_at"], tz) if row.get("received_at") else None,
    )


def _canonical_columns(raw: Mapping[str, Any]) -> dict[str, str]:
    lookup = {alias: key for key, aliases in COLUMN_ALIASES.items() for alias in aliases}
    row: dict[str, str] = {}
    for column, value in raw.items():
        key = lookup.get(str(column).strip().lower().replace(" ", "_"))
        if key is None:
            raise ValueError(f"unknown column {column!r}")
        row[key] = "" if value is None else str(value).strip()
    return row


def _json_entries(text: str, path: Path) -> list[tuple[int, Any]]:
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc
        # an array gives no line per item; number the items instead (1-based)
        return [
            (i, item if isinstance(item, dict) else "entry is not an object")
            for i, item in enumerate(items, start=1)
        ]
    entries: list[tuple[int, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            entries.append((number, f"invalid JSON: {exc.msg}"))
            continue
        entries.append((number, item if isinstance(item, dict) else "entry is not an object"))
    return entries


def _csv_entries(text: str, path: Path) -> list[tuple[int, Any]]:
    known = {alias for aliases in COLUMN_ALIASES.values() for alias in aliases}
    wanted = [a.replace("_", " ") for a in known] + list(known)
    try:
        table = read_table(text, str(path), wanted)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    for column in table.header:
        if column.strip().lower().replace(" ", "_") not in known:
            raise UsageError(
                f"{path}:{table.header_line}: unknown column {column!r} in the header "
                f"(known: {', '.join(COLUMN_ALIASES)})"
            )
    entries: list[tuple[int, Any]] = []
    for line, cells in table.rows:
        if len(cells) > len(table.header):
            entries.append((line, "more fields than the header has columns"))
            continue
        entries.append((line, dict(zip(table.header, cells, strict=False))))
    return entries


def _resolve(text: str, base: Path) -> str:
    path = Path(text).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())
