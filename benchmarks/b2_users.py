"""B2: the admin list of users costs what the page costs, not what the organization holds.

The contract's Users query, in-process through the whole app (GraphQL included), on an organization
of 100,000 users against the same on one of 1,000 (same mix of states, 60% holding Standard):

* B2a: `users(first: 50, filter: {licenseType: STANDARD, state: ASSIGNED})` with `totalCount`;
* B2b: `users(first: 50, after: <cursor of the user in the middle of the name order>)`.

Latency is the median of many calls; the figure is the median over rounds of large / small.
"""

from __future__ import annotations

import asyncio
import time

from seatkeeper.resolvers.cursors import encode_cursor
from seatkeeper.server.app import create_app

from benchmarks.common import (
    AsgiClient,
    BenchConfig,
    Figure,
    contract_operation,
    median,
    realistic_mix,
    seed_organization,
)

USERS = contract_operation("Users")
SMALL, LARGE = 1_000, 100_000
CALLS = 60  # per query, organization and round


def middle_cursor(seeded) -> str:
    """The cursor of the user in the middle of SPEC 6a's order (name, then id)."""
    order = sorted((u.full_name.strip().casefold(), u.id) for u in seeded.users)
    return encode_cursor(tuple(order[len(order) // 2]))


async def latency(client: AsgiClient, variables: dict, expect_total: int | None) -> float:
    """Median seconds of CALLS calls of the Users query."""
    data = await client.post(USERS, variables)  # warm, and check the answer
    edges = data["users"]["edges"]
    if len(edges) != 50 or (
        expect_total is not None and data["users"]["totalCount"] != expect_total
    ):
        raise RuntimeError(
            f"unexpected Users answer: {len(edges)} edges, total {data['users']['totalCount']}"
        )
    samples = []
    for _ in range(CALLS):
        started = time.perf_counter()
        await client.post(USERS, variables)
        samples.append(time.perf_counter() - started)
    return median(samples)


async def measure(config: BenchConfig, storage: str = "memory://") -> list[Figure]:
    large_count = config.size(LARGE, 20_000)
    app = create_app(storage, graphiql=False)
    engine = app.state.engine
    small = await seed_organization(engine, SMALL, realistic_mix, seed=11)
    large = await seed_organization(engine, large_count, realistic_mix, seed=13)
    clients = {
        "small": AsgiClient(app, small.admin_token),
        "large": AsgiClient(app, large.admin_token),
    }
    queries = {
        "B2a": (
            lambda seeded: {
                "filter": {"licenseType": "STANDARD", "state": "ASSIGNED"},
                "first": 50,
            },
            lambda seeded: sum(
                1 for i in range(len(seeded.users)) if realistic_mix(i)[0].value == "ASSIGNED"
            ),
        ),
        "B2b": (
            lambda seeded: {"first": 50, "after": middle_cursor(seeded)},
            lambda seeded: len(seeded.users),
        ),
    }
    ratios: dict[str, list[float]] = {key: [] for key in queries}
    small_ms: dict[str, list[float]] = {key: [] for key in queries}
    large_ms: dict[str, list[float]] = {key: [] for key in queries}
    for _ in range(config.rounds):
        for key, (variables_of, total_of) in queries.items():
            small_latency = await latency(clients["small"], variables_of(small), total_of(small))
            large_latency = await latency(clients["large"], variables_of(large), total_of(large))
            ratios[key].append(large_latency / small_latency)
            small_ms[key].append(small_latency * 1000)
            large_ms[key].append(large_latency * 1000)
    label = f"{large_count:,}"
    what = {
        "B2a": f"users(first: 50, filter STANDARD/ASSIGNED) + totalCount at {label} users (latency)",
        "B2b": f"users(first: 50, after: middle cursor) at {label} users (latency)",
    }
    figures = []
    for key in queries:
        ratio = median(ratios[key])
        figures.append(
            Figure(
                key,
                what[key],
                f"{median(small_ms[key]):.2f} ms at {SMALL:,} users",
                ratio,
                "≤ 1.5×",
                ratio <= 1.5,
                f"{median(large_ms[key]):.2f} ms at {label}; rounds {', '.join(f'{r:.2f}' for r in ratios[key])}",
            )
        )
    return figures


def run(config: BenchConfig) -> list[Figure]:
    return asyncio.run(measure(config))
