"""Source calls, coalesced within a request and across concurrent requests.

Within a request, strawberry's ``DataLoader`` turns the N subjects of one resource
into one batch. Across requests, ``ResourceSource`` goes further: every batch for the
same resource that arrives in the same event-loop tick goes out as ONE ``IN`` query
over the union of keys and of columns. Under load it also waits for a free slot
(at most ``max_in_flight`` queries per resource), so batches that arrive while the
source is busy ride together on the next query: the busier the gateway, the larger
the batches, the fewer the round trips. Each waiter gets back only the keys and
columns it asked for, so a wider union never widens what one request sees.

Each caller waits at most the connector's ``timeout`` in all, counted from its arrival:
the wait for a free slot and the source call together. A caller whose time is up gets
``SourceUnavailable`` at once; a call that overruns is abandoned so that it frees its slot
(``connectors.base.within``). One hung department therefore costs its fields one timeout,
never one per queued batch.

A connector that forwards the consumer's identity (``Connector.forwards_identity``: an
upstream gateway deciding on the original consumer's grants) is coalesced only among
waiters of the same consumer, purpose and user (``OnBehalfOf.key``, read from
``connectors.forwarding.on_behalf_of`` when the waiter arrives): each group is its own
source call, made with ``on_behalf_of`` set to that consumer.

Two more guards sit here, at the boundary between the DataLoaders and the source:

- the row cache (``resolvers.rowcache``, when the resource has a TTL): asked first, for
  exactly the keys and items asked (the access decision was made before); only the keys it
  lacks go to the source. Concurrent misses of one key share one source call (one flight
  per (key, item set, cache generation) in this process): a stampede of requests for a row that just expired
  costs one call, not one per request. Why our own single flight: aiocache's ``RedLock``
  makes the others wait for the lease and read the cache again, an extra round trip each,
  and in-process futures are the cheapest way to hand one answer to many waiters.
- the source's circuit breaker (``resolvers.breaker``): while it is open, a call that
  needs the source fails at once with ``SourceUnavailable``; cached rows are still served.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from connectors.base import Binding, Connector, Row, within
from connectors.forwarding import OnBehalfOf, on_behalf_of
from errors import SourceUnavailable
from policies.resilience import call_outcome
from resolvers import metrics, tracing
from resolvers.breaker import CircuitBreaker
from resolvers.rowcache import RowCache, catalog_id

Flight = asyncio.Future[dict[str, Row | None]]
FlightKey = tuple[str, tuple[str, ...], str]  # subject, items, cache generation


@dataclass(eq=False)  # found by identity when it gives up waiting
class _Waiter:
    keys: Sequence[str]
    items: Sequence[str]
    future: asyncio.Future[dict[str, Row]]
    on_behalf: OnBehalfOf | None = None


@dataclass(eq=False)
class ResourceSource:
    """One resource of one department's source, shared by all requests of a process."""

    connector: Connector
    binding: Binding
    max_in_flight: int = 2
    round_trips: int = 0
    resource: str = ""  # the catalog's id: cache keys
    cache: RowCache | None = None
    ttl: int | None = None  # seconds its rows may be cached (policies.caching.row_ttl); None: never
    breaker: CircuitBreaker | None = None  # its department's, shared by the department's resources
    department: str = ""  # the providing department (catalog): metrics and traces label calls by it
    _waiting: list[_Waiter] = field(default_factory=list)
    _in_flight: int = 0
    _scheduled: bool = False
    _flights: dict[FlightKey, Flight] = field(default_factory=dict)
    _invalidations: int = 0  # a flight that saw one start and land keeps its rows out of the cache
    _writes: set[asyncio.Task[None]] = field(default_factory=set)  # fills writing to the cache

    async def fetch(self, keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
        """Rows of ``keys`` with exactly ``items``, from the cache or the source;
        ``SourceUnavailable`` after ``timeout`` s, or at once while the circuit is open.
        A connector that forwards identity gets the caller's ``on_behalf_of`` (its operation's
        consumer, set by resolvers.extensions.ForwardedConsumer), and its rows are never cached:
        they are what the upstream decided for that one consumer."""
        if self.cache is None or not self.ttl or self.connector.forwards_identity:
            return await self._from_source(keys, items)
        found, missing = await self.cache.get(self.resource, keys, items)
        if missing:
            found.update(await self._shared_fill(missing, tuple(items)))
        return {key: row for key, row in found.items() if row is not None}

    def reads_same_table(self, other: ResourceSource) -> bool:
        """Whether ``other`` reads the same table (binding target) through the same connector."""
        return other.connector is self.connector and other.binding.target == self.binding.target

    async def settled(self) -> None:
        """Wait for the cache writes under way (each at most the cache's own timeout)."""
        if self._writes:
            await asyncio.wait(set(self._writes))

    async def invalidate(self, subjects: Iterable[str]) -> int:
        """Drop the cached rows of ``subjects`` (every bound item); the keys deleted."""
        if self.cache is None:
            return 0
        self._invalidations += 1
        codes = list(subjects)
        for key in [k for k in self._flights if k[0] in codes]:  # later readers start a new flight
            del self._flights[key]
        await self.settled()  # rows read before the notice, still being written: delete after them
        return await self.cache.invalidate(self.resource, codes, tuple(self.binding.columns))

    def _flight_key(self, key: str, items: tuple[str, ...]) -> FlightKey:
        """A flight is joined only under the cache generation it started in: a reader after a
        change seen by freshness must not get rows read before it."""
        assert self.cache is not None
        return (key, items, self.cache.generation(self.resource))

    def _seen(self) -> tuple[int, str]:
        """What must not move while rows are read for them to be cached: change notices and
        the resource's cache generation (a change seen by freshness)."""
        assert self.cache is not None
        return (self._invalidations, self.cache.generation(self.resource))

    async def _shared_fill(self, missing: Sequence[str], items: tuple[str, ...]) -> dict[str, Row | None]:
        """The missing keys' rows: joins the flights already out for them, starts one for the rest.
        A flight's rows are handed over once read; it stays joinable until they are in the
        cache, so a reader arriving in between joins it rather than asking the source again."""
        wanted = {key: self._flight_key(key, items) for key in missing}
        mine = [key for key in missing if wanted[key] not in self._flights]
        if mine:
            flight: Flight = asyncio.get_running_loop().create_future()
            started = [wanted[key] for key in mine]
            for flight_key in started:
                self._flights[flight_key] = flight
            fill = asyncio.ensure_future(self._fill(mine, items, flight))
            fill.add_done_callback(lambda done: self._landed(done, flight, started))
        rows: dict[str, Row | None] = {}
        for joined in {self._flights[wanted[key]] for key in missing}:
            rows.update(await asyncio.shield(joined))  # one waiter's cancel is not the others'
        return {key: rows.get(key) for key in missing}

    async def _fill(self, keys: list[str], items: tuple[str, ...], flight: Flight) -> None:
        """Rows from the source into ``flight``, then into the cache unless a change notice
        came meanwhile (the rows read may predate the change: the next reader reads again).
        The cache write comes after the answer: a slow or hung cache never holds back rows
        already read."""
        seen = self._seen()
        try:
            rows = await self._from_source(keys, items)
        except Exception as exc:
            flight.set_exception(exc)
            return
        flight.set_result({key: rows.get(key) for key in keys})
        assert self.cache is not None and self.ttl
        if self._seen() == seen:
            task = asyncio.current_task()
            assert task is not None
            self._writes.add(task)  # a change notice now waits for this write, then deletes
            await self.cache.put(self.resource, keys, items, rows, self.ttl)

    def _landed(self, fill: asyncio.Future[None], flight: Flight, started: list[FlightKey]) -> None:
        self._writes.discard(fill)  # type: ignore[arg-type]
        for flight_key in started:
            if self._flights.get(flight_key) is flight:
                del self._flights[flight_key]
        if not flight.done():  # the fill itself was cancelled (the loop is closing)
            flight.cancel()
        if not flight.cancelled():
            flight.exception()  # seen: every waiter may have gone
        if not fill.cancelled():
            fill.exception()

    async def _from_source(self, keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
        """Rows of ``keys`` with exactly ``items`` from the source, coalesced with other callers."""
        if self.breaker is not None:
            self.breaker.allow()
        on_behalf = on_behalf_of.get() if self.connector.forwards_identity else None
        waiter = _Waiter(keys, items, asyncio.get_running_loop().create_future(), on_behalf)
        self._waiting.append(waiter)
        self._schedule()
        timeout = self.connector.timeout
        try:
            done, _ = await asyncio.wait({waiter.future}, timeout=timeout)
        finally:
            if not waiter.future.done():  # timed out, or the request was cancelled
                waiter.future.cancel()
                if waiter in self._waiting:
                    self._waiting.remove(waiter)
        if not done:
            raise SourceUnavailable(
                f"{self.binding.target}: no answer within the source timeout of {timeout:g} s "
                "(waiting for a free slot included)",
                timeout=timeout,
            )
        return waiter.future.result()

    def _schedule(self) -> None:
        if self._waiting and not self._scheduled and self._in_flight < self.max_in_flight:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        batch, self._waiting = self._waiting, []
        self._in_flight += 1
        task = asyncio.ensure_future(self._serve(batch))
        task.add_done_callback(self._served)

    def _served(self, task: asyncio.Future[None]) -> None:
        self._in_flight -= 1
        _retrieve_exception(task)
        self._schedule()

    async def _serve(self, batch: list[_Waiter]) -> None:
        if not self.connector.forwards_identity:
            await self._serve_group(batch)
            return
        groups: dict[object, list[_Waiter]] = {}
        for waiter in batch:
            groups.setdefault(waiter.on_behalf.key if waiter.on_behalf else None, []).append(waiter)
        await asyncio.gather(*(self._serve_group(group) for group in groups.values()))

    def _count(self, exc: Exception | None, started: float) -> None:
        """The call's outcome to the breaker and to resolvers.metrics: a consumer's refusal is
        an answer, a call the connector does not offer is no evidence (policies.resilience)."""
        outcome = call_outcome(exc)
        metrics.source_call(self.department, outcome, time.perf_counter() - started)
        if self.breaker is not None:
            reason = exc.message if isinstance(exc, SourceUnavailable) else type(exc).__name__
            self.breaker.record(outcome, reason)

    def _span_attributes(self, keys: int) -> dict[str, str | int]:
        """A source call's span: department and resource (catalog data), how many keys; never which."""
        return {"govshare.department": self.department, "govshare.resource": catalog_id(self.resource),
                "govshare.keys": keys}  # fmt: skip

    async def _serve_group(self, batch: list[_Waiter]) -> None:
        on_behalf_of.set(batch[0].on_behalf)  # this task's own context: the call's consumer
        keys = sorted({key for waiter in batch for key in waiter.keys})
        items = sorted({item for waiter in batch for item in waiter.items})
        self.round_trips += 1
        started = time.perf_counter()
        try:
            call = self.connector.fetch(self.binding, keys, items)
            with tracing.span("source.fetch", self._span_attributes(len(keys))):
                rows = await within(self.connector.timeout, call, f"reading {self.binding.target}")
        except Exception as exc:
            self._count(exc, started)
            _fail_all(batch, exc)
            return
        self._count(None, started)
        for waiter in batch:
            if waiter.future.done():
                continue
            try:  # one waiter's trouble is its own: the others still get their rows
                waiter.future.set_result(_narrow(rows, waiter))
            except Exception as exc:
                waiter.future.set_exception(exc)


def _narrow(rows: dict[str, Row], waiter: _Waiter) -> dict[str, Row]:
    """The waiter's keys, with exactly the waiter's items: never a column it did not ask for,
    whatever the connector returned."""
    wanted = tuple(dict.fromkeys(waiter.items))
    return {key: {i: rows[key][i] for i in wanted} for key in waiter.keys if key in rows}


def _fail_all(batch: list[_Waiter], exc: BaseException) -> None:
    for waiter in batch:
        if not waiter.future.done():
            waiter.future.set_exception(exc)


def _retrieve_exception(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()
