"""The row cache below ``ResourceSource``: hits and misses against a counting source,
absent subjects, stampedes, invalidation, freshness generations, value types, byte bound,
and a backend that fails. Each test runs on the bounded memory backend and on a real Redis
(``GOVSHARE_TEST_REDIS_URL``; skipped only when it is unset)."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import os
import tracemalloc
from collections.abc import AsyncIterator

import pytest

from connectors.mock import MockConnector
from resolvers.batching import ResourceSource
from resolvers.context import Federation
from resolvers.rowcache import (
    NAMESPACE,
    REDIS_TIMEOUT,
    BoundedMemoryCache,
    RowCache,
    defined,
    open_backend,
)

REDIS_URL = os.environ.get("GOVSHARE_TEST_REDIS_URL")
ITEMS = ("name", "status")
ROWS = [{"uscc": f"K{i:03d}", "name": f"企业{i}", "status": "存续", "secret": f"S{i}"} for i in range(50)]


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[RowCache]:
    if request.param == "redis" and not REDIS_URL:
        pytest.skip("GOVSHARE_TEST_REDIS_URL is not set")
    backend = open_backend(REDIS_URL if request.param == "redis" else "memory://")
    assert backend is not None
    await backend.clear(namespace=NAMESPACE)  # Redis is shared between tests: start clean
    rows = RowCache(backend, request.param)
    yield rows
    await backend.clear(namespace=NAMESPACE)
    await rows.close()


def source_over(cache: RowCache | None, delay: float = 0.0, ttl: int = 60) -> ResourceSource:
    connector = MockConnector({"enterprise": ROWS}, delay=delay)
    binding = connector.bind({"table": "enterprise", "key": "uscc"}, ("uscc", *ITEMS), "uscc")
    return ResourceSource(connector, binding, resource="amr.enterprise", cache=cache, ttl=ttl)


def fetches(source: ResourceSource) -> int:
    assert isinstance(source.connector, MockConnector)
    return sum(1 for call in source.connector.calls if call[0] == "fetch")


async def test_a_second_read_is_a_hit_and_costs_no_source_call(cache: RowCache) -> None:
    source = source_over(cache)
    first = await source.fetch(["K001", "K002"], ITEMS)
    again = await source.fetch(["K002", "K001"], ITEMS)
    assert (
        first
        == again
        == {"K001": {"name": "企业1", "status": "存续"}, "K002": {"name": "企业2", "status": "存续"}}
    )
    assert fetches(source) == 1
    assert (cache.hits, cache.misses) == (2, 2)


async def test_only_the_missing_keys_and_items_go_to_the_source(cache: RowCache) -> None:
    source = source_over(cache)
    await source.fetch(["K001"], ITEMS)
    assert await source.fetch(["K001", "K003"], ("name",)) == {
        "K001": {"name": "企业1"},
        "K003": {"name": "企业3"},
    }
    assert isinstance(source.connector, MockConnector)
    assert source.connector.calls[-1] == ("fetch", "enterprise", ("name",))  # K001's name came from the cache
    assert cache.hits == 1


async def test_a_subject_the_source_lacks_is_cached_as_absent(cache: RowCache) -> None:
    source = source_over(cache)
    assert await source.fetch(["NOPE"], ITEMS) == {}
    assert await source.fetch(["NOPE"], ITEMS) == {}
    assert fetches(source) == 1


async def test_concurrent_misses_of_one_key_cost_one_source_call(cache: RowCache) -> None:
    source = source_over(cache, delay=0.05)  # the first call is still out when the others arrive

    async def late(n: int) -> dict:
        await asyncio.sleep(n * 0.001)  # other event-loop ticks: not merged by batching alone
        return await source.fetch(["K007"], ITEMS)

    answers = await asyncio.gather(*(late(n) for n in range(40)))
    assert all(answer == {"K007": {"name": "企业7", "status": "存续"}} for answer in answers)
    assert fetches(source) == 1


async def test_a_failed_flight_fails_its_waiters_and_is_not_cached(cache: RowCache) -> None:
    source = source_over(cache)
    assert isinstance(source.connector, MockConnector)
    source.connector.failing = True
    results = await asyncio.gather(*(source.fetch(["K001"], ITEMS) for _ in range(5)), return_exceptions=True)
    assert all(type(r).__name__ == "SourceUnavailable" for r in results)
    source.connector.failing = False
    assert await source.fetch(["K001"], ITEMS) == {"K001": {"name": "企业1", "status": "存续"}}


async def test_invalidate_drops_the_subjects_rows(cache: RowCache) -> None:
    source = source_over(cache)
    await source.fetch(["K001", "K002"], ITEMS)
    assert await source.invalidate(["K001"]) == 1 + len(ITEMS)  # the marker and each item
    await source.fetch(["K001", "K002"], ITEMS)
    assert isinstance(source.connector, MockConnector)
    assert fetches(source) == 2 and source.connector.calls[-1][2] == ITEMS
    assert cache.hits == 1  # K002 only


async def test_a_new_freshness_stamp_moves_to_new_keys(cache: RowCache) -> None:
    source = source_over(cache)
    stamp = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
    assert not cache.observe("amr.enterprise", stamp)  # first sight: nothing to drop
    await source.fetch(["K001"], ITEMS)
    assert not cache.observe("amr.enterprise", stamp)
    await source.fetch(["K001"], ITEMS)
    assert fetches(source) == 1
    assert cache.observe("amr.enterprise", stamp + dt.timedelta(minutes=1))
    await source.fetch(["K001"], ITEMS)
    assert fetches(source) == 2


async def test_a_resource_defined_anew_reads_no_row_cached_under_its_old_definition(cache: RowCache) -> None:
    """A catalog swap that changed the resource binds a source under a name of its new
    definition (gateway.catalog_swap): the old source's rows, cached before or after the swap
    (a request still running on the old catalog), are never read by the new one; both follow
    the resource's freshness; a process serving the same definition shares its rows."""
    old = source_over(cache)
    new = source_over(cache)
    new.resource = defined("amr.enterprise", "def-2")
    twin = source_over(cache)
    twin.resource = defined("amr.enterprise", "def-2")
    stamp = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
    cache.observe("amr.enterprise", stamp)
    await old.fetch(["K001"], ITEMS)
    await new.fetch(["K001"], ITEMS)
    await old.fetch(["K002"], ITEMS)  # the old catalog still reading after the swap
    await new.fetch(["K001", "K002"], ITEMS)
    assert (fetches(old), fetches(new)) == (2, 2)
    await twin.fetch(["K001", "K002"], ITEMS)
    assert fetches(twin) == 0
    assert cache.observe("amr.enterprise", stamp + dt.timedelta(minutes=1))  # the source changed
    await new.fetch(["K001"], ITEMS)
    assert fetches(new) == 3


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -3,
        2.5,
        "",
        '企业 "引号"',
        dt.date(2024, 2, 29),
        dt.datetime(2026, 1, 2, 3, 4, 5),
        dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        decimal.Decimal("12.50"),
        b"\x00\xff",
        ["a"],
        {"d": "not a date"},
    ],
)
async def test_values_come_back_as_they_were_stored(cache: RowCache, value: object) -> None:
    await cache.put("r.x", ["K1"], ("v",), {"K1": {"v": value}}, ttl=60)
    found, missing = await cache.get("r.x", ["K1"], ("v",))
    assert missing == [] and found == {"K1": {"v": value}}
    assert type(found["K1"]["v"]) is type(value)  # type: ignore[index]


