"""Jinja environment for every human document, with Indonesian date filters.

Templates are looked up first in the directory named by ``lpse.templates_dir``
(so an LPSE can override any document), then in the shipped package
``lpsectl.templates``. For a language ``lang``, ``NAME`` resolves to
``lang/NAME`` when that exists, else ``NAME``: the shipped templates are one
per document, their words catalog messages (``_("…")``, ``pgettext``, filled
with the ``fill`` filter) read in ``lang``; an override may still be a whole
document in one language (``templates_dir/id/NAME``). HTML templates
(``*.html.j2``) are autoescaped; text templates are not.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import jinja2
from babel.dates import format_date, get_time_format
from babel.numbers import format_decimal
from markupsafe import Markup

from lpsectl import i18n
from lpsectl.errors import ConfigError
from lpsectl.i18n import localize, translations
from lpsectl.slaclock import working_duration

ZONE_ABBREVIATIONS = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Ujung_Pandang": "WITA",
    "Asia/Jayapura": "WIT",
}


def zone_abbreviation(moment: datetime) -> str:
    key = getattr(moment.tzinfo, "key", "")
    return ZONE_ABBREVIATIONS.get(key) or moment.strftime("%Z") or "UTC"


def long_date(value: date | datetime, lang: str = "id") -> str:
    """'Senin, 7 Desember 2026' / 'Monday, 7 December 2026'."""
    return format_date(value, "EEEE, d MMMM y", locale=lang)


def long_datetime(moment: datetime, lang: str = "id") -> str:
    """'Senin, 7 Desember 2026 pukul 22.00 WIB' / 'Monday, 7 December 2026 at 22:00 WIB'."""
    _ = i18n.gettext(lang)
    return _("{date} at {time}").format(date=long_date(moment, lang), time=clock(moment, lang))


def time_separator(lang: str) -> str:
    """ "." or ":" — the separator of the locale's own short time pattern (Babel:
    "HH.mm" in Indonesian, "h:mm a" in English); lpsectl always writes 24-hour times."""
    return "." if "." in get_time_format("short", locale=lang).pattern else ":"


def clock(moment: datetime, lang: str = "id") -> str:
    """'22.00 WIB' / '22:00 WIB'."""
    sep = time_separator(lang)
    return f"{moment:%H}{sep}{moment:%M} {zone_abbreviation(moment)}"


def day_clock(moment: datetime, day: date | str | None, lang: str = "id") -> str:
    """A time in a report about ``day``: '14.05' on that day, '21 Nov 06.10' on another
    (a log entry read the next morning, an error first seen days ago)."""
    sep = time_separator(lang)
    text = f"{moment:%H}{sep}{moment:%M}"
    if isinstance(day, str):
        day = date.fromisoformat(day) if day else None
    if day is not None and moment.date() != day:
        return f"{format_date(moment, 'd MMM', locale=lang)} {text}"
    return text


def human_duration(delta: timedelta | float, lang: str = "id") -> str:
    """'4 jam 30 menit' / '4 hours 30 minutes' / '1 day' (plural forms of the catalog)."""
    seconds = int(delta.total_seconds() if isinstance(delta, timedelta) else delta)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    ngettext = i18n.ngettext(lang)
    parts = []
    if days:
        parts.append(ngettext("{n} day", "{n} days", days).format(n=days))
    if hours:
        parts.append(ngettext("{n} hour", "{n} hours", hours).format(n=hours))
    if minutes or not parts:
        parts.append(ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes))
    return " ".join(parts)


def human_bytes(value: float | None, lang: str = "en") -> str:
    """'4.8 MiB' / '4,8 MiB' (binary units, locale decimals)."""
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.0f} B" if unit == "B" else f"{number(size, lang, 1)} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def number(value: float | None, lang: str = "id", digits: int = 1) -> str:
    """Locale number: 1.234,5 in Indonesian, 1,234.5 in English."""
    if value is None:
        return "-"
    fmt = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=fmt, locale=lang)


@jinja2.pass_eval_context
def fill(eval_ctx: Any, message: str, **values: Any) -> str:
    """A catalog message (``_("…")``) with its ``{placeholders}`` filled in. In an
    autoescaped (HTML) template the message is the template's own markup (a
    ``<strong>`` inside a sentence) and every value is escaped (``Markup.format``);
    in a text template it is ``str.format``."""
    if eval_ctx.autoescape:
        return Markup(message).format(**values)
    return message.format(**values)


class LanguageLoader(jinja2.BaseLoader):
    """Resolve NAME to LANG/NAME first, then NAME, through the wrapped loader."""

    def __init__(self, inner: jinja2.BaseLoader, lang: str) -> None:
        self.inner = inner
        self.lang = lang

    def get_source(self, environment: jinja2.Environment, template: str) -> Any:
        try:
            return self.inner.get_source(environment, f"{self.lang}/{template}")
        except jinja2.TemplateNotFound:
            return self.inner.get_source(environment, template)


@lru_cache(maxsize=16)
def environment(lang: str = "id", override_dir: str = "") -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if override_dir:
        loaders.append(jinja2.FileSystemLoader(override_dir))
    loaders.append(jinja2.PackageLoader("lpsectl.templates", ""))
    env = jinja2.Environment(
        loader=LanguageLoader(jinja2.ChoiceLoader(loaders), lang),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "htm", "xml", "html.j2", "xml.j2"),
            default_for_string=False,
            default=False,
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    # _("…") and pgettext("context", "…") in templates: the catalog of lpsectl.i18n
    env.install_gettext_translations(translations(lang), newstyle=False)  # type: ignore[attr-defined]
    env.filters["long_date"] = lambda v: long_date(v, lang)
    env.filters["long_datetime"] = lambda v: long_datetime(v, lang)
    env.filters["clock"] = lambda v: clock(v, lang)
    env.filters["duration"] = lambda v: human_duration(v, lang)
    env.filters["bytes"] = lambda v: human_bytes(v, lang)
    env.filters["number"] = lambda v, digits=1: number(v, lang, digits)
    env.filters["localize"] = lambda v: localize(v, lang)
    env.filters["fill"] = fill
    env.filters["day_clock"] = lambda v, day: day_clock(v, day, lang)
    env.filters["working_duration"] = lambda v: working_duration(v, lang)
    env.globals["lang"] = lang
    return env


def _overrides(folder: str) -> bool:
    """Whether ``folder`` holds any template: then a name a template lacks may be the
    override's (a labels file copied from an older lpsectl, imported by a shipped one)."""
    try:
        return any(path.endswith(".j2") for _, _, files in os.walk(folder) for path in files)
    except OSError:
        return False


def render(template: str, lang: str = "id", override_dir: str = "", **context: Any) -> str:
    """``template`` rendered in ``lang``. Raises ConfigError when a template of
    ``lpse.templates_dir`` uses a name this version does not give it (an override
    copied from an older lpsectl): the admin's file, not a bug of lpsectl."""
    try:
        return environment(lang, override_dir).get_template(template).render(**context)
    except jinja2.UndefinedError as exc:
        if not override_dir or not _overrides(override_dir):
            raise  # only shipped templates in play: a bug of lpsectl (exit 70), not the admin's
        raise ConfigError(
            f"{template}: {exc.message} — a template in lpse.templates_dir ({override_dir}) "
            "may come from an older lpsectl: compare it with the shipped one "
            "(templates/ in the package) or remove it"
        ) from None
