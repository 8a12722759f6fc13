"""Log summaries, made on the host itself: only what is new since the last run.

The stdlib-only summariser (``lpsectl/logs/summarize_remote.py``) is sent
zlib-compressed on the standard input of the host's ``python3``
(:mod:`lpsectl.remote.ship`, REQUEST_JSON its argument) and answers with the
summary of each file plus its new read cursor. Cursors travel in the
snapshot ``data`` (``previous`` gives the last successful one back), so a
failed run never advances them and nothing is counted twice or skipped.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator
from typing import Any

from lpsectl import messages
from lpsectl.collect.base import Collected
from lpsectl.collect.schemas import LOGS, LOGS_ANSWER, BadAnswer, loads_answer, problem
from lpsectl.config import HostConfig
from lpsectl.logs.summary import merge_summaries, remote_script
from lpsectl.remote.runner import COMMAND_NOT_FOUND, Runner
from lpsectl.remote.ship import TOO_OLD, script_command

KIND = "logs"
#: queries and errors kept per file per run (the daily report merges runs)
TOP = 50
#: entries per event day and file in one run (issue 14: per-day counts exact for the report;
#: more distinct statements or errors than this in a day are counted as "other")
DAY_TOP = 2000


def applies(host: HostConfig) -> bool:
    return bool(host.logs)


#: strftime escapes PostgreSQL's log_filename may use (and %% for a percent sign)
_STRFTIME = re.compile(r"%[aAbBcdHIjmMpSUwWyYZz%]")


def as_glob(entry: str) -> str:
    """A host's ``logs`` entry as the servers read it: a file, a glob, or a
    ``log_filename``-style strftime pattern turned into a glob
    (``/var/lib/pgsql/15/data/log/postgresql-%a.log`` → ``…/postgresql-*.log``)."""
    return _STRFTIME.sub(lambda m: "%" if m.group(0) == "%%" else "*", entry)


def is_set(entry: str) -> bool:
    return any(c in as_glob(entry) for c in "*?[")


def wanted_cursors(entries: list[str], previous: dict | None) -> dict[str, Any]:
    """The last run's cursors of the files that still belong to ``entries`` (a file, or a
    member of a set's glob); a file no longer configured is forgotten."""
    cursors = (previous or {}).get("cursors") or {}
    return {
        path: cursor
        for path, cursor in cursors.items()
        if cursor
        and any(
            path == entry or (is_set(entry) and fnmatch.fnmatchcase(path, entry))
            for entry in entries
        )
    }


def build_request(host: HostConfig, previous: dict | None) -> dict[str, Any]:
    """What the summariser is asked: each entry (a set as its glob), and the cursors of
    every file read before that belongs to it (a set's members keep one cursor each)."""
    entries = [as_glob(path) for path in host.logs]
    wanted = wanted_cursors(entries, previous)
    return {
        "files": [
            {
                "path": entry,
                "format": host.log_format or None,
                "prefix": host.log_line_prefix or None,
            }
            for entry in entries
        ],
        "cursors": wanted,
        "top": TOP,
        # per event day, each day's list long enough to be exact for the report (the rest
        # is counted as "other")
        "by_day": True,
        "day_top": DAY_TOP,
    }


def collect(runner: Runner, host: HostConfig, previous: dict | None) -> Collected:
    answer = run_summariser(runner, host, build_request(host, previous), KIND)
    if isinstance(answer, Collected):
        return answer
    collected = from_answer(answer)
    shape = problem(collected.data, LOGS)
    if shape is not None:
        return Collected(KIND, error=f"the log summariser's answer was refused: {shape}")
    collected.shape_checked = True
    return collected


def run_summariser(
    runner: Runner, host: HostConfig, request: dict[str, Any], kind: str
) -> dict[str, Any] | Collected:
    """Run the shipped summariser on ``host`` with ``request`` (its deadline and read
    budget added): its answer, checked as JSON of the answer's shape, or the failed
    item of ``kind`` saying why."""
    remaining = runner.deadline.remaining()
    # the summariser stops reading in time to answer before the runner gives it up (it
    # writes nothing until its answer); what it did not read, the next runs do
    read_seconds = max(1.0, min(host.log_read_seconds, runner.command_timeout / 2, remaining / 2))
    request = {
        **request,
        "deadline": remaining,
        "read_seconds": read_seconds,
        "read_bytes": host.log_read_mib * 1024 * 1024,
        # its lists are cut to fit what the runner reads back (ssh.max_output_bytes),
        # half of it: the counts and the JSON around them take the rest
        "answer_bytes": runner.max_output_bytes // 2,
    }
    python = host.python or "python3"
    argv, script = script_command(python, remote_script(), json.dumps(request))
    result = runner.run(argv, stdin=script)
    if result.returncode == COMMAND_NOT_FOUND:
        return Collected(
            kind,
            error=messages.SUMMARISER_NO_PYTHON.format(python=python, host=host.name),
        )
    if not result.ok:
        return Collected(kind, error=_failure(python, result.error_text))
    try:
        answer = loads_answer(result.text)
    except BadAnswer as exc:
        return Collected(
            kind, error=f"the log summariser's answer on {host.name} was refused: {exc}"
        )
    shape = problem(answer, LOGS_ANSWER)
    if shape is not None:
        return Collected(kind, error=f"the log summariser's answer was refused: {shape}")
    return answer


def _failure(python: str, stderr: str) -> str:
    last = stderr.strip().splitlines()[-1] if stderr.strip() else messages.NO_MESSAGE
    if "SyntaxError" in stderr or TOO_OLD in stderr:
        return messages.SUMMARISER_OLD_PYTHON.format(python=python, reason=last)
    return messages.SUMMARISER_FAILED.format(reason=last)


def readable_files(
    answer: dict[str, Any], data: dict[str, Any], unavailable: dict[str, str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The files of a summariser's answer that were read, as (path, item); on the way every
    cursor goes to ``data["cursors"]``, every file's error to ``unavailable`` and every
    warning to ``data["warnings"]`` (the database, application and access logs alike)."""
    for path, item in (answer.get("files") or {}).items():
        if item.get("cursor"):
            data["cursors"][path] = item["cursor"]
        if item.get("error"):
            unavailable[path] = item["error"]
            continue
        data["warnings"] += item.get("warnings") or []
        yield path, item


def from_answer(answer: dict[str, Any]) -> Collected:
    """Pure: the summariser's answer → snapshot data (summaries, cursors, warnings)."""
    data: dict[str, Any] = {"files": {}, "cursors": {}, "warnings": []}
    unavailable: dict[str, str] = {}
    for path, item in readable_files(answer, data, unavailable):
        summary = item.get("summary") or {}
        days = item.get("days")
        if isinstance(days, dict):
            # counted per event day on the server; the run's whole is their sum
            whole = merge_summaries(list(days.values()), top=TOP)
            for key in ("format", "lines", "bytes", "start", "end", "warnings"):
                if summary.get(key) is not None:  # the days' own range stays when the run has none
                    whole[key] = summary[key]
            whole["unparsed"] = (whole.get("unparsed") or 0) + (summary.get("unparsed") or 0)
            data["files"][path] = {"format": summary.get("format"), "summary": whole, "days": days}
        else:
            data["files"][path] = {"format": summary.get("format"), "summary": summary}
    # a missing or unreadable file is an unavailable item, not a failed host: the
    # snapshot stays successful so the other files' cursors (and its own) carry on
    return Collected(KIND, data=data, unavailable=unavailable)
