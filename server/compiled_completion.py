"""Completion for compiled operations (server/compiled.py): a resolved value becomes JSON.

Each position of a trusted operation's selection set gets a `Completer` closure, decided once at
start-up from the field's GraphQL type: non-null checks, lists, leaves serialised by the type's
own `serialize`, objects whose fields are plain attribute reads. Errors are located with
graphql-core's `located_error` and nulls propagate (`PropagateNull`) to the nearest nullable
position, as graphql-core does. What is not compiled raises `NotCompilable`, and the operation
then runs through Strawberry.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    Undefined,
    located_error,
)
from seatkeeper.server.serializers import STRAWBERRY_DEFINITION, Serialize

#: A response path as completion passes it down: (parent, key) pairs, None at the root. Tuples,
#: not graphql-core's `Path` (a named tuple built in Python): a sync completes a dozen fields and
#: reads a path only when one of them fails (`_path_list`).
LazyPath = tuple[Any, str | int] | None
Completer = Callable[[Any, LazyPath, list[GraphQLError]], Any]


class PropagateNull(Exception):
    """A non-null position got null: the nearest nullable parent takes the null."""


class NotCompilable(Exception):
    pass


def fast_first(fast: Serialize, precise: Completer) -> Completer:
    """The generated serialiser (server/serializers.py); off its happy path, the closures."""

    def complete_fast_first(value: Any, path: LazyPath, errors: list[GraphQLError]) -> Any:
        try:
            return fast(value)
        except Exception:  # noqa: BLE001 — an error to report: the precise completer reports it
            return precise(value, path, errors)

    return complete_fast_first


def never_completed(value: Any, path: LazyPath, errors: list[GraphQLError]) -> Any:
    raise AssertionError("__typename is not completed")


def _path_list(path: LazyPath) -> list[str | int]:
    """The keys of a completion path, from the root (what `Path.as_list` gives)."""
    keys: list[str | int] = []
    while path is not None:
        path, key = path
        keys.append(key)
    keys.reverse()
    return keys


def selected_fields(selections: Any) -> list[FieldNode]:
    fields = []
    for selection in selections:
        if not isinstance(selection, FieldNode) or selection.directives:
            raise NotCompilable  # fragments and @skip/@include: left to graphql-core
        fields.append(selection)
    return fields


def require_unique_keys(keys: list[str]) -> None:
    if len(set(keys)) != len(keys):
        raise NotCompilable  # graphql-core merges repeated response keys; not done here


def completer(
    field_type: GraphQLOutputType, nodes: list[FieldNode], parent: str, field_name: str
) -> Completer:
    """How a value of `field_type` at this position becomes JSON (with nulls and errors)."""
    if isinstance(field_type, GraphQLNonNull):
        of_type = field_type.of_type
        message = f"Cannot return null for non-nullable field {parent}.{field_name}."
        if isinstance(of_type, (GraphQLScalarType, GraphQLEnumType)):
            # The most common position: one call per leaf, not a wrapper around a leaf's.
            serialize_non_null = _serializer(of_type, nodes)

            def complete_non_null_leaf(
                value: Any, path: LazyPath, errors: list[GraphQLError]
            ) -> Any:
                if value is None:
                    errors.append(located_error(TypeError(message), nodes, _path_list(path)))
                    raise PropagateNull
                return serialize_non_null(value, path, errors)

            return complete_non_null_leaf
        inner = _raw_completer(of_type, nodes, parent, field_name)

        def complete_non_null(value: Any, path: LazyPath, errors: list[GraphQLError]) -> Any:
            if value is None:
                errors.append(located_error(TypeError(message), nodes, _path_list(path)))
                raise PropagateNull
            return inner(value, path, errors)

        return complete_non_null
    inner = _raw_completer(field_type, nodes, parent, field_name)

    def complete_nullable(value: Any, path: LazyPath, errors: list[GraphQLError]) -> Any:
        if value is None:
            return None
        try:
            return inner(value, path, errors)
        except PropagateNull:
            return None

    return complete_nullable


def _serializer(
    field_type: GraphQLScalarType | GraphQLEnumType, nodes: list[FieldNode]
) -> Completer:
    """A leaf: the type's own `serialize`, its failures and null results as field errors."""
    serialize = field_type.serialize

    def complete_leaf(value: Any, path: LazyPath, errors: list[GraphQLError]) -> Any:
        try:
            serialized = serialize(value)
        except Exception as error:  # noqa: BLE001 — a field error, as graphql-core reports it
            errors.append(located_error(error, nodes, _path_list(path)))
            raise PropagateNull from None
        if serialized is Undefined or serialized is None:
            problem = TypeError(
                f"Expected `{field_type}.serialize({value!r})` to return non-nullable value,"
                f" returned: {serialized!r}"
            )
            errors.append(located_error(problem, nodes, _path_list(path)))
            raise PropagateNull
        return serialized

    return complete_leaf


