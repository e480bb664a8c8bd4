"""SPEC 4 (sync) and SPEC 5 (capacity at sync time): whether a user may sync, and the sync log.

Every sync reads its user, decides — trial, EXTERNAL projects, a covering seat (unless over
capacity), blocked selectors, automatic assignment and freeing up, the temporary license — and
then writes the user's record, what it decided and the sync-log entry in one `write_sync`.
License outcomes are data, never exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from seatkeeper.domain.records import (
    DEFAULT_PROJECT_ID,
    SYSTEM_ACTOR,
    AuditReason,
    Client,
    LicenseErrorCode,
    LicenseErrorReason,
    LicenseState,
    LicenseType,
    MobileUser,
    Organization,
    Settings,
    SyncLogEntry,
    new_id,
)
from seatkeeper.rules import decisions
from seatkeeper.rules.base import EngineBase, audit_entries, selector_change
from seatkeeper.rules.fields import InputField
from seatkeeper.rules.outcomes import (
    ErrorCode,
    GrantedLicense,
    LicenseError,
    SyncOutcome,
    UserError,
)
from seatkeeper.rules.retry import MAX_ATTEMPTS
from seatkeeper.storage.protocol import (
    ChangeSet,
    EmailTaken,
    SeatShortage,
    SyncRecord,
    SyncWrites,
    SyncWritten,
    recorded_user,
)


@dataclass(frozen=True)
class SyncRequest:
    """SPEC 4's input, the organization aside (it comes from the caller's token)."""

    user_id: str
    email: str
    full_name: str | None = None
    project_id: str | None = None
    client: Client = Client.MOBILE


#: The fields `_sync_input_problems` checks, in its order.
_SYNC_INPUT_FIELDS = (
    InputField.USER_ID,
    InputField.EMAIL,
    InputField.FULL_NAME,
    InputField.PROJECT_ID,
)


@dataclass
class _Plan:
    """A decided sync: the answer, and what to write with its sync-log entry (`write_sync`)."""

    outcome: SyncOutcome
    start_grace: bool = False
    change_set: ChangeSet | None = None


@dataclass
class _Tries:
    """What earlier attempts of one sync learned: how far SPEC 4.6 got before a SeatShortage."""

    shortages: int = 0  # 0: assign; 1: the assignment was short, free up; 2: no seat
    holders: int = 0  # holders of the required type when the assignment was refused


class SyncOperations(EngineBase):
    """SPEC 4–5: the sync mutation."""

    async def sync(self, organization_id: str, request: SyncRequest) -> SyncOutcome:
        """SPEC 4: decide whether the user may sync; record the user and a sync-log entry.

        License errors are returned as data in `SyncOutcome.error`; input problems (SPEC 4.1) as
        `user_errors`, which change nothing but the sync log (SPEC 4.8, invariant 5). The user's
        record, a grace start or seat change, and the log entry are one `write_sync`: the user
        is read, the sync decided on that record, and the write refused (then decided again) if
        a concurrent write changed what the decision rests on.
        """
        now = self.clock()
        problems = self._sync_input_problems(request)
        if problems:
            return await self._log_only(
                organization_id, request, SyncOutcome(user_errors=problems), now
            )
        organization = await self.storage.get_organization(organization_id)
        if organization is None:
            error = UserError(ErrorCode.ORGANIZATION_NOT_FOUND, "the organization no longer exists")
            return await self._log_only(
                organization_id, request, SyncOutcome(user_errors=[error]), now
            )
        project_id = request.project_id or DEFAULT_PROJECT_ID
        project = await self.storage.get_project(organization_id, project_id)
        if project is None:
            error = UserError(
                ErrorCode.PROJECT_NOT_FOUND,
                f"no project {project_id!r} in this organization",
                (InputField.PROJECT_ID,),
            )
            return await self._log_only(
                organization_id, request, SyncOutcome(user_errors=[error]), now
            )
        required = project.kind.required_license
        record = SyncRecord(
            organization_id, request.user_id, request.email, request.full_name, required, now
        )
        key = record.key
        tries = _Tries()
        try:
            for _ in range(MAX_ATTEMPTS):
                before = await self.storage.get_user(organization_id, key)
                user = recorded_user(before, record)
                plan = await self._decide(organization, required, user, now, tries)
                entry = self._sync_log_entry(organization_id, request, plan.outcome, now)
                result = await self.storage.write_sync(
                    SyncWrites(record, before, entry, plan.start_grace, plan.change_set)
                )
                if isinstance(result, SyncWritten):
                    plan.outcome.user = result.user
                    return plan.outcome
                if isinstance(result, SeatShortage) and tries.shortages < 2:
                    tries.shortages += 1
                    tries.holders = tries.holders if tries.shortages > 1 else result.holders
                else:  # a concurrent write changed the user or a seat: decide again from scratch
                    tries = _Tries()
            # Every attempt met a concurrent write: record the sync, refuse the seat.
            user = await self.storage.record_sync(
                organization_id, request.user_id, request.email, request.full_name, required, now
            )
        except EmailTaken:
            error = UserError(
                ErrorCode.EMAIL_TAKEN,
                "this email belongs to another user of the organization",
                (InputField.EMAIL,),
            )
            return await self._log_only(
                organization_id, request, SyncOutcome(user_errors=[error]), now
            )
        return await self._log_only(organization_id, request, self._no_seat(user, required), now)

    async def _log_only(
        self, organization_id: str, request: SyncRequest, outcome: SyncOutcome, now: datetime
    ) -> SyncOutcome:
        """A sync that writes nothing but its log entry (an input error, an e-mail taken)."""
        await self.storage.append_sync_log(
            self._sync_log_entry(organization_id, request, outcome, now)
        )
        return outcome

    def _sync_input_problems(self, request: SyncRequest) -> list[UserError]:
        checks = (
            decisions.user_id_problem(request.user_id),
            decisions.email_problem(request.email),
            decisions.name_problem(request.full_name, required=False),
            decisions.label_problem(request.project_id, "project id", 64)
            if request.project_id is not None
            else None,
        )
        if not any(checks):  # the usual case: no InputField member read (0.2 µs each on 3.11)
            return []
        return [
            UserError(ErrorCode.INVALID_INPUT, problem, (field,))
            for field, problem in zip(_SYNC_INPUT_FIELDS, checks, strict=True)
            if problem
        ]

    async def _decide(
        self,
        organization: Organization,
        required: LicenseType,
        user: MobileUser,
        now: datetime,
        tries: _Tries,
    ) -> _Plan:
        """SPEC 4, steps 2–7, for the user as this sync records it (nothing written here)."""
        settings = organization.settings
        # 4.2 Trial: everything passes, no seat taken, no temporary window started.
        if decisions.in_trial(organization, now):
            return _Plan(
                SyncOutcome(
                    user=user,
                    license=GrantedLicense(
                        required, trial=True, expires_at=organization.trial_ends_at
                    ),
                )
            )
        subscriptions = await self.storage.list_subscriptions(organization.id)
        # 4.3 EXTERNAL project: covered by the organization's subscription, no seat.
        if required is LicenseType.EXTERNAL:
            if decisions.type_active(subscriptions, LicenseType.EXTERNAL, now):
                return _Plan(SyncOutcome(user=user, license=GrantedLicense(LicenseType.EXTERNAL)))
            if decisions.type_expired(subscriptions, LicenseType.EXTERNAL, now):
                return _Plan(
                    self._refuse(
                        user,
                        LicenseErrorCode.LICENSE_EXPIRED,
                        LicenseErrorReason.SUBSCRIPTION_EXPIRED,
                        required,
                    )
                )
            return _Plan(
                self._refuse(
                    user,
                    LicenseErrorCode.LICENSE_NOT_FOUND,
                    LicenseErrorReason.NO_SUBSCRIPTION,
                    required,
                )
            )
        limits = decisions.seat_limits(subscriptions, now)
        held = user.active_license
        # 4.4 Covered: a held covering seat wins, unless it is over capacity (SPEC 5).
        if decisions.covers(held, required):
            if await self._over_capacity(organization.id, user, held, limits[held]):
                reason = (
                    LicenseErrorReason.SUBSCRIPTION_EXPIRED
                    if limits[held] == 0
                    else LicenseErrorReason.OVER_CAPACITY
                )
                return _Plan(self._refuse(user, LicenseErrorCode.LICENSE_EXPIRED, reason, held))
            return _Plan(SyncOutcome(user=user, license=GrantedLicense(held)))
        # 4.5 Blocked.
        if user.selector(required) is LicenseState.DISABLED:
            return _Plan(
                self._refuse(
                    user, LicenseErrorCode.LICENSE_NOT_FOUND, LicenseErrorReason.DISABLED, required
                )
            )
        # 4.6 Automatic assignment.
        if settings.auto_assign_licenses:
            return await self._auto_assign(
                organization, settings, limits, required, user, now, tries
            )
        # 4.7 The temporary license, one window per user record.
        started_at = user.grace_started_at
        start_grace = started_at is None
        if started_at is None:
            user = replace(user, grace_started_at=now)
            started_at = now
        ends = decisions.grace_window_end(started_at, settings)
        if now < ends:
            return _Plan(
                SyncOutcome(
                    user=user, license=GrantedLicense(required, temporary=True, expires_at=ends)
                ),
                start_grace=start_grace,
            )
        return _Plan(
            self._refuse(
                user,
                LicenseErrorCode.LICENSE_EXPIRED,
                LicenseErrorReason.GRACE_PERIOD_ENDED,
                required,
            ),
            start_grace=start_grace,
        )

    async def _over_capacity(
        self, organization_id: str, user: MobileUser, held: LicenseType, limit: int
    ) -> bool:
        """SPEC 5: holders ranked by assignedAt (ties by id); those past `limit` are over capacity."""
        holders = await self.storage.count_holders(organization_id, held)
        if holders <= limit or user.assigned_at is None:  # a holder always has an assignedAt
            return False
        ahead = await self.storage.holders_ranked_before(
            organization_id, held, user.assigned_at, user.key
        )
        return ahead >= limit

    async def _auto_assign(
        self,
        organization: Organization,
        settings: Settings,
        limits: dict[LicenseType, int],
        required: LicenseType,
        user: MobileUser,
        now: datetime,
        tries: _Tries,
    ) -> _Plan:
        """SPEC 4.6: assign a free seat of the required type, else free up an inactive one.

        The first attempt assigns; after a SeatShortage the next frees up the holder inactive
        longest (if that makes a seat free); after a second shortage, no seat.
        """
        operation_id = new_id()
        after = decisions.with_selector(user, required, LicenseState.ASSIGNED)
        audit = audit_entries(
            organization.id, now, user, after, SYSTEM_ACTOR, AuditReason.AUTO_ASSIGN, operation_id
        )
        change = selector_change(user, after, now)
        granted = SyncOutcome(user=user, license=GrantedLicense(required))
        if tries.shortages == 0:
            return _Plan(
                granted,
                change_set=ChangeSet(
                    organization.id,
                    changes=[change],
                    seat_limits=limits,
                    audit=audit,
                    order_audit=True,
                ),
            )
        # 4.6.2 No seat free: free up the one inactive longest, if that makes one free.
        if (
            tries.shortages == 1
            and settings.auto_free_up_licenses
            and tries.holders <= limits[required]
        ):
            victim = await self.storage.find_longest_inactive_holder(
                organization.id, required, decisions.inactivity_cutoff(settings, now)
            )
            if victim is not None and victim.key != user.key:
                victim_after = decisions.with_selector(victim, required, LicenseState.UNASSIGNED)
                audit = (
                    audit_entries(
                        organization.id,
                        now,
                        victim,
                        victim_after,
                        SYSTEM_ACTOR,
                        AuditReason.AUTO_FREE_UP,
                        operation_id,
                        beneficiary=user.id,
                    )
                    + audit
                )
                granted.freed_user_id = victim.id
                return _Plan(
                    granted,
                    change_set=ChangeSet(
                        organization.id,
                        changes=[selector_change(victim, victim_after, now), change],
                        seat_limits=limits,
                        audit=audit,
                        order_audit=True,
                    ),
                )
        return _Plan(self._no_seat(user, required))

    @staticmethod
    def _refuse(
        user: MobileUser,
        code: LicenseErrorCode,
        reason: LicenseErrorReason,
        license_type: LicenseType,
    ) -> SyncOutcome:
        return SyncOutcome(user=user, error=LicenseError(code, reason, license_type))

    @classmethod
    def _no_seat(cls, user: MobileUser, required: LicenseType) -> SyncOutcome:
        return cls._refuse(
            user, LicenseErrorCode.LICENSE_NOT_FOUND, LicenseErrorReason.NO_SEAT_AVAILABLE, required
        )

    @staticmethod
    def _sync_log_entry(
        organization_id: str, request: SyncRequest, outcome: SyncOutcome, now: datetime
    ) -> SyncLogEntry:
        """SPEC 4.8: every attempt, success or not, with what was decided."""
        error_code = reason = None
        if outcome.error is not None:
            error_code, reason = outcome.error.code.value, outcome.error.reason.value
        elif outcome.user_errors:
            first_error = outcome.user_errors[0]
            error_code, reason = first_error.code.value, first_error.message
        license_type = None
        if outcome.license is not None:
            license_type = outcome.license.type
        elif outcome.error is not None:
            license_type = outcome.error.license_type
        return SyncLogEntry(
            organization_id=organization_id,
            at=now,
            user_id=str(request.user_id)[: decisions.MAX_USER_ID_LENGTH],
            email=str(request.email)[: decisions.MAX_EMAIL_LENGTH],
            project_id=(request.project_id or DEFAULT_PROJECT_ID)[:64],
            client=request.client,
            ok=outcome.ok,
            error_code=error_code,
            reason=reason,
            license_type=license_type,
            temporary=bool(outcome.license and outcome.license.temporary),
            freed_user_id=outcome.freed_user_id,
        )
