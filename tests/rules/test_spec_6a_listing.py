"""SPEC 6a: listing users — order, search, filters, keyset pages, page sizes, totalCount."""

from __future__ import annotations

import base64
import itertools
from datetime import timedelta

import pytest
from seatkeeper.resolvers.cursors import decode_cursor
from seatkeeper.rules.engine import UserFilter
from seatkeeper.rules.fields import InputField
from seatkeeper.rules.outcomes import BadRequest

from tests.rules.rules_support import (
    A,
    D,
    E,
    I,
    S,
    U,
    async_test,
    buy,
    listed_ids,
    new_org,
    provisioned,
    set_state,
    sync,
)


async def ids_of(engine, org, search=None, user_filter=None) -> list[str]:
    return await listed_ids(engine, org, search, user_filter)


# ================================================================ order and search


@async_test
async def test_spec_6a_users_are_ordered_by_name_case_insensitively_then_id(engine):
    """SPEC 6a: by fullName case-insensitively, then by id."""
    org = await new_org(engine)
    await provisioned(
        engine,
        org,
        ("u3", U, U, "alice"),
        ("u9", U, U, "Carol"),
        ("u1", U, U, "Alice"),
        ("u2", U, U, "Bob"),
        ("a", U, U, "carol"),
        ("u0", U, U, "bob"),
    )
    assert await ids_of(engine, org) == ["u1", "u3", "u0", "u2", "a", "u9"]


@async_test
async def test_spec_6a_search_matches_id_name_or_email_case_insensitively(engine):
    """SPEC 6a: search is a case-insensitive substring of id, fullName or email."""
    org = await new_org(engine)
    await provisioned(
        engine,
        org,
        ("1a75199f-a48b-40d4-b9bc-2ea05faa8197", U, U, "Matt Ford", "someone51@example.com"),
        ("10ac88c8-2226-4a98-ae0c-b7f57df0c4d3", U, U, "Pete Porter", "someone57@example.com"),
        ("ralf", U, U, "Ralf Harper", "RH@Harper.example"),
    )
    assert await ids_of(engine, org, "2EA05FAA") == ["1a75199f-a48b-40d4-b9bc-2ea05faa8197"]  # id
    assert await ids_of(engine, org, "pORTER") == ["10ac88c8-2226-4a98-ae0c-b7f57df0c4d3"]  # name
    assert await ids_of(engine, org, "rh@harper") == ["ralf"]  # email
    assert len(await ids_of(engine, org, "SOMEONE5")) == 2
    assert await ids_of(engine, org, "nobody-matches") == []
    page = await engine.list_users(org, search="someone5", first=1)
    assert page.total_count == 2 and page.has_next_page


@async_test
async def test_spec_6a_an_over_long_search_is_a_bad_request(engine):
    """SPEC 6a: a search far beyond any field's length fails clearly rather than scanning."""
    org = await new_org(engine)
    with pytest.raises(BadRequest):
        await engine.list_users(org, search="x" * 10_000)


# ================================================================ filters

# The cast of the filter tests: every combination of selector states that can exist.
CAST = {
    "s-assigned": (A, U),
    "i-assigned": (U, A),
    "s-disabled": (D, U),
    "s-assigned-i-disabled": (A, D),
    "i-assigned-s-disabled": (D, A),
    "both-disabled": (D, D),
    "plain": (U, U),
}


async def _cast_org(engine):
    org = await new_org(engine)
    await buy(engine, org, S, 10)
    await buy(engine, org, I, 10)
    await provisioned(engine, org, *[(user_id, s, i) for user_id, (s, i) in CAST.items()])
    return org


def expected_ids(license_type, state) -> list[str]:
    """SPEC 6a in words: type + state: that selector in that state; type alone: that selector
    ASSIGNED; state alone: either selector in that state; EXTERNAL: nobody. Names are the ids
    title-cased, so list order is id order here."""

    def keep(selectors) -> bool:
        if license_type is E:
            return False
        if license_type is not None:
            return selectors[(S, I).index(license_type)] is (state or A)
        if state is not None:
            return state in selectors
        return True

    return sorted(user_id for user_id, selectors in CAST.items() if keep(selectors))


@async_test
async def test_spec_6a_license_type_alone_means_that_selector_assigned(engine):
    """SPEC 6a: `licenseType` alone: that selector ASSIGNED."""
    org = await _cast_org(engine)
    assert await ids_of(engine, org, user_filter=UserFilter(license_type=S)) == [
        "s-assigned",
        "s-assigned-i-disabled",
    ]
    assert await ids_of(engine, org, user_filter=UserFilter(license_type=I)) == [
        "i-assigned",
        "i-assigned-s-disabled",
    ]


