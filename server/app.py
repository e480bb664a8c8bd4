"""The Starlette application: `create_app(...)`, the public way to build and embed Seatkeeper.

Routes: `POST /graphql` (and `GET /graphql` for queries; GraphiQL in a browser unless disabled),
`GET /healthz` (the process is alive), `GET /readyz` (the storage answers), the CSV downloads,
and the administration console at `/` and `/console/…` (static files, see `console_routes`).

This module holds the route table and the lifespan (storage opened, sync-log purging, the metrics
address) in `create_app`, and the builders from settings; the middleware it stacks are in
server/middleware.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Sequence

from seatkeeper.domain.records import Role
from seatkeeper.resolvers.common import Context
from seatkeeper.rules.access import Action, Caller, hash_secret, same_secret
from seatkeeper.rules.csv_export import BOM
from seatkeeper.rules.engine import Clock, Engine
from seatkeeper.schema import build_schema
from seatkeeper.schema.root import executable_schema
from seatkeeper.server.console_routes import console_routes
from seatkeeper.server.cors import parse_origins
from seatkeeper.server.documents import Documents
from seatkeeper.server.export_filter import users_filter_from_query
from seatkeeper.server.graphiql import ASSETS_PATH, assets_dir, graphiql_page
from seatkeeper.server.graphql_http import GraphQLHTTP
from seatkeeper.server.logs import hide_query_strings_in_access_log
from seatkeeper.server.metrics import CountingEngine, Metrics, MetricsMiddleware
from seatkeeper.server.metrics_server import MetricsServer
from seatkeeper.server.middleware import (
    GraphQLFirst,
    RequestGuard,
    cors_middleware_factory,
    error_response,
)
from seatkeeper.server.retention import (
    DEFAULT_INTERVAL_SECONDS,
    DEFAULT_RETENTION_DAYS,
    needs_purging,
    purge_on_schedule,
    purge_once,
)
from seatkeeper.server.settings import (
    DEFAULT_MAX_BODY_BYTES,
    SETTINGS_VARIABLE,
    Settings,
    operator_token_from,
)
from seatkeeper.server.throttle import Throttle
from seatkeeper.server.transport import install_limits
from seatkeeper.storage import Storage, StorageError, load_storage
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

OPERATOR = Caller(Role.OPERATOR, None, "operator")

log = logging.getLogger("seatkeeper")


class Authenticator:
    """SPEC 9: `Authorization: Bearer <token>`; the OPERATOR's secret is configuration."""

    def __init__(self, engine: Engine, operator_token: str | None) -> None:
        self.engine = engine
        self._operator_hash = hash_secret(operator_token) if operator_token else None

    async def __call__(self, header: str) -> Caller | None:
        scheme, _, secret = header.partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret:
            return None
        if self._operator_hash and same_secret(hash_secret(secret), self._operator_hash):
            return OPERATOR
        return await self.engine.authenticate(secret)


