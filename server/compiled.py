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

import dataclasses
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
    GraphQLInputObjectType,
    GraphQLInputType,
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
    VariableNode,
    located_error,
)
from graphql.execution import get_argument_values
from graphql.execution.values import VariableValues
from graphql.pyutils import Path
from seatkeeper.server.serializers import STRAWBERRY_DEFINITION, Serialize, fast_serializer
from seatkeeper.server.variables import CompiledVariables, compile_variables
from strawberry.relay import GlobalID
from strawberry.types import Info
from strawberry.types.base import StrawberryList, StrawberryMaybe, StrawberryOptional

#: A response path as completion passes it down: (parent, key) pairs, None at the root. Tuples,
#: not graphql-core's `Path` (a named tuple built in Python): a sync completes a dozen fields and
#: reads a path only when one of them fails (`_path_list`).
LazyPath = tuple[Any, str | int] | None
Completer = Callable[[Any, LazyPath, list[GraphQLError]], Any]
#: A root field's arguments from the request's coerced variables (graphql-core's rules).
ArgumentValues = Callable[[VariableValues], dict[str, Any]]
#: A root field's resolver, called with graphql-core's resolve info and the field's arguments.
RootResolver = Callable[..., Any]
#: Strawberry's conversion of one GraphQL input value (already coerced) to its Python value.
Converter = Callable[[Any], Any]


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
            fast = fast_serializer(definition.type, [node])
            if fast is not None:
                complete = _fast_first(fast, complete)
            nullable = not isinstance(definition.type, GraphQLNonNull)
            resolve = _root_resolver(definition)
            arguments = _argument_values(definition, node)
            roots.append(
                _RootField(key, name, definition, [node], complete, nullable, resolve, arguments)
            )
        _unique([r.key for r in roots])
    except NotCompilable:
        return None
    return CompiledOperation(schema, operation, roots)


def _fast_first(fast: Serialize, precise: Completer) -> Completer:
    """The generated serialiser (server/serializers.py); off its happy path, the closures."""

    def complete_fast_first(value: Any, path: LazyPath, errors: list[GraphQLError]) -> Any:
        try:
            return fast(value)
        except Exception:  # noqa: BLE001 — an error to report: the precise completer reports it
            return precise(value, path, errors)

    return complete_fast_first


def _never(value: Any, path: LazyPath, errors: list[GraphQLError]) -> Any:
    raise AssertionError("__typename is not completed")


def _path_list(path: LazyPath) -> list[str | int]:
    """The keys of a completion path, from the root (what `Path.as_list` gives)."""
    keys: list[str | int] = []
    while path is not None:
        path, key = path
        keys.append(key)
    keys.reverse()
    return keys


def _argument_values(definition: GraphQLField, node: FieldNode) -> ArgumentValues:
    """graphql-core's `get_argument_values` for this field, with the common case decided once.

    When every argument of the field is given as a variable, and every such variable has a value
    that is not null, the arguments are those values (what `coerce_argument` returns then).
    Anything else (literals, defaults, a missing or null variable and its error) is left to
    graphql-core, request by request.
    """
    if not definition.args:
        return lambda _variables: {}
    given = {argument.name.value: argument.value for argument in node.arguments or ()}
    pairs: list[tuple[str, str]] = []
    for name, argument in definition.args.items():
        value_node = given.get(name)
        if not isinstance(value_node, VariableNode):
            return lambda variables: get_argument_values(definition, node, variables)
        pairs.append((argument.out_name or name, value_node.name.value))

    def argument_values(variables: VariableValues) -> dict[str, Any]:
        coerced = variables.coerced
        arguments = {}
        for out_name, variable in pairs:
            value = coerced.get(variable)
            if value is None or value is Undefined:
                return get_argument_values(definition, node, variables)
            arguments[out_name] = value
        return arguments

    return argument_values


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
                    raise _Null
                return serialize_non_null(value, path, errors)

            return complete_non_null_leaf
        inner = _raw_completer(of_type, nodes, parent, field_name)

        def complete_non_null(value: Any, path: LazyPath, errors: list[GraphQLError]) -> Any:
            if value is None:
                errors.append(located_error(TypeError(message), nodes, _path_list(path)))
                raise _Null
            return inner(value, path, errors)

        return complete_non_null
    inner = _raw_completer(field_type, nodes, parent, field_name)

    def complete_nullable(value: Any, path: LazyPath, errors: list[GraphQLError]) -> Any:
        if value is None:
            return None
        try:
            return inner(value, path, errors)
        except _Null:
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
            raise _Null from None
        if serialized is Undefined or serialized is None:
            problem = TypeError(
                f"Expected `{field_type}.serialize({value!r})` to return non-nullable value,"
                f" returned: {serialized!r}"
            )
            errors.append(located_error(problem, nodes, _path_list(path)))
            raise _Null
        return serialized

    return complete_leaf


