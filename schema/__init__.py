"""The GraphQL schema. `types` holds the shapes; `root` wires them to the resolvers.

`build_schema` and `schema` are loaded on first use, so that resolvers can import the types
without importing the root (which imports the resolvers).
"""

__all__ = ["build_schema", "schema"]


def __getattr__(name: str):
    if name == "build_schema":
        from seatkeeper.schema.root import build_schema

        return build_schema
    if name == "schema":  # what `strawberry export-schema seatkeeper.schema:schema` reads
        from seatkeeper.schema.root import build_schema

        return build_schema()
    raise AttributeError(name)
