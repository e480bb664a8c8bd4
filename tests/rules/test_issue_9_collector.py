"""Issue 9, finding 6 (B9): the cyclic garbage collector is paused while a large import or bulk
operation runs (its full collections visited every row and held every organization's requests),
and the objects alive when the last one ends are frozen out of its generations."""

from __future__ import annotations

import gc

import pytest
from seatkeeper.rules import collector
from seatkeeper.rules.collector import LARGE_OPERATION, collector_paused


@pytest.fixture
def frozen(monkeypatch):
    """Record `gc.freeze()` calls instead of freezing the test process's objects."""
    calls = []
    monkeypatch.setattr(collector.gc, "freeze", lambda: calls.append(gc.isenabled()))
    assert gc.isenabled()
    yield calls
    gc.enable()


def test_issue_9_a_small_operation_leaves_the_collector_alone(frozen):
    with collector_paused(LARGE_OPERATION - 1):
        assert gc.isenabled()
    assert frozen == []


def test_issue_9_the_collector_is_paused_until_the_last_large_operation_ends(frozen):
    first, second = collector_paused(LARGE_OPERATION), collector_paused(LARGE_OPERATION * 2)
    first.__enter__()
    assert not gc.isenabled()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled() and frozen == []  # one still runs
    second.__exit__(None, None, None)
    assert gc.isenabled()
    assert frozen == [False]  # frozen once, before the collector was resumed


def test_issue_9_the_collector_resumes_after_a_failed_operation(frozen):
    with pytest.raises(RuntimeError), collector_paused(LARGE_OPERATION):
        raise RuntimeError("the import failed")
    assert gc.isenabled() and frozen == [False]


def test_issue_9_a_collector_disabled_before_stays_disabled(frozen):
    gc.disable()
    with collector_paused(LARGE_OPERATION):
        pass
    assert not gc.isenabled()