@async_test
async def test_spec_6a_state_alone_means_either_selector(engine):
    """SPEC 6a: `state` alone: either selector in that state."""
    org = await _cast_org(engine)
    assert await ids_of(engine, org, user_filter=UserFilter(state=D)) == [
        "both-disabled",
        "i-assigned-s-disabled",
        "s-assigned-i-disabled",
        "s-disabled",
    ]
    assert await ids_of(engine, org, user_filter=UserFilter(state=U)) == [
        "i-assigned",
        "plain",
        "s-assigned",
        "s-disabled",
    ]


@async_test
async def test_spec_6a_external_matches_nobody(engine):
    """SPEC 6a: there is no per-user EXTERNAL selector, so `licenseType: EXTERNAL` matches nobody."""
    org = await _cast_org(engine)
    for state in (None, A, U, D):
        page = await engine.list_users(org, user_filter=UserFilter(license_type=E, state=state))
        assert (page.items, page.total_count, page.has_next_page) == ([], 0, False)


@pytest.mark.parametrize(
    "license_type, state",
    list(itertools.product([None, S, I, E], [None, A, U, D])),
    ids=lambda value: getattr(value, "value", str(value)),
)
@async_test
async def test_spec_6a_every_type_and_state_combination(engine, license_type, state):
    """SPEC 6a: each combination of `licenseType` and `state` selects what its words say, and
    totalCount agrees with the rows."""
    org = await _cast_org(engine)
    user_filter = UserFilter(license_type=license_type, state=state)
    ids = await ids_of(engine, org, user_filter=user_filter)
    assert ids == expected_ids(license_type, state)
    assert (await engine.list_users(org, user_filter=user_filter, first=1)).total_count == len(ids)


@async_test
async def test_spec_6a_inactive_filter_measures_last_sync_else_assigned_else_created(engine, clock):
    """SPEC 6a: `inactive` true/false: lastSyncAt (else assignedAt, else createdAt) at least /
    less than inactivityDays old — exactly inactivityDays old is inactive."""
    org = await new_org(engine)
    await buy(engine, org, S, 10, days=3650)
    day0 = clock()
    await provisioned(engine, org, ("created-only", U, U))  # activity: createdAt, day 0
    await provisioned(engine, org, ("assigned-late", U, U))
    clock.advance(days=5)
    await set_state(engine, org, ["assigned-late"], S, A)  # activity: assignedAt, day 5
    await sync(engine, org, "synced-day-5")
    clock.advance(days=5)
    await sync(engine, org, "synced-day-10")
    clock.set(day0 + timedelta(days=90) - timedelta(seconds=1))
    assert await ids_of(engine, org, user_filter=UserFilter(inactive=True)) == []
    clock.set(day0 + timedelta(days=90))

    assert await ids_of(engine, org, user_filter=UserFilter(inactive=True)) == ["created-only"]
    assert await ids_of(engine, org, user_filter=UserFilter(inactive=False)) == [
        "assigned-late",
        "synced-day-10",
        "synced-day-5",
    ]
    clock.advance(days=5)
    assert await ids_of(engine, org, user_filter=UserFilter(inactive=True)) == [
        "assigned-late",
        "created-only",
        "synced-day-5",
    ]
    views = {v.user.id: v.inactive for v in (await engine.list_users(org)).items}
    assert views == {
        "assigned-late": True,
        "created-only": True,
        "synced-day-5": True,
        "synced-day-10": False,
    }


@async_test
async def test_spec_6a_inactive_follows_the_inactivity_days_setting(engine, clock):
    """SPEC 6a / 3: the inactive filter uses the organization's inactivityDays."""
    org = await new_org(engine, inactivity_days=7)
    await sync(engine, org, "ann")
    clock.advance(days=7)
    assert await ids_of(engine, org, user_filter=UserFilter(inactive=True)) == ["ann"]


@async_test
async def test_spec_6a_filters_and_search_combine(engine, clock):
    """SPEC 6a: search, selector filter and inactive all apply together."""
    org = await new_org(engine)
    await buy(engine, org, S, 10, days=3650)
    await provisioned(engine, org, ("north-old", A, U), ("south-old", A, U), ("north-plain", U, U))
    clock.advance(days=100)
    await provisioned(engine, org, ("north-new", A, U))
    user_filter = UserFilter(license_type=S, state=A, inactive=True)
    assert await ids_of(engine, org, "NORTH", user_filter) == ["north-old"]
    assert await ids_of(engine, org, "north", UserFilter(license_type=S, inactive=False)) == [
        "north-new"
    ]


# ================================================================ pages