async def test_a_row_expires_after_its_ttl() -> None:
    backend = BoundedMemoryCache(1 << 20)
    cache = RowCache(backend)
    await backend.multi_set([("k", b"1")], ttl=0.05)
    await cache.put("r.x", ["K1"], ("v",), {"K1": {"v": 1}}, ttl=1)
    assert await backend.get("k") == b"1"
    await asyncio.sleep(0.06)
    assert await backend.get("k") is None
    assert (await cache.get("r.x", ["K1"], ("v",)))[1] == []  # a 1 s entry is still there


async def test_the_memory_backend_is_bounded_in_bytes_and_evicts_the_least_recently_used() -> None:
    backend = BoundedMemoryCache(budget=20_000)
    cache = RowCache(backend)
    source = source_over(cache)
    for i in range(50):
        await source.fetch([f"K{i:03d}"], ITEMS)
        await source.fetch(["K000"], ITEMS)  # kept warm: used after every other
    assert backend.entries.bytes <= 20_000
    assert len(backend.entries) < 50 * 3  # some rows went
    before = fetches(source)
    await source.fetch(["K000"], ITEMS)  # the most recently used stayed
    await source.fetch(["K001"], ITEMS)  # one of the first, least recently used, went
    assert fetches(source) == before + 1


async def test_a_cache_that_fails_is_a_miss_and_never_a_failed_request() -> None:
    backend = open_backend("redis://127.0.0.1:1/0")  # nothing listens there
    assert backend is not None
    cache = RowCache(backend, "redis")
    source = source_over(cache)
    assert await source.fetch(["K001"], ITEMS) == {"K001": {"name": "企业1", "status": "存续"}}
    await source.settled()
    assert await source.fetch(["K001"], ITEMS) == {"K001": {"name": "企业1", "status": "存续"}}
    await source.settled()
    assert fetches(source) == 2 and cache.errors == 4  # two reads, two writes
    assert (await cache.state())["state"] == "unavailable"
    await source.fetch(["K002"], ITEMS)  # the fifth failure in a row opens the cache's circuit
    await source.settled()
    assert cache.breaker.state == "open" and cache.errors == 5
    assert await source.fetch(["K003"], ITEMS) == {"K003": {"name": "企业3", "status": "存续"}}
    assert cache.errors == 5  # skipped, not asked
    await cache.close()


