"""Every layer imports: a smoke check that the package layout of ARCHITECTURE.md installs."""

import importlib

import pytest


@pytest.mark.parametrize(
    "module",
    ["seatkeeper.rules.engine", "seatkeeper.storage", "seatkeeper.plugins.memory"],
)
def test_layer_imports(module):
    assert importlib.import_module(module).__name__ == module


def test_test_helpers_import_without_any_folder_on_sys_path(tmp_path):
    """Issue 10, item 6: under --import-mode=importlib, test modules and their helpers
    (`tests.rules.rules_support`, `tests.api.api_support`, …; one module of each folder that has
    helpers) import with neither the repository nor a test folder on sys.path (pytest's
    `pythonpath` setting emptied)."""
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[1])
    modules = [
        f"{root}/tests/{module}"
        for module in (
            "rules/test_spec_4_sync.py",
            "api/test_viewer.py",
            "cli/test_cli_admin.py",
            "console/test_console_routes.py",
            "plugins/test_sqlite_api.py",
            "storage/test_multiprocess_kit.py",
        )
    ]
    script = (
        "import sys, pytest\n"
        f"root = {root!r}\n"
        "sys.path[:] = [p for p in sys.path if p not in ('', root)]\n"
        "code = pytest.main(['-o', 'pythonpath=', '-p', 'no:cacheprovider', '--collect-only',"
        f" '-q', *{modules!r}])\n"
        "assert root not in sys.path and root + '/tests' not in sys.path, sys.path\n"
        "sys.exit(int(code))\n"
    )
    result = subprocess.run(  # noqa: PLW1510 - the return code is asserted with the output
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert " collected" in summary and "error" not in summary, summary
