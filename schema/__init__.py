"""The GraphQL schema: `types` holds the shapes, `query` and `mutation` bind the resolvers to the
fields and build the types from their outcomes, `root` builds the `strawberry.Schema`.

The schema imports the resolvers; the resolvers never import the schema (import-linter checks it).
"""

from seatkeeper.schema.root import build_schema

__all__ = ["build_schema"]
