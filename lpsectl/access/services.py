"""The SOP 004 workflow as services: the command layer parses and renders only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from lpsectl.access.archiving import archive_request
from lpsectl.access.base import AccessSettings, archive_dir, email_is_valid, notices_dir
from lpsectl.access.completeness import Problem, check_completeness
from lpsectl.access.documents import queue_notice_email, render_notice
from lpsectl.access.private import unused_path, write_private
from lpsectl.access.records import (
    amend_request,
    check_values,
    get_request,
    record_check,
    record_decision,
    record_notice,
)
from lpsectl.access.requests import BatchError, Document, RequestInput, create_request, parse_batch
from lpsectl.access.yearend import YearEndAccount, record_year_end, year_end_candidates
from lpsectl.config import Config
from lpsectl.errors import UsageError
from lpsectl.store import Store

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
