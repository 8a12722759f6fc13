# -*- coding: utf-8 -*-
"""lpsectl host probe — runs ON THE SERVER as `python3 - '<json params>'`.

Python 3.6+, standard library only (psutil used when the server has it,
/proc otherwise). Prints one JSON document on stdout. Never raises: every
item that cannot be collected goes to "unavailable" with the reason.
"""
import json
import os
import platform
import pwd
import signal
import socket
import sys
import time

TOP_N = 5
#: the interval CPU use is measured over (seconds)
SAMPLE_SECONDS = 1.0


def main():
    params = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    if params.get("deadline") and hasattr(signal, "SIGALRM"):
        # past the caller's deadline nobody reads the answer: end, never linger
        signal.signal(signal.SIGALRM, lambda signum, frame: os._exit(124))
        signal.alarm(max(1, int(params["deadline"]) + 1))
    data = {"probe_python": platform.python_version()}
    unavailable = {}
    try:
        import psutil  # noqa: F401
        data["probe"] = "psutil"
    except Exception:
        psutil = None
        data["probe"] = "proc"
    # the CPU of the machine and of each process are both sampled over one interval
    # (not 1.0 s then 0.5 s, one after the other)
    started = {}
    for name, begin in (("cpu", cpu_begin), ("processes", processes_begin)):
        try:
            started[name] = begin(psutil)
        except Exception as exc:
            unavailable[name] = "%s: %s" % (exc.__class__.__name__, exc)
    time.sleep(SAMPLE_SECONDS)
    items = [
        ("hostname", lambda: socket.gethostname()),
        ("os", os_info),
        ("boot_time", lambda: boot_time(psutil)),
        ("load", load),
        ("memory", lambda: memory(psutil)),
        ("swap", lambda: swap(psutil)),
        ("filesystems", lambda: filesystems(psutil)),
    ]
    if "cpu" in started:
        items.append(("cpu", lambda: cpu_end(psutil, started["cpu"])))
    if "processes" in started:
        items.append(("processes", lambda: processes_end(psutil, started["processes"])))
    for name, func in items:
        try:
            data[name] = func()
        except Exception as exc:  # one item failing must not lose the others
            unavailable[name] = "%s: %s" % (exc.__class__.__name__, exc)
    if "boot_time" in data:
        data["uptime_seconds"] = round(time.time() - data["boot_time"], 1)
    procs = data.pop("processes", None)
    if procs is not None:
        data["top_cpu"] = sorted(procs, key=lambda p: -(p.get("cpu_percent") or 0))[:TOP_N]
        data["top_mem"] = sorted(procs, key=lambda p: -(p.get("rss") or 0))[:TOP_N]
        data["services"] = services(procs, params)
    else:
        unavailable["services"] = "process list unavailable"
    data["logs"] = [log_state(path, params.get("log_stale_minutes", 60)) for path in params.get("logs", [])]
    json.dump({"data": data, "unavailable": unavailable}, sys.stdout)


def os_info():
    info = {"system": platform.system(), "release": platform.release(), "machine": platform.machine()}
    try:
        with open("/etc/os-release") as handle:
            for line in handle:
                if line.startswith("PRETTY_NAME="):
                    info["pretty_name"] = line.split("=", 1)[1].strip().strip('"')
    except (IOError, OSError):
        info["pretty_name"] = "%s %s" % (info["system"], info["release"])
    return info


def boot_time(psutil):
    if psutil:
        return psutil.boot_time()
    with open("/proc/stat") as handle:
        for line in handle:
            if line.startswith("btime "):
                return float(line.split()[1])
    raise ValueError("btime not in /proc/stat")


def load():
    one, five, fifteen = os.getloadavg()
    return {"1": one, "5": five, "15": fifteen}


def cpu_begin(psutil):
    """The first CPU sample (psutil keeps its own; /proc: the counters now)."""
    if psutil:
        psutil.cpu_percent(None)
        return None
    return _cpu_times()


