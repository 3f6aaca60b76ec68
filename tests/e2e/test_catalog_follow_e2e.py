"""Every gateway process serves what the catalog store publishes (issue 11 §2, issue 12 §1):
two ``govshare serve`` processes (real uvicorn on 127.0.0.1) on ONE PostgreSQL platform
database, and the CLI acting on that database while both run.

- an item withdrawn through gw-a is refused by gw-b on the very next request (query and
  compare), though gw-b had just served it: no restart, no polling interval;
- an item published through gw-a is queryable on gw-b on the next request;
- the review shows what a pending change would break (the consumer's grant) before
  publication, to the operator and the resource's provider, never to a consumer or another
  provider; ``govshare catalog review`` prints it too;
- a withdrawal and a publication made with the CLI reach both running gateways.

Skipped without GOVSHARE_TEST_POSTGRES_URL / GOVSHARE_TEST_REDIS_URL (CI sets both).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml

from gateway.cli import main
from gateway.demo import AMR, BIGDATA, TAX
from tests.conftest import DEMO_PURPOSE
from tests.e2e.test_workers_e2e import (
    REDIS_URL,
    RESOURCE,
    Cluster,
    consumer_with_grant,
    post,
    two_gateways,
    url_of,
)

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not REDIS_URL, reason="GOVSHARE_TEST_REDIS_URL is not set")]
READ = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { name address } } }"
READ_STATUS = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { name status } } }"
WITHDRAW = """mutation($r: String!, $i: String) {
  withdrawCatalogEntry(resource: $r, item: $i, reasons: ["停止共享该数据项"]) { item state } }"""
DRAFT = 'mutation($b: JSON!) { draftCatalogResource(resource: $b, reason: "恢复共享") { item state } }'
SUBMIT = "mutation($r: String!) { submitCatalogChange(resource: $r) { item state } }"
REVIEW = """mutation($r: String!, $i: String) {
  reviewCatalogEntry(resource: $r, item: $i, approve: true) { state } }"""
PUBLISH = "mutation($r: String!) { publishCatalogChange(resource: $r) { item state } }"
IMPACT = "query($r: String!) { catalogImpact(resource: $r) }"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    yield from two_gateways(tmp_path_factory, "catalog_follow_e2e", organizations=10, persons=3)


@pytest.fixture(scope="module")
def consumer(cluster: Cluster) -> tuple[str, str]:
    """(token, grant id): a department holding a grant of RESOURCE's conditional ``address``."""
    return consumer_with_grant(cluster)


def original_resource(cluster: Cluster) -> dict[str, Any]:
    """RESOURCE as the demo catalog file has it (what a provider re-drafts)."""
    document = yaml.safe_load((cluster.data / "catalog.yaml").read_text(encoding="utf-8"))
    return dict(next(r for r in document["resources"] if r["id"] == RESOURCE))


def operator(cluster: Cluster) -> str:
    return cluster.token(BIGDATA.code, "operator")


def provider(cluster: Cluster, department: str = AMR.code) -> str:
    return cluster.token(department, "provider")


def address_of(answer: dict[str, Any]) -> Any:
    return (
        ((answer.get("data") or {}).get("organization") or {})
        .get("enterpriseRegistration", {})
        .get("address")
    )


def compare(cluster: Cluster, name: str, token: str, subject: str, claims: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(DEMO_PURPOSE)}
    body = {"resource": RESOURCE, "subject": subject, "claims": claims}
    return httpx.post(
        url_of(cluster, name).replace("/graphql", "/compare"), json=body, headers=headers, timeout=30
    )


def publish_through(cluster: Cluster, name: str, body: dict[str, Any], items: list[str | None]) -> None:
    """Draft (the provider), submit, review each entry and publish (the operator) through ``name``."""
    url = url_of(cluster, name)
    drafted = post(url, provider(cluster), DRAFT, {"b": body})
    assert not drafted.get("errors"), drafted
    assert not post(url, provider(cluster), SUBMIT, {"r": RESOURCE}).get("errors")
    for item in items:
        reviewed = post(url, operator(cluster), REVIEW, {"r": RESOURCE, "i": item})
        assert reviewed["data"]["reviewCatalogEntry"]["state"] == "APPROVED", reviewed
    published = post(url, operator(cluster), PUBLISH, {"r": RESOURCE})
    assert not published.get("errors"), published


