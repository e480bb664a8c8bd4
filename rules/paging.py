"""Keyset paging (SPEC 6a, 8): page sizes and positions, shared by every listing.

A position is the sort key of an item as a tuple of strings; a listing takes the last one it
gave back as `after`. Encoding positions as cursors is the API layer's business
(`seatkeeper.resolvers.cursors`): the rules never see one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from seatkeeper.rules.fields import InputField
from seatkeeper.rules.outcomes import BadRequest, Page, Position

R = TypeVar("R")
Item = TypeVar("Item")

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50

NOT_OURS = "the cursor `after` is not one this server gave out"


def check_position(after: object, arity: int) -> Position:
    """`after` as a position of `arity` strings; BadRequest for anything this server never gave."""
    if (
        not isinstance(after, tuple)
        or len(after) != arity
        or not all(isinstance(part, str) for part in after)
    ):
        raise BadRequest(NOT_OURS, (InputField.AFTER,))
    return after


def check_page_size(first: int | None) -> int:
    """SPEC 6a: `first` is 1–500, default 50; outside that range the query fails."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise BadRequest(
            f"`first` must be between 1 and {MAX_PAGE_SIZE}, got {first}", (InputField.FIRST,)
        )
    return first


def keyset_page(
    rows: Sequence[R],
    first: int,
    position: Callable[[R], Position],
    item: Callable[[R], Item],
    total_count: int | None = None,
) -> Page[Item]:
    """One page from `first + 1` fetched rows: the extra row only says that a next page exists."""
    page = rows[:first]
    return Page(
        items=[item(row) for row in page],
        positions=[position(row) for row in page],
        has_next_page=len(rows) > first,
        total_count=total_count,
    )
