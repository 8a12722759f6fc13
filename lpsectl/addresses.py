"""E-mail addresses, checked where they enter lpsectl (config, committees file, options).

One written address is one mailbox: ``kepala@contoh.example`` or
``Bapak Wiryo Santoso, S.Kom. <kepala@contoh.example>`` — a display name may
hold commas (Indonesian degree suffixes) without quotes, because every list
element in the config, every ``;``-separated cell in the committees file and
every ``--to`` value is exactly one address.

The result is an :class:`email.headerregistry.Address`, so headers are
written by the ``email`` package (quoting the display name where needed) and
never by string joining. Domains are IDNA-encoded (``xn--…``); a non-ASCII
local part is kept and needs SMTPUTF8 on the server (RFC 6531), which
:mod:`lpsectl.mail` checks per recipient at delivery.
"""

from __future__ import annotations

import re
import unicodedata
from email.headerregistry import Address

#: RFC 5322 atext, plus any non-ASCII letter (RFC 6532); dots between atoms
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010FFFF]"
_LOCAL = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_NAMED = re.compile(r"(?P<name>.*?)\s*<(?P<addr>[^<>]*)>\s*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _invisible(text: str) -> str | None:
    """The first character a reader cannot see or that reorders text (format, bidi,
    line/paragraph separators, controls), or None."""
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cn", "Cs"):
            return char
    return None


class AddressError(ValueError):
    """``text`` is not one e-mail address; the message is one sentence that quotes the
    value and says why (callers add only the place: key, file and line, option)."""


def parse_address(text: str) -> Address:
    """One mailbox from ``text``: ``addr`` or ``Display Name <addr>``.

    Returns an :class:`Address` with an IDNA-encoded domain. Raises
    :class:`AddressError` ("'x' is not one e-mail address: it has no '@'") for empty
    text, control characters (CR/LF included), more than one address, a missing
    ``@``, a bad local part or domain.
    """
    try:
        return _parse(text)
    except AddressError as exc:
        raise AddressError(f"{describe(text)} is not one e-mail address: it {exc}") from None


def _parse(text: str) -> Address:
    if not isinstance(text, str):
        raise AddressError(f"expected text, got {type(text).__name__}")
    if _CONTROL.search(text):
        raise AddressError("contains a control character (a line break or tab)")
    hidden = _invisible(text)
    if hidden is not None:
        raise AddressError(
            f"contains an invisible character (U+{ord(hidden):04X} "
            f"{unicodedata.name(hidden, 'unnamed')})"
        )
    text = text.strip()
    if not text:
        raise AddressError("is empty")
    name, spec = "", text
    named = _NAMED.fullmatch(text)
    if named:
        name = named.group("name").strip()
        if len(name) >= 2 and name[0] == name[-1] == '"':
            name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        elif any(c in name for c in '<>@"'):
            # "Kepala <a@x>, Wakil <b@y>" or "a@x <b@y>": two addresses, not a name
            raise AddressError(
                "holds more than one address (one address per value; "
                "quote a display name that contains '<', '>' or '@')"
            )
        spec = named.group("addr").strip()
    elif "<" in text or ">" in text:
        raise AddressError("has an unmatched '<' or '>'")
    local, at, domain = spec.rpartition("@")
    if not at:
        raise AddressError("has no '@'")
    if not local:
        raise AddressError("has nothing before the '@'")
    if (
        len(local) > 64
        or not _LOCAL.fullmatch(local)
        or any(not c.isascii() and unicodedata.category(c)[0] not in "LNM" for c in local)
    ):
        # beyond ASCII only letters, digits and marks: a no-break space or a look-alike
        # symbol in a mailbox name is a typo or a trick, never what the admin meant
        raise AddressError(f"has an invalid part before the '@' ({local[:40]!r})")
    ascii_domain = encode_domain(domain)
    try:
        return Address(display_name=name, username=local, domain=ascii_domain)
    except (ValueError, TypeError) as exc:  # the email package's own last word
        raise AddressError(str(exc)) from exc


def encode_domain(domain: str) -> str:
    """``domain`` as ASCII (IDNA 2003 via Python's codec); :class:`AddressError` if impossible."""
    domain = domain.strip().rstrip(".")
    if not domain:
        raise AddressError("has nothing after the '@'")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise AddressError(f"has an invalid domain ({domain[:60]!r})") from exc
    labels = ascii_domain.split(".")
    if len(ascii_domain) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise AddressError(f"has an invalid domain ({domain[:60]!r})")
    return ascii_domain.lower()


def is_ascii(address: Address | str) -> bool:
    """True when the envelope address needs no SMTPUTF8."""
    spec = address.addr_spec if isinstance(address, Address) else address
    return spec.isascii()


def describe(text: object) -> str:
    """``text`` quoted for an error message, control characters made visible, cut to 80."""
    shown = repr(text)
    return shown if len(shown) <= 80 else shown[:79] + "…"
