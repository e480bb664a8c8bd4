"""Users: the admin list (SPEC 6a), one user, pre-provisioning and deletion (SPEC 3)."""

from __future__ import annotations

from seatkeeper.domain.records import MobileUser
from seatkeeper.resolvers.common import actor_of, bad_request, engine_of, organization_of
from seatkeeper.resolvers.cursors import decode_cursor
from seatkeeper.rules.access import Action
from seatkeeper.rules.engine import NewUser, UserFilter
from seatkeeper.rules.outcomes import BadRequest, Page, Result, UserView
from strawberry.types import Info


async def users(
    info: Info,
    search: str | None,
    user_filter: UserFilter | None,
    first: int | None,
    after: str | None,
) -> Page[UserView]:
    organization_id = organization_of(info, Action.READ)
    try:
        position = decode_cursor(after)
        return await engine_of(info).list_users(
            organization_id, search, user_filter, first, position
        )
    except BadRequest as error:
        raise bad_request(error) from None


async def user(info: Info, user_id: str) -> UserView | None:
    organization_id = organization_of(info, Action.READ)
    return await engine_of(info).get_user(organization_id, user_id)


async def create_users(info: Info, new_users: list[NewUser]) -> Result[list[MobileUser]]:
    organization_id = organization_of(info, Action.ADMINISTER)
    return await engine_of(info).create_users(organization_id, actor_of(info), new_users)


async def delete_users(info: Info, user_ids: list[str]) -> Result[list[str]]:
    organization_id = organization_of(info, Action.ADMINISTER)
    return await engine_of(info).delete_users(organization_id, actor_of(info), user_ids)
