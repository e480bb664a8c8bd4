"""Every index the plugin needs, created idempotently by `open()`.

Each index is named, so that creating it again is a no-op and a changed definition is visible.
The only option that may change between deployments is the sync log's retention (its TTL): when
it differs from the index on the server, `collMod` changes it in place.

| collection | index | serves |
| --- | --- | --- |
| users | `(org, key)` unique | one user per id (SPEC 1; GUIDs case-insensitive via `key`) |
| users | `(org, email_key)` unique | one user per e-mail, case-insensitively (invariant 3) |
| users | `(org, name_key, id)` | the list order and its keyset pages (SPEC 6a), never skip |
| users | `(org, standard, name_key, id)`, `(org, inspections, …)` | filters by selector state, in list order |
| users | `(org, held, assigned_at, key)` | holders ranked by `assignedAt` (SPEC 5) |
| users | `(org, held, last_sync_at, assigned_at, key)` | the longest inactive holder (SPEC 4.6.2) |
| users | `(org, last_sync_at)` | the `inactive` filter (SPEC 6a) |
| users | `(org, last_required, grace_started_at)` | the pending count (SPEC 6) |
| users | `(org, journal)` sparse | users locked by an unfinished change set |
| users | `(journal)` sparse | repair's sweep for locks whose journal is gone, across organizations |
| clock | `_id` | one document stamped `$currentDate`: how a process reads the server's clock |
| sync_log | `(org, at, _id)` | newest first, keyset (SPEC 8) |
| sync_log | `(org, user_key, at, _id)` | one user's entries |
| sync_log | `(at)` TTL | retention (SPEC 8), `syncLogRetentionDays` |
| audit_log | `(org, user_key, at, _id)`, `(org, at, _id)` | SPEC 8, by user and by time |
| admin_log | `(org, at, _id)` | SPEC 8, the administration log by time |
| organizations | `(created_at, _id)` | oldest first |
| projects | `(org, id)` unique | one project per id |
| subscriptions | `(org, valid_from, _id)` | the organization's subscriptions in order |
| tokens | `(secret_hash)` unique, `(org, created_at, _id)` | authentication; listing |
| counters | `(org, type)` unique | one seat counter per organization and type |
| counters | `(recount_due)` sparse | counters that a repairer marked before deleting a journal |
| journals | `(at)`, `(org)` | finding stale change sets; "none pending" before a recount |
| journal_parts | `(journal, n)` | the body of a large change set |
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING as ASC
from pymongo.database import Database
from pymongo.errors import OperationFailure

SYNC_LOG_TTL_INDEX = "sync_log_retention"

INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict[str, Any]]]] = {
    "users": [
        ([("org", ASC), ("key", ASC)], {"name": "user_key", "unique": True}),
        ([("org", ASC), ("email_key", ASC)], {"name": "user_email", "unique": True}),
        ([("org", ASC), ("name_key", ASC), ("id", ASC)], {"name": "user_order"}),
        (
            [("org", ASC), ("standard", ASC), ("name_key", ASC), ("id", ASC)],
            {"name": "user_standard_state"},
        ),
        (
            [("org", ASC), ("inspections", ASC), ("name_key", ASC), ("id", ASC)],
            {"name": "user_inspections_state"},
        ),
        (
            [("org", ASC), ("held", ASC), ("assigned_at", ASC), ("key", ASC)],
            {"name": "holder_rank"},
        ),
        (
            [
                ("org", ASC),
                ("held", ASC),
                ("last_sync_at", ASC),
                ("assigned_at", ASC),
                ("key", ASC),
            ],
            {"name": "holder_activity"},
        ),
        ([("org", ASC), ("last_sync_at", ASC)], {"name": "user_last_sync"}),
        # SPEC 6's pending count: equal org and last_required, then the grace start's range, so
        # that the subscriptions view reads only recently pending users, not the organization.
        (
            [("org", ASC), ("last_required", ASC), ("grace_started_at", ASC)],
            {"name": "user_pending"},
        ),
        ([("org", ASC), ("journal", ASC)], {"name": "user_journal", "sparse": True}),
        ([("journal", ASC)], {"name": "user_lock", "sparse": True}),
    ],
    "sync_log": [
        ([("org", ASC), ("at", ASC), ("_id", ASC)], {"name": "sync_log_time"}),
        ([("org", ASC), ("user_key", ASC), ("at", ASC), ("_id", ASC)], {"name": "sync_log_user"}),
    ],
    "audit_log": [
        ([("org", ASC), ("at", ASC), ("_id", ASC)], {"name": "audit_time"}),
        ([("org", ASC), ("user_key", ASC), ("at", ASC), ("_id", ASC)], {"name": "audit_user"}),
    ],
    "admin_log": [([("org", ASC), ("at", ASC), ("_id", ASC)], {"name": "admin_time"})],
    "organizations": [([("created_at", ASC), ("_id", ASC)], {"name": "organization_age"})],
    "projects": [([("org", ASC), ("id", ASC)], {"name": "project_id", "unique": True})],
    "subscriptions": [
        ([("org", ASC), ("valid_from", ASC), ("_id", ASC)], {"name": "subscription_order"})
    ],
    "tokens": [
        ([("secret_hash", ASC)], {"name": "token_hash", "unique": True}),
        ([("org", ASC), ("created_at", ASC), ("_id", ASC)], {"name": "token_order"}),
    ],
    "counters": [
        ([("org", ASC), ("type", ASC)], {"name": "counter_type", "unique": True}),
        ([("recount_due", ASC)], {"name": "counter_recount_due", "sparse": True}),
    ],
    "journals": [
        ([("at", ASC)], {"name": "journal_age"}),
        ([("org", ASC)], {"name": "journal_org"}),
    ],
    "journal_parts": [([("journal", ASC), ("n", ASC)], {"name": "journal_part"})],
}


def ensure_indexes(db: Database[Any], sync_log_retention_days: int) -> None:
    """Create every index (a no-op for those that exist) and set the sync log's retention."""
    for collection, specs in INDEXES.items():
        for keys, options in specs:
            db[collection].create_index(keys, **options)
    ensure_sync_log_ttl(db, sync_log_retention_days)


def ensure_sync_log_ttl(db: Database[Any], retention_days: int) -> None:
    """The TTL index on the sync log's `at`; 0 days drops it (entries are kept forever)."""
    log = db["sync_log"]
    if retention_days <= 0:
        if SYNC_LOG_TTL_INDEX in log.index_information():
            log.drop_index(SYNC_LOG_TTL_INDEX)
        return
    seconds = retention_days * 86_400
    try:
        log.create_index([("at", ASC)], name=SYNC_LOG_TTL_INDEX, expireAfterSeconds=seconds)
    except OperationFailure as error:
        # IndexOptionsConflict (85/86): the index exists with another retention.
        if error.code not in (85, 86) and "different options" not in str(error):
            raise
        try:  # change it in place
            db.command(
                {
                    "collMod": "sync_log",
                    "index": {"name": SYNC_LOG_TTL_INDEX, "expireAfterSeconds": seconds},
                }
            )
        except (OperationFailure, TypeError, NotImplementedError):
            # A server (or mongomock) without collMod on indexes: build it again.
            log.drop_index(SYNC_LOG_TTL_INDEX)
            log.create_index([("at", ASC)], name=SYNC_LOG_TTL_INDEX, expireAfterSeconds=seconds)
