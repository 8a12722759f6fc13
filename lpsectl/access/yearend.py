"""Year-end deactivation of PPK accounts: candidates and their requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from lpsectl import nip as nip_rules
from lpsectl.access.base import (
    ACTIVATE,
    DEACTIVATE,
    DONE,
    FORWARDED,
    AccessSettings,
    _iso,
    add_event,
)
from lpsectl.access.completeness import decree_end
from lpsectl.access.requests import normalize_role, parse_day
from lpsectl.csvfiles import decode_text, read_table
from lpsectl.errors import UsageError
from lpsectl.store import Store

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
