"""`lpsectl logs summarize` end to end, and the server-side script as it is shipped."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from lpsectl.logs.summary import remote_script

DATA = Path(__file__).parent / "data"
REMOTE = Path(__file__).parent.parent / "lpsectl" / "logs" / "summarize_remote.py"


def test_summarize_text_without_any_config(cli, tmp_path):
    result = cli("logs", "summarize", str(DATA / "pg" / "postgresql.log"))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "stderr log, 479 lines" in out
    assert "Queries with a duration: 387" in out
    assert "update pgbench_accounts set abalance = abalance + ? wh" in out
    assert 'duplicate key value violates unique constraint "..."' in out
    assert "Deadlocks: 1  Lock waits: 1  Temp files: 6" in out
    assert not (tmp_path / "xdg-data" / "lpsectl").exists()  # no store was opened


def test_summarize_json_fields(cli):
    result = cli("logs", "summarize", "--format", "json", str(DATA / "pg" / "postgresql.csv"))
    assert result.exit_code == 0, result.stderr
    data = result.json()
    for key in (
        "format",
        "lines",
        "bytes",
        "start",
        "end",
        "queries",
        "errors",
        "deadlocks",
        "lock_waits",
        "temp_files",
        "checkpoints",
        "connections",
        "unparsed",
    ):
        assert key in data
    assert data["format"] == "csvlog"
    query = data["queries"][0]
    assert set(query) == {
        "fingerprint",
        "count",
        "total_ms",
        "mean_ms",
        "max_ms",
        "p95_ms",
        "histogram",
        "example",
    }
    counts = [q["count"] for q in data["queries"]]
    assert counts == sorted(counts, reverse=True)
    error = data["errors"][0]
    assert set(error) == {"severity", "signature", "count", "example", "first", "last"}
    assert error["first"].endswith("+00:00")


def test_summarize_spse_with_options_and_output_file(cli, tmp_path):
    out = tmp_path / "spse.json"
    result = cli(
        "logs",
        "summarize",
        "--format-log",
        "spse",
        "--top",
        "3",
        "--format",
        "json",
        "-o",
        str(out),
        str(DATA / "spse-application.log"),
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(out.read_text())
    assert len(data["errors"]) == 3 and len(data["exceptions"]) == 3
    assert data["exceptions"][0] == {"class": "java.lang.NullPointerException", "count": 133}
    assert data["truncated"]["errors"] > 0


def test_summarize_with_explicit_prefix(cli):
    result = cli(
        "logs",
        "summarize",
        "--prefix",
        "%m [%p] %q%u@%d ",
        "--format",
        "json",
        str(DATA / "pg" / "postgresql.log"),
    )
    assert result.exit_code == 0 and result.json()["query_count"] == 387


def test_missing_file_is_a_usage_error(cli, tmp_path):
    result = cli("logs", "summarize", str(tmp_path / "nope.log"))
    assert result.exit_code == 2
    assert "nope.log: no such log file" in result.stderr


def test_mixed_formats_are_refused(cli):
    result = cli(
        "logs",
        "summarize",
        str(DATA / "pg" / "postgresql.json"),
        str(DATA / "spse-application.log"),
    )
    assert result.exit_code == 2
    assert (
        "different log formats" in result.stderr and "spse-application.log is spse" in result.stderr
    )


def test_help_teaches_with_examples(cli):
    result = cli("logs", "summarize", "--help")
    assert result.exit_code == 0
    assert (
        "Examples:" in result.stdout
        and "--format-log" in result.stdout
        and "--prefix" in result.stdout
    )


def test_server_module_is_python_3_6_compatible():
    vermin = shutil.which("vermin") or str(Path(sys.executable).parent / "vermin")
    proc = subprocess.run(
        [vermin, "--target=3.6-", "--no-tips", "--violations", str(REMOTE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_shipped_script_runs_as_python_dash_with_json_argument(tmp_path):
    """Exactly what collect does on a server: the script on stdin, the request as argv[2]."""
    log = tmp_path / "pg.log"
    shutil.copyfile(DATA / "pg" / "postgresql.log", log)
    request = {
        "files": [{"path": str(log)}, {"path": str(tmp_path / "gone.log")}],
        "cursors": {},
        "quiet_seconds": 0,
    }
    proc = subprocess.run(
        ["/usr/bin/python3", "-", json.dumps(request)],
        input=remote_script(),
        capture_output=True,
        check=True,
    )
    answer = json.loads(proc.stdout)
    item = answer["files"][str(log)]
    assert item["summary"]["query_count"] == 387 and item["error"] is None
    assert item["cursor"]["offset"] == log.stat().st_size
    assert (
        "gone.log: No such file or directory"
        in answer["files"][str(tmp_path / "gone.log")]["error"]
    )
