"""The row cache in a running gateway (demo departments, real SQLite sources, the real
Starlette app): the access decision still runs on every request, hit or miss; a non-shared
column is never in the cache; two gateway processes share rows through a real Redis
(``GOVSHARE_TEST_REDIS_URL``; the Redis cases are skipped only when it is unset)."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from errors import ConfigurationError
from gateway.app import Gateway, create_app
from gateway.demo import BIGDATA, DRC, GRANT_PURPOSE, HOUSING, TAX, build_demo
from gateway.platform import new_grant_row
from gateway.settings import Settings
from policies.catalog import Mask
from policies.chinatime import utc_now
from policies.decision import GrantConditions
from policies.share import Mode
from resolvers.rowcache import NAMESPACE, BoundedMemoryCache, RowCache, decode_value

REDIS_URL = os.environ.get("GOVSHARE_TEST_REDIS_URL")
QUERY = """query($c: USCC!) {
  organization(code: $c) { enterpriseRegistration { name status legalRepresentative } }
}"""
Started = Callable[..., Any]


@pytest.fixture(params=["memory", "redis"])
def cache_url(request: pytest.FixtureRequest) -> str:
    if request.param == "redis" and not REDIS_URL:
        pytest.skip("GOVSHARE_TEST_REDIS_URL is not set")
    return REDIS_URL if request.param == "redis" else "memory://"  # type: ignore[return-value]


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[Started]:
    """start(cache_url) -> (client, gateway): another gateway over the same demo folder."""
    samples = build_demo(tmp_path, organizations=20, persons=5)
    opened: list[tuple[httpx.AsyncClient, Gateway]] = []

    async def started(cache_url: str) -> tuple[httpx.AsyncClient, Gateway, dict[str, Any]]:
        instance = f"gateway-{len(opened)}"  # each process its own audit chain
        settings = Settings.load({}, data=str(tmp_path), cache_url=cache_url, instance=instance)
        gateway = await Gateway.start(settings)
        if not opened and gateway.health and gateway.health.cache:  # Redis is shared: start clean
            await gateway.health.cache.backend.clear(namespace=NAMESPACE)
        app = create_app(settings, gateway)
        app.state.gateway = gateway
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
        opened.append((client, gateway))
        return client, gateway, samples

    yield started
    for client, gateway in opened:
        await client.aclose()
        await gateway.close()


async def ask(
    client: httpx.AsyncClient, gateway: Gateway, department: str, code: str, query: str = QUERY
) -> Any:
    token = gateway.signer.issue(department, ["consumer"], "test", 600)
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(GRANT_PURPOSE), "X-Voucher": "off"}
    response = await client.post("/graphql", json={"query": query, "variables": {"c": code}}, headers=headers)
    return response.json()


def row_cache(gateway: Gateway) -> RowCache:
    assert gateway.health is not None and gateway.health.cache is not None
    return gateway.health.cache


async def test_a_grant_revoked_a_moment_ago_is_not_served_from_the_cache(
    start: Started, cache_url: str
) -> None:
    client, gateway, samples = await start(cache_url)
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    grant = await gateway.platform.add_grant(
        new_grant_row(
            DRC.code,
            "amr.enterprise_registration",
            ["legal_representative"],
            GRANT_PURPOSE,
            until,
            [Mode.QUERY],
        )
    )
    code = samples["organizations"][0]
    first = await ask(client, gateway, DRC.code, code)
    assert first["data"]["organization"]["enterpriseRegistration"]["legalRepresentative"]
    trips = gateway.federation.round_trips()
    again = await ask(client, gateway, DRC.code, code)
    assert again == first and gateway.federation.round_trips() == trips  # a hit

    await gateway.platform.revoke_grant(grant.id)
    after = await ask(client, gateway, DRC.code, code)
    registration = after["data"]["organization"]["enterpriseRegistration"]
    assert registration["legalRepresentative"] is None
    assert registration["name"] == first["data"]["organization"]["enterpriseRegistration"]["name"]
    [error] = after["errors"]
    assert error["path"][-1] == "legalRepresentative"
    assert error["extensions"]["code"] == "CONDITIONAL_ACCESS_REQUIRED"
    assert gateway.federation.round_trips() == trips  # the row was cached, and still refused


async def test_a_consumer_without_the_grant_is_refused_an_item_another_consumer_cached(
    start: Started, cache_url: str
) -> None:
    client, gateway, samples = await start(cache_url)
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    await gateway.platform.add_grant(
        new_grant_row(
            DRC.code,
            "amr.enterprise_registration",
            ["legal_representative"],
            GRANT_PURPOSE,
            until,
            [Mode.QUERY],
        )
    )
    code = samples["organizations"][1]
    granted = await ask(client, gateway, DRC.code, code)
    assert granted["data"]["organization"]["enterpriseRegistration"]["legalRepresentative"]
    other = await ask(client, gateway, HOUSING.code, code)
    assert other["data"]["organization"]["enterpriseRegistration"]["legalRepresentative"] is None
    assert other["errors"][0]["extensions"]["code"] == "CONDITIONAL_ACCESS_REQUIRED"


async def test_a_non_shared_column_is_never_in_the_cache(
    start: Started, cache_url: str, tmp_path: Path
) -> None:
    client, gateway, samples = await start(cache_url)
    code = samples["organizations"][2]
    every = "name legalRepresentative registeredCapital status registrationDate address businessScope"
    every += " innerNote"
    query = QUERY.replace("name status legalRepresentative", every)
    answer = await ask(client, gateway, HOUSING.code, code, query)
    assert any(e["extensions"]["code"] == "NOT_SHARED" for e in answer["errors"])
    await ask(client, gateway, DRC.code, code, query.replace(" innerNote", ""))
    await ask(client, gateway, HOUSING.code, code)
    with sqlite3.connect(tmp_path / "amr.db") as db:
        [secret] = db.execute("SELECT inner_note FROM enterprise WHERE uscc = ?", (code,)).fetchone()
    assert secret
    keys, values = await cached(row_cache(gateway))
    items = {key.rsplit(":", 1)[1] for key in keys}
    assert "name" in items and "inner_note" not in items
    assert items <= {
        "#",
        "uscc",
        "name",
        "registered_capital",
        "status",
        "registration_date",
        "business_scope",
        "legal_representative",
        "address",
        "credit_rating",
        "taxpayer_type",
    }
    assert all(secret != decode_value(v) for v in values if v not in (b"0", b"1"))
    assert not any(code in key for key in keys)


async def cached(cache: RowCache) -> tuple[list[str], list[bytes]]:
    """Every key and value of the row cache: the memory map's, or Redis ``KEYS``/``MGET``."""
    if isinstance(cache.backend, BoundedMemoryCache):
        keys = cache.backend.entries.listed()
        return keys, [cache.backend.entries.get(k)[0] for k in keys]  # type: ignore[index]
    keys = sorted(k.decode() for k in await cache.backend.client.keys(f"{NAMESPACE}:*"))
    return keys, list(await cache.backend.client.mget(keys)) if keys else []


