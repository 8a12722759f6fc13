"""The one file writer and the history store on a hostile filesystem (issue 13):
device nodes, FIFOs, symlinks, a tiny tmpfs that fills up, a read-only bind
mount, a truncated, deleted or damaged history file."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from lpsectl.errors import UnavailableError, UsageError
from lpsectl.files import write_text
from lpsectl.store import Store
from tests.fixtures.common import run_cli, write_config


def config(tmp_path: Path, data: Path | None = None) -> str:
    data = data or tmp_path / "data"
    return str(write_config(tmp_path / "lpsectl.toml", f'[lpse]\ndata_dir = "{data}"\n'))


# -- the writer -------------------------------------------------------------------------


@pytest.mark.root
def test_a_device_is_written_into_never_replaced_and_its_directory_never_chmoded(tmp_path):
    devdir = tmp_path / "dev"
    devdir.mkdir(mode=0o755)
    node = devdir / "null"
    subprocess.run(
        ["mknod", "-m", "666", str(node), "c", "1", "3"], check=True
    )  # a private /dev/null
    before = (devdir.stat().st_mode, node.stat().st_mode, node.stat().st_rdev)
    write_text(node, "isi laporan", private=True)
    result = run_cli("--config", config(tmp_path), "report", "daily", "-o", str(node))
    assert result.exit_code == 0, result.stderr
    assert (devdir.stat().st_mode, node.stat().st_mode, node.stat().st_rdev) == before
    assert stat.S_ISCHR(node.stat().st_mode)


@pytest.mark.root
def test_access_notice_into_a_device_keeps_the_device(tmp_path):
    devdir = tmp_path / "dev"
    devdir.mkdir(mode=0o755)
    node = devdir / "null"
    subprocess.run(["mknod", "-m", "666", str(node), "c", "1", "3"], check=True)
    cfg = config(tmp_path)
    new = run_cli(
        "--config",
        cfg,
        "access",
        "new",
        "--activate",
        "--role",
        "ppk",
        "--name",
        "Budi",
        "--nip",
        "198503302010011002",
        "--email",
        "budi@contoh.example",
        "--notice",
        str(node),
    )
    assert new.exit_code == 0, new.stderr
    assert f"written to {node}" in new.stderr or new.stderr == ""  # quiet off a terminal
    # the notice went into the device; the device and its directory are as they were
    assert stat.S_ISCHR(node.stat().st_mode) and stat.S_IMODE(node.stat().st_mode) == 0o666
    assert stat.S_IMODE(devdir.stat().st_mode) == 0o755


def test_a_fifo_without_a_reader_is_an_error_not_a_hang(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match="a FIFO that nobody reads"):
        write_text(fifo, "x", what="--output")


def test_a_symlink_is_neither_replaced_nor_written_through(tmp_path):
    target = tmp_path / "target.txt"
    target.write_text("asli")
    link = tmp_path / "laporan.html"
    link.symlink_to(target)
    result = run_cli("--config", config(tmp_path), "report", "daily", "-o", str(link))
    assert result.exit_code == 2 and "is a symbolic link" in result.stderr
    assert link.is_symlink() and target.read_text() == "asli"


def test_an_existing_directory_keeps_its_mode_and_new_ones_are_private(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    write_text(shared / "a" / "b" / "notice.txt", "x", private=True)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    assert stat.S_IMODE((shared / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((shared / "a" / "b" / "notice.txt").stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "args",
    [
        ("report", "monthly", "--month", "9999-12"),
        ("report", "daily", "--date", "0001-01-01"),
        ("report", "monthly", "--month", "1899-12"),
    ],
)
def test_dates_outside_1900_2100_are_usage_errors(tmp_path, args):
    result = run_cli("--config", config(tmp_path), *args)
    assert result.exit_code == 2 and "outside 1900–2100" in result.stderr


# -- the store ----------------------------------------------------------------------------


def test_a_truncated_or_deleted_history_is_refused_not_recreated(tmp_path):
    cfg = config(tmp_path)
    assert run_cli("--config", cfg, "collect").exit_code in (0, 3)
    history = tmp_path / "data" / "history.sqlite3"
    for suffix in ("-wal", "-shm"):
        Path(f"{history}{suffix}").unlink(missing_ok=True)
    history.write_bytes(b"")  # truncated by a full disk, a bad restore, a stray `> file`

    refused = run_cli("--config", cfg, "report", "daily")
    assert refused.exit_code == 5
    assert (
        f"{history}: the history file is empty (0 bytes)" in refused.stderr
        and "--new-store" in refused.stderr
    )
    assert history.stat().st_size == 0  # nothing was recreated behind the user's back

    history.unlink()
    gone = run_cli("--config", cfg, "collect")
    assert gone.exit_code == 5 and "is missing" in gone.stderr and not history.exists()

    fresh = run_cli("--config", cfg, "--new-store", "collect")
    assert fresh.exit_code in (0, 3), fresh.stderr
    assert run_cli("--config", cfg, "report", "daily").exit_code in (0, 1, 3)


def test_a_damaged_history_is_refused_with_what_sqlite_said(tmp_path):
    cfg = config(tmp_path)
    assert run_cli("--config", cfg, "collect").exit_code in (0, 3)
    history = tmp_path / "data" / "history.sqlite3"
    with Store.open_sqlite(history) as store:
        store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(history.read_bytes())
    data[:100] = b"\0" * 100  # the header gone
    history.write_bytes(bytes(data))
    result = run_cli("--config", cfg, "report", "daily")
    assert result.exit_code == 5
    assert f"the history file {history} is damaged (sqlite:" in result.stderr
    assert "restore it from a backup or move it aside" in result.stderr


@pytest.fixture
def mounted(tmp_path):
    """Mount helpers (root): unmounted in teardown whatever the test did."""
    points: list[Path] = []

    def mount(*args: str) -> None:
        subprocess.run(["mount", *args], check=True)
        points.append(Path(args[-1]))

    yield mount
    for point in reversed(points):
        subprocess.run(["umount", "-l", str(point)], check=False)


@pytest.mark.root
def test_disk_full_is_exit_5_and_the_next_run_recovers(tmp_path, mounted):
    data = tmp_path / "data"
    data.mkdir()
    mounted("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(data))
    cfg = config(tmp_path, data)
    assert run_cli("--config", cfg, "collect").exit_code in (0, 3)
    filler = data / "filler"
    subprocess.run(
        ["dd", "if=/dev/zero", f"of={filler}", "bs=4k"], capture_output=True, check=False
    )

    full = run_cli("--config", cfg, "collect")
    assert full.exit_code == 5, full.stderr
    assert "disk is full" in full.stderr and str(data / "history.sqlite3") in full.stderr

    filler.unlink()
    assert run_cli("--config", cfg, "collect").exit_code in (0, 3)
    with sqlite3.connect(data / "history.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(DISTINCT run_id) FROM snapshots").fetchone()[0] == 2


@pytest.mark.root
def test_a_read_only_data_dir_is_exit_5_naming_the_path(tmp_path, mounted):
    data = tmp_path / "data"
    cfg = config(tmp_path, data)
    assert run_cli("--config", cfg, "collect").exit_code in (0, 3)
    mounted("--bind", "-o", "ro", str(data), str(data))
    result = run_cli("--config", cfg, "collect")
    assert result.exit_code == 5, result.stderr
    assert (
        f"{data}/locks/collect.lock: cannot take the 'collect' lock: Read-only file system"
        in result.stderr
    )
    listing = run_cli("--config", cfg, "outbox", "list")  # no lock: the store itself says it
    assert listing.exit_code in (0, 5), listing.stderr
    if listing.exit_code == 5:
        assert str(data / "history.sqlite3") in listing.stderr


def test_store_errors_name_the_file(tmp_path):
    with pytest.raises(UnavailableError, match="is missing"):
        history = tmp_path / "h.sqlite3"
        Store.open_sqlite(history).close()
        history.unlink()
        Store.open_sqlite(history)


def test_output_to_dev_stdout_streams(tmp_path):
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lpsectl",
            "--config",
            config(tmp_path),
            "report",
            "daily",
            "-o",
            "/dev/stdout",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Laporan Monitoring Kinerja" in result.stdout


def test_the_local_runner_bounds_a_command_that_leaves_a_child_behind():
    import time

    from lpsectl.config import HostConfig
    from lpsectl.errors import CommandTimeoutError
    from lpsectl.remote.runner import LocalRunner

    runner = LocalRunner(HostConfig(name="local"), command_timeout=2, host_timeout=30)
    started = time.monotonic()
    with pytest.raises(CommandTimeoutError):
        runner.run(["sh", "-c", "sleep 23 & echo hi"])  # the leader exits, the child holds the pipe
    assert time.monotonic() - started < 5
    left = subprocess.run(["pgrep", "-f", "sleep 23"], capture_output=True, text=True).stdout
    assert left == ""
