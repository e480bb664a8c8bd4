"""Variable coercion for trusted operations, decided once per operation.

Why: graphql-core's `get_variable_values` reads each variable's type from the document, checks
the value's nesting depth, then walks value and type together, asking the type at every step
what it is: about a tenth of a sync's CPU. A trusted operation's variables are known at start-up,
so that walk can be laid out once as closures, one per position of the type.

How it stays graphql-core's answer: the closures do what `coerce_input_value` does, step for
step (the same `is_iterable`, the same leaf `coerce_input_value`, the same defaults of input
fields, the same `out_type`), for values it accepts. Anything else — a value that does not
coerce, a variable left out that has a default or is required, a OneOf input — returns
`FALL_BACK`, and the caller runs graphql-core's `get_variable_values`, which produces the errors
(or the value) as always. Recursive input types are not compiled (their nesting is unbounded,
which graphql-core bounds; every other type nests less than its MAX_NESTING_DEPTH).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    VariableDefinitionNode,
    is_required_input_field,
)
from graphql.execution.get_variable_signature import get_variable_signature
from graphql.execution.values import VariableValues, VariableValueSource
from graphql.pyutils import is_iterable
from graphql.utilities.coerce_input_value import coerce_default_value

Coerce = Callable[[Any], Any]  # a value -> its coerced value, or Undefined when it does not coerce
#: What `coerce_variables` returns when graphql-core must decide (errors, defaults).
FALL_BACK = None


class NotCompiled(Exception):
    pass


class CompiledVariables:
    """`coerce(inputs)`: graphql-core's `VariableValues` for these variables, or FALL_BACK."""

    def __init__(self, variables: list[tuple[str, Any, Coerce]]) -> None:
        self.variables = variables

    def coerce(self, inputs: Mapping[str, Any]) -> VariableValues | None:
        sources: dict[str, VariableValueSource] = {}
        coerced: dict[str, Any] = {}
        for name, signature, coerce in self.variables:
            value = inputs.get(name, Undefined)
            if value is Undefined:
                if signature.default is not None or isinstance(signature.type, GraphQLNonNull):
                    return FALL_BACK  # a default to coerce, or an error to report
                sources[name] = VariableValueSource(signature)
                continue  # graphql-core omits a nullable variable left out
            sources[name] = VariableValueSource(signature, value)
            coerced_value = coerce(value)
            if coerced_value is Undefined:
                return FALL_BACK
            coerced[name] = coerced_value
        return VariableValues(sources, coerced)


def compile_variables(
    schema: GraphQLSchema, definitions: Collection[VariableDefinitionNode]
) -> CompiledVariables | None:
    """The compiled coercion of an operation's variables, or None when one is not compiled."""
    variables = []
    try:
        for definition in definitions:
            signature = get_variable_signature(schema, definition)
            if isinstance(signature, GraphQLError) or definition.directives:
                return None
            variables.append((signature.name, signature, _coercer(signature.type, set())))
    except NotCompiled:
        return None
    return CompiledVariables(variables)


def _coercer(type_: GraphQLInputType, seen: set[str]) -> Coerce:
    if isinstance(type_, GraphQLNonNull):
        inner = _coercer(type_.of_type, seen)

        def coerce_non_null(value: Any) -> Any:
            if value is None or value is Undefined:
                return Undefined
            return inner(value)

        return coerce_non_null
    if isinstance(type_, GraphQLList):
        item = _coercer(type_.of_type, seen)

        def coerce_list(value: Any) -> Any:
            if value is None or value is Undefined:
                return None
            if not is_iterable(value):
                # Lists accept a non-list value as a list of one.
                one = item(value)
                return Undefined if one is Undefined else [one]
            coerced = []
            for item_value in value:
                coerced_item = item(item_value)
                if coerced_item is Undefined:
                    return Undefined
                coerced.append(coerced_item)
            return coerced

        return coerce_list
    if isinstance(type_, GraphQLInputObjectType):
        return _input_object_coercer(type_, seen)
    if isinstance(type_, (GraphQLScalarType, GraphQLEnumType)):
        coerce_leaf = type_.coerce_input_value

        def coerce_scalar(value: Any) -> Any:
            if value is None or value is Undefined:
                return None
            try:
                return coerce_leaf(value)
            except Exception:  # noqa: BLE001 — graphql-core's reading: the value does not coerce
                return Undefined

        return coerce_scalar
    raise NotCompiled


def _input_object_coercer(type_: GraphQLInputObjectType, seen: set[str]) -> Coerce:
    if type_.name in seen or type_.is_one_of:
        raise NotCompiled  # recursive (unbounded nesting) or OneOf: graphql-core's own walk
    inside = seen | {type_.name}
    fields = [
        (
            name,
            field,
            field.out_name or name,
            is_required_input_field(field),
            _coercer(field.type, inside),
        )
        for name, field in type_.fields.items()
    ]
    names = frozenset(type_.fields)
    out_type = type_.out_type

    def coerce_input_object(value: Any) -> Any:
        if value is None or value is Undefined:
            return None
        if not isinstance(value, dict):
            return Undefined
        for field_name, field_value in value.items():
            if field_value is not Undefined and field_name not in names:
                return Undefined
        coerced: dict[str, Any] = {}
        for name, field, out_name, required, coerce in fields:
            field_value = value.get(name, Undefined)
            if field_value is Undefined:
                if required:
                    return Undefined
                default = coerce_default_value(field)
                if default is not Undefined:
                    coerced[out_name] = default
            else:
                coerced_field = coerce(field_value)
                if coerced_field is Undefined:
                    return Undefined
                coerced[out_name] = coerced_field
        return out_type(coerced)

    return coerce_input_object
