"""The storage contract kit: the promises of `storage/protocol.py`, as tests any plugin runs.

How an integrator uses it — one test module in the plugin's own test suite:

    import uuid

    import pytest
    from seatkeeper.storage import load_storage
    from seatkeeper.storage.contract import StorageContract

    @pytest.fixture
    def storage_factory():
        async def build():                      # called once per test, in that test's event loop
            storage = load_storage("myplugin://localhost/contract-" + uuid.uuid4().hex)
            await storage.open()
            return storage                      # fresh, empty and opened; the kit closes it
        return build

    class TestMyPlugin(StorageContract):        # every contract test runs against MyPlugin
        supports_threads = True                 # False: the backend is not thread-safe by design

`storage_factory` may live in the module, a conftest.py or the class itself; it is the only
fixture to provide (drop databases in its teardown, after a `yield`). For readable assertion
messages, register the kit's modules with `pytest.register_assert_rewrite` at the top of your
conftest.py: `seatkeeper.storage.contract` and each `seatkeeper.storage.contract_*` listed below
(a name covers its submodules only; tests/plugins/conftest.py shows the list). Subclass one of the parts (`UserContract`, `ConcurrencyContract`, …) to run
only that area. Set `supports_threads = False` for a backend that may only be used from one
event loop: the tests that drive it from several threads at once are then reported as skipped.

The kit tests the protocol's promises, not the licensing rules: it plays the engine's part with
hand-made change sets. It uses times in whole seconds (some databases keep only milliseconds)
and runs in a few seconds on the memory plugin.

The kit is split by area of the protocol, one module each (all composed here, import from here):
`contract_base` (fixtures and helpers), `contract_organizations`, `contract_users`,
`contract_changes`, `contract_holders`, `contract_listing`, `contract_logs`,
`contract_concurrency`, `contract_edge_cases`, `contract_sync` (and `contract_processes`, which
`tests/storage/test_multiprocess_kit.py` runs on its own).
"""

from __future__ import annotations

from seatkeeper.storage.contract_base import (
    EXTERNAL,
    INSPECTIONS,
    NO_LIMIT,
    ORG,
    OTHER_ORG,
    SEATS,
    STANDARD,
    T0,
    A,
    D,
    Run,
    StorageFactory,
    U,
    _ContractBase,
    add_users,
    all_audit,
    all_users,
    at,
    audit_entries,
    change_set,
    change_to,
    default_project,
    held_at,
    make_org,
    make_user,
    present,
    run_in_threads,
)
from seatkeeper.storage.contract_changes import ApplyChangesContract
from seatkeeper.storage.contract_concurrency import ConcurrencyContract
from seatkeeper.storage.contract_edge_cases import EdgeCaseContract
from seatkeeper.storage.contract_holders import HolderQueryContract
from seatkeeper.storage.contract_listing import UserListContract
from seatkeeper.storage.contract_logs import AdminLogContract, LogContract
from seatkeeper.storage.contract_organizations import OrganizationContract, TokenContract
from seatkeeper.storage.contract_sync import SyncWriteContract
from seatkeeper.storage.contract_users import UserContract

# The helpers are re-exported: plugin test suites build their own fixtures with them.
__all__ = [
    "EXTERNAL",
    "INSPECTIONS",
    "NO_LIMIT",
    "ORG",
    "OTHER_ORG",
    "SEATS",
    "STANDARD",
    "T0",
    "A",
    "AdminLogContract",
    "ApplyChangesContract",
    "ConcurrencyContract",
    "D",
    "EdgeCaseContract",
    "HolderQueryContract",
    "LogContract",
    "OrganizationContract",
    "Run",
    "StorageContract",
    "StorageFactory",
    "SyncWriteContract",
    "TokenContract",
    "U",
    "UserContract",
    "UserListContract",
    "_ContractBase",
    "add_users",
    "all_audit",
    "all_users",
    "at",
    "audit_entries",
    "change_set",
    "change_to",
    "default_project",
    "held_at",
    "make_org",
    "make_user",
    "present",
    "run_in_threads",
]


class StorageContract(
    OrganizationContract,
    TokenContract,
    UserContract,
    ApplyChangesContract,
    HolderQueryContract,
    UserListContract,
    LogContract,
    AdminLogContract,
    ConcurrencyContract,
    EdgeCaseContract,
    SyncWriteContract,
):
    """Every promise of the Storage protocol. Subclass it as `Test…` and provide `storage_factory`."""
