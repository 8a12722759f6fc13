"""`pip install .` ships the templates, migrations and the probe; `python -m lpsectl` works."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_templates_migrations_and_probe(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("lpsectl-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped_templates = {
        n.split("lpsectl/templates/", 1)[1] for n in names if n.startswith("lpsectl/templates/")
    }
    source_templates = {
        str(p.relative_to(ROOT / "templates")) for p in (ROOT / "templates").rglob("*.j2")
    }
    assert source_templates and source_templates <= shipped_templates
    for migration in (ROOT / "lpsectl" / "migrations").glob("*.sql"):
        assert f"lpsectl/migrations/{migration.name}" in names
    assert "lpsectl/remote/probe.py" in names
    assert "lpsectl/example-config.toml" in names


def test_python_dash_m_runs_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "lpsectl", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "report" in result.stdout and "collect" in result.stdout
