"""Protocol queries translated to MongoDB filters, and the keyset conditions of every page.

Each translation selects exactly the users `UserQuery.matches` selects (the reference meaning);
the contract kit compares the two on a random population.
"""

from __future__ import annotations

import re
from datetime import datetime

from seatkeeper.domain.records import LicenseState, LicenseType
from seatkeeper.storage.protocol import LogQuery, UserQuery

from .documents import Document, to_bson_time

SELECTOR_FIELD = {LicenseType.STANDARD: "standard", LicenseType.INSPECTIONS: "inspections"}

# The list order of SPEC 6a, served by the index (org, name_key, id).
USER_ORDER = [("name_key", 1), ("id", 1)]
# Logs newest first, served by (org, at, _id) walked backwards.
LOG_ORDER = [("at", -1), ("_id", -1)]


def activity_at_most(moment: datetime) -> Document:
    """Last activity (`last_sync_at`, else `assigned_at`, else `created_at`) <= moment."""
    bound = to_bson_time(moment)
    return {
        "$or": [
            {"last_sync_at": {"$ne": None, "$lte": bound}},
            {"last_sync_at": None, "assigned_at": {"$ne": None, "$lte": bound}},
            {"last_sync_at": None, "assigned_at": None, "created_at": {"$lte": bound}},
        ]
    }


def activity_after(moment: datetime) -> Document:
    """Last activity > moment: the complement of `activity_at_most`."""
    bound = to_bson_time(moment)
    return {
        "$or": [
            {"last_sync_at": {"$gt": bound}},
            {"last_sync_at": None, "assigned_at": {"$gt": bound}},
            {"last_sync_at": None, "assigned_at": None, "created_at": {"$gt": bound}},
        ]
    }


def user_filter(organization_id: str, query: UserQuery) -> Document | None:
    """The filter selecting `query`'s users, or None when it matches nobody."""
    if query.matches_nobody:
        return None
    clauses: list[Document] = [{"org": organization_id}]
    if query.search:
        # Substring of the case-folded id, name or e-mail, exactly as `UserQuery.matches` folds.
        needle = {"$regex": re.escape(query.search.casefold())}
        clauses.append({"$or": [{"id_fold": needle}, {"name_key": needle}, {"email_key": needle}]})
    if query.selector is not None:
        license_type, state = query.selector
        if license_type not in SELECTOR_FIELD:
            return None
        clauses.append({SELECTOR_FIELD[license_type]: state.value})
    if query.any_state is not None:
        clauses.append(
            {"$or": [{"standard": query.any_state.value}, {"inspections": query.any_state.value}]}
        )
    if query.active_before is not None:
        clauses.append(activity_at_most(query.active_before))
    if query.active_since is not None:
        clauses.append(activity_after(query.active_since))
    if query.pending_for is not None:
        if query.pending_for not in SELECTOR_FIELD:
            return None
        # Latest sync required it, not disabled for it, no covering seat (INSPECTIONS covers all),
        # inside a temporary window (SPEC 6, pending).
        clauses.append(
            {
                "last_required": query.pending_for.value,
                SELECTOR_FIELD[query.pending_for]: {"$ne": LicenseState.DISABLED.value},
                "held": {"$nin": [query.pending_for.value, LicenseType.INSPECTIONS.value]},
                "grace_started_at": {"$ne": None}
                if query.grace_since is None
                else {"$ne": None, "$gt": to_bson_time(query.grace_since)},
            }
        )
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def after_user(after: tuple[str, str] | None) -> Document | None:
    """Strictly after `(name_key, id)` in the list order: the keyset condition of a page."""
    if after is None:
        return None
    name_key, user_id = after
    return {
        "$or": [{"name_key": {"$gt": name_key}}, {"name_key": name_key, "id": {"$gt": user_id}}]
    }


def log_filter(
    organization_id: str,
    query: LogQuery,
    after: tuple[datetime, str] | None,
    errors_field: str | None,
) -> Document:
    """A log query with its keyset: newest first, so "after" means older than `(at, id)`."""
    clauses: list[Document] = [{"org": organization_id}]
    if query.user_key is not None:
        clauses.append({"user_key": query.user_key})
    if query.errors_only and errors_field:
        clauses.append({errors_field: False})
    at: Document = {}
    if query.since is not None:
        at["$gte"] = to_bson_time(query.since)
    if query.until is not None:
        at["$lt"] = to_bson_time(query.until)
    if at:
        clauses.append({"at": at})
    if after is not None:
        moment, entry_id = to_bson_time(after[0]), after[1]
        clauses.append({"$or": [{"at": {"$lt": moment}}, {"at": moment, "_id": {"$lt": entry_id}}]})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
