"""API tokens (SPEC 9): an ADMIN manages its organization's, the OPERATOR any organization's."""

from __future__ import annotations

from datetime import datetime

from seatkeeper.domain.records import Role, Token
from seatkeeper.resolvers.common import actor_of, engine_of, organization_of, require
from seatkeeper.rules.access import Action
from seatkeeper.rules.engine import CreatedToken
from seatkeeper.rules.outcomes import Result
from strawberry.types import Info


async def create_token(
    info: Info,
    organization_id: str,
    role: Role,
    name: str,
    expires_at: datetime | None = None,
    requests_per_second: float | None = None,
) -> Result[CreatedToken]:
    organization_id = organization_of(info, Action.MANAGE_TOKENS, organization_id)
    return await engine_of(info).create_token(
        organization_id,
        role,
        name,
        actor=actor_of(info),
        expires_at=expires_at,
        requests_per_second=requests_per_second,
    )


async def tokens(info: Info, organization_id: str | None) -> list[Token]:
    caller = require(info, Action.MANAGE_TOKENS)
    if caller.role is Role.OPERATOR:
        scope = organization_id
    else:
        scope = organization_of(info, Action.MANAGE_TOKENS, organization_id or None)
    return await engine_of(info).list_tokens(scope)


async def revoke_token(info: Info, token_id: str) -> Result[Token]:
    caller = require(info, Action.MANAGE_TOKENS)
    scope = None if caller.role is Role.OPERATOR else caller.organization_id
    return await engine_of(info).revoke_token(token_id, scope, actor=actor_of(info))


async def set_token_budget(
    info: Info, token_id: str, requests_per_second: float | None
) -> Result[Token]:
    caller = require(info, Action.MANAGE_TOKENS)
    scope = None if caller.role is Role.OPERATOR else caller.organization_id
    return await engine_of(info).set_token_budget(
        token_id, scope, requests_per_second, actor=actor_of(info)
    )
