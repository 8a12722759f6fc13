"""`collect` against real sshd hosts that misbehave (issue 13).

Each bad host is a real OpenSSH sshd whose ``ForceCommand`` trickles, floods,
hangs or lies; the good host beside it must be stored in full, the bad one
fail alone with one sentence, and the reports must still render.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from lpsectl.store import Store, decode_json
from tests.fixtures.sshd import TEST_USER, ssh_config_text

#: answers the probe with JSON of the right outline and the wrong types
WRONG_TYPES = """case "$SSH_ORIGINAL_COMMAND" in
  *python3*) cat >/dev/null; printf '%s' '{"data": {"hostname": "x", "load": "tinggi", "filesystems": "semua"}}';;
  *) exec /bin/sh -c "$SSH_ORIGINAL_COMMAND";;
esac"""
TRICKLE = "while :; do printf x; sleep 1; done"
FLOOD = "exec cat /dev/zero"
STDERR_FLOOD = "exec cat /dev/zero >&2"
HANG = "exec sleep 300"
#: a 'python3' that hangs in silence: lpsectl's own command, not a forced one
SILENT_PYTHON = "#!/bin/sh\nexec sleep 298\n"


@pytest.fixture(scope="module")
def hostile(sshd_factory):
    return {
        "good": sshd_factory.start("good"),
        "trickle": sshd_factory.start("trickle", force_command=TRICKLE),
        "flood": sshd_factory.start("flood", force_command=FLOOD),
        "errflood": sshd_factory.start("errflood", force_command=STDERR_FLOOD),
        "hang": sshd_factory.start("hang", force_command=HANG),
        "liar": sshd_factory.start("liar", force_command=WRONG_TYPES),
    }


def write(tmp_path: Path, key: Path, hosts, ssh_extra: str = "", host_extra=None) -> str:
    text = ssh_config_text(hosts, key, tmp_path / "known_hosts", tmp_path / "data", host_extra=host_extra)
    text = text.replace("connect_timeout = 5\n", "connect_timeout = 5\n" + ssh_extra)
    path = tmp_path / "lpsectl.toml"
    path.write_text(text)
    return str(path)


def rows(tmp_path: Path) -> list[dict]:
    with Store.open_sqlite(tmp_path / "data" / "history.sqlite3") as store:
        assert store.query("PRAGMA integrity_check") == [{"integrity_check": "ok"}]
        return store.query("SELECT host, kind, ok, error, data FROM snapshots ORDER BY id")


def leftovers(marker: str) -> list[str]:
    """Processes of the test user still running ``marker`` (orphans on the 'server')."""
    out = subprocess.run(["ps", "-u", TEST_USER, "-o", "pid=,args="], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if marker in line]


def test_trickle_flood_hang_and_lies_each_fail_alone(hostile, sshd_factory, ssh_client_key, tmp_path, cli):
    hosts = [*hostile.values(), sshd_factory.start(f"silent{time.monotonic_ns() % 1000}")]
    silent = hosts[-1].workdir / "silent-python"  # where the test user may run it
    silent.write_text(SILENT_PYTHON)
    silent.chmod(0o755)
    extra = {h.name: {"role": '"app"'} for h in hosts}
    extra[hosts[-1].name]["python"] = f'"{silent}"'
    config = write(tmp_path, ssh_client_key, hosts,
                   "command_timeout = 3\nhost_timeout = 6\nmax_output_bytes = 1048576\n", extra)
    started = time.monotonic()
    result = cli("--config", config, "collect", "--format", "json")
    took = time.monotonic() - started

    assert result.exit_code == 3, result.stderr
    assert took < 6 + 8, f"collect took {took:.1f} s with host_timeout = 6"  # a deadline, not a hope
    run = {h["host"]: h for h in result.json()["hosts"]}
    assert run["good"]["collected"] == ["system"] and run["good"]["problems"] == []
    failed = {name: run[name]["failed"][0] for name in ("trickle", "flood", "errflood", "hang", "liar")}
    assert failed["trickle"]["error_type"] == "HostTimeoutError"
    assert "ssh.host_timeout (6 s)" in failed["trickle"]["error"]
    assert failed["flood"]["error_type"] == "OutputTooLargeError"
    assert "output exceeds 1 MiB" in failed["flood"]["error"]
    assert failed["errflood"]["error_type"] == "OutputTooLargeError"
    assert "error output exceeds 1 MiB" in failed["errflood"]["error"]
    assert failed["hang"]["error_type"] == "CommandTimeoutError"
    assert "sent nothing for 3 s" in failed["hang"]["error"]
    assert "refused: unexpected shape at load" in failed["liar"]["error"]
    # none of them is called unreachable: they answered, badly
    assert all(run[name]["reachable"] for name in failed)
    for name in failed:
        assert f"{name}: system: " in result.stderr

    stored = rows(tmp_path)
    good = [r for r in stored if r["host"] == "good"]
    assert [(r["kind"], r["ok"]) for r in good] == [("system", 1)]
    assert decode_json(good[0]["data"])["memory"]["total"] > 0
    bad = {r["host"]: r for r in stored if r["host"] != "good"}
    assert {name: (r["ok"], decode_json(r["data"])) for name, r in bad.items()} == {
        name: (0, {}) for name in bad}  # never stored as data

    silent_run = run[hosts[-1].name]["failed"]
    assert [f["error_type"] for f in silent_run] == ["CommandTimeoutError"]
    # nothing lpsectl started keeps running on the "servers": the flood died with its
    # channel, the silent command by the SIGKILL request. (A ForceCommand cannot be
    # signalled — OpenSSH refuses signals to forced commands — so `hang` is not checked.)
    time.sleep(1.5)
    assert leftovers("cat /dev/zero") == [] and leftovers("sleep 298") == []

    for args in (("report", "daily", "--format", "json"), ("report", "monthly", "--format", "json")):
        report = cli("--config", config, *args)
        assert report.exit_code in (0, 1, 3), report.stderr
    daily = cli("--config", config, "report", "daily", "--format", "json").json()
    assert {h["name"] for h in daily["hosts"]} >= {"good", "liar"}


def test_psql_printing_null_spoils_only_the_database_item(sshd_factory, ssh_client_key, tmp_path, cli):
    host = sshd_factory.start("nullpsql")
    psql = host.workdir / "psql-null"  # where the test user may run it
    psql.write_text("#!/bin/sh\ncat >/dev/null\necho null\n")
    psql.chmod(0o755)
    config = write(tmp_path, ssh_client_key, [host], host_extra={host.name: {"role": '"db"'}})
    Path(config).write_text(Path(config).read_text() + f'[hosts.postgres]\npsql = ["{psql}"]\n')

    result = cli("--config", config, "collect", "--format", "json")

    assert result.exit_code == 3, result.stderr
    (entry,) = result.json()["hosts"]
    assert entry["reachable"] and entry["collected"] == ["system"]
    assert "psql's answer about the server was refused" in entry["failed"][0]["error"]
    assert "expected ['object']" in entry["failed"][0]["error"] or "object" in entry["failed"][0]["error"]
    stored = {r["kind"]: r for r in rows(tmp_path)}
    assert stored["system"]["ok"] == 1 and stored["postgres"]["ok"] == 0
    report = cli("--config", config, "report", "daily", "--format", "json")
    assert report.exit_code in (0, 1), report.stderr


def test_a_stored_row_of_the_wrong_shape_reads_as_unavailable(hostile, ssh_client_key, tmp_path, cli):
    config = write(tmp_path, ssh_client_key, [hostile["good"]])
    assert cli("--config", config, "collect").exit_code == 0
    with Store.open_sqlite(tmp_path / "data" / "history.sqlite3") as store:
        store.execute("UPDATE snapshots SET data = ? WHERE kind = 'system'",
                      ['{"filesystems": "semua", "memory": 5}'])
    for args in (("report", "daily"), ("report", "monthly"), ("analyze",)):
        result = cli("--config", config, *args, "--format", "json")
        assert result.exit_code != 70, result.stderr
        assert "Traceback" not in result.stderr
    daily = cli("--config", config, "report", "daily", "--format", "json").json()
    (entry,) = daily["hosts"]
    assert entry["status"] != "up"
    assert any("stored snapshot unusable" in (a["message"] or "") for a in daily["alerts"]) or \
        "stored snapshot unusable" in str(entry)
    # the next normal run recovers
    assert cli("--config", config, "collect").exit_code == 0
