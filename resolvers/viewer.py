"""`viewer`: who the caller is (its role, token and organization), for `seatkeeper whoami`.

Any authenticated caller may ask, whatever its role (SYNC included): the answer only repeats what
the caller's own token already says. The organization is read for ADMIN and READER tokens only;
a SYNC token sees its organization's id, never its settings (SPEC 9: SYNC may only sync).
"""

from __future__ import annotations

from dataclasses import dataclass

from seatkeeper.resolvers.common import engine_of, require_caller
from seatkeeper.resolvers.organization import OrganizationView, view_of
from seatkeeper.rules.access import Action, Caller
from strawberry.types import Info


@dataclass(frozen=True)
class ViewerOutcome:
    caller: Caller
    organization: OrganizationView | None


async def viewer(info: Info) -> ViewerOutcome:
    caller = require_caller(info)
    organization = None
    if caller.organization_id is not None and caller.may(Action.READ):
        engine = engine_of(info)
        found = await engine.get_organization(caller.organization_id)
        organization = await view_of(engine, found) if found else None
    return ViewerOutcome(caller, organization)
