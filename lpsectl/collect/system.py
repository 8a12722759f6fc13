"""Host resources and services, by the stdlib probe (or plain shell commands).

The probe (``lpsectl/remote/probe.py``) is sent zlib-compressed on the stdin of
the host's ``python3`` (:mod:`lpsectl.remote.ship`); its parameters travel as
one JSON argv element. A host
without a usable python3 still yields the basics through a fixed ``sh``
script whose inputs are positional arguments, never spliced into the text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from lpsectl import messages
from lpsectl.collect.base import Collected
from lpsectl.collect.logs import as_glob
from lpsectl.collect.schemas import SYSTEM, BadAnswer, loads_answer, problem
from lpsectl.config import HostConfig
from lpsectl.remote.runner import COMMAND_NOT_FOUND, Runner
from lpsectl.remote.ship import script_command

KIND = "system"

PROBE_SOURCE = (resources.files("lpsectl") / "remote" / "probe.py").read_bytes()

# Sections are introduced by "@name" lines; $1 is the app home, the rest are log paths.
SHELL_FALLBACK = r"""
app_home="$1"; shift
echo @hostname; hostname 2>/dev/null || cat /proc/sys/kernel/hostname
echo @uname; uname -sr
echo @uptime; cat /proc/uptime
echo @loadavg; cat /proc/loadavg
echo @meminfo; cat /proc/meminfo
echo @nproc; nproc 2>/dev/null || grep -c ^processor /proc/cpuinfo
echo @df; df -P -k 2>/dev/null
echo @now; date +%s
echo @spse; if [ -r "$app_home/server.pid" ]; then pid=$(cat "$app_home/server.pid"); printf '%s ' "$pid"; if [ -d "/proc/$pid" ]; then echo running; else echo stale; fi; else echo none; fi
echo @postgres; for c in /proc/[0-9]*/comm; do read -r n < "$c" 2>/dev/null || continue; case "$n" in postgres|postmaster) echo "$c"; break;; esac; done
for f in "$@"; do echo @log; printf '%s\n' "$f"; stat -c '%s %Y' -- "$f" 2>&1; done
"""

PROBE_ANSWER = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "data": {"type": "object"},
        "unavailable": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
    },
}

FALLBACK_ONLY_PSEUDO = {"tmpfs", "devtmpfs", "udev", "none", "overlay", "shm"}


def applies(host: HostConfig) -> bool:
    return True


def probe_params(host: HostConfig) -> dict[str, Any]:
    return {
        "roles": host.role,
        "app_home": host.app_home,
        "logs": [as_glob(path) for path in host.logs],  # a log set is judged on its newest file
        "log_stale_minutes": host.log_stale_minutes,
    }


def collect(runner: Runner, host: HostConfig, previous: dict | None) -> Collected:
    params = {**probe_params(host), "deadline": runner.deadline.remaining()}
    argv, script = script_command(host.python, PROBE_SOURCE, json.dumps(params))
    result = runner.run(argv, stdin=script)
    if result.ok:
        try:
            payload = loads_answer(result.text)
        except BadAnswer as exc:
            return Collected(
                KIND, error=f"the probe's answer was refused: {exc} ({result.text[:80]!r})"
            )
        shape = problem(payload, PROBE_ANSWER)
        if shape is None:
            shape = problem(payload["data"], SYSTEM)
        if shape is not None:
            return Collected(KIND, error=f"the probe's answer was refused: {shape}")
        return Collected(
            KIND,
            data=payload["data"],
            unavailable=payload.get("unavailable") or {},
            shape_checked=True,
        )
    elif result.returncode == COMMAND_NOT_FOUND:
        reason = messages.PYTHON_NOT_FOUND.format(python=host.python)
    else:
        reason = messages.PYTHON_FAILED.format(
            python=host.python,
            reason=result.error_text.splitlines()[-1] if result.error_text else result.returncode,
        )
    return collect_with_shell(runner, host, reason)


def collect_with_shell(runner: Runner, host: HostConfig, why: str) -> Collected:
    result = runner.run(["sh", "-c", SHELL_FALLBACK, "sh", host.app_home, *host.logs])
    if not result.ok and not result.stdout:
        return Collected(
            KIND,
            error=messages.SHELL_FALLBACK_FAILED.format(why=why, reason=result.error_text[:200]),
        )
    data, unavailable = parse_shell_output(result.text, host)
    data["probe"] = "shell"
    note = messages.SHELL_FALLBACK_USED.format(why=why)
    for item in ("cpu.percent", "processes"):
        unavailable.setdefault(item, note)
    return Collected(KIND, data=data, unavailable=unavailable)


def parse_shell_output(text: str, host: HostConfig) -> tuple[dict[str, Any], dict[str, str]]:
    sections = _split_sections(text)
    data: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    parsers = {
        "hostname": lambda s: {"hostname": s[0][0].strip()},
        "uname": lambda s: {"os": _os_from_uname(s[0][0])},
        "loadavg": lambda s: {
            "load": dict(zip(("1", "5", "15"), map(float, s[0][0].split()[:3]), strict=True))
        },
        "meminfo": lambda s: _memory_from_meminfo(s[0]),
        "df": lambda s: {"filesystems": _filesystems_from_df(s[0])},
        "nproc": lambda s: {"cpu": {"count": int(s[0][0]), "percent": None}},
    }
    for name, parse in parsers.items():
        try:
            data.update(parse(sections[name]))
        except (KeyError, IndexError, ValueError) as exc:
            unavailable[name] = messages.NOT_READ.format(name=name, reason=exc.__class__.__name__)
    try:
        now = float(sections["now"][0][0])
        uptime = float(sections["uptime"][0][0].split()[0])
        data["uptime_seconds"] = uptime
        data["boot_time"] = now - uptime
    except (KeyError, IndexError, ValueError):
        unavailable["boot_time"] = "could not read /proc/uptime"
        now = datetime.now(UTC).timestamp()
    data["services"] = _services_from_shell(sections, host)
    data["logs"] = [
        _log_from_stat(entry, now, host.log_stale_minutes) for entry in sections.get("log", [])
    ]
    return data, unavailable


def _split_sections(text: str) -> dict[str, list[list[str]]]:
    sections: dict[str, list[list[str]]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("@") and line[1:].isalpha():
            current = []
            sections.setdefault(line[1:], []).append(current)
        elif current is not None:
            current.append(line)
    return sections


def _os_from_uname(line: str) -> dict[str, str]:
    system, _, release = line.strip().partition(" ")
    return {"system": system, "release": release, "pretty_name": line.strip()}


def _memory_from_meminfo(lines: list[str]) -> dict[str, Any]:
    info = {}
    for line in lines:
        key, _, rest = line.partition(":")
        if rest.split():
            info[key] = int(rest.split()[0]) * 1024
    total = info["MemTotal"]
    available = info.get("MemAvailable", info.get("MemFree", 0))
    swap_total = info.get("SwapTotal", 0)
    swap_used = swap_total - info.get("SwapFree", 0)
    return {
        "memory": {
            "total": total,
            "available": available,
            "used_percent": round(100.0 * (total - available) / total, 1) if total else None,
        },
        "swap": {
            "total": swap_total,
            "used": swap_used,
            "used_percent": round(100.0 * swap_used / swap_total, 1) if swap_total else 0.0,
        },
    }


def _filesystems_from_df(lines: list[str]) -> list[dict[str, Any]]:
    result = []
    for line in lines[1:]:
        parts = line.split()
        if len(parts) < 6 or not parts[1].isdigit():
            continue
        device, blocks, used, free = parts[0], int(parts[1]), int(parts[2]), int(parts[3])
        mount = " ".join(parts[5:])
        if device in FALLBACK_ONLY_PSEUDO or blocks == 0:
            continue
        result.append(
            {
                "mount": mount,
                "device": device,
                "fstype": "",
                "total": blocks * 1024,
                "used": used * 1024,
                "free": free * 1024,
                "used_percent": round(100.0 * used / (used + free), 1) if used + free else 0.0,
            }
        )
    return result


def _services_from_shell(sections: dict[str, list[list[str]]], host: HostConfig) -> dict[str, Any]:
    spse_fields = (sections.get("spse") or [["none"]])[0]
    parts = (spse_fields[0] if spse_fields else "none").split()
    spse_running = len(parts) == 2 and parts[1] == "running"
    pid = int(parts[0]) if len(parts) == 2 and parts[0].isdigit() else None
    postgres = (sections.get("postgres") or [[]])[0]
    return {
        "spse": {
            "expected": host.has_role("app"),
            "running": spse_running,
            "pid": pid,
            "detail": f"{host.app_home}/server.pid: {' '.join(parts) or 'none'}",
        },
        "postgres": {
            "expected": host.has_role("db"),
            "running": bool(postgres),
            "pid": int(postgres[0].split("/")[2]) if postgres else None,
            "detail": "postgres process found" if postgres else "no postgres/postmaster process",
        },
    }


def _log_from_stat(entry: list[str], now: float, stale_minutes: int) -> dict[str, Any]:
    path = entry[0] if entry else "?"
    fields = entry[1].split() if len(entry) > 1 else []
    if len(fields) == 2 and all(f.isdigit() for f in fields):
        age = now - int(fields[1])
        return {
            "path": path,
            "exists": True,
            "readable": True,
            "size": int(fields[0]),
            "mtime": float(fields[1]),
            "age_seconds": round(age, 1),
            "fresh": age <= stale_minutes * 60,
        }
    error = entry[1].split(": ")[-1] if len(entry) > 1 else "unknown"
    return {
        "path": path,
        "exists": "No such file" not in error,
        "readable": False,
        "error": error,
        "fresh": False,
    }
