"""The connector contract for kind ``graphql`` (connectors/graphql.py), against real servers.

- ``upstream``: a real govshare gateway (uvicorn on 127.0.0.1, a random port) over a catalog
  of 300 generated organizations (mock source), which trusts the test's "downstream
  gateway": an OAuth client registered there and a JWKS served by a second small server.
  Consumer A holds a grant on the conditional ``legal_representative``; B does not.
- ``fake``: a Starlette app playing a misbehaving upstream (hung, answering more than
  asked, refusing the whole request, not GraphQL at all), served the same way.

The contract as the other kinds keep it (fetch, missing subjects, only the requested items,
freshness, close, timeouts, more than asked cut down), with what an upstream gateway
cannot offer said plainly: ``scan`` raises ``SourceUnavailable`` with
``unsupported: scan``; ``freshness`` is None.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from connectors import graphql as graphql_connector
from connectors.base import open_connector
from connectors.forwarding import OnBehalfOf, on_behalf_of
from connectors.graphql import GraphQLBinding, GraphQLConnector
from errors import (
    ConditionalAccessRequired,
    ConfigurationError,
    GovshareError,
    NotShared,
    RateLimited,
    SourceUnavailable,
)
from gateway.app import bind_sources, create_app, open_connectors
from gateway.auth import Signer, load_signer
from gateway.clients import ClientStore
from gateway.demo_applications import approve_unconditional
from gateway.forwarding import assertion_signer
from gateway.platform import PlatformDB, default_url, new_grant_row
from gateway.settings import Settings, TrustedGateway
from policies.catalog import load_catalog
from policies.codes import make_uscc
from tests.connectors.graphql_upstream import upstream_app

PROVIDER = "11420000MB00000191"
DOWNSTREAM = "11420100MB0000094Y"
CONSUMER_A, CONSUMER_B = make_uscc("1", "1", "420102", "MB000001"), make_uscc("1", "1", "420103", "MB000002")
PURPOSE = "行政审批核验"
AUDIENCE = "test-upstream"
COUNT = 300
ITEMS = ("uscc", "name", "registered_capital", "status")


def code(i: int) -> str:
    return make_uscc("9", "1", "420100", f"MA{i:06d}")


def stored(i: int) -> dict[str, Any]:
    return {
        "uscc": code(i),
        "ent_name": f"企业{i}",
        "legal_rep": f"代表{i}",
        "capital": 1000 * i,
        "status": ("存续", "注销")[i % 2],
        "inner_note": f"内部备注{i}",
    }


COLUMN = {
    "uscc": "uscc",
    "name": "ent_name",
    "legal_representative": "legal_rep",
    "registered_capital": "capital",
    "status": "status",
}


def expected(i: int, items: tuple[str, ...]) -> dict[str, Any]:
    return {item: stored(i)[COLUMN[item]] for item in items}


CATALOG = {
    "profile": "hubei",
    "departments": [
        {
            "code": PROVIDER,
            "name": "湖北省市场监督管理局",
            "region": "420000",
            "level": "province",
            "connector": {"kind": "mock", "tables": {"enterprise": [stored(i) for i in range(COUNT)]}},
        }
    ],
    "resources": [
        {
            "id": "amr.enterprise_registration",
            "code": "420000-AMR-001",
            "name": "企业登记信息",
            "provider": PROVIDER,
            "subject": "organization",
            "key": "uscc",
            "update_cycle": "daily",
            "share": "unconditional",
            "modes": ["query"],
            "source": {
                "table": "enterprise",
                "columns": {
                    "name": "ent_name",
                    "legal_representative": "legal_rep",
                    "registered_capital": "capital",
                },
            },
            "items": [
                {"name": "uscc", "title": "统一社会信用代码"},
                {"name": "name", "title": "企业名称"},
                {
                    "name": "legal_representative",
                    "title": "法定代表人",
                    "share": "conditional",
                    "condition": "用于行政审批核验",
                },
                {"name": "registered_capital", "title": "注册资本", "type": "integer"},
                {"name": "status", "title": "登记状态"},
                {"name": "inner_note", "title": "内部备注", "share": "not_shared", "basis": "《条例》第十条"},
            ],
        }
    ],
}


def serve(app: Any, lifespan: str = "off") -> tuple[str, uvicorn.Server, threading.Thread, socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY on accept
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan=lifespan)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.02)
    assert server.started, "a test server did not start"
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server, thread, sock


def stop(*servers: tuple[str, uvicorn.Server, threading.Thread, socket.socket]) -> None:
    for _, server, thread, sock in servers:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


@dataclass
class Upstream:
    url: str
    client_id: str
    secret: str
    signer: Signer  # the downstream gateway's keys, trusted upstream
    untrusted: tuple[str, str]  # (client id, secret) of a client NOT listed as a trusted gateway


async def _register(data: Path) -> tuple[str, str, tuple[str, str]]:
    platform = PlatformDB(default_url(str(data)))
    await platform.create_schema()
    client, secret = await ClientStore(platform).create(DOWNSTREAM, ["consumer"], "下级共享平台")
    other, other_secret = await ClientStore(platform).create(
        DOWNSTREAM, ["consumer"], "未登记为下级平台的系统"
    )
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    grant = new_grant_row(CONSUMER_A, "amr.enterprise_registration", ["legal_representative"], PURPOSE, until)
    await platform.add_grant(grant)
    await platform.close()
    return client.client_id, secret, (other.client_id, other_secret)


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    data, downstream = tmp_path_factory.mktemp("upstream"), tmp_path_factory.mktemp("downstream")
    (data / "catalog.yaml").write_text(yaml.safe_dump(CATALOG, allow_unicode=True))
    client_id, secret, untrusted = asyncio.run(_register(data))
    signer = load_signer(downstream)
    jwks = Starlette(routes=[Route("/jwks.json", lambda request: JSONResponse(signer.jwks()))])
    keys = serve(jwks)
    settings = dataclasses.replace(
        Settings.load({}, data=str(data), instance="upstream", audit="off"),
        gateway_name=AUDIENCE,
        trusted_gateways=(TrustedGateway(client_id, f"{keys[0]}/jwks.json"),),
    )
    # the catalog is hubei's: both consumers applied for the unconditional items and the
    # platform granted them on acceptance (Hubei art. 13, 21); only A holds legal_representative
    asyncio.run(approve_unconditional(settings, (CONSUMER_A, CONSUMER_B), PROVIDER, PURPOSE))
    gateway = serve(create_app(settings), lifespan="on")
    try:
        yield Upstream(f"{gateway[0]}/graphql", client_id, secret, signer, untrusted)
    finally:
        stop(gateway, keys)


@pytest.fixture
async def connector(upstream: Upstream, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[GraphQLConnector]:
    monkeypatch.setenv("TEST_UPSTREAM_CLIENT", upstream.client_id)
    monkeypatch.setenv("TEST_UPSTREAM_SECRET", upstream.secret)
    made = open_connector(settings(upstream.url), Path())
    assert isinstance(made, GraphQLConnector)
    yield made
    await made.close()


def settings(url: str, **changes: Any) -> dict[str, Any]:
    return {
        "kind": "graphql",
        "url": url,
        "client_id": "${TEST_UPSTREAM_CLIENT}",
        "client_secret": "${TEST_UPSTREAM_SECRET}",
        "audience": AUDIENCE,
        "timeout": 5,
        **changes,
    }


SOURCE = {"subject": "organization", "field": "enterpriseRegistration"}
ALL = (*ITEMS, "legal_representative")


def as_consumer(upstream: Upstream, consumer: str = CONSUMER_A) -> None:
    """This test's task reads on behalf of ``consumer`` (as ResourceSource sets it)."""
    on_behalf_of.set(
        OnBehalfOf(consumer, "county-system", "clerk", PURPOSE, None, assertion_signer(upstream.signer))
    )


