"""API tokens (SPEC 9): an ADMIN manages its organization's, the OPERATOR any organization's."""

from __future__ import annotations

import strawberry
from seatkeeper.domain.records import Role
from seatkeeper.resolvers.common import engine_of, organization_of, require
from seatkeeper.rules.access import Action
from seatkeeper.schema.types import (
    ApiToken,
    CreateTokenInput,
    CreateTokenPayload,
    RevokeTokenPayload,
    user_errors,
)
from strawberry.types import Info


async def create_token(info: Info, input: CreateTokenInput) -> CreateTokenPayload:
    organization_id = organization_of(info, Action.MANAGE_TOKENS, str(input.organization_id))
    result = await engine_of(info).create_token(organization_id, input.role, input.name)
    created = result.value
    return CreateTokenPayload(
        token=created.secret if created else None,
        token_id=strawberry.ID(created.token.id) if created else None,
        user_errors=user_errors(result.user_errors),
    )


async def tokens(info: Info, organization_id: strawberry.ID | None = None) -> list[ApiToken]:
    caller = require(info, Action.MANAGE_TOKENS)
    if caller.role is Role.OPERATOR:
        scope = str(organization_id) if organization_id is not None else None
    else:
        scope = organization_of(
            info, Action.MANAGE_TOKENS, str(organization_id) if organization_id else None
        )
    return [ApiToken.from_rules(t) for t in await engine_of(info).list_tokens(scope)]


async def revoke_token(info: Info, id: strawberry.ID) -> RevokeTokenPayload:
    caller = require(info, Action.MANAGE_TOKENS)
    scope = None if caller.role is Role.OPERATOR else caller.organization_id
    result = await engine_of(info).revoke_token(str(id), scope)
    return RevokeTokenPayload(
        token=ApiToken.from_rules(result.value) if result.value else None,
        user_errors=user_errors(result.user_errors),
    )
