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
collection walked the whole schema. Own code: the standard library has no higher-level
setting.
"""

from __future__ import annotations

import gc


def settle_heap() -> int:
    """Collect the start-up garbage, then freeze the objects alive now (start-up state);
    returns how many objects are frozen (``gc.get_freeze_count()``). Call it once the
    gateway has started, not per request; calling it again freezes what is alive by then."""
    gc.collect()  # garbage of the start-up goes first: frozen objects are never collected
    gc.freeze()
    return gc.get_freeze_count()


def thaw_heap() -> None:
    """Give the frozen objects back to the collector (a worker's app stopping: an app served
    in a test process must not leave its heap frozen for the rest of the run)."""
    gc.unfreeze()


def resettle_heap() -> None:
    """After a catalog swap: thaw the frozen heap so the replaced schema and connectors can be
    collected (frozen objects never are), then settle again. A no-op where ``settle_heap`` was
    never called (tests, in-process gateways)."""
    if gc.get_freeze_count():
        gc.unfreeze()
        settle_heap()
