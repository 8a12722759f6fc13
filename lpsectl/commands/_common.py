"""Shared pieces of the thin command layer: options, output, JSON."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import click

from lpsectl.context import AppContext
from lpsectl.files import write_text

F = TypeVar("F", bound=Callable[..., Any])

pass_app = click.make_pass_decorator(AppContext)


def format_option(*choices: str, default: str | None = None) -> Callable[[F], F]:
    """``--format`` with the given choices (first is the default)."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=default or choices[0],
        show_default=True,
        help="Output format: " + ", ".join(choices) + " (json is stable, for scripts).",
    )


def output_option(func: F) -> F:
    return click.option(
        "--output",
        "-o",
        "output",
        type=click.Path(dir_okay=False, writable=True),
        help="Write to FILE instead of standard output.",
    )(func)


def emit(text: str, output: str | None = None) -> None:
    """Print, or write to ``output`` through :func:`lpsectl.files.write_text` (atomic
    for a regular file, streamed into a device or FIFO)."""
    if not text.endswith("\n"):
        text += "\n"
    if not output or output == "-":
        click.echo(text, nl=False)
        return
    write_text(output, text, what="--output", make_parents=False)


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: to_jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    return value


def dump_json(value: Any) -> str:
    return json.dumps(to_jsonable(value), ensure_ascii=False, indent=2, sort_keys=False)


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    if not rows:
        return "(none)"
    # imported here: it costs 20 ms at every start, and most runs (cron) print no table
    from tabulate import tabulate

    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def info(app: AppContext, message: str) -> None:
    """A progress/info line on stderr, silenced by -q."""
    if app.verbosity >= 0:
        click.echo(message, err=True)


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Inside: SIGTERM (systemd, kill, cron's timeout -s TERM) ends the run like Ctrl-C, so
    what is complete is kept. Only around work that handles KeyboardInterrupt (collect): a
    process-wide handler would turn a SIGTERM that arrives at any other moment into an
    exception some library may swallow."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def warn(message: str) -> None:
    """``warning: ...`` on stderr, never silenced: what could not be done is always said."""
    click.echo(f"warning: {message}", err=True)


def at_option(func: F) -> F:
    """``--at 'YYYY-MM-DD HH:MM'``: the command works as if it were that moment (LPSE
    time zone) — to check a plan without waiting or faking the clock. Sets ``app.at``."""

    def remember(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
        if value is not None:
            from lpsectl import timeutil

            app = ctx.find_object(AppContext)
            if app is None:
                return value
            try:
                moment = timeutil.parse_local(value, app.config.tz)
            except ValueError:
                moment = None
            if moment is None or not timeutil.in_range(moment.year):
                raise click.BadParameter(
                    f'{value!r} is not a date and time like "2026-12-06 22:00"'
                ) from None
            app.at = moment
        return value

    return click.option(
        "--at",
        metavar="'YYYY-MM-DD HH:MM'",
        callback=remember,
        expose_value=False,
        help="As if it were this moment (LPSE time zone); with remind only together with --dry-run.",
    )(func)
