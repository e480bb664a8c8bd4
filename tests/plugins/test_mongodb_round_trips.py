"""How many database operations a sync costs through the real Engine on the MongoDB plugin.

Every collection of the plugin's store is wrapped by `RoundTrips`, which counts the operations it
would send (each is one round trip to the server). The bounds asserted here are the ones reached;
the tallies are printed (`pytest -s`) for the report.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from seatkeeper.domain.records import LicenseState, LicenseType
from seatkeeper.plugins.mongodb import MongoStorage
from seatkeeper.plugins.mongodb.testing import RoundTrips, atomic_mongomock_client
from seatkeeper.rules.engine import Engine, SyncRequest

URL = "mongodb://localhost/seatkeeper_rt?syncLogRetentionDays=0"


def _measure(url: str, auto_assign: bool, clock) -> tuple[RoundTrips, RoundTrips]:
    """(the first sync of a user, a later sync of the same user) with a seat held; `clock` is
    the suite's FakeClock fixture."""
    storage = MongoStorage(url, client=atomic_mongomock_client())
    engine = Engine(storage, clock)

    async def go():
        await storage.open()
        created = await engine.create_organization("Acme")
        org = created.value.organization.id
        await engine.add_subscription(org, LicenseType.STANDARD, 10, clock() + timedelta(days=365))
        await engine.update_settings(org, auto_assign_licenses=auto_assign)
        request = SyncRequest("u1", "u1@example.com", "User One")
        await engine.sync(
            org, SyncRequest("warm", "warm@example.com", "Warm")
        )  # caches, if any, are warm
        await storage.flush_sync_log()  # the warm sync's queued entry is not this sync's
        first = RoundTrips(storage.store)
        outcome = await engine.sync(org, request)
        first.uninstall()
        assert outcome.ok, outcome
        if not auto_assign:
            await engine.set_license_state(
                org, "admin", ["u1"], LicenseType.STANDARD, LicenseState.ASSIGNED
            )
        clock.advance(minutes=5)
        await storage.flush_sync_log()
        later = RoundTrips(storage.store)
        outcome = await engine.sync(org, request)
        later.uninstall()
        assert (
            outcome.ok
            and outcome.license.type is LicenseType.STANDARD
            and not outcome.license.temporary
        )
        return first, later

    return asyncio.run(go())


def _show(title: str, trips: RoundTrips) -> None:
    print(f"\n{title}: {trips.total} round trips")
    for call, count in sorted(trips.tally.items()):
        print(f"  {count} x {call}")


def test_a_licensed_user_syncing_costs_three_round_trips_with_the_read_cache(clock):
    """Organization, project and subscriptions come from the process's short read cache; what
    remains is the read of the user the decision rests on, the seat counter (SPEC 5's
    over-capacity check) and the user's upsert (`write_sync`). The sync-log entry is queued and
    written after the answer, in batches: the sync does not wait for it."""
    _, later = _measure(URL, auto_assign=False, clock=clock)
    _show("licensed user, cache on", later)
    assert later.tally == {
        "users.find_one": 1,
        "users.find_one_and_update": 1,
        "counters.find_one": 1,
    }


def test_a_licensed_user_syncing_costs_six_round_trips_without_the_cache(clock):
    _, later = _measure(URL + "&cacheSeconds=0", auto_assign=False, clock=clock)
    _show("licensed user, cache off", later)
    assert later.total == 6
    assert later.tally["organizations.find_one"] == 1 and later.tally["subscriptions.find"] == 1


def test_an_automatically_assigned_user_costs_eight_round_trips_on_its_first_sync(clock):
    """SPEC 4.6.1 on the one-user path: journal, guarded seat, the user's write (which locks the
    user until its audit is written: issue 15, finding 5), audit, unlock, journal end — plus the
    read of the user and its upsert (the sync-log entry is written after the answer). Later
    syncs cost what a licensed user's cost."""
    first, later = _measure(URL, auto_assign=True, clock=clock)
    _show("auto-assigned user, first sync, cache on", first)
    _show("auto-assigned user, later sync, cache on", later)
    assert first.tally == {
        "users.find_one": 1,
        "users.find_one_and_update": 1,
        "journals.update_one": 1,
        "counters.find_one_and_update": 1,
        "users.update_one": 2,
        "audit_log.insert_many": 1,
        "journals.delete_one": 1,
    }
    assert later.total == 3
