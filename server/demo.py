"""`seatkeeper serve --demo`: an organization holding the source's example users (seed page).

The first two users hold Inspections (which covers Standard), the next three Standard, the next
three are pending (synced, inside their temporary window), Roland has Inspections disabled and
the last user has everything disabled (never assigned automatically).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from seatkeeper.domain.records import LicenseState, LicenseType, Organization, Role
from seatkeeper.rules.engine import CreatedOrganization, Engine, NewUser, SyncRequest
from seatkeeper.rules.outcomes import Result

T = TypeVar("T")

A, U, D = LicenseState.ASSIGNED, LicenseState.UNASSIGNED, LicenseState.DISABLED

# (id, full name, email, standard, inspections): the first three rows are the seed's CSV sample.
DEMO_USERS = [
    ("1a75199f-a48b-40d4-b9bc-2ea05faa8197", "Matt Ford", "someone51@example.com", U, A),
    ("1ac99e8f-824b-4b51-84ef-7ff55a555079", "Ralf Harper", "someone54@example.com", U, A),
    ("10ac88c8-2226-4a98-ae0c-b7f57df0c4d3", "Pete Porter", "someone57@example.com", A, U),
    ("5d0c2b1e-7a43-4c51-9a37-0f1b8e2d6a10", "Sandra Lopez", "someone60@example.com", A, U),
    ("8f3e9a72-1c4d-4e0b-b6a5-2d7c9e1f4b83", "Kevin Walsh", "someone61@example.com", A, U),
    ("c2a1f5d8-9b3e-4a7c-8e61-5f0d2b9c7a14", "Roland Becker", "someone62@example.com", U, D),
    ("e7b4c9a2-3d1f-4f8e-a5b0-6c2d8e1f9a37", "Nora Quist", "someone63@example.com", D, D),
]
DEMO_PENDING = [
    ("3b9d7e1a-6c2f-4d8b-9e0a-1f5c7b3d9e21", "Alice Moreau", "someone64@example.com"),
    ("4c0e8f2b-7d3a-4e9c-8f1b-2a6d8c4e0f32", "Bruno Silva", "someone65@example.com"),
    ("5d1f9a3c-8e4b-4f0d-9a2c-3b7e9d5f1a43", "Chen Wei", "someone66@example.com"),
]


DEMO_NAME = "Demo organization"


@dataclass(frozen=True)
class Demo:
    organization: Organization
    admin_token: str
    sync_token: str
    created: bool  # False: the demo organization was already in the storage


async def ensure_demo(engine: Engine) -> Demo:
    """The demo organization, created once (found again by its name at later starts), with
    fresh ADMIN and SYNC tokens: each start's secrets work, the previous start's are revoked."""
    existing = [o for o in await engine.list_organizations() if o.name == DEMO_NAME]
    if not existing:
        created = await create_demo(engine)
        return Demo(created.organization, created.admin_token, created.sync_token, True)
    organization = existing[0]
    for token in await engine.list_tokens(organization.id):
        if token.revoked_at is None and token.role in (Role.ADMIN, Role.SYNC):
            await engine.revoke_token(token.id, organization.id)
    admin = _ok(await engine.create_token(organization.id, Role.ADMIN, "demo admin"))
    sync = _ok(await engine.create_token(organization.id, Role.SYNC, "demo sync"))
    return Demo(organization, admin.secret, sync.secret, False)


async def create_demo(engine: Engine) -> CreatedOrganization:
    """Create the demo organization with a STANDARD and an INSPECTIONS subscription."""
    created = _ok(await engine.create_organization(DEMO_NAME))
    organization_id = created.organization.id
    until = engine.now() + timedelta(days=365)
    await engine.add_subscription(organization_id, LicenseType.STANDARD, 10, until)
    await engine.add_subscription(organization_id, LicenseType.INSPECTIONS, 5, until)
    result = await engine.create_users(
        organization_id,
        "demo",
        [NewUser(i, name, email, s, insp) for i, name, email, s, insp in DEMO_USERS],
    )
    if not result.ok:  # a bug in the demo data, not a user error
        raise RuntimeError(f"demo users refused: {result.user_errors}")
    for user_id, name, email in DEMO_PENDING:
        await engine.sync(organization_id, SyncRequest(user_id, email, name))
    return created


def _ok(result: Result[T]) -> T:
    """The value of a demo operation; its refusal is a bug in the demo data, not a user error."""
    if result.value is None:
        raise RuntimeError(f"demo data refused: {result.user_errors}")
    return result.value
