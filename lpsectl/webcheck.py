"""SPSE as its users see it (issue 18): the web address checked, the certificate read.

``[[checks]]`` in the config names each address. A check runs from the lpsectl
machine (``from = "local"``, with httpx) or from a configured host over SSH
(``from = "<host>"``, the stdlib script ``lpsectl/remote/webcheck_remote.py``).
Both only *observe* (status, time to first byte, total time, bytes, whether the
expected text was seen, the certificate as DER); :func:`judge` decides up or
down and :func:`certificate_facts` reads the certificate, the same way for both.

Each check's run is bounded by a deadline of its own (``timeout``), enforced
from outside the HTTP client: a server that trickles its headers a byte a
second is given up at the deadline like one that never answers.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import os
import re
import ssl
import stat
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from lpsectl.availability import Window
from lpsectl.config import LOCAL_ADDRESS, Config, HostConfig, SshSettings, _build
from lpsectl.errors import ConfigError, LpsectlError
from lpsectl.remote.runner import COMMAND_NOT_FOUND, Runner
from lpsectl.remote.webcheck_remote import (  # one home for what both sides observe
    certificate,
    empty_observation,
    trusting,
)
from lpsectl.store import Store
from lpsectl.timeutil import isoformat

#: what lpsectl calls itself in the requests (an SPSE's access log can tell its checks apart)
USER_AGENT = "lpsectl-check/1"


@dataclass
class CheckSettings:
    """One ``[[checks]]`` entry."""

    name: str
    url: str
    #: statuses that count as up: "200-399", or a list such as "200,302"
    expect_status: str = "200-399"
    #: a text the page must contain (searched in the first max_bytes of the body)
    expect_text: str = ""
    #: seconds for the whole check: connect, TLS, the answer and its body
    timeout: float = 10.0
    #: minutes between two runs of this check (`lpsectl check` skips it until then)
    interval: float = 5.0
    #: a CA file to trust besides the system's (a private CA of the LPSE's network)
    ca_file: str = ""
    #: bytes of the body read at most
    max_bytes: int = 1024 * 1024
    #: "local", or the name of a [[hosts]] entry to run the check from (the key is `from`)
    run_from: str = field(default=LOCAL_ADDRESS, metadata={"config": False})
    #: filled from expect_status
    statuses: tuple[tuple[int, int], ...] = field(default=(), metadata={"config": False})

    def expects(self, status: int) -> bool:
        return any(low <= status <= high for low, high in self.statuses)


#: seconds one check may take at most; the checks run from one host take their sum
MAX_TIMEOUT = 60.0
#: what the checks of one host may take together (the check job is stopped at 4 minutes)
MAX_HOST_SECONDS = 180.0
#: longest expect_text (it travels on the command line to a host) and longest error kept
MAX_TEXT = 1000
MAX_ERROR = 500
#: local checks running at once: each costs CPU for its TLS contexts and handshakes, and
#: hundreds at once on a small machine would time out for lack of CPU, not of the server
PARALLEL = 8
#: a result that says nothing of the address: the check could not be run at all
UNCHECKED = ("not-run", "bug")

_STATUS_PART = re.compile(r"^\s*([1-5]\d\d)\s*(?:-\s*([1-5]\d\d)\s*)?$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def parse_statuses(text: str, where: str) -> tuple[tuple[int, int], ...]:
    """ "200-399,401" -> ((200, 399), (401, 401)); ConfigError naming ``where`` otherwise."""
    ranges = []
    for part in text.split(","):
        match = _STATUS_PART.match(part)
        if not match:
            raise ConfigError(
                f"{where}: {text!r} is not a list of HTTP statuses or ranges such as 200-399,401"
            )
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if high < low:
            raise ConfigError(f"{where}: the range {part.strip()!r} ends before it starts")
        ranges.append((low, high))
    return tuple(ranges)


def load_checks(config: Config) -> list[CheckSettings]:
    """The ``[[checks]]`` of ``config``, each checked; ConfigError (file, entry, key named)."""
    raw: Any = config.sections.get("checks", [])
    if not isinstance(raw, list):
        raise ConfigError(f"{config.source}: 'checks' must be an array of tables ([[checks]])")
    hosts = {host.name for host in config.hosts}
    checks: list[CheckSettings] = []
    for index, item in enumerate(raw):
        where = f"{config.source}: checks[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where} must be a table")
        item = dict(item)
        run_from = item.pop("from", LOCAL_ADDRESS)
        check = _build(CheckSettings, item, config.source, f"checks[{index}]")
        if not _NAME.match(check.name):
            raise ConfigError(
                f"{where}.name {check.name!r}: letters, digits, '.', '_' and '-', at most 64"
            )
        try:
            parts = urlsplit(check.url)
            port = parts.port  # ValueError for a port out of range or not a number
        except ValueError as exc:
            raise ConfigError(f"{where}.url {check.url!r} is not a valid address ({exc})") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{where}.url {check.url!r} must be an http:// or https:// address")
        if port == 0:
            raise ConfigError(f"{where}.url {check.url!r}: port 0 is no port")
        if parts.username is not None or parts.password is not None:
            raise ConfigError(
                f"{where}.url must not hold a user or password: the address is stored and shown "
                "in the reports (check a page that needs no login, e.g. /eproc4)"
            )
        if len(check.expect_text) > MAX_TEXT:
            raise ConfigError(f"{where}.expect_text must be at most {MAX_TEXT} characters")
        if re.search(r"[\x00-\x20]", check.url):
            raise ConfigError(f"{where}.url must not contain spaces or control characters")
        if not isinstance(run_from, str) or (run_from != LOCAL_ADDRESS and run_from not in hosts):
            raise ConfigError(
                f'{where}.from {run_from!r} must be "local" or the name of a [[hosts]] entry'
            )
        if not 0 < check.timeout <= 300:
            raise ConfigError(f"{where}.timeout must be within 0..300 seconds")
        if not 0 < check.interval <= 24 * 60:
            raise ConfigError(f"{where}.interval must be within 0..1440 minutes")
        if check.max_bytes < 1:
            raise ConfigError(f"{where}.max_bytes must be positive")
        if check.ca_file and run_from == LOCAL_ADDRESS:
            try:
                if not stat.S_ISREG(os.stat(check.ca_file).st_mode):  # a FIFO would hang
                    raise ConfigError(f"{where}.ca_file {check.ca_file} is not a regular file")
                ssl.create_default_context().load_verify_locations(cafile=check.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(
                    f"{where}.ca_file {check.ca_file}: not a CA file lpsectl can read ({exc})"
                ) from exc
        if check.timeout > MAX_TIMEOUT:
            raise ConfigError(
                f"{where}.timeout must be at most {MAX_TIMEOUT:g} s (the check job runs every "
                "5 minutes and must finish in time)"
            )
        check.statuses = parse_statuses(check.expect_status, f"{where}.expect_status")
        check.run_from = run_from
        if any(other.name == check.name for other in checks):
            raise ConfigError(f"{where}.name {check.name!r} is used twice in [[checks]]")
        checks.append(check)
    for host in {c.run_from for c in checks} - {LOCAL_ADDRESS}:
        total = sum(c.timeout for c in checks if c.run_from == host)
        if total > MAX_HOST_SECONDS:
            raise ConfigError(
                f"{config.source}: the [[checks]] from {host} take up to {total:g} s together "
                f"(one after the other); at most {MAX_HOST_SECONDS:g} s fit in a run of the "
                "check job: shorten their timeouts"
            )
    return checks


# -- observing ---------------------------------------------------------------------------


def observe_local(check: CheckSettings, stop: threading.Event) -> dict[str, Any]:
    """What the address answers from this machine (httpx). Never raises for the
    server's faults: they are the observation's ``error``."""
    import httpx  # here: most commands never check a web address

    out = empty_observation(check.url)
    parts = urlsplit(check.url)
    https = parts.scheme == "https"
    end = time.monotonic() + check.timeout
    if https:
        port = parts.port or 443
        out["tls"] = certificate(parts.hostname or "", port, check.timeout, check.ca_file)
    begin = time.monotonic()
    try:
        left = max(0.1, end - time.monotonic())
        verify: ssl.SSLContext | bool = trusting(check.ca_file) if https else True
        with httpx.Client(
            verify=verify,
            timeout=httpx.Timeout(left),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
            trust_env=False,
        ) as client:
            with client.stream("GET", check.url) as response:
                out["ttfb_ms"] = round((time.monotonic() - begin) * 1000, 1)
                out["status"] = response.status_code
                wanted = check.expect_text.encode("utf-8")
                tail = b""
                found = False
                for chunk in response.iter_raw(16 * 1024):
                    if stop.is_set() or time.monotonic() > end:
                        raise TimeoutError("the page did not finish within the timeout")
                    chunk = chunk[: check.max_bytes - out["bytes"]]
                    out["bytes"] += len(chunk)
                    if wanted and not found:
                        found = wanted in tail + chunk
                        tail = (tail + chunk)[-len(wanted) :]
                    if out["bytes"] >= check.max_bytes:
                        break
                out["text_found"] = found if wanted else None
    except (httpx.TimeoutException, TimeoutError) as exc:
        out["error"] = f"no complete answer within {check.timeout:g} s ({exc or 'timed out'})"
        out["error_kind"] = "timeout"
    except httpx.ConnectError as exc:
        text = str(exc)
        tls = "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text
        out["error"] = ("TLS: " if tls else "") + (text or type(exc).__name__)
        out["error_kind"] = "tls" if tls else "connect"
    except httpx.HTTPError as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["error_kind"] = "http"
    except (OSError, ValueError) as exc:
        out["error"] = str(exc) or type(exc).__name__
        out["error_kind"] = "connect"
    out["total_ms"] = round((time.monotonic() - begin) * 1000, 1)
    return out


# -- judging ------------------------------------------------------------------------------


def certificate_facts(tls: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
    """Pure: the certificate an observation carries, read with ``cryptography``:
    ``{"days_left", "expires_at", "issuer", "subject", "names", "error"}`` where
    ``error`` is why a browser would refuse it (the verifier's words), else None."""
    if not tls or (not tls.get("der") and not tls.get("verify_error")):
        return None  # no TLS handshake at all: the check's own error says why
    facts: dict[str, Any] = {
        "days_left": None,
        "expires_at": None,
        "issuer": None,
        "subject": None,
        "names": [],
        "error": tls.get("verify_error") or tls.get("error"),
    }
    der = tls.get("der")
    if not der:
        return facts
    from cryptography import x509  # here: only checks of https addresses read certificates

    try:
        cert = x509.load_der_x509_certificate(base64.b64decode(der))
        expires = cert.not_valid_after_utc
        facts["expires_at"] = expires.isoformat()
        facts["days_left"] = round((expires - now.astimezone(UTC)).total_seconds() / 86400, 2)
        facts["issuer"] = cert.issuer.rfc4514_string()
        facts["subject"] = cert.subject.rfc4514_string()
        try:
            names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            facts["names"] = names.value.get_values_for_type(x509.DNSName)
        except x509.ExtensionNotFound:
            pass
    except Exception as exc:  # noqa: BLE001 - whatever a server sends: its certificate's fault
        # a malformed name list, a duplicate extension, an unknown name type: browsers
        # refuse such a certificate too
        facts["error"] = facts["error"] or f"the certificate cannot be read: {exc}"
    return facts


def judge(check: CheckSettings, observation: dict[str, Any]) -> tuple[bool, str | None]:
    """Pure: (up, the reason it is down). Down when nothing complete came back, the
    status is not one expected, or the expected text is missing."""
    if observation.get("error"):
        return False, str(observation["error"])
    status = observation.get("status")
    if not isinstance(status, int):
        return False, "no HTTP status"
    if not check.expects(status):
        return False, f"HTTP {status} (expected {check.expect_status})"
    if check.expect_text and not observation.get("text_found"):
        return False, f"the page does not contain {check.expect_text!r}"
    return True, None


@dataclass
class CheckResult:
    """One run of one check, as stored in ``web_checks``."""

    name: str
    url: str
    source: str
    checked_at: datetime
    up: bool
    status: int | None = None
    ttfb_ms: float | None = None
    total_ms: float | None = None
    bytes: int = 0
    error: str | None = None
    error_kind: str | None = None
    certificate: dict[str, Any] | None = None

    def row(self) -> dict[str, Any]:
        cert = self.certificate or {}
        return {
            "name": self.name,
            "url": self.url,
            "source": self.source,
            "checked_at": isoformat(self.checked_at),
            "day": self.checked_at.date().isoformat(),
            "up": int(self.up),
            "status": self.status,
            "ttfb_ms": self.ttfb_ms,
            "total_ms": self.total_ms,
            "bytes": self.bytes,
            "error": self.error,
            "error_kind": self.error_kind,
            "cert_days_left": cert.get("days_left"),
            "cert_expires_at": cert.get("expires_at"),
            "cert_issuer": cert.get("issuer"),
            "cert_error": cert.get("error"),
        }


#: the shape of an observation, checked when it comes back from a host
OBSERVATION = {
    "type": "object",
    "required": ["url", "status", "ttfb_ms", "total_ms", "bytes", "error"],
    "properties": {
        "url": {"type": "string"},
        "status": {"type": ["integer", "null"], "minimum": 100, "maximum": 999},
        "ttfb_ms": {"type": ["number", "null"], "minimum": 0},
        "total_ms": {"type": ["number", "null"], "minimum": 0},
        "bytes": {"type": "integer", "minimum": 0},
        "text_found": {"type": ["boolean", "null"]},
        "error": {"type": ["string", "null"], "maxLength": 2000},
        "error_kind": {"type": ["string", "null"], "maxLength": 20},
        "tls": {
            "type": ["object", "null"],
            "properties": {
                "der": {"type": ["string", "null"], "maxLength": 65536},
                "verify_error": {"type": ["string", "null"], "maxLength": 2000},
                "error": {"type": ["string", "null"], "maxLength": 2000},
            },
        },
    },
}


def result_of(check: CheckSettings, observation: dict[str, Any], at: datetime) -> CheckResult:
    """Pure: the stored result of one observation."""
    up, reason = judge(check, observation)
    if reason and len(reason) > MAX_ERROR:
        reason = reason[: MAX_ERROR - 1] + "…"
    certificate = certificate_facts(observation.get("tls"), at)
    kind = observation.get("error_kind") or (None if up else "content")
    if up and certificate and certificate.get("error"):
        # the page answered, but a browser refuses it: down for the users
        up, reason, kind = False, f"TLS: {certificate['error']}", "tls"
    return CheckResult(
        name=check.name,
        url=check.url,
        source=check.run_from,
        checked_at=at,
        up=up,
        status=observation.get("status"),
        ttfb_ms=observation.get("ttfb_ms"),
        total_ms=observation.get("total_ms"),
        bytes=int(observation.get("bytes") or 0),
        error=reason,
        error_kind=kind,
        certificate=certificate,
    )


def failed_result(check: CheckSettings, at: datetime, reason: str, kind: str) -> CheckResult:
    """A check that could not be run at all (its host unreachable, the probe refused)."""
    return CheckResult(
        check.name, check.url, check.run_from, at, False, error=reason, error_kind=kind
    )


# -- running ------------------------------------------------------------------------------


def run_bounded(
    checks: list[CheckSettings],
    observe: Callable[[CheckSettings, threading.Event], dict[str, Any]],
    now: Callable[[], datetime],
    grace: float = 2.0,
) -> list[CheckResult]:
    """Run ``observe`` for every check in a thread of its own, each given up at its
    ``timeout`` (+ ``grace``) whatever the HTTP client does: a check still running
    then is a timeout, and its thread (a daemon) ends with the process."""
    found: dict[str, tuple[datetime, dict[str, Any] | Exception]] = {}
    stop = threading.Event()
    threads = []

    def one(check: CheckSettings) -> None:
        at = now()
        try:
            found[check.name] = (at, observe(check, stop))
        except Exception as exc:  # noqa: BLE001 - one check's bug must not stop the others
            found[check.name] = (at, exc)

    started = now()
    waiting = list(checks)
    running: list[tuple[CheckSettings, threading.Thread, float]] = []
    while waiting or running:
        while waiting and len(running) < PARALLEL:
            check = waiting.pop(0)
            thread = threading.Thread(
                target=one, args=(check,), daemon=True, name=f"check-{check.name}"
            )
            thread.start()
            running.append((check, thread, time.monotonic() + check.timeout + grace))
        # the first to end or to pass its deadline frees a place (a wait of at most 0.2 s
        # keeps Ctrl-C prompt); a check given up leaves its thread to end by itself
        check, thread, end = min(running, key=lambda item: item[2])
        for item in list(running):
            if not item[1].is_alive():
                running.remove(item)
                threads.append(item)
        if (check, thread, end) in running:
            thread.join(min(0.2, max(0.0, end - time.monotonic())))
            if not thread.is_alive() or time.monotonic() >= end:
                running.remove((check, thread, end))
                threads.append((check, thread, end))
    results = []
    order = {c.name: i for i, c in enumerate(checks)}
    for check, thread, _end in sorted(threads, key=lambda item: order[item[0].name]):
        if thread.is_alive() or check.name not in found:
            results.append(
                failed_result(
                    check,
                    started,
                    f"no complete answer within {check.timeout:g} s (given up)",
                    "timeout",
                )
            )
            continue
        at, value = found[check.name]
        if not isinstance(value, Exception):
            try:
                results.append(result_of(check, value, at))
                continue
            except Exception as exc:  # noqa: BLE001 - one check's bug must not stop the others
                value = exc
        if isinstance(value, Exception):
            results.append(
                failed_result(
                    check,
                    at,
                    f"lpsectl's web check failed ({type(value).__name__}: {value}); please report it",
                    "bug",
                )
            )
    stop.set()
    return results


def remote_script() -> bytes:
    """The check as shipped to a host (``python3 - REQUEST_JSON`` reads it on stdin)."""
    return (resources.files("lpsectl.remote") / "webcheck_remote.py").read_bytes()


def remote_request(checks: Iterable[CheckSettings], deadline: float) -> str:
    return json.dumps(
        {
            "deadline": deadline,
            "checks": [
                {
                    "url": c.url,
                    "timeout": c.timeout,
                    "expect_text": c.expect_text,
                    "max_bytes": c.max_bytes,
                    "ca_file": c.ca_file,
                }
                for c in checks
            ],
        }
    )


def run_remote(
    host: HostConfig,
    ssh: SshSettings,
    checks: list[CheckSettings],
    now: Callable[[], datetime],
) -> list[CheckResult]:
    """The checks of one host, run there by the stdlib script over SSH (one session).
    The host unreachable or the script refused: every check of the host fails with that
    reason (the address may be fine: the reason says it was not checked)."""
    from lpsectl.collect.schemas import BadAnswer, loads_answer, problem
    from lpsectl.remote.fanout import on_hosts
    from lpsectl.remote.ship import script_command

    deadline = sum(c.timeout for c in checks) + 5.0

    def task(runner: Runner) -> list[dict[str, Any]]:
        python = runner.host.python or "python3"
        argv, script = script_command(python, remote_script(), remote_request(checks, deadline))
        result = runner.run(argv, stdin=script, timeout=deadline + 5.0)
        if result.returncode == COMMAND_NOT_FOUND:
            raise CheckNotRun(f"{python} is not installed on {host.name}")
        if not result.ok:
            last = (result.error_text.splitlines() or ["no message"])[-1]
            raise CheckNotRun(f"the web check failed on {host.name}: {last}")
        try:
            answer = loads_answer(result.text)
        except BadAnswer as exc:
            raise CheckNotRun(f"the web check's answer on {host.name} was refused: {exc}") from exc
        if not isinstance(answer, list) or len(answer) != len(checks):
            raise CheckNotRun(
                f"the web check's answer on {host.name} was refused: not one per check"
            )
        return answer

    at = now()
    bounded = dataclasses.replace(ssh, host_timeout=min(ssh.host_timeout, deadline + 30))
    [outcome] = on_hosts([host], bounded, task)
    if outcome.value is None:
        reason = f"not checked from {host.name}: {outcome.error}"
        return [failed_result(c, at, reason, "not-run") for c in checks]
    results = []
    for check, observation in zip(checks, outcome.value, strict=True):
        shape = problem(observation, OBSERVATION)
        if shape is not None:  # this check's answer only: the others stand
            reason = f"the web check's answer on {host.name} was refused: {shape[:200]}"
            results.append(failed_result(check, at, reason, "not-run"))
            continue
        try:
            results.append(result_of(check, observation, at))
        except Exception as exc:  # noqa: BLE001 - one check's bug must not stop the others
            reason = f"lpsectl's web check failed ({type(exc).__name__}: {exc}); please report it"
            results.append(failed_result(check, at, reason, "bug"))
    return results


class CheckNotRun(LpsectlError):
    """The host of a check could not run it (python3 missing, the answer refused)."""


def run_checks(
    config: Config, checks: list[CheckSettings], now: Callable[[], datetime]
) -> list[CheckResult]:
    """Every check of ``checks``: the local ones in parallel threads, those of each host
    over one SSH session per host (hosts in parallel too); results in ``checks`` order."""
    local = [c for c in checks if c.run_from == LOCAL_ADDRESS]
    by_host: dict[str, list[CheckSettings]] = {}
    for check in checks:
        if check.run_from != LOCAL_ADDRESS:
            by_host.setdefault(check.run_from, []).append(check)
    results: dict[str, CheckResult] = {}
    threads = []
    for name, host_checks in by_host.items():
        host = config.host(name)

        def one(host: HostConfig = host, host_checks: list[CheckSettings] = host_checks) -> None:
            for result in run_remote(host, config.ssh, host_checks, now):
                results[result.name] = result

        thread = threading.Thread(target=one, daemon=True, name=f"checks-{name}")
        thread.start()
        threads.append(thread)
    for result in run_bounded(local, observe_local, now):
        results[result.name] = result
    for thread in threads:
        while thread.is_alive():
            thread.join(0.2)  # short waits: Ctrl-C and SIGTERM are seen at once
    at = now()
    return [
        results.get(c.name)
        or failed_result(c, at, "lpsectl's web check gave no result; please report it", "bug")
        for c in checks
    ]


# -- the history of the checks -----------------------------------------------------------------


def save_results(store: Store, results: list[CheckResult]) -> None:
    with store.transaction():
        for result in results:
            store.insert("web_checks", result.row())


def due(store: Store, checks: list[CheckSettings], now: datetime) -> list[CheckSettings]:
    """The checks whose last run is at least their ``interval`` ago (30 s of slack: a
    cron run a little early still runs the check every 5 minutes)."""
    out = []
    for check in checks:
        row = store.query_one(
            "SELECT checked_at FROM web_checks WHERE name = ? ORDER BY id DESC LIMIT 1",
            [check.name],
        )
        if row is None:
            out.append(check)
            continue
        try:
            last = datetime.fromisoformat(str(row["checked_at"]))
        except ValueError:
            out.append(check)
            continue
        if last.tzinfo is None or last > now:
            out.append(check)  # a damaged row, or one stored with the clock ahead: due now
            continue
        if (now - last).total_seconds() >= check.interval * 60 - 30:
            out.append(check)
    return out


def results_between(
    store: Store, start: datetime, end: datetime, names: list[str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """name -> its results with ``start <= checked_at < end`` (local days padded by one:
    the stored day is the LPSE's), oldest first; ``checked_at`` as an aware datetime."""
    first = (start - timedelta(days=1)).date().isoformat()
    last = (end + timedelta(days=1)).date().isoformat()
    found: dict[str, list[dict[str, Any]]] = {}
    for row in store.iterate(
        "SELECT * FROM web_checks WHERE day >= ? AND day <= ? ORDER BY id", [first, last]
    ):
        if names is not None and row["name"] not in names:
            continue
        try:
            at = datetime.fromisoformat(row["checked_at"])
        except ValueError:
            continue
        if at.tzinfo is None or not start <= at < end:
            continue
        if not _numbers_fit(row):
            continue  # a row edited by hand: not data (the check's other rows still count)
        row["checked_at"] = at.astimezone(start.tzinfo)  # shown in the LPSE's zone (WIB...)
        row["up"] = bool(row["up"])
        found.setdefault(row["name"], []).append(row)
    for rows in found.values():
        rows.sort(key=lambda r: r["checked_at"])
    return found


def _numbers_fit(row: dict[str, Any]) -> bool:
    for key in ("ttfb_ms", "total_ms", "cert_days_left", "bytes", "status"):
        value = row.get(key)
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or abs(value) > 1e12
        ):
            return False
    return row.get("up") in (0, 1, True, False)


def maintenance_windows(store: Store, start: datetime, end: datetime) -> list[Window]:
    """The maintenance windows lpsectl announced (SOP 000: announced, started or completed;
    not one only scheduled, nor a cancelled one) that overlap ``start`` .. ``end``: the
    planned downtime of the SPSE address."""
    if not store.has_table("maintenance_windows"):
        return []
    windows = []
    from lpsectl.maintenance import ANNOUNCED, COMPLETED, STARTED

    for row in store.query(
        "SELECT uid, start_at, end_at, reason FROM maintenance_windows WHERE status IN (?, ?, ?)",
        [ANNOUNCED, STARTED, COMPLETED],
    ):
        try:
            begin = datetime.fromisoformat(row["start_at"])
            finish = datetime.fromisoformat(row["end_at"])
        except (TypeError, ValueError):
            continue
        if begin.tzinfo is None or finish.tzinfo is None:
            continue
        if begin < end and finish > start:
            windows.append(Window(begin, finish, f"{row['uid']}: {row['reason']}"))
    return windows


def latest_results(store: Store, name: str, tz: Any, limit: int = 50) -> list[dict[str, Any]]:
    """The newest ``limit`` results of one check, oldest first, however old (the live
    alerts judge the newest state, not a day's)."""
    rows = []
    for row in store.query(
        "SELECT * FROM web_checks WHERE name = ? ORDER BY id DESC LIMIT ?", [name, limit]
    ):
        try:
            at = datetime.fromisoformat(str(row["checked_at"]))
        except ValueError:
            continue
        if at.tzinfo is None or not _numbers_fit(row):
            continue
        row["checked_at"] = at.astimezone(tz)
        row["up"] = bool(row["up"])
        rows.append(row)
    rows.reverse()
    return rows
