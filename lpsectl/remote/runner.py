"""Run a command on a host: locally (subprocess) or over SSH (paramiko).

Commands are always an argv list. Locally no shell is involved; over SSH the
remote side always has a shell, so the argv is joined with ``shlex.join`` —
every element quoted — and never concatenated from raw strings.

Every command is bounded, whatever the host sends:

* **time** — an idle timeout per command (``ssh.command_timeout``: no byte
  for that long) and a deadline for the whole host (``ssh.host_timeout``,
  connect included), counted from the runner's creation; on expiry the
  channel (or local process group) is closed and
  :class:`~lpsectl.errors.CommandTimeoutError` /
  :class:`~lpsectl.errors.HostTimeoutError` raised;
* **memory** — stdout and stderr are read concurrently (no deadlock when one
  fills its pipe) and each is capped at ``ssh.max_output_bytes``; over the
  cap the command is stopped and :class:`~lpsectl.errors.OutputTooLargeError`
  raised, so memory stays bounded by twice the cap.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import logging
import os
import re
import select
import shlex
import signal
import stat
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from lpsectl import messages
from lpsectl.config import HostConfig, SshSettings
from lpsectl.errors import (
    AuthenticationError,
    CommandTimeoutError,
    HostKeyError,
    HostTimeoutError,
    OutputTooLargeError,
    RemoteError,
    UnreachableError,
)
from lpsectl.files import read_secret

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


class Deadline:
    """An absolute end time on the monotonic clock (wall-clock jumps do not move it)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def check(self, host: str) -> float:
        """Seconds left; :class:`HostTimeoutError` when none are."""
        left = self.remaining()
        if left <= 0:
            raise HostTimeoutError(
                host,
                messages.HOST_TIMEOUT.format(seconds=f"{self.seconds:g}"),
            )
        return left


def _mib(size: int) -> str:
    return f"{size / 1048576:g} MiB"


class Runner(Protocol):
    host: HostConfig
    deadline: Deadline
    #: a command with no output for this long is given up (seconds)
    command_timeout: float
    #: stdout or stderr past this many bytes stops the command (ssh.max_output_bytes)
    max_output_bytes: int

    def run(
        self, argv: list[str], stdin: bytes | None = None, timeout: float | None = None
    ) -> CommandResult: ...

    def close(self) -> None: ...


# 127 is what a POSIX shell returns for "command not found"
COMMAND_NOT_FOUND = 127


class LocalRunner:
    """This machine, no SSH, no shell; same bounds as over SSH."""

    def __init__(
        self,
        host: HostConfig,
        command_timeout: float = 120.0,
        host_timeout: float = 300.0,
        max_output_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        self.host = host
        self.command_timeout = command_timeout
        self.max_output_bytes = max_output_bytes
        self.deadline = Deadline(host_timeout)
        self._active: subprocess.Popen | None = None

    def run(
        self, argv: list[str], stdin: bytes | None = None, timeout: float | None = None
    ) -> CommandResult:
        left = self.deadline.check(self.host.name)
        limit = min(timeout or self.command_timeout, left)
        try:
            proc = subprocess.Popen(  # noqa: S603 - argv list, no shell
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group: stopped as a whole
            )
        except FileNotFoundError:
            return CommandResult(argv, COMMAND_NOT_FOUND, b"", f"{argv[0]}: not found".encode())
        except PermissionError as exc:
            return CommandResult(argv, 126, b"", str(exc).encode())
        self._active = proc
        try:
            return self._wait(proc, argv, stdin or b"", limit, left)
        except BaseException:
            _kill_group(proc)  # Ctrl-C, SIGTERM, a bound: nothing of ours lives on
            raise
        finally:
            self._active = None
            _kill_group(proc, wait=False)  # children that outlived their leader (a `cmd &`)

    def _wait(
        self, proc: subprocess.Popen, argv: list[str], data: bytes, limit: float, left: float
    ) -> CommandResult:
        readers = [
            _CappedReader(proc.stdout, self.max_output_bytes),
            _CappedReader(proc.stderr, self.max_output_bytes),
        ]
        threading.Thread(target=_feed, args=(proc.stdin, data), daemon=True).start()
        end = time.monotonic() + limit

        def expired() -> None:
            _kill_group(proc)
            if limit >= left:
                self.deadline.check(self.host.name)  # raises HostTimeoutError
            raise CommandTimeoutError(
                self.host.name, f"command {argv[0]!r} did not finish within {limit:.0f} s"
            )

        while proc.poll() is None:
            if any(r.too_large.is_set() for r in readers):
                _kill_group(proc)
                break
            if time.monotonic() >= end:
                expired()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.05)
        for reader in readers:
            # the pipes may be held open by a child the leader left behind: bounded too
            reader.join(max(0.0, end - time.monotonic()))
            if reader.is_alive():
                expired()
        if any(r.exceeded for r in readers):
            raise OutputTooLargeError(
                self.host.name,
                f"command {argv[0]!r}: output exceeds {_mib(self.max_output_bytes)} "
                "(ssh.max_output_bytes); it was stopped",
            )
        return CommandResult(argv, proc.returncode, bytes(readers[0].data), bytes(readers[1].data))

    def close(self) -> None:
        """Stop a command still running (called when the run is interrupted)."""
        proc = getattr(self, "_active", None)
        if proc is not None:
            _kill_group(proc)


