"""Plugin tests run the storage contract kit: let pytest rewrite its asserts for clear failures."""

import pytest

pytest.register_assert_rewrite("seatkeeper.storage.contract")
