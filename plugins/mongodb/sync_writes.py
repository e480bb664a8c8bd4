"""`write_sync` on MongoDB: the sync's writes as one command path in one worker thread.

No multi-document transaction (see the package docstring), so the steps are ordered for what a
failure between them leaves: the record first — one `find_one_and_update` that also answers
the basis (EmailTaken before anything is written) —, then the seat change through
`ChangeWriter.apply` (its journal makes it all or nothing and repairable), then the grace start,
then the answer; the sync-log entry is queued and written after it, in batches (`insert_many`),
so that the sync waits for none of it. A refusal after the record leaves the record written (the
engine's next attempt writes it again); a crash loses at worst queued log entries, never a seat
change (written, with its audit entries, before the answer).
"""

from __future__ import annotations

from dataclasses import replace

from seatkeeper.storage.protocol import (
    Applied,
    Conflict,
    SyncWriteResult,
    SyncWrites,
    SyncWritten,
    sync_basis,
)

from .changes import ChangeWriter
from .store import MongoStore


def write_sync(store: MongoStore, writer: ChangeWriter, writes: SyncWrites) -> SyncWriteResult:
    """The protocol's `write_sync`, blocking (run in the plugin's worker pool)."""
    record = writes.record
    org = record.organization_id
    user = store.record_sync(
        org, record.user_id, record.email, record.full_name, record.required, record.now
    )
    if sync_basis(user) != sync_basis(writes.expected):
        return Conflict((user.key,))
    if writes.change_set is not None:
        result = writer.apply(writes.change_set)
        if not isinstance(result, Applied):
            return result
        for change in writes.change_set.changes:  # the user after it, without a read
            if change.user_key == user.key:
                user = replace(
                    user,
                    standard=change.standard,
                    inspections=change.inspections,
                    assigned_at=change.assigned_at,
                )
    if writes.start_grace:
        user = store.start_grace_period(org, user.key, record.now) or user
    return SyncWritten(user)  # the caller queues the log entry (MongoStorage.write_sync)
