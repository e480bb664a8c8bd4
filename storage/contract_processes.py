"""The multi-process part of the contract kit: several OS processes on one store.

A backend that is `shared_between_processes` promises SPEC 2 across processes, by the store's own
atomic operations: a lock held in one process protects nothing from another. Here each worker is a
separate OS process (multiprocessing, `spawn`: nothing inherited but the URL) that builds its own
backend from the URL, waits at a barrier with the others, and races them:

* for the last seats: 200 waiting users, 10 seats, 4 processes: exactly 10 assignments land;
* for one e-mail: each round, one new user per process with the same e-mail: exactly one wins;
* with switches, seat moves and releases: no type above its limit, no user with two seats, one
  audit entry per selector change that landed, the holder count equal to the holders.

How an integrator uses it:

    from seatkeeper.storage.contract_processes import MultiProcessContract

    class TestMyPluginAcrossProcesses(MultiProcessContract):
        @pytest.fixture(scope="class")          # the races run once, three tests read them
        @classmethod
        def storage_url(cls, tmp_path_factory):  # a fresh, empty store other processes can open
            yield "myplugin://localhost/race-" + uuid.uuid4().hex

`open_storage` (a class attribute, default `load_storage`) builds a backend from the URL in each
process; a test may set it to an importable top-level callable. Runs in seconds on SQLite.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.queues
import random
import threading
import traceback
from collections.abc import Callable
from typing import Any, ClassVar, TypeAlias

import pytest
from seatkeeper.storage.contract_base import (
    INSPECTIONS,
    STANDARD,
    A,
    U,
    add_users,
    all_audit,
    all_users,
    at,
    change_set,
    make_org,
    make_user,
)
from seatkeeper.storage.loader import load_storage
from seatkeeper.storage.protocol import (
    Applied,
    Conflict,
    EmailTaken,
    SeatShortage,
    Storage,
    UserQuery,
)

__all__ = ["MultiProcessContract"]

PROCESSES = 4
SEAT_USERS = 200
SEAT_LIMIT = 10
EMAIL_ROUNDS = 15
CHURN_LIMITS = {STANDARD: 6, INSPECTIONS: 3}
CHURN_USERS = 24
CHURN_STEPS = 40
TIMEOUT_SECONDS = 120


async def _open(open_storage: OpenStorage, url: str) -> Storage:
    storage = open_storage(url)
    await storage.open()
    return storage


# -- what each process runs (top-level functions: `spawn` imports them by name) ---------------

SEATS_ORG, EMAILS_ORG, CHURN_ORG = "race-seats", "race-emails", "race-churn"


#: Builds a backend from its URL, in each process (`spawn` pickles it by name).
OpenStorage = Callable[[str], Storage]


def _worker(
    open_storage: OpenStorage, url: str, index: int, barrier: threading.Barrier
) -> dict[str, Any]:
    """One process's part of every race, each race starting when all processes are ready."""

    async def go() -> dict[str, Any]:
        storage = await _open(open_storage, url)
        try:
            return {
                "seats": await _race_for_seats(storage, index, barrier),
                "emails": await _race_for_emails(storage, index, barrier),
                "churn": await _churn(storage, index, barrier),
            }
        finally:
            await storage.close()

    return asyncio.run(go())


async def _race_for_seats(storage: Storage, index: int, barrier: threading.Barrier) -> list[str]:
    keys = [f"w{i:03d}" for i in range(SEAT_USERS)][index::PROCESSES]
    users = await storage.get_users(SEATS_ORG, keys)
    limits = {STANDARD: SEAT_LIMIT, INSPECTIONS: 0}
    barrier.wait(TIMEOUT_SECONDS)

    async def assign(key: str) -> str:
        changes = change_set([(users[key], (A, U))], limits, org=SEATS_ORG, when=at(1))
        return type(await storage.apply_changes(changes)).__name__

    return list(await asyncio.gather(*(assign(k) for k in keys)))


