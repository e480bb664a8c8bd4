"""Argument types of the command line: moments in time and the API's enums, checked before sending."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import click

_RELATIVE = re.compile(r"^([+-])(\d{1,6})([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def shown(text: str) -> str:
    """A value quoted in an error, cut short: a hostile 10,000-character one is never echoed whole."""
    return repr(text if len(text) <= 40 else text[:40] + "…")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Moment(click.ParamType):  # type: ignore[type-arg]  # generic in recent click only; the project allows 8.1
    """A date (`2027-01-31`, midnight UTC), a date and time (UTC unless it has an offset), `now`,
    or a time relative to now (`-7d`, `+365d`, `-2h`, `-30m`, `+1w`). Sent as ISO 8601 UTC."""

    name = "moment"

    def __init__(self, now: Any = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if isinstance(value, datetime):
            return iso(value)
        text = str(value).strip()
        if text.lower() == "now":
            return iso(self._now())
        relative = _RELATIVE.match(text)
        if relative:
            sign, amount, unit = relative.groups()
            delta = timedelta(**{_UNITS[unit]: int(amount)})
            return iso(self._now() + (delta if sign == "+" else -delta))
        try:
            parsed = datetime.fromisoformat(text) if len(text) <= 40 else None
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail(
                f"{shown(text)} is not a date: use 2027-01-31, 2027-01-31T12:00Z, now, -7d or +365d",
                param,
                ctx,
            )
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return iso(parsed)


class RequestBudget(click.ParamType):  # type: ignore[type-arg]  # generic in recent click only; the project allows 8.1
    """A token's own request budget: requests per second, more than 0 and at most `maximum`.
    Checked here because click's FloatRange lets `nan` through (orjson would send it as null,
    which means "the server-wide budget")."""

    name = "requests-per-second"

    def __init__(self, maximum: float) -> None:
        self.maximum = maximum

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        text = str(value).strip()
        try:
            number = float(text) if len(text) <= 40 else math.nan
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and 0 < number <= self.maximum):
            self.fail(
                f"{shown(text)} is not a request budget: a number of requests per second,"
                f" more than 0 and at most {self.maximum:g}",
                param,
                ctx,
            )
        return number


class Upper(click.Choice):  # type: ignore[type-arg]  # generic in click >= 8.2 only; the project allows 8.1
    """An enum of the API, typed in any case, sent in capitals (`assigned` -> `ASSIGNED`)."""

    def __init__(self, *choices: str) -> None:
        super().__init__([c.lower() for c in choices], case_sensitive=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        return str(super().convert(value, param, ctx)).upper()


MOMENT = Moment()
LICENSE_TYPE = Upper("STANDARD", "INSPECTIONS", "EXTERNAL")
SEAT_TYPE = Upper("STANDARD", "INSPECTIONS")
LICENSE_STATE = Upper("ASSIGNED", "UNASSIGNED", "DISABLED")
TOKEN_ROLE = Upper("ADMIN", "SYNC", "READER")
PROJECT_KIND = Upper("STANDARD", "INSPECTIONS", "EXTERNAL")
PAGE_SIZE = click.IntRange(1, 500)
