"""When tokens were last used (issue 9), recorded coarsely so that no request pays a write.

A token's `last_used_at` is written at most once per `GRANULARITY` per token and process: a use
within a minute of the last one recorded (by this process, or as stored) writes nothing. So the
stored time is the start of the latest minute in which the token was used, give or take one
minute (and with several processes, a few writes per minute at most, one per process). The
request that crosses the minute waits for that one small write; every other request reads a
dictionary. A failed write is logged and forgotten: the request goes on.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

from seatkeeper.domain.records import Token

#: How coarse `last_used_at` is: at most one write per token and process in this time.
GRANULARITY = timedelta(minutes=1)


class TokenUse:
    """The last use this process recorded, per token id (bounded: the least recent forgotten)."""

    def __init__(self, max_tokens: int = 100_000) -> None:
        self.max_tokens = max_tokens
        self._recorded: OrderedDict[str, datetime] = OrderedDict()

    def due(self, token: Token, now: datetime) -> bool:
        """Whether this use of `token` at `now` is to be written; if so, it counts as recorded."""
        last = self._recorded.get(token.id)
        if token.last_used_at is not None and (last is None or token.last_used_at > last):
            last = token.last_used_at
        if last is not None and now - last < GRANULARITY:
            return False
        self._recorded[token.id] = now
        self._recorded.move_to_end(token.id)
        if len(self._recorded) > self.max_tokens:
            self._recorded.popitem(last=False)
        return True
