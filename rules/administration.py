"""SPEC 3, administration: licenses, pre-provisioning, deleting users, settings and projects.

Every bulk operation is all or nothing: it decides on the records it read and writes one change
set that carries those expectations; a concurrent write makes it decide again.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TypeVar

from seatkeeper.domain.records import (
    SYSTEM_ACTOR,
    AdminAction,
    AuditEntry,
    AuditReason,
    LicenseState,
    LicenseType,
    MobileUser,
    Organization,
    Project,
    ProjectKind,
    Settings,
    new_id,
    user_key,
)
from seatkeeper.rules import decisions
from seatkeeper.rules.administration_checks import (
    NewUser,
    bulk_problems,
    exists_errors,
    missing_users,
    new_user_problems,
    shortage_error,
)
from seatkeeper.rules.base import (
    EngineBase,
    audit_entries,
    conflict_error,
    selector_change,
    trial_error,
)
from seatkeeper.rules.collector import collector_paused
from seatkeeper.rules.fields import InputField
from seatkeeper.rules.outcomes import ErrorCode, Result, UserError
from seatkeeper.rules.retry import AGAIN, Again, with_conflict_retry
from seatkeeper.storage.protocol import (
    AlreadyExists,
    Applied,
    ChangeSet,
    SeatShortage,
    SelectorChange,
    Storage,
    UserDeletion,
)

T = TypeVar("T")


#: Users read per storage call, and handled between two pauses, in a bulk mutation: one call for
#: 100,000 users held the event loop, and every organization's requests (issue 9, finding 6).
_BULK_CHUNK = 2_000


async def _users_in_chunks(
    storage: Storage, organization_id: str, keys: list[str]
) -> dict[str, MobileUser]:
    """`storage.get_users` a chunk at a time, giving the event loop back between chunks. The
    chunks are not one snapshot: the change set's expectations catch what changed meanwhile."""
    users: dict[str, MobileUser] = {}
    for start in range(0, len(keys), _BULK_CHUNK):
        if start:
            await asyncio.sleep(0)
        users.update(await storage.get_users(organization_id, keys[start : start + _BULK_CHUNK]))
    return users


