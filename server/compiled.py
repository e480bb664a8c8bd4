"""Compiled execution of trusted operations: the same resolvers, without the generic machinery.

Why: through Strawberry and graphql-core a sync costs several hundred microseconds of Python per
request (extension hooks, field-by-field execution with a resolve-info object per field, value
completion by type inspection); the licensing decision itself costs tens. A trusted operation is
known at start-up, so the walk over its selection set can be decided once: which resolver each
field has, how its type is completed, which positions are non-null.

What is compiled: operations whose root fields may have any resolver and arguments, and whose
nested selections are plain fields (Strawberry's "basic" fields: attributes, no resolver, no
arguments), `__typename`, lists, non-null, enums and scalars, on object types. Fragments,
directives, abstract types or nested resolvers make `compile_operation` return None and the
operation runs through Strawberry like any other: correct, only slower.

How it stays the same answer: root fields are resolved by the field's own resolver (Strawberry's,
with its argument conversion and our authorization checks) with a real `GraphQLResolveInfo`;
nested fields by the field's own resolver too; leaves serialised by the type's own `serialize`;
errors located with graphql-core's `located_error` and nulls propagated to the nearest nullable
position as graphql-core does; the server masks errors with `schema.root.mask_error` on both
routes. tests/api/test_trusted_documents.py compares both routes byte for byte.

This module holds the compiled plan (`CompiledOperation`, one entry per root field) and its
executor; how resolved values become JSON is in server/compiled_completion.py, how root fields
get their arguments and call their resolvers in server/compiled_arguments.py.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeGuard, cast

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLNonNull,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    located_error,
)
from graphql.execution.values import VariableValues
from graphql.pyutils import Path
from seatkeeper.server.compiled_arguments import (
    ArgumentValues,
    RootResolver,
    root_arguments,
    root_resolver,
)
from seatkeeper.server.compiled_completion import (
    Completer,
    NotCompilable,
    PropagateNull,
    completer,
    fast_first,
    never_completed,
    require_unique_keys,
    selected_fields,
)
from seatkeeper.server.serializers import fast_serializer
from seatkeeper.server.variables import CompiledVariables, compile_variables


def _is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    return inspect.isawaitable(value)


@dataclass(frozen=True)
class _RootField:
    key: str
    field_name: str
    definition: GraphQLField | None  # None for __typename
    nodes: list[FieldNode]
    complete: Completer
    nullable: bool
    resolve: RootResolver | None = None
    arguments: ArgumentValues = lambda _variables: {}


class CompiledOperation:
    """One operation, compiled; `execute` returns (data, errors) as graphql-core's would."""

    def __init__(
        self, schema: GraphQLSchema, operation: OperationDefinitionNode, roots: list[_RootField]
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.root_type = schema.get_root_type(operation.operation)
        self.roots = roots
        #: The variables' coercion, compiled (server/variables.py); None: graphql-core's.
        self.variables: CompiledVariables | None = compile_variables(
            schema, operation.variable_definitions or ()
        )

    async def execute(
        self, context: object, variables: VariableValues
    ) -> tuple[dict[str, Any] | None, list[GraphQLError]]:
        """Run the operation with variables already coerced (`get_variable_values`)."""
        errors: list[GraphQLError] = []
        data: dict[str, Any] = {}
        root_type = self.root_type
        assert root_type is not None
        for root in self.roots:
            definition = root.definition
            if definition is None:
                data[root.key] = root_type.name
                continue
            path = Path(None, root.key, root_type.name)
            try:
                info = GraphQLResolveInfo(
                    root.field_name,
                    root.nodes,
                    definition.type,
                    root_type,
                    path,
                    self.schema,
                    {},
                    None,
                    self.operation,
                    # What Strawberry's resolvers see: the plain dict of coerced values.
                    cast(Any, variables.coerced),
                    context,
                    _is_awaitable,
                    None,
                    cast(Any, None),  # graphql-core's executor helpers: resolvers never use them
                )
                arguments = root.arguments(variables)
                resolve = root.resolve
                assert resolve is not None
                value = resolve(None, info, **arguments)
                if inspect.isawaitable(value):
                    value = await value
            except Exception as error:  # noqa: BLE001 — a field error, as graphql-core reports it
                errors.append(located_error(error, root.nodes, path.as_list()))
                if root.nullable:
                    data[root.key] = None
                    continue
                return None, errors
            try:
                data[root.key] = root.complete(value, (None, root.key), errors)
            except PropagateNull:
                return None, errors
        return data, errors


def compile_operation(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> CompiledOperation | None:
    """The compiled form of `operation`, or None when it uses what is not compiled (see above)."""
    if operation.operation is OperationType.SUBSCRIPTION or operation.directives:
        return None
    root_type = schema.get_root_type(operation.operation)
    if root_type is None:
        return None
    try:
        roots = []
        for node in selected_fields(operation.selection_set.selections):
            name = node.name.value
            key = node.alias.value if node.alias else name
            if name == "__typename":
                roots.append(_RootField(key, name, None, [node], never_completed, False))
                continue
            definition = root_type.fields[name]
            complete = completer(definition.type, [node], root_type.name, name)
            fast = fast_serializer(definition.type, [node])
            if fast is not None:
                complete = fast_first(fast, complete)
            nullable = not isinstance(definition.type, GraphQLNonNull)
            resolve = root_resolver(definition)
            arguments = root_arguments(definition, node)
            roots.append(
                _RootField(key, name, definition, [node], complete, nullable, resolve, arguments)
            )
        require_unique_keys([r.key for r in roots])
    except NotCompilable:
        return None
    return CompiledOperation(schema, operation, roots)
