"""Compiled serialisers: one Python function per trusted selection set, generated at start-up.

Why: completing a sync's answer field by field through closures
(server/compiled_completion.py) is about forty Python calls per request: a completer per
position, a getter per field, a serializer per leaf, null checks in wrappers. Over HTTP, where
the server's caches are cold between requests, that walk cost about as much as the licensing
decision (issue 12, B1). The function generated here does the same walk as straight-line code:
attributes read directly, `String`, `ID` and `Boolean` leaves that are already of their type
kept as they are, other leaves through their type's own `serialize`.

It only ever takes the happy path. Anything else (a null in a non-null position, a leaf whose
`serialize` fails or returns null, a list that is not a `list`, a getter that raises) raises,
and the caller completes the same value again with the closures of
server/compiled_completion.py, which report the error exactly as graphql-core does. Completion
reads plain attributes and calls pure serializers, so doing it twice changes nothing.
"""

from __future__ import annotations

import itertools
import keyword
from collections.abc import Callable
from typing import Any

from graphql import (
    FieldNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLString,
    Undefined,
)

#: The key under which Strawberry keeps its field definition in a graphql-core field.
STRAWBERRY_DEFINITION = "strawberry-definition"

Serialize = Callable[[Any], Any]

#: Leaves whose `serialize` returns a value of this exact class unchanged (graphql-core's own).
_KEPT_AS_IS = {
    id(GraphQLString.serialize): str,
    id(GraphQLID.serialize): str,
    id(GraphQLBoolean.serialize): bool,
}


class _Unsupported(Exception):
    pass


class _Slow(Exception):
    """The value left the happy path: complete it with the precise completer."""


def fast_serializer(field_type: GraphQLOutputType, nodes: list[FieldNode]) -> Serialize | None:
    """A function completing a value of `field_type` selected by `nodes` on the happy path
    (raising on anything else), or None when the selection uses what is not generated here."""
    generator = _Generator()
    try:
        lines, result = generator.complete(field_type, nodes, "value", 1)
    except _Unsupported:
        return None
    source = "\n".join(["def serialize(value):", *lines, f"    return {result}"])
    namespace: dict[str, Any] = {**generator.names, "_Slow": _Slow, "Undefined": Undefined}
    exec(compile(source, f"<serializer of {field_type}>", "exec"), namespace)  # noqa: S102 — our own source, from the schema
    serialize: Serialize = namespace["serialize"]
    return serialize


class _Generator:
    def __init__(self) -> None:
        self.names: dict[str, Any] = {}
        self._counter = itertools.count()

    def _fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter)}"

    def _bind(self, value: Any, prefix: str) -> str:
        name = self._fresh(prefix)
        self.names[name] = value
        return name

    def complete(
        self, field_type: GraphQLOutputType, nodes: list[FieldNode], value: str, depth: int
    ) -> tuple[list[str], str]:
        """Lines completing the value in variable `value`, and the expression of the result."""
        pad = "    " * depth
        if isinstance(field_type, GraphQLNonNull):
            lines, result = self.raw(field_type.of_type, nodes, value, depth)
            return [f"{pad}if {value} is None: raise _Slow", *lines], result
        out = self._fresh("out")
        lines, result = self.raw(field_type, nodes, value, depth + 1)
        return [
            f"{pad}if {value} is None:",
            f"{pad}    {out} = None",
            f"{pad}else:",
            *lines,
            f"{pad}    {out} = {result}",
        ], out

    def raw(
        self, field_type: GraphQLOutputType, nodes: list[FieldNode], value: str, depth: int
    ) -> tuple[list[str], str]:
        pad = "    " * depth
        if isinstance(field_type, GraphQLList):
            out, item = self._fresh("items"), self._fresh("item")
            lines, result = self.complete(field_type.of_type, nodes, item, depth + 1)
            return [
                f"{pad}if {value}.__class__ is not list: raise _Slow",
                f"{pad}{out} = []",
                f"{pad}for {item} in {value}:",
                *lines,
                f"{pad}    {out}.append({result})",
            ], out
        if isinstance(field_type, (GraphQLScalarType, GraphQLEnumType)):
            serialize = field_type.serialize
            out = self._fresh("leaf")
            kept = _KEPT_AS_IS.get(id(serialize))
            call = f"{out} = {self._bind(serialize, 'serialize')}({value})"
            if kept is not None:
                kind = self._bind(kept, "kind")
                return [
                    f"{pad}if {value}.__class__ is {kind}:",
                    f"{pad}    {out} = {value}",
                    f"{pad}else:",
                    f"{pad}    {call}",
                    f"{pad}    if {out} is None or {out} is Undefined: raise _Slow",
                ], out
            return [
                f"{pad}{call}",
                f"{pad}if {out} is None or {out} is Undefined: raise _Slow",
            ], out
        if isinstance(field_type, GraphQLObjectType) and field_type.is_type_of is None:
            if len(nodes) != 1 or nodes[0].selection_set is None:
                raise _Unsupported
            return self.object(field_type, nodes[0].selection_set.selections, value, depth)
        raise _Unsupported

    def object(
        self, object_type: GraphQLObjectType, selections: Any, value: str, depth: int
    ) -> tuple[list[str], str]:
        pad = "    " * depth
        out = self._fresh("object")
        lines = [f"{pad}{out} = {{}}"]
        keys = set()
        for node in selections:
            if not isinstance(node, FieldNode) or node.directives or node.arguments:
                raise _Unsupported
            name = node.name.value
            key = node.alias.value if node.alias else name
            if key in keys:
                raise _Unsupported  # repeated response keys are merged by graphql-core
            keys.add(key)
            if name == "__typename":
                lines.append(f"{pad}{out}[{key!r}] = {object_type.name!r}")
                continue
            definition = object_type.fields[name]
            field = (definition.extensions or {}).get(STRAWBERRY_DEFINITION)
            if definition.resolve is None or field is None or not field.is_basic_field:
                raise _Unsupported
            read = self._fresh("field")
            python_name = field.python_name
            if (
                field.default_resolver is getattr
                and python_name.isidentifier()
                and not keyword.iskeyword(python_name)
            ):
                lines.append(f"{pad}{read} = {value}.{python_name}")
            else:
                resolve = self._bind(definition.resolve, "resolve")
                lines.append(f"{pad}{read} = {resolve}({value}, None)")
            field_lines, result = self.complete(definition.type, [node], read, depth)
            lines.extend(field_lines)
            lines.append(f"{pad}{out}[{key!r}] = {result}")
        return lines, out
