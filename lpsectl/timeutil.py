"""Time helpers: one notion of "now", always aware, in the LPSE's zone."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo


def now(tz: tzinfo | None = None) -> datetime:
    """Aware current time (freezegun-friendly: reads datetime.now at call time)."""
    return datetime.now(UTC).astimezone(tz) if tz else datetime.now(UTC)


def isoformat(moment: datetime) -> str:
    """ISO 8601 with offset, second precision."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime where an aware one is required")
    return moment.isoformat(timespec="seconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


def month_bounds(year: int, month: int, tz: tzinfo) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=tz)
    nxt = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, nxt


#: dates lpsectl accepts from users: wide enough for any LPSE history, far from
#: the edges where date arithmetic (a month's end, a day's bounds) overflows
FIRST_YEAR, LAST_YEAR = 1900, 2100


def in_range(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


def parse_local(text: str, tz: tzinfo) -> datetime:
    """'2026-12-06 22:00' (or with a 'T', or an explicit offset) as an aware time in ``tz``;
    ValueError when it is no date and time."""
    moment = datetime.fromisoformat(text.strip().replace("T", " "))
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)
