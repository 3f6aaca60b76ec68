"""``GET /metrics`` (Prometheus text format 0.0.4, prometheus-client) for operators, the
request middleware that counts and times every HTTP request, and the optional listener
without authentication (``GOVSHARE_METRICS_LISTEN``) for a scraper on a private network.

Who may read: on the gateway's own port an operator only (bearer token with role
``operator``; no token 401, another role 403), since request counts per outcome and source
states are operational facts of every department. On ``GOVSHARE_METRICS_LISTEN`` (e.g.
``127.0.0.1:9464``) anyone who reaches the address: bind it to loopback or a private
network the scraper shares, never a public one.

What is exposed: the families of :mod:`resolvers.metrics` (requests, latency, source calls,
circuits, freshness, row cache, audit queue and commits) and, collected at scrape time from
the platform database at most every ``PLATFORM_TTL`` seconds, grants and applications by
state (:class:`PlatformStates`): two ``GROUP BY`` counts, whichever worker is scraped.

With ``PROMETHEUS_MULTIPROC_DIR`` set the values of every worker are read from its files
(``prometheus_client.multiprocess.MultiProcessCollector``), so any worker, or the
supervisor's listener, answers for all (README "Metrics and tracing").

The outcome of a request: ``OK`` below status 400 unless the handler noted an error code
(:func:`note_answer`: a GraphQL answer with errors); at 400 and above the first error code
of the (small, our own) error body, read here so that no handler needs a hook. Why our own
middleware and not ``starlette-exporter`` / ``prometheus-fastapi-instrumentator``: their
labels are the raw path and status, and this gateway's outcome is its error code; both
would also add a second timing layer beside the request log.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import re
import socket
import time
from collections.abc import AsyncIterator, Iterable, Iterator, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import orjson
import sqlalchemy as sa
import uvicorn
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from errors import ConfigurationError, Forbidden, GovshareError
from gateway.platform import GrantRow, PlatformDB
from gateway.settings import Settings
from gateway.workflow import ApplicationRow
from policies.chinatime import utc_now
from policies.workflow import Status
from resolvers import metrics, tracing

if TYPE_CHECKING:
    from gateway.app import Gateway

log = logging.getLogger("govshare.metrics")

PLATFORM_TTL: Final = 15.0  # seconds grants and applications by state are reused between scrapes
PLATFORM_TIMEOUT: Final = 2.0  # seconds the counts may take before the last ones are served
# the text format every Prometheus reads (generate_latest writes names with underscores only)
TEXT_FORMAT: Final = "text/plain; version=0.0.4; charset=utf-8"
ERROR_BODY_LIMIT: Final = 65536  # bytes of an error answer read for its code
GRANT_STATES: Final = ("active", "pending", "expired", "revoked")
APPLICATION_STATES: Final = tuple(status.value for status in Status)
_REST: Final = ("compare", "export")
METRICS_OFF: Final = "metrics are off on this gateway (GOVSHARE_METRICS=off); set GOVSHARE_METRICS=on\n"
# RFC 9110 section 9 and RFC 5789; any other is _OTHER on a span (OpenTelemetry semantic conventions)
HTTP_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE",
                                 "PATCH"})  # fmt: skip
OTHER_METHOD: Final = "_OTHER"
_MODES: Final = {"/graphql": "query", "/compare": "compare", "/oauth/token": "token"}


def mode_of(path: str) -> str:
    """The service mode of an endpoint (a label of :data:`resolvers.metrics.MODES`)."""
    if path.startswith("/export/"):
        return "export"
    return _MODES.get(path, "other")


def note_answer(request: Request, body: dict[str, Any], operation: str) -> None:
    """What a GraphQL handler knows of one operation's answer: its type and first error code.
    In a batch (a second note) the operation is ``batch`` and the first error code wins."""
    state = request.scope.setdefault("state", {})
    state["metrics.operation"] = "batch" if "metrics.operation" in state else operation
    if state.get("metrics.outcome", "OK") == "OK":
        state["metrics.outcome"] = _first_code(body) or "OK"


def _first_code(body: Any) -> str | None:
    """The code of an error answer: GraphQL ``errors[0].extensions.code`` or OAuth ``error``."""
    if not isinstance(body, dict):
        return None
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        extensions = errors[0].get("extensions")
        return extensions.get("code") if isinstance(extensions, dict) else None
    code = body.get("error")
    return code if isinstance(code, str) else None


class RequestMetrics:
    """Pure ASGI middleware: one count and one latency observation per HTTP request, after
    it is answered, and the request's trace span when tracing is on (resolvers.tracing)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (metrics.ON or tracing.TRACER is not None):
            await self.app(scope, receive, send)
            return
        mode = mode_of(scope["path"])
        if tracing.TRACER is None:
            await self._observed(scope, receive, send, mode, None)
            return
        method = known_method(scope["method"])
        name = f"{'HTTP' if method == OTHER_METHOD else method} {_route(mode, scope['path'])}"
        with tracing.span(name, _span_start(scope, mode)) as span:
            await self._observed(scope, receive, send, mode, span)

    async def _observed(self, scope: Scope, receive: Receive, send: Send, mode: str, span: Any) -> None:
        started, answer = time.perf_counter(), _Answer()
        try:
            await self.app(scope, receive, answer.wrap(send))
        finally:
            seconds = time.perf_counter() - started
            state = scope.get("state", {})
            operation = state.get("metrics.operation") or ("rest" if mode in _REST else "none")
            outcome = metrics.outcome_code(state.get("metrics.outcome") or answer.code(), answer.status)
            metrics.request(operation, mode, outcome, seconds)
            tracing.record_outcome(span, answer.status, {"http.response.status_code": answer.status,
                                   "govshare.operation": operation, "govshare.outcome": outcome})  # fmt: skip


