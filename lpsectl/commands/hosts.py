"""`lpsectl hosts list|check` — the configured hosts and whether lpsectl can work on them."""

from __future__ import annotations

import click

from lpsectl.commands._common import dump_json, emit, format_option, pass_app, table
from lpsectl.context import AppContext
from lpsectl.errors import ExitCode
from lpsectl.remote.check import STEPS, check_hosts


@click.group("hosts")
def command() -> None:
    """The configured hosts: list them, check access to them."""


@command.command("list")
@format_option("table", "json")
@pass_app
def list_hosts(app: AppContext, fmt: str) -> None:
    """List the configured hosts (name, role, address, logs).

    \b
    Examples:
      lpsectl hosts list
      lpsectl hosts list --format json
    """
    hosts = app.config.hosts
    if fmt == "json":
        emit(
            dump_json(
                [
                    {
                        "name": h.name,
                        "role": h.role,
                        "address": h.address,
                        "port": h.port,
                        "logs": h.logs,
                        "postgres": h.postgres,
                    }
                    for h in hosts
                ]
            )
        )
        return
    rows = [
        [
            h.name,
            "+".join(h.role) or "-",
            h.address if h.is_local else f"{h.address}:{h.port}",
            len(h.logs),
            h.postgres.database if h.postgres else "-",
        ]
        for h in hosts
    ]
    emit(
        f"config: {app.config.source}\n"
        + table(rows, ["name", "role", "address", "logs", "database"])
    )


@command.command("check")
@click.option("--host", "names", multiple=True, metavar="NAME", help="Only this host (repeatable).")
@format_option("table", "json")
@pass_app
def check(app: AppContext, names: tuple[str, ...], fmt: str) -> None:
    """Check each host: reachable? host key known? key accepted? sudo -n?
    python3 present? psql access (database hosts)?

    \b
    A changed or unknown host key is refused, never accepted: the message
    says how to verify and add it. Exit code 3 if any check fails.

    \b
    Examples:
      lpsectl hosts check
      lpsectl hosts check --host spse-db --format json
    """
    hosts = [app.config.host(n) for n in names] if names else app.config.hosts
    checks = check_hosts(hosts, app.config.ssh)
    if fmt == "json":
        emit(
            dump_json(
                [
                    {
                        "host": c.host,
                        "address": c.address,
                        "ok": c.ok,
                        **c.results,
                        "notes": c.notes,
                    }
                    for c in checks
                ]
            )
        )
    else:
        marks = {True: "ok", False: "FAIL", None: "-"}
        rows = [[c.host, *(marks[c.results[s]] for s in STEPS), "; ".join(c.notes)] for c in checks]
        emit(table(rows, ["host", *STEPS, "notes"]))
    failed = [c for c in checks if not c.ok]
    for c in failed:
        click.echo(f"lpsectl: {c.host}: {'; '.join(c.notes) or 'check failed'}", err=True)
    if failed:
        click.get_current_context().exit(ExitCode.PARTIAL)