def _raw_completer(
    field_type: GraphQLOutputType, nodes: list[FieldNode], parent: str, field_name: str
) -> Completer:
    if isinstance(field_type, GraphQLList):
        item = completer(field_type.of_type, nodes, parent, field_name)
        not_iterable = f"Expected Iterable, but did not find one for field '{parent}.{field_name}'."

        def complete_list(value: Any, path: LazyPath, errors: list[GraphQLError]) -> Any:
            if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
                errors.append(located_error(GraphQLError(not_iterable), nodes, _path_list(path)))
                raise PropagateNull
            return [item(v, (path, i), errors) for i, v in enumerate(value)]

        return complete_list
    if isinstance(field_type, (GraphQLScalarType, GraphQLEnumType)):
        return _serializer(field_type, nodes)
    if isinstance(field_type, GraphQLObjectType) and field_type.is_type_of is None:
        selections = [n.selection_set for n in nodes]
        if len(selections) != 1 or selections[0] is None:
            raise NotCompilable
        return _object_completer(field_type, selected_fields(selections[0].selections))
    raise NotCompilable  # interfaces, unions, types with is_type_of


def _basic_resolver(definition: GraphQLField, strawberry_field: Any) -> Callable[[Any], Any]:
    """A basic field's value from its source: Strawberry's resolver reads
    `getattr(source, python_name)` (its default resolver) through three calls; the same read,
    made directly, when that is all it does."""
    if strawberry_field.default_resolver is getattr:
        return operator.attrgetter(strawberry_field.python_name)
    resolve = definition.resolve
    assert resolve is not None
    # A basic field's resolver reads the attribute; it takes no resolve info.
    return lambda source: resolve(source, None)


def _object_completer(object_type: GraphQLObjectType, nodes: list[FieldNode]) -> Completer:
    type_name = object_type.name
    fields: list[tuple[str, Callable[[Any], Any] | None, Completer, bool, list[FieldNode]]] = []
    for node in nodes:
        name = node.name.value
        key = node.alias.value if node.alias else name
        if name == "__typename":
            fields.append((key, None, never_completed, False, [node]))
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
        complete = completer(definition.type, [node], type_name, name)
        nullable = not isinstance(definition.type, GraphQLNonNull)
        fields.append(
            (key, _basic_resolver(definition, strawberry_field), complete, nullable, [node])
        )
    require_unique_keys([f[0] for f in fields])

    def complete_object(value: Any, path: LazyPath, errors: list[GraphQLError]) -> Any:
        result: dict[str, Any] = {}
        for key, read, complete, nullable, field_nodes in fields:
            if read is None:
                result[key] = type_name
                continue
            try:
                field_value = read(value)
            except Exception as error:  # noqa: BLE001 — a field error, as graphql-core reports it
                errors.append(located_error(error, field_nodes, _path_list((path, key))))
                if nullable:
                    result[key] = None
                    continue
                raise PropagateNull from None
            result[key] = complete(field_value, (path, key), errors)
        return result

    return complete_object
