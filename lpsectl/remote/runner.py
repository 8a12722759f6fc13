"""Run a command on a host: locally (subprocess) or over SSH (paramiko).

Commands are always an argv list. Locally no shell is involved; over SSH the
remote side always has a shell, so the argv is joined with ``shlex.join`` —
every element quoted — and never concatenated from raw strings.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lpsectl.config import HostConfig, SshSettings
from lpsectl.errors import AuthenticationError, HostKeyError, RemoteError, UnreachableError

log = logging.getLogger(__name__)


@dataclass
class CommandResult:
    argv: list[str]
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")

    @property
    def error_text(self) -> str:
        return self.stderr.decode("utf-8", errors="replace").strip()


class Runner(Protocol):
    host: HostConfig

    def run(
        self, argv: list[str], stdin: bytes | None = None, timeout: float | None = None
    ) -> CommandResult: ...

    def close(self) -> None: ...


# 127 is what a POSIX shell returns for "command not found"
COMMAND_NOT_FOUND = 127


class LocalRunner:
    """This machine, no SSH, no shell."""

    def __init__(self, host: HostConfig, command_timeout: float = 120.0) -> None:
        self.host = host
        self.command_timeout = command_timeout

    def run(
        self, argv: list[str], stdin: bytes | None = None, timeout: float | None = None
    ) -> CommandResult:
        try:
            proc = subprocess.run(  # noqa: S603 - argv list, no shell
                argv,
                input=stdin if stdin is not None else b"",
                capture_output=True,
                timeout=timeout or self.command_timeout,
                check=False,
            )
        except FileNotFoundError:
            return CommandResult(argv, COMMAND_NOT_FOUND, b"", f"{argv[0]}: not found".encode())
        except PermissionError as exc:
            return CommandResult(argv, 126, b"", str(exc).encode())
        except subprocess.TimeoutExpired as exc:
            raise RemoteError(
                self.host.name, f"command {argv[0]!r} did not finish within {exc.timeout:.0f} s"
            ) from exc
        return CommandResult(argv, proc.returncode, proc.stdout, proc.stderr)

    def close(self) -> None:
        pass


class SshRunner:
    """A host over SSH with strict host-key checking (unknown or changed → refused)."""

    def __init__(self, host: HostConfig, ssh: SshSettings) -> None:
        self.host = host
        self.ssh = ssh
        self._client = None
        self._lock = threading.Lock()

    # -- connection --------------------------------------------------------------
    def connect(self) -> None:
        import paramiko

        target = self._resolve_target()
        client = paramiko.SSHClient()
        known_hosts = Path(self.ssh.known_hosts).expanduser()
        if known_hosts.exists():
            try:
                client.load_host_keys(str(known_hosts))
            except (OSError, paramiko.SSHException) as exc:
                raise RemoteError(self.host.name, f"cannot read known_hosts {known_hosts}: {exc}") from exc
        # Never auto-accept: an unknown key may be a man in the middle.
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(
                hostname=target["hostname"],
                port=target["port"],
                username=target["user"] or None,
                key_filename=target["key_files"] or None,
                timeout=self.ssh.connect_timeout,
                banner_timeout=self.ssh.connect_timeout,
                auth_timeout=self.ssh.connect_timeout,
                allow_agent=True,
                look_for_keys=not target["key_files"],
            )
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise HostKeyError(
                self.host.name,
                f"host key CHANGED for {exc.hostname} (got {exc.key.get_name()} "
                f"{exc.key.get_fingerprint().hex()}); refusing to connect. If the server was "
                f"really reinstalled, verify the new key with its administrator, then run "
                f"`ssh-keygen -R {_known_hosts_name(target)} -f {known_hosts}` and add the verified key",
            ) from exc
        except paramiko.SSHException as exc:
            client.close()
            message = str(exc)
            if "not found in known_hosts" in message:
                raise HostKeyError(
                    self.host.name,
                    f"host key of {_known_hosts_name(target)} is unknown (not in {known_hosts}); "
                    "refusing to connect. Verify the key with the server's administrator, then add "
                    f"it: ssh-keyscan -p {target['port']} {target['hostname']} >> {known_hosts} "
                    "(and compare the fingerprint)",
                ) from exc
            if isinstance(exc, paramiko.AuthenticationException):
                raise AuthenticationError(
                    self.host.name,
                    f"authentication failed for user {target['user'] or '(default)'} "
                    f"with key {', '.join(target['key_files']) or '(agent/default keys)'}",
                ) from exc
            raise RemoteError(self.host.name, f"SSH error: {message}") from exc
        except TimeoutError as exc:
            client.close()
            raise UnreachableError(
                self.host.name,
                f"no answer from {target['hostname']}:{target['port']} within "
                f"{self.ssh.connect_timeout:g} s (unreachable or filtered)",
            ) from exc
        except OSError as exc:
            client.close()
            raise UnreachableError(
                self.host.name,
                f"cannot connect to {target['hostname']}:{target['port']}: {exc.strerror or exc}",
            ) from exc
        self._client = client

    def _resolve_target(self) -> dict:
        """Config values, completed from ~/.ssh/config for what the config leaves open."""
        import paramiko

        opts: dict = {}
        ssh_config_path = Path(self.ssh.ssh_config).expanduser()
        if ssh_config_path.exists():
            try:
                opts = paramiko.SSHConfig.from_path(str(ssh_config_path)).lookup(self.host.address)
            except (OSError, paramiko.SSHException) as exc:
                log.warning("%s: ignoring unreadable %s: %s", self.host.name, ssh_config_path, exc)
        key_file = self.host.key_file or self.ssh.key_file
        key_files = [str(Path(key_file).expanduser())] if key_file else [
            str(Path(k).expanduser()) for k in opts.get("identityfile", [])
        ]
        port = self.host.port
        if port == 22 and "port" in opts:
            port = int(opts["port"])
        return {
            "hostname": opts.get("hostname", self.host.address),
            "port": port,
            "user": self.host.user or self.ssh.user or opts.get("user", "") or _login_name(),
            "key_files": key_files,
        }

    # -- running -------------------------------------------------------------------
    def run(
        self, argv: list[str], stdin: bytes | None = None, timeout: float | None = None
    ) -> CommandResult:
        with self._lock:
            if self._client is None:
                self.connect()
        assert self._client is not None
        command = shlex.join(argv)
        timeout = timeout or self.ssh.command_timeout
        try:
            chan_in, chan_out, chan_err = self._client.exec_command(command, timeout=timeout)
            _send_input(chan_in, stdin)
            out = _read_all(chan_out, timeout)
            err = _read_all(chan_err, timeout)
            code = chan_out.channel.recv_exit_status()
        except TimeoutError as exc:
            raise RemoteError(
                self.host.name, f"command {argv[0]!r} did not finish within {timeout:g} s"
            ) from exc
        except Exception as exc:
            import paramiko

            if isinstance(exc, paramiko.SSHException | EOFError | OSError):
                raise RemoteError(self.host.name, f"SSH session failed: {exc}") from exc
            raise
        return CommandResult(argv, code, out, err)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _send_input(chan_in, data: bytes | None) -> None:  # type: ignore[no-untyped-def]
    """Write stdin; a command that exits without reading it (e.g. not found) is not an error."""
    import paramiko

    try:
        if data:
            chan_in.write(data)
        chan_in.channel.shutdown_write()
    except (OSError, EOFError, paramiko.SSHException):
        pass


def _read_all(stream, timeout: float) -> bytes:  # type: ignore[no-untyped-def]
    stream.channel.settimeout(timeout)
    return stream.read()


def _known_hosts_name(target: dict) -> str:
    if target["port"] == 22:
        return target["hostname"]
    return f"[{target['hostname']}]:{target['port']}"


def _login_name() -> str:
    try:
        return os.getlogin()
    except OSError:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name


def make_runner(host: HostConfig, ssh: SshSettings) -> Runner:
    if host.is_local:
        return LocalRunner(host, ssh.command_timeout)
    return SshRunner(host, ssh)
