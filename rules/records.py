"""Moved to `seatkeeper.domain.records` (issue 10): the records are the domain layer, under all.

Kept for the branches written against the old place while they rebase; new code imports
`seatkeeper.domain.records`. Storage and plugins may not use this name (import-linter forbids
them to import the rules).
"""

from seatkeeper.domain.records import (
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
    SubscriptionStatus,
    SyncLogEntry,
    Token,
    new_id,
    new_sortable_id,
    seat_held,
    user_key,
)

__all__ = [
    "DEFAULT_PROJECT_ID",
    "SEAT_TYPES",
    "SYSTEM_ACTOR",
    "AuditEntry",
    "AuditReason",
    "Client",
    "LicenseErrorCode",
    "LicenseErrorReason",
    "LicenseState",
    "LicenseType",
    "MobileUser",
    "Organization",
    "Project",
    "ProjectKind",
    "Role",
    "Settings",
    "Subscription",
    "SubscriptionStatus",
    "SyncLogEntry",
    "Token",
    "new_id",
    "new_sortable_id",
    "seat_held",
    "user_key",
]
