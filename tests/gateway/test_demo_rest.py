"""gateway/demo_rest.py, the demo's REST department, answers a malformed request with a
400 naming what was wrong, never a 500 (over ASGI: the same app `govshare demo` serves)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.demo_rest import Table, rest_app

RECORDS = [{"uscc": "K1", "updated_at": "2026-01-01T08:00:00"}, {"uscc": "K2", "updated_at": None}]


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    app = rest_app({"t": Table.of("uscc", "updated_at", RECORDS)})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hpf") as client:
        yield client


@pytest.mark.parametrize(
    ("body", "named"),
    [(b"not json", "keys"), (b"[1, 2]", "keys"), (b'{"keys": "K1"}', "keys"), (b"[" * 100_000, "keys")],
)
async def test_a_malformed_lookup_is_a_400(api: httpx.AsyncClient, body: bytes, named: str) -> None:
    response = await api.post("/t/lookup", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and named in response.text


@pytest.mark.parametrize("query", ["since=yesterday", "limit=many", "since=2026-01-01T00:00:00Z"])
async def test_scan_arguments(api: httpx.AsyncClient, query: str) -> None:
    response = await api.get(f"/t/records?{query}")
    if query.endswith("Z"):  # an offset is China time's business, as a naive stamp: compared
        assert response.status_code == 200 and [r["uscc"] for r in response.json()["items"]] == ["K1"]
    else:
        assert response.status_code == 400