def test_an_item_withdrawn_through_one_gateway_is_refused_by_the_other_on_the_next_request(
    cluster: Cluster, consumer: tuple[str, str]
) -> None:
    token, _ = consumer
    code = cluster.codes[0]
    served = post(url_of(cluster, "gw-b"), token, READ, {"c": code})
    value = address_of(served)
    assert value, served
    assert compare(cluster, "gw-b", token, code, {"address": value}).status_code == 200
    withdrawn = post(url_of(cluster, "gw-a"), operator(cluster), WITHDRAW, {"r": RESOURCE, "i": "address"})
    assert withdrawn["data"]["withdrawCatalogEntry"] == [{"item": "address", "state": "WITHDRAWN"}], withdrawn
    after = post(url_of(cluster, "gw-b"), token, READ, {"c": code})  # the very next request
    assert (
        after.get("errors")
        and address_of(after) is None
        and value not in json.dumps(after, ensure_ascii=False)
    )
    compared = compare(cluster, "gw-b", token, code, {"address": value})
    assert compared.status_code >= 400 and "address" in compared.text, compared.text
    assert value not in compared.text


def test_an_item_published_through_one_gateway_is_queryable_on_the_other(
    cluster: Cluster, consumer: tuple[str, str]
) -> None:
    token, _ = consumer
    code = cluster.codes[1]
    assert post(url_of(cluster, "gw-b"), token, READ, {"c": code}).get("errors")  # withdrawn above
    publish_through(cluster, "gw-a", original_resource(cluster), [None, "address"])
    answer = post(url_of(cluster, "gw-b"), token, READ, {"c": code})
    assert not answer.get("errors") and address_of(answer), answer
    assert cluster.gateways["gw-b"][0].poll() is None  # the same process: no restart


def test_the_impact_of_a_pending_change_lists_the_grant_it_breaks_before_publication(
    cluster: Cluster,
    consumer: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token, grant_id = consumer
    stricter = original_resource(cluster)
    stricter["items"] = [
        {**item, "share": "not_shared", "basis": "《条例》第三十五条", "condition": None}
        if item["name"] == "address" else item
        for item in stricter["items"]
    ]  # fmt: skip
    stricter["items"] = [{k: v for k, v in item.items() if v is not None} for item in stricter["items"]]
    url = url_of(cluster, "gw-b")
    assert not post(url, provider(cluster), DRAFT, {"b": stricter}).get("errors")
    assert not post(url, provider(cluster), SUBMIT, {"r": RESOURCE}).get("errors")
    for reader in (operator(cluster), provider(cluster)):
        found = post(url, reader, IMPACT, {"r": RESOURCE})["data"]["catalogImpact"]
        assert found["breaking"] and grant_id in [g["id"] for g in found["grants"]], found
        assert [c["item"] for c in found["changes"] if c["kind"] == "class_stricter"] == ["address"], found
    for outsider in (token, provider(cluster, TAX.code)):
        refused = post(url, outsider, IMPACT, {"r": RESOURCE})
        assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN", refused
        assert grant_id not in json.dumps(refused)
    monkeypatch.setenv("GOVSHARE_DATABASE_URL", cluster.url)
    capsys.readouterr()
    assert (
        main(["catalog", "review", RESOURCE, "--item", "address", "--approve", "--data", str(cluster.data)])
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed["state"] == "approved" and grant_id in [g["id"] for g in printed["impact"]["grants"]]


def test_a_cli_withdrawal_and_publication_reach_every_running_gateway(
    cluster: Cluster, consumer: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token, _ = consumer
    code = cluster.codes[2]
    monkeypatch.setenv("GOVSHARE_DATABASE_URL", cluster.url)
    for name in ("gw-a", "gw-b"):
        assert not post(url_of(cluster, name), token, READ_STATUS, {"c": code}).get("errors")
    withdraw = ["catalog", "withdraw", RESOURCE, "--item", "status", "--reason", "停止共享"]
    assert main([*withdraw, "--data", str(cluster.data)]) == 0
    for name in ("gw-a", "gw-b"):
        assert post(url_of(cluster, name), token, READ_STATUS, {"c": code}).get("errors"), name
    header = ["catalog", "review", RESOURCE, "--approve"]  # the address item was approved above
    assert main([*header, "--data", str(cluster.data)]) == 0
    assert main(["catalog", "publish", RESOURCE, "--data", str(cluster.data)]) == 0  # address: not shared
    for name in ("gw-a", "gw-b"):
        answer = post(url_of(cluster, name), token, READ, {"c": code})
        codes = [e["extensions"]["code"] for e in answer.get("errors", [])]
        assert address_of(answer) is None and codes == ["NOT_SHARED"], (name, answer)