def cpu_end(psutil, first):
    if psutil:
        return {"count": psutil.cpu_count(), "percent": psutil.cpu_percent(None)}
    second = _cpu_times()
    total = sum(second) - sum(first)
    idle = (second[3] + second[4]) - (first[3] + first[4])
    percent = round(100.0 * (total - idle) / total, 1) if total > 0 else None
    return {"count": os.cpu_count(), "percent": percent}


def _cpu_times():
    with open("/proc/stat") as handle:
        fields = handle.readline().split()[1:]
    return [float(x) for x in fields[:8]]


def _meminfo():
    values = {}
    with open("/proc/meminfo") as handle:
        for line in handle:
            key, rest = line.split(":", 1)
            values[key] = int(rest.split()[0]) * 1024
    return values


def memory(psutil):
    if psutil:
        vm = psutil.virtual_memory()
        return {"total": vm.total, "available": vm.available, "used_percent": vm.percent}
    info = _meminfo()
    total = info["MemTotal"]
    available = info.get("MemAvailable", info.get("MemFree", 0) + info.get("Cached", 0))
    return {"total": total, "available": available,
            "used_percent": round(100.0 * (total - available) / total, 1) if total else None}


def swap(psutil):
    if psutil:
        sw = psutil.swap_memory()
        return {"total": sw.total, "used": sw.used, "used_percent": sw.percent}
    info = _meminfo()
    total = info.get("SwapTotal", 0)
    used = total - info.get("SwapFree", 0)
    return {"total": total, "used": used, "used_percent": round(100.0 * used / total, 1) if total else 0.0}


PSEUDO_FS = set(["proc", "sysfs", "devtmpfs", "devpts", "tmpfs", "cgroup", "cgroup2", "securityfs",
                 "pstore", "debugfs", "tracefs", "mqueue", "hugetlbfs", "configfs", "fusectl",
                 "binfmt_misc", "autofs", "bpf", "nsfs", "rpc_pipefs", "overlay", "squashfs",
                 "ramfs", "efivarfs", "fuse.lxcfs", "nfsd", "selinuxfs"])


def filesystems(psutil):
    mounts = []
    if psutil:
        for part in psutil.disk_partitions(all=False):
            mounts.append((part.device, part.mountpoint, part.fstype))
    else:
        with open("/proc/mounts") as handle:
            for line in handle:
                device, mount, fstype = line.split()[:3]
                mounts.append((device, mount.replace("\\040", " "), fstype))
    result, seen = [], set()
    for device, mount, fstype in mounts:
        if fstype in PSEUDO_FS or mount in seen:
            continue
        seen.add(mount)
        try:
            st = os.statvfs(mount)
        except OSError:
            continue
        total = st.f_blocks * st.f_frsize
        if total == 0:
            continue
        free = st.f_bavail * st.f_frsize
        used = (st.f_blocks - st.f_bfree) * st.f_frsize
        # the same formula as df: used / (used + available to non-root)
        percent = round(100.0 * used / (used + free), 1) if used + free else 0.0
        result.append({"mount": mount, "device": device, "fstype": fstype, "total": total,
                       "used": used, "free": free, "used_percent": percent})
    return result


def processes_begin(psutil):
    """The first sample of every process's CPU time: (psutil processes | /proc ticks, when)."""
    if psutil:
        procs = list(psutil.process_iter(["pid", "name", "username", "memory_info", "memory_percent", "cmdline"]))
        for proc in procs:
            try:
                proc.cpu_percent(None)
            except Exception:
                pass
        return procs, time.monotonic()
    return _proc_ticks(), time.monotonic()


def processes_end(psutil, begun):
    first, when = begun
    elapsed = max(time.monotonic() - when, 0.001)
    if psutil:
        return _psutil_processes(first)
    return _proc_processes(first, elapsed)


def _psutil_processes(procs):
    result = []
    for proc in procs:
        try:
            info = proc.info
            mem = info.get("memory_info")
            result.append({"pid": info["pid"], "name": info.get("name") or "", "user": info.get("username") or "",
                           "cpu_percent": proc.cpu_percent(None), "mem_percent": round(info.get("memory_percent") or 0, 2),
                           "rss": mem.rss if mem else 0, "cmdline": " ".join(info.get("cmdline") or [])[:300]})
        except Exception:
            continue
    return result


