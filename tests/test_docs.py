"""The docs and the code stay in step (in the manner of sqlite-utils' test_docs.py):
every config key is documented, the example config is valid and its values are the
code's defaults (apart from the site-specific ones), every command's --help has
examples."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

import click
import pytest

from lpsectl import config as C
from lpsectl.cli import root
from lpsectl.commands.init import example_config
from lpsectl.sections import feature_sections

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = {
    "lpse": C.LpseSettings,
    "ssh": C.SshSettings,
    "hosts": C.HostConfig,
    "hosts.postgres": C.PostgresSettings,
    "mail": C.MailSettings,
    **feature_sections(),
}
#: values the example sets for an imaginary LPSE, not the defaults
SITE_SPECIFIC = {
    ("lpse", "name"),
    ("ssh", "key_file"),
    ("ssh", "user"),
    ("mail", "smtp_host"),
    ("mail", "smtp_port"),
    ("mail", "starttls"),
    ("mail", "sender"),
    ("mail", "helpdesk"),
    ("mail", "head"),
    ("mail", "committees_file"),
}


def documentation() -> str:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(path.read_text() for path in files) + example_config()


def keys(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls) if f.metadata.get("config", True)]


def default(cls: type, name: str) -> object:
    found = next(f for f in dataclasses.fields(cls) if f.name == name)
    value = found.default if found.default is not dataclasses.MISSING else found.default_factory()  # type: ignore[misc]
    return list(value) if isinstance(value, tuple) else value


def test_the_known_sections_are_the_ones_checked_here():
    assert {name.split(".")[0] for name in SECTIONS} == {
        "lpse",
        "ssh",
        "hosts",
        "mail",
        *C.FEATURE_SECTIONS,
    }


@pytest.mark.parametrize(
    ("section", "key"), [(s, k) for s, cls in SECTIONS.items() for k in keys(cls)]
)
def test_every_config_key_is_documented(section, key):
    assert re.search(r"(?<![\w])" + re.escape(key) + r"(?![\w])", documentation()), (
        f"[{section}] {key} is in no docs/*.md, README.md or the example config"
    )


def test_the_example_config_holds_only_real_keys_with_the_defaults():
    example = tomllib.loads(example_config())
    C.parse_config(example, "example-config.toml")  # unknown keys and wrong types raise
    for section, cls in SECTIONS.items():
        if section.startswith("hosts"):
            continue  # hosts are the site's own by nature
        raw: object = example
        for part in section.split("."):
            raw = raw.get(part, {}) if isinstance(raw, dict) else {}
        assert isinstance(raw, dict)
        for key, value in raw.items():
            if isinstance(value, dict) or (section, key) in SITE_SPECIFIC:
                continue
            assert value == default(cls, key), (
                f"[{section}] {key} = {value!r} in the example, {default(cls, key)!r} in the code"
            )


def commands(group: click.Group, path: list[str]):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            yield from commands(command, [*path, name])
        else:
            yield [*path, name], command


@pytest.mark.parametrize(
    ("path", "command"),
    list(commands(root, [])),
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_every_command_help_has_examples(path, command):
    text = command.get_help(click.Context(command, info_name=" ".join(path)))
    assert "Examples:" in text or "Example:" in text, (
        f"lpsectl {' '.join(path)} --help has no examples"
    )


def test_every_command_module_is_registered():
    import importlib
    import pkgutil

    from lpsectl import commands
    from lpsectl.cli import COMMANDS

    modules = {
        info.name
        for info in pkgutil.iter_modules(commands.__path__)
        if not info.name.startswith("_")
    }
    with_command = {
        name
        for name in modules
        if hasattr(importlib.import_module(f"lpsectl.commands.{name}"), "command")
    }
    assert {module.rsplit(".", 1)[1] for module in COMMANDS.values()} == with_command