@async_test
async def test_spec_6a_keyset_pages_cover_everyone_once(engine):
    """SPEC 6a: walking the pages gives every user exactly once, in order, with equal names
    broken by id; the last page says there is no next one."""
    org = await new_org(engine)
    names = ["Kim", "kim", "KIM", "Lee", "ann", "Ann", "zoe", "Bo"]
    users = [(f"id-{n:02}", U, U, names[n % len(names)]) for n in range(23)]
    await provisioned(engine, org, *users)
    expected = [u[0] for u in sorted(users, key=lambda u: (u[3].casefold(), u[0]))]

    for size in (1, 4, 5, 22, 23, 500):
        seen, after, pages = [], None, 0
        while True:
            page = await engine.list_users(org, first=size, after=after)
            assert page.total_count == 23
            assert len(page.items) == len(page.positions) <= size
            seen += [v.user.id for v in page.items]
            pages += 1
            if not page.has_next_page:
                break
            after = page.end_position
        assert seen == expected, size
        assert pages == -(-23 // size)


@async_test
async def test_spec_6a_a_user_added_behind_the_cursor_causes_no_duplicate_or_omission(engine):
    """SPEC 6a: keyset cursors: a user created before the cursor's position while paging is not
    repeated and does not push others off."""
    org = await new_org(engine)
    await provisioned(engine, org, *[(f"u{n}", U, U, f"Name {n}") for n in range(6)])
    first = await engine.list_users(org, first=3)
    await provisioned(engine, org, ("early", U, U, "Aaron"))
    second = await engine.list_users(org, first=3, after=first.end_position)
    assert [v.user.id for v in first.items + second.items] == [f"u{n}" for n in range(6)]
    assert not second.has_next_page


@async_test
async def test_spec_6a_pages_of_a_filtered_list(engine):
    """SPEC 6a: cursors work on filtered lists too."""
    org = await new_org(engine)
    await buy(engine, org, S, 20)
    await provisioned(engine, org, *[(f"u{n:02}", A if n % 2 else U, U) for n in range(20)])
    ids = await ids_of(engine, org, user_filter=UserFilter(license_type=S))  # 3 per page
    assert ids == [f"u{n:02}" for n in range(1, 20, 2)]


@pytest.mark.parametrize("first", [0, 501, -1])
@async_test
async def test_spec_6a_first_outside_1_to_500_is_a_bad_request(engine, first):
    """SPEC 6a: `first` is 1–500 on every connection; outside, the query fails clearly."""
    org = await new_org(engine)
    with pytest.raises(BadRequest) as raised:
        await engine.list_users(org, first=first)
    assert "first" in raised.value.message
    for log in (engine.sync_log, engine.audit_log):
        with pytest.raises(BadRequest):
            await log(org, first=first)


@async_test
async def test_spec_6a_first_defaults_to_50_and_accepts_1_and_500(engine):
    """SPEC 6a: default 50; the bounds 1 and 500 are allowed."""
    org = await new_org(engine)
    await provisioned(engine, org, *[(f"u{n:03}", U, U) for n in range(60)])
    assert len((await engine.list_users(org)).items) == 50
    assert len((await engine.list_users(org, first=1)).items) == 1
    assert len((await engine.list_users(org, first=500)).items) == 60


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


GARBAGE_CURSORS = [
    "garbage",
    "!!!",
    "é-not-ascii",
    "x" * 10_000,
    _b64("not json"),
    _b64("[1, 2]"),
    _b64('["only-one"]'),
    _b64('{"name": "a", "id": "b"}'),
]


@pytest.mark.parametrize("cursor", GARBAGE_CURSORS, ids=range(len(GARBAGE_CURSORS)))
@async_test
async def test_spec_6a_a_garbage_cursor_is_a_bad_request(engine, cursor):
    """SPEC 6a: a cursor this server did not give out fails the query clearly."""
    org = await new_org(engine)
    with pytest.raises(BadRequest) as raised:  # the API decodes, the rules check the position
        await engine.list_users(org, after=decode_cursor(cursor))
    assert raised.value.field == (InputField.AFTER,)


@async_test
async def test_spec_6a_total_count_ignores_paging_and_follows_the_filter(engine):
    """SPEC 6a: totalCount counts every match, not the page."""
    org = await new_org(engine)
    await buy(engine, org, I, 3)
    await provisioned(engine, org, *[(f"u{n}", U, A if n < 3 else U) for n in range(8)])
    assert (await engine.list_users(org, first=2)).total_count == 8
    assert (
        await engine.list_users(org, user_filter=UserFilter(license_type=I), first=1)
    ).total_count == 3
    assert (await engine.list_users(org, search="u7")).total_count == 1


@async_test
async def test_spec_6a_user_view_carries_the_end_of_the_temporary_window(engine, clock):
    """SPEC 6a / 4.7: the list shows when a user's temporary window ends (null before it starts)."""
    org = await new_org(engine)
    await provisioned(engine, org, ("pre", U, U))
    await sync(engine, org, "ann")
    views = {v.user.id: v.grace_ends_at for v in (await engine.list_users(org)).items}
    assert views == {"ann": clock() + timedelta(days=14), "pre": None}
    assert (await engine.get_user(org, "ann")).grace_ends_at == clock() + timedelta(days=14)
    assert await engine.get_user(org, "nobody") is None
    assert await engine.get_user(org, "x" * 10_000) is None
