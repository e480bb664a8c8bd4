"""Real clients against `seatkeeper serve` as a real process (issue 12): the GraphQL-over-HTTP audit
suite (graphql-http), Apollo Client 4 (Node), and Python's `gql`.

The Node clients live in tests/clients (package.json and package-lock.json pin them; `.ci/run`
runs `npm ci` there). Without Node or those packages on a developer machine these tests skip with
a one-line reason; in CI (CI=true) they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.test_serve import SEATKEEPER, _environment, _free_port, _printed, _wait_until_healthy

CLIENTS = Path(__file__).resolve().parents[1] / "clients"
CONTRACT = Path(__file__).resolve().parents[1] / "contract" / "operations.graphql"
NODE = shutil.which("node")
IN_CI = os.environ.get("CI") == "true"


def _need_node() -> str:
    missing = None
    if NODE is None:
        missing = "Node is not installed (apt-get install nodejs npm)"
    elif not all(
        (CLIENTS / "node_modules" / p).is_dir()
        for p in ("graphql-http", "@apollo/client", "@graphql-codegen/cli", "typescript")
    ):
        missing = "the Node clients are not installed (cd tests/clients && npm ci)"
    if missing and IN_CI:
        pytest.fail(f"{missing}: CI must install them (.ci/run)")
    if missing:
        pytest.skip(missing)
    assert NODE is not None
    return NODE


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`seatkeeper serve --demo` on a free port: (GraphQL URL, operator, ADMIN and SYNC tokens)."""
    scratch = tmp_path_factory.mktemp("real-clients")
    port = _free_port()
    out = scratch / "stdout.txt"
    with out.open("wb") as stdout:
        process = subprocess.Popen(
            [SEATKEEPER, "serve", "--demo", "--storage", "memory://", "--port", str(port)],
            stdout=stdout,
            stderr=subprocess.STDOUT,
            env=_environment(scratch / "data"),
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_healthy(base, process)
        output = out.read_text(encoding="utf-8")
        yield {
            "url": f"{base}/graphql",
            "operator": _printed(r"^Operator token \(shown once\): (\S+)$", output),
            "admin": _printed(r"ADMIN token:\s+(\S+)$", output),
            "sync": _printed(r"SYNC token:\s+(\S+)$", output),
        }
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert "Traceback" not in out.read_text(encoding="utf-8")


def _node(script: str, *args: str) -> dict:
    node = _need_node()
    result = subprocess.run(
        [node, str(CLIENTS / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=CLIENTS,
        check=False,  # the return code is asserted with stderr as the message
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_graphql_over_http_audit_is_clean(demo):
    """graphql-http's serverAudits: before issue 12, 53 ok, 8 warnings."""
    results = _node("audit.mjs", demo["url"], demo["admin"])
    assert results["error"] == []
    assert results["warn"] == []
    assert results["ok"] >= 60


def test_apollo_client_4_runs_the_contract_and_its_sync_is_trusted(demo):
    from seatkeeper.server.app import create_app

    out = _node("apollo.mjs", demo["url"], demo["admin"], demo["sync"], str(CONTRACT))
    results = out["results"]
    assert results["createUsers"]["createUsers"]["userErrors"] == []
    assert results["sync"]["sync"]["ok"] is True
    assert results["sync"]["sync"]["license"]["type"] == "STANDARD"
    assert results["users"]["users"]["totalCount"] >= 1
    assert results["organization"]["organization"]["name"]
    # What Apollo sent for its Sync is its own shape, and the server's documents recognise it
    # as the trusted Sync (the compiled route), as they recognise the contract's own text.
    (sync_request,) = [s for s in out["sent"] if s["body"].get("operationName") == "Sync"]
    body = sync_request["body"]
    assert "__typename" in body["query"]
    assert "clientLibrary" in body.get("extensions", {})
    assert sync_request["accept"].startswith("application/graphql-response+json")
    documents = create_app("memory://").state.graphql.documents
    assert documents.prepare(body["query"], "Sync").compiled is not None


def test_python_gql_runs_the_contract(demo):
    gql_module = pytest.importorskip(
        "gql", reason="gql is in the test extra: pip install -e .[test]"
    )
    from gql.transport.httpx import HTTPXTransport

    contract = CONTRACT.read_text(encoding="utf-8")

    def client(token: str):
        transport = HTTPXTransport(url=demo["url"], headers={"Authorization": f"Bearer {token}"})
        return gql_module.Client(transport=transport)

    document = gql_module.gql(contract)
    with client(demo["sync"]) as session:
        synced = session.execute(
            gql_module.GraphQLRequest(
                document,
                variable_values={"input": {"userId": "gql-1", "email": "gql-1@example.com"}},
                operation_name="Sync",
            )
        )
    assert synced["sync"]["userErrors"] == []
    with client(demo["admin"]) as session:
        users = session.execute(
            gql_module.GraphQLRequest(
                document, variable_values={"first": 3}, operation_name="Users"
            )
        )
        tokens = session.execute(gql_module.GraphQLRequest(document, operation_name="Tokens"))
    assert users["users"]["totalCount"] >= 1
    assert {t["role"] for t in tokens["tokens"]} >= {"ADMIN", "SYNC"}


OPERATOR_ONLY = {"CreateOrganization", "AddSubscription", "Organizations"}


def _contract_operations() -> list[str]:
    from graphql import OperationDefinitionNode, parse

    return [
        d.name.value
        for d in parse(CONTRACT.read_text(encoding="utf-8")).definitions
        if isinstance(d, OperationDefinitionNode) and d.name is not None
    ]


def _contract_plan(demo: dict, org: str, who: str) -> list[dict]:
    """Every contract operation once, in the contract's order, with a token whose role may call it
    and variables that let it run (ids prefixed by `who`, so that clients do not collide)."""
    variables = {
        "Sync": {"input": {"userId": f"{who}-all", "email": f"{who}-all@example.com"}},
        "User": {"id": f"{who}-all"},
        "Users": {"first": 5},
        "SetLicenseState": {"input": {"userIds": [f"{who}-all"], "licenseType": "STANDARD", "state": "UNASSIGNED"}},
        "CreateUsers": {"users": [{"id": f"{who}-new", "fullName": "New", "email": f"{who}-new@example.com"}]},
        "DeleteUsers": {"userIds": [f"{who}-new"]},
        "UpdateSettings": {"input": {"gracePeriodDays": 10}},
        "UpsertProject": {"input": {"id": f"{who}-p", "name": "P", "kind": "STANDARD"}},
        "ImportLicenses": {"input": {"csv": "Id,Email,Standard,Inspections\r\n", "dryRun": True}},
        "CreateOrganization": {"input": {"name": f"Other ({who})"}},
        "AddSubscription": {"input": {"organizationId": org, "licenseType": "EXTERNAL", "validUntil": "2099-01-01T00:00:00Z"}},
        "CreateToken": {"input": {"organizationId": org, "role": "READER", "name": who}},
        "RevokeToken": {"id": "no-such-token"},
    }  # fmt: skip
    plan = []
    for name in _contract_operations():
        role = "operator" if name in OPERATOR_ONLY else "sync" if name == "Sync" else "admin"
        plan.append({"name": name, "token": demo[role], "variables": variables.get(name, {})})
    return plan


def _answered(name: str, data: dict | None) -> None:
    assert data and all(value is not None for value in data.values()), (name, data)


def test_apollo_client_4_runs_every_contract_operation_unmodified(demo, tmp_path):
    """Issue 12: every operation of the contract, as Apollo Client 4 sends it (`__typename` added,
    `extensions.clientLibrary`), against the served process: data, no GraphQL error."""
    import httpx

    _need_node()
    answer = httpx.post(
        demo["url"],
        json={"query": "{ organization { id } }"},
        headers={"Authorization": f"Bearer {demo['admin']}"},
        timeout=30,
    )
    org_id = answer.json()["data"]["organization"]["id"]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(_contract_plan(demo, org_id, "apollo")), encoding="utf-8")
    out = _node("apollo.mjs", demo["url"], demo["admin"], demo["sync"], str(CONTRACT), str(plan))
    ran = out["results"]["all"]
    assert list(ran) == _contract_operations() and len(ran) == 21
    for name, data in ran.items():
        _answered(name, data)


def test_python_gql_runs_every_contract_operation_unmodified(demo):
    """Issue 12: every operation of the contract, the document as it is, through gql against the
    served process, each with a token whose role may call it: data, no GraphQL error."""
    gql_module = pytest.importorskip(
        "gql", reason="gql is in the test extra: pip install -e .[test]"
    )
    from gql.transport.httpx import HTTPXTransport

    document = gql_module.gql(CONTRACT.read_text(encoding="utf-8"))

    def run(token: str, name: str, variables: dict | None = None) -> dict:
        transport = HTTPXTransport(url=demo["url"], headers={"Authorization": f"Bearer {token}"})
        with gql_module.Client(transport=transport) as session:
            request = gql_module.GraphQLRequest(
                document, variable_values=variables, operation_name=name
            )
            return session.execute(request)

    org = run(demo["admin"], "Organization")["organization"]["id"]
    ran = []
    for step in _contract_plan(demo, org, "gql"):
        _answered(step["name"], run(step["token"], step["name"], step["variables"]))
        ran.append(step["name"])
    assert ran == _contract_operations() and len(ran) == 21  # api/test_contract_operations.py


def test_typescript_types_from_graphql_codegen_compile_strictly(tmp_path):
    """graphql-codegen over schema.graphql and the contract with strict scalars (every scalar must
    be mapped: DateTime is a string), then `tsc --strict`: what a TypeScript front end does."""
    _need_node()
    out = tmp_path / "types.ts"
    bin_dir = CLIENTS / "node_modules" / ".bin"
    generated = subprocess.run(
        [str(bin_dir / "graphql-codegen"), "--config", "codegen.cjs"],
        cwd=CLIENTS,
        env={**os.environ, "OUT": str(out)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,  # asserted with its output
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    text = out.read_text(encoding="utf-8")
    assert "export type SyncMutation = " in text and "export type UsersQuery = " in text
    compiled = subprocess.run(
        [str(bin_dir / "tsc"), "--noEmit", "--strict", "--skipLibCheck", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,  # asserted with its output
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
