"""B6: database round trips per `sync` with the MongoDB plugin, counted on mongomock.

Every collection of the plugin's store is wrapped (the plugin's own `RoundTrips` helper) and each
operation it sends counts as one round trip. Through the real Engine, with the plugin's default
options (its short read cache on, warmed by an earlier sync):

* B6a: a licensed user syncing (holds a Standard seat);
* B6b: a user assigned a seat automatically by that sync (SPEC 4.6, autoAssignLicenses on).

Counts, not timings: no baseline. The rounds only confirm the count does not vary. Counted: what
the sync waits for (the sync-log entry is queued and written after the answer, in batches).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from seatkeeper.domain.records import LicenseState, LicenseType
from seatkeeper.rules.engine import Engine, SyncRequest

from benchmarks.common import BenchConfig, Figure, median, not_available

URL = "mongodb://localhost/seatkeeper_bench"
WHAT = {
    "B6a": "MongoDB round trips per sync: licensed user",
    "B6b": "MongoDB round trips per sync: auto-assigned user",
}
TARGET = {"B6a": 1, "B6b": 3}


async def count_round_trips(MongoStorage, RoundTrips, client) -> tuple[int, int, str, str]:
    storage = MongoStorage(URL, client=client)
    engine = Engine(storage)
    await storage.open()
    created = await engine.create_organization("Bench")
    org = created.value.organization.id
    await engine.add_subscription(org, LicenseType.STANDARD, 10, engine.now() + timedelta(days=365))
    await engine.sync(
        org, SyncRequest("warm", "warm@example.com", "Warm")
    )  # the plugin's caches, if any, warm

    await engine.sync(org, SyncRequest("licensed", "licensed@example.com", "Licensed"))
    await engine.set_license_state(
        org, "bench", ["licensed"], LicenseType.STANDARD, LicenseState.ASSIGNED
    )
    await storage.flush_sync_log()  # earlier syncs' queued log entries are not this sync's
    licensed = RoundTrips(storage.store)
    outcome = await engine.sync(org, SyncRequest("licensed", "licensed@example.com", "Licensed"))
    licensed.uninstall()
    if not (outcome.ok and not outcome.license.temporary):
        raise RuntimeError(f"the licensed user was not granted its seat: {outcome}")

    await engine.update_settings(org, auto_assign_licenses=True)
    await engine.sync(org, SyncRequest("warm", "warm@example.com", "Warm"))
    await storage.flush_sync_log()
    auto = RoundTrips(storage.store)
    outcome = await engine.sync(org, SyncRequest("auto", "auto@example.com", "Auto"))
    auto.uninstall()
    if not (outcome.ok and outcome.user.active_license is LicenseType.STANDARD):
        raise RuntimeError(f"the user was not assigned a seat automatically: {outcome}")
    await storage.close()

    def tally(trips) -> str:
        return ", ".join(f"{n}× {call}" for call, n in sorted(trips.tally.items()))

    return licensed.total, auto.total, tally(licensed), tally(auto)


def run(config: BenchConfig) -> list[Figure]:
    try:
        import mongomock  # noqa: F401  (the `test` extra)
        from seatkeeper.plugins.mongodb import MongoStorage
        from seatkeeper.plugins.mongodb.testing import RoundTrips, atomic_mongomock_client
    except ImportError as error:
        return [
            not_available(
                key, WHAT[key], f"≤ {TARGET[key]}", f"MongoDB plugin or mongomock missing ({error})"
            )
            for key in WHAT
        ]
    counts: dict[str, list[int]] = {"B6a": [], "B6b": []}
    tallies = {}
    for _ in range(config.rounds):
        licensed, auto, licensed_tally, auto_tally = asyncio.run(
            count_round_trips(MongoStorage, RoundTrips, atomic_mongomock_client())
        )
        counts["B6a"].append(licensed)
        counts["B6b"].append(auto)
        tallies = {"B6a": licensed_tally, "B6b": auto_tally}
    figures = []
    for key, what in WHAT.items():
        value = median(counts[key])
        figures.append(
            Figure(
                key,
                what,
                "— (a count)",
                value,
                f"{'=' if TARGET[key] == 1 else '≤'} {TARGET[key]}",
                value <= TARGET[key],
                tallies[key],
                ratio_format="{:.0f} round trips",
            )
        )
    return figures
