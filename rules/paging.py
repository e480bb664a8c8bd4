"""Keyset paging (SPEC 6a, 8): page sizes, positions and cursors, shared by every listing."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import TypeVar

import orjson
from seatkeeper.rules.outcomes import BadRequest, Page

R = TypeVar("R")
Item = TypeVar("Item")

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50


def encode_cursor(*parts: object) -> str:
    """An opaque cursor: the keyset position, base64-encoded JSON."""
    return base64.urlsafe_b64encode(orjson.dumps(parts)).decode("ascii")


def decode_cursor(cursor: str, arity: int) -> list[str]:
    """The keyset position a cursor holds; BadRequest for one this server did not give out."""
    try:
        parts = orjson.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError, orjson.JSONDecodeError):
        raise BadRequest("the cursor `after` is not one this server gave out", ("after",)) from None
    if (
        not isinstance(parts, list)
        or len(parts) != arity
        or not all(isinstance(p, str) for p in parts)
    ):
        raise BadRequest("the cursor `after` is not one this server gave out", ("after",))
    return parts


def check_page_size(first: int | None) -> int:
    """SPEC 6a: `first` is 1–500, default 50; outside that range the query fails."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise BadRequest(f"`first` must be between 1 and {MAX_PAGE_SIZE}, got {first}", ("first",))
    return first


def keyset_page(
    rows: Sequence[R],
    first: int,
    position: Callable[[R], tuple[str, ...]],
    item: Callable[[R], Item],
    total_count: int | None = None,
) -> Page[Item]:
    """One page from `first + 1` fetched rows: the extra row only says that a next page exists."""
    page = rows[:first]
    return Page(
        items=[item(row) for row in page],
        cursors=[encode_cursor(*position(row)) for row in page],
        has_next_page=len(rows) > first,
        total_count=total_count,
    )
