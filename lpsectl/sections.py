"""Every feature section of the config and the dataclass that is its schema.

The feature modules own their settings (``MaintenanceSettings`` next to the
maintenance workflow); this table names them all, so a config is checked whole
when it is loaded — a typo in ``[access]`` is an error at once, not when the
access command first runs — and the docs test walks the same table.
"""

from __future__ import annotations

from typing import Any

from lpsectl.config import Config, load_section
from lpsectl.errors import ConfigError


def feature_sections() -> dict[str, type[Any]]:
    """``{"maintenance": MaintenanceSettings, "thresholds.host": HostThresholds, ...}``."""
    # imported here: the feature modules import lpsectl.config themselves
    from lpsectl.access import AccessSettings
    from lpsectl.analysis.rules import AnalysisSettings
    from lpsectl.cronjobs import CronSettings, ScheduleSettings
    from lpsectl.maintenance import MaintenanceSettings
    from lpsectl.notify import NotifySettings
    from lpsectl.reports.daily_logs import LogsSettings
    from lpsectl.retention import StoreSettings
    from lpsectl.thresholds import (
        DATABASE_SECTION,
        HOST_SECTION,
        WEB_SECTION,
        DatabaseThresholds,
        HostThresholds,
        WebThresholds,
    )
    from lpsectl.tickets import TicketSettings
    from lpsectl.usage import UsageSettings
    from lpsectl.webcheck import CheckSettings

    return {
        "maintenance": MaintenanceSettings,
        "tickets": TicketSettings,
        "access": AccessSettings,
        "schedule": ScheduleSettings,
        "cron": CronSettings,
        "analysis": AnalysisSettings,
        "logs": LogsSettings,
        "store": StoreSettings,
        "notify": NotifySettings,
        "checks": CheckSettings,  # [[checks]]: an array of tables
        "usage": UsageSettings,
        HOST_SECTION: HostThresholds,
        DATABASE_SECTION: DatabaseThresholds,
        WEB_SECTION: WebThresholds,
    }


def check_feature_sections(config: Config) -> None:
    """Read every feature section present in ``config`` through its dataclass.
    Raises ``ConfigError`` (file, section and key named) on an unknown key or a wrong type."""
    from lpsectl.notify import notify_settings
    from lpsectl.retention import store_settings
    from lpsectl.thresholds import WEB_SECTION, web_thresholds
    from lpsectl.usage import usage_settings
    from lpsectl.webcheck import load_checks

    #: sections whose values are checked beyond their types (ranges, formats) when read
    ranged = {
        "store": store_settings,
        WEB_SECTION: web_thresholds,
        "notify": notify_settings,
        "usage": usage_settings,
    }
    present = set(config.sections)
    for name, cls in feature_sections().items():
        if name == "checks":
            load_checks(config)  # an array of tables, each checked against the hosts
        elif name.split(".")[0] in present:
            load_section(config, name, cls)
            if name in ranged:
                ranged[name](config)  # a wrong range fails now, not at 03.20 in cron
    thresholds = config.sections.get("thresholds") or {}
    known = {name.split(".", 1)[1] for name in feature_sections() if name.startswith("thresholds.")}
    for part in thresholds:
        if part not in known:
            raise ConfigError(
                f"{config.source}: unknown section [thresholds.{part}] "
                f"(known: {', '.join(sorted('thresholds.' + k for k in known))})"
            )
