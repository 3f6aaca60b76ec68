"""Break-it tests of GET /metrics and the traces over a REAL server (uvicorn on 127.0.0.1,
a random port): what an adversarial consumer can put into a span or a series, and which
routes reach the exposition without the operator role."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import pytest_asyncio
import uvicorn
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from connectors.base import Binding
from errors import ConfigurationError
from gateway.app import Gateway, create_app
from gateway.demo import DRC, GRANT_PURPOSE, build_demo
from gateway.metrics_endpoint import serving_listener, warn_if_public
from gateway.platform import PlatformDB, new_grant_row
from gateway.settings import Settings
from policies.share import Mode
from resolvers import metrics

pytestmark = pytest.mark.asyncio(loop_scope="module")  # one served gateway for the module
AMR = "amr.enterprise_registration"
QUERY = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { name } } }"


@pytest.fixture(scope="module")
def tmp_module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("metrev")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(tmp_module: Path) -> AsyncIterator[tuple[str, Gateway, list[str]]]:
    """The app over the demo departments on a real uvicorn, row cache off."""
    async with serving(tmp_module, {}) as served:
        yield served


@contextlib.asynccontextmanager
async def serving(
    data: Path, env: dict[str, str], http: str = "auto"
) -> AsyncIterator[tuple[str, Gateway, list[str]]]:
    samples = build_demo(data, organizations=10, persons=2)
    settings = Settings.load(env, data=str(data), cache_url="off")
    gateway = await Gateway.start(settings)
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    grant = new_grant_row(DRC.code, AMR, ["name"], GRANT_PURPOSE, until, [Mode.QUERY])
    await gateway.platform.add_grant(grant)
    app = create_app(settings, gateway)
    app.state.gateway = gateway
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    uv = uvicorn.Server(uvicorn.Config(app, http=http, log_level="warning", log_config=None, lifespan="off"))
    serving = asyncio.ensure_future(uv.serve(sockets=[sock]))
    while not uv.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", gateway, samples["organizations"]
    finally:
        uv.should_exit = True
        await serving
        sock.close()
        await gateway.close()


def headers(gateway: Gateway, department: str, role: str = "consumer") -> dict[str, str]:
    token = gateway.signer.issue(department, [role], "test", 600)
    return {"Authorization": f"Bearer {token}", "X-Purpose": quote(GRANT_PURPOSE),
            "Accept": "application/graphql-response+json"}  # fmt: skip


def everything_of(spans: Sequence[ReadableSpan]) -> str:
    """Every text a collector receives of the spans: names, attributes, status, events."""
    return "\n".join(
        f"{s.name} {dict(s.attributes or {})} {s.status.description} "
        f"{[(e.name, dict(e.attributes or {})) for e in s.events]}"
        for s in spans
    )


async def test_a_failing_source_quoting_a_subject_puts_no_exception_text_on_a_span(
    server: tuple[str, Gateway, list[str]], exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, gateway, codes = server

    async def quoting(binding: Binding, keys: Sequence[str], items: Sequence[str]) -> Any:
        raise RuntimeError(f"row of {keys[0]} is unreadable")  # a source's error that quotes the key

    for connector in gateway.connectors.values():
        monkeypatch.setattr(connector, "fetch", quoting)
    async with httpx.AsyncClient(base_url=url) as client:
        answer = await client.post("/graphql", json={"query": QUERY, "variables": {"c": codes[4]}},
                                   headers=headers(gateway, DRC.code))  # fmt: skip
    assert answer.json()["errors"], answer.text
    spans = exporter.get_finished_spans()
    failed = [s for s in spans if s.name == "source.fetch"]
    assert failed and all(s.status.status_code.name == "ERROR" for s in failed)
    assert codes[4] not in everything_of(spans)


@pytest.mark.parametrize(
    "method,path",
    [("GET", "/metrics"), ("HEAD", "/metrics"), ("GET", "/metrics/"), ("GET", "//metrics"),
     ("GET", "/metrics?x=1"), ("GET", "/Metrics"), ("GET", "/metrics%2F"), ("GET", "/./metrics"),
     ("POST", "/metrics"), ("OPTIONS", "/metrics")],
)  # fmt: skip
async def test_no_path_variant_serves_metrics_to_a_consumer(
    server: tuple[str, Gateway, list[str]], method: str, path: str
) -> None:
    url, gateway, _ = server
    async with httpx.AsyncClient(base_url=url, follow_redirects=True) as client:
        for auth in ({}, headers(gateway, DRC.code), headers(gateway, DRC.code, "provider")):
            answer = await client.request(method, path, headers=auth)
            assert answer.status_code in (401, 403, 404, 405), (path, answer.status_code)
            assert b"govshare_" not in answer.content


async def test_with_metrics_off_the_operator_gets_404_naming_the_switch_not_zeros(tmp_path: Path) -> None:
    try:
        async with (
            serving(tmp_path, {"GOVSHARE_METRICS": "off"}) as (url, gateway, _),
            httpx.AsyncClient(base_url=url) as client,
        ):
            answer = await client.get("/metrics", headers=headers(gateway, DRC.code, "operator"))
            refused = await client.get("/metrics", headers=headers(gateway, DRC.code))
    finally:
        metrics.switch(True)  # Gateway.start set the process-wide switch off
    assert answer.status_code == 404 and "GOVSHARE_METRICS" in answer.text, answer.text
    assert b"govshare_" not in answer.content
    assert refused.status_code == 403  # a consumer does not learn whether metrics are on


async def test_a_listener_with_metrics_off_is_a_configuration_error(tmp_path: Path) -> None:
    env = {"GOVSHARE_METRICS": "off", "GOVSHARE_METRICS_LISTEN": "127.0.0.1:0"}
    settings = Settings.load(env, data=str(tmp_path))
    platform = PlatformDB(settings.database_url)
    try:
        with pytest.raises(ConfigurationError, match="GOVSHARE_METRICS=off"):
            async with serving_listener(settings, platform):
                pass
    finally:
        await platform.close()


async def test_a_method_the_client_invents_is_not_a_span_name_or_attribute(
    tmp_path: Path, exporter: InMemorySpanExporter
) -> None:
    """httptools (govshare serve) refuses an unknown method before the app; h11, or another
    ASGI server, hands it on: the span must still not carry it (OpenTelemetry HTTP semantic
    conventions: ``_OTHER``)."""
    async with (
        serving(tmp_path, {}, http="h11") as (url, gateway, codes),
        httpx.AsyncClient(base_url=url) as client,
    ):
        invented = f"X{codes[5]}"  # any token is a method on the wire (RFC 9110 section 9.1)
        for path in ("/graphql", "/metrics", "/no/such/path"):
            answer = await client.request(invented, path, headers=headers(gateway, DRC.code))
            assert answer.status_code in (400, 404, 405, 501), answer.status_code
    assert codes[5] not in everything_of(exporter.get_finished_spans())
    spans = [s for s in exporter.get_finished_spans() if "http.request.method" in (s.attributes or {})]
    assert len(spans) == 3
    assert {s.attributes["http.request.method"] for s in spans} == {"_OTHER"}  # type: ignore[index]
    assert {s.name for s in spans} == {"HTTP /graphql", "HTTP other"}


async def test_a_resource_withdrawn_by_a_catalog_swap_leaves_no_freshness_series(
    server: tuple[str, Gateway, list[str]],
) -> None:
    url, gateway, _ = server
    provider = gateway.catalog.resources[AMR].provider
    metrics.freshness(provider, AMR, 1.7e9, True)
    metrics.freshness(provider, "withdrawn.resource", 1.6e9, False)  # in the catalog before the swap
    metrics.freshness("91420100000000000X", AMR, 1.6e9, False)  # its provider changed by the swap
    await gateway.swap_catalog(gateway.catalog)
    async with httpx.AsyncClient(base_url=url) as client:
        body = (await client.get("/metrics", headers=headers(gateway, DRC.code, "operator"))).text
    assert f'govshare_source_on_time{{department="{provider}",resource="{AMR}"}} 1.0' in body
    assert "withdrawn.resource" not in body and "91420100000000000X" not in body


@pytest.mark.parametrize(
    ("host", "warned"),
    [("0.0.0.0", True), ("::", True), ("8.8.8.8", True), ("127.0.0.1", False), ("10.1.2.3", False),
     ("::1", False), ("metrics.internal", False)],
)  # fmt: skip
async def test_an_unauthenticated_listener_on_every_interface_or_a_public_address_is_warned(
    host: str, warned: bool, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="govshare.metrics"):
        assert warn_if_public(host) is warned
    assert ("without a token" in caplog.text) is warned
