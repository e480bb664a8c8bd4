"""The command line's connection to a running server (like `gh` or `kubectl`): one GraphQL call,
one streamed download, and every way they can fail said in one line.

Exit codes (README, "Administration from the command line"): 0 done; 1 refused by the rules (a
payload's `userErrors`, a FORBIDDEN role, an import file with errors); 2 usage, configuration or
connection (bad arguments, no or wrong token, no server, not a Seatkeeper server, a file that
cannot be read or written).

Operations are the trusted documents of `server/trusted_documents/cli.graphql` (package data).
Each request sends the one operation it runs, exactly as written there: against a server of
another version, only the commands whose fields it lacks fail, not every command.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import IO, Any, NoReturn

import click
import httpx
import orjson

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
#: Kept for callers of the first version of this module.
EXIT_CONFIG = EXIT_USAGE
EXIT_NOT_APPLIED = EXIT_REFUSED

TIMEOUT = httpx.Timeout(300.0, connect=10.0)
UPLOAD_CHUNK = 64 * 1024
DEFAULT_URL = "http://127.0.0.1:8000"
NOT_SEATKEEPER = "is this a Seatkeeper server?"


class CommandError(click.ClickException):
    """Ends a command with one line on stderr (`seatkeeper: …`) and exit code 2 (usage)."""

    exit_code = EXIT_USAGE

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"seatkeeper: {self.message}", err=True)


class Refused(CommandError):
    """Ends a command the rules refused: one line on stderr, exit code 1."""

    exit_code = EXIT_REFUSED


def fail(message: str, exit_code: int = EXIT_USAGE) -> NoReturn:
    """End the command with one line on stderr and the given exit code (default: usage, 2)."""
    raise Refused(message) if exit_code == EXIT_REFUSED else CommandError(message)


@cache
def cli_document() -> str:
    """The command line's operations: `trusted_documents/cli.graphql`, shipped with the package."""
    files = resources.files("seatkeeper.server").joinpath("trusted_documents", "cli.graphql")
    return files.read_text(encoding="utf-8")


@cache
def cli_operations() -> dict[str, str]:
    """Each operation of cli.graphql by name, its text exactly as written in the file."""
    from graphql import OperationDefinitionNode, parse

    text = cli_document()
    operations = {}
    for definition in parse(text).definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.name and definition.loc:
            operations[definition.name.value] = text[definition.loc.start : definition.loc.end]
    return operations


def base_url(url: str) -> str:
    """The server's base URL from what a person typed: the base URL or the `/graphql` endpoint."""
    url = url.strip().rstrip("/")
    if url.endswith("/graphql"):
        url = url[: -len("/graphql")].rstrip("/")
    if not url.lower().startswith(("http://", "https://")):
        fail(f"--url must start with http:// or https:// (got {url[:100]!r})")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        parsed = None
    if parsed is None or not parsed.host:
        fail(f"--url is not a URL: {url[:100]!r}")
    return url


def clean_token(token: str) -> str:
    """The token without surrounding whitespace (a copy-paste adds some); refused if not a token."""
    token = token.strip()
    if not token:
        fail("the token is empty: pass --token, set SEATKEEPER_TOKEN or save a profile")
    if not token.isascii() or not token.isprintable() or " " in token:
        fail("the token contains spaces or characters a Seatkeeper token never has")
    return token


@dataclass(frozen=True)
class Server:
    """A running Seatkeeper server and the caller's token."""

    url: str
    token: str

    @classmethod
    def of(cls, url: str, token: str) -> Server:
        return cls(base_url(url), clean_token(token))

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def call(
        self, operation: str, variables: dict[str, Any] | None = None, progress: str = ""
    ) -> dict[str, Any]:
        """Run one operation of cli.graphql; its `data`, or a one-line failure.

        `progress` names a long upload (an import): its bytes go by a progress bar on stderr
        (on a terminal), then a spinner while the server works."""
        query = cli_operations()[operation]
        body = {"query": query, "operationName": operation, "variables": variables or {}}
        try:
            if progress:
                response = self._post_with_progress(body, progress)
            else:
                response = httpx.post(
                    self.url + "/graphql", json=body, headers=self.headers, timeout=TIMEOUT
                )
        except httpx.HTTPError as error:
            fail(unreachable(self.url, error))
        answer = _json_body(response, self.url)
        errors = answer.get("errors") or []
        if errors:
            _fail_with_graphql_error(errors[0], response.status_code)
        if response.status_code != 200 or not isinstance(answer.get("data"), dict):
            fail(f"{self.url} answered {response.status_code} without data: {NOT_SEATKEEPER}")
        data: dict[str, Any] = answer["data"]
        return data

    def _post_with_progress(self, body: dict[str, Any], what: str) -> httpx.Response:
        from seatkeeper.server.cli_output import transfer_progress

        encoded = orjson.dumps(body)
        headers = {**self.headers, "content-type": "application/json"}
        with transfer_progress(what, len(encoded)) as advance:

            def chunks() -> Iterator[bytes]:
                for start in range(0, len(encoded), UPLOAD_CHUNK):
                    chunk = encoded[start : start + UPLOAD_CHUNK]
                    yield chunk
                    advance(len(chunk))

            headers["content-length"] = str(len(encoded))
            return httpx.post(
                self.url + "/graphql", content=chunks(), headers=headers, timeout=TIMEOUT
            )

    def download(
        self, path: str, params: dict[str, str], output: Path | None, progress: bool = False
    ) -> int:
        """Stream `GET path` to `output` (stdout when None); the number of CSV rows written.

        A file is written beside the target under a temporary name and renamed over it only after
        the whole answer arrived: a failed export never damages the file it was to replace.
        """
        with _target(output) as target:
            try:
                with httpx.stream(
                    "GET", self.url + path, params=params, headers=self.headers, timeout=TIMEOUT
                ) as response:
                    if response.status_code != 200:
                        response.read()
                        answer = _json_body(response, self.url)
                        errors = answer.get("errors") or [{"message": response.reason_phrase}]
                        _fail_with_graphql_error(errors[0], response.status_code)
                    if not response.headers.get("content-type", "").startswith("text/csv"):
                        fail(f"{self.url} did not answer with a CSV file: {NOT_SEATKEEPER}")
                    return _copy(response, target, progress)
            except httpx.HTTPError as error:
                fail(unreachable(self.url, error))


