"""Hypothesis over address strings at the boundaries where they enter (issue 12):
the config loader and the committees file give a sentence or a valid address,
never a traceback; whatever they accept builds a message and a Message-ID."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lpsectl import mail
from lpsectl.addresses import AddressError, parse_address
from lpsectl.committees import read_committees
from lpsectl.config import parse_config
from lpsectl.errors import ConfigError

#: pieces hostile input is made of: separators, quotes, brackets, line breaks, non-ASCII
PIECES = st.sampled_from(
    [
        "a",
        "b.c",
        "@",
        "<",
        ">",
        ",",
        ";",
        '"',
        " ",
        "\r\n",
        "\n",
        "\t",
        "\x00",
        "ā",
        "ü",
        "例",
        "xn--",
        "-",
        ".",
        "contoh.example",
        "S.Kom.",
        "(",
        ")",
        "\\",
    ]
)
ADDRESSES = st.one_of(st.text(max_size=60), st.lists(PIECES, max_size=12).map("".join))

SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(ADDRESSES)
def test_parse_address_gives_an_address_or_an_address_error(text):
    try:
        address = parse_address(text)
    except AddressError as exc:
        assert str(exc)
        return
    # an oracle of its own (not parse_address): outside double quotes, an accepted value
    # has exactly one '@' and at most one '<'...'>' pair
    unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', "", text)
    assert unquoted.count("@") == 1 and unquoted.count("<") <= 1 and unquoted.count(">") <= 1
    assert "\n" not in str(address) and "\r" not in str(address)
    assert address.addr_spec.count("@") >= 1 and address.domain.isascii()
    assert parse_address(str(address)).addr_spec == address.addr_spec  # formatting round-trips


@SETTINGS
@given(ADDRESSES)
def test_config_accepts_a_valid_address_or_names_the_key(text):
    try:
        config = parse_config({"mail": {"head": [text], "helpdesk": ["helpdesk@uji.example"]}})
    except ConfigError as exc:
        assert "mail.head[0]" in exc.message
        return
    message = mail.build_message(
        config,
        to=config.mail.head,
        subject="s",
        text="t",
        message_id=mail.message_key(config, "x", text),
    )
    assert mail.recipients_of(message) == [parse_address(text).addr_spec]
    assert "\n" not in str(message["Message-ID"])


@SETTINGS
@given(st.lists(st.tuples(st.text(max_size=20), ADDRESSES), max_size=5))
def test_committees_file_skips_bad_rows_with_their_line(tmp_path_factory, rows):
    import csv

    path = Path(tmp_path_factory.mktemp("pokja")) / "pokja.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "email"])
        writer.writerows(rows)
    try:
        found = read_committees(path)
    except ConfigError as exc:  # only for a file that is unusable as a whole
        assert str(path) in exc.message
        return
    for committee in found:
        assert committee.name and committee.emails
        for address in committee.addresses:
            assert "\n" not in str(address)
    for problem in found.problems:
        assert problem.startswith(f"{path}:")
