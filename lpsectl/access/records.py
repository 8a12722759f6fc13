"""Reading requests and recording the SOP 004 steps; the steps' timers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from lpsectl import nip as nip_rules
from lpsectl.access.base import (
    DONE,
    FORWARDED,
    RECEIVED,
    REJECTED,
    RETURNED,
    STEPS,
    AccessSettings,
    _iso,
    _moment,
    add_event,
)
from lpsectl.access.completeness import Problem
from lpsectl.access.requests import Document
from lpsectl.errors import NotFoundError, UsageError
from lpsectl.store import Store, decode_json

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
