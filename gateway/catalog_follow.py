"""Every process serves the catalog the store has published (issue 11 §2, issue 12 §1).

A publication, withdrawal or import made through one worker, another host or the CLI is
swapped in by that process only (``CatalogStore.on_publish``). Every transaction changing
what is published also bumps the catalog's generation (``gateway.platform.CATALOG``, in the
same transaction: gateway.catalog_store). Each process reads it with the grants' generation,
in the one primary-key read per event-loop tick that ``gateway.grant_cache`` already makes
(``PlatformDB.generations``), before it takes a request's snapshot (``PinnedGateway``):

- same generation as the catalog served: the request goes on (the read is handed to the
  request's first grant lookup, so it costs no second read);
- a newer one: the request WAITS for this process to load the stored catalog and swap it in
  (``catalog_swap.follow_catalog``: ``notify=False``, no index rebuild: the publisher told
  the consumers and rebuilt the search index), one catch-up shared by every request waiting,
  then it is answered on the new catalog. A withdrawal (or an item made stricter) committed
  before a request arrived is therefore never answered from the old catalog in any process,
  without a polling interval; a swap costs about 50 to 70 ms (``python -m gateway.bench_swap``).

Fail closed: a stored catalog that cannot be served here (a connector that does not open, a
catalog that does not bind: CatalogError; the catalog that cannot be read) is NEVER replaced
by the old one: the catch-up is logged, ``swaps.behind`` names the reason, and data requests
are refused 503 CATALOG_OUT_OF_DATE (``catalog_swap.PinnedGateway``) while /healthz answers
and /readyz says ``not_ready`` with the reason. A new request retries the catch-up at most
once every ``FOLLOW_RETRY`` seconds (shared by every request: a broken store does not cost
each request a full load). The publishing process whose own swap fails after the store
committed is in the same state: its generation lags, its next request catches up or is
refused. A generations read that fails is logged and the request goes on (its grant lookup
meets the same error).

Own code: the rule is "swap when a number moved, before answering", on the hot path.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from errors import CatalogError, CatalogErrors
from gateway.catalog_swap import FOLLOW_RETRY, follow_catalog
from gateway.grant_cache import CachedGrants

if TYPE_CHECKING:
    from gateway.app import Gateway

log = logging.getLogger("govshare.catalog")


async def follow_store(gateway: Gateway, *, hand_over: bool = True) -> None:
    """Serve the store's published catalog before the current request is snapshotted: read
    the generations (shared by the tick), catch up when the catalog's moved. ``hand_over``:
    the request's first grant lookup takes this read (an HTTP request; not a WebSocket,
    whose subscriptions start later). Never raises."""
    grants, swaps = gateway.federation.grants, gateway.swaps
    if not isinstance(grants, CachedGrants) or swaps.stored is None or swaps.store is None:
        return
    try:
        read = await grants.generations()
    except Exception:
        log.exception("catalog generation not read: serving catalog version %d", swaps.version)
        return
    if hand_over:
        grants.fresh_for_request(read)
    while read.catalog is not None and swaps.stored < read.catalog:
        if swaps.behind is not None and asyncio.get_running_loop().time() < swaps.retry_at:
            return  # refused (PinnedGateway) until the next attempt is due
        if not await _caught_up(gateway):
            return


async def _caught_up(gateway: Gateway) -> bool:
    """Wait for the catch-up under way, or start one; False when it failed (logged)."""
    swaps = gateway.swaps
    if swaps.following is None or swaps.following.done():
        swaps.following = asyncio.create_task(_catch_up(gateway))
    task = swaps.following
    try:
        await asyncio.shield(task)
    except Exception:
        return False
    return True


async def _catch_up(gateway: Gateway) -> None:
    """Load the published catalog and swap it in; ``swaps.stored`` becomes the generation
    read BEFORE the load (a publication committed meanwhile is caught up next time)."""
    store = gateway.swaps.store
    assert store is not None  # follow_store checked
    generation = gateway.swaps.stored or 0  # until read: a failed read is still fail closed
    try:
        generation = (await gateway.platform.generations()).catalog or 0
        await follow_catalog(gateway, await store.published_catalog())
    except (CatalogError, CatalogErrors) as refused:
        reason = f"published catalog generation {generation} does not load: {refused}"
        _fell_behind(gateway, generation, reason)
        raise
    except Exception as failed:
        log.exception("published catalog generation %d not read", generation)
        _fell_behind(gateway, generation, f"published catalog generation {generation} cannot be read: "
                     f"{type(failed).__name__}")  # fmt: skip
        raise
    gateway.swaps.stored, gateway.swaps.behind = max(gateway.swaps.stored or 0, generation), None


def _fell_behind(gateway: Gateway, generation: int, reason: str) -> None:
    """Data requests refused (CATALOG_OUT_OF_DATE) with ``reason`` until a catch-up succeeds,
    retried no sooner than ``FOLLOW_RETRY`` seconds from now."""
    swaps = gateway.swaps
    swaps.behind, swaps.retry_at = reason, asyncio.get_running_loop().time() + FOLLOW_RETRY
    log.error("%s: data requests refused (CATALOG_OUT_OF_DATE) until it is fixed and published", reason)
