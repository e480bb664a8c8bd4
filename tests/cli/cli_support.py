"""Helpers of the command-line tests: a real `seatkeeper serve` process, and the CLI run against it.

The server is the installed `seatkeeper` command of this virtualenv on a free port with the memory
storage and a known OPERATOR secret; one per test module (it starts in about a second). The CLI
runs in-process through click's runner (`cli`) or as a real process (`run`) where the process
boundary matters: exit codes, one line on stderr, signals.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from click.testing import CliRunner, Result
from seatkeeper.server.cli import main

SEATKEEPER = str(Path(sys.executable).parent / "seatkeeper")
STARTUP_SECONDS = 15
OPERATOR = "sk_op_test-operator-secret"


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without SEATKEEPER_* settings, plus `extra`."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SEATKEEPER_")}
    return {**environment, **extra}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Served:
    url: str
    process: subprocess.Popen


@contextlib.contextmanager
def serving(log_dir: Path) -> Iterator[Served]:
    """`seatkeeper serve` on a free port until the block ends; no traceback in its stderr."""
    port = free_port()
    err = log_dir / "server-stderr.txt"
    with (log_dir / "server-stdout.txt").open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [
                SEATKEEPER,
                "serve",
                "--storage",
                "memory://",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            stdout=stdout,
            stderr=stderr,
            env=clean_environment(SEATKEEPER_OPERATOR_TOKEN=OPERATOR),
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"seatkeeper serve exited with {process.returncode}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("seatkeeper serve did not start")
            time.sleep(0.1)  # polling a real process: no clock to inject
        yield Served(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert "Traceback" not in err.read_text(encoding="utf-8")


def cli(*arguments: str, url: str | None = None, token: str | None = None, **env: str) -> Result:
    """Run `seatkeeper ARGUMENTS` in-process with SEATKEEPER_URL/TOKEN set (when given)."""
    environment: dict[str, str | None] = {
        k: None for k in os.environ if k.startswith("SEATKEEPER_")
    }
    if url is not None:
        environment["SEATKEEPER_URL"] = url
    if token is not None:
        environment["SEATKEEPER_TOKEN"] = token
    environment.update(env)
    return CliRunner().invoke(main, list(arguments), env=environment, catch_exceptions=False)


def run(
    *arguments: str, url: str | None = None, token: str | None = None, **env: str
) -> subprocess.CompletedProcess:
    """Run the installed `seatkeeper ARGUMENTS` as a process."""
    extra = dict(env)
    if url is not None:
        extra["SEATKEEPER_URL"] = url
    if token is not None:
        extra["SEATKEEPER_TOKEN"] = token
    return subprocess.run(
        [SEATKEEPER, *arguments],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_environment(**extra),
    )


def run_here(
    *arguments: str, url: str | None = None, token: str | None = None, **env: str
) -> subprocess.CompletedProcess:
    """`run`'s answer from an in-process run (no interpreter start-up: the suite stays quick)."""
    result = cli(*arguments, url=url, token=token, **env)
    return subprocess.CompletedProcess(
        ["seatkeeper", *arguments], result.exit_code, result.stdout, result.stderr
    )


def one_line(stderr: str) -> str:
    """A failure said in exactly one line, without a traceback."""
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("seatkeeper: "), lines[0]
    return lines[0]


def as_json(result: Result) -> object:
    assert result.exit_code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def row(output: str, *cells: str) -> bool:
    """Whether a table line holds these cells in this order, separated by spaces."""
    pattern = r"\s+".join(re.escape(c) for c in cells)
    return re.search(rf"^{pattern}(\s|$)", output, re.MULTILINE) is not None


@dataclass
class Organization:
    id: str
    admin: str
    sync: str


def graphql(url: str, token: str, query: str, variables: dict | None = None) -> dict:
    """A request of our own over HTTP (to prepare data without the command under test)."""
    response = httpx.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def create_organization(url: str, name: str) -> Organization:
    """A new organization (no trial) through the API, with its first ADMIN and SYNC tokens."""
    created = graphql(
        url,
        OPERATOR,
        "mutation C($input: CreateOrganizationInput!) { createOrganization(input: $input) {"
        " organization { id } adminToken syncToken } }",
        {"input": {"name": name}},
    )["createOrganization"]
    return Organization(created["organization"]["id"], created["adminToken"], created["syncToken"])


def add_seats(url: str, organization: Organization, license_type: str, seats: int) -> None:
    graphql(
        url,
        OPERATOR,
        "mutation A($input: AddSubscriptionInput!) { addSubscription(input: $input) {"
        " userErrors { code } } }",
        {
            "input": {
                "organizationId": organization.id,
                "licenseType": license_type,
                "seats": seats,
                "validUntil": "2999-01-01T00:00:00Z",
            }
        },
    )


def sync(url: str, token: str, user_id: str, email: str, project: str | None = None) -> dict:
    """A phone's sync (not a CLI command: the contract's Sync over HTTP)."""
    query = "mutation S($input: SyncInput!) { sync(input: $input) { ok error { reason } } }"
    variables = {"input": {"userId": user_id, "email": email, "projectId": project}}
    response = httpx.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    return response.json()["data"]["sync"]
