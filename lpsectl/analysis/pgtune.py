"""PGTune's memory formulas for an OLTP/web workload (SPSE), and setting parsing.

The formulas follow pgtune.leopard.in.ua for the "web application" profile:
shared_buffers = RAM/4, effective_cache_size = 3/4 RAM,
maintenance_work_mem = RAM/16 capped at 2 GiB, and
work_mem = (RAM - shared_buffers) / ((max_connections + workers) * 3),
never below 64 kB. Values are bytes throughout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

KB = 1024
MB = 1024 * KB
GB = 1024 * MB

MAINTENANCE_WORK_MEM_CAP = 2 * GB
WORK_MEM_FLOOR = 64 * KB

UNIT_BYTES = {
    "b": 1,
    "kb": KB,
    "8kb": 8 * KB,
    "16kb": 16 * KB,
    "mb": MB,
    "16mb": 16 * MB,
    "gb": GB,
    "tb": 1024 * GB,
}

#: unit PostgreSQL assumes when a memory setting is a bare number
DEFAULT_UNITS = {
    "shared_buffers": "8kb",
    "effective_cache_size": "8kb",
    "work_mem": "kb",
    "maintenance_work_mem": "kb",
    "temp_buffers": "8kb",
    "wal_buffers": "8kb",
}

MEMORY_SETTINGS = ("shared_buffers", "effective_cache_size", "maintenance_work_mem", "work_mem")

_SIZE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([a-zA-Z0-9]*)\s*$")


def setting_bytes(name: str, value: Any) -> int | None:
    """Bytes of a memory setting given as '128MB', 16384 (+ default unit) or a
    pg_settings row {'setting': '16384', 'unit': '8kB'}; None when unreadable."""
    unit = DEFAULT_UNITS.get(name, "b")
    if isinstance(value, dict):
        unit = str(value.get("unit") or unit).lower()
        value = value.get("setting", value.get("value"))
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return int(value * UNIT_BYTES.get(unit, 1))
    match = _SIZE.match(str(value))
    if not match:
        return None
    amount, suffix = float(match.group(1)), match.group(2).lower()
    if suffix:
        if suffix not in UNIT_BYTES:
            return None
        unit = suffix
    return int(amount * UNIT_BYTES.get(unit, 1))


def setting_number(value: Any) -> float | None:
    """A plain numeric setting (max_connections, log_min_duration_statement)."""
    if isinstance(value, dict):
        value = value.get("setting", value.get("value"))
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    match = _SIZE.match(str(value))
    return float(match.group(1)) if match else None


def setting_text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("setting", value.get("value"))
    return None if value is None else str(value)


@dataclass(frozen=True)
class MemoryAdvice:
    ram: int
    max_connections: int
    cpus: int
    shared_buffers: int
    effective_cache_size: int
    maintenance_work_mem: int
    work_mem: int

    def recommended(self, name: str) -> int:
        return int(getattr(self, name))


def recommend_memory(ram: int, max_connections: int, cpus: int = 2) -> MemoryAdvice:
    """PGTune's web-profile values for a server with ``ram`` bytes."""
    if ram <= 0:
        raise ValueError("RAM must be positive")
    connections = max(int(max_connections), 1)
    shared = ram // 4
    workers = max(int(cpus), 1)
    work_mem = (ram - shared) // ((connections + workers) * 3)
    return MemoryAdvice(
        ram=ram,
        max_connections=connections,
        cpus=workers,
        shared_buffers=shared,
        effective_cache_size=ram * 3 // 4,
        maintenance_work_mem=min(ram // 16, MAINTENANCE_WORK_MEM_CAP),
        work_mem=max(work_mem, WORK_MEM_FLOOR),
    )


def pg_size(value: int) -> str:
    """A value as postgresql.conf writes it: '4GB', '512MB', '64kB'."""
    for unit, size in (("GB", GB), ("MB", MB)):
        if value >= size and value % size == 0:
            return f"{value // size}{unit}"
    if value >= MB:
        return f"{round(value / MB)}MB"
    return f"{max(round(value / KB), 64)}kB"
