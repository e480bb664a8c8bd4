"""The SDL is documentation (issue 12): every type, field, argument, input field and enum value
is described; root fields with their range, the roles that may call them and the userErrors codes
their payload can carry.

`make check` holds schema.graphql to the same with graphql-schema-linter's description rules
(tests/clients/.graphql-schema-linterrc); these tests hold the code to it without Node.
"""

from __future__ import annotations

import enum

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    build_schema,
)
from seatkeeper.rules.outcomes import ErrorCode
from seatkeeper.schema.enums import describe_enum
from seatkeeper.schema.root import sdl

SCHEMA = build_schema(sdl())
ROLES = ("OPERATOR", "ADMIN", "SYNC", "READER")


def _root_fields():
    for root in (SCHEMA.query_type, SCHEMA.mutation_type):
        assert root is not None
        for name, field in root.fields.items():
            yield root.name, name, field


def test_every_root_field_and_argument_is_described():
    missing = []
    for root, name, field in _root_fields():
        if not (field.description or "").strip():
            missing.append(f"{root}.{name}")
        for argument_name, argument in field.args.items():
            if not (argument.description or "").strip():
                missing.append(f"{root}.{name}({argument_name})")
    assert missing == []


def test_spec_6a_every_first_argument_states_its_range():
    for _, name, field in _root_fields():
        if "first" in field.args:
            assert "1–500" in (field.args["first"].description or ""), name


def test_spec_9_every_operation_says_which_roles_may_call_it():
    for root, name, field in _root_fields():
        if name == "viewer":
            continue  # any role
        assert any(role in (field.description or "") for role in ROLES), f"{root}.{name}"


def test_every_mutation_lists_the_user_error_codes_of_its_payload():
    assert SCHEMA.mutation_type is not None
    for name, field in SCHEMA.mutation_type.fields.items():
        assert "userErrors code" in (field.description or ""), name


def _described(thing) -> bool:
    return bool((thing.description or "").strip())


def test_every_type_field_argument_input_field_and_enum_value_is_described():
    """What graphql-schema-linter's five description rules check, on the schema the code builds."""
    missing = []
    for name, named in SCHEMA.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if not _described(named):
            missing.append(name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named.fields.items():
                if not _described(field):
                    missing.append(f"{name}.{field_name}")
                missing += [
                    f"{name}.{field_name}({a})"
                    for a, arg in field.args.items()
                    if not _described(arg)
                ]
        elif isinstance(named, GraphQLInputObjectType):
            missing += [f"{name}.{f}" for f, field in named.fields.items() if not _described(field)]
        elif isinstance(named, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in named.values.items() if not _described(value)]
    assert missing == []


def test_page_info_follows_the_relay_connection_specification():
    """Relay clients require all four fields of PageInfo (issue 12)."""
    page_info = SCHEMA.type_map["PageInfo"]
    assert isinstance(page_info, GraphQLObjectType)
    assert {n: str(f.type) for n, f in page_info.fields.items()} == {
        "hasNextPage": "Boolean!",
        "hasPreviousPage": "Boolean!",
        "startCursor": "String",
        "endCursor": "String",
    }


def test_every_payload_names_the_codes_its_user_errors_can_carry():
    codes = {code.value for code in ErrorCode}
    for name, named in SCHEMA.type_map.items():
        if isinstance(named, GraphQLObjectType) and "userErrors" in named.fields:
            text = named.fields["userErrors"].description or ""
            assert any(code in text for code in codes), name
            assert all(word in codes for word in _codes_named(text)), name


def test_each_mutation_and_its_payload_name_the_same_user_error_codes():
    """The root field's summary and its payload's `userErrors` are two places: kept in step."""
    assert SCHEMA.mutation_type is not None
    for name, field in SCHEMA.mutation_type.fields.items():
        payload = field.type.of_type
        assert isinstance(payload, GraphQLObjectType), name
        in_payload = _codes_named(payload.fields["userErrors"].description or "")
        assert _codes_named(field.description or "") == in_payload, name


def _codes_named(text: str) -> set[str]:
    """The words of `text` written like error codes (upper case with an underscore)."""
    words = {w.strip(".,;:()`") for w in text.split()}
    return {w for w in words if "_" in w and w.isupper()} - {"ASSIGNED", "EXTERNAL"}


def test_an_enum_value_without_a_description_is_refused_at_import():
    class Color(enum.Enum):
        RED = "RED"
        GREEN = "GREEN"

    with pytest.raises(ValueError, match="Color: no description for GREEN"):
        describe_enum(Color, "A colour.", {Color.RED: "Red."})
