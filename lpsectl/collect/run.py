"""One collection run: every collector on every host, in parallel; stored at once."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType

from lpsectl import messages
from lpsectl.collect import COLLECTOR_MODULES
from lpsectl.collect.base import Collected
from lpsectl.collect.schemas import clean_data, clean_text, query_snapshots, shape_mark
from lpsectl.config import Config, HostConfig
from lpsectl.errors import (
    AuthenticationError,
    HostKeyError,
    HostTimeoutError,
    LpsectlError,
    RemoteError,
    UnreachableError,
)
from lpsectl.remote.fanout import HostOutcome, Interrupted, on_hosts
from lpsectl.remote.runner import Runner
from lpsectl.retention import rollup_at_collect
from lpsectl.store import Store, decode_json, encode
from lpsectl.timeutil import isoformat

log = logging.getLogger(__name__)


@dataclass
class HostResult:
    host: str
    items: list[Collected] = field(default_factory=list)
    error: str | None = None
    error_type: str | None = None

    def problems(self) -> list[str]:
        """One sentence per thing that went wrong on this host."""
        if self.error:
            return [self.error]
        found = []
        bad_logs: dict[str, str] = {}
        for item in self.items:
            for entry in item.data.get("logs", []) if item.kind == "system" else []:
                problem = _log_problem(entry)
                if problem:
                    bad_logs[entry["path"]] = problem
        for item in self.items:
            if item.error:
                found.append(f"{item.kind}: {item.error}")
            for name, reason in item.unavailable.items():
                if not (item.kind == "logs" and name in bad_logs):  # already said once, below
                    found.append(f"{item.kind} {name} not collected: {reason}")
        return found + list(bad_logs.values())


@dataclass
class CollectRun:
    run_id: int
    taken_at: datetime
    hosts: list[HostResult]

    @property
    def reachable(self) -> int:
        """Hosts something was collected from (a host answered only with failures counts not)."""
        return sum(1 for h in self.hosts if h.error is None and any(i.ok for i in h.items))

    @property
    def status(self) -> str:
        if self.hosts and self.reachable == 0:
            return "failed"
        return "partial" if any(h.problems() for h in self.hosts) else "ok"


def _log_problem(entry: dict) -> str | None:
    if not entry.get("exists"):
        return messages.LOG_MISSING.format(path=entry["path"])
    if not entry.get("readable", True):
        return messages.LOG_UNREADABLE.format(
            path=entry["path"], reason=entry.get("error", "permission denied")
        )
    return None


def collectors() -> list[ModuleType]:
    return [importlib.import_module(name) for name in COLLECTOR_MODULES]


def select_hosts(config: Config, names: list[str] | None) -> list[HostConfig]:
    if not names:
        return list(config.hosts)
    return [config.host(name) for name in names]


def previous_data(
    store: Store, hosts: list[HostConfig], kinds: list[str] | None = None
) -> dict[tuple[str, str], dict]:
    """Last successful snapshot data per (host, kind): one indexed look-up each
    (``snapshots_latest``), whatever the length of the history."""
    found: dict[tuple[str, str], dict] = {}
    kinds = kinds if kinds is not None else [module.KIND for module in collectors()]
    for host in hosts:
        for kind in kinds:
            rows = query_snapshots(
                store,
                "SELECT kind, ok, data, shape_checked FROM snapshots WHERE host = ? AND kind = ? AND ok = 1 "
                "ORDER BY id DESC LIMIT 1",
                [host.name, kind],
            )
            for row in rows:
                if row["ok"]:  # checked_row turns a row of a bad shape into a failed one
                    found[(host.name, kind)] = decode_json(row["data"], {})
    return found


#: failures that mean the host itself could not be used: reported once, for the host
HOST_FAILURES = (UnreachableError, HostKeyError, AuthenticationError)
#: their names, as stored in snapshots.error_type: only these make a host "unreachable"
UNREACHABLE_TYPES = frozenset(cls.__name__ for cls in HOST_FAILURES)


def collect_host(
    runner: Runner, modules: list[ModuleType], previous: dict[tuple[str, str], dict]
) -> list[Collected]:
    """Every collector that applies, each isolated: a failure is that item's error.

    Raises only a :data:`HOST_FAILURES` error (connect, host key, login), and
    only from the first collector, so the host is "unreachable" only when it
    was. After the host's deadline passes, the remaining items are marked
    with that reason without being tried.
    """
    host = runner.host
    items: list[Collected] = []
    stopped: LpsectlError | None = None
    for module in modules:
        if not module.applies(host):
            continue
        if stopped is not None:
            items.append(
                Collected(
                    module.KIND,
                    error=stopped.reason if isinstance(stopped, RemoteError) else stopped.message,
                    error_type=type(stopped).__name__,
                )
            )
            continue
        try:
            item = module.collect(runner, host, previous.get((host.name, module.KIND)))
            if item.error and item.error_type is None:
                item.error_type = "BadAnswer"  # the host answered, with something unusable
        except HOST_FAILURES:
            if not items:
                raise
            item = Collected(
                module.KIND, error="the connection to the host was lost", error_type="RemoteError"
            )
        except HostTimeoutError as exc:
            stopped = exc
            item = Collected(module.KIND, error=exc.reason, error_type=type(exc).__name__)
        except RemoteError as exc:
            item = Collected(module.KIND, error=exc.reason, error_type=type(exc).__name__)
        except RecursionError:
            item = Collected(
                module.KIND,
                error="the host's answer is nested too deep to read",
                error_type="BadAnswer",
            )
        except Exception as exc:  # noqa: BLE001 - one collector's bug must not hide the host
            log.debug("%s: collector %s failed", host.name, module.KIND, exc_info=True)
            item = Collected(
                module.KIND,
                error=f"lpsectl's {module.KIND} collector failed "
                f"({type(exc).__name__}: {exc}); please report it",
                error_type=type(exc).__name__,
            )
        items.append(_cleaned(item))
    _check_log_line_prefix(host, items)
    return items


def _cleaned(item: Collected) -> Collected:
    """Every string a host sent, made harmless before it is stored or printed: no escape
    sequences for a terminal, no line breaks that forge rows (SQL and log text keep theirs)."""
    newlines = item.kind != "system"
    item.data = clean_data(item.data, newlines)
    item.unavailable = {clean_text(k): clean_text(v) for k, v in item.unavailable.items()}
    if item.error:
        item.error = clean_text(item.error)
    return item


def _check_log_line_prefix(host: HostConfig, items: list[Collected]) -> None:
    """The config's log_line_prefix against the server's own (pg_settings): a mismatch
    reads the database log wrongly, so it is said every run until fixed (exit 3)."""
    if not host.log_line_prefix:
        return  # detected from the file itself
    postgres = next((i for i in items if i.kind == "postgres" and i.ok), None)
    if postgres is None:
        return
    server = ((postgres.data.get("settings") or {}).get("log_line_prefix") or {}).get("setting")
    if not isinstance(server, str) or server == host.log_line_prefix:
        return
    message = (
        f"hosts.log_line_prefix {host.log_line_prefix!r} differs from the server's "
        f"log_line_prefix {server!r} (pg_settings): set it to the server's, or leave it "
        "empty to detect it from the file"
    )
    postgres.unavailable["log_line_prefix"] = message
    logs = next((i for i in items if i.kind == "logs" and i.ok), None)
    if logs is not None:
        logs.data.setdefault("warnings", []).append(message)  # an alert in the daily report


def run_collection(
    config: Config, store: Store, now: datetime, host_names: list[str] | None = None
) -> CollectRun:
    hosts = select_hosts(config, host_names)
    modules = collectors()
    previous = previous_data(store, hosts)
    try:
        outcomes = on_hosts(
            hosts, config.ssh, lambda runner: collect_host(runner, modules, previous)
        )
    except Interrupted as exc:
        # Ctrl-C, SIGTERM, cron's `timeout`: what is complete is kept, then the interruption goes on
        save_run(store, now, _results(exc.outcomes))
        raise KeyboardInterrupt from None
    results = _results(outcomes)
    run_id = save_run(store, now, results)
    return CollectRun(run_id, now, results)


def _results(outcomes: list[HostOutcome[list[Collected]]]) -> list[HostResult]:
    return [
        HostResult(
            o.host.name,
            items=o.value or [],
            error=clean_text(o.error) if o.error else None,
            error_type=o.error_type,
        )
        for o in outcomes
    ]


def save_run(store: Store, now: datetime, results: list[HostResult]) -> int:
    stamp = isoformat(now)
    day = now.date().isoformat()
    with store.transaction():
        status = "ok" if all(not r.problems() for r in results) else "partial"
        run_id = store.insert(
            "runs", {"job": "collect", "started_at": stamp, "finished_at": stamp, "status": status}
        )
        for result in results:
            items = result.items or [
                Collected(
                    "system",
                    error=result.error or "nothing collected",
                    error_type=result.error_type,
                )
            ]
            for item in items:
                text = encode(item.data)
                store.insert(
                    "snapshots",
                    {
                        "run_id": run_id,
                        "host": result.host,
                        "kind": item.kind,
                        "taken_at": stamp,
                        "day": day,
                        "ok": 1 if item.ok else 0,
                        "error": item.error,
                        "error_type": item.error_type,
                        "data": text,
                        "unavailable": item.unavailable,
                        "shape_checked": shape_mark(text)
                        if item.ok and item.shape_checked
                        else None,
                        "rollup": rollup_at_collect(item.kind, item.data) if item.ok else None,
                    },
                )
    return run_id
