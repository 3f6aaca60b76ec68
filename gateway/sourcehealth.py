"""The guards around a running gateway's sources, and what ``/readyz`` says of them.

- the row cache (``resolvers.rowcache``; ``GOVSHARE_CACHE_URL``), given to every resource's
  ``ResourceSource`` with the TTL of ``policies.caching.row_ttl``;
- one circuit breaker per providing department (``resolvers.breaker``;
  ``GOVSHARE_BREAKER_*``), shared by the department's resources (they share its source);
- a freshness watch: every ``GOVSHARE_FRESHNESS_SECONDS`` each source's last change
  (``Connector.freshness``) is read; a change moves the resource's cache generation (its
  cached rows are no longer read) and the stamp is /readyz's freshness against the update
  cycle (``gateway.stats.timeliness``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from gateway.platform import PlatformDB
from gateway.settings import Settings
from gateway.stats import timeliness
from policies.caching import row_ttl
from policies.catalog import Catalog
from resolvers import metrics
from resolvers.batching import ResourceSource
from resolvers.breaker import CircuitBreaker
from resolvers.rowcache import RowCache, open_backend

log = logging.getLogger("govshare.sources")

FRESHNESS_TIMEOUT = 5.0  # seconds one freshness read may take
PLATFORM_TIMEOUT = 2.0  # seconds /readyz waits for the platform database


@dataclass(eq=False)
class SourceHealth:
    """The row cache, the breakers (by department) and the last freshness seen (by resource)."""

    catalog: Catalog
    sources: Mapping[str, ResourceSource]
    cache: RowCache | None
    breakers: dict[str, CircuitBreaker]
    freshness: dict[str, dt.datetime | None] = field(default_factory=dict)
    _watch: asyncio.Task[None] | None = None

    @classmethod
    async def start(
        cls, settings: Settings, catalog: Catalog, sources: Mapping[str, ResourceSource]
    ) -> SourceHealth:
        """Attach cache and breakers to ``sources``, read their freshness once (so that every
        process sharing a Redis starts on the same cache generations) and keep watching it."""
        backend = open_backend(settings.cache_url, settings.row_cache_bytes)
        cache = None if backend is None else RowCache(backend, settings.cache_url.split("://", 1)[0])
        providers = {resource.provider for resource in catalog.resources.values()}
        breakers = {
            code: CircuitBreaker(code, settings.breaker, department=code) for code in sorted(providers)
        }
        for rid, source in sources.items():
            resource = catalog.resources[rid]
            source.resource, source.cache, source.ttl = rid, cache, row_ttl(resource)
            source.breaker = breakers[resource.provider]
            source.department = resource.provider
        health = cls(catalog, sources, cache, breakers)
        await health.watch_once()
        health._watch = asyncio.create_task(health._watching(settings.freshness_seconds))
        return health

    async def _watching(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            await self.watch_once()

    async def watch_once(self) -> list[str]:
        """Read every source's freshness once; the resources whose source changed."""
        rids = list(self.sources)
        stamps = await asyncio.gather(*(self._stamp(rid) for rid in rids))
        changed = []
        for rid, (ok, stamp) in zip(rids, stamps, strict=True):
            if not ok:  # unknown: keep the generation and the stamp last seen
                continue
            self.freshness[rid] = stamp
            self._measured(rid, stamp)
            if self.cache is not None and self.cache.observe(rid, stamp):
                changed.append(rid)
        return changed

    def _measured(self, rid: str, stamp: dt.datetime | None) -> None:
        """The stamp read, and whether it is on time, to resolvers.metrics."""
        resource = self.catalog.resources[rid]
        on_time = timeliness(resource, stamp, dt.datetime.now(dt.UTC)).on_time
        metrics.freshness(resource.provider, rid, None if stamp is None else stamp.timestamp(), on_time)

    async def _stamp(self, rid: str) -> tuple[bool, dt.datetime | None]:
        source = self.sources[rid]
        try:
            async with asyncio.timeout(FRESHNESS_TIMEOUT):
                return True, await source.connector.freshness(source.binding)
        except Exception as exc:  # a source that cannot say: unknown, the watch goes on
            log.warning("freshness of %s unknown: %s", rid, type(exc).__name__)
            return False, None

    def resource_state(self, rid: str, now: dt.datetime) -> dict[str, Any]:
        """/readyz's view of one resource: its circuit, freshness against its update cycle,
        and its cache TTL (seconds; null: not cached)."""
        resource, source = self.catalog.resources[rid], self.sources[rid]
        fresh = timeliness(resource, self.freshness.get(rid), now)
        breaker = self.breakers[resource.provider]
        return {
            "circuit": breaker.state,
            "lastUpdate": None if fresh.last_update is None else fresh.last_update.isoformat(),
            "dueBy": None if fresh.due_by is None else fresh.due_by.isoformat(),
            "onTime": fresh.on_time,
            "cacheTtl": source.ttl if self.cache is not None else None,
        }

    async def cache_state(self) -> dict[str, Any]:
        if self.cache is None:
            return {"backend": "off", "state": "ok"}
        return await self.cache.state()

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self.cache is not None:
            await self.cache.close()


async def platform_state(platform: PlatformDB) -> dict[str, str]:
    """Whether the platform database (grants, applications, audit) answers ``SELECT 1``."""
    try:
        async with asyncio.timeout(PLATFORM_TIMEOUT):
            async with platform.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        return {"state": "unavailable", "detail": type(exc).__name__}
    return {"state": "ok"}