class _CappedReader(threading.Thread):
    """Reads a pipe to its end in the background, keeping at most ``cap`` bytes."""

    def __init__(self, pipe: Any, cap: int) -> None:
        super().__init__(daemon=True)
        self.pipe, self.cap = pipe, cap
        self.data = bytearray()
        self.exceeded = False
        self.too_large = threading.Event()
        self.start()

    def run(self) -> None:
        while True:
            chunk = self.pipe.read1(65536)
            if not chunk:
                break
            if len(self.data) + len(chunk) > self.cap:
                self.exceeded = True
                self.too_large.set()
                break
            self.data += chunk
        self.pipe.close()


def _feed(pipe: Any, data: bytes) -> None:
    try:
        if data:
            pipe.write(data)
    except (BrokenPipeError, OSError):
        pass  # the command exited without reading it all (e.g. not found)
    finally:
        try:
            pipe.close()
        except OSError:
            pass


def _kill_group(proc: subprocess.Popen, wait: bool = True) -> None:
    """SIGKILL the command's process group (it was started in a session of its own); with
    ``wait``, until the leader is reaped and no member runs any more (at most 1 s: a
    child left behind by its leader dies after the signal is delivered, not at once)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if wait:
        proc.wait()
        until = time.monotonic() + 1.0
        while _group_runs(proc.pid) and time.monotonic() < until:
            time.sleep(0.01)


def _group_runs(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (a zombie has ended: its parent,
    init for an orphan, has only not collected it yet)."""
    try:
        names = os.listdir("/proc")
    except OSError:  # no /proc: what the kernel says, zombies included
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                fields = handle.read().rpartition(")")[2].split()
        except OSError:
            continue
        if len(fields) > 2 and fields[0] != "Z" and fields[2] == str(pgid):
            return True
    return False


