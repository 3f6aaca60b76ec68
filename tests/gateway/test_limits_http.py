"""Operation cost limits over HTTP (in-process, ASGI): each refused quickly, by name.

The issue's examples are regression tests here: a 2 MB document of fresh aliases (held
the event loop 5-15 s), 10,000 aliases of one conditional item (~19 s), a valid document
of ~380 repeated fields ("Validation aborted"), fragments nested past graphql-core's
recursion limit ("Validation aborted."). Each is now a ``QUERY_TOO_COMPLEX`` (400), or
``REQUEST_TOO_LARGE`` (413) for the body, naming the limit, its value and its variable.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
import uvicorn
from graphql import get_introspection_query

from errors import ConfigurationError
from gateway.app import Gateway, create_app
from gateway.demo import HOUSING, build_demo, organization_codes
from gateway.protocol import bounded_head_protocol
from gateway.settings import Settings
from resolvers.limits import OperationLimits

PURPOSE = "住房保障资格审核"
QUICK = 2.0  # seconds: a refusal does no expensive work (it used to take 5-30 s); loose, as a
# suite on a busy 2-core machine pauses any one request up to ~0.7 s
QUICKEST = 0.5  # the quickest of three tries, where the old cost was near a second (MULTIPLIED)
ORG = "organization(code: $c)"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("limits")
    build_demo(path, organizations=300, persons=5)
    return path


async def serve(data_dir: Path, **env: str) -> AsyncIterator[tuple[httpx.AsyncClient, Gateway]]:
    settings = Settings.load({f"GOVSHARE_{k.upper()}": v for k, v in env.items()}, data=str(data_dir))
    gateway = await Gateway.start(settings)
    app = create_app(settings, gateway)
    app.state.gateway = gateway
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        yield client, gateway
    await gateway.close()


@pytest.fixture
async def served(data_dir: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Gateway]]:
    async for made in serve(data_dir, audit="off"):
        yield made


def headers(gateway: Gateway) -> dict[str, str]:
    token = gateway.signer.issue(HOUSING.code, ["consumer"], "test", 600)
    return {"Authorization": f"Bearer {token}", "X-Purpose": quote(PURPOSE), "X-Voucher": "off",
            "Accept": "application/graphql-response+json", "Content-Type": "application/json"}  # fmt: skip


async def post(client: httpx.AsyncClient, gateway: Gateway, body: Any) -> tuple[float, httpx.Response]:
    start = time.monotonic()
    response = await client.post("/graphql", content=orjson.dumps(body), headers=headers(gateway))
    return time.monotonic() - start, response


def refusal(response: httpx.Response, limit: str, maximum: int, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    [error] = response.json()["errors"]
    extensions = error["extensions"]
    code = "REQUEST_TOO_LARGE" if status == 413 else "QUERY_TOO_COMPLEX"
    assert extensions["code"] == code
    assert (extensions["limit"], extensions["maximum"]) == (limit, maximum)
    assert extensions["variable"] == f"GOVSHARE_{limit.upper()}"
    assert f"the limit is {maximum}" in error["message"]
    assert "aborted" not in error["message"].lower()
    return dict(error)


def one(code_variable: str = "$c") -> dict[str, Any]:
    return {"c": organization_codes(1)[0]}


# --- the issue's examples -------------------------------------------------------------------


async def test_a_2_mb_document_of_fresh_aliases_is_refused_before_it_is_read(served) -> None:
    client, gateway = served
    aliases = " ".join(f"a{i}: enterpriseRegistration {{ name }}" for i in range(55_000))
    query = f"query($c: USCC!) {{ {ORG} {{ {aliases} }} }}"
    assert len(query) > 2_000_000
    elapsed, response = await post(client, gateway, {"query": query, "variables": one()})
    refusal(response, "max_body_bytes", OperationLimits().max_body_bytes, status=413)
    assert elapsed < QUICK


async def test_a_document_just_under_the_body_limit_is_refused_before_parsing(served) -> None:
    client, gateway = served
    aliases = " ".join(f"a{i}: enterpriseRegistration {{ name }}" for i in range(25_000))
    query = f"query($c: USCC!) {{ {ORG} {{ {aliases} }} }}"
    elapsed, response = await post(client, gateway, {"query": query, "variables": one()})
    error = refusal(response, "max_document_chars", OperationLimits().max_document_chars)
    assert error["extensions"]["found"] == len(query)
    assert elapsed < QUICK


async def test_10000_aliases_of_one_conditional_item_are_refused_quickly(served) -> None:
    client, gateway = served
    aliases = " ".join(f"a{i}: legalRepresentative" for i in range(10_000))
    query = f"query($c: USCC!) {{ {ORG} {{ enterpriseRegistration {{ {aliases} }} }} }}"
    elapsed, response = await post(client, gateway, {"query": query, "variables": one()})
    refusal(response, "max_document_chars", OperationLimits().max_document_chars)
    assert elapsed < QUICK


@pytest.mark.parametrize("count", [150, 300])
async def test_aliases_of_one_conditional_item_within_the_size_limits_are_refused_by_count(
    served, count: int
) -> None:
    client, gateway = served
    aliases = " ".join(f"a{i}: legalRepresentative" for i in range(count))
    query = f"query($c: USCC!) {{ {ORG} {{ enterpriseRegistration {{ {aliases} }} }} }}"
    elapsed, response = await post(client, gateway, {"query": query, "variables": one()})
    refusal(response, "max_aliases", OperationLimits().max_aliases)
    assert elapsed < QUICK


async def test_380_repeated_fields_are_refused_by_a_named_limit_not_validation_aborted(served) -> None:
    client, gateway = served
    query = f"query($c: USCC!) {{ {ORG} {{ enterpriseRegistration {{ {'name ' * 380}}} }} }}"
    elapsed, response = await post(client, gateway, {"query": query, "variables": one()})
    error = refusal(response, "max_repeated_fields", OperationLimits().max_repeated_fields)
    assert error["extensions"]["found"] == 379
    assert elapsed < QUICK


async def test_repeated_resources_within_the_field_limit_are_refused_by_the_repeat_limit(served) -> None:
    """120 repeats of ``enterpriseRegistration { name }``: 241 fields, under max_fields, but
    merging them took validation ~0.5 s; now refused before validation."""
    client, gateway = served
    query = f"query($c: USCC!) {{ {ORG} {{ {'enterpriseRegistration { name } ' * 120}}} }}"
    elapsed, response = await post(client, gateway, {"query": query, "variables": one()})
    refusal(response, "max_repeated_fields", OperationLimits().max_repeated_fields)
    assert elapsed < QUICK


@pytest.mark.parametrize("length", [60, 210])
async def test_fragments_nested_deeply_are_refused_by_name_not_validation_aborted(
    served, length: int
) -> None:
    client, gateway = served
    chain = " ".join(f"fragment F{i} on Organization {{ enterpriseRegistration {{ n{i}: name }} "
                     f"x{i}: taxCredit {{ creditRating }} ...F{i + 1} }}" for i in range(length))  # fmt: skip
    query = f"query($c: USCC!) {{ {ORG} {{ ...F0 }} }} {chain} fragment F{length} on Organization {{ code }}"
    elapsed, response = await post(client, gateway, {"query": query, "variables": one()})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["limit"] in OperationLimits.names()
    assert "aborted" not in error["message"].lower()
    assert elapsed < QUICK


async def test_selections_nested_past_the_parser_limit_are_refused_by_the_depth_limit(served) -> None:
    client, gateway = served
    query = "{ " + "a { " * 205 + "b" + " }" * 205 + " }"  # 615 tokens, 206 levels: the parser stops
    _, response = await post(client, gateway, {"query": query, "variables": one()})
    refusal(response, "max_depth", OperationLimits().max_depth)


async def test_a_document_of_open_strings_is_answered_quickly_in_a_loop(served) -> None:
    """16 KB of escaped quotes in a string never closed: the cheap token count scanned it
    again from every quote (~0.8 s of event loop per request, charged a few tokens, so a
    loop of them held the gateway). It is a syntax error, answered as one, at once."""
    client, gateway = served
    for i in range(3):  # fresh texts: nothing cached
        query = "{ a(x: " + '"\\' * 8_180 + ")}" + " " * i
        elapsed, response = await post(client, gateway, {"query": query})
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert elapsed < QUICK


@pytest.mark.parametrize("opening", ["[", '{"k":'])
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_variables_nested_1000_deep_are_refused_by_the_depth_limit_not_500(
    served, opening: str, method: str
) -> None:
    """JSON admits ~1,000 levels; the text check of the variables recursed once per level and
    answered INTERNAL (500) past the interpreter's recursion limit."""
    client, gateway = served
    closing = "]" if opening == "[" else "}"
    variables = '{"v": ' + opening * 1_000 + '"x"' + closing * 1_000 + "}"
    if method == "POST":
        body = b'{"query": "{ __typename }", "variables": ' + variables.encode() + b"}"
        response = await client.post("/graphql", content=body, headers=headers(gateway))
    else:
        params = {"query": "{ __typename }", "variables": variables}
        response = await client.get("/graphql", params=params, headers=headers(gateway))
    error = refusal(response, "max_depth", OperationLimits().max_depth)
    assert "variables" in error["message"]


