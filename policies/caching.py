"""How long a resource's raw source rows may be kept in the row cache (DESIGN.md section 10).

The rule, in order:

1. the resource's ``cache_ttl`` (seconds) when the catalog gives one; ``cache_ttl: 0``
   switches the cache off for it;
2. else nothing is cached for a ``realtime`` resource (its provider promises every change
   at once: a cached row would be stale by definition);
3. else a 288th of the update cycle (5 minutes for a daily resource), at most one hour:
   a row is never kept longer than a small fraction of the period in which the provider
   promises to update it (Hubei art. 22, Zhejiang art. 35: 更新时效), and a provider change
   detected by freshness drops the cached rows earlier (resolvers.rowcache).

This decides only how long a raw row may be reused. Whether a consumer may see a row is
decided on every request, cached or not (policies.decision), before the cache is asked.
"""

from __future__ import annotations

from typing import Final

from policies.catalog import Resource

CYCLE_SECONDS: Final = {
    "daily": 86_400,
    "weekly": 7 * 86_400,
    "monthly": 31 * 86_400,
    "quarterly": 92 * 86_400,
    "yearly": 366 * 86_400,
}
CYCLE_FRACTION: Final = 288  # a day / 5 minutes
MAX_DERIVED_TTL: Final = 3_600  # seconds


def row_ttl(resource: Resource) -> int | None:
    """Seconds a raw row of ``resource`` may be cached; None: never cached."""
    if resource.cache_ttl is not None:
        return resource.cache_ttl or None
    cycle = CYCLE_SECONDS.get(resource.update_cycle)
    if cycle is None:  # realtime
        return None
    return min(cycle // CYCLE_FRACTION, MAX_DERIVED_TTL)
