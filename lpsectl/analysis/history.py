"""The I/O edge of the analysis: snapshots out of the store, recommendations into it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from lpsectl.analysis.rules import Recommendation
from lpsectl.collect.schemas import query_snapshots
from lpsectl.errors import NotFoundError
from lpsectl.retention import require_whole
from lpsectl.store import Store, decode_json
from lpsectl.timeutil import isoformat


def period_days(
    day: date | None, month: str | None, today: date, window_days: int
) -> tuple[str, date, date]:
    """(period label, first day, last day): a month, or ``window_days`` ending on ``day``."""
    if month:
        year, mon = (int(p) for p in month.split("-"))
        first = date(year, mon, 1)
        last = date(year + (mon == 12), mon % 12 + 1, 1) - timedelta(days=1)
        return f"{year:04d}-{mon:02d}", first, last
    end = day or today
    return end.isoformat(), end - timedelta(days=max(window_days, 1) - 1), end


def load_snapshots(store: Store, first: date, last: date) -> list[dict[str, Any]]:
    """Snapshots taken on LPSE-local days ``first`` .. ``last``, JSON decoded.
    Raises :class:`UsageError` when some were pruned (``[store] retention_days``)."""
    require_whole(store, first, last, "the analysis")
    rows = query_snapshots(
        store,
        "SELECT host, kind, taken_at, day, ok, error, data, unavailable, shape_checked FROM snapshots "
        "WHERE day >= ? AND day <= ? ORDER BY taken_at, id",
        [first.isoformat(), last.isoformat()],
    )
    for row in rows:
        row["ok"] = bool(row["ok"])
        row["data"] = decode_json(row["data"], {})
        row["unavailable"] = decode_json(row["unavailable"], {})
    return rows


def save_recommendations(
    store: Store, period: str, recs: list[Recommendation], now: datetime
) -> None:
    """Insert or refresh each recommendation of ``period``; sets ``rec.id``.
    The same finding analysed again keeps its id, so change requests made from it stay linked."""
    stamp = isoformat(now)
    with store.transaction():
        for rec in recs:
            key = [period, rec.rule, rec.host, rec.subject]
            row = store.query_one(
                "SELECT id FROM recommendations WHERE period = ? AND rule = ? AND host = ? AND subject = ?",
                key,
            )
            values = {
                "severity": rec.severity,
                "change_class": rec.change_class,
                "route": rec.route,
                "evidence": rec.evidence,
                "texts": rec.texts,
                "updated_at": stamp,
            }
            if row:
                rec.id = int(row["id"])
                store.update("recommendations", rec.id, values)
            else:
                rec.id = store.insert(
                    "recommendations",
                    {
                        "period": period,
                        "rule": rec.rule,
                        "host": rec.host,
                        "subject": rec.subject,
                        "created_at": stamp,
                        **values,
                    },
                )


def get_recommendation(store: Store, rec_id: int) -> dict[str, Any]:
    row = store.query_one("SELECT * FROM recommendations WHERE id = ?", [rec_id])
    if row is None:
        raise NotFoundError(
            f"recommendation {rec_id} does not exist (run `lpsectl analyze` to list them)"
        )
    row["evidence"] = decode_json(row["evidence"], {})
    row["texts"] = decode_json(row["texts"], {})
    return row
