"""Long CPU work on the event loop in slices, so that other requests are answered meanwhile.

One process serves every organization from one event loop: a request that computes for a second
without awaiting holds every other organization's requests for that second (issue 9, finding 6).
Work written as a generator that yields between small steps (a few hundred items) runs here in
slices of about `SLICE_SECONDS`, the loop serving whatever is due between two slices.

Why not a worker thread: such work is pure Python and holds the GIL, which the loop then waits
for (5 ms at each hand-over, longer on a loaded machine), and a single large C call (a `sorted`
of 200,000 entries) holds it throughout; slices on the loop bound every pause. Shared here by the
rules (imports) and by backends (the memory plugin's large writes).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Generator
from typing import TypeVar

T = TypeVar("T")

#: Longest the event loop is held by one slice.
SLICE_SECONDS = 0.001

#: Turns of the event loop given back after each slice. A request in flight needs several turns to
#: finish (its body, the resolver, the storage, the answer: about eight in-process), and with one
#: turn per slice it waited one slice for each of them. B9 (another organization's sync p99 during a
#: 200,000-row import ÷ idle), on a quiet machine, `python -m benchmarks.run --only B9 --no-write
#: --rounds 5`: 2 ms slices and one turn 6.7x (busy p99 11.3 ms); 2 ms and eight turns 4.7x and
#: 5.3x; 1 ms and eight turns 4.0x and 3.2x (busy p99 5.1-5.6 ms). The import took 3.3-3.6 s in all.
TURNS_BETWEEN_SLICES = 8

#: Work that yields (None) between steps and returns its result.
Steps = Generator[None, None, T]


async def run_sliced(steps: Steps[T]) -> T:
    """Run `steps` to its end, giving the event loop back every `SLICE_SECONDS`; its result."""
    deadline = time.perf_counter() + SLICE_SECONDS
    while True:
        try:
            next(steps)
        except StopIteration as done:
            result: T = done.value
            return result
        if time.perf_counter() >= deadline:
            for _ in range(TURNS_BETWEEN_SLICES):
                await asyncio.sleep(0)
            deadline = time.perf_counter() + SLICE_SECONDS


def run_now(steps: Steps[T]) -> T:
    """Run `steps` to its end at once, without yielding: its result."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            result: T = done.value
            return result
