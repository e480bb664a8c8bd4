"""The server the HTTP benchmarks (B1, B7) and the memory benchmark (B5) run in its own process.

    python -m benchmarks.server_app --port 8765 --users 10000 --info /tmp/info.json

builds the Seatkeeper app with `create_app("memory://")` (or `--storage URL`), seeds one organization through the rules
engine, writes what the load generator needs (the SYNC token, the users' ids and e-mails) to
`--info` and `--bodies-file`, then serves it under uvicorn with one worker.

Next to `/graphql` it serves `POST /bare`, the B1 baseline: a bare Starlette route in the same
process answering the very bytes a sync answers (same shape, same size), doing no work. It is a
separate Starlette app chosen by path before Seatkeeper's app and middleware, so that it measures
the floor of the HTTP stack itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os

import httpx
import orjson
from seatkeeper.rules.engine import Engine, SyncRequest
from seatkeeper.server.app import create_app
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from benchmarks.common import all_standard, contract_operation, realistic_mix, seed_organization

SYNC = contract_operation("Sync")
#: Apollo Client's extensions on every request (B13).
APOLLO_EXTENSIONS = {"clientLibrary": {"name": "@apollo/client", "version": "4.0.0"}}


def apollo_shaped(operation: str) -> str:
    """The operation as Apollo Client sends it: `__typename` added to every nested selection,
    printed by its own printer (graphql-js's, which graphql-core's follows)."""
    from graphql import FieldNode, NameNode, SelectionSetNode, Visitor, parse, print_ast, visit

    class AddTypename(Visitor):
        def leave_selection_set(self, node: SelectionSetNode, key, parent, *_):
            if not isinstance(parent, FieldNode):
                return None  # the operation's own selection: Apollo adds none there
            names = {getattr(s, "name", None) and s.name.value for s in node.selections}
            if "__typename" in names:
                return None
            typename = FieldNode(name=NameNode(value="__typename"), arguments=(), directives=())
            return SelectionSetNode(selections=(*node.selections, typename))

    return print_ast(visit(parse(operation), AddTypename()))


def bare_app(body: bytes) -> Starlette:
    """A Starlette app with one route answering `body` as JSON, whatever it is sent."""

    async def bare(request: Request) -> Response:
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/bare", bare, methods=["GET", "POST"])])


def dispatch(bare: Starlette, main: Starlette):
    """`/bare` to the bare app, everything else (lifespan included) to Seatkeeper."""

    async def app(scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/bare":
            await bare(scope, receive, send)
        else:
            await main(scope, receive, send)

    return app


async def fill_sync_log(engine: Engine, organization_id: str, users, entries: int) -> None:
    """`entries` real syncs of the seeded users, round robin: the sync log as production fills it."""
    if not users:
        return
    for index in range(entries):
        user = users[index % len(users)]
        # A fresh string per request, as a parsed HTTP body would give (no sharing with the user record).
        await engine.sync(organization_id, SyncRequest("".join(user.id), "".join(user.email)))


async def build(args: argparse.Namespace):
    """The app, seeded, and the bytes of one real sync answer for the bare route."""
    seatkeeper = create_app(args.storage, graphiql=False)
    engine: Engine = seatkeeper.state.engine
    await engine.storage.open()
    seeded = await seed_organization(
        engine, args.users, realistic_mix if args.mix == "realistic" else all_standard
    )
    await fill_sync_log(engine, seeded.organization_id, seeded.users, args.sync_log)

    sample = {"userId": "00000000-0000-4000-8000-000000000000", "email": "nobody@example.com"}
    if seeded.users:
        sample = {"userId": seeded.users[0].id, "email": seeded.users[0].email}
    transport = httpx.ASGITransport(app=seatkeeper)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        answer = await client.post(
            "/graphql",
            json={"query": SYNC, "variables": {"input": sample}},
            headers={"authorization": f"Bearer {seeded.sync_token}"},
        )
    answer.raise_for_status()

    if args.info:
        with open(args.info, "w") as out:  # noqa: ASYNC230 - setup, before any request is served
            json.dump(
                {
                    "organization_id": seeded.organization_id,
                    "sync_token": seeded.sync_token,
                    "admin_token": seeded.admin_token,
                    "sync_answer": answer.json(),
                    "users": len(seeded.users),
                    "pid": os.getpid(),
                },
                out,
            )
    if args.apollo_bodies_file:
        # B13: the same syncs as Apollo Client 4 sends them (Sync with __typename added,
        # operationName, extensions.clientLibrary).
        apollo_sync = apollo_shaped(SYNC)
        with open(args.apollo_bodies_file, "wb") as out:  # noqa: ASYNC230 - setup, before serving
            for user in seeded.users:
                body = {
                    "operationName": "Sync",
                    "variables": {"input": {"userId": user.id, "email": user.email}},
                    "query": apollo_sync,
                    "extensions": APOLLO_EXTENSIONS,
                }
                out.write(orjson.dumps(body))
                out.write(b"\n")
    if args.bodies_file:
        # One request body per line (JSON has no raw newline): the Sync operation exactly as the
        # contract writes it, with one seeded user's variables. wrk picks a line at random.
        with open(args.bodies_file, "wb") as out:  # noqa: ASYNC230 - setup, before any request is served
            for user in seeded.users:
                out.write(
                    orjson.dumps(
                        {
                            "query": SYNC,
                            "variables": {"input": {"userId": user.id, "email": user.email}},
                        }
                    )
                )
                out.write(b"\n")
    return dispatch(bare_app(answer.content), seatkeeper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--mix", choices=["standard", "realistic"], default="standard")
    parser.add_argument("--storage", default="memory://", help="storage URL (B1s: sqlite:///…)")
    parser.add_argument(
        "--sync-log", type=int, default=0, help="sync-log entries to add by real syncs"
    )
    parser.add_argument("--info", help="write the tokens and a sample answer here (JSON)")
    parser.add_argument(
        "--bodies-file", help="write one Sync request body per seeded user here, for sync.lua"
    )
    parser.add_argument(
        "--apollo-bodies-file", help="the same syncs shaped as Apollo Client sends them (B13)"
    )
    parser.add_argument(
        "--shipped",
        action="store_true",
        help="log as `seatkeeper serve` does by default (its log level and access-log setting)",
    )
    parser.add_argument(
        "--loop", default="auto", help="uvicorn --loop (auto picks uvloop when installed)"
    )
    parser.add_argument(
        "--http", default="auto", help="uvicorn --http (auto picks httptools when installed)"
    )
    parser.add_argument(
        "--access-log", action="store_true", help="log every request (off by default)"
    )
    args = parser.parse_args()

    import uvicorn

    app = asyncio.run(build(args))
    log_level, access_log = "warning", args.access_log
    if args.shipped:
        import logging

        from seatkeeper.server.cli import DEFAULT_ACCESS_LOG, DEFAULT_LOG_LEVEL

        logging.basicConfig(level=DEFAULT_LOG_LEVEL.upper())  # as `serve` configures logging
        log_level, access_log = DEFAULT_LOG_LEVEL, DEFAULT_ACCESS_LOG
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=1,
        loop=args.loop,
        http=args.http,
        log_level=log_level,
        access_log=access_log,
    )


if __name__ == "__main__":
    main()
