"""The catalog's generation (gateway.platform.CATALOG, bumped by gateway.catalog_store) and
its per-request read (gateway.grant_cache, gateway.catalog_follow), on SQLite and
PostgreSQL; the impact of a pending change (``CatalogStore.impact``). The processes that
follow it are tested end to end in tests/e2e/test_catalog_follow_e2e.py."""

from __future__ import annotations

import datetime as dt

import pytest

from errors import BadRequest, Forbidden
from gateway.catalog_store import CatalogStore
from gateway.grant_cache import CachedGrants
from gateway.platform import new_grant_row
from policies.decision import Consumer
from policies.share import Mode
from tests.gateway.test_catalog_store import (
    AMR_PROVIDER,
    OPERATOR,
    RESOURCE,
    TAX_PROVIDER,
    TESTS,
    _resource_body,
)


async def generation(store: CatalogStore) -> int:
    found = (await store.platform.generations()).catalog
    assert found is not None
    return found


async def test_the_generation_moves_with_what_is_published_and_only_then(store: CatalogStore) -> None:
    start = await generation(store)
    await store.import_catalog(TESTS / "data" / "catalog.yaml", OPERATOR)
    imported = await generation(store)
    assert imported > start
    body = {**_resource_body(RESOURCE), "summary": "企业登记基本信息(年度维护)"}
    await store.draft(AMR_PROVIDER, body)
    await store.submit(AMR_PROVIDER, RESOURCE)
    await store.review(OPERATOR, RESOURCE, None, True, [])
    assert await generation(store) == imported  # drafts and reviews serve nothing new
    await store.publish(OPERATOR, RESOURCE)
    published = await generation(store)
    assert published > imported
    await store.withdraw(OPERATOR, RESOURCE, "status", ["停止共享"])
    assert await generation(store) > published


async def test_a_grant_change_moves_the_grants_generation_not_the_catalogs(store: CatalogStore) -> None:
    before = await store.platform.generations()

    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    row = new_grant_row("91420100MA4K00001X", RESOURCE, ["address"], "行政审批核验", until, [Mode.QUERY])
    await store.platform.add_grant(row)
    after = await store.platform.generations()
    assert after.grants > (before.grants or 0) and after.catalog == before.catalog


async def test_the_request_read_serves_its_first_grant_lookup_only(store: CatalogStore) -> None:
    grants = CachedGrants(store.platform)
    read = await grants.generations()
    assert grants.reads == 1
    grants.fresh_for_request(read)
    await grants.grants_for("91420100MA4K00001X")
    assert grants.reads == 1  # the middleware's read, made after the request arrived
    await grants.grants_for("91420100MA4K00001X")
    assert grants.reads == 2  # a later lookup (an export's next page) reads anew


async def test_the_impact_is_for_the_provider_and_operators_only(store: CatalogStore) -> None:
    await store.import_catalog(TESTS / "data" / "catalog.yaml", OPERATOR)
    with pytest.raises(BadRequest, match="no pending change"):
        await store.impact(OPERATOR.consumer, RESOURCE)
    body = _resource_body(RESOURCE)
    stricter = {"share": "conditional", "condition": "用于行政审批核验登记状态"}
    body["items"] = [{**item, **stricter} if item["name"] == "status" else item for item in body["items"]]
    await store.draft(AMR_PROVIDER, body)
    for reader in (OPERATOR.consumer, AMR_PROVIDER.consumer):
        found = await store.impact(reader, RESOURCE)
        assert found.breaking and {c.item for c in found.changes} == {"status"}
    consumer = Consumer("91420100MA4K00001X", "app", frozenset({"consumer"}))
    tax = TAX_PROVIDER.consumer
    unknown = "no.such_resource"
    for outsider, resource in [(consumer, RESOURCE), (tax, RESOURCE), (tax, unknown), (consumer, unknown)]:
        with pytest.raises(Forbidden):
            await store.impact(outsider, resource)
