"""Every layer imports: a smoke check that the package layout of ARCHITECTURE.md installs."""

import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    ["seatkeeper.rules.engine", "seatkeeper.storage", "seatkeeper.plugins.memory"],
)
def test_layer_imports(module):
    assert importlib.import_module(module).__name__ == module
