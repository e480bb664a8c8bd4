"""What `seatkeeper serve` settles before it serves: where data lives, and the operator's secret.

* **Where data lives.** Without `--storage` (or `SEATKEEPER_STORAGE`), a SQLite file
  `seatkeeper.db` in the data folder (server/settings.py `data_dir`: `SEATKEEPER_DATA_DIR` if set,
  else `$XDG_DATA_HOME/seatkeeper`, else `~/.local/share/seatkeeper`; the Docker image sets
  `SEATKEEPER_DATA_DIR=/data`, a volume). The folder is created on first start.
* **The operator's secret.** `SEATKEEPER_OPERATOR_TOKEN`, when set, is the operator's secret
  (configuration; never printed). Otherwise the secret is a token of role OPERATOR kept in the
  storage as a hash like every token: created (and printed, once) at the first start, found again
  at every later start (and not printed: only its hash is kept), replaced by
  `seatkeeper rotate-operator-token`. With `--demo`, every start rotates it, so that every start
  of the demo prints a secret that works.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seatkeeper.domain.records import Role, Token, new_id
from seatkeeper.rules.access import hash_secret, new_secret
from seatkeeper.rules.engine import Clock, wall_clock
from seatkeeper.storage import Storage, capabilities_of
from seatkeeper.storage.loader import redact

OPERATOR_TOKEN_NAME = "operator"


def describe_storage(url: str, backend: object) -> str:
    """The start-up line saying where data lives, and whether it is kept."""
    if capabilities_of(backend).durable:
        where = getattr(backend, "path", None)
        place = f"{Path(where).absolute()}" if where is not None else redact(url)
        return f"Storage: {place} (kept across restarts)"
    return (
        f"Storage: {redact(url)} keeps NOTHING: every organization, token and seat is lost when "
        "the server stops (use the default SQLite file, or --storage sqlite:///… / mongodb://…)"
    )


@dataclass(frozen=True)
class OperatorSecret:
    """The operator's secret as settled at start-up: `printable` only when created just now."""

    configured: bool  # from SEATKEEPER_OPERATOR_TOKEN
    printable: str | None  # the new secret, to print once; None when it already existed
    token: Token | None  # the stored token (None when configured)


async def settle_operator_secret(
    storage: Storage, *, rotate: bool, configured: bool, clock: Clock = wall_clock
) -> OperatorSecret:
    """The operator's secret: configured, found in the storage, or created there (printed once).

    `configured`: SEATKEEPER_OPERATOR_TOKEN is set (`Settings.operator_token`), and then nothing
    is stored. `rotate` revokes the stored operator tokens and creates a new one (the demo, and
    `seatkeeper rotate-operator-token`).
    """
    if configured:
        return OperatorSecret(True, None, None)
    now = clock()
    stored = [
        t
        for t in await storage.list_tokens(None)
        if t.role is Role.OPERATOR and t.revoked_at is None
    ]
    if stored and not rotate:
        return OperatorSecret(False, None, stored[-1])
    for token in stored:
        await storage.revoke_token(token.id, None, now)
    secret = new_secret()
    token = Token(new_id(), None, OPERATOR_TOKEN_NAME, Role.OPERATOR, hash_secret(secret), now)
    await storage.add_token(token)
    return OperatorSecret(False, secret, token)
