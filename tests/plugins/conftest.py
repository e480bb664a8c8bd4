"""Plugin tests run the storage contract kit: let pytest rewrite its asserts for clear failures."""

import pytest

# Every module of the kit by name: a prefix covers submodules only, not `contract_*` siblings.
pytest.register_assert_rewrite(
    "seatkeeper.storage.contract",
    "seatkeeper.storage.contract_base",
    "seatkeeper.storage.contract_organizations",
    "seatkeeper.storage.contract_users",
    "seatkeeper.storage.contract_changes",
    "seatkeeper.storage.contract_holders",
    "seatkeeper.storage.contract_listing",
    "seatkeeper.storage.contract_logs",
    "seatkeeper.storage.contract_concurrency",
    "seatkeeper.storage.contract_edge_cases",
    "seatkeeper.storage.contract_sync",
    "seatkeeper.storage.contract_processes",
)
