"""Large change sets of the memory plugin, written without holding the event loop (issue 9, B9).

A change set of 200,000 created users took seconds of pure Python under the plugin's lock, and
every organization's requests waited for it: the loop was held. Here a large change set is
decided and the tenant's state after it is built *beside* the live one, in slices of about
`SLICE_SECONDS` that give the event loop back between them, and then swapped in by one short
critical section. Meanwhile:

* readers of the tenant (any thread) see the state before, whole, until the swap; then the state
  after, whole: all or nothing, never half;
* writers of the tenant wait (asynchronously, `Building`), so that the state the build started
  from stays the state it replaces: no write is lost and every check still holds at the swap;
* other tenants are not touched at all.

Slices, not a worker thread: see `seatkeeper.storage.slices`.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import fields
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar, cast

from seatkeeper.domain.records import SEAT_TYPES, LicenseType, MobileUser, seat_held
from seatkeeper.storage.protocol import (
    AlreadyExists,
    ApplyResult,
    ChangeSet,
    Conflict,
    SeatShortage,
    UserQuery,
    order_audit_entries,
    user_sort_key,
)
from seatkeeper.storage.slices import Steps

T = TypeVar("T")

#: Items handled between two looks at the clock (a few hundred microseconds of work).
_STEP = 256
#: Sorted runs are built this long (one `sorted` call each), then merged item by item.
_RUN = 2048

# ================================================================ records and index entries

# Readers get copies, never the stored records. copy.copy on a slots dataclass goes through
# __reduce_ex__ and was a third of a sync's engine time (benchmarks/, issue 6); calling the
# class with its own field values makes the same shallow copy several times faster. The call is
# generated once per class, `cls(r.a, r.b, ...)`, as dataclasses generates __init__: half the
# cost of `cls(*attrgetter(...)(r))`, which builds a tuple first (0.26 vs 0.48 µs for a user; a
# memory sync makes about eight copies, issue 12, B1).
_COPIERS: dict[type, Callable[[Any], Any]] = {}


def _copier(cls: type) -> Callable[[Any], Any]:
    values = ", ".join(f"record.{f.name}" for f in fields(cls))
    namespace: dict[str, Any] = {"cls": cls}
    exec(f"def copy(record):\n    return cls({values})\n", namespace)  # noqa: S102  # field names only
    copier: Callable[[Any], Any] = namespace["copy"]
    _COPIERS[cls] = copier
    return copier


def copy_record(record: T) -> T:
    """A shallow copy of a record (a dataclass of domain/records.py)."""
    copier = _COPIERS.get(type(record))
    if copier is None:
        copier = _copier(type(record))
    return cast(T, copier(record))


def sort_entry(user: MobileUser, key: str | None = None) -> tuple[str, str, str]:
    """The user's place in the users' order: (name key, id, user key)."""
    name_key, user_id = user_sort_key(user)
    return (name_key, user_id, user.key if key is None else key)


def pending_entry(
    user: MobileUser, key: str | None = None
) -> tuple[LicenseType, tuple[datetime, str]] | None:
    """The seat type `user` is pending for and its place in the tenant's pending index, or None.

    Exactly `UserQuery(pending_for=t).matches(user)`: a user is pending for at most one type,
    the one its latest sync required (`last_required`).
    """
    required = user.last_required
    if required is None or required not in SEAT_TYPES or user.grace_started_at is None:
        return None
    if not UserQuery(pending_for=required).matches(user):
        return None
    return required, (user.grace_started_at, user.key if key is None else key)


# ================================================================ writers waiting


class Building:
    """A large write in progress on one tenant: the tenant's other writers wait for its end.

    Waiters may be tasks of any thread's event loop (the plugin is thread-safe): each waits on a
    future of its own loop, resolved thread-safely by `finish`. Both methods are called under the
    plugin's lock (`finish` after the tenant stopped pointing at this object).
    """

    def __init__(self) -> None:
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def waiter(self) -> asyncio.Future[None]:
        """A future of the running loop, done when the write has ended (applied or not)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._waiters.append((loop, future))
        return future

    def finish(self) -> None:
        """Wake every waiter."""
        for loop, future in self._waiters:
            with contextlib.suppress(RuntimeError):  # a waiter whose loop has closed
                loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():  # a cancelled waiter
        future.set_result(None)


# ================================================================ deciding a change set


