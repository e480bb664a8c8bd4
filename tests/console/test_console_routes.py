"""The console's routes and files, without a browser (issue 14).

The console is static files shipped as package data, served at `/` and `/console/…` without a
token and under a strict Content-Security-Policy; its operations are trusted documents that must
validate against the schema; it builds no markup from strings and loads nothing from elsewhere.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest
from graphql import DocumentNode, OperationDefinitionNode, parse, validate
from seatkeeper.schema import build_schema
from seatkeeper.server import console_routes

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "server" / "console"
TRUSTED = ROOT / "server" / "trusted_documents" / "console.graphql"
FILES = sorted(p for p in CONSOLE.rglob("*") if p.is_file())
SCRIPTS = [p for p in FILES if p.suffix == ".js"]


def _operations() -> dict[str, OperationDefinitionNode]:
    document = parse(TRUSTED.read_text(encoding="utf-8"))
    return {d.name.value: d for d in document.definitions if isinstance(d, OperationDefinitionNode)}


def _assert_strict_headers(response) -> None:
    assert response.headers["content-security-policy"] == console_routes.CONTENT_SECURITY_POLICY
    policy = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "connect-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/", "/console/"])
def test_console_page_is_served_without_a_token_under_a_strict_csp(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/console/js/app.js">' in response.text
    _assert_strict_headers(response)


@pytest.mark.parametrize("path", ["/console", "/admin"])
def test_console_without_a_slash_and_admin_redirect_to_the_page(client, path):
    # Issue 14: "/ and /admin answer 404" for a new administrator.
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == "/console/"
    assert client.get(path).text == client.get("/").text


@pytest.mark.parametrize("file", FILES, ids=lambda p: str(p.relative_to(CONSOLE)))
def test_every_console_file_is_served_with_its_type_and_the_csp(client, file):
    response = client.get(f"/console/{file.relative_to(CONSOLE).as_posix()}")
    assert response.status_code == 200
    assert response.content == file.read_bytes()
    assert response.headers["content-type"] == console_routes.MEDIA_TYPES[file.suffix]
    _assert_strict_headers(response)


def test_the_operations_route_serves_the_trusted_document_as_it_is(client):
    response = client.get("/console/operations.graphql")
    assert response.status_code == 200
    assert response.content == TRUSTED.read_bytes()
    _assert_strict_headers(response)


@pytest.mark.parametrize(
    "path",
    [
        "/console/../app.py",
        "/console/%2e%2e/app.py",
        "/console/js/../../app.py",
        "/console/js/%2e%2e/%2e%2e/cli.py",
        "/console/..%2fapp.py",
        "/console/app.py",
        "/console/.hidden.js",
        "/console/js/app.js.map",
        "/console/js\\app.js",
        "/console/" + "a" * 5000 + ".js",
        "/console/nothing.css",
        "/console/a/b/c/d/e.js",
        "/console/trusted_documents/console.graphql",
        "/console/%00.js",
        "/console/é.js",
    ],
)
def test_console_paths_outside_its_files_are_not_found(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Traceback" not in response.text and "seatkeeper" not in response.text.lower()


def test_console_routes_refuse_writes(client, operator_token):
    # Without a token a POST is refused before anything else (issue 9); with one, by the router.
    assert client.post("/console/js/app.js").status_code == 401
    auth = {"Authorization": f"Bearer {operator_token}"}
    assert client.post("/console/js/app.js", headers=auth).status_code == 405
    assert client.delete("/", headers=auth).status_code == 405


def test_every_console_operation_validates_against_the_schema():
    schema = build_schema()._schema
    operations = _operations()
    assert operations, "console.graphql holds no operation"
    for name, operation in operations.items():
        assert name.startswith("Console"), f"{name}: console operations are named Console…"
        assert validate(schema, DocumentNode(definitions=(operation,))) == [], name


def test_the_console_sends_only_its_trusted_operations_and_uses_each():
    used = set()
    for script in SCRIPTS:
        used |= set(re.findall(r'"(Console[A-Za-z]+)"', script.read_text(encoding="utf-8")))
    assert used == set(_operations())


def test_the_console_builds_no_markup_from_strings_and_loads_nothing_from_elsewhere():
    for file in FILES:
        text = file.read_text(encoding="utf-8")
        assert not re.search(r"https?://", text), f"{file.name} names another origin"
        assert (
            "innerHTML" not in text and "outerHTML" not in text and "insertAdjacentHTML" not in text
        )
        assert "eval(" not in text and "new Function" not in text
        assert not re.search(r"\sstyle=", text), f"{file.name}: inline style (refused by the CSP)"
    page = (CONSOLE / "index.html").read_text(encoding="utf-8")
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.DOTALL)
    assert scripts and all(
        'src="/console/' in attrs and not body.strip() for attrs, body in scripts
    )
    assert not re.search(r"\son[a-z]+=", page), "inline event handler in index.html"
    for script in SCRIPTS:
        for target in re.findall(r'from\s+"([^"]+)"', script.read_text(encoding="utf-8")):
            assert re.fullmatch(r"\./[a-z_-]+\.js", target), f"{script.name} imports {target}"


def test_the_token_is_never_put_in_a_url():
    for script in SCRIPTS:
        text = script.read_text(encoding="utf-8")
        assert "localStorage" not in text, f"{script.name}: the token belongs in sessionStorage"
        assert not re.search(r"token[^\n]*(location|URLSearchParams|\?token=)", text)


def test_the_package_data_globs_carry_every_console_file():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["package-data"]["seatkeeper.server"]
    server = ROOT / "server"
    for file in [*FILES, TRUSTED]:
        relative = file.relative_to(server).as_posix()
        assert any(fnmatch.fnmatch(relative, p) for p in patterns), relative
