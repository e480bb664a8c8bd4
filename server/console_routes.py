"""The administration console's routes: static files shipped as package data (issue 14).

The console is a client of the public GraphQL API like any front end: these routes only hand out
its HTML, CSS and ES modules, and the text of its trusted documents. They need no token (the
files hold no data) and every answer carries a strict Content-Security-Policy: scripts, styles and
requests to this origin only, no inline code, no framing, no form posted anywhere.
"""

from __future__ import annotations

import re
from importlib import resources
from importlib.resources.abc import Traversable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

#: What the console's pages may load: this origin only, no inline script or style, no plugin,
#: no frame, and forms are never submitted by the browser (the scripts send every request).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    # Files change with the package: always revalidate, never serve a stale module.
    "cache-control": "no-cache",
}
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".graphql": "application/graphql; charset=utf-8",
}
#: A console path: folders and file names of letters, digits, `-`, `_` and one dot before a known
#: extension. Anything else (`..`, `%2e`, backslashes, hidden files) is simply not found.
SAFE_PATH = re.compile(r"(?:[A-Za-z0-9_-]{1,64}/){0,3}[A-Za-z0-9_-]{1,64}\.(?:html|css|js|svg|txt)")
#: The console's operations, served to the console from the trusted documents they are.
OPERATIONS_PATH = "operations.graphql"


def _package_file(*parts: str) -> Traversable:
    node = resources.files("seatkeeper.server")
    for part in parts:
        node = node / part
    return node


def _file_response(node: Traversable, suffix: str) -> Response:
    try:
        if not node.is_file():
            return _not_found()
    except OSError:  # a name the file system refuses is simply not a console file
        return _not_found()
    return Response(node.read_bytes(), media_type=MEDIA_TYPES[suffix], headers=SECURITY_HEADERS)


def _not_found() -> Response:
    return PlainTextResponse("Not found", status_code=404, headers=SECURITY_HEADERS)


async def console_index(request: Request) -> Response:
    """The console's single page (`/` and `/console/`)."""
    return _file_response(_package_file("console", "index.html"), ".html")


async def console_file(request: Request) -> Response:
    """One file of the console, or 404: only names that `SAFE_PATH` accepts are looked up."""
    path: str = request.path_params["path"]
    if path == OPERATIONS_PATH:
        return _file_response(_package_file("trusted_documents", "console.graphql"), ".graphql")
    if not SAFE_PATH.fullmatch(path):
        return _not_found()
    suffix = path[path.rindex(".") :]
    return _file_response(_package_file("console", *path.split("/")), suffix)


async def console_redirect(request: Request) -> Response:
    return RedirectResponse("/console/", status_code=308, headers=SECURITY_HEADERS)


def console_routes() -> list[Route]:
    """The routes to add to the app: `/`, `/console/…`, and `/console` and `/admin` redirecting
    to `/console/` (GET and HEAD)."""
    return [
        Route("/", console_index, methods=["GET"]),
        Route("/console", console_redirect, methods=["GET"]),
        Route("/admin", console_redirect, methods=["GET"]),  # where administrators look first
        Route("/console/", console_index, methods=["GET"]),
        Route("/console/{path:path}", console_file, methods=["GET"]),
    ]
