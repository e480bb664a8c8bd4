"""Test support for the MongoDB plugin on mongomock: atomic operations, round-trip counts, crashes.

* `atomic_mongomock_client()` — a `mongomock.MongoClient` whose every operation runs under one
  lock. A real server applies each single-document write atomically; mongomock, used from several
  threads, does not (its find-then-modify can interleave). The lock gives mongomock the server's
  atomicity and nothing more, so concurrency tests exercise the plugin's own guards.
* `RoundTrips` — wraps a store's collections and counts the operations each would send.
* `CrashAfter` — wraps a store's collections so that the Nth write raises `SimulatedCrash` and
  every call after it fails too: the process is dead, nothing of its own cleans up.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .store import COLLECTIONS, MongoStore

if TYPE_CHECKING:
    from . import MongoStorage

#: Which call an injected fault is for.
CallPredicate = Callable[["Call"], bool]

WRITES = frozenset(
    {
        "insert_one",
        "insert_many",
        "update_one",
        "update_many",
        "replace_one",
        "delete_one",
        "delete_many",
        "find_one_and_update",
        "find_one_and_replace",
        "find_one_and_delete",
        "bulk_write",
    }
)


class _Locked:
    """Every callable attribute of the wrapped object runs under `lock`; cursors are read whole
    inside it (as a server answers a small query in one batch)."""

    def __init__(self, target: Any, lock: threading.RLock) -> None:
        self._target = target
        self._lock = lock

    def __getitem__(self, name: str) -> _Locked:
        return _Locked(self._target[name], self._lock)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value
        lock = self._lock

        def locked(*args: Any, **kwargs: Any) -> Any:
            with lock:
                result = value(*args, **kwargs)
                if name in ("find", "aggregate", "list_indexes"):
                    return list(result)
                if name in ("get_database", "get_collection"):
                    return _Locked(result, lock)
                return result

        return locked


def atomic_mongomock_client(**kwargs: Any) -> Any:
    """A mongomock client with the server's per-operation atomicity (see the module docstring)."""
    import mongomock

    return _Locked(mongomock.MongoClient(tz_aware=True, **kwargs), threading.RLock())


class _Counted:
    def __init__(self, target: Any, name: str, tally: Counter[str]) -> None:
        self._target, self._name, self._tally = target, name, tally

    def __getattr__(self, method: str) -> Any:
        value = getattr(self._target, method)
        if not callable(value):
            return value

        def counted(*args: Any, **kwargs: Any) -> Any:
            self._tally[f"{self._name}.{method}"] += 1
            return value(*args, **kwargs)

        return counted


class RoundTrips:
    """Counts the operations sent to each collection of a `MongoStore` while installed.

    Each call is one round trip (a query's first batch answers it: the plugin never pages a
    cursor on the paths measured).
    """

    def __init__(self, store: MongoStore) -> None:
        self.store = store
        self.tally: Counter[str] = Counter()
        self._originals = {name: getattr(store, name) for name in COLLECTIONS}
        for name, collection in self._originals.items():
            setattr(store, name, _Counted(collection, name, self.tally))

    @property
    def total(self) -> int:
        return sum(self.tally.values())

    def reset(self) -> None:
        self.tally.clear()

    def uninstall(self) -> None:
        for name, collection in self._originals.items():
            setattr(self.store, name, collection)


class SimulatedCrash(Exception):
    """The process died here (raised by `CrashAfter`)."""


class _Crashing:
    def __init__(self, target: Any, name: str, plan: CrashAfter) -> None:
        self._target, self._name, self._plan = target, name, plan

    def __getattr__(self, method: str) -> Any:
        value = getattr(self._target, method)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            self._plan.before(f"{self._name}.{method}", method in WRITES)
            return value(*args, **kwargs)

        return call


class CrashAfter:
    """Let `writes` writes through, then crash: the next write, and every call after it, raises.

    `log` lists the writes that landed, e.g. `["journals.insert_one", "counters.find_one_and_update"]`.
    """

    def __init__(self, store: MongoStore, writes: int) -> None:
        self.allowed = writes
        self.log: list[str] = []
        self.crashed = False
        for name in COLLECTIONS:
            setattr(store, name, _Crashing(getattr(store, name), name, self))

    def before(self, call: str, is_write: bool) -> None:
        if self.crashed:
            raise SimulatedCrash(f"process already dead, {call} not sent")
        if is_write:
            if len(self.log) >= self.allowed:
                self.crashed = True
                raise SimulatedCrash(f"crash before write {len(self.log) + 1} ({call})")
            self.log.append(call)