def create_app(
    storage: str | Storage = "memory://",
    clock: Clock | None = None,
    operator_token: str | None = None,
    *,
    graphiql: bool = True,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    sync_log_retention_days: int = DEFAULT_RETENTION_DAYS,
    purge_interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
    throttle: Throttle | None = None,
    trusted_documents: bool = True,
    cors_origins: Sequence[str] = (),
    metrics_address: tuple[str, int] | None = None,
) -> Starlette:
    """Build the Seatkeeper ASGI application.

    `storage` is a storage URL (a plugin chosen by its scheme) or a ready backend; `clock` returns
    the current time as an aware UTC datetime (default: the wall clock); `operator_token` is the
    OPERATOR role's secret (default: SEATKEEPER_OPERATOR_TOKEN, as documented for embedders; with
    neither, only the OPERATOR tokens kept in the storage are an OPERATOR's). Nothing else is read
    from the environment here: `app_from_settings` builds the app that `seatkeeper serve`'s checked
    settings describe (server/settings.py). While the app runs (its lifespan), sync-log entries
    older than `sync_log_retention_days` are purged at start-up and every
    `purge_interval_seconds` (SPEC 8; 0 days keeps them; see `server/retention.py`). `throttle`
    (default: `Throttle.default()`, failed authentication throttled per client address) is
    described in `server/throttle.py`.
    `trusted_documents=False` executes every operation through Strawberry (the tests compare it
    with the trusted documents' compiled route). `cors_origins` lists the origins browsers may
    call from (server/cors.py; none: CORS off). `metrics_address` (host, port) also serves
    `GET /metrics` there without a token while the app runs (server/metrics_server.py; None: only
    the OPERATOR's `/metrics` on the app itself).
    """
    hide_query_strings_in_access_log()
    if operator_token is None:
        operator_token = operator_token_from(os.environ)
    backend = load_storage(storage) if isinstance(storage, str) else storage
    metrics = Metrics()
    engine = CountingEngine(backend, clock, metrics)  # sync outcomes counted for /metrics
    authenticate = Authenticator(engine, operator_token)
    schema = build_schema()
    documents = Documents(executable_schema(schema), trusted=trusted_documents)

    async def context_for(scope: Scope, authorization: str, request_id: str) -> Context:
        caller = scope.get("state", {}).get("caller")  # RequestGuard authenticated it
        if caller is None:
            caller = await authenticate(authorization)
        return Context(engine=engine, caller=caller, request_id=request_id)

    graphql = GraphQLHTTP(schema, documents, context_for, graphiql_page() if graphiql else None)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        try:
            await backend.ping()
        except StorageError as error:
            # The storage's message may name its host or credentials: logged, never answered.
            log.warning("readiness check failed: %s", error)
            reason = "the storage does not answer"
            return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def export_csv(request: Request, kind: str) -> Response:
        """SPEC 7 files as a stream, for the command line: no giant string in memory."""
        request_id = request.scope.get("state", {}).get("request_id")
        caller = request.scope.get("state", {}).get("caller")  # RequestGuard authenticated it
        if caller is None:
            caller = await authenticate(request.headers.get("authorization", ""))
        if caller is None:
            return error_response(
                401, "a valid bearer token is required", "UNAUTHENTICATED", request_id
            )
        if not caller.may(Action.READ):
            return error_response(
                403, f"the {caller.role.value} role may not export", "FORBIDDEN", request_id
            )
        organization_id = caller.organization_id
        bom = _BOM_VALUES.get(request.query_params.get("bom", "0"))
        if bom is None:
            return error_response(
                400, "`bom` must be 1, true, 0 or false", "BAD_USER_INPUT", request_id
            )
        if kind == "licenses":
            rows = engine.iter_export_licenses(organization_id)
        else:
            search = request.query_params.get("search") or None
            if search is not None and len(search) > 256:
                return error_response(
                    400, "`search` is longer than 256 characters", "BAD_USER_INPUT", request_id
                )
            try:
                user_filter = users_filter_from_query(request.query_params)
            except ValueError as error:
                return error_response(400, str(error), "BAD_USER_INPUT", request_id)
            rows = engine.iter_export_users(organization_id, search, user_filter)

        async def encoded() -> AsyncIterator[bytes]:
            if bom:  # SPEC 7, Export options: for Excel, which reads UTF-8 only with it
                yield BOM.encode("utf-8")
            async for line in rows:
                yield line.encode("utf-8")

        filename = f"{kind}.csv"
        return StreamingResponse(
            encoded(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{filename}"'},
        )

    async def metrics_endpoint(request: Request) -> Response:
        """Prometheus' text format, for the OPERATOR's token (server/metrics.py)."""
        return await metrics.endpoint(request, engine)

    async def export_licenses(request: Request) -> Response:
        return await export_csv(request, "licenses")

    async def export_users(request: Request) -> Response:
        return await export_csv(request, "users")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await backend.open()
        metrics_server = None
        if metrics_address is not None:
            metrics_server = MetricsServer(metrics, engine, *metrics_address)
            metrics_server.start(asyncio.get_running_loop())
            app.state.metrics_server = metrics_server
        purging = None
        if needs_purging(engine, sync_log_retention_days):
            await purge_once(engine, sync_log_retention_days)
            purging = asyncio.create_task(
                purge_on_schedule(engine, sync_log_retention_days, purge_interval_seconds)
            )
        try:
            yield
        finally:
            if purging is not None:
                purging.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await purging
            if metrics_server is not None:
                await asyncio.to_thread(metrics_server.stop)  # a scrape may wait for this loop
            await backend.close()

    app = Starlette(
        routes=[
            Route("/graphql", graphql),  # every method: the endpoint answers 405 itself
            *(
                [Mount(ASSETS_PATH, StaticFiles(directory=assets_dir()), name="graphiql")]
                if graphiql
                else []
            ),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/export/licenses.csv", export_licenses, methods=["GET"]),
            Route("/export/users.csv", export_users, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            *console_routes(),
        ],
        lifespan=lifespan,
    )
    app.state.engine = engine
    app.state.metrics = metrics
    app.state.graphql = graphql
    # Innermost of the middleware: /graphql goes straight to its endpoint, without Starlette's
    # exception middleware and router (the endpoint answers every method and error itself);
    # every middleware added after this one still wraps it.
    app.add_middleware(GraphQLFirst, endpoint=graphql)
    app.add_middleware(
        RequestGuard,
        max_body_bytes=max_body_bytes,
        authenticate=authenticate,
        throttle=throttle or Throttle.default(),
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)  # outside: refusals are counted too
    if cors_origins:  # outermost: preflights are answered before the token is asked for
        app.add_middleware(cors_middleware_factory, origins=parse_origins(cors_origins))
    return app


# `?bom=` of the CSV downloads (SPEC 7, Export options); absent means no BOM, as before.
_BOM_VALUES = {"1": True, "true": True, "0": False, "false": False}


def app_from_settings(settings: Settings, storage: Storage | None = None) -> Starlette:
    """The app `settings` describe (server/settings.py), on `storage` when it is already loaded
    (`seatkeeper serve` opened it to check it), else on `settings.storage`."""
    return create_app(
        storage if storage is not None else settings.storage,
        operator_token=settings.operator_token,
        graphiql=settings.graphiql,
        max_body_bytes=settings.max_body_bytes,
        sync_log_retention_days=settings.sync_log_retention_days,
        throttle=settings.throttle(),
        cors_origins=settings.cors_origins,
        metrics_address=settings.metrics_address,
    )


def worker_app() -> Starlette:
    """What each uvicorn worker process of `seatkeeper serve --workers N` builds: the settings
    `serve` checked, from SEATKEEPER_SETTINGS_JSON (server/settings.py explains why)."""
    settings = Settings.from_json(os.environ[SETTINGS_VARIABLE])
    install_limits(settings.transport)  # uvicorn builds the protocols after the app is loaded
    return app_from_settings(settings)


def app_from_environment() -> Starlette:
    """The app as configured by the documented SEATKEEPER_* variables (README "Configuration"),
    for `uvicorn --factory seatkeeper.server.app:app_from_environment`: SettingsError when one is
    wrong."""
    settings = Settings.from_environment(os.environ)
    install_limits(settings.transport)
    return app_from_settings(settings)
