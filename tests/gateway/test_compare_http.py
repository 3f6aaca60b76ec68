"""``POST /compare`` in-process over ASGI (the real app, the demo's SQLite departments): what
needs the gateway's insides: source round trips, grant conditions per subject (divisions,
daily caps), the audit store failing, the settings and the rate limiter."""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import time
from urllib.parse import quote

import pytest

from errors import ConfigurationError, QueryTooComplex, RateLimited
from gateway.app import Gateway
from gateway.compare_rate import CompareRateLimiter
from gateway.demo import HOUSING, organization_codes
from gateway.platform import new_grant_row
from gateway.settings import CompareSettings, Settings
from policies.catalog import CompareRate, Resource
from policies.codes import make_citizen_id
from policies.decision import Consumer, GrantConditions
from policies.share import Mode, Share
from resolvers.compare import Comparer, CompareRequest
from resolvers.context import RequestContext
from resolvers.rowcache import BoundedMemoryCache, subject_digest

PURPOSE = "住房保障资格审核"
AMR = "amr.enterprise_registration"


def headers(gateway: Gateway, department: str = HOUSING.code) -> dict[str, str]:
    token = gateway.signer.issue(department, ["consumer"], "test", 600)
    return {"Authorization": f"Bearer {token}", "X-Purpose": quote(PURPOSE)}


async def grant(gateway: Gateway, items: list[str], conditions: GrantConditions) -> None:
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    row = new_grant_row(HOUSING.code, AMR, items, PURPOSE, until, [Mode.COMPARE], None, conditions)
    await gateway.platform.add_grant(row)


async def test_a_batch_costs_one_source_round_trip_per_resource(served):
    client, gateway, _ = served
    codes = organization_codes(30)
    requests = [{"resource": AMR, "subject": c, "claims": {"name": "x", "status": "存续"}} for c in codes]
    requests += [
        {"resource": "tax.tax_credit", "subject": c, "claims": {"credit_rating": "A"}} for c in codes
    ]
    before = gateway.federation.round_trips()
    response = await client.post("/compare", json={"requests": requests}, headers=headers(gateway))
    assert response.status_code == 200 and len(response.json()["results"]) == 60
    assert gateway.federation.round_trips() - before == 2


async def test_nothing_refused_is_fetched(served):
    """Only comparable items are read: a batch whose items are all refused calls no source."""
    client, gateway, _ = served
    before = gateway.federation.round_trips()
    body = {
        "resource": AMR,
        "subject": organization_codes(1)[0],
        "claims": {"address": "x", "inner_note": "y"},
    }
    response = await client.post("/compare", json=body, headers=headers(gateway))
    assert {e["extensions"]["code"] for e in response.json()["errors"]} == {
        "CONDITIONAL_ACCESS_REQUIRED",
        "NOT_SHARED",
    }
    assert gateway.federation.round_trips() == before


async def test_a_grant_scoped_to_divisions_compares_inside_them_only(served):
    client, gateway, _ = served
    await grant(gateway, ["address"], GrantConditions(("420102",)))
    inside, outside = organization_codes(2)  # divisions 420102 and 420103
    requests = [{"resource": AMR, "subject": c, "claims": {"address": "x"}} for c in (inside, outside)]
    results = (await client.post("/compare", json={"requests": requests}, headers=headers(gateway))).json()
    assert results["results"][0]["items"] == {"address": "mismatch"}
    assert results["results"][1]["items"] == {}
    assert results["results"][1]["errors"][0]["extensions"]["code"] == "OUT_OF_SCOPE"


