"""`lpsectl init` — write a commented example config."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import click

from lpsectl.commands._common import pass_app
from lpsectl.config import config_search_path
from lpsectl.context import AppContext
from lpsectl.errors import UsageError


def example_config() -> str:
    return (resources.files("lpsectl") / "example-config.toml").read_text(encoding="utf-8")


def default_target() -> Path:
    if os.geteuid() == 0:
        return Path("/etc/lpsectl/lpsectl.toml")
    return config_search_path()[-2]


@click.command("init")
@click.option(
    "--path",
    "target",
    type=click.Path(dir_okay=False),
    help="Where to write (default: /etc/lpsectl/lpsectl.toml for root, else ~/.config/lpsectl/lpsectl.toml; - for stdout).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@pass_app
def command(app: AppContext, target: str | None, force: bool) -> None:
    """Write a commented example config to edit.

    \b
    Examples:
      lpsectl init                       # then edit /etc/lpsectl/lpsectl.toml
      lpsectl init --path - | less       # just read it
    """
    text = example_config()
    if target == "-":
        click.echo(text, nl=False)
        return
    path = Path(target).expanduser() if target else default_target()
    if path.exists() and not force:
        raise UsageError(f"{path} already exists; use --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path}; edit it, then run: lpsectl hosts check", err=True)