INTROSPECTION_FRAGMENT = "fields { type { fields { type { name } } ofType { fields { type { name } } } } }"
MULTIPLIED = {  # small documents whose result a list multiplies: each held the event loop
    "aliases times 300 subjects": (  # 2.2 s with 1,000 codes
        "query($c: [USCC!]!) { organizations(codes: $c) { "
        + " ".join(f"a{i}: enterpriseRegistration {{ name status }}" for i in range(100))
        + " } }"
    ),
    "an introspection fragment under 45 aliases": (  # 0.5 s, 770 KB
        "{ __schema { " + " ".join(f"a{i}: types {{ ...T }}" for i in range(45)) + " } }"
        f" fragment T on __Type {{ {INTROSPECTION_FRAGMENT} }}"
    ),
}


@pytest.mark.parametrize("query", MULTIPLIED.values(), ids=MULTIPLIED.keys())
async def test_a_result_multiplied_by_lists_is_refused_by_the_result_limit(served, query: str) -> None:
    client, gateway = served
    times = []
    for _ in range(3):  # the quickest of three: a loaded machine's pauses are not the gateway's
        elapsed, response = await post(
            client, gateway, {"query": query, "variables": {"c": organization_codes(300)}}
        )
        refusal(response, "max_result_values", OperationLimits().max_result_values)
        times.append(elapsed)
    assert min(times) < QUICKEST


