"""`tokens`: create (the secret is shown once; an expiry and an own request budget), list (with
last use, expiry and budget), revoke and budget, as a client of the GraphQL API (SPEC 9;
operations in trusted_documents/cli.graphql).

The server decides who may (an ADMIN for its organization, the OPERATOR for any) and whether an
expiry lies in the future (by its clock, not this machine's); the command checks the form of
each value first so that a malformed one never reaches it.
"""

from __future__ import annotations

import click
from seatkeeper.rules.tenancy import MAX_TOKEN_REQUESTS_PER_SECOND
from seatkeeper.server.cli_admin import ORG_OPTION
from seatkeeper.server.cli_config import ENVIRONMENT_HELP, server_options
from seatkeeper.server.cli_output import exit_on_user_errors, note, print_json, table
from seatkeeper.server.cli_types import MOMENT, TOKEN_ROLE, RequestBudget
from seatkeeper.server.client import Server, fail

REQUEST_BUDGET = RequestBudget(MAX_TOKEN_REQUESTS_PER_SECOND)


def _budget(requests_per_second: float | None) -> str | None:
    return None if requests_per_second is None else f"{requests_per_second:g}/s"


@click.group(epilog=ENVIRONMENT_HELP)
def tokens() -> None:
    """API tokens: create (the secret is shown once), list, revoke, budget."""


@tokens.command("list", epilog=ENVIRONMENT_HELP)
@ORG_OPTION
@server_options
def tokens_list(organization_id: str | None, server: Server, as_json: bool) -> None:
    """Tokens of the organization (the OPERATOR: of every organization, or of --org), with when
    each was last used (to the minute), when it expires and its own request budget (`-`: none,
    the server-wide one)."""
    found = server.call("Tokens", {"organizationId": organization_id})["tokens"]
    if as_json:
        print_json(found)
        return
    table(
        ["id", "name", "role", "organization", "created", "revoked", "last used", "expires",
         "budget"],
        [
            (
                t["id"],
                t["name"],
                t["role"],
                t["organizationId"],
                t["createdAt"],
                t["revokedAt"],
                t["lastUsedAt"],
                t["expiresAt"],
                _budget(t["requestsPerSecond"]),
            )
            for t in found
        ],
    )  # fmt: skip


@tokens.command("create", epilog=ENVIRONMENT_HELP)
@click.option("--role", required=True, type=TOKEN_ROLE, help="admin, sync or reader.")
@click.option("--name", required=True, help="A name saying who holds it (1-100 characters).")
@click.option(
    "--expires-at",
    type=MOMENT,
    help="When it stops working, in the future: 2027-12-31, 2027-12-31T18:00Z, +90d, … "
    "(default: never).",
)
@click.option(
    "--requests-per-second",
    type=REQUEST_BUDGET,
    help=f"Its own request budget, more than 0 and at most {MAX_TOKEN_REQUESTS_PER_SECOND:g} "
    "(default: the server-wide one).",
)
@ORG_OPTION
@server_options
def tokens_create(
    role: str,
    name: str,
    expires_at: str | None,
    requests_per_second: float | None,
    organization_id: str | None,
    server: Server,
    as_json: bool,
) -> None:
    """Create a token; its secret is printed this once (on stdout, alone, for scripts)."""
    if organization_id is None:
        organization_id = server.call("Viewer")["viewer"]["organizationId"]
        if organization_id is None:
            fail("the OPERATOR must name the organization with --org")
    variables = {
        "organizationId": organization_id,
        "role": role,
        "name": name,
        "expiresAt": expires_at,
        "requestsPerSecond": requests_per_second,
    }
    payload = server.call("CreateToken", {"input": variables})["createToken"]
    exit_on_user_errors(payload, as_json)
    if as_json:
        print_json(payload)
        return
    click.echo(payload["token"])
    expiry = f", expires {expires_at}" if expires_at else ""
    note(
        f"token {payload['tokenId']} ({role} {name!r}{expiry}): the secret above is shown this once."
    )


@tokens.command("budget", epilog=ENVIRONMENT_HELP)
@click.argument("token_id")
@click.argument("requests_per_second", metavar="N", type=REQUEST_BUDGET, required=False)
@click.option("--off", is_flag=True, help="Back to the server-wide budget (off by default).")
@server_options
def tokens_budget(
    token_id: str, requests_per_second: float | None, off: bool, server: Server, as_json: bool
) -> None:
    """Give the token TOKEN_ID its own request budget of N requests per second (per server
    process; beyond it, 429 with Retry-After), or take it away with --off."""
    if (requests_per_second is None) == (not off):
        fail("give either N (requests per second) or --off, not both and not neither")
    payload = server.call(
        "SetTokenRequestBudget", {"id": token_id, "requestsPerSecond": requests_per_second}
    )["setTokenRequestBudget"]
    exit_on_user_errors(payload, as_json)
    if as_json:
        print_json(payload)
        return
    changed = payload["token"]
    budget = _budget(changed["requestsPerSecond"]) or "the server-wide one"
    click.echo(f"token {changed['id']} ({changed['name']}): request budget {budget}")


@tokens.command("revoke", epilog=ENVIRONMENT_HELP)
@click.argument("token_id")
@server_options
def tokens_revoke(token_id: str, server: Server, as_json: bool) -> None:
    """Revoke a token by its id: requests with it are refused from now on."""
    payload = server.call("RevokeToken", {"id": token_id})["revokeToken"]
    exit_on_user_errors(payload, as_json)
    if as_json:
        print_json(payload)
        return
    revoked = payload["token"]
    click.echo(f"revoked token {revoked['id']} ({revoked['name']}) at {revoked['revokedAt']}")


COMMANDS = [tokens]
