"""The function that builds the `strawberry.Schema` from the root types (`query`, `mutation`).

Limits (documented in README.md, "Limits", enforced in `schema/limits.py` in time linear in the
document's size): depth, tokens, aliases, fragment nesting and a cost budget. Small parsed and
validated documents are cached (bounded in bytes), so a client that sends the same operation again
pays neither cost twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

import strawberry
from graphql import GraphQLError, GraphQLSchema
from seatkeeper.resolvers.common import bad_request
from seatkeeper.rules.outcomes import BadRequest
from seatkeeper.schema import types
from seatkeeper.schema.limits import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_TOKENS,
    DocumentLimits,
    graphql_schema,
)
from seatkeeper.schema.mutation import Mutation
from seatkeeper.schema.query import Query
from strawberry.extensions import MaskErrors
from strawberry.printer import print_schema
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_TOKENS",
    "build_schema",
    "executable_schema",
    "is_unexpected",
    "mask_error",
    "sdl",
]

log = logging.getLogger("seatkeeper")


def is_unexpected(error: GraphQLError) -> bool:
    """A resolver raised something other than a deliberate GraphQL error: a bug, to be masked.

    Errors without a path (syntax, validation, variable coercion) are the client's and stay. A
    BadRequest from the rules is the client's too: it is turned into a typed error (issue 9).
    """
    original = error.original_error
    return (
        error.path is not None and original is not None and not isinstance(original, GraphQLError)
    )


def mask_error(error: GraphQLError, request_id: str) -> GraphQLError:
    """What the client sees of an error `is_unexpected` picked: a BadRequest as its typed error,
    anything else as `Unexpected error (request id …)`, logged with the same id.

    Every way of executing a document (Strawberry's, and the trusted documents' compiled one in
    server/compiled.py) masks with this function.
    """
    if isinstance(error.original_error, BadRequest):
        refused = bad_request(error.original_error)
        return GraphQLError(
            refused.message, nodes=error.nodes, path=error.path, extensions=refused.extensions
        )
    log.error("unexpected error in request %s", request_id, exc_info=error.original_error)
    return GraphQLError(
        f"Unexpected error (request id {request_id}).",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
    )


class MaskUnexpectedErrors(MaskErrors):
    """Hide internals from the client; log them with the request id the client is shown."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        context = self.execution_context.context
        return mask_error(error, getattr(context, "request_id", None) or "-")


class SeatkeeperSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Client errors are answered, not logged; unexpected ones are logged by MaskUnexpectedErrors.
        return None


def build_schema() -> strawberry.Schema:
    """The schema with its limits, caches and error masking."""
    return SeatkeeperSchema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(),
        scalar_overrides={datetime: types.DateTimeScalar},
        # Factories, so that each request gets fresh extension instances (the caches are shared).
        extensions=[
            DocumentLimits,
            MaskUnexpectedErrors,
        ],
    )


def executable_schema(schema: strawberry.Schema) -> GraphQLSchema:
    """graphql-core's schema over the very type objects (so the very resolvers) of `schema`.

    Strawberry keeps its own graphql-core schema private; its converter hands out the types it
    built (one object per type name), from which this schema is assembled. The trusted documents'
    tests compare what both execute, byte for byte.
    """
    return graphql_schema(schema)


def sdl() -> str:
    """The schema in SDL, as committed in schema.graphql (`make schema` writes it)."""
    return print_schema(build_schema()) + "\n"


if __name__ == "__main__":
    print(sdl(), end="")
