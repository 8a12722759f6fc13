"""`lpsectl change`: change requests, minor/major, routing and forms (SOP 003 steps 4-6)."""

from __future__ import annotations

from datetime import datetime

import click

from lpsectl import changes
from lpsectl.commands._common import dump_json, emit, format_option, output_option, pass_app, table
from lpsectl.context import AppContext
from lpsectl.render import render


@click.group("change")
def command() -> None:
    """Change requests: classify minor/major, route them, write their forms.

    \b
    A minor change (settings and configuration only) is handled inside the LPSE.
    A major change (hardware, OS/PostgreSQL/SPSE version upgrade, SPSE code or
    schema) is consulted with LKPP's IT Operations team (ITO) first; after the
    consultation it goes to LKPP as a request for technical assistance, or to
    the Kepala LPSE as an activity proposal when a vendor is needed.

    \b
    Status: recorded -> analysed -> [consulted] -> approved -> implemented -> closed

    \b
    Examples:
      lpsectl change classify "tambah RAM server database"
      lpsectl change new --from 12 --impact "SPSE offline 30 menit" --schedule "2026-12-07 22:00"
      lpsectl change decide 3 --outcome vendor --note "ITO: pengadaan lewat pihak ketiga"
      lpsectl change show 3 --format html --doc proposal -o usulan.html
    """


@command.command("classify")
@click.argument("text", nargs=-1, required=True)
@format_option("text", "json")
@pass_app
def classify_command(app: AppContext, text: tuple[str, ...], fmt: str) -> None:
    """Say whether a change is minor or major, its route, and why.

    Exits 1 when the text does not say enough (class "unknown"); then give
    the class yourself with `change new --class minor|major`.

    \b
    Examples:
      lpsectl change classify "ubah work_mem menjadi 16MB"
      lpsectl change classify --format json "upgrade PostgreSQL 11 ke 15"
    """
    result = changes.classify(" ".join(text))
    if fmt == "json":
        emit(dump_json(result.to_dict()))
    else:
        lines = [
            f"class: {result.change_class}",
            f"route: {result.route} ({changes.ROUTE_DESCRIPTIONS[result.route]})",
        ]
        lines += [f"  - {reason}" for reason in result.reasons]
        emit("\n".join(lines))
    if not result.known:
        click.get_current_context().exit(1)


