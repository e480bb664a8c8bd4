"""GraphiQL, the in-browser IDE served at `/graphql` to a browser (unless `--no-graphiql`).

Everything it loads comes from this server: the page below, and GraphiQL, React and ReactDOM
vendored in `server/graphiql_assets/` (package data, with their licences) and served at
`/graphiql/`. The editor opens on the contract's operations, with a hint for the
`Authorization` header every operation needs.
"""

from __future__ import annotations

import html
from importlib import resources
from pathlib import Path

import orjson

#: Where the vendored files are served.
ASSETS_PATH = "/graphiql"
TITLE = "Seatkeeper — GraphiQL"
HEADERS_HINT = '{\n  "Authorization": "Bearer <a token: seatkeeper serve prints them>"\n}'

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{assets}/graphiql.min.css">
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="{assets}/react.production.min.js"></script>
<script src="{assets}/react-dom.production.min.js"></script>
<script src="{assets}/graphiql.min.js"></script>
<script>
  const fetcher = GraphiQL.createFetcher({{ url: window.location.pathname }});
  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(React.createElement(GraphiQL, {{
    fetcher,
    defaultQuery: {query},
    defaultHeaders: {headers},
    defaultEditorToolsVisibility: "headers",
    shouldPersistHeaders: false,
  }}));
</script>
</body>
</html>
"""


def assets_dir() -> Path:
    """`server/graphiql_assets/` as installed (package data)."""
    return Path(str(resources.files("seatkeeper.server") / "graphiql_assets"))


def graphiql_page() -> str:
    """The page: Seatkeeper's title, the contract's operations as the example, the header hint."""
    contract = (
        Path(str(resources.files("seatkeeper.server") / "trusted_documents")) / "contract.graphql"
    ).read_text(encoding="utf-8")
    example = (
        "# Seatkeeper: the operations of the contract. Set the Authorization header below\n"
        "# (Headers tab), pick an operation with the run button, fill its variables.\n\n" + contract
    )

    def script_string(text: str) -> str:
        # JSON is a JavaScript literal; `</` is escaped so the text cannot close the script.
        return orjson.dumps(text).decode().replace("</", "<\\/")

    return _PAGE.format(
        title=html.escape(TITLE),
        assets=ASSETS_PATH,
        query=script_string(example),
        headers=script_string(HEADERS_HINT),
    )
