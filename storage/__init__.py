"""The Storage protocol, its errors and results, and the plugin loader."""

from seatkeeper.storage.loader import StorageConfigError, installed_plugins, load_storage
from seatkeeper.storage.protocol import (
    AlreadyExists,
    Applied,
    ApplyResult,
    ChangeSet,
    Conflict,
    EmailTaken,
    LogQuery,
    SeatShortage,
    SelectorChange,
    Storage,
    StorageError,
    UserDeletion,
    UserQuery,
    user_sort_key,
)

__all__ = [
    "AlreadyExists",
    "Applied",
    "ApplyResult",
    "ChangeSet",
    "Conflict",
    "EmailTaken",
    "LogQuery",
    "SeatShortage",
    "SelectorChange",
    "Storage",
    "StorageConfigError",
    "StorageError",
    "UserDeletion",
    "UserQuery",
    "installed_plugins",
    "load_storage",
    "user_sort_key",
]
