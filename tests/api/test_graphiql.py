"""GraphiQL (issue 12): served from the package, nothing from another origin.

The finding: GraphiQL was a blank "Loading…" page without internet, its scripts coming from a CDN.
"""

from __future__ import annotations

import re

import pytest
from seatkeeper.server.app import create_app
from seatkeeper.server.graphiql import assets_dir

from tests.api.api_support import TestClient

BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_the_page_loads_nothing_from_another_origin(client):
    page = client.get("/graphql", headers=BROWSER)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    text = page.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', text)
    assert sources, "the page loads its scripts and styles"
    assert all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    assert "unpkg" not in text and "jsdelivr" not in text and "cdn" not in text.lower()
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 1000


def test_the_page_is_seatkeepers(client):
    text = client.get("/graphql", headers=BROWSER).text
    assert "<title>Seatkeeper — GraphiQL</title>" in text
    assert "mutation Sync($input: SyncInput!)" in text  # the contract's operations as examples
    assert "query Users(" in text
    assert "Authorization" in text and "Bearer" in text  # the header hint


def test_the_vendored_assets_carry_their_licences():
    names = {path.name for path in assets_dir().iterdir()}
    assert {"graphiql.min.js", "react.production.min.js", "react-dom.production.min.js"} <= names
    for licence in ("LICENSE-graphiql.txt", "LICENSE-react.txt", "LICENSE-react-dom.txt"):
        assert "MIT License" in (assets_dir() / licence).read_text()
    for script in assets_dir().glob("*.js"):
        assert "sourceMappingURL" not in script.read_text(encoding="utf-8")


def test_the_page_and_its_files_need_no_token(client):
    client.headers.pop("authorization", None)
    assert client.get("/graphql", headers=BROWSER).status_code == 200
    assert client.get("/graphiql/graphiql.min.css").status_code == 200


@pytest.mark.parametrize("path", ["/graphiql/../app.py", "/graphiql/%2e%2e/app.py"])
def test_no_file_outside_the_assets(client, path):
    assert client.get(path).status_code == 404


def test_no_graphiql_serves_neither_page_nor_files(clock):
    app = create_app("memory://", clock=clock, graphiql=False)
    with TestClient(app) as client:
        assert client.get("/graphql", headers={"accept": "text/html"}).status_code == 406
        assert client.get("/graphiql/graphiql.min.js").status_code == 404
