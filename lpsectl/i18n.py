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
which Babel marks ``python-brace-format``; ``scripts/i18n`` refuses a translation that
drops or renames one. A message stored as text before a document shows it (a
collector's error kept in a snapshot, a remote script's words, a change's reasons) is
formatted from its msgid in :mod:`lpsectl.messages` and found again by
:func:`localize`, which renders it in the document's language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
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


#: parameters that may hold a message of their own (a reason inside a reason); the
#: others (a host, a path, the administrator's own words) are kept as written
NESTED = frozenset({"reason", "why", "hint", "what", "change_class", "detail"})
#: longer stored texts are shown as stored: the patterns' lazy groups backtrack, and no
#: message lpsectl stores is this long
MAX_LOCALIZED = 2000
MAX_DEPTH = 3


def localize(text: Any, lang: str, _depth: int = 0) -> Any:
    """A message stored as English text (``snapshots.error``, an ``unavailable`` reason, a
    remote script's words, a change's reasons), in ``lang``: matched back against the
    stored msgids of :mod:`lpsectl.messages`, its :data:`NESTED` parameters localized
    in turn (at most :data:`MAX_DEPTH` deep). Text that matches none (an OS's or
    PostgreSQL's own words, a log line), or longer than :data:`MAX_LOCALIZED`, is
    returned as is; this never raises."""
    if not isinstance(text, str) or not text or lang == "en" or len(text) > MAX_LOCALIZED:
        return text
    import lpsectl.messages  # noqa: F401  (registers the stored msgids; imported late: it imports this module)

    for pattern, msgid in _stored_patterns():
        match = pattern.fullmatch(text)
        if match is None:
            continue
        params = {
            key: localize(value, lang, _depth + 1)
            if key in NESTED and _depth < MAX_DEPTH
            else value
            for key, value in match.groupdict().items()
        }
        try:
            return gettext(lang)(msgid).format(**params)
        except (KeyError, IndexError, ValueError):
            return text  # a translation that does not fit (scripts/i18n refuses these)
    return text
