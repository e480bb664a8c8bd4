"""Trusted documents (server/documents.py, server/compiled.py) answer exactly what Strawberry answers.

Two apps on two memory storages read one fake clock; one runs the trusted documents' compiled
route, the other (trusted_documents=False) runs every operation through Strawberry. Every request
goes to both, in the same order, and the answers must be the same bytes once the values each
storage draws at random (ids, tokens, request ids) are named. The endpoint's route counters prove
which route answered, so that a comparison cannot pass by both apps taking the same one.
SPEC 4 (sync) and SPEC 9 (access: every role against every contract operation) are compared.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from pathlib import Path

import pytest
from graphql import parse
from seatkeeper.server.app import create_app
from seatkeeper.server.documents import Documents, fingerprint, package_trusted_dir

from tests.api.api_support import CONTRACT, DOCUMENT, Api, TestClient

ROLES = ("OPERATOR", "ADMIN", "SYNC", "READER", "NONE", "UNKNOWN")
OPERATIONS = [d.name.value for d in parse(DOCUMENT).definitions]

APOLLO_SYNC = """mutation Sync($input: SyncInput!) {
  sync(input: $input) {
    ok
    license {
      type
      temporary
      trial
      expiresAt
      __typename
    }
    error {
      code
      reason
      message
      licenseType
      __typename
    }
    user {
      id
      email
      __typename
    }
    userErrors {
      code
      message
      field
      __typename
    }
    __typename
  }
}"""
#: `from starlette._utils import x`, `from strawberry.x import _y`, `import strawberry._x`.
PRIVATE_IMPORT = re.compile(
    r"^\s*(from\s+(starlette|strawberry|graphql)[\w.]*\._\w*|from\s+(starlette|strawberry)"
    r"[\w.]*\s+import\s+.*\b_\w+|import\s+(starlette|strawberry)[\w.]*\._)",
    re.MULTILINE,
)
#: Private APIs issue 12 found the Sync twin using, by their public-looking names: Strawberry's
#: internal schema module and its graphql-core schema attribute.
PRIVATE_NAMES = re.compile(r"strawberry\.schema\.schema\b|\._schema\b")
APOLLO_EXTENSIONS = {"clientLibrary": {"name": "@apollo/client", "version": "4.0.0"}}


class Twin:
    """One side of the comparison: an app, its client, its tokens, and the names of its secrets."""

    def __init__(self, clock, operator: str, trusted: bool) -> None:
        self.app = create_app(
            "memory://", clock=clock, operator_token=operator, trusted_documents=trusted
        )
        self.endpoint = self.app.state.graphql
        self.client = TestClient(self.app).__enter__()
        self.api = Api(self.client, operator, clock)
        self.tokens: dict[str, str] = {"OPERATOR": operator, "NONE": "", "UNKNOWN": "sk_nobody"}
        self.names: dict[str, str] = {}  # random value -> stable name

    def name_secrets(self, **named: str) -> None:
        for name, value in named.items():
            self.names[value] = f"<{name}>"

    def normalised(self, content: bytes) -> str:
        text = content.decode()
        for value, name in self.names.items():
            text = text.replace(value, name)
        text = re.sub(r"request id [0-9a-f]{32}", "request id <id>", text)
        text = re.sub(r'"requestId":"[0-9a-f]{32}"', '"requestId":"<id>"', text)
        text = re.sub(r"sk_[A-Za-z0-9_-]{20,}", "<new token>", text)
        text = re.sub(r'"((end|start)?[cC]ursor)":"[^"]+"', r'"\1":"<cursor>"', text)
        return re.sub(r"\b[0-9a-f]{32}\b", "<new id>", text)

    def close(self) -> None:
        self.client.__exit__(None, None, None)


@pytest.fixture
def twins(clock):
    operator = "op_" + secrets.token_urlsafe(16)
    trusted, general = Twin(clock, operator, True), Twin(clock, operator, False)
    for twin in (trusted, general):
        api = twin.api
        acme = api.create_org("Acme")
        api.add_subscription(acme, "STANDARD", seats=2)
        api.create_users(acme, {"id": "pre-assigned", "standard": "ASSIGNED"})
        api.project(acme, "field", "INSPECTIONS")
        reader = api.data(
            "CreateToken",
            {"input": {"organizationId": acme.id, "role": "READER", "name": "r"}},
            api.operator,
        )["createToken"]["token"]
        twin.tokens.update(ADMIN=acme.admin, SYNC=acme.sync, READER=reader)
        twin.org = acme
        twin.name_secrets(org=acme.id, admin=acme.admin, sync=acme.sync, reader=reader)
        for token in api.data("Tokens", token=acme.admin)["tokens"]:
            twin.name_secrets(**{f"token {token['name']}": token["id"]})
        twin.endpoint.runs.update(trusted=0, general=0)  # count from here on
    yield trusted, general
    trusted.close()
    general.close()


def both(twins, body: dict | None, role: str = "SYNC", *, content=None, headers=None):
    """Send one request to both apps; assert the same status, headers and bytes; return one."""
    answers = []
    for twin in twins:
        all_headers = dict(headers or {})
        if twin.tokens[role]:
            all_headers.setdefault("authorization", f"Bearer {twin.tokens[role]}")
        if content is not None:
            response = twin.client.post("/graphql", content=content, headers=all_headers)
        else:
            response = twin.client.post("/graphql", json=body, headers=all_headers)
        answers.append((twin, response))
    (trusted, fast), (general, slow) = answers
    assert fast.status_code == slow.status_code
    assert fast.headers.get("content-type") == slow.headers.get("content-type")
    assert trusted.normalised(fast.content) == general.normalised(slow.content)
    return fast


def _variables(twin: Twin, operation: str) -> dict:
    org = twin.org
    return {
        "Sync": {"input": {"userId": "u1", "email": "u1@example.com"}},
        "User": {"id": "pre-assigned"},
        "Users": {"first": 5},
        "SetLicenseState": {"input": {"userIds": ["u1"], "licenseType": "STANDARD", "state": "UNASSIGNED"}},
        "CreateUsers": {"users": [{"id": "n1", "fullName": "New", "email": "n1@example.com"}]},
        "DeleteUsers": {"userIds": ["nobody"]},
        "UpdateSettings": {"input": {"gracePeriodDays": 10}},
        "UpsertProject": {"input": {"id": "p1", "name": "P1", "kind": "STANDARD"}},
        "ImportLicenses": {"input": {"csv": '"Id","Email","Standard","Inspections"\r\n', "dryRun": True}},
        "CreateOrganization": {"input": {"name": "Other"}},
        "AddSubscription": {"input": {"organizationId": org.id, "licenseType": "EXTERNAL", "validUntil": "2099-01-01T00:00:00Z"}},
        "CreateToken": {"input": {"organizationId": org.id, "role": "READER", "name": "r2"}},
        "RevokeToken": {"id": "no-such-token"},
    }.get(operation, {})  # fmt: skip


def test_the_package_holds_the_contract_as_a_trusted_document():
    assert (package_trusted_dir() / "contract.graphql").read_text() == CONTRACT.read_text()


def test_every_contract_operation_is_trusted_and_compiled(twins):
    trusted, _ = twins
    documents = trusted.endpoint.documents
    assert {t.name for t in documents.trusted.values()} >= set(OPERATIONS)
    for operation in OPERATIONS:
        assert documents.prepare(DOCUMENT, operation).compiled is not None, operation


@pytest.mark.parametrize("role", ROLES)
def test_spec_9_every_contract_operation_for_every_role_is_the_same_bytes(twins, role):
    trusted, general = twins
    for operation in OPERATIONS:
        # Variables differ between the twins only by the organization id each drew.
        bodies = [
            {"query": DOCUMENT, "operationName": operation, "variables": _variables(t, operation)}
            for t in twins
        ]
        answers = []
        for twin, body in zip(twins, bodies):
            headers = {"authorization": f"Bearer {twin.tokens[role]}"} if twin.tokens[role] else {}
            answers.append(twin.client.post("/graphql", json=body, headers=headers))
        assert answers[0].status_code == answers[1].status_code, operation
        texts = [trusted.normalised(answers[0].content), general.normalised(answers[1].content)]
        if operation in ("Organizations", "Tokens"):  # listed in id order; ids drawn at random
            texts = [sorted(re.findall(r"\{[^{}]*\}", text)) for text in texts]
        assert texts[0] == texts[1], operation
    executed = 0 if role in ("NONE", "UNKNOWN") else len(OPERATIONS)  # else 401 before GraphQL
    assert trusted.endpoint.runs == {"trusted": executed, "general": 0}
    assert general.endpoint.runs == {"trusted": 0, "general": executed}


SYNC_CASES = [
    {"userId": "pre-assigned", "email": "pre-assigned@example.com"},  # 4.4 covered seat
    {"userId": "newcomer", "email": "new@example.com", "fullName": "New Comer"},  # 4.7 temporary
    {"userId": "newcomer", "email": "new@example.com", "fullName": None, "projectId": None},
    {"userId": "fielder", "email": "f@example.com", "projectId": "field", "client": "WEB"},
    {"userId": "somebody", "email": "new@example.com"},  # 4.1 EMAIL_TAKEN
    {"userId": "", "email": "not-an-email"},  # 4.1 INVALID_INPUT, two user errors
    {"userId": "x", "email": "x@example.com", "projectId": "nope"},  # 4.1 PROJECT_NOT_FOUND
    {"userId": "7C9E6679-7425-40DE-944B-E07FC1F90AE7", "email": "guid@example.com"},
    {"userId": 42, "email": "int-id@example.com"},  # an Int ID: coerced by GraphQL
    {"userId": "u", "email": 42},  # not a String: a request error
    {"userId": "u"},  # email missing: a request error
    {"userId": "u", "email": "u@example.com", "client": "PHONE"},  # not a Client
    {"userId": "u", "email": "u@example.com", "extra": 1},  # not in SyncInput
]


@pytest.mark.parametrize("shape", ["contract", "apollo"])
def test_spec_4_every_sync_outcome_is_the_same_bytes_on_both_routes(twins, clock, shape):
    trusted, general = twins
    for sync_input in SYNC_CASES:
        if shape == "contract":
            body = {"query": DOCUMENT, "operationName": "Sync", "variables": {"input": sync_input}}
        else:
            body = {
                "operationName": "Sync",
                "variables": {"input": sync_input},
                "query": APOLLO_SYNC,
                "extensions": APOLLO_EXTENSIONS,
            }
        answer = both(twins, body)
        if shape == "apollo" and answer.status_code == 200 and "data" in answer.json():
            assert answer.json()["data"]["sync"]["__typename"] == "SyncPayload"
    clock.advance(days=30)  # 4.7: the newcomer's temporary window has ended
    both(twins, {"query": DOCUMENT, "operationName": "Sync", "variables": {"input": SYNC_CASES[1]}})
    executed = trusted.endpoint.runs["trusted"]
    assert executed == len(SYNC_CASES) - 4 + 1  # four cases are request errors: never executed
    assert trusted.endpoint.runs["general"] == 0
    assert general.endpoint.runs == {"trusted": 0, "general": executed}


HOSTILE_HEADERS = [
    {"content-type": "APPLICATION/JSON"},
    {"content-type": "Application/Json ; Charset=UTF-8"},
    {"content-type": "application/json; charset=latin-1"},
    {"content-type": "application/jsonx"},
    {"content-type": "text/plain"},
    {"accept": "application/graphql-response+json"},
    {"accept": "application/graphql-response+json, application/json;q=0.9"},
    {"accept": "application/json;q=0.5, application/graphql-response+json;q=0.4"},
    {"accept": "*/*"},
    {"accept": "text/html"},
    {"accept": "application/json;q=0"},
    {"authorization": "bearer {SYNC}"},
    {"authorization": "Bearer    {SYNC}   "},
    {"authorization": "Basic dXNlcjpwYXNz"},
    {"authorization": "Bearer"},
    {"authorization": "Bearer {OPERATOR}"},
    {"authorization": "Bearer {READER}"},
    {"x-forwarded-for": "1.2.3.4", "accept-encoding": "gzip", "content-length-extra": "9"},
]


@pytest.mark.parametrize("headers", HOSTILE_HEADERS, ids=[str(h) for h in HOSTILE_HEADERS])
def test_hostile_headers_are_answered_alike(twins, headers):
    sync = {"input": {"userId": "h1", "email": "h1@example.com"}}
    for body in (
        {"query": DOCUMENT, "operationName": "Sync", "variables": sync},
        {"query": APOLLO_SYNC, "variables": sync, "extensions": APOLLO_EXTENSIONS},
        {"query": DOCUMENT, "operationName": "Sync", "variables": {"input": {"userId": 1}}},
    ):
        content = __import__("orjson").dumps(body)
        answers = []
        for twin in twins:
            concrete = {
                name: value.format(**twin.tokens) if "{" in value else value
                for name, value in headers.items()
            }
            if "authorization" not in concrete:
                concrete["authorization"] = f"Bearer {twin.tokens['SYNC']}"
            concrete.setdefault("content-type", "application/json")
            answers.append(twin.client.post("/graphql", content=content, headers=concrete))
        assert answers[0].status_code == answers[1].status_code
        assert answers[0].headers.get("content-type") == answers[1].headers.get("content-type")
        assert twins[0].normalised(answers[0].content) == twins[1].normalised(answers[1].content)


def test_a_resolver_failure_is_masked_alike_on_both_routes(twins, caplog):
    for twin in twins:

        async def broken(*args, **kwargs):
            raise RuntimeError("storage exploded")

        twin.app.state.engine.sync = broken
    body = {"query": DOCUMENT, "operationName": "Sync", "variables": {"input": {"userId": "u", "email": "u@e.com"}}}  # fmt: skip
    response = both(twins, body)
    assert response.json()["data"] is None
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "exploded" not in response.text
    assert twins[0].endpoint.runs["trusted"] == 1
    assert sum("unexpected error in request" in r.getMessage() for r in caplog.records) == 2


def test_a_null_in_a_non_null_field_is_propagated_alike(twins):
    """A bug that returns null where the schema promises a value: graphql-core's null propagation
    (License.type is non-null, `license` is nullable: the error is located, `license` is null)."""
    import dataclasses

    for twin in twins:
        engine = twin.app.state.engine
        real_sync = engine.sync

        async def sync_without_type(*args, _real=real_sync, **kwargs):
            outcome = await _real(*args, **kwargs)
            return dataclasses.replace(
                outcome, license=dataclasses.replace(outcome.license, type=None)
            )

        engine.sync = sync_without_type
    variables = {"input": {"userId": "pre-assigned", "email": "pre-assigned@example.com"}}
    for query in (APOLLO_SYNC, DOCUMENT):
        response = both(twins, {"query": query, "operationName": "Sync", "variables": variables})
        body = response.json()
        assert body["data"]["sync"]["license"] is None
        assert body["errors"][0]["path"] == ["sync", "license", "type"]
        assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert twins[0].endpoint.runs["trusted"] == 2


def test_apollo_shape_is_recognised_by_its_fingerprint():
    contract = parse(DOCUMENT)
    sync = next(d for d in contract.definitions if d.name.value == "Sync")
    apollo = parse(APOLLO_SYNC)
    assert fingerprint(apollo, apollo.definitions[0]) == fingerprint(contract, sync)


def test_a_trusted_operation_runs_by_its_persisted_id_alone(twins):
    trusted = twins[0]
    documents: Documents = trusted.endpoint.documents
    sync_id = next(key for key, op in documents.trusted.items() if op.name == "Sync")
    body = {
        "variables": {"input": {"userId": "p1", "email": "p1@example.com"}},
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sync_id}},
    }
    response = trusted.client.post(
        "/graphql", json=body, headers={"authorization": f"Bearer {trusted.tokens['SYNC']}"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["sync"]["ok"] is True
    assert trusted.endpoint.runs["trusted"] == 1


def test_a_trusted_document_that_does_not_validate_stops_the_start(tmp_path: Path, clock):
    from seatkeeper.server.documents import TrustedDocumentError

    (tmp_path / "bad.graphql").write_text("query Bad { noSuchField }")
    app = create_app("memory://", clock=clock)
    with pytest.raises(TrustedDocumentError, match="bad.graphql"):
        Documents(app.state.graphql.documents.schema, [tmp_path])


def test_persisted_ids_are_sha256_of_the_printed_operation(twins):
    documents = twins[0].endpoint.documents
    for key, operation in documents.trusted.items():
        assert operation.fingerprint == key
        assert len(key) == 64 and int(key, 16) >= 0
        assert hashlib.sha256(operation.text.encode()).hexdigest() == key


def test_no_private_imports_from_starlette_or_strawberry():
    """Private modules and names change without notice; the server uses public APIs only."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for directory in ("server", "schema", "resolvers", "rules", "storage", "plugins"):
        for path in (root / directory).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for match in [*PRIVATE_IMPORT.finditer(text), *PRIVATE_NAMES.finditer(text)]:
                offenders.append(f"{path.relative_to(root)}: {match.group(0).strip()}")
    assert offenders == []