async def test_a_daily_cap_counts_compared_subjects(served):
    client, gateway, _ = served
    await grant(gateway, ["address"], GrantConditions(daily_cap=1))
    first, second = organization_codes(2)
    requests = [{"resource": AMR, "subject": c, "claims": {"address": "x"}} for c in (first, second)]
    results = (await client.post("/compare", json={"requests": requests}, headers=headers(gateway))).json()
    assert results["results"][0]["items"] == {"address": "mismatch"}
    assert results["results"][1]["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_an_answer_is_not_sent_when_the_audit_store_fails(served):
    client, gateway, _ = served
    assert gateway.audit is not None
    await gateway.audit.close()  # appends now fail
    body = {"resource": AMR, "subject": organization_codes(1)[0], "claims": {"name": "x"}}
    response = await client.post("/compare", json=body, headers=headers(gateway))
    assert response.status_code == 503
    assert response.json() == {"errors": [response.json()["errors"][0]]}
    assert response.json()["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"


def test_compare_settings_from_the_environment():
    settings = Settings.load({"GOVSHARE_COMPARE_RATE": "7", "GOVSHARE_COMPARE_BURST": "70",
                              "GOVSHARE_COMPARE_MAX_BATCH": "5",
                              "GOVSHARE_COMPARE_GUESSES": "3"})  # fmt: skip
    assert settings.compare == CompareSettings(max_batch=5, rate=7, burst=70, guesses=3)
    assert Settings.load({}).compare == CompareSettings(max_batch=1000, rate=50, burst=1000, guesses=10)


@pytest.mark.parametrize(
    "environ",
    [{"GOVSHARE_COMPARE_RATE": "0"}, {"GOVSHARE_COMPARE_MAX_BATCH": "x"},
     {"GOVSHARE_COMPARE_RATE": "100", "GOVSHARE_COMPARE_BURST": "10"}, {"GOVSHARE_COMPARE_GUESSES": "0"}],
)  # fmt: skip
def test_bad_compare_settings_are_refused(environ):
    with pytest.raises(ConfigurationError, match="GOVSHARE_COMPARE"):
        Settings.load(environ)


def _resource(rate: CompareRate | None = None) -> Resource:
    return Resource("amr.x", "c", "n", "p", "organization", "uscc", Share.UNCONDITIONAL, (), {},
                    compare_rate=rate)  # fmt: skip


async def test_the_limiter_admits_the_burst_then_refuses_with_retry_after():
    limiter = CompareRateLimiter(CompareSettings(rate=5, burst=10))
    await limiter.take("consumer-a", _resource(), 10)
    with pytest.raises(RateLimited) as refused:
        await limiter.take("consumer-a", _resource(), 1)
    assert 1 <= refused.value.extensions["retryAfter"] <= 2
    await limiter.take("consumer-b", _resource(), 10)  # per consumer
    await limiter.take("consumer-a", _resource(CompareRate(1, 100)), 100)  # per resource rate


async def test_a_request_larger_than_the_burst_is_told_to_split():
    limiter = CompareRateLimiter(CompareSettings(rate=5, burst=10))
    with pytest.raises(QueryTooComplex, match="split it"):
        await limiter.take("consumer-a", _resource(), 11)


async def test_match_only_takes_the_same_time_for_an_unknown_subject(served):
    """psb.resident (match_only): the same steps for a subject on record and one that is not;
    measured interleaved (a busy machine slows both alike), medians within a factor of 2."""
    _, gateway, samples = served
    resident = gateway.catalog.resources["psb.resident"]
    comparer = Comparer(rate=None, recorder=None)  # the operation itself: no limiter, no audit
    consumer = Consumer(HOUSING.code, "test", frozenset({"consumer"}))
    unknown = make_citizen_id("420102", dt.date(1931, 2, 3), "999")
    claims = {"name": "王伟", "gender": "男", "birth_date": "1990-1-1"}
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    for _ in range(60):
        for label, code in (("known", samples["persons"][0]), ("unknown", unknown)):
            context = RequestContext(gateway.federation, consumer, purpose=PURPOSE)
            started = time.perf_counter()
            answer = await comparer.compare(context, [CompareRequest(resident, code, claims)])
            timings[label].append(time.perf_counter() - started)
            assert answer.results[0].found is None
    known, unknown_median = (statistics.median(timings[k]) for k in ("known", "unknown"))
    assert 0.5 < unknown_median / known < 2, (known, unknown_median)


def test_an_unknown_rate_limit_storage_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="GOVSHARE_RATE_LIMIT_STORAGE"):
        CompareRateLimiter(CompareSettings(storage="bogus://x"))


async def test_a_costly_batch_does_not_stall_other_requests(served):
    """Claims of U+FDFA (NFKC makes each 18 characters) cost about 3 ms each to normalise:
    a batch of them must let the event loop run between comparisons (one request never
    stalls the others), measured as the longest stretch of the event loop's thread CPU time
    between two turns of a ticking task (CPU time: a busy machine's preemption is not a stall)."""
    _, gateway, _ = served
    amr = gateway.catalog.resources[AMR]
    consumer = Consumer(HOUSING.code, "test", frozenset({"consumer"}))
    claims = {"name": "\ufdfa" * 1000, "business_scope": "\ufdfa" * 1000}
    requests = [CompareRequest(amr, code, claims) for code in organization_codes(25) * 8]
    gaps: list[float] = []

    async def tick() -> None:
        last = time.thread_time()
        while True:
            await asyncio.sleep(0)
            now = time.thread_time()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)
    started = time.thread_time()
    context = RequestContext(gateway.federation, consumer, purpose=PURPOSE)
    answer = await Comparer(rate=None, recorder=None).compare(context, requests)
    took = time.thread_time() - started
    await asyncio.sleep(0)  # the ticker notes the stretch that ends now
    ticker.cancel()
    assert len(answer.results) == 200
    assert answer.results[0].items == {"name": "mismatch", "business_scope": "mismatch"}
    assert took > 0.05, "the batch is meant to be costly"
    assert max(gaps) < took / 4, (max(gaps), took)


