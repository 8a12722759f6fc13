"""Per-job locks so two cron runs of the same job never overlap.

``fcntl.flock`` on a file in the data dir: the kernel drops the lock when the
holding process dies, so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lpsectl.errors import LockedError, UnavailableError


@contextmanager
def job_lock(data_dir: Path, job: str) -> Iterator[Path]:
    """Hold the lock for ``job`` or raise LockedError at once (never wait)."""
    lock_dir = data_dir / "locks"
    path = lock_dir / f"{job}.lock"
    try:
        lock_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise UnavailableError(
            f"{path}: cannot take the '{job}' lock: {exc.strerror or exc} "
            "(is lpse.data_dir writable?)"
        ) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            raise LockedError(
                f"another '{job}' run is in progress{holder}; this run exits without doing anything "
                f"(lock file {path})"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(fd)


def _read_holder(fd: int) -> str:
    try:
        pid = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""
