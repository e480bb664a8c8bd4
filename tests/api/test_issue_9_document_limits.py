"""Issue 9, findings 1, 2 and 5: every document is accepted or refused in time linear in its size.

The fragment bomb (each fragment spreading the next one twice) doubled the work of strawberry's
depth and alias validators per level; a chain of 300 fragments raised RecursionError (a plain-text
500 with a traceback on the Sync fast path); caches kept 512 documents of any size; 30 aliased
exports were answered. Each case is refused here with a GraphQL error naming the limit.
Timings are measured in `make bench` (B8, B11), never here.
"""

from __future__ import annotations

import pytest
from seatkeeper.schema import limits

from tests.api.api_support import DOCUMENT, assert_clean


def bomb(levels: int) -> str:
    """`query{...F0} fragment F0 on Query{...F1 ...F1} …`: 2^levels fields once expanded."""
    parts = ["query Bomb {...F0}"]
    parts += [f"fragment F{i} on Query{{...F{i + 1} ...F{i + 1}}}" for i in range(levels)]
    parts.append(f"fragment F{levels} on Query{{__typename}}")
    return " ".join(parts)


def chain(length: int, operation: str = "query Chain {...F0}") -> str:
    parts = [operation]
    parts += [f"fragment F{i} on Query{{...F{i + 1}}}" for i in range(length)]
    parts.append(f"fragment F{length} on Query{{__typename}}")
    return " ".join(parts)


def _refusal(response) -> dict:
    assert_clean(response)
    assert response.status_code == 200
    body = response.json()
    assert body.get("data") is None
    return body["errors"][0]


@pytest.mark.parametrize(
    ("levels", "reason"),
    [(22, f"over the budget of {limits.COST_BUDGET:,}"), (40, "Fragments are nested 41 deep")],
)
def test_finding_1_fragment_bomb_is_refused(api, org, levels, reason):
    error = _refusal(api.post({"query": bomb(levels)}, token=org.admin))
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert reason in error["message"]


def test_finding_1_each_fragment_is_summarised_once(monkeypatch):
    """Memoised: the walk visits each fragment's selections once, whatever the spreads."""
    calls = []
    real = limits._summarise

    def counting(selection_set, fragments):
        calls.append(selection_set)
        return real(selection_set, fragments)

    monkeypatch.setattr(limits, "_summarise", counting)
    from graphql import parse

    errors = limits.limit_errors(parse(bomb(25)))
    assert len(calls) == 26 + 1  # 26 fragments and one operation
    assert [e.extensions["code"] for e in errors] == ["QUERY_TOO_COMPLEX"]


def test_finding_1_a_chain_of_300_fragments_is_a_graphql_error_not_a_recursion_error(api, org):
    error = _refusal(api.post({"query": chain(300)}, token=org.admin))
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["message"] == "Fragments are nested 301 deep. Allowed: 30"


def test_finding_1_a_chain_of_fragments_on_the_sync_path_is_a_graphql_error(api, org):
    """The Sync fast path judged documents with the recursive validators: a plain-text 500."""
    sync = DOCUMENT.split("mutation Sync", 1)[1].split("\n}\n", 1)[0]
    document = chain(300, "mutation Sync" + sync + "\n}\nquery Chain {...F0}")
    variables = {"input": {"userId": "u1", "email": "u1@example.com", "fullName": "U"}}
    response = api.post(
        {"query": document, "operationName": "Sync", "variables": variables}, token=org.sync
    )
    assert response.headers["content-type"].startswith("application/json")
    assert _refusal(response)["message"] == "Fragments are nested 301 deep. Allowed: 30"


def test_a_chain_within_the_fragment_nesting_limit_runs(api, org):
    response = api.post({"query": chain(limits.MAX_FRAGMENT_NESTING - 1)}, token=org.admin)
    assert response.json() == {"data": {"__typename": "Query"}}


def test_a_fragment_cycle_is_refused_without_recursion(api, org):
    query = "query Q {...A} " + " ".join(
        f"fragment {a} on Query {{ __typename ...{b} }}" for a, b in [("A", "B"), ("B", "A")]
    )
    error = _refusal(api.post({"query": query}, token=org.admin))
    assert "within itself" in error["message"]


