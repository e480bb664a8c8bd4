"""B9 (issue 9, finding 6): another organization's syncs while a 200,000-row import runs.

In-process, one event loop, the memory plugin: syncs of another organization's holders through
the whole ASGI app (GraphQL included; no HTTP) arrive on a fixed schedule (open loop, one every
INTERVAL seconds), and each one's latency counts from when it was due, so that time the event
loop spent elsewhere shows up as it would for a client. Idle: the syncs alone. Busy: the same
while `importLicenses` (the engine's call, as the resolver makes it) creates 200,000 holders in
a third organization. The figure is p99 busy ÷ p99 idle (target ≤ 5). B9s is the same on a
SQLite file (benchmarks/b9s_sqlite.py; reported, no target: SQLite has one writer, and the
import's one transaction holds it).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable

from seatkeeper.domain.records import LicenseType
from seatkeeper.rules.licenses_csv import ImportMode
from seatkeeper.server.app import create_app

from benchmarks.common import AsgiClient, BenchConfig, Figure, contract_operation, seed_organization

SYNC = contract_operation("Sync")
ROWS = 200_000
INTERVAL = 0.005  # seconds between syncs: 200 a second, well below what one loop serves
IDLE_SYNCS = 400


def licenses_file(rows: int, round_number: int) -> str:
    lines = ['"Id","Full Name","Email","Standard","Inspections"']
    lines += [
        f"r{round_number}-{n},User {n},r{round_number}-{n}@example.com,Assigned,"
        for n in range(rows)
    ]
    return "\r\n".join(lines) + "\r\n"


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def scheduled_syncs(
    client: AsgiClient, users, rng: random.Random, until: Callable[[int], bool]
) -> list[float]:
    """Sync holders on a fixed schedule until `until()` is true; latencies from when each was due."""
    latencies: list[float] = []
    started = time.perf_counter()
    index = 0
    while True:
        due = started + index * INTERVAL
        # Stop once `until` holds and the schedule has caught up: the syncs that fell due while
        # the loop was held are all sent and measured, not dropped with the last one.
        if until(index) and due > time.perf_counter():
            break
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        user = rng.choice(users)
        data = await client.post(SYNC, {"input": {"userId": user.id, "email": user.email}})
        if not data["sync"]["ok"]:
            raise RuntimeError(f"a holder's sync was refused: {data}")
        latencies.append(time.perf_counter() - due)
        index += 1
    return latencies


async def measure(
    config: BenchConfig, storage: str = "memory://", figure_id: str = "B9"
) -> list[Figure]:
    rows = config.size(ROWS, 20_000)
    app = create_app(storage, graphiql=False)
    engine = app.state.engine
    await engine.storage.open()
    syncing = await seed_organization(engine, 1_000, seed=9)
    client = AsgiClient(app, syncing.sync_token)
    rng = random.Random(9)
    ratios, idle_ms, busy_ms, import_s = [], [], [], []
    for round_number in range(config.rounds):
        idle = await scheduled_syncs(client, syncing.users, rng, lambda index: index >= IDLE_SYNCS)
        busy_org = await seed_organization(engine, 0, seed=round_number)
        await engine.add_subscription(
            busy_org.organization_id, LicenseType.STANDARD, rows, engine.now().replace(year=2999)
        )
        text = licenses_file(rows, round_number)
        started = time.perf_counter()
        importing = asyncio.ensure_future(
            engine.import_licenses(busy_org.organization_id, "bench", text, ImportMode.MERGE, False)
        )
        busy = await scheduled_syncs(
            client, syncing.users, rng, lambda index, task=importing: task.done()
        )
        report = await importing
        import_s.append(time.perf_counter() - started)
        if not report.applied or report.summary.created != rows:
            raise RuntimeError(f"the import was not applied: {report.user_errors[:3]}")
        ratios.append(p99(busy) / p99(idle))
        idle_ms.append(p99(idle) * 1000)
        busy_ms.append(p99(busy) * 1000)
    ratio = sorted(ratios)[len(ratios) // 2]
    await engine.storage.close()
    on = "" if storage == "memory://" else f", {storage.split(':', 1)[0]}"
    return [
        Figure(
            figure_id,
            f"p99 of another organization's syncs during a {rows:,}-row import "
            f"(in-process, ASGI, open loop 200/s{on})",
            f"idle p99 {sorted(idle_ms)[len(idle_ms) // 2]:.2f} ms",
            ratio,
            "≤ 5×" if figure_id == "B9" else "reported",
            ratio <= 5 if figure_id == "B9" else None,
            f"busy p99 {sorted(busy_ms)[len(busy_ms) // 2]:.1f} ms; import "
            f"{sorted(import_s)[len(import_s) // 2]:.1f} s; rounds "
            f"{', '.join(f'{r:.1f}' for r in ratios)}",
        )
    ]


def run(config: BenchConfig) -> list[Figure]:
    return asyncio.run(measure(config))