async def test_keys_name_no_identity_code_and_no_unbound_column(cache: RowCache) -> None:
    source = source_over(cache)
    await source.fetch(["K001"], ITEMS)
    keys = await listed_keys(cache)
    assert keys and all("K001" not in key for key in keys)
    assert {key.rsplit(":", 1)[1] for key in keys} == {"#", *ITEMS}
    values = await cache.backend.multi_get([key.removeprefix(NAMESPACE + ":") for key in keys])
    assert not any(b"S1" in value for value in values)  # the unbound column's value is nowhere


async def listed_keys(cache: RowCache) -> list[str]:
    """Every key the backend holds: the memory map's, or Redis ``KEYS govshare:rows:*``."""
    if isinstance(cache.backend, BoundedMemoryCache):
        return cache.backend.entries.listed()
    return sorted(key.decode() for key in await cache.backend.client.keys(f"{NAMESPACE}:*"))


def test_an_unknown_cache_url_is_refused_with_the_choices() -> None:
    with pytest.raises(Exception, match="memory://, redis://host:port/db or off"):
        open_backend("memcached://127.0.0.1")
    assert open_backend("off") is None


async def test_rows_read_before_a_change_notice_are_not_cached_after_it(cache: RowCache) -> None:
    source = source_over(cache, delay=0.05)
    reading = asyncio.ensure_future(source.fetch(["K001"], ITEMS))
    await asyncio.sleep(0.01)  # the source call is out
    await source.invalidate(["K001"])
    await reading
    await source.fetch(["K001"], ITEMS)
    assert fetches(source) == 2  # the rows read across the notice were not kept


