"""Do the same thing on many hosts at once; gather every result, raise nothing.

Like fabric's GroupResult: per-host outcomes are collected first and the
caller reports failures together at the end.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

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


def on_hosts(
    hosts: list[HostConfig],
    ssh: SshSettings,
    task: Callable[[Runner], T],
    runner_factory: Callable[[HostConfig, SshSettings], Runner] = make_runner,
) -> list[HostOutcome[T]]:
    """Run ``task(runner)`` for every host, at most ``ssh.parallel`` at a time."""

    def one(host: HostConfig) -> HostOutcome[T]:
        runner = runner_factory(host, ssh)
        try:
            return HostOutcome(host, value=task(runner))
        except LpsectlError as exc:
            reason = getattr(exc, "reason", exc.message)
            return HostOutcome(host, error=reason, detail=exc.detail, error_type=type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - one broken host must not stop the others
            log.debug("%s: unexpected failure", host.name, exc_info=True)
            return HostOutcome(host, error=f"unexpected error: {exc.__class__.__name__}: {exc}",
                               error_type=type(exc).__name__)
        finally:
            runner.close()

    if not hosts:
        return []
    with ThreadPoolExecutor(max_workers=min(ssh.parallel, len(hosts))) as pool:
        return list(pool.map(one, hosts))
