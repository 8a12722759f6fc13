"""The one writer of every file lpsectl produces: reports, notices, forms,
announcements, cron files, the scheduler's state.

Rules (the field is hostile; touch only what is ours):

* a **regular file** (or nothing yet) is replaced atomically: written to a
  temporary file beside it, flushed to disk, then renamed over it — a reader
  never sees half a report;
* a **device, FIFO or socket** (``--output /dev/null``, a pipe) is written
  into as a stream, never replaced and never chmod'ed; a FIFO nobody reads
  is an error at once, not a hang;
* a **symbolic link** is not replaced (it is not ours) and not written
  through: the user names the real path — except a link to a terminal or
  pipe (``/dev/stdout``, ``/dev/stderr``), which is streamed into;
* missing parent directories are created (0700 for private files, else
  0755); a directory that already exists is never chmod'ed;
* every ``OSError`` becomes one sentence naming the path and what the path
  is for (``what``, e.g. ``--output`` or ``maintenance.output_dir``): exit 5
  when the disk is full or failing, else the caller's error class.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from lpsectl.errors import LpsectlError, UnavailableError, UsageError

#: errors of the machine, not of the user's choice of path: exit 5
_MACHINE = {errno.ENOSPC, errno.EDQUOT, errno.EIO}


def write_text(
    path: str | Path,
    text: str,
    *,
    what: str = "output",
    private: bool = False,
    mode: int = 0o644,
    error: type[LpsectlError] = UsageError,
    make_parents: bool = True,
) -> Path:
    """Write ``text`` (UTF-8) to ``path`` by the rules above; return the path.

    ``private`` creates the file 0600 (personal data: notices, records),
    otherwise ``mode``. ``make_parents=False`` refuses a missing directory
    (e.g. /etc/cron.d: no cron installed). Raises :class:`UnavailableError` for a full or
    failing disk, ``error`` (default :class:`UsageError`) for anything else.
    """
    path = Path(path).expanduser()
    data = text.encode("utf-8")
    try:
        try:
            info = path.lstat()
        except FileNotFoundError:
            info = None
        if info is not None and stat.S_ISLNK(info.st_mode):
            target = _target_mode(path)
            if target is not None and (stat.S_ISCHR(target) or stat.S_ISFIFO(target)):
                _stream_into(path, data)  # /dev/stdout, /dev/stderr: links to a terminal or pipe
                return path
            raise error(
                f"{what} {path}: is a symbolic link; lpsectl does not replace or write "
                "through it (name the file it points to)"
            )
        if info is not None and not stat.S_ISREG(info.st_mode):
            if stat.S_ISDIR(info.st_mode):
                raise error(f"{what} {path}: is a directory, not a file")
            _stream_into(path, data)
            return path
        if make_parents:
            _make_parents(path.parent, 0o700 if private else 0o755)
        elif not path.parent.is_dir():
            raise error(
                f"{what} {path}: cannot write there: the directory {path.parent} does not exist"
            )
        _replace(path, data, 0o600 if private else mode)
        return path
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno == errno.ENXIO:
            reason = "it is a FIFO that nobody reads"
        cls = UnavailableError if exc.errno in _MACHINE else error
        raise cls(f"{what} {path}: cannot write there: {reason}") from None


def make_dirs(
    path: str | Path,
    private: bool = False,
    what: str = "directory",
    error: type[LpsectlError] = UsageError,
) -> Path:
    """Create ``path`` and missing parents (0700 when private); never chmod one that exists."""
    path = Path(path).expanduser()
    try:
        _make_parents(path, 0o700 if private else 0o755)
    except OSError as exc:
        cls = UnavailableError if exc.errno in _MACHINE else error
        raise cls(f"{what} {path}: cannot create it: {exc.strerror or exc}") from None
    return path


def _target_mode(path: Path) -> int | None:
    try:
        return path.stat().st_mode
    except OSError:
        return None


def _make_parents(folder: Path, mode: int) -> None:
    if folder.is_dir():
        return
    _make_parents(folder.parent, mode)
    try:
        folder.mkdir(mode=mode)  # created by us: this mode (less the umask) is ours to set
    except FileExistsError:
        if not folder.is_dir():
            raise


def _stream_into(path: Path, data: bytes) -> None:
    # O_NONBLOCK: opening a FIFO without a reader fails (ENXIO) instead of waiting for ever
    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        os.set_blocking(fd, True)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)


def _replace(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.unlink(missing_ok=True)  # left by a run that died; O_EXCL below never follows a link
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_secret(path: str | Path) -> str:
    """A password or passphrase kept in a file: its first line's text, without the line
    break and without the BOM Windows Notepad puts at the start of a UTF-8 file.
    Raises ``OSError`` and ``UnicodeDecodeError`` for the caller to name the config key."""
    return Path(path).expanduser().read_text(encoding="utf-8-sig").rstrip("\r\n")
