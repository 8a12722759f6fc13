"""Change requests: classification, routing (SOP 003 steps 5-6) and status history.

Life of a change request::

    recorded -> analysed -> consulted -> approved -> implemented -> closed

``consulted`` only applies to major changes: the consultation with LKPP's IT
Operations team is recorded with :func:`decide`, whose outcome picks the next
route: ``internal`` (the LPSE does it), ``lkpp`` (request technical assistance
from LKPP) or ``vendor`` (propose the activity to the Kepala LPSE). A minor
change never needs the consultation and goes straight from ``analysed`` to
``approved``. Any open request can be ``closed`` early (withdrawn / rejected)
with a note.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lpsectl import messages
from lpsectl.analysis.classify import (
    CLASSES,
    MAJOR,
    MINOR,
    ROUTE_ASSISTANCE,
    ROUTE_DESCRIPTIONS,
    ROUTE_INTERNAL,
    ROUTE_VENDOR,
    Classification,
    classify,
    route_for,
)
from lpsectl.analysis.history import get_recommendation
from lpsectl.errors import NotFoundError, UsageError
from lpsectl.store import Store, decode_json
from lpsectl.timeutil import isoformat, parse_iso

__all__ = [
    "CLASSES",
    "MAJOR",
    "MINOR",
    "ROUTE_DESCRIPTIONS",
    "STATUSES",
    "OUTCOMES",
    "DOCUMENTS",
    "ChangeRequest",
    "Classification",
    "classify",
    "route_for",
    "create_change",
    "get_change",
    "list_changes",
    "decide",
    "set_status",
    "documents_for",
    "document_context",
    "document_template",
]

STATUSES = ("recorded", "analysed", "consulted", "approved", "implemented", "closed")

#: consultation outcome -> route that follows it (SOP 003 step 6)
OUTCOMES = {
    "internal": ROUTE_INTERNAL,
    "lkpp": ROUTE_ASSISTANCE,
    "vendor": ROUTE_VENDOR,
}

#: document kind -> template base name
DOCUMENTS = {
    "request": "change_request",
    "consultation": "change_consultation",
    "assistance": "change_assistance",
    "proposal": "change_proposal",
}


@dataclass
class StatusEntry:
    status: str
    at: datetime
    note: str = ""


@dataclass
class ChangeRequest:
    id: int
    title: str
    description: str
    change_class: str
    class_source: str
    reasons: list[str]
    route: str
    outcome: str | None
    status: str
    recommendation_id: int | None
    host: str
    impact: str
    plan: str
    rollback: str
    scheduled_for: datetime | None
    requester: str
    created_at: datetime
    updated_at: datetime
    history: list[StatusEntry] = field(default_factory=list)
    recommendation: dict[str, Any] | None = None

    @property
    def route_description(self) -> str:
        return ROUTE_DESCRIPTIONS[self.route]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "class": self.change_class,
            "class_source": self.class_source,
            "reasons": self.reasons,
            "route": self.route,
            "route_description": self.route_description,
            "outcome": self.outcome,
            "status": self.status,
            "recommendation_id": self.recommendation_id,
            "host": self.host,
            "impact": self.impact,
            "plan": self.plan,
            "rollback": self.rollback,
            "scheduled_for": self.scheduled_for,
            "requester": self.requester,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "documents": documents_for(self),
            "history": [{"status": h.status, "at": h.at, "note": h.note} for h in self.history],
        }


# -- classification ---------------------------------------------------------------
def decide_class(text: str, forced: str | None) -> tuple[str, str, list[str]]:
    """(class, source, reasons): the administrator's ``forced`` class wins, else the
    classifier's; an unknown class without ``forced`` is a usage error."""
    found = classify(text)
    if forced:
        if forced not in CLASSES:
            raise UsageError(f"--class {forced!r} is not one of: minor, major")
        reasons = [messages.SET_BY_ADMINISTRATOR.format(change_class=forced)]
        if found.known and found.change_class != forced:
            reasons.append(messages.CLASSIFIER_WOULD_SAY.format(change_class=found.change_class))
            reasons += found.reasons
        elif found.known:
            reasons += found.reasons
        return forced, "administrator", reasons
    if not found.known:
        raise UsageError(
            "cannot tell whether this change is minor or major ("
            + found.reasons[0].split(": give")[0]
            + "); give --class minor or --class major"
        )
    return found.change_class, "classifier", found.reasons


