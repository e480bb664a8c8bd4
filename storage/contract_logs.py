"""The storage contract kit, part 6: the logs — the sync log, the audit log (`LogQuery`
filters, order and pagination against an in-memory oracle) and the administration log.

Part of `StorageContract` (see `storage/contract.py` for how a plugin runs the kit).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from seatkeeper.domain.records import (
    DEFAULT_PROJECT_ID,
    AdminAction,
    AdminLogEntry,
    AuditEntry,
    Client,
    Organization,
    Project,
    ProjectKind,
    Role,
    Settings,
    Subscription,
    SyncLogEntry,
    Token,
    user_key,
)
from seatkeeper.storage.contract_base import (
    NO_LIMIT,
    ORG,
    OTHER_ORG,
    STANDARD,
    T0,
    A,
    D,
    Run,
    U,
    _ContractBase,
    add_users,
    all_audit,
    at,
    change_set,
    default_project,
    make_org,
    make_user,
    present,
)
from seatkeeper.storage.protocol import (
    Applied,
    Conflict,
    LogQuery,
    Storage,
)

# ------------------------------------------------------------------------------------ logs


def _sync_entries(rng: random.Random) -> list[SyncLogEntry]:
    guid = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
    user_ids = ["u1", "U1", "u2", guid, guid.upper(), "{" + guid + "}"]
    entries = []
    for n in range(80):
        ok = rng.random() < 0.6
        user_id = rng.choice(user_ids)
        entries.append(
            SyncLogEntry(
                organization_id=rng.choice([ORG, ORG, OTHER_ORG]),
                at=at(rng.randint(0, 20)),  # many entries share an instant: the id orders them
                user_id=user_id,
                email=f"{user_key(user_id)}@example.com",
                project_id=DEFAULT_PROJECT_ID,
                client=rng.choice(list(Client)),
                ok=ok,
                error_code=None if ok else "LICENSE_NOT_FOUND",
                reason=None if ok else "NO_SEAT_AVAILABLE",
                license_type=STANDARD if ok else None,
                id=f"e{rng.randrange(10**6):06d}-{n:02d}",
            )
        )
    rng.shuffle(entries)  # appended out of order, as several servers or a stepped clock would
    return entries


def _log_queries() -> list[LogQuery]:
    guid_key = user_key("3f2504e0-4f89-11d3-9a0c-0305e82c3301")
    return [
        LogQuery(),
        LogQuery(user_key="u1"),
        LogQuery(user_key="U1"),
        LogQuery(user_key=guid_key),
        LogQuery(user_key="nobody"),
        LogQuery(since=at(5)),
        LogQuery(until=at(15)),
        LogQuery(since=at(5), until=at(15)),
        LogQuery(since=at(7), until=at(7)),
        LogQuery(user_key=guid_key, since=at(3), until=at(18)),
    ]


Entry = TypeVar("Entry", SyncLogEntry, AuditEntry)
#: Any log's entry: what `_walk` pages through.
LogEntry = TypeVar("LogEntry", SyncLogEntry, AuditEntry, AdminLogEntry)


def _log_oracle(
    entries: Iterable[Entry],
    org: str,
    query: LogQuery,
    is_error: Callable[[Entry], bool] | None,
) -> list[Entry]:
    return sorted(
        (
            e
            for e in entries
            if e.organization_id == org
            and (query.user_key is None or user_key(e.user_id) == query.user_key)
            and (not query.errors_only or (is_error is not None and is_error(e)))
            and (query.since is None or query.since <= e.at)
            and (query.until is None or e.at < query.until)
        ),
        key=lambda e: (e.at, e.id),
        reverse=True,
    )


async def _walk(
    fetch: Callable[[str, LogQuery, int, tuple[datetime, str] | None], Awaitable[list[LogEntry]]],
    org: str,
    query: LogQuery,
    first: int,
    limit: int,
) -> list[LogEntry]:
    """Every page of a log, following keyset cursors; `limit` bounds a walk that would loop."""
    walked: list[LogEntry] = []
    after: tuple[datetime, str] | None = None
    while True:
        page = await fetch(org, query, first, after)
        assert len(page) <= first
        walked += page
        if len(page) < first:
            return walked
        after = (page[-1].at, page[-1].id)
        assert len(walked) <= limit, f"pages repeat entries after {after!r}"


class LogContract(_ContractBase):
    """Sync log and audit log: newest first, keyset pages, filters, purge (SPEC 8)."""

    def test_spec_8_sync_log_newest_first_filtered_and_paged(
        self, storage: Storage, run: Run
    ) -> None:
        """SPEC 8: queried by user, errors only, half-open time range, newest first."""

        async def check() -> None:
            await make_org(storage)
            await make_org(storage, OTHER_ORG)
            entries = _sync_entries(random.Random(3))
            for entry in entries:
                await storage.append_sync_log(entry)
            queries = _log_queries()
            queries += [replace(q, errors_only=True) for q in queries]
            for org in (ORG, OTHER_ORG):
                for query in queries:
                    expected = _log_oracle(entries, org, query, lambda e: not e.ok)
                    assert await storage.list_sync_log(org, query, 10_000, None) == expected, (
                        org,
                        query,
                    )
                    assert (
                        await _walk(storage.list_sync_log, org, query, 4, len(entries)) == expected
                    ), (org, query)
            # `after` need not be an entry's own position.
            cut = (at(10), "e5")
            expected = [
                e for e in _log_oracle(entries, ORG, LogQuery(), None) if (e.at, e.id) < cut
            ]
            assert await storage.list_sync_log(ORG, LogQuery(), 10_000, cut) == expected

        run(check())

    def test_spec_8_purge_sync_log_drops_older_entries_of_every_organization(
        self, storage: Storage, run: Run
    ) -> None:
        """SPEC 8: sync-log entries expire after the retention period."""

        async def check() -> None:
            await make_org(storage)
            await make_org(storage, OTHER_ORG)
            entries = _sync_entries(random.Random(4))
            for entry in entries:
                await storage.append_sync_log(entry)
            await add_users(storage, [make_user("u1")])
            user = present(await storage.get_user(ORG, "u1"))
            await storage.apply_changes(change_set([(user, (D, U))], NO_LIMIT, when=at(0)))
            assert await storage.purge_sync_log(at(10)) == sum(1 for e in entries if e.at < at(10))
            assert await storage.purge_sync_log(at(10)) == 0
            kept = [e for e in entries if e.at >= at(10)]
            for org in (ORG, OTHER_ORG):
                assert await storage.list_sync_log(org, LogQuery(), 10_000, None) == _log_oracle(
                    kept, org, LogQuery(), None
                )
            assert len(await all_audit(storage)) == 1  # the audit log is not the sync log

        run(check())

    def test_spec_8_audit_log_newest_first_filtered_and_paged(
        self, storage: Storage, run: Run
    ) -> None:
        """SPEC 8 and invariant 4: what apply_changes wrote, newest first, by user and time."""

        async def check() -> None:
            await make_org(storage)
            await make_org(storage, OTHER_ORG)
            guid = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
            rng = random.Random(11)
            written: list[AuditEntry] = []
            for org in (ORG, OTHER_ORG):
                ids = ("u1", "U1", "u2", guid.upper())
                await add_users(
                    storage,
                    [make_user(i, org=org, email=f"a{n}@example.com") for n, i in enumerate(ids)],
                    org,
                )
            for step in range(40):
                org = rng.choice([ORG, OTHER_ORG])
                user = present(
                    await storage.get_user(org, rng.choice(["u1", "U1", "u2", user_key(guid)]))
                )
                target = rng.choice([(A, U), (U, A), (D, U), (U, D), (U, U), (D, D)])
                if target == user.selectors:
                    continue
                changes = change_set(
                    [(user, target)],
                    NO_LIMIT,
                    org=org,
                    when=at(rng.randint(0, 20)),
                    operation_id=f"op{step}",
                )
                changes.audit = [
                    replace(e, id=f"a{rng.randrange(10**6):06d}-{step:02d}{i}")
                    for i, e in enumerate(changes.audit)
                ]
                assert await storage.apply_changes(changes) == Applied()
                written += changes.audit
            # A refused change set leaves no audit entry.
            user = present(await storage.get_user(ORG, "u2"))
            refused = change_set(
                [(replace(user, standard=D if user.standard is not D else U), (A, U))],
                NO_LIMIT,
                when=at(5),
            )
            assert isinstance(await storage.apply_changes(refused), Conflict)
            for org in (ORG, OTHER_ORG):
                for query in _log_queries():
                    expected = _log_oracle(written, org, query, None)
                    assert await storage.list_audit_log(org, query, 10_000, None) == expected, (
                        org,
                        query,
                    )
                    assert (
                        await _walk(storage.list_audit_log, org, query, 3, len(written)) == expected
                    ), (org, query)

        run(check())

    async def _commit_after_aba(self, storage: Storage, planned_at: datetime) -> list[AuditEntry]:
        """A change set planned first (its entries with the smallest ids, at `planned_at`) and
        committed last, after two others (ordered too) took and gave back the seat at minute 5 (A-B-A:
        its expectation still holds, as for an import planned while syncs ran). Returns the
        audit log, oldest first, after checking that it replays to the stored selectors."""
        await make_org(storage)
        await add_users(storage, [make_user("u1")])
        user = present(await storage.get_user(ORG, "u1"))
        late = change_set([(user, (A, U))], NO_LIMIT, when=planned_at, operation_id="late")
        late.audit = [replace(e, id="0" * 32) for e in late.audit]
        late.order_audit = True
        for step, target in enumerate([(A, U), (U, U)]):
            current = present(await storage.get_user(ORG, "u1"))
            between = change_set(
                [(current, target)], NO_LIMIT, when=at(5), operation_id=f"between{step}"
            )
            between.order_audit = True
            assert await storage.apply_changes(between) == Applied()
        assert await storage.apply_changes(late) == Applied()
        oldest_first = list(reversed(await all_audit(storage)))
        assert [e.operation_id for e in oldest_first] == ["between0", "between1", "late"]
        state = U
        for entry in oldest_first:
            assert entry.from_state is state, entry
            state = entry.to_state
        assert present(await storage.get_user(ORG, "u1")).standard is state is A
        return oldest_first

    def test_spec_8_ordered_audit_lists_in_commit_order(self, storage: Storage, run: Run) -> None:
        """Invariant 4, SPEC 8: with `order_audit`, entries of one instant list in the order their
        change sets committed, not the order in which their ids were planned."""
        run(self._commit_after_aba(storage, at(5)))

    def test_spec_8_ordered_audit_is_never_before_what_it_follows(
        self, storage: Storage, run: Run
    ) -> None:
        """Invariant 4, SPEC 8: with `order_audit`, an entry planned at an earlier instant than
        entries committed before it is raised to their instant, so it still lists after them."""
        oldest_first = run(self._commit_after_aba(storage, at(0)))
        assert oldest_first[-1].at == at(5)


class AdminLogContract(_ContractBase):
    """The administration log (SPEC 8): each administrative write appends the entry it is given
    (`log=`) when, and only when, the write happens; read newest first in keyset pages."""

    @staticmethod
    def entry(org: str, minute: int, action: AdminAction, target: str) -> AdminLogEntry:
        return AdminLogEntry(
            org, at(minute), action, "ADMIN:t-admin", target, f"{action.value} {target}"
        )

    def test_spec_8_every_administrative_write_appends_its_entry(
        self, storage: Storage, run: Run
    ) -> None:
        async def check() -> None:
            E, expected = self.entry, []
            created = E(ORG, 0, AdminAction.ORGANIZATION_CREATED, ORG)
            organization = Organization(ORG, "Organization", T0)
            await storage.create_organization(organization, default_project(ORG), log=created)
            await make_org(storage, OTHER_ORG)
            expected.append(created)
            writes: list[tuple[AdminLogEntry, Callable[[AdminLogEntry], Awaitable[object]]]] = [
                (
                    E(ORG, 1, AdminAction.SETTINGS_CHANGED, ORG),
                    lambda log: storage.update_settings(ORG, Settings(True), log=log),
                ),
                (
                    E(ORG, 2, AdminAction.PROJECT_CREATED, "p1"),
                    lambda log: storage.upsert_project(
                        Project(ORG, "p1", "One", ProjectKind.INSPECTIONS), log=log
                    ),
                ),
                (
                    E(ORG, 3, AdminAction.SUBSCRIPTION_ADDED, "s1"),
                    lambda log: storage.add_subscription(
                        Subscription(ORG, "s1", STANDARD, 5, at(0), at(600)), log=log
                    ),
                ),
                (
                    E(ORG, 3, AdminAction.TOKEN_CREATED, "t1"),  # the same instant: by id
                    lambda log: storage.add_token(
                        Token("t1", ORG, "ci", Role.SYNC, "hash-t1", at(3)), log=log
                    ),
                ),
                (
                    E(ORG, 4, AdminAction.TOKEN_REVOKED, "t1"),
                    lambda log: storage.revoke_token("t1", None, at(4), log=log),
                ),
            ]
            for log, write in writes:
                await write(log)
                expected.append(log)
            newest_first = sorted(expected, key=lambda e: (e.at, e.id), reverse=True)
            assert await storage.list_admin_log(ORG, LogQuery(), 100, None) == newest_first
            assert await _walk(storage.list_admin_log, ORG, LogQuery(), 2, 10) == newest_first
            in_range = LogQuery(since=at(1), until=at(4))
            assert await storage.list_admin_log(ORG, in_range, 100, None) == [
                e for e in newest_first if at(1) <= e.at < at(4)
            ]
            assert await storage.list_admin_log(OTHER_ORG, LogQuery(), 100, None) == []
            assert await storage.list_admin_log("nobody", LogQuery(), 100, None) == []
            # The writes themselves landed as they do without a log.
            assert present(await storage.get_organization(ORG)).settings == Settings(True)
            assert present(await storage.find_token("hash-t1")).revoked_at == at(4)

        run(check())

    def test_spec_8_a_write_that_does_not_happen_appends_nothing(
        self, storage: Storage, run: Run
    ) -> None:
        async def check() -> None:
            E = self.entry
            await make_org(storage)
            await make_org(storage, OTHER_ORG)
            await storage.add_token(Token("theirs", OTHER_ORG, "x", Role.SYNC, "hash-x", at(0)))
            await storage.add_token(Token("mine", ORG, "y", Role.SYNC, "hash-y", at(0)))
            nobody = "nobody"
            assert (
                await storage.update_settings(
                    nobody, Settings(), log=E(nobody, 1, AdminAction.SETTINGS_CHANGED, nobody)
                )
                is None
            )
            await storage.upsert_project(
                Project(nobody, "p", "P", ProjectKind.STANDARD),
                log=E(nobody, 1, AdminAction.PROJECT_CREATED, "p"),
            )
            await storage.add_subscription(
                Subscription(nobody, "s", STANDARD, 1, at(0), at(9)),
                log=E(nobody, 1, AdminAction.SUBSCRIPTION_ADDED, "s"),
            )
            assert await storage.list_admin_log(nobody, LogQuery(), 100, None) == []
            # Not found in this organization, or not found at all: no token revoked, no entry.
            revoked = E(ORG, 2, AdminAction.TOKEN_REVOKED, "theirs")
            assert await storage.revoke_token("theirs", ORG, at(2), log=revoked) is None
            missing = E(ORG, 2, AdminAction.TOKEN_REVOKED, "missing")
            assert await storage.revoke_token("missing", None, at(2), log=missing) is None
            # Revoked twice: the second keeps the first time and appends nothing.
            first = E(ORG, 3, AdminAction.TOKEN_REVOKED, "mine")
            second = E(ORG, 4, AdminAction.TOKEN_REVOKED, "mine")
            await storage.revoke_token("mine", ORG, at(3), log=first)
            again = await storage.revoke_token("mine", ORG, at(4), log=second)
            assert present(again).revoked_at == at(3)
            assert await storage.list_admin_log(ORG, LogQuery(), 100, None) == [first]
            assert await storage.list_admin_log(OTHER_ORG, LogQuery(), 100, None) == []

        run(check())
