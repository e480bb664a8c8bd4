"""The pure decisions of SPEC.md: given records and a time, what is true. No I/O, no clock."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TypeGuard

from seatkeeper.domain.records import (
    SEAT_TYPES,
    LicenseState,
    LicenseType,
    MobileUser,
    Organization,
    Settings,
    Subscription,
    seat_held,
)

MAX_USER_ID_LENGTH = 128
MAX_NAME_LENGTH = 256
MAX_EMAIL_LENGTH = 254
# One '@', no spaces or control characters, a dot in the domain: what every mail system accepts.
# Lone surrogates (\ud800-\udfff) count as control characters: they are not valid Unicode, and no
# backend can store them as UTF-8.
_EMAIL = re.compile(
    r"^[^@\s\x00-\x1f\x7f\ud800-\udfff]+@[^@\s\x00-\x1f\x7f\ud800-\udfff]+\.[^@\s\x00-\x1f\x7f\ud800-\udfff.]+$"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_ID_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # SPEC 1: C1 controls too

SETTING_RANGES = {"inactivity_days": (1, 3650), "grace_period_days": (0, 365)}  # SPEC 3, Settings


def in_trial(organization: Organization, now: datetime) -> bool:
    """SPEC 3, Trial: the organization is in trial while `now < trialEndsAt`."""
    return organization.trial_ends_at is not None and now < organization.trial_ends_at


def capacity(subscriptions: list[Subscription], license_type: LicenseType, now: datetime) -> int:
    """SPEC 1: the sum of seats of the subscriptions of the type valid now (they stack)."""
    return sum(
        s.seats or 0 for s in subscriptions if s.license_type is license_type and s.is_valid_at(now)
    )


def seat_limits(subscriptions: list[Subscription], now: datetime) -> dict[LicenseType, int]:
    """Capacity now of every seat type: the limits a change set is checked against.

    `capacity` of each type in SEAT_TYPES, in one pass over the subscriptions (every sync
    outside trial asks: issue 12, B1).
    """
    limits = dict.fromkeys(SEAT_TYPES, 0)
    for s in subscriptions:
        if s.license_type in limits and s.is_valid_at(now):
            limits[s.license_type] += s.seats or 0
    return limits


def type_active(
    subscriptions: list[Subscription], license_type: LicenseType, now: datetime
) -> bool:
    return any(s.license_type is license_type and s.is_valid_at(now) for s in subscriptions)


def type_expired(
    subscriptions: list[Subscription], license_type: LicenseType, now: datetime
) -> bool:
    """A subscription of the type existed and has ended (SPEC 4.3)."""
    return any(s.license_type is license_type and s.valid_until <= now for s in subscriptions)


def covers(held: LicenseType | None, required: LicenseType) -> TypeGuard[LicenseType]:
    """SPEC 4.4: the same type, or INSPECTIONS for a STANDARD project (so a seat is held)."""
    if held is None:
        return False
    return held is required or (
        held is LicenseType.INSPECTIONS and required is LicenseType.STANDARD
    )


def with_selector(
    user: MobileUser, license_type: LicenseType, state: LicenseState
) -> tuple[LicenseState, LicenseState]:
    """Both selectors after setting one; assigning one type releases the other (invariant 2)."""
    standard, inspections = user.standard, user.inspections
    if license_type is LicenseType.STANDARD:
        standard = state
        if state is LicenseState.ASSIGNED and inspections is LicenseState.ASSIGNED:
            inspections = LicenseState.UNASSIGNED
    else:
        inspections = state
        if state is LicenseState.ASSIGNED and standard is LicenseState.ASSIGNED:
            standard = LicenseState.UNASSIGNED
    return standard, inspections


def held_by(selectors: tuple[LicenseState, LicenseState]) -> LicenseType | None:
    """The seat type held with these (standard, inspections) selectors: see `seat_held`."""
    return seat_held(*selectors)


def assigned_at_after(
    user: MobileUser, selectors: tuple[LicenseState, LicenseState], now: datetime
) -> datetime | None:
    """When the seat held after a change was assigned: kept if it is the same seat, else now."""
    after = held_by(selectors)
    if after is None:
        return None
    if after is user.active_license:
        return user.assigned_at
    return now


def grace_ends_at(user: MobileUser, settings: Settings) -> datetime | None:
    """SPEC 4.7: the end of the user's temporary window, once it has started."""
    if user.grace_started_at is None:
        return None
    return grace_window_end(user.grace_started_at, settings)


def grace_window_end(started_at: datetime, settings: Settings) -> datetime:
    """SPEC 4.7: a temporary window started at `started_at` ends `gracePeriodDays` later."""
    return started_at + timedelta(days=settings.grace_period_days)


def inactivity_cutoff(settings: Settings, now: datetime) -> datetime:
    """Activity at or before this instant is at least `inactivityDays` old (SPEC 4.6.2, 6a)."""
    return now - timedelta(days=settings.inactivity_days)


def is_inactive(user: MobileUser, settings: Settings, now: datetime) -> bool:
    return user.last_activity() <= inactivity_cutoff(settings, now)


def user_id_problem(user_id: str) -> str | None:
    """Why a user id is unacceptable, or None (SPEC 1: 1–128 characters, no control characters —
    C0, DEL and C1 — nor lone surrogates, not only whitespace)."""
    if not isinstance(user_id, str) or not user_id.strip():
        return "the user id is empty"
    if len(user_id) > MAX_USER_ID_LENGTH:
        return f"the user id is longer than {MAX_USER_ID_LENGTH} characters"
    if _ID_CONTROL.search(user_id):
        return "the user id contains control characters"
    return None


def email_problem(email: str) -> str | None:
    """Why an e-mail address is malformed, or None."""
    if not isinstance(email, str) or not email:
        return "the email is empty"
    if len(email) > MAX_EMAIL_LENGTH:
        return f"the email is longer than {MAX_EMAIL_LENGTH} characters"
    # fullmatch, not match: `$` also matches before a trailing "\n", which would let one through.
    if not _EMAIL.fullmatch(email):
        return f"{email[:80]!r} is not an email address"
    return None


def name_problem(name: str | None, *, required: bool) -> str | None:
    if name is None or not name.strip():
        return "the full name is empty" if required else None
    if len(name) > MAX_NAME_LENGTH:
        return f"the full name is longer than {MAX_NAME_LENGTH} characters"
    if _CONTROL.search(name):
        return "the full name contains control characters"
    return None


#: SPEC 9: names the audit log gives to the OPERATOR and to the engine's own changes.
RESERVED_TOKEN_NAMES = frozenset({"system", "operator"})


def token_name_problem(name: str) -> str | None:
    """SPEC 9: token names are 1-100 printable characters; `system` and `operator` (any case)
    are reserved, so that no token passes for the engine or the OPERATOR in a log."""
    if problem := label_problem(name, "token name", 100):
        return problem
    if not name.isprintable():
        return "the token name contains characters that are not printable"
    if name.strip().casefold() in RESERVED_TOKEN_NAMES:
        return f"the token name {name.strip()!r} is reserved"
    return None


def label_problem(value: str, what: str, max_length: int = 200) -> str | None:
    """Why a name or id given by an admin or operator (project, organization, token) is unacceptable."""
    if not isinstance(value, str) or not value.strip():
        return f"the {what} is empty"
    if len(value) > max_length:
        return f"the {what} is longer than {max_length} characters"
    if _CONTROL.search(value):
        return f"the {what} contains control characters"
    return None
