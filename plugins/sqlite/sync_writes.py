"""`write_sync` inside the writer's BEGIN IMMEDIATE transaction: one commit per sync.

The write lock is held from the first read, so the basis the engine decided on, the e-mail's
owner and the seats are checked and written in one atomic step for every process on the file.
A refusal raises `Refused`, which rolls the transaction back: nothing is written.
"""

from __future__ import annotations

import sqlite3

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
