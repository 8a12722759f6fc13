"""Do the same thing on many hosts at once; gather every result, raise nothing.

Like fabric's GroupResult: per-host outcomes are collected first and the
caller reports failures together at the end.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from lpsectl.config import HostConfig, SshSettings
from lpsectl.errors import LpsectlError
from lpsectl.remote.runner import Runner, make_runner

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class HostOutcome(Generic[T]):
    host: HostConfig
    value: T | None = None
    error: str | None = None
    detail: str | None = None
    #: the exception class behind ``error`` (kept as fabric keeps the exception)
    error_type: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Interrupted(Exception):  # noqa: N818 - it is the event, not an error of ours
    """Ctrl-C or SIGTERM during :func:`on_hosts`; ``outcomes`` has what was complete
    (the rest are "interrupted" outcomes), so the caller can keep it."""

    def __init__(self, outcomes: list[HostOutcome[Any]]) -> None:
        super().__init__("interrupted")
        self.outcomes = outcomes


def on_hosts(
    hosts: list[HostConfig],
    ssh: SshSettings,
    task: Callable[[Runner], T],
    runner_factory: Callable[[HostConfig, SshSettings], Runner] = make_runner,
) -> list[HostOutcome[T]]:
    """Run ``task(runner)`` for every host, at most ``ssh.parallel`` at a time.

    Raises :class:`Interrupted` (with the finished hosts' outcomes) on Ctrl-C
    or SIGTERM; the hosts still running have their connections closed.
    """
    runners: dict[int, Runner] = {}

    def one(index: int, host: HostConfig) -> HostOutcome[T]:
        runner = runner_factory(host, ssh)
        runners[index] = runner
        try:
            return HostOutcome(host, value=task(runner))
        except LpsectlError as exc:
            reason = getattr(exc, "reason", exc.message)
            return HostOutcome(host, error=reason, detail=exc.detail, error_type=type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - one broken host must not stop the others
            log.debug("%s: unexpected failure", host.name, exc_info=True)
            return HostOutcome(
                host,
                error=f"unexpected error: {exc.__class__.__name__}: {exc}",
                error_type=type(exc).__name__,
            )
        finally:
            runner.close()

    if not hosts:
        return []
    done: dict[int, HostOutcome[T]] = {}
    pool = ThreadPoolExecutor(max_workers=min(ssh.parallel, len(hosts)))
    futures = {pool.submit(one, index, host): index for index, host in enumerate(hosts)}
    pending = set(futures)
    try:
        while pending:
            # a timed wait: an untimed one would hold off Ctrl-C/SIGTERM until a host finished
            finished, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            for future in finished:
                done[futures[future]] = future.result()
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        for runner in list(runners.values()):
            with suppress(Exception):
                runner.close()  # the threads still talking to a host end at once
        raise Interrupted(
            [
                done.get(i)
                or HostOutcome(
                    h, error="interrupted before this host was finished", error_type="Interrupted"
                )
                for i, h in enumerate(hosts)
            ]
        ) from None
    pool.shutdown()
    return [done[i] for i in range(len(hosts))]
