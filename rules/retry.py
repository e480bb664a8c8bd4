"""Deciding again after a concurrent write: the one retry loop every operation uses.

An operation reads records, decides, and writes with one atomic Storage operation that carries
the expectations it decided on. When a concurrent request changed those records in between, the
write is refused as a Conflict; the operation then reads again and decides again, a bounded
number of times, and gives up with its own answer (CONFLICT, or a refusal) after that.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

# How often an operation decides again after a concurrent write changed what it read.
MAX_ATTEMPTS = 8


class Again(enum.Enum):
    """What an attempt returns when a concurrent write got in the way: decide again."""

    AGAIN = "again"


AGAIN = Again.AGAIN


async def with_conflict_retry(
    attempt: Callable[[], Awaitable[T | Again]], exhausted: Callable[[], T]
) -> T:
    """Run `attempt` until it returns an outcome (not `AGAIN`), at most `MAX_ATTEMPTS` times.

    `attempt` reads fresh records each time it runs; `exhausted` gives the answer when every
    attempt met a concurrent write.
    """
    for _ in range(MAX_ATTEMPTS):
        outcome = await attempt()
        if not isinstance(outcome, Again):
            return outcome
    return exhausted()
