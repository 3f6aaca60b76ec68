"""Garbage-collector settings for a serving process (the hot path's largest single cost).

Profiled under load (py-spy, S1 at 32 connections, README "Performance"), CPython's cyclic
collector took about 22 % of the event loop's CPU: each request allocates tens of thousands
of short-lived container objects (GraphQL execution state, dataloader futures, audit
events), so generation 0 fills every few hundred microseconds, and the older generations'
collections walk every object the process keeps for its lifetime: the catalog, the
strawberry and graphql-core schema, parsed documents, SQLAlchemy metadata.

``settle_heap`` is called once, after the gateway has started and before it serves:
``gc.freeze()`` moves everything alive then into the permanent generation, which no
collection walks again (the documented use: Python docs, ``gc.freeze``), and larger
thresholds make collections rarer. Reference counting still frees almost everything a
request allocates at once; cycles (exceptions with tracebacks, futures) are still
collected, only less often. Own code: the standard library has no higher-level setting.
"""

from __future__ import annotations

import gc

# generation 0 at 700 allocations (CPython's default) collects several times per request
YOUNG_THRESHOLD = 50_000
OLDER_THRESHOLDS = (20, 100)


def settle_heap() -> tuple[int, int, int]:
    """Freeze the objects alive now (start-up state) and raise the collection thresholds;
    returns the thresholds set (generation 0, 1, 2 as ``gc.set_threshold`` takes them).
    Idempotent; call it once the gateway has started, not per request."""
    gc.collect()  # garbage of the start-up goes first: frozen objects are never collected
    gc.freeze()
    thresholds = (YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
    gc.set_threshold(*thresholds)
    return thresholds


def resettle_heap() -> None:
    """After a catalog swap: thaw the frozen heap so the replaced schema and connectors can be
    collected (frozen objects never are), then settle again. A no-op where ``settle_heap`` was
    never called (tests, in-process gateways)."""
    if gc.get_freeze_count():
        gc.unfreeze()
        settle_heap()
