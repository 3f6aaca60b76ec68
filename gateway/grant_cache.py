"""Each consumer's grants kept in the process, dropped when any process changes a grant.

Under a profile with ``unconditional_access: on_application`` (Hubei art. 13, Zhejiang
art. 26) every request reads its consumer's grants; loading them through the ORM cost more
than the rest of a cached request's database work (README "Performance"). ``CachedGrants``
keeps the grants of each consumer department with the grants' generation they were loaded
under (``gateway.platform.GrantGeneration``, bumped in the same transaction as every grant
written: approval, revocation, ``govshare grant add|revoke``) and reads only that one
number per request, a primary-key read without the ORM. A revocation committed by any
worker or host is therefore seen by every process on its next request: the generation is
read after the revoking transaction committed, and it differs from the cached one.

Expiry needs no invalidation: a cached grant carries ``valid_from`` / ``valid_until`` and
the decision (``policies.decision``) compares them with the request's time.

Own code rather than a caching library: the whole rule is "reload when a number changed",
checked on the hot path; a TTL cache (aiocache) would serve a revoked grant until expiry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from gateway.platform import PlatformDB
from policies.decision import Grant


class CachedGrants:
    """A ``resolvers.context.GrantStore`` over ``platform`` caching ``grants_for`` per
    consumer; caps (``admit`` / ``admit_many``) go to the platform database every time."""

    def __init__(self, platform: PlatformDB) -> None:
        self.platform = platform
        self._cached: dict[str, tuple[int, list[Grant]]] = {}  # department: (generation, grants)
        self.loads = 0  # grant loads from the database (tests and the benchmark read it)

    async def grants_for(self, department: str) -> list[Grant]:
        """The department's grants, oldest first: from the process when the generation read
        now is the one they were loaded under, else from the database."""
        generation = await self.platform.grants_generation()
        cached = self._cached.get(department)
        if cached is not None and generation is not None and cached[0] == generation:
            return list(cached[1])
        grants = await self.platform.grants_for(department)
        self.loads += 1
        if generation is not None:  # no generation row yet: nothing is cached
            self._drop_older(generation)
            self._cached[department] = (generation, grants)
        return list(grants)

    def _drop_older(self, generation: int) -> None:
        """Entries of an older generation are never served again: free them."""
        if any(entry[0] != generation for entry in self._cached.values()):
            self._cached = {k: v for k, v in self._cached.items() if v[0] == generation}

    async def admit(self, grant: Grant, subject: str, day: dt.date, *, count: bool = True) -> bool:
        """``PlatformDB.admit``: counted in the platform database, shared by every process."""
        return await self.platform.admit(grant, subject, day, count=count)

    async def admit_many(
        self, grant: Grant, subjects: Sequence[str], day: dt.date, *, count: bool = True
    ) -> int:
        """``PlatformDB.admit_many``: counted in the platform database, shared by every process."""
        return await self.platform.admit_many(grant, subjects, day, count=count)
