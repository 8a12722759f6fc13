"""Account (de)activation requests of PPK, Pokja members and procurement officials (SOP 004).

The flow: a request is *received* (letter to the Kepala LPSE, assignment
decree, personal data) → the desk *checks* completeness (10 minutes) and
either returns it (with a notice listing exactly what is missing) or
forwards it to the Admin Agency → the Admin Agency *acts* in SPSE (10
minutes) → the applicant is *notified* (10 minutes) → documents and data are
*archived* (10 minutes). At the end of each year PPK accounts may be
deactivated (:func:`year_end_candidates`).

Rules here are pure functions of their input and an injected ``now``; the
store and file system are touched only by the ``record_*``/``write_*``/
``archive_*`` functions. Personal data never leaves this module unmasked
except in documents for the applicant and in ``--full`` views; every file
written here is mode 0600 in a 0700 folder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from lpsectl import nip as nip_rules
from lpsectl.config import Config, load_section
from lpsectl.csvfiles import decode_text, read_table
from lpsectl.errors import ConfigError, NotFoundError, UsageError
from lpsectl.files import make_dirs, write_text
from lpsectl.i18n import N_, translated
from lpsectl.render import render
from lpsectl.store import Store, decode_json

ACTIVATE, DEACTIVATE = "activate", "deactivate"
ACTIONS = (ACTIVATE, DEACTIVATE)
ROLES = ("ppk", "pokja", "pejabat-pengadaan")
VIAS = ("desk", "email", "letter", "year-end")
LETTER, DECREE = "letter", "decree"
PERSONAL_FIELDS = ("name", "nip", "rank", "position", "agency", "address", "phone", "email")

# statuses: received → returned | forwarded → done | rejected; archived_at marks the archive
RECEIVED, RETURNED, FORWARDED, DONE, REJECTED = (
    "received",
    "returned",
    "forwarded",
    "done",
    "rejected",
)
CLOSED = (RETURNED, DONE, REJECTED)
STEPS = ("check", "action", "notify", "archive")


@dataclass
class AccessSettings:
    """``[access]``: what a complete request needs, the SOP limits, where files go."""

    required_documents: list[str] = field(default_factory=lambda: [LETTER, DECREE])
    #: a decree with a date but no end date is taken as valid this many days
    decree_validity_days: int = 365
    check_minutes: int = 10
    action_minutes: int = 10
    notify_minutes: int = 10
    archive_minutes: int = 10
    #: default: <data_dir>/access/notices
    notices_dir: str = ""
    #: default: <data_dir>/access/archive
    archive_dir: str = ""
    year_end_roles: list[str] = field(default_factory=lambda: ["ppk"])

    def limit(self, step: str) -> timedelta:
        return timedelta(minutes=getattr(self, f"{step}_minutes"))


def load_settings(config: Config) -> AccessSettings:
    settings = load_section(config, "access", AccessSettings)
    for step in STEPS:
        if getattr(settings, f"{step}_minutes") <= 0:
            raise ConfigError(f"{config.source}: access.{step}_minutes must be positive")
    if settings.decree_validity_days < 0:
        raise ConfigError(f"{config.source}: access.decree_validity_days cannot be negative")
    for role in settings.year_end_roles:
        if role not in ROLES:
            raise ConfigError(
                f"{config.source}: access.year_end_roles: unknown role {role!r} "
                f"(expected: {', '.join(ROLES)})"
            )
    return settings


def notices_dir(config: Config, settings: AccessSettings) -> Path:
    if settings.notices_dir:
        return Path(settings.notices_dir).expanduser()
    return config.data_dir / "access" / "notices"


def archive_dir(config: Config, settings: AccessSettings) -> Path:
    if settings.archive_dir:
        return Path(settings.archive_dir).expanduser()
    return config.data_dir / "access" / "archive"


# -- labels for documents and tables --------------------------------------------------

LABELS: dict[str, str] = {
    "activate": N_("activation"),
    "deactivate": N_("deactivation"),
    "ppk": N_("PPK (commitment-making official)"),
    "pokja": N_("Pokja (selection working group) member"),
    "pejabat-pengadaan": N_("procurement official"),
    "name": N_("name"),
    "nip": N_("NIP"),
    "rank": N_("rank/grade"),
    "position": N_("position"),
    "agency": N_("agency"),
    "address": N_("address"),
    "phone": N_("phone number"),
    "email": N_("e-mail address"),
    "letter": N_("request letter to the Kepala LPSE (letterhead, wet signature and stamp)"),
    "decree": N_("valid assignment decree (Surat Tugas / SK)"),
    "register": N_("LPSE register"),
    "accounts": N_("SPSE account export"),
}


def label(key: str, lang: str = "id") -> str:
    return translated(LABELS, lang).get(key, key)


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


# -- completeness check (pure) -----------------------------------------------------------


PROBLEM_MESSAGES = {
    "missing_field": N_("{field} is missing"),
    "nip_invalid": N_("NIP {value} is not valid: {reasons}"),
    "phone_invalid": N_("phone number {value} is not an Indonesian number (08... or +62...)"),
    "email_invalid": N_("e-mail address {value} is not well formed"),
    "document_missing": N_("{document} is missing"),
    "document_file_missing": N_("the file of the {document} was not found ({path})"),
    "document_file_unreadable": N_(
        "we could not open the file of the {document}; please send its scan again"
    ),
    "decree_date_missing": N_("the date of the assignment decree is missing"),
    "decree_not_yet_valid": N_("the assignment decree is only valid from {date}"),
    "decree_expired": N_("the assignment decree expired on {date}"),
}


@dataclass(frozen=True)
class Problem:
    """One thing that makes a request incomplete: a code, the field, and message values."""

    code: str
    field: str
    # dataclasses.field: the name ``field`` is this class's attribute here
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    def message(self, lang: str = "id", masked: bool = False, public: bool = False) -> str:
        """Readable text; ``masked`` hides the NIP/phone/e-mail quoted in it and the dates of
        birth and appointment inside an NIP's reasons (for listings); ``public`` is the
        applicant's wording (no path on the LPSE's server)."""
        params = dict(self.params)
        if public and self.code == "document_file_missing":
            table = translated(PROBLEM_MESSAGES, lang)
            return table["document_file_unreadable"].format(
                document=label(params["document"], lang)
            )
        if "document" in params:
            params["document"] = label(params["document"], lang)
        if self.code == "missing_field":
            params["field"] = label(self.field, lang)
        if self.code == "nip_invalid":
            info = nip_rules.validate(params["value"], date.fromisoformat(params["as_of"]))
            params["reasons"] = "; ".join(info.reasons(lang))
            if masked:  # a birth date is personal data, as the NIP holding it
                params["reasons"] = re.sub(
                    r"\d{4,}", lambda m: "*" * len(m.group(0)), params["reasons"]
                )
        if "date" in params:
            params["date"] = date.fromisoformat(params["date"]).strftime("%d-%m-%Y")
        if masked and "value" in params:
            hide = {"nip": nip_rules.mask, "phone": mask_phone, "email": mask_email}[self.field]
            params["value"] = hide(params["value"])
        table = translated(PROBLEM_MESSAGES, lang)
        return table[self.code].format(**params)

    def as_json(self, lang: str = "en", masked: bool = False) -> dict[str, Any]:
        return {"code": self.code, "field": self.field, "message": self.message(lang, masked)}


_PHONE_SEPARATORS = re.compile(r"[\s\-.()]")
_MOBILE = re.compile(r"08[1-9]\d{7,10}")
_LANDLINE = re.compile(r"0[2-7]\d{7,10}")


def normalize_phone(text: str) -> str:
    """To the national form ``08...``/``0274...``: ``+62 812-3456-7890`` → ``081234567890``."""
    digits = _PHONE_SEPARATORS.sub("", text or "")
    if digits.startswith("+62"):
        return "0" + digits[3:]
    if digits.startswith("62"):
        return "0" + digits[2:]
    return digits


def phone_is_valid(text: str) -> bool:
    """Indonesian mobile (08…, 10–13 digits) or landline with area code (02…–07…)."""
    number = normalize_phone(text)
    return bool(_MOBILE.fullmatch(number) or _LANDLINE.fullmatch(number))


def email_is_valid(text: str) -> bool:
    """One plain address (no display name), as :mod:`lpsectl.addresses` accepts it for mail."""
    from lpsectl.addresses import AddressError, parse_address

    try:
        address = parse_address(text or "")
    except AddressError:
        return False
    # a plain address (no display name) with a dotted domain: what an applicant writes on a form
    return not address.display_name and "." in address.domain


def decree_end(request: Mapping[str, Any], settings: AccessSettings) -> date | None:
    """The last day the decree is valid: its own end date, else date + the configured validity."""
    if request.get("decree_expires"):
        return date.fromisoformat(request["decree_expires"])
    if request.get("decree_date"):
        return date.fromisoformat(request["decree_date"]) + timedelta(
            days=settings.decree_validity_days
        )
    return None


def check_completeness(
    request: Mapping[str, Any],
    settings: AccessSettings,
    today: date,
    file_exists: Callable[[str], bool] = os.path.isfile,
) -> list[Problem]:
    """Everything that makes ``request`` incomplete, in the order the applicant should fix it."""
    given = {f: (request.get(f) or "").strip() for f in PERSONAL_FIELDS}
    problems = [Problem("missing_field", f) for f in PERSONAL_FIELDS if not given[f]]
    if given["nip"] and not nip_rules.validate(given["nip"], today).valid:
        problems.append(
            Problem("nip_invalid", "nip", {"value": given["nip"], "as_of": today.isoformat()})
        )
    if given["phone"] and not phone_is_valid(given["phone"]):
        problems.append(Problem("phone_invalid", "phone", {"value": given["phone"]}))
    if given["email"] and not email_is_valid(given["email"]):
        problems.append(Problem("email_invalid", "email", {"value": given["email"]}))
    problems.extend(_document_problems(request, settings, file_exists))
    problems.extend(_decree_problems(request, settings, today))
    return problems


def _document_problems(
    request: Mapping[str, Any], settings: AccessSettings, file_exists: Callable[[str], bool]
) -> list[Problem]:
    documents = _documents(request)
    problems = []
    for kind in settings.required_documents:
        if not any(d["kind"] == kind for d in documents):
            problems.append(Problem("document_missing", kind, {"document": kind}))
    for doc in documents:
        if not file_exists(doc["path"]):
            problems.append(
                Problem(
                    "document_file_missing",
                    doc["kind"],
                    {"document": doc["kind"], "path": doc["path"]},
                )
            )
    return problems


def _decree_problems(
    request: Mapping[str, Any], settings: AccessSettings, today: date
) -> list[Problem]:
    has_decree = any(d["kind"] == DECREE for d in _documents(request))
    if not has_decree and DECREE not in settings.required_documents:
        return []
    if not has_decree:
        return []  # already reported as a missing document
    if not request.get("decree_date") and not request.get("decree_expires"):
        return [Problem("decree_date_missing", "decree_date")]
    problems = []
    if request.get("decree_date") and date.fromisoformat(request["decree_date"]) > today:
        problems.append(
            Problem("decree_not_yet_valid", "decree_date", {"date": request["decree_date"]})
        )
    end = decree_end(request, settings)
    if end is not None and end < today:
        problems.append(Problem("decree_expired", "decree_expires", {"date": end.isoformat()}))
    return problems


def _documents(request: Mapping[str, Any]) -> list[dict[str, str]]:
    docs = request.get("documents") or []
    return decode_json(docs, []) if isinstance(docs, str) else list(docs)


# -- reading requests -------------------------------------------------------------------------


def get_request(store: Store, request_id: int) -> dict[str, Any]:
    row = store.query_one("SELECT * FROM access_requests WHERE id = ?", [request_id])
    if row is None:
        raise NotFoundError(
            f"access request {request_id} does not exist (see `lpsectl access list`)"
        )
    return _decoded(row)


def list_requests(
    store: Store, status: str | None = None, open_only: bool = False
) -> list[dict[str, Any]]:
    sql = "SELECT * FROM access_requests"
    params: list[Any] = []
    if status:
        sql += " WHERE status = ?"
        params.append(status)
    elif open_only:
        sql += " WHERE archived_at IS NULL"
    rows = store.query(sql + " ORDER BY received_at, id", params)
    return [_decoded(r) for r in rows]


def events(store: Store, request_id: int) -> list[dict[str, Any]]:
    rows = store.query(
        "SELECT at, step, detail FROM access_events WHERE request_id = ? ORDER BY id", [request_id]
    )
    return [{**r, "detail": decode_json(r["detail"], {})} for r in rows]


def add_event(
    store: Store, request_id: int, at: datetime, step: str, detail: dict[str, Any]
) -> None:
    store.insert(
        "access_events", {"request_id": request_id, "at": _iso(at), "step": step, "detail": detail}
    )


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row["documents"] = decode_json(row.get("documents"), [])
    row["check_problems"] = decode_json(row.get("check_problems"), None)
    row["archive_manifest"] = decode_json(row.get("archive_manifest"), None)
    return row


def stored_problems(request: Mapping[str, Any]) -> list[Problem]:
    return [
        Problem(p["code"], p["field"], p.get("params", {}))
        for p in request.get("check_problems") or []
    ]


# -- recording the steps ----------------------------------------------------------------------


#: what `access amend` may change: the applicant's data and the decree (never the action,
#: role or received time, which are the request itself)
AMENDABLE = (
    "name",
    "nip",
    "rank",
    "position",
    "agency",
    "address",
    "phone",
    "email",
    "decree_date",
    "decree_expires",
)


def amend_request(
    store: Store,
    request: Mapping[str, Any],
    changes: Mapping[str, Any],
    documents: list[Document],
    now: datetime,
) -> list[str]:
    """Correct a received or returned request (the applicant sent what was missing):
    ``changes`` of :data:`AMENDABLE` fields, ``documents`` replacing those of the same
    kind. The history keeps an "amend" event naming the fields (not their values).
    Returns the names changed; UsageError when the request is past its check or nothing
    is given."""
    if request["status"] not in (RECEIVED, RETURNED):
        raise UsageError(
            f"access request {request['id']} is {request['status']}; only a received or returned "
            "request can be amended (a new request is needed otherwise)"
        )
    unknown = set(changes) - set(AMENDABLE)
    if unknown:
        raise UsageError(f"cannot amend {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if value is None:
            continue
        if name == "nip":
            value = nip_rules.normalize(str(value))
        elif isinstance(value, date):
            value = value.isoformat()
        else:
            value = str(value).strip()
        if value != request.get(name):
            values[name] = value
    if documents:
        kinds = {d.kind for d in documents}
        kept = [d for d in request.get("documents") or [] if d.get("kind") not in kinds]
        values["documents"] = kept + [asdict(d) for d in documents]
    if not values:
        raise UsageError(f"nothing to amend in access request {request['id']} (give what changed)")
    with store.transaction():
        store.update("access_requests", request["id"], values)
        add_event(store, request["id"], now, "amend", {"fields": sorted(values)})
    return sorted(values)


def check_values(
    request: Mapping[str, Any], problems: list[Problem], now: datetime
) -> dict[str, Any]:
    """What a check records (status, problems, first check time); UsageError when the
    request cannot be checked. ``{**request, **check_values(...)}`` is the request as it
    will be: its notice is written from it *before* the check is recorded."""
    if request["status"] not in (RECEIVED, RETURNED):
        raise UsageError(
            f"access request {request['id']} was already checked and is {request['status']}; "
            "only received or returned requests can be checked"
        )
    values: dict[str, Any] = {
        "status": FORWARDED if not problems else RETURNED,
        "check_problems": [asdict(p) for p in problems],
        "checked_at": request.get("checked_at") or _iso(now),
    }
    if not problems:
        # the Admin Agency's step starts now; a return notice sent before belongs to the
        # round that ended (the history keeps it), the result notice is still to come
        values["forwarded_at"] = _iso(now)
        values["notified_at"] = None
    return values


def record_check(
    store: Store, request: Mapping[str, Any], problems: list[Problem], now: datetime
) -> str:
    """Record the completeness check; the first check time is the one the SOP timer uses."""
    values = check_values(request, problems, now)
    status = values["status"]
    with store.transaction():
        store.update("access_requests", request["id"], values)
        add_event(
            store,
            request["id"],
            now,
            "check",
            {
                "result": "complete" if not problems else "incomplete",
                "problems": [p.code for p in problems],
            },
        )
    return status


def record_decision(
    store: Store,
    request: Mapping[str, Any],
    decision: str,
    reason: str,
    acted_at: datetime,
    now: datetime,
) -> None:
    """The Admin Agency's action in SPSE (``done``) or its refusal (``rejected``)."""
    if request["status"] != FORWARDED:
        hint = " (run `lpsectl access check` first)" if request["status"] == RECEIVED else ""
        raise UsageError(
            f"access request {request['id']} is {request['status']}, not forwarded to the Admin Agency{hint}"
        )
    if decision not in (DONE, REJECTED):
        raise UsageError(f"decision {decision!r} is not one of: done, rejected")
    if decision == REJECTED and not reason.strip():
        raise UsageError("a rejection needs --reason (it is told to the applicant)")
    if acted_at > now + timedelta(minutes=1):
        raise UsageError(f"action time {acted_at.isoformat(timespec='minutes')} is in the future")
    checked = datetime.fromisoformat(request["checked_at"])
    if acted_at < checked:
        raise UsageError(
            f"action time {acted_at.isoformat(timespec='minutes')} is before the check "
            f"({checked.isoformat(timespec='minutes')})"
        )
    with store.transaction():
        store.update(
            "access_requests",
            request["id"],
            {
                "status": decision,
                "decision": decision,
                "reason": reason.strip() or None,
                "decided_at": _iso(acted_at),
            },
        )
        add_event(
            store, request["id"], now, "decide", {"decision": decision, "acted_at": _iso(acted_at)}
        )


