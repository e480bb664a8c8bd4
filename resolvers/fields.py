"""Field paths: the API's spelling of the inputs the rules name (`seatkeeper.rules.fields`).

The rules point at an offending input with neutral names and list indexes; clients see the
GraphQL path of that input, camelCase, indexes as strings, under the argument that holds it
(`input` for most mutations). Every neutral name has its spelling here, and only here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from seatkeeper.rules.fields import FieldPath, InputField

#: Each neutral name as the schema spells the argument or input field.
API_NAMES: Final[Mapping[InputField, str]] = {
    InputField.ID: "id",
    InputField.NAME: "name",
    InputField.EMAIL: "email",
    InputField.FULL_NAME: "fullName",
    InputField.USER_ID: "userId",
    InputField.USER_IDS: "userIds",
    InputField.USERS: "users",
    InputField.INSPECTIONS: "inspections",
    InputField.LICENSE_TYPE: "licenseType",
    InputField.PROJECT_ID: "projectId",
    InputField.ORGANIZATION_ID: "organizationId",
    InputField.TRIAL_DAYS: "trialDays",
    InputField.SEATS: "seats",
    InputField.VALID_UNTIL: "validUntil",
    InputField.ROLE: "role",
    InputField.INACTIVITY_DAYS: "inactivityDays",
    InputField.GRACE_PERIOD_DAYS: "gracePeriodDays",
    InputField.CSV: "csv",
    InputField.FIRST: "first",
    InputField.AFTER: "after",
    InputField.SEARCH: "search",
    InputField.EXPIRES_AT: "expiresAt",
    InputField.REQUESTS_PER_SECOND: "requestsPerSecond",
}

#: The argument most mutations take their inputs in (`sync(input: SyncInput!)`).
IN_INPUT: Final = ("input",)


def api_path(path: FieldPath | None, within: tuple[str, ...] = ()) -> list[str] | None:
    """The GraphQL path of an input the rules named (None for none), under `within`."""
    if not path:
        return None
    return [*within, *(_spelled(part) for part in path)]


def _spelled(part: InputField | int) -> str:
    return API_NAMES[part] if isinstance(part, InputField) else str(part)
