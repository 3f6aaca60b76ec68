"""The catalog register over GraphQL on the real Starlette app (the demo, its YAML imported
into the platform database on start): roles and departments, item-by-item review, bad input
answered as BAD_REQUEST naming the field (never a 500), history for provider and operators."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from gateway.app import Gateway, create_app
from gateway.catalog_store import CatalogStore
from gateway.demo import build_demo
from gateway.settings import Settings
from policies.catalog import Catalog

pytestmark = pytest.mark.asyncio(loop_scope="module")  # one demo gateway for the module

AMR, TAX, OPERATOR = "11420100MB0001011L", "11420100MB000102XC", "11420100MB0002030T"
RESOURCE = "amr.enterprise_registration"
ENTRIES = "query($r: String){ catalogEntries(resource: $r){ resource item state provider due overdue } }"
DRAFT = 'mutation($b: JSON!){ draftCatalogResource(resource: $b, reason: "年度维护"){ item state } }'
SUBMIT = "mutation($r: String!){ submitCatalogChange(resource: $r){ item state } }"
REVIEW = """mutation($r: String!, $i: String, $a: Boolean!, $why: [String!]){
  reviewCatalogEntry(resource: $r, item: $i, approve: $a, reasons: $why){ item state reasons } }"""
PUBLISH = "mutation($r: String!){ publishCatalogChange(resource: $r){ item state version } }"
HISTORY = "query($r: String!){ catalogHistory(resource: $r){ item action department user reasons changed } }"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    """The demo behind the real Starlette app, in process, shared by the module's tests."""
    data = tmp_path_factory.mktemp("catalog-graphql")
    build_demo(data, organizations=10, persons=10)
    settings = Settings.load({}, data=str(data))
    gateway = await Gateway.start(settings)
    app = create_app(settings, gateway)
    app.state.gateway = gateway  # ASGITransport runs no lifespan
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        yield client, gateway, None
    await gateway.close()


async def _post(client: httpx.AsyncClient, gateway: Gateway, who: tuple[str, list[str]], query: str,
                variables: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    token = gateway.signer.issue(who[0], who[1], "test", 600)
    headers = {"Authorization": f"Bearer {token}", "X-Request-User": "editor"}
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code < 500, response.text
    return dict(response.json())


def _code(answer: dict[str, Any]) -> str:
    return str(answer["errors"][0]["extensions"]["code"])


async def _header(gateway: Gateway) -> dict[str, Any]:
    store = gateway.federation.catalog_store
    assert isinstance(store, CatalogStore)
    [entry] = [e for e in await store.entries(_operator(), RESOURCE) if e.item is None]
    assert entry.published is not None
    return {key: value for key, value in entry.published.items() if key != "reviewed"}


def _operator() -> Any:
    from policies.decision import Consumer

    return Consumer(OPERATOR, "test", frozenset({"operator"}))


async def test_the_catalog_workflow_end_to_end(served: Any) -> None:
    client, gateway, _ = served
    published: list[Catalog] = []

    swap = gateway.federation.catalog_store.on_publish  # Gateway.swap_catalog, wired at start

    async def record(catalog: Catalog) -> None:
        published.append(catalog)
        await swap(catalog)

    gateway.federation.catalog_store.on_publish = record
    provider, operator = (AMR, ["provider"]), (OPERATOR, ["operator"])
    body = {**await _header(gateway), "summary": "年度维护后的摘要"}
    drafted = await _post(client, gateway, provider, DRAFT, {"b": body})
    assert drafted["data"]["draftCatalogResource"] == [{"item": None, "state": "DRAFT"}]
    submitted = await _post(client, gateway, provider, SUBMIT, {"r": RESOURCE})
    assert submitted["data"]["submitCatalogChange"] == [{"item": None, "state": "SUBMITTED"}]
    listed = await _post(client, gateway, operator, ENTRIES, {"r": RESOURCE})
    header = next(e for e in listed["data"]["catalogEntries"] if e["item"] is None)
    assert header["state"] == "SUBMITTED" and header["due"] is None  # hubei: no number of days
    returned = await _post(client, gateway, operator, REVIEW, {"r": RESOURCE, "a": False, "why": []})
    assert _code(returned) == "BAD_REQUEST" and "reasons" in returned["errors"][0]["message"]
    approved = await _post(client, gateway, operator, REVIEW, {"r": RESOURCE, "a": True})
    assert approved["data"]["reviewCatalogEntry"]["state"] == "APPROVED"
    done = await _post(client, gateway, operator, PUBLISH, {"r": RESOURCE})
    assert {"item": None, "state": "PUBLISHED", "version": 2} in done["data"]["publishCatalogChange"]
    assert published[-1].resources[RESOURCE].summary == "年度维护后的摘要"
    assert gateway.snapshot().catalog.resources[RESOURCE].summary == "年度维护后的摘要"  # no restart
    history = await _post(client, gateway, provider, HISTORY, {"r": RESOURCE})
    steps = [s for s in history["data"]["catalogHistory"] if s["item"] is None]
    assert [s["action"] for s in steps] == ["import", "draft", "submit", "approve", "publish"]
    audited = [e["outcome"] for e in await gateway.audit.events(limit=1000) if e["kind"] == "workflow"]
    assert audited[-4:] == ["catalog.draft", "catalog.submit", "catalog.approve", "catalog.publish"]
    assert steps[1] == {"item": None, "action": "draft", "department": AMR, "user": "editor",
                        "reasons": ["年度维护"], "changed": ["summary"]}  # fmt: skip


@pytest.mark.parametrize(
    ("who", "query", "variables"),
    [
        ((TAX, ["provider"]), DRAFT, {"b": {"id": RESOURCE, "provider": AMR}}),  # another department's
        ((TAX, ["provider"]), SUBMIT, {"r": RESOURCE}),
        ((TAX, ["provider"]), HISTORY, {"r": RESOURCE}),
        ((AMR, ["provider"]), REVIEW, {"r": RESOURCE, "a": True}),  # never its own reviewer
        ((AMR, ["provider"]), PUBLISH, {"r": RESOURCE}),
        ((AMR, ["consumer"]), ENTRIES, {}),
        ((OPERATOR, ["operator"]), DRAFT, {"b": {"id": RESOURCE, "provider": AMR}}),
    ],
)
async def test_who_may_not_is_forbidden(served: Any, who: Any, query: str, variables: Any) -> None:
    client, gateway, _ = served
    before = await _header(gateway)
    assert _code(await _post(client, gateway, who, query, variables)) == "FORBIDDEN"
    assert await _header(gateway) == before


async def test_a_provider_sees_only_its_own_entries(served: Any) -> None:
    client, gateway, _ = served
    listed = await _post(client, gateway, (TAX, ["provider"]), ENTRIES, {})
    assert {e["provider"] for e in listed["data"]["catalogEntries"]} == {TAX}


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"b": "not an object"}, "resource"),
        ({"b": {"name": "no id"}}, "resource.id"),
        ({"b": {"id": RESOURCE, "items": [1, 2]}}, "resource.items"),
    ],
)
async def test_bad_draft_input_names_the_field(served: Any, variables: Any, field: str) -> None:
    client, gateway, _ = served
    answer = await _post(client, gateway, (AMR, ["provider"]), DRAFT, variables)
    assert _code(answer) == "BAD_REQUEST" and answer["errors"][0]["extensions"]["field"] == field


