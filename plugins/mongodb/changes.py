"""`apply_changes` without multi-document transactions, and `repair`, which finishes what a failure left.

The tools: a **journal** document per change set (its intent: every write and audit entry, and the
seats it gains and releases per type), a **seat counter** per (organization, type) changed only by
guarded `$inc`, and **conditional user writes** carrying the expected selectors in the filter.
The step-by-step account of what a failure leaves is in the package docstring
(`seatkeeper.plugins.mongodb`); the rules that make it hold are few:

1. The journal is written first and deleted last, so every change set in flight is visible.
2. Seats are counted before any user holds them (`holders <= limit - gain` in the filter of the
   `$inc`) and uncounted only after the users let go; a roll-forward sends each step only once the
   previous one is acknowledged, lets seats go before seats are taken, and writes a switch as a
   release then a take. So the counter is never below the holders, even when a failover applied a
   multi-document write in part, and the guard alone keeps invariant 1.
3. A change set touching one existing user commits with that user's single conditional write,
   which also locks the user until the audit entries are written (so repair can always tell
   that it landed). A larger one first locks its users (`journal: <id>` set where the expected
   selectors still hold and no other change set holds the user), then commits by flipping its
   journal from `pending` to `committed` (one atomic write), then applies, unlocks and writes the
   audit. Before the commit, repair rolls back (unlock, delete created users); after, forward.
4. Time is the server's: journals and claims are stamped `$currentDate`, repair compares with
   the server's clock. The owner gives up (ChangeSetAbandoned) past half of the staleness age on
   its monotonic clock, checking before every write it sends; repair touches only journals older
   than the staleness age, and of several repairers one holds the claim: no two ever work on one
   change set at once.
5. Counters are recounted only when no journal of the organization exists, and written with a
   compare-and-set on their version, which every change set that moves holders of a type bumps
   (by its `$inc`, or a version-only bump when the number of holders does not change): a recount
   that raced with any seat change is thrown away.
6. Stale change sets are repaired by every running process every `repairSeconds`, and at once by
   a reservation refused in an organization that has some: a seat held by a dead process's
   reservation goes to whoever asks for it, without a restart.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from bson.errors import InvalidDocument
from pymongo import ReturnDocument, UpdateMany
from pymongo.errors import BulkWriteError
from seatkeeper.domain.records import SEAT_TYPES, LicenseState, LicenseType, user_key
from seatkeeper.storage.protocol import (
    AlreadyExists,
    Applied,
    ApplyResult,
    ChangeSet,
    Conflict,
    SeatShortage,
    StorageError,
    order_audit_entries,
)

from . import documents as docs
from .documents import Document
from .store import MongoStore, counter_id

log = logging.getLogger(__name__)
B = TypeVar("B")

OPS_HISTORY = 16  # change sets remembered on a user document (`ops`): how repair proves a commit
INLINE_ITEMS = 500  # larger change sets keep their body in `journal_parts` (16 MB per document)
PART_ITEMS = 1000
# Users (or audit entries, or journal items) per write of a large change set. Each write is one
# round trip, so a change set costs a few round trips per batch whatever its size; a batch keeps
# every filter well below MongoDB's 16 MB per document (10,000 ids of 128 characters and e-mails
# of 254, the longest allowed, make 4 MB), and a crash, or the owner's deadline, can stop between
# two batches.
BATCH = 10_000
# ...and never more than this many bytes of keys (and e-mails) in one filter: 10,000 of the
# longest ids and e-mails in 4-byte characters would be 21 MiB, over MongoDB's 16 MiB.
BATCH_BYTES = 4 * 1024 * 1024

# The order in which a committed change set rewrites its users: those that let a seat go before
# those that take one, so that the holders of a type never exceed its counter (which was raised
# by the *net* gain only). A switch (one type for another) lets a seat go and takes another: it
# comes after the pure releases and before the users that take a seat from none.
# A switch is written in two steps, release then take (`SWITCH` writes the user seatless, still
# locked; `TAKE` gives it the new seat): two opposite switches cut by a failover between two
# writes can then never leave a type with more holders than its counter.
RELEASE, SWITCH, TAKE, KEEP = range(4)


class ChangeSetAbandoned(StorageError):
    """The change set outlived its deadline; `repair` will finish or roll it back."""


def _held(selectors: Iterable[LicenseState]) -> str | None:
    return docs.held_value(*selectors)


def _item_bytes(item: object) -> int:
    """What an item adds to a filter that names it: its key (and e-mail), UTF-8, with overhead."""
    if isinstance(item, tuple):
        item = item[0]
    if isinstance(item, str):
        return len(item.encode()) + 16
    if isinstance(item, dict) and "key" in item:
        return len(item["key"].encode()) + len(item.get("email_key", "").encode()) + 32
    return 64


def _batches(items: Sequence[B], size: int | None = None) -> list[list[B]]:
    """`items` cut into consecutive lists of at most `size` (default `BATCH`) items and
    `BATCH_BYTES` bytes of keys (see `BATCH_BYTES`)."""
    size = size or BATCH
    batches: list[list[B]] = []
    current: list[B] = []
    weight = 0
    for item in items:
        cost = _item_bytes(item)
        if current and (len(current) >= size or weight + cost > BATCH_BYTES):
            batches.append(current)
            current, weight = [], 0
        current.append(item)
        weight += cost
    if current:
        batches.append(current)
    return batches


def _seatless(expected: list[str]) -> Document:
    """The fields of a switching user between its two writes: its old selectors with the seat
    let go (ASSIGNED -> UNASSIGNED), no seat held."""
    assigned, unassigned = LicenseState.ASSIGNED.value, LicenseState.UNASSIGNED.value
    standard, inspections = (unassigned if v == assigned else v for v in expected)
    return {"standard": standard, "inspections": inspections, "held": None, "assigned_at": None}


def _write_order(item: Document) -> int:
    """RELEASE, SWITCH, TAKE or KEEP for a journaled change (see `RELEASE`)."""
    before = docs.held_value(*(LicenseState(v) for v in item["expected"]))
    after = item["set"]["held"]
    if before == after:
        return KEEP
    if after is None:
        return RELEASE
    return TAKE if before is None else SWITCH


SELECTOR_FIELDS = ("standard", "inspections", "held", "assigned_at")


def _without_seat(created: docs.UserDocument) -> docs.UserDocument:
    """A user to create as it is inserted before the commit: any ASSIGNED selector UNASSIGNED,
    no seat held. It gets its seat at the roll-forward, after the seats that the change set lets
    go (a change set that frees seats for the users it creates reserves no seat for them)."""
    if created["held"] is None:
        return created
    assigned, unassigned = LicenseState.ASSIGNED.value, LicenseState.UNASSIGNED.value
    return {
        **created,
        "standard": unassigned if created["standard"] == assigned else created["standard"],
        "inspections": unassigned if created["inspections"] == assigned else created["inspections"],
        "held": None,
        "assigned_at": None,
    }


def _user_update(fields: Document, journal_id: str, record: bool, unlock: bool) -> Document:
    """A roll-forward write: the new fields; the lock removed (`unlock`); this change set's id
    pushed onto `ops` (`record`)."""
    update: Document = {"$set": fields}
    if unlock:
        update["$unset"] = {"journal": ""}
    if record:
        update["$push"] = {"ops": {"$each": [journal_id], "$slice": -OPS_HISTORY}}
    return update


def _key_filter(org: str, keys: list[str], **more: object) -> Document:
    """Users by key: equality for one (MongoDB's fastest plan), `$in` for several."""
    return {"org": org, "key": keys[0] if len(keys) == 1 else {"$in": keys}, **more}


def touched_types(change_set: ChangeSet) -> set[str]:
    """Every seat type whose holders the change set changes, net zero or not."""
    types: set[str] = set()
    for user in change_set.creates:
        if user.active_license is not None:
            types.add(user.active_license.value)
    for change in change_set.changes:
        before, after = _held(change.expected), _held((change.standard, change.inspections))
        if before != after:
            types |= {t for t in (before, after) if t}
    for deletion in change_set.deletes:
        before = _held(deletion.expected)
        if before:
            types.add(before)
    return types


def seat_deltas(change_set: ChangeSet) -> tuple[dict[str, int], dict[str, int]]:
    """(gains, losses) per seat type, from the *expected* selectors: a change set whose users are
    not as expected is refused anyway, so no read is needed to know what it would change."""
    net: dict[str, int] = defaultdict(int)
    for user in change_set.creates:
        if user.active_license is not None:
            net[user.active_license.value] += 1
    for change in change_set.changes:
        before, after = _held(change.expected), _held((change.standard, change.inspections))
        if before != after:
            if before:
                net[before] -= 1
            if after:
                net[after] += 1
    for deletion in change_set.deletes:
        before = _held(deletion.expected)
        if before:
            net[before] -= 1
    gains = {t: n for t, n in net.items() if n > 0}
    losses = {t: -n for t, n in net.items() if n < 0}
    return gains, losses


class ChangeWriter:
    """Applies change sets and repairs what crashed ones left behind, on one `MongoStore`."""

    def __init__(
        self,
        store: MongoStore,
        stale_after: timedelta = timedelta(seconds=120),
        wall_clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.stale_after = stale_after
        # Staleness is judged on the server's clock only (journals are stamped `$currentDate`,
        # repair reads `store.server_now()`): a process whose wall clock is minutes off can
        # neither take over a live change set nor leave a dead one alone. The wall clock is
        # kept for messages and tests; the owner's deadline runs on its monotonic clock.
        self.wall_clock = wall_clock or (lambda: datetime.now(UTC))
        self.monotonic: Callable[[], float] = lambda: time.monotonic()

    # ============================================================== apply

    def apply(self, change_set: ChangeSet) -> ApplyResult:
        if not self.store.known(change_set.organization_id):
            raise LookupError(f"organization {change_set.organization_id!r} does not exist")
        touched = [c.user_key for c in change_set.changes] + [
            d.user_key for d in change_set.deletes
        ]
        if len(set(touched)) != len(touched):
            return Conflict(tuple(touched))  # one user twice: no consistent expectation
        early = self._duplicate_creates(change_set)
        if early is not None:
            return early
        if change_set.order_audit and change_set.audit:
            # Fresh ids now, before the journal is written (repair re-inserts the journal's
            # entries by id, so they must not change after it): of entries at one instant, this
            # change set's list after those committed before it started to write, not after those
            # planned before it. Not as strict as memory and sqlite, which stamp inside their one
            # atomic step and also raise `at` to the newest entry's: that needs a read of the
            # newest entry, one more round trip on an auto-assigning sync, and would still leave
            # the window between this journal and the commit.
            change_set = replace(change_set, audit=order_audit_entries(change_set.audit, None))
        gains, losses = seat_deltas(change_set)
        # Types whose holders move but whose count does not (a free-up, a swap): their counter's
        # version is bumped all the same, so that a recount racing the change is discarded.
        moved = sorted(touched_types(change_set) - set(gains) - set(losses))
        if len(change_set.changes) == 1 and not change_set.creates and not change_set.deletes:
            return self._apply_one(change_set, gains, losses)
        return self._apply_many(change_set, gains, losses, moved)

    def _duplicate_creates(self, change_set: ChangeSet) -> AlreadyExists | None:
        keys, emails, seen_keys, seen_emails = [], [], set(), set()
        for user in change_set.creates:
            if user.key in seen_keys:
                keys.append(user.key)
            if user.email_key in seen_emails:
                emails.append(user.email_key)
            seen_keys.add(user.key)
            seen_emails.add(user.email_key)
        return AlreadyExists(tuple(keys), tuple(emails)) if keys or emails else None

    # -- one existing user: the user's own write is the commit ------------------------------

    def _apply_one(
        self, change_set: ChangeSet, gains: dict[str, int], losses: dict[str, int]
    ) -> ApplyResult:
        org = change_set.organization_id
        change = change_set.changes[0]
        audit = [docs.audit_document(e, user_key(e.user_id)) for e in change_set.audit]
        journal_id = uuid.uuid4().hex
        deadline = self._begin(
            {
                "_id": journal_id,
                "org": org,
                "kind": "one",
                "state": "pending",
                "key": change.user_key,
                "gains": gains,
                "losses": losses,
                "audit": audit,
            }
        )
        try:
            shortage = self._reserve(org, gains, change_set.seat_limits, deadline, journal_id)
            if shortage is not None:
                self._end(journal_id, deadline=deadline)
                return shortage
            self._check(deadline)
        except InvalidDocument:
            self._abandon(org, journal_id, deadline=deadline)  # refused before it was sent
            raise
        # The commit: the user's selectors, and its lock (`journal`), which stays until the
        # audit entries are written: while it stands no other change set can change or delete
        # the user, so repair can always tell whether this write landed (the user is locked by
        # this journal, or its id is in `ops`).
        written = self.store.users.update_one(
            {
                "org": org,
                "key": change.user_key,
                "standard": change.expected[0].value,
                "inspections": change.expected[1].value,
                "journal": None,
            },
            {
                "$set": {
                    **docs.selector_fields(change.standard, change.inspections, change.assigned_at),
                    "journal": journal_id,
                },
                "$push": {"ops": {"$each": [journal_id], "$slice": -OPS_HISTORY}},
            },
        )
        if written.matched_count == 0:
            self._release(org, gains, deadline)
            self._end(journal_id, deadline=deadline)
            self._help_stale([change.user_key], org)
            return Conflict((change.user_key,))
        self._check(deadline)
        self.store.write_audit_documents(audit)
        self._release(org, losses, deadline)
        self._unlock_one(org, change.user_key, journal_id, deadline)
        self._end(journal_id, deadline=deadline)
        return Applied()

    def _unlock_one(
        self, org: str, key: str, journal_id: str, deadline: float | None = None
    ) -> None:
        self._check(deadline)
        self.store.users.update_one(
            {"org": org, "key": key, "journal": journal_id}, {"$unset": {"journal": ""}}
        )

    def _abandon(
        self,
        org: str,
        journal_id: str,
        body: Document | None = None,
        parts: bool = False,
        deadline: float | None = None,
    ) -> None:
        """Undo at once a change set that stopped before its commit on a write the driver refused
        to send (a document too large): no reservation is left (the caller released it); unlock,
        delete its creates, delete the journal. Best effort, and only before the deadline: if
        the database fails here too, the journal stays and repair does the same later. (Past
        the deadline the owner writes nothing more: that is repair's work.)"""
        try:
            if body is not None:
                self._rollback(org, journal_id, body, deadline)
            self._end(journal_id, parts, deadline)
        except Exception as error:  # noqa: BLE001 - repair will finish the job
            log.warning("change set %s left to repair: %s", journal_id, error)

    # -- anything larger: lock, commit the journal, apply ----------------------------------

    def _apply_many(
        self, change_set: ChangeSet, gains: dict[str, int], losses: dict[str, int], moved: list[str]
    ) -> ApplyResult:
        org = change_set.organization_id
        journal_id = uuid.uuid4().hex
        body = {
            "changes": [
                {
                    "key": c.user_key,
                    "expected": [s.value for s in c.expected],
                    "set": docs.selector_fields(c.standard, c.inspections, c.assigned_at),
                }
                for c in change_set.changes
            ],
            "creates": [docs.user_document(u) for u in change_set.creates],
            "deletes": [
                {"key": d.user_key, "expected": [s.value for s in d.expected]}
                for d in change_set.deletes
            ],
            "audit": [docs.audit_document(e, user_key(e.user_id)) for e in change_set.audit],
        }
        header = {
            "_id": journal_id,
            "org": org,
            "kind": "many",
            "state": "pending",
            "gains": gains,
            "losses": losses,
            "moved": moved,
        }
        deadline = self._begin(header, body)
        parts = bool(header.get("parts"))
        try:
            early = self._prepare_many(change_set, org, journal_id, body, gains, parts, deadline)
        except InvalidDocument:
            self._abandon(org, journal_id, body, parts, deadline)
            raise
        if early is not None:
            return early
        # The commit point: from here on, repair rolls forward.
        self._check(deadline)
        committed = self.store.journals.update_one(
            {"_id": journal_id, "state": "pending", "repair_at": None},
            {"$set": {"state": "committed"}},
        )
        if committed.matched_count == 0:
            raise ChangeSetAbandoned("change set taken over by repair before its commit")
        self.finish(org, journal_id, body, losses, parts, deadline, moved)
        return Applied()

    def _prepare_many(
        self,
        change_set: ChangeSet,
        org: str,
        journal_id: str,
        body: Document,
        gains: dict[str, int],
        parts: bool,
        deadline: float,
    ) -> ApplyResult | None:
        """Steps 2-5 of a large change set (lock, check creates, reserve, insert creates): None
        when it may commit, else the refusal (everything undone)."""

        # Lock every changed or deleted user that is still as the engine read it.
        locked = self._lock(org, journal_id, body, deadline)
        if locked is not None:
            self._rollback(org, journal_id, body, deadline)
            self._end(journal_id, parts, deadline)
            self._help_stale(list(locked), org)
            return Conflict(locked)
        if body["creates"]:
            taken = self._taken(org, body["creates"])
            if taken is not None:
                self._rollback(org, journal_id, body, deadline)
                self._end(journal_id, parts, deadline)
                return taken
        shortage = self._reserve(org, gains, change_set.seat_limits, deadline, journal_id)
        if shortage is not None:
            self._rollback(org, journal_id, body, deadline)
            self._end(journal_id, parts, deadline)
            return shortage
        for batch in _batches(body["creates"]):
            try:
                self._check(deadline)
                self.store.users.insert_many(
                    [
                        {
                            **_without_seat(d),
                            "journal": journal_id,
                            "ops": [journal_id],
                            "created_by": journal_id,  # until a sync claims it: see _rollback
                        }
                        for d in batch
                    ],
                    ordered=False,
                )
            except InvalidDocument:
                self._release(org, gains, deadline)  # reserved above; this batch was not sent
                raise
            except BulkWriteError as error:
                if any(e.get("code") != 11000 for e in error.details.get("writeErrors", [])):
                    raise
                # Someone created one of these users since `_taken` looked: undo, and say who.
                self._rollback(org, journal_id, body, deadline)
                self._release(org, gains, deadline)
                self._end(journal_id, parts, deadline)
                return self._taken(org, body["creates"]) or AlreadyExists((), ())
        return None

    def _lock(
        self, org: str, journal_id: str, body: Document, deadline: float
    ) -> tuple[str, ...] | None:
        """Lock the users to change or delete; None when all are locked, else the keys that were
        not as expected (changed, deleted, or held by another change set).

        One write per batch: an `UpdateMany` per distinct expectation in the batch (at most nine
        pairs of selector states), filtered on the keys, the expected selectors and no lock. The
        matched count tells whether every user of the batch was as expected; at the first batch
        that falls short, locking stops and the batch's unlocked keys are the answer.
        """
        for batch in _batches(body["changes"] + body["deletes"]):
            groups: dict[tuple[str, str], list[str]] = defaultdict(list)
            for item in batch:
                groups[tuple(item["expected"])].append(item["key"])
            self._check(deadline)
            locked = self.store.users.bulk_write(
                [
                    UpdateMany(
                        _key_filter(
                            org, keys, standard=standard, inspections=inspections, journal=None
                        ),
                        {"$set": {"journal": journal_id}},
                    )
                    for (standard, inspections), keys in groups.items()
                ],
                ordered=False,  # disjoint keys: any order gives the same result
            ).matched_count
            if locked < len(batch):
                keys = [item["key"] for item in batch]
                mine = {
                    d["key"]
                    for d in self.store.users.find(
                        _key_filter(org, keys, journal=journal_id), {"key": 1}
                    )
                }
                return tuple(k for k in keys if k not in mine)
        return None

    def _taken(self, org: str, creates: list[Document]) -> AlreadyExists | None:
        """The creates whose key or e-mail another user has (AlreadyExists), or None."""
        taken_keys: set[str] = set()
        taken_emails: set[str] = set()
        for batch in _batches(creates):
            keys = [d["key"] for d in batch]
            emails = [d["email_key"] for d in batch]
            for found in self.store.users.find(
                {"org": org, "$or": [{"key": {"$in": keys}}, {"email_key": {"$in": emails}}]},
                {"key": 1, "email_key": 1},
            ):
                taken_keys.add(found["key"])
                taken_emails.add(found["email_key"])
        result = AlreadyExists(
            tuple(d["key"] for d in creates if d["key"] in taken_keys),
            tuple(d["email_key"] for d in creates if d["email_key"] in taken_emails),
        )
        return result if result.user_keys or result.emails else None

    def finish(
        self,
        org: str,
        journal_id: str,
        body: Document,
        losses: dict[str, int],
        parts: bool,
        deadline: float | None = None,
        moved: Sequence[str] = (),
        recount_due: bool = False,
    ) -> None:
        """Roll a committed change set forward: every step is idempotent (each user write is
        filtered on this change set's lock), so repair may run it again after a crash, or after
        a failover that applied a write in part. The owner passes its `deadline` and gives up
        past it, as before the commit: repair must never finish a change set while its owner
        still writes.

        Seats are let go before seats are taken (the counters were raised by the net gains only),
        each step acknowledged before the next is sent: the deletions first, then the changes
        kind after kind (`RELEASE`; `SWITCH`, the switching users written seatless and still
        locked; `TAKE`, the switching users' new seats with the users that take one, the created
        users among them; `KEEP`), one `bulk_write` per kind and batch. Whatever part of a step a
        failover applied, the holders of a type never exceed its counter. Users that share their
        new fields (most of a bulk change, which stamps one `assignedAt`) are one `UpdateMany`; a
        user keeping its seat keeps its own `assignedAt`, hence its own `UpdateMany` on its unique
        key (mongomock's `bulk_write` cannot take `UpdateOne` with pymongo >= 4.10, and on the
        unique key the two are alike).
        """
        users = self.store.users

        def check() -> None:
            if deadline is not None:
                self._check(deadline)

        for batch in _batches(body["deletes"]):
            check()
            users.delete_many(_key_filter(org, [d["key"] for d in batch], journal=journal_id))
        # kind -> (key, fields, whether the write records this change set in `ops`, unlocks)
        writes: dict[int, list[tuple[str, Document, bool, bool]]] = defaultdict(list)
        for item in body["changes"]:
            kind = _write_order(item)
            if kind == SWITCH:
                writes[SWITCH].append((item["key"], _seatless(item["expected"]), False, False))
                kind = TAKE
            writes[kind].append((item["key"], item["set"], True, True))
        for created in body["creates"]:
            if created["held"] is not None:  # inserted without its seat: see `_without_seat`
                writes[TAKE].append(
                    (created["key"], {f: created[f] for f in SELECTOR_FIELDS}, False, True)
                )
        for kind in sorted(writes):
            for batch in _batches(writes[kind]):
                groups: dict[tuple[object, ...], tuple[Document, bool, bool, list[str]]] = {}
                for key, fields, record, unlock in batch:
                    signature = (record, unlock, *sorted(fields.items()))
                    groups.setdefault(signature, (fields, record, unlock, []))[3].append(key)
                check()
                users.bulk_write(
                    [
                        UpdateMany(
                            _key_filter(org, keys, journal=journal_id),
                            _user_update(fields, journal_id, record, unlock),
                        )
                        for fields, record, unlock, keys in groups.values()
                    ],
                    ordered=False,  # one kind: no order needed within it
                )
        if any(created["held"] is None for created in body["creates"]):
            # The changed users are unlocked and the deleted ones gone: what this change set
            # still locks are the users it created without a seat.
            check()
            users.update_many({"org": org, "journal": journal_id}, {"$unset": {"journal": ""}})
        for batch in _batches(body["audit"]):
            check()
            self.store.write_audit_documents(batch)
        self._release(org, losses, deadline)
        self._touch(org, moved, deadline)
        if recount_due:  # repair: the counters are recounted instead of released
            self._recount_due(org)
        self._end(journal_id, parts, deadline)

    def _rollback(
        self, org: str, journal_id: str, body: Document, deadline: float | None = None
    ) -> None:
        """Undo an uncommitted change set: delete the users it created, unlock the others.

        A created user whose device synced meanwhile (`record_sync` removed its `created_by`)
        is kept, seatless and unlocked: that sync was acknowledged, as if it had come first."""
        users = self.store.users
        for batch in _batches(body["creates"]):
            self._check(deadline)
            users.delete_many(
                _key_filter(
                    org, [d["key"] for d in batch], journal=journal_id, created_by=journal_id
                )
            )
        if body["changes"] or body["deletes"] or body["creates"]:
            self._check(deadline)
            users.update_many({"org": org, "journal": journal_id}, {"$unset": {"journal": ""}})

    # -- the journal and the counters -------------------------------------------------------

    def _begin(self, header: Document, body: Document | None = None) -> float:
        """Write the journal (its body apart when large), stamped with the server's clock;
        return the owner's deadline (on this process's monotonic clock, taken before the write:
        the owner stops writing at most half of `stale_after` after the stamp)."""
        deadline = self.monotonic() + self.stale_after.total_seconds() / 2
        if body is not None:
            size = sum(len(v) for v in body.values())
            if size <= INLINE_ITEMS:
                header.update(body)
            else:
                parts = []
                for name, items in body.items():
                    for start in range(0, len(items), PART_ITEMS):
                        parts.append({name: items[start : start + PART_ITEMS]})
                header["parts"] = len(parts)
                stamp = self.store.server_now()  # orphaned parts are found by their age
                documents = [
                    {
                        "journal": header["_id"],
                        "n": n,
                        "org": header["org"],
                        "at": stamp,
                        "body": part,
                    }
                    for n, part in enumerate(parts)
                ]
                # A few parts per write (BATCH items): a message of a few MB, whatever the size.
                for batch in _batches(documents, max(1, BATCH // PART_ITEMS)):
                    self.store.journal_parts.insert_many(batch)
        fields = {k: v for k, v in header.items() if k != "_id"}
        # An upsert rather than an insert: `$currentDate` stamps the server's time, and a
        # retried write (after a failover) finds the journal already there.
        self.store.journals.update_one(
            {"_id": header["_id"]},
            {"$setOnInsert": fields, "$currentDate": {"at": True}},
            upsert=True,
        )
        return deadline

    def _end(self, journal_id: str, parts: bool = False, deadline: float | None = None) -> None:
        self._check(deadline)
        self.store.journals.delete_one({"_id": journal_id})
        if parts:
            self._check(deadline)
            self.store.journal_parts.delete_many({"journal": journal_id})

    def _check(self, deadline: float | None) -> None:
        """Give up past the deadline: repair may take this change set over after twice as long.

        The owner checks before every write it sends (None: repair, which has no deadline): a
        write sent after a pause (a stalled VM, a long GC) could otherwise land after repair
        rolled the change set back or forward, and undo its work (release a seat twice)."""
        if deadline is not None and self.monotonic() > deadline:
            raise ChangeSetAbandoned(
                "a change set took longer than half of journalStaleSeconds; repair will finish it"
            )

    def _reserve(
        self,
        org: str,
        gains: dict[str, int],
        limits: Mapping[LicenseType, int],
        deadline: float,
        journal_id: str,
    ) -> SeatShortage | None:
        """Count the gained seats, each type under its guard; undo them all if one is refused.

        A refusal first repairs the organization's stale change sets, if any (one indexed query
        when there are none), recounts, and tries once more: a seat held by a dead process's
        reservation goes to whoever asks for it, without waiting for a restart."""
        for attempt in range(2):
            done: dict[str, int] = {}
            refused = None
            # In SEAT_TYPES order: of two short types, the first is named (protocol, issue 11).
            for license_type in [t for t in SEAT_TYPES if t.value in gains]:
                type_name, gain = license_type.value, gains[license_type.value]
                self._check(deadline)  # past it, repair gives back what `done` counted
                answer = self._increment_guarded(
                    org, license_type, gain, limits.get(license_type, 0)
                )
                if answer is not None:
                    refused = (license_type, answer, gain)
                    break
                done[type_name] = gain
            if refused is None:
                return None
            self._release(org, done, deadline)  # nothing of ours counted: a recount may run now
            license_type, (holders, server_now), gain = refused
            if attempt == 0 and self._repair_stale_of(org, server_now, journal_id):
                continue
            return SeatShortage(license_type, holders, gain)
        return None  # not reached

    def _increment_guarded(
        self, org: str, license_type: LicenseType, gain: int, limit: int
    ) -> tuple[int, datetime] | None:
        """`$inc` the counter if `holders <= limit - gain`: None if it did, else (the holders,
        the server's time), read by one write that stamps `$currentDate` on the counter."""
        counters, key = self.store.counters, counter_id(org, license_type)
        for _ in range(2):
            if counters.find_one_and_update(
                {"_id": key, "holders": {"$lte": limit - gain}}, {"$inc": {"holders": gain, "v": 1}}
            ):
                return None
            doc = counters.find_one_and_update(
                {"_id": key},
                {"$currentDate": {"refused_at": True}},
                {"holders": 1, "refused_at": 1},
                return_document=ReturnDocument.AFTER,
            )
            if doc is not None:
                return doc["holders"], docs.to_bson_time(doc["refused_at"])
            self._create_counter(org, license_type)
        return self.store.count_holders(org, license_type), self.store.server_now()

    def _create_counter(self, org: str, license_type: LicenseType) -> None:
        """A counter for an organization made before this plugin kept one: count, then insert
        if still absent (a seat released meanwhile leaves it too high, never too low)."""
        holders = self.store.users.count_documents({"org": org, "held": license_type.value})
        self.store.counters.update_one(
            {"_id": counter_id(org, license_type)},
            {"$setOnInsert": {"org": org, "type": license_type.value, "holders": holders, "v": 0}},
            upsert=True,
        )

    def _release(self, org: str, amounts: Document, deadline: float | None = None) -> None:
        for type_name, amount in sorted(amounts.items()):
            if amount:
                self._check(deadline)
                self.store.counters.update_one(
                    {"_id": counter_id(org, LicenseType(type_name))},
                    {"$inc": {"holders": -amount, "v": 1}},
                )

    def _touch(self, org: str, types: Iterable[str], deadline: float | None = None) -> None:
        """Bump the version of counters whose holders moved without their number changing."""
        for type_name in types:
            self._check(deadline)
            self.store.counters.update_one(
                {"_id": counter_id(org, LicenseType(type_name))}, {"$inc": {"v": 1}}
            )

    # ============================================================== repair

    def repair(
        self, stale_after: timedelta | None = None, recount_all: bool = False
    ) -> dict[str, int]:
        """Finish or roll back every journal older than `stale_after` by the server's clock,
        unlock users left locked by a journal that no longer exists, then recount the seat
        counters of the organizations they touched (of all, with `recount_all`).

        Safe to run while other processes serve requests, and from several processes at once:
        each journal is claimed by one repairer (a claim itself goes stale after `stale_after`).
        Returns counts: `rolled_forward`, `rolled_back`, `recounted`, `recount_skipped` (an
        organization with a change set in flight: its counters are left for the next repair).
        """
        stale_after = self.stale_after if stale_after is None else stale_after
        cutoff = self.store.server_now() - stale_after
        report = {"rolled_forward": 0, "rolled_back": 0, "recounted": 0, "recount_skipped": 0}
        organizations: set[str] = set()
        for journal in list(self.store.journals.find({"at": {"$lte": cutoff}})):
            outcome = self._repair_journal(journal, cutoff)
            if outcome:
                report[outcome] += 1
            organizations.add(journal["org"])
        # Bodies whose header was never written (a crash between the two inserts).
        for part in list(self.store.journal_parts.find({"at": {"$lte": cutoff}}, {"journal": 1})):
            if self.store.journals.find_one({"_id": part["journal"]}, {"_id": 1}) is None:
                self.store.journal_parts.delete_many({"journal": part["journal"]})
        organizations |= self._sweep_orphan_locks()
        organizations |= {
            d["org"] for d in self.store.counters.find({"recount_due": True}, {"org": 1})
        }
        if recount_all:
            organizations |= {d["_id"] for d in self.store.organizations.find({}, {"_id": 1})}
        for org in sorted(organizations):
            report["recounted" if self.recount(org) else "recount_skipped"] += 1
        return report

    def _sweep_orphan_locks(self) -> set[str]:
        """Users locked by a journal that no longer exists: a write of its owner applied after
        repair had rolled the change set back (a write delayed past `journalStaleSeconds`).
        Users it created are deleted (they were created locked and seatless: the change set
        never committed, or its lock would have been lifted before its journal went), the others
        unlocked. Every write is filtered on the dead lock. Returns the organizations touched."""
        locks = {
            (d["org"], d["journal"])
            for d in self.store.users.find(
                {"journal": {"$type": "string"}}, {"org": 1, "journal": 1}
            )
        }
        if not locks:
            return set()
        alive = {
            d["_id"]
            for d in self.store.journals.find(
                {"_id": {"$in": sorted({j for _, j in locks})}}, {"_id": 1}
            )
        }
        touched = set()
        for org, journal_id in sorted(locks):
            if journal_id in alive:
                continue
            self.store.users.delete_many(
                {"org": org, "journal": journal_id, "created_by": journal_id}
            )
            self.store.users.update_many(
                {"org": org, "journal": journal_id}, {"$unset": {"journal": ""}}
            )
            touched.add(org)
        return touched

    def _repair_journal(self, journal: Document, cutoff: datetime) -> str | None:
        """Finish (rolled_forward) or undo (rolled_back) one stale change set."""
        journal_id, org = journal["_id"], journal["org"]
        # Claim it, unless another repairer holds a fresh claim: one of them does the work.
        claimed = self.store.journals.find_one_and_update(
            {"_id": journal_id, "$or": [{"repair_at": None}, {"repair_at": {"$lte": cutoff}}]},
            {"$currentDate": {"repair_at": True}},
        )
        if claimed is None:
            return None
        if journal["kind"] == "one":
            # The commit locks the user with this journal until its audit entries are written:
            # locked, it landed and the audit may be missing; unlocked with the id in `ops`, it
            # landed and was finished; neither, it never landed.
            key = journal["key"]
            locked = self.store.users.find_one(
                {"org": org, "key": key, "journal": journal_id}, {"_id": 1}
            )
            landed = locked is not None or (
                self.store.users.find_one({"org": org, "key": key, "ops": journal_id}, {"_id": 1})
                is not None
            )
            if landed:
                self.store.write_audit_documents(journal["audit"])
            if locked is not None:
                self._unlock_one(org, key, journal_id)
            self._recount_due(org)
            self._end(journal_id)
            return "rolled_forward" if landed else "rolled_back"
        body = self._body(journal)
        if claimed["state"] == "committed":
            self.finish(org, journal_id, body, {}, True, recount_due=True)
            return "rolled_forward"
        self._rollback(org, journal_id, body)
        self._recount_due(org)
        self._end(journal_id, True)
        return "rolled_back"

    def _recount_due(self, org: str) -> None:
        """Mark the organization's counters for a recount before repair deletes a journal (whose
        seats it did not give back): a repairer that dies before its recount leaves the mark,
        and the next repair recounts — the counter would otherwise stay too high for good. The
        mark bumps the versions, as every change of holders inside a journal's life must (rule
        5): repair's roll-forward moves holders without `$inc`."""
        # The version moves too: a recount that counted while repair rewrote users is discarded.
        self.store.counters.update_many(
            {"org": org}, {"$set": {"recount_due": True}, "$inc": {"v": 1}}
        )

    def _body(self, journal: Document) -> Document:
        body = {
            name: list(journal.get(name, [])) for name in ("changes", "creates", "deletes", "audit")
        }
        if journal.get("parts"):
            for part in self.store.journal_parts.find({"journal": journal["_id"]}, sort=[("n", 1)]):
                for name, items in part["body"].items():
                    body[name] += items
        return body

    def _repair_stale_of(self, org: str, now: datetime, own: str) -> bool:
        """Repair the organization's change sets that are stale at the server's `now`, and
        recount (ignoring the caller's own journal `own`, which has counted nothing and written
        no user yet); True if there were any (one indexed query when there are none)."""
        cutoff = now - self.stale_after
        stale = list(self.store.journals.find({"org": org, "at": {"$lte": cutoff}}))
        if not stale:
            return False
        for journal in stale:
            self._repair_journal(journal, cutoff)
        self.recount(org, ignore=own)
        return True

    def _help_stale(self, keys: list[str], org: str) -> None:
        """After a conflict: if a user is held by a change set whose owner died, repair that one
        (the engine decides again and then finds the user free)."""
        holders = {
            d["journal"]
            for d in self.store.users.find(
                {"org": org, "key": {"$in": keys}, "journal": {"$ne": None}}, {"journal": 1}
            )
        }
        if not holders:
            return
        cutoff = self.store.server_now() - self.stale_after
        for journal in list(
            self.store.journals.find({"_id": {"$in": list(holders)}, "at": {"$lte": cutoff}})
        ):
            self._repair_journal(journal, cutoff)
            self.recount(org)

    def recount(self, org: str, ignore: str | None = None) -> bool:
        """Set each seat counter of `org` to the number of holders, if no change set is in flight.

        Read the counters' versions, check that no journal of the organization exists, count the
        holders, check again, then write each count only if its counter's version is unchanged.
        Every seat change happens inside a journal's lifetime and bumps the version, so a count
        that a concurrent change could have made wrong is never written.
        """
        ids = [counter_id(org, t) for t in SEAT_TYPES]
        versions = {
            d["_id"]: d.get("v", 0)
            for d in self.store.counters.find({"_id": {"$in": ids}}, {"v": 1})
        }
        in_flight = {"org": org} if ignore is None else {"org": org, "_id": {"$ne": ignore}}
        if self.store.journals.find_one(in_flight, {"_id": 1}) is not None:
            return False
        counts = {
            t: self.store.users.count_documents({"org": org, "held": t.value}) for t in SEAT_TYPES
        }
        if self.store.journals.find_one(in_flight, {"_id": 1}) is not None:
            return False
        for license_type in SEAT_TYPES:
            key = counter_id(org, license_type)
            if key not in versions:
                self._create_counter(org, license_type)
                continue
            self.store.counters.update_one(
                {"_id": key, "v": versions[key]},
                {
                    "$set": {"holders": counts[license_type]},
                    "$inc": {"v": 1},
                    "$unset": {"recount_due": ""},
                },
            )
        return True