@pytest.mark.skipif(not REDIS_URL, reason="GOVSHARE_TEST_REDIS_URL is not set")
async def test_two_gateways_share_rows_through_redis(start: Started) -> None:
    first, one, samples = await start(REDIS_URL)
    second, other, _ = await start(REDIS_URL)
    code = samples["organizations"][3]
    answer = await ask(first, one, HOUSING.code, code)
    assert one.federation.round_trips() == 1
    assert await ask(second, other, HOUSING.code, code) == answer
    assert other.federation.round_trips() == 0 and row_cache(other).hits == 1


async def test_a_change_notice_invalidates_the_subjects_rows(
    start: Started, cache_url: str, tmp_path: Path
) -> None:
    client, gateway, samples = await start(cache_url)
    code = samples["organizations"][4]
    await ask(client, gateway, HOUSING.code, code)
    with sqlite3.connect(tmp_path / "amr.db") as db:
        db.execute("UPDATE enterprise SET ent_name = '已更名有限公司' WHERE uscc = ?", (code,))
    stale = await ask(client, gateway, HOUSING.code, code)
    assert stale["data"]["organization"]["enterpriseRegistration"]["name"] != "已更名有限公司"  # cached
    assert gateway.federation.changes is not None  # the provider's notice, as notifyChange gives it
    await gateway.federation.changes.record(
        "amr.enterprise_registration", [code], ["name"], utc_now(), "test"
    )
    fresh = await ask(client, gateway, HOUSING.code, code)
    assert fresh["data"]["organization"]["enterpriseRegistration"]["name"] == "已更名有限公司"


