"""Python's cyclic garbage collector held off during large bulk work (issue 9, finding 6; B9).

A 200,000-row import makes about a million objects that stay alive for seconds (rows, planned
users, audit entries, the stored copies). Each time the objects tracked by the collector grow by
a quarter, CPython runs a full collection that visits every one of them, holding the
interpreter: 0.2 to 0.8 s each, seven of them in one import, during which no other
organization's request was answered. These objects form no reference cycles (they are freed by
reference counting; a sync leaves no cyclic garbage either), so the collector has nothing to find
in them.

While any large operation runs, the collector is paused; when the last one ends, `gc.freeze()`
moves every object alive at that moment out of the collector's generations (O(1)) and the
collector is resumed. Survivors (the records a memory backend now holds) are then never visited
again by a full collection; objects that die later are still freed by reference counting. What
is lost is only cyclic garbage alive at that instant, which freeze keeps: small by the above, and
why small operations (most tests among them) never pause the collector.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: Operations on at least this many users (or a file of as many rows) pause the collector.
LARGE_OPERATION = 20_000

_lock = threading.Lock()
_running = 0  # large operations in progress, in any thread
_was_enabled = False  # the collector's state when the first of them began


@contextmanager
def collector_paused(users: int) -> Iterator[None]:
    """Pause the cyclic collector while an operation on `users` users (or rows) runs, if that
    is at least `LARGE_OPERATION`."""
    global _running, _was_enabled
    if users < LARGE_OPERATION:
        yield
        return
    with _lock:
        if _running == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if _running == 0:
                gc.freeze()
                if _was_enabled:
                    gc.enable()
