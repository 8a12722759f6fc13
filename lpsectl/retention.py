"""The history at scale: roll-ups, retention, housekeeping (issue 20).

A snapshot is stored whole (``snapshots.data``) and, for the monthly report, as
its *roll-up* (``snapshots.rollup``): the parts the monthly report reads
(:func:`rollup`), a fraction of its size. After ``[store] retention_days`` a snapshot is *pruned*: its
data is cleared, its roll-up, status, error and reasons stay, and
``pruned_on`` says when. So a monthly report of any past month is the same
before and after pruning, while the daily report, ``analyze`` and the log
cursors — which need the whole data — work within the retention and say so
plainly outside it.

The newest good snapshot of every host and kind is never pruned: the next
``collect`` starts from it (log cursors, counters).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from lpsectl.collect.schemas import checked_row
from lpsectl.config import Config, load_section
from lpsectl.errors import ConfigError, UnavailableError, UsageError
from lpsectl.store import Store, decode_json, encode

#: the shortest retention allowed: a month whole plus the days before its report
MIN_RETENTION_DAYS = 35

#: rows pruned per transaction: a concurrent collect waits at most one batch
BATCH = 500


@dataclass
class StoreSettings:
    """``[store]``: how long the history keeps each snapshot whole."""

    #: days a snapshot is kept whole; older ones keep only their roll-up (0 = forever)
    retention_days: int = 90
    #: work per `store prune` run; what is left is pruned by the next run
    prune_seconds: float = 300.0
    #: SQLite: rewrite the file (VACUUM) when at least this share of it is free pages
    vacuum_free_percent: float = 20.0


def store_settings(config: Config) -> StoreSettings:
    settings = load_section(config, "store", StoreSettings)
    if settings.retention_days < 0 or 0 < settings.retention_days < MIN_RETENTION_DAYS:
        raise ConfigError(
            f"{config.source}: store.retention_days must be 0 (keep everything whole) or at "
            f"least {MIN_RETENTION_DAYS} (a month whole and the days before its report), "
            f"not {settings.retention_days}"
        )
    if settings.prune_seconds <= 0:
        raise ConfigError(f"{config.source}: store.prune_seconds must be positive")
    if not 0 <= settings.vacuum_free_percent <= 100:
        raise ConfigError(f"{config.source}: store.vacuum_free_percent must be within 0..100")
    return settings


# -- roll-ups ---------------------------------------------------------------------------


def summaries_in(data: Any) -> list[dict[str, Any]]:
    """Every log summary (a dict with an ``errors`` list) inside a logs snapshot."""
    found = []
    if isinstance(data, dict):
        if isinstance(data.get("errors"), list):
            return [data]  # a summary's own parts are not further summaries
        for key, value in data.items():
            if isinstance(value, dict | list) and key != "days":  # per-day parts: counted whole
                found += summaries_in(value)
    elif isinstance(data, list):
        for value in data:
            found += summaries_in(value)
    return found


def rollup(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """The parts of a snapshot the monthly report reads: a logs snapshot's error lists (not
    its queries nor its per-day parts), a postgres snapshot's counters, connection use,
    server and top statements (not its settings, tables or sessions); a system snapshot's
    resources and services (:data:`SYSTEM_ROLLUP`)."""
    if kind == "logs":
        return {
            "summaries": [
                {"format": summary.get("format"), "errors": summary["errors"]}
                for summary in summaries_in(data)
            ]
        }
    if kind == "postgres":
        statements = data.get("statements") or {}
        return {
            "database_stats": data.get("database_stats"),
            "server": data.get("server"),
            "activity": {"usage_ratio": (data.get("activity") or {}).get("usage_ratio")},
            "statements": (
                {
                    "top_by_calls": [
                        {key: entry.get(key) for key in STATEMENT_KEYS}
                        for entry in (statements.get("top_by_calls") or [])[:TOP_STATEMENTS]
                        if isinstance(entry, dict)
                    ],
                    "stats_reset": statements.get("stats_reset"),
                }
                if statements
                else None
            ),
        }
    if kind == "system":
        return {key: data[key] for key in SYSTEM_ROLLUP if key in data}
    return data


#: the monthly report's top statements: how many, and what of each
TOP_STATEMENTS = 5
STATEMENT_KEYS = ("query", "calls", "total_ms", "mean_ms", "max_ms")

#: what the monthly report reads of a system snapshot: availability (services) and the
#: resources; not the top processes, swap or the application's log tails
SYSTEM_ROLLUP = ("hostname", "uptime_seconds", "cpu", "load", "memory", "filesystems", "services")


def rollup_at_collect(kind: str, data: dict[str, Any]) -> str:
    """``snapshots.rollup`` as ``collect`` stores it (the JSON text of :func:`rollup`)."""
    return str(encode(rollup(kind, data)))


def report_data(row: dict[str, Any]) -> dict[str, Any]:
    """A snapshot row (``kind, ok, data, shape_checked, rollup``) as the monthly report
    reads it: its roll-up decoded, or made from the data (checked on the way, see
    :func:`checked_row`). A roll-up that is not a JSON object makes the row unusable."""
    text = row.get("rollup")
    if text is None:
        out = checked_row(row)  # a failed row comes back as it is: its data is read too
        data = decode_json(out.get("data"), {})
        out["data"] = rollup(out["kind"], data if isinstance(data, dict) else {})
        return out
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, dict):
        return dict(row, data=value)
    return dict(
        row,
        ok=0,
        error="stored snapshot unusable (its roll-up is not a JSON object)",
        error_type="BadStoredRow",
        data={},
    )


# -- pruning ---------------------------------------------------------------------------


@dataclass
class PruneResult:
    """What one `store prune` did (or, with ``dry_run``, would do)."""

    cutoff: str  # snapshots of days before this one are pruned
    retention_days: int
    dry_run: bool
    pruned: int = 0  # snapshots cut to their roll-up by this run
    left: int = 0  # still to prune: the work budget ran out, the next run goes on
    kept_unusable: int = 0  # data that does not fit its schema: kept whole, as evidence
    bytes_before: int | None = None
    bytes_after: int | None = None
    vacuumed: bool = False
    warnings: list[str] = field(default_factory=list)


def prune(
    store: Store,
    today: date,
    settings: StoreSettings,
    dry_run: bool = False,
    clock: Any = time.monotonic,
) -> PruneResult:
    """Cut snapshots older than ``settings.retention_days`` (LPSE-local days before
    ``today - retention_days``) to their roll-up, then tidy the store (ANALYZE; VACUUM when
    enough of an SQLite file is free). At most ``settings.prune_seconds`` of work: the
    rest is counted in ``left`` and pruned next run. The newest good snapshot of every
    host and kind is kept whole. Raises :class:`UnavailableError` when the store cannot
    be written; a failed VACUUM is only a warning (the pruning is committed by then)."""
    retention = settings.retention_days
    cutoff = today - timedelta(days=retention)
    result = PruneResult(cutoff.isoformat(), retention, dry_run, bytes_before=store.size_bytes())
    if retention == 0:
        result.bytes_after = result.bytes_before
        return result
    keep = {
        r["id"]
        for r in store.query("SELECT max(id) AS id FROM snapshots WHERE ok = 1 GROUP BY host, kind")
    }
    if dry_run:
        ids = store.query(
            "SELECT id FROM snapshots WHERE day < ? AND pruned_on IS NULL", [cutoff.isoformat()]
        )
        result.pruned = sum(1 for r in ids if r["id"] not in keep)
        result.bytes_after = result.bytes_before
        return result
    deadline = clock() + settings.prune_seconds
    statements_kept = _last_statements(store, cutoff)
    last_id = 0
    stamp = today.isoformat()
    while True:
        rows = store.query(
            "SELECT id, host, day, kind, ok, data, shape_checked, rollup FROM snapshots "
            "WHERE day < ? AND pruned_on IS NULL AND id > ? ORDER BY id LIMIT ?",
            [cutoff.isoformat(), last_id, BATCH],
        )
        if not rows:
            break
        last_id = rows[-1]["id"]
        with store.transaction():
            for row in rows:
                if row["id"] in keep:
                    continue
                made = report_data(row)
                if row["ok"] and not made["ok"]:
                    result.kept_unusable += 1
                    continue
                later = statements_kept.get((row["host"], row["day"][:7]), 0)
                if row["kind"] == "postgres" and row["id"] < later:
                    made["data"] = dict(made["data"], statements=None)
                store.execute(
                    "UPDATE snapshots SET data = '{}', shape_checked = NULL, rollup = ?, "
                    "pruned_on = ? WHERE id = ?",
                    [encode(made["data"]), stamp, row["id"]],
                )
                result.pruned += 1
        if clock() >= deadline:
            rest = store.query(
                "SELECT id FROM snapshots WHERE day < ? AND pruned_on IS NULL AND id > ?",
                [cutoff.isoformat(), last_id],
            )
            result.left = sum(1 for r in rest if r["id"] not in keep)
            break
    try:
        result.vacuumed = store.housekeeping(settings.vacuum_free_percent)
    except UnavailableError as exc:
        result.warnings.append(f"the history was pruned, but not compacted: {exc.message}")
    result.bytes_after = store.size_bytes()
    return result


def _last_statements(store: Store, cutoff: date) -> dict[tuple[str, str], int]:
    """(host, YYYY-MM) -> id of the newest postgres roll-up of that month with top
    statements. The monthly report shows the month's newest top statements only, so a
    pruned row before that one needs none (4 of a postgres roll-up's 4.1 KB). Rows
    without a roll-up yet are not looked at: an older row then keeps its statements,
    which costs space, never a figure."""
    end = (cutoff.replace(day=1) + timedelta(days=32)).replace(day=1)
    found: dict[tuple[str, str], int] = {}
    for row in store.iterate(
        "SELECT id, host, day, rollup FROM snapshots WHERE kind = 'postgres' AND ok = 1 "
        "AND rollup IS NOT NULL AND day < ? ORDER BY id",
        [end.isoformat()],
    ):
        try:
            value = json.loads(row["rollup"])
        except ValueError:
            continue
        if isinstance(value, dict) and value.get("statements"):
            found[(row["host"], row["day"][:7])] = row["id"]
    return found


def require_whole(store: Store, first: date, last: date, what: str) -> None:
    """Raise :class:`UsageError` when snapshots of ``first`` .. ``last`` were pruned:
    ``what`` (the daily report, the analysis) needs them whole, and a report built from
    cleared data would say "no data" where there was data."""
    row = store.query_one(
        "SELECT min(day) AS first, max(day) AS last, max(pruned_on) AS pruned_on "
        "FROM snapshots WHERE day >= ? AND day <= ? AND pruned_on IS NOT NULL",
        [first.isoformat(), last.isoformat()],
    )
    if row and row["pruned_on"]:
        span = row["first"] if row["first"] == row["last"] else f"{row['first']} .. {row['last']}"
        raise UsageError(
            f"{what} needs the whole snapshots of {span}, but they were pruned on "
            f"{row['pruned_on']} ([store] retention_days); the monthly report still has "
            "their figures"
        )
