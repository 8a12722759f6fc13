"""The code base stays ruff- and mypy-clean (settings in pyproject.toml): gates run by
the README's test command, so by CI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_clean():
    beside = Path(sys.executable).parent / "ruff"
    ruff = str(beside) if beside.exists() else (shutil.which("ruff") or "ruff")
    result = subprocess.run(
        [ruff, "check", "lpsectl", "tests", "bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_mypy_clean():
    beside = Path(sys.executable).parent / "mypy"
    mypy = str(beside) if beside.exists() else (shutil.which("mypy") or "mypy")
    result = subprocess.run([mypy], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:]


def test_ruff_formatted():
    beside = Path(sys.executable).parent / "ruff"
    ruff = str(beside) if beside.exists() else (shutil.which("ruff") or "ruff")
    result = subprocess.run(
        [ruff, "format", "--check", "lpsectl", "tests", "bench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (
        "run `ruff format lpsectl tests bench`:\n" + result.stdout[-3000:]
    )