def test_the_private_import_scan_catches_what_it_looks_for():
    sample = (
        "from starlette._utils import get_route_path\nfrom strawberry.schema.schema import _x\n"
    )
    assert len(PRIVATE_IMPORT.findall(sample)) == 2
    named = "from strawberry.schema.schema import validate_document\nschema._schema\n"
    assert len(PRIVATE_NAMES.findall(named)) == 2


HOSTILE_VALUES = [None, "", "x" * 5_000, 0, -1, 2**63, 1.5, True, [], ["a", 1], {}, {"a": [[1]]}, "ü\u0000☃"]  # fmt: skip


def _hostile_variants(value):
    """`value` with each position in turn replaced by hostile values, left out, or given extras."""
    yield from HOSTILE_VALUES
    if isinstance(value, dict):
        yield {**value, "notAField": 1}
        for key, item in value.items():
            yield {k: v for k, v in value.items() if k != key}
            for variant in _hostile_variants(item):
                yield {**value, key: variant}
    elif isinstance(value, list):
        yield value * 3
        yield value[0] if value else None  # one value where a list is expected
        for variant in _hostile_variants(value[0] if value else None):
            yield [variant]


@pytest.mark.parametrize("operation", [o for o in OPERATIONS if o != "Sync"] + ["Sync"])
def test_hostile_variables_are_coerced_and_converted_alike(twins, operation):
    """The compiled variable coercion (server/variables.py) and argument conversion
    (server/compiled_arguments.py) against graphql-core's and Strawberry's: every position of each
    operation's variables given wrong, empty, huge and hostile values, left out, or extra keys."""
    trusted, general = twins
    role = "SYNC" if operation == "Sync" else "OPERATOR" if "Organization" in operation else "ADMIN"
    variables = [_variables(t, operation) for t in twins]
    cases = [list(_hostile_variants(v)) for v in variables]
    assert len(cases[0]) == len(cases[1])
    for case in range(len(cases[0])):
        answers = []
        for twin, variants in zip(twins, cases):
            body = {"query": DOCUMENT, "operationName": operation, "variables": variants[case]}
            headers = {"authorization": f"Bearer {twin.tokens[role]}"}
            answers.append(twin.client.post("/graphql", json=body, headers=headers))
        assert answers[0].status_code == answers[1].status_code, (operation, cases[0][case])
        texts = [trusted.normalised(answers[0].content), general.normalised(answers[1].content)]
        if operation in ("Organizations", "Tokens"):  # listed in id order; ids drawn at random
            texts = [sorted(re.findall(r"\{[^{}]*\}", text)) for text in texts]
        assert texts[0] == texts[1], (operation, cases[0][case])
    assert trusted.endpoint.runs["general"] == 0
    assert trusted.endpoint.runs["trusted"] == general.endpoint.runs["general"]


