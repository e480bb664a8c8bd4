"""Cursors: the API's encoding of the rules' keyset positions (base64 of a JSON list of strings).

The rules hand out and take back positions (tuples of strings); clients see opaque cursors. What a
position must hold (how many parts, a timestamp) the rules check; here only the encoding is.
"""

from __future__ import annotations

import base64
import binascii

import orjson
from seatkeeper.rules.fields import InputField
from seatkeeper.rules.outcomes import BadRequest, Position
from seatkeeper.rules.paging import NOT_OURS


def encode_cursor(position: Position) -> str:
    """An opaque cursor: the keyset position, base64-encoded JSON."""
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode("ascii")


def decode_cursor(cursor: str | None) -> Position | None:
    """The position a cursor holds (None for no cursor); BadRequest for one not given out here."""
    if not cursor:
        return None
    try:
        parts = orjson.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError, orjson.JSONDecodeError):
        raise BadRequest(NOT_OURS, (InputField.AFTER,)) from None
    if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
        raise BadRequest(NOT_OURS, (InputField.AFTER,))
    return tuple(parts)
