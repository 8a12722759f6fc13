"""Code that runs on the servers must run on Python 3.6 (CentOS 7, Ubuntu 18.04)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import lpsectl

SERVER_SIDE = [Path(lpsectl.__file__).parent / "remote" / "probe.py"]
SERVER_SIDE += sorted((Path(lpsectl.__file__).parent / "remote").glob("*remote*.py"))
SERVER_SIDE += sorted((Path(lpsectl.__file__).parent / "logs").glob("*remote*.py"))


def vermin_executable() -> str:
    beside = Path(sys.executable).parent / "vermin"
    return str(beside) if beside.exists() else (shutil.which("vermin") or "vermin")


def test_server_side_code_targets_python_36():
    result = subprocess.run(
        [vermin_executable(), "--target=3.6-", "--no-tips", "--violations", *map(str, SERVER_SIDE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_probe_uses_only_the_standard_library_besides_optional_psutil():
    source = SERVER_SIDE[0].read_text()
    imports = {
        line.split()[1].split(".")[0]
        for line in source.splitlines()
        if line.startswith(("import ", "from "))
    }
    allowed = set(sys.stdlib_module_names)
    assert imports <= allowed
    assert "import psutil" in source and "except Exception" in source


def test_the_bootstrap_that_reads_a_shipped_script_targets_python_36(tmp_path):
    from lpsectl.remote.ship import BOOTSTRAP

    bootstrap = tmp_path / "bootstrap.py"
    bootstrap.write_text(BOOTSTRAP + "\n")
    result = subprocess.run(
        [vermin_executable(), "--target=3.6-", "--no-tips", "--violations", str(bootstrap)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
