"""Crafted snapshot histories for the analysis tests (a healthy week, and knobs to
make it sick), in the data shapes of docs/dev-notes.md and docs/database.md."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")
GIB = 1024**3
MIB = 1024**2
START = datetime(2026, 11, 15, 0, 0, tzinfo=WIB)
SAMPLES_PER_DAY = 4


def snapshot(
    host: str,
    kind: str,
    at: datetime,
    data: dict[str, Any],
    unavailable: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "host": host,
        "kind": kind,
        "taken_at": at.isoformat(),
        "day": at.date().isoformat(),
        "ok": True,
        "error": None,
        "data": data,
        "unavailable": unavailable or {},
    }


def system_data(
    ram: int = 16 * GIB,
    mem_pct: float = 55.0,
    cpu_pct: float = 20.0,
    load15: float = 0.8,
    disk_used: int = 40 * GIB,
    disk_total: int = 200 * GIB,
    logs_fresh: bool = True,
) -> dict[str, Any]:
    return {
        "hostname": "db1",
        "os": {"system": "Linux", "release": "6.1", "pretty_name": "Debian 12"},
        "uptime_seconds": 86400.0 * 20,
        "load": {"1": load15, "5": load15, "15": load15},
        "cpu": {"count": 4, "percent": cpu_pct},
        "memory": {
            "total": ram,
            "available": int(ram * (1 - mem_pct / 100)),
            "used_percent": mem_pct,
        },
        "swap": {"total": 0, "used": 0, "used_percent": 0.0},
        "filesystems": [
            {
                "mount": "/",
                "device": "/dev/sda1",
                "fstype": "ext4",
                "total": disk_total,
                "used": disk_used,
                "free": disk_total - disk_used,
                "used_percent": round(disk_used / disk_total * 100, 1),
            },
            {
                "mount": "/run",
                "device": "tmpfs",
                "fstype": "tmpfs",
                "total": GIB,
                "used": GIB,
                "free": 0,
                "used_percent": 100.0,
            },
        ],
        "top_cpu": [],
        "top_mem": [],
        "services": {"postgres": {"expected": True, "running": True, "pid": 900, "detail": ""}},
        "logs": [
            {
                "path": "/var/log/postgresql/postgresql.log",
                "exists": True,
                "size": 1000,
                "mtime": 1795194000.0,
                "age_seconds": 60.0,
                "fresh": logs_fresh,
            }
        ],
        "probe": "psutil",
    }


def setting(shown: str, bytes_: int | None = None, setting_: str | None = None) -> dict[str, Any]:
    return {
        "shown": shown,
        "setting": setting_ if setting_ is not None else shown,
        "unit": None,
        "source": "configuration file",
        "bytes": bytes_,
        "ms": None,
    }


def healthy_settings() -> dict[str, Any]:
    # PGTune values for 16 GiB, 100 connections, 4 CPUs
    return {
        "shared_buffers": setting("4GB", 4 * GIB, "524288"),
        "effective_cache_size": setting("12GB", 12 * GIB, "1572864"),
        "maintenance_work_mem": setting("1GB", GIB, "1048576"),
        "work_mem": setting("39MB", 39 * MIB, "39936"),
        "max_connections": setting("100", None, "100"),
        "logging_collector": setting("on"),
        "log_min_duration_statement": {
            "shown": "1s",
            "setting": "1000",
            "unit": "ms",
            "source": "",
            "bytes": None,
            "ms": 1000.0,
        },
        "log_line_prefix": setting("%m [%p] %q%u@%d "),
    }


def postgres_data(
    step: int,
    *,
    settings: dict[str, Any] | None = None,
    hit_per_step: int = 1_000_000,
    read_per_step: int = 1_000,
    temp_files_per_step: int = 2,
    commits_per_step: int = 10_000,
    rollbacks_per_step: Any = 10,
    deadlocks_per_step: Any = 0,
    connections: int = 20,
    statements: list[dict[str, Any]] | None = None,
    tables: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    def cumulative(per_step: Any) -> int:
        return (
            sum(per_step(i) for i in range(step + 1))
            if callable(per_step)
            else per_step * (step + 1)
        )

    return {
        "database": "epns_prod",
        "server": {"version": "15.8", "version_num": 150008},
        "settings": settings or healthy_settings(),
        "database_stats": {
            "datname": "epns_prod",
            "xact_commit": commits_per_step * (step + 1),
            "xact_rollback": cumulative(rollbacks_per_step),
            "deadlocks": cumulative(deadlocks_per_step),
            "blks_hit": hit_per_step * (step + 1),
            "blks_read": read_per_step * (step + 1),
            "temp_files": temp_files_per_step * (step + 1),
            "temp_bytes": temp_files_per_step * (step + 1) * MIB,
            "cache_hit_ratio": hit_per_step / (hit_per_step + read_per_step),
        },
        "statements": {
            "count": 2,
            "top_by_calls": statements
            if statements is not None
            else [
                {
                    "queryid": "1",
                    "query": "SELECT * FROM paket WHERE pkt_id = $1",
                    "calls": 50_000,
                    "total_ms": 5_000.0,
                    "mean_ms": 0.1,
                    "max_ms": 12.0,
                    "rows": 50_000,
                },
            ],
            "top_by_total_time": [],
        },
        "activity": {
            "max_connections": 100,
            "total": connections,
            "usage_ratio": connections / 100,
        },
        "tables": tables
        if tables is not None
        else [
            {
                "schema": "public",
                "name": "paket",
                "live_tuples": 500_000,
                "dead_tuples": 2_000,
                "dead_ratio": 0.004,
                "last_autovacuum": "2026-11-20T03:00:00+07:00",
            },
        ],
    }


def spse_errors(count: int) -> dict[str, Any]:
    # the shape lpsectl.collect.logs.from_answer stores: files keyed by path
    path = "/home/appserv/spse/logs/application.log"
    summary = {
        "format": "spse",
        "lines": 1000,
        "queries": [],
        "errors": [
            {
                "severity": "ERROR",
                "signature": "NullPointerException at LelangCtr.view",
                "count": count,
                "example": "@7a1b2c3d4 NullPointerException",
                "first": "2026-11-15T08:00:00+07:00",
                "last": "2026-11-15T17:00:00+07:00",
            }
        ],
    }
    return {"files": {path: {"format": "spse", "summary": summary}}, "cursors": {}, "warnings": []}


def week(
    days: int = 7,
    *,
    system: Any = None,
    postgres: Any = None,
    logs: Any = None,
    postgres_unavailable: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """``days`` days of snapshots, 4 a day: db1 (system + postgres), app1 (system + logs).
    ``system``/``postgres``/``logs`` are callables (step, moment) -> data overriding the healthy one."""
    snaps = []
    for step in range(days * SAMPLES_PER_DAY):
        at = START + timedelta(hours=6 * step + 1)
        snaps.append(snapshot("db1", "system", at, system(step, at) if system else system_data()))
        snaps.append(
            snapshot(
                "db1",
                "postgres",
                at,
                postgres(step, at) if postgres else postgres_data(step),
                postgres_unavailable,
            )
        )
        snaps.append(snapshot("app1", "system", at, system_data(ram=8 * GIB)))
        snaps.append(snapshot("app1", "logs", at, logs(step, at) if logs else spse_errors(0)))
    return copy.deepcopy(snaps)


def test_week_has_four_samples_a_day_per_host_and_kind():
    snaps = week(2)
    assert len(snaps) == 2 * SAMPLES_PER_DAY * 4
    assert {s["day"] for s in snaps} == {"2026-11-15", "2026-11-16"}
