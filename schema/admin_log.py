"""The administration log's shapes (SPEC 8): administrative changes that are not selector changes."""

from __future__ import annotations

from datetime import datetime

import strawberry
from seatkeeper.domain import records
from seatkeeper.rules.access import read_actor
from seatkeeper.schema import enums
from seatkeeper.schema.types import Edge, PageInfo


@strawberry.type(description="One administrative change (SPEC 8): who changed what, and when.")
class AdminLogEntry:
    id: strawberry.ID = strawberry.field(description="The entry's id.")
    at: datetime = strawberry.field(description="When the change was made.")
    action: enums.AdminAction = strawberry.field(description="What kind of change it was.")
    target_id: strawberry.ID = strawberry.field(
        description="The id of what changed: the organization, project, subscription or token."
    )
    details: str = strawberry.field(
        description="What changed, for people to read (e.g. `auto-assign licenses: false -> true`)."
    )
    actor: str = strawberry.field(
        description="Who acted, for people to read: the token's name (free text: identify it by "
        "actorTokenId), OPERATOR, or system for the server's own changes (SPEC 8)."
    )
    actor_role: str | None = strawberry.field(
        description="The acting token's role, or OPERATOR; null for system."
    )
    actor_token_id: strawberry.ID | None = strawberry.field(
        description="The acting token's id; null for the OPERATOR and for system."
    )


@strawberry.type(description="A page of the administration log, newest first.")
class AdminLogConnection:
    page_info: PageInfo = strawberry.field(description="Where this page stands in the log.")
    edges: list[Edge[AdminLogEntry]] = strawberry.field(description="The page's entries.")


@strawberry.input(description="Which administration-log entries to list.")
class AdminLogFilter:
    since: datetime | None = strawberry.field(
        default=None, description="Only entries at or after this instant."
    )
    until: datetime | None = strawberry.field(
        default=None, description="Only entries before this instant."
    )


def admin_entry(entry: records.AdminLogEntry, names: dict[str, str]) -> AdminLogEntry:
    """SPEC 8: the actor's role and token id as recorded; its name looked up beside them."""
    role, token_id = read_actor(entry.actor)
    shown = names.get(token_id, "(unknown token)") if token_id is not None else entry.actor
    return AdminLogEntry(
        id=strawberry.ID(entry.id),
        at=entry.at,
        action=entry.action,
        target_id=strawberry.ID(entry.target_id),
        details=entry.details,
        actor=shown,
        actor_role=role,
        actor_token_id=strawberry.ID(token_id) if token_id else None,
    )