def decide(tenant: Any, change_set: ChangeSet) -> Steps[ApplyResult | None]:
    """The refusal `apply_changes` owes for `change_set` against `tenant`, or None to write it.

    Conflict, then AlreadyExists, then SeatShortage (storage/protocol.py); the holder delta is
    `ChangeSet.holder_delta`'s, computed here a slice at a time.
    """
    users = tenant.users
    touched: list[str] = []
    conflicts: list[str] = []
    expectations = [(c.user_key, c.expected) for c in change_set.changes]
    expectations += [(d.user_key, d.expected) for d in change_set.deletes]
    for count, (key, expected) in enumerate(expectations):
        touched.append(key)
        user = users.get(key)
        if user is None or user.selectors != expected:
            conflicts.append(key)
        if count % _STEP == 0:
            yield
    if conflicts or len(set(touched)) != len(touched):
        return Conflict(tuple(conflicts or touched))
    deleted = {d.user_key for d in change_set.deletes}
    taken_keys: list[str] = []
    taken_emails: list[str] = []
    seen_keys: set[str] = set()
    seen_emails: set[str] = set()
    delta = {LicenseType.STANDARD: 0, LicenseType.INSPECTIONS: 0}
    for count, created in enumerate(change_set.creates):
        key, email_key = created.key, created.email_key
        if (key in users and key not in deleted) or key in seen_keys:
            taken_keys.append(key)
        owner = tenant.emails.get(email_key)
        if (owner is not None and owner not in deleted) or email_key in seen_emails:
            taken_emails.append(email_key)
        seen_keys.add(key)
        seen_emails.add(email_key)
        held = created.active_license
        if held is not None:
            delta[held] += 1
        if count % _STEP == 0:
            yield
    if taken_keys or taken_emails:
        return AlreadyExists(tuple(taken_keys), tuple(taken_emails))
    for change in change_set.changes:
        before = users[change.user_key].active_license
        after = seat_held(change.standard, change.inspections)
        if before is not None:
            delta[before] -= 1
        if after is not None:
            delta[after] += 1
    for deletion in change_set.deletes:
        before = users[deletion.user_key].active_license
        if before is not None:
            delta[before] -= 1
    for license_type, gained in delta.items():
        holders = len(tenant.holders[license_type])
        limit = change_set.seat_limits.get(license_type, 0)
        if gained > 0 and holders + gained > limit:
            return SeatShortage(license_type, holders, gained)
    return None


# ================================================================ building the state after it


class State:
    """A tenant's users and their indexes, as `_Tenant` holds them (the fields `build` makes)."""

    NAMES = ("users", "emails", "holders", "ranked", "order", "pending")

    def __init__(self) -> None:
        self.users: dict[str, MobileUser] = {}
        self.emails: dict[str, str] = {}
        self.holders: dict[LicenseType, set[str]] = {}
        self.ranked: dict[LicenseType, list[tuple[datetime, str]]] = {}
        self.order: list[tuple[str, str, str]] = []
        self.pending: dict[LicenseType, list[tuple[datetime, str]]] = {}
        self.audit: list[tuple[Any, ...]] = []  # packed entries, in the log's order
        # Set when an entry of `audit` sorts before the log's last (a clock that stepped back):
        # the whole log with them, merged.
        self.audit_merged: list[tuple[Any, ...]] | None = None


