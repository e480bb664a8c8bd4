"""SPEC 5 (when capacity falls) and SPEC 6 (the subscriptions view), with subscription validity
(SPEC 1: half-open, stacking) checked at exact instants on the fake clock."""

from __future__ import annotations

from datetime import timedelta

from seatkeeper.domain.records import SubscriptionStatus

from tests.rules.rules_support import (
    A,
    D,
    E,
    I,
    S,
    U,
    async_test,
    buy,
    external_project,
    inspections_project,
    license_of,
    new_org,
    ok,
    provisioned,
    refused,
    set_state,
    sync,
)


async def view(engine, org) -> dict:
    """The subscriptions view by license type."""
    return {row.license_type: row for row in await engine.subscriptions_view(org)}


def numbers(row) -> tuple:
    """(active, seats, assigned, available, overAllocated, pending) of one row."""
    return (row.active, row.seats, row.assigned, row.available, row.over_allocated, row.pending)


# ================================================================ SPEC 6: rows


@async_test
async def test_spec_6_one_row_per_license_type_even_without_subscriptions(engine):
    """SPEC 6: a row for each of the three types; EXTERNAL's seat numbers are null."""
    org = await new_org(engine)
    rows = await engine.subscriptions_view(org)
    assert [r.license_type for r in rows] == [S, I, E]
    by_type = {r.license_type: r for r in rows}
    assert numbers(by_type[S]) == (False, 0, 0, 0, 0, 0)
    assert numbers(by_type[I]) == (False, 0, 0, 0, 0, 0)
    assert numbers(by_type[E]) == (False, None, None, None, None, 0)
    assert all(r.items == [] for r in rows)


@async_test
async def test_spec_6_rows_count_seats_assigned_and_available(engine):
    """SPEC 6: seats = capacity now, assigned = holders, available = seats − assigned."""
    org = await new_org(engine)
    await buy(engine, org, S, 5)
    await buy(engine, org, I, 2)
    await provisioned(engine, org, ("s1", A, U), ("s2", A, U), ("i1", U, A), ("none", U, D))
    rows = await view(engine, org)
    assert numbers(rows[S]) == (True, 5, 2, 3, 0, 0)
    assert numbers(rows[I]) == (True, 2, 1, 1, 0, 0)


@async_test
async def test_spec_6_external_row_and_items_carry_no_seats(engine, clock):
    """SPEC 6: EXTERNAL: seats, assigned, available, overAllocated null, pending 0, items' seats null."""
    org = await new_org(engine)
    ext = await external_project(engine, org)
    subscription = await buy(engine, org, E, days=30)
    await sync(engine, org, "guest", project=ext)
    row = (await view(engine, org))[E]
    assert numbers(row) == (True, None, None, None, None, 0)
    [item] = row.items
    assert (item.subscription_id, item.seats, item.valid_from, item.valid_until, item.status) == (
        subscription.id,
        None,
        clock(),
        clock() + timedelta(days=30),
        SubscriptionStatus.ACTIVE,
    )


@async_test
async def test_spec_6_subscription_status_active_expired_upcoming(engine, clock):
    """SPEC 6: each subscription's status at now: ACTIVE, EXPIRED or UPCOMING."""
    org = await new_org(engine)
    await buy(engine, org, S, 1, days=10)
    await buy(engine, org, S, 2, days=100)
    await buy(engine, org, S, 4, days=100, starts_in_days=50)
    clock.advance(days=20)
    row = (await view(engine, org))[S]
    assert sorted((i.seats, i.status) for i in row.items) == [
        (1, SubscriptionStatus.EXPIRED),
        (2, SubscriptionStatus.ACTIVE),
        (4, SubscriptionStatus.UPCOMING),
    ]
    assert row.seats == 2 and row.active


@async_test
async def test_spec_1_subscriptions_stack(engine, clock):
    """SPEC 1: capacity is the sum of the seats of the subscriptions valid now."""
    org = await new_org(engine, auto_assign=True)
    await buy(engine, org, S, 3, days=30)
    await buy(engine, org, S, 2, days=60)
    assert (await view(engine, org))[S].seats == 5
    outcomes = [await sync(engine, org, f"u{n}") for n in range(6)]
    assert [o.ok for o in outcomes] == [True] * 5 + [False]
    clock.advance(days=30)
    assert (await view(engine, org))[S].seats == 2


@async_test
async def test_spec_1_validity_is_half_open(engine, clock):
    """SPEC 1: valid when validFrom <= now < validUntil: upcoming before, valid at validFrom, still
    valid a second before validUntil, ended at validUntil."""
    org = await new_org(engine, auto_assign=True)
    start = clock() + timedelta(days=1)
    subscription = await buy(engine, org, S, 1, days=10, starts_in_days=1)
    end = subscription.valid_until

    clock.set(start - timedelta(seconds=1))
    assert (await view(engine, org))[S].items[0].status is SubscriptionStatus.UPCOMING
    assert license_of(await sync(engine, org, "early")) == refused(
        "LICENSE_NOT_FOUND", "NO_SEAT_AVAILABLE", S
    )

    clock.set(start)
    assert numbers((await view(engine, org))[S])[:2] == (True, 1)
    assert license_of(await sync(engine, org, "first")) == ok(S)

    clock.set(end - timedelta(seconds=1))
    assert license_of(await sync(engine, org, "first")) == ok(S)

    clock.set(end)
    row = (await view(engine, org))[S]
    assert (row.active, row.seats, row.items[0].status) == (False, 0, SubscriptionStatus.EXPIRED)
    assert license_of(await sync(engine, org, "first")) == refused(
        "LICENSE_EXPIRED", "SUBSCRIPTION_EXPIRED", S
    )


