"""The root Mutation type: each field turns its input into rules values, calls its resolver and
builds its payload from the outcome."""

from __future__ import annotations

from typing import Annotated

import strawberry
from seatkeeper.resolvers import import_export as import_export_resolvers
from seatkeeper.resolvers import licenses as license_resolvers
from seatkeeper.resolvers import organization as organization_resolvers
from seatkeeper.resolvers import subscriptions as subscription_resolvers
from seatkeeper.resolvers import sync as sync_resolvers
from seatkeeper.resolvers import tokens as token_resolvers
from seatkeeper.resolvers import users as user_resolvers
from seatkeeper.resolvers.fields import IN_INPUT
from seatkeeper.rules.engine import NewUser, SyncRequest
from seatkeeper.schema import build, inputs, organization_types, payloads, types
from seatkeeper.schema.fields import root_mutation
from strawberry.types import Info


@strawberry.type(
    description="Every change, each with the roles that may call it (SPEC 9) and the userErrors "
    "codes its payload can carry. A mutation with userErrors changed nothing (SPEC 2, invariant "
    "5); a role without the right gets the GraphQL error FORBIDDEN."
)
class Mutation:
    @root_mutation(
        description=(
            "Decide whether a user may use the app now, and record the decision (SPEC 4). "
            "SYNC, ADMIN. A refusal is data (`ok: false`, `error`), never a GraphQL error. "
            "userErrors codes: INVALID_INPUT, EMAIL_TAKEN, PROJECT_NOT_FOUND, "
            "ORGANIZATION_NOT_FOUND."
        )
    )
    async def sync(
        self,
        info: Info,
        input: Annotated[
            inputs.SyncInput,
            strawberry.argument(description="Who is syncing, from which project and client."),
        ],
    ) -> payloads.SyncPayload:
        request = SyncRequest(
            user_id=str(input.user_id),
            email=input.email,
            full_name=input.full_name,
            project_id=str(input.project_id) if input.project_id is not None else None,
            client=input.client,
        )
        return build.sync_payload(await sync_resolvers.sync(info, request))

    @root_mutation(
        description=(
            "Assign, unassign or disable one license type for up to 100,000 users, all or "
            "none (SPEC 3). ADMIN. userErrors codes: USER_NOT_FOUND, NOT_ENOUGH_SEATS, "
            "TRIAL_ACTIVE, INVALID_INPUT, CONFLICT."
        )
    )
    async def set_license_state(
        self,
        info: Info,
        input: Annotated[
            inputs.SetLicenseStateInput,
            strawberry.argument(
                description="The users, the license type and the state to give them."
            ),
        ],
    ) -> payloads.SetLicenseStatePayload:
        result = await license_resolvers.set_license_state(
            info, [str(i) for i in input.user_ids], input.license_type, input.state
        )
        return payloads.SetLicenseStatePayload(
            users=build.users_of(result),
            user_errors=types.user_errors(result.user_errors, IN_INPUT),
        )

    @root_mutation(
        description=(
            "Create up to 100,000 users, all or none, with their license states (SPEC 3). "
            "ADMIN. userErrors codes: INVALID_INPUT, USER_EXISTS, EMAIL_TAKEN, "
            "NOT_ENOUGH_SEATS, TRIAL_ACTIVE."
        )
    )
    async def create_users(
        self,
        info: Info,
        users: Annotated[
            list[inputs.UserInput], strawberry.argument(description="1 to 100,000 new users.")
        ],
    ) -> payloads.CreateUsersPayload:
        new_users = [
            NewUser(str(u.id), u.full_name, u.email, u.standard, u.inspections) for u in users
        ]
        result = await user_resolvers.create_users(info, new_users)
        return payloads.CreateUsersPayload(
            users=build.users_of(result), user_errors=types.user_errors(result.user_errors)
        )

    @root_mutation(
        description=(
            "Delete up to 100,000 users, all or none; their seats are freed (SPEC 3). "
            "ADMIN. userErrors codes: USER_NOT_FOUND, INVALID_INPUT, CONFLICT."
        )
    )
    async def delete_users(
        self,
        info: Info,
        user_ids: Annotated[
            list[strawberry.ID], strawberry.argument(description="1 to 100,000 user ids.")
        ],
    ) -> payloads.DeleteUsersPayload:
        result = await user_resolvers.delete_users(info, [str(i) for i in user_ids])
        return payloads.DeleteUsersPayload(
            deleted_ids=[strawberry.ID(i) for i in result.value or []],
            user_errors=types.user_errors(result.user_errors),
        )

    @root_mutation(
        description=(
            "Change the organization's settings; fields left out keep their value. ADMIN. "
            "userErrors code: INVALID_INPUT."
        )
    )
    async def update_settings(
        self,
        info: Info,
        input: Annotated[
            inputs.SettingsInput, strawberry.argument(description="The settings to change.")
        ],
    ) -> payloads.UpdateSettingsPayload:
        result = await organization_resolvers.update_settings(
            info,
            input.auto_assign_licenses,
            input.auto_free_up_licenses,
            input.inactivity_days,
            input.grace_period_days,
        )
        return payloads.UpdateSettingsPayload(
            settings=organization_types.Settings.from_rules(result.value) if result.value else None,
            user_errors=types.user_errors(result.user_errors, IN_INPUT),
        )

    @root_mutation(
        description=(
            "Create a project, or rename it and change its kind (SPEC 5). ADMIN. userErrors "
            "code: INVALID_INPUT."
        )
    )
    async def upsert_project(
        self,
        info: Info,
        input: Annotated[
            inputs.ProjectInput, strawberry.argument(description="The project's id, name and kind.")
        ],
    ) -> payloads.UpsertProjectPayload:
        result = await organization_resolvers.upsert_project(
            info, str(input.id), input.name, input.kind
        )
        return payloads.UpsertProjectPayload(
            project=organization_types.Project.from_rules(result.value) if result.value else None,
            user_errors=types.user_errors(result.user_errors, IN_INPUT),
        )

    @root_mutation(
        description=(
            "Apply a licenses CSV file, MERGE or REPLACE, all or none; `dryRun` reports "
            "without applying (SPEC 7). ADMIN. userErrors codes: CSV_INVALID (its problems "
            "say why, NOT_ENOUGH_SEATS among them), TRIAL_ACTIVE, CONFLICT."
        )
    )
    async def import_licenses(
        self,
        info: Info,
        input: Annotated[
            inputs.ImportLicensesInput,
            strawberry.argument(
                description="The CSV text (decoded as UTF-8), the mode and whether to only try."
            ),
        ],
    ) -> payloads.ImportLicensesPayload:
        report = await import_export_resolvers.import_licenses(
            info, input.csv, input.mode, input.dry_run
        )
        return build.import_payload(report)

    @root_mutation(
        description=(
            "Create an organization with its first ADMIN and SYNC tokens (shown once). "
            "OPERATOR only. userErrors code: INVALID_INPUT."
        )
    )
    async def create_organization(
        self,
        info: Info,
        input: Annotated[
            inputs.CreateOrganizationInput,
            strawberry.argument(description="The organization's name and trial length."),
        ],
    ) -> payloads.CreateOrganizationPayload:
        outcome = await organization_resolvers.create_organization(
            info, input.name, input.trial_days
        )
        created = outcome.result.value
        return payloads.CreateOrganizationPayload(
            organization=build.organization(outcome.view) if outcome.view else None,
            admin_token=created.admin_token if created else None,
            sync_token=created.sync_token if created else None,
            user_errors=types.user_errors(outcome.result.user_errors, IN_INPUT),
        )

    @root_mutation(
        description=(
            "Add a subscription (seats of one license type for a period) to an "
            "organization. OPERATOR only. userErrors codes: ORGANIZATION_NOT_FOUND, "
            "INVALID_INPUT."
        )
    )
    async def add_subscription(
        self,
        info: Info,
        input: Annotated[
            inputs.AddSubscriptionInput,
            strawberry.argument(description="The organization, license type, seats and period."),
        ],
    ) -> payloads.AddSubscriptionPayload:
        outcome = await subscription_resolvers.add_subscription(
            info,
            str(input.organization_id),
            input.license_type,
            input.seats,
            input.valid_until,
            input.valid_from,
        )
        added = outcome.result.value
        return payloads.AddSubscriptionPayload(
            subscription=build.subscription(added, outcome.now) if added else None,
            user_errors=types.user_errors(outcome.result.user_errors, IN_INPUT),
        )

    @root_mutation(
        description=(
            "Create a named API token of a role (its secret is shown once, only its hash is "
            "kept). ADMIN for its organization; the OPERATOR for any. userErrors codes: "
            "ORGANIZATION_NOT_FOUND, INVALID_INPUT."
        )
    )
    async def create_token(
        self,
        info: Info,
        input: Annotated[
            inputs.CreateTokenInput,
            strawberry.argument(
                description="The organization (the OPERATOR names it), role and name."
            ),
        ],
    ) -> payloads.CreateTokenPayload:
        result = await token_resolvers.create_token(
            info,
            str(input.organization_id),
            input.role,
            input.name,
            input.expires_at,
            input.requests_per_second,
        )
        created = result.value
        return payloads.CreateTokenPayload(
            token=created.secret if created else None,
            token_id=strawberry.ID(created.token.id) if created else None,
            user_errors=types.user_errors(result.user_errors, IN_INPUT),
        )

    @root_mutation(
        description=(
            "Give a token its own request budget (a token bucket of requestsPerSecond, per "
            "server process), or null to fall back to the server-wide one (off by default); "
            "beyond it, 429 with Retry-After. ADMIN for its organization; the OPERATOR for any. "
            "userErrors codes: TOKEN_NOT_FOUND, INVALID_INPUT."
        )
    )
    async def set_token_request_budget(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="The token's id (not its secret).")
        ],
        requests_per_second: Annotated[
            float | None,
            strawberry.argument(
                description="Requests per second, more than 0 and at most 100,000; null: the "
                "server-wide budget."
            ),
        ] = None,
    ) -> payloads.SetTokenRequestBudgetPayload:
        result = await token_resolvers.set_token_budget(info, str(id), requests_per_second)
        return payloads.SetTokenRequestBudgetPayload(
            token=types.ApiToken.from_rules(result.value) if result.value else None,
            user_errors=types.user_errors(result.user_errors),
        )

    @root_mutation(
        description=(
            "Revoke a token: it stops working at once; it stays listed. ADMIN for its "
            "organization; the OPERATOR for any. userErrors code: TOKEN_NOT_FOUND."
        )
    )
    async def revoke_token(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="The token's id (not its secret).")
        ],
    ) -> payloads.RevokeTokenPayload:
        result = await token_resolvers.revoke_token(info, str(id))
        return payloads.RevokeTokenPayload(
            token=types.ApiToken.from_rules(result.value) if result.value else None,
            user_errors=types.user_errors(result.user_errors),
        )