@command.command("new")
@click.argument("text", nargs=-1)
@click.option(
    "--from",
    "recommendation",
    type=int,
    metavar="REC",
    help="Recommendation id from `lpsectl analyze`.",
)
@click.option(
    "--class", "forced_class", type=click.Choice(changes.CLASSES), help="Override the classifier."
)
@click.option("--description", default="", help="Longer description of the change.")
@click.option("--impact", default="", help="Impact on SPSE users (downtime, risk).")
@click.option("--plan", default="", help="Implementation steps.")
@click.option("--rollback", default="", help="How to undo the change.")
@click.option(
    "--schedule",
    type=click.DateTime(["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]),
    metavar="'YYYY-MM-DD HH:MM'",
    help="Planned start, LPSE local time.",
)
@click.option("--host", default="", help="Host the change applies to.")
@click.option("--requester", default="", help="Name of the person requesting the change.")
@format_option("text", "json")
@pass_app
def new_command(
    app: AppContext,
    text: tuple[str, ...],
    recommendation: int | None,
    forced_class: str | None,
    description: str,
    impact: str,
    plan: str,
    rollback: str,
    schedule: datetime | None,
    host: str,
    requester: str,
    fmt: str,
) -> None:
    """Record a change request from free TEXT or from a recommendation.

    The class comes from the recommendation or the classifier; when the text
    is ambiguous the command stops and asks for --class.

    \b
    Examples:
      lpsectl change new "Naikkan work_mem menjadi 16MB" --plan "ubah postgresql.conf, reload"
      lpsectl change new --from 12 --rollback "kembalikan disk lama" --requester "Budi"
    """
    change = changes.create_change(
        app.store,
        app.now(),
        title=" ".join(text),
        description=description,
        forced_class=forced_class,
        recommendation_id=recommendation,
        lang=app.lang,
        host=host,
        impact=impact,
        plan=plan,
        rollback=rollback,
        scheduled_for=schedule.replace(tzinfo=app.config.tz) if schedule else None,
        requester=requester,
    )
    if fmt == "json":
        emit(dump_json(change.to_dict()))
    else:
        emit(
            describe(change)
            + f"\nforms: lpsectl change show {change.id} --format md --doc "
            + "|".join(changes.documents_for(change))
        )


@command.command("list")
@click.option("--status", type=click.Choice(changes.STATUSES), help="Only this status.")
@click.option(
    "--class", "change_class", type=click.Choice(changes.CLASSES), help="Only this class."
)
@format_option("table", "json")
@output_option
@pass_app
def list_command(
    app: AppContext, status: str | None, change_class: str | None, fmt: str, output: str | None
) -> None:
    """List change requests.

    \b
    Examples:
      lpsectl change list
      lpsectl change list --status analysed --class major --format json
    """
    found = changes.list_changes(app.store, status, change_class)
    if fmt == "json":
        emit(dump_json([c.to_dict() | {"history": None} for c in found]), output)
        return
    rows = [
        [c.id, c.created_at.date().isoformat(), c.change_class, c.route, c.status, c.title[:60]]
        for c in found
    ]
    emit(table(rows, ["ID", "CREATED", "CLASS", "ROUTE", "STATUS", "TITLE"]), output)


@command.command("show")
@click.argument("change_id", type=int)
@format_option("text", "json", "md", "html")
@click.option(
    "--doc",
    type=click.Choice(list(changes.DOCUMENTS)),
    default="request",
    show_default=True,
    help="Which form to write with --format md|html.",
)
@output_option
@pass_app
def show_command(app: AppContext, change_id: int, fmt: str, doc: str, output: str | None) -> None:
    """Show a change request, or write one of its forms (md/html).

    \b
    Forms (--doc):
      request       Formulir Permintaan Perubahan (every change)
      consultation  Formulir Konsultasi to LKPP ITO (major changes)
      assistance    request for technical assistance to LKPP (outcome lkpp)
      proposal      activity proposal to the Kepala LPSE (outcome vendor)

    \b
    Examples:
      lpsectl change show 3
      lpsectl change show 3 --format html --doc consultation -o konsultasi.html
      lpsectl --lang en change show 3 --format md
    """
    change = changes.get_change(app.store, change_id)
    if fmt == "json":
        emit(dump_json(change.to_dict()), output)
    elif fmt == "text":
        emit(describe(change, history=True), output)
    else:
        template = changes.document_template(change, doc, fmt)
        context = changes.document_context(change, app.config.lpse.name, app.now())
        emit(render(template, app.lang, app.templates_dir, **context), output)


@command.command("decide")
@click.argument("change_id", type=int)
@click.option(
    "--outcome",
    required=True,
    type=click.Choice(list(changes.OUTCOMES)),
    help="internal: the LPSE does it; lkpp: LKPP technical assistance; vendor: third party.",
)
@click.option("--note", default="", help="What the consultation said.")
@format_option("text", "json")
@pass_app
def decide_command(app: AppContext, change_id: int, outcome: str, note: str, fmt: str) -> None:
    """Record the result of the LKPP consultation of a major change.

    \b
    Examples:
      lpsectl change decide 3 --outcome lkpp --note "ITO akan membantu upgrade PostgreSQL"
      lpsectl change decide 4 --outcome vendor
    """
    change = changes.decide(app.store, change_id, outcome, app.now(), note)
    emit(dump_json(change.to_dict()) if fmt == "json" else describe(change))


@command.command("status")
@click.argument("change_id", type=int)
@click.argument(
    "status", type=click.Choice([s for s in changes.STATUSES if s not in ("recorded", "analysed")])
)
@click.option("--note", default="", help="Why (required to close before implementation).")
@format_option("text", "json")
@pass_app
def status_command(app: AppContext, change_id: int, status: str, note: str, fmt: str) -> None:
    """Move a change request forward: approved, implemented, closed.

    \b
    Examples:
      lpsectl change status 3 approved --note "disetujui Kepala LPSE"
      lpsectl change status 3 implemented
      lpsectl change status 5 closed --note "dibatalkan"
    """
    change = changes.set_status(app.store, change_id, status, app.now(), note)
    emit(dump_json(change.to_dict()) if fmt == "json" else describe(change))


def describe(change: changes.ChangeRequest, history: bool = False) -> str:
    lines = [
        f"change request {change.id}: {change.title}",
        f"class:  {change.change_class} ({change.class_source})",
        f"route:  {change.route} ({change.route_description})",
        f"status: {change.status}"
        + (f", consultation outcome: {change.outcome}" if change.outcome else ""),
    ]
    lines += [f"  - {reason}" for reason in change.reasons]
    for label, value in (
        ("host", change.host),
        ("impact", change.impact),
        ("plan", change.plan),
        ("rollback", change.rollback),
        ("requester", change.requester),
    ):
        if value:
            lines.append(f"{label}: {value}")
    if change.scheduled_for:
        lines.append(f"scheduled: {change.scheduled_for.isoformat(timespec='minutes')}")
    if change.description and history:
        lines += ["", change.description]
    if history:
        lines += ["", "history:"] + [
            f"  {h.at.isoformat(timespec='seconds')}  {h.status:<12} {h.note}"
            for h in change.history
        ]
    return "\n".join(lines)
