"""``govshare serve --workers N``: N gateway processes on one listening socket.

uvicorn's own supervisor (``uvicorn.supervisors.Multiprocess``) starts the workers, restarts
one that dies, and stops them all on SIGINT / SIGTERM (SIGHUP restarts them, SIGTTIN /
SIGTTOU add or remove one). Each worker is a fresh interpreter (spawn): it builds its
app with :func:`worker_app`, the importable factory, from the settings the parent put in
its environment (``GOVSHARE_*``, :func:`worker_environment`), so flags reach it as
variables.

Audit chains: every worker appends to its own chain (``gateway.audit``), named
``<prefix>-w<slot>``; the prefix is ``GOVSHARE_INSTANCE`` when set, else the host's name,
and the slot is the lowest of ``0 .. N-1`` no other live worker of this data folder holds.
A slot is held by an exclusive lock on ``DATA/workers/<prefix>-<slot>.lock``, which the
kernel releases when the process ends, however it ends (SIGKILL included): a restarted
worker takes the slot its predecessor left, so its chain continues from the stored head.
Own code for the slot (``fcntl.flock``, a few lines): uvicorn gives a worker no index.

Only the worker in slot 0 polls the sources for changes (``GOVSHARE_CHANGE_POLL_SECONDS``):
N pollers would find every change N times. Every worker relays stored change notices to
its own subscribers. What must hold across workers is kept outside them: grants (``gateway.grant_cache``) and
daily caps in the platform database, compare limits in Redis or the platform database
(``gateway.rate_store``), signing keys in ``DATA/keys.json`` re-read when it changes.

Hook for per-worker set-up that must happen in the parent before the workers start (for
example ``PROMETHEUS_MULTIPROC_DIR``): append a function to :data:`BEFORE_WORKERS`; it
receives the settings and the environment dict the workers inherit, and may add to it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import fcntl
import logging
import os
import re
import socket
import sys
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import IO

import uvicorn
from starlette.applications import Starlette
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from errors import ConfigurationError, WorkerStartFailed
from gateway import logs
from gateway.app import create_app
from gateway.metrics_endpoint import prepare_multiprocess
from gateway.platform import PlatformDB
from gateway.protocol import BoundedHeadProtocol
from gateway.settings import Settings

log = logging.getLogger("govshare.workers")
BEFORE_WORKERS: list[Callable[[Settings, MutableMapping[str, str]], None]] = [prepare_multiprocess]
_held: list[IO[bytes]] = []  # this worker's slot lock, open for its lifetime


class WorkerProtocol(BoundedHeadProtocol):
    """The bounded-head protocol by import path (a worker's config is pickled); its limit is
    set by :func:`worker_app` from GOVSHARE_MAX_HEAD_BYTES."""


def serve_workers(settings: Settings, sock: socket.socket) -> None:
    """Run ``settings.workers`` worker processes on ``sock`` until SIGINT / SIGTERM."""
    check_shared_state(settings)
    check_slots_free(settings.data_dir, instance_prefix(os.environ), settings.workers)
    logs.configure(settings.log_level)  # the supervisor's own lines (workers started, restarted)
    environment = worker_environment(settings, sock)
    for hook in BEFORE_WORKERS:
        hook(settings, environment)
    os.environ.update(environment)  # spawned workers inherit it
    config = uvicorn.Config(
        "gateway.workers:worker_app", factory=True, workers=settings.workers,
        http="gateway.workers:WorkerProtocol", log_level=settings.log_level,
        access_log=False, log_config=None,
    )  # fmt: skip
    supervisor = BalancedMultiprocess(config, sockets=[sock])
    supervisor.run()
    failed = [p.pid for p in supervisor.processes if p.exitcode == STARTUP_FAILURE]
    if failed:  # uvicorn stops every worker then, and would exit 0: systemd would not restart it
        raise WorkerStartFailed(
            f"worker {failed[0]} failed to start (its error is logged above), so `govshare serve` "
            "stopped every worker; fix what it names and start again"
        )


class BalancedMultiprocess(Multiprocess):
    """uvicorn's supervisor with each worker accepting on its own listening socket.

    Workers accepting from ONE shared socket take connections as they wake: measured with
    the peers harness (32 keep-alive connections opened at once, ``--workers 2``), one worker
    held 23 and the other 9 for the whole run, so the busy one set the pace. Here every
    worker gets a fresh socket bound to the same address with ``SO_REUSEPORT`` (Linux
    ``socket(7)``: the kernel spreads incoming connections over the sockets of the group by
    their address hash). The parent's own socket (:func:`reuse_port_socket`, bound, never
    listening) keeps the port; it is not in the group, which holds listening sockets only.
    The parent's copy of a worker's socket is closed once that worker is started (the child
    holds its own duplicate), so a dead worker's socket leaves the group with it.

    uvicorn builds each worker with ``Process(config, self.sockets)`` (start, restart after
    a death, SIGHUP, SIGTTIN): ``sockets`` is therefore a fresh one-socket list on each read,
    and each of those methods closes what it handed out when it returns."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        self._address = sockets[0].getsockname()[:2]
        self._handed: list[socket.socket] = []
        super().__init__(config, sockets)

    @property  # type: ignore[override]
    def sockets(self) -> list[socket.socket]:
        worker_socket = reuse_port_socket(self._address)
        self._handed.append(worker_socket)
        return [worker_socket]

    @sockets.setter
    def sockets(self, _given: list[socket.socket]) -> None:
        """uvicorn's ``__init__`` stores the parent's socket: it stays the parent's."""

    def _close_handed(self) -> None:
        while self._handed:
            self._handed.pop().close()

    def init_processes(self) -> None:
        super().init_processes()
        self._close_handed()

    def restart_all(self) -> None:
        super().restart_all()
        self._close_handed()

    def keep_subprocess_alive(self) -> None:
        super().keep_subprocess_alive()
        self._close_handed()

    def handle_ttin(self) -> None:
        super().handle_ttin()
        self._close_handed()


