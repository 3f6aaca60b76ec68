"""The running gateway: catalog + sources + schema + platform database, behind Starlette."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route, WebSocketRoute

from connectors.base import Binding, Connector, open_connector
from errors import CatalogError, ConfigurationError, GovshareError
from gateway import export, graphiql, http, oauth
from gateway.audit import AuditEvent, AuditLog, load_secret
from gateway.auth import Authenticator, Signer, load_signer
from gateway.catalog_follow import follow_store
from gateway.catalog_search import CatalogSearch
from gateway.catalog_store import CatalogStore
from gateway.catalog_swap import (
    CatalogSwap,
    CatalogSwaps,
    PinnedGateway,
    out_of_date_error,
    snapshot_of,
    swap_catalog,
)
from gateway.compare import AuditCompareRecorder, compare_endpoint
from gateway.compare_rate import CompareRateLimiter
from gateway.forwarding import ForwardingVerifier, assertion_signer
from gateway.grant_cache import CachedGrants
from gateway.heap import settle_heap, thaw_heap
from gateway.logs import RequestLog
from gateway.metrics_endpoint import RequestMetrics, metrics_endpoint, serving_listener
from gateway.notices import NoticeTasks, start_notices
from gateway.onboarding import OnboardingStore
from gateway.oversight import Oversight
from gateway.platform import PlatformDB
from gateway.settings import Settings
from gateway.sockets import SocketEndpoint
from gateway.sourcehealth import SourceHealth
from gateway.stats import Statistics
from gateway.workflow import Workflow
from policies.catalog import Catalog, Resource, load_catalog
from policies.profile import load_profile
from policies.share import Share
from policies.workdays import WorkdayCalendar, load_operator_calendar
from resolvers import metrics, tracing
from resolvers.batching import ResourceSource
from resolvers.compare import Comparer
from resolvers.context import Federation
from resolvers.schema import GovshareSchema, build_schema

log = logging.getLogger("govshare")


@dataclass(eq=False)
class Gateway:
    settings: Settings
    catalog: Catalog
    signer: Signer
    platform: PlatformDB
    connectors: dict[str, Connector]
    federation: Federation
    schema: GovshareSchema
    authenticator: Authenticator
    audit: AuditLog | None = None
    forwarding: ForwardingVerifier | None = None  # downstream gateways trusted to forward identity
    health: SourceHealth | None = None  # row cache, circuit breakers, freshness watch
    notices: NoticeTasks | None = None  # change relay and poller (gateway.notices)
    swaps: CatalogSwaps = field(default_factory=CatalogSwaps, repr=False)  # gateway.catalog_swap
    live: Gateway | None = field(default=None, repr=False)  # a snapshot's live gateway (None: live)
    tracer_provider: Any = None  # OpenTelemetry, while GOVSHARE_OTEL_ENDPOINT is set (resolvers.tracing)
    # live subscriptions per consumer department in this process (gateway.sockets), shared by snapshots
    subscriptions: Counter[str] = field(default_factory=Counter, repr=False)
    _states: tuple[float, list[SourceState]] | None = field(default=None, repr=False)
    _states_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @classmethod
    async def start(cls, settings: Settings) -> Gateway:
        metrics.switch(settings.metrics)
        platform = await open_platform(settings)  # first: a refused schema leaves nothing open
        store = CatalogStore(platform, workday_calendar(settings), on_publish=published_at_restart)
        stored = (await platform.generations()).catalog  # before the load: one published later is followed
        catalog = await stored_catalog(settings, store)  # the YAML imported on first start
        connectors = open_connectors(catalog, settings.data_dir)
        workflow = Workflow(platform, catalog, load_profile(catalog.profile), workday_calendar(settings))
        federation = Federation(catalog, bind_sources(catalog, connectors), CachedGrants(platform), workflow)
        oversight = Oversight(catalog, federation.sources, workflow.profile, workflow.calendar)
        federation.oversight = oversight  # late resources: /readyz, stats, lateResources
        federation.onboarding = OnboardingStore(platform)  # Sanya art. 12 (gateway.onboarding)
        federation.catalog_store = store  # drafts, review, publication (gateway.catalog_store)
        federation.catalog_search = await start_catalog_search(platform, catalog)  # issue 11 section 3
        schema = build_schema(catalog, settings.limits)
        signer = load_signer(settings.data_dir, settings.token_leeway)
        authenticator = Authenticator.create(signer, settings.trusted_issuers)
        audit = await start_audit(settings, catalog, await store.fingerprint())
        workflow.audit = federation.audit = store.audit = audit
        federation.stats = Statistics(catalog, federation.sources, audit, workflow, oversight=oversight)
        federation.comparer = Comparer(
            CompareRateLimiter(settings.compare, platform.engine),
            AuditCompareRecorder(audit) if audit else None,
        )
        federation.assertion_signer = assertion_signer(signer)  # for graphql (upstream) connectors
        health = await SourceHealth.start(settings, catalog, federation.sources)
        notices = start_notices(settings, federation, platform, workflow, audit)
        gateway = cls(
            settings,
            catalog,
            signer,
            platform,
            connectors,
            federation,
            schema,
            authenticator,
            audit,
            health=health,
            notices=notices,
        )
        gateway.tracer_provider = tracing.start(settings.otel_endpoint)
        gateway.forwarding = ForwardingVerifier.create(
            settings.gateway_name, settings.trusted_gateways, signer.leeway
        )
        store.on_publish = swap_on_publish(gateway)  # a publication is served without a restart
        gateway.swaps.store, gateway.swaps.stored = store, stored or 0  # and one made elsewhere: follow_store
        store.check_source = source_check(gateway)  # never store a source it cannot bind
        for state in await gateway.source_states():
            if not state.ok:  # served anyway (the rest of the catalog works); /readyz says so too
                log.error("source of %s (provider %s) is %s: %s", state.resource, state.provider,
                          state.state, state.detail)  # fmt: skip
        return gateway

    def snapshot(self) -> Gateway:
        """This gateway as it is now, for one request: its catalog, federation, schema and
        connectors stay these while a swap replaces the live ones (gateway.catalog_swap)."""
        return snapshot_of(self.live or self)

    async def follow_store(self, *, hand_over: bool = True) -> None:
        """Serve a catalog published by another process or host before answering the current
        request (gateway.catalog_follow; one shared read per event-loop tick, handed to the
        request's first grant lookup when ``hand_over``)."""
        await follow_store(self.live or self, hand_over=hand_over)

    async def keep_current(self) -> None:
        """For an answer that outlives its request's start (a streaming export before each
        page, a subscription before each notice): serve a catalog published elsewhere first
        (``follow_store``), and raise ``CatalogOutOfDate`` while this process cannot, as its
        new data requests are refused meanwhile (gateway.catalog_follow: fail closed)."""
        live = self.live or self
        await live.follow_store(hand_over=False)
        if live.swaps.behind is not None:
            raise out_of_date_error(live.swaps.behind)

    async def swap_catalog(self, new: Catalog, *, notify: bool = True) -> CatalogSwap:
        """Serve ``new`` from the next request on, without a restart; requests running finish
        on the catalog they started with (gateway.catalog_swap). Raises ``CatalogError``."""
        swap = await swap_catalog(self.live or self, new, notify=notify)
        metrics.forget_withdrawn({rid: r.provider for rid, r in new.resources.items()})  # stale gauges
        return swap

    async def source_states(self) -> list[SourceState]:
        """Each resource's source checked (``Connector.check``), at most every
        ``SOURCE_STATE_TTL`` seconds: /readyz may be polled often."""
        if self.live is not None:  # a request's snapshot: the states are kept on the live gateway
            return await self.live.source_states()
        async with self._states_lock:
            now = time.monotonic()
            if self._states is None or now - self._states[0] >= SOURCE_STATE_TTL:
                sources = self.federation.sources
                down = {rid for rid, s in sources.items() if s.breaker and s.breaker.state == "open"}
                bound = {rid: (s.connector, s.binding) for rid, s in sources.items() if rid not in down}
                found = {s.resource: s for s in await check_sources(self.catalog, bound)}
                found.update((rid, _circuit_open(self.catalog, rid)) for rid in down)  # not asked again
                self._states = (now, [found[rid] for rid in sources])
            return self._states[1]

    async def close(self) -> None:
        await self.swaps.close()  # retired connectors not yet closed are closed below with the rest
        if self.notices is not None:
            await self.notices.stop()
        if self.federation.oversight is not None:  # its renewal asks the sources closed below
            await self.federation.oversight.close()
        if self.audit is not None:  # first: pending events are written before anything closes
            await self.audit.close()
        await self.authenticator.close()
        if self.forwarding is not None:
            await self.forwarding.close()
        if self.health is not None:
            await self.health.close()
        for connector in self.connectors.values():
            await connector.close()
        await self.platform.close()
        if self.tracer_provider is not None:  # the spans still queued are exported (blocking I/O)
            await asyncio.to_thread(tracing.stop, self.tracer_provider)


async def open_platform(settings: Settings) -> PlatformDB:
    """The platform database at this version's schema revision (``PlatformDB.create_schema``:
    upgraded, or errors.SchemaError naming ``govshare db upgrade``; closed again then)."""
    platform = PlatformDB(settings.database_url)
    try:
        await platform.create_schema(auto_upgrade=settings.db_auto_upgrade)
    except BaseException:
        await platform.close()
        raise
    return platform


async def stored_catalog(settings: Settings, store: CatalogStore) -> Catalog:
    """The catalog the platform database holds; on a database without one, the settings'
    YAML file imported as its published version (``CatalogStore.ensure``: how a changed file
    is treated later)."""
    if not settings.catalog.exists() and not await store.has_catalog():
        settings_catalog(settings)  # raises, naming --catalog / GOVSHARE_CATALOG
    return await store.ensure(settings.catalog)


async def served_catalog(settings: Settings) -> Catalog:
    """``stored_catalog`` for a command that starts no gateway (``serve``'s checks, ``grant add``)."""
    platform = await open_platform(settings)
    try:
        return await stored_catalog(settings, CatalogStore(platform))
    finally:
        await platform.close()


def swap_on_publish(gateway: Gateway) -> Callable[[Catalog], Awaitable[None]]:
    """The catalog store's ``on_publish``: the published catalog swapped in (``swap_catalog``;
    CatalogError when it cannot be served: the store has committed, so this process's next
    request catches up or is refused CATALOG_OUT_OF_DATE, gateway.catalog_follow)."""

    async def swap(catalog: Catalog) -> None:
        await gateway.swap_catalog(catalog)

    return swap


def source_check(gateway: Gateway) -> Callable[[Catalog, str], Awaitable[None]]:
    """The catalog store's ``check_source``: the resource's source bound (``_bind``, no I/O) by
    its provider's live connector, as the swap will; CatalogError naming the source otherwise."""

    async def check(catalog: Catalog, rid: str) -> None:
        resource = catalog.resources[rid]
        connector = (gateway.live or gateway).connectors.get(resource.provider)
        if connector is None:
            raise _no_connector(catalog, rid)
        _bind(catalog, resource, connector)

    return check


def standalone_source_check(data_dir: Path) -> Callable[[Catalog, str], Awaitable[None]]:
    """``source_check`` for a command that runs no gateway (``govshare catalog draft|publish``):
    the provider's connector opened from the catalog's settings, the source bound, closed."""

    async def check(catalog: Catalog, rid: str) -> None:
        resource = catalog.resources[rid]
        department = catalog.departments[resource.provider]
        alone = dataclasses.replace(catalog, departments={resource.provider: department})
        connectors = open_connectors(alone, data_dir)
        try:
            if resource.provider not in connectors:
                raise _no_connector(catalog, rid)
            _bind(catalog, resource, connectors[resource.provider])
        finally:
            for connector in connectors.values():
                await connector.close()

    return check


def _no_connector(catalog: Catalog, rid: str) -> CatalogError:
    provider = catalog.resources[rid].provider
    problem = f"its department {provider} has no connector"
    fix = "ask the operator to give the department a `connector:`"
    return CatalogError(_file(catalog), f"resources[{rid}].provider", problem, fix)


async def published_at_restart(catalog: Catalog) -> None:
    """``on_publish`` until the gateway swaps its schema in place: the new version is stored
    and served from the next start."""
    log.warning("catalog published (%d resources): served from the next start", len(catalog.resources))


async def start_catalog_search(platform: PlatformDB, catalog: Catalog) -> CatalogSearch:
    """The published catalog's search index, rebuilt from ``catalog``; a new publication
    calls ``CatalogSearch.index`` again (gateway.catalog_search)."""
    search = CatalogSearch(platform.engine)  # its tables: migration 0005_catalog_search
    await search.index(catalog)
    return search


def settings_catalog(settings: Settings) -> Catalog:
    """The catalog the settings name; a missing one says where it was looked for and how to
    name the right one (every command and the server read the same default)."""
    if not settings.catalog.exists():
        raise ConfigurationError(
            f"no catalog at {settings.catalog}: pass --catalog PATH or set GOVSHARE_CATALOG (the "
            "catalog the gateway serves; every command reads the same default), or build the demo "
            "departments and their catalog with `govshare demo`"
        )
    return load_catalog(settings.catalog)


async def start_audit(
    settings: Settings, catalog: Catalog, stored: Mapping[str, Any] | None = None
) -> AuditLog | None:
    """The audit log, with the catalog this process serves recorded first (a catalog change
    is an administrative act: the digest of its files tells which rules were in force;
    ``stored``: ``CatalogStore.fingerprint``, for a catalog served from the platform database)."""
    if not settings.audit:
        log.warning("GOVSHARE_AUDIT=off: answers are NOT audited; for benchmarks only")
        return None
    owners = {rid: resource.provider for rid, resource in catalog.resources.items()}  # usage aggregates
    secret = load_secret(settings.data_dir)
    audit = AuditLog(settings.database_url, instance=settings.instance, secret=secret, owners=owners)
    await audit.start()
    detail = {**catalog_fingerprint(catalog), **(stored or {})}
    await audit.append(AuditEvent(kind="admin", outcome="catalog.load", detail=detail))
    return audit


SOURCE_STATE_TTL = 5.0  # seconds a source check is reused by /readyz
SOURCE_CHECK_TIMEOUT = 5.0  # seconds one source check may take, whatever the connector's own timeout


@dataclass(frozen=True)
class SourceState:
    """One resource's source: ``ok``, ``misconfigured`` (its table or a column is missing: a
    catalog or source error to fix) or ``unavailable`` (the source did not answer)."""

    resource: str
    provider: str
    state: str
    detail: str

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    def as_json(self) -> dict[str, str]:
        return {
            "resource": self.resource,
            "provider": self.provider,
            "state": self.state,
            "detail": self.detail,
        }


def _circuit_open(catalog: Catalog, rid: str) -> SourceState:
    detail = "circuit open: the source failed repeatedly; calls fail fast until a probe succeeds"
    return SourceState(rid, catalog.resources[rid].provider, "unavailable", detail)


async def check_sources(
    catalog: Catalog, bound: Mapping[str, tuple[Connector, Binding]]
) -> list[SourceState]:
    """Every bound resource's source checked at once, in catalog order."""
    checks = [_check_source(catalog, rid, *pair) for rid, pair in bound.items()]
    return list(await asyncio.gather(*checks))


async def _check_source(catalog: Catalog, rid: str, connector: Connector, binding: Binding) -> SourceState:
    provider = catalog.resources[rid].provider
    try:
        async with asyncio.timeout(SOURCE_CHECK_TIMEOUT):
            found = await connector.check(binding)
    except TimeoutError:
        return SourceState(rid, provider, "unavailable", f"no answer within {SOURCE_CHECK_TIMEOUT:g} s")
    except GovshareError as exc:
        return SourceState(rid, provider, "unavailable", exc.message)
    return SourceState(rid, provider, "ok" if found.ok else "misconfigured", found.describe())


async def check_connectors(catalog: Catalog, data_dir: Path) -> None:
    """Open (and close) each department's connector and bind its resources: a configuration
    error (a missing SQLite file, an unknown kind, a bad source) is a ``CatalogError`` before
    anything is served."""
    connectors = open_connectors(catalog, data_dir)
    try:
        bind_sources(catalog, connectors)
    finally:
        for connector in connectors.values():
            await connector.close()


async def probe_catalog_sources(catalog: Catalog, data_dir: Path) -> list[SourceState]:
    """Open each department's connector, bind each resource and check its source; close all
    (``govshare catalog check --sources``)."""
    connectors = open_connectors(catalog, data_dir)
    try:
        bound = {rid: (s.connector, s.binding) for rid, s in bind_sources(catalog, connectors).items()}
        return await check_sources(catalog, bound)
    finally:
        for connector in connectors.values():
            await connector.close()


def catalog_fingerprint(catalog: Catalog) -> dict[str, Any]:
    files = {name: hashlib.sha256(Path(name).read_bytes()).hexdigest() for name in catalog.files}
    return {"profile": catalog.profile, "files": files, "resources": sorted(catalog.resources)}


def workday_calendar(settings: Settings) -> WorkdayCalendar:
    operator = load_operator_calendar(settings.calendar) if settings.calendar else None
    return WorkdayCalendar(operator)


def open_connectors(catalog: Catalog, data_dir: Path) -> dict[str, Connector]:
    connectors = {}
    for code, department in catalog.departments.items():
        if department.connector is None:
            continue
        try:
            connectors[code] = open_connector(department.connector, data_dir)
        except ConfigurationError as exc:
            raise CatalogError(
                _file(catalog), f"departments[{code}].connector", exc.message, "fix the settings"
            ) from exc
    return connectors


def bind_sources(catalog: Catalog, connectors: dict[str, Connector]) -> dict[str, ResourceSource]:
    return {rid: _bind(catalog, r, connectors[r.provider]) for rid, r in catalog.resources.items()}


def _bind(catalog: Catalog, resource: Resource, connector: Connector) -> ResourceSource:
    """Only shared items are bound: a non-shared column cannot even be named in a query."""
    items = [item.name for item in resource.shared_items]
    try:
        return ResourceSource(connector, connector.bind(_shared_source(resource), items, resource.key))
    except ConfigurationError as exc:
        raise CatalogError(
            _file(catalog), f"resources[{resource.id}].source", exc.message, "fix the source"
        ) from exc


def _shared_source(resource: Resource) -> Mapping[str, Any]:
    """The source binding without the column mappings of non-shared items: an item withdrawn
    (made non-shared) keeps its mapping in the catalog, but its column is never bound."""
    columns = resource.source.get("columns")
    withheld = {item.name for item in resource.items if item.share is Share.NOT_SHARED}
    if not isinstance(columns, Mapping) or not withheld & set(columns):
        return resource.source
    return {**resource.source, "columns": {k: v for k, v in columns.items() if k not in withheld}}


def _file(catalog: Catalog) -> str:
    return ", ".join(catalog.files) or "(catalog)"


def create_app(settings: Settings, gateway: Gateway | None = None) -> Starlette:
    """The ASGI app; it starts its own Gateway unless one is given (tests share one)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.gateway = gateway or await Gateway.start(settings)
        if gateway is None:  # a worker of ``serve --workers N``: freeze its start-up state
            settle_heap()
        try:
            if gateway is None:  # a worker's app (gateway.workers): GOVSHARE_METRICS_LISTEN of slot 0
                async with serving_listener(settings, app.state.gateway.platform):
                    yield
            else:  # its caller serves the listener (gateway.cli)
                yield
        finally:
            if gateway is None:
                await app.state.gateway.close()
                thaw_heap()

    routes = [
        Route("/graphql", http.graphql_endpoint, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", SocketEndpoint()),  # subscriptions (graphql-transport-ws)
        Route("/schema.graphql", http.schema_sdl, methods=["GET"]),
        Route("/export/{resource}", export.export_endpoint, methods=["GET"]),
        Route("/compare", compare_endpoint, methods=["POST"]),
        Route("/.well-known/jwks.json", http.jwks, methods=["GET"]),
        Route("/.well-known/voucher-keys.json", http.voucher_jwks, methods=["GET"]),
        Route("/oauth/token", oauth.token_endpoint, methods=["POST"]),
        Route("/healthz", http.healthz, methods=["GET"]),
        Route("/readyz", http.readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),  # operators (gateway.metrics_endpoint)
        Mount(graphiql.STATIC_PATH, graphiql.static_files(), name=graphiql.STATIC_NAME),
    ]
    middleware = [Middleware(RequestLog), Middleware(PinnedGateway)]  # one catalog snapshot a request
    if settings.metrics or settings.otel_endpoint:  # counts and spans per request
        middleware.append(Middleware(RequestMetrics))
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
