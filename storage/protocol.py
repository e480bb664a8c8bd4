"""The Storage protocol: every record and atomic operation the rules engine asks a backend for.

A backend stores records and keeps promises; it knows nothing of licensing rules. The engine
decides (given records and a time, what should happen) and then asks for *one* operation that the
backend makes atomic. The engine never reads, decides and writes back in separate steps where a
concurrent request could slip in between: every write that depends on what it read carries the
expectation it was decided on (compare-and-set), and the backend refuses the write when the
expectation no longer holds, so that the engine decides again on fresh data.

What the writes carry and answer is in `storage/changes.py` (change sets, sync writes, results),
the filters in `storage/queries.py`, what a plugin declares about itself (capabilities, the
optional backup) in `storage/capabilities.py`; all are importable from here, as plugins do.

All methods are coroutines. A backend that talks to a blocking driver runs it off the event loop.
A backend must be safe under concurrent asyncio tasks and, when the server runs one process with
threads, under threads; several processes sharing one database must be safe by the database's own
atomic operations, never by a lock held in one process.

Promises that matter most (SPEC 2):

* `apply_changes` is all or nothing, checks every expectation and every seat limit in the same
  atomic step, and never lets the number of holders of a seat type grow above the limit it is
  given (invariant 1, 5). A user holds at most one seat: every change writes both selectors at
  once (invariant 2).
* E-mail addresses are unique per organization, compared case-insensitively (invariant 3):
  `record_sync` and `apply_changes` refuse to give a user an e-mail another user holds.
* `apply_changes` appends its audit entries in the same atomic step as the changes (invariant 4).
* The administrative writes (organizations, settings, projects, subscriptions, tokens) take the
  administration-log entry that records them (`log`, SPEC 8) and append it only when the write
  happens (not for an unknown organization, nor for a token not found), in the same atomic step
  where the backend has one (memory: its lock; sqlite: the write's transaction). MongoDB inserts
  it right after the write, keyed by its id (a single-document write and no transaction: a crash
  between the two loses the entry, never the change).
  With `ChangeSet.order_audit` (the engine always sets it) the backend also gives them their
  place in the log inside that step (`order_audit_entries`): the log's `(at, id)` order is then
  the order in which change sets committed, not the order in which the engine planned them.

Cases settled here (the contract kit's `EdgeCaseContract` tests each):

* **Unknown organizations.** Reads answer None, empty lists or 0. `record_sync` and
  `apply_changes` raise LookupError (a KeyError will do), writing nothing. Other writes for an
  unknown organization (`upsert_project`, `add_subscription`, `append_sync_log`,
  `start_grace_period`, `update_settings`) write nothing (the last two answer None).
* **A user twice in one change set** (changed twice, or changed and deleted): Conflict naming it;
  nothing written. **Created twice, or two creates with one e-mail** (case-insensitively):
  AlreadyExists naming the key or e-mail key.
* **Delete, then create again, in one change set**: allowed. Deletions apply first, so a create
  may take the id and e-mail of a user the same change set deletes (a REPLACE import that
  re-creates a user).
* **Which refusal wins** when several apply: Conflict, then AlreadyExists, then SeatShortage;
  a SeatShortage names the first short type in `SEAT_TYPES` order (STANDARD, then INSPECTIONS).

How each operation maps onto MongoDB (the `mongodb` plugin follows this table; documents are
keyed by `(org, key)`, `key` being `user_key(id)`, with a unique index on `(org, email_key)`):

| operation | MongoDB |
| --- | --- |
| record_sync | one `find_one_and_update(upsert=True, return_document=AFTER)` on the user; `$setOnInsert` the new record, `$set` name/email/lastSyncAt, `$min` firstSyncAt; DuplicateKeyError on the e-mail index → EmailTaken |
| start_grace_period | `find_one_and_update({grace_started_at: null}, $set)`, then a plain read if it was already set |
| write_sync | in one worker thread: the user's upsert as `record_sync` (it answers the basis, compared after; EmailTaken before anything is written), the seat change through apply_changes' journal, the grace start as `start_grace_period`; the log entry queued and written after the answer in batches (`insert_many`). A refusal after the upsert leaves the record written |
| apply_changes, one existing user | upsert a journal stamped with the server's clock (the intent, with the audit entries); `find_one_and_update` on the counter document `{holders: {$lte: limit - gain}}` with `$inc` (the guard is the capacity check) for a gained seat; the user's `update_one` with the expected selectors and `journal: null` in the filter (the commit; it locks the user with the journal id and pushes it onto `ops`); insert the audit entries (keyed by their ids); `$inc: -n` for a released seat; unlock the user; delete the journal. A miss: release, delete journal, Conflict. Failure: the counter is at worst too high (a seat looks taken, never over-allocated); `repair()` (periodic, and on a refused reservation) writes the audit if the user is locked by the journal or its `ops` holds the id, unlocks, deletes the journal, recounts |
| apply_changes, several users / creates / deletes | insert a journal (`pending`); lock the users (`update_many` with the expected selectors and `journal: null` in the filter, `$set: {journal: id}`); reserve the net seat gain per type with the guarded `$inc`; insert the created users, locked; the commit: the journal `pending` → `committed`; then, each step acknowledged before the next and seats let go before seats are taken (a switch written as a release then a take), delete, `update_many` per new state (unlocking), insert audit, release, delete the journal. `repair()` rolls a `pending` journal back (unlock, delete its creates) and a `committed` one forward (every step is filtered on the lock or keyed by id: idempotent) |
| count_holders | read the counter document (never below the holders: seats are counted before they are held and uncounted after; equal when no change set is in flight) |
| holders_ranked_before | `count_documents` on the index `(org, held, assigned_at, key)` |
| find_longest_inactive_holder | two `find_one` on `(org, held, last_sync_at, assigned_at, key)`: holders that synced (activity = `last_sync_at`) and holders that never did (activity = `assigned_at`); the older wins |
| list_users / count_users | keyset query on the index `(org, name_key, key)`; `count_documents` with the same filter |
| append_sync_log / list_sync_log | `insert_one`; keyset on `(org, at desc, id desc)`; TTL index on `at` for retention |
| audit entries | carried by the change set's journal, inserted after its commit (repair re-inserts them idempotently); `list_audit_log` keyset on `(org, at desc, id desc)` |
| admin log | `insert_one` after the write it records; keyset on `(org, at desc, id desc)` |
| organizations, projects, subscriptions, tokens | one document each, `insert_one` / `replace_one(upsert=True)`; tokens found by the unique index on `secret_hash`; organizations, projects and subscription lists cached per process for `cacheSeconds` (default 1) |
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from seatkeeper.domain.records import (
    AdminLogEntry,
    AuditEntry,
    LicenseType,
    MobileUser,
    Organization,
    Project,
    Settings,
    Subscription,
    SyncLogEntry,
    Token,
)
from seatkeeper.storage.capabilities import (
    PROTOCOL_VERSION,
    SUPPORTED_PROTOCOL_VERSIONS,
    UNDECLARED,
    Backup,
    Capabilities,
    capabilities_of,
)
from seatkeeper.storage.changes import (
    AlreadyExists,
    Applied,
    ApplyResult,
    ChangeSet,
    Conflict,
    SeatShortage,
    SelectorChange,
    SyncRecord,
    SyncWriteResult,
    SyncWrites,
    SyncWritten,
    UserDeletion,
    order_audit_entries,
    recorded_user,
    sync_basis,
)
from seatkeeper.storage.queries import LogQuery, UserQuery, fold, user_sort_key

# The protocol's vocabulary lives beside it (capabilities.py: what a plugin declares; changes.py:
# what is written and answered; queries.py: filters and order); plugins and the engine import
# all of it from here.
__all__ = [
    "PROTOCOL_VERSION",
    "SUPPORTED_PROTOCOL_VERSIONS",
    "UNDECLARED",
    "AlreadyExists",
    "Applied",
    "ApplyResult",
    "Backup",
    "Capabilities",
    "ChangeSet",
    "Conflict",
    "EmailTaken",
    "LogQuery",
    "SeatShortage",
    "SelectorChange",
    "Storage",
    "StorageError",
    "SyncRecord",
    "SyncWriteResult",
    "SyncWrites",
    "SyncWritten",
    "UserDeletion",
    "UserQuery",
    "capabilities_of",
    "fold",
    "order_audit_entries",
    "recorded_user",
    "sync_basis",
    "user_sort_key",
]


class StorageError(Exception):
    """A backend failed in a way the engine cannot turn into a user error."""


class EmailTaken(StorageError):
    """The e-mail belongs to another user of the organization."""

    def __init__(self, email: str, owner_id: str | None = None) -> None:
        super().__init__(f"email {email!r} is held by another user")
        self.email = email
        self.owner_id = owner_id


@runtime_checkable
class Storage(Protocol):
    """What a storage plugin implements. See the module docstring for the promises in common.

    A backend also declares its `capabilities` (a `Capabilities`, see `capabilities_of`); the
    base class `storage.base.BaseStorage` derives what can be derived from the primitives.
    """

    # -- lifecycle -------------------------------------------------------------------------

    async def open(self) -> None:
        """Prepare the backend (connect, create indexes). Idempotent; called once at start-up."""

    async def close(self) -> None:
        """Release connections. The backend is not used afterwards."""

    async def ping(self) -> None:
        """Return when the backend can serve requests; raise StorageError saying why it can't."""

    # -- organizations, projects, settings ------------------------------------------------

    async def create_organization(
        self,
        organization: Organization,
        default_project: Project,
        *,
        log: AdminLogEntry | None = None,
    ) -> None:
        """Store a new organization together with its default project (and `log`), atomically."""

    async def get_organization(self, organization_id: str) -> Organization | None:
        """The organization with its settings, or None."""

    async def list_organizations(self) -> list[Organization]:
        """Every organization, oldest first."""

    async def update_settings(
        self, organization_id: str, settings: Settings, *, log: AdminLogEntry | None = None
    ) -> Organization | None:
        """Replace the organization's settings whole and append `log`; return the organization,
        or None if unknown (then nothing is written)."""

    async def upsert_project(self, project: Project, *, log: AdminLogEntry | None = None) -> None:
        """Create the project, or replace the one with the same (organization, id); append `log`."""

    async def get_project(self, organization_id: str, project_id: str) -> Project | None:
        """The project, or None."""

    async def list_projects(self, organization_id: str) -> list[Project]:
        """The organization's projects, ordered by id."""

    # -- subscriptions ---------------------------------------------------------------------

    async def add_subscription(
        self, subscription: Subscription, *, log: AdminLogEntry | None = None
    ) -> None:
        """Store a new subscription and append `log`."""

    async def list_subscriptions(self, organization_id: str) -> list[Subscription]:
        """The organization's subscriptions, ordered by valid_from then id."""

    # -- tokens ----------------------------------------------------------------------------

    async def add_token(self, token: Token, *, log: AdminLogEntry | None = None) -> None:
        """Store a new token (its secret only as the hash it carries) and append `log`."""

    async def find_token(self, secret_hash: str) -> Token | None:
        """The token with this hash, revoked or not, or None."""

    async def list_tokens(self, organization_id: str | None) -> list[Token]:
        """The tokens of one organization (or of all when None), oldest first."""

    async def set_token_budget(
        self,
        token_id: str,
        organization_id: str | None,
        requests_per_second: float | None,
        *,
        log: AdminLogEntry | None = None,
    ) -> Token | None:
        """Set the token's own request budget (None clears it) and append `log`; return the
        token, or None if there is no such token (in that organization), writing nothing."""

    async def touch_token(self, token_id: str, at: datetime) -> None:
        """Record that the token was used at `at`: its `last_used_at` becomes `at` unless it is
        already later. An unknown id writes nothing. The engine calls it at most once a minute
        per token and process (`rules.token_use`): coarse on purpose, never a write per request."""

    async def revoke_token(
        self,
        token_id: str,
        organization_id: str | None,
        at: datetime,
        *,
        log: AdminLogEntry | None = None,
    ) -> Token | None:
        """Mark the token revoked at `at` and append `log`; None if no such token (in that
        organization). A token already revoked keeps its `revoked_at` and `log` is not appended."""

    # -- users -----------------------------------------------------------------------------

    async def get_user(self, organization_id: str, key: str) -> MobileUser | None:
        """The user stored under `key` (see `user_key`), or None."""

    async def get_users(self, organization_id: str, keys: list[str]) -> dict[str, MobileUser]:
        """The users found among `keys`, by key; absent keys are left out."""

    async def find_user_by_email(self, organization_id: str, email: str) -> MobileUser | None:
        """The user whose e-mail equals `email` case-insensitively, or None."""

    async def record_sync(
        self,
        organization_id: str,
        user_id: str,
        email: str,
        full_name: str | None,
        required: LicenseType,
        now: datetime,
    ) -> MobileUser:
        """Record a sync of `user_id` atomically and return the user as it is afterwards (SPEC 4.1).

        Creates the user with both selectors UNASSIGNED and `created_at = now` when absent (full
        name defaults to the e-mail); otherwise updates e-mail and, when given, full name. Sets
        `first_sync_at` if unset, `last_sync_at = now` and `last_required = required` (a
        LicenseType). Raises EmailTaken, writing nothing, when the e-mail belongs to another user.
        """

    async def start_grace_period(
        self, organization_id: str, key: str, now: datetime
    ) -> MobileUser | None:
        """Set `grace_started_at = now` if unset, atomically; return the user (None if absent)."""

    async def apply_changes(self, change_set: ChangeSet) -> ApplyResult:
        """Apply the change set whole, or nothing of it, and say why not.

        In one atomic step: every changed or deleted user exists with exactly its `expected`
        selectors and appears once (else Conflict), no created user's key or e-mail key is taken
        or repeated (else AlreadyExists; a user deleted by this change set frees both), and for
        every seat type whose holders would rise, the holders after the change are at most
        `seat_limits[type]` (else SeatShortage, the first short type in SEAT_TYPES order). The
        first refusal in that order wins. Then all writes and all audit entries land together:
        deletions first, then selector changes, then creates. An unknown organization raises
        LookupError.
        """

    async def write_sync(self, writes: SyncWrites) -> SyncWriteResult:
        """Land all that one sync writes, atomically, or nothing of it, and say why not.

        In one atomic step (SQLite: one `BEGIN IMMEDIATE` transaction, one commit; memory: one
        critical section; MongoDB: see the table above):

        1. the user's basis is checked: unless `sync_basis` of the stored user (None if absent)
           equals `sync_basis(writes.expected)`, Conflict naming the user's key;
        2. the record: the user upserted as `recorded_user` says (created if absent); another
           user holding the e-mail (case-insensitively) raises EmailTaken;
        3. the seat change, if any: `change_set` with every check of `apply_changes`, seen
           after the record (so it may change a user this write creates); a refusal is returned
           as that result (Conflict, AlreadyExists, SeatShortage);
        4. the grace start, if asked: `grace_started_at = now` unless already set;
        5. the sync-log entry `writes.log`, appended.

        On every refusal and error no seat change, grace start or entry is written, and no
        record either on a backend with transactions (SQLite, memory: nothing at all); one
        without them may leave the record it wrote first (MongoDB), which is what the engine's
        next attempt writes again. An unknown organization raises LookupError. Returns
        SyncWritten with the user as stored afterwards.

        A backend may write the log entry (step 5 only) after answering, in batches, provided a
        crash can lose nothing but such entries: the record, the grace start and the seat
        change with its audit entries are durable when this returns. `BaseStorage` composes
        this from `record_sync`, `apply_changes`, `start_grace_period` and `append_sync_log`,
        each atomic but not the whole (a crash between two leaves the earlier ones written).
        """

    async def count_holders(self, organization_id: str, license_type: LicenseType) -> int:
        """How many users hold a seat of `license_type`."""

    async def holders_ranked_before(
        self, organization_id: str, license_type: LicenseType, assigned_at: datetime, key: str
    ) -> int:
        """How many holders of the type rank before `(assigned_at, key)` in SPEC 5's order."""

    async def find_longest_inactive_holder(
        self, organization_id: str, license_type: LicenseType, cutoff: datetime
    ) -> MobileUser | None:
        """The holder of the type inactive longest whose last activity is at or before `cutoff`.

        Last activity is `last_sync_at`, else `assigned_at`. Ties: older `assigned_at`, then
        smaller key (SPEC 4.6.2).
        """

    async def list_users(
        self, organization_id: str, query: UserQuery, first: int, after: tuple[str, str] | None
    ) -> list[MobileUser]:
        """Up to `first` users matching `query` in `user_sort_key` order, strictly after `after`."""

    async def count_users(self, organization_id: str, query: UserQuery) -> int:
        """How many users match `query`."""

    # -- logs ------------------------------------------------------------------------------

    async def append_sync_log(self, entry: SyncLogEntry) -> None:
        """Append one sync-log entry. A backend may drop the oldest entries beyond its retention."""

    async def list_sync_log(
        self, organization_id: str, query: LogQuery, first: int, after: tuple[datetime, str] | None
    ) -> list[SyncLogEntry]:
        """Up to `first` entries matching `query`, newest first (by `(at, id)`), strictly after `after`."""

    async def purge_sync_log(self, before: datetime) -> int:
        """Delete sync-log entries older than `before`; return how many."""

    async def list_audit_log(
        self, organization_id: str, query: LogQuery, first: int, after: tuple[datetime, str] | None
    ) -> list[AuditEntry]:
        """Up to `first` audit entries matching `query`, newest first (by `(at, id)`), strictly after `after`."""

    async def list_admin_log(
        self, organization_id: str, query: LogQuery, first: int, after: tuple[datetime, str] | None
    ) -> list[AdminLogEntry]:
        """Up to `first` administration-log entries of the organization in `query`'s time range
        (its other filters do not apply), newest first by `(at, id)`, strictly after `after`.
        Kept like the audit log: SPEC 8 sets a retention for the sync log only."""
