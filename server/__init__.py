"""The HTTP server: `create_app`, authentication, its settings (`Settings`), the command line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seatkeeper.server.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the command line's client commands never load the server (and its
    # GraphQL schema), which halves their start-up time.
    if name == "create_app":
        from seatkeeper.server.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
