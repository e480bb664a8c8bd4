"""A short read cache for the records every sync reads and that hardly ever change.

A sync reads its organization (settings, trial), its project and the subscription list before it
decides. Each is one round trip, and together they are half of a licensed user's sync. They are
kept for `cacheSeconds` (default 1) per process, and forgotten at once when this process writes
them. Another process's write is seen at most `cacheSeconds` later. Why that is safe:

* subscriptions are only ever added: a stale list lacks a new one, so the capacity it gives is
  lower, never higher — an assignment decided on it can be refused, never over-allocate
  (invariant 1 is kept by the seat counter's guard in any case);
* a changed setting or project kind takes effect up to `cacheSeconds` later in other processes;
* seat counters, users and tokens are never cached.

A read that started before this process wrote must not put the old value back after the write's
`forget()`: each read takes a `ticket` (the organization's generation) before it asks the
database, and `put` keeps the value only if no `forget` came in between.
"""

from __future__ import annotations

import copy
import threading
import time
from typing import TypeVar

MAX_ENTRIES = 10_000
T = TypeVar("T")
#: The kind of record, the organization's id, then the record's own ids.
CacheKey = tuple[str, ...]


class ReadCache:
    """Keys are tuples whose second item is the organization id (so that it can be forgotten)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._items: dict[CacheKey, tuple[float, object]] = {}
        self._generations: dict[str, int] = {}
        self._lock = threading.Lock()

    def ticket(self, organization_id: str) -> int:
        """Take before reading the database; give to `put`."""
        with self._lock:
            return self._generations.get(organization_id, 0)

    def get(self, key: CacheKey, kind: type[T]) -> T | None:
        """A copy of the `kind` cached under `key`, or None (None itself is never cached)."""
        if self.seconds <= 0:
            return None
        with self._lock:
            item = self._items.get(key)
        if item is None or item[0] < time.monotonic() or not isinstance(item[1], kind):
            return None
        return copy.deepcopy(item[1])  # callers own what they get (records are mutable)

    def put(self, key: CacheKey, value: object, ticket: int) -> None:
        """Keep `value`, read after `ticket` was taken, unless the organization was forgotten since."""
        if self.seconds <= 0 or value is None:
            return
        with self._lock:
            if self._generations.get(key[1], 0) != ticket:
                return  # written meanwhile: what was read may be the old value
            if len(self._items) >= MAX_ENTRIES:
                self._items.clear()  # crude but bounded; a full cache refills in one second
            self._items[key] = (time.monotonic() + self.seconds, copy.deepcopy(value))

    def forget(self, organization_id: str) -> None:
        """Drop everything cached about one organization (after this process wrote to it)."""
        with self._lock:
            if len(self._generations) >= MAX_ENTRIES:
                self._generations.clear()
                self._items.clear()  # tickets taken before are void: their puts are refused
            self._generations[organization_id] = self._generations.get(organization_id, 0) + 1
            for key in [k for k in self._items if k[1] == organization_id]:
                del self._items[key]