# --- bind -------------------------------------------------------------------------------------


def test_bind_maps_items_to_upstream_fields(connector: GraphQLConnector) -> None:
    binding = connector.bind({**SOURCE, "columns": {"name": "entName"}}, ALL, "uscc")
    assert isinstance(binding, GraphQLBinding)
    assert (binding.target, binding.subject, binding.key) == (
        "enterpriseRegistration",
        "organization",
        "uscc",
    )
    assert dict(binding.columns) == {
        "uscc": "uscc",
        "name": "entName",
        "registered_capital": "registeredCapital",
        "status": "status",
        "legal_representative": "legalRepresentative",
    }


@pytest.mark.parametrize(
    "source",
    [
        {},
        {"subject": "organization"},
        {"field": "x"},
        {"subject": "vehicle", "field": "x"},
        {"subject": "person", "field": "a-b"},
    ],
)
def test_bind_refuses_a_source_without_subject_and_field(
    connector: GraphQLConnector, source: dict[str, Any]
) -> None:
    with pytest.raises(ConfigurationError, match=r"subject|field"):
        connector.bind(source, ITEMS, "uscc")


# --- fetch ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "items",
    [ITEMS, ("name",), ("status", "name"), ("uscc",), ()],
    ids=["all", "one", "two", "key-only", "none"],
)
async def test_fetch_returns_existing_keys_with_exactly_the_items(
    upstream: Upstream, connector: GraphQLConnector, items: tuple[str, ...]
) -> None:
    as_consumer(upstream)
    wanted = [code(5), code(1), code(999), code(COUNT - 1), code(5)]
    rows = await connector.fetch(connector.bind(SOURCE, ALL, "uscc"), wanted, items)
    assert set(rows) == {code(1), code(5), code(COUNT - 1)}
    for i in (1, 5, COUNT - 1):
        assert rows[code(i)] == expected(i, items)
        assert list(rows[code(i)]) == list(items)