# ================================================================ SPEC 5: capacity falls


@async_test
async def test_spec_5_view_reports_the_overage_after_capacity_falls(engine, clock):
    """SPEC 5 / 6: assignments are not removed; the view shows overAllocated and no available."""
    org = await new_org(engine)
    await buy(engine, org, S, 1, days=400)
    await buy(engine, org, S, 3, days=30)
    await provisioned(engine, org, ("a", A, U), ("b", A, U), ("c", A, U))
    assert numbers((await view(engine, org))[S]) == (True, 4, 3, 1, 0, 0)
    clock.advance(days=30)
    assert numbers((await view(engine, org))[S]) == (True, 1, 3, 0, 2, 0)


@async_test
async def test_spec_5_new_assignments_wait_until_the_overage_is_gone(engine, clock):
    """SPEC 5: while there is no free seat, new assignments of the type are refused; once enough
    holders are released, a seat is free again."""
    org = await new_org(engine, auto_assign=True)
    await buy(engine, org, S, 1, days=400)
    await buy(engine, org, S, 2, days=30)
    await provisioned(engine, org, ("a", A, U), ("b", A, U), ("c", A, U))
    clock.advance(days=30)

    assert license_of(await sync(engine, org, "new")) == refused(
        "LICENSE_NOT_FOUND", "NO_SEAT_AVAILABLE", S
    )
    assert (await set_state(engine, org, ["b"], S, U)).ok
    assert license_of(await sync(engine, org, "new")) == refused(
        "LICENSE_NOT_FOUND", "NO_SEAT_AVAILABLE", S
    )
    assert (await set_state(engine, org, ["c"], S, D)).ok
    assert numbers((await view(engine, org))[S]) == (True, 1, 1, 0, 0, 0)
    assert (await set_state(engine, org, ["a"], S, U)).ok
    assert license_of(await sync(engine, org, "new")) == ok(S)


@async_test
async def test_spec_5_buying_seats_brings_over_capacity_holders_back(engine, clock):
    """SPEC 5: over-capacity holders fail sync until seats are bought."""
    org = await new_org(engine)
    await buy(engine, org, S, 2, days=10)
    await provisioned(engine, org, ("a", A, U), ("b", A, U))
    clock.advance(days=10)
    assert license_of(await sync(engine, org, "b")) == refused(
        "LICENSE_EXPIRED", "SUBSCRIPTION_EXPIRED", S
    )
    await buy(engine, org, S, 1)
    assert license_of(await sync(engine, org, "a")) == ok(S)
    assert license_of(await sync(engine, org, "b")) == refused(
        "LICENSE_EXPIRED", "OVER_CAPACITY", S
    )
    await buy(engine, org, S, 1)
    assert license_of(await sync(engine, org, "b")) == ok(S)


# ================================================================ SPEC 6: pending


@async_test
async def test_spec_6_pending_counts_users_in_their_window_by_the_type_their_latest_sync_required(
    engine,
):
    """SPEC 6, pending: users inside their temporary window, counted under the type their latest
    sync required (a STANDARD holder on an INSPECTIONS project is pending for INSPECTIONS)."""
    org = await new_org(engine)
    await buy(engine, org, S, 5)
    await buy(engine, org, I, 5)
    insp = await inspections_project(engine, org)
    ext = await external_project(engine, org)
    await provisioned(engine, org, ("std-holder", A, U), ("insp-holder", U, A))

    await sync(engine, org, "p-std")
    await sync(engine, org, "p-insp", project=insp)
    await sync(engine, org, "moved")
    await sync(engine, org, "moved", project=insp)  # latest requirement: INSPECTIONS
    await sync(engine, org, "std-holder", project=insp)  # temporary INSPECTIONS, holds STANDARD
    await sync(engine, org, "insp-holder")  # covered: not pending
    await sync(engine, org, "guest", project=ext)  # EXTERNAL: never pending

    rows = await view(engine, org)
    assert (rows[S].pending, rows[I].pending, rows[E].pending) == (1, 3, 0)


@async_test
async def test_spec_6_pending_excludes_assigned_disabled_and_ended_windows(engine, clock):
    """SPEC 6, pending: not once a covering seat is assigned, not when DISABLED for the type,
    not after the window ends (at exactly graceStartedAt + gracePeriodDays)."""
    org = await new_org(engine)
    await buy(engine, org, S, 5)
    start = clock()
    for user_id in ("gets-seat", "gets-disabled", "waits"):
        await sync(engine, org, user_id)
    assert (await view(engine, org))[S].pending == 3

    assert (await set_state(engine, org, ["gets-seat"], S, A)).ok
    assert (await set_state(engine, org, ["gets-disabled"], S, D)).ok
    assert (await view(engine, org))[S].pending == 1

    clock.set(start + timedelta(days=14) - timedelta(seconds=1))
    assert (await view(engine, org))[S].pending == 1
    clock.set(start + timedelta(days=14))
    assert (await view(engine, org))[S].pending == 0

    assert (await engine.update_settings(org, grace_period_days=30)).ok  # the window reopens
    assert (await view(engine, org))[S].pending == 1


@async_test
async def test_spec_6_pending_excludes_trial_syncs_and_auto_assign_refusals(engine, clock):
    """SPEC 6, pending: a trial sync or an auto-assign refusal starts no window: not pending."""
    trial = await new_org(engine, trial_days=10)
    await sync(engine, trial, "trial-user")
    auto = await new_org(engine, auto_assign=True)
    await sync(engine, auto, "refused")
    assert (await view(engine, trial))[S].pending == 0
    assert (await view(engine, auto))[S].pending == 0