async def test_the_guess_budget_is_per_consumer_subject_and_item():
    limiter = CompareRateLimiter(CompareSettings(guesses=2))
    for left in (2, 1):
        assert await limiter.guesses_left("consumer-a", _resource(), "S1", "name") == left
        assert await limiter.reserve_guess("consumer-a", _resource(), "S1", "name")
    assert await limiter.guesses_left("consumer-a", _resource(), "S1", "name") == 0
    assert not await limiter.reserve_guess("consumer-a", _resource(), "S1", "name")  # refused: spends nothing
    await limiter.refund_guess("consumer-a", _resource(), "S1", "name")
    assert await limiter.guesses_left("consumer-a", _resource(), "S1", "name") == 1
    assert await limiter.reserve_guess("consumer-a", _resource(), "S1", "name")
    assert await limiter.guesses_left("consumer-a", _resource(), "S2", "name") == 2  # another subject
    assert await limiter.guesses_left("consumer-a", _resource(), "S1", "other") == 2  # another item
    assert await limiter.guesses_left("consumer-b", _resource(), "S1", "name") == 2  # another consumer


async def test_x_on_behalf_of_is_refused_naming_it_not_silently_ignored(served):
    """As on /export: forwarding is read on /graphql only, never ignored elsewhere."""
    client, gateway, _ = served
    body = {"resource": AMR, "subject": organization_codes(1)[0], "claims": {"name": "x"}}
    sent = {**headers(gateway), "X-On-Behalf-Of": "eyJ.eyJ.sig"}
    response = await client.post("/compare", json=body, headers=sent)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["header"] == "X-On-Behalf-Of"


async def test_an_item_scoped_away_from_a_subject_is_never_read_for_it(served):
    """A batch comparing ``name`` (open) and ``address`` (granted for division 420102 only)
    of a subject inside and one outside: one fetch over the union of the batch's items asked
    the outside subject's ``address`` too, a value it may not see, and kept it in the row
    cache. Each subject's row is now asked with its own comparable items (one fetch per item
    set; ResourceSource still makes them one source call, narrowed per fetch)."""
    client, gateway, _ = served
    await grant(gateway, ["address"], GrantConditions(("420102",)))
    inside, outside = organization_codes(2)  # divisions 420102 and 420103
    claims = {"address": "x", "name": "y"}
    requests = [{"resource": AMR, "subject": c, "claims": claims} for c in (inside, outside)]
    results = (await client.post("/compare", json={"requests": requests}, headers=headers(gateway))).json()
    assert set(results["results"][0]["items"]) == {"address", "name"}
    assert set(results["results"][1]["items"]) == {"name"}
    source = gateway.federation.sources[AMR]
    await source.settled()
    assert source.cache is not None and isinstance(source.cache.backend, BoundedMemoryCache)
    outside_keys = [k for k in source.cache.backend.entries.listed() if subject_digest(outside) in k]
    assert outside_keys and not any(k.endswith(":address") for k in outside_keys), outside_keys
