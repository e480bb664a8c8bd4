"""CPU per Sync request through the whole ASGI app, in-process (no network, no load generator).

    python -m benchmarks.sync_cpu                    # µs of CPU per sync, both routes
    python -m benchmarks.sync_cpu --profile 20000    # and cProfile's top functions
    python -m benchmarks.sync_cpu --ablate           # and the trusted route without the
                                                     # compiled variables and arguments

The app is built as benchmarks/server_app.py builds it (`create_app("memory://")`, 10,000
licensed users); each request is the contract's Sync for a user picked in turn, sent by
benchmarks.common.AsgiClient. The figure is `time.process_time` per request: on this shared
machine it is steadier than wall time, but still only comparable within one run. Not a test, and
not part of `make bench`'s table: a tool to see where a sync's time goes (issue 12).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import time

import orjson
from seatkeeper.server import compiled
from seatkeeper.server.app import create_app

from benchmarks.common import AsgiClient, all_standard, contract_operation, seed_organization

SYNC = contract_operation("Sync")


async def _client(
    users: int, trusted: bool, ablate: bool = False
) -> tuple[AsgiClient, list[bytes]]:
    app = create_app("memory://", graphiql=False, trusted_documents=trusted)
    engine = app.state.engine
    await engine.storage.open()
    seeded = await seed_organization(engine, users, all_standard)
    bodies = [
        orjson.dumps({"query": SYNC, "variables": {"input": {"userId": u.id, "email": u.email}}})
        for u in seeded.users
    ]
    client = AsgiClient(app, seeded.sync_token)
    if ablate:
        # The operation is compiled at its first request: compiled without the variables'
        # coercion (graphql-core's) and with Strawberry's own resolver wrapper.
        variables, root_resolver = compiled.compile_variables, compiled.root_resolver
        compiled.compile_variables = lambda *args: None
        compiled.root_resolver = lambda definition: definition.resolve
        try:
            await client.post_raw(bodies[0])
        finally:
            compiled.compile_variables, compiled.root_resolver = variables, root_resolver
    return client, bodies


async def _run(client: AsgiClient, bodies: list[bytes], count: int) -> float:
    """CPU seconds per request over `count` requests."""
    post = client.post_raw
    started = time.process_time()
    for index in range(count):
        status, _ = await post(bodies[index % len(bodies)])
        if status != 200:
            raise RuntimeError(f"sync answered {status}")
    return (time.process_time() - started) / count


async def main(args: argparse.Namespace) -> None:
    routes = [("trusted (compiled)", True, False)]
    if args.ablate:
        routes.append(("trusted, Strawberry's arguments, graphql-core's variables", True, True))
    if args.general:
        routes.append(("general", False, False))
    clients = [(name, *await _client(args.users, t, ablate)) for name, t, ablate in routes]
    for name, client, bodies in clients:
        await _run(client, bodies, 2_000)  # warm up caches
    for _ in range(args.rounds):
        for name, client, bodies in clients:
            per_request = await _run(client, bodies, args.requests)
            print(f"{name}: {per_request * 1e6:.1f} µs CPU per sync")
    if args.profile:
        name, client, bodies = clients[0]
        profiler = cProfile.Profile()
        profiler.enable()
        await _run(client, bodies, args.profile)
        profiler.disable()
        stats = pstats.Stats(profiler).strip_dirs().sort_stats(args.sort)
        stats.print_stats(args.top)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--general", action="store_true", help="also Strawberry's general route")
    parser.add_argument("--ablate", action="store_true", help="also without compiled inputs")
    parser.add_argument("--profile", type=int, default=0, help="profile this many requests")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=45)
    asyncio.run(main(parser.parse_args()))
