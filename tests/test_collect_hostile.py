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

from lpsectl.collect.schemas import shape_mark
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
    text = ssh_config_text(
        hosts, key, tmp_path / "known_hosts", tmp_path / "data", host_extra=host_extra
    )
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
    out = subprocess.run(
        ["ps", "-u", TEST_USER, "-o", "pid=,args="], capture_output=True, text=True
    ).stdout
    return [line for line in out.splitlines() if marker in line]


def test_trickle_flood_hang_and_lies_each_fail_alone(
    hostile, sshd_factory, ssh_client_key, tmp_path, cli
):
    hosts = [*hostile.values(), sshd_factory.start(f"silent{time.monotonic_ns() % 1000}")]
    silent = hosts[-1].workdir / "silent-python"  # where the test user may run it
    silent.write_text(SILENT_PYTHON)
    silent.chmod(0o755)
    extra = {h.name: {"role": '"app"'} for h in hosts}
    extra[hosts[-1].name]["python"] = f'"{silent}"'
    config = write(
        tmp_path,
        ssh_client_key,
        hosts,
        "command_timeout = 3\nhost_timeout = 6\nmax_output_bytes = 1048576\n",
        extra,
    )
    started = time.monotonic()
    result = cli("--config", config, "collect", "--format", "json")
    took = time.monotonic() - started

    assert result.exit_code == 3, result.stderr
    assert took < 6 + 8, (
        f"collect took {took:.1f} s with host_timeout = 6"
    )  # a deadline, not a hope
    run = {h["host"]: h for h in result.json()["hosts"]}
    assert run["good"]["collected"] == ["system"] and run["good"]["problems"] == []
    failed = {
        name: run[name]["failed"][0] for name in ("trickle", "flood", "errflood", "hang", "liar")
    }
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
        name: (0, {}) for name in bad
    }  # never stored as data

    silent_run = run[hosts[-1].name]["failed"]
    assert [f["error_type"] for f in silent_run] == ["CommandTimeoutError"]
    # nothing lpsectl started keeps running on the "servers": the flood died with its
    # channel, the silent command by the SIGKILL request. (A ForceCommand cannot be
    # signalled — OpenSSH refuses signals to forced commands — so `hang` is not checked.)
    time.sleep(1.5)
    assert leftovers("cat /dev/zero") == [] and leftovers("sleep 298") == []

    for args in (
        ("report", "daily", "--format", "json"),
        ("report", "monthly", "--format", "json"),
    ):
        report = cli("--config", config, *args)
        assert report.exit_code in (0, 1, 3), report.stderr
    daily = cli("--config", config, "report", "daily", "--format", "json").json()
    status = {h["name"]: h["status"] for h in daily["hosts"]}
    # they answered, badly: "not monitored", never "unreachable"
    assert {status[name] for name in failed} == {"uncollected"}
    assert status["good"] in ("up", "partial")


def test_psql_printing_null_spoils_only_the_database_item(
    sshd_factory, ssh_client_key, tmp_path, cli
):
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
    assert (
        "unexpected shape at the top level: got None, expected object"
        in entry["failed"][0]["error"]
    )
    stored = {r["kind"]: r for r in rows(tmp_path)}
    assert stored["system"]["ok"] == 1 and stored["postgres"]["ok"] == 0
    report = cli("--config", config, "report", "daily", "--format", "json")
    assert report.exit_code in (0, 1), report.stderr


def test_a_stored_row_of_the_wrong_shape_reads_as_unavailable(
    hostile, ssh_client_key, tmp_path, cli
):
    config = write(tmp_path, ssh_client_key, [hostile["good"]])
    assert cli("--config", config, "collect").exit_code == 0
    with Store.open_sqlite(tmp_path / "data" / "history.sqlite3") as store:
        # stored with the mark of the check it passed: readers trust it while the text is unchanged
        rows = store.query("SELECT data, shape_checked FROM snapshots WHERE ok = 1")
        assert rows and all(row["shape_checked"] == shape_mark(row["data"]) for row in rows)
        store.execute(
            "UPDATE snapshots SET data = ? WHERE kind = 'system'",
            ['{"filesystems": "semua", "memory": 5}'],
        )
    for args in (("report", "daily"), ("report", "monthly"), ("analyze",)):
        result = cli("--config", config, *args, "--format", "json")
        assert result.exit_code in (0, 1), result.stderr  # rendered; 1 only where a rule fired
        assert "Traceback" not in result.stderr
    daily = cli("--config", config, "report", "daily", "--format", "json").json()
    (entry,) = daily["hosts"]
    assert entry["status"] == "uncollected"  # read but unusable: not "unreachable"
    (alert,) = [a for a in daily["alerts"] if a["item"] == "host"]
    assert (
        "stored snapshot unusable (unexpected shape at memory: got 5, expected object)"
        in alert["message"]
    )
    # the next normal run recovers
    assert cli("--config", config, "collect").exit_code == 0