def record_notice(
    store: Store, request: Mapping[str, Any], kind: str, where: str, now: datetime
) -> None:
    """A notice went to the applicant (a file written, printed, or queued as e-mail)."""
    values = {}
    if kind in ("return", "result") and not request.get("notified_at"):
        values["notified_at"] = _iso(now)
    with store.transaction():
        if values:
            store.update("access_requests", request["id"], values)
        add_event(store, request["id"], now, "notice", {"kind": kind, "to": where})


# -- the SOP timers ----------------------------------------------------------------------


@dataclass
class StepTimer:
    step: str
    start: datetime | None
    end: datetime | None
    elapsed: timedelta | None
    limit: timedelta
    state: str  # "done" | "running" | "waiting" | "scheduled" (not due yet) | "n/a"
    breach: bool


def step_timers(
    request: Mapping[str, Any], settings: AccessSettings, now: datetime
) -> list[StepTimer]:
    """Each SOP step's elapsed time against its limit; a running step counts up to ``now``."""
    at = {
        k: _moment(request.get(k))
        for k in ("received_at", "checked_at", "decided_at", "notified_at", "archived_at")
    }
    returned = request["status"] == RETURNED
    # forwarded after an amend: from then (rows before migration 0014: the first check)
    action_start = _moment(request.get("forwarded_at")) or at["checked_at"]
    due = year_end_due(request, action_start)
    if due is not None and action_start is not None and due > action_start:
        # a year-end deactivation is due on the deactivation date, not when it was listed:
        # its 10 minutes run from then (before it, the step is scheduled, never a breach)
        action_start = due
    spans = {
        "check": (at["received_at"], at["checked_at"]),
        "action": (None, None) if returned else (action_start, at["decided_at"]),
        "notify": (at["checked_at"] if returned else at["decided_at"], at["notified_at"]),
        "archive": (at["notified_at"], at["archived_at"]),
    }
    timers = []
    for step in STEPS:
        start, end = spans[step]
        limit = settings.limit(step)
        if step == "action" and returned:
            timers.append(StepTimer(step, None, None, None, limit, "n/a", False))
        elif step == "action" and start is not None and end is None and now < start:
            timers.append(StepTimer(step, start, None, None, limit, "scheduled", False))
        elif start is None:
            timers.append(StepTimer(step, None, end, None, limit, "waiting", False))
        else:
            elapsed = max(timedelta(0), (end or now) - start)  # done before due: in time
            timers.append(
                StepTimer(
                    step, start, end, elapsed, limit, "done" if end else "running", elapsed > limit
                )
            )
    return timers