async def test_rows_of_a_connector_that_forwards_identity_are_never_cached(cache: RowCache) -> None:
    """An upstream gateway answers for one consumer (its grants, its refusals): sharing its
    rows between consumers through the cache would serve one consumer's grant to another."""
    source = source_over(cache)
    source.connector.forwards_identity = True  # as connectors.graphql.GraphQLConnector sets it
    await source.fetch(["K001"], ITEMS)
    await source.fetch(["K001"], ITEMS)
    assert fetches(source) == 2
    assert (cache.hits, cache.misses) == (0, 0)


async def test_the_memory_backend_keeps_no_more_memory_than_its_budget() -> None:
    """The budget is what the process really keeps (tracemalloc), not only the estimate: each
    value orjson wrote kept a 4 KiB buffer for a few bytes of JSON, so a 64 MiB cache held
    over 600 MiB. Filled well past its budget with rows of short values, the backend must
    keep at most its budget."""
    budget = 1_000_000
    backend = BoundedMemoryCache(budget, namespace=NAMESPACE)
    cache = RowCache(backend)
    cache.observe("amr.enterprise_registration", dt.datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=dt.UTC))
    items = ("name", "status", "legal_representative", "registered_capital")
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for start in range(0, 10_000, 100):
            keys = [f"91420100MA{i:08d}" for i in range(start, start + 100)]
            rows = {k: {"name": f"企业{k[-4:]}", "status": "存续", "legal_representative": "张三",
                        "registered_capital": 1000} for k in keys}  # fmt: skip
            await cache.put("amr.enterprise_registration", keys, items, rows, 300)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(backend.entries) < 50_000  # evictions happened: the budget was reached
    assert kept <= budget, f"{kept:,} bytes kept for a budget of {budget:,}"


@pytest.fixture
async def hung_redis() -> AsyncIterator[str]:
    """A TCP server on 127.0.0.1 that accepts and reads but never answers: a hung Redis."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        while await reader.read(4096):
            pass

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        for writer in held:
            writer.close()
        server.close()


async def test_a_hung_cache_costs_a_miss_one_cache_timeout_not_two(hung_redis: str) -> None:
    """With Redis hung, a miss waited the read's timeout, then the source, then the write's
    timeout before answering: rows already read were held back for a cache write. The write
    now happens after the answer."""
    backend = open_backend(hung_redis)
    assert backend is not None
    cache = RowCache(backend, "redis")
    source = source_over(cache)
    started = asyncio.get_running_loop().time()
    assert await source.fetch(["K001"], ITEMS) == {"K001": {"name": "企业1", "status": "存续"}}
    took = asyncio.get_running_loop().time() - started
    await cache.close()
    assert took < REDIS_TIMEOUT * 1.5, f"{took:.2f} s for a miss with the cache hung"


class SlowWrites(BoundedMemoryCache):
    """The memory backend whose writes take a while, as Redis's do over a busy link."""

    async def _multi_set(self, pairs, ttl=None, _conn=None):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.05)
        return await super()._multi_set(pairs, ttl=ttl, _conn=_conn)


async def test_a_change_notice_during_a_cache_write_leaves_no_stale_row() -> None:
    """The source was read, the write to the cache was under way, and a change notice came:
    its delete ran before the write landed, so the row read before the change was cached
    after the notice, for its whole TTL. A notice now waits for the writes under way."""
    cache = RowCache(SlowWrites(namespace=NAMESPACE))
    source = source_over(cache)
    reading = asyncio.ensure_future(source.fetch(["K001"], ITEMS))
    await asyncio.sleep(0.02)  # the source was read; the cache write is under way
    assert fetches(source) == 1
    await source.invalidate(["K001"])
    await reading
    await asyncio.sleep(0.1)  # every write has landed
    await source.fetch(["K001"], ITEMS)
    assert fetches(source) == 2  # read again after the notice


