"""`viewer`: who the caller is (its role, token and organization), for `seatkeeper whoami`.

Any authenticated caller may ask, whatever its role (SYNC included): the answer only repeats what
the caller's own token already says. The organization is read for ADMIN and READER tokens only;
a SYNC token sees its organization's id, never its settings (SPEC 9: SYNC may only sync).
"""

from __future__ import annotations

import strawberry
from seatkeeper.resolvers.common import PublicError, engine_of
from seatkeeper.resolvers.organization import _organization
from seatkeeper.rules.access import Action, Caller
from seatkeeper.schema.types import Viewer
from strawberry.types import Info


async def viewer(info: Info) -> Viewer:
    caller: Caller | None = info.context.caller
    if caller is None:
        raise PublicError(
            "a valid bearer token is required (Authorization: Bearer <token>)", "UNAUTHENTICATED"
        )
    organization = None
    if caller.organization_id is not None and caller.may(Action.READ):
        engine = engine_of(info)
        found = await engine.get_organization(caller.organization_id)
        organization = await _organization(engine, found) if found else None
    return Viewer(
        role=caller.role,
        token_id=strawberry.ID(caller.token_id) if caller.token_id else None,
        token_name=caller.name if caller.token_id else None,
        organization_id=(strawberry.ID(caller.organization_id) if caller.organization_id else None),
        organization=organization,
    )
