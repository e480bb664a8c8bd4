"""`seatkeeper serve` keeps what it is told (issue 11): real processes on the default SQLite file.

Acceptance: `make run` (serve --demo on the default storage), a sync, Ctrl-C, `make run` again:
the user and the seat are there. Every process is ended; waits are bounded.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Self

import httpx
import pytest

SEATKEEPER = str(Path(sys.executable).parent / "seatkeeper")
CONTRACT = Path(__file__).resolve().parents[1] / "contract" / "operations.graphql"
STARTUP_SECONDS = 20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One `seatkeeper serve` process on a free port, its output kept in files."""

    def __init__(self, tmp_path: Path, name: str, data_dir: Path, *arguments: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.out, self.err = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SEATKEEPER_")}
        environment["SEATKEEPER_DATA_DIR"] = str(data_dir)
        with self.out.open("wb") as stdout, self.err.open("wb") as stderr:
            self.process = subprocess.Popen(
                [SEATKEEPER, "serve", "--port", str(self.port), "--log-level", "warning"]
                + list(arguments),
                stdout=stdout,
                stderr=stderr,
                env=environment,
            )

    def __enter__(self) -> Self:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited early: {self.err.read_text()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)  # a real process: no clock to inject
        self.stop()
        pytest.fail(f"serve did not answer within {STARTUP_SECONDS} s")

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Ctrl-C, as a person at the terminal would; killed if it does not stop in 15 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        assert "Traceback" not in self.err.read_text(encoding="utf-8")

    @property
    def output(self) -> str:
        return self.out.read_text(encoding="utf-8")

    def printed(self, pattern: str) -> str:
        match = re.search(pattern, self.output, re.MULTILINE)
        assert match, f"{pattern!r} not in the output:\n{self.output}"
        return match.group(1)

    def call(self, token: str, operation: str, variables: dict | None = None) -> dict:
        response = httpx.post(
            f"{self.base}/graphql",
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


NEWCOMER = {"userId": "acceptance-1", "email": "acceptance@example.com", "fullName": "Ada Kept"}


def test_make_run_sync_ctrl_c_make_run_the_user_and_seat_are_there(tmp_path):
    """Issue 11, done when: the demo on the default SQLite file keeps users and seats."""
    data = tmp_path / "data"
    with Server(tmp_path, "first", data, "--demo") as first:
        database = data / "seatkeeper.db"
        assert first.printed(r"^Storage: (.+) \(kept across restarts\)$") == str(database)
        assert "Demo organization (created)" in first.output
        sync = first.printed(r"SYNC token:\s+(\S+)$")
        admin = first.printed(r"ADMIN token:\s+(\S+)$")
        operator = first.printed(r"^Operator token \(shown once\): (\S+)$")
        synced = first.call(sync, "Sync", {"input": NEWCOMER})["sync"]
        assert synced["ok"] and synced["license"]["temporary"] is True
        assigned = first.call(
            admin,
            "SetLicenseState",
            {
                "input": {
                    "userIds": ["acceptance-1"],
                    "licenseType": "STANDARD",
                    "state": "ASSIGNED",
                }
            },
        )["setLicenseState"]
        assert assigned["userErrors"] == [] and assigned["users"][0]["standard"] == "ASSIGNED"
        assert len(first.call(operator, "Organizations")["organizations"]) == 1
    assert database.exists()

    with Server(tmp_path, "second", data, "--demo") as second:
        assert "Demo organization (kept in the storage)" in second.output
        sync2 = second.printed(r"SYNC token:\s+(\S+)$")
        admin2 = second.printed(r"ADMIN token:\s+(\S+)$")
        operator2 = second.printed(r"^Operator token \(shown once\): (\S+)$")
        assert {sync2, admin2, operator2}.isdisjoint({sync, admin, operator})
        user = second.call(admin2, "User", {"id": "acceptance-1"})["user"]
        assert (user["fullName"], user["standard"]) == ("Ada Kept", "ASSIGNED")
        again = second.call(sync2, "Sync", {"input": NEWCOMER})["sync"]
        assert again["ok"] and again["license"]["type"] == "STANDARD"
        assert again["license"]["temporary"] is False
        # --demo created its organization once, not once per start.
        assert len(second.call(operator2, "Organizations")["organizations"]) == 1
        # The previous start's demo secrets were replaced.
        response = httpx.post(
            f"{second.base}/graphql",
            json={"query": "{ viewer { role } }"},
            headers={"Authorization": f"Bearer {admin}"},
            timeout=10,
        )
        assert "errors" in response.json()


def test_outside_demo_the_operator_secret_is_printed_once_and_survives_restarts(tmp_path):
    data = tmp_path / "data"
    with Server(tmp_path, "first", data) as first:
        operator = first.printed(r"^Operator token \(shown once\): (\S+)$")
        created = first.call(operator, "CreateOrganization", {"input": {"name": "Kept Co"}})
        assert created["createOrganization"]["userErrors"] == []
    with Server(tmp_path, "second", data) as second:
        assert "Operator token (shown once)" not in second.output
        assert "Operator token: kept in the storage" in second.output
        assert operator not in second.output
        names = [o["name"] for o in second.call(operator, "Organizations")["organizations"]]
        assert names == ["Kept Co"]


def test_memory_storage_warns_that_it_keeps_nothing(tmp_path):
    with Server(tmp_path, "memory", tmp_path / "unused", "--storage", "memory://") as server:
        assert re.search(r"^Storage: memory:// keeps NOTHING", server.output, re.MULTILINE)
    assert "keeps nothing" in server.err.read_text(encoding="utf-8")
    assert not (tmp_path / "unused").exists()


def test_rotate_operator_token_replaces_the_stored_secret(tmp_path):
    data = tmp_path / "data"
    with Server(tmp_path, "first", data) as first:
        old = first.printed(r"^Operator token \(shown once\): (\S+)$")
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SEATKEEPER_")}
        environment["SEATKEEPER_DATA_DIR"] = str(data)
        rotated = subprocess.run(
            [SEATKEEPER, "rotate-operator-token"],
            capture_output=True,
            text=True,
            timeout=30,
            env=environment,
            check=False,
        )
        assert rotated.returncode == 0, rotated.stderr
        new = re.search(r"^Operator token \(shown once\): (\S+)$", rotated.stdout, re.MULTILINE)
        assert new and new.group(1) != old
        # The running server takes the new secret at once and refuses the old one.
        assert first.call(new.group(1), "Organizations")["organizations"] == []
        refused = httpx.post(
            f"{first.base}/graphql",
            json={"query": "{ organizations { id } }"},
            headers={"Authorization": f"Bearer {old}"},
            timeout=10,
        )
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_two_worker_processes_on_sqlite_give_exactly_the_seats_there_are(tmp_path):
    """Issue 11, done when: --workers 2 on SQLite, 200 concurrent syncs for 10 seats (automatic
    assignment on): exactly 10 get a seat, every other is refused, and 10 users hold one."""
    from concurrent.futures import ThreadPoolExecutor

    database = tmp_path / "race.db"
    with Server(
        tmp_path,
        "workers",
        tmp_path / "data",
        "--workers",
        "2",
        "--storage",
        f"sqlite:///{database}",
    ) as server:
        operator = server.printed(r"^Operator token \(shown once\): (\S+)$")
        created = server.call(operator, "CreateOrganization", {"input": {"name": "Race"}})
        created = created["createOrganization"]
        org_id, admin, sync = (
            created["organization"]["id"],
            created["adminToken"],
            created["syncToken"],
        )
        added = server.call(
            operator,
            "AddSubscription",
            {
                "input": {
                    "organizationId": org_id,
                    "licenseType": "STANDARD",
                    "seats": 10,
                    "validUntil": "2999-01-01T00:00:00Z",
                }
            },
        )
        assert added["addSubscription"]["userErrors"] == []
        settings = server.call(admin, "UpdateSettings", {"input": {"autoAssignLicenses": True}})
        assert settings["updateSettings"]["userErrors"] == []

        document = (
            "mutation Sync($input: SyncInput!) { sync(input: $input) "
            "{ ok license { type temporary } error { reason } } }"
        )
        clients = threading.local()

        def sync_one(n: int) -> dict:
            if not hasattr(clients, "http"):
                clients.http = httpx.Client(headers={"Authorization": f"Bearer {sync}"})
            variables = {"input": {"userId": f"racer-{n:03d}", "email": f"racer{n}@example.com"}}
            response = clients.http.post(
                f"{server.base}/graphql",
                json={"query": document, "variables": variables},
                timeout=30,
            )
            return response.json()["data"]["sync"]

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(sync_one, range(200)))
        granted = [r for r in results if r["ok"]]
        assert len(granted) == 10
        assert all(
            r["license"] == {**r["license"], "type": "STANDARD", "temporary": False}
            for r in granted
        )
        assert {r["error"]["reason"] for r in results if not r["ok"]} == {"NO_SEAT_AVAILABLE"}
        holders = server.call(admin, "Users", {"filter": {"licenseType": "STANDARD"}, "first": 50})
        assert holders["users"]["totalCount"] == 10
