"""Availability of the SPSE web address from the stored checks (issue 18): pure arithmetic.

Definitions (docs/availability.md):

- a check run is *up* or *down* (:func:`lpsectl.webcheck.judge`);
- an **outage** is a run of at least ``down_after`` consecutive down results; it
  starts at the first of them and ends at the next up result (``end`` None: still
  down when the period ends); it is **planned** when it lies inside a
  maintenance window lpsectl announced (SOP 000), else unplanned — one that
  outlasts its window is unplanned;
- **availability** = up results / results, in percent; *planned maintenance
  apart* leaves out the down results inside a maintenance window;
- response time percentiles by the nearest-rank method over the total time of the
  up results (``p95``: the smallest value with at least 95 % of them at or below).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Window:
    """A maintenance window: planned downtime."""

    start: datetime
    end: datetime
    label: str = ""

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment <= self.end


@dataclass
class Outage:
    name: str
    start: datetime
    end: datetime | None  # the first up result after it; None: still down at the period's end
    last_down: datetime
    checks: int
    first_error: str
    planned: bool
    window: str = ""
    #: tender stages whose deadline falls inside the outage: {"code", "package", "stage", "end", "committee"}
    tenders: list[dict[str, Any]] = field(default_factory=list)

    def duration_seconds(self, period_end: datetime) -> float:
        return ((self.end or period_end) - self.start).total_seconds()


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (``share`` 0..1): None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def in_window(moment: datetime, windows: Iterable[Window]) -> Window | None:
    return next((w for w in windows if w.holds(moment)), None)


def outages(
    rows: Sequence[dict[str, Any]], down_after: int, windows: Sequence[Window] = ()
) -> list[Outage]:
    """The outages among one check's results (``checked_at``, ``up``, ``error``; oldest first)."""
    found: list[Outage] = []
    run: list[dict[str, Any]] = []

    def close(end: datetime | None) -> None:
        if len(run) >= down_after:
            window = in_window(run[0]["checked_at"], windows)
            if window is not None and (end or run[-1]["checked_at"]) > window.end:
                window = None  # it outlasted the window: not explained by it
            found.append(
                Outage(
                    name=run[0]["name"],
                    start=run[0]["checked_at"],
                    end=end,
                    last_down=run[-1]["checked_at"],
                    checks=len(run),
                    first_error=run[0].get("error") or "",
                    planned=window is not None,
                    window=window.label if window else "",
                )
            )
        run.clear()

    for row in rows:
        if row["up"]:
            close(row["checked_at"])
        else:
            run.append(row)
    close(None)
    return found


def figures(rows: Sequence[dict[str, Any]], windows: Sequence[Window] = ()) -> dict[str, Any]:
    """Counts, availability (with and without planned maintenance) and response times."""
    up = sum(1 for r in rows if r["up"])
    planned = sum(1 for r in rows if not r["up"] and in_window(r["checked_at"], windows))
    times = [float(r["total_ms"]) for r in rows if r["up"] and r.get("total_ms") is not None]
    counted = len(rows) - planned
    return {
        "checks": len(rows),
        "up": up,
        "down": len(rows) - up,
        "planned_down": planned,
        "availability_percent": round(100.0 * up / len(rows), 2) if rows else None,
        "availability_unplanned_percent": round(100.0 * up / counted, 2) if counted else None,
        "p50_ms": percentile(times, 0.50),
        "p95_ms": percentile(times, 0.95),
        "max_ms": max(times) if times else None,
    }


def daily_figures(
    rows: Sequence[dict[str, Any]], windows: Sequence[Window] = ()
) -> list[dict[str, Any]]:
    """:func:`figures` per LPSE-local day (``day`` of each row), days in order."""
    days: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        days.setdefault(row["day"], []).append(row)
    return [{"day": day, **figures(of_day, windows)} for day, of_day in sorted(days.items())]


def tenders_hit(
    outage: Outage, stages: Iterable[Any], period_end: datetime
) -> list[dict[str, Any]]:
    """Tender stages (``lpsectl.committees.TenderStage``) whose deadline — the stage's end —
    falls inside the outage: the Pokja may have to extend the stage."""
    end = outage.end or period_end
    return [
        {
            "code": s.code,
            "package": s.package,
            "committee": s.committee,
            "stage": s.stage,
            "end": s.end,
        }
        for s in stages
        if outage.start <= s.end <= end
    ]
