"""The users file's filter from a download's query string (SPEC 6a, SPEC 7 "Export Users").

`GET /export/users.csv?search=…&licenseType=…&state=…&inactive=true|false`: the console's Export
Users sends the list's search and filter this way, so that the file holds what the screen lists.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

from seatkeeper.domain.records import LicenseState, LicenseType
from seatkeeper.rules.engine import UserFilter

E = TypeVar("E", bound=enum.Enum)


def users_filter_from_query(params: Mapping[str, str]) -> UserFilter | None:
    """The filter the parameters name, or None without any; a bad value is a ValueError."""
    license_type = _enum_param(params, "licenseType", LicenseType)
    state = _enum_param(params, "state", LicenseState)
    inactive_text = params.get("inactive")
    if inactive_text not in (None, "", "true", "false"):
        raise ValueError("`inactive` must be true or false")
    inactive = None if not inactive_text else inactive_text == "true"
    if license_type is None and state is None and inactive is None:
        return None
    return UserFilter(license_type, state, inactive)


def _enum_param(params: Mapping[str, str], name: str, kind: type[E]) -> E | None:
    text = params.get(name)
    if not text:
        return None
    try:
        return kind[text]
    except KeyError:
        allowed = ", ".join(member.name for member in kind)
        raise ValueError(f"`{name}` must be one of {allowed}") from None
