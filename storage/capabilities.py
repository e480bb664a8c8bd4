"""What a storage plugin declares about itself (storage/protocol.py is what it implements).

`Capabilities` (the protocol version, processes, threads, durability, sync-log expiry), read
with `capabilities_of`, and the optional `Backup` ability that `seatkeeper backup` and
`seatkeeper restore` use. All importable from `storage.protocol` too, as plugins do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

#: The version of this protocol. A plugin declares the version it implements in its
#: `Capabilities`; the server refuses one outside `SUPPORTED_PROTOCOL_VERSIONS` at start-up.
#: Version 2 added the administration log: `log=` on the administrative writes and
#: `list_admin_log`; a version 1 plugin would fail on the first administrative change.
PROTOCOL_VERSION = 2
SUPPORTED_PROTOCOL_VERSIONS = range(2, PROTOCOL_VERSION + 1)


@dataclass(frozen=True)
class Capabilities:
    """What a plugin declares about itself, as the attribute `capabilities` of its backend.

    The server decides from these, never from the URL's text: `--workers` above 1 needs
    `shared_between_processes`; a backend that is not `durable` gets a start-up warning; the
    server purges the sync log on a schedule (SPEC 8) unless `expires_sync_log`.
    """

    #: Several OS processes may open the same store at once, every invariant kept by the
    #: store's own atomic operations (never by a lock held in one process).
    shared_between_processes: bool
    #: One backend object may be used from several threads, each with its own event loop.
    thread_safe: bool
    #: What was written survives a restart of the server process.
    durable: bool
    #: The backend drops sync-log entries after the retention period by itself (a TTL index).
    expires_sync_log: bool = False
    #: The version of this protocol the plugin implements (`PROTOCOL_VERSION` when written).
    protocol_version: int = PROTOCOL_VERSION


#: What the server assumes of a backend that declares nothing: the least.
UNDECLARED = Capabilities(shared_between_processes=False, thread_safe=False, durable=False)


def capabilities_of(backend: object) -> Capabilities:
    """The capabilities a backend declares, or `UNDECLARED` if it declares none."""
    declared = getattr(backend, "capabilities", None)
    return declared if isinstance(declared, Capabilities) else UNDECLARED


@runtime_checkable
class Backup(Protocol):
    """A backend whose store `seatkeeper backup` and `seatkeeper restore` can copy (optional).

    Both are blocking calls made by those commands, never by a server. Failures raise
    StorageError with a one-line reason; nothing is left half-written.
    """

    def backup(self, target: str) -> str:
        """Copy the store, while servers use it, to the new file `target`, checked; say what."""
        ...

    def restore(self, source: str) -> str:
        """Replace the store with the backup `source`, checked (servers stopped); say what."""
        ...
