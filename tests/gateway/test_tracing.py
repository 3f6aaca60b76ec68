"""OpenTelemetry traces (resolvers.tracing) of the real Starlette app over the demo
departments: one span per request, children per source round trip and for the audit
commit, attributes that are catalog and protocol facts only; exported through the SDK's
in-memory exporter (a boundary: the collector) and, once, over real OTLP/HTTP to a small
receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import uvicorn
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.app import Gateway, create_app
from gateway.demo import DRC, GRANT_PURPOSE, HOUSING, build_demo
from gateway.platform import new_grant_row
from gateway.settings import Settings
from policies.share import Mode
from resolvers import tracing

AMR = "amr.enterprise_registration"
QUERY = """query($c: USCC!) {
  organization(code: $c) { enterpriseRegistration { name legalRepresentative } taxCredit { creditRating } }
}"""
USER = "tracing-clerk-5521"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Gateway, list[str]]]:
    """The app over the demo, row cache off (every read is a source call), DRC granted the
    conditional item."""
    samples = build_demo(tmp_path, organizations=10, persons=2)
    settings = Settings.load({}, data=str(tmp_path), cache_url="off")
    gateway = await Gateway.start(settings)
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    rows = new_grant_row(DRC.code, AMR, ["legal_representative"], GRANT_PURPOSE, until, [Mode.QUERY])
    await gateway.platform.add_grant(rows)
    app = create_app(settings, gateway)
    app.state.gateway = gateway
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        yield client, gateway, samples["organizations"]
    await gateway.close()


async def ask(client: httpx.AsyncClient, gateway: Gateway, department: str, code: str) -> httpx.Response:
    token = gateway.signer.issue(department, ["consumer"], "test", 600)
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(GRANT_PURPOSE),
               "X-Request-User": USER, "Accept": "application/graphql-response+json"}  # fmt: skip
    return await client.post("/graphql", json={"query": QUERY, "variables": {"c": code}}, headers=headers)


def by_name(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


def texts(spans: tuple[ReadableSpan, ...]) -> str:
    """Every span name and attribute value, as one text to search."""
    return "\n".join(f"{s.name} {dict(s.attributes or {})}" for s in spans)


async def test_one_span_per_request_with_source_and_audit_children(
    served: tuple[httpx.AsyncClient, Gateway, list[str]], exporter: InMemorySpanExporter
) -> None:
    client, gateway, codes = served
    response = await ask(client, gateway, DRC.code, codes[0])
    assert response.status_code == 200, response.text
    spans = exporter.get_finished_spans()
    (root,) = by_name(spans, "POST /graphql")
    assert root.parent is None
    assert dict(root.attributes or {}) == {
        "http.request.method": "POST", "http.route": "/graphql", "govshare.mode": "query",
        "http.response.status_code": 200, "govshare.operation": "query", "govshare.outcome": "OK",
    }  # fmt: skip
    fetches = by_name(spans, "source.fetch")
    assert {f.attributes["govshare.resource"] for f in fetches} >= {AMR}  # type: ignore[index]
    (commit,) = by_name(spans, "audit.commit")
    for child in (*fetches, commit):
        assert child.parent is not None and child.parent.span_id == root.context.span_id
        assert child.context.trace_id == root.context.trace_id
    amr = next(f for f in fetches if f.attributes["govshare.resource"] == AMR)  # type: ignore[index]
    assert dict(amr.attributes or {}) == {"govshare.department": gateway.catalog.resources[AMR].provider,
                                          "govshare.resource": AMR, "govshare.keys": 1}  # fmt: skip
    assert commit.attributes == {"govshare.audit.kind": "query"}


async def test_no_code_purpose_user_consumer_or_value_in_any_span(
    served: tuple[httpx.AsyncClient, Gateway, list[str]], exporter: InMemorySpanExporter
) -> None:
    client, gateway, codes = served
    answered = (await ask(client, gateway, DRC.code, codes[1])).json()["data"]["organization"]
    refused = await ask(client, gateway, HOUSING.code, codes[2])  # no grant of the conditional item
    assert refused.json()["errors"]
    registration = answered["enterpriseRegistration"]
    stored = [registration["name"], registration["legalRepresentative"]]  # a rating is one letter
    spans = exporter.get_finished_spans()
    text = texts(spans)
    for secret in [*codes[1:3], GRANT_PURPOSE, quote(GRANT_PURPOSE), USER, DRC.code, HOUSING.code, *stored]:
        assert str(secret) not in text, secret
    outcomes = [s.attributes["govshare.outcome"] for s in by_name(spans, "POST /graphql")]  # type: ignore[index]
    assert outcomes == ["OK", refused.json()["errors"][0]["extensions"]["code"]]


async def test_spans_reach_a_real_otlp_http_receiver(
    served: tuple[httpx.AsyncClient, Gateway, list[str]],
) -> None:
    client, gateway, codes = served
    received: list[ExportTraceServiceRequest] = []

    async def traces(request: Request) -> Response:
        received.append(ExportTraceServiceRequest.FromString(await request.body()))
        return Response(b"", media_type="application/x-protobuf")

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    app = Starlette(routes=[Route("/v1/traces", traces, methods=["POST"])])
    receiver = uvicorn.Server(uvicorn.Config(app, log_level="warning", log_config=None))
    serving = asyncio.ensure_future(receiver.serve(sockets=[sock]))
    try:
        provider = tracing.start(f"http://127.0.0.1:{sock.getsockname()[1]}")
        assert (await ask(client, gateway, DRC.code, codes[3])).status_code == 200
        await asyncio.to_thread(tracing.stop, provider)  # flushes the batch to the receiver
    finally:
        receiver.should_exit = True
        await serving
        sock.close()
    names = [
        span.name for r in received for rs in r.resource_spans for ss in rs.scope_spans for span in ss.spans
    ]
    assert "POST /graphql" in names and "source.fetch" in names and "audit.commit" in names


def test_the_otlp_traces_url_follows_the_sdk() -> None:
    assert tracing.traces_url("http://c:4318") == "http://c:4318/v1/traces"
    assert tracing.traces_url("http://c:4318/") == "http://c:4318/v1/traces"
    assert tracing.traces_url("http://c:4318/v1/traces") == "http://c:4318/v1/traces"


def test_tracing_is_off_without_an_endpoint() -> None:
    assert tracing.start(None) is None
    assert tracing.TRACER is None
    with tracing.span("x", {"a": 1}) as nothing:
        assert nothing is None


def test_the_endpoint_comes_from_either_variable(tmp_path: Path) -> None:
    standard = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel:4318"}
    assert Settings.load(standard, data=str(tmp_path)).otel_endpoint == "http://otel:4318"
    ours = {**standard, "GOVSHARE_OTEL_ENDPOINT": "http://mine:4318"}
    assert Settings.load(ours, data=str(tmp_path)).otel_endpoint == "http://mine:4318"
    assert Settings.load({}, data=str(tmp_path)).otel_endpoint is None
