"""The inputs the rules name when they refuse one: neutral names, not the API's spelling.

A user error or a bad request points at the offending input with a path of these names and list
indexes, relative to the operation's inputs: `(InputField.USERS, 3, InputField.EMAIL)`. The API
layer (`seatkeeper.resolvers.fields`) spells the path as clients see it (`["users", "3", "email"]`,
under `input` where the mutation wraps its arguments); the rules never see a GraphQL name.
"""

from __future__ import annotations

import enum


class InputField(enum.StrEnum):
    """An input of an engine operation, by its Python name."""

    ID = "id"
    NAME = "name"
    EMAIL = "email"
    FULL_NAME = "full_name"
    USER_ID = "user_id"
    USER_IDS = "user_ids"
    USERS = "users"
    INSPECTIONS = "inspections"
    LICENSE_TYPE = "license_type"
    PROJECT_ID = "project_id"
    ORGANIZATION_ID = "organization_id"
    TRIAL_DAYS = "trial_days"
    SEATS = "seats"
    VALID_UNTIL = "valid_until"
    ROLE = "role"
    INACTIVITY_DAYS = "inactivity_days"
    GRACE_PERIOD_DAYS = "grace_period_days"
    CSV = "csv"
    FIRST = "first"
    AFTER = "after"
    SEARCH = "search"
    EXPIRES_AT = "expires_at"
    REQUESTS_PER_SECOND = "requests_per_second"


#: Where an offending input sits: names, and indexes into lists.
FieldPath = tuple[InputField | int, ...]