def _proc_processes(first, elapsed):
    clock = os.sysconf("SC_CLK_TCK")
    page = os.sysconf("SC_PAGE_SIZE")
    total_mem = _meminfo()["MemTotal"]
    second = _proc_ticks()
    result = []
    for pid, (ticks, name, uid, rss_pages, cmdline) in second.items():
        delta = ticks - first.get(pid, (ticks,))[0]
        rss = rss_pages * page
        try:
            user = pwd.getpwuid(uid).pw_name
        except KeyError:
            user = str(uid)
        result.append({"pid": pid, "name": name, "user": user,
                       "cpu_percent": round(100.0 * delta / clock / elapsed, 1),
                       "mem_percent": round(100.0 * rss / total_mem, 2) if total_mem else None,
                       "rss": rss, "cmdline": cmdline[:300]})
    return result


def _proc_ticks():
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                stat = handle.read()
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2:].split()
            ticks = int(fields[11]) + int(fields[12])
            rss_pages = int(fields[21])
            uid = os.stat("/proc/%s" % entry).st_uid
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
            out[int(entry)] = (ticks, name, uid, rss_pages, cmdline)
        except (IOError, OSError, ValueError, IndexError):
            continue
    return out


def services(procs, params):
    roles = params.get("roles", [])
    result = {}
    app_home = params.get("app_home") or "/home/appserv/spse"
    result["spse"] = spse_service(procs, app_home, "app" in roles)
    postmasters = [p for p in procs if p["name"] in ("postgres", "postmaster")
                   and ("-D" in p["cmdline"] or p["cmdline"].endswith(("postgres", "postmaster")) or "config_file" in p["cmdline"])]
    if not postmasters:
        postmasters = [p for p in procs if p["name"] in ("postgres", "postmaster")]
    parent = min(postmasters, key=lambda p: p["pid"]) if postmasters else None
    result["postgres"] = {"expected": "db" in roles, "running": parent is not None,
                          "pid": parent["pid"] if parent else None,
                          "detail": parent["cmdline"][:120] if parent else "no postgres/postmaster process"}
    return result


def spse_service(procs, app_home, expected):
    pid_file = os.path.join(app_home, "server.pid")
    detail = ""
    pid = None
    try:
        with open(pid_file) as handle:
            pid = int(handle.read().strip() or 0) or None
    except (IOError, OSError, ValueError) as exc:
        detail = "no readable %s (%s)" % (pid_file, exc.__class__.__name__)
    if pid is not None:
        alive = any(p["pid"] == pid for p in procs)
        return {"expected": expected, "running": alive, "pid": pid,
                "detail": "%s: pid %d %s" % (pid_file, pid, "running" if alive else "NOT running (stale pid file)")}
    javas = [p for p in procs if p["name"].startswith("java") and app_home in p["cmdline"]]
    if javas:
        return {"expected": expected, "running": True, "pid": javas[0]["pid"],
                "detail": "java process under %s" % app_home}
    return {"expected": expected, "running": False, "pid": None,
            "detail": (detail + "; " if detail else "") + "no java process under %s" % app_home}


def log_state(path, stale_minutes):
    if any(c in path for c in "*?["):
        # a log set (glob): judged on its newest file, not on every member
        import glob

        members = []
        for name in glob.glob(path):
            try:
                members.append((os.stat(name).st_mtime, name))
            except OSError:
                continue
        if not members:
            return {"path": path, "set": True, "files": 0, "exists": False, "readable": False,
                    "error": "no file matches", "fresh": False}
        newest = max(members)[1]
        state = log_state(newest, stale_minutes)
        state.update({"path": path, "set": True, "files": len(members), "newest": newest})
        return state
    try:
        st = os.stat(path)
    except OSError as exc:
        return {"path": path, "exists": os.path.lexists(path), "readable": False,
                "error": exc.strerror or str(exc), "fresh": False}
    age = time.time() - st.st_mtime
    return {"path": path, "exists": True, "readable": os.access(path, os.R_OK), "size": st.st_size,
            "mtime": st.st_mtime, "age_seconds": round(age, 1), "fresh": age <= stale_minutes * 60}


if __name__ == "__main__":
    main()
