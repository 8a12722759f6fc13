"""Shared fixtures. Real parts live in tests/fixtures/ (sshd, postgres, smtp)."""

from __future__ import annotations

import pytest

pytest_plugins = [
    "tests.fixtures.common",
    "tests.fixtures.sshd",
    "tests.fixtures.postgres",
    "tests.fixtures.smtp",
]


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path, monkeypatch):
    """No test reads the developer's own config, data dir or ssh settings."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv("LPSECTL_CONFIG", raising=False)
