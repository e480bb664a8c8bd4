"""GraphiQL renders in a real browser from the package alone (issue 12): `seatkeeper serve` as a
real process, Chromium headless (Debian's `chromium`), which loads only what the page asks for —
and the page asks only this server (tests/api/test_graphiql.py checks every URL)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.cli.test_serve import SEATKEEPER, _environment, _free_port, _wait_until_healthy

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    CHROMIUM is None
    and os.environ.get("CI") != "true"
    and not os.environ.get("SEATKEEPER_REQUIRE_BROWSER"),
    reason="Chromium is not installed (apt-get install chromium); CI installs it",
)
def test_graphiql_renders_its_editor_with_the_contract(tmp_path):
    assert CHROMIUM is not None, "CI must install chromium (.ci/run)"
    port = _free_port()
    process = subprocess.Popen(
        [SEATKEEPER, "serve", "--storage", "memory://", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_environment(tmp_path / "data"),
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_healthy(base, process)
        dom = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                f"--user-data-dir={tmp_path / 'profile'}",
                "--virtual-time-budget=10000",
                "--dump-dom",
                f"{base}/graphql",
            ],
            capture_output=True,
            text=True,
            timeout=90,
            check=False,  # what it printed is the check
        ).stdout
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "graphiql-container" in dom  # React rendered GraphiQL: its scripts loaded
    assert "Seatkeeper: the operations" in dom  # the editor holds the contract's operations