async def test_a_change_seen_by_freshness_drops_the_resources_rows(start: Started, tmp_path: Path) -> None:
    client, gateway, samples = await start("memory://")
    assert gateway.health is not None
    await gateway.health.watch_once()
    code = samples["organizations"][5]
    await ask(client, gateway, HOUSING.code, code)
    with sqlite3.connect(tmp_path / "amr.db") as db:  # the provider's load stamps its change
        db.execute(
            "UPDATE enterprise SET ent_name = '新名称', updated_at = '2099-01-01' WHERE uscc = ?", (code,)
        )
    assert "amr.enterprise_registration" in await gateway.health.watch_once()
    fresh = await ask(client, gateway, HOUSING.code, code)
    assert fresh["data"]["organization"]["enterpriseRegistration"]["name"] == "新名称"


async def test_readyz_shows_the_cache_the_platform_and_each_sources_circuit(
    start: Started, cache_url: str
) -> None:
    client, _, _ = await start(cache_url)
    body = (await client.get("/readyz")).json()
    down = {rid for rid, source in body["sources"].items() if source["state"] != "ok"}
    assert down <= {"hpf.deposit"}  # the demo's REST department runs beside `govshare demo` only
    assert body["status"] == ("degraded" if down else "ready")
    assert body["cache"]["state"] == "ok" and body["cache"]["backend"] == cache_url.split("://")[0]
    assert body["platform"] == {"state": "ok"}
    source = body["sources"]["amr.enterprise_registration"]
    assert source["circuit"] == "closed" and source["cacheTtl"] == 300
    assert source["lastUpdate"] is not None and "onTime" in source


async def test_with_the_cache_off_every_read_goes_to_the_source(start: Started) -> None:
    client, gateway, samples = await start("off")
    code = samples["organizations"][6]
    await ask(client, gateway, HOUSING.code, code)
    await ask(client, gateway, HOUSING.code, code)
    assert gateway.federation.round_trips() == 2
    assert (await client.get("/readyz")).json()["cache"]["backend"] == "off"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"GOVSHARE_CACHE_URL": "memcached://127.0.0.1"}, "GOVSHARE_CACHE_URL must be memory://"),
        ({"GOVSHARE_CACHE_URL": "redis://127.0.0.1:notaport/0"}, "GOVSHARE_CACHE_URL .*port"),
        ({"GOVSHARE_CACHE_URL": "redis://127.0.0.1:99999/0"}, "GOVSHARE_CACHE_URL .*port"),
        ({"GOVSHARE_CACHE_URL": "redis://127.0.0.1:6379/abc"}, "GOVSHARE_CACHE_URL .*database"),
        ({"GOVSHARE_CACHE_URL": "redis://127.0.0.1:6379/0?pool=9"}, "GOVSHARE_CACHE_URL .*pool"),
        ({"GOVSHARE_CACHE_URL": "redis://127.0.0.1:6379/0?timeout=x"}, "GOVSHARE_CACHE_URL .*timeout"),
        ({"GOVSHARE_ROW_CACHE_BYTES": "lots"}, "GOVSHARE_ROW_CACHE_BYTES must be a whole number"),
        ({"GOVSHARE_BREAKER_FAILURES": "0"}, "GOVSHARE_BREAKER_FAILURES must be at least 1"),
        ({"GOVSHARE_BREAKER_OPEN_SECONDS": "-5"}, "GOVSHARE_BREAKER_OPEN_SECONDS must not be negative"),
        ({"GOVSHARE_FRESHNESS_SECONDS": "0"}, "GOVSHARE_FRESHNESS_SECONDS must be at least 1"),
    ],
)
def test_bad_cache_and_breaker_settings_are_refused_naming_the_variable(
    environ: dict[str, str], named: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError, match=named):
        Settings.load({**environ, "GOVSHARE_DATA": str(tmp_path)})