async def test_fetch_asks_the_upstream_for_only_the_requested_items(
    upstream: Upstream, connector: GraphQLConnector
) -> None:
    sent: list[dict[str, Any]] = []

    async def record(request: httpx.Request) -> None:
        if request.url.path.endswith("/graphql"):
            sent.append(json.loads(request.content))

    connector.http.event_hooks["request"].append(record)
    as_consumer(upstream)
    await connector.fetch(connector.bind(SOURCE, ALL, "uscc"), [code(7)], ["name", "status"])
    [body] = sent
    query = body["query"]
    assert "ent_name" not in query and "name: name" in query and "status: status" in query
    for unrequested in ("legalRepresentative", "registeredCapital", "uscc"):
        assert unrequested not in query, query
    assert body["variables"] == {"keys": [code(7)]}


async def test_fetch_without_keys_returns_nothing(upstream: Upstream, connector: GraphQLConnector) -> None:
    as_consumer(upstream)
    assert await connector.fetch(connector.bind(SOURCE, ALL, "uscc"), [], ITEMS) == {}


async def test_fetch_of_many_keys_of_which_few_exist(upstream: Upstream, connector: GraphQLConnector) -> None:
    """More keys than one upstream call takes (MAX_KEYS_PER_CALL): several calls, one answer."""
    as_consumer(upstream)
    keys = [code(1000 + i) for i in range(440)] + [code(3), code(150), code(299)]
    rows = await connector.fetch(connector.bind(SOURCE, ALL, "uscc"), keys, ["status"])
    assert rows == {code(i): expected(i, ("status",)) for i in (3, 150, 299)}


