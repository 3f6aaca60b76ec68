"""resolvers.batching.ResourceSource: batches of one tick go out as one source call.

Each caller must still get back only its own keys and exactly its own items: a wider
union never widens what one request sees.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import Binding, Row
from connectors.forwarding import OnBehalfOf, on_behalf_of
from connectors.mock import MockConnector
from errors import (
    ConditionalAccessRequired,
    GrantExpired,
    PurposeRequired,
    RateLimited,
    SourceUnavailable,
)
from resolvers.batching import ResourceSource
from resolvers.breaker import BreakerSettings, CircuitBreaker

ITEMS = ("uscc", "name", "legal_representative", "status", "capital")
COLUMNS = {"name": "ent_name", "legal_representative": "legal_rep"}
KEYS = [f"K{i}" for i in range(8)]
STORED = [
    {"uscc": k, "ent_name": f"企业{k}", "legal_rep": f"代表{k}", "status": "存续", "capital": i * 100}
    for i, k in enumerate(KEYS)
]


class SpyConnector(MockConnector):
    """The mock connector, also recording the keys of every fetch."""

    def __init__(self) -> None:
        super().__init__({"enterprise": STORED})
        self.fetched: list[tuple[tuple[str, ...], tuple[str, ...]]] = []

    async def fetch(self, binding: Binding, keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
        self.fetched.append((tuple(keys), tuple(items)))
        return await super().fetch(binding, keys, items)


class BrokenConnector(MockConnector):
    """Fails every fetch with something other than SourceUnavailable."""

    async def fetch(self, binding: Binding, keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
        raise ConnectionResetError("department link dropped")


def source(connector: MockConnector | None = None) -> tuple[ResourceSource, SpyConnector]:
    spy = connector or SpyConnector()
    binding = spy.bind({"table": "enterprise", "columns": COLUMNS}, ITEMS, "uscc")
    return ResourceSource(spy, binding), spy  # type: ignore[return-value]


def stored(key: str, items: Sequence[str]) -> Row:
    row = next(r for r in STORED if r["uscc"] == key)
    return {item: row[COLUMNS.get(item, item)] for item in items}


def answer(keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
    """What one caller alone must get."""
    return {k: stored(k, items) for k in keys if k in KEYS}


async def test_one_tick_makes_one_call_with_the_union() -> None:
    batched, spy = source()
    asks = [
        (["K1", "K2"], ["name"]),
        (["K2", "K3", "K404"], ["status", "uscc"]),
        (["K7"], ["name", "capital"]),
        (["K5"], []),
    ]
    results = await asyncio.gather(*(batched.fetch(keys, items) for keys, items in asks))
    assert batched.round_trips == 1
    assert spy.fetched == [
        (("K1", "K2", "K3", "K404", "K5", "K7"), ("capital", "name", "status", "uscc")),
    ]
    for (keys, items), result in zip(asks, results, strict=True):
        assert result == answer(keys, items)
        for row in result.values():
            assert list(row) == items or set(row) == set(items)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from([*KEYS, "K404", "K999"]), max_size=6),
            st.lists(st.sampled_from(ITEMS), max_size=len(ITEMS), unique=True),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_each_caller_gets_its_own_keys_and_exactly_its_own_items(
    asks: list[tuple[list[str], list[str]]],
) -> None:
    async def run() -> tuple[list[dict[str, Row]], ResourceSource, SpyConnector]:
        batched, spy = source()
        results = await asyncio.gather(*(batched.fetch(keys, items) for keys, items in asks))
        return list(results), batched, spy

    results, batched, spy = asyncio.run(run())
    assert batched.round_trips == 1 and len(spy.fetched) == 1
    keys, items = spy.fetched[0]
    assert set(keys) == {k for ks, _ in asks for k in ks}
    assert set(items) == {i for _, its in asks for i in its}
    for (keys, items), result in zip(asks, results, strict=True):
        assert result == answer(keys, items)
        assert all(set(row) == set(items) for row in result.values())


async def test_a_caller_repeating_an_item_gets_no_other_item() -> None:
    """Regression: narrowing once compared item counts, so ['name', 'name'] got 'status' too."""
    batched, _ = source()
    mine, other = await asyncio.gather(
        batched.fetch(["K1"], ["name", "name"]), batched.fetch(["K1"], ["status"])
    )
    assert other == {"K1": {"status": "存续"}}
    assert mine == {"K1": {"name": "企业K1"}}


async def test_a_failure_reaches_every_waiter() -> None:
    batched, spy = source()
    spy.failing = True
    results = await asyncio.gather(
        batched.fetch(["K1"], ["name"]),
        batched.fetch(["K2"], ["status"]),
        batched.fetch(["K3"], ["name", "status"]),
        return_exceptions=True,
    )
    assert batched.round_trips == 1
    assert all(isinstance(result, SourceUnavailable) for result in results), results


async def test_an_unexpected_failure_reaches_every_waiter_too() -> None:
    broken = BrokenConnector({"enterprise": STORED})
    batched, _ = source(broken)
    results = await asyncio.gather(
        batched.fetch(["K1"], ["name"]), batched.fetch(["K2"], ["status"]), return_exceptions=True
    )
    assert all(isinstance(result, ConnectionResetError) for result in results), results


async def test_the_source_recovers_after_a_failure() -> None:
    batched, spy = source()
    spy.failing = True
    with pytest.raises(SourceUnavailable):
        await batched.fetch(["K1"], ["name"])
    spy.failing = False
    assert await batched.fetch(["K1"], ["name"]) == {"K1": {"name": "企业K1"}}
    assert batched.round_trips == 2


async def test_fetches_in_different_ticks_make_separate_calls() -> None:
    batched, spy = source()
    first = await batched.fetch(["K1"], ["name"])
    second = await batched.fetch(["K2"], ["status"])
    assert (first, second) == ({"K1": {"name": "企业K1"}}, {"K2": {"status": "存续"}})
    assert spy.fetched == [(("K1",), ("name",)), (("K2",), ("status",))]
    assert batched.round_trips == 2


async def test_a_later_tick_while_a_call_is_in_flight_gets_its_own_call() -> None:
    batched, spy = source()
    early = asyncio.ensure_future(
        asyncio.gather(batched.fetch(["K1"], ["name"]), batched.fetch(["K2"], ["name"]))
    )
    for _ in range(3):  # let the first batch go out
        await asyncio.sleep(0)
    late = await batched.fetch(["K3"], ["capital"])
    assert await early == [{"K1": {"name": "企业K1"}}, {"K2": {"name": "企业K2"}}]
    assert late == {"K3": {"capital": 300}}
    assert [keys for keys, _ in spy.fetched] == [("K1", "K2"), ("K3",)]


async def test_two_gathers_make_two_calls() -> None:
    batched, spy = source()
    await asyncio.gather(batched.fetch(["K1"], ["name"]), batched.fetch(["K2"], ["name"]))
    await asyncio.gather(batched.fetch(["K3"], ["name"]), batched.fetch(["K4"], ["status"]))
    assert batched.round_trips == 2
    assert spy.fetched == [(("K1", "K2"), ("name",)), (("K3", "K4"), ("name", "status"))]


async def test_batches_arriving_while_the_source_is_busy_ride_together() -> None:
    """With every slot taken, later ticks wait and then go out as one call."""
    gate = asyncio.Event()

    class SlowConnector(SpyConnector):
        async def fetch(self, binding: Binding, keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
            await gate.wait()
            return await super().fetch(binding, keys, items)

    slow = SlowConnector()
    batched, _ = source(slow)
    batched.max_in_flight = 1
    first = asyncio.ensure_future(batched.fetch(["K1"], ["name"]))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    second = asyncio.ensure_future(batched.fetch(["K2"], ["status"]))
    await asyncio.sleep(0)
    third = asyncio.ensure_future(batched.fetch(["K2", "K3"], ["capital"]))
    await asyncio.sleep(0)
    gate.set()
    assert await first == {"K1": {"name": "企业K1"}}
    assert await second == {"K2": {"status": "存续"}}
    assert await third == {"K2": {"capital": 200}, "K3": {"capital": 300}}
    assert slow.fetched == [(("K1",), ("name",)), (("K2", "K3"), ("capital", "status"))]
    assert batched.round_trips == 2


class OversharingConnector(SpyConnector):
    """A source that answers more columns than asked (a careless REST or upstream source)."""

    async def fetch(self, binding: Binding, keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
        rows = await super().fetch(binding, keys, ITEMS)
        return {key: {**row, "secret": "不应返回"} for key, row in rows.items()}


async def test_callers_get_only_their_items_even_when_the_source_says_more() -> None:
    batched, _ = source(OversharingConnector())
    alone = await batched.fetch(["K1"], ["name"])
    assert alone == {"K1": {"name": "企业K1"}}


class RaggedConnector(SpyConnector):
    """A source whose rows lack a column for some keys."""

    async def fetch(self, binding: Binding, keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
        rows = await super().fetch(binding, keys, items)
        rows["K1"].pop("status", None)
        return rows


async def test_one_callers_bad_row_does_not_strand_the_others() -> None:
    batched, _ = source(RaggedConnector())
    both = asyncio.gather(
        batched.fetch(["K1"], ["status"]), batched.fetch(["K2"], ["status"]), return_exceptions=True
    )
    broken, fine = await asyncio.wait_for(both, timeout=5)
    assert isinstance(broken, KeyError)
    assert fine == {"K2": {"status": "存续"}}


# --- the whole wait counts against the source timeout ---------------------------------

TIMEOUT = 0.3
SLACK = 1.5  # scheduling noise, never a second timeout


async def timed_fetch(batched: ResourceSource, keys: list[str]) -> tuple[float, BaseException | None]:
    start = asyncio.get_running_loop().time()
    try:
        await batched.fetch(keys, ["name"])
    except Exception as exc:
        return asyncio.get_running_loop().time() - start, exc
    return asyncio.get_running_loop().time() - start, None


async def test_waiting_for_a_free_slot_counts_against_the_timeout() -> None:
    """Two batches hold both slots of a hung source; the batches queued behind them must
    not wait for those to time out and then for their own call (2x the timeout)."""
    hung = MockConnector({"enterprise": STORED}, delay=60, timeout=TIMEOUT)
    batched, _ = source(hung)
    calls = []
    for tick in range(5):  # five ticks: two in flight, three queued for a slot
        calls.append(asyncio.ensure_future(timed_fetch(batched, [KEYS[tick]])))
        await asyncio.sleep(TIMEOUT / 10)
    for elapsed, error in await asyncio.gather(*calls):
        assert isinstance(error, SourceUnavailable)
        assert error.extensions["timeout"] == TIMEOUT
        assert elapsed < TIMEOUT * SLACK


class StuckConnector(MockConnector):
    """A connector that breaks the contract: its fetch never returns until released."""

    def __init__(self) -> None:
        super().__init__({"enterprise": STORED}, timeout=TIMEOUT)
        self.released = asyncio.Event()

    async def fetch(self, binding: Binding, keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
        await self.released.wait()
        return await super().fetch(binding, keys, items)


async def test_a_connector_that_ignores_its_timeout_still_costs_one_timeout_and_frees_its_slot() -> None:
    stuck = StuckConnector()
    batched, _ = source(stuck)
    for _ in range(3):  # more calls than slots: each abandoned call gave its slot back
        elapsed, error = await timed_fetch(batched, ["K1"])
        assert isinstance(error, SourceUnavailable)
        assert elapsed < TIMEOUT * SLACK
    stuck.released.set()
    assert await batched.fetch(["K1"], ["name"]) == answer(["K1"], ["name"])


async def test_a_caller_that_gave_up_leaves_the_queue() -> None:
    hung = MockConnector({"enterprise": STORED}, delay=60, timeout=TIMEOUT)
    batched, _ = source(hung)
    for tick in range(4):
        await timed_fetch(batched, [KEYS[tick]])
    assert batched._waiting == []


# --- a connector that forwards the consumer (an upstream gateway, connectors.graphql) ----------


class ForwardingSpy(SpyConnector):
    """Records which consumer each fetch was made for, as a graphql connector reads it."""

    forwards_identity = True

    def __init__(self) -> None:
        super().__init__()
        self.made_for: list[str | None] = []

    async def fetch(self, binding: Binding, keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
        current = on_behalf_of.get()
        self.made_for.append(current.department if current else None)
        return await super().fetch(binding, keys, items)


def consumer(department: str, purpose: str = "核验") -> OnBehalfOf:
    return OnBehalfOf(department, "sys", None, purpose)


async def fetch_for(resource: ResourceSource, who: OnBehalfOf, keys: list[str]) -> dict[str, Row]:
    """A fetch made by an operation of ``who`` (resolvers.extensions.ForwardedConsumer sets it)."""
    on_behalf_of.set(who)
    return await resource.fetch(keys, ["name"])


async def test_a_forwarding_source_is_never_coalesced_across_consumers() -> None:
    spy = ForwardingSpy()
    resource, _ = source(spy)
    a, b = consumer("A"), consumer("B")
    rows = await asyncio.gather(
        fetch_for(resource, a, ["K1"]), fetch_for(resource, b, ["K2"]), fetch_for(resource, a, ["K3"])
    )
    assert rows == [answer(["K1"], ["name"]), answer(["K2"], ["name"]), answer(["K3"], ["name"])]
    assert sorted(spy.made_for) == ["A", "B"]  # one call per consumer, each made for it
    assert sorted(keys for keys, _ in spy.fetched) == [("K1", "K3"), ("K2",)]


async def test_a_forwarding_source_separates_purposes_of_one_consumer() -> None:
    spy = ForwardingSpy()
    resource, _ = source(spy)
    await asyncio.gather(
        fetch_for(resource, consumer("A", "甲"), ["K1"]), fetch_for(resource, consumer("A", "乙"), ["K2"])
    )
    assert len(spy.fetched) == 2


async def test_a_forwarding_source_called_without_a_consumer_is_called_without_one() -> None:
    spy = ForwardingSpy()
    resource, _ = source(spy)
    await resource.fetch(["K1"], ["name"])
    assert spy.made_for == [None]  # the graphql connector then refuses (tests/connectors/test_graphql.py)


async def test_other_sources_ignore_the_consumer_and_coalesce() -> None:
    resource, spy = source()
    await asyncio.gather(
        fetch_for(resource, consumer("A"), ["K1"]), fetch_for(resource, consumer("B"), ["K2"])
    )
    assert len(spy.fetched) == 1
    assert on_behalf_of.get() is None  # nothing leaked into the caller's context


# --- the circuit breaker counts the source's failures, not one consumer's refusals -----------


class RefusingConnector(MockConnector):
    """An upstream gateway refusing THIS consumer (its cap, its grants, its purpose) while
    answering the others: the refusal is raised from fetch, as connectors.graphql does."""

    def __init__(self, refusal: Exception) -> None:
        super().__init__({"enterprise": STORED})
        self.refusal: Exception | None = refusal

    async def fetch(self, binding: Binding, keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
        if self.refusal is not None:
            raise self.refusal
        return await super().fetch(binding, keys, items)


@pytest.mark.parametrize(
    "refusal",
    [
        RateLimited("upstream gateway: daily cap used up"),
        ConditionalAccessRequired("upstream gateway: no grant"),
        PurposeRequired("upstream gateway: send X-Purpose"),
        GrantExpired("upstream gateway: the grant expired"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_one_consumers_refusals_never_open_the_circuit_for_everyone(refusal: Exception) -> None:
    refusing = RefusingConnector(refusal)
    batched, _ = source(refusing)
    batched.breaker = CircuitBreaker("upstream", BreakerSettings(failures=2, open_seconds=600))
    for _ in range(10):  # one bad consumer, asking again and again
        with pytest.raises(type(refusal)):
            await batched.fetch(["K1"], ["name"])
    assert batched.breaker.state == "closed"
    refusing.refusal = None  # another consumer, whom the source answers
    assert await batched.fetch(["K2"], ["name"]) == {"K2": {"name": "企业K2"}}


@pytest.mark.parametrize(
    "failure",
    [SourceUnavailable("down"), ConnectionResetError("link dropped")],
    ids=lambda e: type(e).__name__,
)
async def test_the_sources_own_failures_still_open_the_circuit(failure: Exception) -> None:
    batched, _ = source(RefusingConnector(failure))
    batched.breaker = CircuitBreaker("upstream", BreakerSettings(failures=2, open_seconds=600))
    for _ in range(2):
        with pytest.raises(type(failure)):
            await batched.fetch(["K1"], ["name"])
    assert batched.breaker.state == "open"


async def test_a_half_open_probe_refused_for_its_consumer_closes_the_circuit() -> None:
    refusing = RefusingConnector(SourceUnavailable("down"))
    batched, _ = source(refusing)
    clock = [0.0]
    batched.breaker = CircuitBreaker(
        "upstream", BreakerSettings(failures=1, open_seconds=5), lambda: clock[0]
    )
    with pytest.raises(SourceUnavailable):
        await batched.fetch(["K1"], ["name"])
    assert batched.breaker.state == "open"
    clock[0] = 6.0
    refusing.refusal = RateLimited("upstream gateway: daily cap used up")  # the source answered
    with pytest.raises(RateLimited):
        await batched.fetch(["K1"], ["name"])
    assert batched.breaker.state == "closed"


async def test_a_call_the_connector_does_not_offer_opens_no_circuit() -> None:
    unoffered = SourceUnavailable("read only on behalf of a consumer", unsupported="read without a consumer")
    batched, _ = source(RefusingConnector(unoffered))
    batched.breaker = CircuitBreaker("upstream", BreakerSettings(failures=2, open_seconds=600))
    for _ in range(5):
        with pytest.raises(SourceUnavailable):
            await batched.fetch(["K1"], ["name"])
    assert batched.breaker.state == "closed"
