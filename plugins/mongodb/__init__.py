"""The MongoDB storage plugin (`mongodb://…`, `mongodb+srv://…`): one database shared by several
Seatkeeper processes, every invariant of SPEC 2 kept by MongoDB's single-document atomicity.

    SEATKEEPER_STORAGE="mongodb://db1,db2,db3/seatkeeper?replicaSet=rs0" seatkeeper serve --workers 4

URL, options, defaults and the settings refused at start-up: `config.py`. Documents:
`documents.py`. Indexes: `indexes.py`. Queries: `queries.py`. Change sets: `changes.py`. The
schedule explorer that checks all of this: `tests/plugins/test_mongodb_explorer.py`.

## No multi-document transactions

Each operation is one atomic single-document write, or a sequence of conditional writes that stays
correct if the process dies, loses an answer, or meets a failover between (or inside) any two of
them. The pieces:

* **users** — one document per (org, key), unique; unique (org, email_key) makes the e-mail
  check atomic (invariant 3). Both selectors and `held` (the seat type held) are written together
  by every change (invariant 2). `journal` is a change set's lock on the user.
* **counters** — per (org, seat type) `{holders, v}`. A seat is counted *before* any user holds
  it, by `find_one_and_update({holders: {$lte: limit - gain}}, {$inc: {holders: gain, v: 1}})`:
  the filter is the capacity check, so no interleaving of processes can count past the limit; a
  seat is uncounted *after* its user let it go. Hence `counter >= holders` at every instant and
  the holders never exceed capacity (invariant 1). A failure can only leave the counter too high
  (seats look taken: never an over-allocation), which `repair()` recounts.
* **journals** — the intent of a change set (its writes, audit entries, seats gained and
  released), written first and deleted last, so that repair can finish or undo it and a recount
  knows to wait. Stamped with the **server's** clock (`$currentDate`).

## Time

Every decision that a change set is stale is taken on the server's clock: journals and repair
claims are stamped `$currentDate`, repair reads the server's time from one document (`clock`)
stamped the same way, a refused reservation reads it from the counter it stamps. A process whose
wall clock is minutes off can neither take over a live change set nor leave a dead one alone.
The owner of a change set measures its own deadline on its monotonic clock: half of
`journalStaleSeconds` after it began, it sends no further write (ChangeSetAbandoned, a
StorageError) — it checks before *every* write, so a process paused past its deadline (a frozen
VM, a long GC) never writes behind repair's back. Repair touches a journal only once it is older
than `journalStaleSeconds` by the server's clock, and `journalStaleSeconds >= 2 x socketTimeoutMS`
is enforced (`config.py`): a write sent just before the deadline has landed or failed by then.

## Each operation, and what a failure at each step leaves

Every write is acknowledged by a majority (`w=majority`, `wTimeoutMS`) before the next is sent.
A failover during a single-document write is retried once by the driver (`retryWrites`) and lands
exactly once; any other error (a second failover, a majority timeout, a multi-document write cut
in part) reaches the owner as a StorageError, and the owner writes nothing more: the write may or
may not have landed, and repair decides from what the database shows. "Repair" below runs within
`journalStaleSeconds + repairSeconds` of the failure, in a running process (the periodic repair,
or at once when the organization is full and a reservation is refused), not at the next restart.

* **record_sync** — one `find_one_and_update(upsert=True, return_document=AFTER)`: `$setOnInsert`
  the new user, `$set` e-mail/name/lastSyncAt/lastRequired, `$min` firstSyncAt. A duplicate key
  on the e-mail index is EmailTaken (one extra read for the owner's id); on the id index (two first
  syncs racing) the loser retries and updates. Crash: it landed or it did not; nothing between.
* **start_grace_period** — `find_one_and_update({grace_started_at: null})`, a read if already set.
* **apply_changes, one existing user** (a sync's automatic assignment; one admin change):
  1. upsert the journal (kind `one`, `$currentDate`). Failure after: a journal with nothing done;
     repair finds the user neither locked by it nor holding its id in `ops`: deletes it.
  2. reserve the seat gained, if any (guarded `$inc`). Refused: the counter is stamped with the
     server's time (the same round trip reads the holders); if the organization has stale
     journals, repair them, recount, try once more; else delete the journal, SeatShortage.
     Failure after: counter one too high and a journal; repair deletes it and recounts.
  3. **the commit**: the user's conditional `update_one` (expected selectors and `journal: null`
     in the filter) sets both selectors, *locks the user* (`journal: id`) and pushes the id onto
     `ops`. A miss: release, delete journal, Conflict. Failure after: the user stays locked, so no
     other change set can change or delete it (they get Conflict, the engine decides again)
     until repair sees the lock, writes the audit entries, unlocks, deletes the journal and
     recounts — the proof of the commit cannot be lost (`ops` keeps only 16 ids).
  4. insert the audit entries (their own ids as `_id`: writing them twice keeps one).
  5. release the seat given up, if any (a switch). Failure before: counter too high; recount.
  6. unlock the user; 7. delete the journal. Failure between 6 and 7: repair finds the id in
     `ops`, writes the audit again (kept once), deletes the journal.
* **apply_changes, several users, creates, deletes** (bulk admin changes, pre-provisioning,
  deletion, imports, the automatic free-up that moves a seat):
  Users go in batches of `changes.BATCH` (10,000, and at most 4 MiB of keys and e-mails per
  filter whatever their characters): each step below is one write per batch, and a failure may
  stop between batches.
  1. the journal (kind `many`, `pending`; bodies over 500 items first in `journal_parts`,
     stamped with the server's time read once).
  2. lock: per batch, one `bulk_write` of `UpdateMany({key: {$in}, <expected selectors>,
     journal: null}, {$set: {journal: id}})`, one per distinct expectation. Fewer locked than
     the batch: stop, unlock, delete journal, Conflict.
  3. creates: a read for keys/e-mails already taken (AlreadyExists before anything is written).
  4. reserve the net seats gained per type (as in the one-user case, repair on refusal);
     refused: unlock, SeatShortage.
  5. insert the created users, locked and without their seats (ASSIGNED stored as UNASSIGNED
     until step 7: the net reservation may count on seats the change set frees); a duplicate
     key (a race) undoes 2–5. A write the driver refuses to send (a document too large) undoes
     2–5 at once and is a StorageError.
     Failure anywhere in 1–5 (a lock or an insert applied in part included): the journal is
     `pending`; repair unlocks the users, deletes the users this journal created, deletes the
     journal and recounts — nothing happened. A created user whose device synced meanwhile
     (`record_sync` removes its `created_by`) is kept, seatless: that sync was acknowledged.
  6. **the commit**: `update_one({_id, state: pending, repair_at: null}, {$set: {state:
     committed}})` — a repairer's claim on the journal wins over a late owner.
  7. apply, each step acknowledged before the next, seats let go before seats are taken:
     delete the users to delete; then per kind and batch one `bulk_write` of `UpdateMany`
     filtered on the keys and `journal: id`: the releases; the switches written *seatless* and
     still locked; the takes — the switchers' new seats, the users taking a seat from none, the
     created users' seats — unlocking; the users whose seat does not change; then unlock the
     other created users, insert the audit entries, release the seats given up, bump the
     version of every type whose holders moved at net zero (a free-up, a swap), delete the
     journal. Whatever part of a step a failover applied, no type has more holders than its
     counter: two opposite switches cut between their writes leave a user seatless for a moment,
     never two holders for one seat. Failure anywhere in 7: the journal is `committed`; repair
     runs step 7 again (each write is filtered on the lock or keyed by id: idempotent), then
     recounts.
  While locked, a user's other selector changes are refused (Conflict; the engine decides again);
  syncs still record it. Readers see the old selectors until step 7 (no dirty reads), except that
  the users being created are visible, locked and seatless, between steps 5 and 7, and a
  switching user is seen without a seat between its two writes.
* **count_holders** — read the counter (equal to the holders when no change set is in flight,
  never below them).
* **create_organization** — counters, default project, then the organization document: until
  the last write nobody can reach the others; a crash leaves unreachable leftovers only.
* **list_sync_log** — entries past `syncLogRetentionDays` are left out by the query itself: the
  TTL monitor deletes them a minute or more later (SPEC 8).
* **an unknown organization** — `record_sync` and `apply_changes` raise LookupError, the other
  writes write nothing (protocol, issue 11): one read the first time a process meets an
  organization (they are never deleted, so it is remembered). A change set short of seats of
  two types names the first in SEAT_TYPES order. Not followed yet: a create taking the id or
  e-mail of a user the same change set deletes is refused as AlreadyExists (created users are
  inserted, locked, before the commit; the deleted one goes after it).
* every other operation is one read or one single-document write.

`repair()` runs at `open()`, every `repairSeconds` in a running process, when a reservation is
refused in an organization with stale journals, and when a Conflict meets a user locked by a
stale journal. It claims each journal older than `journalStaleSeconds` (server time; a claim
itself goes stale after as long, so of several repairers one does the work), rolls it back or
forward as above — marking the organization's counters `recount_due` before it deletes the
journal, so that a repairer dying before its recount leaves the mark for the next one —, unlocks
users whose journal no longer exists (a write applied after repair had rolled its change set
back; the users it created are deleted), then **recounts** the counters of the organizations
touched or marked (the mark is removed by the recount's compare-and-set): read the counters' versions, check no journal of the organization
exists, count holders, check again, compare-and-set each counter on its version. Every change set
that moves the holders of a type bumps that type's version while its journal exists (`$inc` on
the holders, or a version-only bump for a net-zero move), so a recount that overlapped one is
either skipped (its journal seen) or discarded (a version moved) — counts on a real server are
not snapshots, and need not be.

## Options weighed (issue 15)

Measured with `tests/plugins/test_mongodb_round_trips.py`, `test_mongodb_bulk.py` and the
explorer (round trips on mongomock; `make bench BENCH_ARGS="--only B6"`):

* **server time for every staleness stamp** — taken. Free on the happy path (the journal's upsert
  stamps it); repair pays one write (`clock`); a refused reservation reads it from the counter
  write that replaces its read.
* **a version bump on every seat type a change set touches** — taken for the types moved at net
  zero (the others are bumped by their `$inc` already): one write per such type (a free-up: 1).
* **switches written as release-then-take** — taken in multi-user change sets: one more
  `bulk_write` per batch of switches. (A one-user switch is one atomic document write.)
* **periodic repair and repair on SeatShortage** — both taken: 5 round trips per process every
  `repairSeconds` when nothing is stale; on a refusal, 1 query for stale journals.
* **the one-user commit locks the user until its audit is written** — taken (finding 5): one more
  write (unlock) per one-user change: a sync's automatic assignment costs 8 round trips, not 7.
* **recount subtracting live reservations** — not taken: which reservations are live is known
  only from journals whose commit state the count cannot see atomically; waiting for no journal
  plus the version compare-and-set is exact and cheap.
* **multi-document transactions on replica sets** — not taken. mongomock has none, so the
  transactional path would be tested against nothing here (a snapshot-and-conflict simulator on
  mongomock would itself be untested code); standalone servers, used for development, would have
  to be refused; and a transaction costs as many round trips (start, writes, a majority commit,
  retried on TransientTransactionError) as the journal. Worth revisiting once CI runs the
  contract kit on a real replica set (SEATKEEPER_TEST_MONGODB_URI, `test_mongodb_contract.py`).

## Threads, not the asynchronous client

The protocol is async; pymongo's client blocks. Each protocol call runs in a worker thread of a
dedicated pool (`workerThreads`, default 32), so the event loop never waits for the database and a
multi-write `apply_changes` costs one thread hop, not one per round trip. Why not pymongo's
`AsyncMongoClient`: (1) mongomock, on which the contract kit and the crash tests run the plugin's
real code, only speaks the synchronous API — an async plugin would be tested against nothing;
(2) measured by `python -m benchmarks.mongodb_clients` against a loopback
wire-protocol stub (no mongomock, both clients doing their full work): one small `find` costs
0.43–0.50 ms through a thread against 0.64–0.84 ms with the async client, and 32 concurrent
requests get 2,100–2,900 op/s against 1,300–1,700 — the published figures hold here too;
(3) a multi-write `apply_changes` pays one thread hop, not one per write. The pool bounds
the concurrent operations per process; pymongo's connection pool (`maxPoolSize`, default 100)
stays larger than it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from bson.errors import InvalidDocument
from pymongo.errors import PyMongoError
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
from seatkeeper.storage.protocol import (
    ApplyResult,
    Capabilities,
    ChangeSet,
    LogQuery,
    StorageError,
    SyncWriteResult,
    SyncWrites,
    SyncWritten,
    UserQuery,
)

from .changes import ChangeSetAbandoned, ChangeWriter
from .config import MongoSettings, acquire_client, parse_url, release_client
from .indexes import ensure_indexes
from .store import MongoStore
from .sync_writes import write_sync

if TYPE_CHECKING:
    from pymongo import MongoClient

T = TypeVar("T")

__all__ = ["ChangeSetAbandoned", "MongoStorage"]


def one_line(error: BaseException) -> str:
    """A driver error as one short line: no topology dump, no stack."""
    text = str(error).split(", Timeout:")[0].split(", Topology Description:")[0]
    text = " ".join(text.split())
    return f"{type(error).__name__}: {text[:240]}"


class MongoStorage:
    """Storage in a MongoDB database. See the module docstring for how each promise is kept.

    `url` selects the servers, database and options (`config.py`). `client` is a ready client to
    use instead of the process's shared one (tests pass a `mongomock.MongoClient`); it is not
    closed by `close()`. Nothing connects before the first operation.
    """

    def __init__(
        self,
        url: str = "mongodb://localhost/seatkeeper",
        *,
        client: MongoClient[dict[str, Any]] | None = None,
    ) -> None:
        self.settings: MongoSettings = parse_url(url)
        self._injected = client
        self._client: MongoClient[dict[str, Any]] | None = None
        self._store: MongoStore | None = None
        self._writer: ChangeWriter | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._setup = threading.Lock()
        # Shared by every process on the database; a TTL index expires the sync log unless
        # `syncLogRetentionDays=0` turned it off.
        self.capabilities = Capabilities(
            shared_between_processes=True,
            thread_safe=True,
            durable=True,
            expires_sync_log=self.settings.sync_log_retention_days > 0,
        )
        self._indexed = False
        self._repairing: asyncio.Task[None] | None = None
        # The sync-log queue (write_sync): entries, how many were ever queued and written.
        self._log_lock = threading.Lock()
        self._log_queue: list[SyncLogEntry] = []
        self._log_queued = 0
        self._log_written = 0
        self._log_flush: Future[None] | None = None

    # -- plumbing --------------------------------------------------------------------------

    @property
    def store(self) -> MongoStore:
        """The blocking operations (created with the client on first use)."""
        return self._ready()[0]

    @property
    def writer(self) -> ChangeWriter:
        return self._ready()[1]

    def _ready(self) -> tuple[MongoStore, ChangeWriter]:
        """The store and its change writer, created with the client on first use."""
        if self._store is None or self._writer is None:
            with self._setup:
                if self._store is None or self._writer is None:
                    self._client = (
                        self._injected
                        if self._injected is not None
                        else acquire_client(self.settings)
                    )
                    store = MongoStore(
                        self._client[self.settings.database],
                        self.settings.cache_seconds,
                        self.settings.sync_log_retention_days,
                    )
                    self._writer = ChangeWriter(
                        store, timedelta(seconds=self.settings.journal_stale_seconds)
                    )
                    self._store = store
        return self._store, self._writer

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            with self._setup:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(
                        max_workers=self.settings.worker_threads,
                        thread_name_prefix="seatkeeper-mongodb",
                    )
        return self._executor

    async def _run(self, operation: Callable[[MongoStore, ChangeWriter], T]) -> T:
        """Run a blocking operation in the pool; driver failures become one-line StorageErrors."""

        def call() -> T:
            store, writer = self._ready()
            self._ensure_indexes(store)
            return operation(store, writer)

        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool(), call)
        except (PyMongoError, InvalidDocument) as error:
            raise StorageError(f"MongoDB at {self.settings.hosts}: {one_line(error)}") from error

    def _ensure_indexes(self, store: MongoStore) -> None:
        """The indexes, once per object: by `open()`, or by the first operation if the caller
        never opened it (without the unique indexes two users could share an e-mail)."""
        if not self._indexed:
            ensure_indexes(store.db, self.settings.sync_log_retention_days)
            self._indexed = True

    # -- lifecycle -------------------------------------------------------------------------

    async def open(self) -> None:
        """Create the indexes (idempotent), repair change sets that crashed processes left, and
        start the periodic repair (every `repairSeconds`) that runs until `close()`.

        With the database unreachable this fails after `serverSelectionTimeoutMS` with one line.
        """

        def prepare() -> None:
            store, writer = self._ready()
            self._indexed = False
            self._ensure_indexes(store)
            writer.repair()

        try:
            await asyncio.get_running_loop().run_in_executor(self._pool(), prepare)
        except PyMongoError as error:
            raise StorageError(
                f"MongoDB at {self.settings.hosts} is not usable: {one_line(error)}"
            ) from error
        if self._repairing is None:
            self._repairing = asyncio.get_running_loop().create_task(self._repair_periodically())

    async def _repair_periodically(self) -> None:
        """Repair stale change sets every `repairSeconds` while the process runs: a reservation
        or a lock left by a failover, a timeout or a dead process is undone within
        `journalStaleSeconds + repairSeconds`, not at the next restart. A failure (the database
        unreachable) is retried at the next period."""
        while True:
            await asyncio.sleep(self.settings.repair_seconds)
            try:
                await self._run(lambda s, w: w.repair(None, False))
            except (StorageError, RuntimeError):
                continue

    async def close(self) -> None:
        """Stop the periodic repair, give back the client (the last user closes it) and stop
        the worker threads."""
        if self._repairing is not None:
            self._repairing.cancel()
            self._repairing = None
        if self._executor is not None:
            await self._sync_log_written()
        if self._client is not None and self._injected is None:
            release_client(self.settings)
        self._client = self._store = self._writer = None
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    async def ping(self) -> None:
        """Return when a server answers; else StorageError with the reason on one line."""

        def ping() -> None:
            self._ready()[0].db.command("ping")

        try:
            await asyncio.get_running_loop().run_in_executor(self._pool(), ping)
        except PyMongoError as error:
            raise StorageError(
                f"MongoDB at {self.settings.hosts} is unreachable: {one_line(error)}"
            ) from error

    async def repair(
        self, stale_after: timedelta | None = None, recount_all: bool = False
    ) -> dict[str, int]:
        """Finish or roll back change sets older than `stale_after` (default journalStaleSeconds)
        and recount seat counters; see `ChangeWriter.repair`. Safe while other processes run."""
        return await self._run(lambda s, w: w.repair(stale_after, recount_all))

    # -- organizations, projects, settings ------------------------------------------------

    async def create_organization(
        self,
        organization: Organization,
        default_project: Project,
        *,
        log: AdminLogEntry | None = None,
    ) -> None:
        await self._run(lambda s, w: s.create_organization(organization, default_project, log))

    async def get_organization(self, organization_id: str) -> Organization | None:
        return await self._run(lambda s, w: s.get_organization(organization_id))

    async def list_organizations(self) -> list[Organization]:
        return await self._run(lambda s, w: s.list_organizations())

    async def update_settings(
        self, organization_id: str, settings: Settings, *, log: AdminLogEntry | None = None
    ) -> Organization | None:
        return await self._run(lambda s, w: s.update_settings(organization_id, settings, log))

    async def upsert_project(self, project: Project, *, log: AdminLogEntry | None = None) -> None:
        await self._run(lambda s, w: s.upsert_project(project, log))

    async def get_project(self, organization_id: str, project_id: str) -> Project | None:
        return await self._run(lambda s, w: s.get_project(organization_id, project_id))

    async def list_projects(self, organization_id: str) -> list[Project]:
        return await self._run(lambda s, w: s.list_projects(organization_id))

    # -- subscriptions ---------------------------------------------------------------------

    async def add_subscription(
        self, subscription: Subscription, *, log: AdminLogEntry | None = None
    ) -> None:
        await self._run(lambda s, w: s.add_subscription(subscription, log))

    async def list_subscriptions(self, organization_id: str) -> list[Subscription]:
        return await self._run(lambda s, w: s.list_subscriptions(organization_id))

    # -- tokens ----------------------------------------------------------------------------

    async def add_token(self, token: Token, *, log: AdminLogEntry | None = None) -> None:
        await self._run(lambda s, w: s.add_token(token, log))

    async def find_token(self, secret_hash: str) -> Token | None:
        return await self._run(lambda s, w: s.find_token(secret_hash))

    async def list_tokens(self, organization_id: str | None) -> list[Token]:
        return await self._run(lambda s, w: s.list_tokens(organization_id))

    async def set_token_budget(
        self,
        token_id: str,
        organization_id: str | None,
        requests_per_second: float | None,
        *,
        log: AdminLogEntry | None = None,
    ) -> Token | None:
        return await self._run(
            lambda s, w: s.set_token_budget(token_id, organization_id, requests_per_second, log)
        )

    async def touch_token(self, token_id: str, at: datetime) -> None:
        await self._run(lambda s, w: s.touch_token(token_id, at))

    async def revoke_token(
        self,
        token_id: str,
        organization_id: str | None,
        at: datetime,
        *,
        log: AdminLogEntry | None = None,
    ) -> Token | None:
        return await self._run(lambda s, w: s.revoke_token(token_id, organization_id, at, log))

    # -- users -----------------------------------------------------------------------------

    async def get_user(self, organization_id: str, key: str) -> MobileUser | None:
        return await self._run(lambda s, w: s.get_user(organization_id, key))

    async def get_users(self, organization_id: str, keys: list[str]) -> dict[str, MobileUser]:
        return await self._run(lambda s, w: s.get_users(organization_id, list(keys)))

    async def find_user_by_email(self, organization_id: str, email: str) -> MobileUser | None:
        return await self._run(lambda s, w: s.find_user_by_email(organization_id, email))

    async def record_sync(
        self,
        organization_id: str,
        user_id: str,
        email: str,
        full_name: str | None,
        required: LicenseType,
        now: datetime,
    ) -> MobileUser:
        return await self._run(
            lambda s, w: s.record_sync(organization_id, user_id, email, full_name, required, now)
        )

    async def start_grace_period(
        self, organization_id: str, key: str, now: datetime
    ) -> MobileUser | None:
        return await self._run(lambda s, w: s.start_grace_period(organization_id, key, now))

    async def apply_changes(self, change_set: ChangeSet) -> ApplyResult:
        return await self._run(lambda s, w: w.apply(change_set))

    async def write_sync(self, writes: SyncWrites) -> SyncWriteResult:
        """`sync_writes.write_sync` in one worker hop; the log entry queued after the answer."""
        result = await self._run(lambda s, w: write_sync(s, w, writes))
        if isinstance(result, SyncWritten):
            with self._log_lock:
                self._log_queue.append(writes.log)
                self._log_queued += 1
            # Submitted once this request's task yields: the answer goes out first.
            asyncio.get_running_loop().call_soon(self._flush_soon)
        return result

    def _flush_soon(self) -> None:
        with self._log_lock:
            if self._log_flush is not None or not self._log_queue:
                return
            self._log_flush = self._pool().submit(self._flush_sync_log)

    def _flush_sync_log(self) -> None:
        """In a worker thread: write every queued entry in one `insert_many`."""
        with self._log_lock:
            entries, self._log_queue = self._log_queue, []
            upto = self._log_queued
        try:
            if entries:
                store, _ = self._ready()
                self._ensure_indexes(store)
                store.append_sync_logs(entries)
        except Exception as error:  # noqa: BLE001 (the answers went out; say it, keep serving)
            logging.getLogger("seatkeeper").error(
                "MongoDB at %s: %d sync-log entries not written: %s",
                self.settings.hosts,
                len(entries),
                one_line(error),
            )
        finally:
            with self._log_lock:
                self._log_written = max(self._log_written, upto)
                self._log_flush = None
            self._flush_soon()

    async def flush_sync_log(self) -> None:
        """Wait until every sync-log entry this process queued before now is written."""
        await self._sync_log_written()

    async def _sync_log_written(self) -> None:
        """Wait until every entry this process queued before now is written."""
        target = self._log_queued
        while self._log_written < target:
            self._flush_soon()
            pending = self._log_flush
            if pending is None:
                await asyncio.sleep(0)
                continue
            await asyncio.wrap_future(pending)

    async def count_holders(self, organization_id: str, license_type: LicenseType) -> int:
        return await self._run(lambda s, w: s.count_holders(organization_id, license_type))

    async def holders_ranked_before(
        self, organization_id: str, license_type: LicenseType, assigned_at: datetime, key: str
    ) -> int:
        return await self._run(
            lambda s, w: s.holders_ranked_before(organization_id, license_type, assigned_at, key)
        )

    async def find_longest_inactive_holder(
        self, organization_id: str, license_type: LicenseType, cutoff: datetime
    ) -> MobileUser | None:
        return await self._run(
            lambda s, w: s.find_longest_inactive_holder(organization_id, license_type, cutoff)
        )

    async def list_users(
        self, organization_id: str, query: UserQuery, first: int, after: tuple[str, str] | None
    ) -> list[MobileUser]:
        return await self._run(lambda s, w: s.list_users(organization_id, query, first, after))

    async def count_users(self, organization_id: str, query: UserQuery) -> int:
        return await self._run(lambda s, w: s.count_users(organization_id, query))

    # -- logs ------------------------------------------------------------------------------

    async def append_sync_log(self, entry: SyncLogEntry) -> None:
        await self._run(lambda s, w: s.append_sync_log(entry))

    async def list_sync_log(
        self, organization_id: str, query: LogQuery, first: int, after: tuple[datetime, str] | None
    ) -> list[SyncLogEntry]:
        await self._sync_log_written()
        return await self._run(lambda s, w: s.list_sync_log(organization_id, query, first, after))

    async def purge_sync_log(self, before: datetime) -> int:
        await self._sync_log_written()
        return await self._run(lambda s, w: s.purge_sync_log(before))

    async def list_audit_log(
        self, organization_id: str, query: LogQuery, first: int, after: tuple[datetime, str] | None
    ) -> list[AuditEntry]:
        return await self._run(lambda s, w: s.list_audit_log(organization_id, query, first, after))

    async def list_admin_log(
        self, organization_id: str, query: LogQuery, first: int, after: tuple[datetime, str] | None
    ) -> list[AdminLogEntry]:
        return await self._run(lambda s, w: s.list_admin_log(organization_id, query, first, after))
