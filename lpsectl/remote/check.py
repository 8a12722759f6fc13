"""`hosts check`: can lpsectl do its work on each host? Each step answered separately."""

from __future__ import annotations

from dataclasses import dataclass, field

from lpsectl.collect.schemas import clean_text
from lpsectl.config import HostConfig, SshSettings
from lpsectl.errors import AuthenticationError, HostKeyError, RemoteError, UnreachableError
from lpsectl.remote.fanout import on_hosts
from lpsectl.remote.runner import CommandResult, Runner, SshRunner, make_runner

#: the checks, in the order they are made; None = not tried (an earlier step failed)
STEPS = ("reachable", "host_key", "auth", "sudo", "python", "psql")


@dataclass
class HostCheck:
    host: str
    address: str
    results: dict[str, bool | None] = field(default_factory=lambda: dict.fromkeys(STEPS))
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Reached, and no check failed. A host nothing could be checked on is not ok."""
        return self.results["reachable"] is True and all(
            v is not False for v in self.results.values()
        )


def check_hosts(hosts: list[HostConfig], ssh: SshSettings) -> list[HostCheck]:
    outcomes = on_hosts(hosts, ssh, check_one, runner_factory=make_runner)
    checks = []
    for outcome in outcomes:
        if outcome.value is not None:
            checks.append(outcome.value)
        else:
            failed = HostCheck(outcome.host.name, outcome.host.address)
            failed.notes.append(clean(outcome.error or "unknown failure"))
            checks.append(failed)
    return checks


def check_one(runner: Runner) -> HostCheck:
    """Each step answered on its own: a step that hangs or floods fails with its reason."""
    host = runner.host
    check = HostCheck(host.name, host.address)
    if isinstance(runner, SshRunner):
        if not _connect(runner, check):
            return check
    else:
        check.results["reachable"] = True  # this machine: no SSH, so no host key or login to check
    if _uses_sudo(host):
        # the sudo rule that matters is the one for the configured psql argv (e.g. only
        # `sudo -u postgres psql` is allowed by least privilege): test exactly that
        assert host.postgres is not None
        sudo = _step(runner, check, "sudo", [*host.postgres.psql, "--version"])
        if sudo is not None:
            check.results["sudo"] = sudo.ok
            if not sudo.ok:
                check.notes.append(
                    f"sudo refused the configured psql: {_last_line(sudo.error_text) or sudo.returncode}"
                )
    version = _step(
        runner,
        check,
        "python",
        [host.python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
    )
    if version is not None:
        shown = clean(version.text.strip())
        check.results["python"] = version.ok and _at_least_36(version.text.strip())
        check.notes.append(
            f"{host.python} {shown}"
            if version.ok
            else f"{host.python} not usable: basics will be collected with shell commands"
        )
    if host.postgres is not None:
        psql = _step(
            runner,
            check,
            "psql",
            [*host.postgres.psql, "-X", "-A", "-t", "-d", host.postgres.database, "-c", "SELECT 1"],
        )
        if psql is not None:
            check.results["psql"] = psql.ok and psql.text.strip() == "1"
            if not check.results["psql"]:
                check.notes.append(f"psql: {_last_line(psql.error_text) or 'no answer'}")
    return check


def _step(runner: Runner, check: HostCheck, step: str, argv: list[str]) -> CommandResult | None:
    """Run one check's command; a hang, a flood or a lost connection fails that step."""
    try:
        return runner.run(argv)  # bounded by ssh.command_timeout and ssh.host_timeout
    except RemoteError as exc:
        check.results[step] = False
        check.notes.append(f"{step}: {exc.reason}")
        return None


def clean(text: str, limit: int = 200) -> str:
    """Remote text made safe to print (:func:`~lpsectl.collect.schemas.clean_text`), cut to ``limit``."""
    shown = clean_text(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return clean(lines[-1]) if lines else ""


def _connect(runner: SshRunner, check: HostCheck) -> bool:
    try:
        runner.connect()
    except UnreachableError as exc:
        check.results["reachable"] = False
        check.notes.append(clean(exc.reason))
        return False
    except HostKeyError as exc:
        check.results.update(reachable=True, host_key=False)
        check.notes.append(clean(exc.reason))
        return False
    except AuthenticationError as exc:
        check.results.update(reachable=True, host_key=True, auth=False)
        check.notes.append(clean(exc.reason))
        return False
    except RemoteError as exc:
        check.results["reachable"] = False
        check.notes.append(clean(exc.reason))
        return False
    check.results.update(reachable=True, host_key=True, auth=True)
    return True


def _uses_sudo(host: HostConfig) -> bool:
    return host.postgres is not None and "sudo" in host.postgres.psql[:1]


def _at_least_36(version: str) -> bool:
    try:
        major, minor = (int(x) for x in version.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= (3, 6)