def test_brackets_nested_deeper_than_the_parser_may_recurse_are_refused(api, org):
    error = _refusal(api.post({"query": "{" * 3000}, token=org.admin))
    assert error["message"] == f"Document nests more than {limits.MAX_NESTING} brackets."
    deep_list = "query Q { users(search: " + "[" * 2000 + "]" * 2000 + ") { totalCount } }"
    error = _refusal(api.post({"query": deep_list}, token=org.admin))
    assert error["extensions"]["code"] == "DOCUMENT_TOO_LARGE"


def test_finding_5_thirty_aliased_exports_are_refused(api, org):
    query = "{ " + " ".join(f"e{i}: exportUsers" for i in range(30)) + " }"
    error = _refusal(api.post({"query": query}, token=org.admin))
    assert error["message"] == "'anonymous' asks for 30 exports. Allowed: 1"


def test_finding_5_thirty_aliased_sync_logs_are_over_the_budget(api, org):
    query = (
        "{ "
        + " ".join(f"l{i}: syncLog(first: 500) {{ edges {{ cursor }} }}" for i in range(30))
        + " }"
    )
    error = _refusal(api.post({"query": query}, token=org.admin))
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "budget" in error["message"]


def test_one_export_and_every_contract_operation_fit_the_budget(api, org):
    """The contract document, as clients send it whole, passes every limit."""
    from graphql import parse

    assert limits.limit_errors(parse(DOCUMENT)) == []
    response = api.post({"query": "{ exportLicenses }"}, token=org.admin)
    assert response.json()["data"]["exportLicenses"].startswith('"Id"')


# ---------------------------------------------------------------- finding 2: bounded caches


def test_finding_2_a_10_mb_document_is_refused_by_its_length_before_lexing(api, org):
    query = "#" + "x" * (10 * 1024 * 1024) + "\n{ __typename }"
    error = _refusal(api.post({"query": query}, token=org.admin))
    assert error["extensions"]["code"] == "DOCUMENT_TOO_LARGE"
    assert error["message"] == f"Document longer than {limits.MAX_DOCUMENT_CHARS:,} characters."


def test_finding_2_large_documents_are_not_cached_and_caches_are_bounded_in_bytes(api, org):
    """Distinct large documents pass through without staying in memory."""
    before = limits._documents.size
    for i in range(5):
        padding = "#" + "x" * (limits.MAX_CACHED_DOCUMENT + 10) + "\n"
        response = api.post({"query": padding + f"{{ a{i}: __typename }}"}, token=org.admin)
        assert response.json()["data"] == {f"a{i}": "Query"}
    assert limits._documents.size == before
    assert limits._verdicts.size <= limits.CACHE_BYTES


def test_finding_2_documents_dense_in_tokens_do_not_grow_the_process_with_a_token(api, org):
    """Everything holds for an authenticated caller too. A 10 KB document of 5,000 one-letter
    fields parses into ~2.8 MB of syntax tree (nodes, locations, the token chain); the caches were
    bounded by the length of their texts (4 MB: 400 such documents, over 1 GB), and the prepared
    documents by their number (512). Distinct documents like it now leave the caches' bound."""
    import gc
    import tracemalloc

    def dense(i: int) -> str:
        return "{" + " a" * (limits.MAX_TOKENS - 10) + f" b{i} }}"

    api.post({"query": dense(-1)}, token=org.admin)  # lazy imports and first-use state
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(20):
            error = _refusal(api.post({"query": dense(i)}, token=org.admin))
            assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown <= 2 * limits.CACHE_BYTES, f"{grown / 1e6:.0f} MB kept"


def test_bounded_cache_evicts_the_least_recently_used_by_bytes():
    cache = limits.BoundedCache(max_bytes=10, max_item=6)
    cache.put("aaaa", 1)
    cache.put("bbbb", 2)
    cache.get("aaaa")
    cache.put("cccc", 3)  # 12 bytes > 10: the least recently used ("bbbb") goes
    assert (cache.get("aaaa"), cache.get("bbbb"), cache.get("cccc")) == (1, None, 3)
    cache.put("toolong", 4)
    assert cache.get("toolong") is None and cache.size == 8


def test_finding_3_variable_lists_are_bounded_before_coercion_with_a_token(api, org):
    """A READER/ADMIN must not do what an anonymous client no longer can: 4.9M list entries."""
    ids = ["u"] * (limits.MAX_VARIABLE_LIST + 1)
    response = api.post(
        {
            "query": "mutation D($ids: [ID!]!) { deleteUsers(userIds: $ids) { deletedIds } }",
            "variables": {"ids": ids},
        },
        token=org.admin,
    )
    error = _refusal(response)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == "A list in the variables holds 100,001 entries. Allowed: 100,000"
