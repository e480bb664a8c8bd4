"""`whoami`, `orgs`, `subscriptions`, `settings` and `projects`: administration as a client of
the GraphQL API (operations in trusted_documents/cli.graphql; `tokens` is in cli_tokens.py).

Who may run what is the server's decision (SPEC 9): the OPERATOR creates organizations and adds
subscriptions, names an organization with `--org` where it reads one; an ADMIN works on its own
organization; a READER reads.
"""

from __future__ import annotations

from typing import Any

import click
from seatkeeper.server.cli_config import ENVIRONMENT_HELP, server_options
from seatkeeper.server.cli_output import (
    exit_on_user_errors,
    fields,
    note,
    print_json,
    table,
)
from seatkeeper.server.cli_types import LICENSE_TYPE, MOMENT, PROJECT_KIND
from seatkeeper.server.client import Server, fail

ORG_OPTION = click.option(
    "--org",
    "organization_id",
    help="Organization id (the OPERATOR names one; other tokens act on their own).",
)


def _organization(server: Server, organization_id: str | None) -> dict[str, Any]:
    found: dict[str, Any] | None = server.call("Organization", {"organizationId": organization_id})[
        "organization"
    ]
    if found is None:
        fail(f"no organization {organization_id!r}", 1)
    organization: dict[str, Any] = found
    return organization


# ---------------------------------------------------------------- whoami


@click.command(epilog=ENVIRONMENT_HELP)
@server_options
def whoami(server: Server, as_json: bool) -> None:
    """Who the token is: its role, name and organization."""
    viewer = server.call("Viewer")["viewer"]
    if as_json:
        print_json({"url": server.url, **viewer})
        return
    organization = viewer.get("organization") or {}
    fields(
        [
            ("server", server.url),
            ("role", viewer["role"]),
            ("token", viewer["tokenName"] and f"{viewer['tokenName']} ({viewer['tokenId']})"),
            ("organization", organization.get("name") or viewer["organizationId"]),
            ("organization id", viewer["organizationId"]),
            ("trial ends", organization.get("trialEndsAt")),
        ]
    )


# ---------------------------------------------------------------- orgs (OPERATOR)


@click.group(epilog=ENVIRONMENT_HELP)
def orgs() -> None:
    """Organizations: create, list, show (the OPERATOR's token)."""


@orgs.command("list", epilog=ENVIRONMENT_HELP)
@server_options
def orgs_list(server: Server, as_json: bool) -> None:
    """Every organization."""
    found = server.call("Organizations")["organizations"]
    if as_json:
        print_json(found)
        return
    table(
        ["id", "name", "created", "trial ends"],
        [(o["id"], o["name"], o["createdAt"], o["trialEndsAt"]) for o in found],
    )


@orgs.command("create", epilog=ENVIRONMENT_HELP)
@click.argument("name")
@click.option(
    "--trial-days",
    default=0,
    show_default=True,
    type=click.IntRange(0, 365),
    help="Trial (SPEC 9: 0–365).",
)
@server_options
def orgs_create(name: str, trial_days: int, server: Server, as_json: bool) -> None:
    """Create an organization; prints its first ADMIN and SYNC tokens, shown this once."""
    payload = server.call("CreateOrganization", {"input": {"name": name, "trialDays": trial_days}})[
        "createOrganization"
    ]
    exit_on_user_errors(payload, as_json)
    if as_json:
        print_json(payload)
        return
    organization = payload["organization"]
    fields(
        [
            ("organization", organization["name"]),
            ("id", organization["id"]),
            ("trial ends", organization["trialEndsAt"]),
            ("ADMIN token", payload["adminToken"]),
            ("SYNC token", payload["syncToken"]),
        ]
    )
    note("The tokens are shown this once: keep them now (seatkeeper config save --token …).")


@orgs.command("show", epilog=ENVIRONMENT_HELP)
@click.argument("organization_id", required=False)
@server_options
def orgs_show(organization_id: str | None, server: Server, as_json: bool) -> None:
    """One organization (the OPERATOR names it; others see their own)."""
    found = _organization(server, organization_id)
    if as_json:
        print_json(found)
        return
    settings = found["settings"]
    fields(
        [
            ("id", found["id"]),
            ("name", found["name"]),
            ("created", found["createdAt"]),
            ("trial ends", found["trialEndsAt"]),
            *((_SETTING_LABELS[key], value) for key, value in settings.items()),
            ("projects", ", ".join(f"{p['id']} ({p['kind']})" for p in found["projects"])),
        ]
    )


# ---------------------------------------------------------------- subscriptions (SPEC 6)


@click.group(epilog=ENVIRONMENT_HELP)
def subscriptions() -> None:
    """Subscriptions: the SPEC 6 view per license type, and adding one (OPERATOR)."""


@subscriptions.command("list", epilog=ENVIRONMENT_HELP)
@ORG_OPTION
@server_options
def subscriptions_list(organization_id: str | None, server: Server, as_json: bool) -> None:
    """One row per license type (seats, assigned, available, over-allocated, pending), then
    every subscription."""
    rows = server.call("Subscriptions", {"organizationId": organization_id})["subscriptions"]
    if as_json:
        print_json(rows)
        return
    table(
        ["type", "active", "seats", "assigned", "available", "over", "pending"],
        [
            (
                r["licenseType"],
                r["active"],
                r["seats"],
                r["assigned"],
                r["available"],
                r["overAllocated"],
                r["pending"],
            )
            for r in rows
        ],
    )
    items = [item for r in rows for item in r["items"]]
    if items:
        click.echo()
        table(
            ["subscription", "type", "seats", "valid from", "valid until", "status"],
            [
                (
                    i["id"],
                    i["licenseType"],
                    i["seats"],
                    i["validFrom"],
                    i["validUntil"],
                    i["status"],
                )
                for i in items
            ],
        )


