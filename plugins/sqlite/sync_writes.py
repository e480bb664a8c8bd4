"""`write_sync` inside the writer's BEGIN IMMEDIATE transaction: one commit per sync.

The write lock is held from the first read, so the basis the engine decided on, the e-mail's
owner and the seats are checked and written in one atomic step for every process on the file.
A refusal raises `Refused`, which rolls the transaction back: nothing is written.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import cast

from seatkeeper.plugins import sqlite as plugin
from seatkeeper.plugins.sqlite import rows
from seatkeeper.storage.protocol import (
    AlreadyExists,
    Applied,
    Conflict,
    SeatShortage,
    SyncWriteResult,
    SyncWrites,
    SyncWritten,
    sync_basis,
)


class Refused(Exception):
    """A refusal of `write_sync`: the transaction rolls back and `result` is the answer."""

    def __init__(self, result: Conflict | AlreadyExists | SeatShortage) -> None:
        super().__init__(type(result).__name__)
        self.result = result


def write(c: sqlite3.Connection, writes: SyncWrites) -> SyncWriteResult:
    """The protocol's steps of `write_sync`, in its order, on the writer's connection."""
    record = writes.record
    org, key = record.organization_id, record.key
    plugin._check_email(c, record)
    stored = plugin._get_user(c, org, key)
    if sync_basis(stored) != sync_basis(writes.expected):
        raise Refused(Conflict((key,)))
    user = plugin._record(c, record, stored)
    if writes.change_set is not None:
        result = plugin._apply(c, writes.change_set)
        if not isinstance(result, Applied):
            raise Refused(result)
        user = plugin._get_user(c, org, key) or user
    if writes.start_grace and user.grace_started_at is None:
        c.execute(
            "UPDATE users SET grace_started_at = ? WHERE org = ? AND key = ?",
            (rows.to_time(record.now), org, key),
        )
        user.grace_started_at = record.now
    plugin._append_sync_log(c, writes.log)
    return SyncWritten(user)


#: A queued `write_sync`: what to write, and the loop and future that wait for the answer.
Job = tuple[SyncWrites, asyncio.AbstractEventLoop, "asyncio.Future[SyncWriteResult]"]


def write_batch(c: sqlite3.Connection, jobs: list[Job]) -> list[tuple[Job, object]]:
    """Run queued syncs in one transaction, each in its own savepoint; commit once.

    Group commit: the syncs that queued while the writer was busy share one BEGIN IMMEDIATE
    and one COMMIT (one WAL append, one wake-up of the writer thread). Each sync is still
    atomic on its own — its savepoint is rolled back on a refusal or an error, the others
    stay — and nobody is answered before the COMMIT: an answer is durable as before. Returns
    each job with its result, or the exception to raise in its caller.
    """
    settled: list[tuple[Job, object]] = []
    for job in jobs:
        c.execute("SAVEPOINT sync")
        try:
            outcome: object = write(c, job[0])
        except Refused as refused:
            c.execute("ROLLBACK TO sync")
            outcome = refused.result
        except Exception as error:  # noqa: BLE001 (EmailTaken, LookupError, sqlite3.Error: its caller's)
            c.execute("ROLLBACK TO sync")
            outcome = error
        c.execute("RELEASE sync")
        settled.append((job, outcome))
    return settled


def settle(settled: list[tuple[Job, object]]) -> None:
    """Answer each job in its own event loop: one wake-up per loop, not one per job."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[SyncWriteResult], object]]]
    by_loop = {}
    for (_, loop, future), outcome in settled:
        by_loop.setdefault(loop, []).append((future, outcome))
    for loop, answers in by_loop.items():
        try:
            loop.call_soon_threadsafe(_answer, answers)
        except RuntimeError:  # that loop is closed: nobody waits for these answers any more
            continue


def _answer(answers: list[tuple[asyncio.Future[SyncWriteResult], object]]) -> None:
    for future, outcome in answers:
        if future.done():  # its caller was cancelled
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(cast(SyncWriteResult, outcome))  # what write() returned
