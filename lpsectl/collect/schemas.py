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
import math
import re
import zlib
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator

from lpsectl.logs.usage import ACCESS_DAY

NUM = {"type": ["number", "null"]}
INT = {"type": ["integer", "null"]}
STR = {"type": ["string", "null"]}
BOOL = {"type": ["boolean", "null"]}


def _obj(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required)}


def _list(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


PROCESS = _obj(
    {
        "pid": INT,
        "name": STR,
        "user": STR,
        "cpu_percent": NUM,
        "mem_percent": NUM,
        "rss": INT,
        "cmdline": STR,
    }
)

SYSTEM = _obj(
    {
        "probe": STR,
        "probe_python": STR,
        "hostname": STR,
        "boot_time": NUM,
        "uptime_seconds": NUM,
        "os": {"type": "object", "additionalProperties": STR},
        "load": {"type": "object", "additionalProperties": NUM},
        "cpu": _obj({"count": INT, "percent": NUM}),
        "memory": _obj({"total": INT, "available": INT, "used_percent": NUM}),
        "swap": _obj({"total": INT, "used": INT, "used_percent": NUM}),
        "filesystems": _list(
            _obj(
                {
                    "mount": STR,
                    "device": STR,
                    "fstype": STR,
                    "total": INT,
                    "used": INT,
                    "free": INT,
                    "used_percent": NUM,
                },
                ("mount",),
            )
        ),
        "top_cpu": _list(PROCESS),
        "top_mem": _list(PROCESS),
        "services": {
            "type": "object",
            "additionalProperties": _obj(
                {"expected": BOOL, "running": BOOL, "pid": INT, "detail": STR}
            ),
        },
        "logs": _list(
            _obj(
                {
                    "path": {"type": "string"},
                    "exists": BOOL,
                    "readable": BOOL,
                    "size": INT,
                    "mtime": NUM,
                    "age_seconds": NUM,
                    "fresh": BOOL,
                    "error": STR,
                },
                ("path",),
            )
        ),
    }
)

#: one psql answer per group of the postgres collector
POSTGRES_GROUPS: dict[str, dict[str, Any]] = {
    "server": _obj({"version_num": {"type": ["integer", "string", "null"]}}),
    "settings": {"type": "object", "additionalProperties": {"type": "object"}},
    "database_stats": {"type": ["object", "null"]},
    "statements": _obj(
        {"top_by_calls": _list({"type": "object"}), "top_by_total_time": _list({"type": "object"})}
    ),
    "activity": {"type": "object"},
    "replication": _obj({"replicas": _list({"type": "object"})}),
    "wraparound": _obj({"databases": _list({"type": "object"})}),
    "tables": _list({"type": "object"}),
}

POSTGRES = _obj({"database": STR, **POSTGRES_GROUPS})

SUMMARY = _obj(
    {
        "format": STR,
        "lines": INT,
        "bytes": INT,
        "queries": _list(_obj({"fingerprint": STR, "count": INT, "total_ms": NUM, "max_ms": NUM})),
        "errors": _list(_obj({"severity": STR, "signature": STR, "count": INT})),
    }
)

LOGS = _obj(
    {
        "files": {
            "type": "object",
            "additionalProperties": _obj({"format": STR, "summary": SUMMARY}),
        },
        "cursors": {"type": "object", "additionalProperties": {"type": "object"}},
        "warnings": _list({"type": "string"}),
    }
)

#: the summariser's raw answer, before :func:`lpsectl.collect.logs.from_answer`
LOGS_ANSWER = _obj(
    {
        "files": {
            "type": "object",
            "additionalProperties": _obj(
                {
                    "summary": {"type": ["object", "null"]},
                    "cursor": {"type": ["object", "null"]},
                    "error": STR,
                    "warnings": {"type": ["array", "null"], "items": {"type": "string"}},
                }
            ),
        }
    },
    ("files",),
)

#: an access snapshot (lpsectl.collect.access): per file, the counts of each event day
ACCESS = _obj(
    {
        "files": {
            "type": "object",
            "additionalProperties": _obj(
                {
                    "summary": {"type": "object"},
                    "days": {
                        "type": "object",
                        "propertyNames": {
                            "pattern": r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"
                        },
                        "additionalProperties": ACCESS_DAY,
                    },
                },
                ("days",),
            ),
        },
        "cursors": {"type": "object", "additionalProperties": {"type": "object"}},
        "warnings": _list({"type": "string"}),
        "visitor_key": STR,
    },
    ("files",),
)

SNAPSHOT_KINDS = {"system": SYSTEM, "postgres": POSTGRES, "logs": LOGS, "access": ACCESS}
#: raise when a schema of SNAPSHOT_KINDS changes: rows checked against an older version
#: (``snapshots.shape_checked``) are checked again when read
SHAPES_VERSION = 1


def shape_mark(text: str) -> str:
    """``snapshots.shape_checked`` of a row whose data (this JSON text) fits its schema:
    the schemas' version and the text's CRC-32, so a text changed since is checked again."""
    return f"{SHAPES_VERSION}:{zlib.crc32(text.encode('utf-8'))}"


#: deeper than any snapshot lpsectl makes; a deeper answer is refused before it is walked
MAX_DEPTH = 32


class BadAnswer(ValueError):
    """A host's answer that is not the strict JSON lpsectl stores; the message says why."""


def _no_constant(name: str) -> Any:
    raise BadAnswer(f"{name} is not a number lpsectl stores")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadAnswer(f"{text[:20]} is not a finite number")
    return value


def loads_answer(text: str) -> Any:
    """A host's JSON answer, strictly: no NaN or Infinity (they break every reader and are
    not JSON), no nesting deeper than :data:`MAX_DEPTH`. Raises :class:`BadAnswer`."""
    if _too_deep(text):
        raise BadAnswer(f"nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except BadAnswer:
        raise
    except (ValueError, RecursionError) as exc:
        raise BadAnswer(f"not valid JSON ({str(exc)[:80]})") from None


def _too_deep(text: str) -> bool:
    """A cheap scan (strings skipped) for [ and { nesting past the limit."""
    depth = 0
    for token in _DEPTH_TOKENS.finditer(text):
        char = token.group(0)
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


_DEPTH_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROLS_AND_NEWLINES = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _escape(match: re.Match[str]) -> str:
    return repr(match.group(0))[1:-1]


def clean_text(text: str, newlines: bool = False) -> str:
    """Remote text made harmless for a terminal, a report or a mail: control characters
    (ESC, BEL, CR, …) shown escaped; line breaks kept only where ``newlines``."""
    return (_CONTROLS if newlines else _CONTROLS_AND_NEWLINES).sub(_escape, text)


def clean_data(value: Any, newlines: bool = False) -> Any:
    """:func:`clean_text` on every string (keys too) inside ``value``."""
    if isinstance(value, str):
        return clean_text(value, newlines)
    if isinstance(value, dict):
        return {clean_text(str(k), False): clean_data(v, newlines) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_data(v, newlines) for v in value]
    return value


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

    A good row comes back with ``data`` decoded (readers' ``decode_json`` takes it
    as it is: the JSON is parsed once). A row whose ``data`` is not JSON, or does
    not fit its kind's schema (``row["kind"]``, or ``kind`` when the query did not
    select it), comes back with ``ok = 0``, ``data = {}`` and the reason in ``error``.
    A row whose ``shape_checked`` is the :func:`shape_mark` of its text was checked
    against this schema when it was stored: only its JSON is parsed (select the column).
    """
    schema = SNAPSHOT_KINDS.get(kind or row.get("kind") or "")
    if "data" not in row or not row.get("ok"):
        return row
    raw = row["data"]
    if isinstance(raw, str) and row.get("shape_checked") == shape_mark(raw):
        schema = None  # this very text was checked against this very schema when stored
    try:
        data = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        reason: str | None = "the stored data is not JSON"
    else:
        reason = problem(data, schema) if schema is not None else None
        if reason is None and not isinstance(data, dict):
            reason = "the stored data is not an object"
    if reason is None:
        return dict(row, data=data)
    out = dict(row)
    out["ok"] = 0
    out["error"] = f"stored snapshot unusable ({reason})"
    out["error_type"] = "BadStoredRow"  # read, but unusable: "not monitored", never "unreachable"
    out["data"] = {}
    return out


def iterate_snapshots(
    store: Any, sql: str, params: list[Any], kind: str | None = None
) -> Iterator[dict[str, Any]]:
    """:func:`query_snapshots`, one row at a time (``store.iterate``)."""
    for row in store.iterate(sql, params):
        yield checked_row(row, kind)


def query_snapshots(
    store: Any, sql: str, params: list[Any], kind: str | None = None
) -> list[dict[str, Any]]:
    """``store.query`` for ``snapshots`` rows, each passed through :func:`checked_row`.

    Every reader of snapshots goes through here, so a row of an unexpected
    shape is "unavailable" for all of them alike.
    """
    return [checked_row(row, kind) for row in store.query(sql, params)]