def year_end_due(request: Mapping[str, Any], listed: datetime | None) -> datetime | None:
    """When a year-end deactivation (``source`` "year-end:YYYY") is due: at the end of the
    budget year, 1 January 00.00 after it in the zone it was listed in (done on 31 December,
    or earlier, it is in time); None for others."""
    source = str(request.get("source") or "")
    if not source.startswith("year-end:") or listed is None:
        return None
    try:
        year = int(source.split(":", 1)[1])
    except ValueError:
        return None
    return datetime(year + 1, 1, 1, tzinfo=listed.tzinfo)


def breaches(timers: Iterable[StepTimer]) -> list[str]:
    return [t.step for t in timers if t.breach]


# -- archive ---------------------------------------------------------------------------------


def archive_request(
    store: Store,
    request: Mapping[str, Any],
    root: Path,
    now: datetime,
    copy_to: Path | None = None,
) -> Path:
    """Write the archive record (and copies of the documents when asked); nothing is deleted."""
    if request["status"] not in CLOSED:
        raise UsageError(
            f"access request {request['id']} is still {request['status']}: "
            "it can be archived once returned, done or rejected"
        )
    if request.get("archived_at"):
        raise UsageError(
            f"access request {request['id']} was already archived at "
            f"{request['archived_at']} ({request['archive_path']})"
        )
    folder = (copy_to or root) / f"request-{request['id']}"
    make_private_dir(folder)
    manifest = [_manifest_entry(doc, folder if copy_to else None) for doc in request["documents"]]
    record = {
        **request,
        "archived_at": _iso(now),
        "archive_manifest": manifest,
        "events": events(store, request["id"]),
    }
    write_private(
        folder / "record.json", json.dumps(record, ensure_ascii=False, indent=2, default=str)
    )
    with store.transaction():
        store.update(
            "access_requests",
            request["id"],
            {"archived_at": _iso(now), "archive_path": str(folder), "archive_manifest": manifest},
        )
        add_event(
            store,
            request["id"],
            now,
            "archive",
            {"path": str(folder), "copied": bool(copy_to), "documents": len(manifest)},
        )
    return folder