# ============================================================== the schedule explorer's harness

RETRYABLE = frozenset(
    {
        "insert_one",
        "update_one",
        "replace_one",
        "delete_one",
        "find_one_and_update",
        "find_one_and_replace",
        "find_one_and_delete",
        "insert_many",
    }
)
"""Writes pymongo retries once on a failover (`retryWrites=true`): the server applies them
exactly once. `update_many`, `delete_many` and a `bulk_write` holding a multi-document request
are not retryable: a failover in the middle surfaces as an error, part of the write applied."""

PROCEED, FAIL_BEFORE, FAIL_AFTER, PARTIAL, CRASH, FAILOVER = (
    "proceed",
    "fail_before",
    "fail_after",
    "partial",
    "crash",
    "failover",
)
FAULTS = (FAIL_BEFORE, FAIL_AFTER, PARTIAL, CRASH, FAILOVER)


class ServerClock:
    """The database server's clock (`$currentDate`, `$$NOW`, TTL) in tests: mongomock reads
    `mongomock.utcnow`, which a test replaces by an instance of this (naive UTC)."""

    def __init__(self) -> None:
        from datetime import datetime as _dt

        self.offset = 0.0
        self._now = _dt.utcnow

    def __call__(self) -> datetime:
        from datetime import timedelta as _td

        return self._now() + _td(seconds=self.offset)

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class Call:
    """One collection call a storage is about to send."""

    def __init__(
        self,
        who: str,
        index: int,
        collection: str,
        method: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        self.who, self.index = who, index
        self.collection, self.method = collection, method
        self.args, self.kwargs = args, kwargs

    @property
    def name(self) -> str:
        return f"{self.collection}.{self.method}"

    @property
    def is_write(self) -> bool:
        return self.method in WRITES

    def __repr__(self) -> str:
        return f"{self.who}#{self.index}:{self.name}"


class _Participant:
    def __init__(self, name: str) -> None:
        self.name = name
        self.parked = False
        self.done = True
        self.go = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.next_call: Call | None = None
        self.calls = 0
        self.dead = False
        # Parked at a call sent right after a deadline check (no call in between): time jumping
        # here would model a write delayed past journalStaleSeconds, which the design excludes
        # by its bound (journalStaleSeconds >= 2 x socketTimeoutMS).
        self.just_checked = False
        self.after_check = False
        self.thread: threading.Thread | None = None  # set by `Controller.spawn`


class _Hooked:
    def __init__(self, target: Any, collection: str, who: str, controller: Controller) -> None:
        self._target, self._collection = target, collection
        self._who, self._controller = who, controller

    def __getattr__(self, method: str) -> Any:
        value = getattr(self._target, method)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._controller.call(
                self._who, self._collection, method, self._target, value, args, kwargs
            )

        return call


class Controller:
    """Wraps the collections of several stores (one per simulated process) so that a test decides,
    call by call, which process runs (`step`, `run_until`) and what happens to the call: it
    proceeds, fails before being sent, fails after it was applied (the answer lost), is applied
    only in part (a multi-document write cut by a failover), crashes the process (this call and
    every later one raise `SimulatedCrash`), or meets a failover (retryable writes are retried
    transparently, the others are cut in part and raise).

    Processes not `spawn`ed run freely (their calls still pass through `faults`).
    """

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.participants: dict[str, _Participant] = {}
        self.faults: list[tuple[CallPredicate, str]] = []  # (predicate, action), used once
        self.log: list[Call] = []
        # A server's count is not a snapshot: documents written during the scan may or may not
        # be counted. With `split_counts`, a `count_documents` on users counts the keys before
        # "m", then may be preempted (one more step), then counts the rest.
        self.split_counts = False

    def reset(self) -> None:
        """Forget every participant's run, fault and log (the wrapping stays)."""
        for name in list(self.participants):
            self.participants[name] = _Participant(name)
        self.faults.clear()
        self.log.clear()

    # -- wiring -----------------------------------------------------------------------

    def wrap(self, store: MongoStore, who: str) -> None:
        self.participants.setdefault(who, _Participant(who))
        for name in COLLECTIONS:
            setattr(store, name, _Hooked(getattr(store, name), name, who, self))

    def inject(self, predicate: CallPredicate, action: str) -> None:
        """The first call matching `predicate` gets `action` (once)."""
        self.faults.append((predicate, action))

    # -- scheduling ----------------------------------------------------------------------

    def spawn(self, who: str, function: Callable[[], object]) -> None:
        """Run `function()` in a thread of process `who`, parked before its first call."""
        p = self.participants[who]
        p.done, p.parked, p.result, p.error, p.next_call = False, False, None, None, None

        def body() -> None:
            try:
                p.result = function()
            except BaseException as error:  # noqa: BLE001 - reported to the test
                p.error = error
            finally:
                with self.cond:
                    p.done = True
                    p.parked = False
                    self.cond.notify_all()

        thread = threading.Thread(target=body, daemon=True, name=f"explorer-{who}")
        p.thread = thread
        thread.start()
        self._settle(p)

    def _settle(self, p: _Participant) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: p.parked or p.done, timeout=30):
                raise RuntimeError(f"{p.name} neither parked nor finished in 30 s")

    def step(self, who: str) -> bool:
        """Let `who` send exactly one call (or finish); False if it had finished."""
        p = self.participants[who]
        self._settle(p)
        if p.done:
            return False
        with self.cond:
            p.parked = False
        p.go.set()
        self._settle(p)
        return True

    def run_until(self, who: str, predicate: Callable[[Call | None], bool]) -> bool:
        """Step `who` until its next call matches `predicate` (True) or it finished (False)."""
        p = self.participants[who]
        while True:
            self._settle(p)
            if p.done:
                return False
            if predicate(p.next_call):
                return True
            self.step(who)

    def finish(self, who: str) -> Any:
        """Run `who` to its end; return its result or raise its error."""
        while self.step(who):
            pass
        p = self.participants[who]
        if p.error is not None:
            raise p.error
        return p.result

    def outcome(self, who: str) -> tuple[Any, BaseException | None]:
        """(result, error) of a finished participant."""
        p = self.participants[who]
        return p.result, p.error

    def runnable(self) -> list[str]:
        return [
            name for name, p in self.participants.items() if p.thread is not None and not p.done
        ]

    # -- the call itself -----------------------------------------------------------------

    def call(
        self,
        who: str,
        collection: str,
        method: str,
        target: Any,
        function: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        p = self.participants[who]
        call = Call(who, p.calls, collection, method, args, kwargs)
        p.calls += 1
        self._gate(p, call)
        if self.split_counts and method == "count_documents" and collection == "users":
            condition = args[0] if args else kwargs["filter"]
            first = function({"$and": [condition, {"key": {"$lt": "m"}}]})
            self._gate(p, Call(who, p.calls, collection, "count_documents:rest", args, kwargs))
            p.calls += 1
            return first + function({"$and": [condition, {"key": {"$gte": "m"}}]})
        if p.dead:
            raise SimulatedCrash(f"{who} is dead: {call.name} not sent")
        action = PROCEED
        for n, (predicate, chosen) in enumerate(self.faults):
            if predicate(call):
                action = chosen
                del self.faults[n]
                break
        self.log.append(call)
        return self._perform(p, call, action, target, function, args, kwargs)

    def check_point(self, who: str) -> None:
        """The owner of a change set reads its clock to check its deadline: a step of its own
        (a pause *before* the check is a pause the check sees)."""
        p = self.participants.get(who)
        if p is None:
            return
        self._gate(p, Call(who, -1, "clock", "deadline_check", (), {}))
        p.just_checked = True

    def _gate(self, p: _Participant, call: Call) -> None:
        """Park the participant's thread before `call` until the scheduler lets it go."""
        if call.index >= 0:
            p.after_check, p.just_checked = p.just_checked, False
        if threading.current_thread() is p.thread and not p.done:
            with self.cond:
                p.next_call, p.parked = call, True
                self.cond.notify_all()
            p.go.wait()
            p.go.clear()

    def _perform(
        self,
        p: _Participant,
        call: Call,
        action: str,
        target: Any,
        function: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        from pymongo.errors import AutoReconnect

        if action == CRASH:
            p.dead = True
            raise SimulatedCrash(f"{p.name} died before {call.name}")
        if action == FAIL_BEFORE:
            raise AutoReconnect(f"injected: {call.name} not applied")
        if action == FAILOVER and call.method in RETRYABLE:
            return function(*args, **kwargs)  # retried once by the driver: applied once
        if action in (PARTIAL, FAILOVER) and call.method in (
            "bulk_write",
            "update_many",
            "delete_many",
            "insert_many",
        ):
            _apply_half(target, call.method, args, kwargs)
            raise AutoReconnect(f"injected: {call.name} applied in part")
        result = function(*args, **kwargs)
        if action in (FAIL_AFTER, PARTIAL, FAILOVER):
            raise AutoReconnect(f"injected: {call.name} applied, answer lost")
        return result


def _half_ids(target: Any, condition: dict[str, Any]) -> list[Any]:
    ids = [d["_id"] for d in target.find(condition, {"_id": 1})]
    return ids[: (len(ids) + 1) // 2]


def _apply_half(target: Any, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Apply the first half of a multi-document write (at least one document), as a server does
    when a failover interrupts it: what it wrote stays written."""
    if method == "insert_many":
        documents = list(args[0])
        if documents:
            target.insert_many(documents[: (len(documents) + 1) // 2], ordered=False)
        return
    if method == "update_many":
        condition, update = args[0], args[1]
        target.update_many(
            {"$and": [condition, {"_id": {"$in": _half_ids(target, condition)}}]}, update
        )
        return
    if method == "delete_many":
        condition = args[0]
        target.delete_many({"$and": [condition, {"_id": {"$in": _half_ids(target, condition)}}]})
        return
    requests = list(args[0])  # bulk_write: the first half of the requests; within a lone
    if len(requests) > 1:  # UpdateMany, half of its documents
        target.bulk_write(requests[: (len(requests) + 1) // 2], ordered=False)
        return
    (request,) = requests
    condition = request._filter
    target.update_many(
        {"$and": [condition, {"_id": {"$in": _half_ids(target, condition)}}]}, request._doc
    )


class World:
    """Several processes (`MongoStorage` objects named "P", "Q", "R"…) on one atomic mongomock
    client, their collections wrapped by one `Controller`, the server's clock a `ServerClock`
    (install it with `monkeypatch.setattr(mongomock, "utcnow", world.server_clock)`)."""

    def __init__(self, names: Iterable[str] = ("P", "Q", "R"), url: str | None = None) -> None:
        from . import MongoStorage

        self.url = url or "mongodb://localhost/seatkeeper_explorer?syncLogRetentionDays=0"
        self.client = atomic_mongomock_client()
        self.controller = Controller()
        self.server_clock = ServerClock()
        self.wall_offset = 0.0  # every process's wall clock, ahead of real time by this
        self.elapsed = 0.0  # time that passed for everyone (monotonic clocks included)
        self.storages: dict[str, MongoStorage] = {}
        for name in names:
            storage = MongoStorage(self.url, client=self.client)
            storage._ready()
            self.storages[name] = storage
        self.reset_clocks()

    @staticmethod
    def _clock(offset: float) -> Callable[[], datetime]:
        """A process's wall clock, `offset` seconds ahead of real time."""
        return lambda: datetime.now(UTC) + timedelta(seconds=offset)

    def reset_clocks(self) -> None:
        import time as _time

        self.server_clock.offset = self.wall_offset = self.elapsed = 0.0
        for name, storage in self.storages.items():
            storage.writer.wall_clock = self._clock(0)
            storage.writer.monotonic = self._monotonic(name, _time.monotonic)

    def _monotonic(self, name: str, clock: Callable[[], float]) -> Callable[[], float]:
        """Process `name`'s monotonic clock: a check point of its own, then the time, moved on
        by what `later` let pass."""

        def monotonic() -> float:
            self.controller.check_point(name)
            return clock() + self.elapsed

        return monotonic

    def wrap(self) -> None:
        for name, storage in self.storages.items():
            self.controller.wrap(storage.store, name)

    def skew(self, name: str, seconds: float) -> None:
        """Set one process's wall clock `seconds` ahead of the others."""
        self.storages[name].writer.wall_clock = self._clock(self.wall_offset + seconds)

    def later(self, seconds: float) -> None:
        """Time passes for everyone: the server's clock and every process's wall clock."""
        self.server_clock.advance(seconds)
        self.wall_offset += seconds
        self.elapsed += seconds
        for storage in self.storages.values():
            storage.writer.wall_clock = self._clock(self.wall_offset)