async def test_an_item_refused_upstream_is_an_error_value_with_its_code(
    upstream: Upstream, connector: GraphQLConnector
) -> None:
    as_consumer(upstream, CONSUMER_B)  # no grant upstream
    rows = await connector.fetch(
        connector.bind(SOURCE, ALL, "uscc"), [code(4)], ["name", "legal_representative"]
    )
    assert rows[code(4)]["name"] == "企业4"
    refusal = rows[code(4)]["legal_representative"]
    assert isinstance(refusal, ConditionalAccessRequired)
    assert refusal.extensions["upstream_item"] == "legal_representative"
    assert "代表4" not in refusal.message
    as_consumer(upstream, CONSUMER_A)  # granted upstream
    rows = await connector.fetch(connector.bind(SOURCE, ALL, "uscc"), [code(4)], ["legal_representative"])
    assert rows == {code(4): {"legal_representative": "代表4"}}


async def test_an_item_the_upstream_does_not_share_is_refused_alone_with_not_shared(
    upstream: Upstream, connector: GraphQLConnector
) -> None:
    """The upstream refuses the whole operation naming a non-shared item (before running):
    the connector asks again without it, and only that item carries NOT_SHARED."""
    as_consumer(upstream)
    binding = connector.bind(SOURCE, (*ALL, "inner_note"), "uscc")
    rows = await connector.fetch(binding, [code(4), code(999)], ["name", "inner_note"])
    assert set(rows) == {code(4)} and rows[code(4)]["name"] == "企业4"
    refusal = rows[code(4)]["inner_note"]
    assert isinstance(refusal, NotShared) and refusal.extensions["upstream_item"] == "inner_note"
    assert "内部备注4" not in repr(refusal.extensions) + refusal.message
    only = await connector.fetch(binding, [code(4), code(999)], ["inner_note"])  # existence still known
    assert set(only) == {code(4)} and isinstance(only[code(4)]["inner_note"], NotShared)


async def test_fetch_without_a_consumer_is_refused(connector: GraphQLConnector) -> None:
    """Never read an upstream as this gateway itself: an export or a probe carries no consumer."""
    on_behalf_of.set(None)
    with pytest.raises(SourceUnavailable, match="on behalf of a consumer"):
        await connector.fetch(connector.bind(SOURCE, ALL, "uscc"), [code(1)], ["name"])


async def test_one_access_token_serves_many_calls(upstream: Upstream, connector: GraphQLConnector) -> None:
    paths: list[str] = []

    async def record(request: httpx.Request) -> None:
        paths.append(request.url.path)

    connector.http.event_hooks["request"].append(record)
    as_consumer(upstream)
    binding = connector.bind(SOURCE, ALL, "uscc")
    await asyncio.gather(*(connector.fetch(binding, [code(i)], ["name"]) for i in range(6)))
    assert paths.count("/oauth/token") == 1 and paths.count("/graphql") == 6


async def test_a_refused_access_token_is_replaced_once(
    upstream: Upstream, connector: GraphQLConnector
) -> None:
    """A token the upstream no longer takes (its keys rotated, say) costs one retry, not the read."""
    paths: list[str] = []

    async def record(request: httpx.Request) -> None:
        paths.append(request.url.path)

    connector.http.event_hooks["request"].append(record)
    connector._token = ("not-a-token-the-upstream-issued", time.monotonic() + 3600)
    as_consumer(upstream)
    rows = await connector.fetch(connector.bind(SOURCE, ALL, "uscc"), [code(2)], ["name"])
    assert rows == {code(2): {"name": "企业2"}}
    assert paths == ["/graphql", "/oauth/token", "/graphql"]


# --- what an upstream gateway does not offer ---------------------------------------------------


async def test_scan_is_not_offered_and_says_so(connector: GraphQLConnector) -> None:
    with pytest.raises(SourceUnavailable) as caught:
        await connector.scan(connector.bind(SOURCE, ALL, "uscc"), ["name"], limit=5)
    assert caught.value.extensions["unsupported"] == "scan"
    assert "export" in caught.value.message


async def test_freshness_is_unknown(connector: GraphQLConnector) -> None:
    assert await connector.freshness(connector.bind(SOURCE, ALL, "uscc")) is None


# --- check ------------------------------------------------------------------------------------


async def test_check_finds_the_resource_and_every_item_upstream(connector: GraphQLConnector) -> None:
    found = await connector.check(connector.bind(SOURCE, ALL, "uscc"))
    assert found.ok, found.describe()


