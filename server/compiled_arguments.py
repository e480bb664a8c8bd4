"""Root fields of compiled operations (server/compiled.py): their arguments and resolvers.

A root field's arguments are read from the request's coerced variables (`root_arguments`), and
its resolver is called as Strawberry's wrapper would call it (`root_resolver`), with the
arguments converted by closures decided once from the same Strawberry types. What is not covered
raises `NotCompilable` or keeps Strawberry's own wrapper.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLResolveInfo,
    GraphQLScalarType,
    Undefined,
    VariableNode,
)
from graphql.execution import get_argument_values
from graphql.execution.values import VariableValues
from seatkeeper.server.compiled_completion import NotCompilable
from seatkeeper.server.serializers import STRAWBERRY_DEFINITION
from strawberry.relay import GlobalID
from strawberry.types import Info
from strawberry.types.base import StrawberryList, StrawberryMaybe, StrawberryOptional

#: A root field's arguments from the request's coerced variables (graphql-core's rules).
ArgumentValues = Callable[[VariableValues], dict[str, Any]]
#: A root field's resolver, called with graphql-core's resolve info and the field's arguments.
RootResolver = Callable[..., Any]
#: Strawberry's conversion of one GraphQL input value (already coerced) to its Python value.
Converter = Callable[[Any], Any]


def root_arguments(definition: GraphQLField, node: FieldNode) -> ArgumentValues:
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


def root_resolver(definition: GraphQLField) -> RootResolver:
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