def _route(mode: str, path: str) -> str:
    """The route template, never the path as sent (an export path names a resource: catalog
    data, but a template keeps span names few)."""
    return "/export/{resource}" if mode == "export" else path if mode != "other" else "other"


def known_method(method: str) -> str:
    """The method as a span may carry it: one of RFC 9110's and PATCH (RFC 5789), else
    ``_OTHER`` (OpenTelemetry HTTP semantic conventions): any token is a method on the wire, so
    a client's invented one would be its own text in a span and an unbounded span name."""
    return method if method in HTTP_METHODS else OTHER_METHOD


def _span_start(scope: Scope, mode: str) -> dict[str, str | int]:
    return {"http.request.method": known_method(scope["method"]), "http.route": _route(mode, scope["path"]),
            "govshare.mode": mode}  # fmt: skip


class _Answer:
    """The status of an answer and, for an error answer, the start of its body."""

    def __init__(self) -> None:
        self.status = 500
        self.body = bytearray()

    def wrap(self, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
            elif message["type"] == "http.response.body" and self.status >= 400:
                room = ERROR_BODY_LIMIT - len(self.body)
                if room > 0:
                    self.body += message.get("body", b"")[:room]
            await send(message)

        return sending

    def code(self) -> str | None:
        if self.status < 400:
            return "OK"
        try:
            return _first_code(orjson.loads(self.body))
        except orjson.JSONDecodeError:
            return None


# --- scrape-time figures of the platform database ------------------------------------------


class PlatformStates:
    """Grants and applications by state, counted in the platform database at scrape time and
    reused for ``ttl`` seconds (a scrape every few seconds costs two ``GROUP BY`` a ``ttl``).
    States are fixed sets: grants ``active`` / ``pending`` (not yet valid) / ``expired`` /
    ``revoked``; applications by ``policies.workflow.Status``. ``govshare_platform_up`` is 0
    when the last count failed (the counts before are served meanwhile)."""

    def __init__(self, platform: PlatformDB, ttl: float = PLATFORM_TTL) -> None:
        self.platform, self.ttl = platform, ttl
        self.grants: dict[str, int] = {}
        self.applications: dict[str, int] = {}
        self.up = 1.0
        self._counted_at: float | None = None
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Count again when the last count is older than ``ttl``; never raises."""
        async with self._lock:
            now = time.monotonic()
            if self._counted_at is not None and now - self._counted_at < self.ttl:
                return
            try:
                async with asyncio.timeout(PLATFORM_TIMEOUT):
                    self.grants, self.applications = await self._count()
                self.up = 1.0
            except (TimeoutError, sa.exc.SQLAlchemyError, OSError) as exc:
                log.warning("platform counts for /metrics failed: %s", type(exc).__name__)
                self.up = 0.0
            self._counted_at = now

    async def _count(self) -> tuple[dict[str, int], dict[str, int]]:
        now = utc_now()
        grant_state = sa.case(
            (GrantRow.revoked_at.is_not(None), "revoked"),
            (GrantRow.valid_until <= now, "expired"),
            (GrantRow.valid_from > now, "pending"),
            else_="active",
        ).label("state")
        async with self.platform.engine.connect() as conn:
            grants = await conn.execute(sa.select(grant_state, sa.func.count()).group_by(grant_state))
            status = ApplicationRow.status
            applications = await conn.execute(sa.select(status, sa.func.count()).group_by(status))
            return _counts(grants, GRANT_STATES), _counts(applications, APPLICATION_STATES)

    def collect(self) -> Iterator[Metric]:
        """The last counts (prometheus-client's collector contract; no I/O here)."""
        grants = GaugeMetricFamily("govshare_grants", "Grants by state (platform database)", labels=["state"])
        for state in GRANT_STATES:
            grants.add_metric([state], self.grants.get(state, 0))
        applications = GaugeMetricFamily(
            "govshare_applications", "Applications by status (platform database)", labels=["status"]
        )
        for status in APPLICATION_STATES:
            applications.add_metric([status], self.applications.get(status, 0))
        yield grants
        yield applications
        yield GaugeMetricFamily("govshare_platform_up", "1 when the last platform count succeeded", self.up)


def _counts(rows: Any, states: tuple[str, ...]) -> dict[str, int]:
    """Counts of known states only: a label never takes a value outside the fixed set."""
    return {state: count for state, count in rows if state in states}


class _ThisProcess:
    """The default registry's families, for a process that is not one of several workers."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


class Exposition:
    """What one scrape reads: every worker's files in multiprocess mode
    (``PROMETHEUS_MULTIPROC_DIR``), else this process's registry; plus the platform counts."""

    def __init__(self, platform: PlatformDB) -> None:
        self.platform_states = PlatformStates(platform)
        self.registry = CollectorRegistry(auto_describe=False)
        folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if folder:
            MultiProcessCollector(self.registry, path=folder)
        else:
            self.registry.register(_ThisProcess())  # type: ignore[arg-type]
        self.registry.register(self.platform_states)  # type: ignore[arg-type]

    async def render(self) -> bytes:
        """The text format of everything (files are read in a thread: several workers' files)."""
        await self.platform_states.refresh()
        return await asyncio.to_thread(self._generate)

    def _generate(self) -> bytes:
        folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if folder:
            forget_dead_workers(Path(folder))
        return generate_latest(self.registry)


def forget_dead_workers(folder: Path) -> list[int]:
    """``mark_process_dead`` for every process with live-gauge files that no longer runs
    (however it ended, and whoever restarted it: uvicorn's supervisor has no exit hook); the
    pids forgotten. Counters of dead workers stay, as counters must."""
    pids = {int(m.group(1)) for f in folder.glob("gauge_live*_*.db") if (m := _PID.search(f.name))}
    dead = [pid for pid in pids if not _running(pid)]
    for pid in dead:
        mark_process_dead(pid, str(folder))
    return dead


_PID: Final = re.compile(r"_(\d+)\.db$")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


def prepare_multiprocess(settings: Settings, environment: MutableMapping[str, str]) -> None:
    """Before ``serve --workers N`` starts its workers (``gateway.workers.BEFORE_WORKERS``):
    ``PROMETHEUS_MULTIPROC_DIR`` (the operator's, else ``DATA/workers/prometheus``), emptied
    of an earlier run's values, into the environment the workers inherit."""
    if not settings.metrics:
        return
    folder = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.data_dir / "workers" / "prometheus")
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    environment["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def exposition_of(gateway: Gateway) -> Exposition:
    """The live gateway's exposition (a request holds a snapshot: gateway.catalog_swap), made
    on first use, so the platform counts' TTL holds across requests."""
    live = gateway.live or gateway
    found: Exposition | None = getattr(live, "_exposition", None)
    if found is None:
        found = Exposition(live.platform)
        live._exposition = found  # type: ignore[attr-defined]
    return found


async def metrics_endpoint(request: Request) -> Response:
    """``GET /metrics`` on the gateway's port: operators only (401 without a valid token,
    403 ``FORBIDDEN`` for another role); 404 naming ``GOVSHARE_METRICS`` while metrics are off."""
    from gateway.http import JSONResponse, authenticate, gateway_of  # http notes answers here

    try:
        consumer = await authenticate(request)
        if not consumer.has("operator"):
            raise Forbidden("GET /metrics needs the operator role; use an operator's token", role="operator")
    except GovshareError as exc:
        return JSONResponse({"errors": [{"message": exc.message, "extensions": exc.extensions}]}, exc.status)
    gateway = gateway_of(request)
    if not gateway.settings.metrics:  # off is off: no zeros that read as an idle gateway
        return Response(METRICS_OFF, 404, media_type="text/plain; charset=utf-8")
    body = await exposition_of(gateway).render()
    return Response(body, media_type=TEXT_FORMAT, headers={"Cache-Control": "no-store"})


def listener_app(platform: PlatformDB) -> Starlette:
    """The app of ``GOVSHARE_METRICS_LISTEN``: ``GET /metrics`` without authentication."""
    exposition = Exposition(platform)

    async def scrape(request: Request) -> Response:
        return Response(await exposition.render(), media_type=TEXT_FORMAT)

    return Starlette(routes=[Route("/metrics", scrape, methods=["GET"])])


@contextlib.asynccontextmanager
async def serving_listener(settings: Settings, platform: PlatformDB) -> AsyncIterator[None]:
    """Serve :func:`listener_app` on ``GOVSHARE_METRICS_LISTEN`` while the block runs (nothing
    without it). With several workers only ONE process serves it (the supervisor, or worker 0):
    in multiprocess mode it answers for all. Raises ``ConfigurationError`` when the address
    cannot be bound, or when metrics are off (``GOVSHARE_METRICS=off``)."""
    if settings.metrics_listen is None:
        yield
        return
    if not settings.metrics:
        raise ConfigurationError(
            "GOVSHARE_METRICS_LISTEN is set but GOVSHARE_METRICS=off: nothing would be counted; "
            "unset GOVSHARE_METRICS_LISTEN or set GOVSHARE_METRICS=on"
        )
    warn_if_public(settings.metrics_listen[0])
    sock = _listening_socket(*settings.metrics_listen)
    config = uvicorn.Config(listener_app(platform), log_level="warning", log_config=None, access_log=False)
    server = uvicorn.Server(config)
    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        yield
    finally:
        server.should_exit = True
        await serving
        sock.close()


def warn_if_public(host: str) -> bool:
    """Log a warning (and True) when the unauthenticated listener's ``host`` is every interface
    (``0.0.0.0``, ``::``) or a global address: README says a private network only. A name is
    not resolved (nothing to say); a container's private pod address is not warned about."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if address.is_unspecified or address.is_global:
        log.warning("GOVSHARE_METRICS_LISTEN=%s serves /metrics without a token on %s: bind "
                    "it to loopback or a private address only the scraper shares", host,
                    "every interface" if address.is_unspecified else "a public address")  # fmt: skip
        return True
    return False


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigurationError(
            f"cannot listen for metrics on {host}:{port} ({exc.strerror}); fix GOVSHARE_METRICS_LISTEN"
        ) from exc
    return sock
