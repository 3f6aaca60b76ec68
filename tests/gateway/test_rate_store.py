"""Compare counters in the platform database (gateway.rate_store): two limiters over two
handles on one database (two worker processes) spend ONE budget, on both backends; the
moving window and the fixed window (guess budget) behave as ``limits``' own storages do."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from errors import RateLimited
from gateway.compare_rate import CompareRateLimiter
from gateway.platform import PlatformDB
from gateway.rate_store import PlatformRateStorage, RateCounter, RateEntry
from gateway.settings import PLATFORM_STORAGE, CompareSettings
from policies.catalog import load_catalog
from tests.conftest import TESTS


@pytest.fixture
async def two(platform_url: str) -> AsyncIterator[tuple[PlatformDB, PlatformDB]]:
    first, second = PlatformDB(platform_url), PlatformDB(platform_url)
    await first.create_schema()
    async with first.engine.begin() as conn:  # PostgreSQL is shared between tests: start clean
        await conn.execute(sa.delete(RateEntry))
        await conn.execute(sa.delete(RateCounter))
    yield first, second
    await first.close()
    await second.close()


def resource():  # type: ignore[no-untyped-def]
    catalog = load_catalog(TESTS / "data" / "catalog.yaml")
    return next(iter(catalog.resources.values()))


async def test_two_workers_spend_one_compare_budget(two):
    settings = CompareSettings(rate=5, burst=10, storage=PLATFORM_STORAGE)
    a, b = (CompareRateLimiter(settings, db.engine) for db in two)
    who, where = f"C{uuid.uuid4().hex[:8]}", resource()
    await a.take(who, where, 6)
    await b.take(who, where, 4)  # 10: the burst, spent across both
    with pytest.raises(RateLimited) as refused:
        await a.take(who, where, 1)
    assert refused.value.extensions["retryAfter"] >= 1
    with pytest.raises(RateLimited):
        await b.take(who, where, 1)
    await a.take(f"C{uuid.uuid4().hex[:8]}", where, 10)  # another consumer has its own budget


async def test_two_workers_spend_one_guess_budget(two):
    settings = CompareSettings(guesses=3, storage=PLATFORM_STORAGE)
    a, b = (CompareRateLimiter(settings, db.engine) for db in two)
    who, where = f"C{uuid.uuid4().hex[:8]}", resource()
    assert await a.guesses_left(who, where, "S1", "name") == 3
    assert await a.reserve_guess(who, where, "S1", "name")
    assert await b.reserve_guess(who, where, "S1", "name")
    assert await b.guesses_left(who, where, "S1", "name") == 1
    assert await a.reserve_guess(who, where, "S1", "name")
    assert not await b.reserve_guess(who, where, "S1", "name")  # the last one went to a
    await b.refund_guess(who, where, "S1", "name")  # a claim that matched gives its unit back
    assert await b.guesses_left(who, where, "S1", "name") == 1
    assert await a.guesses_left(who, where, "S2", "name") == 3


async def test_concurrent_claims_through_two_workers_never_take_more_than_the_budget(two):
    """Reserving is one atomic step in the shared storage: of 12 claims racing through two
    workers with 3 left, exactly 3 are admitted (reading the budget first admitted them all)."""
    settings = CompareSettings(guesses=3, storage=PLATFORM_STORAGE)
    a, b = (CompareRateLimiter(settings, db.engine) for db in two)
    who, where = f"C{uuid.uuid4().hex[:8]}", resource()
    taken = await asyncio.gather(*(w.reserve_guess(who, where, "S1", "name") for w in (a, b) * 6))
    assert sum(taken) == 3
    assert await a.guesses_left(who, where, "S1", "name") == 0


async def test_a_window_ends_and_counts_again(two):
    storage = PlatformRateStorage(two[0].engine)
    key = f"k{uuid.uuid4().hex}"
    assert await storage.acquire_entry(key, limit=2, expiry=1, amount=2)
    assert not await storage.acquire_entry(key, limit=2, expiry=1)
    _start, used = await storage.get_moving_window(key, 2, 1)
    assert used == 2
    async with two[0].engine.begin() as conn:  # the entries age past the window
        await conn.execute(sa.update(RateEntry).where(RateEntry.key == key).values(at=RateEntry.at - 2))
    assert await storage.acquire_entry(key, limit=2, expiry=1)
    assert await storage.incr(key, 60) == 1 and await storage.incr(key, 60, 2) == 3
    assert await storage.get(key) == 3
    async with two[0].engine.begin() as conn:
        await conn.execute(sa.update(RateCounter).where(RateCounter.key == key).values(expires_at=0))
    assert await storage.get(key) == 0 and await storage.incr(key, 60) == 1
    await storage.clear(key)
    assert await storage.get(key) == 0 and (await storage.get_moving_window(key, 2, 1))[1] == 0
    assert await storage.check()


def test_the_platform_storage_needs_the_platform_database():
    from errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="platform database"):
        CompareRateLimiter(CompareSettings(storage=PLATFORM_STORAGE))


async def test_windows_nobody_counts_any_more_are_purged(two, monkeypatch: pytest.MonkeyPatch):
    from gateway import rate_store

    monkeypatch.setattr(rate_store, "PURGE_EVERY", 3)
    storage = PlatformRateStorage(two[0].engine)
    gone, kept = f"k{uuid.uuid4().hex}", f"k{uuid.uuid4().hex}"
    assert await storage.acquire_entry(gone, limit=5, expiry=10)
    await storage.incr(gone, 10)
    async with two[0].engine.begin() as conn:  # a consumer who never came back, two days ago
        await conn.execute(
            sa.update(RateEntry).where(RateEntry.key == gone).values(at=RateEntry.at - 2 * 86_400)
        )
        await conn.execute(sa.update(RateCounter).where(RateCounter.key == gone).values(expires_at=0))
    assert await storage.acquire_entry(kept, limit=5, expiry=10)  # the third write purges
    async with two[0].engine.connect() as conn:
        keys = set((await conn.scalars(sa.select(RateEntry.key))).all())
        counters = set((await conn.scalars(sa.select(RateCounter.key))).all())
    assert gone not in keys and gone not in counters
    assert kept in keys


async def test_a_purge_deletes_at_most_a_batch_oldest_first(two, monkeypatch: pytest.MonkeyPatch):
    """A long-unpurged backlog is drained a bounded batch at a time, never in one unbounded
    delete that would hold the write lock while other requests wait."""
    from gateway import rate_store

    monkeypatch.setattr(rate_store, "PURGE_EVERY", 1_000_000)
    monkeypatch.setattr(rate_store, "PURGE_BATCH", 3)
    storage = PlatformRateStorage(two[0].engine)
    old = [f"k{uuid.uuid4().hex}" for _ in range(5)]
    for key in old:
        assert await storage.acquire_entry(key, limit=5, expiry=10)
    async with two[0].engine.begin() as conn:  # five consumers who never came back
        await conn.execute(
            sa.update(RateEntry).where(RateEntry.key.in_(old)).values(at=RateEntry.at - 2 * 86_400)
        )

    async def left() -> list[str]:
        async with two[0].engine.connect() as conn:
            return list((await conn.scalars(sa.select(RateEntry.key).where(RateEntry.key.in_(old)))).all())

    monkeypatch.setattr(rate_store, "PURGE_EVERY", 1)
    fresh = f"k{uuid.uuid4().hex}"
    assert await storage.acquire_entry(fresh, limit=5, expiry=10)  # purges three, the oldest
    assert sorted(await left()) == sorted(old[3:])
    assert await storage.acquire_entry(fresh, limit=5, expiry=10)  # and the rest
    assert await left() == []
    assert await storage.get_moving_window(fresh, 5, 10) == (pytest.approx(time.time(), abs=5), 2)