def _manifest_entry(doc: Mapping[str, str], copy_into: Path | None) -> dict[str, Any]:
    source = Path(doc["path"])
    entry: dict[str, Any] = {"kind": doc["kind"], "path": doc["path"]}
    if not source.is_file():
        return {**entry, "present": False}
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    entry.update(present=True, size=source.stat().st_size, sha256=digest)
    if copy_into is not None:
        target = copy_into / f"{doc['kind']}-{source.name}"
        shutil.copyfile(source, target)
        os.chmod(target, 0o600)
        entry["copy"] = str(target)
    return entry


# -- year end -------------------------------------------------------------------------------


@dataclass
class YearEndAccount:
    nip: str
    name: str
    role: str
    agency: str = ""
    email: str = ""
    sources: list[str] = field(default_factory=list)  # "register", "accounts"
    decree_end: date | None = None
    request_id: int | None = None  # the register request that activated it


ACCOUNT_COLUMNS = {
    "nip": ("nip", "nip_user", "username"),
    "name": ("name", "nama", "nama_lengkap", "nama_pegawai"),
    "role": ("role", "peran", "jabatan_pengadaan", "user_role"),
    "email": ("email", "e-mail", "surel"),
    "agency": ("agency", "instansi", "satker"),
    "status": ("status", "active", "aktif", "status_akun"),
    "decree_expires": ("decree_expires", "berlaku_sampai"),
}
INACTIVE_WORDS = {"0", "false", "no", "tidak", "nonaktif", "non-aktif", "inactive", "disabled"}


