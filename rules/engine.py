"""The rules engine: every operation of SPEC.md, applied through the Storage protocol.

Each public method reads what it needs, decides with the pure functions of `decisions.py`, and
writes with one atomic Storage operation that carries the expectations it decided on. When a
concurrent request changed those records in between, the write is refused as a Conflict and the
engine decides again on fresh records (a bounded number of times). The clock is injected.

Sections of SPEC.md are named in the docstrings so that a reader can find every rule.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import orjson
from seatkeeper.rules import decisions, licenses_csv
from seatkeeper.rules.access import TOKEN_ROLES, Caller, hash_secret, new_secret
from seatkeeper.rules.licenses_csv import (
    ImportMode,
    ImportReport,
    ImportSummary,
    licenses_lines,
    users_lines,
)
from seatkeeper.rules.outcomes import (
    BadRequest,
    ErrorCode,
    GrantedLicense,
    LicenseError,
    Page,
    Result,
    SubscriptionRow,
    SubscriptionSummary,
    SyncOutcome,
    UserError,
    UserView,
)
from seatkeeper.rules.records import (
    DEFAULT_PROJECT_ID,
    SEAT_TYPES,
    SYSTEM_ACTOR,
    AuditEntry,
    AuditReason,
    Client,
    LicenseErrorCode,
    LicenseErrorReason,
    LicenseState,
    LicenseType,
    MobileUser,
    Organization,
    Project,
    ProjectKind,
    Role,
    Settings,
    Subscription,
    SyncLogEntry,
    Token,
    new_id,
    user_key,
)
from seatkeeper.storage.protocol import (
    AlreadyExists,
    Applied,
    ChangeSet,
    Conflict,
    EmailTaken,
    LogQuery,
    SeatShortage,
    SelectorChange,
    Storage,
    UserDeletion,
    UserQuery,
)

Clock = Callable[[], datetime]

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50
MAX_BULK_USERS = 100_000  # one setLicenseState / createUsers / deleteUsers request
MAX_SEATS = 10_000_000
MAX_TRIAL_DAYS = 365
# How often an operation decides again after a concurrent write changed what it read.
MAX_ATTEMPTS = 8


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SyncRequest:
    """SPEC 4's input, the organization aside (it comes from the caller's token)."""

    user_id: str
    email: str
    full_name: str | None = None
    project_id: str | None = None
    client: Client = Client.MOBILE


@dataclass(frozen=True)
class NewUser:
    """A user to pre-provision (SPEC 3) with chosen selector states."""

    id: str
    full_name: str
    email: str
    standard: LicenseState = LicenseState.UNASSIGNED
    inspections: LicenseState = LicenseState.UNASSIGNED


@dataclass(frozen=True)
class UserFilter:
    license_type: LicenseType | None = None
    state: LicenseState | None = None
    inactive: bool | None = None


@dataclass(frozen=True)
class CreatedOrganization:
    organization: Organization
    admin_token: str
    sync_token: str


@dataclass(frozen=True)
class CreatedToken:
    token: Token
    secret: str


def _audit(
    organization_id: str,
    now: datetime,
    user: MobileUser,
    after: tuple[LicenseState, LicenseState],
    actor: str,
    reason: AuditReason,
    operation_id: str,
    beneficiary: str | None = None,
    switch_reason: AuditReason = AuditReason.SWITCH,
) -> list[AuditEntry]:
    """Audit entries for every selector of `user` that `after` changes (invariant 4).

    A seat released because the other type was assigned in the same step is a SWITCH.
    """
    entries = []
    assigned_type = decisions.held_by(after)
    for license_type, before_state, after_state in zip(SEAT_TYPES, user.selectors, after):
        if before_state is after_state:
            continue
        is_switch = (
            before_state is LicenseState.ASSIGNED
            and assigned_type is not None
            and assigned_type is not license_type
        )
        entries.append(
            AuditEntry(
                organization_id=organization_id,
                at=now,
                user_id=user.id,
                license_type=license_type,
                from_state=before_state,
                to_state=after_state,
                actor=actor,
                reason=switch_reason if is_switch else reason,
                operation_id=operation_id,
                beneficiary_user_id=beneficiary,
            )
        )
    return entries


def _change(
    user: MobileUser, after: tuple[LicenseState, LicenseState], now: datetime
) -> SelectorChange:
    return SelectorChange(
        user_key=user.key,
        expected=user.selectors,
        standard=after[0],
        inspections=after[1],
        assigned_at=decisions.assigned_at_after(user, after, now),
    )


def encode_cursor(*parts: object) -> str:
    """An opaque cursor: the keyset position, base64-encoded JSON."""
    return base64.urlsafe_b64encode(orjson.dumps(parts)).decode("ascii")


def decode_cursor(cursor: str, arity: int) -> list:
    try:
        parts = orjson.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError, orjson.JSONDecodeError):
        raise BadRequest("the cursor `after` is not one this server gave out", ("after",)) from None
    if (
        not isinstance(parts, list)
        or len(parts) != arity
        or not all(isinstance(p, str) for p in parts)
    ):
        raise BadRequest("the cursor `after` is not one this server gave out", ("after",))
    return parts


def check_page_size(first: int | None) -> int:
    """SPEC 6a: `first` is 1–500, default 50; outside that range the query fails."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise BadRequest(f"`first` must be between 1 and {MAX_PAGE_SIZE}, got {first}", ("first",))
    return first


