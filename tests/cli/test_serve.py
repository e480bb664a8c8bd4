"""`seatkeeper serve`, run as a real process: the demo answers `sync`; bad configuration fails clearly.

The server is the installed `seatkeeper` command of this virtualenv on a free port. Waiting for it
is bounded (it must answer /healthz within STARTUP_SECONDS), and the process is always ended.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

SEATKEEPER = str(Path(sys.executable).parent / "seatkeeper")
CONTRACT = Path(__file__).resolve().parents[1] / "contract" / "operations.graphql"
STARTUP_SECONDS = 15
MATT = ("1a75199f-a48b-40d4-b9bc-2ea05faa8197", "someone51@example.com")


def _environment(data_dir: Path | None = None) -> dict[str, str]:
    """This process's environment without SEATKEEPER_* settings, so that only the flags count;
    the default SQLite file goes to `data_dir` (a fresh folder if None), never to $HOME."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SEATKEEPER_")}
    environment["SEATKEEPER_DATA_DIR"] = str(data_dir or tempfile.mkdtemp(prefix="sk-data-"))
    return environment


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_healthy(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"seatkeeper serve exited early with code {process.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling a real process: there is no clock to inject here
    pytest.fail(f"seatkeeper serve did not answer /healthz within {STARTUP_SECONDS} s")


@pytest.fixture
def demo_server(tmp_path):
    """`seatkeeper serve --demo` on a free port: (base URL, the lines it printed)."""
    port = _free_port()
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [SEATKEEPER, "serve", "--demo", "--port", str(port), "--log-level", "warning"],
            stdout=stdout,
            stderr=stderr,
            env=_environment(tmp_path / "data"),
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_healthy(base, process)
        yield base, out.read_text(encoding="utf-8")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert "Traceback" not in err.read_text(encoding="utf-8")


def _printed(pattern: str, output: str) -> str:
    match = re.search(pattern, output, re.MULTILINE)
    assert match, f"{pattern!r} not in the output:\n{output}"
    return match.group(1)


def _post(base: str, token: str, operation: str, variables: dict | None = None) -> dict:
    response = httpx.post(
        f"{base}/graphql",
        json={
            "query": CONTRACT.read_text(encoding="utf-8"),
            "operationName": operation,
            "variables": variables or {},
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def test_serve_demo_answers_sync_for_the_seed_users(demo_server):
    base, output = demo_server
    sync_token = _printed(r"SYNC token:\s+(\S+)$", output)
    admin_token = _printed(r"ADMIN token:\s+(\S+)$", output)
    _printed(r"^Operator token \(shown once\): (\S+)$", output)
    assert _printed(r"^GraphiQL: (\S+)$", output) == f"{base}/graphql"
    # The console's address is printed, and a browser gets the page there without a token.
    console = _printed(r"^Console: (\S+) ", output)
    assert console == f"{base}/"
    page = httpx.get(console, timeout=10)
    assert page.status_code == 200 and "/console/js/app.js" in page.text

    # Matt Ford holds Inspections in the seed's CSV sample.
    matt = _post(
        base,
        sync_token,
        "Sync",
        {"input": {"userId": MATT[0], "email": MATT[1], "fullName": "Matt Ford"}},
    )["sync"]
    assert matt["ok"] is True
    assert matt["license"] == {
        "type": "INSPECTIONS",
        "temporary": False,
        "trial": False,
        "expiresAt": None,
    }
    assert matt["user"] == {"id": MATT[0], "email": MATT[1]}

    # The user with everything disabled is refused; the admin sees the demo's users.
    nora = _post(
        base,
        sync_token,
        "Sync",
        {
            "input": {
                "userId": "e7b4c9a2-3d1f-4f8e-a5b0-6c2d8e1f9a37",
                "email": "someone63@example.com",
            }
        },
    )["sync"]
    assert (nora["ok"], nora["error"]["message"], nora["error"]["reason"]) == (
        False,
        "LICENSE: NOT FOUND",
        "DISABLED",
    )
    users = _post(base, admin_token, "Users", {"search": "Pete"})["users"]
    assert [(e["node"]["fullName"], e["node"]["standard"]) for e in users["edges"]] == [
        ("Pete Porter", "ASSIGNED")
    ]

    ready = httpx.get(f"{base}/readyz", timeout=5)
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


def _run_serve(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: PLW1510 - the tests read the return code
        [SEATKEEPER, "serve", *arguments],
        capture_output=True,
        text=True,
        timeout=30,
        env=_environment(),
    )


def _one_line_failure(result: subprocess.CompletedProcess) -> str:
    """A configuration failure: non-zero exit, exactly one line on stderr, no trace anywhere."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_serve_with_an_unknown_storage_scheme_fails_in_one_line():
    line = _one_line_failure(_run_serve("--storage", "foo://", "--port", str(_free_port())))
    assert "'foo'" in line and "memory" in line  # names the scheme and the installed plugins


def test_serve_with_a_malformed_storage_url_fails_in_one_line():
    line = _one_line_failure(_run_serve("--storage", "nonsense", "--port", str(_free_port())))
    assert "malformed" in line and "'nonsense'" in line


def test_serve_on_a_port_in_use_fails_in_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run_serve("--port", str(port))
    line = _one_line_failure(result)
    assert f"port {port}" in line and "in use" in line
    assert "Operator token" not in result.stdout  # nothing was started, no secret printed


def test_serve_with_an_unreachable_database_fails_in_one_line_without_its_password():
    # Port 1 on loopback refuses at once; the selection timeout bounds the wait.
    url = "mongodb://admin:hunter2@127.0.0.1:1/seatkeeper?serverSelectionTimeoutMS=300&connectTimeoutMS=300"
    result = _run_serve("--storage", url, "--port", str(_free_port()))
    line = _one_line_failure(result)
    assert "cannot open the storage" in line and "127.0.0.1:1" in line
    assert "hunter2" not in result.stderr + result.stdout
    assert "Operator token" not in result.stdout  # nothing was started, no secret printed


def test_serve_refuses_several_workers_on_the_memory_storage():
    """By the plugin's declared capability (not shared between processes), not the URL text."""
    line = _one_line_failure(
        _run_serve("--workers", "2", "--storage", "memory://", "--port", str(_free_port()))
    )
    assert "--workers" in line and "memory://" in line and "own licenses" in line
    assert "shared between processes" in line


# -- the CSV commands, as a client of the running demo server (issue 5) ---------------------------

SEED_LICENSES = Path(__file__).resolve().parents[1] / "data" / "seed-licenses.csv"


def _client(base: str, token: str, *arguments: str) -> subprocess.CompletedProcess:
    environment = {**_environment(), "SEATKEEPER_URL": base, "SEATKEEPER_TOKEN": token}
    return subprocess.run(  # noqa: PLW1510 - the tests read the return code
        [SEATKEEPER, *arguments], capture_output=True, text=True, timeout=30, env=environment
    )


def test_spec_7_csv_commands_against_the_demo_server(demo_server, tmp_path):
    base, output = demo_server
    admin_token = _printed(r"ADMIN token:\s+(\S+)$", output)

    exported = tmp_path / "licenses.csv"
    result = _client(base, admin_token, "licenses", "export", "-o", str(exported))
    assert result.returncode == 0, result.stderr
    lines = exported.read_bytes().split(b"\r\n")
    assert lines[0] == b'"Id","Full Name","Email","Standard","Inspections"'
    assert (
        b'"1a75199f-a48b-40d4-b9bc-2ea05faa8197","Matt Ford","someone51@example.com","","Assigned"'
        in lines
    )

    # The seed's own sample: Ralf Harper's two Assigned cells become Inspections, with a warning.
    result = _client(base, admin_token, "licenses", "import", str(SEED_LICENSES), "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dry run, nothing applied" in result.stdout and "BOTH_ASSIGNED" in result.stdout

    broken = tmp_path / "broken.csv"
    broken.write_text(
        "Id,Full Name,Email,Standard,Inspections\nn-1,New One,not-an-email,Maybe,\n",
        encoding="utf-8",
    )
    result = _client(base, admin_token, "licenses", "import", str(broken))
    assert result.returncode == 1
    assert "NOT applied" in result.stdout
    assert re.search(r"^\s*2\s+ERROR\s+BAD_VALUE", result.stdout, re.MULTILINE)
    assert re.search(r"^\s*2\s+ERROR\s+BAD_EMAIL", result.stdout, re.MULTILINE)

    fresh = tmp_path / "fresh.csv"
    fresh.write_text(
        "Id,Full Name,Email,Standard,Inspections\nn-1,New One,new1@example.com,Assigned,\n",
        encoding="utf-8",
    )
    result = _client(base, admin_token, "licenses", "import", str(fresh), "--mode", "merge")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "applied" in result.stdout and "created=1" in result.stdout

    result = _client(base, admin_token, "users", "export", "--search", "new1@")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith(
        '"n-1","New One","new1@example.com","Assigned",""'
    )

    result = _client(base, "not-a-token", "licenses", "export")
    assert result.returncode == 2 and "refused the token" in result.stderr
    assert "Traceback" not in result.stderr


def test_issue_9_serve_applies_its_transport_limit_flags(tmp_path):
    """`--max-headers 10`: a request with 11 headers is 431 from the real server (`--workers`
    processes install the same limits from the settings `serve` hands them, test_settings.py)."""
    port = _free_port()
    with (tmp_path / "err.txt").open("wb") as stderr:
        process = subprocess.Popen(
            [SEATKEEPER, "serve", "--storage", "memory://", "--port", str(port)]
            + ["--log-level", "warning", "--max-headers", "10", "--header-timeout", "1"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env=_environment(tmp_path / "data"),
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_healthy(base, process)
        many = {f"x-h{i}": "v" for i in range(11)}
        assert httpx.get(f"{base}/healthz", headers=many).status_code == 431
        assert httpx.get(f"{base}/healthz", headers=dict(list(many.items())[:5])).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("flag", [None, "--access-log"])
def test_the_access_log_is_off_by_default_and_on_by_flag(tmp_path, flag):
    """Issue 12: uvicorn's per-request access log cost a quarter of sync throughput; it is off
    unless asked for (--access-log or SEATKEEPER_ACCESS_LOG=1)."""
    port = _free_port()
    err = tmp_path / "output.txt"
    command = [SEATKEEPER, "serve", "--storage", "memory://", "--port", str(port)]
    with err.open("wb") as output:  # uvicorn writes its access log to stdout
        process = subprocess.Popen(
            command + ([flag] if flag else []),
            stdout=output,
            stderr=subprocess.STDOUT,
            env=_environment(tmp_path / "data"),
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_healthy(base, process)
        httpx.get(f"{base}/readyz", timeout=5)
    finally:
        process.terminate()
        process.wait(timeout=10)
    logged = err.read_text(encoding="utf-8")
    assert ('"GET /readyz HTTP/1.1" 200' in logged) == (flag is not None), logged


def test_a_malformed_cors_origin_ends_serve_with_one_line(tmp_path):
    result = subprocess.run(
        [SEATKEEPER, "serve", "--storage", "memory://", "--cors-origin", "admin.example.com"],
        capture_output=True,
        text=True,
        env=_environment(tmp_path / "data"),
        timeout=30,
        check=False,  # it must fail: asserted below
    )
    assert result.returncode != 0
    assert "is not an origin" in result.stderr and "Traceback" not in result.stderr
