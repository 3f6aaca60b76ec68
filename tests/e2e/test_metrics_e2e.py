"""``GET /metrics`` of the real demo server (uvicorn, SQLite departments) after a mixed
workload: a query, a refused query, a compare, an export, an unauthenticated request.

Checked: operators only (no token 401, consumer 403); the families and labels an operator
reads; a query counted exactly once under its outcome; every label value of every sample
is from a bounded set (catalog departments and resources, the code table, fixed states);
and no subject code, purpose, user, consumer or stored value sent or answered in the
workload appears anywhere in the body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from gateway.auth import load_signer
from gateway.demo import SAMPLE_ORGANIZATION_QUERY, sample_compare
from gateway.metrics_endpoint import APPLICATION_STATES, GRANT_STATES
from gateway.settings import Settings
from policies.catalog import load_catalog
from resolvers.metrics import CODES, MODES, OPERATIONS
from tests.conftest import DEMO_PURPOSE, DemoServer
from tests.e2e.conftest import approve_unconditional_for, fresh_department

pytestmark = pytest.mark.e2e

USER = "metrics-clerk-7731"  # X-Request-User of the workload: never a label
AMR = "amr.enterprise_registration"
Families = dict[str, list[Sample]]


def base(demo: DemoServer) -> str:
    return demo.url.removesuffix("/graphql")


def scrape(demo: DemoServer, token: str | None = "operator") -> httpx.Response:
    headers = {} if token is None else {"Authorization": f"Bearer {demo.info['tokens'].get(token, token)}"}
    return httpx.get(base(demo) + "/metrics", headers=headers, timeout=30)


def families(text: str) -> Families:
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def value(found: Families, sample: str, **labels: str) -> float:
    """The sample's value (0 when absent, as Prometheus counts a series not yet seen)."""
    for one in (one for samples in found.values() for one in samples):
        if one.name == sample and all(one.labels.get(k) == v for k, v in labels.items()):
            return one.value
    return 0.0


def query(demo: DemoServer, token: str, code: str) -> httpx.Response:
    headers = {"X-Request-User": USER}
    return demo.post(SAMPLE_ORGANIZATION_QUERY, {"code": code}, token=token, headers=headers)


def leaves(answer: Any) -> Iterator[str]:
    """Every scalar of a JSON answer, as text."""
    if isinstance(answer, dict):
        for item in answer.values():
            yield from leaves(item)
    elif isinstance(answer, list):
        for item in answer:
            yield from leaves(item)
    elif answer is not None and not isinstance(answer, bool):
        yield str(answer)


@pytest.fixture(scope="module")
def workload(demo: DemoServer, fresh_consumer: tuple[str, str]) -> dict[str, Any]:
    """The mixed workload, once; what it sent and got back, to look for in /metrics."""
    codes = demo.info["samples"]["organizations"][:3]
    consumer, token = fresh_consumer
    answered = [query(demo, "consumer_with_grant", codes[0]), query(demo, token, codes[1])]
    refused = query(demo, "consumer", codes[2])  # HOUSING holds no grant of the conditional items
    compare_body = sample_compare(demo.data_dir, codes[0])
    compared = httpx.post(
        base(demo) + "/compare",
        json=compare_body,
        headers={"Authorization": f"Bearer {demo.token('consumer')}", "X-Purpose": quote(DEMO_PURPOSE)},
        timeout=30,
    )
    exported = httpx.get(
        f"{base(demo)}/export/{AMR}",
        params={"items": "name", "limit": "20"},
        headers={"Authorization": f"Bearer {demo.token('consumer')}", "X-Purpose": quote(DEMO_PURPOSE)},
        timeout=30,
    )
    anonymous = httpx.post(demo.url, json={"query": "{ __typename }"}, timeout=30)
    for response in (*answered, compared, exported):
        assert response.status_code == 200, response.text
    assert anonymous.status_code == 401
    assert refused.json()["errors"]
    values = {v for r in (*answered, refused) for v in leaves(r.json().get("data"))}  # stored values
    values |= {v for line in exported.text.splitlines() for v in leaves(json.loads(line))}
    values |= {str(v) for v in compare_body["claims"].values()}
    return {
        "codes": [*codes, compare_body["subject"]],
        "values": values,
        "consumer": consumer,
        "refused": refused.json(),
    }


@pytest.fixture(scope="module")
def fresh_consumer(demo: DemoServer) -> tuple[str, str]:
    """A department nobody else uses, granted the conditional item, and its token."""
    consumer = fresh_department()
    args = ["grant", "add", "--consumer", consumer, "--resource", AMR, "--items", "legal_representative"]
    demo.cli(*args, "--purpose", DEMO_PURPOSE, "--modes", "query")
    approve_unconditional_for(demo, consumer)
    return consumer, load_signer(demo.data_dir).issue(consumer, ["consumer"], ttl=600)


@pytest.fixture(scope="module")
def body(demo: DemoServer, workload: dict[str, Any]) -> str:
    response = scrape(demo)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return response.text


