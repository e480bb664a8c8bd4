"""Shared fixtures: a fake clock, and an engine on the real memory storage that reads it.

Time in tests comes only from `FakeClock`, moved by hand, so that every rule about days
(grace periods, inactivity, subscription validity) is tested at exact instants and never sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from seatkeeper.rules.engine import Engine
from seatkeeper.storage import load_storage

#: Where every test's clock starts: an ordinary Monday morning, UTC.
START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


class FakeClock:
    """A clock that tests move by hand: `clock()` is now (aware UTC); `advance(...)` moves it on."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(
        self, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0
    ) -> datetime:
        """Move the clock forward (or back, with negative values) and return the new now."""
        self.now += timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when


def make_engine(clock: FakeClock) -> Engine:
    """A fresh engine on a fresh memory storage, loaded by URL as the server loads it."""
    return Engine(load_storage("memory://"), clock)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def engine(clock: FakeClock) -> Engine:
    return make_engine(clock)