@subscriptions.command("add", epilog=ENVIRONMENT_HELP)
@click.argument("license_type", metavar="TYPE", type=LICENSE_TYPE)
@click.option("--org", "organization_id", required=True, help="Organization id.")
@click.option("--seats", type=click.IntRange(1), help="Seats (STANDARD and INSPECTIONS).")
@click.option("--from", "valid_from", type=MOMENT, help="Start (default: now).")
@click.option(
    "--until", "valid_until", type=MOMENT, required=True, help="End: 2027-12-31, +365d, …"
)
@server_options
def subscriptions_add(
    license_type: str,
    organization_id: str,
    seats: int | None,
    valid_from: str | None,
    valid_until: str,
    server: Server,
    as_json: bool,
) -> None:
    """Add a subscription of TYPE (standard, inspections, external) to an organization."""
    if license_type != "EXTERNAL" and seats is None:
        fail(f"--seats is required for {license_type}")
    variables = {
        "organizationId": organization_id,
        "licenseType": license_type,
        "seats": seats,
        "validFrom": valid_from,
        "validUntil": valid_until,
    }
    payload = server.call("AddSubscription", {"input": variables})["addSubscription"]
    exit_on_user_errors(payload, as_json)
    if as_json:
        print_json(payload)
        return
    s = payload["subscription"]
    fields(
        [
            ("subscription", s["id"]),
            ("type", s["licenseType"]),
            ("seats", s["seats"]),
            ("valid from", s["validFrom"]),
            ("valid until", s["validUntil"]),
            ("status", s["status"]),
        ]
    )


# ---------------------------------------------------------------- settings (SPEC 3)

_SETTING_LABELS = {
    "autoAssignLicenses": "auto-assign",
    "autoFreeUpLicenses": "auto-free-up",
    "inactivityDays": "inactivity days",
    "gracePeriodDays": "grace period days",
}


@click.group(epilog=ENVIRONMENT_HELP)
def settings() -> None:
    """The organization's settings (SPEC 3)."""


@settings.command("show", epilog=ENVIRONMENT_HELP)
@ORG_OPTION
@server_options
def settings_show(organization_id: str | None, server: Server, as_json: bool) -> None:
    """Automatic assignment, automatic freeing up, inactivity and grace period."""
    values = _organization(server, organization_id)["settings"]
    if as_json:
        print_json(values)
        return
    fields([(_SETTING_LABELS[key], value) for key, value in values.items()])


@settings.command("set", epilog=ENVIRONMENT_HELP)
@click.option("--auto-assign/--no-auto-assign", default=None, help="autoAssignLicenses.")
@click.option("--auto-free-up/--no-auto-free-up", default=None, help="autoFreeUpLicenses.")
@click.option("--inactivity-days", type=click.IntRange(1, 3650), help="1-3650.")
@click.option("--grace-period-days", type=click.IntRange(0, 365), help="0-365.")
@server_options
def settings_set(
    auto_assign: bool | None,
    auto_free_up: bool | None,
    inactivity_days: int | None,
    grace_period_days: int | None,
    server: Server,
    as_json: bool,
) -> None:
    """Change one or more settings (ADMIN); the others stay as they are."""
    values = {
        "autoAssignLicenses": auto_assign,
        "autoFreeUpLicenses": auto_free_up,
        "inactivityDays": inactivity_days,
        "gracePeriodDays": grace_period_days,
    }
    changes = {key: value for key, value in values.items() if value is not None}
    if not changes:
        fail("nothing to set: pass at least one option (see --help)")
    payload = server.call("UpdateSettings", {"input": changes})["updateSettings"]
    exit_on_user_errors(payload, as_json)
    if as_json:
        print_json(payload["settings"])
        return
    fields([(_SETTING_LABELS[key], value) for key, value in payload["settings"].items()])


# ---------------------------------------------------------------- projects (SPEC 1, 3)


@click.group(epilog=ENVIRONMENT_HELP)
def projects() -> None:
    """Projects: the app configurations users sync against, each requiring a license type."""


@projects.command("list", epilog=ENVIRONMENT_HELP)
@ORG_OPTION
@server_options
def projects_list(organization_id: str | None, server: Server, as_json: bool) -> None:
    """Every project with its kind."""
    found = _organization(server, organization_id)["projects"]
    if as_json:
        print_json(found)
        return
    table(["id", "name", "kind"], [(p["id"], p["name"], p["kind"]) for p in found])


@projects.command("upsert", epilog=ENVIRONMENT_HELP)
@click.argument("project_id")
@click.option("--name", help="Display name (default: the id).")
@click.option("--kind", required=True, type=PROJECT_KIND, help="standard, inspections, external.")
@server_options
def projects_upsert(
    project_id: str, name: str | None, kind: str, server: Server, as_json: bool
) -> None:
    """Create the project PROJECT_ID or change its name and kind (ADMIN)."""
    variables = {"id": project_id, "name": name or project_id, "kind": kind}
    payload = server.call("UpsertProject", {"input": variables})["upsertProject"]
    exit_on_user_errors(payload, as_json)
    if as_json:
        print_json(payload["project"])
        return
    p = payload["project"]
    click.echo(f"project {p['id']} ({p['name']}): {p['kind']}")


COMMANDS = [whoami, orgs, subscriptions, settings, projects]