def test_the_compiled_coercion_is_graphql_cores_or_steps_aside(twins):
    """Valid variables: the very VariableValues graphql-core makes; anything else: FALL_BACK."""
    from graphql.execution import get_variable_values
    from seatkeeper.server.variables import FALL_BACK

    trusted, _ = twins
    documents = trusted.endpoint.documents
    for operation in OPERATIONS:
        prepared = documents.prepare(DOCUMENT, operation)
        compiled = prepared.compiled.variables
        assert compiled is not None, operation
        definitions = prepared.operation.variable_definitions or ()
        valid = _variables(trusted, operation)
        assert compiled.coerce(valid) is not FALL_BACK, operation  # the fast path is taken
        for variables in _hostile_variants(_variables(trusted, operation)):
            if not isinstance(variables, dict):
                continue
            expected = get_variable_values(documents.schema, definitions, variables)
            got = compiled.coerce(variables)
            if isinstance(expected, list):
                assert got is FALL_BACK, (operation, variables)
            elif got is not FALL_BACK:
                assert got.coerced == expected.coerced, (operation, variables)
                assert _sources(got) == _sources(expected), (operation, variables)


def _sources(values):
    """Variable sources comparable across calls (type_from_ast builds new wrapper types)."""
    return {
        name: (s.signature.name, str(s.signature.type), s.signature.default, s.value)
        for name, s in values.sources.items()
    }
