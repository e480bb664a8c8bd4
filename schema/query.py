"""The root Query type: each field reads its arguments, calls its resolver, builds its type."""

from __future__ import annotations

from typing import Annotated

import strawberry
from seatkeeper.resolvers import import_export as import_export_resolvers
from seatkeeper.resolvers import logs as log_resolvers
from seatkeeper.resolvers import organization as organization_resolvers
from seatkeeper.resolvers import subscriptions as subscription_resolvers
from seatkeeper.resolvers import tokens as token_resolvers
from seatkeeper.resolvers import users as user_resolvers
from seatkeeper.resolvers import viewer as viewer_resolvers
from seatkeeper.rules.engine import UserFilter as RulesUserFilter
from seatkeeper.schema import admin_log as admin_types
from seatkeeper.schema import build, inputs, organization_types, types, user_types
from seatkeeper.schema.fields import root_field
from strawberry.types import Info

BomArgument = Annotated[
    bool,
    strawberry.argument(
        description="Start the file with a byte-order mark, for Excel, which needs it to read UTF-8."
    ),
]


OrganizationIdArgument = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="The organization to read: the OPERATOR must name one; any other token reads "
        "its own (naming another is FORBIDDEN)."
    ),
]
SearchArgument = Annotated[
    str | None,
    strawberry.argument(
        description="Part of a user's id, name or e-mail, case-insensitive (at most 256 "
        "characters; longer is BAD_USER_INPUT)."
    ),
]
UserFilterArgument = Annotated[
    inputs.UserFilter | None,
    strawberry.argument(description="Only the users that match all of it."),
]
FirstArgument = Annotated[
    int | None,
    strawberry.argument(
        description="Page size: 1–500 (default 50); outside that range is BAD_USER_INPUT."
    ),
]
AfterArgument = Annotated[
    str | None,
    strawberry.argument(
        description="The `endCursor` of the previous page (from the same list); another cursor "
        "is BAD_USER_INPUT."
    ),
]


def _id(value: strawberry.ID | None) -> str | None:
    return str(value) if value is not None else None


def rules_filter(user_filter: inputs.UserFilter | None) -> RulesUserFilter | None:
    if user_filter is None:
        return None
    return RulesUserFilter(user_filter.license_type, user_filter.state, user_filter.inactive)


