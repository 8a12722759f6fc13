"""Exception hierarchy. Each error carries the exit code cron acts on.

Exit codes (documented in the README):
  0 success
  1 completed, found problems worth attention (only where a flag asks)
  2 usage error
  3 partial: some hosts or items could not be collected
  4 configuration error
  5 nothing could be collected / external service unavailable
  6 another run of the same job holds the lock
  70 internal error (a bug: please report it)
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    PROBLEMS = 1
    USAGE = 2
    PARTIAL = 3
    CONFIG = 4
    UNAVAILABLE = 5
    LOCKED = 6
    INTERNAL = 70


class LpsectlError(Exception):
    """Base: a one-sentence message for the user, and an exit code."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class UsageError(LpsectlError):
    exit_code = ExitCode.USAGE


class ConfigError(LpsectlError):
    exit_code = ExitCode.CONFIG


class UnavailableError(LpsectlError):
    exit_code = ExitCode.UNAVAILABLE


class LockedError(LpsectlError):
    exit_code = ExitCode.LOCKED


class NotFoundError(UsageError):
    """A record the user named (change, maintenance window, request) does not exist."""


class RemoteError(LpsectlError):
    """A host could not be reached or refused us; ``host`` names it."""

    exit_code = ExitCode.UNAVAILABLE

    def __init__(self, host: str, message: str, detail: str | None = None) -> None:
        super().__init__(f"{host}: {message}", detail)
        self.host = host
        self.reason = message


class UnreachableError(RemoteError):
    """No TCP connection / no SSH banner."""


class HostKeyError(RemoteError):
    """Unknown or changed host key: refused, never auto-accepted."""


class AuthenticationError(RemoteError):
    """The server refused our key (or the key could not be used, e.g. encrypted)."""


class CommandTimeoutError(RemoteError):
    """A command went silent for longer than ``ssh.command_timeout`` (the host answers)."""


class HostTimeoutError(RemoteError):
    """The host's deadline (``ssh.host_timeout``) passed; nothing more is tried on it this run."""


class OutputTooLargeError(RemoteError):
    """A command wrote more than ``ssh.max_output_bytes``; it was stopped."""


class ProblemsError(LpsectlError):
    """The run completed but found something the admin must act on (exit 1)."""

    exit_code = ExitCode.PROBLEMS
