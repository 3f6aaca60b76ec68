"""Publishing a catalog without a restart (issue 11 §2): ``Gateway.swap_catalog``.

What one request sees is one consistent snapshot: :class:`PinnedGateway` (an ASGI
middleware) hands every HTTP request and WebSocket connection ``Gateway.snapshot()``, a
shallow copy of the gateway whose ``catalog``, ``federation``, ``schema`` and
``connectors`` stay those of the moment it arrived; ``gateway.http.gateway_of`` returns it,
so /graphql, /compare, /export, /schema.graphql, subscriptions, stats and oversight all
read the same catalog for the whole request, and a request running when a swap lands
finishes on the schema it started with. Before the snapshot is taken the middleware catches
up with a catalog published by another process or host (``Gateway.follow_store``,
gateway.catalog_follow).

A swap (serialized by a lock):

1. refuses a catalog under another profile (the workflow's deadlines and terms are the
   profile's: that is a restart) with ``CatalogError``;
2. opens the connectors of departments that are new or whose connector settings changed
   (the others are reused), binds the resources that are new or changed (unchanged ones keep
   their ``ResourceSource``: row cache, breaker, flights); a changed one is cached under a
   name of its own definition (``resolvers.rowcache.defined``), so rows cached under the
   old definition, even by requests still running on the old catalog, are never read);
3. builds the new strawberry schema in a worker thread (30 to 100 ms for the demo catalog,
   ``python -m gateway.bench_swap``; the event loop keeps serving), with fresh parser, validation and plan
   caches (``resolvers.schema.build_schema`` makes them per schema, so nothing planned on the
   old catalog survives);
4. swaps gateway attributes in one synchronous step (no await in between: atomic for the
   event loop), points the long-lived services (workflow, statistics, oversight, change
   notices, objections, source health) at the new catalog and sources;
5. records ``catalog.swap`` in the audit trail before step 4 (digest of the catalog, what
   was added, changed, removed and the breaking-change analysis of
   ``policies.catalog_impact``; when it cannot be recorded nothing is swapped), and after it a
   ``catalog.notice`` event for each consumer department a breaking change touches (the
   consumer reads it in ``auditEvents``: its own events), and a ``catalog_change`` step in
   the history of each application touched (the workflow's own record of what it was told);
6. closes the connectors no longer used once the requests pinned to the old snapshots have
   finished (at most ``DRAIN_SECONDS``), in the background.

Reads follow a withdrawal at once: a new request is planned on the new catalog (a
now non-shared item is not in the schema: ``NOT_SHARED``); an export already streaming
re-decides on the live catalog at its next page (``gateway.export``'s recheck).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.base import Connector
from errors import CatalogError, CatalogOutOfDate
from gateway.audit import AuditEvent
from gateway.catalog_notices import applications_on_file, tell_consumers
from gateway.catalog_store import files_digest
from gateway.changes import Periodic
from gateway.heap import resettle_after
from policies.caching import row_ttl
from policies.catalog import Catalog, Resource, load_catalog
from policies.catalog_impact import ApplicationRef, Impact, impact
from resolvers.batching import ResourceSource
from resolvers.breaker import CircuitBreaker
from resolvers.rowcache import defined
from resolvers.schema import build_schema

if TYPE_CHECKING:
    from gateway.app import Gateway

log = logging.getLogger("govshare.catalog")
DRAIN_SECONDS = 600.0  # longest a retired connector stays open for requests still using it
DRAIN_POLL = 0.05  # seconds between looks at the requests still pinned


@dataclass(frozen=True)
class CatalogSwap:
    """What one swap did: the serving ``version`` it made (1 is the catalog loaded at start),
    the resources ``added``, ``changed`` and ``removed``, the breaking-change ``impact``, the
    consumers notified, and how long it took (``seconds``: validation to the swap itself;
    the build of the schema is ``build_seconds`` of it)."""

    version: int
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    impact: Impact
    notified: tuple[str, ...]
    seconds: float
    build_seconds: float

    def as_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "added": list(self.added),
            "changed": list(self.changed),
            "removed": list(self.removed),
            "impact": self.impact.as_json(),
            "notified": list(self.notified),
            "seconds": round(self.seconds, 4),
        }


@dataclass(eq=False)
class CatalogSwaps:
    """A gateway's serving version, the requests pinned to each version, and the swap lock."""

    version: int = 1
    pinned: Counter[int] = field(default_factory=Counter)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    retired: list[Connector] = field(default_factory=list)  # to close once their requests end
    stored: int | None = None  # the store's catalog generation served (None: not followed)
    store: Any = None  # the gateway.catalog_store.CatalogStore followed
    following: asyncio.Task[None] | None = None  # the catch-up under way (gateway.catalog_follow)
    behind: str | None = None  # why the last catch-up failed: data requests refused meanwhile
    retry_at: float = 0.0  # loop time before which a failed catch-up is not retried
    _closing: set[asyncio.Task[None]] = field(default_factory=set)

    async def drained(self) -> None:
        """Wait until the connectors retired by past swaps are closed."""
        if self._closing:
            await asyncio.wait(set(self._closing))

    async def close(self) -> None:
        """Stop waiting for the drain and close every retired connector now (shutdown)."""
        for task in list(self._closing):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await _close_all(self.retired)
        self.retired.clear()