async def test_an_everyday_list_query_of_300_subjects_is_within_the_result_limit(served) -> None:
    client, gateway = served
    query = (
        "query($c: [USCC!]!) { organizations(codes: $c) { code enterpriseRegistration { name status "
        "registeredCapital } taxCredit { creditRating taxpayerType } "
        "creditRecord { blacklisted penaltyCount } } }"
    )
    _, response = await post(client, gateway, {"query": query, "variables": {"c": organization_codes(300)}})
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]["organizations"]) == 300


# --- each limit, just over and at its value ------------------------------------------------


def aliases_doc(n: int) -> str:
    return "{ " + " ".join(f"a{i}: __typename" for i in range(n)) + " }"


TYPENAME = "__typename "
LIMITS = {  # limit -> (small value, document at the value, document one over)
    "max_document_chars": (60, "{ __typename }" + " " * 46, "{ __typename }" + " " * 47),
    "max_tokens": (11, aliases_doc(3), aliases_doc(3).replace(" }", " d }")),  # 11 tokens, then 12
    "max_fields": (4, aliases_doc(4), aliases_doc(5)),
    "max_aliases": (3, aliases_doc(3), aliases_doc(4)),
    "max_result_values": (3, aliases_doc(3), aliases_doc(4)),  # each root field is one value
    "max_depth": (
        2,
        f"query($c: USCC!) {{ {ORG} {{ code }} }}",
        f"query($c: USCC!) {{ {ORG} {{ taxCredit {{ creditRating }} }} }}",
    ),
    "max_repeated_fields": (2, "{ " + TYPENAME * 3 + "}", "{ " + TYPENAME * 4 + "}"),
}


