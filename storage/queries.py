"""The filters a backend selects users and log entries by, and the order users are listed in.

`UserQuery.matches` is the reference meaning of a user filter; a backend may translate it to its
own query language but must select exactly the same users (SPEC 6, 6a).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from seatkeeper.domain.records import LicenseState, LicenseType, MobileUser


@dataclass(frozen=True)
class UserQuery:
    """A filter over one organization's users (SPEC 6a and the pending count of SPEC 6).

    Every field left at None does not filter. `matches` is the reference meaning; a backend may
    translate the query to its own language but must select exactly the same users.
    """

    search: str | None = None  # case-insensitive substring of id, full name or e-mail
    selector: tuple[LicenseType, LicenseState] | None = None  # that selector in that state
    any_state: LicenseState | None = None  # either selector in that state
    active_before: datetime | None = None  # last activity <= this (inactive users)
    active_since: datetime | None = None  # last activity > this (active users)
    pending_for: LicenseType | None = (
        None  # latest sync required this type, no covering seat, not disabled
    )
    grace_since: datetime | None = None  # grace window started after this (with pending_for)
    matches_nobody: bool = False

    def matches(self, user: MobileUser) -> bool:
        if self.matches_nobody:
            return False
        if self.search:
            needle = fold(self.search)
            if not (
                needle in fold(user.id)
                or needle in fold(user.full_name)
                or needle in fold(user.email)
            ):
                return False
        if self.selector is not None:
            license_type, state = self.selector
            if user.selector(license_type) is not state:
                return False
        if self.any_state is not None and self.any_state not in user.selectors:
            return False
        activity = user.last_activity()
        if self.active_before is not None and not activity <= self.active_before:
            return False
        if self.active_since is not None and not activity > self.active_since:
            return False
        if self.pending_for is not None:
            if user.last_required is not self.pending_for:
                return False
            if user.selector(self.pending_for) is LicenseState.DISABLED:
                return False
            held = user.active_license
            if held is self.pending_for or held is LicenseType.INSPECTIONS:
                return False
            if user.grace_started_at is None:
                return False
            if self.grace_since is not None and not user.grace_started_at > self.grace_since:
                return False
        return True


def fold(text: str) -> str:
    """The case-insensitive form of a text, as searches and the user order compare it.

    Python's `str.casefold()` (full Unicode case folding: "Straße" and "STRASSE" fold alike),
    which no SQL collation expresses: a backend stores the folded form beside the text (the
    `sqlite` plugin's `name_key`, `email_key`, `id_fold` columns) and compares those exactly,
    code point by code point (UTF-8 bytes order the same way).
    """
    return text.casefold()


def user_sort_key(user: MobileUser) -> tuple[str, str]:
    """The order of user lists (SPEC 6a): full name case-insensitively (`fold`), then id."""
    return (fold(user.full_name), user.id)


@dataclass(frozen=True)
class LogQuery:
    """A filter over a log: one user, errors only (sync log), half-open time range."""

    user_key: str | None = None
    errors_only: bool = False
    since: datetime | None = None
    until: datetime | None = None
