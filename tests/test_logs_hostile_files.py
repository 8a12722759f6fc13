"""The log summariser on a hostile filesystem (issue 13): real FIFOs, symlinks to
devices and to root-only files planted by another user, a cut-off .gz."""

from __future__ import annotations

import gzip
import os
import pwd
import subprocess
import time
from pathlib import Path

import pytest

from lpsectl.logs import summarize_remote as engine
from tests.fixtures.sshd import TEST_USER, ensure_test_user, ssh_config_text

#: SPSE (Play!) log entries: "DDMMYY HH:MM:SS LEVEL ~ message"
SPSE_LINES = b"".join(
    b"201126 08:%02d:00 ERROR ~ NullPointerException at LelangCtr.view\n" % i for i in range(40)
)


def request(*paths: Path, **extra) -> dict:
    # quiet_seconds=0: the files are complete (no entry waits for continuation lines)
    return engine.run_request(
        {"files": [{"path": str(p)} for p in paths], "cursors": {}, "quiet_seconds": 0, **extra}
    )


def test_a_fifo_is_refused_at_once_and_the_other_files_are_read(tmp_path):
    fifo = tmp_path / "application.log"
    os.mkfifo(fifo)
    good = tmp_path / "other.log"
    good.write_bytes(SPSE_LINES)
    started = time.monotonic()
    out = request(fifo, good)
    assert time.monotonic() - started < 5  # nothing writes to the FIFO: a blocking open would hang
    assert (
        out["files"][str(fifo)]["error"] == f"{fifo}: is a FIFO, not a regular log file; not read"
    )
    assert out["files"][str(good)]["summary"]["error_count"] == SPSE_LINES.count(b" ERROR ")


@pytest.mark.root
def test_a_symlink_to_a_device_is_refused(tmp_path):
    link = tmp_path / "application.log"
    link.symlink_to("/dev/zero")
    out = request(link)
    assert "is a device, not a regular log file" in out["files"][str(link)]["error"]


@pytest.mark.root
def test_a_symlink_planted_by_another_user_to_a_root_only_file_is_not_followed(tmp_path):
    ensure_test_user()
    uid = pwd.getpwnam(TEST_USER).pw_uid
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$rahasia:19000:0:99999:7:::\n")
    secret.chmod(0o600)
    folder = tmp_path / "logs"
    folder.mkdir()
    os.chown(folder, uid, -1)  # the SPSE user's own log directory
    planted = folder / "application.log"
    planted.symlink_to(secret)
    os.lchown(planted, uid, -1)

    out = request(planted)

    item = out["files"][str(planted)]
    assert item["summary"] is None and "rahasia" not in str(out)
    assert f"is a symlink to {secret}" in item["error"] and "not followed" in item["error"]
    # the same user's own link to its own file is followed (logrotate setups do that)
    own = folder / "current.log"
    own.write_bytes(SPSE_LINES)
    os.chown(own, uid, -1)
    alias = folder / "alias.log"
    alias.symlink_to(own)
    assert request(alias)["files"][str(alias)]["summary"]["error_count"] == 40


def test_a_cut_off_gzip_ends_that_file_with_a_warning(tmp_path):
    whole = gzip.compress(SPSE_LINES * 50)
    cut = tmp_path / "application.log.1.gz"
    cut.write_bytes(whole[:-100])  # as `head -c -100` leaves it
    # an independent count of what the damaged file still holds
    readable = subprocess.run(
        ["sh", "-c", f"zcat {cut} 2>/dev/null | grep -c ' ERROR '"], capture_output=True, text=True
    ).stdout.strip()
    out = request(cut)
    item = out["files"][str(cut)]
    assert item["error"] is None
    assert any("the compressed file is damaged" in w for w in item["warnings"])
    assert item["summary"]["error_count"] <= int(readable) < 2000
    again = request(cut)  # every later run goes on, instead of crashing on the same file
    assert again["files"][str(cut)]["error"] is None


def test_a_cut_off_gzip_in_a_set_is_read_up_to_its_damage_once(tmp_path):
    """All but the last 64 KiB decompressed before the damage are counted (zcat is the
    independent reader), the damage is said once, and later runs do not read it again."""
    from lpsectl.collect import logs as collector
    from lpsectl.config import HostConfig

    whole = gzip.compress(
        b"".join(SPSE_LINES.replace(b"08:", b"%02d:" % h) for h in range(24)) * 20
    )
    cut = tmp_path / "application.log.1.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    readable = subprocess.run(["sh", "-c", f"zcat {cut} 2>/dev/null"], capture_output=True).stdout
    lost_at_most = readable[: max(0, len(readable) - 65536 - 200)]
    host = HostConfig(name="app", logs=[str(tmp_path / "application.log*")])

    def run(previous):
        request = {**collector.build_request(host, previous), "quiet_seconds": 0}
        return collector.from_answer(engine.run_request(request)).data

    first = run(None)
    counted = first["files"][str(cut)]["summary"]["error_count"]
    assert lost_at_most.count(b" ERROR ") <= counted <= readable.count(b" ERROR ")
    assert counted > 0 and len(readable) > 200_000
    assert any("the compressed file is damaged" in w for w in first["warnings"])
    second = run(first)
    assert second["warnings"] == [] and second["files"][str(cut)]["summary"]["lines"] == 0


def test_the_summariser_ends_itself_at_its_deadline(tmp_path):
    # whatever it is stuck in (here: a sleep), the watchdog ends the process at its deadline
    code = (
        "import importlib.util, sys, time\n"
        f"spec = importlib.util.spec_from_file_location('s', {engine.__file__!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "module.watchdog(1); time.sleep(30)\n"
    )
    started = time.monotonic()
    proc = subprocess.run(["python3", "-c", code], timeout=20, check=False)
    assert proc.returncode == 124 and time.monotonic() - started < 10