@pytest.mark.parametrize("limit", sorted(LIMITS))
async def test_each_limit_admits_its_value_and_refuses_one_more(data_dir: Path, limit: str) -> None:
    maximum, at, over = LIMITS[limit]
    async for client, gateway in serve(data_dir, audit="off", **{limit: str(maximum)}):
        _, admitted = await post(client, gateway, {"query": at, "variables": one()})
        assert admitted.status_code == 200, admitted.text
        assert "errors" not in admitted.json()
        _, refused = await post(client, gateway, {"query": over, "variables": one()})
        refusal(refused, limit, maximum)


async def test_a_batch_longer_than_the_limit_is_refused(data_dir: Path) -> None:
    async for client, gateway in serve(data_dir, audit="off", max_batch="3"):
        _, admitted = await post(client, gateway, [{"query": "{ __typename }"}] * 3)
        assert admitted.status_code == 200
        assert [a["data"] for a in admitted.json()] == [{"__typename": "Query"}] * 3
        _, refused = await post(client, gateway, [{"query": "{ __typename }"}] * 4)
        assert refusal(refused, "max_batch", 3)["extensions"]["found"] == 4


async def test_a_body_over_the_limit_is_refused_also_when_chunked_without_length(data_dir: Path) -> None:
    body = orjson.dumps({"query": "{ __typename }", "variables": {"pad": "x" * 2_000}})

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 256):
            yield body[start : start + 256]

    async for client, gateway in serve(data_dir, audit="off", max_body_bytes="1024"):
        response = await client.post("/graphql", content=chunks(), headers=headers(gateway))
        assert "content-length" not in response.request.headers
        refusal(response, "max_body_bytes", 1024, status=413)
        small = orjson.dumps({"query": "{ __typename }"})
        response = await client.post("/graphql", content=small, headers=headers(gateway))
        assert response.json() == {"data": {"__typename": "Query"}}


async def test_an_operation_stops_at_the_error_limit_instead_of_building_every_error(data_dir: Path) -> None:
    """One refused item for 300 subjects is 300 errors: over a limit of 100 the operation
    is refused whole; under it, answered with one error per subject."""
    query = (
        "query($c: [USCC!]!) { organizations(codes: $c) { enterpriseRegistration { legalRepresentative } } }"
    )
    async for client, gateway in serve(data_dir, audit="off"):
        _, refused = await post(
            client, gateway, {"query": query, "variables": {"c": organization_codes(300)}}
        )
        refusal(refused, "max_errors", 100)
        _, answered = await post(
            client, gateway, {"query": query, "variables": {"c": organization_codes(50)}}
        )
        assert len(answered.json()["errors"]) == 50
        assert {e["extensions"]["code"] for e in answered.json()["errors"]} == {"CONDITIONAL_ACCESS_REQUIRED"}


async def test_introspection_and_everyday_queries_pass_the_default_limits(served) -> None:
    client, gateway = served
    _, response = await post(client, gateway, {"query": get_introspection_query(descriptions=True)})
    assert response.status_code == 200
    assert "errors" not in response.json()
    items = "code enterpriseRegistration { name status } taxCredit { creditRating }"
    query = f"query($c: USCC!) {{ {ORG} {{ {items} }} }}"
    _, response = await post(client, gateway, {"query": query, "variables": one()})
    assert response.json()["data"]["organization"]["enterpriseRegistration"]["name"]


# --- configuration ------------------------------------------------------------------------