def build(tenant: Any, change_set: ChangeSet) -> Steps[State]:
    """The tenant's state after `change_set` (already decided), built without touching the live
    state, which must not change meanwhile (the caller holds the tenant's `Building`)."""
    state = State()
    old_users: dict[str, MobileUser] = tenant.users
    yield from _copy_into(state.users.update, old_users.items())
    yield from _copy_into(state.emails.update, tenant.emails.items())
    # Index entries that leave (removed) and arrive (added), per index.
    gone_order: set[tuple[str, str, str]] = set()
    new_order: list[tuple[str, str, str]] = []
    gone_rank: dict[LicenseType, set[tuple[datetime, str]]] = {t: set() for t in SEAT_TYPES}
    new_rank: dict[LicenseType, list[tuple[datetime, str]]] = {t: [] for t in SEAT_TYPES}
    gone_pending: dict[LicenseType, set[tuple[datetime, str]]] = {t: set() for t in SEAT_TYPES}
    new_pending: dict[LicenseType, list[tuple[datetime, str]]] = {t: [] for t in SEAT_TYPES}

    def leave(user: MobileUser, key: str) -> None:
        held = user.active_license
        if held is not None and user.assigned_at is not None:
            gone_rank[held].add((user.assigned_at, key))
        pending = pending_entry(user, key)
        if pending is not None:
            gone_pending[pending[0]].add(pending[1])

    def arrive(user: MobileUser, key: str) -> None:
        held = user.active_license
        if held is not None and user.assigned_at is not None:
            new_rank[held].append((user.assigned_at, key))
        pending = pending_entry(user, key)
        if pending is not None:
            new_pending[pending[0]].append(pending[1])

    released: set[str] = set()  # keys that no longer hold what they held
    for count, deletion in enumerate(change_set.deletes):
        user = state.users.pop(deletion.user_key)
        state.emails.pop(user.email_key, None)
        gone_order.add(sort_entry(user, deletion.user_key))
        leave(user, deletion.user_key)
        released.add(deletion.user_key)
        if count % _STEP == 0:
            yield
    for count, change in enumerate(change_set.changes):
        # A copy: the live record stays as it was for the readers of the state before.
        user = copy_record(old_users[change.user_key])
        leave(user, change.user_key)
        released.add(change.user_key)
        user.standard, user.inspections = change.standard, change.inspections
        user.assigned_at = change.assigned_at
        state.users[change.user_key] = user
        arrive(user, change.user_key)
        if count % _STEP == 0:
            yield
    holding: dict[LicenseType, list[str]] = {t: [] for t in SEAT_TYPES}
    for change in change_set.changes:
        held = seat_held(change.standard, change.inspections)
        if held is not None:
            holding[held].append(change.user_key)
    for count, created in enumerate(change_set.creates):
        user = copy_record(created)
        key = user.key
        state.users[key] = user
        state.emails[user.email_key] = key
        new_order.append(sort_entry(user, key))
        arrive(user, key)
        held = user.active_license
        if held is not None:
            holding[held].append(key)
        if count % _STEP == 0:
            yield
    for license_type in SEAT_TYPES:
        holders: set[str] = set()
        yield from _copy_into(holders.update, tenant.holders[license_type])
        yield from _copy_into(holders.difference_update, released)
        yield from _copy_into(holders.update, holding[license_type])
        state.holders[license_type] = holders
        state.ranked[license_type] = yield from _merged(
            tenant.ranked[license_type], gone_rank[license_type], new_rank[license_type]
        )
        state.pending[license_type] = yield from _merged(
            tenant.pending[license_type], gone_pending[license_type], new_pending[license_type]
        )
    state.order = yield from _merged(tenant.order, gone_order, new_order)
    packing = tenant.audit_log.packing
    packed = []
    # With `order_audit`, the entries are stamped to list after the log's newest, as the write
    # commits (`order_audit_entries`): nobody else appends to the log until the swap.
    newest = tenant.audit_log.newest() if change_set.order_audit else None
    audit = change_set.audit
    for start in range(0, len(audit), _STEP):
        entries = audit[start : start + _STEP]
        if change_set.order_audit:
            entries = order_audit_entries(entries, newest)
            newest = (entries[-1].at, entries[-1].id)
        packed += [packing.pack(entry) for entry in entries]
        yield
    position = packing.position
    state.audit = yield from _merged([], set(), packed, position)
    logged = tenant.audit_log.entries
    if state.audit and logged and position(state.audit[0]) < position(logged[-1]):
        state.audit_merged = yield from _merged(logged, set(), state.audit, position)
    return state


def _copy_into(
    update: Callable[[Any], None], items: Iterable[Any], chunk_size: int = 16 * _STEP
) -> Steps[None]:
    """Feed `items` to `update` (a dict's, set's or list's) a chunk at a time."""
    iterator = iter(items)
    while chunk := list(islice(iterator, chunk_size)):
        update(chunk)
        yield


def _merged(
    old: list[Any],
    gone: set[Any],
    new: list[Any],
    key: Callable[[Any], Any] | None = None,
) -> Steps[list[Any]]:
    """The sorted list `old` without the entries in `gone`, with the entries of `new` added.

    `new` is sorted in runs of `_RUN` (one short `sorted` each: a single sort of 200,000 entries
    holds the loop for a quarter of a second), then everything is merged a chunk at a time.
    """
    if not new and not gone:
        result: list[Any] = []
        yield from _copy_into(result.extend, old)
        return result
    runs: list[Iterator[Any]] = []
    if old:
        runs.append(iter(old) if not gone else (entry for entry in old if entry not in gone))
    for start in range(0, len(new), _RUN):
        runs.append(iter(sorted(new[start : start + _RUN], key=key)))
        yield
    result = []
    # The merge runs in Python, a microsecond or more an item: shorter chunks.
    yield from _copy_into(result.extend, heapq.merge(*runs, key=key), _STEP)
    return result