# -- creating and reading -------------------------------------------------------------
def create_change(
    store: Store,
    now: datetime,
    *,
    title: str = "",
    description: str = "",
    forced_class: str | None = None,
    recommendation_id: int | None = None,
    lang: str = "id",
    host: str = "",
    impact: str = "",
    plan: str = "",
    rollback: str = "",
    scheduled_for: datetime | None = None,
    requester: str = "",
) -> ChangeRequest:
    """Record a change request (status ``recorded``), classify it (``analysed``)."""
    recommendation = None
    if recommendation_id is not None:
        recommendation = get_recommendation(store, recommendation_id)
        texts = recommendation["texts"].get(lang) or recommendation["texts"].get("en", {})
        title = title or texts.get("title", recommendation["rule"])
        description = description or texts.get("finding", "")
        host = host or recommendation["host"]
        plan = plan or texts.get("proposal", "")
    if not title.strip():
        raise UsageError("a change request needs a title (TEXT) or --from RECOMMENDATION")
    if recommendation is not None and not forced_class:
        change_class, source = recommendation["change_class"], "analysis"
        reasons = [
            messages.FROM_RECOMMENDATION.format(
                id=recommendation_id, rule=recommendation["rule"], change_class=change_class
            )
        ]
        # the words of the proposal that agree with the analysis, as supporting reasons
        reasons += classify(f"{title}\n\n{plan}").signals.get(change_class, [])
    else:
        change_class, source, reasons = decide_class(
            f"{title}\n\n{description}\n\n{plan}", forced_class
        )
    stamp = isoformat(now)
    with store.transaction():
        change_id = store.insert(
            "change_requests",
            {
                "title": title.strip(),
                "description": description.strip(),
                "change_class": change_class,
                "class_source": source,
                "reasons": reasons,
                "route": route_for(change_class),
                "status": "analysed",
                "recommendation_id": recommendation_id,
                "host": host,
                "impact": impact,
                "plan": plan,
                "rollback": rollback,
                "scheduled_for": isoformat(scheduled_for) if scheduled_for else None,
                "requester": requester,
                "created_at": stamp,
                "updated_at": stamp,
            },
        )
        _record(store, change_id, "recorded", stamp, "")
        _record(store, change_id, "analysed", stamp, f"classified {change_class} ({source})")
    return get_change(store, change_id)


def get_change(store: Store, change_id: int) -> ChangeRequest:
    row = store.query_one("SELECT * FROM change_requests WHERE id = ?", [change_id])
    if row is None:
        raise NotFoundError(
            f"change request {change_id} does not exist (see `lpsectl change list`)"
        )
    history = store.query(
        "SELECT status, at, note FROM change_status_history WHERE change_id = ? ORDER BY id",
        [change_id],
    )
    change = _from_row(row)
    change.history = [StatusEntry(h["status"], parse_iso(h["at"]), h["note"]) for h in history]
    if change.recommendation_id is not None:
        change.recommendation = get_recommendation(store, change.recommendation_id)
    return change


def list_changes(
    store: Store, status: str | None = None, change_class: str | None = None
) -> list[ChangeRequest]:
    sql, params = "SELECT * FROM change_requests WHERE 1 = 1", []
    if status:
        sql += " AND status = ?"
        params.append(status)
    if change_class:
        sql += " AND change_class = ?"
        params.append(change_class)
    return [_from_row(r) for r in store.query(sql + " ORDER BY id", params)]


# -- moving through the procedure -----------------------------------------------------
def decide(
    store: Store, change_id: int, outcome: str, now: datetime, note: str = ""
) -> ChangeRequest:
    """Record the result of the LKPP consultation of a major change (SOP 003 step 6)."""
    change = get_change(store, change_id)
    if outcome not in OUTCOMES:
        raise UsageError(f"outcome {outcome!r} is not one of: {', '.join(OUTCOMES)}")
    if change.change_class != MAJOR:
        raise UsageError(
            f"change request {change_id} is minor: it is handled inside the LPSE and needs no "
            "consultation (use `lpsectl change status` to approve it)"
        )
    if change.status != "analysed":
        raise UsageError(
            f"change request {change_id} is {change.status}: the consultation result can only "
            "be recorded once, right after analysis"
        )
    stamp = isoformat(now)
    with store.transaction():
        store.update(
            "change_requests",
            change_id,
            {
                "outcome": outcome,
                "route": OUTCOMES[outcome],
                "status": "consulted",
                "updated_at": stamp,
            },
        )
        _record(store, change_id, "consulted", stamp, note or f"consultation outcome: {outcome}")
    return get_change(store, change_id)


def next_statuses(change: ChangeRequest) -> list[str]:
    """Where a change request may go from its current status."""
    if change.status == "closed":
        return []
    if change.status == "analysed":
        following = ["consulted"] if change.change_class == MAJOR else ["approved"]
    else:
        following = [STATUSES[STATUSES.index(change.status) + 1]]
    return following if following == ["closed"] else following + ["closed"]


