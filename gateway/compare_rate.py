"""Per-consumer compare rate limits (README "Compare"), kept by the ``limits`` library.

A consumer department may compare at most ``burst`` subjects at once at one resource and
``per_second`` on average: that is a moving window of ``burst`` subjects per
``burst / per_second`` seconds (``limits``' moving window strategy, exact: a window never
admits more than ``burst``). A batch costs one unit per request in it. The rate is the
resource's ``compare_rate`` from the catalog, else the gateway's default
(``GOVSHARE_COMPARE_RATE`` / ``GOVSHARE_COMPARE_BURST``).

The guess budget (``policies.compare.budgets_guesses``): at most ``GOVSHARE_COMPARE_GUESSES``
mismatching claims an hour of one conditional item of one subject per consumer, a fixed
window per (consumer, resource, hashed subject, item), so that a value reading does not
open cannot be learned by claiming value after value.

Why ``limits``: it keeps the counters in memory for one process and, with the same code,
in Redis (``GOVSHARE_RATE_LIMIT_STORAGE=async+redis://host:6379``) for several gateway
processes behind a load balancer (DESIGN section 11). The storage URI may be written
without the ``async+`` prefix; the gateway's event loop needs the async storages. With
several workers and no Redis the counters live in the platform database
(``GOVSHARE_RATE_LIMIT_STORAGE=platform``, ``gateway.rate_store``), shared all the same.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import time
from collections.abc import AsyncIterator

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerSecond
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from limits.errors import ConfigurationError as LimitsConfigurationError
from limits.storage import storage_from_string
from sqlalchemy.ext.asyncio import AsyncEngine

from errors import ConfigurationError, QueryTooComplex, RateLimited, RateStoreUnavailable
from gateway.rate_store import PlatformRateStorage
from gateway.settings import PLATFORM_STORAGE, CompareSettings
from policies.catalog import CompareRate, Resource

_NAMESPACE = "govshare-compare"
_GUESSES = "govshare-compare-guesses"


class CompareRateLimiter:
    """``take(consumer, resource, subjects)`` spends ``subjects`` units of the consumer's
    window at the resource or raises (``resolvers.compare.SubjectRate``)."""

    def __init__(self, settings: CompareSettings, platform: AsyncEngine | None = None) -> None:
        storage = _storage(settings.storage, platform)
        self.where = settings.storage.split("://", 1)[0] if "://" in settings.storage else settings.storage
        self.limiter = MovingWindowRateLimiter(storage)
        # one counter per (consumer, resource, subject, item) and hour: a fixed window keeps
        # one number per key where a moving one would keep every hit
        self.guess_limiter = FixedWindowRateLimiter(storage)
        self.guesses = RateLimitItemPerHour(settings.guesses)
        self.default = CompareRate(settings.rate, settings.burst)
        self._items: dict[CompareRate, RateLimitItem] = {}

    async def _take(self, consumer: str, resource: Resource, subjects: int) -> None:
        """Admit ``subjects`` comparisons, or raise ``RateLimited`` (429) with
        ``extensions.retryAfter`` (whole seconds, RFC 9110 section 10.2.3); a request larger
        than the burst can never be admitted: ``QueryTooComplex`` (400) says to split it."""
        rate = resource.compare_rate or self.default
        if subjects > rate.burst:
            raise QueryTooComplex(
                f"{resource.id}: this request compares {subjects} subjects and at most {rate.burst} "
                "may be compared at once; split it into smaller batches",
                limit="compare_burst",
                maximum=rate.burst,
                found=subjects,
                resource=resource.id,
            )
        item = self._item(rate)
        if await self.limiter.hit(item, _NAMESPACE, consumer, resource.id, cost=subjects):
            return
        stats = await self.limiter.get_window_stats(item, _NAMESPACE, consumer, resource.id)
        retry = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimited(
            f"{resource.id}: you may compare {rate.per_second} subjects a second here (at most "
            f"{rate.burst} at once) and this request would pass that; retry after {retry} s",
            resource=resource.id,
            reasons=["compare_rate"],
            perSecond=rate.per_second,
            burst=rate.burst,
            retryAfter=retry,
        )

    async def _guesses_left(self, consumer: str, resource: Resource, subject: str, item: str) -> int:
        """How many mismatching claims of this item of this subject the consumer has left
        this hour (``policies.compare.budgets_guesses``); spends nothing."""
        stats = await self.guess_limiter.get_window_stats(
            self.guesses, *_guess_key(consumer, resource, subject, item)
        )
        return int(stats.remaining)

    async def _reserve_guess(self, consumer: str, resource: Resource, subject: str, item: str) -> bool:
        """Spend one of the hour's mismatching claims of this item of this subject BEFORE the
        claim is compared; False (nothing spent) when none is left. One atomic increment in
        the shared storage, so concurrent claims through several workers or hosts never both
        take the last one (reading the budget and spending it after the compare let them)."""
        key, expiry = (
            self.guesses.key_for(*_guess_key(consumer, resource, subject, item)),
            self.guesses.get_expiry(),
        )
        if await self.guess_limiter.storage.incr(key, expiry, amount=1) <= self.guesses.amount:
            return True
        await self.guess_limiter.storage.incr(key, expiry, amount=-1)  # refused: leave the count at the limit
        return False

    async def _refund_guess(self, consumer: str, resource: Resource, subject: str, item: str) -> None:
        """Give back a reserved claim that did not mismatch (a match costs nothing). Only while
        the window it was spent in still counts: a refund into a new, empty window (``get`` is
        0 once it ended) would grant a guess the budget never had."""
        key = self.guesses.key_for(*_guess_key(consumer, resource, subject, item))
        if await self.guess_limiter.storage.get(key) > 0:
            await self.guess_limiter.storage.incr(key, self.guesses.get_expiry(), amount=-1)

    async def take(self, consumer: str, resource: Resource, subjects: int) -> None:
        """``_take`` (below); ``RateStoreUnavailable`` (503) when the shared store is down."""
        async with self._store():
            await self._take(consumer, resource, subjects)

    async def guesses_left(self, consumer: str, resource: Resource, subject: str, item: str) -> int:
        """``_guesses_left``; ``RateStoreUnavailable`` (503) when the shared store is down."""
        async with self._store():
            return await self._guesses_left(consumer, resource, subject, item)

    async def reserve_guess(self, consumer: str, resource: Resource, subject: str, item: str) -> bool:
        """``_reserve_guess``; ``RateStoreUnavailable`` (503) when the shared store is down."""
        async with self._store():
            return await self._reserve_guess(consumer, resource, subject, item)

    async def refund_guess(self, consumer: str, resource: Resource, subject: str, item: str) -> None:
        """``_refund_guess``; ``RateStoreUnavailable`` (503) when the shared store is down."""
        async with self._store():
            await self._refund_guess(consumer, resource, subject, item)

    @contextlib.asynccontextmanager
    async def _store(self) -> AsyncIterator[None]:
        """The storage's own errors (Redis down, the database gone) as ``RateStoreUnavailable``:
        refused with a 503 that says what to fix, never a 500 and never admitted uncounted."""
        failures: tuple[type[Exception], ...] = (*_errors(self.limiter.storage), OSError)
        try:
            yield
        except failures as exc:
            raise RateStoreUnavailable(
                f"the compare rate limit store ({self.where}) cannot be reached: {type(exc).__name__}; "
                "compare is refused until it is back (operators: check GOVSHARE_REDIS_URL / "
                "GOVSHARE_RATE_LIMIT_STORAGE and that the store is running)",
                retryAfter=5,
            ) from exc

    def _item(self, rate: CompareRate) -> RateLimitItem:
        item = self._items.get(rate)
        if item is None:
            window = max(1, math.ceil(rate.burst / rate.per_second))
            item = self._items[rate] = RateLimitItemPerSecond(rate.burst, window)
        return item


def _storage(setting: str, platform: AsyncEngine | None) -> Storage:
    """The ``limits`` storage GOVSHARE_RATE_LIMIT_STORAGE names (``platform``: the platform
    database ``platform``, needed then)."""
    if setting == PLATFORM_STORAGE:
        if platform is None:
            raise ConfigurationError("GOVSHARE_RATE_LIMIT_STORAGE=platform needs the platform database")
        return PlatformRateStorage(platform)
    uri = setting if setting.startswith("async+") else f"async+{setting}"
    # Redis through redis-py (a dependency already: the row cache), not limits' default coredis
    options = {"implementation": "redispy"} if uri.startswith(("async+redis", "async+rediss")) else {}
    try:
        return storage_from_string(uri, **options)  # type: ignore[return-value]
    except LimitsConfigurationError as exc:  # unknown scheme, or Redis without its client
        raise ConfigurationError(
            f"GOVSHARE_RATE_LIMIT_STORAGE={setting!r}: {exc}; use memory://, platform or "
            "redis://host:6379 (which needs the client: pip install 'limits[async-redis]')"
        ) from exc


def _errors(storage: Storage) -> tuple[type[Exception], ...]:
    """The exceptions a ``limits`` storage raises when its backend fails."""
    found = storage.base_exceptions
    return found if isinstance(found, tuple) else (found,)


def _guess_key(consumer: str, resource: Resource, subject: str, item: str) -> tuple[str, ...]:
    """The counter's key; the subject's code hashed, so that a shared Redis lists no IDs."""
    hashed = hashlib.blake2b(subject.encode(), digest_size=16).hexdigest()
    return _GUESSES, consumer, resource.id, hashed, item
