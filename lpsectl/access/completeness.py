"""The completeness check of a request (SOP 004 step 1): pure rules."""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from lpsectl import nip as nip_rules
from lpsectl.access.base import (
    DECREE,
    PERSONAL_FIELDS,
    AccessSettings,
    email_is_valid,
    label,
    phone_is_valid,
)
from lpsectl.access.private import mask_email, mask_phone
from lpsectl.i18n import N_, translated
from lpsectl.store import decode_json

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