def test_a_bad_cache_url_does_not_show_its_password(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.load({"GOVSHARE_CACHE_URL": "redis://:s3cret@127.0.0.1:x/0", "GOVSHARE_DATA": str(tmp_path)})
    assert "s3cret" not in caught.value.message and "GOVSHARE_CACHE_URL" in caught.value.message


def test_cache_and_breaker_settings_are_read_from_the_environment(tmp_path: Path) -> None:
    environ = {"GOVSHARE_DATA": str(tmp_path), "GOVSHARE_CACHE_URL": "redis://127.0.0.1:6379/2",
               "GOVSHARE_ROW_CACHE_BYTES": "1000", "GOVSHARE_BREAKER_FAILURES": "3",
               "GOVSHARE_BREAKER_OPEN_SECONDS": "7", "GOVSHARE_FRESHNESS_SECONDS": "9"}  # fmt: skip
    settings = Settings.load(environ)
    assert (settings.cache_url, settings.row_cache_bytes, settings.freshness_seconds) == (
        "redis://127.0.0.1:6379/2", 1000, 9)  # fmt: skip
    assert (settings.breaker.failures, settings.breaker.open_seconds) == (3, 7.0)


async def test_rows_cached_for_one_grant_are_shown_to_others_only_as_their_own_grants_allow(
    start: Started, cache_url: str
) -> None:
    """DRC's read caches the raw row; then, all served from the cache (no source call): a
    masked grant sees the masked value, a grant scoped to another division is OUT_OF_SCOPE,
    and a consumer without a grant is refused through aliases, fragments and a batch (its
    existence check may read other resources)."""
    client, gateway, samples = await start(cache_url)
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    item = ["legal_representative"]
    masked = GrantConditions(masks={"legal_representative": Mask(1, 0)})
    scoped = GrantConditions(regions=("110000",))  # Beijing: the demo's organizations are in Wuhan
    for consumer, conditions in ((DRC.code, None), (TAX.code, masked), (BIGDATA.code, scoped)):
        row = new_grant_row(
            consumer, "amr.enterprise_registration", item, GRANT_PURPOSE, until, conditions=conditions
        )
        await gateway.platform.add_grant(row)
    code = samples["organizations"][3]
    raw = (await ask(client, gateway, DRC.code, code))["data"]["organization"]["enterpriseRegistration"]
    assert len(raw["legalRepresentative"]) >= 2
    trips = gateway.federation.round_trips()

    seen = (await ask(client, gateway, TAX.code, code))["data"]["organization"]["enterpriseRegistration"]
    assert seen["legalRepresentative"] == raw["legalRepresentative"][0] + "*" * (
        len(raw["legalRepresentative"]) - 1
    )

    out = await ask(client, gateway, BIGDATA.code, code)
    assert gateway.federation.round_trips() == trips  # both answers above came from the cache
    assert out["data"]["organization"]["enterpriseRegistration"]["legalRepresentative"] is None
    assert {e["extensions"]["code"] for e in out["errors"]} == {"OUT_OF_SCOPE"}

    sneaky = """query($c: USCC!) {
      a: organization(code: $c) { r: enterpriseRegistration { x: legalRepresentative } }
      b: organization(code: $c) { ...F } }
    fragment F on Organization {
      enterpriseRegistration { ... on EnterpriseRegistration { legalRepresentative } } }"""
    answer = await ask(client, gateway, HOUSING.code, code, sneaky)
    assert raw["legalRepresentative"] not in str(answer["data"]), answer
    token = gateway.signer.issue(HOUSING.code, ["consumer"], "test", 600)
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(GRANT_PURPOSE), "X-Voucher": "off"}
    batch = [{"query": QUERY, "variables": {"c": code}}, {"query": sneaky, "variables": {"c": code}}]
    batched = (await client.post("/graphql", json=batch, headers=headers)).json()
    assert raw["legalRepresentative"] not in str(batched), batched