def set_status(
    store: Store, change_id: int, status: str, now: datetime, note: str = ""
) -> ChangeRequest:
    """Move a change request one step forward (or close it early, with a note)."""
    change = get_change(store, change_id)
    if status not in STATUSES:
        raise UsageError(f"status {status!r} is not one of: {', '.join(STATUSES)}")
    allowed = next_statuses(change)
    if status == "consulted":
        raise UsageError("record a consultation with `lpsectl change decide ID --outcome ...`")
    if status not in allowed:
        hint = ", ".join(allowed) if allowed else "nothing (it is closed)"
        raise UsageError(
            f"change request {change_id} is {change.status}: it can move to {hint}, not {status}"
        )
    if status == "closed" and change.status != "implemented" and not note:
        raise UsageError(
            f"closing change request {change_id} before it is implemented needs --note (why)"
        )
    stamp = isoformat(now)
    with store.transaction():
        store.update("change_requests", change_id, {"status": status, "updated_at": stamp})
        _record(store, change_id, status, stamp, note)
    return get_change(store, change_id)


def documents_for(change: ChangeRequest) -> list[str]:
    """The forms this change request needs, in SOP order."""
    docs = ["request"]
    if change.change_class == MAJOR:
        docs.append("consultation")
    if change.route == ROUTE_ASSISTANCE:
        docs.append("assistance")
    if change.route == ROUTE_VENDOR:
        docs.append("proposal")
    return docs


def document_template(change: ChangeRequest, kind: str, fmt: str) -> str:
    """Template name for document ``kind`` of ``change`` in ``fmt`` (md or html)."""
    if kind not in DOCUMENTS:
        raise UsageError(f"document {kind!r} is not one of: {', '.join(DOCUMENTS)}")
    if kind not in documents_for(change):
        why = {
            "consultation": "only major changes are consulted with LKPP",
            "assistance": "it needs the consultation outcome `lkpp` (change decide --outcome lkpp)",
            "proposal": "it needs the consultation outcome `vendor` (change decide --outcome vendor)",
        }[kind]
        raise UsageError(f"change request {change.id} has no {kind} document: {why}")
    return f"{DOCUMENTS[kind]}.{fmt}.j2"


def in_zone(change: ChangeRequest, tz: Any) -> ChangeRequest:
    """The same request with its times in ``tz`` (the store keeps only an offset,
    documents want the zone's name: WIB, WITA, WIT)."""
    return dataclasses.replace(
        change,
        created_at=change.created_at.astimezone(tz),
        updated_at=change.updated_at.astimezone(tz),
        scheduled_for=change.scheduled_for.astimezone(tz) if change.scheduled_for else None,
        history=[StatusEntry(h.status, h.at.astimezone(tz), h.note) for h in change.history],
    )


def document_context(change: ChangeRequest, lpse_name: str, now: datetime) -> dict[str, Any]:
    """What every change form template receives."""
    change = in_zone(change, now.tzinfo)
    rec = change.recommendation
    evidence = rec["evidence"] if rec else {}
    return {
        "change": change,
        "lpse_name": lpse_name,
        "today": now,
        "number": f"PP-{change.created_at:%Y}-{change.id:04d}",
        "recommendation": rec,
        # scalar numbers only: nested evidence (per table, per day) stays in the JSON
        "evidence": [
            (k, v) for k, v in evidence.items() if isinstance(v, int | float | str) and v != ""
        ],
    }


# -- rows ------------------------------------------------------------------------------
def _record(store: Store, change_id: int, status: str, stamp: str, note: str) -> None:
    store.insert(
        "change_status_history",
        {"change_id": change_id, "status": status, "at": stamp, "note": note},
    )


def _from_row(row: dict[str, Any]) -> ChangeRequest:
    return ChangeRequest(
        id=int(row["id"]),
        title=row["title"],
        description=row["description"],
        change_class=row["change_class"],
        class_source=row["class_source"],
        reasons=decode_json(row["reasons"], []),
        route=row["route"],
        outcome=row["outcome"],
        status=row["status"],
        recommendation_id=row["recommendation_id"],
        host=row["host"],
        impact=row["impact"],
        plan=row["plan"],
        rollback=row["rollback"],
        scheduled_for=parse_iso(row["scheduled_for"]) if row["scheduled_for"] else None,
        requester=row["requester"],
        created_at=parse_iso(row["created_at"]),
        updated_at=parse_iso(row["updated_at"]),
    )