def test_limits_are_read_from_the_environment() -> None:
    settings = Settings.load({"GOVSHARE_MAX_TOKENS": "321", "GOVSHARE_CACHE_BYTES": "1000"}, data="/tmp/x")
    assert settings.limits.max_tokens == 321
    assert settings.limits.cache_bytes == 1000
    assert settings.limits.max_fields == OperationLimits().max_fields


@pytest.mark.parametrize("value", ["0", "-5", "many", "1.5"])
def test_a_limit_must_be_a_whole_number_of_at_least_one(value: str) -> None:
    with pytest.raises(ConfigurationError, match="GOVSHARE_MAX_ALIASES"):
        Settings.load({"GOVSHARE_MAX_ALIASES": value}, data="/tmp/x")


async def test_a_client_sending_fresh_documents_is_slowed_but_reusing_one_never_is(data_dir: Path) -> None:
    async for client, gateway in serve(
        data_dir, audit="off", new_tokens_per_second="1", new_tokens_burst="40"
    ):
        codes = []
        for i in range(10):  # 8 tokens each: five fit the burst
            _, response = await post(client, gateway, {"query": f"{{ a{i}: __typename b: __typename }}"})
            codes.append(response.status_code)
        assert codes == [200] * 5 + [429] * 5
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["extensions"]["limit"] == "new_tokens_per_second"
        for _ in range(20):  # a document already parsed costs nothing: never limited
            _, response = await post(client, gateway, {"query": "{ a0: __typename b: __typename }"})
            assert response.status_code == 200


async def test_every_cost_refusal_is_an_audit_event_naming_its_code(data_dir: Path) -> None:
    """Refused before reading (413), before parsing (document size) and at validation
    (aliases): each leaves an event whose decisions name the refusal (gateway.evidence)."""
    aliases = " ".join(f"a{i}: __typename" for i in range(101))
    async for client, gateway in serve(data_dir, max_body_bytes="40000"):
        assert gateway.audit is not None
        _, large = await post(client, gateway, {"query": "{ __typename }", "variables": {"x": "y" * 50_000}})
        _, long = await post(client, gateway, {"query": "{ __typename }" + " " * 17_000})
        _, aliased = await post(client, gateway, {"query": f"{{ {aliases} }}"})
        assert [r.status_code for r in (large, long, aliased)] == [413, 400, 400]
        events = await gateway.audit.events(consumer=HOUSING.code, limit=100)
        codes = [event["decisions"].get("request") for event in events]
        assert codes[-3:] == ["REQUEST_TOO_LARGE", "QUERY_TOO_COMPLEX", "QUERY_TOO_COMPLEX"]


LIST_DOC = "query($c: [USCC!]!) { organizations(codes: $c) { code } }"


async def test_45000_codes_in_variables_are_refused_before_each_is_coerced(served) -> None:
    """Found by outside testing: 45,000 codes in a 1 MiB body were each validated while
    graphql-core coerced the variable (~1 s of event loop), before the 1,000-code cap."""
    client, gateway = served
    codes = organization_codes(300) * 150  # 45,000 codes, just under 1 MiB
    took, response = await post(client, gateway, {"query": LIST_DOC, "variables": {"c": codes}})
    assert refusal(response, "max_variable_values", 2_000)
    assert took < QUICK


async def test_variable_values_are_counted_across_a_batch_and_in_get(data_dir: Path) -> None:
    codes = organization_codes(5)  # {"c": [3 codes]} holds 4 values: the field and its 3 elements
    async for client, gateway in serve(data_dir, audit="off", max_variable_values="8"):
        _, admitted = await post(client, gateway, [{"query": LIST_DOC, "variables": {"c": codes[:3]}}] * 2)
        assert admitted.status_code == 200 and all("errors" not in a for a in admitted.json())
        _, refused = await post(client, gateway, [{"query": LIST_DOC, "variables": {"c": codes[:4]}}] * 2)
        refusal(refused, "max_variable_values", 8)
        params = {"query": LIST_DOC, "variables": orjson.dumps({"c": codes[:5] * 2}).decode()}
        response = await client.get("/graphql", params=params, headers=headers(gateway))
        refusal(response, "max_variable_values", 8)


