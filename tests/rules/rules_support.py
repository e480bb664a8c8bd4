"""Helpers shared by the rules-engine tests: short ways to set up organizations, users and syncs.

Everything here drives the real Engine on the real memory storage; nothing is mocked. Tests are
plain synchronous pytest functions: `@async_test` runs an `async def` test with `asyncio.run`.
"""

from __future__ import annotations

import asyncio
import functools
import random
from datetime import datetime, timedelta

from seatkeeper.domain.records import (
    AuditEntry,
    Client,
    LicenseState,
    LicenseType,
    MobileUser,
    ProjectKind,
    Subscription,
    SyncLogEntry,
    user_key,
)
from seatkeeper.rules.engine import Engine, NewUser, SyncRequest, UserFilter
from seatkeeper.rules.outcomes import Result, SyncOutcome
from seatkeeper.storage import UserQuery

S, I, E = LicenseType.STANDARD, LicenseType.INSPECTIONS, LicenseType.EXTERNAL
A, U, D = LicenseState.ASSIGNED, LicenseState.UNASSIGNED, LicenseState.DISABLED

ADMIN = "alice-admin-token"  # the actor name an admin request carries (its token's name)


def async_test(test):
    """Run an `async def` test with asyncio.run, so that no pytest plugin is needed."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return run


async def new_org(
    engine: Engine,
    *,
    trial_days: int = 0,
    auto_assign: bool | None = None,
    auto_free_up: bool | None = None,
    inactivity_days: int | None = None,
    grace_period_days: int | None = None,
    name: str = "Acme",
) -> str:
    """Create an organization (optionally in trial) with the given settings; return its id."""
    created = await engine.create_organization(name, trial_days)
    assert created.ok, created.user_errors
    org = created.value.organization.id
    if any(v is not None for v in (auto_assign, auto_free_up, inactivity_days, grace_period_days)):
        changed = await engine.update_settings(
            org, auto_assign, auto_free_up, inactivity_days, grace_period_days
        )
        assert changed.ok, changed.user_errors
    return org


async def buy(
    engine: Engine,
    org: str,
    license_type: LicenseType,
    seats: int | None = None,
    *,
    days: float = 365,
    starts_in_days: float = 0,
) -> Subscription:
    """Add a subscription valid from now (+ starts_in_days) for `days` days."""
    now = engine.now()
    valid_from = now + timedelta(days=starts_in_days)
    result = await engine.add_subscription(
        org, license_type, seats, valid_from + timedelta(days=days), valid_from
    )
    assert result.ok, result.user_errors
    return result.value


async def add_project(engine: Engine, org: str, project_id: str, kind: ProjectKind) -> None:
    result = await engine.upsert_project(org, project_id, project_id.title(), kind)
    assert result.ok, result.user_errors


async def inspections_project(engine: Engine, org: str) -> str:
    """An INSPECTIONS project named `insp` (the default project is STANDARD)."""
    await add_project(engine, org, "insp", ProjectKind.INSPECTIONS)
    return "insp"


async def external_project(engine: Engine, org: str) -> str:
    await add_project(engine, org, "ext", ProjectKind.EXTERNAL)
    return "ext"


def email_for(user_id: str) -> str:
    return f"{user_id}@example.com"


async def sync(
    engine: Engine,
    org: str,
    user_id: str,
    *,
    email: str | None = None,
    name: str | None = None,
    project: str | None = None,
    client: Client = Client.MOBILE,
) -> SyncOutcome:
    """One sync of `user_id` (e-mail `<id>@example.com` and name `<Id>` unless given)."""
    request = SyncRequest(
        user_id=user_id,
        email=email if email is not None else email_for(user_id),
        full_name=name if name is not None else user_id.title(),
        project_id=project,
        client=client,
    )
    return await engine.sync(org, request)


async def provision(engine: Engine, org: str, *users: tuple, actor: str = ADMIN) -> Result:
    """Pre-provision users given as (id, standard state, inspections state) or (id, s, i, name, email)."""
    new_users = []
    for spec in users:
        user_id, standard, inspections = spec[:3]
        name = spec[3] if len(spec) > 3 else user_id.title()
        email = spec[4] if len(spec) > 4 else email_for(user_id)
        new_users.append(NewUser(user_id, name, email, standard, inspections))
    return await engine.create_users(org, actor, new_users)


async def provisioned(engine: Engine, org: str, *users: tuple) -> None:
    result = await provision(engine, org, *users)
    assert result.ok, result.user_errors


async def set_state(
    engine: Engine,
    org: str,
    user_ids: list[str],
    license_type: LicenseType,
    state: LicenseState,
    actor: str = ADMIN,
) -> Result:
    return await engine.set_license_state(org, actor, list(user_ids), license_type, state)


async def get(engine: Engine, org: str, user_id: str) -> MobileUser | None:
    """The stored user (straight from the storage: what is true, not what an operation said)."""
    return await engine.storage.get_user(org, user_key(user_id))


async def holders(engine: Engine, org: str, license_type: LicenseType) -> int:
    return await engine.storage.count_holders(org, license_type)


async def all_users(engine: Engine, org: str) -> list[MobileUser]:
    return await engine.storage.list_users(org, UserQuery(), 1_000_000, None)


async def listed_ids(
    engine: Engine, org: str, search: str | None = None, user_filter: UserFilter | None = None
) -> list[str]:
    """Every id the admin list shows for a search and filter, in list order, over all pages."""
    ids, after = [], None
    while True:
        page = await engine.list_users(org, search, user_filter, first=3, after=after)
        ids += [view.user.id for view in page.items]
        if not page.has_next_page:
            return ids
        after = page.end_position


async def audit_entries(engine: Engine, org: str, user_id: str | None = None) -> list[AuditEntry]:
    """The whole audit log (optionally of one user), oldest first."""
    entries, after = [], None
    while True:
        page = await engine.audit_log(org, user_id=user_id, first=500, after=after)
        entries += page.items
        if not page.has_next_page:
            return entries[::-1]
        after = page.end_position


async def sync_entries(engine: Engine, org: str, user_id: str | None = None) -> list[SyncLogEntry]:
    """The whole sync log (optionally of one user), oldest first."""
    entries, after = [], None
    while True:
        page = await engine.sync_log(org, user_id=user_id, first=500, after=after)
        entries += page.items
        if not page.has_next_page:
            return entries[::-1]
        after = page.end_position


async def snapshot(engine: Engine, org: str) -> tuple:
    """Everything an admin operation could change: users, seat holders, audit log, settings."""
    organization = await engine.get_organization(org)
    return (
        await all_users(engine, org),
        await holders(engine, org, S),
        await holders(engine, org, I),
        await audit_entries(engine, org),
        organization.settings,
        await engine.storage.list_subscriptions(org),
        await engine.list_projects(org),
    )


def license_of(outcome: SyncOutcome) -> tuple:
    """A sync outcome in one comparable tuple: ('OK', type, temporary, trial, expiresAt) or the error."""
    if outcome.user_errors:
        return ("USER_ERROR", *[e.code for e in outcome.user_errors])
    if outcome.error is not None:
        return (outcome.error.code.value, outcome.error.reason.value, outcome.error.license_type)
    granted = outcome.license
    return ("OK", granted.type, granted.temporary, granted.trial, granted.expires_at)


def ok(license_type: LicenseType) -> tuple:
    """The outcome tuple of a permanent (seat or EXTERNAL) license."""
    return ("OK", license_type, False, False, None)


def temporary(license_type: LicenseType, expires_at: datetime) -> tuple:
    return ("OK", license_type, True, False, expires_at)


def refused(code: str, reason: str, license_type: LicenseType) -> tuple:
    return (code, reason, license_type)


def replay_is_consistent(entries: list[AuditEntry]) -> dict[str, tuple[LicenseState, LicenseState]]:
    """Replay an audit log oldest first: each entry must start where the previous one of the same
    user and type ended (nothing changed unrecorded). Returns every user's final selectors."""
    state: dict[tuple[str, LicenseType], LicenseState] = {}
    for entry in entries:
        key = (user_key(entry.user_id), entry.license_type)
        assert state.get(key, LicenseState.UNASSIGNED) is entry.from_state, entry
        state[key] = entry.to_state
    users = {k for k, _ in state}
    return {k: (state.get((k, S), U), state.get((k, I), U)) for k in users}