def _raw_completer(
    field_type: GraphQLOutputType, nodes: list[FieldNode], parent: str, field_name: str
) -> Completer:
    if isinstance(field_type, GraphQLList):
        item = _completer(field_type.of_type, nodes, parent, field_name)
        not_iterable = f"Expected Iterable, but did not find one for field '{parent}.{field_name}'."

        def complete_list(value: Any, path: LazyPath, errors: list[GraphQLError]) -> Any:
            if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
                errors.append(located_error(GraphQLError(not_iterable), nodes, _path_list(path)))
                raise _Null
            return [item(v, (path, i), errors) for i, v in enumerate(value)]

        return complete_list
    if isinstance(field_type, (GraphQLScalarType, GraphQLEnumType)):
        return _serializer(field_type, nodes)
    if isinstance(field_type, GraphQLObjectType) and field_type.is_type_of is None:
        selections = [n.selection_set for n in nodes]
        if len(selections) != 1 or selections[0] is None:
            raise NotCompilable
        return _object_completer(field_type, _fields(selections[0].selections))
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
                raise _Null from None
            result[key] = complete(field_value, (path, key), errors)
        return result

    return complete_object


# ---------------------------------------------------------------- root resolvers and arguments


def _root_resolver(definition: GraphQLField) -> RootResolver:
    """What Strawberry's resolver wrapper does for a root field, decided once.

    Strawberry's wrapper (schema_converter.from_resolver) builds an `Info`, converts the
    arguments with `convert_arguments` (walking the argument's type annotations on every call:
    a quarter of a sync's CPU), then calls the resolver with self/root/info as it asks for
    them. Here the conversion is a closure per argument, built from the same Strawberry types,
    and the resolver is called the same way. Fields this does not cover (field extensions,
    permission classes, `Maybe`, `GlobalID`, inputs with `from_input`, lazy types) keep
    Strawberry's own wrapper: correct, only slower. The Strawberry schema is built without
    exception handlers or a custom info class (schema/root.py), which the wrapper also reads.
    """
    resolve = definition.resolve
    assert resolve is not None
    field = (definition.extensions or {}).get(STRAWBERRY_DEFINITION)
    resolver = getattr(field, "base_resolver", None)
    if field is None or resolver is None or field.extensions:
        return resolve
    try:
        converters = _argument_converters(definition, field)
    except NotCompilable:
        return resolve
    # What `StrawberryResolver.__call__` calls, without its wrapper (a callable checked once).
    call = resolver.wrapped_func if callable(resolver.wrapped_func) else resolver.__call__
    # Identity converters (leaves, enums: graphql-core's value is Strawberry's) are not called.
    plain = [(g, p) for g, p, convert in converters if convert is _same]
    converted = [(g, p, convert) for g, p, convert in converters if convert is not _same]
    pass_self = resolver.self_parameter is not None
    source_names = [
        parameter.name
        for parameter in (resolver.parent_parameter, resolver.root_parameter)
        if parameter is not None
    ]
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None

    def resolve_root(source: Any, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        strawberry_info = Info(_raw_info=info, _field=field)
        kwargs = {}
        for graphql_name, python_name, convert in converted:
            if graphql_name in arguments:
                kwargs[python_name] = convert(arguments[graphql_name])
        for graphql_name, python_name in plain:
            if graphql_name in arguments:
                kwargs[python_name] = arguments[graphql_name]
        for name in source_names:
            kwargs[name] = source
        if info_name is not None:
            kwargs[info_name] = strawberry_info
        return call(source, **kwargs) if pass_self else call(**kwargs)

    return resolve_root


def _argument_converters(definition: GraphQLField, field: Any) -> list[tuple[str, str, Converter]]:
    """(GraphQL name, Python name, converter) of each argument, in Strawberry's order."""
    by_argument = {
        id((argument.extensions or {}).get(STRAWBERRY_DEFINITION)): (name, argument)
        for name, argument in definition.args.items()
    }
    converters = []
    for argument in field.arguments:
        found = by_argument.get(id(argument))
        if found is None or not argument.python_name:
            raise NotCompilable
        graphql_name, graphql_argument = found
        convert = _converter(graphql_argument.type, argument.type)
        converters.append((graphql_name, argument.python_name, convert))
    if len(converters) != len(definition.args):
        raise NotCompilable
    return converters


def _same(value: Any) -> Any:
    return value


def _converter(graphql_type: GraphQLInputType, strawberry_type: Any) -> Converter:
    """Strawberry's `convert_argument` for values of this type, decided once (see above)."""
    if isinstance(strawberry_type, StrawberryMaybe):
        raise NotCompilable  # Some(...) wrapping and its null rules: left to Strawberry
    if isinstance(strawberry_type, StrawberryOptional):
        if isinstance(graphql_type, GraphQLNonNull):
            raise NotCompilable
        return _converter(graphql_type, strawberry_type.of_type)  # None stays None below
    if isinstance(graphql_type, GraphQLNonNull):
        graphql_type = graphql_type.of_type
    if isinstance(graphql_type, (GraphQLScalarType, GraphQLEnumType)):
        if strawberry_type is GlobalID or isinstance(strawberry_type, StrawberryList):
            raise NotCompilable
        return _same  # graphql-core parsed it (enum members, custom scalars); Strawberry keeps it
    if isinstance(graphql_type, GraphQLList):
        if not isinstance(strawberry_type, StrawberryList):
            raise NotCompilable
        item = _converter(graphql_type.of_type, strawberry_type.of_type)
        if item is _same:

            def convert_leaf_list(value: Any) -> Any:
                # A copy: graphql-core hands every request the same default list.
                return None if value is None else list(value)

            return convert_leaf_list

        def convert_list(value: Any) -> Any:
            return None if value is None else [item(v) for v in value]

        return convert_list
    if isinstance(graphql_type, GraphQLInputObjectType):
        return _input_object_converter(graphql_type, strawberry_type)
    raise NotCompilable


def _input_object_converter(
    graphql_type: GraphQLInputObjectType, strawberry_type: Any
) -> Converter:
    type_definition: Any = getattr(strawberry_type, "__strawberry_definition__", None)
    if type_definition is None:
        raise NotCompilable
    if not type_definition.is_input or type_definition.from_input is not None:
        raise NotCompilable  # an input type that builds its own value: Strawberry calls it
    if id((graphql_type.extensions or {}).get(STRAWBERRY_DEFINITION)) != id(type_definition):
        raise NotCompilable  # not the type Strawberry converted this argument's type from
    by_field = {
        id((input_field.extensions or {}).get(STRAWBERRY_DEFINITION)): (name, input_field)
        for name, input_field in graphql_type.fields.items()
    }
    # Strawberry's implicit None for fields without a default (required ones are always given).
    implicit = {
        f.python_name: None
        for f in type_definition.fields
        if f.default_value is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    fields = []
    for strawberry_field in type_definition.fields:
        found = by_field.get(id(strawberry_field))
        if found is None:
            raise NotCompilable
        name, input_field = found
        resolved = strawberry_field.resolve_type(type_definition=type_definition)
        fields.append((name, strawberry_field.python_name, _converter(input_field.type, resolved)))
    if len(fields) != len(graphql_type.fields):
        raise NotCompilable
    build = strawberry_type
    # Identity converters are not called (as for root arguments); keyword order does not matter.
    plain = [(name, python_name) for name, python_name, convert in fields if convert is _same]
    converted = [field for field in fields if field[2] is not _same]

    def convert_input(value: Any) -> Any:
        if value is None:
            return None
        kwargs = dict(implicit)
        for name, python_name in plain:
            if name in value:
                kwargs[python_name] = value[name]
        for name, python_name, convert in converted:
            if name in value:
                kwargs[python_name] = convert(value[name])
        return build(**kwargs)

    return convert_input
