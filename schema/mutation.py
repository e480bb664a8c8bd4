"""The root Mutation type: each field turns its input into rules values, calls its resolver and
builds its payload from the outcome."""

from __future__ import annotations

import strawberry
from seatkeeper.resolvers import import_export as import_export_resolvers
from seatkeeper.resolvers import licenses as license_resolvers
from seatkeeper.resolvers import organization as organization_resolvers
from seatkeeper.resolvers import subscriptions as subscription_resolvers
from seatkeeper.resolvers import sync as sync_resolvers
from seatkeeper.resolvers import tokens as token_resolvers
from seatkeeper.resolvers import users as user_resolvers
from seatkeeper.rules.engine import NewUser, SyncRequest
from seatkeeper.schema import build, types
from strawberry.types import Info


@strawberry.type
class Mutation:
    @strawberry.mutation(description="SPEC 4. License errors are data.")
    async def sync(self, info: Info, input: types.SyncInput) -> types.SyncPayload:
        request = SyncRequest(
            user_id=str(input.user_id),
            email=input.email,
            full_name=input.full_name,
            project_id=str(input.project_id) if input.project_id is not None else None,
            client=input.client,
        )
        return build.sync_payload(await sync_resolvers.sync(info, request))

    @strawberry.mutation
    async def set_license_state(
        self, info: Info, input: types.SetLicenseStateInput
    ) -> types.SetLicenseStatePayload:
        result = await license_resolvers.set_license_state(
            info, [str(i) for i in input.user_ids], input.license_type, input.state
        )
        return types.SetLicenseStatePayload(
            users=build.users_of(result), user_errors=types.user_errors(result.user_errors)
        )

    @strawberry.mutation
    async def create_users(
        self, info: Info, users: list[types.UserInput]
    ) -> types.CreateUsersPayload:
        new_users = [
            NewUser(str(u.id), u.full_name, u.email, u.standard, u.inspections) for u in users
        ]
        result = await user_resolvers.create_users(info, new_users)
        return types.CreateUsersPayload(
            users=build.users_of(result), user_errors=types.user_errors(result.user_errors)
        )

    @strawberry.mutation
    async def delete_users(
        self, info: Info, user_ids: list[strawberry.ID]
    ) -> types.DeleteUsersPayload:
        result = await user_resolvers.delete_users(info, [str(i) for i in user_ids])
        return types.DeleteUsersPayload(
            deleted_ids=[strawberry.ID(i) for i in result.value or []],
            user_errors=types.user_errors(result.user_errors),
        )

    @strawberry.mutation
    async def update_settings(
        self, info: Info, input: types.SettingsInput
    ) -> types.UpdateSettingsPayload:
        result = await organization_resolvers.update_settings(
            info,
            input.auto_assign_licenses,
            input.auto_free_up_licenses,
            input.inactivity_days,
            input.grace_period_days,
        )
        return types.UpdateSettingsPayload(
            settings=types.Settings.from_rules(result.value) if result.value else None,
            user_errors=types.user_errors(result.user_errors),
        )

    @strawberry.mutation
    async def upsert_project(
        self, info: Info, input: types.ProjectInput
    ) -> types.UpsertProjectPayload:
        result = await organization_resolvers.upsert_project(
            info, str(input.id), input.name, input.kind
        )
        return types.UpsertProjectPayload(
            project=types.Project.from_rules(result.value) if result.value else None,
            user_errors=types.user_errors(result.user_errors),
        )

    @strawberry.mutation
    async def import_licenses(
        self, info: Info, input: types.ImportLicensesInput
    ) -> types.ImportLicensesPayload:
        report = await import_export_resolvers.import_licenses(
            info, input.csv, input.mode, input.dry_run
        )
        return build.import_payload(report)

    @strawberry.mutation
    async def create_organization(
        self, info: Info, input: types.CreateOrganizationInput
    ) -> types.CreateOrganizationPayload:
        outcome = await organization_resolvers.create_organization(
            info, input.name, input.trial_days
        )
        created = outcome.result.value
        return types.CreateOrganizationPayload(
            organization=build.organization(outcome.view) if outcome.view else None,
            admin_token=created.admin_token if created else None,
            sync_token=created.sync_token if created else None,
            user_errors=types.user_errors(outcome.result.user_errors),
        )

    @strawberry.mutation
    async def add_subscription(
        self, info: Info, input: types.AddSubscriptionInput
    ) -> types.AddSubscriptionPayload:
        outcome = await subscription_resolvers.add_subscription(
            info,
            str(input.organization_id),
            input.license_type,
            input.seats,
            input.valid_until,
            input.valid_from,
        )
        added = outcome.result.value
        return types.AddSubscriptionPayload(
            subscription=build.subscription(added, outcome.now) if added else None,
            user_errors=types.user_errors(outcome.result.user_errors),
        )

    @strawberry.mutation
    async def create_token(
        self, info: Info, input: types.CreateTokenInput
    ) -> types.CreateTokenPayload:
        result = await token_resolvers.create_token(
            info, str(input.organization_id), input.role, input.name
        )
        created = result.value
        return types.CreateTokenPayload(
            token=created.secret if created else None,
            token_id=strawberry.ID(created.token.id) if created else None,
            user_errors=types.user_errors(result.user_errors),
        )

    @strawberry.mutation
    async def revoke_token(self, info: Info, id: strawberry.ID) -> types.RevokeTokenPayload:
        result = await token_resolvers.revoke_token(info, str(id))
        return types.RevokeTokenPayload(
            token=types.ApiToken.from_rules(result.value) if result.value else None,
            user_errors=types.user_errors(result.user_errors),
        )
