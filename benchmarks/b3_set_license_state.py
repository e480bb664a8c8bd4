"""B3: one setLicenseState for 10,000 users costs per user what it costs for 100, and far less
than 10,000 single-user mutations.

The contract's SetLicenseState, in-process through the whole app, assigning Standard seats to users
who hold none (enough seats for all). Each timed assignment is undone, untimed, before the next.

* B3a: per-user time of one mutation for 10,000 users / per-user time of one for 100 users;
* B3b: per-user time of single-user mutations / per-user time of the 10,000-user mutation.
"""

from __future__ import annotations

import asyncio
import time

from seatkeeper.domain.records import LicenseState
from seatkeeper.server.app import create_app

from benchmarks.common import (
    AsgiClient,
    BenchConfig,
    Figure,
    contract_operation,
    median,
    seed_organization,
)

SET_LICENSE_STATE = contract_operation("SetLicenseState")
LARGE, SMALL = 10_000, 100
SINGLES = 2_000  # single-user mutations timed per round (their cost does not depend on how many)


def unassigned(index: int) -> tuple[LicenseState, LicenseState]:
    return (LicenseState.UNASSIGNED, LicenseState.UNASSIGNED)


async def set_state(client: AsgiClient, user_ids: list[str], state: str) -> float:
    """Seconds one SetLicenseState took (checked: no user errors, every user answered)."""
    variables = {"input": {"userIds": user_ids, "licenseType": "STANDARD", "state": state}}
    started = time.perf_counter()
    data = await client.post(SET_LICENSE_STATE, variables)
    elapsed = time.perf_counter() - started
    payload = data["setLicenseState"]
    if payload["userErrors"] or len(payload["users"]) != len(user_ids):
        raise RuntimeError(f"setLicenseState refused: {payload['userErrors'][:3]}")
    return elapsed


async def measure(config: BenchConfig, storage: str = "memory://") -> list[Figure]:
    large_count = config.size(LARGE, 2_000)
    singles = config.size(SINGLES, 200)
    app = create_app(storage, graphiql=False)
    engine = app.state.engine
    large = await seed_organization(engine, large_count, unassigned, seed=21)
    small = await seed_organization(engine, SMALL, unassigned, seed=23)
    large_client, small_client = (
        AsgiClient(app, large.admin_token),
        AsgiClient(app, small.admin_token),
    )
    large_ids = [u.id for u in large.users]
    small_ids = [u.id for u in small.users]

    # Warm up both paths once.
    await set_state(small_client, small_ids, "ASSIGNED")
    await set_state(small_client, small_ids, "UNASSIGNED")

    scale_ratios, single_ratios = [], []
    bulk_us, small_us, single_us = [], [], []
    for _ in range(config.rounds):
        bulk = await set_state(large_client, large_ids, "ASSIGNED") / large_count
        await set_state(large_client, large_ids, "UNASSIGNED")

        small_samples = []
        for _ in range(15):  # a 100-user call is short: take the median of several
            small_samples.append(await set_state(small_client, small_ids, "ASSIGNED") / SMALL)
            await set_state(small_client, small_ids, "UNASSIGNED")
        per_user_small = median(small_samples)

        started = time.perf_counter()
        for user_id in large_ids[:singles]:
            await set_state(large_client, [user_id], "ASSIGNED")
        single = (time.perf_counter() - started) / singles
        await set_state(large_client, large_ids[:singles], "UNASSIGNED")

        scale_ratios.append(bulk / per_user_small)
        single_ratios.append(single / bulk)
        bulk_us.append(bulk * 1e6)
        small_us.append(per_user_small * 1e6)
        single_us.append(single * 1e6)

    scale, cheaper = median(scale_ratios), median(single_ratios)
    label = f"{large_count:,}"
    return [
        Figure(
            "B3a",
            f"setLicenseState assigning {label} users in one mutation (time per user)",
            f"{median(small_us):.0f} µs/user with {SMALL} users",
            scale,
            "≤ 1.2×",
            scale <= 1.2,
            f"{median(bulk_us):.0f} µs/user ({median(bulk_us) * large_count / 1e6:.2f} s per call); "
            f"rounds {', '.join(f'{r:.2f}' for r in scale_ratios)}",
        ),
        Figure(
            "B3b",
            f"single-user setLicenseState vs the {label}-user one (time per user)",
            f"{median(bulk_us):.0f} µs/user in one mutation",
            cheaper,
            "≥ 10× (bulk cheaper)",
            cheaper >= 10,
            f"{median(single_us):.0f} µs per single-user mutation ({singles:,} timed per round); "
            f"rounds {', '.join(f'{r:.1f}' for r in single_ratios)}",
        ),
    ]


def run(config: BenchConfig) -> list[Figure]:
    return asyncio.run(measure(config))
