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
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard, cast

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    Undefined,
    located_error,
)
from graphql.execution import get_argument_values
from graphql.execution.values import VariableValues
from graphql.pyutils import Path

Completer = Callable[[Any, Path, list[GraphQLError]], Any]

#: The key under which Strawberry keeps its field definition in a graphql-core field.
STRAWBERRY_DEFINITION = "strawberry-definition"


def _is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    return inspect.isawaitable(value)


class _Null(Exception):
    """A non-null position got null: the nearest nullable parent takes the null."""


class NotCompilable(Exception):
    pass


@dataclass(frozen=True)
class _RootField:
    key: str
    field_name: str
    definition: GraphQLField | None  # None for __typename
    nodes: list[FieldNode]
    complete: Completer
    nullable: bool


class CompiledOperation:
    """One operation, compiled; `execute` returns (data, errors) as graphql-core's would."""

    def __init__(
        self, schema: GraphQLSchema, operation: OperationDefinitionNode, roots: list[_RootField]
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.root_type = schema.get_root_type(operation.operation)
        self.roots = roots

    async def execute(
        self, context: object, variables: VariableValues
    ) -> tuple[dict[str, Any] | None, list[GraphQLError]]:
        """Run the operation with variables already coerced (`get_variable_values`)."""
        errors: list[GraphQLError] = []
        data: dict[str, Any] = {}
        root_type = self.root_type
        assert root_type is not None
        for root in self.roots:
            path = Path(None, root.key, root_type.name)
            definition = root.definition
            if definition is None:
                data[root.key] = root_type.name
                continue
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
                arguments = get_argument_values(definition, root.nodes[0], variables)
                resolve = definition.resolve
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
                data[root.key] = root.complete(value, path, errors)
            except _Null:
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
        for node in _fields(operation.selection_set.selections):
            name = node.name.value
            key = node.alias.value if node.alias else name
            if name == "__typename":
                roots.append(_RootField(key, name, None, [node], _never, False))
                continue
            definition = root_type.fields[name]
            complete = _completer(definition.type, [node], root_type.name, name)
            nullable = not isinstance(definition.type, GraphQLNonNull)
            roots.append(_RootField(key, name, definition, [node], complete, nullable))
        _unique([r.key for r in roots])
    except NotCompilable:
        return None
    return CompiledOperation(schema, operation, roots)


def _never(value: Any, path: Path, errors: list[GraphQLError]) -> Any:
    raise AssertionError("__typename is not completed")


def _fields(selections: Any) -> list[FieldNode]:
    fields = []
    for selection in selections:
        if not isinstance(selection, FieldNode) or selection.directives:
            raise NotCompilable  # fragments and @skip/@include: left to graphql-core
        fields.append(selection)
    return fields


def _unique(keys: list[str]) -> None:
    if len(set(keys)) != len(keys):
        raise NotCompilable  # graphql-core merges repeated response keys; not done here


def _completer(
    field_type: GraphQLOutputType, nodes: list[FieldNode], parent: str, field_name: str
) -> Completer:
    """How a value of `field_type` at this position becomes JSON (with nulls and errors)."""
    if isinstance(field_type, GraphQLNonNull):
        inner = _raw_completer(field_type.of_type, nodes, parent, field_name)
        message = f"Cannot return null for non-nullable field {parent}.{field_name}."

        def complete_non_null(value: Any, path: Path, errors: list[GraphQLError]) -> Any:
            if value is None:
                errors.append(located_error(TypeError(message), nodes, path.as_list()))
                raise _Null
            return inner(value, path, errors)

        return complete_non_null
    inner = _raw_completer(field_type, nodes, parent, field_name)

    def complete_nullable(value: Any, path: Path, errors: list[GraphQLError]) -> Any:
        if value is None:
            return None
        try:
            return inner(value, path, errors)
        except _Null:
            return None

    return complete_nullable


def _raw_completer(
    field_type: GraphQLOutputType, nodes: list[FieldNode], parent: str, field_name: str
) -> Completer:
    if isinstance(field_type, GraphQLList):
        item = _completer(field_type.of_type, nodes, parent, field_name)
        not_iterable = f"Expected Iterable, but did not find one for field '{parent}.{field_name}'."

        def complete_list(value: Any, path: Path, errors: list[GraphQLError]) -> Any:
            if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
                errors.append(located_error(GraphQLError(not_iterable), nodes, path.as_list()))
                raise _Null
            return [item(v, Path(path, i, None), errors) for i, v in enumerate(value)]

        return complete_list
    if isinstance(field_type, (GraphQLScalarType, GraphQLEnumType)):
        serialize = field_type.serialize

        def complete_leaf(value: Any, path: Path, errors: list[GraphQLError]) -> Any:
            try:
                serialized = serialize(value)
            except Exception as error:  # noqa: BLE001 — a field error, as graphql-core reports it
                errors.append(located_error(error, nodes, path.as_list()))
                raise _Null from None
            if serialized is Undefined or serialized is None:
                problem = TypeError(
                    f"Expected `{field_type}.serialize({value!r})` to return non-nullable value,"
                    f" returned: {serialized!r}"
                )
                errors.append(located_error(problem, nodes, path.as_list()))
                raise _Null
            return serialized

        return complete_leaf
    if isinstance(field_type, GraphQLObjectType) and field_type.is_type_of is None:
        selections = [n.selection_set for n in nodes]
        if len(selections) != 1 or selections[0] is None:
            raise NotCompilable
        return _object_completer(field_type, _fields(selections[0].selections))
    raise NotCompilable  # interfaces, unions, types with is_type_of


def _basic_resolver(definition: GraphQLField, strawberry_field: Any) -> Callable[..., Any]:
    """A basic field's resolver: Strawberry's reads `getattr(source, python_name)` (its default
    resolver) through three calls; the same read, made directly, when that is all it does."""
    if strawberry_field.default_resolver is getattr:
        read = operator.attrgetter(strawberry_field.python_name)
        return lambda source, _info: read(source)
    resolve = definition.resolve
    assert resolve is not None
    return resolve


def _object_completer(object_type: GraphQLObjectType, nodes: list[FieldNode]) -> Completer:
    type_name = object_type.name
    fields: list[tuple[str, Callable[..., Any] | None, Completer, bool, list[FieldNode]]] = []
    for node in nodes:
        name = node.name.value
        key = node.alias.value if node.alias else name
        if name == "__typename":
            fields.append((key, None, _never, False, [node]))
            continue
        definition = object_type.fields[name]
        strawberry_field = (definition.extensions or {}).get(STRAWBERRY_DEFINITION)
        if (
            node.arguments
            or definition.resolve is None
            or strawberry_field is None
            or not strawberry_field.is_basic_field
        ):
            raise NotCompilable  # a field with a resolver of its own: graphql-core runs it
        complete = _completer(definition.type, [node], type_name, name)
        nullable = not isinstance(definition.type, GraphQLNonNull)
        fields.append(
            (key, _basic_resolver(definition, strawberry_field), complete, nullable, [node])
        )
    _unique([f[0] for f in fields])

    def complete_object(value: Any, path: Path, errors: list[GraphQLError]) -> Any:
        result: dict[str, Any] = {}
        for key, resolve, complete, nullable, field_nodes in fields:
            if resolve is None:
                result[key] = type_name
                continue
            field_path = Path(path, key, type_name)
            try:
                # A basic field's resolver reads the attribute; it takes no resolve info.
                field_value = resolve(value, None)
            except Exception as error:  # noqa: BLE001 — a field error, as graphql-core reports it
                errors.append(located_error(error, field_nodes, field_path.as_list()))
                if nullable:
                    result[key] = None
                    continue
                raise _Null from None
            result[key] = complete(field_value, field_path, errors)
        return result

    return complete_object
