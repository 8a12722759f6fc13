"""The clock SOP 001's time limits run on: calendar time, or the helpdesk's working hours.

Pure arithmetic. A helpdesk works office hours (``"Mon-Thu 08:00-16:00, Fri
08:00-16:30"``), not on Indonesia's national holidays (the ``holidays`` package,
country ``ID``, which follows the government's decrees) nor on the *cuti bersama*
days the LPSE lists itself. A ticket waiting for the reporter's data ("Menunggu
Data") is on the reporter's clock: those intervals are *paused* on either clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache

CALENDAR = "calendar"
WORKING = "working"
CLOCKS = (CALENDAR, WORKING)

_DAYS = {
    **dict.fromkeys(["mon", "monday", "sen", "senin"], 0),
    **dict.fromkeys(["tue", "tuesday", "sel", "selasa"], 1),
    **dict.fromkeys(["wed", "wednesday", "rab", "rabu"], 2),
    **dict.fromkeys(["thu", "thursday", "kam", "kamis"], 3),
    **dict.fromkeys(["fri", "friday", "jum", "jumat", "jum'at"], 4),
    **dict.fromkeys(["sat", "saturday", "sab", "sabtu"], 5),
    **dict.fromkeys(["sun", "sunday", "min", "minggu", "ahad"], 6),
}
_GROUP = re.compile(
    r"^\s*(?P<days>[a-z']+(?:\s*-\s*[a-z']+)?)\s+(?P<start>\d{1,2}[:.]\d\d)\s*-\s*(?P<end>\d{1,2}[:.]\d\d)\s*$"
)


@dataclass(frozen=True)
class WorkingHours:
    """weekday (0 = Monday) → the (start, end) spans of that day, minutes after midnight
    (a break splits a day: ``Fri 08:00-11:30, Fri 13:00-16:30``)."""

    spans: dict[int, tuple[tuple[int, int], ...]]

    def day_spans(self, day: date) -> tuple[tuple[int, int], ...]:
        return self.spans.get(day.weekday(), ())


_SPAN_ONLY = re.compile(r"^\s*(?P<start>\d{1,2}[:.]\d\d)\s*-\s*(?P<end>\d{1,2}[:.]\d\d)\s*$")


def parse_working_hours(text: str) -> WorkingHours:
    """``"Mon-Thu 08:00-16:00, Fri 08:00-16:30"`` (English or Indonesian day names,
    ``.`` or ``:`` in times, groups apart by ``,`` or ``;``) → :class:`WorkingHours`; the
    form the reports print reads back too: ``"Senin–Kamis 08.00–16.00, Jumat
    08.00–11.30 dan 13.00–16.30"`` (dashes, a second span of the same days after "dan"
    or "and"). ValueError names what is wrong."""
    spans: dict[int, list[tuple[int, int]]] = {}
    normal = re.sub(r"[\u2010-\u2015]", "-", str(text))
    normal = re.sub(r"\s+(?:dan|and)\s+", ", ", normal, flags=re.IGNORECASE)
    days_before = ""
    for group in re.split(r"[,;]", normal):
        if not group.strip():
            continue  # "Mon-Fri 08:00-16:00," or "a;; b"
        only = _SPAN_ONLY.match(group)
        if only is not None and days_before:
            group = f"{days_before} {group.strip()}"  # "… dan 13.00-16.30": the same days
        match = _GROUP.match(group.casefold())
        if match is not None:
            days_before = match.group("days")
        if match is None:
            raise ValueError(
                f"{group.strip()!r} is not like 'Mon-Fri 08:00-16:00' (days, then a time span)"
            )
        names = [n.strip() for n in match.group("days").split("-")]
        if any(n not in _DAYS for n in names):
            raise ValueError(f"{match.group('days')!r}: unknown day name (Mon..Sun, Senin..Minggu)")
        first, last = _DAYS[names[0]], _DAYS[names[-1]]
        if last < first:
            raise ValueError(f"{match.group('days')!r}: days run from Monday to Sunday")
        start, end = _minute(match.group("start")), _minute(match.group("end"))
        if not 0 <= start < end <= 24 * 60:
            raise ValueError(f"{group.strip()!r}: the span must start before it ends, within a day")
        for day in range(first, last + 1):
            if any(start < e and s < end for s, e in spans.get(day, [])):
                raise ValueError(f"{group.strip()!r}: overlaps another span of the same day")
            spans.setdefault(day, []).append((start, end))
    if not spans:
        raise ValueError("no working day given")
    return WorkingHours({day: tuple(sorted(found)) for day, found in spans.items()})


def describe_working_hours(hours: WorkingHours, lang: str) -> str:
    """The office hours in the document's language, days with the same spans grouped:
    ``"Senin–Kamis 08.00–16.00, Jumat 08.00–11.30 dan 13.00–16.30"`` (day names and the
    time separator from Babel's locale data, whatever language the setting was written in)."""
    from babel.dates import get_day_names

    from lpsectl.i18n import gettext
    from lpsectl.render import time_separator  # here: render imports this module

    names = get_day_names("wide", locale=lang)  # 0 = Monday, as date.weekday()
    sep = time_separator(lang)
    _ = gettext(lang)

    def span_text(spans: tuple[tuple[int, int], ...]) -> str:
        texts = [f"{s // 60:02d}{sep}{s % 60:02d}–{e // 60:02d}{sep}{e % 60:02d}" for s, e in spans]
        return (
            _("{first} and {second}").format(first=", ".join(texts[:-1]), second=texts[-1])
            if len(texts) > 1
            else texts[0]
        )

    groups: list[tuple[int, int, tuple[tuple[int, int], ...]]] = []
    for day in range(7):
        spans = hours.spans.get(day, ())
        if not spans:
            continue
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == spans:
            groups[-1] = (groups[-1][0], day, spans)
        else:
            groups.append((day, day, spans))
    return ", ".join(
        (names[first] if first == last else f"{names[first]}–{names[last]}")
        + " "
        + span_text(spans)
        for first, last, spans in groups
    )


def working_duration(minutes: float, lang: str) -> str:
    """A span on the working clock: hours and minutes only ("30 jam 15 menit"), since a
    working day is not 24 hours — "1 hari 6 jam" would read as 30 calendar hours."""
    from lpsectl.i18n import ngettext as plural

    ngettext = plural(lang)
    hours, rest = divmod(int(minutes), 60)
    parts = []
    if hours:
        parts.append(ngettext("{n} working hour", "{n} working hours", hours).format(n=hours))
    if rest or not parts:
        parts.append(ngettext("{n} minute", "{n} minutes", rest).format(n=rest))
    return " ".join(parts)


def _minute(text: str) -> int:
    hours, minutes = (int(part) for part in re.split(r"[:.]", text))
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise ValueError(f"{text!r} is not a time of day")
    return hours * 60 + minutes


@lru_cache(maxsize=64)
def national_holidays(country: str, year: int) -> frozenset[date]:
    """The public holidays of ``country`` in ``year`` (the ``holidays`` package)."""
    import holidays

    return frozenset(holidays.country_holidays(country, years=year))


@dataclass
class SlaClock:
    """Minutes between two moments as the SLA counts them.

    ``mode``: :data:`CALENDAR` (every minute) or :data:`WORKING` (only minutes within
    ``hours`` on days that are neither a national holiday of ``country`` nor one of
    ``closed_days``). Pauses (the reporter's time) never count, on either clock."""

    mode: str = CALENDAR
    hours: WorkingHours | None = None
    country: str = "ID"
    closed_days: frozenset[date] = field(default_factory=frozenset)
    #: the zone working hours are read in (None: the zone of the times given)
    tz: tzinfo | None = None

    def is_working_day(self, day: date) -> bool:
        if self.hours is None or not self.hours.day_spans(day) or day in self.closed_days:
            return False
        return not (self.country and day in national_holidays(self.country, day.year))

    def minutes(
        self,
        start: datetime,
        end: datetime,
        pauses: Iterable[tuple[datetime, datetime]] = (),
    ) -> float:
        """Minutes from ``start`` to ``end`` on this clock, less the ``pauses`` (rounded to
        0.1; 0 when ``end`` is not after ``start``)."""
        if end <= start:
            return 0.0
        if self.tz is not None:  # office hours are the LPSE's, whatever zone a time came in
            start, end = start.astimezone(self.tz), end.astimezone(self.tz)
            pauses = [(a.astimezone(self.tz), b.astimezone(self.tz)) for a, b in pauses]
        total = self._span(start, end)
        for pause_start, pause_end in _merged(pauses):
            low, high = max(start, pause_start), min(end, pause_end)
            if high > low:
                total -= self._span(low, high)
        return round(max(total, 0.0), 1)

    def _span(self, start: datetime, end: datetime) -> float:
        if self.mode == CALENDAR or self.hours is None:
            return (end - start).total_seconds() / 60
        zone = start.tzinfo
        seconds = 0.0
        day = start.date()
        while day <= end.date():
            if self.is_working_day(day):
                midnight = datetime.combine(day, time(0), zone)
                for opens, closes in self.hours.day_spans(day):
                    low = max(start, midnight + timedelta(minutes=opens))
                    high = min(end, midnight + timedelta(minutes=closes))
                    if high > low:
                        seconds += (high - low).total_seconds()
            day += timedelta(days=1)
        return seconds / 60

    def describe(self) -> dict[str, object]:
        """What the monthly report says of the clock it used."""
        return {
            "clock": self.mode,
            "working_hours": None
            if self.mode == CALENDAR or self.hours is None
            else {str(d): [list(span) for span in s] for d, s in sorted(self.hours.spans.items())},
            "holidays": self.country if self.mode == WORKING else None,
            "closed_days": sorted(d.isoformat() for d in self.closed_days)
            if self.mode == WORKING
            else [],
        }


def _merged(pauses: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Overlapping pauses as one: a minute is never taken off twice."""
    out: list[tuple[datetime, datetime]] = []
    for start, end in sorted(p for p in pauses if p[1] > p[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
