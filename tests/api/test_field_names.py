"""Neutral field names and their API spelling (issue 10: the rules do not know the API's shape).

The rules name an offending input with `InputField`; `seatkeeper.resolvers.fields` spells it as
the schema does. Every name is spelled, each spelling is one the schema has, and the rules hold
no camelCase name of their own.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from graphql import GraphQLInputObjectType, GraphQLObjectType, build_schema
from seatkeeper.resolvers.fields import API_NAMES, IN_INPUT, api_path
from seatkeeper.rules.fields import InputField

ROOT = Path(__file__).resolve().parents[2]
CAMEL = re.compile(r"[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+")


def _schema_input_names() -> set[str]:
    """Every argument of every field and every field of every input type in schema.graphql."""
    schema = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))
    names: set[str] = set()
    for graphql_type in schema.type_map.values():
        if isinstance(graphql_type, GraphQLInputObjectType):
            names.update(graphql_type.fields)
        elif isinstance(graphql_type, GraphQLObjectType):
            for field in graphql_type.fields.values():
                names.update(field.args)
    return names


@pytest.mark.parametrize("name", list(InputField))
def test_every_neutral_name_has_the_schemas_spelling(name):
    assert API_NAMES[name] in _schema_input_names()


def test_no_two_names_share_a_spelling():
    assert len(set(API_NAMES.values())) == len(API_NAMES) == len(InputField)


def test_a_path_is_spelled_under_its_argument_with_indexes_as_strings():
    path = (InputField.USER_IDS, 3)
    assert api_path(path, IN_INPUT) == ["input", "userIds", "3"]
    assert api_path((InputField.USERS, 0, InputField.FULL_NAME)) == ["users", "0", "fullName"]
    assert api_path(None, IN_INPUT) is None


def test_the_rules_hold_no_camel_case_name():
    """A camelCase string in rules/ would be the API's spelling leaking down (field paths)."""
    found = []
    for module in sorted((ROOT / "rules").glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and CAMEL.fullmatch(str(node.value)):
                found.append(f"{module.name}:{node.lineno}: {node.value!r}")
    assert found == []
