"""Attacks on the stored catalog (break-it review of issue 11 §1-3): ids that collide with a
resource's own fields, role checks that depend on what a draft claims, a reviewer approving a
change it never saw, a publication the gateway cannot serve."""

from __future__ import annotations

from typing import Any

import pytest

from errors import BadRequest, Forbidden
from tests.gateway.test_catalog_store import (
    AMR_PROVIDER,
    OPERATOR,
    RESOURCE,
    _imported,
    _resource_body,
    store,  # noqa: F401  (the fixture)
)
from policies.decision import Consumer
from policies.workflow import Actor

CONSUMER = Actor(Consumer("11420000MB0000027U", "tax-app", frozenset({"consumer"})))


@pytest.mark.parametrize("name", ["", None])
async def test_an_item_without_a_name_never_overwrites_the_resources_own_fields(store: Any, name: Any) -> None:
    catalog_store, _ = store
    await _imported(catalog_store)
    before = await catalog_store.entries(OPERATOR.consumer)
    resource = _resource_body(RESOURCE)
    item = {"title": "无名", "share": "unconditional"} if name is None else {"name": name, "title": "无名"}
    resource["items"].append(item)
    with pytest.raises(BadRequest) as refused:
        await catalog_store.draft(AMR_PROVIDER, resource)
    assert "name" in str(refused.value)
    assert await catalog_store.entries(OPERATOR.consumer) == before


@pytest.mark.parametrize("provider", [None, 12345, ["11420000MB00000191"]])
async def test_a_department_without_the_provider_role_cannot_draft_whatever_provider_it_claims(
    store: Any, provider: Any
) -> None:
    catalog_store, _ = store
    await _imported(catalog_store)
    body = {**_resource_body(RESOURCE), "id": "new.thing", "code": "420000-AMR-999"}
    body.pop("provider")
    if provider is not None:
        body["provider"] = provider
    with pytest.raises(Forbidden):
        await catalog_store.draft(CONSUMER, body)