# --- the request head (request line and headers), over a real uvicorn server ----------------


@pytest.fixture
async def listening(data_dir: Path) -> AsyncIterator[tuple[int, Gateway]]:
    """uvicorn on 127.0.0.1 with the gateway's protocol, as ``govshare serve`` runs it."""
    settings = Settings.load({"GOVSHARE_AUDIT": "off"}, data=str(data_dir))
    gateway = await Gateway.start(settings)
    app = create_app(settings, gateway)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, http=bounded_head_protocol(settings.limits), log_config=None,
                            access_log=False, lifespan="on")  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    yield sock.getsockname()[1], gateway
    server.should_exit = True
    await task
    await gateway.close()


async def exchange(port: int, *requests: bytes) -> list[tuple[float, int, bytes]]:
    """Send each request on one connection; (seconds, status, body) of each answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answers = []
    try:
        for request in requests:
            start = time.monotonic()
            writer.write(request)
            status_line = await reader.readline()
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))  # fmt: skip
            body = await reader.readexactly(length)
            answers.append((time.monotonic() - start, int(status_line.split()[1]), body))
    finally:
        writer.close()
    return answers


def raw_post(gateway: Gateway, extra_headers: str = "") -> bytes:
    body = orjson.dumps({"query": "{ __typename }"})
    token = gateway.signer.issue(HOUSING.code, ["consumer"], "test", 600)
    head = (f"POST /graphql HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer {token}\r\n{extra_headers}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")  # fmt: skip
    return head.encode() + body


def raw_get(gateway: Gateway, query: str) -> bytes:
    token = gateway.signer.issue(HOUSING.code, ["consumer"], "test", 600)
    return (f"GET /graphql?query={quote(query)} HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer {token}\r\n"
            "Accept: application/graphql-response+json\r\n\r\n").encode()  # fmt: skip


def head_refusal(status: int, body: bytes) -> None:
    assert status == 431, body  # RFC 6585 section 5: Request Header Fields Too Large
    [error] = orjson.loads(body)["errors"]
    maximum = OperationLimits().max_head_bytes
    assert error["extensions"] == {"code": "HEADERS_TOO_LARGE", "limit": "max_head_bytes",
                                   "maximum": maximum, "variable": "GOVSHARE_MAX_HEAD_BYTES"}  # fmt: skip
    assert f"the limit is {maximum}" in error["message"]


HUGE_HEADS = {  # each was read whole: a 30 MB value held the event loop ~0.45 s, and was answered 200
    "one long header value": lambda gw: raw_post(gw, f"X-Junk: {'a' * 1_000_000}\r\n"),
    "many short headers": lambda gw: raw_post(gw, "".join(f"X-J{i}: a\r\n" for i in range(50_000))),
    "a long URL": lambda gw: raw_get(gw, "{ __typename " + " " * 300_000 + "}"),  # was a vague plain 400
}


@pytest.mark.parametrize("make", HUGE_HEADS.values(), ids=HUGE_HEADS.keys())
async def test_a_head_over_the_limit_is_refused_431_naming_it(listening, make) -> None:
    port, gateway = listening
    [(elapsed, status, body)] = await exchange(port, make(gateway))
    head_refusal(status, body)
    assert elapsed < QUICK


async def test_heads_within_the_limit_are_served_on_one_connection(listening) -> None:
    """The count starts again at each request of a keep-alive connection: three heads of
    ~45 KB each (together over the limit) are each answered by the gateway."""
    port, gateway = listening
    long_get = raw_get(gateway, "{ __typename " + " " * 15_000 + "}")  # ~45 KB percent-encoded
    assert OperationLimits().max_head_bytes * 0.6 < len(long_get) < OperationLimits().max_head_bytes
    answers = await exchange(port, long_get, raw_post(gateway, f"X-Pad: {'a' * 45_000}\r\n"), long_get)
    assert [(status, orjson.loads(body)) for _, status, body in answers] == [
        (200, {"data": {"__typename": "Query"}})
    ] * 3
