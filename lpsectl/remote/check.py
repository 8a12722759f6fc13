"""`hosts check`: can lpsectl do its work on each host? Each step answered separately."""

from __future__ import annotations

from dataclasses import dataclass, field

from lpsectl.config import HostConfig, SshSettings
from lpsectl.errors import AuthenticationError, HostKeyError, RemoteError, UnreachableError
from lpsectl.remote.fanout import on_hosts
from lpsectl.remote.runner import Runner, SshRunner, make_runner

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
        return all(v is not False for v in self.results.values())


def check_hosts(hosts: list[HostConfig], ssh: SshSettings) -> list[HostCheck]:
    outcomes = on_hosts(hosts, ssh, check_one, runner_factory=make_runner)
    checks = []
    for outcome in outcomes:
        if outcome.value is not None:
            checks.append(outcome.value)
        else:
            failed = HostCheck(outcome.host.name, outcome.host.address)
            failed.notes.append(outcome.error or "unknown failure")
            checks.append(failed)
    return checks


def check_one(runner: Runner) -> HostCheck:
    host = runner.host
    check = HostCheck(host.name, host.address)
    if isinstance(runner, SshRunner):
        if not _connect(runner, check):
            return check
    else:
        check.results["reachable"] = True  # this machine: no SSH, so no host key or login to check
    sudo = runner.run(["sudo", "-n", "true"])
    check.results["sudo"] = sudo.ok
    if not sudo.ok:
        check.notes.append(f"sudo -n refused ({sudo.error_text.splitlines()[-1] if sudo.error_text else sudo.returncode}); only needed if a psql argv uses sudo")
        if not _uses_sudo(host):
            check.results["sudo"] = None
    version = runner.run([host.python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
    check.results["python"] = version.ok and _at_least_36(version.text.strip())
    check.notes.append(
        f"{host.python} {version.text.strip()}" if version.ok
        else f"{host.python} not usable: basics will be collected with shell commands"
    )
    if host.postgres is not None:
        psql = runner.run([*host.postgres.psql, "-X", "-A", "-t", "-d", host.postgres.database, "-c", "SELECT 1"])
        check.results["psql"] = psql.ok and psql.text.strip() == "1"
        if not check.results["psql"]:
            check.notes.append(f"psql: {psql.error_text.splitlines()[-1] if psql.error_text else 'no answer'}")
    return check


def _connect(runner: SshRunner, check: HostCheck) -> bool:
    try:
        runner.connect()
    except UnreachableError as exc:
        check.results["reachable"] = False
        check.notes.append(exc.reason)
        return False
    except HostKeyError as exc:
        check.results.update(reachable=True, host_key=False)
        check.notes.append(exc.reason)
        return False
    except AuthenticationError as exc:
        check.results.update(reachable=True, host_key=True, auth=False)
        check.notes.append(exc.reason)
        return False
    except RemoteError as exc:
        check.results["reachable"] = False
        check.notes.append(exc.reason)
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
