"""Attacks on the catalog register over GraphQL (break-it review of issue 11): a change whose
source the provider's connector cannot bind is refused before anything is stored, so a
publication never leaves a stored catalog the gateway cannot serve (now or at restart)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.gateway.test_catalog_graphql import (
    AMR,
    DRAFT,
    OPERATOR,
    PUBLISH,
    RESOURCE,
    REVIEW,
    SUBMIT,
    _code,
    _header,
    _post,
    served,  # noqa: F401  (the module's gateway)
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


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
