"""Issue 9, metrics: `GET /metrics` in Prometheus' text format, for the OPERATOR's token only, or
without a token on an address of its own; requests and latency by route and GraphQL operation."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families
from seatkeeper.server.app import create_app

from tests.api.api_support import Api, TestClient, assert_unauthenticated


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_need_the_operator(api, org, client):
    assert_unauthenticated(client.get("/metrics"))
    forbidden = client.get("/metrics", headers={"Authorization": f"Bearer {org.admin}"})
    assert forbidden.status_code == 403


def test_metrics_count_syncs_refusals_requests_and_seats(api, org, client):
    api.add_subscription(org, "STANDARD", seats=2)
    api.settings(org, autoAssignLicenses=True)
    for user in ("u1", "u2", "u3"):
        api.sync(org.sync, user)  # two seats: the third is refused
    client.post("/graphql", json={"query": "{ __typename }"})  # no token: 401
    response = client.get("/metrics", headers={"Authorization": f"Bearer {api.operator}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    oks = samples[("seatkeeper_syncs_total", (("code", ""), ("outcome", "ok"), ("reason", "")))]
    assert oks == 2
    refused = [
        value
        for (name, labels), value in samples.items()
        if name == "seatkeeper_syncs_total" and ("outcome", "license_error") in labels
    ]
    assert refused == [1]
    assert samples[("seatkeeper_refusals_total", (("status", "401"),))] >= 1
    seats = {
        dict(labels)["state"]: value
        for (name, labels), value in samples.items()
        if name == "seatkeeper_seats"
        and dict(labels)["organization"] == org.id
        and dict(labels)["license_type"] == "STANDARD"
    }
    assert seats == {"assigned": 2, "free": 0}
    syncs = samples[
        (
            "seatkeeper_requests_total",
            (("operation", "Sync"), ("path", "/graphql"), ("status", "200")),
        )
    ]
    assert syncs == 3
    latency = ("seatkeeper_request_seconds_count", (("operation", "Sync"), ("path", "/graphql")))
    assert samples[latency] == 3
    refused = (
        "seatkeeper_requests_total",
        (("operation", "other"), ("path", "/graphql"), ("status", "401")),
    )
    assert samples[refused] == 1  # refused before its document was read


def _operation_labels(samples) -> set[str]:
    return {
        dict(labels)["operation"]
        for (name, labels), _ in samples.items()
        if name == "seatkeeper_requests_total"
    }


def test_metrics_label_operations_by_trusted_names_only(app, api, client):
    """Clients choose their operations' names: those of other documents fold into `other`, so
    that no client can grow the label set; trusted documents keep their names."""
    operator = {"Authorization": f"Bearer {api.operator}"}
    for n in range(25):
        response = client.post(
            "/graphql",
            json={"query": f"query Sync{n} {{ __typename }}", "operationName": f"Sync{n}"},
            headers=operator,
        )
        assert response.status_code == 200
    client.post("/graphql", json={"query": "query Sync { __typename }"}, headers=operator)
    api.create_org("Acme")  # a trusted operation of the contract
    samples = _samples(client.get("/metrics", headers=operator).text)
    labels = _operation_labels(samples)
    trusted = {t.name for t in app.state.graphql.documents.trusted.values()}
    assert "other" in labels and "CreateOrganization" in labels
    assert labels <= trusted | {"other", ""}
    other = (
        "seatkeeper_requests_total",
        (("operation", "other"), ("path", "/graphql"), ("status", "200")),
    )
    assert samples[other] == 26  # an untrusted document named Sync is not the trusted Sync


@pytest.fixture
def metrics_app(clock, operator_token):
    return create_app(
        "memory://",
        clock=clock,
        operator_token=operator_token,
        metrics_address=("127.0.0.1", 0),  # any free port; the server says which
    )


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_metrics_on_their_own_address_need_no_token_and_serve_nothing_else(
    metrics_app, operator_token, clock
):
    with TestClient(metrics_app) as client:
        api = Api(client, operator_token, clock)
        org = api.create_org("Acme")
        api.add_subscription(org, "STANDARD", seats=3)
        port = metrics_app.state.metrics_server.port
        status, text = _get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        seats = {
            (sample.labels["organization"], sample.labels["state"]): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "seatkeeper_seats" and sample.labels["license_type"] == "STANDARD"
        }
        assert seats[(org.id, "free")] == 3  # read on the app's loop at scrape time
        assert _get(f"http://127.0.0.1:{port}/graphql")[0] == 404
        assert _get(f"http://127.0.0.1:{port}/")[0] == 404
        # The app's own /metrics still needs the operator's token.
        assert_unauthenticated(client.get("/metrics"))
    # Stopped with the app.
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)
