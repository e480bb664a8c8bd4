"""SPEC 7 on the command line for spreadsheet files (issue 16): the same decoding rule as the
server (UTF-16 with a BOM read, Windows-1252 one NOT_UTF8 problem), and `--bom` on both exports.
Runs the real `seatkeeper` command against a real `seatkeeper serve --demo` process."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

SEATKEEPER = str(Path(sys.executable).parent / "seatkeeper")
FILES = Path(__file__).resolve().parents[1] / "data" / "spreadsheets"
STARTUP_SECONDS = 15


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("SEATKEEPER_")}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`seatkeeper serve --demo` on a free port: (base URL, ADMIN token)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path_factory.mktemp("serve") / "stdout.txt"
    with out.open("wb") as stdout:
        process = subprocess.Popen(
            [
                SEATKEEPER,
                "serve",
                "--demo",
                "--storage",
                "memory://",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            stdout=stdout,
            stderr=subprocess.DEVNULL,
            env=_environment(),
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert process.poll() is None, "seatkeeper serve exited early"
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "seatkeeper serve did not start"
            time.sleep(0.1)  # polling a real process: there is no clock to inject here
        token = re.search(r"ADMIN token:\s+(\S+)$", out.read_text(), re.MULTILINE).group(1)
        yield base, token
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _run(server, *arguments: str) -> subprocess.CompletedProcess:
    base, token = server
    environment = {**_environment(), "SEATKEEPER_URL": base, "SEATKEEPER_TOKEN": token}
    return subprocess.run(  # noqa: PLW1510 - the tests read the return code
        [SEATKEEPER, *arguments], capture_output=True, text=True, timeout=30, env=environment
    )


def test_csv_7_cli_reads_utf16_with_a_bom_as_the_server_does(server):
    """Issue 16, finding 1: UTF-16 with a BOM was accepted through GraphQL, refused by the CLI."""
    result = _run(server, "licenses", "import", str(FILES / "lo-utf16.csv"), "--dry-run")
    # Read and checked row by row (the demo organization has too few seats for all 17 rows).
    assert "dry run, nothing applied" in result.stdout and "rows=17" in result.stdout
    assert re.search(r"^\s+13\s+WARNING\s+NAME_LINE_BREAK", result.stdout, re.MULTILINE)
    assert "ID_REFORMATTED" in result.stdout and "NOT_UTF8" not in result.stdout
    assert "Traceback" not in result.stderr


def test_csv_7_cli_refuses_windows_1252_with_the_servers_not_utf8_problem(server):
    result = _run(server, "licenses", "import", str(FILES / "gn-windows-1252.csv"))
    assert result.returncode == 1
    assert "NOT applied" in result.stdout
    assert re.search(r"^\s+5\s+ERROR\s+NOT_UTF8\s+.*'CSV UTF-8'", result.stdout, re.MULTILINE)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("kind", ["licenses", "users"])
def test_csv_7_cli_exports_take_bom(server, tmp_path, kind):
    """SPEC 7, Export options: `--bom` writes the UTF-8 byte-order mark first (for Excel);
    without it the file is as before."""
    base, token = server
    plain = httpx.get(
        f"{base}/export/{kind}.csv", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).content  # the file as today (the CLI's own plain export is tested with the other commands)
    marked = tmp_path / "bom.csv"
    result = _run(server, kind, "export", "--bom", "-o", str(marked))
    assert result.returncode == 0, result.stderr
    assert plain.startswith(b'"Id"')
    assert marked.read_bytes() == b"\xef\xbb\xbf" + plain