def reuse_port_socket(address: tuple[str, int]) -> socket.socket:
    """A TCP socket bound to ``address`` with ``SO_REUSEPORT`` (and ``SO_REUSEADDR``), not
    listening. Raises ``OSError`` when the address is taken by a socket without it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def before_serving(settings: Settings) -> None:
    """What ``govshare serve`` checks before it binds and says it serves: the platform
    database (``check_platform``) and, with several workers, shared compare counters and
    free slots; with one process, its audit chain's slot, held until it ends (a second
    one-process server on this data folder, say a restart while the old one still runs,
    would append to the same chain). Each failure is one ``ConfigurationError`` naming the
    fix."""
    check_platform(settings)
    if settings.workers > 1:
        check_shared_state(settings)
        check_slots_free(settings.data_dir, instance_prefix(os.environ), settings.workers)
    else:  # one process appends to chain ``settings.instance``: a second one there would collide
        claim_slot(settings.data_dir, settings.instance, 1)


def check_platform(settings: Settings) -> None:
    """Reach the platform database and bring its schema to this version (``create_schema``)
    once, in the serving process before any worker starts: an unreachable database or a
    schema to upgrade is one clear error here, not a traceback in every worker."""
    asyncio.run(_check_platform(settings))


async def _check_platform(settings: Settings) -> None:
    platform = PlatformDB(settings.database_url)
    try:
        await platform.create_schema(auto_upgrade=settings.db_auto_upgrade)  # ConfigurationError: unreachable
    finally:
        await platform.close()


def worker_environment(settings: Settings, sock: socket.socket) -> dict[str, str]:
    """The ``GOVSHARE_*`` variables that give each worker the parent's settings, flags
    included (the port is the one bound, also when ``--port 0`` chose it)."""
    return {
        "GOVSHARE_DATA": str(settings.data_dir),
        "GOVSHARE_CATALOG": str(settings.catalog),
        "GOVSHARE_DATABASE_URL": settings.database_url,
        "GOVSHARE_CACHE_URL": settings.cache_url,
        "GOVSHARE_HOST": settings.host,
        "GOVSHARE_PORT": str(sock.getsockname()[1]),
        "GOVSHARE_WORKERS": str(settings.workers),
        "GOVSHARE_RATE_LIMIT_STORAGE": settings.compare.storage,
        "GOVSHARE_WORKER_PREFIX": instance_prefix(os.environ),
    }


def check_shared_state(settings: Settings) -> None:
    """Refuse what would split state between workers: compare counters kept per process."""
    if settings.compare.storage.removeprefix("async+").startswith("memory"):
        raise ConfigurationError(
            f"--workers {settings.workers} with GOVSHARE_RATE_LIMIT_STORAGE=memory:// would give each "
            "worker its own compare budget; set GOVSHARE_REDIS_URL (or GOVSHARE_RATE_LIMIT_STORAGE=platform) "
            "or serve with --workers 1"
        )


def worker_app() -> Starlette:
    """The ASGI app of one worker (uvicorn calls it in the worker process): settings from
    the environment, its audit chain named by its slot. A refused setting (no free slot...)
    ends the worker with uvicorn's STARTUP_FAILURE status, on which the supervisor stops
    every worker; any other status would have it start the worker again, forever."""
    try:
        return _worker_app()
    except ConfigurationError as exc:
        logs.configure(os.environ.get("GOVSHARE_LOG_LEVEL", "info"))
        log.error("worker not started: %s", exc.message)
        sys.exit(STARTUP_FAILURE)


def _worker_app() -> Starlette:
    settings = Settings.load()
    prefix = os.environ.get("GOVSHARE_WORKER_PREFIX") or instance_prefix(os.environ)
    settings = worker_settings(settings, prefix, claim_slot(settings.data_dir, prefix, settings.workers))
    logs.configure(settings.log_level)
    WorkerProtocol.max_head_bytes = settings.limits.max_head_bytes
    return create_app(settings)


def worker_settings(settings: Settings, prefix: str, slot: int) -> Settings:
    """The settings of the worker in ``slot``: its own audit chain; the change poller and the
    metrics listener in slot 0 only (one poller per host finds each change once; one listener
    a host)."""
    polling = settings.change_poll_seconds if slot == 0 else 0
    listen = settings.metrics_listen if slot == 0 else None
    return dataclasses.replace(
        settings, instance=worker_instance(prefix, slot), change_poll_seconds=polling, metrics_listen=listen
    )


def instance_prefix(environ: MutableMapping[str, str] | os._Environ[str]) -> str:
    """GOVSHARE_INSTANCE when set, else this host's name (letters, digits, ``.-_`` kept)."""
    chosen = environ.get("GOVSHARE_INSTANCE") or socket.gethostname() or "host"
    return re.sub(r"[^A-Za-z0-9._-]", "_", chosen)[:56]


