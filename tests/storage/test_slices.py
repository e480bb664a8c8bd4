"""Sliced work gives the event loop back long enough for a request in flight to finish (issue 9,
finding 6: one tenant's bulk work must not hold the others)."""

from __future__ import annotations

import asyncio

from seatkeeper.storage import slices
from seatkeeper.storage.slices import run_now, run_sliced

#: Turns of the loop a sync takes in-process (its body, the resolver, the storage, the answer).
REQUEST_TURNS = 7


def test_issue_9_a_request_needing_several_turns_finishes_within_one_slice(monkeypatch):
    monkeypatch.setattr(slices, "SLICE_SECONDS", 0.0)  # every step is a slice of its own
    events: list[str] = []

    def bulk_work():
        for step in range(3):
            events.append(f"slice {step}")
            yield
        return "imported"

    async def request_in_flight():
        for _ in range(REQUEST_TURNS):
            await asyncio.sleep(0)
        events.append("answered")

    async def both():
        bulk = asyncio.ensure_future(run_sliced(bulk_work()))
        await asyncio.sleep(0)  # the bulk work starts first and holds the loop for a slice
        request = asyncio.ensure_future(request_in_flight())
        result = await bulk
        await request
        return result

    assert asyncio.run(both()) == "imported"
    assert events.index("answered") < events.index("slice 2"), events


def test_run_now_runs_every_step_without_yielding():
    def work():
        yield
        yield
        return 7

    assert run_now(work()) == 7