def test_collect_with_a_fifo_log_keeps_the_other_logs_and_leaves_no_orphan(
    sshd_factory, ssh_client_key, tmp_path, cli
):
    host = sshd_factory.start("fifolog")
    fifo = host.workdir / "spse.fifo"
    os.mkfifo(fifo)
    fifo.chmod(0o644)
    good = host.workdir / "application.log"
    good.write_bytes(SPSE_LINES)
    good.chmod(0o644)
    config = tmp_path / "lpsectl.toml"
    config.write_text(
        ssh_config_text(
            [host],
            ssh_client_key,
            tmp_path / "known_hosts",
            tmp_path / "data",
            host_extra={host.name: {"role": '"app"', "logs": f'["{fifo}", "{good}"]'}},
        )
    )
    result = cli("--config", str(config), "collect", "--format", "json")
    assert result.exit_code == 3, result.stderr
    (entry,) = result.json()["hosts"]
    assert entry["collected"] == ["system", "logs"]
    assert f"{fifo}: is a FIFO, not a regular log file; not read" in result.stderr
    out = subprocess.run(
        ["ps", "-u", TEST_USER, "-o", "args="], capture_output=True, text=True
    ).stdout
    assert str(fifo) not in out  # the summariser that was given the FIFO is gone


@pytest.mark.root
def test_a_link_made_by_another_user_in_a_root_directory_is_not_followed(tmp_path):
    ensure_test_user()
    uid = pwd.getpwnam(TEST_USER).pw_uid
    folder = tmp_path / "pglog"  # root's, but group-writable: another user may plant a link
    folder.mkdir(mode=0o775)
    secret = tmp_path / "root-only"
    secret.write_text("rahasia\n")
    planted = folder / "postgresql.log"
    planted.symlink_to(secret)
    os.lchown(planted, uid, -1)
    item = request(planted)["files"][str(planted)]
    assert item["summary"] is None and f"is a symlink made by uid {uid}" in item["error"]
    own = folder / "current.log"  # root's own link to root's own file: followed
    own.symlink_to(secret)
    assert request(own)["files"][str(own)]["error"] is None


def test_kernel_pseudo_files_are_refused(tmp_path):
    item = request(Path("/proc/kmsg"))["files"]["/proc/kmsg"]
    assert item["error"] == "/proc/kmsg: is a kernel pseudo-file, not a log file; not read"


@pytest.mark.parametrize(
    "odd",
    [
        b"sh: 1: archive script said 2026-13-45 10:00:00 ERROR:  oops\n",
        b"0000-00-00 00:00:00.000 UTC [1] ERROR:  year zero\n",
        b"99999999999999999999.5 [1] ERROR:  far future\n",
        b"2026-11-30 10:00:00.500 UTC [1] LOG:  duration: nan ms  statement: SELECT 1\n",
        b"2026-11-30 10:00:00.600 UTC [1] LOG:  duration: 1e308 ms  statement: SELECT 1\n",
    ],
)
def test_one_odd_line_never_stops_a_file(tmp_path, odd):
    log = tmp_path / "postgresql.log"
    good = (
        b"2026-11-30 10:00:00.000 UTC [1] LOG:  database system is ready\n"
        + odd
        + b"2026-11-30 10:00:01.000 UTC [1] ERROR:  real one\n"
    )
    log.write_bytes(good)
    for prefix in ("%m [%p] ", "%n [%p] "):
        out = engine.run_request(
            {
                "files": [{"path": str(log), "prefix": prefix}],
                "cursors": {},
                "by_day": True,
                "quiet_seconds": 0,
            }
        )
        item = out["files"][str(log)]
        assert item["error"] is None and item["cursor"]["offset"] == len(good)
        assert all(
            day == "" or day.startswith("2026-") or day.startswith("1970-") for day in item["days"]
        )


def test_entries_without_a_time_are_counted_on_the_collection_day(tmp_path):
    from lpsectl.collect import logs as collector

    log = tmp_path / "postgresql.log"
    log.write_bytes(b"".join(b'[%d] ERROR:  relation "t" does not exist\n' % i for i in range(5)))
    answer = engine.run_request(
        {
            "files": [{"path": str(log), "prefix": "[%p] "}],
            "cursors": {},
            "by_day": True,
            "quiet_seconds": 0,
        }
    )
    data = collector.from_answer(answer).data
    assert data["files"][str(log)]["summary"]["by_severity"] == {"ERROR": 5}  # never lost
    assert any("carry no time" in w for w in data["warnings"])


def test_a_change_to_epoch_stamps_mid_file_keeps_every_entry_on_its_day(tmp_path):
    from datetime import datetime as _dt

    log = tmp_path / "postgresql.log"
    first = [
        b"2026-11-30 10:00:%02d.000 UTC [1] LOG:  duration: 1.000 ms  statement: SELECT 1\n" % i
        for i in range(20)
    ]
    epoch = _dt(2026, 12, 1, 12, 0).timestamp()
    second = [
        b"%.3f [2] LOG:  duration: 2.000 ms  statement: SELECT 2\n" % (epoch + i) for i in range(30)
    ]
    log.write_bytes(b"".join(first + second))
    out = engine.run_request(
        {
            "files": [{"path": str(log), "prefix": "%m [%p] "}],
            "cursors": {},
            "by_day": True,
            "quiet_seconds": 0,
        }
    )
    days = out["files"][str(log)]["days"]
    counts = {day: part["query_count"] for day, part in days.items() if part["query_count"]}
    assert counts == {"2026-11-30": 20, _dt.fromtimestamp(epoch).strftime("%Y-%m-%d"): 30}
