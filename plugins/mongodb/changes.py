"""`apply_changes` without multi-document transactions, and `repair`, which finishes what a crash left.

The tools: a **journal** document per change set (its intent: every write and audit entry, and the
seats it gains and releases per type), a **seat counter** per (organization, type) changed only by
guarded `$inc`, and **conditional user writes** carrying the expected selectors in the filter.
The crash-by-crash account is in the package docstring (`seatkeeper.plugins.mongodb`); the rules
that make it hold are few:

1. The journal is written first and deleted last, so every change set in flight is visible.
2. Seats are counted before any user holds them (`holders <= limit - gain` in the filter of the
   `$inc`) and uncounted only after the users let go: the counter is never below the holders,
   so the guard alone keeps invariant 1, whatever the interleaving of processes.
3. A change set touching one existing user commits with that user's single conditional write.
   A larger one first locks its users (`journal: <id>` set where the expected selectors still
   hold and no other change set holds the user), then commits by flipping its journal from
   `pending` to `committed` (one atomic write), then applies, unlocks and writes the audit.
   Before the commit, repair rolls back (unlock, delete created users); after, it rolls forward.
4. The owner of a journal gives up (leaving it to repair) past half its staleness age, and repair
   touches only journals older than that age: the two never work on one change set at once.
5. Counters are recounted only when no journal of the organization exists, and written with a
   compare-and-set on their version, which every `$inc` bumps: a recount that raced with any
   seat change is thrown away.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pymongo import UpdateMany
from pymongo.errors import BulkWriteError
from seatkeeper.rules.records import SEAT_TYPES, LicenseState, LicenseType, user_key
from seatkeeper.storage.protocol import (
    AlreadyExists,
    Applied,
    ApplyResult,
    ChangeSet,
    Conflict,
    SeatShortage,
    StorageError,
)

from . import documents as docs
from .store import MongoStore, counter_id

OPS_HISTORY = 16  # change sets remembered on a user document (`ops`): how repair proves a commit
INLINE_ITEMS = 500  # larger change sets keep their body in `journal_parts` (16 MB per document)
PART_ITEMS = 1000
# Users (or audit entries, or journal items) per write of a large change set. Each write is one
# round trip, so a change set costs a few round trips per batch whatever its size; a batch keeps
# every filter well below MongoDB's 16 MB per document (10,000 ids of 128 characters and e-mails
# of 254, the longest allowed, make 4 MB), and a crash, or the owner's deadline, can stop between
# two batches.
BATCH = 10_000

# The order in which a committed change set rewrites its users: those that let a seat go before
# those that take one, so that the holders of a type never exceed its counter (which was raised
# by the *net* gain only). A switch (one type for another) lets a seat go and takes another: it
# comes after the pure releases and before the users that take a seat from none.
RELEASE, SWITCH, TAKE, KEEP = range(4)


class ChangeSetAbandoned(StorageError):
    """The change set outlived its deadline; `repair` will finish or roll it back."""


def _held(selectors) -> str | None:
    return docs.held_value(*selectors)


def _batches(items: list, size: int | None = None) -> list[list]:
    """`items` cut into consecutive lists of at most `size` (default `BATCH`)."""
    size = size or BATCH
    return [items[start : start + size] for start in range(0, len(items), size)]


def _write_order(item: dict) -> int:
    """RELEASE, SWITCH, TAKE or KEEP for a journaled change (see `RELEASE`)."""
    before = docs.held_value(*(LicenseState(v) for v in item["expected"]))
    after = item["set"]["held"]
    if before == after:
        return KEEP
    if after is None:
        return RELEASE
    return TAKE if before is None else SWITCH


SELECTOR_FIELDS = ("standard", "inspections", "held", "assigned_at")


def _without_seat(created: dict) -> dict:
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


def _key_filter(org: str, keys: list[str], **more) -> dict:
    """Users by key: equality for one (MongoDB's fastest plan), `$in` for several."""
    return {"org": org, "key": keys[0] if len(keys) == 1 else {"$in": keys}, **more}


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
        # Journals are stamped with the wall clock (not the engine's clock, which tests fake):
        # staleness is about real processes dying.
        self.wall_clock = wall_clock or (lambda: datetime.now(UTC))

    # ============================================================== apply

    def apply(self, change_set: ChangeSet) -> ApplyResult:
        touched = [c.user_key for c in change_set.changes] + [
            d.user_key for d in change_set.deletes
        ]
        if len(set(touched)) != len(touched):
            return Conflict(tuple(touched))  # one user twice: no consistent expectation
        early = self._duplicate_creates(change_set)
        if early is not None:
            return early
        gains, losses = seat_deltas(change_set)
        if len(change_set.changes) == 1 and not change_set.creates and not change_set.deletes:
            return self._apply_one(change_set, gains, losses)
        return self._apply_many(change_set, gains, losses)

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

    def _apply_one(self, change_set: ChangeSet, gains: dict, losses: dict) -> ApplyResult:
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
        shortage = self._reserve(org, gains, change_set.seat_limits, deadline)
        if shortage is not None:
            self._end(journal_id)
            return shortage
        self._check(deadline)
        written = self.store.users.update_one(
            {
                "org": org,
                "key": change.user_key,
                "standard": change.expected[0].value,
                "inspections": change.expected[1].value,
                "journal": None,
            },
            {
                "$set": docs.selector_fields(
                    change.standard, change.inspections, change.assigned_at
                ),
                "$push": {"ops": {"$each": [journal_id], "$slice": -OPS_HISTORY}},
            },
        )
        if written.matched_count == 0:
            self._release(org, gains)
            self._end(journal_id)
            self._help_stale([change.user_key], org)
            return Conflict((change.user_key,))
        self.store.write_audit_documents(audit)
        self._release(org, losses)
        self._end(journal_id)
        return Applied()

    # -- anything larger: lock, commit the journal, apply ----------------------------------

    def _apply_many(self, change_set: ChangeSet, gains: dict, losses: dict) -> ApplyResult:
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
        }
        deadline = self._begin(header, body)
        parts = bool(header.get("parts"))

        # Lock every changed or deleted user that is still as the engine read it.
        locked = self._lock(org, journal_id, body, deadline)
        if locked is not None:
            self._rollback(org, journal_id, body)
            self._end(journal_id, parts)
            self._help_stale(list(locked), org)
            return Conflict(locked)
        if body["creates"]:
            taken = self._taken(org, body["creates"])
            if taken is not None:
                self._rollback(org, journal_id, body)
                self._end(journal_id, parts)
                return taken
        shortage = self._reserve(org, gains, change_set.seat_limits, deadline)
        if shortage is not None:
            self._rollback(org, journal_id, body)
            self._end(journal_id, parts)
            return shortage
        for batch in _batches(body["creates"]):
            self._check(deadline)
            try:
                self.store.users.insert_many(
                    [
                        {**_without_seat(d), "journal": journal_id, "ops": [journal_id]}
                        for d in batch
                    ],
                    ordered=False,
                )
            except BulkWriteError as error:
                if any(e.get("code") != 11000 for e in error.details.get("writeErrors", [])):
                    raise
                # Someone created one of these users since `_taken` looked: undo, and say who.
                self._rollback(org, journal_id, body)
                self._release(org, gains)
                self._end(journal_id, parts)
                return self._taken(org, body["creates"]) or AlreadyExists((), ())
        # The commit point: from here on, repair rolls forward.
        self._check(deadline)
        committed = self.store.journals.update_one(
            {"_id": journal_id, "state": "pending", "repair_at": None},
            {"$set": {"state": "committed"}},
        )
        if committed.matched_count == 0:
            raise ChangeSetAbandoned("change set taken over by repair before its commit")
        self.finish(org, journal_id, body, losses, parts, deadline)
        return Applied()

    def _lock(
        self, org: str, journal_id: str, body: dict, deadline: float
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

    def _taken(self, org: str, creates: list[dict]) -> AlreadyExists | None:
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
        body: dict,
        losses: dict,
        parts: bool,
        deadline: float | None = None,
    ) -> None:
        """Roll a committed change set forward: every step is idempotent (each user write is
        filtered on this change set's lock, which it removes), so repair may run it again after a
        crash in the middle of it. The owner passes its `deadline` and gives up past it, as before
        the commit: repair must never finish a change set while its owner still writes.

        Seats are let go before seats are taken (the counters were raised by the net gains only):
        the deletions first, then the changes kind after kind (`RELEASE, SWITCH, TAKE, KEEP`),
        the created users getting their seats with the TAKE kind, one `bulk_write` per kind and
        batch. Users that share their new fields (most of a bulk change, which stamps one
        `assignedAt`) are one `UpdateMany`; a user keeping its seat keeps its own `assignedAt`,
        hence its own `UpdateMany` on its unique key (mongomock's `bulk_write` cannot take
        `UpdateOne` with pymongo >= 4.10, and on the unique key the two are alike).
        """
        users = self.store.users

        def check() -> None:
            if deadline is not None:
                self._check(deadline)

        for batch in _batches(body["deletes"]):
            check()
            users.delete_many(_key_filter(org, [d["key"] for d in batch], journal=journal_id))
        # (kind, key, fields, whether the write records this change set in the user's `ops`)
        writes: dict[int, list[tuple[str, dict, bool]]] = defaultdict(list)
        for item in body["changes"]:
            writes[_write_order(item)].append((item["key"], item["set"], True))
        for created in body["creates"]:
            if created["held"] is not None:  # inserted without its seat: see `_without_seat`
                writes[TAKE].append(
                    (created["key"], {f: created[f] for f in SELECTOR_FIELDS}, False)
                )
        for kind in sorted(writes):
            for batch in _batches(writes[kind]):
                groups: dict[tuple, tuple[dict, bool, list[str]]] = {}
                for key, fields, record in batch:
                    signature = (record, *sorted(fields.items()))
                    groups.setdefault(signature, (fields, record, []))[2].append(key)
                check()
                users.bulk_write(
                    [
                        UpdateMany(
                            _key_filter(org, keys, journal=journal_id),
                            {
                                "$set": fields,
                                "$unset": {"journal": ""},
                                **(
                                    {
                                        "$push": {
                                            "ops": {"$each": [journal_id], "$slice": -OPS_HISTORY}
                                        }
                                    }
                                    if record
                                    else {}
                                ),
                            },
                        )
                        for fields, record, keys in groups.values()
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
        check()
        self._release(org, losses)
        self._end(journal_id, parts)

    def _rollback(self, org: str, journal_id: str, body: dict) -> None:
        """Undo an uncommitted change set: delete the users it created, unlock the others."""
        users = self.store.users
        for batch in _batches(body["creates"]):
            users.delete_many(_key_filter(org, [d["key"] for d in batch], journal=journal_id))
        if body["changes"] or body["deletes"]:
            users.update_many({"org": org, "journal": journal_id}, {"$unset": {"journal": ""}})

    # -- the journal and the counters -------------------------------------------------------

    def _begin(self, header: dict, body: dict | None = None) -> float:
        """Write the journal (its body apart when large); return the owner's deadline."""
        header["at"] = docs.to_bson_time(self.wall_clock())
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
                documents = [
                    {
                        "journal": header["_id"],
                        "n": n,
                        "org": header["org"],
                        "at": header["at"],
                        "body": part,
                    }
                    for n, part in enumerate(parts)
                ]
                # A few parts per write (BATCH items): a message of a few MB, whatever the size.
                for batch in _batches(documents, max(1, BATCH // PART_ITEMS)):
                    self.store.journal_parts.insert_many(batch)
        self.store.journals.insert_one(header)
        return time.monotonic() + self.stale_after.total_seconds() / 2

    def _end(self, journal_id: str, parts: bool = False) -> None:
        self.store.journals.delete_one({"_id": journal_id})
        if parts:
            self.store.journal_parts.delete_many({"journal": journal_id})

    def _check(self, deadline: float) -> None:
        """Give up past the deadline: repair may take this change set over after twice as long."""
        if time.monotonic() > deadline:
            raise ChangeSetAbandoned(
                "a change set took longer than half of journalStaleSeconds; repair will finish it"
            )

    def _reserve(self, org: str, gains: dict, limits: dict, deadline: float) -> SeatShortage | None:
        """Count the gained seats, each type under its guard; undo them all if one is refused."""
        done: dict[str, int] = {}
        for type_name, gain in sorted(gains.items()):
            license_type = LicenseType(type_name)
            limit = limits.get(license_type, 0)
            self._check(deadline)
            holders = self._increment_guarded(org, license_type, gain, limit)
            if holders is not None:
                self._release(org, done)
                return SeatShortage(license_type, holders, gain)
            done[type_name] = gain
        return None

    def _increment_guarded(
        self, org: str, license_type: LicenseType, gain: int, limit: int
    ) -> int | None:
        """`$inc` the counter if `holders <= limit - gain`; None if it did, else the holders."""
        counters, key = self.store.counters, counter_id(org, license_type)
        for _ in range(2):
            if counters.find_one_and_update(
                {"_id": key, "holders": {"$lte": limit - gain}}, {"$inc": {"holders": gain, "v": 1}}
            ):
                return None
            doc = counters.find_one({"_id": key}, {"holders": 1})
            if doc is not None:
                return doc["holders"]
            self._create_counter(org, license_type)
        return self.store.count_holders(org, license_type)

    def _create_counter(self, org: str, license_type: LicenseType) -> None:
        """A counter for an organization made before this plugin kept one: count, then insert
        if still absent (a seat released meanwhile leaves it too high, never too low)."""
        holders = self.store.users.count_documents({"org": org, "held": license_type.value})
        self.store.counters.update_one(
            {"_id": counter_id(org, license_type)},
            {"$setOnInsert": {"org": org, "type": license_type.value, "holders": holders, "v": 0}},
            upsert=True,
        )

    def _release(self, org: str, amounts: dict) -> None:
        for type_name, amount in sorted(amounts.items()):
            if amount:
                self.store.counters.update_one(
                    {"_id": counter_id(org, LicenseType(type_name))},
                    {"$inc": {"holders": -amount, "v": 1}},
                )

    # ============================================================== repair

    def repair(
        self, stale_after: timedelta | None = None, recount_all: bool = False
    ) -> dict[str, int]:
        """Finish or roll back every journal older than `stale_after`, then recount the seat
        counters of the organizations they touched (of all, with `recount_all`).

        Safe to run while other processes serve requests, and from several processes at once.
        Returns counts: `rolled_forward`, `rolled_back`, `recounted`, `recount_skipped` (an
        organization with a change set in flight: its counters are left for the next repair).
        """
        stale_after = self.stale_after if stale_after is None else stale_after
        cutoff = docs.to_bson_time(self.wall_clock() - stale_after)
        report = {"rolled_forward": 0, "rolled_back": 0, "recounted": 0, "recount_skipped": 0}
        organizations: set[str] = set()
        for journal in list(self.store.journals.find({"at": {"$lte": cutoff}})):
            outcome = self._repair_journal(journal)
            if outcome:
                report[outcome] += 1
            organizations.add(journal["org"])
        # Bodies whose header was never written (a crash between the two inserts).
        for part in list(self.store.journal_parts.find({"at": {"$lte": cutoff}}, {"journal": 1})):
            if self.store.journals.find_one({"_id": part["journal"]}, {"_id": 1}) is None:
                self.store.journal_parts.delete_many({"journal": part["journal"]})
        if recount_all:
            organizations |= {d["_id"] for d in self.store.organizations.find({}, {"_id": 1})}
        for org in sorted(organizations):
            report["recounted" if self.recount(org) else "recount_skipped"] += 1
        return report

    def _repair_journal(self, journal: dict) -> str | None:
        """Finish (rolled_forward) or undo (rolled_back) one stale change set."""
        journal_id, org = journal["_id"], journal["org"]
        # Claim it: of several repairers, one does the work.
        claimed = self.store.journals.find_one_and_update(
            {"_id": journal_id, "repair_at": journal.get("repair_at")},
            {"$set": {"repair_at": docs.to_bson_time(self.wall_clock())}},
        )
        if claimed is None:
            return None
        if journal["kind"] == "one":
            key = journal["key"]
            committed = self.store.users.find_one(
                {"org": org, "key": key, "ops": journal_id}, {"_id": 1}
            )
            if committed is not None:
                self.store.write_audit_documents(journal["audit"])
            self._end(journal_id)
            return "rolled_forward" if committed else "rolled_back"
        body = self._body(journal)
        if claimed["state"] == "committed":
            self.finish(org, journal_id, body, {}, True)  # counters: recounted afterwards
            return "rolled_forward"
        self._rollback(org, journal_id, body)
        self._end(journal_id, True)
        return "rolled_back"

    def _body(self, journal: dict) -> dict:
        body = {
            name: list(journal.get(name, [])) for name in ("changes", "creates", "deletes", "audit")
        }
        if journal.get("parts"):
            for part in self.store.journal_parts.find({"journal": journal["_id"]}, sort=[("n", 1)]):
                for name, items in part["body"].items():
                    body[name] += items
        return body

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
        cutoff = docs.to_bson_time(self.wall_clock() - self.stale_after)
        for journal in list(
            self.store.journals.find({"_id": {"$in": list(holders)}, "at": {"$lte": cutoff}})
        ):
            self._repair_journal(journal)
            self.recount(org)

    def recount(self, org: str) -> bool:
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
        if self.store.journals.find_one({"org": org}, {"_id": 1}) is not None:
            return False
        counts = {
            t: self.store.users.count_documents({"org": org, "held": t.value}) for t in SEAT_TYPES
        }
        if self.store.journals.find_one({"org": org}, {"_id": 1}) is not None:
            return False
        for license_type in SEAT_TYPES:
            key = counter_id(org, license_type)
            if key not in versions:
                self._create_counter(org, license_type)
                continue
            self.store.counters.update_one(
                {"_id": key, "v": versions[key]},
                {"$set": {"holders": counts[license_type]}, "$inc": {"v": 1}},
            )
        return True
