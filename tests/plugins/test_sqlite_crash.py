"""Crash safety on SQLite, shown (issue 11): a server process is SIGKILLed while its write
transaction is open — a 200,000-row import, a bulk setLicenseState of 20,000 users — and the file,
opened again, holds all of the change or none of it, passes SQLite's integrity check, and its seat
counters equal the holders.

The kill is aimed: the test watches the file's write lock (a connection of its own tries
`BEGIN IMMEDIATE` every few milliseconds) and kills the server once the lock has been held for a
while, i.e. inside the big transaction. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from seatkeeper.domain.records import (
    DEFAULT_PROJECT_ID,
    LicenseType,
    MobileUser,
    Organization,
    Project,
    ProjectKind,
    Role,
    Subscription,
    Token,
)
from seatkeeper.rules.access import hash_secret, new_secret
from seatkeeper.storage import ChangeSet, load_storage

from tests.cli.test_serve_storage import (
    Server,  # the real `seatkeeper serve` process, bounded waits
)

HELD_FOR_SECONDS = 0.3
WAIT_SECONDS = 120


def _lock_held(path: Path) -> bool:
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


def _kill_inside_the_transaction(server: Server, database: Path, request: threading.Thread) -> bool:
    """SIGKILL the server once its write lock has been held HELD_FOR_SECONDS; False if the
    request finished first."""
    deadline = time.monotonic() + WAIT_SECONDS
    held_since = None
    while time.monotonic() < deadline and request.is_alive():
        if _lock_held(database):
            held_since = held_since or time.monotonic()
            if time.monotonic() - held_since >= HELD_FOR_SECONDS:
                server.process.send_signal(signal.SIGKILL)
                server.process.wait(timeout=10)
                return True
        else:
            held_since = None
        time.sleep(0.005)  # polling another process: no clock to inject
    return False


def _state(database: Path, org: str) -> tuple[str, int, dict[str, int], dict[str, int]]:
    """(integrity, users, stored counters, counted holders) of the file as a restart finds it."""
    connection = sqlite3.connect(database)
    try:
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
        users = connection.execute("SELECT count(*) FROM users WHERE org = ?", (org,)).fetchone()[0]
        counted = connection.execute(
            "SELECT users FROM user_counts WHERE org = ?", (org,)
        ).fetchone()[0]
        assert counted == users  # the users counter equals the users, too
        counters = dict(
            connection.execute(
                "SELECT license_type, holders FROM seat_holders WHERE org = ?", (org,)
            ).fetchall()
        )
        holders = {t: 0 for t in counters}
        holders.update(
            connection.execute(
                "SELECT held, count(*) FROM users WHERE org = ? AND held IS NOT NULL GROUP BY held",
                (org,),
            ).fetchall()
        )
        return integrity, users, counters, holders
    finally:
        connection.close()


async def _seed(url: str, users: int) -> tuple[str, str]:
    """An organization with a year of STANDARD seats for everyone, `users` waiting users, and an
    ADMIN token; (organization id, token secret)."""
    storage = load_storage(url)
    now = datetime.now(UTC)
    org = uuid.uuid4().hex
    await storage.create_organization(
        Organization(org, "Crash Co", now),
        Project(org, DEFAULT_PROJECT_ID, "Default", ProjectKind.STANDARD),
    )
    await storage.add_subscription(
        Subscription(org, "s", LicenseType.STANDARD, 300_000, now, now + timedelta(days=365))
    )
    secret = new_secret()
    await storage.add_token(Token("t", org, "admin", Role.ADMIN, hash_secret(secret), now))
    if users:
        waiting = [
            MobileUser(org, f"u{i:06d}", f"User {i}", f"u{i}@example.com", now)
            for i in range(users)
        ]
        limits = {LicenseType.STANDARD: 10**9, LicenseType.INSPECTIONS: 10**9}
        await storage.apply_changes(ChangeSet(org, creates=waiting, seat_limits=limits))
    await storage.close()
    return org, secret


def _post_in_background(server: Server, token: str, body: dict) -> threading.Thread:
    def post() -> None:
        try:
            httpx.post(
                f"{server.base}/graphql",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
                timeout=WAIT_SECONDS,
            )
        except httpx.TransportError:
            pass  # the server was killed: no answer is the expected end

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    return thread


def _crash_and_check(tmp_path: Path, users: int, body_for) -> tuple[int, dict, dict]:
    database = tmp_path / "crash.db"
    url = f"sqlite:///{database}"
    org, admin = asyncio.run(_seed(url, users))
    server = Server(tmp_path, "crash", tmp_path / "data", "--storage", url)
    with server:
        request = _post_in_background(server, admin, body_for(org))
        killed = _kill_inside_the_transaction(server, database, request)
    request.join(timeout=30)
    assert killed, "the request finished before its transaction could be caught: make it bigger"
    integrity, stored_users, counters, holders = _state(database, org)
    assert integrity == "ok"
    assert counters == holders  # the seat counters equal the holders
    return stored_users, counters, holders


IMPORT_ROWS = 200_000


def test_sigkill_during_a_200k_row_import_leaves_all_or_nothing(tmp_path):
    rows = ["Id,Full Name,Email,Standard,Inspections"]
    rows += [
        f"i{i:06d},Imported {i},i{i}@example.com,{'Assigned' if i % 2 else ''},"
        for i in range(IMPORT_ROWS)
    ]
    csv_text = "\n".join(rows) + "\n"

    def body(org: str) -> dict:
        return {
            "query": "mutation($input: ImportLicensesInput!) { importLicenses(input: $input) "
            "{ applied } }",
            "variables": {"input": {"csv": csv_text}},
        }

    users, counters, _ = _crash_and_check(tmp_path, 0, body)
    assert (users, counters["STANDARD"]) in {(0, 0), (IMPORT_ROWS, IMPORT_ROWS // 2)}


BULK_USERS = 20_000


def test_sigkill_during_a_bulk_set_license_state_leaves_all_or_nothing(tmp_path):
    def body(org: str) -> dict:
        return {
            "query": "mutation($input: SetLicenseStateInput!) { setLicenseState(input: $input) "
            "{ userErrors { code } } }",
            "variables": {
                "input": {
                    "userIds": [f"u{i:06d}" for i in range(BULK_USERS)],
                    "licenseType": "STANDARD",
                    "state": "ASSIGNED",
                }
            },
        }

    users, counters, _ = _crash_and_check(tmp_path, BULK_USERS, body)
    assert users == BULK_USERS
    assert counters["STANDARD"] in {0, BULK_USERS}


@pytest.fixture(autouse=True)
def _bounded(request):
    started = time.monotonic()
    yield
    assert time.monotonic() - started < 4 * WAIT_SECONDS
