"""What every resolver shares: the request context, the caller's access checks, client errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from seatkeeper.domain.records import Role
from seatkeeper.resolvers.fields import api_path
from seatkeeper.rules import access
from seatkeeper.rules.access import Action, Caller
from seatkeeper.rules.engine import Engine
from seatkeeper.rules.outcomes import BadRequest
from strawberry.types import Info

#: GraphQL's customary `extensions.code` of an argument the server refuses (Apollo's name).
BAD_USER_INPUT = "BAD_USER_INPUT"


@dataclass
class Context:
    """Per request: the engine, the authenticated caller (None without a valid token), an id."""

    engine: Engine
    caller: Caller | None
    request_id: str


class PublicError(GraphQLError):
    """A GraphQL error meant for the client: never masked."""

    def __init__(self, message: str, code: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": code, **extensions})


def engine_of(info: Info) -> Engine:
    context: Context = info.context
    return context.engine


def require(info: Info, action: Action) -> Caller:
    """The caller, if it may do `action` (SPEC 9): else UNAUTHENTICATED or FORBIDDEN."""
    caller = require_caller(info)
    if not caller.may(action):
        raise PublicError(f"the {caller.role.value} role may not do this", "FORBIDDEN")
    return caller


def organization_of(
    info: Info, action: Action, organization_id: str | None = None, *, operator_may: bool = False
) -> str:
    """The organization a request acts on: always the token's, except for the OPERATOR, who names it.

    `operator_may` opens a read of one organization (its settings, its subscriptions) to the
    OPERATOR, who manages organizations and subscriptions (SPEC 9).
    """
    caller: Caller | None = info.context.caller
    if operator_may and caller is not None and caller.role is Role.OPERATOR:
        action = Action.OPERATE
    caller = require(info, action)
    if caller.role is Role.OPERATOR:
        if not organization_id:
            raise PublicError("the OPERATOR must pass organizationId", BAD_USER_INPUT)
        return organization_id
    if caller.organization_id is None or (
        organization_id is not None and organization_id != caller.organization_id
    ):
        raise PublicError("a token acts on its own organization only", "FORBIDDEN")
    return caller.organization_id


def bad_request(error: BadRequest) -> PublicError:
    """A query's bad argument as the client sees it: `extensions.field` spelled by the API."""
    code = error.code or BAD_USER_INPUT
    return PublicError(error.message, code, field=api_path(error.field) or [])


def actor_of(info: Info) -> str:
    """Who the audit log records as acting: the caller's role and token id (SPEC 8)."""
    return access.actor_of(require_caller(info))


def require_caller(info: Info) -> Caller:
    """The authenticated caller, whatever its role; UNAUTHENTICATED without a valid token."""
    caller: Caller | None = info.context.caller
    if caller is None:
        raise PublicError(
            "a valid bearer token is required (Authorization: Bearer <token>)", "UNAUTHENTICATED"
        )
    return caller