async def test_the_first_caller_of_a_stampede_giving_up_does_not_fail_the_others(cache: RowCache) -> None:
    source = source_over(cache, delay=0.05)
    first = asyncio.ensure_future(source.fetch(["K001"], ITEMS))
    await asyncio.sleep(0.01)  # its flight is out
    others = [asyncio.ensure_future(source.fetch(["K001"], ITEMS)) for _ in range(5)]
    await asyncio.sleep(0)
    first.cancel()
    answers = await asyncio.gather(*others)
    assert answers == [{"K001": {"name": "企业1", "status": "存续"}}] * 5
    assert fetches(source) == 1
    await source.settled()
    await source.fetch(["K001"], ITEMS)  # and the rows were cached
    assert fetches(source) == 1


async def test_rows_read_before_a_change_seen_by_freshness_are_not_cached_after_it(cache: RowCache) -> None:
    """A read under way when freshness saw the provider's change (a new generation) wrote
    the rows it had read, possibly from before the change, under the NEW generation's keys:
    the stale row was then served for its whole TTL. Such rows are not kept."""
    source = source_over(cache, delay=0.05)
    cache.observe("amr.enterprise", dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC))
    reading = asyncio.ensure_future(source.fetch(["K001"], ITEMS))
    await asyncio.sleep(0.01)  # the source call is out
    assert cache.observe("amr.enterprise", dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC))
    await reading
    await source.settled()
    await source.fetch(["K001"], ITEMS)
    assert fetches(source) == 2  # read again under the new generation


async def test_a_change_notice_for_one_resource_drops_the_rows_of_every_resource_on_its_table(
    cache: RowCache,
) -> None:
    """Two catalog resources over one table (say, the public and the conditional items of
    the same register) keep their rows under their own keys; a change notice naming one left
    the other's cached rows stale for their TTL. It now reaches every resource read from the
    same table of the same connector."""
    connector = MockConnector({"enterprise": ROWS})
    sources = {
        rid: ResourceSource(
            connector,
            connector.bind({"table": "enterprise", "key": "uscc"}, ("uscc", *ITEMS), "uscc"),
            resource=rid,
            cache=cache,
            ttl=60,
        )
        for rid in ("amr.enterprise", "amr.enterprise_public")
    }
    other = MockConnector({"enterprise": ROWS})  # another department's table of the same name
    sources["tax.enterprise"] = ResourceSource(
        other, other.bind({"table": "enterprise", "key": "uscc"}, ("uscc", *ITEMS), "uscc"),
        resource="tax.enterprise", cache=cache, ttl=60,
    )  # fmt: skip
    federation = Federation(None, sources, None)  # type: ignore[arg-type]  # invalidation reads sources only
    for source in sources.values():
        await source.fetch(["K001"], ITEMS)
        await source.settled()
    await federation.invalidate_rows("amr.enterprise", ["K001"])
    for source in sources.values():
        await source.fetch(["K001"], ITEMS)
    assert fetches(sources["amr.enterprise_public"]) == 4  # the two sources share one connector
    assert fetches(sources["tax.enterprise"]) == 1  # another connector: not the same table


async def test_the_memory_backends_direct_multi_get_answers_as_aiocaches_own() -> None:
    """BoundedMemoryCache.multi_get skips aiocache's per-call wrappers: the same values, in
    key order, misses and expired entries None, namespaces and loads_fn honoured."""
    backend = BoundedMemoryCache(1 << 20, namespace="ns")
    await backend.multi_set([("a", b"1"), ("b", b"2")])
    await backend.multi_set([("gone", b"3")], ttl=0.01)
    await backend.multi_set([("a", b"other")], namespace="elsewhere")
    await asyncio.sleep(0.02)
    keys = ["b", "missing", "a", "gone"]
    base = super(BoundedMemoryCache, backend).multi_get
    for options in ({}, {"namespace": "elsewhere"}, {"loads_fn": lambda v: v and v.upper()}):
        direct = await backend.multi_get(keys, **options)  # type: ignore[arg-type]
        assert direct == await base(keys, **options)
    assert await backend.multi_get(keys) == [b"2", None, b"1", None]
    assert await backend.multi_get(["a"], timeout=1) == [b"1"]  # options: aiocache's path