async def _race_for_emails(storage: Storage, index: int, barrier: threading.Barrier) -> list[bool]:
    won: list[bool] = []
    for r in range(EMAIL_ROUNDS):
        barrier.wait(TIMEOUT_SECONDS)
        email = f"Race{r}@Example.com" if index % 2 else f"race{r}@example.COM"
        try:
            await storage.record_sync(EMAILS_ORG, f"p{index}-r{r}", email, None, STANDARD, at(r))
            won.append(True)
        except EmailTaken:
            won.append(False)
    return won


async def _churn(storage: Storage, seed: int, barrier: threading.Barrier) -> int:
    """Random switches, seat moves, releases and assignments; the audit entries that landed."""
    rng = random.Random(seed)
    keys = [u.key for u in await all_users(storage, CHURN_ORG)]
    barrier.wait(TIMEOUT_SECONDS)
    landed = 0
    for step in range(CHURN_STEPS):
        a, b = rng.sample(keys, 2)
        users = await storage.get_users(CHURN_ORG, [a, b])
        first, second = users[a], users[b]
        held = first.active_license
        if held is not None and second.active_license is None and rng.random() < 0.4:
            target = (A, U) if held is STANDARD else (U, A)
            plan = [(first, (U, U)), (second, target)]  # move the seat
        elif held is not None and rng.random() < 0.7:
            plan = [(first, (U, A) if held is STANDARD else (A, U))]  # switch
        elif held is not None:
            plan = [(first, (U, U))]  # release
        else:
            plan = [(first, rng.choice([(A, U), (U, A)]))]  # assign
        changes = change_set(
            plan, CHURN_LIMITS, org=CHURN_ORG, when=at(step), operation_id=f"{seed}-{step}"
        )
        result = await storage.apply_changes(changes)
        assert isinstance(result, (Applied, Conflict, SeatShortage)), result
        if isinstance(result, Applied):
            landed += len(changes.audit)
    return landed


class _WorkerFailure:
    def __init__(self, text: str) -> None:
        self.text = text


#: Where each worker process puts `(its index, its result or its failure)`.
Results: TypeAlias = "multiprocessing.queues.Queue[tuple[int, object]]"  # generic for mypy only


def _report(
    results: Results, index: int, target: Callable[..., object], arguments: tuple[object, ...]
) -> None:
    """A worker process's body: its result (or its traceback) on the queue, by index."""
    try:
        results.put((index, target(*arguments)))
    except BaseException:  # noqa: BLE001 (reported to the parent, which fails the test)
        results.put((index, _WorkerFailure(traceback.format_exc())))


# -- the tests -------------------------------------------------------------------------------


