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
"""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

MISS = object()
MAX_ENTRIES = 10_000


class ReadCache:
    """Keys are tuples whose second item is the organization id (so that it can be forgotten)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._items: dict[tuple, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Any:
        """A copy of the value cached under `key`, or MISS."""
        if self.seconds <= 0:
            return MISS
        with self._lock:
            item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            return MISS
        return copy.deepcopy(item[1])  # callers own what they get (records are mutable)

    def put(self, key: tuple, value: Any) -> None:
        if self.seconds <= 0 or value is None:
            return
        with self._lock:
            if len(self._items) >= MAX_ENTRIES:
                self._items.clear()  # crude but bounded; a full cache refills in one second
            self._items[key] = (time.monotonic() + self.seconds, copy.deepcopy(value))

    def forget(self, organization_id: str) -> None:
        """Drop everything cached about one organization (after this process wrote to it)."""
        with self._lock:
            for key in [k for k in self._items if k[1] == organization_id]:
                del self._items[key]
