"""PostgreSQL statistics over psql (placeholder until the database work lands)."""

from __future__ import annotations

from lpsectl.collect.base import Collected
from lpsectl.config import HostConfig
from lpsectl.remote.runner import Runner

KIND = "postgres"


def applies(host: HostConfig) -> bool:
    return False


def collect(runner: Runner, host: HostConfig, previous: dict | None) -> Collected:
    return Collected(KIND, error="PostgreSQL collection is not available in this version")
