"""The log engine seen from this side: local summaries, merging, text, the remote script.

The parsing itself lives in :mod:`lpsectl.logs.summarize_remote` (stdlib-only,
Python 3.6) so that the servers and this machine run the very same parser.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Any

from lpsectl.errors import NotFoundError, UsageError
from lpsectl.logs import summarize_remote as engine
from lpsectl.logs.usage import merge_days

LOG_FORMATS = engine.FORMATS
ACCESS_NAMES = engine.ACCESS_NAMES
DEFAULT_TOP = engine.DEFAULT_TOP
#: log formats written by PostgreSQL (the rest, "spse", is the application)
DATABASE_FORMATS = ("stderr", "csvlog", "jsonlog")
COUNTER_KEYS = ("temp_files", "checkpoints", "connections")


#: the files of the shipped summariser, in the order the one script holds them
#: (summarize_remote uses access_remote's names, defined before it)
REMOTE_PARTS = ("access_remote.py", "summarize_remote.py")


def remote_script() -> bytes:
    """The summariser as shipped to a server (``python3 - ARGS`` reads it on stdin)."""
    folder = resources.files("lpsectl.logs")
    return b"\n".join((folder / name).read_bytes() for name in REMOTE_PARTS)


def summarize_local(
    paths: Sequence[str],
    log_format: str | None = None,
    prefix: str | None = None,
    top: int = DEFAULT_TOP,
    access: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Summarise whole files on this machine (plain or gzip) into one summary.

    ``prefix`` is a stderr log's log_line_prefix, or an access log's layout;
    ``access`` the access options of :func:`engine.new_summary` (top_clients, ...).

    Raises NotFoundError for a missing/unreadable file and UsageError when the
    files are in different formats (their figures would not add up).
    """
    if not paths:
        raise UsageError("give at least one log file to summarize")
    if log_format is not None and log_format not in LOG_FORMATS + ACCESS_NAMES:
        raise UsageError(
            f"unknown log format {log_format!r} (use one of: {', '.join(LOG_FORMATS + ACCESS_NAMES)})"
        )
    for path in paths:
        _check_readable(path)
    resolved = {path: engine.resolve_format(path, log_format, prefix) for path in paths}
    formats = {path: fmt for path, (fmt, _layout) in resolved.items()}
    if len(set(formats.values())) > 1:
        described = ", ".join(f"{p} is {f}" for p, f in formats.items())
        raise UsageError(
            f"the files are in different log formats ({described}); summarize them separately"
        )
    if "access" in formats.values():
        try:  # a layout without time, request or status: said before any reading
            engine.access_format(resolved[paths[0]][1])
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    try:
        summaries = engine.summarize_files(list(paths), log_format, prefix, top, access)
    except (OSError, EOFError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise NotFoundError(
            f"{getattr(exc, 'filename', None) or paths[0]}: cannot read the log: {reason}"
        ) from exc
    (summary,) = summaries.values()
    if summary.format == "access":
        days = summary.day_results()
        result = summary.result(days=days)
        result["days"] = days
        result["total"] = merge_days(days.values(), top_clients=summary.top_clients)
    else:
        result = engine.result_of(summary)
    result["files"] = list(paths)
    return result


def _check_readable(path: str) -> None:
    if not os.path.exists(path):
        if os.path.islink(path):
            raise NotFoundError(
                f"{path}: a symlink that leads nowhere (a loop, or its target is gone)"
            )
        raise NotFoundError(f"{path}: no such log file")
    if os.path.isdir(path):
        raise UsageError(f"{path}: is a directory, not a log file")
    if not os.access(path, os.R_OK):
        raise NotFoundError(f"{path}: log file is not readable (permission denied)")


# -- merging several summaries (runs of a day, files of a host) ----------------------


def merge_summaries(summaries: Iterable[dict[str, Any]], top: int = DEFAULT_TOP) -> dict[str, Any]:
    """One summary from many of the same kind: counts add up, first/last widen.

    Each input holds only its own top entries, so a merged entry is exact for
    queries/errors that made every input's top list and a lower bound otherwise.
    """
    items = [s for s in summaries if s]
    merged: dict[str, Any] = {
        "format": _formats(items),
        "lines": 0,
        "bytes": 0,
        "start": None,
        "end": None,
        "query_count": 0,
        "error_count": 0,
        "unparsed": 0,
        "deadlocks": 0,
        "lock_waits": 0,
    }
    queries: dict[str, dict[str, Any]] = {}
    errors: dict[tuple[str, str], dict[str, Any]] = {}
    exceptions: dict[str, int] = {}
    codes: list[dict[str, Any]] = []
    counters: dict[str, dict[str, float]] = {}
    for item in items:
        for key in (
            "lines",
            "bytes",
            "query_count",
            "error_count",
            "unparsed",
            "deadlocks",
            "lock_waits",
        ):
            merged[key] += item.get(key) or 0
        merged["start"] = _earliest(merged["start"], item.get("start"))
        merged["end"] = _latest(merged["end"], item.get("end"))
        for query in item.get("queries", []):
            _merge_query(queries, query)
        for error in item.get("errors", []):
            _merge_error(errors, error)
        for exc in item.get("exceptions", []):
            exceptions[exc["class"]] = exceptions.get(exc["class"], 0) + exc["count"]
        codes += item.get("error_codes", [])
        for key in COUNTER_KEYS + ("by_severity",):
            _merge_counters(counters.setdefault(key, {}), item.get(key) or {})
    merged["queries"] = sorted(queries.values(), key=lambda q: (-q["count"], -q["total_ms"]))[:top]
    merged["errors"] = sorted(
        errors.values(), key=lambda e: (-e["count"], e["severity"], e["signature"])
    )[:top]
    merged["exceptions"] = [
        {"class": k, "count": v}
        for k, v in sorted(exceptions.items(), key=lambda kv: (-kv[1], kv[0]))
    ][:top]
    merged["error_codes"] = codes
    merged.update(counters)
    return merged


def _formats(items: list[dict[str, Any]]) -> str | None:
    found = sorted({str(i["format"]) for i in items if i.get("format")})
    return found[0] if len(found) == 1 else ("+".join(found) or None)


def _merge_query(into: dict[str, dict[str, Any]], query: dict[str, Any]) -> None:
    have = into.get(query["fingerprint"])
    if have is None:
        into[query["fingerprint"]] = dict(query, histogram=dict(query.get("histogram") or {}))
        return
    have["count"] += query["count"]
    have["total_ms"] = round(have["total_ms"] + query["total_ms"], 3)
    have["max_ms"] = max(have["max_ms"], query["max_ms"])
    have["mean_ms"] = round(have["total_ms"] / have["count"], 3)
    # the histograms add up, so the merged p95 is as good as a single run's
    histogram = have.setdefault("histogram", {})
    for bucket, count in (query.get("histogram") or {}).items():
        histogram[bucket] = histogram.get(bucket, 0) + count
    if histogram:
        p95 = engine.percentile({int(b): n for b, n in histogram.items()}, 0.95)
        have["p95_ms"] = min(p95, have["max_ms"]) if p95 is not None else None


def _merge_error(into: dict[tuple[str, str], dict[str, Any]], error: dict[str, Any]) -> None:
    key = (error["severity"], error["signature"])
    have = into.get(key)
    if have is None:
        into[key] = dict(error)
        return
    have["count"] += error["count"]
    have["first"] = _earliest(have["first"], error["first"])
    have["last"] = _latest(have["last"], error["last"])


def _merge_counters(into: dict[str, float], values: dict[str, float]) -> None:
    for key, value in values.items():
        if not isinstance(value, int | float):
            continue
        if key.startswith("max"):
            into[key] = max(into.get(key, 0), value)
        else:
            into[key] = into.get(key, 0) + value


def _earliest(a: str | None, b: str | None) -> str | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: str | None, b: str | None) -> str | None:
    return b if a is None else a if b is None else max(a, b)


