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


def load_storage(url: str) -> Storage:
    """Build the storage backend that `url` names, by its scheme (`memory://`, `mongodb://…`).

    Raises StorageConfigError with a one-line reason: a malformed URL, an unknown scheme (naming
    the installed plugins), a plugin that fails to import (naming it and the cause), or a plugin
    that refuses the URL.
    """
    if not isinstance(url, str) or "://" not in url:
        raise StorageConfigError(f"storage URL {url!r} is malformed: expected scheme://…, e.g. memory://")
    scheme = urlsplit(url).scheme.lower()
    if not scheme:
        raise StorageConfigError(f"storage URL {url!r} has no scheme, e.g. memory://")
    matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == scheme]
    if not matches:
        names = ", ".join(installed_plugins()) or "none"
        raise StorageConfigError(f"no storage plugin for scheme {scheme!r}; installed plugins: {names}")
    entry_point = matches[0]
    try:
        factory = entry_point.load()
    except Exception as error:  # any import failure of third-party code
        raise StorageConfigError(
            f"storage plugin {scheme!r} ({entry_point.value}) failed to load: {type(error).__name__}: {error}"
        ) from error
    try:
        return factory(url)
    except Exception as error:
        raise StorageConfigError(f"storage plugin {scheme!r} refused {url!r}: {error}") from error
