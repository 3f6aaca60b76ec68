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

Under load the read is shared: requests arriving in the same event-loop tick wait for ONE
read that starts after all of them arrived (never one already under way, which could
predate a revocation committed before a request arrived), so 32 concurrent requests cost
about one read, and each still sees every change committed before it came in.

The same read gives the published catalog's generation (``PlatformDB.generations``: one
statement): the request middleware reads it first for each request
(gateway.catalog_follow), and the request's first ``grants_for`` takes that read, made after
the request arrived, instead of reading again (``fresh_for_request``): one read per request
at most, shared by the requests of a tick.

Expiry needs no invalidation: a cached grant carries ``valid_from`` / ``valid_until`` and
the decision (``policies.decision``) compares them with the request's time.

Own code rather than a caching library: the whole rule is "reload when a number changed",
checked on the hot path; a TTL cache (aiocache) would serve a revoked grant until expiry.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
from collections.abc import Sequence

from gateway.platform import Generations, PlatformDB
from policies.decision import Grant


class _Fresh:
    """A read made for this request after it arrived, which its first grant lookup may take."""

    def __init__(self, read: Generations) -> None:
        self.read: Generations | None = read

    def take(self) -> Generations | None:
        read, self.read = self.read, None  # once: a later lookup (an export's next page) reads anew
        return read


_FRESH: contextvars.ContextVar[_Fresh | None] = contextvars.ContextVar("govshare_fresh_read", default=None)


class CachedGrants:
    """A ``resolvers.context.GrantStore`` over ``platform`` caching ``grants_for`` per
    consumer; caps (``admit`` / ``admit_many``) go to the platform database every time."""

    def __init__(self, platform: PlatformDB) -> None:
        self.platform = platform
        self._cached: dict[str, tuple[int, list[Grant]]] = {}  # department: (generation, grants)
        self.loads = 0  # grant loads from the database (tests and the benchmark read it)
        self.reads = 0  # generation reads (shared by the requests of one tick)
        self._next: asyncio.Future[Generations] | None = None  # the read not yet started
        self._tasks: set[asyncio.Task[None]] = set()

    async def grants_for(self, department: str) -> list[Grant]:
        """The department's grants, oldest first: from the process when the generation read
        now is the one they were loaded under, else from the database."""
        generation = await self.generation()
        cached = self._cached.get(department)
        if cached is not None and generation is not None and cached[0] == generation:
            return list(cached[1])
        grants = await self.platform.grants_for(department)
        self.loads += 1
        if generation is not None:  # no generation row yet: nothing is cached
            self._drop_older(generation)
            self._cached[department] = (generation, grants)
        return list(grants)

    async def generation(self) -> int | None:
        """The grants' generation, read after this call began (or taken from the read the
        request's middleware made after the request arrived: ``fresh_for_request``)."""
        fresh = _FRESH.get()
        read = fresh.take() if fresh is not None else None
        return (read or await self.generations()).grants

    def fresh_for_request(self, read: Generations) -> None:
        """Let the current request's first grant lookup use ``read`` (made after it arrived):
        called in the request's own task, before the application runs."""
        _FRESH.set(_Fresh(read))

    async def generations(self) -> Generations:
        """The grants' and the catalog's generations, read after this call began: joins the
        read of this tick if it has not started yet, else schedules the next one."""
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(self._read(self._next))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(self._next)

    async def _read(self, future: asyncio.Future[Generations]) -> None:
        await asyncio.sleep(0)  # the rest of this tick's requests join
        self._next = None  # whoever comes now may see a later commit: it waits for the next read
        self.reads += 1
        try:
            future.set_result(await self.platform.generations())
        except Exception as exc:  # every waiter gets the database's error
            future.set_exception(exc)

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
