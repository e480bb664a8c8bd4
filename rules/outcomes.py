"""Typed results of the engine's operations: what resolvers map to the schema."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from seatkeeper.domain.records import (
    LicenseErrorCode,
    LicenseErrorReason,
    LicenseType,
    MobileUser,
    SubscriptionStatus,
)
from seatkeeper.rules.fields import FieldPath

T = TypeVar("T")

#: Where a keyset listing stands: the sort key of the last item seen, as strings.
Position = tuple[str, ...]

#: The exact messages of SPEC 4's table.
LICENSE_ERROR_MESSAGES = {
    LicenseErrorCode.LICENSE_NOT_FOUND: "LICENSE: NOT FOUND",
    LicenseErrorCode.LICENSE_EXPIRED: "LICENSE: EXPIRED",
}


class ErrorCode(enum.StrEnum):
    """The `userErrors` codes of the contract (and USER_EXISTS, which it leaves open).

    An enum inside Python; the schema keeps `code: String!` (the contract's type), which a StrEnum
    serializes as its value."""

    NOT_ENOUGH_SEATS = "NOT_ENOUGH_SEATS"
    USER_NOT_FOUND = "USER_NOT_FOUND"
    USER_EXISTS = "USER_EXISTS"
    TRIAL_ACTIVE = "TRIAL_ACTIVE"
    INVALID_INPUT = "INVALID_INPUT"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    PROJECT_NOT_FOUND = "PROJECT_NOT_FOUND"
    ORGANIZATION_NOT_FOUND = "ORGANIZATION_NOT_FOUND"
    CSV_INVALID = "CSV_INVALID"
    TOKEN_NOT_FOUND = "TOKEN_NOT_FOUND"
    CONFLICT = "CONFLICT"


@dataclass(frozen=True)
class UserError:
    """A refusal of the operation's input; `field` names the offending input in neutral terms."""

    code: ErrorCode
    message: str
    field: FieldPath | None = None
    user_id: str | None = None


@dataclass(frozen=True)
class GrantedLicense:
    type: LicenseType
    temporary: bool = False
    trial: bool = False
    expires_at: datetime | None = None


@dataclass(frozen=True)
class LicenseError:
    code: LicenseErrorCode
    reason: LicenseErrorReason
    license_type: LicenseType

    @property
    def message(self) -> str:
        return LICENSE_ERROR_MESSAGES[self.code]


@dataclass
class SyncOutcome:
    """The answer to a sync: a license, a license error, or user errors (SPEC 4)."""

    user: MobileUser | None = None
    license: GrantedLicense | None = None
    error: LicenseError | None = None
    user_errors: list[UserError] = field(default_factory=list)
    freed_user_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.license is not None


@dataclass
class Result(Generic[T]):
    """An admin operation's result: the value on success, else user errors (and no change)."""

    value: T | None = None
    user_errors: list[UserError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.user_errors


@dataclass(frozen=True)
class Page(Generic[T]):
    """One keyset page: the items, each item's opaque position, and whether more follow.

    A position is a tuple of strings that the same listing takes back as `after`; the API layer
    encodes it as a cursor (`seatkeeper.resolvers.cursors`). The rules never see a cursor."""

    items: list[T]
    positions: list[Position]
    has_next_page: bool
    total_count: int | None = None

    @property
    def end_position(self) -> Position | None:
        return self.positions[-1] if self.positions else None


@dataclass(frozen=True)
class UserView:
    """A user with what the admin list derives from settings and time (SPEC 6a)."""

    user: MobileUser
    grace_ends_at: datetime | None
    inactive: bool


@dataclass(frozen=True)
class SubscriptionRow:
    subscription_id: str
    seats: int | None
    valid_from: datetime
    valid_until: datetime
    status: SubscriptionStatus


@dataclass(frozen=True)
class SubscriptionSummary:
    """One row of the subscriptions view (SPEC 6)."""

    license_type: LicenseType
    active: bool
    seats: int | None
    assigned: int | None
    available: int | None
    over_allocated: int | None
    pending: int
    items: list[SubscriptionRow]


class BadRequest(Exception):
    """A query argument outside its allowed range (a page size, a cursor): the query fails.

    `code` is one of ours when the refusal has one (ORGANIZATION_NOT_FOUND); without, the API
    answers its own code for bad input (`seatkeeper.resolvers.common.bad_request`)."""

    def __init__(
        self, message: str, field: FieldPath | None = None, code: ErrorCode | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