def test_metrics_are_for_operators_only(demo: DemoServer) -> None:
    anonymous = scrape(demo, None)
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    for role in ("consumer", "provider"):
        refused = scrape(demo, role)
        assert refused.status_code == 403, role
        assert refused.json()["errors"][0]["extensions"] == {"code": "FORBIDDEN", "role": "operator"}
        assert "govshare_" not in refused.text


def test_the_workload_is_counted_by_operation_mode_and_outcome(body: str, workload: dict[str, Any]) -> None:
    found = families(body)
    requests = "govshare_requests_total"
    assert value(found, requests, operation="query", mode="query", outcome="OK") >= 1
    refused_code = workload["refused"]["errors"][0]["extensions"]["code"]
    assert value(found, requests, operation="query", outcome=refused_code) >= 1
    assert value(found, requests, operation="rest", mode="compare", outcome="OK") >= 1
    assert value(found, requests, operation="rest", mode="export", outcome="OK") >= 1
    assert value(found, requests, operation="none", outcome="UNAUTHENTICATED") >= 1
    latency = "govshare_request_duration_seconds"
    assert value(found, latency + "_count", operation="query", mode="query") >= 1
    assert value(found, latency + "_bucket", operation="query", mode="query", le="+Inf") >= 1


def test_sources_cache_audit_and_platform_are_exposed(body: str, demo: DemoServer) -> None:
    found = families(body)
    amr = load_catalog(Settings.load({}, data=str(demo.data_dir)).catalog).resources[AMR].provider
    calls = value(found, "govshare_source_calls_total", department=amr, outcome="answered")
    assert calls >= 1
    assert value(found, "govshare_source_call_duration_seconds_count", department=amr) >= 1
    assert value(found, "govshare_source_circuit_state", department=amr) == 0
    cache = [s for s in found["govshare_row_cache_lookups"] if s.name.endswith("_total")]
    assert {s.labels["result"] for s in cache} >= {"miss"}
    commits = "govshare_audit_commit_duration_seconds"
    assert value(found, commits + "_count") >= 1
    assert "govshare_audit_queue_depth" in found
    assert value(found, "govshare_grants", state="active") >= 2  # the demo's and ours
    assert sum(s.value for s in found["govshare_applications"]) >= 1
    assert value(found, "govshare_platform_up") == 1


def test_one_more_query_counts_exactly_one(demo: DemoServer, workload: dict[str, Any]) -> None:
    labels = {"operation": "query", "mode": "query", "outcome": "OK"}
    before = value(families(scrape(demo).text), "govshare_requests_total", **labels)
    assert query(demo, "consumer_with_grant", workload["codes"][0]).status_code == 200
    after = value(families(scrape(demo).text), "govshare_requests_total", **labels)
    assert after - before == 1


def test_every_label_value_is_from_a_bounded_set(body: str, demo: DemoServer) -> None:
    catalog = load_catalog(Settings.load({}, data=str(demo.data_dir)).catalog)
    allowed: dict[str, Callable[[str], bool]] = {
        "operation": OPERATIONS.__contains__,
        "mode": MODES.__contains__,
        "outcome": lambda v: v in CODES or re.fullmatch(r"HTTP_[1-5]\d\d", v) is not None,
        "department": {r.provider for r in catalog.resources.values()}.__contains__,
        "resource": catalog.resources.__contains__,
        "result": {"hit", "miss", "error"}.__contains__,
        "state": GRANT_STATES.__contains__,
        "status": APPLICATION_STATES.__contains__,
        "le": lambda v: v == "+Inf" or float(v) >= 0,
    }
    source_outcomes = {"answered", "failed", "not_asked", "rejected"}  # policies.resilience, breaker
    seen = 0
    for name, samples in families(body).items():
        if not name.startswith("govshare_"):
            continue  # process_* / python_* carry no labels of ours
        checks = {**allowed, "outcome": source_outcomes.__contains__} if "source" in name else allowed
        for sample in samples:
            for label, text in sample.labels.items():
                assert label in checks and checks[label](text), (sample.name, label, text)
                seen += 1
    assert seen > 50


def test_no_code_purpose_user_consumer_or_value_in_the_body(
    body: str, workload: dict[str, Any], demo: DemoServer
) -> None:
    folded = body.lower()
    departments = set(load_catalog(Settings.load({}, data=str(demo.data_dir)).catalog).departments)
    for code in workload["codes"]:
        assert code.lower() not in folded, code
    assert workload["consumer"].lower() not in folded
    assert USER not in body
    assert DEMO_PURPOSE not in body and quote(DEMO_PURPOSE).lower() not in folded
    # values answered, less catalog facts an answer also names (a refusal names the provider)
    looked = [v for v in workload["values"] if len(v) >= 3 and not v.replace(".", "").isdigit()]
    looked = [v for v in looked if v not in departments and not v.startswith("amr.")]
    assert len(looked) >= 5  # the workload did answer values
    for stored in looked:
        assert stored not in body, stored
