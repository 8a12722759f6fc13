"""Per-job locks with real, concurrent processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lpsectl.errors import ExitCode, LockedError
from lpsectl.lock import job_lock

# Holds the lock until its stdin closes (or it is killed).
HOLDER = """
import sys
from pathlib import Path
from lpsectl.lock import job_lock
with job_lock(Path(sys.argv[1]), sys.argv[2]):
    print("held", flush=True)
    sys.stdin.read()
"""

# Exits 0 when it got the lock, 6 (and says why) when another process holds it.
TRY_ONCE = """
import sys
from pathlib import Path
from lpsectl.errors import LockedError
from lpsectl.lock import job_lock
try:
    with job_lock(Path(sys.argv[1]), sys.argv[2]):
        pass
except LockedError as exc:
    print(exc.message, file=sys.stderr)
    sys.exit(int(exc.exit_code))
"""


@pytest.fixture
def data_dir() -> Path:
    # the data dir lpsectl itself uses under the test's XDG_DATA_HOME
    return Path(os.environ["XDG_DATA_HOME"]) / "lpsectl"


def start_holder(data_dir: Path, job: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir), job],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


def release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0


def try_once(data_dir: Path, job: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", TRY_ONCE, str(data_dir), job],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_second_process_is_refused_with_exit_6_and_the_holder_pid(data_dir):
    holder = start_holder(data_dir, "report")
    try:
        second = try_once(data_dir, "report")
        assert second.returncode == ExitCode.LOCKED == 6
        assert f"another 'report' run is in progress (pid {holder.pid})" in second.stderr
        # another job's lock is independent
        assert try_once(data_dir, "outbox-flush").returncode == 0
    finally:
        release(holder)
    assert try_once(data_dir, "report").returncode == 0


def test_a_killed_holder_never_blocks_the_next_run(data_dir):
    holder = start_holder(data_dir, "collect")
    assert try_once(data_dir, "collect").returncode == 6
    holder.send_signal(signal.SIGKILL)
    assert holder.wait(timeout=30) == -signal.SIGKILL
    # the lock file is still there, with the dead pid in it, and does not matter
    assert (data_dir / "locks" / "collect.lock").read_text().strip() == str(holder.pid)
    assert try_once(data_dir, "collect").returncode == 0


def test_lpsectl_collect_exits_6_while_another_collect_runs(data_dir):
    holder = start_holder(data_dir, "collect")
    try:
        blocked = subprocess.run(
            [sys.executable, "-m", "lpsectl", "collect"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert blocked.returncode == 6
        assert blocked.stderr.startswith("lpsectl: another 'collect' run is in progress")
        assert blocked.stdout == ""
    finally:
        release(holder)
    after = subprocess.run(
        [sys.executable, "-m", "lpsectl", "collect", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert after.returncode != 6 and "in progress" not in after.stderr


def test_the_same_process_cannot_take_a_lock_twice(tmp_path):
    with job_lock(tmp_path, "collect") as path:
        assert path == tmp_path / "locks" / "collect.lock"
        with pytest.raises(LockedError, match="another 'collect' run is in progress"):
            with job_lock(tmp_path, "collect"):
                pass
    with job_lock(tmp_path, "collect"):
        pass