class YieldingStorage:
    """The real memory storage, with a yield to the event loop before every call.

    The memory backend never suspends, so `asyncio.gather` alone would run concurrent requests one
    after another. Yielding a (seeded, random) number of times before each storage call lets the
    other requests run between the engine's reads and its writes, as they would against a database
    over the network, and the run stays deterministic. After every write it records the number of
    holders of each seat type, so that a test can check invariant 1 at every instant.
    """

    def __init__(self, inner, seed: int = 0) -> None:
        self._inner = inner
        self._random = random.Random(seed)
        self.max_holders: dict[LicenseType, int] = {S: 0, I: 0}

    def __getattr__(self, name: str):
        method = getattr(self._inner, name)
        if not asyncio.iscoroutinefunction(method):
            return method

        async def call(*args, **kwargs):
            for _ in range(self._random.randint(0, 3)):
                await asyncio.sleep(0)
            result = await method(*args, **kwargs)
            if name in ("apply_changes", "write_sync"):
                written = args[0]
                org = (
                    written.organization_id
                    if name == "apply_changes"
                    else written.record.organization_id
                )
                for license_type in (S, I):
                    count = await self._inner.count_holders(org, license_type)
                    self.max_holders[license_type] = max(self.max_holders[license_type], count)
            return result

        return call
