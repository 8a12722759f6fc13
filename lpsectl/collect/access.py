"""Access log summaries (issue 19): SPSE's usage, counted on the proxy host itself.

The same shipped summariser as the database and application logs
(:mod:`lpsectl.collect.logs`), asked for format ``access``: the same cursors,
rotation handling and read budget. The snapshot holds, per file, the counts of
each event day this run read (:mod:`lpsectl.logs.usage` describes a day), the
cursors, and the key the visitors' addresses are hashed with.
"""

from __future__ import annotations

import secrets
from typing import Any

from lpsectl.collect.base import Collected
from lpsectl.collect.logs import as_glob, readable_files, run_summariser, wanted_cursors
from lpsectl.collect.schemas import ACCESS, problem
from lpsectl.config import HostConfig
from lpsectl.remote.runner import Runner
from lpsectl.usage import KIND, request_options


def applies(host: HostConfig) -> bool:
    return bool(host.access_logs)


def visitor_key(previous: dict | None) -> str:
    """The key visitors are hashed with: the last run's, so a day read over several runs
    counts an address once; a new random one on the first run."""
    key = (previous or {}).get("visitor_key")
    if isinstance(key, str) and len(key) == 32 and all(c in "0123456789abcdef" for c in key):
        return key
    return secrets.token_hex(16)


def build_request(host: HostConfig, previous: dict | None, key: str) -> dict[str, Any]:
    entries = [as_glob(path) for path in host.access_logs]
    return {
        "files": [
            {"path": entry, "format": "access", "prefix": host.access_log_format}
            for entry in entries
        ],
        "cursors": wanted_cursors(entries, previous),
        "access": {**request_options(host), "visitor_key": key},
    }


def collect(runner: Runner, host: HostConfig, previous: dict | None) -> Collected:
    key = visitor_key(previous)
    answer = run_summariser(runner, host, build_request(host, previous, key), KIND)
    if isinstance(answer, Collected):
        return answer
    collected = from_answer(answer, key)
    shape = problem(collected.data, ACCESS)
    if shape is not None:
        return Collected(KIND, error=f"the access log summariser's answer was refused: {shape}")
    collected.shape_checked = True
    return collected


def from_answer(answer: dict[str, Any], key: str) -> Collected:
    """Pure: the summariser's answer → snapshot data {files: {path: {summary, days}},
    cursors, warnings, visitor_key}; a file that could not be read is unavailable."""
    data: dict[str, Any] = {"files": {}, "cursors": {}, "warnings": [], "visitor_key": key}
    unavailable: dict[str, str] = {}
    for path, item in readable_files(answer, data, unavailable):
        summary = item.get("summary") or {}
        data["files"][path] = {
            "summary": {
                k: summary.get(k)
                for k in (
                    "format",
                    "lines",
                    "bytes",
                    "start",
                    "end",
                    "requests",
                    "unparsed",
                    "unparsed_example",
                )
            },
            "days": item.get("days") or {},
        }
    return Collected(KIND, data=data, unavailable=unavailable)
