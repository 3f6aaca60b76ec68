"""The per-consumer grant cache (gateway.grant_cache) and the cross-process guarantees of the
platform database: a grant change made through ANY ``PlatformDB`` (another worker, another
host, the CLI) is seen by every cache on its next read, and daily caps counted by several
processes at once never pass the cap. Both backends (``platform_url``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from gateway.grant_cache import CachedGrants
from gateway.platform import (
    CATALOG,
    GRANTS,
    GenerationFile,
    Generations,
    GrantGeneration,
    GrantUsage,
    PlatformDB,
    new_grant_row,
)
from policies.codes import make_uscc
from policies.decision import GrantConditions

NOW = dt.datetime.now(dt.UTC)
TODAY = dt.date(2026, 11, 30)


def consumer() -> str:
    return make_uscc("1", "1", "420100", f"MG{uuid.uuid4().int % 10**6:06d}")


@pytest.fixture
async def other(platform: PlatformDB, platform_url: str) -> AsyncIterator[PlatformDB]:
    """A second handle on the same database: what another worker process holds."""
    db = PlatformDB(platform_url)
    yield db
    await db.close()


def grant_row(who: str, cap: int | None = None):  # type: ignore[no-untyped-def]
    conditions = GrantConditions(daily_cap=cap)
    return new_grant_row(who, "amr.enterprise_registration", ["name"], "核验", NOW + dt.timedelta(days=1),
                         conditions=conditions)  # fmt: skip


async def test_a_cached_consumer_is_served_without_loading_again(platform: PlatformDB):
    who, cache = consumer(), CachedGrants(platform)
    await platform.add_grant(grant_row(who))
    first = await cache.grants_for(who)
    again = await cache.grants_for(who)
    assert first == again and len(first) == 1
    assert cache.loads == 1


async def test_a_revocation_by_another_process_is_seen_on_the_next_read(platform: PlatformDB, other):
    who, cache = consumer(), CachedGrants(platform)
    grant = await platform.add_grant(grant_row(who))
    [cached] = await cache.grants_for(who)
    assert not cached.revoked
    await other.revoke_grant(grant.id)  # another worker's handle
    [seen] = await cache.grants_for(who)
    assert seen.revoked
    assert cache.loads == 2


async def test_a_grant_added_elsewhere_is_seen_and_other_consumers_reload_too(platform, other):
    who, bystander, cache = consumer(), consumer(), CachedGrants(platform)
    assert await cache.grants_for(who) == []
    assert await cache.grants_for(bystander) == []
    await other.add_grant(grant_row(who))
    assert len(await cache.grants_for(who)) == 1
    assert await cache.grants_for(bystander) == []
    assert cache.loads == 4  # the generation moved: every consumer reloads once


async def test_every_grant_write_bumps_the_generation_in_its_transaction(platform: PlatformDB):
    before = await platform.grants_generation()
    grant = await platform.add_grant(grant_row(consumer()))
    added = await platform.grants_generation()
    await platform.revoke_grant(grant.id)
    revoked = await platform.grants_generation()
    assert before is not None and added is not None and revoked is not None and before < added < revoked
    await platform.admit(grant, "S1", TODAY)  # cap counting is no grant change
    assert await platform.grants_generation() == revoked


async def test_without_a_generation_row_nothing_is_cached(platform: PlatformDB):
    who, cache = consumer(), CachedGrants(platform)
    await platform.add_grant(grant_row(who))
    async with platform.engine.begin() as conn:
        await conn.execute(sa.delete(GrantGeneration))
    try:
        await cache.grants_for(who)
        await cache.grants_for(who)
        assert cache.loads == 2
    finally:
        await platform.create_schema()  # seeds it again for the next test


async def test_a_generation_set_back_by_a_restore_never_serves_a_stale_grant(platform: PlatformDB, other):
    """The database restored from a backup taken one grant change earlier while a worker kept
    its cache: the next change must not bring the generation back to the number the worker
    cached under (counting on from the restored value did, and the revoked grant was served)."""
    who, cache = consumer(), CachedGrants(platform)
    grant = await platform.add_grant(grant_row(who))
    await cache.grants_for(who)
    cached = await platform.grants_generation()
    assert cached is not None
    async with other.engine.begin() as conn:
        await conn.execute(sa.update(GrantGeneration).values(value=cached - 1))
    await other.revoke_grant(grant.id)  # through another worker: the first change after the restore
    [seen] = await cache.grants_for(who)
    assert seen.revoked


async def test_a_generation_row_made_again_starts_past_every_number_used_before(platform: PlatformDB, other):
    """The row deleted, then made again by a worker starting (``create_schema``): a worker that
    cached under an earlier number never meets it again."""
    who, cache = consumer(), CachedGrants(platform)
    grant = await platform.add_grant(grant_row(who))
    await cache.grants_for(who)
    cached = await platform.grants_generation()
    async with other.engine.begin() as conn:
        await conn.execute(sa.delete(GrantGeneration))
    await other.create_schema()
    reseeded = await other.grants_generation()
    assert cached is not None and reseeded is not None and reseeded > cached
    await other.revoke_grant(grant.id)
    [seen] = await cache.grants_for(who)
    assert seen.revoked


async def test_a_cap_counted_by_two_processes_at_once_is_never_passed(platform: PlatformDB, other):
    grant = await platform.add_grant(grant_row(consumer(), cap=5))
    subjects = [f"S{n:02d}" for n in range(20)]
    calls = [(platform if n % 2 else other).admit(grant, s, TODAY) for n, s in enumerate(subjects)]
    admitted = await asyncio.gather(*calls)
    assert sum(admitted) == 5
    async with platform.session() as session:
        counted = await session.scalar(sa.select(sa.func.count()).where(GrantUsage.grant == grant.id))
    assert counted == 5


async def test_requests_of_one_tick_share_one_generation_read_and_later_ones_read_again(platform: PlatformDB):
    who, cache = consumer(), CachedGrants(platform)
    await platform.add_grant(grant_row(who))
    together = await asyncio.gather(*(cache.grants_for(who) for _ in range(10)))
    assert all(len(grants) == 1 for grants in together)
    assert cache.reads == 1
    await cache.grants_for(who)
    await cache.grants_for(who)
    assert cache.reads == 3  # a request never reuses a read made before it arrived


async def test_a_failing_generation_read_fails_every_request_waiting_for_it(platform: PlatformDB):
    cache = CachedGrants(platform)
    async with platform.engine.begin() as conn:
        await conn.execute(sa.text("DROP TABLE grant_generation"))
    try:
        results = await asyncio.gather(
            *(cache.grants_for(consumer()) for _ in range(3)), return_exceptions=True
        )
        assert all(isinstance(result, sa.exc.SQLAlchemyError) for result in results)
    finally:  # made again as revision 0002 made it (the schema's revision did not change)
        async with platform.engine.begin() as conn:
            await conn.run_sync(GrantGeneration.__table__.create)  # type: ignore[attr-defined]
        await platform.create_schema()


async def test_a_sqlite_file_is_read_in_the_loop_thread_and_agrees_with_the_engine(platform: PlatformDB):
    """gateway.platform.GenerationFile: the same numbers as the engine's read, on SQLite files."""
    reader = GenerationFile.of(platform.engine)
    assert (reader is not None) == (platform.engine.dialect.name == "sqlite")
    if reader is None:
        return
    async with platform.engine.connect() as conn:
        rows: dict[int, int] = dict(
            (await conn.execute(sa.text("SELECT id, value FROM grant_generation"))).all()
        )
    try:
        assert reader.read() == Generations(rows.get(GRANTS), rows.get(CATALOG))
    finally:
        reader.close()
