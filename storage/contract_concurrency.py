"""The storage contract kit, part 7: concurrency — change sets racing from several
tasks and threads on one backend never exceed a seat limit, never lose an update, never
duplicate a key or e-mail (tests sharing a backend between threads need `supports_threads`).

Part of `StorageContract` (see `storage/contract.py` for how a plugin runs the kit).
"""

from __future__ import annotations

import asyncio
import functools
import random
import threading
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

from seatkeeper.domain.records import (
    LicenseType,
    MobileUser,
    user_key,
)
from seatkeeper.storage.contract_base import (
    INSPECTIONS,
    NO_LIMIT,
    ORG,
    SEATS,
    STANDARD,
    A,
    Run,
    U,
    _ContractBase,
    add_users,
    all_audit,
    all_users,
    at,
    change_set,
    make_org,
    make_user,
    present,
    run_in_threads,
)
from seatkeeper.storage.protocol import (
    AlreadyExists,
    Applied,
    ApplyResult,
    ChangeSet,
    Conflict,
    EmailTaken,
    SeatShortage,
    Storage,
    UserQuery,
)

# ----------------------------------------------------------------------------- concurrency


class ConcurrencyContract(_ContractBase):
    """SPEC 2 under concurrent asyncio tasks and threads: the promises that need atomicity.

    Every worker reads, yields to the others, then writes with the expectation it read: the
    gap a backend must close with one atomic step.
    """

    USERS = 200
    LIMIT = 10

    async def _assign_one(self, storage: Storage, key: str) -> object:
        user = present(await storage.get_user(ORG, key))
        await asyncio.sleep(0)  # let the other workers read too
        return await storage.apply_changes(
            change_set([(user, (A, U))], {STANDARD: self.LIMIT, INSPECTIONS: 0}, when=at(1))
        )

    async def _assert_seat_race_outcome(self, storage: Storage, results: list[object]) -> None:
        applied = [r for r in results if isinstance(r, Applied)]
        refused = [r for r in results if isinstance(r, SeatShortage)]
        assert len(applied) == self.LIMIT, (
            f"{len(applied)} assignments succeeded for {self.LIMIT} seats"
        )
        assert len(refused) == self.USERS - self.LIMIT
        assert all(r.license_type is STANDARD for r in refused)
        assert await storage.count_holders(ORG, STANDARD) == self.LIMIT
        assert (
            len(await storage.list_users(ORG, UserQuery(selector=(STANDARD, A)), 10_000, None))
            == self.LIMIT
        )
        assert len(await all_audit(storage)) == self.LIMIT  # audit entries only for what landed

    def _seed_waiting_users(self, storage: Storage, run: Run) -> list[str]:
        async def seed() -> None:
            await make_org(storage)
            await add_users(storage, [make_user(f"w{i:03d}") for i in range(self.USERS)])

        run(seed())
        return [f"w{i:03d}" for i in range(self.USERS)]

    def test_spec_2_1_tasks_racing_for_seats_never_over_allocate(
        self, storage: Storage, run: Run
    ) -> None:
        """Invariant 1: 200 concurrent tasks, 10 seats: exactly 10 assignments land."""
        keys = self._seed_waiting_users(storage, run)

        async def race() -> None:
            results = await asyncio.gather(*(self._assign_one(storage, k) for k in keys))
            await self._assert_seat_race_outcome(storage, list(results))

        run(race())

    def test_spec_2_1_threads_racing_for_seats_never_over_allocate(
        self, storage: Storage, run: Run
    ) -> None:
        """Invariant 1 with threads, each running its own event loop on the same backend."""
        self.require_threads()
        keys = self._seed_waiting_users(storage, run)
        threads = 20
        slices = [keys[i::threads] for i in range(threads)]

        def worker(mine: list[str]) -> Callable[[], Coroutine[Any, Any, list[object]]]:
            async def go() -> list[object]:
                return await asyncio.gather(*(self._assign_one(storage, k) for k in mine))

            return go

        results = [r for chunk in run_in_threads([worker(s) for s in slices]) for r in chunk]
        run(self._assert_seat_race_outcome(storage, results))

    # -- switches and frees ----------------------------------------------------------------

    LIMITS: ClassVar[dict[LicenseType, int]] = {STANDARD: 6, INSPECTIONS: 3}
    CHURN_USERS = 24

    def _seed_full_organization(self, storage: Storage, run: Run) -> None:
        async def seed() -> None:
            await make_org(storage)
            users = [make_user(f"s{i}", A) for i in range(self.LIMITS[STANDARD])]
            users += [make_user(f"i{i}", U, A) for i in range(self.LIMITS[INSPECTIONS])]
            users += [make_user(f"n{i}") for i in range(self.CHURN_USERS - len(users))]
            await add_users(storage, users)

        run(seed())

    async def _churn(self, storage: Storage, seed: int, steps: int) -> int:
        """Random switches, seat moves, releases and assignments; return audit entries landed."""
        rng = random.Random(seed)
        keys = [u.key for u in await all_users(storage)]
        landed = 0
        for step in range(steps):
            a, b = rng.sample(keys, 2)
            users = await storage.get_users(ORG, [a, b])
            first, second = users[a], users[b]
            held = first.active_license
            if held is not None and second.active_license is None and rng.random() < 0.4:
                # Free: move the seat from `first` to `second` (net zero holders).
                target = (A, U) if held is STANDARD else (U, A)
                plan = [(first, (U, U)), (second, target)]
            elif held is not None and rng.random() < 0.7:
                plan = [(first, (U, A) if held is STANDARD else (A, U))]  # switch
            elif held is not None:
                plan = [(first, (U, U))]  # release
            else:
                plan = [(first, rng.choice([(A, U), (U, A)]))]  # assign
            changes = change_set(plan, self.LIMITS, when=at(step), operation_id=f"{seed}-{step}")
            await asyncio.sleep(0)
            result = await storage.apply_changes(changes)
            assert isinstance(result, (Applied, Conflict, SeatShortage)), result
            if isinstance(result, Applied):
                landed += len(changes.audit)
        return landed

    async def _assert_invariants(self, storage: Storage) -> None:
        users = await all_users(storage)
        assert len(users) == self.CHURN_USERS
        for user in users:
            assert user.selectors != (A, A), f"{user.id} holds two seats"
        for license_type in SEATS:
            holders = sum(1 for u in users if u.active_license is license_type)
            assert holders <= self.LIMITS[license_type], f"{license_type.value}: {holders} holders"
            assert await storage.count_holders(ORG, license_type) == holders

    async def _watch(self, storage: Storage, done: threading.Event) -> int:
        """Check the seat limits while the others churn; return how many looks were taken."""
        looks = 0
        while not done.is_set() or looks == 0:
            for license_type in SEATS:
                assert await storage.count_holders(ORG, license_type) <= self.LIMITS[license_type]
            looks += 1
            await asyncio.sleep(0)
        return looks

    def test_spec_2_1_and_2_2_concurrent_switches_and_frees_tasks(
        self, storage: Storage, run: Run
    ) -> None:
        """Invariants 1, 2, 4 under concurrent tasks: no double seat, no type over its limit,
        one audit entry per selector change that landed."""
        self._seed_full_organization(storage, run)

        async def churn() -> None:
            done = threading.Event()
            watcher = asyncio.ensure_future(self._watch(storage, done))
            try:
                landed = await asyncio.gather(
                    *(self._churn(storage, seed, 40) for seed in range(8))
                )
            finally:
                done.set()
            await watcher
            await self._assert_invariants(storage)
            assert len(await all_audit(storage)) == sum(landed) > 0

        run(churn())

    def test_spec_2_1_and_2_2_concurrent_switches_and_frees_threads(
        self, storage: Storage, run: Run
    ) -> None:
        """Invariants 1, 2, 4 under threads, each with its own event loop."""
        self.require_threads()
        self._seed_full_organization(storage, run)
        churners = 8
        done, lock, finished = threading.Event(), threading.Lock(), [0]

        def churner(seed: int) -> Callable[[], Coroutine[Any, Any, int]]:
            async def go() -> int:
                try:
                    return await self._churn(storage, seed, 60)
                finally:  # the last churner out stops the watcher, even on failure
                    with lock:
                        finished[0] += 1
                        if finished[0] == churners:
                            done.set()

            return go

        workers = [churner(seed) for seed in range(churners)] + [lambda: self._watch(storage, done)]
        *landed, _looks = run_in_threads(workers)
        run(self._assert_invariants(storage))
        assert len(run(all_audit(storage))) == sum(landed) > 0

    # -- e-mails and creates -----------------------------------------------------------------

    ROUNDS = 30

    async def _one_sync(self, storage: Storage, contender: int, r: int) -> bool:
        """Contender `contender` syncs its own user with the e-mail of round `r`; True if it won."""
        await asyncio.sleep(0)
        email = f"Race{r}@Example.com" if contender % 2 else f"race{r}@example.COM"
        try:
            await storage.record_sync(ORG, f"c{contender}-r{r}", email, None, STANDARD, at(r))
            return True
        except EmailTaken:
            return False

    async def _sync_rounds(
        self, storage: Storage, contender: int, barrier: threading.Barrier
    ) -> list[bool]:
        outcome = []
        for r in range(self.ROUNDS):
            try:
                barrier.wait()  # every contender starts the round together
                outcome.append(await self._one_sync(storage, contender, r))
            except BaseException:
                barrier.abort()  # don't leave the other contender waiting
                raise
        return outcome

    async def _assert_one_winner_per_email(
        self, storage: Storage, outcomes: list[list[bool]]
    ) -> None:
        for r in range(self.ROUNDS):
            winners = [c for c, outcome in enumerate(outcomes) if outcome[r]]
            assert len(winners) == 1, f"round {r}: winners {winners}"
            owner = await storage.find_user_by_email(ORG, f"RACE{r}@example.com")
            assert owner is not None and owner.id == f"c{winners[0]}-r{r}"
        assert await storage.count_users(ORG, UserQuery()) == self.ROUNDS

    def test_spec_2_3_tasks_racing_for_an_email_one_wins(self, storage: Storage, run: Run) -> None:
        """Invariant 3 under concurrent tasks: two users syncing one e-mail, exactly one wins."""
        run(make_org(storage))

        async def race() -> None:
            outcomes = []
            for r in range(self.ROUNDS):
                pair = await asyncio.gather(
                    *(self._one_sync(storage, c, r) for c in range(2)),
                )
                outcomes.append(pair)
            await self._assert_one_winner_per_email(storage, [list(x) for x in zip(*outcomes)])

        run(race())

    def test_spec_2_3_threads_racing_for_an_email_one_wins(
        self, storage: Storage, run: Run
    ) -> None:
        """Invariant 3 with threads: each round, two threads sync two users with one e-mail."""
        self.require_threads()
        run(make_org(storage))
        barrier = threading.Barrier(2, timeout=30)

        def contender(c: int) -> Callable[[], Coroutine[Any, Any, list[bool]]]:
            return lambda: self._sync_rounds(storage, c, barrier)

        outcomes = run_in_threads([contender(0), contender(1)])
        run(self._assert_one_winner_per_email(storage, outcomes))

    def test_concurrent_syncs_of_one_new_user_all_succeed(self, storage: Storage, run: Run) -> None:
        """record_sync is an atomic upsert: racing first syncs of one user make one user."""
        run(make_org(storage))
        guid = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
        spellings = [guid, guid.upper(), "{" + guid + "}", "{" + guid.upper() + "}"]

        async def sync(i: int) -> MobileUser:
            await asyncio.sleep(0)
            return await storage.record_sync(
                ORG, spellings[i % 4], "g@example.com", "G", STANDARD, at(i)
            )

        async def tasks() -> list[MobileUser]:
            return await asyncio.gather(*(sync(i) for i in range(20)))

        results = run(tasks())
        if self.supports_threads:
            results += [u for chunk in run_in_threads([tasks for _ in range(8)]) for u in chunk]
        assert {u.key for u in results} == {user_key(guid)}
        stored = present(run(storage.get_user(ORG, user_key(guid))))
        assert stored.first_sync_at in {at(i) for i in range(20)} and stored.last_sync_at in {
            at(i) for i in range(20)
        }
        assert run(storage.count_users(ORG, UserQuery())) == 1

    def test_concurrent_creates_of_one_user_one_lands(self, storage: Storage, run: Run) -> None:
        """apply_changes creates: racing imports of one id (or one e-mail) create it once."""
        run(make_org(storage))

        async def create(i: int, by: str) -> ApplyResult:
            await asyncio.sleep(0)
            user = (
                make_user("same", email=f"{i}@example.com")
                if by == "id"
                else make_user(f"id{i}", email="SAME@example.com")
            )
            return await storage.apply_changes(
                ChangeSet(ORG, creates=[user], seat_limits=dict(NO_LIMIT))
            )

        async def tasks(by: str) -> list[ApplyResult]:
            return await asyncio.gather(*(create(i, by) for i in range(30)))

        for by in ("id", "email"):
            results = run(tasks(by))
            if self.supports_threads:
                results += [
                    r
                    for chunk in run_in_threads([functools.partial(tasks, by) for _ in range(6)])
                    for r in chunk
                ]
            assert sum(isinstance(r, Applied) for r in results) == 1, by
            assert all(isinstance(r, (Applied, AlreadyExists)) for r in results)
        assert run(storage.count_users(ORG, UserQuery())) == 2
