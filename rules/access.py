"""SPEC 9, Access: who a caller is and what its role may do. Tokens are stored only as hashes."""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from seatkeeper.domain.records import Role

TOKEN_PREFIX = "sk_"


class Action(str, enum.Enum):
    SYNC = "SYNC"  # the sync mutation
    READ = "READ"  # queries of one organization, exports included
    ADMINISTER = "ADMINISTER"  # users, licenses, projects, settings, import
    MANAGE_TOKENS = "MANAGE_TOKENS"  # create, list, revoke tokens of one organization
    OPERATE = "OPERATE"  # organizations and subscriptions (vendor side)


_ALLOWED: dict[Role, frozenset[Action]] = {
    Role.OPERATOR: frozenset({Action.OPERATE, Action.MANAGE_TOKENS}),
    Role.ADMIN: frozenset({Action.SYNC, Action.READ, Action.ADMINISTER, Action.MANAGE_TOKENS}),
    Role.SYNC: frozenset({Action.SYNC}),
    Role.READER: frozenset({Action.READ}),
}

#: Roles a token may be created with (the OPERATOR's secret is configuration).
TOKEN_ROLES = (Role.ADMIN, Role.SYNC, Role.READER)


@dataclass(frozen=True)
class Caller:
    """Who sent a request: its role, its organization (None for the OPERATOR) and its name."""

    role: Role
    organization_id: str | None
    name: str
    token_id: str | None = None
    #: The token's own request budget (a token bucket), overriding the server-wide one.
    requests_per_second: float | None = None

    def may(self, action: Action) -> bool:
        return action in _ALLOWED[self.role]


def actor_of(caller: Caller) -> str:
    """SPEC 8: the audit log's record of who acted: `OPERATOR`, or `<ROLE>:<token id>` for a
    token. A token's name is free text (two tokens may share one): it is shown beside the id
    when the log is read, never recorded as the identity."""
    if caller.role is Role.OPERATOR:
        return Role.OPERATOR.value
    if caller.token_id is None:
        return caller.name
    return f"{caller.role.value}:{caller.token_id}"


def read_actor(actor: str) -> tuple[str | None, str | None]:
    """(role, token id) of a recorded actor; (None, None) for `system` and older free text."""
    if actor == Role.OPERATOR.value:
        return actor, None
    role, colon, token_id = actor.partition(":")
    if colon and token_id and role in {r.value for r in TOKEN_ROLES}:
        return role, token_id
    return None, None


def new_secret() -> str:
    """A fresh token secret: 256 random bits, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """The stored form of a secret. A secret has 256 random bits, so a plain SHA-256 suffices."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    """Compare two secrets in constant time."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )
