"""Constants, settings and small helpers of the account requests (SOP 004)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from lpsectl.config import Config, load_section
from lpsectl.errors import ConfigError
from lpsectl.i18n import N_, translated
from lpsectl.store import Store

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


_LANDLINE = re.compile(r"0[2-7]\d{7,10}")


_MOBILE = re.compile(r"08[1-9]\d{7,10}")


_PHONE_SEPARATORS = re.compile(r"[\s\-.()]")


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


def add_event(
    store: Store, request_id: int, at: datetime, step: str, detail: dict[str, Any]
) -> None:
    store.insert(
        "access_events", {"request_id": request_id, "at": _iso(at), "step": step, "detail": detail}
    )
