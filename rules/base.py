"""What every section of the engine shares: the storage, the injected clock, audit and errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from seatkeeper.domain.records import (
    SEAT_TYPES,
    AdminAction,
    AdminLogEntry,
    AuditEntry,
    AuditReason,
    LicenseState,
    MobileUser,
    Organization,
)
from seatkeeper.rules import decisions
from seatkeeper.rules.outcomes import BadRequest, ErrorCode, UserError
from seatkeeper.rules.token_use import TokenUse
from seatkeeper.storage.protocol import SelectorChange, Storage

Clock = Callable[[], datetime]
Selectors = tuple[LicenseState, LicenseState]


def wall_clock() -> datetime:
    return datetime.now(UTC)


class EngineBase:
    """The state every section of the engine works with: a storage and a clock."""

    def __init__(self, storage: Storage, clock: Clock | None = None) -> None:
        self.storage = storage
        self.clock: Clock = clock or wall_clock
        self._token_use = TokenUse()  # when tokens were last used, recorded coarsely

    def now(self) -> datetime:
        return self.clock()

    def _admin_entry(
        self, organization_id: str, action: AdminAction, actor: str, target_id: str, details: str
    ) -> AdminLogEntry:
        """SPEC 8: the administration-log entry of a change, stamped now; the storage writes it
        with the change (`log=`), so that no change lands unrecorded."""
        return AdminLogEntry(organization_id, self.clock(), action, actor, target_id, details)

    async def _require_organization(self, organization_id: str) -> Organization:
        organization = await self.storage.get_organization(organization_id)
        if organization is None:
            raise BadRequest(
                f"no organization {organization_id!r}", code=ErrorCode.ORGANIZATION_NOT_FOUND
            )
        return organization


def audit_entries(
    organization_id: str,
    now: datetime,
    user: MobileUser,
    after: Selectors,
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


def selector_change(user: MobileUser, after: Selectors, now: datetime) -> SelectorChange:
    """The atomic write of `after`, expecting the selectors it was decided on."""
    return SelectorChange(
        user_key=user.key,
        expected=user.selectors,
        standard=after[0],
        inspections=after[1],
        assigned_at=decisions.assigned_at_after(user, after, now),
    )


def trial_error() -> UserError:
    return UserError(
        ErrorCode.TRIAL_ACTIVE, "license management is not available during the trial period"
    )


def conflict_error() -> UserError:
    return UserError(
        ErrorCode.CONFLICT,
        "the users changed concurrently too often; nothing was changed, try again",
    )
