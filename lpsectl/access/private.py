"""Files with personal data (mode 0600 in 0700 folders) and masking for listings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lpsectl import nip as nip_rules
from lpsectl.access.base import normalize_phone
from lpsectl.files import make_dirs, write_text

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
