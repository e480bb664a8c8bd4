"""`GET /metrics` in Prometheus' text format (prometheus-client), for the OPERATOR's token only;
optionally also on an address of its own, without a token (`MetricsServer`).

What is counted (per process: with several workers, each answers for itself):

- `seatkeeper_requests_total{path, operation, status}` and
  `seatkeeper_request_seconds{path, operation}`: every request, by route (`/graphql`,
  `/export/…`, `/healthz`, other paths as `other`) and, on `/graphql`, by operation: a trusted
  document's operation name (`Sync`, `Users`, … from `server/trusted_documents/`), `other` for any
  other document and for requests refused before their document was read (401, 413, 429, …).
  The names are those of the trusted documents only, a set fixed at start-up: a client cannot
  add labels by naming its operations. Other paths have the operation `""`;
- `seatkeeper_refusals_total{status}`: 401 (no valid token) and 429 (throttled) answers;
- `seatkeeper_syncs_total{outcome, code, reason}`: sync outcomes (`ok`, `license_error` with
  its code and reason, `user_error` with the first user error's code), on both execution paths;
- `seatkeeper_seats{organization, license_type, state}`: seats `assigned` and `free` per
  organization and seat type, read from the storage when the metrics are scraped.

The operation is known only once `/graphql` has read the document (after authentication, which
the guard decides first): the endpoint leaves its label in `scope["state"]["operation"]`
(`OPERATION_KEY`), read here when the answer has been sent.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from seatkeeper.domain.records import Role
from seatkeeper.rules.engine import Clock, Engine, SyncRequest
from seatkeeper.rules.outcomes import SyncOutcome
from seatkeeper.storage import Storage
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

KNOWN_PATHS = ("/graphql", "/export/licenses.csv", "/export/users.csv", "/healthz", "/readyz")
#: Where `/graphql` leaves the operation's label in the request's scope state.
OPERATION_KEY = "operation"
#: The label of every operation that is not a trusted document's.
OTHER_OPERATION = "other"


class CountingEngine(Engine):
    """The rules engine, counting every sync's outcome into `metrics`: both execution paths (the
    compiled route and Strawberry's) call `engine.sync`. A subclass rather than a wrapper put on
    the instance: the engine's type stays what mypy sees."""

    def __init__(self, storage: Storage, clock: Clock | None, metrics: Metrics) -> None:
        super().__init__(storage, clock)
        self.metrics = metrics

    async def sync(self, organization_id: str, request: SyncRequest) -> SyncOutcome:
        outcome = await super().sync(organization_id, request)
        self.metrics.count_sync(outcome)
        return outcome


class Metrics:
    """The registry of one app, and the hooks that feed it."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "seatkeeper_requests",
            "Requests by route, GraphQL operation (trusted documents' names, else other) and "
            "HTTP status.",
            ["path", "operation", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "seatkeeper_request_seconds",
            "Time to answer a request, by route and GraphQL operation.",
            ["path", "operation"],
            registry=self.registry,
        )
        self.refusals = Counter(
            "seatkeeper_refusals",
            "Requests refused before anything else: 401 (no valid token), 429 (throttled).",
            ["status"],
            registry=self.registry,
        )
        self.syncs = Counter(
            "seatkeeper_syncs",
            "Sync outcomes (SPEC 4) by outcome, error code and reason.",
            ["outcome", "code", "reason"],
            registry=self.registry,
        )
        self._sync_children: dict[tuple[str, str, str], Any] = {}
        self.seats = Gauge(
            "seatkeeper_seats",
            "Seats assigned and free per organization and seat type (read at scrape time).",
            ["organization", "license_type", "state"],
            registry=self.registry,
        )

    # ---------------------------------------------------------------- hooks

    def count_sync(self, outcome: SyncOutcome) -> None:
        if outcome.error is not None:
            labels = ("license_error", outcome.error.code.name, outcome.error.reason.name)
        elif outcome.user_errors:
            labels = ("user_error", str(outcome.user_errors[0].code), "")
        else:
            labels = ("ok", "", "")
        # Children looked up once per label set (a handful): `labels()` checks and locks on
        # every call, a microsecond and a half of every sync (issue 12, B1).
        child = self._sync_children.get(labels)
        if child is None:
            child = self._sync_children[labels] = self.syncs.labels(*labels)
        child.inc()

    async def refresh_seats(self, engine: Engine) -> None:
        self.seats.clear()
        for organization in await engine.list_organizations():
            for row in await engine.subscriptions_view(organization.id):
                if row.assigned is None:  # EXTERNAL: no seats
                    continue
                kind = row.license_type.name
                self.seats.labels(organization.id, kind, "assigned").set(row.assigned)
                self.seats.labels(organization.id, kind, "free").set(row.available or 0)

    # ---------------------------------------------------------------- the route

    async def endpoint(self, request: Request, engine: Engine) -> Response:
        caller = request.scope.get("state", {}).get("caller")
        if caller is None or caller.role is not Role.OPERATOR:
            return Response(
                b'{"errors":[{"message":"the metrics are the OPERATOR\'s","extensions":'
                b'{"code":"FORBIDDEN"}}]}',
                status_code=403,
                media_type="application/json",
            )
        await self.refresh_seats(engine)
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Pure ASGI middleware outside RequestGuard: counts every answer, refusals included."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        # Children looked up once per label set (bounded: known paths × trusted operations ×
        # statuses): `.labels()` hashes and locks, and the sync path is measured in µs (B1).
        self._latency: dict[tuple[str, str], Any] = {}
        self._requests: dict[tuple[str, str, int], Any] = {}
        self._refusals: dict[int, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"] if scope["path"] in KNOWN_PATHS else "other"
        status = 0
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            elapsed = time.perf_counter() - started
            operation = ""
            if path == "/graphql":
                state = scope.get("state")
                operation = (state and state.get(OPERATION_KEY)) or OTHER_OPERATION
            latency = self._latency.get((path, operation))
            if latency is None:
                latency = self._latency[path, operation] = self.metrics.latency.labels(
                    path, operation
                )
            latency.observe(elapsed)
            count = self._requests.get((path, operation, status))
            if count is None:
                count = self._requests[path, operation, status] = self.metrics.requests.labels(
                    path, operation, str(status)
                )
            count.inc()
            if status == 401 or status == 429:
                refused = self._refusals.get(status)
                if refused is None:
                    refused = self._refusals[status] = self.metrics.refusals.labels(str(status))
                refused.inc()


__all__: list[Any] = ["Metrics", "MetricsMiddleware"]
