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
from typing import Any

from .store import COLLECTIONS

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

        def locked(*args, **kwargs):
            with lock:
                result = value(*args, **kwargs)
                if name in ("find", "aggregate", "list_indexes"):
                    return list(result)
                if name in ("get_database", "get_collection"):
                    return _Locked(result, lock)
                return result

        return locked


def atomic_mongomock_client(**kwargs) -> Any:
    """A mongomock client with the server's per-operation atomicity (see the module docstring)."""
    import mongomock

    return _Locked(mongomock.MongoClient(tz_aware=True, **kwargs), threading.RLock())


class _Counted:
    def __init__(self, target: Any, name: str, tally: Counter) -> None:
        self._target, self._name, self._tally = target, name, tally

    def __getattr__(self, method: str) -> Any:
        value = getattr(self._target, method)
        if not callable(value):
            return value

        def counted(*args, **kwargs):
            self._tally[f"{self._name}.{method}"] += 1
            return value(*args, **kwargs)

        return counted


class RoundTrips:
    """Counts the operations sent to each collection of a `MongoStore` while installed.

    Each call is one round trip (a query's first batch answers it: the plugin never pages a
    cursor on the paths measured).
    """

    def __init__(self, store) -> None:
        self.store = store
        self.tally: Counter = Counter()
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

        def call(*args, **kwargs):
            self._plan.before(f"{self._name}.{method}", method in WRITES)
            return value(*args, **kwargs)

        return call


class CrashAfter:
    """Let `writes` writes through, then crash: the next write, and every call after it, raises.

    `log` lists the writes that landed, e.g. `["journals.insert_one", "counters.find_one_and_update"]`.
    """

    def __init__(self, store, writes: int) -> None:
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
