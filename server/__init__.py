"""The HTTP server: `create_app`, authentication, settings from the environment, the command line."""

from seatkeeper.server.app import create_app

__all__ = ["create_app"]
