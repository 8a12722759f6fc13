"""The shape each snapshot kind must have: checked when a host answers and when the store is read.

A host's answer is outside data: it may be of the wrong shape (a broken
probe, a ``psql`` wrapper printing ``null``, a hostile server). What does not
match is that item's error — never stored as data — and a stored row that
does not match (written by an older release, or by hand) is read as
"unavailable", so no report ever crashes on it.

The schemas are JSON Schema (draft 2020-12), checked with the ``jsonschema``
library. They pin the types that readers rely on and leave room for fields a
newer probe adds (``additionalProperties`` is allowed).
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator

NUM = {"type": ["number", "null"]}
INT = {"type": ["integer", "null"]}
STR = {"type": ["string", "null"]}
BOOL = {"type": ["boolean", "null"]}


def _obj(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required)}


def _list(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


PROCESS = _obj({"pid": INT, "name": STR, "user": STR, "cpu_percent": NUM, "mem_percent": NUM,
                "rss": INT, "cmdline": STR})

SYSTEM = _obj({
    "probe": STR, "probe_python": STR, "hostname": STR, "boot_time": NUM, "uptime_seconds": NUM,
    "os": {"type": "object", "additionalProperties": STR},
    "load": {"type": "object", "additionalProperties": NUM},
    "cpu": _obj({"count": INT, "percent": NUM}),
    "memory": _obj({"total": INT, "available": INT, "used_percent": NUM}),
    "swap": _obj({"total": INT, "used": INT, "used_percent": NUM}),
    "filesystems": _list(_obj({"mount": STR, "device": STR, "fstype": STR, "total": INT, "used": INT,
                               "free": INT, "used_percent": NUM}, ("mount",))),
    "top_cpu": _list(PROCESS),
    "top_mem": _list(PROCESS),
    "services": {"type": "object", "additionalProperties": _obj(
        {"expected": BOOL, "running": BOOL, "pid": INT, "detail": STR})},
    "logs": _list(_obj({"path": {"type": "string"}, "exists": BOOL, "readable": BOOL, "size": INT,
                        "mtime": NUM, "age_seconds": NUM, "fresh": BOOL, "error": STR}, ("path",))),
})

#: one psql answer per group of the postgres collector
POSTGRES_GROUPS: dict[str, dict[str, Any]] = {
    "server": _obj({"version_num": {"type": ["integer", "string", "null"]}}),
    "settings": {"type": "object", "additionalProperties": {"type": "object"}},
    "database_stats": {"type": ["object", "null"]},
    "statements": _obj({"top_by_calls": _list({"type": "object"}),
                        "top_by_total_time": _list({"type": "object"})}),
    "activity": {"type": "object"},
    "replication": _obj({"replicas": _list({"type": "object"})}),
    "wraparound": _obj({"databases": _list({"type": "object"})}),
    "tables": _list({"type": "object"}),
}

POSTGRES = _obj({"database": STR, **POSTGRES_GROUPS})

SUMMARY = _obj({"format": STR, "lines": INT, "bytes": INT,
                "queries": _list(_obj({"fingerprint": STR, "count": INT, "total_ms": NUM, "max_ms": NUM})),
                "errors": _list(_obj({"severity": STR, "signature": STR, "count": INT}))})

LOGS = _obj({
    "files": {"type": "object", "additionalProperties": _obj({"format": STR, "summary": SUMMARY})},
    "cursors": {"type": "object", "additionalProperties": {"type": "object"}},
    "warnings": _list({"type": "string"}),
})

#: the summariser's raw answer, before :func:`lpsectl.collect.logs.from_answer`
LOGS_ANSWER = _obj({"files": {"type": "object", "additionalProperties": _obj({
    "summary": {"type": ["object", "null"]}, "cursor": {"type": ["object", "null"]},
    "error": STR, "warnings": {"type": ["array", "null"], "items": {"type": "string"}}})}},
    ("files",))

SNAPSHOT_KINDS = {"system": SYSTEM, "postgres": POSTGRES, "logs": LOGS}

_VALIDATORS: dict[int, Draft202012Validator] = {}


def problem(value: Any, schema: dict[str, Any]) -> str | None:
    """None when ``value`` fits ``schema``; else one sentence naming the first place that does not."""
    validator = _VALIDATORS.get(id(schema))
    if validator is None:
        validator = _VALIDATORS.setdefault(id(schema), Draft202012Validator(schema))
    error = next(iter(validator.iter_errors(value)), None)
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "the top level"
    shown = repr(error.instance)
    shown = shown if len(shown) <= 60 else shown[:59] + "…"
    expected = error.validator_value if error.validator == "type" else error.message
    return f"unexpected shape at {where}: got {shown}, expected {expected}"


def checked_row(row: dict[str, Any], kind: str | None = None) -> dict[str, Any]:
    """A snapshot row as read from the store, made safe for readers.

    A row whose ``data`` is not JSON, or does not fit its kind's schema
    (``row["kind"]``, or ``kind`` when the query did not select it), comes
    back with ``ok = 0``, ``data = {}`` and the reason in ``error``.
    """
    schema = SNAPSHOT_KINDS.get(kind or row.get("kind") or "")
    if "data" not in row or not row.get("ok"):
        return row
    raw = row["data"]
    try:
        data = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        reason: str | None = "the stored data is not JSON"
    else:
        reason = problem(data, schema) if schema is not None else None
        if reason is None and not isinstance(data, dict):
            reason = "the stored data is not an object"
    if reason is None:
        return row
    out = dict(row)
    out["ok"] = 0
    out["error"] = f"stored snapshot unusable ({reason})"
    out["error_type"] = "BadStoredRow"  # read, but unusable: "not monitored", never "unreachable"
    out["data"] = "{}" if isinstance(raw, str) else {}
    return out


def query_snapshots(store: Any, sql: str, params: list[Any], kind: str | None = None) -> list[dict[str, Any]]:
    """``store.query`` for ``snapshots`` rows, each passed through :func:`checked_row`.

    Every reader of snapshots goes through here, so a row of an unexpected
    shape is "unavailable" for all of them alike.
    """
    return [checked_row(row, kind) for row in store.query(sql, params)]
