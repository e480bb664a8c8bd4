"""B10 (issue 9, finding 7): a holder's sync after capacity fell costs what it cost before.

In-process through the whole ASGI app (GraphQL included; no HTTP, no network), the memory
plugin, an injected clock. One organization with 100,000 Standard holders and two
subscriptions: 100,000 seats ending in a year and 50,000 seats for three. Before: syncs per
second of holders picked at random (all within capacity). Then the clock moves a year on: the
first subscription has ended, capacity (50,000) is below the holders (SPEC 5), and every
holder's sync ranks it among the holders: half are within capacity (ok), half over (refused
`LICENSE_EXPIRED`). The figure is syncs/s after ÷ syncs/s before (target ≥ 0.8); before
issue 9 each ranking scanned every holder under the plugin's lock (41.6 ms per sync over HTTP).
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta

from seatkeeper.domain.records import LicenseType
from seatkeeper.server.app import create_app

from benchmarks.common import (
    AsgiClient,
    BenchConfig,
    Figure,
    contract_operation,
    median,
    seed_organization,
)

SYNC = contract_operation("Sync")
HOLDERS = 100_000
CALLS = 2_000  # syncs timed per phase and round (fewer: too short to time on a shared machine)


async def syncs_per_second(client: AsgiClient, users, rng: random.Random) -> tuple[float, int]:
    """Syncs/s of CALLS holders picked at random, and how many were refused."""
    picked = [rng.choice(users) for _ in range(CALLS)]
    refused = 0
    started = time.perf_counter()
    for user in picked:
        data = await client.post(SYNC, {"input": {"userId": user.id, "email": user.email}})
        refused += not data["sync"]["ok"]
    return CALLS / (time.perf_counter() - started), refused


async def measure(config: BenchConfig) -> list[Figure]:
    holders = config.size(HOLDERS, 10_000)
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    app = create_app("memory://", graphiql=False, clock=lambda: now[0])
    engine = app.state.engine
    # seed_organization adds `holders` seats for a year (the subscription that ends); a longer
    # one keeps half of them.
    seeded = await seed_organization(engine, holders)
    short_end = now[0] + timedelta(days=365)
    long_end = now[0] + timedelta(days=3 * 365)
    await engine.add_subscription(
        seeded.organization_id, LicenseType.STANDARD, holders // 2, long_end
    )
    client = AsgiClient(app, seeded.sync_token)
    rng = random.Random(10)
    users = seeded.users
    ratios, before_rates, after_rates, refused_counts = [], [], [], []
    await syncs_per_second(client, users, rng)  # warm: caches, first syncs
    for _ in range(config.rounds):
        now[0] = datetime(2026, 1, 1, tzinfo=UTC)
        before, refused_before = await syncs_per_second(client, users, rng)
        if refused_before:
            raise RuntimeError(f"{refused_before} holders refused before capacity fell")
        now[0] = short_end + timedelta(days=1)
        after, refused = await syncs_per_second(client, users, rng)
        if not 0 < refused < CALLS:
            raise RuntimeError(f"capacity fell but {refused} of {CALLS} syncs were refused")
        ratios.append(after / before)
        before_rates.append(before)
        after_rates.append(after)
        refused_counts.append(refused)
    ratio = median(ratios)
    label = f"{holders:,}"
    return [
        Figure(
            "B10",
            f"holder sync after capacity fell, {label} holders (in-process syncs/s via ASGI)",
            f"{median(before_rates):,.0f} syncs/s before it fell",
            ratio,
            "≥ 0.8",
            ratio >= 0.8,
            f"{median(after_rates):,.0f} syncs/s after (capacity {holders // 2:,}; "
            f"{median(refused_counts):.0f} of {CALLS} over capacity); "
            f"rounds {', '.join(f'{r:.2f}' for r in ratios)}",
        )
    ]


def run(config: BenchConfig) -> list[Figure]:
    return asyncio.run(measure(config))
