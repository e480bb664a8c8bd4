"""SPEC 9 (tenancy and access): organizations, subscriptions, tokens and authentication.

What the OPERATOR does (organizations, subscriptions), and tokens: created with a secret shown
once, stored only as a hash, revoked, and looked up to authenticate a request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from seatkeeper.domain.records import (
    DEFAULT_PROJECT_ID,
    SYSTEM_ACTOR,
    AdminAction,
    LicenseType,
    Organization,
    Project,
    ProjectKind,
    Role,
    Subscription,
    Token,
    new_id,
)
from seatkeeper.rules import decisions
from seatkeeper.rules.access import TOKEN_ROLES, Caller, hash_secret, new_secret
from seatkeeper.rules.base import EngineBase
from seatkeeper.rules.fields import InputField
from seatkeeper.rules.outcomes import ErrorCode, Result, UserError
from seatkeeper.storage.protocol import StorageError

logger = logging.getLogger("seatkeeper")

MAX_SEATS = 10_000_000
#: A token's own request budget: more than 0, at most this many requests per second.
MAX_TOKEN_REQUESTS_PER_SECOND = 100_000.0
MAX_TRIAL_DAYS = 365


@dataclass(frozen=True)
class CreatedOrganization:
    organization: Organization
    admin_token: str
    sync_token: str


@dataclass(frozen=True)
class CreatedToken:
    token: Token
    secret: str


class TenancyOperations(EngineBase):
    """SPEC 9: organizations, subscriptions and tokens."""

    async def create_organization(
        self, name: str, trial_days: int = 0, *, actor: str = SYSTEM_ACTOR
    ) -> Result[CreatedOrganization]:
        """Create an organization with its default project, and its first ADMIN and SYNC tokens.

        `actor` (as `access.actor_of` records one) goes to the administration log (SPEC 8), as for
        every administrative change below; the default is the engine's own `system`."""
        problems = []
        if problem := decisions.label_problem(name, "organization name"):
            problems.append(UserError(ErrorCode.INVALID_INPUT, problem, (InputField.NAME,)))
        if trial_days is None or not 0 <= trial_days <= MAX_TRIAL_DAYS:
            problems.append(
                UserError(
                    ErrorCode.INVALID_INPUT,
                    f"trialDays must be between 0 and {MAX_TRIAL_DAYS}",
                    (InputField.TRIAL_DAYS,),
                )
            )
        if problems:
            return Result(user_errors=problems)
        now = self.clock()
        organization = Organization(
            id=new_id(),
            name=name.strip(),
            created_at=now,
            trial_ends_at=now + timedelta(days=trial_days) if trial_days else None,
        )
        default_project = Project(
            organization.id, DEFAULT_PROJECT_ID, "Default", ProjectKind.STANDARD
        )
        created = self._admin_entry(
            organization.id,
            AdminAction.ORGANIZATION_CREATED,
            actor,
            organization.id,
            f"name {organization.name!r}, trial {trial_days} days",
        )
        await self.storage.create_organization(organization, default_project, log=created)
        admin = await self._new_token(organization.id, Role.ADMIN, "admin", actor)
        sync = await self._new_token(organization.id, Role.SYNC, "sync", actor)
        return Result(CreatedOrganization(organization, admin.secret, sync.secret))

    async def list_organizations(self) -> list[Organization]:
        return await self.storage.list_organizations()

    async def add_subscription(
        self,
        organization_id: str,
        license_type: LicenseType,
        seats: int | None,
        valid_until: datetime,
        valid_from: datetime | None = None,
        *,
        actor: str = SYSTEM_ACTOR,
    ) -> Result[Subscription]:
        """SPEC 3, Subscriptions: seat types need 1 <= seats; EXTERNAL ignores seats; from < until."""
        if await self.storage.get_organization(organization_id) is None:
            return Result(
                user_errors=[
                    UserError(
                        ErrorCode.ORGANIZATION_NOT_FOUND,
                        f"no organization {organization_id!r}",
                        (InputField.ORGANIZATION_ID,),
                    )
                ]
            )
        valid_from = valid_from or self.clock()
        problems = []
        if license_type is LicenseType.EXTERNAL:
            seats = None
        elif seats is None or not 1 <= seats <= MAX_SEATS:
            problems.append(
                UserError(
                    ErrorCode.INVALID_INPUT,
                    f"seats must be between 1 and {MAX_SEATS} for {license_type.value}",
                    (InputField.SEATS,),
                )
            )
        if not valid_until > valid_from:
            problems.append(
                UserError(
                    ErrorCode.INVALID_INPUT,
                    "validUntil must be after validFrom",
                    (InputField.VALID_UNTIL,),
                )
            )
        if problems:
            return Result(user_errors=problems)
        subscription = Subscription(
            organization_id, new_id(), license_type, seats, valid_from, valid_until
        )
        seats_text = "no seat count" if seats is None else f"{seats} seats"
        added = self._admin_entry(
            organization_id,
            AdminAction.SUBSCRIPTION_ADDED,
            actor,
            subscription.id,
            f"{license_type.value}, {seats_text}, "
            f"{valid_from.isoformat()} to {valid_until.isoformat()}",
        )
        await self.storage.add_subscription(subscription, log=added)
        return Result(subscription)

    async def _new_token(
        self,
        organization_id: str,
        role: Role,
        name: str,
        actor: str,
        expires_at: datetime | None = None,
        requests_per_second: float | None = None,
    ) -> CreatedToken:
        secret = new_secret()
        token = Token(
            new_id(),
            organization_id,
            name,
            role,
            hash_secret(secret),
            self.clock(),
            expires_at=expires_at,
            requests_per_second=requests_per_second,
        )
        expiry = f", expires {expires_at.isoformat()}" if expires_at else ""
        if requests_per_second is not None:
            expiry += f", {requests_per_second:g} requests per second"
        created = self._admin_entry(
            organization_id,
            AdminAction.TOKEN_CREATED,
            actor,
            token.id,
            f"role {role.value}, name {name!r}{expiry}",
        )
        await self.storage.add_token(token, log=created)
        return CreatedToken(token, secret)

    async def create_token(
        self,
        organization_id: str,
        role: Role,
        name: str,
        *,
        actor: str = SYSTEM_ACTOR,
        expires_at: datetime | None = None,
        requests_per_second: float | None = None,
    ) -> Result[CreatedToken]:
        """SPEC 9: a token of role ADMIN, SYNC or READER; its secret is returned this once.

        With `expires_at` (in the future) it stops working then: from that instant it is
        refused like an unknown token (401). With `requests_per_second` it has its own request
        budget (a token bucket, per server process), in place of the server-wide one."""
        problems = budget_problems(requests_per_second)
        if expires_at is not None and not expires_at > self.clock():
            problems.append(
                UserError(
                    ErrorCode.INVALID_INPUT,
                    "expiresAt must be in the future",
                    (InputField.EXPIRES_AT,),
                )
            )
        if role not in TOKEN_ROLES:
            problems.append(
                UserError(
                    ErrorCode.INVALID_INPUT,
                    "tokens are created with role ADMIN, SYNC or READER",
                    (InputField.ROLE,),
                )
            )
        if problem := decisions.token_name_problem(name):
            problems.append(UserError(ErrorCode.INVALID_INPUT, problem, (InputField.NAME,)))
        if await self.storage.get_organization(organization_id) is None:
            problems.append(
                UserError(
                    ErrorCode.ORGANIZATION_NOT_FOUND,
                    f"no organization {organization_id!r}",
                    (InputField.ORGANIZATION_ID,),
                )
            )
        if problems:
            return Result(user_errors=problems)
        return Result(
            await self._new_token(
                organization_id, role, name.strip(), actor, expires_at, requests_per_second
            )
        )

    async def list_tokens(self, organization_id: str | None) -> list[Token]:
        return await self.storage.list_tokens(organization_id)

    async def _listed_token(self, token_id: str, organization_id: str | None) -> Token | None:
        """The token `token_id` among `organization_id`'s (any for None), read before a change so
        that its administration-log entry can say what it was."""
        return next(
            (t for t in await self.storage.list_tokens(organization_id) if t.id == token_id), None
        )

    async def set_token_budget(
        self,
        token_id: str,
        organization_id: str | None,
        requests_per_second: float | None,
        *,
        actor: str = SYSTEM_ACTOR,
    ) -> Result[Token]:
        """A token's own request budget (None: back to the server-wide one), of `organization_id`
        (any for the OPERATOR's None); TOKEN_NOT_FOUND, INVALID_INPUT."""
        problems = budget_problems(requests_per_second)
        if problems:
            return Result(user_errors=problems)
        found = await self._listed_token(token_id, organization_id)
        changed = None
        if found is not None and found.organization_id is not None:
            before = found.requests_per_second
            changed = self._admin_entry(
                found.organization_id,
                AdminAction.TOKEN_CHANGED,
                actor,
                token_id,
                f"requests per second: {_budget(before)} -> {_budget(requests_per_second)}",
            )
        token = await self.storage.set_token_budget(
            token_id, organization_id, requests_per_second, log=changed
        )
        return _found_token(token, token_id)

    async def revoke_token(
        self, token_id: str, organization_id: str | None, *, actor: str = SYSTEM_ACTOR
    ) -> Result[Token]:
        """Revoke a token of `organization_id` (any, for the OPERATOR's None); TOKEN_NOT_FOUND else."""
        # The entry belongs to the token's organization, which the OPERATOR does not name.
        found = await self._listed_token(token_id, organization_id)
        revoked = None
        if found is not None and found.organization_id is not None:
            revoked = self._admin_entry(
                found.organization_id,
                AdminAction.TOKEN_REVOKED,
                actor,
                token_id,
                f"role {found.role.value}, name {found.name!r}",
            )
        token = await self.storage.revoke_token(
            token_id, organization_id, self.clock(), log=revoked
        )
        return _found_token(token, token_id)

    async def authenticate(self, secret: str) -> Caller | None:
        """The caller a token secret names, or None for an unknown, revoked or expired one.

        Notes the use (`last_used_at`) coarsely: at most one write per token and process a
        minute (`rules.token_use`), never one per request."""
        if not secret or len(secret) > 256:
            return None
        token = await self.storage.find_token(hash_secret(secret))
        if token is None or token.revoked_at is not None:
            return None
        now = self.clock()
        if token.expires_at is not None and now >= token.expires_at:
            return None
        if self._token_use.due(token, now):
            try:
                await self.storage.touch_token(token.id, now)
            except StorageError as error:  # a missed "last used" must not refuse the request
                logger.warning("could not record the use of token %s: %s", token.id, error)
        return Caller(
            token.role, token.organization_id, token.name, token.id, token.requests_per_second
        )


def budget_problems(requests_per_second: float | None) -> list[UserError]:
    """A token's own request budget: None, or more than 0 and at most the maximum."""
    if requests_per_second is None or 0 < requests_per_second <= MAX_TOKEN_REQUESTS_PER_SECOND:
        return []
    return [
        UserError(
            ErrorCode.INVALID_INPUT,
            f"requestsPerSecond must be more than 0 and at most {MAX_TOKEN_REQUESTS_PER_SECOND:g}",
            (InputField.REQUESTS_PER_SECOND,),
        )
    ]


def _budget(requests_per_second: float | None) -> str:
    return "server default" if requests_per_second is None else f"{requests_per_second:g}"


def _found_token(token: Token | None, token_id: str) -> Result[Token]:
    """The token a change returned, or TOKEN_NOT_FOUND when the storage found none to change."""
    if token is None:
        return Result(
            user_errors=[
                UserError(
                    ErrorCode.TOKEN_NOT_FOUND, f"no token {token_id[:64]!r}", (InputField.ID,)
                )
            ]
        )
    return Result(token)