def worker_instance(prefix: str, slot: int) -> str:
    """A worker's audit chain name: ``<prefix>-w<slot>`` (at most 64 characters)."""
    return f"{prefix}-w{slot}"


def check_slots_free(data_dir: Path, prefix: str, workers: int) -> None:
    """Before any worker starts: every slot ``0 .. workers-1`` of ``prefix`` is free, else
    ``ConfigurationError`` (another server on this data folder holds it; its workers would
    fail to start one by one)."""
    for slot in range(workers):
        folder = data_dir / "workers"
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / f"{prefix}-{slot}.lock").open("wb") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ConfigurationError(
                    f"worker slot {slot} of {prefix!r} in {folder} is held: another `govshare serve` uses "
                    "this data folder; stop it, or give this one its own GOVSHARE_INSTANCE"
                ) from None
            fcntl.flock(handle, fcntl.LOCK_UN)


def claim_slot(data_dir: Path, prefix: str, workers: int) -> int:
    """The lowest slot ``0 .. workers-1`` whose lock this process could take; held until the
    process ends. ``ConfigurationError`` when all are held (another server on this data
    folder with the same prefix: give it its own GOVSHARE_INSTANCE)."""
    folder = data_dir / "workers"
    folder.mkdir(parents=True, exist_ok=True)
    for slot in range(workers):
        handle = (folder / f"{prefix}-{slot}.lock").open("wb")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        _held.append(handle)
        return slot
    raise ConfigurationError(
        f"all {workers} worker slots of {prefix!r} in {folder} are held: another `govshare serve` "
        "uses this data folder; stop it, or give this one its own GOVSHARE_INSTANCE"
    )
