"""Shared fixtures. Real parts live in tests/fixtures/ (sshd, postgres, smtp).

Tests are marked from the fixtures they use: ``sshd``, ``postgres``, ``smtp``,
and ``root`` for those that need root for another reason (device nodes,
mounts, files owned by other users: marked by hand), each also ``services``.
So ``pytest -m "not services"`` runs anywhere, as any user, with no server.
"""

from __future__ import annotations

import pytest

pytest_plugins = [
    "tests.fixtures.common",
    "tests.fixtures.sshd",
    "tests.fixtures.postgres",
    "tests.fixtures.smtp",
    "tests.fixtures.web",
]


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path, monkeypatch):
    """No test reads the developer's own config, data dir or ssh settings."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv("LPSECTL_CONFIG", raising=False)


#: fixture → the marker of the real part it starts
SERVICE_FIXTURES = {
    "sshd_factory": "sshd",
    "pg_cluster": "postgres",
    "pg_cluster_factory": "postgres",
    "history_url": "postgres",
    "smtp_server": "smtp",
    "smtp_tls_server": "smtp",
    "scripted_smtp": "smtp",
    "trickling_smtp": "smtp",
    "dropping_smtp": "smtp",
    "web_servers": "web",
}
SERVICE_MARKERS = ("sshd", "postgres", "smtp", "web", "root")


def pytest_collection_modifyitems(config, items):
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        kinds = {kind for fixture, kind in SERVICE_FIXTURES.items() if fixture in names}
        kinds |= {mark.name for mark in item.iter_markers() if mark.name in SERVICE_MARKERS}
        for kind in sorted(kinds):
            item.add_marker(kind)
        if kinds:
            item.add_marker("services")