class SshRunner:
    """A host over SSH with strict host-key checking (unknown or changed → refused)."""

    def __init__(self, host: HostConfig, ssh: SshSettings) -> None:
        self.host = host
        self.ssh = ssh
        self.command_timeout = ssh.command_timeout
        self.max_output_bytes = ssh.max_output_bytes
        self._client: Any = None
        self._lock = threading.Lock()
        self.deadline = Deadline(ssh.host_timeout)

    # -- connection --------------------------------------------------------------
    def connect(self) -> None:
        import paramiko

        target = self._resolve_target()
        client = paramiko.SSHClient()
        known_hosts = Path(self.ssh.known_hosts).expanduser()
        known = KnownKeys(set(), set())
        if known_hosts.exists():
            try:
                known = load_known_hosts(
                    known_hosts,
                    client.get_host_keys(),
                    _known_hosts_name(target),
                    self.deadline,
                    self.host.name,
                )
            except OSError as exc:
                raise RemoteError(
                    self.host.name,
                    messages.KNOWN_HOSTS_UNREADABLE.format(
                        path=known_hosts, reason=exc.strerror or exc
                    ),
                ) from exc
        # Never auto-accept: an unknown key may be a man in the middle; a revoked one is
        # said so before we authenticate
        client.set_missing_host_key_policy(_RefuseUnknown(self.host.name, known, known_hosts))
        try:
            self._open(client, target, known, known_hosts)
        except HostKeyError:
            client.close()
            raise
        except paramiko.PasswordRequiredException as exc:
            client.close()
            raise AuthenticationError(
                self.host.name,
                messages.KEY_ENCRYPTED.format(keys=", ".join(target["key_files"]) or "(default)"),
            ) from exc
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise HostKeyError(
                self.host.name,
                messages.HOST_KEY_CHANGED.format(
                    host=exc.hostname,
                    key=f"{exc.key.get_name()} {fingerprint(exc.key)}",
                    command=f"ssh-keygen -R {_known_hosts_name(target)} -f {known_hosts}",
                ),
            ) from exc
        except paramiko.SSHException as exc:
            client.close()
            message = str(exc)
            if "not found in known_hosts" in message:
                raise HostKeyError(
                    self.host.name,
                    messages.HOST_KEY_UNKNOWN.format(
                        host=_known_hosts_name(target),
                        path=known_hosts,
                        command=f"ssh-keyscan -p {target['port']} {target['hostname']} >> {known_hosts}",
                    ),
                ) from exc
            if isinstance(exc, paramiko.AuthenticationException):
                raise AuthenticationError(
                    self.host.name,
                    messages.AUTHENTICATION_FAILED.format(
                        user=target["user"] or "(default)",
                        keys=", ".join(target["key_files"]) or "(agent/default keys)",
                    ),
                ) from exc
            raise RemoteError(self.host.name, messages.SSH_ERROR.format(reason=message)) from exc
        except TimeoutError as exc:
            client.close()
            raise UnreachableError(
                self.host.name,
                messages.NO_ANSWER.format(
                    target=f"{target['hostname']}:{target['port']}",
                    seconds=f"{self.ssh.connect_timeout:g}",
                ),
            ) from exc
        except OSError as exc:
            client.close()
            raise UnreachableError(
                self.host.name,
                messages.CANNOT_CONNECT.format(
                    target=f"{target['hostname']}:{target['port']}", reason=exc.strerror or exc
                ),
            ) from exc
        server_key = client.get_transport().get_remote_server_key()
        if server_key.asbytes() in known.revoked:  # never reached: refused before auth
            client.close()
            raise _revoked(self.host.name, server_key, known_hosts)
        self._client = client

    def _open(self, client: Any, target: dict, known: KnownKeys, known_hosts: Path) -> None:
        """``client.connect`` to ``target``; when the server presents another of the keys
        known_hosts accepts for it than the one paramiko holds for that type (two lines,
        a host's own and a pattern's), once more with that key (paramiko raises the
        same ``BadHostKeyException`` for a key that is not known at all)."""
        import paramiko

        for attempt in (1, 2):
            wait = min(self.ssh.connect_timeout, max(0.1, self.deadline.remaining()))
            try:
                client.connect(
                    hostname=target["hostname"],
                    port=target["port"],
                    username=target["user"] or None,
                    key_filename=target["key_files"] or None,
                    timeout=wait,
                    banner_timeout=wait,
                    auth_timeout=wait,
                    allow_agent=True,
                    look_for_keys=not target["key_files"],
                    passphrase=self._passphrase(),
                )
                return
            except paramiko.BadHostKeyException as exc:
                if exc.key.asbytes() in known.revoked:
                    raise _revoked(self.host.name, exc.key, known_hosts) from None
                if attempt == 2 or exc.key.asbytes() not in known.accepted:
                    raise
                client.close()
                client.get_host_keys().add(_known_hosts_name(target), exc.key.get_name(), exc.key)

    def _passphrase(self) -> str | None:
        if not self.ssh.key_passphrase_file:
            return None
        path = Path(self.ssh.key_passphrase_file).expanduser()
        try:
            return read_secret(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise AuthenticationError(
                self.host.name,
                f"cannot read ssh.key_passphrase_file {path}: "
                f"{getattr(exc, 'strerror', None) or exc}",
            ) from exc

    def _resolve_target(self) -> dict:
        """Config values, completed from ~/.ssh/config for what the config leaves open.

        ``Include`` is followed (paramiko's parser does not): see :func:`ssh_config_text`.
        """
        import paramiko

        opts: dict = {}
        ssh_config_path = Path(self.ssh.ssh_config).expanduser()
        if ssh_config_path.exists():
            try:
                parsed = paramiko.SSHConfig.from_text(ssh_config_text(ssh_config_path))
                opts = parsed.lookup(self.host.address)
            except (OSError, UnicodeDecodeError, paramiko.SSHException) as exc:
                log.warning("%s: ignoring unreadable %s: %s", self.host.name, ssh_config_path, exc)
        key_file = self.host.key_file or self.ssh.key_file
        key_files = (
            [str(Path(key_file).expanduser())]
            if key_file
            else [str(Path(k).expanduser()) for k in opts.get("identityfile", [])]
        )
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
        self.deadline.check(self.host.name)
        with self._lock:
            if self._client is None:
                self.connect()
        assert self._client is not None
        command = shlex.join(argv)
        idle = timeout or self.ssh.command_timeout
        try:
            transport = self._client.get_transport()
            if transport is None or not transport.is_active():
                raise RemoteError(self.host.name, "the SSH connection was closed")
            channel = transport.open_session(timeout=min(idle, self.deadline.check(self.host.name)))
        except Exception as exc:
            import paramiko

            if isinstance(exc, paramiko.SSHException | EOFError | OSError):
                raise RemoteError(self.host.name, f"SSH session failed: {exc}") from exc
            raise
        try:
            return self._converse(channel, argv, command, stdin or b"", idle)
        except RemoteError:
            _signal_kill(channel)  # stopped by a bound: the remote command must not live on
            raise
        except Exception as exc:
            import paramiko

            if isinstance(exc, paramiko.SSHException | EOFError | OSError):
                raise RemoteError(self.host.name, f"SSH session failed: {exc}") from exc
            raise
        finally:
            channel.close()  # on every path: a stopped command gets EOF/SIGPIPE on its pipes

    def _converse(
        self, channel: Any, argv: list[str], command: str, data: bytes, idle: float
    ) -> CommandResult:
        """exec ``command``; feed ``data``; read both streams to the end, within every bound."""
        cap = self.ssh.max_output_bytes
        channel.settimeout(0.0)
        channel.exec_command(command)
        out, err = bytearray(), bytearray()
        sent, last_heard = 0, time.monotonic()
        if not data:
            channel.shutdown_write()
        while True:
            progressed = False
            if sent < len(data) and channel.send_ready():
                try:
                    sent += channel.send(data[sent : sent + 32768])
                except (
                    OSError,
                    EOFError,
                ):  # the command exited (or closed stdin) without reading it all
                    sent = len(data)
                    progressed = True
                    continue
                if sent >= len(data):
                    with contextlib.suppress(OSError, EOFError):
                        channel.shutdown_write()
                progressed = True
            while channel.recv_ready() and len(out) <= cap:
                out += channel.recv(65536)
                progressed = True
            while channel.recv_stderr_ready() and len(err) <= cap:
                err += channel.recv_stderr(65536)
                progressed = True
            if len(out) > cap or len(err) > cap:
                raise OutputTooLargeError(
                    self.host.name,
                    f"command {argv[0]!r}: {'output' if len(out) > cap else 'error output'} "
                    f"exceeds {_mib(cap)} (ssh.max_output_bytes); it was stopped",
                )
            left = self.deadline.check(self.host.name)  # on every pass: a flood never outruns it
            if (
                channel.exit_status_ready()
                and channel.eof_received
                and not channel.recv_ready()
                and not channel.recv_stderr_ready()
            ):
                break
            if channel.closed or not channel.get_transport().is_active():
                raise RemoteError(
                    self.host.name, "the SSH connection was closed before the command finished"
                )
            now = time.monotonic()
            if progressed:
                last_heard = now
                continue
            if now - last_heard > idle:
                raise CommandTimeoutError(
                    self.host.name,
                    f"command {argv[0]!r} sent nothing for {idle:g} s "
                    "(ssh.command_timeout); it was stopped",
                )
            select.select([channel], [], [], min(0.05, left))
        return CommandResult(argv, channel.recv_exit_status(), bytes(out), bytes(err))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _revoked(host: str, key: Any, known_hosts: Path) -> HostKeyError:
    return HostKeyError(
        host,
        messages.HOST_KEY_REVOKED.format(
            key=f"{key.get_name()} {fingerprint(key)}", path=known_hosts
        ),
    )


class _RefuseUnknown:
    """paramiko's policy for a server key no known_hosts line holds for its type:
    refused (as RejectPolicy), and named revoked when it is (before authentication)."""

    def __init__(self, host: str, known: KnownKeys, known_hosts: Path) -> None:
        self.host, self.known, self.known_hosts = host, known, known_hosts

    def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
        import paramiko

        if key.asbytes() in self.known.revoked:
            raise _revoked(self.host, key, self.known_hosts)
        raise paramiko.SSHException(f"Server {hostname!r} not found in known_hosts")


def fingerprint(key: Any) -> str:
    """``SHA256:...`` as OpenSSH shows it (base64 of the SHA-256 of the key blob, unpadded)."""
    import base64

    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def read_config_file(path: Path, limit: int = 64 * 1024 * 1024) -> str:
    """A small config file's text (known_hosts, ssh_config), never blocking: opened
    non-blocking, regular files only, at most ``limit`` bytes. Raises ``OSError``."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit // 1048576} MiB", str(path))
    return data.decode("utf-8", errors="replace")


#: HMAC's inner and outer pad (RFC 2104) as translation tables of a key's bytes
_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))


class HashedName:
    """A hashed known_hosts name (``|1|salt|hash``: HMAC-SHA1 of the name keyed by the
    salt, as OpenSSH's ``HashKnownHosts`` writes it), with the HMAC's two padded-key
    SHA-1 states computed once (RFC 2104, section 2): each host checked against it
    costs two state copies, 0.8 against 1.9 us for a new ``hmac.new`` every time."""

    __slots__ = ("digest", "inner", "outer")

    def __init__(self, salt: bytes, digest: bytes) -> None:
        if len(salt) > 64:  # longer keys are hashed first (RFC 2104); OpenSSH's are 20 bytes
            salt = hashlib.sha1(salt).digest()
        key = salt.ljust(64, b"\0")
        self.inner = hashlib.sha1(key.translate(_IPAD))
        self.outer = hashlib.sha1(key.translate(_OPAD))
        self.digest = digest

    def names(self, wanted: bytes) -> bool:
        """Whether this is the hashed form of ``wanted`` (``host`` or ``[host]:port``)."""
        inner = self.inner.copy()
        inner.update(wanted)
        outer = self.outer.copy()
        outer.update(inner.digest())
        return hmac.compare_digest(outer.digest(), self.digest)


#: one usable line: (line number, marker, key type, base64 key)
KnownLine = tuple[int, str, str, str]


@dataclass
class KnownHosts:
    """A known_hosts file's usable lines, indexed by the names they give: what each host
    of a run looks up in it (:func:`load_known_hosts`)."""

    lines: list[KnownLine]
    #: plain name, lower case ("host", "[host]:2222") -> the indexes of the lines naming it
    plain: dict[str, list[int]]
    #: ("*"/"?" pattern as a regex, line index)
    patterns: list[tuple[re.Pattern[str], int]]
    #: (hashed name, line index)
    hashed: list[tuple[HashedName, int]]
    #: line index -> its negated patterns ("!host"): a line does not name a host one of
    #: them matches, whatever else it names (OpenSSH's match_hostname_list)
    negated: dict[int, list[re.Pattern[str]]]
    #: indexes of the @revoked lines (whatever names they give)
    revoked: list[int]


def _host_pattern(pattern: str) -> re.Pattern[str]:
    """An OpenSSH host pattern as a regex: only ``*`` and ``?`` are wildcards (``[`` in
    ``[host]:2222`` is a plain character), case-insensitive as ssh lowercases names."""
    body = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern.lower()
    )
    return re.compile(body + r"\Z", re.DOTALL)


_known_hosts_cache: dict[tuple[Any, ...], KnownHosts] = {}
_known_hosts_lock = threading.Lock()


def known_hosts_index(path: Path) -> KnownHosts:
    """A known_hosts file parsed once per version of the file (path, inode, size,
    mtime) and shared read-only by every host of a run.

    Malformed lines are skipped (logged at debug level); ``@cert-authority`` lines
    are skipped with a note (certificates are not supported). Raises ``OSError``
    (a FIFO, a directory, unreadable).
    """
    import base64
    import binascii

    info = os.stat(path)
    key = (os.path.realpath(path), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
    with _known_hosts_lock:
        found = _known_hosts_cache.get(key)
        if found is not None:
            return found
        index = KnownHosts([], {}, [], [], {}, [])
        for number, line in enumerate(read_config_file(path).splitlines(), 1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            marker = fields.pop(0) if fields[0].startswith("@") else ""
            if marker == "@cert-authority":
                log.info(
                    "%s:%d: @cert-authority line skipped (host certificates are not supported)",
                    path,
                    number,
                )
                continue
            if marker not in ("", "@revoked") or len(fields) < 3:
                log.debug("%s:%d: malformed line skipped", path, number)
                continue
            at = len(index.lines)
            index.lines.append((number, marker, fields[1], fields[2]))
            if marker == "@revoked":
                index.revoked.append(at)
                continue
            for name in set(fields[0].split(",")):
                if not name:
                    continue
                if name.startswith("!"):
                    index.negated.setdefault(at, []).append(_host_pattern(name[1:]))
                elif name.startswith("|1|"):
                    parts = name.split("|")
                    try:
                        hashed = HashedName(
                            base64.b64decode(parts[2], validate=True),
                            base64.b64decode(parts[3], validate=True),
                        )
                    except (IndexError, binascii.Error, ValueError):
                        log.debug("%s:%d: a malformed hashed name skipped", path, number)
                        continue
                    index.hashed.append((hashed, at))
                elif "*" in name or "?" in name:
                    index.patterns.append((_host_pattern(name), at))
                else:
                    index.plain.setdefault(name.lower(), []).append(at)
        _known_hosts_cache.clear()  # one file (its newest version) per process
        _known_hosts_cache[key] = index
        return index


@dataclass
class KnownKeys:
    """The keys known_hosts gives one host: ``accepted`` (key blobs, every matching
    line's: OpenSSH accepts any of them) and ``revoked`` (blobs of ``@revoked`` keys)."""

    accepted: set[bytes]
    revoked: set[bytes]


def load_known_hosts(
    path: Path, host_keys: Any, wanted: str, deadline: Deadline | None = None, host: str = ""
) -> KnownKeys:
    """Read an OpenSSH known_hosts file into paramiko's ``host_keys`` as OpenSSH does,
    keeping only the lines for ``wanted`` (``host`` or ``[host]:port``; hashed names,
    ``*``/``?`` patterns and ``!`` negations too, names compared in lower case): the file
    is parsed once per run (:func:`known_hosts_index`), each host then costs a dictionary
    look-up and one HMAC-SHA1 per hashed name (paramiko's own loading is quadratic).

    paramiko holds one key per type and host: the first line's goes to ``host_keys``
    (its type is what the server is asked for first); every matching key is in the
    answer's ``accepted`` (:meth:`SshRunner.connect` retries with another one of the
    same type). Raises ``OSError`` (a FIFO, a directory, unreadable).
    """
    import base64
    import binascii

    import paramiko
    from paramiko.pkey import UnknownKeyType

    index = known_hosts_index(path)
    lowered = wanted.lower()
    wanted_bytes = lowered.encode()
    matched = set(index.plain.get(lowered, ()))
    matched.update(at for pattern, at in index.patterns if pattern.match(lowered))
    names = HashedName.names
    hashed = index.hashed
    for start in range(0, len(hashed), 5000):
        if deadline is not None and start:
            deadline.check(host)
        matched.update(at for name, at in hashed[start : start + 5000] if names(name, wanted_bytes))
    matched = {
        at
        for at in matched
        if not any(pattern.match(lowered) for pattern in index.negated.get(at, ()))
    }
    matched.update(index.revoked)
    known = KnownKeys(set(), set())
    candidates = []
    for at in sorted(matched):  # in the file's order, as OpenSSH reads it
        number, marker, key_type, key_data = index.lines[at]
        try:
            key = paramiko.PKey.from_type_string(
                key_type, base64.b64decode(key_data, validate=True)
            )
        except (
            binascii.Error,
            ValueError,
            OverflowError,  # a malformed RSA blob
            paramiko.SSHException,
            UnknownKeyType,  # ssh-dss (gone from paramiko), certificates, security keys
        ) as exc:
            # a line this client cannot use is skipped, as ssh skips one it cannot parse:
            # the host's other lines still count
            log.debug("%s:%d: skipped (%s)", path, number, exc)
            continue
        if marker == "@revoked":
            known.revoked.add(key.asbytes())
            continue
        candidates.append(key)
    held: set[str] = set()  # key types given to paramiko: the first line's of each
    for key in candidates:  # a revoked key is never accepted, wherever its line stands
        blob = key.asbytes()
        if blob in known.revoked:
            continue
        known.accepted.add(blob)
        if key.get_name() not in held:
            held.add(key.get_name())
            host_keys.add(wanted, key.get_name(), key)
    return known


def ssh_config_text(path: Path, seen: set[str] | None = None) -> str:
    """``path``'s text with every ``Include`` replaced by the files it names, in place.

    Relative names are under ~/.ssh (as ssh(1) reads a user config); globs are
    expanded in sorted order. Each file is read once (an Include loop ends), at
    most 64 files, non-blocking and regular files only; a bad ``Include`` line
    is skipped with a warning.
    """
    import glob
    import shlex as _shlex

    seen = set() if seen is None else seen
    real = os.path.realpath(path)
    if real in seen or len(seen) >= 64:
        return ""
    seen.add(real)
    out = []
    for line in read_config_file(path, 4 * 1024 * 1024).splitlines():
        words = line.strip().split(None, 1)
        if len(words) == 2 and words[0].lower() == "include":
            try:
                patterns = _shlex.split(words[1])
            except ValueError as exc:
                log.warning("%s: Include line skipped (%s): %s", path, exc, line.strip()[:80])
                continue
            for pattern in patterns:
                pattern = os.path.expanduser(pattern)
                if not os.path.isabs(pattern):
                    pattern = os.path.join(os.path.expanduser("~/.ssh"), pattern)
                for name in sorted(glob.glob(pattern)):
                    try:
                        out.append(ssh_config_text(Path(name), seen))
                    except OSError as exc:
                        log.warning("%s: Include %s skipped: %s", path, name, exc.strerror or exc)
            continue
        out.append(line)
    return "\n".join(out)


def _signal_kill(channel: Any) -> None:
    """Ask sshd to SIGKILL the command (RFC 4254 §6.9 "signal"; OpenSSH 7.9 and newer).

    paramiko has no public call for this request, so the message is built
    here. An older server ignores it; the closed channel then ends the
    command at its next write, and lpsectl's own scripts end themselves at
    their deadline (the probe's and summariser's watchdog).
    """
    from paramiko.common import cMSG_CHANNEL_REQUEST
    from paramiko.message import Message

    try:
        message = Message()
        message.add_byte(cMSG_CHANNEL_REQUEST)
        message.add_int(channel.remote_chanid)
        message.add_string("signal")
        message.add_boolean(False)
        message.add_string("KILL")
        channel.transport._send_user_message(message)  # noqa: SLF001 - see the docstring
    except Exception:  # noqa: BLE001,S110 - best effort: the channel is closed right after
        log.debug("could not send the signal request", exc_info=True)


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
        return LocalRunner(host, ssh.command_timeout, ssh.host_timeout, ssh.max_output_bytes)
    return SshRunner(host, ssh)