async def test_an_invalid_change_lists_every_problem_and_keeps_the_catalog(served: Any) -> None:
    client, gateway, _ = served
    before = await _header(gateway)
    body = {**before, "update_cycle": "hourly", "modes": ["query", "teleport"]}
    answer = await _post(client, gateway, (AMR, ["provider"]), DRAFT, {"b": body})
    assert _code(answer) == "BAD_REQUEST"
    paths = {p["path"] for p in answer["errors"][0]["extensions"]["problems"]}
    assert paths == {"resources[0].update_cycle", "resources[0].modes"}
    assert await _header(gateway) == before
    unknown = await _post(client, gateway, (OPERATOR, ["operator"]), PUBLISH, {"r": "no.such_resource"})
    assert _code(unknown) == "BAD_REQUEST"


@pytest.mark.parametrize(
    "source",
    [
        {"table": "enterprise", "url": "http://169.254.169.254/latest"},  # a key the connector refuses
        {"columns": {"name": "ent_name"}},  # no table
    ],
)
async def test_a_source_the_connector_cannot_bind_is_refused_at_draft(served: Any, source: Any) -> None:
    client, gateway, _ = served
    before = await gateway.federation.catalog_store.export_yaml()
    body = {**await _header(gateway), "source": source}
    drafted = await _post(client, gateway, (AMR, ["provider"]), DRAFT, {"b": body})
    if "errors" not in drafted:  # accepted: then the review and publication must not store it
        await _post(client, gateway, (AMR, ["provider"]), SUBMIT, {"r": RESOURCE})
        await _post(client, gateway, (OPERATOR, ["operator"]), REVIEW, {"r": RESOURCE, "a": True})
        published = await _post(client, gateway, (OPERATOR, ["operator"]), PUBLISH, {"r": RESOURCE})
        assert await gateway.federation.catalog_store.export_yaml() == before, published
        pytest.fail(f"an unbindable source was drafted: {drafted}")
    assert _code(drafted) == "BAD_REQUEST"
    assert "source" in drafted["errors"][0]["message"]
    assert await gateway.federation.catalog_store.export_yaml() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": RESOURCE + "\n"}, "resource.id"),  # `$` matched before the newline: stored as a new id
        ({"id": " " + RESOURCE}, "resource.id"),
        ({"items": [{"name": "a" * 300, "title": "长"}]}, "resource.items[0].name"),  # PostgreSQL: 500
        ({"items": [{"title": "无名"}]}, "resource.items[0].name"),  # it overwrote the resource's fields
    ],
)
async def test_odd_ids_in_a_draft_are_a_bad_request_naming_the_field(
    served: Any, change: Any, field: str
) -> None:
    client, gateway, _ = served
    before = await gateway.federation.catalog_store.export_yaml()
    body = {**await _header(gateway), **change}
    answer = await _post(client, gateway, (AMR, ["provider"]), DRAFT, {"b": body})
    assert _code(answer) == "BAD_REQUEST", answer
    extensions = answer["errors"][0]["extensions"]
    assert field in (extensions.get("argument"), extensions.get("field")), answer
    assert await gateway.federation.catalog_store.export_yaml() == before
