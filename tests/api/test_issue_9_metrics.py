"""Issue 9, metrics: `GET /metrics` in Prometheus' text format, for the OPERATOR's token only."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.api.api_support import assert_unauthenticated


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
    graphql_ok = samples[("seatkeeper_requests_total", (("path", "/graphql"), ("status", "200")))]
    assert graphql_ok >= 3
