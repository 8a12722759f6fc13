"""`lpsectl check` — the SPSE web address as its users see it ([[checks]])."""

from __future__ import annotations

from typing import Any

import click

from lpsectl import webcheck
from lpsectl.commands._common import dump_json, emit, format_option, pass_app, table
from lpsectl.context import AppContext
from lpsectl.errors import ConfigError, ExitCode, UsageError
from lpsectl.lock import job_lock


@click.command("check")
@click.option("--name", "names", multiple=True, help="Run only this check (repeatable).")
@click.option(
    "--due",
    is_flag=True,
    help="Run only the checks whose interval has passed since their last run (cron, scheduler).",
)
@format_option("table", "json")
@pass_app
def command(app: AppContext, names: tuple[str, ...], due: bool, fmt: str) -> None:
    """Check every [[checks]] address once and store the results: HTTP status,
    time to first byte, total time, bytes, the expected text, and for https the
    certificate (days left, issuer, names; refused when expired, for another name
    or from an unknown issuer). A check runs from this machine (from = "local") or
    from a configured host over SSH (from = "spse-app").

    \b
    Exit status:
      0  every address is up
      2  --name names no check
      3  some are down, or could not be checked (each with its reason)
      4  no [[checks]] in the config, or one is wrong
      5  every address is down or could not be checked
      6  another `check` is running

    \b
    Examples:
      lpsectl check                        every check, now
      lpsectl check --name spse --format json
      lpsectl -q check --due               from cron: those whose interval has passed
    """
    checks = webcheck.load_checks(app.config)
    if not checks:
        raise ConfigError(
            f"{app.config.source}: no [[checks]] configured; add one with the SPSE address "
            '(name = "spse", url = "https://spse.<lpse>.go.id/eproc4"), see docs/availability.md'
        )
    if names:
        unknown = sorted(set(names) - {c.name for c in checks})
        if unknown:
            known = ", ".join(c.name for c in checks)
            raise UsageError(f"no check named {unknown[0]!r} (known: {known})")
        checks = [c for c in checks if c.name in names]
    with job_lock(app.config.data_dir, "check"):
        if due:
            checks = webcheck.due(app.store, checks, app.now())
        results = webcheck.run_checks(app.config, checks, app.now)
        webcheck.save_results(app.store, results)
    rows = [_row(r) for r in results]
    if fmt == "json":
        emit(dump_json(rows))
    elif rows:
        emit(
            table(
                [
                    [
                        r["name"],
                        r["source"],
                        "up" if r["up"] else "DOWN",
                        r["status"] or "-",
                        _ms(r["ttfb_ms"]),
                        _ms(r["total_ms"]),
                        _days(r["certificate"]),
                        r["error"] or "",
                    ]
                    for r in rows
                ],
                ["check", "from", "state", "status", "first byte", "total", "certificate", "why"],
            )
        )
    down = sum(1 for r in results if not r.up)  # down, or could not be checked at all
    if results and down == len(results):
        click.get_current_context().exit(int(ExitCode.UNAVAILABLE))
    if down:
        click.get_current_context().exit(int(ExitCode.PARTIAL))


def _row(result: webcheck.CheckResult) -> dict[str, Any]:
    return {
        "name": result.name,
        "url": result.url,
        "source": result.source,
        "checked_at": result.checked_at,
        "up": result.up,
        "status": result.status,
        "ttfb_ms": result.ttfb_ms,
        "total_ms": result.total_ms,
        "bytes": result.bytes,
        "error": result.error,
        "error_kind": result.error_kind,
        "certificate": result.certificate,
    }


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def _days(cert: dict[str, Any] | None) -> str:
    if not cert:
        return "-"
    if cert.get("days_left") is None:
        return "unreadable"
    text = f"{cert['days_left']:.0f} days left"
    return f"{text}, REFUSED" if cert.get("error") else text
