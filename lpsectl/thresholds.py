"""``[thresholds.*]``: the one home of every limit the reports and ``analyze`` judge by.

One name per idea, percent everywhere: the daily report alerts on a day that
crosses a limit, ``analyze`` recommends a change when days keep crossing the
same limit (``[analysis] saturated_days``). Limits only one of them has (the
days-to-full of a disk, a slow query's mean) stay in that feature's section.
"""

from __future__ import annotations

from dataclasses import dataclass

from lpsectl.config import Config, load_section
from lpsectl.errors import ConfigError

HOST_SECTION = "thresholds.host"
DATABASE_SECTION = "thresholds.database"
WEB_SECTION = "thresholds.web"


@dataclass
class HostThresholds:
    """``[thresholds.host]``."""

    disk_warning_percent: float = 85.0
    disk_critical_percent: float = 95.0
    memory_warning_percent: float = 90.0
    #: the 15-minute load average per CPU core
    load_per_core_warning: float = 1.0
    swap_warning_percent: float = 50.0


@dataclass
class DatabaseThresholds:
    """``[thresholds.database]`` (defaults like pgHero's)."""

    cache_hit_min_percent: float = 99.0
    long_query_seconds: float = 60.0
    #: an idle-in-transaction session older than this raises an alert (0: any)
    idle_in_transaction_seconds: float = 0.0
    connections_max_percent: float = 90.0
    dead_tuples_max_percent: float = 20.0
    #: tables smaller than this are not judged on their dead-tuple share
    dead_tuples_min_rows: int = 10000
    wraparound_max_percent: float = 50.0
    #: deadlocks in one day before an alert
    deadlocks_max: int = 0


@dataclass
class WebThresholds:
    """``[thresholds.web]``: the SPSE web address as its users see it (``[[checks]]``)."""

    #: consecutive failed checks before the address counts as down (an alert, an outage)
    down_after_checks: int = 2
    certificate_warning_days: int = 30
    certificate_critical_days: int = 7
    #: a day whose 95th percentile response time is above this raises a warning
    slow_p95_ms: float = 3000.0
    #: a day below this availability (planned maintenance apart) raises a warning
    availability_min_percent: float = 99.0


def host_thresholds(config: Config) -> HostThresholds:
    return load_section(config, HOST_SECTION, HostThresholds)


def database_thresholds(config: Config) -> DatabaseThresholds:
    return load_section(config, DATABASE_SECTION, DatabaseThresholds)


def web_thresholds(config: Config) -> WebThresholds:
    limits = load_section(config, WEB_SECTION, WebThresholds)
    where = f"{config.source}: thresholds.web"
    if limits.down_after_checks < 1:
        raise ConfigError(f"{where}.down_after_checks must be at least 1")
    for key in ("slow_p95_ms", "availability_min_percent"):
        value = getattr(limits, key)
        if not 0 <= value < float("inf"):  # NaN fails this too
            raise ConfigError(f"{where}.{key} must be a number of at least 0")
    if limits.certificate_critical_days > limits.certificate_warning_days:
        raise ConfigError(
            f"{where}.certificate_critical_days must not be above certificate_warning_days"
        )
    return limits
