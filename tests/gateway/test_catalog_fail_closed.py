"""Fail closed (issue 11 §2; gateway.catalog_follow): a process whose catalog is older than
the store's and that cannot catch up refuses data requests 503 CATALOG_OUT_OF_DATE, never
answers from the old catalog; /healthz stays up, /readyz says not ready with the reason; the
catch-up is retried at most once per FOLLOW_RETRY seconds, and a fixed store is served again."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from connectors.base import bind_columns
from errors import BadRequest, CatalogOutOfDate
from gateway.app import Gateway
from gateway.catalog_store import CatalogEntryRow, CatalogStore
from gateway.platform import CATALOG, GrantGeneration
from gateway.sockets import NOBODY, SocketContext
from policies.catalog_workflow import EntryState
from tests.gateway.test_catalog_store import AMR_PROVIDER, OPERATOR, TESTS, _resource_body
from tests.gateway.test_http_guarantees import HOUSING, headers

RESOURCE, ITEM = "amr.enterprise_registration", "registration_date"
READ = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { name } } }"


async def break_the_stored_catalog(gateway: Gateway) -> dict[str, Any]:
    """Delete the published row of an item the resource's source still maps (it no longer
    binds) and move the catalog's generation, as another process's publication would."""
    engine = gateway.platform.engine
    async with engine.begin() as conn:
        where = (CatalogEntryRow.resource == RESOURCE) & (CatalogEntryRow.item == ITEM)
        row = (await conn.execute(sa.select(CatalogEntryRow.__table__).where(where))).mappings().one()
        await conn.execute(sa.delete(CatalogEntryRow).where(where))
        await bump(conn)
    return dict(row)


async def bump(conn: Any) -> None:
    await conn.execute(
        sa.update(GrantGeneration)
        .where(GrantGeneration.id == CATALOG)
        .values(value=GrantGeneration.value + 1)
    )


async def graphql(client: httpx.AsyncClient, code: str) -> httpx.Response:
    sent = headers(client.gateway, HOUSING.code, ["consumer"])  # type: ignore[attr-defined]
    return await client.post("/graphql", json={"query": READ, "variables": {"c": code}}, headers=sent)


async def test_a_catalog_that_cannot_be_caught_up_refuses_data_requests_until_fixed(
    served: tuple[httpx.AsyncClient, Gateway, Any],
) -> None:
    client, gateway, samples = served
    code = samples["organizations"][0]
    client.gateway = gateway  # type: ignore[attr-defined]
    assert (await graphql(client, code)).status_code == 200
    row = await break_the_stored_catalog(gateway)
    refused = await graphql(client, code)
    assert refused.status_code == 503, refused.text
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "CATALOG_OUT_OF_DATE"
    assert "registration_date" in error["message"] and "publish" in error["message"]
    assert "data" not in refused.json()
    for path in ("/compare", f"/export/{RESOURCE}", "/schema.graphql"):
        answer = await (client.post(path, json={}) if path == "/compare" else client.get(path))
        assert answer.status_code == 503 and "CATALOG_OUT_OF_DATE" in answer.text, (path, answer.text)
    assert (await client.get("/healthz")).status_code == 200
    ready = await client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["status"] == "not_ready"
    assert "registration_date" in ready.json()["catalog"]["detail"]
    loads = gateway.swaps.retry_at
    await graphql(client, code)
    assert gateway.swaps.retry_at == loads  # not retried before FOLLOW_RETRY seconds
    async with gateway.platform.engine.begin() as conn:  # the operator fixes the store
        await conn.execute(sa.insert(CatalogEntryRow.__table__).values(**row))
        await bump(conn)
    gateway.swaps.retry_at = 0.0  # the retry is due
    served_again = await graphql(client, code)
    assert served_again.status_code == 200 and not served_again.json().get("errors"), served_again.text
    assert gateway.swaps.behind is None
    assert (await client.get("/readyz")).json()["status"] != "not_ready"


async def test_withdrawing_a_mapped_item_unmaps_its_column_and_the_catalog_still_binds(
    store: CatalogStore,
) -> None:
    await store.import_catalog(TESTS / "data" / "catalog.yaml", OPERATOR)
    await store.withdraw(OPERATOR, RESOURCE, ITEM, ["停止共享"])
    resource = (await store.published_catalog()).resources[RESOURCE]
    assert ITEM not in resource.source["columns"] and "name" in resource.source["columns"]
    bind_columns(resource.source, [i.name for i in resource.items], resource.key)  # raises if not


async def test_a_draft_mapping_an_item_the_resource_lacks_is_refused_and_nothing_stored(
    store: CatalogStore,
) -> None:
    await store.import_catalog(TESTS / "data" / "catalog.yaml", OPERATOR)
    before = await store.export_yaml()
    body = _resource_body(RESOURCE)
    body["source"] = {**body["source"], "columns": {**body["source"]["columns"], "founded": "reg_date"}}
    with pytest.raises(BadRequest, match=rf"{RESOURCE}.*founded.*remove") as refused:
        await store.draft(AMR_PROVIDER, body)
    assert refused.value.extensions["problems"][0]["path"] == "source.columns"
    assert await store.export_yaml() == before
    assert not await store.entries(OPERATOR.consumer, RESOURCE, EntryState.DRAFT)


async def test_an_open_subscription_ends_while_its_process_cannot_serve_the_published_catalog(
    served: tuple[httpx.AsyncClient, Gateway, Any],
) -> None:
    """A socket opened before the store moved: before each notice it follows the store as an
    HTTP request does, and while this process is behind, its subscriptions end with
    CATALOG_OUT_OF_DATE instead of deciding notices on the older catalog."""
    _, gateway, _ = served
    socket = SocketContext(federation=gateway.federation, consumer=NOBODY, gateway=gateway.snapshot())
    await socket.recheck_credentials()  # the store and the catalog served agree: goes on
    await break_the_stored_catalog(gateway)
    with pytest.raises(CatalogOutOfDate, match="registration_date") as ended:
        await socket.recheck_credentials()
    assert ended.value.code == "CATALOG_OUT_OF_DATE"
    assert gateway.swaps.behind is not None