# -- text for the terminal (the command line speaks English) -----------------------


def text_summary(result: dict[str, Any], top: int = 20, width: int = 100) -> str:
    files = ", ".join(result.get("files", [])) or "(log)"
    lines = [
        f"{files}: {result['format']} log, {result['lines']:,} lines, {_size(result['bytes'])}",
        f"from {_short_time(result['start'])} to {_short_time(result['end'])}",
    ]
    if result["format"] != "spse":
        lines += ["", f"Queries with a duration: {result['query_count']:,}"]
        rows = [
            [
                q["count"],
                f"{q['total_ms']:.1f}",
                f"{q['mean_ms']:.3f}",
                f"{q['max_ms']:.1f}",
                _clip(q["fingerprint"], width - 45),
            ]
            for q in result["queries"][:top]
        ]
        lines.append(_table(rows, ["count", "total ms", "mean ms", "max ms", "query"]))
    lines += ["", f"Errors and warnings: {result['error_count']:,}"]
    rows = [
        [e["severity"], e["count"], _short_time(e["last"]), _clip(e["signature"], width - 40)]
        for e in result["errors"][:top]
    ]
    lines.append(_table(rows, ["severity", "count", "last", "signature"]))
    if result["format"] == "spse":
        lines += ["", "Exception classes:"]
        lines.append(
            _table(
                [[e["count"], e["class"]] for e in result.get("exceptions", [])[:top]],
                ["count", "class"],
            )
        )
        lines.append(
            f"Error codes (Kode Error) seen: {len(result.get('error_codes', []))}"
            + _last_codes(result.get("error_codes", []))
        )
    else:
        lines += ["", _pg_counters(result)]
    lines.append(f"Unparsed lines: {result['unparsed']}")
    return "\n".join(lines) + "\n"


def _pg_counters(result: dict[str, Any]) -> str:
    temp = result.get("temp_files") or {}
    ckpt = result.get("checkpoints") or {}
    conn = result.get("connections") or {}
    return (
        f"Deadlocks: {result.get('deadlocks', 0)}  Lock waits: {result.get('lock_waits', 0)}  "
        f"Temp files: {temp.get('count', 0)} ({_size(temp.get('total_bytes', 0))})  "
        f"Checkpoints: {ckpt.get('count', 0)}  Connections: {conn.get('authorized', 0)}"
    )


def _last_codes(codes: list[dict[str, Any]]) -> str:
    if not codes:
        return ""
    return " (latest: " + ", ".join(c["code"] for c in codes[-5:]) + ")"


def _table(rows: list[list[Any]], headers: list[str]) -> str:
    if not rows:
        return "  (none)"
    from tabulate import tabulate  # only text output needs it: JSON runs start faster

    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    width = max(width, 20)
    return text if len(text) <= width else text[: width - 1] + "…"


def _short_time(stamp: str | None) -> str:
    return (stamp or "-").replace("T", " ")[:19]


def _size(value: float) -> str:
    size = float(value or 0)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"
