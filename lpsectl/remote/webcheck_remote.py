"""The SPSE web checks as run on a server (``[[checks]] from = "<host>"``).

Shipped like the log summariser: ``python3 - REQUEST_JSON`` with this file on
stdin prints one JSON list, an observation per check. Stdlib only, Python 3.6
(checked with ``vermin --target=3.6-``). It only observes; lpsectl judges
(status expected, text found) and reads the certificate (``der``, base64) on
its own side, the same way for a check run from the lpsectl machine.

Request: ``{"deadline": seconds, "checks": [{"url", "timeout", "expect_text",
"max_bytes", "ca_file"}]}``. Observation: ``{"url", "status", "ttfb_ms", "total_ms",
"bytes", "text_found", "error", "error_kind", "tls": {"der", "verify_error"}}``.
"""

import base64
import json
import signal
import socket
import ssl
import sys
import time

try:
    from http.client import HTTPConnection, HTTPSConnection
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported; say so plainly
    sys.stderr.write("Python 3.6 or newer is needed\n")
    sys.exit(3)

CHUNK = 16 * 1024
MAX_ERROR = 500
USER_AGENT = "lpsectl-check/1"
#: Python 3.7+ names a refused certificate; 3.6 raises CertificateError for a wrong name
VERIFY_ERROR = getattr(ssl, "SSLCertVerificationError", ssl.CertificateError)


def trusting(ca_file):
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def certificate(host, port, timeout, ca_file):
    """The server's leaf certificate (DER, base64) and why the system's trust store
    refuses it, if it does (``verify_error``)."""
    verify_error = None
    der = None
    try:
        context = trusting(ca_file)
        with socket.create_connection((host, port), timeout=timeout) as sock:
            with context.wrap_socket(sock, server_hostname=host) as tls:
                der = tls.getpeercert(binary_form=True)
    except VERIFY_ERROR as exc:
        verify_error = getattr(exc, "verify_message", None) or str(exc)
    except ssl.CertificateError as exc:  # Python 3.6: hostname mismatch
        verify_error = str(exc)
    except ssl.SSLError as exc:
        if "CERTIFICATE_VERIFY_FAILED" not in str(exc):
            return {"der": None, "verify_error": None, "error": "TLS: " + str(exc)}
        verify_error = str(exc)
    except (OSError, ValueError) as exc:
        return {"der": None, "verify_error": None, "error": str(exc)}
    if der is None:
        try:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            with socket.create_connection((host, port), timeout=timeout) as sock:
                with context.wrap_socket(sock, server_hostname=host) as tls:
                    der = tls.getpeercert(binary_form=True)
        except (OSError, ValueError) as exc:
            return {"der": None, "verify_error": verify_error, "error": str(exc)}
    return {
        "der": base64.b64encode(der).decode("ascii") if der else None,
        "verify_error": verify_error,
        "error": None,
    }


def empty_observation(url):
    """An observation before anything is known (lpsectl's local checks start from it too)."""
    return {
        "url": url,
        "status": None,
        "ttfb_ms": None,
        "total_ms": None,
        "bytes": 0,
        "text_found": None,
        "error": None,
        "error_kind": None,
        "tls": None,
    }


def observe(check, deadline):
    url = check["url"]
    timeout = max(0.5, min(float(check.get("timeout") or 10), deadline - time.monotonic()))
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    out = empty_observation(url)
    end = time.monotonic() + timeout
    begin = time.monotonic()
    if hasattr(signal, "setitimer"):
        # the whole check, certificate included, ends at its timeout: a server that
        # trickles its headers a byte at a time never trips a socket timeout
        signal.signal(signal.SIGALRM, _expire)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        if https:
            out["tls"] = certificate(parts.hostname, port, timeout, check.get("ca_file"))
            begin = time.monotonic()
        if https:
            context = trusting(check.get("ca_file"))
            conn = HTTPSConnection(parts.hostname, port, timeout=timeout, context=context)
        else:
            conn = HTTPConnection(parts.hostname, port, timeout=timeout)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        conn.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
        response = conn.getresponse()
        out["ttfb_ms"] = round((time.monotonic() - begin) * 1000, 1)
        out["status"] = response.status
        wanted = (check.get("expect_text") or "").encode("utf-8")
        cap = int(check.get("max_bytes") or 1048576)
        tail = b""
        found = False
        while True:
            if time.monotonic() > end:
                raise CheckTimeout("the page did not finish within the timeout")
            chunk = response.read(CHUNK)[: cap - out["bytes"]]
            if not chunk:
                break
            out["bytes"] += len(chunk)
            if wanted and not found:
                found = wanted in tail + chunk
                tail = (tail + chunk)[-len(wanted) :]
            if out["bytes"] >= cap:
                break
        out["text_found"] = found if wanted else None
        conn.close()
    except (socket.timeout, CheckTimeout) as exc:  # socket.timeout: not TimeoutError before 3.10
        out["error"] = "no complete answer within {:g} s ({})".format(timeout, exc or "timed out")
        out["error_kind"] = "timeout"
    except ssl.SSLError as exc:
        out["error"] = "TLS: " + (getattr(exc, "verify_message", None) or str(exc))
        out["error_kind"] = "tls"
    except ssl.CertificateError as exc:
        out["error"] = "TLS: " + str(exc)
        out["error_kind"] = "tls"
    except (OSError, ValueError) as exc:
        out["error"] = str(exc) or exc.__class__.__name__
        out["error_kind"] = "connect"
    except Exception as exc:  # http.client's own errors (BadStatusLine, ...): the server's fault
        out["error"] = "{}: {}".format(exc.__class__.__name__, exc)
        out["error_kind"] = "http"
    finally:
        if hasattr(signal, "setitimer"):
            signal.setitimer(signal.ITIMER_REAL, 0)
    if out["error"] and len(out["error"]) > MAX_ERROR:
        # http.client repeats a bad status line whole: a server's garbage, cut short
        out["error"] = out["error"][: MAX_ERROR - 1] + "\u2026"
    out["total_ms"] = round((time.monotonic() - begin) * 1000, 1)
    return out


class CheckTimeout(Exception):
    """The check's own deadline passed (its timer, or between two reads)."""


def _expire(signum, frame):
    raise CheckTimeout("the check did not finish within its timeout")


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: python3 - REQUEST_JSON  (the web check on stdin)\n")
        return 2
    request = json.loads(argv[1])
    # each check ends at its own timeout (observe); their sum is the caller's deadline
    deadline = time.monotonic() + float(request.get("deadline") or 60)
    results = [observe(check, deadline) for check in request.get("checks") or []]
    sys.stdout.write(json.dumps(results) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
