"""Garbage-collector settings for a serving process (the hot path's largest single cost).

Profiled under load (py-spy, S1 at 32 connections, README "Performance"), CPython's cyclic
collector took about 22 % of the event loop's CPU: each request allocates tens of thousands
of short-lived container objects (GraphQL execution state, dataloader futures, audit
events), so generation 0 fills every few hundred microseconds, and the older generations'
collections walk every object the process keeps for its lifetime: the catalog, the
strawberry and graphql-core schema, parsed documents, SQLAlchemy metadata.

``settle_heap`` is called once in every serving process (``govshare serve`` with one
process, and each worker of ``--workers N``), after the gateway has started and before it
serves: ``gc.freeze()`` moves everything alive then into the permanent generation, which no
collection walks again (the documented use: Python docs, ``gc.freeze``). Reference counting
still frees almost everything a request allocates at once; cycles (exceptions with
tracebacks, futures) are still collected.

The thresholds stay CPython's (700, 10, 10). Measured on the peers S1 workload with two
workers (README "Side by side", stop 17): raising them to (50,000, 20, 100) made each
older collection walk more request state at once, and p99 rose from 36 to 50 ms at 32
connections and from 20 to 33 ms at 8, for no more requests per second. Workers that did not
freeze at all (the stop-16 default) had p99 90 ms at 32 connections and 60 ms at 8: a full
collection walked the whole schema.

After a catalog swap (:func:`resettle_after`) the heap is thawed at once, so the replaced
schema can be collected, and frozen again only once the replaced schema HAS been collected:
requests pinned to the old catalog, retired connectors waiting for them and sockets opened
before the swap keep it alive for a while, and whatever is frozen while they do is never
freed (a schema leaked per swap). Until then the collector walks everything, as without
``settle_heap``. Own code: the standard library has no higher-level setting.
"""

from __future__ import annotations

import asyncio
import gc
import weakref


class _Heap:
    """Whether this process serves with a frozen heap, and how many replaced schemas it
    waits for before it freezes again."""

    settled = False
    waiting = 0


def settle_heap() -> int:
    """Collect the start-up garbage, then freeze the objects alive now (start-up state);
    returns how many objects are frozen (``gc.get_freeze_count()``). Call it once the
    gateway has started, not per request; calling it again freezes what is alive by then."""
    gc.collect()  # garbage of the start-up goes first: frozen objects are never collected
    gc.freeze()
    _Heap.settled = True
    return gc.get_freeze_count()


def thaw_heap() -> None:
    """Give the frozen objects back to the collector for good (a worker's app stopping: an
    app served in a test process must not leave its heap frozen for the rest of the run)."""
    _Heap.settled, _Heap.waiting = False, 0
    gc.unfreeze()


def resettle_after(replaced: object) -> None:
    """After a catalog swap replaced ``replaced`` (the old schema): thaw the heap now and
    freeze it again (``settle_heap``, on this event loop) once ``replaced`` and every other
    schema replaced meanwhile have been collected. A no-op where ``settle_heap`` was never
    called (tests, in-process gateways)."""
    if not _Heap.settled:
        return
    gc.unfreeze()
    _Heap.waiting += 1
    weakref.finalize(replaced, _collected, asyncio.get_running_loop())


def _collected(loop: asyncio.AbstractEventLoop) -> None:
    # runs inside a collection, maybe in another thread: settle from the loop, not here
    _Heap.waiting = max(0, _Heap.waiting - 1)  # 0 already: thawed for good since
    if _Heap.waiting == 0 and not loop.is_closed():
        loop.call_soon_threadsafe(_settle_again)


def _settle_again() -> None:
    if _Heap.settled and _Heap.waiting == 0:  # not stopped, no newer swap waiting meanwhile
        settle_heap()
