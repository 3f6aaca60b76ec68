"""Fixtures shared by the gateway tests.

- ``served``: the demo (30 organizations, 10 persons) behind the real Starlette app, in
  process over ``httpx.ASGITransport``; yields ``(client, gateway, samples)``.
- ``platform``: a platform database on each backend (``platform_url``), grants emptied
  first (PostgreSQL is shared between tests).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.app import Gateway, create_app
from gateway.catalog_store import CatalogEntryRow, CatalogEventRow, CatalogMetaRow, CatalogStore
from gateway.demo import build_demo
from gateway.platform import GrantRow, PlatformDB
from gateway.settings import Settings
from resolvers import tracing


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Gateway, Any]]:
    samples = build_demo(tmp_path, organizations=30, persons=10)
    settings = Settings.load({}, data=str(tmp_path))
    gateway = await Gateway.start(settings)
    app = create_app(settings, gateway)
    app.state.gateway = gateway  # ASGITransport runs no lifespan
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        yield client, gateway, samples
    await gateway.close()


@pytest.fixture
async def platform(platform_url: str) -> AsyncIterator[PlatformDB]:
    db = PlatformDB(platform_url)
    await db.create_schema()
    async with db.engine.begin() as conn:  # PostgreSQL is shared between tests: start clean
        await conn.execute(sa.delete(GrantRow))
    yield db
    await db.close()


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """Spans kept in memory while the test runs (tests/gateway/test_tracing.py, test_metrics_attacks.py)."""
    memory = InMemorySpanExporter()
    provider = tracing.start(None, memory)
    yield memory
    tracing.stop(provider)


@pytest.fixture
async def store(platform_url: str) -> AsyncIterator[CatalogStore]:
    """An empty catalog store (test_catalog_fail_closed, test_catalog_follow); modules with
    their own ``store`` fixture (test_audit, test_catalog_store, ...) override this one."""
    platform = PlatformDB(platform_url)
    await platform.create_schema()
    async with platform.engine.begin() as conn:  # PostgreSQL is shared between tests
        for table in (CatalogEntryRow, CatalogEventRow, CatalogMetaRow):
            await conn.execute(sa.delete(table))
    yield CatalogStore(platform)
    await platform.close()
