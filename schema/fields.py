"""Typed spellings of `strawberry.field(description=...)` and `strawberry.mutation(...)`.

Called with keyword arguments only, both are typed as returning `Any` (strawberry's overloads
leave the decorator form untyped for dataclass-style fields), so under mypy --strict every root
field they decorate would count as an untyped function. What they return is a `StrawberryField`,
whose `__call__(resolver)` is typed: said here once, the root types keep their resolvers typed.
"""

from __future__ import annotations

import strawberry
from strawberry.types.field import StrawberryField


def root_field(*, description: str) -> StrawberryField:
    """A root Query field: decorate its resolver with it."""
    field: StrawberryField = strawberry.field(description=description)
    return field


def root_mutation(*, description: str) -> StrawberryField:
    """A root Mutation field: decorate its resolver with it."""
    field: StrawberryField = strawberry.mutation(description=description)
    return field