class AdministrationOperations(EngineBase):
    """SPEC 3: what an ADMIN changes in its organization."""

    async def set_license_state(
        self,
        organization_id: str,
        actor: str,
        user_ids: list[str],
        license_type: LicenseType,
        state: LicenseState,
    ) -> Result[list[MobileUser]]:
        """SPEC 3, setLicenseState: all listed users or none; switching keeps one seat per user.

        ASSIGNED needs a free seat for every listed user not already holding the type (else
        NOT_ENOUGH_SEATS with how many were needed and how many are free) and overrides
        DISABLED; UNASSIGNED and DISABLED release the seat. During a trial: TRIAL_ACTIVE only.
        """
        # Many users: many objects alive for seconds (`collector`; issue 9).
        with collector_paused(len(user_ids)):
            organization = await self._require_organization(organization_id)
            now = self.clock()
            if decisions.in_trial(organization, now):
                return Result(user_errors=[trial_error()])
            problems = bulk_problems(user_ids, (InputField.USER_IDS,))
            if license_type is LicenseType.EXTERNAL:
                problems.append(
                    UserError(
                        ErrorCode.INVALID_INPUT,
                        "EXTERNAL licenses are per organization; users have no EXTERNAL selector",
                        (InputField.LICENSE_TYPE,),
                    )
                )
            if problems:
                return Result(user_errors=problems)
            keys = list(dict.fromkeys(user_key(i) for i in user_ids))
            operation_id = new_id()

            async def attempt() -> Result[list[MobileUser]] | Again:
                users = await _users_in_chunks(self.storage, organization_id, keys)
                missing = missing_users(user_ids, users, (InputField.USER_IDS,))
                if missing:
                    return Result(user_errors=missing)
                changes: list[SelectorChange] = []
                audit: list[AuditEntry] = []
                gaining = 0
                for count, key in enumerate(keys):
                    if count and count % _BULK_CHUNK == 0:
                        await asyncio.sleep(0)  # a pause between chunks, as `_users_in_chunks`
                    user = users[key]
                    after = decisions.with_selector(user, license_type, state)
                    if after == user.selectors:
                        continue
                    if state is LicenseState.ASSIGNED:
                        gaining += 1
                    changes.append(selector_change(user, after, now))
                    audit += audit_entries(
                        organization_id, now, user, after, actor, AuditReason.MANUAL, operation_id
                    )
                if not changes:
                    return Result([users[k] for k in keys])
                subscriptions = await self.storage.list_subscriptions(organization_id)
                limits = decisions.seat_limits(subscriptions, now)
                result = await self.storage.apply_changes(
                    ChangeSet(
                        organization_id,
                        changes=changes,
                        seat_limits=limits,
                        audit=audit,
                        order_audit=True,
                    )
                )
                if isinstance(result, Applied):
                    updated = await _users_in_chunks(self.storage, organization_id, keys)
                    return Result([updated[k] for k in keys if k in updated])
                if isinstance(result, SeatShortage):
                    return Result(
                        user_errors=[
                            shortage_error(result, gaining, limits, (InputField.USER_IDS,))
                        ]
                    )
                return AGAIN

            return await with_conflict_retry(attempt, _conflict_result)

    async def create_users(
        self, organization_id: str, actor: str, new_users: list[NewUser]
    ) -> Result[list[MobileUser]]:
        """SPEC 3, pre-provisioning: create users with chosen selector states, all or none.

        Assigning seats needs free seats (NOT_ENOUGH_SEATS) and is refused during a trial
        (TRIAL_ACTIVE); ids and e-mails must be new (USER_EXISTS, EMAIL_TAKEN).
        """
        # Many users: many objects alive for seconds (`collector`; issue 9).
        with collector_paused(len(new_users)):
            organization = await self._require_organization(organization_id)
            now = self.clock()
            assigns = any(LicenseState.ASSIGNED in (u.standard, u.inspections) for u in new_users)
            if assigns and decisions.in_trial(organization, now):
                return Result(user_errors=[trial_error()])
            problems = new_user_problems(new_users)
            if problems:
                return Result(user_errors=problems)
            operation_id = new_id()
            records: list[MobileUser] = []
            audit: list[AuditEntry] = []
            for count, new_user in enumerate(new_users):
                if count and count % _BULK_CHUNK == 0:
                    await asyncio.sleep(0)  # a pause between chunks, as `_users_in_chunks`
                blank = MobileUser(
                    organization_id=organization_id,
                    id=new_user.id,
                    full_name=new_user.full_name.strip(),
                    email=new_user.email,
                    created_at=now,
                )
                selectors = (new_user.standard, new_user.inspections)
                record = replace(blank, standard=selectors[0], inspections=selectors[1])
                record.assigned_at = now if record.active_license else None
                records.append(record)
                audit += audit_entries(
                    organization_id, now, blank, selectors, actor, AuditReason.MANUAL, operation_id
                )
            subscriptions = await self.storage.list_subscriptions(organization_id)
            limits = decisions.seat_limits(subscriptions, now)
            result = await self.storage.apply_changes(
                ChangeSet(
                    organization_id,
                    creates=records,
                    seat_limits=limits,
                    audit=audit,
                    order_audit=True,
                )
            )
            if isinstance(result, AlreadyExists):
                return Result(user_errors=exists_errors(result, new_users))
            if isinstance(result, SeatShortage):
                gaining = sum(1 for r in records if r.active_license is result.license_type)
                return Result(
                    user_errors=[shortage_error(result, gaining, limits, (InputField.USERS,))]
                )
            return Result(records)

    async def delete_users(
        self, organization_id: str, actor: str, user_ids: list[str]
    ) -> Result[list[str]]:
        """SPEC 3, delete users: remove them and release their seats, all or none.

        A later sync with the same id creates a fresh user with a fresh temporary window.
        """
        # Many users: many objects alive for seconds (`collector`; issue 9).
        with collector_paused(len(user_ids)):
            await self._require_organization(organization_id)
            problems = bulk_problems(user_ids, (InputField.USER_IDS,))
            if problems:
                return Result(user_errors=problems)
            keys = list(dict.fromkeys(user_key(i) for i in user_ids))
            now = self.clock()
            operation_id = new_id()

            async def attempt() -> Result[list[str]] | Again:
                users = await _users_in_chunks(self.storage, organization_id, keys)
                missing = missing_users(user_ids, users, (InputField.USER_IDS,))
                if missing:
                    return Result(user_errors=missing)
                cleared = (LicenseState.UNASSIGNED, LicenseState.UNASSIGNED)
                audit: list[AuditEntry] = []
                for count, key in enumerate(keys):
                    if count and count % _BULK_CHUNK == 0:
                        await asyncio.sleep(0)  # a pause between chunks, as `_users_in_chunks`
                    audit += audit_entries(
                        organization_id,
                        now,
                        users[key],
                        cleared,
                        actor,
                        AuditReason.DELETE,
                        operation_id,
                    )
                result = await self.storage.apply_changes(
                    ChangeSet(
                        organization_id,
                        deletes=[UserDeletion(k, users[k].selectors) for k in keys],
                        audit=audit,
                        order_audit=True,
                    )
                )
                if isinstance(result, Applied):
                    return Result([users[k].id for k in keys])
                return AGAIN

            return await with_conflict_retry(attempt, _conflict_result)

    async def update_settings(
        self,
        organization_id: str,
        auto_assign_licenses: bool | None = None,
        auto_free_up_licenses: bool | None = None,
        inactivity_days: int | None = None,
        grace_period_days: int | None = None,
        *,
        actor: str = SYSTEM_ACTOR,
    ) -> Result[Settings]:
        """SPEC 3, Settings: change the given fields; out-of-range day counts change nothing."""
        organization = await self._require_organization(organization_id)
        problems = []
        # The messages quote the API's names: they are read by people who wrote that input.
        for field, value, out_of_range in (
            (
                InputField.INACTIVITY_DAYS,
                inactivity_days,
                "inactivityDays must be between {low} and {high}, got {value}",
            ),
            (
                InputField.GRACE_PERIOD_DAYS,
                grace_period_days,
                "gracePeriodDays must be between {low} and {high}, got {value}",
            ),
        ):
            low, high = decisions.SETTING_RANGES[field.value]
            if value is not None and not low <= value <= high:
                problems.append(
                    UserError(
                        ErrorCode.INVALID_INPUT,
                        out_of_range.format(low=low, high=high, value=value),
                        (field,),
                    )
                )
        if problems:
            return Result(user_errors=problems)
        current = organization.settings
        settings = Settings(
            auto_assign_licenses=current.auto_assign_licenses
            if auto_assign_licenses is None
            else auto_assign_licenses,
            auto_free_up_licenses=current.auto_free_up_licenses
            if auto_free_up_licenses is None
            else auto_free_up_licenses,
            inactivity_days=current.inactivity_days if inactivity_days is None else inactivity_days,
            grace_period_days=current.grace_period_days
            if grace_period_days is None
            else grace_period_days,
        )
        changed = [
            f"{words}: {_shown(getattr(current, name))} -> {_shown(getattr(settings, name))}"
            for name, words in _SETTING_NAMES
            if getattr(current, name) != getattr(settings, name)
        ]
        log = None
        if changed:  # an update that changes nothing is not an administrative change
            log = self._admin_entry(
                organization_id,
                AdminAction.SETTINGS_CHANGED,
                actor,
                organization_id,
                ", ".join(changed),
            )
        await self.storage.update_settings(organization_id, settings, log=log)
        return Result(settings)

    async def upsert_project(
        self,
        organization_id: str,
        project_id: str,
        name: str,
        kind: ProjectKind,
        *,
        actor: str = SYSTEM_ACTOR,
    ) -> Result[Project]:
        """Create a project or change its name and kind (the default project's kind included)."""
        await self._require_organization(organization_id)
        problems = [
            UserError(ErrorCode.INVALID_INPUT, problem, (field,))
            for field, problem in (
                (InputField.ID, decisions.label_problem(project_id, "project id", 64)),
                (InputField.NAME, decisions.label_problem(name, "project name")),
            )
            if problem
        ]
        if problems:
            return Result(user_errors=problems)
        project = Project(organization_id, project_id, name.strip(), kind)
        before = await self.storage.get_project(organization_id, project_id)
        log = None
        if before is None:
            log = self._admin_entry(
                organization_id,
                AdminAction.PROJECT_CREATED,
                actor,
                project_id,
                f"name {project.name!r}, kind {kind.value}",
            )
        elif (before.name, before.kind) != (project.name, project.kind):
            log = self._admin_entry(
                organization_id,
                AdminAction.PROJECT_CHANGED,
                actor,
                project_id,
                f"name {before.name!r} -> {project.name!r}, kind {before.kind.value} -> {kind.value}",
            )
        await self.storage.upsert_project(project, log=log)
        return Result(project)

    async def get_organization(self, organization_id: str) -> Organization | None:
        return await self.storage.get_organization(organization_id)

    async def list_projects(self, organization_id: str) -> list[Project]:
        return await self.storage.list_projects(organization_id)


#: The settings in words, in the order the administration log lists their changes.
_SETTING_NAMES = (
    ("auto_assign_licenses", "auto-assign licenses"),
    ("auto_free_up_licenses", "auto-free-up licenses"),
    ("inactivity_days", "inactivity days"),
    ("grace_period_days", "grace period days"),
)


def _shown(value: object) -> str:
    """A setting's value as the API spells it (`true`, not `True`)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _conflict_result() -> Result[T]:
    return Result(user_errors=[conflict_error()])
