"""Where a setting's value comes from, and how a wrong one is named and refused.

Each setting's flag and variable (`OPTIONS`; error messages name both), the checks `Settings`
runs on every value, and the two sources besides click's flags: the SEATKEEPER_* environment
(`EnvironmentSource`, read as click reads it) and the JSON object `serve` hands its workers
(`JsonSource`). `seatkeeper.server.settings` builds the one `Settings` object from them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Protocol

from seatkeeper.server.cors import CorsConfigError, parse_origins

#: The variable through which `serve` hands its settings to its worker processes (the
#: docstring of seatkeeper.server.settings says why).
SETTINGS_VARIABLE: Final = "SEATKEEPER_SETTINGS_JSON"
OPERATOR_TOKEN_VARIABLE: Final = "SEATKEEPER_OPERATOR_TOKEN"
DATA_DIR_VARIABLE: Final = "SEATKEEPER_DATA_DIR"
DATABASE_FILE: Final = "seatkeeper.db"

#: Each setting's flag and variable, as error messages name them (None: there is none).
OPTIONS: Final[Mapping[str, tuple[str | None, str | None]]] = {
    "host": ("--host", "SEATKEEPER_HOST"),
    "port": ("--port", "SEATKEEPER_PORT"),
    "storage": ("--storage", "SEATKEEPER_STORAGE"),
    "demo": ("--demo", None),
    "no_graphiql": ("--no-graphiql", "SEATKEEPER_NO_GRAPHIQL"),
    "workers": ("--workers", "SEATKEEPER_WORKERS"),
    "max_body_bytes": ("--max-body-bytes", "SEATKEEPER_MAX_BODY_BYTES"),
    "sync_log_retention_days": (
        "--sync-log-retention-days",
        "SEATKEEPER_SYNC_LOG_RETENTION_DAYS",
    ),
    "max_connections": ("--max-connections", "SEATKEEPER_MAX_CONNECTIONS"),
    "max_header_bytes": ("--max-header-bytes", "SEATKEEPER_MAX_HEADER_BYTES"),
    "max_headers": ("--max-headers", "SEATKEEPER_MAX_HEADERS"),
    "header_timeout": ("--header-timeout", "SEATKEEPER_HEADER_TIMEOUT"),
    "body_timeout": ("--body-timeout", "SEATKEEPER_BODY_TIMEOUT"),
    "keep_alive": ("--keep-alive", "SEATKEEPER_KEEP_ALIVE"),
    "auth_failures_burst": ("--auth-failures-burst", "SEATKEEPER_AUTH_FAILURES_BURST"),
    "auth_failures_per_minute": (
        "--auth-failures-per-minute",
        "SEATKEEPER_AUTH_FAILURES_PER_MINUTE",
    ),
    "token_requests_per_second": (
        "--token-requests-per-second",
        "SEATKEEPER_TOKEN_REQUESTS_PER_SECOND",
    ),
    "trusted_proxies": ("--trusted-proxies", "SEATKEEPER_TRUSTED_PROXIES"),
    "log_level": ("--log-level", None),
    "access_log": ("--access-log", "SEATKEEPER_ACCESS_LOG"),
    "cors_origins": ("--cors-origin", "SEATKEEPER_CORS_ORIGINS"),
    "metrics_host": ("--metrics-host", "SEATKEEPER_METRICS_HOST"),
    "metrics_port": ("--metrics-port", "SEATKEEPER_METRICS_PORT"),
    "operator_token": (None, OPERATOR_TOKEN_VARIABLE),
}


class SettingsError(ValueError):
    """A wrong setting: the message names its flag and variable and says what is expected."""


def label(name: str) -> str:
    """`--port / SEATKEEPER_PORT`: how a message names the setting `name`."""
    return " / ".join(part for part in OPTIONS[name] if part)


def operator_token_from(environ: Mapping[str, str]) -> str | None:
    """SEATKEEPER_OPERATOR_TOKEN (None when unset or empty)."""
    return environ.get(OPERATOR_TOKEN_VARIABLE) or None


def data_dir(environ: Mapping[str, str]) -> Path:
    """The folder of the default SQLite file: SEATKEEPER_DATA_DIR, else $XDG_DATA_HOME/seatkeeper,
    else ~/.local/share/seatkeeper."""
    configured = environ.get(DATA_DIR_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    xdg = environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "seatkeeper"


def default_storage_url(environ: Mapping[str, str]) -> str:
    """`sqlite:///` and the absolute path of the default file."""
    return f"sqlite:///{(data_dir(environ) / DATABASE_FILE).absolute()}"


# ---------------------------------------------------------------- checks


def check_text(name: str, value: str, *, limit: int, shown: bool = True) -> None:
    """Not empty, at most `limit` characters, printable; unless not `shown`, no outer spaces."""
    if not value.strip():
        raise SettingsError(f"{label(name)}: empty")
    if len(value) > limit:
        raise SettingsError(f"{label(name)}: longer than {limit} characters")
    if not value.isprintable():
        raise SettingsError(f"{label(name)}: holds a control character")
    if shown and value != value.strip():
        raise SettingsError(f"{label(name)}: {value!r} starts or ends with whitespace")


def check_whole(name: str, value: int, low: int, high: int | None = None) -> None:
    """`low` <= value (<= `high` when given)."""
    if low <= value and (high is None or value <= high):
        return
    expected = f"{low} to {high}" if high is not None else f"at least {low}"
    raise SettingsError(f"{label(name)}: {value} is not {expected}")


def check_real(name: str, value: float, low: float) -> None:
    """A finite number, at least `low`."""
    if not math.isfinite(value) or value < low:
        raise SettingsError(f"{label(name)}: {value} is not a finite number of at least {low}")


class Source(Protocol):
    """Typed values by setting name; `default` when the source leaves the setting out."""

    def text(self, name: str, default: str) -> str: ...
    def optional_text(self, name: str) -> str | None: ...
    def whole(self, name: str, default: int) -> int: ...
    def optional_whole(self, name: str) -> int | None: ...
    def real(self, name: str, default: float) -> float: ...
    def optional_real(self, name: str) -> float | None: ...
    def flag(self, name: str, default: bool) -> bool: ...
    def origins(self, name: str) -> tuple[str, ...]: ...


#: Plain decimal numbers only (Python's int() and float() take `1_000`, `١٢`, `nan`, `inf`).
_WHOLE = re.compile(r"[+-]?[0-9]{1,18}")
_REAL = re.compile(r"[+-]?(?:[0-9]{1,18}(?:\.[0-9]{0,18})?|\.[0-9]{1,18})(?:[eE][+-]?[0-9]{1,3})?")

#: click's spellings of a boolean variable (`click.BOOL`).
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


class EnvironmentSource:
    """SEATKEEPER_* variables, as click reads them: an empty variable counts as unset."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def _raw(self, name: str) -> str | None:
        variable = OPTIONS[name][1]
        raw = self.environ.get(variable) if variable else None
        return raw if raw else None

    def text(self, name: str, default: str) -> str:
        raw = self._raw(name)
        return default if raw is None else raw

    def optional_text(self, name: str) -> str | None:
        return self._raw(name)

    def whole(self, name: str, default: int) -> int:
        value = self.optional_whole(name)
        return default if value is None else value

    def optional_whole(self, name: str) -> int | None:
        raw = self._raw(name)
        if raw is None:
            return None
        if not _WHOLE.fullmatch(raw.strip()):
            raise SettingsError(f"{label(name)}: {raw[:40]!r} is not a whole number")
        return int(raw)

    def real(self, name: str, default: float) -> float:
        value = self.optional_real(name)
        return default if value is None else value

    def optional_real(self, name: str) -> float | None:
        raw = self._raw(name)
        if raw is None:
            return None
        if not _REAL.fullmatch(raw.strip()):  # no nan, inf, 1_000 or non-ASCII digits
            raise SettingsError(f"{label(name)}: {raw[:40]!r} is not a number")
        return float(raw)

    def flag(self, name: str, default: bool) -> bool:
        raw = self._raw(name)
        if raw is None:
            return default
        spelled = raw.strip().lower()
        if spelled in _TRUE or spelled in _FALSE:
            return spelled in _TRUE
        raise SettingsError(f"{label(name)}: {raw[:40]!r} is not one of 1, 0, true, false, …")

    def origins(self, name: str) -> tuple[str, ...]:
        try:
            return tuple(parse_origins([self._raw(name) or ""]))
        except CorsConfigError as error:
            raise SettingsError(f"{label(name)}: {error}") from None