def unreachable(url: str, error: httpx.HTTPError) -> str:
    if isinstance(error, httpx.ConnectError):
        return f"cannot reach {url}: is the server running? ({_first_line(error)})"
    if isinstance(error, httpx.TimeoutException):
        return f"cannot reach {url}: no answer in time"
    return f"cannot reach {url}: {_first_line(error)}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _json_body(response: httpx.Response, url: str) -> dict[str, Any]:
    """The answer as JSON, or a one-line failure: 'is this a Seatkeeper server?' for what only
    another server answers (a 404 page, HTML, a 200 that is not JSON), the status otherwise."""
    kind = response.headers.get("content-type", "")
    status = f"{response.status_code} {response.reason_phrase}".strip()
    if response.status_code == 404 or "html" in kind:
        fail(f"{url} answered {status}: {NOT_SEATKEEPER}")
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        if response.status_code == 200:
            fail(f"{url} answered {status} without JSON: {NOT_SEATKEEPER}")
        text = " ".join(response.text.split())[:200]
        fail(f"the server answered {status}" + (f": {text}" if text else ""))
    return answer


def _fail_with_graphql_error(error: Any, status: int) -> NoReturn:
    message = str(error.get("message", "")) if isinstance(error, dict) else str(error)
    extensions = error.get("extensions") if isinstance(error, dict) else None
    code = extensions.get("code") if isinstance(extensions, dict) else None
    message = " ".join(message.split())[:500]
    if code == "UNAUTHENTICATED" or status == 401:
        fail(f"the server refused the token ({message}); check --token or SEATKEEPER_TOKEN")
    if code == "FORBIDDEN" or status == 403:
        fail(f"refused: {message}", EXIT_REFUSED)
    fail(message if status == 200 else f"the server answered {status}: {message}")


@contextlib.contextmanager
def _target(output: Path | None) -> Iterator[IO[bytes]]:
    """Standard output, or a temporary file beside `output` renamed over it on success."""
    if output is None:
        yield sys.stdout.buffer
        sys.stdout.flush()
        return
    directory = output.parent
    if not directory.is_dir():
        fail(f"cannot write {output}: the directory {directory} does not exist")
    if output.is_dir():
        fail(f"cannot write {output}: it is a directory")
    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=directory, prefix=f".{output.name}.", suffix=".part"
        )
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror or error}")
    try:
        with os.fdopen(descriptor, "wb") as file:
            yield file
        _keep_mode(output, temporary)
        os.replace(temporary, output)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _keep_mode(output: Path, temporary: str) -> None:
    """The new file gets the old one's permissions, or the umask's default (mkstemp uses 0600)."""
    try:
        mode = output.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(temporary, mode)


class _RowCounter:
    """Counts CSV records as they stream by: SPEC 7 files end every record with CRLF."""

    def __init__(self) -> None:
        self.line_ends = 0
        self._last = b""

    def feed(self, chunk: bytes) -> None:
        self.line_ends += chunk.count(b"\r\n") + (self._last == b"\r" and chunk[:1] == b"\n")
        self._last = chunk[-1:]

    @property
    def rows(self) -> int:
        return max(self.line_ends - 1, 0)  # the header is not a row


def _copy(response: httpx.Response, target: IO[bytes], progress: bool) -> int:
    """Copy the body to `target`; the number of data rows (header excluded)."""
    counter = _RowCounter()
    if not progress:
        for chunk in response.iter_bytes():
            target.write(chunk)
            counter.feed(chunk)
        return counter.rows
    from seatkeeper.server.cli_output import transfer_progress

    with transfer_progress("downloading", None) as advance:
        for chunk in response.iter_bytes():
            target.write(chunk)
            counter.feed(chunk)
            advance(len(chunk))
    return counter.rows
