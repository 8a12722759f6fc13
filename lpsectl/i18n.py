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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
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