# -- OpenSSH-compatible known_hosts and ssh_config ---------------------------------------


def test_known_hosts_as_openssh_reads_it(hostile, ssh_client_key, tmp_path, cli):
    good = hostile["good"]
    config = write(tmp_path, ssh_client_key, [good])
    known = tmp_path / "known_hosts"
    kind, blob = good.host_key_pub.split()[:2]
    known.write_text(
        "garbage line without a key\n"
        "other.example ssh-ed25519 !!!not-base64!!!\n"
        f"@cert-authority *.example {kind} {blob}\n" + good.known_hosts_line + "\n"
    )
    result = cli("--config", config, "collect", "--format", "json")
    assert result.exit_code == 0, result.stderr  # a bad line for another host costs nothing

    known.write_text(good.known_hosts_line + "\n" + f"@revoked * {kind} {blob}\n")
    revoked = cli("--config", config, "collect")
    assert revoked.exit_code == 5
    assert "is marked @revoked" in revoked.stderr and "SHA256:" in revoked.stderr


def test_host_key_fingerprints_are_sha256(hostile, ssh_client_key, tmp_path, cli):
    good = hostile["good"]
    config = write(tmp_path, ssh_client_key, [good])
    other = subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True
    )
    assert other.returncode == 0
    kind, blob = (tmp_path / "k.pub").read_text().split()[:2]
    (tmp_path / "known_hosts").write_text(f"[{good.address}]:{good.port} {kind} {blob}\n")
    changed = cli("--config", config, "collect")
    assert changed.exit_code == 5 and "host key CHANGED" in changed.stderr
    expected = subprocess.run(
        ["ssh-keygen", "-lf", str(good.workdir / "host_ed25519.pub")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[1]
    assert expected.startswith("SHA256:") and expected in changed.stderr


def test_ssh_config_include_is_followed(hostile, ssh_client_key, tmp_path, cli):
    good = hostile["good"]
    config = write(tmp_path, ssh_client_key, [good])
    text = Path(config).read_text()
    # the host is known to lpsectl by an alias that only an included file resolves
    text = text.replace(f'address = "{good.address}"', 'address = "spse-alias"')
    text = text.replace(f"port = {good.port}\n", "")
    included = tmp_path / "conf.d" / "lpse.conf"
    included.parent.mkdir()
    included.write_text(f"Host spse-alias\n    HostName {good.address}\n    Port {good.port}\n")
    ssh_config = tmp_path / "data" / "no-ssh-config"
    ssh_config.parent.mkdir(parents=True, exist_ok=True)
    ssh_config.write_text(f"Include {tmp_path}/conf.d/*.conf\n")
    Path(config).write_text(text)
    result = cli("--config", config, "collect", "--format", "json")
    assert result.exit_code == 0, result.stderr


def test_an_encrypted_key_without_agent_says_so(hostile, tmp_path, cli, monkeypatch):
    good = hostile["good"]
    key = tmp_path / "id_encrypted"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "rahasia-kunci", "-f", str(key)], check=True
    )
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    config = write(tmp_path, key, [good])
    result = cli("--config", config, "collect")
    assert result.exit_code == 5
    assert f"the key {key} is encrypted: load it into ssh-agent" in result.stderr
    assert "ssh.key_passphrase_file" in result.stderr