async def test_check_names_items_the_upstream_does_not_serve(connector: GraphQLConnector) -> None:
    binding = connector.bind({**SOURCE, "columns": {"name": "entName"}}, (*ALL, "inner_note"), "uscc")
    found = await connector.check(binding)
    assert found.table_exists and set(found.missing_columns) == {"entName", "innerNote"}


async def test_check_names_a_resource_the_upstream_does_not_serve(connector: GraphQLConnector) -> None:
    found = await connector.check(connector.bind({**SOURCE, "field": "taxCredit"}, ALL, "uscc"))
    assert not found.table_exists and "taxCredit" in found.describe()


# --- failures, timeouts, close ----------------------------------------------------------------


class Fake:
    """A misbehaving upstream: each path plays one failure."""

    def __init__(self) -> None:
        self.app = Starlette(
            routes=[
                Route("/oauth/token", self.token, methods=["POST"]),
                Route("/{mode}/graphql", self.graphql, methods=["POST"]),
            ]
        )

    async def token(self, request: Request) -> Response:
        return JSONResponse({"access_token": "t", "token_type": "Bearer", "expires_in": 3600})

    async def graphql(self, request: Request) -> Response:
        mode, body = request.path_params["mode"], await request.json()
        if mode == "hung":
            await asyncio.sleep(1.2)
        if mode == "broken":
            return PlainTextResponse("upstream exploded", status_code=500)
        if mode == "refusing":
            refusal = {"message": "daily cap used up", "extensions": {"code": "RATE_LIMITED"}}
            return JSONResponse({"data": None, "errors": [refusal]}, status_code=429)
        if mode == "unknown":
            return JSONResponse(
                {"data": None, "errors": [{"message": "?", "extensions": {"code": "INTERNAL"}}]}
            )
        keys = body["variables"]["keys"]
        if mode == "leaky":  # an upstream whose errors carry its internals
            leak = {"message": LEAK, "path": ["s", 0, "r", "name"],
                    "extensions": {"code": "INTERNAL_SERVER_ERROR", "sql": "SELECT * FROM ent",
                                   "stacktrace": ["File /srv/app.py, line 3"]}}  # fmt: skip
            return JSONResponse({"data": {"s": [{"k": keys[0], "r": {"name": None}}]}, "errors": [leak]})
        if mode in ("reversed", "others"):  # entries not in the order asked, or of other subjects
            shown = [*reversed(keys)] if mode == "reversed" else [code(900 + i) for i in range(len(keys))]
            return JSONResponse(
                {"data": {"s": [{"k": k, "code": k, "r": {"name": f"名{k}"}} for k in shown]}}
            )
        # "more": every subject twice over, with extra fields
        record = {"name": "甲", "status": "存续", "secret_extra": "不该出现", "legal_representative": "某"}
        return JSONResponse({"data": {"s": [{"r": record} for _ in [*keys, *keys]], "extra": 1}})


@pytest.fixture(scope="module")
def fake() -> Iterator[str]:
    running = serve(Fake().app)
    try:
        yield running[0]
    finally:
        stop(running)


async def fake_connector(base: str, mode: str, timeout: float = 5) -> GraphQLConnector:
    made = GraphQLConnector(f"{base}/{mode}/graphql", f"{base}/oauth/token", "c", "s", AUDIENCE, timeout)
    on_behalf_of.set(OnBehalfOf(CONSUMER_A, "sys", None, PURPOSE, None, lambda claims: "signed"))
    return made


async def test_an_upstream_answering_more_than_asked_is_cut_down(fake: str) -> None:
    connector = await fake_connector(fake, "more")
    try:
        rows = await connector.fetch(connector.bind(SOURCE, ALL, "uscc"), [code(1), code(2)], ["name"])
    finally:
        await connector.close()
    assert rows == {code(1): {"name": "甲"}, code(2): {"name": "甲"}}