class PinnedGateway:
    """ASGI middleware: each HTTP request and WebSocket connection gets the gateway's snapshot
    of the moment it arrives (``scope["state"]["gateway"]``); a request counts as pinned to
    that version until it has been answered (a streamed export: until its last byte)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        live = getattr(scope["app"].state, "gateway", None) if scope["type"] != "lifespan" else None
        if live is None:
            await self.app(scope, receive, send)
            return
        # a catalog published elsewhere is served before this request (a socket's later
        # subscriptions read the grants afresh: the read is handed to HTTP requests only)
        await live.follow_store(hand_over=scope["type"] == "http")
        if live.swaps.behind is not None and refused_behind(scope):
            await out_of_date(live.swaps.behind, scope, send)
            return
        scope.setdefault("state", {})["gateway"] = live.snapshot()
        if scope["type"] != "http":  # a socket serves subscriptions only: no source read
            await self.app(scope, receive, send)
            return
        version = live.swaps.version
        live.swaps.pinned[version] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            live.swaps.pinned[version] -= 1


DATA_PATHS = ("/graphql", "/schema.graphql", "/compare", "/export/")


def refused_behind(scope: Scope) -> bool:
    """A data request (GraphQL, its schema, compare, export, a subscription socket): refused
    while the catalog served is older than the store's; /healthz, /readyz, /metrics are not."""
    path = scope.get("path", "")
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in DATA_PATHS)


def out_of_date_error(reason: str) -> CatalogOutOfDate:
    """The refusal of a data request while this process is behind the store (``reason``)."""
    return CatalogOutOfDate(
        f"this gateway process cannot serve the published catalog ({reason}); requests are "
        "refused until it can: the operator must fix the published catalog (or its sources) "
        "and publish it again",
        reason=reason,
    )


