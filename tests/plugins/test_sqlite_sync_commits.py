"""Issue 11: a sync on SQLite commits once — its record, a grace start or seat change, and its
sync-log entry in one BEGIN IMMEDIATE transaction (`write_sync`). Counted with sqlite3's trace
callback on every connection of the plugin, through the real Engine."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from seatkeeper.domain.records import LicenseState, LicenseType
from seatkeeper.plugins.sqlite import SQLiteStorage
from seatkeeper.rules.engine import Engine, SyncRequest
from seatkeeper.storage import LogQuery, UserQuery


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


def test_issue_11_syncs_queued_together_commit_together_each_atomic(tmp_path):
    """Group commit: syncs that queue while the writer is busy share one transaction, each in
    its own savepoint — a refused one (EmailTaken, a Conflict) writes nothing, the others land."""
    from seatkeeper.domain.records import Client, SyncLogEntry
    from seatkeeper.storage.contract import ORG, at, make_org
    from seatkeeper.storage.protocol import (
        Conflict,
        EmailTaken,
        SyncRecord,
        SyncWrites,
        SyncWritten,
    )

    storage = SQLiteStorage(f"sqlite:///{tmp_path / 'group.db'}")

    def writes(user_id: str, email: str, expected=None) -> SyncWrites:
        record = SyncRecord(ORG, user_id, email, None, LicenseType.STANDARD, at(1))
        entry = SyncLogEntry(ORG, at(1), user_id, email, None, Client.MOBILE, True)
        return SyncWrites(record, expected, entry)

    async def go():
        await storage.open()
        await make_org(storage)
        await storage.write_sync(writes("taken", "taken@example.com"))
        taken = await storage.get_user(ORG, "taken")
        stale = replace(taken, grace_started_at=at(0))  # not what is stored: a Conflict
        commits: list[str] = []
        for connection in storage._connections:
            connection.set_trace_callback(
                lambda s: commits.append(s) if s.upper().startswith("COMMIT") else None
            )
        results = await asyncio.gather(
            *(storage.write_sync(writes(f"u{n}", f"u{n}@example.com")) for n in range(10)),
            storage.write_sync(writes("intruder", "TAKEN@example.com")),
            storage.write_sync(writes("taken", "taken@example.com", expected=stale)),
            return_exceptions=True,
        )
        for connection in storage._connections:
            connection.set_trace_callback(None)
        users = {u.id for u in await storage.list_users(ORG, UserQuery(), 100, None)}
        log = await storage.list_sync_log(ORG, LogQuery(), 100, None)
        await storage.close()
        return results, commits, users, log

    results, commits, users, log = asyncio.run(go())
    assert all(isinstance(r, SyncWritten) for r in results[:10])
    assert isinstance(results[10], EmailTaken) and isinstance(results[11], Conflict)
    assert users == {"taken", *(f"u{n}" for n in range(10))}  # no intruder
    assert len(log) == 11  # the first sync and the ten: nothing of the two refused
    assert 1 <= len(commits) < 12  # fewer commits than syncs: they were grouped


def test_issue_11_reads_on_the_event_loop_are_single_index_searches(tmp_path, clock):
    """What runs on the event loop's thread during a sync (`_point_read`): only SELECTs, each
    a SEARCH through an index or primary key for a few rows — never a SCAN, never a write."""
    storage = SQLiteStorage(f"sqlite:///{tmp_path / 'loop.db'}")
    engine = Engine(storage, clock)
    on_loop: list[str] = []

    async def go() -> list[str]:
        await storage.open()
        created = await engine.create_organization("Acme")
        org = created.value.organization.id
        await engine.add_subscription(org, LicenseType.STANDARD, 10, clock() + timedelta(days=365))
        await engine.sync(org, SyncRequest("u1", "u1@example.com", "User One"))
        await engine.set_license_state(
            org, "admin", ["u1"], LicenseType.STANDARD, LicenseState.ASSIGNED
        )
        storage.cache_seconds = 0  # organization, project and subscriptions read each time
        storage._point_connection().set_trace_callback(on_loop.append)
        outcome = await engine.sync(org, SyncRequest("u1", "u1@example.com", "User One"))
        assert outcome.ok
        connection = storage._point_connection()
        connection.set_trace_callback(None)
        plans = []
        for statement in on_loop:
            assert statement.lstrip().upper().startswith(("SELECT", "PRAGMA")), statement
            if statement.lstrip().upper().startswith("SELECT"):
                plans += [row[3] for row in connection.execute("EXPLAIN QUERY PLAN " + statement)]
        await storage.close()
        return plans

    plans = asyncio.run(go())
    assert plans, "no read ran on the event loop"
    print(*plans, sep="\n")
    assert all(p.startswith("SEARCH") for p in plans), plans
