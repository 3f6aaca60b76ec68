"""Fail closed (issue 11 §2; gateway.catalog_follow): a process whose catalog is older than
the store's and that cannot catch up refuses data requests 503 CATALOG_OUT_OF_DATE, never
answers from the old catalog; /healthz stays up, /readyz says not ready with the reason; the
catch-up is retried at most once per FOLLOW_RETRY seconds, and a fixed store is served again."""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa

from gateway.app import Gateway
from gateway.catalog_store import CatalogEntryRow
from gateway.platform import CATALOG, GrantGeneration
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
        sa.update(GrantGeneration).where(GrantGeneration.id == CATALOG).values(value=GrantGeneration.value + 1)
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
