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
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from lpsectl.collect.schemas import ACCESS, checked_row, problem
from lpsectl.config import Config, load_section
from lpsectl.errors import ConfigError, UnavailableError, UsageError
from lpsectl.store import Store, decode_json, encode

#: the shortest retention allowed: a month whole plus the days before its report
MIN_RETENTION_DAYS = 35
MAX_RETENTION_DAYS = 36500

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


def retention_problem(days: int) -> str | None:
    """None when ``days`` is a retention lpsectl accepts (the config key and the
    --retention-days option alike), else what is wrong, as the end of a sentence."""
    if days == 0 or MIN_RETENTION_DAYS <= days <= MAX_RETENTION_DAYS:
        return None
    return (
        f"must be 0 (keep everything whole) or within {MIN_RETENTION_DAYS}..{MAX_RETENTION_DAYS}: "
        f"at least {MIN_RETENTION_DAYS} keeps a month whole and the days before its report, "
        f"at most {MAX_RETENTION_DAYS} (100 years); not {days}"
    )


def store_settings(config: Config) -> StoreSettings:
    settings = load_section(config, "store", StoreSettings)
    problem = retention_problem(settings.retention_days)
    if problem:
        raise ConfigError(f"{config.source}: store.retention_days {problem}")
    if not math.isfinite(settings.prune_seconds) or settings.prune_seconds <= 0:
        raise ConfigError(f"{config.source}: store.prune_seconds must be positive")
    if not 0 <= settings.vacuum_free_percent <= 100:  # NaN fails this too
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


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def rollup(kind: str, data: Any) -> dict[str, Any]:
    """The parts of a snapshot the monthly report reads: a logs snapshot's error lists (not
    its queries nor its per-day parts), a postgres snapshot's counters, connection use,
    server and top statements (not its settings, tables or sessions); a system snapshot's
    resources and services (:data:`SYSTEM_ROLLUP`). Total: data of any shape (a failed
    row's, a row edited by hand) gives a roll-up of the right shape, with what fits."""
    data = _obj(data)
    if kind == "logs":
        return {
            "summaries": [
                {"format": summary.get("format"), "errors": summary["errors"]}
                for summary in summaries_in(data)
            ]
        }
    if kind == "postgres":
        statements = _obj(data.get("statements"))
        return {
            "database_stats": data.get("database_stats")
            if isinstance(data.get("database_stats"), dict)
            else None,
            "server": data.get("server") if isinstance(data.get("server"), dict) else None,
            "activity": {"usage_ratio": _obj(data.get("activity")).get("usage_ratio")},
            "statements": (
                {
                    "top_by_calls": [
                        {key: entry.get(key) for key in STATEMENT_KEYS}
                        for entry in _list(statements.get("top_by_calls"))[:TOP_STATEMENTS]
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
    if kind == "access":
        # the days' counts; not the cursors, the visitors' key nor the top clients (personal
        # data is kept for the retention only: a pruned snapshot keeps the roll-up alone)
        return {
            "files": {
                path: {
                    "days": {
                        day: {k: v for k, v in figures.items() if k != "top_clients"}
                        if isinstance(figures, dict)
                        else figures
                        for day, figures in item["days"].items()
                    }
                }
                for path, item in _obj(data.get("files")).items()
                if isinstance(item, dict) and isinstance(item.get("days"), dict)
            }
        }
    return data


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


#: the type each top-level key of a roll-up must have (None allowed where the report
#: expects "not collected"): a roll-up of another shape makes its row unusable
ROLLUP_SHAPES: dict[str, dict[str, tuple[type, ...]]] = {
    "system": {
        "hostname": (str,),
        "uptime_seconds": (int, float, type(None)),
        "cpu": (dict,),
        "load": (dict,),
        "memory": (dict,),
        "filesystems": (list,),
        "services": (dict,),
    },
    "postgres": {
        "database_stats": (dict, type(None)),
        "server": (dict, type(None)),
        "activity": (dict,),
        "statements": (dict, type(None)),
    },
    "logs": {"summaries": (list,)},
}


#: what the monthly report reads of an error in a log summary, and of a top statement
ERROR_FIELDS: dict[str, tuple[type, ...]] = {
    "signature": (str, type(None)),
    "count": (int, type(None)),
    "severity": (str, type(None)),
    "example": (str, type(None)),
    "first": (str, type(None)),
    "last": (str, type(None)),
}
STATEMENT_FIELDS: dict[str, tuple[type, ...]] = {
    "query": (str,),
    "calls": (int, float),
    "total_ms": (int, float),
    "mean_ms": (int, float),
    "max_ms": (int, float),
}


def rollup_problem(kind: str, value: Any) -> str | None:
    """None when ``value`` has the shape of a ``kind`` roll-up (two levels checked: the
    keys the monthly report reads and the items of its lists), else one sentence."""
    if not isinstance(value, dict):
        return "its roll-up is not a JSON object"
    if kind == "access":
        return problem(value, ACCESS)
    for key, types in ROLLUP_SHAPES.get(kind, {}).items():
        if key in value and not isinstance(value[key], types):
            return f"its roll-up's {key} is a {type(value[key]).__name__}"
    items = {
        "filesystems": value.get("filesystems"),
        "summaries": value.get("summaries"),
        "top_by_calls": _obj(value.get("statements")).get("top_by_calls", []),
    }
    for key, listed in items.items():
        if listed is not None and (
            not isinstance(listed, list) or not all(isinstance(x, dict) for x in listed)
        ):
            return f"its roll-up's {key} is not a list of objects"
    for summary in _list(value.get("summaries")):
        errors = summary.get("errors")
        if not isinstance(errors, list):
            return "its roll-up's summaries hold no error list"
        for error in errors:
            if not isinstance(error, dict) or not all(
                isinstance(error.get(key), kinds) for key, kinds in ERROR_FIELDS.items()
            ):
                return "its roll-up's error lists hold an entry of the wrong shape"
    for entry in _list(_obj(value.get("statements")).get("top_by_calls")):
        if not all(
            entry.get(key) is None or isinstance(entry.get(key), kinds)
            for key, kinds in STATEMENT_FIELDS.items()
        ):
            return "its roll-up's top statements hold an entry of the wrong shape"
    if not all(isinstance(s, dict) for s in _obj(value.get("services")).values()):
        return "its roll-up's services are not objects"
    return None


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
    :func:`checked_row`). A roll-up of the wrong shape (:func:`rollup_problem`) makes the
    row unusable, like data of the wrong shape; it never reaches the report."""
    text = row.get("rollup")
    if text is None:
        out = checked_row(row)  # a failed row comes back as it is: its data is read too
        try:
            data = decode_json(out.get("data"), {})
        except ValueError:
            data = {}  # a failed row's data is not JSON: nothing of it is read
        out["data"] = rollup(out["kind"], data)
        return out
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    reason = rollup_problem(row.get("kind") or "", value)
    if reason is None:
        return dict(row, data=value)
    if not row.get("ok"):
        return dict(row, data={})  # failed anyway: its own error says why
    return dict(
        row,
        ok=0,
        error=f"stored snapshot unusable ({reason})",
        error_type="BadStoredRow",
        data={},
    )


# -- pruning ---------------------------------------------------------------------------


@dataclass
class PruneResult:
    """What one `store prune` did (or, with ``dry_run``, would do)."""

    cutoff: str | None  # snapshots of days before this one are pruned (None: retention 0)
    retention_days: int
    dry_run: bool
    pruned: int = 0  # snapshots cut to their roll-up by this run
    left: int = 0  # still to prune: the work budget ran out, the next run goes on
    kept_unusable: int = 0  # stored data that cannot be read: left as it is
    bytes_before: int | None = None
    bytes_after: int | None = None
    vacuumed: bool = False
    warnings: list[str] = field(default_factory=list)


def kept_whole(store: Store, cutoff: date) -> set[int]:
    """Rows never pruned: the newest good snapshot of each host and kind (the next
    ``collect`` starts from it), and the newest before ``cutoff`` (the daily report of
    the first day kept whole counts that day's changes from it)."""
    rows = store.query("SELECT max(id) AS id FROM snapshots WHERE ok = 1 GROUP BY host, kind")
    rows += store.query(
        "SELECT max(id) AS id FROM snapshots WHERE ok = 1 AND day < ? GROUP BY host, kind",
        [cutoff.isoformat()],
    )
    return {r["id"] for r in rows}


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
    rest is counted in ``left`` and pruned next run. The rows of :func:`kept_whole` stay
    whole, and so does a row whose stored data cannot be read (``kept_unusable``).
    ``dry_run`` counts the same, changing nothing. Raises :class:`UnavailableError` when
    the store cannot be written; a failed VACUUM is only a warning (the pruning is
    committed by then)."""
    retention = settings.retention_days
    result = PruneResult(None, retention, dry_run, bytes_before=store.size_bytes())
    if retention == 0:
        result.bytes_after = result.bytes_before
        return result
    cutoff = today - timedelta(days=retention)
    result.cutoff = cutoff.isoformat()
    keep = kept_whole(store, cutoff)
    deadline = clock() + settings.prune_seconds
    statements_kept = _last_statements(store, cutoff)
    last_id = 0
    stamp = today.isoformat()
    while True:
        rows = store.query(
            "SELECT id, host, day, taken_at, kind, ok, data, shape_checked, rollup FROM snapshots "
            "WHERE day < ? AND pruned_on IS NULL AND id > ? ORDER BY id LIMIT ?",
            [cutoff.isoformat(), last_id, BATCH],
        )
        if not rows:
            break
        last_id = rows[-1]["id"]
        updates = []
        for row in rows:
            if row["id"] in keep:
                continue
            if row["ok"] and not checked_row(row)["ok"]:
                result.kept_unusable += 1  # lpsectl does not clear what it cannot read
                continue
            made = report_data(row)
            if row["ok"] and not made["ok"]:
                made = report_data(dict(row, rollup=None))  # a broken roll-up: made again
            data = made["data"]
            if row["kind"] == "postgres" and _newest_first(row) < statements_kept.get(
                (row["host"], row["day"][:7]), (_EARLIEST, 0)
            ):
                data = dict(data, statements=None)
            updates.append([encode(data), stamp, row["id"]])
        result.pruned += len(updates)
        if not dry_run and updates:
            with store.transaction():
                for values in updates:
                    store.execute(
                        "UPDATE snapshots SET data = '{}', shape_checked = NULL, rollup = ?, "
                        "pruned_on = ? WHERE id = ?",
                        values,
                    )
        if clock() >= deadline:
            rest = store.query(
                "SELECT id FROM snapshots WHERE day < ? AND pruned_on IS NULL AND id > ?",
                [cutoff.isoformat(), last_id],
            )
            result.left = sum(1 for r in rest if r["id"] not in keep)
            break
    if dry_run:
        result.bytes_after = result.bytes_before
        return result
    try:
        result.vacuumed = store.housekeeping(settings.vacuum_free_percent)
    except UnavailableError as exc:
        result.warnings.append(f"the history was pruned, but not compacted: {exc.message}")
    result.bytes_after = store.size_bytes()
    return result


_EARLIEST = datetime.min.replace(tzinfo=UTC)


def _newest_first(row: dict[str, Any]) -> tuple[datetime, int]:
    """The order the monthly report reads a month's snapshots in: by time taken, then id."""
    try:
        taken = datetime.fromisoformat(row["taken_at"])
    except (TypeError, ValueError):
        return (_EARLIEST, row["id"])
    if taken.tzinfo is None:
        return (_EARLIEST, row["id"])
    return (taken, row["id"])


def _last_statements(store: Store, cutoff: date) -> dict[tuple[str, str], tuple[datetime, int]]:
    """(host, YYYY-MM) -> (time, id) of the newest postgres roll-up of that month with top
    statements, in the monthly report's order (:func:`_newest_first`). The monthly report
    shows the month's newest top statements only, so a pruned row before that one needs
    none (4 of a postgres roll-up's 4.1 KB). Rows without a roll-up yet are not looked at:
    an older row then keeps its statements, which costs space, never a figure."""
    end = (cutoff.replace(day=1) + timedelta(days=32)).replace(day=1)
    found: dict[tuple[str, str], tuple[datetime, int]] = {}
    first = store.query_one(
        "SELECT min(day) AS day FROM snapshots WHERE kind = 'postgres' AND day < ? "
        "AND pruned_on IS NULL",
        [cutoff.isoformat()],
    )
    if not first or not first["day"]:
        return found  # nothing left to prune: nothing to read (the work stays bounded)
    for row in store.iterate(
        "SELECT id, host, day, taken_at, rollup FROM snapshots WHERE kind = 'postgres' "
        "AND ok = 1 AND rollup IS NOT NULL AND day >= ? AND day < ?",
        [str(first["day"])[:7] + "-01", end.isoformat()],
    ):
        try:
            value = json.loads(row["rollup"])
        except ValueError:
            continue
        if isinstance(value, dict) and rollup_problem("postgres", value) is None:
            if value.get("statements"):
                key = (row["host"], row["day"][:7])
                order = _newest_first(row)
                if order > found.get(key, (_EARLIEST, 0)):
                    found[key] = order
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
