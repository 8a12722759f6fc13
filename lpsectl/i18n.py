"""Messages in the reader's language: gettext catalogs made and compiled with Babel.

Every user-visible message is written in English in the code (marked ``N_("…")``
where it is only declared, translated with :func:`gettext` where it is used) and
in the templates (``_("…")``, Jinja's i18n extension). ``pybabel extract`` collects
them into ``lpsectl/locale/lpsectl.pot``; the catalogs
``lpsectl/locale/<lang>/LC_MESSAGES/lpsectl.po`` hold the Indonesian and English
texts, compiled to ``.mo`` and shipped in the wheel (``scripts/i18n`` runs the
whole cycle; ``tests/test_i18n.py`` fails on a message missing from either
catalog or a ``.mo`` older than its ``.po``).

Messages with parameters use ``str.format`` names (``"{host} is not reachable"``),
which Babel marks ``python-brace-format`` so a translation cannot drop or rename one
unnoticed. A message stored before it is shown (a collector's problem kept in a
snapshot) is a :class:`Message`: its msgid and parameters, rendered in the language
of whichever document shows it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from string import Formatter
from typing import Any

from babel.support import NullTranslations, Translations

DOMAIN = "lpsectl"
LOCALE_DIR = Path(__file__).with_name("locale")
#: the languages lpsectl ships catalogs for (``[lpse] language``, ``--lang``)
LANGUAGES = ("id", "en")


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it yet (it is a msgid)."""
    return message


@lru_cache(maxsize=8)
def translations(lang: str) -> NullTranslations:
    """The compiled catalog of ``lang``.

    Raises FileNotFoundError for a shipped language whose ``.mo`` is missing (a
    broken installation: the documents would silently come out in English); any
    other language gets the untranslated English messages."""
    if lang in LANGUAGES:
        path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
        with path.open("rb") as fileobj:
            return Translations(fileobj, domain=DOMAIN)
    return NullTranslations()


def gettext(lang: str) -> Callable[[str], str]:
    """``_ = gettext(lang)``; ``_("Disk full")`` → that message in ``lang``."""
    return translations(lang).gettext


def ngettext(lang: str) -> Callable[[str, str, int], str]:
    """The plural form of ``lang`` for a count (Indonesian has one form, English two)."""
    return translations(lang).ngettext


def translated(table: Any, lang: str) -> Any:
    """``table`` (a msgid, or dicts/lists/tuples of them) with every string translated."""
    _ = gettext(lang)
    if isinstance(table, str):
        return _(table) if table else table
    if isinstance(table, Mapping):
        return {key: translated(value, lang) for key, value in table.items()}
    if isinstance(table, list | tuple):
        return type(table)(translated(value, lang) for value in table)
    return table


_STORED: list[str] = []


def stored(msgid: str) -> str:
    """Register ``msgid`` as a message kept as English text before it is shown
    (:mod:`lpsectl.messages`): :func:`localize` finds it again in the stored text."""
    _STORED.append(msgid)
    _stored_patterns.cache_clear()
    return msgid


@lru_cache(maxsize=1)
def _stored_patterns() -> list[tuple[re.Pattern[str], str]]:
    patterns = []
    # the longest fixed text first: "cannot connect to PostgreSQL on {host}: …" before
    # "cannot connect to {target}: …"
    for msgid in sorted(_STORED, key=lambda m: -sum(len(lit) for lit, *_ in Formatter().parse(m))):
        regex, seen = [], set()
        for literal, name, _spec, _conv in Formatter().parse(msgid):
            regex.append(re.escape(literal))
            if name is None:
                continue
            regex.append(f"(?P={name})" if name in seen else f"(?P<{name}>.*?)")
            seen.add(name)
        patterns.append((re.compile("".join(regex), re.DOTALL), msgid))
    return patterns


def localize(text: Any, lang: str) -> Any:
    """A message stored as English text (``snapshots.error``, an ``unavailable`` reason, a
    remote script's words), in ``lang``: matched back against the stored msgids of
    :mod:`lpsectl.messages`, its parameters localized in turn (a reason inside a
    reason). Text that matches none (an OS's own words, a log line) is returned as is."""
    if not isinstance(text, str) or not text or lang == "en":
        return text
    import lpsectl.messages  # noqa: F401  (registers the stored msgids)

    for pattern, msgid in _stored_patterns():
        match = pattern.fullmatch(text)
        if match is not None:
            params = {key: localize(value, lang) for key, value in match.groupdict().items()}
            return gettext(lang)(msgid).format(**params)
    return text


Param = Any  # str/number, a Message, or a callable of the language (a locale number)


@dataclass(frozen=True)
class Message:
    """A message kept until a document shows it: ``msgid`` with ``str.format`` parameters.

    Parameters may themselves be :class:`Message` objects or callables taking the
    language (``lambda lang: number(x, lang)``); both are resolved in the document's
    language. Stored in JSON as ``{"msgid": …, "params": {…}}`` (plain parameters only).
    """

    msgid: str
    params: Mapping[str, Param] = field(default_factory=dict)

    def text(self, lang: str) -> str:
        values = {key: resolve(value, lang) for key, value in self.params.items()}
        return gettext(lang)(self.msgid).format(**values)

    def as_json(self) -> dict[str, Any]:
        return {
            "msgid": self.msgid,
            "params": {key: resolve(value, "en") for key, value in self.params.items()},
        }


def resolve(value: Param, lang: str) -> Any:
    if isinstance(value, Message):
        return value.text(lang)
    if callable(value):
        return value(lang)
    return value


def message_text(item: Mapping[str, Any], lang: str, key: str = "message") -> str:
    """The text of a stored problem in ``lang``: its ``msgid``/``params`` when it has them
    (stored by this version), else the ``key`` text it was stored with (older snapshots,
    remote scripts that only send English)."""
    msgid = item.get("msgid")
    params = item.get("params")
    if isinstance(msgid, str) and isinstance(params, Mapping):
        try:
            return Message(msgid, dict(params)).text(lang)
        except (KeyError, IndexError, ValueError):
            pass  # a stored message whose parameters no longer fit: show it as stored
    return str(item.get(key, ""))