def test_hosts_check_never_says_ok_for_what_it_could_not_check(
    hostile, ssh_client_key, tmp_path, cli
):
    hosts = [hostile["good"], hostile["hang"], hostile["flood"]]
    config = write(
        tmp_path,
        ssh_client_key,
        hosts,
        "command_timeout = 2\nhost_timeout = 8\nmax_output_bytes = 1048576\n",
    )
    result = cli("--config", config, "hosts", "check", "--format", "json")
    checks = {c["host"]: c for c in result.json()}
    assert checks["good"]["ok"] is True
    assert checks["hang"]["ok"] is False and checks["hang"]["python"] is False
    assert any("sent nothing for 2 s" in n for n in checks["hang"]["notes"])
    assert checks["flood"]["ok"] is False and any(
        "exceeds 1 MiB" in n for n in checks["flood"]["notes"]
    )
    assert result.exit_code != 0
    assert len(result.stdout) < 20000  # remote output is never printed raw


def test_sigterm_keeps_what_is_complete(hostile, ssh_client_key, tmp_path):
    import signal
    import sys

    hosts = [hostile["good"], hostile["trickle"]]
    config = write(
        tmp_path,
        ssh_client_key,
        hosts,
        "command_timeout = 30\nhost_timeout = 120\n",
        {h.name: {"role": '"app"'} for h in hosts},
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "lpsectl", "--config", config, "collect"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # wait until the good host's probe has run and ended (its row is not stored yet: the
    # trickling host keeps the run going)
    deadline, seen = time.monotonic() + 30, False
    while time.monotonic() < deadline:
        time.sleep(0.1)
        running = (
            subprocess.run(
                ["pgrep", "-u", TEST_USER, "-f", "python3 -"], capture_output=True
            ).returncode
            == 0
        )
        if running:
            seen = True
        elif seen:
            break
    assert seen, "the good host's probe was never seen running"
    time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    started = time.monotonic()
    _, stderr = proc.communicate(timeout=30)
    assert time.monotonic() - started < 10
    assert proc.returncode == 130 and "interrupted" in stderr
    stored = {(r["host"], r["kind"]): r for r in rows(tmp_path)}
    assert stored[("good", "system")]["ok"] == 1
    assert stored[("trickle", "system")]["ok"] == 0
    assert "interrupted" in stored[("trickle", "system")]["error"]


# -- found by a break-test ------------------------------------------------------------------

INFINITE = """case "$SSH_ORIGINAL_COMMAND" in
  *python3*) cat >/dev/null; printf '%s' '{"data": {"hostname": "x", "uptime_seconds": 1e999, "load": {"1": NaN}}}';;
  *) exec /bin/sh -c "$SSH_ORIGINAL_COMMAND";;
esac"""
DEEP = """case "$SSH_ORIGINAL_COMMAND" in
  *python3*) cat >/dev/null; python3 -c 'print("{\\"data\\": {\\"x\\": " + "[" * 800 + "]" * 800 + "}}")';;
  *) exec /bin/sh -c "$SSH_ORIGINAL_COMMAND";;
esac"""
ESCAPES = r"""printf 'boom \033[31mRED\033]0;pwned\007 \033[2J\r\nFAKE LINE\n' >&2; exit 1"""


def test_non_finite_deep_or_escaped_answers_are_refused_and_never_stored(
    sshd_factory, ssh_client_key, tmp_path, cli
):
    hosts = [
        sshd_factory.start("infinite", force_command=INFINITE),
        sshd_factory.start("deep", force_command=DEEP),
        sshd_factory.start("escapes", force_command=ESCAPES),
    ]
    config = write(
        tmp_path, ssh_client_key, hosts, host_extra={h.name: {"role": '"app"'} for h in hosts}
    )
    result = cli("--config", config, "collect", "--format", "json")
    assert result.exit_code == 5, result.stderr  # nothing usable came back from any of them
    failed = {h["host"]: h["failed"][0]["error"] for h in result.json()["hosts"]}
    assert "1e999 is not a finite number" in failed["infinite"]
    assert "nested deeper than 32 levels" in failed["deep"]
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr and "\r" not in result.stderr
    assert "\\x1b[31mRED" in failed["escapes"]
    for row in rows(tmp_path):
        assert row["ok"] == 0 and "Infinity" not in row["data"] and "NaN" not in row["data"]
        assert "\x1b" not in (row["error"] or "")
    for args in (
        ("report", "daily"),
        ("report", "daily", "--format", "html"),
        ("report", "monthly"),
    ):
        report = cli("--config", config, *args)
        assert report.exit_code in (0, 1), report.stderr
        assert "\x1b" not in report.stdout and "\x07" not in report.stdout
        assert not any(line.startswith("FAKE LINE") for line in report.stdout.splitlines())


def test_a_known_hosts_fifo_or_an_include_loop_cannot_hang_collect(
    hostile, ssh_client_key, tmp_path, cli
):
    import os as _os

    good = hostile["good"]
    config = write(tmp_path, ssh_client_key, [good], "host_timeout = 10\n")
    known = tmp_path / "known_hosts"
    line = known.read_text()
    known.unlink()
    _os.mkfifo(known)
    started = time.monotonic()
    fifo = cli("--config", config, "collect")
    assert fifo.exit_code == 5 and "not a regular file" in fifo.stderr
    assert time.monotonic() - started < 10
    known.unlink()
    known.write_text(line)
    loop = tmp_path / "data" / "no-ssh-config"
    loop.parent.mkdir(parents=True, exist_ok=True)
    loop.write_text(f"Include {loop}\nInclude {loop}\nInclude {loop}\n")
    started = time.monotonic()
    assert cli("--config", config, "collect").exit_code == 0
    assert time.monotonic() - started < 10


def test_nothing_collected_is_exit_5_not_partial(hostile, ssh_client_key, tmp_path, cli):
    config = write(tmp_path, ssh_client_key, [hostile["good"]], "host_timeout = 0.001\n")
    result = cli("--config", config, "collect")
    assert result.exit_code == 5 and "ssh.host_timeout" in result.stderr


@pytest.mark.parametrize("order", ["the host's first", "the other first"])
def test_any_key_known_hosts_gives_a_host_is_accepted(
    hostile, ssh_client_key, tmp_path, cli, order
):
    """Two lines of one key type name the host (its own, and a pattern's with another
    key): OpenSSH accepts either; paramiko holds one per type, so lpsectl connects
    again with the other when the server presents it."""
    good = hostile["good"]
    config = write(tmp_path, ssh_client_key, [good])
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True
    )
    kind, blob = (tmp_path / "k.pub").read_text().split()[:2]
    other = f"[{good.address}]:* {kind} {blob}"
    lines = [good.known_hosts_line, other]
    if order == "the other first":
        lines.reverse()
    (tmp_path / "known_hosts").write_text("\n".join(lines) + "\n")
    result = cli("--config", config, "collect", "--format", "json")
    assert result.exit_code == 0, result.stderr
    # only the other key: refused as a changed key, as ssh would
    (tmp_path / "known_hosts").write_text(other + "\n")
    changed = cli("--config", config, "collect")
    assert changed.exit_code == 5 and "host key CHANGED" in changed.stderr


