"""gateway.metrics_endpoint in process: grants and applications by state counted in the
platform database (both backends) with a TTL, outcomes read from answers the handlers
never noted (a refusal's body, a batch), metrics off, and the settings that configure it."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import yaml
from prometheus_client import REGISTRY

from errors import ConfigurationError
from gateway.app import Gateway, create_app
from gateway.demo import HOUSING, build_demo, organization_codes
from gateway.metrics_endpoint import (
    PlatformStates,
    RequestMetrics,
    forget_dead_workers,
    prepare_multiprocess,
    serving_listener,
)
from gateway.platform import GrantRow, PlatformDB, new_grant_row
from gateway.settings import Settings
from policies.catalog import load_catalog
from resolvers import metrics
from resolvers.rowcache import DEFINED

CONSUMER = "11420100MB0008888X"
AMR = "amr.enterprise_registration"


def requests(**labels: str) -> float:
    return REGISTRY.get_sample_value("govshare_requests_total", labels) or 0.0


async def test_grants_are_counted_by_state_within_the_ttl(platform: PlatformDB) -> None:
    now = dt.datetime.now(dt.UTC)
    rows = [
        new_grant_row(CONSUMER, "amr.r", ["a"], "p", now + dt.timedelta(days=1)),  # active
        new_grant_row(
            CONSUMER, "amr.r", ["a"], "p", now + dt.timedelta(days=9), valid_from=now + dt.timedelta(days=2)
        ),
        new_grant_row(CONSUMER, "amr.r", ["a"], "p", now + dt.timedelta(days=1)),  # revoked below
        new_grant_row(CONSUMER, "amr.r", ["a"], "p", now + dt.timedelta(days=1)),  # expired below
    ]
    for row in rows:
        await platform.add_grant(row)
    await platform.revoke_grant(rows[2].id)
    async with platform.engine.begin() as conn:
        past = {"valid_from": now - dt.timedelta(days=3), "valid_until": now - dt.timedelta(days=1)}
        await conn.execute(sa.update(GrantRow).where(GrantRow.id == rows[3].id).values(**past))
    states = PlatformStates(platform, ttl=3600)
    await states.refresh()
    assert states.grants == {"active": 1, "pending": 1, "revoked": 1, "expired": 1}
    assert states.up == 1.0
    await platform.add_grant(new_grant_row(CONSUMER, "amr.r", ["a"], "p", now + dt.timedelta(days=1)))
    await states.refresh()  # within the TTL: the counts of the last scrape
    assert states.grants["active"] == 1
    states.ttl = 0
    await states.refresh()
    assert states.grants["active"] == 2
    collected = {m.name: {tuple(s.labels.values()): s.value for s in m.samples} for m in states.collect()}
    assert collected["govshare_grants"][("active",)] == 2
    assert set(collected["govshare_applications"]) == {(s,) for s in states.applications} | {
        (s,)
        for s in ("submitted", "returned", "accepted", "approved", "refused", "escalated", "refusal_pending")
    }


async def test_a_platform_that_cannot_count_serves_the_last_counts_and_says_so() -> None:
    # a closed port refuses at once (an aiosqlite file that cannot open fails in a thread,
    # which may report to the test's loop after it closed)
    missing = PlatformDB("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    states = PlatformStates(missing, ttl=0)
    await states.refresh()  # never raises: a scrape still answers
    assert states.up == 0.0 and states.grants == {}
    await missing.close()


@pytest.fixture
async def app_of(tmp_path: Path) -> AsyncIterator[Any]:
    build_demo(tmp_path, organizations=5, persons=2)
    opened: list[Gateway] = []

    async def started(**flags: Any) -> httpx.AsyncClient:
        settings = Settings.load({}, data=str(tmp_path), instance=f"m{len(opened)}", **flags)
        gateway = await Gateway.start(settings)
        opened.append(gateway)
        app = create_app(settings, gateway)
        app.state.gateway = gateway
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")

    yield started
    for gateway in opened:
        await gateway.close()
    metrics.switch(True)


async def test_outcomes_of_refusals_and_batches_are_counted(app_of: Any) -> None:
    client = await app_of()
    gateway: Gateway = client._transport.app.state.gateway  # type: ignore[attr-defined]
    token = gateway.signer.issue(HOUSING.code, ["consumer"], "test", 600)
    auth = {"Authorization": f"Bearer {token}"}
    media = requests(operation="none", mode="query", outcome="UNSUPPORTED_MEDIA_TYPE")
    sent = await client.post("/graphql", content=b"{}", headers={**auth, "Content-Type": "text/plain"})
    assert sent.status_code == 415
    assert requests(operation="none", mode="query", outcome="UNSUPPORTED_MEDIA_TYPE") == media + 1
    batch = requests(operation="batch", mode="query", outcome="OK")
    two = [{"query": "{ __typename }"}, {"query": "{ __typename }"}]
    assert (await client.post("/graphql", json=two, headers=auth)).status_code == 200
    assert requests(operation="batch", mode="query", outcome="OK") == batch + 1
    bad = requests(operation="query", mode="query", outcome="BAD_REQUEST")
    assert (await client.post("/graphql", json={"query": "{ nope }"}, headers=auth)).status_code == 200
    assert requests(operation="query", mode="query", outcome="BAD_REQUEST") == bad + 1
    missing = requests(operation="none", mode="other", outcome="HTTP_404")
    assert (await client.get("/no/such/91420103MA0000015T")).status_code == 404
    assert requests(operation="none", mode="other", outcome="HTTP_404") == missing + 1
    await client.aclose()


async def test_with_metrics_off_nothing_is_counted_and_no_middleware_runs(app_of: Any) -> None:
    client = await app_of(metrics="off")
    assert RequestMetrics not in [m.cls for m in client._transport.app.user_middleware]  # type: ignore[attr-defined]
    before = requests(operation="none", mode="other", outcome="OK")
    assert (await client.get("/healthz")).status_code == 200
    assert requests(operation="none", mode="other", outcome="OK") == before
    await client.aclose()


@pytest.mark.parametrize(
    ("value", "parsed"),
    [("127.0.0.1:9464", ("127.0.0.1", 9464)), ("[::1]:9464", ("::1", 9464)), ("", None)],
)
def test_the_listen_address_is_host_and_port(tmp_path: Path, value: str, parsed: Any) -> None:
    env = {"GOVSHARE_METRICS_LISTEN": value}
    assert Settings.load(env, data=str(tmp_path)).metrics_listen == parsed


@pytest.mark.parametrize("value", ["9464", "127.0.0.1", "host:port", "127.0.0.1:70000"])
def test_a_bad_listen_address_names_the_variable(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigurationError, match="GOVSHARE_METRICS_LISTEN must be HOST:PORT"):
        Settings.load({"GOVSHARE_METRICS_LISTEN": value}, data=str(tmp_path))


def test_metrics_is_a_switch(tmp_path: Path) -> None:
    assert Settings.load({"GOVSHARE_METRICS": "off"}, data=str(tmp_path)).metrics is False
    with pytest.raises(ConfigurationError, match="GOVSHARE_METRICS must be on or off"):
        Settings.load({"GOVSHARE_METRICS": "maybe"}, data=str(tmp_path))


async def test_a_listen_address_in_use_is_a_configuration_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = Settings.load({"GOVSHARE_METRICS_LISTEN": f"127.0.0.1:{port}"}, data=str(tmp_path))
        platform = PlatformDB(settings.database_url)
        with pytest.raises(ConfigurationError, match="fix GOVSHARE_METRICS_LISTEN"):
            async with serving_listener(settings, platform):
                pass
        await platform.close()


async def test_after_a_catalog_swap_labels_are_still_catalog_ids_and_departments(
    app_of: Any, tmp_path: Path
) -> None:
    client = await app_of()
    gateway: Gateway = client._transport.app.state.gateway  # type: ignore[attr-defined]
    data = yaml.safe_load((tmp_path / "catalog.yaml").read_text(encoding="utf-8"))
    amr = next(r for r in data["resources"] if r["id"] == AMR)
    amr["update_cycle"] = "monthly" if amr["update_cycle"] != "monthly" else "daily"  # a new definition
    path = tmp_path / "published.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    await gateway.swap_catalog(load_catalog(path))
    source = gateway.federation.sources[AMR]
    assert source.resource != AMR  # cached under its new definition's name (resolvers.rowcache.defined)
    provider = gateway.catalog.resources[AMR].provider
    calls = REGISTRY.get_sample_value(
        "govshare_source_calls_total", {"department": provider, "outcome": "answered"}
    )
    misses = REGISTRY.get_sample_value(
        "govshare_row_cache_lookups_total", {"resource": AMR, "result": "miss"}
    )
    code = organization_codes(1)[0]
    await source.fetch([code], ["name"])
    after = REGISTRY.get_sample_value(
        "govshare_source_calls_total", {"department": provider, "outcome": "answered"}
    )
    assert after == (calls or 0) + 1
    assert (
        REGISTRY.get_sample_value("govshare_row_cache_lookups_total", {"resource": AMR, "result": "miss"})
        == (misses or 0) + 1
    )
    labels = {v for family in REGISTRY.collect() for s in family.samples for v in s.labels.values()}
    assert not [v for v in labels if DEFINED in v]
    await client.aclose()


def test_before_workers_the_multiproc_folder_is_set_and_emptied(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    folder = tmp_path / "workers" / "prometheus"
    folder.mkdir(parents=True)
    (folder / "counter_4242.db").write_bytes(b"an earlier run")
    environment: dict[str, str] = {}
    prepare_multiprocess(Settings.load({}, data=str(tmp_path)), environment)
    assert environment == {"PROMETHEUS_MULTIPROC_DIR": str(folder)}
    assert list(folder.iterdir()) == []
    off: dict[str, str] = {}
    prepare_multiprocess(Settings.load({"GOVSHARE_METRICS": "off"}, data=str(tmp_path)), off)
    assert off == {}


def test_a_dead_workers_live_gauges_are_forgotten_at_scrape(tmp_path: Path) -> None:
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = int(ended.stdout)
    for name in (f"gauge_livesum_{dead}.db", f"gauge_livemax_{os.getpid()}.db", f"counter_{dead}.db"):
        (tmp_path / name).write_bytes(b"")
    assert forget_dead_workers(tmp_path) == [dead]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"counter_{dead}.db",
        f"gauge_livemax_{os.getpid()}.db",
    ]