@strawberry.type(
    description="Every read, each with the roles that may call it (SPEC 9). A token reads its own "
    "organization (the OPERATOR names one where it may). A role without the right gets the "
    "GraphQL error FORBIDDEN; a bad argument, BAD_USER_INPUT."
)
class Query:
    @root_field(
        description="The caller's organization, its settings and projects. ADMIN, READER; the "
        "OPERATOR names one. Null for an OPERATOR naming an unknown organization."
    )
    async def organization(
        self, info: Info, organization_id: OrganizationIdArgument = None
    ) -> organization_types.Organization | None:
        view = await organization_resolvers.organization(info, _id(organization_id))
        return build.organization(view) if view else None

    @root_field(description="Every organization, oldest first. OPERATOR only.")
    async def organizations(self, info: Info) -> list[organization_types.Organization]:
        return [build.organization(v) for v in await organization_resolvers.organizations(info)]

    @root_field(
        description="One row per license type: seats, holders, status (SPEC 6). ADMIN, READER; "
        "the OPERATOR names the organization."
    )
    async def subscriptions(
        self, info: Info, organization_id: OrganizationIdArgument = None
    ) -> list[organization_types.SubscriptionSummary]:
        rows = await subscription_resolvers.subscriptions(info, _id(organization_id))
        return [build.subscription_summary(row) for row in rows]

    @root_field(
        description="The organization's users, a page at a time, ordered by full name "
        "case-insensitively, then id (SPEC 6a). "
        "ADMIN, READER."
    )
    async def users(
        self,
        info: Info,
        search: SearchArgument = None,
        filter: UserFilterArgument = None,
        first: FirstArgument = None,
        after: AfterArgument = None,
    ) -> user_types.UserConnection:
        page = await user_resolvers.users(info, search, rules_filter(filter), first, after)
        return user_types.UserConnection(
            total_count=page.total_count or 0,  # list_users counts unless told not to
            page_info=build.page_info(page, after),
            edges=build.edges(page, user_types.MobileUser.from_view),
        )

    @root_field(
        description="One user by id (any spelling of a GUID finds it), or null. ADMIN, READER."
    )
    async def user(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The user's id.")],
    ) -> user_types.MobileUser | None:
        view = await user_resolvers.user(info, str(id))
        return user_types.MobileUser.from_view(view) if view else None

    @root_field(
        description="The licenses CSV file, as import reads it (SPEC 7). ADMIN, READER; one "
        "export per operation."
    )
    async def export_licenses(self, info: Info, bom: BomArgument = False) -> str:
        return await import_export_resolvers.export_licenses(info, bom)

    @root_field(
        description="The users CSV file (SPEC 7), the same users as `users` with the same "
        "search and filter. ADMIN, READER; one export per operation."
    )
    async def export_users(
        self,
        info: Info,
        search: SearchArgument = None,
        filter: UserFilterArgument = None,
        bom: BomArgument = False,
    ) -> str:
        return await import_export_resolvers.export_users(info, search, rules_filter(filter), bom)

    @root_field(
        description="Every sync and its answer, newest first (SPEC 8; kept 90 days by default). "
        "ADMIN, READER."
    )
    async def sync_log(
        self,
        info: Info,
        filter: Annotated[
            inputs.SyncLogFilter | None, strawberry.argument(description="Only matching entries.")
        ] = None,
        first: FirstArgument = None,
        after: AfterArgument = None,
    ) -> types.SyncLogConnection:
        given = filter or inputs.SyncLogFilter()
        page = await log_resolvers.sync_log(
            info,
            _id(given.user_id),
            bool(given.errors_only),
            given.since,
            given.until,
            first,
            after,
        )
        return types.SyncLogConnection(
            page_info=build.page_info(page, after), edges=build.edges(page, build.sync_entry)
        )

    @root_field(
        description="Every change of a license and who made it, newest first (SPEC 8). ADMIN, "
        "READER."
    )
    async def audit_log(
        self,
        info: Info,
        filter: Annotated[
            inputs.AuditLogFilter | None, strawberry.argument(description="Only matching entries.")
        ] = None,
        first: FirstArgument = None,
        after: AfterArgument = None,
    ) -> types.AuditLogConnection:
        given = filter or inputs.AuditLogFilter()
        found = await log_resolvers.audit_log(
            info, _id(given.user_id), given.since, given.until, first, after
        )
        return types.AuditLogConnection(
            page_info=build.page_info(found.page, after),
            edges=build.edges(found.page, lambda e: build.audit_entry(e, found.token_names)),
        )

    @root_field(
        description="Administrative changes that are not license changes, newest first (SPEC "
        "8): organizations created, settings changed, projects, subscriptions, tokens created, "
        "revoked or changed, each with who made it. ADMIN (its own organization); the OPERATOR "
        "names one."
    )
    async def admin_log(
        self,
        info: Info,
        organization_id: OrganizationIdArgument = None,
        filter: Annotated[
            admin_types.AdminLogFilter | None,
            strawberry.argument(description="Only matching entries."),
        ] = None,
        first: FirstArgument = None,
        after: AfterArgument = None,
    ) -> admin_types.AdminLogConnection:
        given = filter or admin_types.AdminLogFilter()
        found = await log_resolvers.admin_log(
            info, _id(organization_id), given.since, given.until, first, after
        )
        return admin_types.AdminLogConnection(
            page_info=build.page_info(found.page, after),
            edges=build.edges(found.page, lambda e: admin_types.admin_entry(e, found.token_names)),
        )

    @root_field(
        description="The organization's API tokens, revoked ones included (never their secrets). "
        "ADMIN; the OPERATOR names the organization (or sees every organization's)."
    )
    async def tokens(
        self, info: Info, organization_id: OrganizationIdArgument = None
    ) -> list[types.ApiToken]:
        found = await token_resolvers.tokens(info, _id(organization_id))
        return [types.ApiToken.from_rules(t) for t in found]

    @root_field(description="Who the caller is (any role, SYNC included).")
    async def viewer(self, info: Info) -> types.Viewer:
        outcome = await viewer_resolvers.viewer(info)
        caller = outcome.caller
        return types.Viewer(
            role=caller.role,
            token_id=strawberry.ID(caller.token_id) if caller.token_id else None,
            token_name=caller.name if caller.token_id else None,
            organization_id=(
                strawberry.ID(caller.organization_id) if caller.organization_id else None
            ),
            organization=build.organization(outcome.organization) if outcome.organization else None,
        )