LEAK = "connection to server at 10.2.3.4 failed: password authentication failed for user 'hubei_ro'"


async def test_an_upstream_error_of_an_unknown_code_carries_none_of_its_text(
    fake: str, caplog: pytest.LogCaptureFixture
) -> None:
    """An upstream item error of a code this gateway does not keep (an internal error) is an
    item value shown to the county consumer as it is: it carried the upstream's message
    (addresses, accounts, SQL). It now says only that the upstream failed; its text goes to
    the log. (A whole refusal keeps its text: raised, it is logged, and the consumer is told
    only that the source is unavailable: tests/e2e/test_cascade.py.)"""
    connector = await fake_connector(fake, "leaky")
    binding = connector.bind(SOURCE, ALL, "uscc")
    try:
        rows = await connector.fetch(binding, [code(1)], ["name"])
        refusal = rows[code(1)]["name"]
    finally:
        await connector.close()
    assert isinstance(refusal, SourceUnavailable)
    shown = json.dumps([refusal.message, refusal.extensions], ensure_ascii=False)
    for internal in ("10.2.3.4", "hubei_ro", "SELECT", "stacktrace", "app.py", "sql"):
        assert internal not in shown, shown
    assert refusal.extensions["upstream_code"] == "INTERNAL_SERVER_ERROR"
    assert "10.2.3.4" in caplog.text  # the operator still learns what the upstream said


@pytest.mark.parametrize("mode", ["reversed", "others"])
async def test_an_upstream_answering_other_subjects_or_another_order_never_misattributes(
    fake: str, mode: str
) -> None:
    """Entries were matched to the keys asked by position: an upstream answering in another
    order gave subject 1 the row of subject 2, and one answering for other subjects gave
    their rows to the subjects asked. Each entry now names its code and is matched by it."""
    connector = await fake_connector(fake, mode)
    try:
        rows = await connector.fetch(connector.bind(SOURCE, ALL, "uscc"), [code(1), code(2)], ["name"])
    finally:
        await connector.close()
    expected = {code(1): {"name": f"名{code(1)}"}, code(2): {"name": f"名{code(2)}"}}
    assert rows == (expected if mode == "reversed" else {})


async def test_a_hung_upstream_costs_one_timeout(fake: str) -> None:
    connector = await fake_connector(fake, "hung", timeout=0.5)
    started = time.monotonic()
    try:
        with pytest.raises(SourceUnavailable) as caught:
            await connector.fetch(connector.bind(SOURCE, ALL, "uscc"), [code(1)], ["name"])
    finally:
        await connector.close()
    assert time.monotonic() - started < 1.5
    assert caught.value.extensions["timeout"] == 0.5


@pytest.mark.parametrize(
    ("mode", "error", "code_"),
    [
        ("broken", SourceUnavailable, "SOURCE_UNAVAILABLE"),
        ("refusing", RateLimited, "RATE_LIMITED"),
        ("unknown", SourceUnavailable, "SOURCE_UNAVAILABLE"),
    ],
)
async def test_a_whole_refusal_upstream_keeps_its_code(fake: str, mode: str, error: type, code_: str) -> None:
    connector = await fake_connector(fake, mode)
    try:
        with pytest.raises(error) as caught:
            await connector.fetch(connector.bind(SOURCE, ALL, "uscc"), [code(1)], ["name"])
    finally:
        await connector.close()
    assert caught.value.extensions["code"] == code_


async def test_an_unreachable_upstream_is_source_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    connector = await fake_connector(f"http://127.0.0.1:{port}", "x")
    try:
        with pytest.raises(SourceUnavailable, match="did not answer"):
            await connector.fetch(connector.bind(SOURCE, ALL, "uscc"), [code(1)], ["name"])
    finally:
        await connector.close()


