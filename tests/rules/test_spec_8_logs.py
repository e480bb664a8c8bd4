"""SPEC 8: the sync log and the audit log — filters, newest first, keyset pages, retention."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from seatkeeper.resolvers.cursors import decode_cursor
from seatkeeper.rules.outcomes import BadRequest

from tests.rules.rules_support import (
    A,
    D,
    S,
    U,
    async_test,
    buy,
    new_org,
    provisioned,
    set_state,
    sync,
    sync_entries,
)

GUID = "1ac99e8f-824b-4b51-84ef-7ff55a555079"


def who(entries) -> list[str]:
    return [e.user_id for e in entries]


# ================================================================ sync log


@async_test
async def test_spec_8_sync_log_is_newest_first(engine, clock):
    """SPEC 8: the sync log reads newest first."""
    org = await new_org(engine)
    for user_id in ("first", "second", "third"):
        await sync(engine, org, user_id)
        clock.advance(minutes=1)
    page = await engine.sync_log(org)
    assert who(page.items) == ["third", "second", "first"]
    assert not page.has_next_page


@async_test
async def test_spec_8_sync_log_by_user_and_errors_only(engine, clock):
    """SPEC 8: queried by user (a GUID in any case) and errors only (license errors and refused
    syncs alike)."""
    org = await new_org(engine, auto_assign=True)
    await buy(engine, org, S, 1)
    await sync(engine, org, GUID)  # ok: takes the seat
    clock.advance(minutes=1)
    await sync(engine, org, "other")  # NO_SEAT_AVAILABLE
    clock.advance(minutes=1)
    await sync(engine, org, GUID.upper(), email=f"{GUID}@example.com")  # ok again
    clock.advance(minutes=1)
    await sync(engine, org, "bad", email="not-an-email")  # INVALID_INPUT

    mine = await engine.sync_log(org, user_id=GUID.upper())
    errors = await engine.sync_log(org, errors_only=True)
    my_errors = await engine.sync_log(org, user_id=GUID, errors_only=True)

    assert [e.ok for e in mine.items] == [True, True]
    assert [(e.user_id, e.error_code) for e in errors.items] == [
        ("bad", "INVALID_INPUT"),
        ("other", "LICENSE_NOT_FOUND"),
    ]
    assert my_errors.items == []


@async_test
async def test_spec_8_sync_log_time_range_is_half_open(engine, clock):
    """SPEC 6a / 8: `since <= at < until`."""
    org = await new_org(engine)
    t0 = clock()
    await sync(engine, org, "at-t0")
    t1 = clock.advance(hours=1)
    await sync(engine, org, "at-t1")
    t2 = clock.advance(hours=1)
    await sync(engine, org, "at-t2")

    assert who((await engine.sync_log(org, since=t1)).items) == ["at-t2", "at-t1"]
    assert who((await engine.sync_log(org, until=t1)).items) == ["at-t0"]
    assert who((await engine.sync_log(org, since=t0, until=t2)).items) == ["at-t1", "at-t0"]
    assert who((await engine.sync_log(org, since=t1, until=t1)).items) == []


@async_test
async def test_spec_8_sync_log_pages_cover_every_entry_once_even_at_one_instant(engine, clock):
    """SPEC 8: keyset pages over the log, entries at the same instant included, no duplicates or
    omissions; a filter keeps applying across pages."""
    org = await new_org(engine)
    for n in range(7):
        await sync(engine, org, f"same-{n}")  # seven entries at one instant
    clock.advance(seconds=1)
    for n in range(5):
        await sync(engine, org, f"later-{n}", email="broken" if n % 2 else None)
        clock.advance(seconds=1)

    everything = await sync_entries(engine, org)  # oldest first, for reference
    seen, after = [], None
    while True:
        page = await engine.sync_log(org, first=2, after=after)
        seen += page.items
        if not page.has_next_page:
            break
        after = page.end_position
    assert [e.id for e in seen] == [e.id for e in everything][::-1]
    assert len({e.id for e in seen}) == 12
    assert set(who(seen[-7:])) == {f"same-{n}" for n in range(7)}  # the oldest instant comes last

    errors, after = [], None
    while True:
        page = await engine.sync_log(org, errors_only=True, first=1, after=after)
        errors += page.items
        if not page.has_next_page:
            break
        after = page.end_position
    assert who(errors) == ["later-3", "later-1"]


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor", ["garbage", _b64('["not-a-date", "x"]'), _b64('["2025-01-01T00:00:00+00:00"]')]
)
@async_test
async def test_spec_8_a_garbage_log_cursor_is_a_bad_request(engine, cursor):
    """SPEC 8: log cursors that this server did not give out fail the query (the API decodes the
    cursor, the rules check the position it holds: either refuses)."""
    org = await new_org(engine)
    for log in (engine.sync_log, engine.audit_log):
        with pytest.raises(BadRequest):
            await log(org, after=decode_cursor(cursor))


@async_test
async def test_spec_8_purge_drops_entries_older_than_the_retention_period(engine, clock):
    """SPEC 8: entries expire after the retention period (default 90 days); an entry exactly 90
    days old is kept, older ones go; the audit log is not touched."""
    org = await new_org(engine)
    await buy(engine, org, S, 1, days=3650)
    day0 = clock()
    await sync(engine, org, "day-0")
    await set_state(engine, org, ["day-0"], S, A)
    clock.set(day0 + timedelta(days=10))
    await sync(engine, org, "day-10")
    clock.set(day0 + timedelta(days=100))
    await sync(engine, org, "day-100")

    assert await engine.purge_sync_log() == 1  # cutoff day 10: only day 0 is older
    assert who(await sync_entries(engine, org)) == ["day-10", "day-100"]
    clock.advance(seconds=1)
    assert await engine.purge_sync_log() == 1
    assert who(await sync_entries(engine, org)) == ["day-100"]
    assert await engine.purge_sync_log(retention_days=0) == 1
    assert await sync_entries(engine, org) == []
    assert len((await engine.audit_log(org)).items) == 1


# ================================================================ audit log


@async_test
async def test_spec_8_audit_log_records_every_selector_change_newest_first(engine, clock):
    """SPEC 8: time, user, type, from, to, actor, reason, operation id; newest first."""
    org = await new_org(engine)
    await buy(engine, org, S, 2)
    await provisioned(engine, org, ("a", U, U), ("b", U, U))
    t1 = clock.advance(hours=1)
    await set_state(engine, org, ["a"], S, A, actor="first-admin")
    t2 = clock.advance(hours=1)
    await set_state(engine, org, ["a", "b"], S, D, actor="second-admin")

    page = await engine.audit_log(org)
    rows = [
        (e.at, e.user_id, e.license_type, e.from_state, e.to_state, e.actor, e.reason.value)
        for e in page.items
    ]
    assert rows[-1] == (t1, "a", S, U, A, "first-admin", "MANUAL")
    assert sorted(rows[:2]) == sorted(
        [(t2, "a", S, A, D, "second-admin", "MANUAL"), (t2, "b", S, U, D, "second-admin", "MANUAL")]
    )
    assert page.items[0].operation_id == page.items[1].operation_id != page.items[2].operation_id


@async_test
async def test_spec_8_audit_log_filters_by_user_and_time_and_pages(engine, clock):
    """SPEC 8: the audit log by user and half-open time range, a page at a time."""
    org = await new_org(engine)
    await buy(engine, org, S, 10)
    await provisioned(engine, org, ("a", U, U), ("b", U, U))
    times = []
    for n in range(6):
        times.append(clock.advance(hours=1))
        await set_state(engine, org, ["a", "b"], S, (A, D)[n % 2])

    only_a = await engine.audit_log(org, user_id="a", first=500)
    assert len(only_a.items) == 6 and {e.user_id for e in only_a.items} == {"a"}
    window = await engine.audit_log(org, since=times[1], until=times[3], first=500)
    assert sorted({e.at for e in window.items}) == [times[1], times[2]]

    seen, after = [], None
    while True:
        page = await engine.audit_log(org, first=5, after=after)
        seen += page.items
        if not page.has_next_page:
            break
        after = page.end_position
    assert len(seen) == 12 == len({e.id for e in seen})
    assert [e.at for e in seen] == sorted((e.at for e in seen), reverse=True)
    assert {e.to_state for e in seen} == {A, D} and U in {e.from_state for e in seen}