async def out_of_date(reason: str, scope: Scope, send: Send) -> None:
    """Answer 503 CATALOG_OUT_OF_DATE (a socket: closed before accept, code 1013 try again)."""
    error = out_of_date_error(reason)
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1013, "reason": error.code})
        return
    body = {"errors": [{"message": error.message, "extensions": error.extensions}]}
    retry = {"Retry-After": str(int(FOLLOW_RETRY))}
    await JSONResponse(body, error.status, headers=retry)(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


FOLLOW_RETRY = 5.0  # seconds between catch-up attempts once one failed (shared by requests)


def snapshot_of(gateway: Gateway) -> Gateway:
    """A shallow copy: the same services, this moment's catalog, federation, schema and
    connectors (which a swap replaces on the live gateway, never in place)."""
    pinned = copy.copy(gateway)
    pinned.live = gateway
    return pinned


async def swap_catalog(gateway: Gateway, new: Catalog, *, notify: bool = True) -> CatalogSwap:
    """Serve ``new`` from the next request on; see the module docs. ``notify=False`` (a
    process following a publication made in another: ``CatalogFollower``) records
    ``catalog.swap`` in this process's audit trail but tells no consumer again. Raises
    ``CatalogError`` naming the resource or department whose source cannot be bound, or a
    profile change; on any error the gateway keeps serving the old catalog unchanged."""
    async with gateway.swaps.lock:
        return await _swap(gateway, new, notify=notify, reindex=True)


async def follow_catalog(gateway: Gateway, new: Catalog) -> CatalogSwap | None:
    """Serve ``new``, published by another process (gateway.catalog_follow): ``swap_catalog``
    with ``notify=False`` and no rebuild of the search index (the publisher rebuilt it), or
    None when the catalog served already has ``new``'s content (this process published it)."""
    async with gateway.swaps.lock:
        if catalog_digest(new) == catalog_digest(gateway.catalog):
            return None
        return await _swap(gateway, new, notify=False, reindex=False)


async def _swap(gateway: Gateway, new: Catalog, *, notify: bool, reindex: bool) -> CatalogSwap:
    """The swap itself, under ``gateway.swaps.lock`` (module docs)."""
    started = time.perf_counter()
    old = gateway.catalog
    _check_profile(old, new)
    reused, opened = await _connectors(gateway, new)
    try:
        sources, changed = _sources(gateway, new, reused, opened)
        built = time.perf_counter()
        schema = await asyncio.to_thread(build_schema, new, gateway.settings.limits)
        build_seconds = time.perf_counter() - built
        found = await impact_of(gateway, new)
        added = tuple(r for r in new.resources if r not in old.resources)
        removed = tuple(r for r in old.resources if r not in new.resources)
        notified = found.consumers if notify else ()
        swap = CatalogSwap(gateway.swaps.version + 1, added, tuple(changed), removed, found, notified,
                           time.perf_counter() - started, build_seconds)  # fmt: skip
        await _record(gateway, new, swap)  # before it takes effect: no change unrecorded
    except BaseException:
        await _close_all(opened.values())
        raise
    retired = [c for code, c in gateway.connectors.items() if reused.get(code) is not c]
    old_version, old_schema = gateway.swaps.version, gateway.schema
    _install(gateway, new, {**reused, **opened}, sources, schema)
    resettle_after(old_schema)  # frozen at start (gateway.heap): collectable once its requests end
    _close_later(gateway, old_version, retired)
    if reindex:
        await _reindex(gateway, new)
    if notify and found.breaking:
        await tell_consumers(gateway.platform, gateway.audit, swap.version, found)
    counts = (len(added), len(changed), len(removed), len(swap.notified))
    log.info("catalog version %d served (%.3f s): %d added, %d changed, %d removed, %d notified",
             swap.version, swap.seconds, *counts)  # fmt: skip
    return swap


def _check_profile(old: Catalog, new: Catalog) -> None:
    if new.profile != old.profile:
        raise CatalogError(
            ", ".join(new.files) or "(catalog)",
            "profile",
            f"the new catalog is under profile {new.profile!r}, the gateway serves {old.profile!r}",
            "keep the profile; changing it (vocabulary, deadlines) needs a restart",
        )


async def _connectors(gateway: Gateway, new: Catalog) -> tuple[dict[str, Connector], dict[str, Connector]]:
    """(reused, opened): a department keeps its connector while its settings are unchanged.
    Raises ``CatalogError`` for settings that do not open (those opened are closed)."""
    from gateway.app import open_connectors  # gateway.app imports this module

    old = gateway.catalog.departments
    reused: dict[str, Connector] = {}
    opened: dict[str, Connector] = {}
    try:
        for code, department in new.departments.items():
            kept = old.get(code)
            if code in gateway.connectors and kept is not None and kept.connector == department.connector:
                reused[code] = gateway.connectors[code]
            elif department.connector is not None:
                alone = dataclasses.replace(new, departments={code: department})
                opened.update(open_connectors(alone, gateway.settings.data_dir))
    except BaseException:
        await _close_all(opened.values())
        raise
    return reused, opened


def _sources(
    gateway: Gateway, new: Catalog, reused: Mapping[str, Connector], opened: Mapping[str, Connector]
) -> tuple[dict[str, ResourceSource], list[str]]:
    """Every resource's source: the old one where the resource and its connector are
    unchanged, else newly bound (with the row cache, its department's breaker, a TTL), and
    the ids of the resources that changed (their cached rows retired)."""
    from gateway.app import _bind  # gateway.app imports this module

    old, current = gateway.catalog, gateway.federation.sources
    connectors = {**reused, **opened}
    sources, changed = {}, []
    for rid, resource in new.resources.items():
        if rid in current and old.resources.get(rid) == resource and resource.provider in reused:
            sources[rid] = current[rid]
            continue
        if resource.provider not in connectors:
            raise CatalogError(", ".join(new.files) or "(catalog)", f"resources[{rid}].provider",
                               f"its department {resource.provider} has no connector",
                               "give the department a `connector:`")  # fmt: skip
        sources[rid] = _bind(new, resource, connectors[resource.provider])
        _guard(gateway, sources[rid], resource)
        if rid in old.resources:
            changed.append(rid)
    return sources, changed


def _guard(gateway: Gateway, source: ResourceSource, resource: Resource) -> None:
    """What ``SourceHealth.start`` gives each source: the row cache, its department's breaker."""
    health = gateway.health
    if health is None:
        return
    provider, rid = resource.provider, resource.id
    if provider not in health.breakers:
        health.breakers[provider] = CircuitBreaker(provider, gateway.settings.breaker, department=provider)
    digest = hashlib.sha256(repr(resource).encode()).hexdigest()[:16]
    source.resource, source.cache, source.ttl = defined(rid, digest), health.cache, row_ttl(resource)
    source.breaker = health.breakers[provider]
    source.department = provider  # metrics and traces label its calls (resolvers.metrics)


async def _reindex(gateway: Gateway, new: Catalog) -> None:
    """The search index follows the swap (gateway.catalog_search). The swap has taken effect
    already: a failure is logged, not raised; until the next rebuild ``catalog`` leaves out
    what the served catalog no longer has, and does not find what it added."""
    search = gateway.federation.catalog_search
    if search is None:
        return
    try:
        await search.index(new)
    except Exception:
        log.exception("catalog search index not rebuilt after the swap; it follows the next one")


def _install(
    gateway: Gateway,
    new: Catalog,
    connectors: dict[str, Connector],
    sources: dict[str, ResourceSource],
    schema: Any,
) -> None:
    """The swap itself: synchronous, so no request sees half of it."""
    federation = dataclasses.replace(gateway.federation, catalog=new, sources=sources)
    gateway.catalog, gateway.federation, gateway.schema = new, federation, schema
    gateway.connectors = connectors
    gateway.swaps.version += 1
    gateway._states = None  # /readyz checks the new sources
    _repoint(gateway, new, federation)


def _repoint(gateway: Gateway, new: Catalog, federation: Any) -> None:
    """Long-lived services read the live catalog from now on (their next call)."""
    sources = federation.sources
    for service in (federation.workflow, federation.objections, federation.changes):
        if service is not None:
            service.catalog = new
    for service in (federation.stats, federation.oversight, gateway.health):
        if service is not None:
            service.catalog, service.sources = new, sources
    if federation.oversight is not None:
        federation.oversight._kept = None  # verdicts of the old catalog are not reused
    if federation.changes is not None:
        federation.changes.invalidate = federation.invalidate_rows
    for task in gateway.notices.tasks if gateway.notices is not None else ():
        if hasattr(task, "sources"):
            task.sources = sources


async def impact_of(gateway: Gateway, new: Catalog) -> Impact:
    """What publishing ``new`` would break, against the catalog served now and every grant
    and application on file (``policies.catalog_impact.impact``): for the operator's review
    before publication. Reads the platform database; changes nothing."""
    return impact(gateway.catalog, new, await gateway.platform.all_grants(), await _applications(gateway))


async def _applications(gateway: Gateway) -> list[ApplicationRef]:
    return await applications_on_file(gateway.platform)


def catalog_digest(catalog: Catalog) -> str:
    """SHA-256 over the catalog's content (its dataclasses' repr, in catalog order): a
    catalog stored in the platform database has no files to hash."""
    text = repr((catalog.profile, sorted(catalog.departments.items()), sorted(catalog.resources.items())))
    return hashlib.sha256(text.encode()).hexdigest()


async def _record(gateway: Gateway, new: Catalog, swap: CatalogSwap) -> None:
    """``catalog.swap`` (admin): raises ``AuditUnavailable``, and then nothing is swapped."""
    if gateway.audit is None:
        return
    detail = {**swap.as_json(), "profile": new.profile, "digest": catalog_digest(new)}
    await gateway.audit.append(AuditEvent(kind="admin", outcome="catalog.swap",
                                          resources=tuple(new.resources), detail=detail))  # fmt: skip


def _close_later(gateway: Gateway, version: int, retired: list[Connector]) -> None:
    """Close ``retired`` once no request pinned to ``version`` or before is running."""
    if not retired:
        return
    swaps = gateway.swaps
    swaps.retired.extend(retired)

    async def close() -> None:
        deadline = time.monotonic() + DRAIN_SECONDS
        while any(n for v, n in swaps.pinned.items() if v <= version) and time.monotonic() < deadline:
            await asyncio.sleep(DRAIN_POLL)
        for connector in retired:
            swaps.retired.remove(connector)
        await _close_all(retired)

    task = asyncio.create_task(close())
    swaps._closing.add(task)
    task.add_done_callback(swaps._closing.discard)


async def _close_all(connectors: Any) -> None:
    for connector in connectors:
        try:
            await connector.close()
        except Exception:  # one failing close must not keep the others open
            log.exception("closing a retired connector failed")


class CatalogFollower(Periodic):
    """Serves the published catalog whenever it moves, in every process: each ``interval``
    seconds ``version()`` (cheap: a stamp or digest of what is published) is read, and when
    it differs from the one served, ``load()`` gives the catalog to swap in. A gateway running
    several worker processes publishes in one of them; the others follow this way. A catalog
    that cannot be served is logged once per version (the old one stays) and not retried."""

    name = "govshare-catalog-follower"
    failure = "catalog follower could not read the published catalog: %s"

    def __init__(
        self,
        gateway: Gateway,
        version: Callable[[], Awaitable[str]],
        load: Callable[[], Awaitable[Catalog]],
        interval: float = 2.0,
        served: str | None = None,
        notify: bool = False,
    ) -> None:
        super().__init__(interval)
        self.gateway, self.version, self.load, self.served = gateway, version, load, served
        self.notify = notify  # False: the publishing process told the consumers already

    async def round(self) -> None:
        version = await self.version()
        if version == self.served:
            return
        self.served = version  # a refused version is not retried: it is logged once
        try:
            await self.gateway.swap_catalog(await self.load(), notify=self.notify)
        except CatalogError as exc:
            log.error("published catalog %s not served: %s", version[:16], exc.message)


def file_follower(gateway: Gateway, interval: float = 2.0, notify: bool = True) -> CatalogFollower:
    """A follower of the catalog file or folder the settings name (``GOVSHARE_CATALOG``): an
    edited file is served without a restart once it loads and binds. Nobody published it
    through the gateway, so this follower tells the consumers touched (``notify``): run it
    in one process only, or give the others ``notify=False``."""
    path = gateway.settings.catalog

    async def version() -> str:
        return await asyncio.to_thread(files_digest, path) or (follower.served or "")

    async def load() -> Catalog:
        return await asyncio.to_thread(load_catalog, path)

    follower = CatalogFollower(gateway, version, load, interval, files_digest(path), notify)
    return follower