def test_a_negated_name_takes_the_host_out_of_a_pattern_line(
    hostile, ssh_client_key, tmp_path, cli
):
    good = hostile["good"]
    config = write(tmp_path, ssh_client_key, [good])
    kind, blob = good.known_hosts_line.split()[1:3]
    known = tmp_path / "known_hosts"
    known.write_text(f"[{good.address}]:*,![{good.address}]:{good.port} {kind} {blob}\n")
    # the reference: OpenSSH's own look-up finds no key for the host
    found = subprocess.run(
        ["ssh-keygen", "-F", f"[{good.address}]:{good.port}", "-f", str(known)],
        capture_output=True,
        text=True,
    )
    assert found.returncode == 1 and not found.stdout.strip()
    refused = cli("--config", config, "collect")
    assert refused.exit_code == 5 and "is unknown" in refused.stderr


@pytest.mark.parametrize("accepted_too", [False, True])
def test_a_revoked_host_key_is_refused_before_authentication(hostile, tmp_path, cli, accepted_too):
    """With a client key the server does not accept, the refusal can only say "revoked"
    if the host key was judged before authenticating (a line accepting the same key
    does not help it)."""
    good = hostile["good"]
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    config = write(tmp_path, stranger, [good])
    kind, blob = good.known_hosts_line.split()[1:3]
    lines = [f"@revoked * {kind} {blob}"]
    if accepted_too:
        lines.insert(0, good.known_hosts_line)
    (tmp_path / "known_hosts").write_text("\n".join(lines) + "\n")
    refused = cli("--config", config, "collect")
    assert refused.exit_code == 5
    assert "is marked @revoked" in refused.stderr, refused.stderr
    assert "authentication" not in refused.stderr.lower()
