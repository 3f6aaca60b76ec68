"""A ``limits`` storage in the platform database: compare rate limits and guess budgets
shared by several worker processes when no Redis is configured.

``GOVSHARE_RATE_LIMIT_STORAGE=platform`` (the default with several workers and no
``GOVSHARE_REDIS_URL``) keeps the counters of ``gateway.compare_rate`` in two tables of the
platform database, so every worker (and host) spends one budget: ``rate_entries`` holds
the moving window's hits (one row per hit with its cost, not one per unit), ``rate_counters``
the fixed windows' counts with their end. Each change runs in one transaction that first
takes a lock on its key: PostgreSQL's ``pg_advisory_xact_lock`` (released at commit), SQLite's
write lock (its first statement writes), so two processes never both admit the last unit.

Own code because ``limits`` ships no SQL storage (memory, Redis, Memcached, MongoDB only);
the interface is theirs (``limits.aio.storage.Storage`` with ``MovingWindowSupport``), so
``MovingWindowRateLimiter`` and ``FixedWindowRateLimiter`` run over it unchanged. Redis
remains the faster choice in production (README "Production deployment").
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from limits.aio.storage import MovingWindowSupport, Storage
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from gateway.platform import Base


class RateEntry(Base):
    """One hit of a moving window: its key, when (epoch seconds) and how many units."""

    __tablename__ = "rate_entries"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(sa.String(512), index=True)
    at: Mapped[float] = mapped_column(sa.Float)
    amount: Mapped[int] = mapped_column(sa.Integer)


class RateCounter(Base):
    """A fixed window's count and the epoch second it ends."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(sa.String(512), primary_key=True)
    value: Mapped[int] = mapped_column(sa.Integer)
    expires_at: Mapped[float] = mapped_column(sa.Float)


class PlatformRateStorage(Storage, MovingWindowSupport):
    """``limits`` async storage over the platform database's ``engine`` (see module doc)."""

    STORAGE_SCHEME = ["async+govshare-platform"]  # noqa: RUF012 (limits declares it so)

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__()
        self.engine = engine
        self._writes = 0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sa.exc.SQLAlchemyError

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Add ``amount`` units to the window of ``expiry`` seconds if it stays within ``limit``."""
        if amount > limit:
            return False
        now = time.time()
        async with self.engine.begin() as conn:
            await _lock(conn, key)
            await conn.execute(sa.delete(RateEntry).where(RateEntry.key == key, RateEntry.at < now - expiry))
            used = await conn.scalar(sa.select(sa.func.sum(RateEntry.amount)).where(RateEntry.key == key))
            admitted = (used or 0) + amount <= limit
            if admitted:
                await conn.execute(sa.insert(RateEntry).values(key=key, at=now, amount=amount))
        await self._purge(now, expiry)
        return admitted

    async def _purge(self, now: float, expiry: float) -> int:
        """Every ``PURGE_EVERY`` writes, drop what no window can count any more (entries of
        consumers who never came back would stay otherwise): at most ``PURGE_BATCH`` rows of
        each table, oldest first, in a transaction of its own after the caller's committed, so
        a purge never holds a key's lock nor the SQLite write lock for long (one request must
        never stall others). ``PURGE_BATCH`` is twice ``PURGE_EVERY``: a backlog drains.
        The number of rows deleted."""
        self._writes += 1
        if self._writes % PURGE_EVERY:
            return 0
        stale = sa.select(RateEntry.id).where(RateEntry.at < now - max(expiry, PURGE_AFTER))
        ended = sa.select(RateCounter.key).where(RateCounter.expires_at < now)
        async with self.engine.begin() as conn:
            entries = await conn.execute(
                sa.delete(RateEntry).where(RateEntry.id.in_(stale.order_by(RateEntry.id).limit(PURGE_BATCH)))
            )
            counters = await conn.execute(
                sa.delete(RateCounter).where(RateCounter.key.in_(ended.limit(PURGE_BATCH)))
            )
        return int(entries.rowcount + counters.rowcount)

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(the oldest hit in the window, epoch seconds; units in it), as limits expects."""
        now = time.time()
        query = sa.select(sa.func.min(RateEntry.at), sa.func.sum(RateEntry.amount)).where(
            RateEntry.key == key, RateEntry.at >= now - expiry
        )
        async with self.engine.connect() as conn:
            oldest, used = (await conn.execute(query)).one()
        return (oldest, int(used)) if used else (now, 0)

    async def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """The fixed window's count after adding ``amount``; a new window when it ended."""
        now = time.time()
        async with self.engine.begin() as conn:
            count = await _add(conn, key, now, expiry, amount)
        await self._purge(now, expiry)
        return count

    async def get(self, key: str) -> int:
        async with self.engine.connect() as conn:
            row = (await conn.execute(_counter(key))).one_or_none()
        return int(row.value) if row is not None and row.expires_at > time.time() else 0

    async def get_expiry(self, key: str) -> float:
        async with self.engine.connect() as conn:
            row = (await conn.execute(_counter(key))).one_or_none()
        return float(row.expires_at) if row is not None else time.time()

    async def check(self) -> bool:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
        return True

    async def reset(self) -> int | None:
        async with self.engine.begin() as conn:
            entries = (await conn.execute(sa.delete(RateEntry))).rowcount
            counters = (await conn.execute(sa.delete(RateCounter))).rowcount
        return int(entries + counters)

    async def clear(self, key: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.delete(RateEntry).where(RateEntry.key == key))
            await conn.execute(sa.delete(RateCounter).where(RateCounter.key == key))


PURGE_EVERY = 1000  # writes between purges
PURGE_BATCH = 2 * PURGE_EVERY  # rows of each table one purge deletes at most
PURGE_AFTER = 86_400  # seconds: no compare window is longer than a day (the guess budget: an hour)


async def _add(conn: AsyncConnection, key: str, now: float, expiry: float, amount: int) -> int:
    """Add ``amount`` to the fixed window of ``key`` under its lock; its count after."""
    await _lock(conn, key)
    row = (await conn.execute(_counter(key))).one_or_none()
    if row is None or row.expires_at <= now:
        await conn.execute(sa.delete(RateCounter).where(RateCounter.key == key))
        await conn.execute(sa.insert(RateCounter).values(key=key, value=amount, expires_at=now + expiry))
        return amount
    await conn.execute(
        sa.update(RateCounter).where(RateCounter.key == key).values(value=RateCounter.value + amount)
    )
    return int(row.value) + amount


def _counter(key: str) -> Any:
    return sa.select(RateCounter.value, RateCounter.expires_at).where(RateCounter.key == key)


async def _lock(conn: AsyncConnection, key: str) -> None:
    """Hold ``key`` until the transaction ends: an advisory lock on PostgreSQL; on SQLite a
    write as the first statement takes the database's write lock (WAL readers go on)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(key, 0))))
    else:
        await conn.execute(sa.delete(RateEntry).where(RateEntry.key == key, RateEntry.at < 0))
