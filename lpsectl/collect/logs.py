"""Log summaries (placeholder until the log engine lands)."""

from __future__ import annotations

from lpsectl.collect.base import Collected
from lpsectl.config import HostConfig
from lpsectl.remote.runner import Runner

KIND = "logs"


def applies(host: HostConfig) -> bool:
    return False


def collect(runner: Runner, host: HostConfig, previous: dict | None) -> Collected:
    return Collected(KIND, error="log collection is not available in this version")
