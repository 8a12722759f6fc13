"""`lpsectl access new|check|decide|list|show|archive|year-end` — SPSE account requests (SOP 004)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from lpsectl import access as core
from lpsectl import nip as nip_rules
from lpsectl.commands._common import (
    at_option,
    dump_json,
    emit,
    format_option,
    info,
    output_option,
    pass_app,
    table,
    warn,
)
from lpsectl.context import AppContext
from lpsectl.errors import ExitCode, UsageError


@click.group("access")
def command() -> None:
    """SPSE account (de)activation requests of PPK, Pokja members and pejabat pengadaan (SOP 004).

    \b
    The flow, each step timed against the SOP's 10-minute limits:
      new       record a request as it arrives (acknowledgement written)
      check     completeness check: complete -> forwarded to the Admin Agency,
                incomplete -> returned with a notice listing what is missing
      decide    the Admin Agency's action (--done / --rejected) -> result notice
      archive   archive record (and document copies); nothing is ever deleted
      list      every request with its step timers; breaches flagged
      year-end  the PPK accounts to deactivate at the end of the budget year

    \b
    Examples:
      lpsectl access new --activate --role ppk --name "Budi Santoso" \\
          --nip "19850312 201001 1 003" --email budi@contoh.go.id ... \\
          --letter surat.pdf --decree sk.pdf --decree-date 2026-01-05
      lpsectl access check 12
      lpsectl access decide 12 --done
      lpsectl access archive 12 --copy-to /srv/arsip/akun
      lpsectl access list --fail-on-breach
      lpsectl access year-end --year 2026 --accounts akun-spse.csv --record

    Notices are written (mode 0600) under access.notices_dir unless --notice
    names a file ('-' for standard output); --email queues them to the
    applicant through the outbox. NIP, phone and e-mail are masked in
    listings unless --full.
    """


# -- shared helpers --------------------------------------------------------------------


def notice_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--notice",
        "notice_to",
        metavar="FILE",
        help="Write the notice to FILE ('-' = standard output) instead of the notices folder.",
    )(func)


def email_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--email",
        "send_email",
        is_flag=True,
        help="Also queue the notice as e-mail to the applicant (sent by `lpsectl outbox flush`).",
    )(func)


def applicant_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The applicant's data and documents: `access new` records them, `access amend`
    corrects them (one list of options for both)."""
    options = [
        click.option("--name", help="Applicant's full name."),
        click.option("--nip", help="NIP, 18 digits (spaces allowed)."),
        click.option("--rank", help="Pangkat/golongan, e.g. 'Penata / III c'."),
        click.option("--position", help="Jabatan."),
        click.option("--agency", help="Instansi / satker."),
        click.option("--address", help="Office address."),
        click.option("--phone", help="Phone: 08..., +62... or a landline with area code."),
        click.option("--email", "email_address", help="Applicant's e-mail address."),
        click.option(
            "--letter",
            type=click.Path(dir_okay=False),
            help="Scan of the letter to the Kepala LPSE.",
        ),
        click.option(
            "--decree", type=click.Path(dir_okay=False), help="Scan of the Surat Tugas / SK."
        ),
        click.option("--decree-date", help="Date of the decree (YYYY-MM-DD or DD-MM-YYYY)."),
        click.option("--decree-expires", help="Last day the decree is valid, when it says so."),
        click.option(
            "--document",
            "documents",
            multiple=True,
            metavar="KIND=PATH",
            help="Any other document received (repeatable).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _settings(app: AppContext) -> core.AccessSettings:
    return core.load_settings(app.config)


def _store(app: AppContext) -> Any:
    # the store itself keeps the history file at mode 0600: it holds personal data
    return app.store


def _said(app: AppContext, notice: core.Notice | None) -> str | None:
    """A notice as the command shows it: printed when it went to stdout, else where it
    went (said on stderr in verbose mode); its "where" for JSON."""
    if notice is None:
        return None
    if notice.where.startswith("stdout"):
        emit(notice.text)
    if notice.path is not None:
        info(app, f"{notice.kind} notice written to {notice.path}")
    if notice.outbox_id is not None:
        info(
            app,
            f"{notice.kind} notice queued as e-mail (outbox {notice.outbox_id}); "
            "`lpsectl outbox flush` sends it",
        )
    return notice.where


def _local(text: str | None, app: AppContext) -> str:
    if not text:
        return "-"
    return datetime.fromisoformat(text).astimezone(app.config.tz).strftime("%Y-%m-%d %H:%M")


def _parse_time(value: str | None, app: AppContext, option: str) -> datetime | None:
    if not value:
        return None
    try:
        return core.parse_moment(value, app.config.tz)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from exc


def _parse_day(value: str | None, option: str) -> Any:
    if not value:
        return None
    try:
        return core.parse_day(value)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from exc


# -- new ----------------------------------------------------------------------------------


@command.command("new")
@click.option(
    "--activate", "action", flag_value=core.ACTIVATE, help="Request to activate an account."
)
@click.option(
    "--deactivate", "action", flag_value=core.DEACTIVATE, help="Request to deactivate one."
)
@click.option("--role", type=click.Choice(core.ROLES), help="The applicant's procurement role.")
@applicant_options
@click.option(
    "--via",
    type=click.Choice(["desk", "email", "letter"]),
    default="desk",
    show_default=True,
    help="How the request arrived.",
)
@click.option("--received-at", help="When it arrived (YYYY-MM-DD HH:MM, local time; default now).")
@click.option(
    "--batch",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Import many requests from a CSV, JSON or JSON-lines file.",
)
@click.option(
    "--interactive", "-i", is_flag=True, help="Prompt for what is missing (default on a terminal)."
)
@click.option("--no-ack", is_flag=True, help="Do not write an acknowledgement of receipt.")
@click.option(
    "--send-ack",
    "send_email",
    is_flag=True,
    help="Also queue the acknowledgement as e-mail to the applicant (outbox).",
)
@notice_option
@format_option("table", "json")
@pass_app
def new(
    app: AppContext,
    action: str | None,
    role: str | None,
    name: str | None,
    nip: str | None,
    rank: str | None,
    position: str | None,
    agency: str | None,
    address: str | None,
    phone: str | None,
    email_address: str | None,
    letter: str | None,
    decree: str | None,
    decree_date: str | None,
    decree_expires: str | None,
    documents: tuple[str, ...],
    via: str,
    received_at: str | None,
    batch: Path | None,
    interactive: bool,
    no_ack: bool,
    notice_to: str | None,
    send_email: bool,
    fmt: str,
) -> None:
    """Record a request as it arrives, with its received time, and acknowledge it.

    Give the data as options, answer prompts (on a terminal, or with -i), or
    import a batch. Incomplete data is recorded as it is: `check` decides
    what is missing. Batch columns (CSV header or JSON keys): action, role,
    name, nip, rank, position, agency, address, phone, email, letter,
    decree, decree_date, decree_expires, documents (KIND=PATH;...), via,
    received_at (Indonesian names such as nama, jabatan, instansi also
    work). Relative document paths are relative to the batch file. Bad rows
    are reported by line number and the others imported (exit code 3).

    \b
    Examples:
      lpsectl access new -i
      lpsectl access new --deactivate --role pokja --name "Sri Wahyuni" \\
          --nip 199105172022212001 --phone 0812-3456-7890 --email sri@contoh.go.id \\
          --letter surat.pdf --decree sk.pdf --decree-date 2026-02-01 --via email
      lpsectl access new --batch permohonan.csv --format json
    """
    settings = _settings(app)
    store = _store(app)
    if batch is not None:
        _new_batch(app, settings, batch, no_ack, send_email, fmt)
        return
    if interactive or sys.stdin.isatty():
        answers = _prompt_missing(locals(), app.now().date())
        action, role, name = answers["action"], answers["role"], answers["name"]
        nip, rank, position, agency = (
            answers["nip"],
            answers["rank"],
            answers["position"],
            answers["agency"],
        )
        address, phone, email_address = (
            answers["address"],
            answers["phone"],
            answers["email_address"],
        )
        letter, decree = answers["letter"], answers["decree"]
        decree_date, decree_expires = answers["decree_date"], answers["decree_expires"]
    for option, value in (("--activate/--deactivate", action), ("--role", role), ("--name", name)):
        if not value:
            raise UsageError(f"{option} is required (or use --interactive)")
    data = core.RequestInput(
        action=action or "",
        role=role or "",
        name=name or "",
        nip=nip or "",
        rank=rank or "",
        position=position or "",
        agency=agency or "",
        address=address or "",
        phone=phone or "",
        email=email_address or "",
        documents=_documents(letter, decree, documents),
        decree_date=_parse_day(decree_date, "--decree-date"),
        decree_expires=_parse_day(decree_expires, "--decree-expires"),
        via=via,
        received_at=_parse_time(received_at, app, "--received-at"),
    )
    receipt = core.receive(
        store, app.config, settings, data, app.now(), app.lang, not no_ack, notice_to, send_email
    )
    request, request_id = receipt.request, receipt.request["id"]
    ack = _said(app, receipt.notice)
    if fmt == "json":
        emit(
            dump_json(
                {
                    "id": request_id,
                    "status": request["status"],
                    "received_at": request["received_at"],
                    "acknowledgement": ack,
                }
            )
        )
    elif notice_to != "-":
        emit(
            f"access request {request_id} recorded: {request['action']} {request['role']}, "
            f"received {_local(request['received_at'], app)}"
        )


def _documents(
    letter: str | None, decree: str | None, extra: tuple[str, ...]
) -> list[core.Document]:
    docs = []
    if letter:
        docs.append(core.Document(core.LETTER, str(Path(letter).expanduser().resolve())))
    if decree:
        docs.append(core.Document(core.DECREE, str(Path(decree).expanduser().resolve())))
    for item in extra:
        kind, sep, path = item.partition("=")
        if not sep or not kind or not path:
            raise UsageError(f"--document {item!r} is not KIND=PATH")
        docs.append(core.Document(kind.strip(), str(Path(path).expanduser().resolve())))
    return docs


PROMPTS = (
    ("action", "Action", click.Choice(core.ACTIONS), True),
    ("role", "Role", click.Choice(core.ROLES), True),
    ("name", "Name", None, True),
    ("nip", "NIP", None, False),
    ("rank", "Pangkat/golongan", None, False),
    ("position", "Jabatan", None, False),
    ("agency", "Instansi", None, False),
    ("address", "Address", None, False),
    ("phone", "Phone", None, False),
    ("email_address", "E-mail", None, False),
    ("letter", "Letter to the Kepala LPSE (file, empty if not received)", None, False),
    ("decree", "Surat Tugas / SK (file, empty if not received)", None, False),
    ("decree_date", "Decree date (YYYY-MM-DD, empty if none)", None, False),
    ("decree_expires", "Decree valid until (YYYY-MM-DD, empty if not stated)", None, False),
)


def _prompt_missing(given: dict[str, Any], today: date) -> dict[str, Any]:
    """Ask for every value not given as an option; optional ones may be left empty."""
    answers = {}
    for key, text, kind, required in PROMPTS:
        value = given.get(key)
        if value:
            answers[key] = value
        elif required:  # prompts go to stderr so --format json output stays clean
            answers[key] = click.prompt(text, type=kind, err=True)
        else:
            answers[key] = click.prompt(text, default="", show_default=False, err=True).strip()
        if key == "nip" and answers[key]:
            result = nip_rules.validate(answers[key], today)
            if not result.valid:
                click.echo(
                    "  note: " + "; ".join(result.reasons("en")) + " (recorded as given)", err=True
                )
    return answers


def _new_batch(
    app: AppContext,
    settings: core.AccessSettings,
    batch: Path,
    no_ack: bool,
    send_email: bool,
    fmt: str,
) -> None:
    received, errors = core.receive_batch(
        app.store, app.config, settings, batch, app.now(), app.lang, not no_ack, send_email
    )
    imported = [
        {"line": line, "id": r.request["id"], "acknowledgement": _said(app, r.notice)}
        for line, r in received
    ]
    if fmt == "json":
        emit(dump_json({"file": str(batch), "imported": imported, "errors": errors}))
    else:
        lines = [
            f"{batch}: {len(imported)} request(s) imported"
            + (f" (ids {', '.join(str(i['id']) for i in imported)})" if imported else "")
        ]
        lines += [f"{batch}:{e.line}: {e.message}" for e in errors]
        emit("\n".join(lines))
    if errors:
        click.echo(f"lpsectl: {len(errors)} row(s) of {batch} were not imported", err=True)
        click.get_current_context().exit(int(ExitCode.PARTIAL))


# -- check ---------------------------------------------------------------------------------


@command.command("check")
@click.argument("request_id", metavar="ID", type=int)
@notice_option
@email_option
@format_option("table", "json")
@pass_app
def check(
    app: AppContext, request_id: int, notice_to: str | None, send_email: bool, fmt: str
) -> None:
    """Check a request is complete and record the result.

    Complete means: every required document (access.required_documents) is
    listed and its file exists; name, NIP, rank, position, agency, address,
    phone and e-mail are filled in; the NIP is valid; the phone is an
    Indonesian number (08..., +62..., or a landline with area code); the
    e-mail is well formed; the decree is dated and not expired. A complete
    request is forwarded to the Admin Agency; an incomplete one is returned
    and a return notice listing exactly what is missing is written.

    \b
    Examples:
      lpsectl access check 12
      lpsectl --lang en access check 12 --notice -
      lpsectl access check 12 --email --format json
    """
    result = core.check_request(
        app.store,
        app.config,
        _settings(app),
        request_id,
        app.now(),
        app.lang,
        notice_to,
        send_email,
    )
    _show_check(app, result, notice_to, fmt)


def _show_check(app: AppContext, result: core.CheckResult, notice_to: str | None, fmt: str) -> None:
    request_id = result.request["id"]
    notice = _said(app, result.notice)
    if fmt == "json":
        emit(
            dump_json(
                {
                    "id": request_id,
                    "status": result.status,
                    "complete": not result.problems,
                    "problems": [p.as_json("en", masked=True) for p in result.problems],
                    "notice": notice,
                }
            )
        )
    elif not result.problems:
        # said even with --notice -: a complete request has no notice, and silence would
        # read as "nothing happened"
        emit(f"access request {request_id} is complete and was forwarded to the Admin Agency")
    elif notice_to != "-":
        lines = [f"access request {request_id} is incomplete and was returned:"]
        lines += [f"  - {p.message('en', masked=True)}" for p in result.problems]
        emit("\n".join(lines))


# -- amend ----------------------------------------------------------------------------------


@command.command("amend")
@click.argument("request_id", metavar="ID", type=int)
@applicant_options
@notice_option
@click.option(
    "--send-notice",
    "send_email",
    is_flag=True,
    help="Also queue a return notice as e-mail to the applicant (--email is the address here).",
)
@format_option("table", "json")
@pass_app
def amend(
    app: AppContext,
    request_id: int,
    name: str | None,
    nip: str | None,
    rank: str | None,
    position: str | None,
    agency: str | None,
    address: str | None,
    phone: str | None,
    email_address: str | None,
    letter: str | None,
    decree: str | None,
    decree_date: str | None,
    decree_expires: str | None,
    documents: tuple[str, ...],
    notice_to: str | None,
    send_email: bool,
    fmt: str,
) -> None:
    """Correct a returned (or not yet checked) request with what the applicant sent, then
    check it again: complete, it goes to the Admin Agency; still incomplete, a new return
    notice says what is still missing. The history keeps every step.

    \b
    Examples:
      lpsectl access amend 12 --phone 0812-3456-7890 --decree sk-baru.pdf --decree-date 2026-11-20
      lpsectl access amend 12 --nip "19850228 201001 1 003" --format json
    """
    changes = {
        "name": name,
        "nip": nip,
        "rank": rank,
        "position": position,
        "agency": agency,
        "address": address,
        "phone": phone,
        "email": email_address,
        "decree_date": _parse_day(decree_date, "--decree-date"),
        "decree_expires": _parse_day(decree_expires, "--decree-expires"),
    }
    changed, result = core.amend_and_check(
        app.store,
        app.config,
        _settings(app),
        request_id,
        changes,
        _documents(letter, decree, documents),
        app.now(),
        app.lang,
        notice_to,
        send_email,
    )
    info(app, f"access request {request_id} amended: {', '.join(changed)}")
    _show_check(app, result, notice_to, fmt)


# -- decide ---------------------------------------------------------------------------------


@command.command("decide")
@click.argument("request_id", metavar="ID", type=int)
@click.option(
    "--done", "decision", flag_value=core.DONE, help="The Admin Agency carried it out in SPSE."
)
@click.option(
    "--rejected", "decision", flag_value=core.REJECTED, help="The Admin Agency refused it."
)
@click.option("--reason", default="", help="Why it was rejected (told to the applicant).")
@click.option(
    "--at", "acted_at", help="When the Admin Agency acted (YYYY-MM-DD HH:MM; default now)."
)
@notice_option
@email_option
@format_option("table", "json")
@pass_app
def decide(
    app: AppContext,
    request_id: int,
    decision: str | None,
    reason: str,
    acted_at: str | None,
    notice_to: str | None,
    send_email: bool,
    fmt: str,
) -> None:
    """Record the Admin Agency's action and write the result notice to the applicant.

    \b
    Examples:
      lpsectl access decide 12 --done
      lpsectl access decide 12 --done --at "2026-11-21 09:40" --email
      lpsectl access decide 13 --rejected --reason "akun dengan NIP ini tidak ditemukan di SPSE"
    """
    if decision is None:
        raise UsageError("say what the Admin Agency did: --done or --rejected")
    now = app.now()
    result = core.decide_request(
        app.store,
        app.config,
        _settings(app),
        request_id,
        decision,
        reason,
        _parse_time(acted_at, app, "--at") or now,
        now,
        app.lang,
        notice_to,
        send_email,
    )
    request = result.request
    notice = _said(app, result.notice)
    if fmt == "json":
        emit(
            dump_json(
                {
                    "id": request_id,
                    "status": request["status"],
                    "decided_at": request["decided_at"],
                    "notice": notice,
                }
            )
        )
    elif notice_to != "-":
        emit(
            f"access request {request_id} is {decision} (acted {_local(request['decided_at'], app)})"
        )


# -- list and show ------------------------------------------------------------------------


def _elapsed(timer: core.StepTimer) -> str:
    if timer.state == "n/a":
        return "n/a"
    if timer.state == "scheduled":
        return "due " + timer.start.strftime("%d-%m") if timer.start else "-"
    if timer.elapsed is None:
        return "-"
    hours, rest = divmod(int(timer.elapsed.total_seconds()), 3600)
    minutes, seconds = divmod(rest, 60)
    # m:ss within the hour (the limits are minutes); h:mm:ss beyond, never '1683:15'
    text = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
    if timer.state == "running":
        text = f"({text})"
    return text + (" !" if timer.breach else "")


def _timers_json(timers: list[core.StepTimer]) -> dict[str, Any]:
    return {
        t.step: {
            "state": t.state,
            "start": t.start,
            "end": t.end,
            "elapsed_seconds": t.elapsed.total_seconds() if t.elapsed is not None else None,
            "limit_seconds": t.limit.total_seconds(),
            "breach": t.breach,
        }
        for t in timers
    }


def _public(request: dict[str, Any], full: bool, today: date) -> dict[str, Any]:
    shown = core.view(request, full)
    checked = nip_rules.validate(request["nip"], today) if request.get("nip") else None
    shown["nip_valid"] = checked.valid if checked else False
    shown["nip_kind"] = checked.kind if checked and checked.valid else None
    shown["check_problems"] = [
        p.as_json("en", masked=not full) for p in core.stored_problems(request)
    ]
    return shown


@command.command("list")
@click.option(
    "--status",
    type=click.Choice([core.RECEIVED, core.RETURNED, core.FORWARDED, core.DONE, core.REJECTED]),
    help="Only requests in this state.",
)
@click.option("--all", "show_all", is_flag=True, help="Include archived requests.")
@click.option(
    "--breaches", "breaches_only", is_flag=True, help="Only requests with a step over its limit."
)
@click.option(
    "--fail-on-breach", is_flag=True, help="Exit with code 1 when any step is over its limit."
)
@click.option("--full", is_flag=True, help="Show NIP, phone and e-mail unmasked.")
@format_option("table", "json")
@output_option
@at_option
@pass_app
def list_(
    app: AppContext,
    status: str | None,
    show_all: bool,
    breaches_only: bool,
    fail_on_breach: bool,
    full: bool,
    fmt: str,
    output: str | None,
) -> None:
    """Requests with each SOP step's elapsed time against its limit.

    Steps: check (received -> checked), action (checked -> Admin Agency
    acted), notify (acted or returned -> notice), archive (notice ->
    archived); 10 minutes each unless [access] says otherwise. In the
    table, m:ss is a finished step, (m:ss) one still running, '!' a breach.

    \b
    Examples:
      lpsectl access list
      lpsectl access list --breaches --fail-on-breach      # for cron
      lpsectl access list --all --format json --full
      lpsectl access list --at "2026-12-02 09:00"    # the timers as they will be then
    """
    settings = _settings(app)
    now = app.now()
    rows = []
    for request in core.list_requests(_store(app), status, open_only=not show_all):
        timers = core.step_timers(request, settings, now)
        if breaches_only and not core.breaches(timers):
            continue
        rows.append((request, timers))
    if fmt == "json":
        emit(
            dump_json(
                [
                    {
                        **_public(r, full, now.date()),
                        "timers": _timers_json(t),
                        "breaches": core.breaches(t),
                    }
                    for r, t in rows
                ]
            ),
            output,
        )
    else:
        body = table(
            [
                [
                    r["id"],
                    _local(r["received_at"], app),
                    r["action"],
                    r["role"],
                    r["name"],
                    core.view(r, full)["nip"] or "-",
                    r["status"] + (" (archived)" if r["archived_at"] else ""),
                    *(_elapsed(step) for step in t),
                ]
                for r, t in rows
            ],
            [
                "ID",
                "Received",
                "Action",
                "Role",
                "Name",
                "NIP",
                "Status",
                "Check",
                "Act",
                "Notify",
                "Archive",
            ],
        )
        limits = ", ".join(
            f"{s} {int(settings.limit(s).total_seconds() // 60)} min" for s in core.STEPS
        )
        emit(f"{body}\n\nlimits: {limits}; (m:ss) still running; ! over the limit", output)
    if fail_on_breach and any(core.breaches(t) for _, t in rows):
        click.get_current_context().exit(int(ExitCode.PROBLEMS))


FIELD_TITLES = {
    "name": "Name",
    "nip": "NIP",
    "rank": "Rank/grade",
    "position": "Position",
    "agency": "Agency",
    "address": "Address",
    "phone": "Phone",
    "email": "E-mail",
}


@command.command("show")
@click.argument("request_id", metavar="ID", type=int)
@click.option("--full", is_flag=True, help="Show NIP, phone, e-mail and address unmasked.")
@format_option("text", "json")
@output_option
@pass_app
def show(app: AppContext, request_id: int, full: bool, fmt: str, output: str | None) -> None:
    """One request: data, documents, check result, step timers, history.

    \b
    Examples:
      lpsectl access show 12
      lpsectl access show 12 --full --format json
    """
    settings = _settings(app)
    store = _store(app)
    request = core.get_request(store, request_id)
    timers = core.step_timers(request, settings, app.now())
    history = core.events(store, request_id)
    if fmt == "json":
        emit(
            dump_json(
                {
                    **_public(request, full, app.now().date()),
                    "timers": _timers_json(timers),
                    "breaches": core.breaches(timers),
                    "events": history,
                }
            ),
            output,
        )
        return
    shown = core.view(request, full)
    fields = [("Action", shown["action"]), ("Role", shown["role"]), ("Status", shown["status"])]
    fields += [(FIELD_TITLES[key], shown[key] or "-") for key in core.PERSONAL_FIELDS]
    fields += [
        ("Decree date", shown["decree_date"] or "-"),
        ("Decree expires", shown["decree_expires"] or "-"),
        ("Via", shown["via"]),
        ("Source", shown["source"]),
        ("Received", _local(shown["received_at"], app)),
        ("Checked", _local(shown["checked_at"], app)),
        ("Acted", _local(shown["decided_at"], app)),
        ("Notified", _local(shown["notified_at"], app)),
        ("Archived", _local(shown["archived_at"], app)),
    ]
    if shown.get("reason"):
        fields.append(("Reason", shown["reason"]))
    lines = [f"Access request {request_id}"] + [f"  {k + ':':<16}{v}" for k, v in fields]
    lines.append("Documents:")
    lines += [f"  {d['kind']}: {d['path']}" for d in request["documents"]] or ["  (none)"]
    problems = core.stored_problems(request)
    if problems:
        lines.append("Missing at check:")
        lines += [f"  - {p.message('en', masked=not full)}" for p in problems]
    lines.append("Timers:")
    lines += [
        f"  {t.step:<8} {_elapsed(t):<10} limit {int(t.limit.total_seconds() // 60)} min"
        for t in timers
    ]
    lines.append("History:")
    lines += [f"  {_local(e['at'], app)}  {e['step']}" for e in history]
    emit("\n".join(lines), output)


# -- archive --------------------------------------------------------------------------------


@command.command("archive")
@click.argument("request_id", metavar="ID", type=int)
@click.option(
    "--copy-to",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also copy the documents (and the record) into DIR/request-ID/.",
)
@format_option("table", "json")
@pass_app
def archive(app: AppContext, request_id: int, copy_to: Path | None, fmt: str) -> None:
    """Archive a closed request: a record (data, history, document checksums); nothing is deleted.

    The record goes to access.archive_dir/request-ID/record.json (mode
    0600), or with --copy-to into DIR/request-ID/ together with copies of
    the documents.

    \b
    Examples:
      lpsectl access archive 12
      lpsectl access archive 12 --copy-to /srv/arsip/akun-spse
    """
    request, folder, missing = core.archive(
        app.store, app.config, _settings(app), request_id, app.now(), copy_to
    )
    for path in missing:
        info(
            app,
            f"warning: document {path} of request {request_id} no longer exists; recorded as missing",
        )
    if fmt == "json":
        emit(
            dump_json(
                {
                    "id": request_id,
                    "archived_at": request["archived_at"],
                    "path": str(folder),
                    "documents": request["archive_manifest"],
                }
            )
        )
    else:
        emit(f"access request {request_id} archived in {folder}")


# -- year end -------------------------------------------------------------------------------


@command.command("year-end")
@click.option("--year", type=int, required=True, help="The budget year that ends.")
@click.option(
    "--accounts",
    "accounts_csv",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Account export from SPSE (CSV: nip, nama/name, peran/role[, email, instansi, status]).",
)
@click.option(
    "--record",
    is_flag=True,
    help="Record a deactivation request per account and write a notice to each.",
)
@click.option(
    "--notices-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the notices go (default: notices folder/year-end-YEAR).",
)
@click.option("--full", is_flag=True, help="Show NIPs unmasked in the list.")
@email_option
@format_option("table", "json", "md", "html")
@output_option
@pass_app
def year_end(
    app: AppContext,
    year: int,
    accounts_csv: Path | None,
    record: bool,
    notices_dir: Path | None,
    full: bool,
    send_email: bool,
    fmt: str,
    output: str | None,
) -> None:
    """The PPK accounts to deactivate at the end of a budget year, and a notice to each.

    Active accounts come from the register (the latest carried-out request
    per NIP is an activation) and/or an account export. Without --record
    this only lists them. With --record each account gets a deactivation
    request forwarded to the Admin Agency (re-running adds none twice) and
    a year-end notice; `decide ID --done` then records each deactivation.

    \b
    Examples:
      lpsectl access year-end --year 2026
      lpsectl access year-end --year 2026 --accounts akun-spse.csv --format html -o ppk-2026.html
      lpsectl access year-end --year 2026 --accounts akun-spse.csv --record --email
    """
    if not 2000 <= year <= 2100:
        raise UsageError(f"--year {year} is not a plausible budget year")
    problems: list[str] = []
    accounts = core.read_accounts_csv(accounts_csv, problems) if accounts_csv else None
    for problem in problems:
        warn(problem)
    now = app.now()
    result = core.year_end(
        app.store,
        app.config,
        _settings(app),
        year,
        accounts,
        now,
        app.lang,
        record,
        notices_dir,
        send_email,
    )
    found, recorded = result.accounts, result.recorded
    notices = {nip: _said(app, notice) for nip, notice in result.notices.items()}
    for warning in result.warnings:
        info(app, f"warning: {warning}")
    if record:
        info(
            app,
            f"{len(notices)} new deactivation request(s) recorded for {year}; "
            f"{len(found) - len(notices)} already recorded",
        )
    if fmt in ("md", "html"):
        emit(
            core.render_year_end_list(found, year, app.config, app.lang, fmt, now, recorded, full),
            output,
        )
    elif fmt == "json":
        emit(
            dump_json(
                {
                    "year": year,
                    "recorded": record,
                    "accounts": [
                        {
                            "nip": a.nip if full else nip_rules.mask(a.nip),
                            "name": a.name,
                            "role": a.role,
                            "agency": a.agency,
                            "email": a.email if full else core.mask_email(a.email),
                            "sources": a.sources,
                            "decree_end": a.decree_end,
                            "request": recorded.get(a.nip),
                            "notice": notices.get(a.nip),
                        }
                        for a in found
                    ],
                }
            ),
            output,
        )
    else:
        emit(
            table(
                [
                    [
                        i,
                        a.name,
                        a.nip if full else nip_rules.mask(a.nip),
                        a.agency or "-",
                        "+".join(a.sources),
                        a.decree_end or "-",
                        recorded.get(a.nip, "-"),
                    ]
                    for i, a in enumerate(found, start=1)
                ],
                ["No", "Name", "NIP", "Agency", "Source", "Decree until", "Request"],
            ),
            output,
        )
