"""Root command group. All error handling lives here: errors → stderr + exit code."""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import traceback

import click

from lpsectl import __version__
from lpsectl.config import load_config
from lpsectl.context import AppContext
from lpsectl.errors import ExitCode, LpsectlError

log = logging.getLogger("lpsectl")

ROOT_HELP = """lpsectl — keep an LPSE's SPSE healthy and its users informed.

\b
Typical day (cron does this for you, see `lpsectl cron print`):
  lpsectl collect              gather a snapshot of every host, store it
  lpsectl report daily         Laporan Monitoring Kinerja for today
  lpsectl analyze              recommendations from the history

Exit codes: 0 ok, 1 problems found (where a flag asks), 2 usage error,
3 partial (some hosts/items not collected), 4 configuration error,
5 nothing collected / service unavailable, 6 another run holds the lock.
"""


#: every top-level command: its name and the module whose ``command`` it is. Imported
#: only when used, so `lpsectl logs summarize` does not pay for `lpsectl maintenance`.
COMMANDS = {
    "access": "lpsectl.commands.access",
    "analyze": "lpsectl.commands.analyze",
    "change": "lpsectl.commands.change",
    "check": "lpsectl.commands.check",
    "collect": "lpsectl.commands.collect",
    "cron": "lpsectl.commands.cron",
    "hosts": "lpsectl.commands.hosts",
    "init": "lpsectl.commands.init",
    "logs": "lpsectl.commands.logs",
    "maintenance": "lpsectl.commands.maintenance",
    "notify": "lpsectl.commands.notify",
    "outbox": "lpsectl.commands.outbox",
    "report": "lpsectl.commands.report",
    "schedule": "lpsectl.commands.schedule",
    "store": "lpsectl.commands.store",
    "tickets": "lpsectl.commands.tickets",
}


class LpsectlGroup(click.Group):
    """The root group: the commands of :data:`COMMANDS`, loaded on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def main(self, args=None, prog_name=None, **extra):
        """Run, turning every failure into one stderr sentence and an exit code."""
        argv = list(sys.argv[1:] if args is None else args)
        verbose = any(a in ("-v", "-vv", "-vvv", "--verbose") for a in argv)
        try:
            rv = super().main(args=argv, prog_name=prog_name, standalone_mode=False, **extra)
        except LpsectlError as exc:
            click.echo(f"lpsectl: {exc.message}", err=True)
            if verbose and exc.detail:
                click.echo(exc.detail, err=True)
            sys.exit(int(exc.exit_code))
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(int(ExitCode.USAGE) if isinstance(exc, click.UsageError) else exc.exit_code)
        except (click.exceptions.Abort, KeyboardInterrupt):
            # click turns Ctrl-C (and cron's or the scheduler's SIGINT timeout) into Abort.
            # What was complete is stored by now; a worker thread still blocked on a host
            # must not keep the process alive (the interpreter would wait for it at exit)
            click.echo("lpsectl: interrupted", err=True)
            if any(
                t.is_alive() and not t.daemon
                for t in threading.enumerate()
                if t is not threading.main_thread()
            ):
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(130)
            sys.exit(130)
        except BrokenPipeError:
            sys.exit(0)
        except OSError as exc:
            # the machine refused (disk, permissions, a file gone): its sentence, exit 5 —
            # a bug of ours would not be an OSError naming a file
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"lpsectl: {where}{exc.strerror or exc}", err=True)
            if verbose:
                traceback.print_exc()
            sys.exit(int(ExitCode.UNAVAILABLE))
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            click.echo(
                f"lpsectl: internal error: {exc.__class__.__name__}: {exc} "
                "(run with -v for the traceback)",
                err=True,
            )
            if verbose:
                traceback.print_exc()
            sys.exit(int(ExitCode.INTERNAL))
        sys.exit(rv if isinstance(rv, int) else 0)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module_name = COMMANDS.get(name)
        if module_name is None:
            return None
        command: click.Command = importlib.import_module(module_name).command
        return command


@click.group(
    cls=LpsectlGroup, help=ROOT_HELP, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "--config",
    "config_path",
    metavar="FILE",
    envvar="LPSECTL_CONFIG",
    help="Config file (default: $LPSECTL_CONFIG, $XDG_CONFIG_HOME/lpsectl/lpsectl.toml, "
    "/etc/lpsectl/lpsectl.toml; none = local host only).",
)
@click.option(
    "--lang",
    type=click.Choice(["id", "en"]),
    help="Language of documents (default from config: id).",
)
@click.option("-v", "--verbose", count=True, help="More detail on stderr (repeat for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors (implied when not on a terminal).")
@click.option(
    "--new-store",
    is_flag=True,
    help="Start a new, empty history when the old one is missing or empty (after a restore failed).",
)
@click.version_option(__version__, prog_name="lpsectl")
@click.pass_context
def root(
    ctx: click.Context,
    config_path: str | None,
    lang: str | None,
    verbose: int,
    quiet: bool,
    new_store: bool,
) -> None:
    if ctx.resilient_parsing:
        return
    # off a terminal (cron, systemd) -q is implied, so a successful run says nothing
    quiet = quiet or (not verbose and not sys.stderr.isatty())
    verbosity = -1 if quiet else verbose
    _setup_logging(verbosity)
    if ctx.invoked_subcommand == "init":
        # `init` must work when the config is missing or broken
        config = None
    else:
        config = load_config(config_path)
    app = AppContext(
        config=config,  # type: ignore[arg-type]  # None only for `init`, which reads no config
        lang=lang or (config.lpse.language if config else "id"),
        verbosity=verbosity,
        new_store=new_store,
    )
    ctx.obj = app
    ctx.call_on_close(app.close)


def _setup_logging(verbosity: int) -> None:
    level = logging.WARNING
    if verbosity >= 2:
        level = logging.DEBUG
    elif verbosity == 1:
        level = logging.INFO
    elif verbosity < 0:
        level = logging.ERROR
    logging.basicConfig(level=level, format="lpsectl: %(message)s", stream=sys.stderr, force=True)
    logging.getLogger("paramiko").setLevel(logging.CRITICAL if verbosity < 2 else logging.DEBUG)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    interruptible()
    root.main(args=argv, prog_name="lpsectl")


def interruptible() -> None:
    """Ctrl-C and cron's ``timeout -s INT`` interrupt lpsectl even when it was started with
    SIGINT ignored (a background job of a shell ignores it, and Python then installs no
    handler): without this, the SIGINT is lost and only the SIGKILL after it ends the run,
    with nothing cleaned up."""
    import signal

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
