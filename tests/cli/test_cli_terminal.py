"""Colour and progress only on a terminal: the same command in a pseudo-terminal and in a pipe."""

from __future__ import annotations

import os
import pty
import subprocess

import pytest

from tests.cli.cli_support import OPERATOR, SEATKEEPER, clean_environment, create_organization, run


def _on_a_terminal(*arguments: str, **env: str) -> tuple[int, bytes]:
    """Run `seatkeeper ARGUMENTS` with stdout and stderr on a pseudo-terminal; (code, bytes)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [SEATKEEPER, *arguments],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env=clean_environment(**env),
    )
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    return process.wait(timeout=30), output


@pytest.fixture(scope="module")
def admin(served) -> str:
    return create_organization(served.url, "Terminal Co").admin


def test_tables_are_styled_on_a_terminal_and_plain_in_a_pipe(url):
    code, output = _on_a_terminal("whoami", SEATKEEPER_URL=url, SEATKEEPER_TOKEN=OPERATOR)
    assert code == 0 and b"\x1b[1m" in output and b"OPERATOR" in output
    piped = run("whoami", url=url, token=OPERATOR)
    assert piped.returncode == 0 and "OPERATOR" in piped.stdout
    assert "\x1b[" not in piped.stdout + piped.stderr


def test_an_export_shows_progress_on_a_terminal_only(url, admin, tmp_path):
    target = tmp_path / "out.csv"
    code, output = _on_a_terminal(
        "users", "export", "-o", str(target), SEATKEEPER_URL=url, SEATKEEPER_TOKEN=admin
    )
    assert code == 0 and b"downloading" in output and b"bytes" in output
    assert b"exported 0 rows to" in output
    piped = run("users", "export", "-o", str(target), url=url, token=admin)
    assert piped.stderr == f"exported 0 rows to {target}\n"


def test_a_long_import_shows_its_upload_on_a_terminal(url, admin, tmp_path):
    rows = "".join(f"big-{i},Big {i},big-{i}@example.com,,\n" for i in range(8000))
    file = tmp_path / "big.csv"
    file.write_text("Id,Full Name,Email,Standard,Inspections\n" + rows, encoding="utf-8")
    code, output = _on_a_terminal(
        "licenses", "import", str(file), "--dry-run", SEATKEEPER_URL=url, SEATKEEPER_TOKEN=admin
    )
    assert code == 0, output[-500:]
    assert b"importing big.csv" in output and b"dry run, nothing applied" in output
    piped = run("licenses", "import", str(file), "--dry-run", url=url, token=admin)
    assert piped.returncode == 0 and "importing" not in piped.stderr
    assert "rows=8000" in piped.stdout