ACTIVE_WORDS = {"1", "true", "yes", "ya", "aktif", "active", "enabled", ""}


def read_accounts_csv(path: Path, problems: list[str] | None = None) -> list[dict[str, str]]:
    """An account export from SPSE (column names configurable by alias, English or Indonesian).

    A value that cannot be read — a ``berlaku_sampai`` that is no date, a status that is
    neither active nor inactive — is named in ``problems`` as ``"FILE:LINE: ..."``; the
    account stays listed (an account kept active by mistake is the worse error)."""
    try:
        text = decode_text(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the account export: {exc.strerror}") from exc
    lookup = {alias: key for key, aliases in ACCOUNT_COLUMNS.items() for alias in aliases}
    try:
        table = read_table(text, str(path), [a.replace("_", " ") for a in lookup] + list(lookup))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    columns = {c: lookup.get(c.strip().lower().replace(" ", "_")) for c in table.header}
    for needed in ("nip", "name", "role"):
        if needed not in columns.values():
            raise UsageError(
                f"{path}: the account export has no {needed!r} column "
                f"(accepted names: {', '.join(ACCOUNT_COLUMNS[needed])})"
            )
    out = []
    for line, cells in table.rows:
        row = dict(zip(table.header, cells, strict=False))
        account = {key: (row.get(col) or "").strip() for col, key in columns.items() if key}
        where = f"{path}:{line}"
        status = account.get("status", "").lower()
        if status not in ACTIVE_WORDS | INACTIVE_WORDS and problems is not None:
            problems.append(
                f"{where}: status {account['status']!r} is neither active nor inactive; "
                "listed as active"
            )
        if account.get("decree_expires") and problems is not None:
            try:
                parse_day(account["decree_expires"])
            except ValueError:
                problems.append(
                    f"{where}: berlaku_sampai {account['decree_expires']!r} is not a date "
                    "(YYYY-MM-DD or DD-MM-YYYY); the decree's end is unknown"
                )
        out.append(account)
    return out


def year_end_candidates(
    store: Store, year: int, settings: AccessSettings, accounts: list[dict[str, str]] | None = None
) -> list[YearEndAccount]:
    """Active accounts of the year-end roles (PPK by default), from the register and/or an export."""
    found: dict[str, YearEndAccount] = {}
    for row in _register_active(store, settings.year_end_roles):
        found[row["nip"]] = YearEndAccount(
            nip=row["nip"],
            name=row["name"],
            role=row["role"],
            agency=row["agency"],
            email=row["email"],
            sources=["register"],
            decree_end=decree_end(row, settings),
            request_id=row["id"],
        )
    for row in accounts or []:
        _merge_account(found, row, settings)
    return sorted(found.values(), key=lambda a: (a.agency.lower(), a.name.lower()))


def _register_active(store: Store, roles: list[str]) -> list[dict[str, Any]]:
    """The latest carried-out request per NIP decides whether its account is active."""
    rows = store.query(
        "SELECT * FROM access_requests WHERE decision = ? ORDER BY decided_at, id", [DONE]
    )
    latest: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["nip"]:
            latest[row["nip"]] = row
    return [r for r in latest.values() if r["action"] == ACTIVATE and r["role"] in roles]


def _merge_account(
    found: dict[str, YearEndAccount], row: dict[str, str], settings: AccessSettings
) -> None:
    try:
        role = normalize_role(row.get("role", ""))
    except ValueError:
        return  # other SPSE roles (auditor, vendor, ...) are not ours to deactivate
    if role not in settings.year_end_roles:
        return
    key = nip_rules.normalize(row["nip"]) or f"name:{row['name'].strip().lower()}"
    if row.get("status", "").strip().lower() in INACTIVE_WORDS:
        # SPSE itself says the account is already inactive: nothing to deactivate
        found.pop(key, None)
        return
    account = found.get(key)
    if account is None:
        account = found[key] = YearEndAccount(
            nip=nip_rules.normalize(row["nip"]), name=row["name"], role=role
        )
    account.sources.append("accounts")
    account.agency = account.agency or row.get("agency", "")
    account.email = account.email or row.get("email", "")
    if row.get("decree_expires"):
        try:
            account.decree_end = parse_day(row["decree_expires"])
        except ValueError:
            pass  # an unreadable date in an export is not a reason to skip the account


def record_year_end(
    store: Store, year: int, accounts: list[YearEndAccount], now: datetime
) -> list[tuple[YearEndAccount, int, bool]]:
    """One deactivation request per account, forwarded to the Admin Agency; re-runs add nothing."""
    source = f"year-end:{year}"
    existing = {
        r["nip"]: r["id"]
        for r in store.query("SELECT id, nip FROM access_requests WHERE source = ?", [source])
    }
    results = []
    with store.transaction():
        for account in accounts:
            if account.nip in existing:
                results.append((account, existing[account.nip], False))
                continue
            request_id = store.insert(
                "access_requests",
                {
                    "action": DEACTIVATE,
                    "role": account.role,
                    "name": account.name,
                    "nip": account.nip,
                    "agency": account.agency,
                    "email": account.email,
                    "via": "year-end",
                    "source": source,
                    "status": FORWARDED,
                    "received_at": _iso(now),
                    "checked_at": _iso(now),
                    "check_problems": [],
                    "created_at": _iso(now),
                },
            )
            add_event(
                store, request_id, now, "year-end", {"year": year, "sources": account.sources}
            )
            results.append((account, request_id, True))
    return results


# -- documents for people ------------------------------------------------------------------


NOTICE_TEMPLATES = {
    "ack": "access_ack.txt.j2",
    "return": "access_return.txt.j2",
    "result": "access_result.txt.j2",
    "year-end": "access_year_end_notice.txt.j2",
}


def render_notice(
    kind: str,
    request: Mapping[str, Any],
    config: Config,
    settings: AccessSettings,
    lang: str,
    now: datetime,
    **extra: Any,
) -> str:
    """The applicant's notice: acknowledgement, return (what is missing), result, or year-end."""
    tz = config.tz
    context = {
        "lpse": config.lpse,
        "request": request,
        "action_label": label(request["action"], lang),
        "role_label": label(request["role"], lang),
        "received_at": _local(request.get("received_at"), tz),
        "decided_at": _local(request.get("decided_at"), tz),
        "now": now.astimezone(tz),
        "problems": [p.message(lang, public=True) for p in stored_problems(request)],
        "documents": [
            {"label": label(d["kind"], lang), **d} for d in request.get("documents") or []
        ],
        "limits": {step: int(settings.limit(step).total_seconds() // 60) for step in STEPS},
        **extra,
    }
    return render(NOTICE_TEMPLATES[kind], lang, config.lpse.templates_dir, **context)


def render_year_end_list(
    accounts: list[YearEndAccount],
    year: int,
    config: Config,
    lang: str,
    fmt: str,
    now: datetime,
    recorded: dict[str, int] | None = None,
    full: bool = False,
) -> str:
    rows = [
        {
            **asdict(a),
            "nip": a.nip if full else nip_rules.mask(a.nip),
            "role_label": label(a.role, lang),
            "request": (recorded or {}).get(a.nip),
            "sources": [label(source, lang) for source in a.sources],
        }
        for a in accounts
    ]
    return render(
        f"access_year_end_list.{fmt}.j2",
        lang,
        config.lpse.templates_dir,
        lpse=config.lpse,
        year=year,
        accounts=rows,
        now=now.astimezone(config.tz),
        year_end=date(year, 12, 31),
    )


# -- files with personal data -------------------------------------------------------------


def make_private_dir(path: Path) -> None:
    """Create ``path`` 0700 if missing; an existing directory is left as it is (not ours)."""
    make_dirs(path, private=True, what="access.notices_dir")


def write_private(path: Path, text: str) -> Path:
    """Write with mode 0600 (created so, never briefly readable by others): the one writer."""
    return write_text(
        path, text if text.endswith("\n") else text + "\n", what="notice", private=True
    )


def unused_path(path: Path) -> Path:
    """``path``, or ``name-2.ext``, ``name-3.ext``... so an earlier notice is never overwritten."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


# -- masking for listings ----------------------------------------------------------------


def mask_phone(text: str) -> str:
    number = normalize_phone(text)
    if len(number) <= 6:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 7) + number[-3:]


def mask_email(text: str) -> str:
    local, sep, domain = (text or "").partition("@")
    if not sep:
        return "*" * len(local)
    return (local[:1] + "***" if local else "") + "@" + domain


def view(request: Mapping[str, Any], full: bool = False) -> dict[str, Any]:
    """The request as shown in listings: NIP, phone and e-mail masked unless ``full``."""
    shown = dict(request)
    if not full:
        shown["nip"] = nip_rules.mask(request.get("nip") or "") if request.get("nip") else ""
        shown["phone"] = mask_phone(request.get("phone") or "") if request.get("phone") else ""
        shown["email"] = mask_email(request.get("email") or "") if request.get("email") else ""
        shown["address"] = "***" if request.get("address") else ""
    return shown


# -- helpers --------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime where an aware one is required")
    return moment.isoformat(timespec="seconds")


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _local(text: str | None, tz: tzinfo) -> datetime | None:
    moment = _moment(text)
    return moment.astimezone(tz) if moment else None


def notice_subject(kind: str, request: Mapping[str, Any], config: Config, lang: str) -> str:
    """The e-mail subject of a notice, from its own template (``access_<kind>_subject.txt.j2``,
    overridable like the notices): a custom notice's first line is never taken for it."""
    source = str(request.get("source") or "")
    year = source.split(":", 1)[1] if source.startswith("year-end:") else ""
    template = NOTICE_TEMPLATES[kind].replace(".txt.j2", "_subject.txt.j2")
    text = render(
        template,
        lang,
        config.lpse.templates_dir,
        lpse=config.lpse,
        request=request,
        action_label=label(request["action"], lang),
        role_label=label(request["role"], lang),
        year=year,
    )
    return " ".join(text.split())  # one line, whatever the template holds


_LETTER_SUBJECT = re.compile(r"^(Perihal|Subject|Hal)\s*:", re.I)


def queue_notice_email(
    store: Store,
    config: Config,
    request: dict[str, Any],
    text: str,
    kind: str,
    now: datetime,
    lang: str = "id",
) -> int:
    """Queue a notice as an e-mail to the requester, its subject from
    :func:`notice_subject`; returns the outbox id. ``lpsectl outbox flush`` (or the
    scheduler) sends it. A letter's own "Perihal:" line is not repeated in the body."""
    from lpsectl import mail  # imported only when asked: the outbox belongs to the mail feature

    first, _, rest = text.partition("\n")
    body = rest.lstrip("\n") if _LETTER_SUBJECT.match(first) else text
    message = mail.build_message(
        config,
        to=[request["email"]],
        subject=notice_subject(kind, request, config, lang),
        text=body,
        message_id=mail.message_key(config, "access", request["id"], kind),
        now=now,
    )
    queued = mail.queue_message(
        store, message, purpose=f"access-{kind}", ref=f"access:{request['id']}", now=now
    )
    return queued.id


# -- the SOP 004 workflow as services (the command layer parses and renders only) ----------

#: a notice "written" to standard output: the caller prints :attr:`Notice.text`
STDOUT = "-"


@dataclass
class Notice:
    """A notice to the applicant: its text, where it went (a file's path, "stdout", and
    "; outbox:N" when it was also queued as e-mail), as recorded in the history."""

    kind: str
    text: str
    where: str
    path: Path | None = None
    outbox_id: int | None = None


@dataclass
class CheckResult:
    request: dict[str, Any]
    status: str
    problems: list[Problem]
    #: the return notice (an incomplete request); None for a complete one
    notice: Notice | None


@dataclass
class DecideResult:
    request: dict[str, Any]
    notice: Notice


@dataclass
class YearEndResult:
    accounts: list[YearEndAccount]
    #: NIP → request id, for every account recorded (now or by an earlier run)
    recorded: dict[str, int] = field(default_factory=dict)
    #: NIP → the year-end notice of an account recorded by this run
    notices: dict[str, Notice] = field(default_factory=dict)
    #: what could not be done for one account (no e-mail address): said, not fatal
    warnings: list[str] = field(default_factory=list)


def require_email(request: Mapping[str, Any]) -> None:
    """UsageError, before anything is recorded, when a notice cannot be e-mailed."""
    if not email_is_valid(request.get("email") or ""):
        raise UsageError(
            f"access request {request['id']} has no valid e-mail address to send the notice to"
        )


def write_notice(
    config: Config,
    settings: AccessSettings,
    request: Mapping[str, Any],
    kind: str,
    text: str,
    to: str | None,
) -> tuple[str, Path | None]:
    """A notice's text in ``to`` (a file), in the notices folder (None), or nowhere (``-``:
    the caller prints it). Nothing is recorded yet. Returns (where, path)."""
    if to == STDOUT:
        return "stdout", None
    path = (
        Path(to)
        if to
        else unused_path(notices_dir(config, settings) / f"request-{request['id']}-{kind}.txt")
    )
    write_private(path, text)
    return str(path), path


def finish_notice(
    store: Store,
    config: Config,
    request: dict[str, Any],
    kind: str,
    text: str,
    written: tuple[str, Path | None],
    send_email: bool,
    now: datetime,
    lang: str,
) -> Notice:
    """A written notice queued as e-mail when asked, and recorded in the history."""
    where, path = written
    outbox_id = None
    if send_email:
        require_email(request)
        outbox_id = queue_notice_email(store, config, request, text, kind, now, lang)
        where += f"; outbox:{outbox_id}"
    record_notice(store, request, kind, where, now)
    return Notice(kind, text, where, path, outbox_id)


def deliver_notice(
    store: Store,
    config: Config,
    settings: AccessSettings,
    request: dict[str, Any],
    kind: str,
    text: str,
    now: datetime,
    lang: str,
    to: str | None = None,
    send_email: bool = False,
) -> Notice:
    written = write_notice(config, settings, request, kind, text, to)
    return finish_notice(store, config, request, kind, text, written, send_email, now, lang)


def acknowledge(
    store: Store,
    config: Config,
    settings: AccessSettings,
    request: dict[str, Any],
    now: datetime,
    lang: str,
    to: str | None = None,
    send_email: bool = False,
) -> Notice:
    """The acknowledgement of receipt (SOP 004 step 1)."""
    text = render_notice("ack", request, config, settings, lang, now)
    return deliver_notice(store, config, settings, request, "ack", text, now, lang, to, send_email)


def check_request(
    store: Store,
    config: Config,
    settings: AccessSettings,
    request_id: int,
    now: datetime,
    lang: str,
    to: str | None = None,
    send_email: bool = False,
) -> CheckResult:
    """The completeness check (SOP 004 step 2): recorded, and for an incomplete request
    a return notice listing what is missing — written *before* the check is recorded, from
    the request as the check will leave it, so a notice that cannot be written leaves the
    request as it was. UsageError (request not checkable, no address for ``send_email``)."""
    request = get_request(store, request_id)
    if send_email:
        require_email(request)
    problems = check_completeness(request, settings, now.date())
    written = text = None
    if problems:
        will_be = {**request, **check_values(request, problems, now)}
        text = render_notice("return", will_be, config, settings, lang, now)
        written = write_notice(config, settings, will_be, "return", text, to)
    status = record_check(store, request, problems, now)
    request = get_request(store, request_id)
    notice = None
    if written is not None and text is not None:
        notice = finish_notice(
            store, config, request, "return", text, written, send_email, now, lang
        )
    return CheckResult(request, status, problems, notice)


def amend_and_check(
    store: Store,
    config: Config,
    settings: AccessSettings,
    request_id: int,
    changes: Mapping[str, Any],
    documents: list[Document],
    now: datetime,
    lang: str,
    to: str | None = None,
    send_email: bool = False,
) -> tuple[list[str], CheckResult]:
    """:func:`amend_request`, then :func:`check_request` again (what the applicant sent
    may complete it). An address problem for ``send_email`` is said before anything."""
    request = get_request(store, request_id)
    if send_email:
        require_email({**request, "email": changes.get("email") or request.get("email")})
    changed = amend_request(store, request, changes, documents, now)
    return changed, check_request(store, config, settings, request_id, now, lang, to, send_email)


def decide_request(
    store: Store,
    config: Config,
    settings: AccessSettings,
    request_id: int,
    decision: str,
    reason: str,
    acted_at: datetime,
    now: datetime,
    lang: str,
    to: str | None = None,
    send_email: bool = False,
) -> DecideResult:
    """The Admin Agency's action (SOP 004 step 3) and the result notice (step 4)."""
    request = get_request(store, request_id)
    if send_email:
        require_email(request)
    record_decision(store, request, decision, reason, acted_at, now)
    request = get_request(store, request_id)
    text = render_notice("result", request, config, settings, lang, now)
    notice = deliver_notice(
        store, config, settings, request, "result", text, now, lang, to, send_email
    )
    return DecideResult(request, notice)


def year_end(
    store: Store,
    config: Config,
    settings: AccessSettings,
    year: int,
    accounts: list[dict[str, str]] | None,
    now: datetime,
    lang: str,
    record: bool = False,
    folder: Path | None = None,
    send_email: bool = False,
) -> YearEndResult:
    """The accounts to deactivate at the end of budget year ``year``; with ``record`` a
    deactivation request each (re-runs add none twice) and a year-end notice to each new
    one in ``folder`` (default: the notices folder's ``year-end-YEAR``)."""
    result = YearEndResult(year_end_candidates(store, year, settings, accounts))
    if not record:
        return result
    folder = folder or notices_dir(config, settings) / f"year-end-{year}"
    for account, request_id, created in record_year_end(store, year, result.accounts, now):
        result.recorded[account.nip] = request_id
        if not created:
            continue
        request = get_request(store, request_id)
        text = render_notice(
            "year-end",
            request,
            config,
            settings,
            lang,
            now,
            account=account,
            year=year,
            year_end=date(year, 12, 31),
        )
        can_email = send_email and email_is_valid(account.email)
        if send_email and not can_email:
            result.warnings.append(
                f"request {request_id} ({account.name}) has no valid e-mail; notice written only"
            )
        result.notices[account.nip] = deliver_notice(
            store,
            config,
            settings,
            request,
            "year-end",
            text,
            now,
            lang,
            str(folder / f"request-{request_id}-year-end.txt"),
            can_email,
        )
    return result


@dataclass
class Receipt:
    """A request recorded (SOP 004 step 1) and its acknowledgement, when one was asked."""

    request: dict[str, Any]
    notice: Notice | None


def receive(
    store: Store,
    config: Config,
    settings: AccessSettings,
    data: RequestInput,
    now: datetime,
    lang: str,
    acknowledge_it: bool = True,
    to: str | None = None,
    send_email: bool = False,
    source: str = "manual",
) -> Receipt:
    """Record a request as it arrived and acknowledge it. An acknowledgement that cannot be
    e-mailed is refused before anything is recorded (a retry must not make a second request)."""
    if acknowledge_it and send_email and not email_is_valid(data.email):
        raise UsageError(
            f"--send-ack: {data.email or 'no e-mail address'} is not an address to send the "
            "acknowledgement to; nothing was recorded"
        )
    request = get_request(store, create_request(store, data, now, source))
    notice = (
        acknowledge(store, config, settings, request, now, lang, to, send_email)
        if acknowledge_it
        else None
    )
    return Receipt(request, notice)


def receive_batch(
    store: Store,
    config: Config,
    settings: AccessSettings,
    path: Path,
    now: datetime,
    lang: str,
    acknowledge_it: bool = True,
    send_email: bool = False,
) -> tuple[list[tuple[int, Receipt]], list[BatchError]]:
    """Every good row of a batch file recorded (and acknowledged); each bad row is an error
    with its line, the others go on. Returns ([(line, receipt)], errors sorted by line)."""
    rows, errors = parse_batch(path, config.tz)
    received: list[tuple[int, Receipt]] = []
    for row in rows:
        try:
            receipt = receive(
                store,
                config,
                settings,
                row.request,
                now,
                lang,
                acknowledge_it,
                None,
                send_email,
                f"batch:{path.name}",
            )
        except UsageError as exc:
            errors.append(BatchError(row.line, exc.message))
            continue
        received.append((row.line, receipt))
    errors.sort(key=lambda e: e.line)
    return received, errors


def archive(
    store: Store,
    config: Config,
    settings: AccessSettings,
    request_id: int,
    now: datetime,
    copy_to: Path | None = None,
) -> tuple[dict[str, Any], Path, list[str]]:
    """Archive a closed request (:func:`archive_request`): (the request, its archive folder,
    the documents found missing, recorded as such)."""
    request = get_request(store, request_id)
    folder = archive_request(store, request, archive_dir(config, settings), now, copy_to)
    request = get_request(store, request_id)
    missing = [d["path"] for d in request["archive_manifest"] if not d["present"]]
    return request, folder, missing
