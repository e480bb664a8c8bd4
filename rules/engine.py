"""The rules engine: every operation of SPEC.md, applied through the Storage protocol.

`Engine` is the one façade every resolver calls. Its operations live in one module per SPEC
section, each mirroring a `tests/rules/test_spec_*.py` file:

| section | module | operations |
| --- | --- | --- |
| 4–5, sync | `sync` | `sync` |
| 3, administration | `administration` | `set_license_state`, `create_users`, `delete_users`, `update_settings`, `upsert_project`, … |
| 6, 6a, views | `views` | `subscriptions_view`, `get_user`, `list_users`, `all_users` |
| 7, CSV files | `csv_files` | `import_licenses`, `export_licenses`, `export_users`, `iter_export_*` |
| 8, logs | `logs` | `sync_log`, `audit_log`, `purge_sync_log` |
| 9, tenancy and tokens | `tenancy` | `create_organization`, `add_subscription`, `create_token`, `authenticate`, … |

Each operation reads what it needs, decides with the pure functions of `decisions.py`, and
writes with one atomic Storage operation that carries the expectations it decided on. When a
concurrent request changed those records in between, the write is refused as a Conflict and the
operation decides again on fresh records (`retry.with_conflict_retry`). The clock is injected.
"""

from __future__ import annotations

from seatkeeper.rules.administration import AdministrationOperations
from seatkeeper.rules.administration_checks import MAX_BULK_USERS, NewUser
from seatkeeper.rules.base import Clock, wall_clock
from seatkeeper.rules.csv_files import CsvOperations
from seatkeeper.rules.logs import LogOperations
from seatkeeper.rules.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from seatkeeper.rules.retry import MAX_ATTEMPTS
from seatkeeper.rules.sync import SyncOperations, SyncRequest
from seatkeeper.rules.tenancy import (
    MAX_SEATS,
    MAX_TRIAL_DAYS,
    CreatedOrganization,
    CreatedToken,
    TenancyOperations,
)
from seatkeeper.rules.views import UserFilter

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_ATTEMPTS",
    "MAX_BULK_USERS",
    "MAX_PAGE_SIZE",
    "MAX_SEATS",
    "MAX_TRIAL_DAYS",
    "Clock",
    "CreatedOrganization",
    "CreatedToken",
    "Engine",
    "NewUser",
    "SyncRequest",
    "UserFilter",
    "wall_clock",
]


class Engine(
    SyncOperations,
    AdministrationOperations,
    CsvOperations,
    LogOperations,
    TenancyOperations,
):
    """The one rules engine every resolver calls: `Engine(storage, clock)`.

    `CsvOperations` brings the views of SPEC 6 and 6a with it (exports list users in their order).
    """
