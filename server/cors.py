"""CORS (issue 12): browsers on other origins may call the API when, and only when, configured.

Off by default. `--cors-origin` (repeatable) or SEATKEEPER_CORS_ORIGINS (comma-separated) lists
the origins allowed, e.g. `https://admin.example.com`; `*` allows any origin, and then never with
credentials (the Fetch standard forbids it, and a bearer token is not a credential in that sense
anyway: browsers send it only when the page's code does). Preflights (OPTIONS with
Access-Control-Request-Method) are answered here, before authentication: they carry no token.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

#: Headers a browser page may send: the token, the body's type, content negotiation, Apollo's.
ALLOWED_HEADERS = [
    "authorization",
    "content-type",
    "accept",
    "apollographql-client-name",
    "apollographql-client-version",
    "apollo-require-preflight",
]
PREFLIGHT_MAX_AGE = 600


class CorsConfigError(ValueError):
    pass


def parse_origins(values: Iterable[str]) -> list[str]:
    """Origins from flags or the variable (each may hold several, comma-separated), checked."""
    origins: list[str] = []
    for value in values:
        for origin in value.split(","):
            origin = origin.strip().rstrip("/")
            if not origin:
                continue
            if origin != "*" and not (
                origin.startswith(("http://", "https://")) and "/" not in origin.split("://", 1)[1]
            ):
                raise CorsConfigError(
                    f"CORS origin {origin!r} is not an origin like https://app.example.com or *"
                )
            if origin not in origins:
                origins.append(origin)
    return origins


def with_cors(app: ASGIApp, origins: list[str]) -> ASGIApp:
    """`app` behind Starlette's CORS middleware for `origins` (unchanged when there are none)."""
    if not origins:
        return app
    any_origin = "*" in origins
    return CORSMiddleware(
        app,
        allow_origins=["*"] if any_origin else origins,
        allow_methods=["GET", "POST"],
        allow_headers=ALLOWED_HEADERS,
        allow_credentials=not any_origin,  # never credentials with `*`
        expose_headers=["x-request-id"],
        max_age=PREFLIGHT_MAX_AGE,
    )
