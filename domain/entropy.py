"""Random bytes for ids, read from the operating system a page at a time.

Why: `os.urandom` is a system call, and a sync made two (its request id, its sync-log entry's
id): about a microsecond each on a loaded machine, on the hottest request (issue 12, B1). The
bytes handed out are the same kernel randomness, in slices of one 4 KiB read; a forked child
starts with an empty buffer, so that two processes never hand out the same bytes.
"""

from __future__ import annotations

import os
import threading

_BLOCK = 4096


class _Pool:
    def __init__(self) -> None:
        self._lock = threading.Lock()  # the CSV import's worker threads make ids too
        self._buffer = b""
        self._offset = 0

    def reset(self) -> None:
        self._buffer, self._offset = b"", 0

    def take(self, count: int) -> bytes:
        with self._lock:
            offset = self._offset
            if offset + count > len(self._buffer):
                self._buffer = os.urandom(max(_BLOCK, count))
                offset = 0
            self._offset = offset + count
            return self._buffer[offset : offset + count]


_pool = _Pool()
os.register_at_fork(after_in_child=_pool.reset)


def random_hex(count: int) -> str:
    """`count` random bytes from the operating system, as lowercase hex (`os.urandom(count).hex()`)."""
    return _pool.take(count).hex()
