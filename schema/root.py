"""The root Query and Mutation types, and the function that builds the `strawberry.Schema`.

Limits (documented in README.md, "Limits", enforced in `schema/limits.py` in time linear in the
document's size): depth, tokens, aliases, fragment nesting and a cost budget. Small parsed and
validated documents are cached (bounded in bytes), so a client that sends the same operation again
pays neither cost twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

import strawberry
from graphql import GraphQLError
from seatkeeper.resolvers import import_export as import_export_resolvers
from seatkeeper.resolvers import licenses as license_resolvers
from seatkeeper.resolvers import logs as log_resolvers
from seatkeeper.resolvers import organization as organization_resolvers
from seatkeeper.resolvers import subscriptions as subscription_resolvers
from seatkeeper.resolvers import sync as sync_resolvers
from seatkeeper.resolvers import tokens as token_resolvers
from seatkeeper.resolvers import users as user_resolvers
from seatkeeper.resolvers import viewer as viewer_resolvers
from seatkeeper.resolvers.common import bad_request
from seatkeeper.rules.outcomes import BadRequest
from seatkeeper.schema import types
from seatkeeper.schema.limits import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS, DocumentLimits
from strawberry.extensions import MaskErrors
from strawberry.printer import print_schema
from strawberry.schema.config import StrawberryConfig

__all__ = ["MAX_ALIASES", "MAX_DEPTH", "MAX_TOKENS", "build_schema", "sdl"]

log = logging.getLogger("seatkeeper")


@strawberry.type
class Query:
    organization: types.Organization | None = strawberry.field(
        resolver=organization_resolvers.organization,
        description="The caller's organization (the OPERATOR names one).",
    )
    organizations: list[types.Organization] = strawberry.field(
        resolver=organization_resolvers.organizations, description="Every organization (OPERATOR)."
    )
    subscriptions: list[types.SubscriptionSummary] = strawberry.field(
        resolver=subscription_resolvers.subscriptions,
        description="One row per license type (SPEC 6).",
    )
    users: types.UserConnection = strawberry.field(
        resolver=user_resolvers.users, description="SPEC 6a."
    )
    user: types.MobileUser | None = strawberry.field(resolver=user_resolvers.user)
    export_licenses: str = strawberry.field(
        resolver=import_export_resolvers.export_licenses,
        description="The licenses CSV file (SPEC 7).",
    )
    export_users: str = strawberry.field(
        resolver=import_export_resolvers.export_users, description="The users CSV file (SPEC 7)."
    )
    sync_log: types.SyncLogConnection = strawberry.field(
        resolver=log_resolvers.sync_log, description="Newest first (SPEC 8)."
    )
    audit_log: types.AuditLogConnection = strawberry.field(
        resolver=log_resolvers.audit_log, description="Newest first (SPEC 8)."
    )
    tokens: list[types.ApiToken] = strawberry.field(resolver=token_resolvers.tokens)
    viewer: types.Viewer = strawberry.field(
        resolver=viewer_resolvers.viewer,
        description="Who the caller is (any role, SYNC included).",
    )


@strawberry.type
class Mutation:
    sync: types.SyncPayload = strawberry.mutation(
        resolver=sync_resolvers.sync, description="SPEC 4. License errors are data."
    )
    set_license_state: types.SetLicenseStatePayload = strawberry.mutation(
        resolver=license_resolvers.set_license_state
    )
    create_users: types.CreateUsersPayload = strawberry.mutation(
        resolver=user_resolvers.create_users
    )
    delete_users: types.DeleteUsersPayload = strawberry.mutation(
        resolver=user_resolvers.delete_users
    )
    update_settings: types.UpdateSettingsPayload = strawberry.mutation(
        resolver=organization_resolvers.update_settings
    )
    upsert_project: types.UpsertProjectPayload = strawberry.mutation(
        resolver=organization_resolvers.upsert_project
    )
    import_licenses: types.ImportLicensesPayload = strawberry.mutation(
        resolver=import_export_resolvers.import_licenses
    )
    create_organization: types.CreateOrganizationPayload = strawberry.mutation(
        resolver=organization_resolvers.create_organization
    )
    add_subscription: types.AddSubscriptionPayload = strawberry.mutation(
        resolver=subscription_resolvers.add_subscription
    )
    create_token: types.CreateTokenPayload = strawberry.mutation(
        resolver=token_resolvers.create_token
    )
    revoke_token: types.RevokeTokenPayload = strawberry.mutation(
        resolver=token_resolvers.revoke_token
    )


def _is_unexpected(error: GraphQLError) -> bool:
    """A resolver raised something other than a deliberate GraphQL error: a bug, to be masked.

    Errors without a path (syntax, validation, variable coercion) are the client's and stay. A
    BadRequest from the rules is the client's too: it is turned into a typed error (issue 9).
    """
    original = error.original_error
    return (
        error.path is not None and original is not None and not isinstance(original, GraphQLError)
    )


class MaskUnexpectedErrors(MaskErrors):
    """Hide internals from the client; log them with the request id the client is shown."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_is_unexpected)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if isinstance(error.original_error, BadRequest):
            refused = bad_request(error.original_error)
            return GraphQLError(
                refused.message, nodes=error.nodes, path=error.path, extensions=refused.extensions
            )
        context = self.execution_context.context
        request_id = getattr(context, "request_id", None) or "-"
        log.error("unexpected error in request %s", request_id, exc_info=error.original_error)
        return GraphQLError(
            f"Unexpected error (request id {request_id}).",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        )


class SeatkeeperSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # Client errors are answered, not logged; unexpected ones are logged by MaskUnexpectedErrors.
        return None


def build_schema() -> strawberry.Schema:
    """The schema with its limits, caches and error masking."""
    return SeatkeeperSchema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(),
        scalar_overrides={datetime: types.DateTimeScalar},
        # Factories, so that each request gets fresh extension instances (the caches are shared).
        extensions=[
            DocumentLimits,
            MaskUnexpectedErrors,
        ],
    )


def sdl() -> str:
    """The schema in SDL, as committed in schema.graphql (`make schema` writes it)."""
    return print_schema(build_schema()) + "\n"


if __name__ == "__main__":
    print(sdl(), end="")