class Engine:
    """The one rules engine every resolver calls."""

    def __init__(self, storage: Storage, clock: Clock | None = None) -> None:
        self.storage = storage
        self.clock: Clock = clock or wall_clock

    def now(self) -> datetime:
        return self.clock()

    # ================================================================ SPEC 4: sync

    async def sync(self, organization_id: str, request: SyncRequest) -> SyncOutcome:
        """SPEC 4: decide whether the user may sync; record the user and a sync-log entry.

        License errors are returned as data in `SyncOutcome.error`; input problems (SPEC 4.1) as
        `user_errors`, which change nothing but the sync log (SPEC 4.8, invariant 5).
        """
        now = self.clock()
        outcome = await self._sync(organization_id, request, now)
        await self.storage.append_sync_log(
            self._sync_log_entry(organization_id, request, outcome, now)
        )
        return outcome

    async def _sync(self, organization_id: str, request: SyncRequest, now: datetime) -> SyncOutcome:
        # 4.1 Input and user.
        problems = self._sync_input_problems(request)
        if problems:
            return SyncOutcome(user_errors=problems)
        organization = await self.storage.get_organization(organization_id)
        if organization is None:
            return SyncOutcome(
                user_errors=[
                    UserError(ErrorCode.ORGANIZATION_NOT_FOUND, "the organization no longer exists")
                ]
            )
        project_id = request.project_id or DEFAULT_PROJECT_ID
        project = await self.storage.get_project(organization_id, project_id)
        if project is None:
            return SyncOutcome(
                user_errors=[
                    UserError(
                        ErrorCode.PROJECT_NOT_FOUND,
                        f"no project {project_id!r} in this organization",
                        ("input", "projectId"),
                    )
                ]
            )
        required = project.kind.required_license
        try:
            user = await self.storage.record_sync(
                organization_id, request.user_id, request.email, request.full_name, required, now
            )
        except EmailTaken:
            return SyncOutcome(
                user_errors=[
                    UserError(
                        ErrorCode.EMAIL_TAKEN,
                        "this email belongs to another user of the organization",
                        ("input", "email"),
                    )
                ]
            )
        return await self._decide(organization, required, user, now)

    def _sync_input_problems(self, request: SyncRequest) -> list[UserError]:
        problems = []
        for field_name, problem in (
            ("userId", decisions.user_id_problem(request.user_id)),
            ("email", decisions.email_problem(request.email)),
            ("fullName", decisions.name_problem(request.full_name, required=False)),
            (
                "projectId",
                decisions.label_problem(request.project_id, "project id", 64)
                if request.project_id is not None
                else None,
            ),
        ):
            if problem:
                problems.append(UserError(ErrorCode.INVALID_INPUT, problem, ("input", field_name)))
        return problems

    async def _decide(
        self, organization: Organization, required: LicenseType, user: MobileUser, now: datetime
    ) -> SyncOutcome:
        """SPEC 4, steps 2–7, for a recorded user."""
        settings = organization.settings
        # 4.2 Trial: everything passes, no seat taken, no temporary window started.
        if decisions.in_trial(organization, now):
            return SyncOutcome(
                user=user,
                license=GrantedLicense(required, trial=True, expires_at=organization.trial_ends_at),
            )
        subscriptions = await self.storage.list_subscriptions(organization.id)
        # 4.3 EXTERNAL project: covered by the organization's subscription, no seat.
        if required is LicenseType.EXTERNAL:
            if decisions.type_active(subscriptions, LicenseType.EXTERNAL, now):
                return SyncOutcome(user=user, license=GrantedLicense(LicenseType.EXTERNAL))
            if decisions.type_expired(subscriptions, LicenseType.EXTERNAL, now):
                return self._refuse(
                    user,
                    LicenseErrorCode.LICENSE_EXPIRED,
                    LicenseErrorReason.SUBSCRIPTION_EXPIRED,
                    required,
                )
            return self._refuse(
                user,
                LicenseErrorCode.LICENSE_NOT_FOUND,
                LicenseErrorReason.NO_SUBSCRIPTION,
                required,
            )

        limits = decisions.seat_limits(subscriptions, now)
        for _ in range(MAX_ATTEMPTS):
            outcome = await self._decide_seat(organization, settings, limits, required, user, now)
            if outcome is not None:
                return outcome
            # A concurrent write changed the user or the seat we meant to free: read again.
            fresh = await self.storage.get_user(organization.id, user.key)
            if fresh is None:  # deleted meanwhile: nothing is held, nothing to grant
                return self._refuse(
                    user,
                    LicenseErrorCode.LICENSE_NOT_FOUND,
                    LicenseErrorReason.NO_SEAT_AVAILABLE,
                    required,
                )
            user = fresh
        return self._refuse(
            user, LicenseErrorCode.LICENSE_NOT_FOUND, LicenseErrorReason.NO_SEAT_AVAILABLE, required
        )

    async def _decide_seat(
        self,
        organization: Organization,
        settings: Settings,
        limits: dict[LicenseType, int],
        required: LicenseType,
        user: MobileUser,
        now: datetime,
    ) -> SyncOutcome | None:
        """SPEC 4, steps 4–7. None when a concurrent write got in the way (decide again)."""
        held = user.active_license
        # 4.4 Covered: a held covering seat wins, unless it is over capacity (SPEC 5).
        if decisions.covers(held, required):
            if await self._over_capacity(organization.id, user, held, limits[held]):
                reason = (
                    LicenseErrorReason.SUBSCRIPTION_EXPIRED
                    if limits[held] == 0
                    else LicenseErrorReason.OVER_CAPACITY
                )
                return self._refuse(user, LicenseErrorCode.LICENSE_EXPIRED, reason, held)
            return SyncOutcome(user=user, license=GrantedLicense(held))
        # 4.5 Blocked.
        if user.selector(required) is LicenseState.DISABLED:
            return self._refuse(
                user, LicenseErrorCode.LICENSE_NOT_FOUND, LicenseErrorReason.DISABLED, required
            )
        # 4.6 Automatic assignment.
        if settings.auto_assign_licenses:
            return await self._auto_assign(organization, settings, limits, required, user, now)
        # 4.7 The temporary license, one window per user record.
        if user.grace_started_at is None:
            user = await self.storage.start_grace_period(organization.id, user.key, now) or user
            if user.grace_started_at is None:
                user = replace(user, grace_started_at=now)
        ends = decisions.grace_ends_at(user, settings)
        if now < ends:
            return SyncOutcome(
                user=user, license=GrantedLicense(required, temporary=True, expires_at=ends)
            )
        return self._refuse(
            user, LicenseErrorCode.LICENSE_EXPIRED, LicenseErrorReason.GRACE_PERIOD_ENDED, required
        )

    async def _over_capacity(
        self, organization_id: str, user: MobileUser, held: LicenseType, limit: int
    ) -> bool:
        """SPEC 5: holders ranked by assignedAt (ties by id); those past `limit` are over capacity."""
        holders = await self.storage.count_holders(organization_id, held)
        if holders <= limit:
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
    ) -> SyncOutcome | None:
        """SPEC 4.6: assign a free seat of the required type, else free up an inactive one."""
        operation_id = new_id()
        after = decisions.with_selector(user, required, LicenseState.ASSIGNED)
        audit = _audit(
            organization.id, now, user, after, SYSTEM_ACTOR, AuditReason.AUTO_ASSIGN, operation_id
        )
        change = _change(user, after, now)
        result = await self.storage.apply_changes(
            ChangeSet(organization.id, changes=[change], seat_limits=limits, audit=audit)
        )
        if isinstance(result, Applied):
            return self._granted_seat(user, after, change, required)
        if isinstance(result, Conflict):
            return None
        # 4.6.2 No seat free: free up the one inactive longest, if that makes one free.
        if (
            isinstance(result, SeatShortage)
            and settings.auto_free_up_licenses
            and result.holders <= limits[required]
        ):
            victim = await self.storage.find_longest_inactive_holder(
                organization.id, required, decisions.inactivity_cutoff(settings, now)
            )
            if victim is not None and victim.key != user.key:
                victim_after = decisions.with_selector(victim, required, LicenseState.UNASSIGNED)
                audit = (
                    _audit(
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
                freed = await self.storage.apply_changes(
                    ChangeSet(
                        organization.id,
                        changes=[_change(victim, victim_after, now), change],
                        seat_limits=limits,
                        audit=audit,
                    )
                )
                if isinstance(freed, Applied):
                    outcome = self._granted_seat(user, after, change, required)
                    outcome.freed_user_id = victim.id
                    return outcome
                if isinstance(freed, Conflict):
                    return None
        return self._refuse(
            user, LicenseErrorCode.LICENSE_NOT_FOUND, LicenseErrorReason.NO_SEAT_AVAILABLE, required
        )

    @staticmethod
    def _granted_seat(
        user: MobileUser,
        after: tuple[LicenseState, LicenseState],
        change: SelectorChange,
        required: LicenseType,
    ) -> SyncOutcome:
        assigned = replace(
            user, standard=after[0], inspections=after[1], assigned_at=change.assigned_at
        )
        return SyncOutcome(user=assigned, license=GrantedLicense(required))

    @staticmethod
    def _refuse(
        user: MobileUser,
        code: LicenseErrorCode,
        reason: LicenseErrorReason,
        license_type: LicenseType,
    ) -> SyncOutcome:
        return SyncOutcome(user=user, error=LicenseError(code, reason, license_type))

    @staticmethod
    def _sync_log_entry(
        organization_id: str, request: SyncRequest, outcome: SyncOutcome, now: datetime
    ) -> SyncLogEntry:
        """SPEC 4.8: every attempt, success or not, with what was decided."""
        error_code = reason = None
        if outcome.error is not None:
            error_code, reason = outcome.error.code.value, outcome.error.reason.value
        elif outcome.user_errors:
            error_code, reason = outcome.user_errors[0].code, outcome.user_errors[0].message
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

    # ================================================================ SPEC 3: administration

    async def _require_organization(self, organization_id: str) -> Organization:
        organization = await self.storage.get_organization(organization_id)
        if organization is None:
            raise BadRequest(f"no organization {organization_id!r}")
        return organization

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
        organization = await self._require_organization(organization_id)
        now = self.clock()
        if decisions.in_trial(organization, now):
            return Result(user_errors=[_trial_error()])
        problems = _bulk_problems(user_ids, ("input", "userIds"))
        if license_type is LicenseType.EXTERNAL:
            problems.append(
                UserError(
                    ErrorCode.INVALID_INPUT,
                    "EXTERNAL licenses are per organization; users have no EXTERNAL selector",
                    ("input", "licenseType"),
                )
            )
        if problems:
            return Result(user_errors=problems)
        keys = list(dict.fromkeys(user_key(i) for i in user_ids))
        operation_id = new_id()
        for _ in range(MAX_ATTEMPTS):
            users = await self.storage.get_users(organization_id, keys)
            missing = _missing_users(user_ids, users, ("input", "userIds"))
            if missing:
                return Result(user_errors=missing)
            changes, audit, gaining = [], [], 0
            for key in keys:
                user = users[key]
                after = decisions.with_selector(user, license_type, state)
                if after == user.selectors:
                    continue
                if state is LicenseState.ASSIGNED:
                    gaining += 1
                changes.append(_change(user, after, now))
                audit += _audit(
                    organization_id, now, user, after, actor, AuditReason.MANUAL, operation_id
                )
            if not changes:
                return Result([users[k] for k in keys])
            subscriptions = await self.storage.list_subscriptions(organization_id)
            limits = decisions.seat_limits(subscriptions, now)
            result = await self.storage.apply_changes(
                ChangeSet(organization_id, changes=changes, seat_limits=limits, audit=audit)
            )
            if isinstance(result, Applied):
                updated = await self.storage.get_users(organization_id, keys)
                return Result([updated[k] for k in keys if k in updated])
            if isinstance(result, SeatShortage):
                return Result(
                    user_errors=[_shortage_error(result, gaining, limits, ("input", "userIds"))]
                )
        return Result(user_errors=[_conflict_error()])

    async def create_users(
        self, organization_id: str, actor: str, new_users: list[NewUser]
    ) -> Result[list[MobileUser]]:
        """SPEC 3, pre-provisioning: create users with chosen selector states, all or none.

        Assigning seats needs free seats (NOT_ENOUGH_SEATS) and is refused during a trial
        (TRIAL_ACTIVE); ids and e-mails must be new (USER_EXISTS, EMAIL_TAKEN).
        """
        organization = await self._require_organization(organization_id)
        now = self.clock()
        assigns = any(LicenseState.ASSIGNED in (u.standard, u.inspections) for u in new_users)
        if assigns and decisions.in_trial(organization, now):
            return Result(user_errors=[_trial_error()])
        problems = _new_user_problems(new_users)
        if problems:
            return Result(user_errors=problems)
        operation_id = new_id()
        records, audit = [], []
        for new_user in new_users:
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
            audit += _audit(
                organization_id, now, blank, selectors, actor, AuditReason.MANUAL, operation_id
            )
        subscriptions = await self.storage.list_subscriptions(organization_id)
        limits = decisions.seat_limits(subscriptions, now)
        result = await self.storage.apply_changes(
            ChangeSet(organization_id, creates=records, seat_limits=limits, audit=audit)
        )
        if isinstance(result, AlreadyExists):
            return Result(user_errors=_exists_errors(result, new_users))
        if isinstance(result, SeatShortage):
            gaining = sum(1 for r in records if r.active_license is result.license_type)
            return Result(user_errors=[_shortage_error(result, gaining, limits, ("users",))])
        return Result(records)

    async def delete_users(
        self, organization_id: str, actor: str, user_ids: list[str]
    ) -> Result[list[str]]:
        """SPEC 3, delete users: remove them and release their seats, all or none.

        A later sync with the same id creates a fresh user with a fresh temporary window.
        """
        await self._require_organization(organization_id)
        problems = _bulk_problems(user_ids, ("userIds",))
        if problems:
            return Result(user_errors=problems)
        keys = list(dict.fromkeys(user_key(i) for i in user_ids))
        now = self.clock()
        operation_id = new_id()
        for _ in range(MAX_ATTEMPTS):
            users = await self.storage.get_users(organization_id, keys)
            missing = _missing_users(user_ids, users, ("userIds",))
            if missing:
                return Result(user_errors=missing)
            cleared = (LicenseState.UNASSIGNED, LicenseState.UNASSIGNED)
            audit = []
            for key in keys:
                audit += _audit(
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
                )
            )
            if isinstance(result, Applied):
                return Result([users[k].id for k in keys])
        return Result(user_errors=[_conflict_error()])

    async def update_settings(
        self,
        organization_id: str,
        auto_assign_licenses: bool | None = None,
        auto_free_up_licenses: bool | None = None,
        inactivity_days: int | None = None,
        grace_period_days: int | None = None,
    ) -> Result[Settings]:
        """SPEC 3, Settings: change the given fields; out-of-range day counts change nothing."""
        organization = await self._require_organization(organization_id)
        problems = []
        for name, camel, value in (
            ("inactivity_days", "inactivityDays", inactivity_days),
            ("grace_period_days", "gracePeriodDays", grace_period_days),
        ):
            low, high = decisions.SETTING_RANGES[name]
            if value is not None and not low <= value <= high:
                problems.append(
                    UserError(
                        ErrorCode.INVALID_INPUT,
                        f"{camel} must be between {low} and {high}, got {value}",
                        ("input", camel),
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
        await self.storage.update_settings(organization_id, settings)
        return Result(settings)

    async def upsert_project(
        self, organization_id: str, project_id: str, name: str, kind: ProjectKind
    ) -> Result[Project]:
        """Create a project or change its name and kind (the default project's kind included)."""
        await self._require_organization(organization_id)
        problems = [
            UserError(ErrorCode.INVALID_INPUT, problem, ("input", field_name))
            for field_name, problem in (
                ("id", decisions.label_problem(project_id, "project id", 64)),
                ("name", decisions.label_problem(name, "project name")),
            )
            if problem
        ]
        if problems:
            return Result(user_errors=problems)
        project = Project(organization_id, project_id, name.strip(), kind)
        await self.storage.upsert_project(project)
        return Result(project)

    async def get_organization(self, organization_id: str) -> Organization | None:
        return await self.storage.get_organization(organization_id)

    async def list_projects(self, organization_id: str) -> list[Project]:
        return await self.storage.list_projects(organization_id)

    # ================================================================ SPEC 6: subscriptions view

    async def subscriptions_view(self, organization_id: str) -> list[SubscriptionSummary]:
        """SPEC 6: one row per license type, with the overage of SPEC 5 and the pending count."""
        organization = await self._require_organization(organization_id)
        now = self.clock()
        subscriptions = await self.storage.list_subscriptions(organization_id)
        grace = timedelta(days=organization.settings.grace_period_days)
        rows = []
        for license_type in LicenseType:
            mine = [s for s in subscriptions if s.license_type is license_type]
            items = [
                SubscriptionRow(s.id, s.seats, s.valid_from, s.valid_until, s.status_at(now))
                for s in mine
            ]
            active = decisions.type_active(subscriptions, license_type, now)
            if license_type is LicenseType.EXTERNAL:
                rows.append(
                    SubscriptionSummary(license_type, active, None, None, None, None, 0, items)
                )
                continue
            seats = decisions.capacity(subscriptions, license_type, now)
            assigned = await self.storage.count_holders(organization_id, license_type)
            pending = await self.storage.count_users(
                organization_id, UserQuery(pending_for=license_type, grace_since=now - grace)
            )
            rows.append(
                SubscriptionSummary(
                    license_type,
                    active,
                    seats,
                    assigned,
                    max(0, seats - assigned),
                    max(0, assigned - seats),
                    pending,
                    items,
                )
            )
        return rows

    # ================================================================ SPEC 6a: listing users

    async def get_user(self, organization_id: str, user_id: str) -> UserView | None:
        organization = await self._require_organization(organization_id)
        if decisions.user_id_problem(user_id):
            return None
        user = await self.storage.get_user(organization_id, user_key(user_id))
        return self._view(user, organization.settings, self.clock()) if user else None

    def user_query(
        self, settings: Settings, now: datetime, search: str | None, user_filter: UserFilter | None
    ) -> UserQuery:
        """SPEC 6a: the storage query for a search and a filter."""
        if search is not None and len(search) > 256:
            raise BadRequest("`search` is longer than 256 characters", ("search",))
        user_filter = user_filter or UserFilter()
        selector = any_state = active_before = active_since = None
        if user_filter.license_type is LicenseType.EXTERNAL:
            return UserQuery(matches_nobody=True)
        if user_filter.license_type is not None:
            selector = (user_filter.license_type, user_filter.state or LicenseState.ASSIGNED)
        elif user_filter.state is not None:
            any_state = user_filter.state
        if user_filter.inactive is not None:
            cutoff = decisions.inactivity_cutoff(settings, now)
            if user_filter.inactive:
                active_before = cutoff
            else:
                active_since = cutoff
        return UserQuery(
            search=search or None,
            selector=selector,
            any_state=any_state,
            active_before=active_before,
            active_since=active_since,
        )

    async def list_users(
        self,
        organization_id: str,
        search: str | None = None,
        user_filter: UserFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        with_total: bool = True,
    ) -> Page[UserView]:
        """SPEC 6a: users in name order, filtered, one keyset page at a time."""
        first = check_page_size(first)
        position = tuple(decode_cursor(after, 2)) if after else None
        organization = await self._require_organization(organization_id)
        now = self.clock()
        query = self.user_query(organization.settings, now, search, user_filter)
        users = await self.storage.list_users(organization_id, query, first + 1, position)
        total = await self.storage.count_users(organization_id, query) if with_total else None
        page = users[:first]
        return Page(
            items=[self._view(u, organization.settings, now) for u in page],
            cursors=[encode_cursor(u.full_name.casefold(), u.id) for u in page],
            has_next_page=len(users) > first,
            total_count=total,
        )

    async def all_users(
        self, organization_id: str, search: str | None, user_filter: UserFilter | None
    ):
        """Every user matching the search and filter, in list order, fetched a page at a time."""
        after = None
        while True:
            page = await self.list_users(
                organization_id, search, user_filter, MAX_PAGE_SIZE, after, with_total=False
            )
            for view in page.items:
                yield view
            if not page.has_next_page:
                return
            after = page.end_cursor

    @staticmethod
    def _view(user: MobileUser, settings: Settings, now: datetime) -> UserView:
        return UserView(
            user,
            decisions.grace_ends_at(user, settings),
            decisions.is_inactive(user, settings, now),
        )

    # ================================================================ SPEC 7: CSV files

    async def import_licenses(
        self,
        organization_id: str,
        actor: str,
        csv_text: str,
        mode: ImportMode = ImportMode.MERGE,
        dry_run: bool = False,
    ) -> ImportReport:
        """SPEC 7: import a licenses file whole or not at all (see `licenses_csv`).

        During a trial the only answer is TRIAL_ACTIVE, dry runs included (SPEC 3); any problem of
        severity ERROR means nothing changed and adds one CSV_INVALID user error.
        """
        organization = await self._require_organization(organization_id)
        now = self.clock()
        if decisions.in_trial(organization, now):
            return ImportReport(
                applied=False, summary=ImportSummary(), user_errors=[_trial_error()]
            )
        return await licenses_csv.import_licenses(
            self.storage, organization, actor, csv_text, mode, dry_run, now
        )

    async def iter_export_licenses(self, organization_id: str):
        """SPEC 7, the licenses file, one CSV line at a time: users holding a seat, in 6a's order."""
        await self._require_organization(organization_id)  # fail before the header line, not after
        holders = self.all_users(organization_id, None, UserFilter(state=LicenseState.ASSIGNED))
        async for line in licenses_lines(view.user async for view in holders):
            yield line

    async def iter_export_users(
        self, organization_id: str, search: str | None = None, user_filter: UserFilter | None = None
    ):
        """SPEC 7, the users file, one CSV line at a time: every user matching the search and filter."""
        # An unknown organization or a bad search fails (BadRequest) before the header line.
        organization = await self._require_organization(organization_id)
        self.user_query(organization.settings, self.clock(), search, user_filter)
        users = self.all_users(organization_id, search, user_filter)
        async for line in users_lines(view.user async for view in users):
            yield line

    async def export_licenses(self, organization_id: str) -> str:
        """SPEC 7, the licenses file as one string (the GraphQL field); see `iter_export_licenses`."""
        return "".join([line async for line in self.iter_export_licenses(organization_id)])

    async def export_users(
        self, organization_id: str, search: str | None = None, user_filter: UserFilter | None = None
    ) -> str:
        """SPEC 7, the users file as one string (the GraphQL field); see `iter_export_users`."""
        return "".join(
            [line async for line in self.iter_export_users(organization_id, search, user_filter)]
        )

    # ================================================================ SPEC 8: logs

    async def sync_log(
        self,
        organization_id: str,
        user_id: str | None = None,
        errors_only: bool = False,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Page[SyncLogEntry]:
        """SPEC 8: the sync log, newest first, by user, errors only, half-open time range."""
        return await self._log_page(
            self.storage.list_sync_log,
            organization_id,
            user_id,
            errors_only,
            since,
            until,
            first,
            after,
        )

    async def audit_log(
        self,
        organization_id: str,
        user_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Page[AuditEntry]:
        """SPEC 8: every selector change, newest first."""
        return await self._log_page(
            self.storage.list_audit_log, organization_id, user_id, False, since, until, first, after
        )

    async def _log_page(
        self, fetch, organization_id, user_id, errors_only, since, until, first, after
    ) -> Page:
        first = check_page_size(first)
        position = None
        if after:
            at_text, entry_id = decode_cursor(after, 2)
            try:
                position = (datetime.fromisoformat(at_text), entry_id)
            except ValueError:
                raise BadRequest(
                    "the cursor `after` is not one this server gave out", ("after",)
                ) from None
        query = LogQuery(
            user_key=user_key(user_id) if user_id else None,
            errors_only=errors_only,
            since=since,
            until=until,
        )
        entries = await fetch(organization_id, query, first + 1, position)
        page = entries[:first]
        return Page(
            items=page,
            cursors=[encode_cursor(e.at.isoformat(), e.id) for e in page],
            has_next_page=len(entries) > first,
        )

    async def purge_sync_log(self, retention_days: int = 90) -> int:
        """SPEC 8: drop sync-log entries older than the retention period."""
        return await self.storage.purge_sync_log(self.clock() - timedelta(days=retention_days))

    # ================================================================ SPEC 9: organizations, subscriptions, tokens

    async def create_organization(
        self, name: str, trial_days: int = 0
    ) -> Result[CreatedOrganization]:
        """Create an organization with its default project, and its first ADMIN and SYNC tokens."""
        problems = []
        if problem := decisions.label_problem(name, "organization name"):
            problems.append(UserError(ErrorCode.INVALID_INPUT, problem, ("input", "name")))
        if trial_days is None or not 0 <= trial_days <= MAX_TRIAL_DAYS:
            problems.append(
                UserError(
                    ErrorCode.INVALID_INPUT,
                    f"trialDays must be between 0 and {MAX_TRIAL_DAYS}",
                    ("input", "trialDays"),
                )
            )
        if problems:
            return Result(user_errors=problems)
        now = self.clock()
        organization = Organization(
            id=new_id(),
            name=name.strip(),
            created_at=now,
            trial_ends_at=now + timedelta(days=trial_days) if trial_days else None,
        )
        default_project = Project(
            organization.id, DEFAULT_PROJECT_ID, "Default", ProjectKind.STANDARD
        )
        await self.storage.create_organization(organization, default_project)
        admin = await self._new_token(organization.id, Role.ADMIN, "admin")
        sync = await self._new_token(organization.id, Role.SYNC, "sync")
        return Result(CreatedOrganization(organization, admin.secret, sync.secret))

    async def list_organizations(self) -> list[Organization]:
        return await self.storage.list_organizations()

    async def add_subscription(
        self,
        organization_id: str,
        license_type: LicenseType,
        seats: int | None,
        valid_until: datetime,
        valid_from: datetime | None = None,
    ) -> Result[Subscription]:
        """SPEC 3, Subscriptions: seat types need 1 <= seats; EXTERNAL ignores seats; from < until."""
        if await self.storage.get_organization(organization_id) is None:
            return Result(
                user_errors=[
                    UserError(
                        ErrorCode.ORGANIZATION_NOT_FOUND,
                        f"no organization {organization_id!r}",
                        ("input", "organizationId"),
                    )
                ]
            )
        valid_from = valid_from or self.clock()
        problems = []
        if license_type is LicenseType.EXTERNAL:
            seats = None
        elif seats is None or not 1 <= seats <= MAX_SEATS:
            problems.append(
                UserError(
                    ErrorCode.INVALID_INPUT,
                    f"seats must be between 1 and {MAX_SEATS} for {license_type.value}",
                    ("input", "seats"),
                )
            )
        if not valid_until > valid_from:
            problems.append(
                UserError(
                    ErrorCode.INVALID_INPUT,
                    "validUntil must be after validFrom",
                    ("input", "validUntil"),
                )
            )
        if problems:
            return Result(user_errors=problems)
        subscription = Subscription(
            organization_id, new_id(), license_type, seats, valid_from, valid_until
        )
        await self.storage.add_subscription(subscription)
        return Result(subscription)

    async def _new_token(self, organization_id: str, role: Role, name: str) -> CreatedToken:
        secret = new_secret()
        token = Token(new_id(), organization_id, name, role, hash_secret(secret), self.clock())
        await self.storage.add_token(token)
        return CreatedToken(token, secret)

    async def create_token(
        self, organization_id: str, role: Role, name: str
    ) -> Result[CreatedToken]:
        """SPEC 9: a token of role ADMIN, SYNC or READER; its secret is returned this once."""
        problems = []
        if role not in TOKEN_ROLES:
            problems.append(
                UserError(
                    ErrorCode.INVALID_INPUT,
                    "tokens are created with role ADMIN, SYNC or READER",
                    ("input", "role"),
                )
            )
        if problem := decisions.label_problem(name, "token name", 100):
            problems.append(UserError(ErrorCode.INVALID_INPUT, problem, ("input", "name")))
        if await self.storage.get_organization(organization_id) is None:
            problems.append(
                UserError(
                    ErrorCode.ORGANIZATION_NOT_FOUND,
                    f"no organization {organization_id!r}",
                    ("input", "organizationId"),
                )
            )
        if problems:
            return Result(user_errors=problems)
        return Result(await self._new_token(organization_id, role, name.strip()))

    async def list_tokens(self, organization_id: str | None) -> list[Token]:
        return await self.storage.list_tokens(organization_id)

    async def revoke_token(self, token_id: str, organization_id: str | None) -> Result[Token]:
        """Revoke a token of `organization_id` (any, for the OPERATOR's None); TOKEN_NOT_FOUND else."""
        token = await self.storage.revoke_token(token_id, organization_id, self.clock())
        if token is None:
            return Result(
                user_errors=[
                    UserError(ErrorCode.TOKEN_NOT_FOUND, f"no token {token_id[:64]!r}", ("id",))
                ]
            )
        return Result(token)

    async def authenticate(self, secret: str) -> Caller | None:
        """The caller a token secret names, or None for an unknown or revoked one."""
        if not secret or len(secret) > 256:
            return None
        token = await self.storage.find_token(hash_secret(secret))
        if token is None or token.revoked_at is not None:
            return None
        return Caller(token.role, token.organization_id, token.name, token.id)


# ---------------------------------------------------------------- shared error builders


def _trial_error() -> UserError:
    return UserError(
        ErrorCode.TRIAL_ACTIVE, "license management is not available during the trial period"
    )


def _conflict_error() -> UserError:
    return UserError(
        ErrorCode.CONFLICT,
        "the users changed concurrently too often; nothing was changed, try again",
    )


def _bulk_problems(user_ids: list[str], field: tuple[str, ...]) -> list[UserError]:
    if not user_ids:
        return [UserError(ErrorCode.INVALID_INPUT, "the list of user ids is empty", field)]
    if len(user_ids) > MAX_BULK_USERS:
        return [
            UserError(ErrorCode.INVALID_INPUT, f"at most {MAX_BULK_USERS} users per request", field)
        ]
    return [
        UserError(ErrorCode.INVALID_INPUT, problem, (*field, str(index)))
        for index, user_id in enumerate(user_ids)
        if (problem := decisions.user_id_problem(user_id))
    ]


def _missing_users(
    user_ids: list[str], users: dict[str, MobileUser], field: tuple[str, ...]
) -> list[UserError]:
    return [
        UserError(ErrorCode.USER_NOT_FOUND, f"no user {user_id!r}", (*field, str(index)), user_id)
        for index, user_id in enumerate(user_ids)
        if user_key(user_id) not in users
    ]


def _shortage_error(
    shortage: SeatShortage, needed: int, limits: dict[LicenseType, int], field: tuple[str, ...]
) -> UserError:
    free = max(0, limits.get(shortage.license_type, 0) - shortage.holders)
    return UserError(
        ErrorCode.NOT_ENOUGH_SEATS,
        f"not enough {shortage.license_type.value} seats: {needed} needed, {free} free",
        field,
    )


def _new_user_problems(new_users: list[NewUser]) -> list[UserError]:
    if not new_users:
        return [UserError(ErrorCode.INVALID_INPUT, "the list of users is empty", ("users",))]
    if len(new_users) > MAX_BULK_USERS:
        return [
            UserError(
                ErrorCode.INVALID_INPUT, f"at most {MAX_BULK_USERS} users per request", ("users",)
            )
        ]
    problems = []
    seen_keys: set[str] = set()
    seen_emails: set[str] = set()
    for index, new_user in enumerate(new_users):
        where = ("users", str(index))
        for field_name, problem in (
            ("id", decisions.user_id_problem(new_user.id)),
            ("fullName", decisions.name_problem(new_user.full_name, required=True)),
            ("email", decisions.email_problem(new_user.email)),
        ):
            if problem:
                problems.append(
                    UserError(ErrorCode.INVALID_INPUT, problem, (*where, field_name), new_user.id)
                )
        if (
            new_user.standard is LicenseState.ASSIGNED
            and new_user.inspections is LicenseState.ASSIGNED
        ):
            problems.append(
                UserError(
                    ErrorCode.INVALID_INPUT,
                    "a user holds at most one license type",
                    (*where, "inspections"),
                    new_user.id,
                )
            )
        if isinstance(new_user.id, str):
            key = user_key(new_user.id)
            if key in seen_keys:
                problems.append(
                    UserError(
                        ErrorCode.USER_EXISTS,
                        "this id appears twice in the list",
                        (*where, "id"),
                        new_user.id,
                    )
                )
            seen_keys.add(key)
        if isinstance(new_user.email, str):
            email_key = new_user.email.casefold()
            if email_key in seen_emails:
                problems.append(
                    UserError(
                        ErrorCode.EMAIL_TAKEN,
                        "this email appears twice in the list",
                        (*where, "email"),
                        new_user.id,
                    )
                )
            seen_emails.add(email_key)
    return problems


def _exists_errors(result: AlreadyExists, new_users: list[NewUser]) -> list[UserError]:
    errors = []
    taken_keys, taken_emails = set(result.user_keys), set(result.emails)
    for index, new_user in enumerate(new_users):
        if user_key(new_user.id) in taken_keys:
            errors.append(
                UserError(
                    ErrorCode.USER_EXISTS,
                    f"a user {new_user.id!r} exists",
                    ("users", str(index), "id"),
                    new_user.id,
                )
            )
        if new_user.email.casefold() in taken_emails:
            errors.append(
                UserError(
                    ErrorCode.EMAIL_TAKEN,
                    "this email belongs to another user",
                    ("users", str(index), "email"),
                    new_user.id,
                )
            )
    return errors