class MultiProcessContract:
    """SPEC 2 across OS processes. The integrator provides the class-scoped `storage_url`."""

    #: Builds a backend from the URL in each process; importable by name (spawn pickles it).
    open_storage: ClassVar[OpenStorage] = staticmethod(load_storage)

    @pytest.fixture(scope="class")
    @classmethod
    def races(cls, storage_url: str) -> dict[str, Any]:
        """Seed three organizations, run every race once in PROCESSES processes, read back."""
        return cls.run_races(storage_url)

    @classmethod
    def run_races(cls, url: str) -> dict[str, Any]:
        open_storage = cls.open_storage
        asyncio.run(_seed(open_storage, url))
        outcomes = cls._in_processes(_worker, [(url, i) for i in range(PROCESSES)])
        stored = asyncio.run(_read_back(open_storage, url))
        return {"outcomes": outcomes, **stored}

    @classmethod
    def _in_processes(
        cls, target: Callable[..., object], arguments: list[tuple[object, ...]]
    ) -> list[Any]:
        """Run `target(open_storage, *arguments[i], barrier)` in one OS process each; their
        results in order. A worker's failure fails the test with the worker's traceback."""
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(len(arguments))
        results: Results = context.Queue()
        processes = [
            context.Process(
                target=_report,
                args=(results, index, target, (cls.open_storage, *args, barrier)),
                daemon=True,
            )
            for index, args in enumerate(arguments)
        ]
        for process in processes:
            process.start()
        try:
            collected = dict(results.get(timeout=TIMEOUT_SECONDS) for _ in range(len(processes)))
        finally:
            for process in processes:
                process.join(timeout=10)
                if process.is_alive():
                    process.kill()
                    process.join()
        failures = [v for v in collected.values() if isinstance(v, _WorkerFailure)]
        if failures:
            pytest.fail(f"a worker process failed:\n{failures[0].text}")
        return [collected[i] for i in range(len(processes))]

    def test_spec_2_1_processes_racing_for_the_last_seats_never_over_allocate(
        self, races: dict[str, Any]
    ) -> None:
        """Invariant 1 across processes: 200 users, 10 seats, 4 processes: exactly 10 land."""
        outcomes = [name for worker in races["outcomes"] for name in worker["seats"]]
        assert outcomes.count("Applied") == SEAT_LIMIT, (
            f"{outcomes.count('Applied')} assignments landed for {SEAT_LIMIT} seats"
        )
        assert outcomes.count("SeatShortage") == SEAT_USERS - SEAT_LIMIT
        assert races["seats"] == (SEAT_LIMIT, SEAT_LIMIT, SEAT_LIMIT)  # holders, counter, audit

    def test_spec_2_3_processes_racing_for_one_email_one_wins(self, races: dict[str, Any]) -> None:
        """Invariant 3 across processes: each round, 4 new users with one e-mail: one wins."""
        for r in range(EMAIL_ROUNDS):
            winners = [i for i, w in enumerate(races["outcomes"]) if w["emails"][r]]
            assert len(winners) == 1, f"round {r}: winners {winners}"
        assert races["emails"] == EMAIL_ROUNDS

    def test_spec_2_1_and_2_2_processes_switching_and_freeing(self, races: dict[str, Any]) -> None:
        """Invariants 1, 2, 4 across processes: switches, seat moves, releases, assignments."""
        users, counted, audit = races["churn"]
        assert len(users) == CHURN_USERS
        for user in users:
            assert user.selectors != (A, A), f"{user.id} holds two seats"
        for license_type, limit in CHURN_LIMITS.items():
            holders = sum(1 for u in users if u.active_license is license_type)
            assert holders <= limit, f"{license_type.value}: {holders} holders"
            assert counted[license_type] == holders
        assert audit == sum(w["churn"] for w in races["outcomes"]) > 0


async def _seed(open_storage: OpenStorage, url: str) -> None:
    storage = await _open(open_storage, url)
    try:
        await make_org(storage, SEATS_ORG)
        await add_users(
            storage, [make_user(f"w{i:03d}", org=SEATS_ORG) for i in range(SEAT_USERS)], SEATS_ORG
        )
        await make_org(storage, EMAILS_ORG)
        await make_org(storage, CHURN_ORG)
        users = [make_user(f"s{i}", A, org=CHURN_ORG) for i in range(CHURN_LIMITS[STANDARD])]
        users += [make_user(f"i{i}", U, A, org=CHURN_ORG) for i in range(CHURN_LIMITS[INSPECTIONS])]
        users += [make_user(f"n{i}", org=CHURN_ORG) for i in range(CHURN_USERS - len(users))]
        await add_users(storage, users, CHURN_ORG)
    finally:
        await storage.close()


async def _read_back(open_storage: OpenStorage, url: str) -> dict[str, Any]:
    storage = await _open(open_storage, url)
    try:
        seat_holders = await storage.list_users(
            SEATS_ORG, UserQuery(selector=(STANDARD, A)), 1000, None
        )
        return {
            "seats": (
                len(seat_holders),
                await storage.count_holders(SEATS_ORG, STANDARD),
                len(await all_audit(storage, SEATS_ORG)),
            ),
            "emails": await storage.count_users(EMAILS_ORG, UserQuery()),
            "churn": (
                await all_users(storage, CHURN_ORG),
                {t: await storage.count_holders(CHURN_ORG, t) for t in CHURN_LIMITS},
                len(await all_audit(storage, CHURN_ORG)),
            ),
        }
    finally:
        await storage.close()