class JsonSource:
    """The JSON object `Settings.to_json` wrote: every key present, every value of its type."""

    def __init__(self, document: dict[str, object]) -> None:
        self.document = document

    def _get(self, name: str) -> object:
        if name not in self.document:
            raise SettingsError(f"{SETTINGS_VARIABLE}: no {name!r}")
        return self.document[name]

    def _wrong(self, name: str, kind: str) -> SettingsError:
        return SettingsError(f"{SETTINGS_VARIABLE}: {name!r} is not {kind}")

    def text(self, name: str, default: str) -> str:
        value = self._get(name)
        if not isinstance(value, str):
            raise self._wrong(name, "a string")
        return value

    def optional_text(self, name: str) -> str | None:
        value = self._get(name)
        return None if value is None else self.text(name, "")

    def whole(self, name: str, default: int) -> int:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(name, "a whole number")
        return value

    def optional_whole(self, name: str) -> int | None:
        return None if self._get(name) is None else self.whole(name, 0)

    def real(self, name: str, default: float) -> float:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._wrong(name, "a number")
        return float(value)

    def optional_real(self, name: str) -> float | None:
        return None if self._get(name) is None else self.real(name, 0.0)

    def flag(self, name: str, default: bool) -> bool:
        value = self._get(name)
        if not isinstance(value, bool):
            raise self._wrong(name, "true or false")
        return value

    def origins(self, name: str) -> tuple[str, ...]:
        value = self._get(name)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._wrong(name, "a list of strings")
        return tuple(str(v) for v in value)
