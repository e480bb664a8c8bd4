"""Issue 11: a sync on SQLite commits once — its record, a grace start or seat change, and its
sync-log entry in one BEGIN IMMEDIATE transaction (`write_sync`). Counted with sqlite3's trace
callback on every connection of the plugin, through the real Engine."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from seatkeeper.domain.records import LicenseState, LicenseType
from seatkeeper.plugins.sqlite import SQLiteStorage
from seatkeeper.rules.engine import Engine, SyncRequest
from seatkeeper.storage import LogQuery


def _statements_of_sync(tmp_path: Path, clock, auto_assign: bool, licensed: bool) -> list[str]:
    """The transaction statements (BEGIN, COMMIT, ROLLBACK) one sync sends, in order."""
    storage = SQLiteStorage(f"sqlite:///{tmp_path / 'commits.db'}")
    engine = Engine(storage, clock)
    sent: list[str] = []

    async def go() -> list[str]:
        await storage.open()
        created = await engine.create_organization("Acme")
        org = created.value.organization.id
        await engine.add_subscription(org, LicenseType.STANDARD, 10, clock() + timedelta(days=365))
        await engine.update_settings(org, auto_assign_licenses=auto_assign)
        await engine.sync(org, SyncRequest("warm", "warm@example.com", "Warm"))
        if licensed:
            await engine.sync(org, SyncRequest("u1", "u1@example.com", "User One"))
            await engine.set_license_state(
                org, "admin", ["u1"], LicenseType.STANDARD, LicenseState.ASSIGNED
            )
        for connection in storage._connections:
            connection.set_trace_callback(sent.append)
        clock.advance(minutes=5)
        outcome = await engine.sync(org, SyncRequest("u1", "u1@example.com", "User One"))
        for connection in storage._connections:
            connection.set_trace_callback(None)
        assert outcome.ok, outcome
        entries = await storage.list_sync_log(org, LogQuery(user_key="u1"), 10, None)
        assert entries[0].at == clock() and entries[0].ok
        await storage.close()
        return [s.split()[0].upper() for s in sent if s.split()[0].upper() in _TRANSACTION]

    return asyncio.run(go())


_TRANSACTION = {"BEGIN", "COMMIT", "ROLLBACK"}


def test_issue_11_a_licensed_users_sync_commits_once(tmp_path, clock):
    assert _statements_of_sync(tmp_path, clock, auto_assign=False, licensed=True) == [
        "BEGIN",
        "COMMIT",
    ]


def test_issue_11_a_temporary_license_sync_commits_once(tmp_path, clock):
    """SPEC 4.7: the new user, its grace start and its entry: one transaction."""
    assert _statements_of_sync(tmp_path, clock, auto_assign=False, licensed=False) == [
        "BEGIN",
        "COMMIT",
    ]


def test_issue_11_an_automatic_assignment_commits_once(tmp_path, clock):
    """SPEC 4.6: the new user, its seat, the audit entries and the sync-log entry: one commit."""
    assert _statements_of_sync(tmp_path, clock, auto_assign=True, licensed=False) == [
        "BEGIN",
        "COMMIT",
    ]
