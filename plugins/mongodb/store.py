"""The blocking half of the plugin: every protocol operation as a plain pymongo method.

`MongoStorage` (in `__init__.py`) runs each of these in a worker thread. They are written as
production pymongo code: one round trip where one suffices, conditions in the filter, results read
from the returned document rather than by a second query. `apply_changes` and `repair` live in
`changes.py`; this module holds the rest.

Collections are attributes (`self.users`, `self.counters`, …) so that a test can wrap one, to
count round trips or to make a write fail at a chosen step.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError
from seatkeeper.domain.records import (
    SEAT_TYPES,
    AdminLogEntry,
    AuditEntry,
    LicenseType,
    MobileUser,
    Organization,
    Project,
    Settings,
    Subscription,
    SyncLogEntry,
    Token,
    user_key,
)
from seatkeeper.storage.protocol import EmailTaken, LogQuery, UserQuery

from . import documents as docs
from .cache import ReadCache
from .queries import LOG_ORDER, USER_ORDER, after_user, log_filter, user_filter

COLLECTIONS = (
    "organizations",
    "projects",
    "subscriptions",
    "tokens",
    "users",
    "counters",
    "journals",
    "journal_parts",
    "sync_log",
    "audit_log",
    "admin_log",
    "clock",
)

# Fields a user read never needs: the lock and the history of change sets that wrote it.
USER_PROJECTION = {"_id": 0, "journal": 0, "ops": 0, "created_by": 0}


def counter_id(organization_id: str, license_type: LicenseType) -> str:
    """The counter document of one organization's seat type. Types are never suffixes of one
    another, so no organization id can make two counters collide."""
    return f"{organization_id}/{license_type.value}"


class MongoStore:
    """Blocking operations on one database. Thread-safe: pymongo's client is."""

    def __init__(
        self,
        db: Database[Any],
        cache_seconds: float = 0,
        sync_log_retention_days: int = 0,
    ) -> None:
        self.db = db
        self.cache = ReadCache(cache_seconds)
        self.sync_log_retention = timedelta(days=sync_log_retention_days)
        self._known: set[str] = set()  # organizations seen to exist (see `known`)
        # One attribute per collection of COLLECTIONS (a test may replace one, see testing.py).
        self.organizations: Collection[docs.OrganizationDocument] = db["organizations"]
        self.projects: Collection[docs.ProjectDocument] = db["projects"]
        self.subscriptions: Collection[docs.SubscriptionDocument] = db["subscriptions"]
        self.tokens: Collection[docs.TokenDocument] = db["tokens"]
        self.users: Collection[docs.UserDocument] = db["users"]
        self.counters: Collection[docs.Document] = db["counters"]
        self.journals: Collection[docs.Document] = db["journals"]
        self.journal_parts: Collection[docs.Document] = db["journal_parts"]
        self.sync_log: Collection[docs.SyncLogDocument] = db["sync_log"]
        self.audit_log: Collection[docs.AuditDocument] = db["audit_log"]
        self.admin_log: Collection[docs.AdminLogDocument] = db["admin_log"]
        self.clock: Collection[docs.Document] = db["clock"]

    def server_now(self) -> datetime:
        """The database server's clock (naive UTC, as BSON keeps it), read by one write that
        stamps `$currentDate`: every staleness decision is taken on this one clock, never on a
        process's own (which may be minutes off)."""
        doc = self.clock.find_one_and_update(
            {"_id": "now"},
            {"$currentDate": {"at": True}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None  # upserted: the update returns the document after it
        at: datetime = doc["at"]
        return docs.to_bson_time(at)

    # -- organizations, projects, settings ------------------------------------------------

    def create_organization(
        self,
        organization: Organization,
        default_project: Project,
        log: AdminLogEntry | None = None,
    ) -> None:
        # Written so that a crash leaves nothing visible: the counters and the project first,
        # the organization last; until it exists nobody can reach the others.
        for license_type in SEAT_TYPES:
            self.counters.update_one(
                {"_id": counter_id(organization.id, license_type)},
                {
                    "$setOnInsert": {
                        "org": organization.id,
                        "type": license_type.value,
                        "holders": 0,
                        "v": 0,
                    }
                },
                upsert=True,
            )
        self._write_project(default_project)  # before the organization exists: no check
        self.cache.forget(organization.id)
        try:
            self.organizations.insert_one(docs.organization_document(organization))
        except DuplicateKeyError:
            raise ValueError(f"organization {organization.id!r} exists") from None
        self.log(log)

    def get_organization(self, organization_id: str) -> Organization | None:
        cached = self.cache.get(("organization", organization_id), Organization)
        if cached is not None:
            return cached
        ticket = self.cache.ticket(organization_id)
        doc = self.organizations.find_one({"_id": organization_id})
        organization = docs.organization_record(doc) if doc else None
        self.cache.put(("organization", organization_id), organization, ticket)
        return organization

    def list_organizations(self) -> list[Organization]:
        return [
            docs.organization_record(d)
            for d in self.organizations.find({}, sort=[("created_at", 1), ("_id", 1)])
        ]

    def update_settings(
        self, organization_id: str, settings: Settings, log: AdminLogEntry | None = None
    ) -> Organization | None:
        doc = self.organizations.find_one_and_update(
            {"_id": organization_id},
            {"$set": {"settings": docs.settings_document(settings)}},
            return_document=ReturnDocument.AFTER,
        )
        self.cache.forget(organization_id)
        if doc is not None:
            self.log(log)
        return docs.organization_record(doc) if doc else None

    def known(self, organization_id: str) -> bool:
        """Whether the organization exists. Writes for an unknown organization write nothing
        (protocol, issue 11). Organizations are never deleted, so one that was seen to exist is
        remembered for the life of the process: no round trip after the first."""
        if organization_id in self._known:
            return True
        if self.organizations.find_one({"_id": organization_id}, {"_id": 1}) is None:
            return False
        if len(self._known) >= 100_000:
            self._known.clear()  # bounded; refills one read per organization
        self._known.add(organization_id)
        return True

    def upsert_project(self, project: Project, log: AdminLogEntry | None = None) -> None:
        if self.known(project.organization_id):
            self._write_project(project)
            self.log(log)

    def _write_project(self, project: Project) -> None:
        self.projects.replace_one(
            {"org": project.organization_id, "id": project.id},
            docs.project_document(project),
            upsert=True,
        )
        self.cache.forget(project.organization_id)

    def get_project(self, organization_id: str, project_id: str) -> Project | None:
        cached = self.cache.get(("project", organization_id, project_id), Project)
        if cached is not None:
            return cached
        ticket = self.cache.ticket(organization_id)
        doc = self.projects.find_one({"org": organization_id, "id": project_id}, {"_id": 0})
        project = docs.project_record(doc) if doc else None
        self.cache.put(("project", organization_id, project_id), project, ticket)
        return project

    def list_projects(self, organization_id: str) -> list[Project]:
        found = self.projects.find({"org": organization_id}, {"_id": 0}, sort=[("id", 1)])
        return [docs.project_record(d) for d in found]

    # -- subscriptions ---------------------------------------------------------------------

    def add_subscription(
        self, subscription: Subscription, log: AdminLogEntry | None = None
    ) -> None:
        if not self.known(subscription.organization_id):
            return
        self.subscriptions.insert_one(docs.subscription_document(subscription))
        self.cache.forget(subscription.organization_id)
        self.log(log)

    def list_subscriptions(self, organization_id: str) -> list[Subscription]:
        cached = self.cache.get(("subscriptions", organization_id), list)
        if cached is not None:
            return cached
        ticket = self.cache.ticket(organization_id)
        found = self.subscriptions.find(
            {"org": organization_id}, sort=[("valid_from", 1), ("_id", 1)]
        )
        subscriptions = [docs.subscription_record(d) for d in found]
        self.cache.put(("subscriptions", organization_id), subscriptions, ticket)
        return subscriptions

    # -- tokens ----------------------------------------------------------------------------

    def add_token(self, token: Token, log: AdminLogEntry | None = None) -> None:
        try:
            self.tokens.insert_one(docs.token_document(token))
        except DuplicateKeyError:
            raise ValueError("token exists") from None
        self.log(log)

    def find_token(self, secret_hash: str) -> Token | None:
        doc = self.tokens.find_one({"secret_hash": secret_hash})
        return docs.token_record(doc) if doc else None

    def list_tokens(self, organization_id: str | None) -> list[Token]:
        query = {} if organization_id is None else {"org": organization_id}
        return [
            docs.token_record(d)
            for d in self.tokens.find(query, sort=[("created_at", 1), ("_id", 1)])
        ]

    def set_token_budget(
        self,
        token_id: str,
        organization_id: str | None,
        requests_per_second: float | None,
        log: AdminLogEntry | None = None,
    ) -> Token | None:
        scope = (
            {"_id": token_id}
            if organization_id is None
            else {"_id": token_id, "org": organization_id}
        )
        doc = self.tokens.find_one_and_update(
            scope,
            {"$set": {"requests_per_second": requests_per_second}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return None
        self.log(log)
        return docs.token_record(doc)

    def touch_token(self, token_id: str, at: datetime) -> None:
        moment = docs.to_bson_time(at)
        # Never moves it back: only a token never used, or last used before `at`, is written.
        self.tokens.update_one(
            {"_id": token_id, "$or": [{"last_used_at": None}, {"last_used_at": {"$lt": moment}}]},
            {"$set": {"last_used_at": moment}},
        )

    def revoke_token(
        self,
        token_id: str,
        organization_id: str | None,
        at: datetime,
        log: AdminLogEntry | None = None,
    ) -> Token | None:
        scope = (
            {"_id": token_id}
            if organization_id is None
            else {"_id": token_id, "org": organization_id}
        )
        doc = self.tokens.find_one_and_update(
            {**scope, "revoked_at": None},
            {"$set": {"revoked_at": docs.to_bson_time(at)}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:  # already revoked (kept as it was), or no such token
            doc = self.tokens.find_one(scope)
        else:
            self.log(log)
        return docs.token_record(doc) if doc else None

    # -- users -----------------------------------------------------------------------------

    def get_user(self, organization_id: str, key: str) -> MobileUser | None:
        doc = self.users.find_one({"org": organization_id, "key": key}, USER_PROJECTION)
        return docs.user_record(doc) if doc else None

    def get_users(self, organization_id: str, keys: list[str]) -> dict[str, MobileUser]:
        users: dict[str, MobileUser] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 10_000):  # keep each query well under 16 MB
            chunk = unique[start : start + 10_000]
            for doc in self.users.find(
                {"org": organization_id, "key": {"$in": chunk}}, USER_PROJECTION
            ):
                users[doc["key"]] = docs.user_record(doc)
        return users

    def find_user_by_email(self, organization_id: str, email: str) -> MobileUser | None:
        doc = self.users.find_one(
            {"org": organization_id, "email_key": email.casefold()}, USER_PROJECTION
        )
        return docs.user_record(doc) if doc else None

    def record_sync(
        self,
        organization_id: str,
        user_id: str,
        email: str,
        full_name: str | None,
        required: LicenseType,
        now: datetime,
    ) -> MobileUser:
        """SPEC 4.1 in one upsert: create or update, `$min` sets `first_sync_at` once. An
        unknown organization is a LookupError (its users cannot exist)."""
        if not self.known(organization_id):
            raise LookupError(f"organization {organization_id!r} does not exist")
        key = user_key(user_id)
        moment = docs.to_bson_time(now)
        new_user = MobileUser(organization_id, user_id, full_name or email, email, created_at=now)
        # Set on insert only what the update below does not set.
        updated = ("org", "key", "email", "email_key", "last_sync_at", "last_required")
        on_insert: docs.Document = {
            k: v for k, v in docs.user_document(new_user).items() if k not in updated
        }
        changes = {
            "email": email,
            "email_key": email.casefold(),
            "last_sync_at": moment,
            "last_required": required.value,
        }
        if full_name:
            changes.update(full_name=full_name, name_key=full_name.casefold())
            del on_insert["full_name"], on_insert["name_key"]
        # `$unset created_by`: a user a pending change set is creating becomes this sync's, kept
        # if that change set is rolled back (changes.py `_rollback`).
        update = {
            "$set": changes,
            "$setOnInsert": on_insert,
            "$min": {"first_sync_at": moment},
            "$unset": {"created_by": ""},
        }
        for _ in range(3):
            try:
                doc = self.users.find_one_and_update(
                    {"org": organization_id, "key": key},
                    update,
                    projection=USER_PROJECTION,
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
                assert doc is not None  # upserted: the update returns the document after it
                return docs.user_record(doc)
            except DuplicateKeyError:
                # Either the e-mail is another user's (EmailTaken), or two first syncs of this
                # user raced to insert it (the loser updates on the next try).
                owner = self.users.find_one(
                    {"org": organization_id, "email_key": email.casefold()}, {"id": 1, "key": 1}
                )
                if owner is not None and owner["key"] != key:
                    raise EmailTaken(email, owner["id"]) from None
        raise EmailTaken(email)

    def start_grace_period(
        self, organization_id: str, key: str, now: datetime
    ) -> MobileUser | None:
        doc = self.users.find_one_and_update(
            {"org": organization_id, "key": key, "grace_started_at": None},
            {"$set": {"grace_started_at": docs.to_bson_time(now)}},
            projection=USER_PROJECTION,
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:  # already started (or no such user): read it as it is
            doc = self.users.find_one({"org": organization_id, "key": key}, USER_PROJECTION)
        return docs.user_record(doc) if doc else None

    # -- seat holders ----------------------------------------------------------------------

    def count_holders(self, organization_id: str, license_type: LicenseType) -> int:
        """The counter document: equal to the holders whenever no change set is in flight, and
        never below them (a seat is counted before it is written and uncounted after)."""
        doc = self.counters.find_one(
            {"_id": counter_id(organization_id, license_type)}, {"holders": 1}
        )
        if doc is None:
            return self.users.count_documents({"org": organization_id, "held": license_type.value})
        holders: int = doc["holders"]
        return holders

    def holders_ranked_before(
        self, organization_id: str, license_type: LicenseType, assigned_at: datetime, key: str
    ) -> int:
        moment = docs.to_bson_time(assigned_at)
        return self.users.count_documents(
            {
                "org": organization_id,
                "held": license_type.value,
                "$or": [
                    {"assigned_at": {"$lt": moment}},
                    {"assigned_at": moment, "key": {"$lt": key}},
                ],
            }
        )

    def find_longest_inactive_holder(
        self, organization_id: str, license_type: LicenseType, cutoff: datetime
    ) -> MobileUser | None:
        """Two indexed look-ups on (org, held, last_sync_at, assigned_at, key): holders that
        synced (activity = last sync) and holders that never did (activity = assigned_at)."""
        bound = docs.to_bson_time(cutoff)
        base = {"org": organization_id, "held": license_type.value}
        synced = self.users.find_one(
            {**base, "last_sync_at": {"$ne": None, "$lte": bound}},
            USER_PROJECTION,
            sort=[("last_sync_at", 1), ("assigned_at", 1), ("key", 1)],
        )
        never = self.users.find_one(
            {**base, "last_sync_at": None, "assigned_at": {"$ne": None, "$lte": bound}},
            USER_PROJECTION,
            sort=[("assigned_at", 1), ("key", 1)],
        )
        candidates = [d for d in (synced, never) if d is not None]
        if not candidates:
            return None
        best = min(
            candidates,
            key=lambda d: (d.get("last_sync_at") or d["assigned_at"], d["assigned_at"], d["key"]),
        )
        return docs.user_record(best)

    # -- lists -----------------------------------------------------------------------------

    def list_users(
        self, organization_id: str, query: UserQuery, first: int, after: tuple[str, str] | None
    ) -> list[MobileUser]:
        condition = user_filter(organization_id, query)
        if condition is None or first <= 0:
            return []
        keyset = after_user(after)
        if keyset is not None:
            condition = {"$and": [condition, keyset]}
        found = self.users.find(condition, USER_PROJECTION, sort=USER_ORDER, limit=first)
        return [docs.user_record(d) for d in found]

    def count_users(self, organization_id: str, query: UserQuery) -> int:
        condition = user_filter(organization_id, query)
        return 0 if condition is None else self.users.count_documents(condition)

    # -- logs ------------------------------------------------------------------------------

    def append_sync_log(self, entry: SyncLogEntry) -> None:
        if not self.known(entry.organization_id):
            return
        self.sync_log.insert_one(docs.sync_log_document(entry, user_key(entry.user_id)))

    def append_sync_logs(self, entries: list[SyncLogEntry]) -> None:
        """Append entries of known organizations in one `insert_many` (the queued batch)."""
        documents = [
            docs.sync_log_document(e, user_key(e.user_id))
            for e in entries
            if self.known(e.organization_id)
        ]
        if documents:
            self.sync_log.insert_many(documents, ordered=False)

    def list_sync_log(
        self, organization_id: str, query: LogQuery, first: int, after: tuple[datetime, str] | None
    ) -> list[SyncLogEntry]:
        if self.sync_log_retention:
            # The TTL monitor deletes expired entries once a minute, or later under load: an
            # entry past retention must not be returned meanwhile (SPEC 8).
            oldest = datetime.now(UTC) - self.sync_log_retention
            if query.since is None or query.since < oldest:
                query = LogQuery(query.user_key, query.errors_only, oldest, query.until)
        condition = log_filter(organization_id, query, after, errors_field="ok")
        found = self.sync_log.find(condition, sort=LOG_ORDER, limit=first)
        return [docs.sync_log_record(d) for d in found]

    def purge_sync_log(self, before: datetime) -> int:
        return self.sync_log.delete_many({"at": {"$lt": docs.to_bson_time(before)}}).deleted_count

    def list_audit_log(
        self, organization_id: str, query: LogQuery, first: int, after: tuple[datetime, str] | None
    ) -> list[AuditEntry]:
        condition = log_filter(
            organization_id, LogQuery(query.user_key, False, query.since, query.until), after, None
        )
        found = self.audit_log.find(condition, sort=LOG_ORDER, limit=first)
        return [docs.audit_record(d) for d in found]

    def log(self, entry: AdminLogEntry | None) -> None:
        """Append an administration-log entry after the write it records (no transaction: a
        crash between the two loses the entry, never the change; keyed by its id)."""
        if entry is not None:
            self.admin_log.insert_one(docs.admin_log_document(entry))

    def list_admin_log(
        self, organization_id: str, query: LogQuery, first: int, after: tuple[datetime, str] | None
    ) -> list[AdminLogEntry]:
        in_range = LogQuery(since=query.since, until=query.until)
        condition = log_filter(organization_id, in_range, after, None)
        found = self.admin_log.find(condition, sort=LOG_ORDER, limit=first)
        return [docs.admin_log_record(d) for d in found]

    def write_audit_documents(self, documents: list[docs.AuditDocument]) -> None:
        """Insert audit documents; ones already there (a repeated write) are kept as they are."""
        if not documents:
            return
        try:
            self.audit_log.insert_many(documents, ordered=False)
        except BulkWriteError as error:
            if any(e.get("code") != 11000 for e in error.details.get("writeErrors", [])):
                raise
