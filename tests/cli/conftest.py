"""Command-line fixtures: one real server per test module, and a private HOME for every test."""

from __future__ import annotations

import pytest

from tests.cli.cli_support import Served, serving


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Served:
    with serving(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture
def url(served: Served) -> str:
    return served.url


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    """No test reads or writes the real ~/.config/seatkeeper; SEATKEEPER_* never leak in."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for name in [n for n in __import__("os").environ if n.startswith("SEATKEEPER_")]:
        monkeypatch.delenv(name)
    return home
