"""Users: the admin list (SPEC 6a), one user, pre-provisioning and deletion (SPEC 3)."""

from __future__ import annotations

import strawberry
from seatkeeper.resolvers.common import bad_request, edges, engine_of, organization_of, page_info
from seatkeeper.rules.access import Action, actor_of
from seatkeeper.rules.engine import NewUser
from seatkeeper.rules.engine import UserFilter as RulesUserFilter
from seatkeeper.rules.outcomes import BadRequest
from seatkeeper.schema.types import (
    CreateUsersPayload,
    DeleteUsersPayload,
    MobileUser,
    UserConnection,
    UserFilter,
    UserInput,
    user_errors,
)
from strawberry.types import Info


def to_rules_filter(user_filter: UserFilter | None) -> RulesUserFilter | None:
    if user_filter is None:
        return None
    return RulesUserFilter(user_filter.license_type, user_filter.state, user_filter.inactive)


async def users(
    info: Info,
    search: str | None = None,
    filter: UserFilter | None = None,
    first: int | None = None,
    after: str | None = None,
) -> UserConnection:
    organization_id = organization_of(info, Action.READ)
    try:
        page = await engine_of(info).list_users(
            organization_id, search, to_rules_filter(filter), first, after
        )
    except BadRequest as error:
        raise bad_request(error) from None
    return UserConnection(
        total_count=page.total_count or 0,  # list_users counts unless told not to
        page_info=page_info(page),
        edges=edges(page, MobileUser.from_view),
    )


async def user(info: Info, id: strawberry.ID) -> MobileUser | None:
    organization_id = organization_of(info, Action.READ)
    view = await engine_of(info).get_user(organization_id, str(id))
    return MobileUser.from_view(view) if view else None


async def create_users(info: Info, users: list[UserInput]) -> CreateUsersPayload:
    organization_id = organization_of(info, Action.ADMINISTER)
    new_users = [NewUser(str(u.id), u.full_name, u.email, u.standard, u.inspections) for u in users]
    result = await engine_of(info).create_users(
        organization_id, actor_of(info.context.caller), new_users
    )
    return CreateUsersPayload(
        users=[MobileUser.from_user(u) for u in result.value or []],
        user_errors=user_errors(result.user_errors),
    )


async def delete_users(info: Info, user_ids: list[strawberry.ID]) -> DeleteUsersPayload:
    organization_id = organization_of(info, Action.ADMINISTER)
    result = await engine_of(info).delete_users(
        organization_id, actor_of(info.context.caller), [str(i) for i in user_ids]
    )
    return DeleteUsersPayload(
        deleted_ids=[strawberry.ID(i) for i in result.value or []],
        user_errors=user_errors(result.user_errors),
    )
