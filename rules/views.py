"""SPEC 6 (the subscriptions view) and SPEC 6a (listing users): read-only views of one organization."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from seatkeeper.domain.records import LicenseState, LicenseType, MobileUser, Settings, user_key
from seatkeeper.rules import decisions
from seatkeeper.rules.base import EngineBase
from seatkeeper.rules.fields import InputField
from seatkeeper.rules.outcomes import (
    BadRequest,
    Page,
    Position,
    SubscriptionRow,
    SubscriptionSummary,
    UserView,
)
from seatkeeper.rules.paging import MAX_PAGE_SIZE, check_page_size, check_position, keyset_page
from seatkeeper.storage.protocol import UserQuery


@dataclass(frozen=True)
class UserFilter:
    license_type: LicenseType | None = None
    state: LicenseState | None = None
    inactive: bool | None = None


class ViewOperations(EngineBase):
    """SPEC 6 and 6a: what an ADMIN or READER sees."""

    async def subscriptions_view(self, organization_id: str) -> list[SubscriptionSummary]:
        """SPEC 6: one row per license type, with the overage of SPEC 5 and the pending count."""
        organization = await self._require_organization(organization_id)
        now = self.clock()
        subscriptions = await self.storage.list_subscriptions(organization_id)
        grace = timedelta(days=organization.settings.grace_period_days)
        rows = []
        for license_type in LicenseType:
            mine = [s for s in subscriptions if s.license_type is license_type]
            items = [
                SubscriptionRow(s.id, s.seats, s.valid_from, s.valid_until, s.status_at(now))
                for s in mine
            ]
            active = decisions.type_active(subscriptions, license_type, now)
            if license_type is LicenseType.EXTERNAL:
                rows.append(
                    SubscriptionSummary(license_type, active, None, None, None, None, 0, items)
                )
                continue
            seats = decisions.capacity(subscriptions, license_type, now)
            assigned = await self.storage.count_holders(organization_id, license_type)
            pending = await self.storage.count_users(
                organization_id, UserQuery(pending_for=license_type, grace_since=now - grace)
            )
            rows.append(
                SubscriptionSummary(
                    license_type,
                    active,
                    seats,
                    assigned,
                    max(0, seats - assigned),
                    max(0, assigned - seats),
                    pending,
                    items,
                )
            )
        return rows

    # ================================================================ SPEC 6a: listing users

    async def get_user(self, organization_id: str, user_id: str) -> UserView | None:
        organization = await self._require_organization(organization_id)
        if decisions.user_id_problem(user_id):
            return None
        user = await self.storage.get_user(organization_id, user_key(user_id))
        return self._view(user, organization.settings, self.clock()) if user else None

    def user_query(
        self, settings: Settings, now: datetime, search: str | None, user_filter: UserFilter | None
    ) -> UserQuery:
        """SPEC 6a: the storage query for a search and a filter."""
        if search is not None and len(search) > 256:
            raise BadRequest("`search` is longer than 256 characters", (InputField.SEARCH,))
        user_filter = user_filter or UserFilter()
        selector = any_state = active_before = active_since = None
        if user_filter.license_type is LicenseType.EXTERNAL:
            return UserQuery(matches_nobody=True)
        if user_filter.license_type is not None:
            selector = (user_filter.license_type, user_filter.state or LicenseState.ASSIGNED)
        elif user_filter.state is not None:
            any_state = user_filter.state
        if user_filter.inactive is not None:
            cutoff = decisions.inactivity_cutoff(settings, now)
            if user_filter.inactive:
                active_before = cutoff
            else:
                active_since = cutoff
        return UserQuery(
            search=search or None,
            selector=selector,
            any_state=any_state,
            active_before=active_before,
            active_since=active_since,
        )

    async def list_users(
        self,
        organization_id: str,
        search: str | None = None,
        user_filter: UserFilter | None = None,
        first: int | None = None,
        after: Position | None = None,
        with_total: bool = True,
    ) -> Page[UserView]:
        """SPEC 6a: users in name order, filtered, one keyset page at a time."""
        first = check_page_size(first)
        position: tuple[str, str] | None = None
        if after is not None:
            name_key, user_id = check_position(after, 2)
            position = (name_key, user_id)
        organization = await self._require_organization(organization_id)
        now = self.clock()
        query = self.user_query(organization.settings, now, search, user_filter)
        users = await self.storage.list_users(organization_id, query, first + 1, position)
        total = await self.storage.count_users(organization_id, query) if with_total else None
        return keyset_page(
            users,
            first,
            lambda user: (user.full_name.casefold(), user.id),
            lambda user: self._view(user, organization.settings, now),
            total,
        )

    async def all_users(
        self, organization_id: str, search: str | None, user_filter: UserFilter | None
    ) -> AsyncIterator[UserView]:
        """Every user matching the search and filter, in list order, fetched a page at a time."""
        after: Position | None = None
        while True:
            page = await self.list_users(
                organization_id, search, user_filter, MAX_PAGE_SIZE, after, with_total=False
            )
            for view in page.items:
                yield view
            if not page.has_next_page:
                return
            after = page.end_position
            # A backend answering from memory never suspends: pause between pages, so that an
            # export of 100,000 users does not hold every organization's requests (issue 9).
            await asyncio.sleep(0)

    @staticmethod
    def _view(user: MobileUser, settings: Settings, now: datetime) -> UserView:
        return UserView(
            user,
            decisions.grace_ends_at(user, settings),
            decisions.is_inactive(user, settings, now),
        )
