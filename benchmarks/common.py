"""What the benchmarks share: seeding organizations, the contract's documents, timing, results.

Every figure is a ratio of two measurements taken in the same run (machines are shared and
noisy, so absolute numbers mean little), each repeated ROUNDS times; the median is reported.
"""

from __future__ import annotations

import random
import re
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import orjson
from seatkeeper.domain.records import LicenseState, LicenseType
from seatkeeper.rules.engine import Engine, NewUser

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS_FILE = ROOT / "tests" / "contract" / "operations.graphql"
ROUNDS = 3

A, U, D = LicenseState.ASSIGNED, LicenseState.UNASSIGNED, LicenseState.DISABLED

FIRST_NAMES = [
    "Ada",
    "Bruno",
    "Chen",
    "Dana",
    "Emil",
    "Fatima",
    "Goran",
    "Hana",
    "Ivo",
    "Jun",
    "Kemal",
    "Lena",
]
LAST_NAMES = [
    "Ford",
    "Harper",
    "Porter",
    "Lopez",
    "Walsh",
    "Becker",
    "Quist",
    "Moreau",
    "Silva",
    "Wei",
    "Novak",
]


# ---------------------------------------------------------------- the contract's documents


def contract_operation(name: str) -> str:
    """One operation of tests/contract/operations.graphql, exactly as clients send it."""
    text = OPERATIONS_FILE.read_text()
    match = re.search(rf"^(query|mutation) {name}\b", text, re.MULTILINE)
    if match is None:
        raise LookupError(f"no operation {name} in {OPERATIONS_FILE}")
    depth, start = 0, match.start()
    for index in range(text.index("{", start), len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start : index + 1]
    raise LookupError(f"operation {name} is not closed")


# ---------------------------------------------------------------- seeding


def user_ids(count: int, seed: int = 7) -> list[str]:
    """Deterministic GUIDs, the ids mobile apps send."""
    rng = random.Random(seed)
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]


def new_users(
    count: int, states: Callable[[int], tuple[LicenseState, LicenseState]], seed: int = 7
) -> list[NewUser]:
    """`count` users with varied names (so that name order is not creation order)."""
    rng = random.Random(seed + 1)
    users = []
    for index, user_id in enumerate(user_ids(count, seed)):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {rng.randrange(10**6):06d}"
        standard, inspections = states(index)
        users.append(NewUser(user_id, name, f"user{index}@example.com", standard, inspections))
    return users


def all_standard(index: int) -> tuple[LicenseState, LicenseState]:
    return (A, U)


def realistic_mix(index: int) -> tuple[LicenseState, LicenseState]:
    """60% Standard seats, 20% Inspections, 10% none, 10% Standard disabled."""
    slot = index % 10
    if slot < 6:
        return (A, U)
    if slot < 8:
        return (U, A)
    if slot < 9:
        return (U, U)
    return (D, U)


@dataclass
class SeededOrganization:
    organization_id: str
    admin_token: str
    sync_token: str
    users: list[NewUser] = field(default_factory=list)


async def seed_organization(
    engine: Engine,
    count: int,
    states: Callable[[int], tuple[LicenseState, LicenseState]] = all_standard,
    seed: int = 7,
) -> SeededOrganization:
    """An organization with seats for everyone and `count` pre-provisioned users."""
    created = (await engine.create_organization(f"Bench {count}")).value
    organization_id = created.organization.id
    until = engine.now() + timedelta(days=365)
    seats = max(1, count)
    await engine.add_subscription(organization_id, LicenseType.STANDARD, seats, until)
    await engine.add_subscription(organization_id, LicenseType.INSPECTIONS, seats, until)
    users = new_users(count, states, seed) if count else []
    if users:
        result = await engine.create_users(organization_id, "bench", users)
        if not result.ok:
            raise RuntimeError(f"seeding refused: {result.user_errors[:3]}")
    return SeededOrganization(organization_id, created.admin_token, created.sync_token, users)


# ---------------------------------------------------------------- in-process GraphQL


class AsgiClient:
    """POSTs GraphQL documents straight into the ASGI app of this process: no network, and no
    client library in the measured time beyond building the scope (what a server would hand in)."""

    def __init__(self, app, token: str) -> None:
        self.app = app
        self._headers = [
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
        ]

    async def post_raw(self, body: bytes) -> tuple[int, bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "root_path": "",
            "headers": [*self._headers, (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }
        sent = False

        async def receive():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        status, chunks = 0, []

        async def send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)

    async def post(self, query: str, variables: dict | None = None) -> dict:
        """The `data` of a call that must succeed (HTTP 200, no GraphQL errors)."""
        status, raw = await self.post_raw(
            orjson.dumps({"query": query, "variables": variables or {}})
        )
        body = orjson.loads(raw)
        if status != 200 or body.get("errors"):
            raise RuntimeError(f"GraphQL call failed ({status}): {raw[:500]!r}")
        return body["data"]


async def timed(call: Callable[[], Awaitable[object]]) -> float:
    """Seconds one awaited call took."""
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


def median(values: list[float]) -> float:
    return statistics.median(values)


# ---------------------------------------------------------------- results


@dataclass
class Figure:
    """One row of the table. `ratio` None means "not measured" (see `note`)."""

    id: str
    what: str
    baseline: str
    ratio: float | None
    target: str
    passed: bool | None  # None: reported only, or not available
    note: str = ""
    ratio_format: str = "{:.2f}×"

    @property
    def ratio_text(self) -> str:
        return "—" if self.ratio is None else self.ratio_format.format(self.ratio)

    @property
    def verdict(self) -> str:
        if self.ratio is None and self.passed is None:
            return "not available"
        if self.passed is None:
            return "reported"
        return "pass" if self.passed else "FAIL"


def not_available(figure_id: str, what: str, target: str, why: str) -> Figure:
    return Figure(figure_id, what, "—", None, target, None, why)


@dataclass
class BenchConfig:
    """How long and how often: `--quick` shrinks sizes and durations for a smoke run."""

    rounds: int = ROUNDS
    seconds: float = 5.0  # per wrk run
    quick: bool = False
    server_args: list[str] = field(default_factory=list)  # passed to benchmarks/server_app.py

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full
