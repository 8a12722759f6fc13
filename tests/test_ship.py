"""Scripts sent to a host's Python compressed: what crosses the wire, and that the
host's Python runs them as `python3 - ARGS` would (real interpreters, no mocks)."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib

import pytest

from lpsectl.collect.system import PROBE_SOURCE
from lpsectl.logs.summary import remote_script
from lpsectl.remote.ship import script_command
from lpsectl.webcheck import remote_script as webcheck_script


@pytest.mark.parametrize(
    "name, source, at_most",
    [
        ("summariser", remote_script(), 0.35),
        ("probe", PROBE_SOURCE, 0.4),
        ("web check", webcheck_script(), 0.45),
    ],
)
def test_each_script_crosses_the_wire_compressed(name, source, at_most):
    argv, stdin = script_command("python3", source, "{}")
    assert zlib.decompress(stdin) == source
    sent = len(stdin) + sum(len(a) for a in argv)
    assert sent < at_most * len(source), (name, len(source), sent)


def test_the_bootstrap_runs_a_script_as_main_with_its_arguments(tmp_path):
    source = b"import sys\nprint(repr((__name__, sys.argv)))\n"
    argv, stdin = script_command(sys.executable, source, "A B", '{"x": 1}')
    out = subprocess.run(argv, input=stdin, capture_output=True, check=True).stdout
    assert out.decode().strip() == repr(("__main__", ["-", "A B", '{"x": 1}']))


def test_the_summariser_answers_the_same_sent_compressed(tmp_path):
    log = tmp_path / "postgresql.log"
    log.write_text(
        "2026-12-01 08:00:00.000 UTC [1] spse@epns LOG:  duration: 1.500 ms  statement: SELECT 1\n"
        "2026-12-01 08:00:01.000 UTC [1] spse@epns ERROR:  division by zero\n"
    )
    request = json.dumps(
        {
            "files": [{"path": str(log), "format": "stderr", "prefix": "%m [%p] %q%u@%d "}],
            "cursors": {},
            "quiet_seconds": 0,
        }
    )
    plain = subprocess.run(
        [sys.executable, "-", request], input=remote_script(), capture_output=True, check=True
    ).stdout
    argv, stdin = script_command(sys.executable, remote_script(), request)
    shipped = subprocess.run(argv, input=stdin, capture_output=True, check=True).stdout
    assert json.loads(shipped)["files"] == json.loads(plain)["files"]
    assert json.loads(shipped)["files"][str(log)]["summary"]["query_count"] == 1