async def test_a_wrong_client_secret_is_source_unavailable_naming_the_fix(upstream: Upstream) -> None:
    connector = GraphQLConnector(
        upstream.url, upstream.url.replace("/graphql", "/oauth/token"), upstream.client_id, "wrong", AUDIENCE
    )
    as_consumer(upstream)
    try:
        with pytest.raises(SourceUnavailable, match="client_secret"):
            await connector.fetch(connector.bind(SOURCE, ALL, "uscc"), [code(1)], ["name"])
    finally:
        await connector.close()


async def test_a_gateway_the_upstream_does_not_trust_is_source_unavailable(upstream: Upstream) -> None:
    """Not the consumer's doing (FORBIDDEN would tell it to seek a grant): the upstream does
    not trust this gateway's client to forward identity."""
    client_id, secret = upstream.untrusted
    token_url = upstream.url.replace("/graphql", "/oauth/token")
    connector = GraphQLConnector(upstream.url, token_url, client_id, secret, AUDIENCE)
    as_consumer(upstream)
    try:
        with pytest.raises(SourceUnavailable, match="not a trusted downstream gateway"):
            await connector.fetch(connector.bind(SOURCE, ALL, "uscc"), [code(1)], ["name"])
    finally:
        await connector.close()


async def test_close_works_and_may_be_repeated(upstream: Upstream, connector: GraphQLConnector) -> None:
    as_consumer(upstream)
    await connector.fetch(connector.bind(SOURCE, ALL, "uscc"), [code(1)], ["name"])
    await connector.close()
    await connector.close()


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"client_secret": "plain-secret"}, "client_secret"),  # a secret is never written in the catalog
        ({"client_secret": "${GOVSHARE_TEST_UNSET_VARIABLE}"}, "GOVSHARE_TEST_UNSET_VARIABLE"),
        ({"audience": None}, "audience"),
        ({"url": "ftp://x/graphql"}, "url"),
        ({"url": None}, "url"),
        ({"token_url": "nowhere"}, "token_url"),
        ({"retries": 3}, "retries"),
        ({"timeout": 0}, "timeout"),
    ],
)
def test_open_refuses_bad_settings_naming_them(
    upstream: Upstream, monkeypatch: pytest.MonkeyPatch, changes: dict[str, Any], named: str
) -> None:
    monkeypatch.setenv("TEST_UPSTREAM_CLIENT", "c")
    monkeypatch.setenv("TEST_UPSTREAM_SECRET", "s")
    monkeypatch.delenv("GOVSHARE_TEST_UNSET_VARIABLE", raising=False)
    with pytest.raises(ConfigurationError, match=named):
        chosen = {**settings(upstream.url), **changes}
        open_connector({k: v for k, v in chosen.items() if v is not None}, Path())


# --- the README's example ---------------------------------------------------------------------


async def test_the_readme_cascade_example_is_a_valid_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    [example] = [b for b in re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL) if "kind: graphql" in b]
    (tmp_path / "catalog.yaml").write_text("profile: hubei\n" + example, encoding="utf-8")
    monkeypatch.setenv("HUBEI_GATEWAY_CLIENT_ID", "client-city")
    monkeypatch.setenv("HUBEI_GATEWAY_CLIENT_SECRET", "s3cret")
    catalog = load_catalog(tmp_path / "catalog.yaml")
    connectors = open_connectors(catalog, tmp_path)
    try:
        [source] = bind_sources(catalog, connectors).values()
        assert isinstance(source.connector, GraphQLConnector)
        assert source.connector.token_url == "https://gateway.hubei.gov.cn/oauth/token"
        assert source.binding.columns["legal_representative"] == "legalRepresentative"
    finally:
        for connector in connectors.values():
            await connector.close()


# --- the answer's mapping, for any answer -----------------------------------------------------

BINDING = GraphQLConnector.bind(None, SOURCE, ALL, "uscc")  # type: ignore[arg-type]  # bind uses no state
REFUSAL_CODES = [
    "NOT_SHARED",
    "CONDITIONAL_ACCESS_REQUIRED",
    "OUT_OF_SCOPE",
    "SOURCE_UNAVAILABLE",
    "INTERNAL",
]


