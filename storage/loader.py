"""Find a storage plugin by the scheme of its URL, through the `seatkeeper.storage` entry points.

A plugin is a class (or factory) registered under the group `seatkeeper.storage` with the URL
scheme as its name, e.g. in an integrator's pyproject.toml:

    [project.entry-points."seatkeeper.storage"]
    myplugin = "mypackage.storage:MyStorage"

It is called with the whole URL and returns an object implementing `Storage`.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from urllib.parse import urlsplit

from seatkeeper.storage.protocol import Storage

ENTRY_POINT_GROUP = "seatkeeper.storage"


class StorageConfigError(Exception):
    """The storage URL names no installed plugin, or the plugin could not be loaded or built."""


def installed_plugins() -> list[str]:
    """The URL schemes of every installed storage plugin, sorted."""
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


MAX_SHOWN = 120


def redact(url: object) -> str:
    """A URL fit for a log line: any password replaced by ***, and cut to a readable length."""
    text = url if isinstance(url, str) else repr(url)
    scheme, sep, rest = text.partition("://")
    if sep:
        authority, slash, path = rest.partition("/")
        credentials, at, host = authority.rpartition("@")
        if at and ":" in credentials:
            authority = credentials.split(":", 1)[0] + ":***@" + host
        text = f"{scheme}{sep}{authority}{slash}{path}"
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


def load_storage(url: str) -> Storage:
    """Build the storage backend that `url` names, by its scheme (`memory://`, `mongodb://…`).

    Raises StorageConfigError with a one-line reason: a malformed URL, an unknown scheme (naming
    the installed plugins), a plugin that fails to import (naming it and the cause), or a plugin
    that refuses the URL.
    """
    if not isinstance(url, str) or "://" not in url:
        raise StorageConfigError(
            f"storage URL {redact(url)!r} is malformed: expected scheme://…, e.g. memory://"
        )
    scheme = urlsplit(url).scheme.lower()
    if not scheme:
        raise StorageConfigError(f"storage URL {redact(url)!r} has no scheme, e.g. memory://")
    if len(scheme) > 64:
        raise StorageConfigError(f"storage URL {redact(url)!r} has no valid scheme, e.g. memory://")
    matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == scheme]
    if not matches:
        names = ", ".join(installed_plugins()) or "none"
        raise StorageConfigError(
            f"no storage plugin for scheme {scheme!r}; installed plugins: {names}"
        )
    entry_point = matches[0]
    try:
        factory = entry_point.load()
    except Exception as error:  # any import failure of third-party code
        raise StorageConfigError(
            f"storage plugin {scheme!r} ({entry_point.value}) failed to load: {type(error).__name__}: {error}"
        ) from error
    try:
        backend = factory(url)
    except Exception as error:
        # The plugin's own message may repeat the URL, password included: say only its type and
        # a redacted URL, and keep the cause chained for a debugger.
        reason = str(error).replace(url, redact(url))
        raise StorageConfigError(
            f"storage plugin {scheme!r} refused {redact(url)!r}: {reason}"
        ) from error
    if not isinstance(backend, Storage):
        raise StorageConfigError(
            f"storage plugin {scheme!r} built {type(backend).__name__}, which does not implement Storage"
        )
    return backend