@st.composite
def upstream_answers(draw: st.DrawFn) -> tuple[list[str], list[str], dict[str, Any]]:
    keys = draw(st.lists(st.sampled_from([code(i) for i in range(12)]), max_size=8, unique=True))
    items = draw(st.lists(st.sampled_from(ALL), max_size=5, unique=True))
    entries: list[Any] = []
    for _ in range(len(keys) + draw(st.integers(0, 3))):  # sometimes more entries than keys
        shape = draw(st.sampled_from(["none", "no-row", "row"]))
        record = {item: draw(st.text(max_size=3)) for item in (*ALL, "inner_note")}  # more fields than asked
        entry = None if shape == "none" else {"r": None if shape == "no-row" else record}
        if entry is not None and draw(st.booleans()):  # naming its code: asked or not, anywhere
            entry["k"] = draw(st.sampled_from([code(i) for i in range(12)]))
        entries.append(entry)
    errors = []
    for item in draw(st.lists(st.sampled_from(ALL), max_size=3)):
        at = draw(st.sampled_from([[], [item]]))  # the row, or one item of it
        path = ["s", draw(st.integers(0, len(entries) or 1)), "r", *at]
        errors.append(
            {"message": "refused", "path": path, "extensions": {"code": draw(st.sampled_from(REFUSAL_CODES))}}
        )
    return keys, items, {"data": {"s": entries}, "errors": errors}


@given(upstream_answers())
def test_rows_hold_asked_keys_and_exactly_the_asked_items(
    answer: tuple[list[str], list[str], dict[str, Any]],
) -> None:
    keys, items, body = answer
    rows = graphql_connector._rows(BINDING, keys, items, body, "http://upstream")
    assert set(rows) <= set(keys)
    entries = body["data"]["s"]
    for key in rows:
        assert list(rows[key]) == items  # never an unasked field (inner_note), in order
        # an entry naming this key, or one naming none at this key's position: never another's
        sources = [
            e
            for i, e in enumerate(entries)
            if e is not None and e.get("k", keys[i] if i < len(keys) else None) == key
        ]
        for item, value in rows[key].items():
            if isinstance(value, GovshareError):
                assert value.code in REFUSAL_CODES[:-1]  # an unknown code is SOURCE_UNAVAILABLE
            else:
                assert any(e["r"] is not None and value == e["r"][item] for e in sources)


# --- any GraphQL endpoint offering the subject queries (not only govshare) --------------------

PLAIN_ROWS = [
    {"uscc": f"K{i:05d}", "ent_name": f"企业{i}", "capital": i * 10, "inner_note": "x"} for i in range(50)
]


@pytest.fixture(scope="module")
def plain_upstream() -> Iterator[str]:
    running = serve(upstream_app({"enterprise": PLAIN_ROWS}, generous=True))
    try:
        yield running[0]
    finally:
        stop(running)


async def test_a_plain_graphql_endpoint_is_read_and_its_extra_answers_cut_down(plain_upstream: str) -> None:
    connector = GraphQLConnector(
        f"{plain_upstream}/graphql", f"{plain_upstream}/oauth/token", "c", "s", AUDIENCE
    )
    on_behalf_of.set(OnBehalfOf(CONSUMER_A, "sys", None, PURPOSE, None, lambda claims: "signed"))
    binding = connector.bind(
        {
            "subject": "organization",
            "field": "enterprise",
            "columns": {"name": "ent_name", "capital": "capital"},
        },
        ["uscc", "name", "capital"],
        "uscc",
    )
    try:
        rows = await connector.fetch(binding, ["K00003", "K00049", "K99999"], ["name", "capital"])
        assert rows == {
            "K00003": {"name": "企业3", "capital": 30},
            "K00049": {"name": "企业49", "capital": 490},
        }
        assert (await connector.check(binding)).ok
        misspelt = connector.bind({"subject": "organization", "field": "enterprize"}, ["uscc"], "uscc")
        assert not (await connector.check(misspelt)).table_exists
    finally:
        await connector.close()
