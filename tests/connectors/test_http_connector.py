"""connectors/http.py against real local REST services (uvicorn on 127.0.0.1): a slow one
(the timeout covers the whole wait), a failing one (retries with backoff for idempotent
calls only), secrets from the environment, settings refused at load with their path.
The contract itself (batch, missing subjects, scan ...) is tests/connectors/test_contract.py."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.base import open_connector
from connectors.http import HTTPConnector
from errors import ConfigurationError, SourceUnavailable
from tests.connectors.services import serving

RECORD = {"uscc": "K1", "name": "甲", "secret_field": "x"}


@dataclass
class Service:
    """What the service saw: every request's method, path and headers; ``fail`` answers
    503 to that many requests first; ``delay`` seconds before each answer."""

    url: str = ""
    seen: list[tuple[str, str, dict[str, str], float]] = field(default_factory=list)
    fail: int = 0
    delay: float = 0.0
    raw: bytes | None = None  # answered as it is (application/json) instead of a record

    async def answer(self, request: Request) -> Response:
        self.seen.append((request.method, request.url.path, dict(request.headers), time.monotonic()))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.raw is not None:
            return Response(self.raw, media_type="application/json")
        if self.fail > 0:
            self.fail -= 1
            return JSONResponse({"error": "busy"}, 503)
        if request.method == "POST":
            keys = (await request.json())["keys"]
            return JSONResponse({"items": [RECORD] if "K1" in keys else []})
        return JSONResponse({"data": RECORD} if request.url.path.endswith("/K1") else {}, 200)


@pytest.fixture(scope="module")
def running() -> Iterator[Service]:
    service = Service()
    app = Starlette(routes=[Route("/{path:path}", service.answer, methods=["GET", "POST"])])
    with serving(app) as url:
        service.url = url
        yield service


@pytest.fixture
def service(running: Service) -> Service:
    running.seen.clear()
    running.fail, running.delay, running.raw = 0, 0.0, None
    return running


def connector(service: Service, **settings: Any) -> HTTPConnector:
    made = open_connector({"kind": "http", "base_url": service.url, **settings}, Path())
    assert isinstance(made, HTTPConnector)
    return made


GET = {"get": "rows/{key}", "record": "$.data"}
BATCH = {"batch": {"url": "rows/lookup", "rows": "$.items"}}


async def test_a_slow_service_costs_one_timeout_even_with_retries(service: Service) -> None:
    service.delay = 5.0
    http = connector(service, timeout=0.4, retries=3, backoff=0.01)
    binding = http.bind(GET, ["uscc", "name"], "uscc")
    started = time.monotonic()
    with pytest.raises(SourceUnavailable) as caught:
        await http.fetch(binding, ["K1", "K2"], ["name"])
    assert time.monotonic() - started < 1.4  # one timeout, not 4 attempts x 5 s; slack for a busy machine
    assert caught.value.extensions["timeout"] == 0.4
    await http.close()


async def test_an_idempotent_get_is_retried_with_growing_backoff(service: Service) -> None:
    service.fail = 2
    http = connector(service, retries=2, backoff=0.2)
    binding = http.bind(GET, ["uscc", "name"], "uscc")
    assert await http.fetch(binding, ["K1"], ["name"]) == {"K1": {"name": "甲"}}
    stamps = [seen[3] for seen in service.seen]
    assert len(stamps) == 3
    first, second = stamps[1] - stamps[0], stamps[2] - stamps[1]
    assert 0.2 <= first < 0.7 and 0.4 <= second < 0.9  # 0.2 s, then doubled (slack: a busy machine)
    await http.close()


async def test_retries_end_and_the_failure_is_source_unavailable(service: Service) -> None:
    service.fail = 10
    http = connector(service, retries=1, backoff=0.01)
    binding = http.bind(GET, ["uscc", "name"], "uscc")
    with pytest.raises(SourceUnavailable, match=r"rows/\{key\} answered 503"):
        await http.fetch(binding, ["K1"], ["name"])
    assert len(service.seen) == 2
    await http.close()


async def test_a_batch_post_is_not_retried_unless_marked_idempotent(service: Service) -> None:
    service.fail = 1
    http = connector(service, retries=3, backoff=0.01)
    with pytest.raises(SourceUnavailable, match="503"):
        await http.fetch(http.bind(BATCH, ["uscc", "name"], "uscc"), ["K1"], ["name"])
    assert [s[0] for s in service.seen] == ["POST"]
    service.fail, service.seen[:] = 1, []
    safe = {"batch": {**BATCH["batch"], "idempotent": True}}
    assert await http.fetch(http.bind(safe, ["uscc", "name"], "uscc"), ["K1"], ["name"]) == {
        "K1": {"name": "甲"}
    }
    assert [s[0] for s in service.seen] == ["POST", "POST"]
    await http.close()


async def test_secrets_come_from_the_environment(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVSHARE_TEST_HPF_TOKEN", "s3cr3t")
    monkeypatch.setenv("GOVSHARE_TEST_HPF_PASSWORD", "pw")
    headers = {"Authorization": "Bearer ${GOVSHARE_TEST_HPF_TOKEN}", "X-Caller": "govshare"}
    http = connector(service, headers=headers)
    await http.fetch(http.bind(GET, ["uscc"], "uscc"), ["K1"], ["uscc"])
    assert service.seen[-1][2]["authorization"] == "Bearer s3cr3t"
    assert service.seen[-1][2]["x-caller"] == "govshare"
    await http.close()
    basic = connector(service, auth={"username": "gs", "password": "${GOVSHARE_TEST_HPF_PASSWORD}"})
    await basic.fetch(basic.bind(GET, ["uscc"], "uscc"), ["K1"], ["uscc"])
    assert service.seen[-1][2]["authorization"] == "Basic Z3M6cHc="  # gs:pw (RFC 7617)
    await basic.close()


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"headers": {"Authorization": "Bearer ${GOVSHARE_TEST_UNSET_TOKEN}"}}, "GOVSHARE_TEST_UNSET_TOKEN"),
        ({"headers": {"Authorization": "Bearer abc123"}}, "headers.Authorization"),
        ({"auth": {"username": "gs", "password": "plain"}}, "auth.password"),
        ({"base_url": "ftp://x"}, "base_url"),
        ({"base_url": None}, "base_url"),
        ({"timeout": 0}, "timeout"),
        ({"concurrency": 0}, "concurrency"),
        ({"retries": -1}, "retries"),
        ({"retries": 1.5}, "retries"),
        ({"backoff": "fast"}, "backoff"),
        ({"max_bytes": 0}, "max_bytes"),
        ({"base_url": "http://govshare:pw@127.0.0.1:9/"}, "base_url"),
        ({"base_url": "http://127.0.0.1:9/v1/?api_key=abc123"}, "base_url"),
        ({"headers": {"X-Api-Key": "abc123"}}, "headers.X-Api-Key"),
        ({"headers": {"X-Access-Token": "abc123"}}, "headers.X-Access-Token"),
        ({"headers": {"Cookie": "session=abc123"}}, "headers.Cookie"),
    ],
)
def test_bad_connector_settings_are_refused_naming_them(
    settings: dict[str, Any], named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVSHARE_TEST_UNSET_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match=named.replace(".", r"\.")):
        open_connector({"kind": "http", "base_url": "http://127.0.0.1:9/", **settings}, Path())


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ({"get": "rows/K1"}, "source.get"),
        ({"get": "rows/{key}", "columns": {"name": "$..name"}}, "source.columns.name"),
        ({"get": "rows/{key}", "columns": {"name": "$.a[x]"}}, "source.columns.name"),
        ({"batch": {"url": "x", "max_keys": 0}}, "source.batch.max_keys"),
        ({"batch": {"url": "x", "verb": "PUT"}}, "source.batch"),
        ({"batch": {"url": "x", "idempotent": "yes"}}, "source.batch.idempotent"),
        ({"get": "r/{key}", "scan": {"url": "r", "params": {"offset": "o"}}}, "source.scan.params"),
        ({"get": "r/{key}", "freshness": {"url": "f"}}, "source.freshness.field"),
        ({"get": "r/{key}", "key": 5}, "source.key"),
        ({"get": "https://elsewhere.example/r/{key}"}, "source.get"),
        ({"get": "r/{key}?access_token=abc123"}, "source.get"),
        ({"batch": {"url": "lookup?appKey=abc&x=1"}}, "source.batch.url"),
        ({"get": "../admin/{key}"}, "source.get"),
        ({"batch": {"url": "http://elsewhere.example/lookup"}}, "source.batch.url"),
        ({"get": "r/{key}", "scan": {"url": "HTTPS://elsewhere.example/r"}}, "source.scan.url"),
        ({"get": "r/{key}", "freshness": {"url": "r/../../f", "field": "$.at"}}, "source.freshness.url"),
    ],
)
def test_bad_source_settings_are_refused_naming_them(source: dict[str, Any], named: str) -> None:
    http = open_connector({"kind": "http", "base_url": "http://127.0.0.1:9/"}, Path())
    with pytest.raises(ConfigurationError, match=named.replace(".", r"\.")):
        http.bind(source, ["uscc", "name"], "uscc")


async def test_error_text_names_the_template_not_the_subject(service: Service) -> None:
    """Subject codes stay out of error text and logs (common brief: security)."""
    service.fail = 5
    http = connector(service, retries=0)
    with pytest.raises(SourceUnavailable) as caught:
        await http.fetch(http.bind(GET, ["uscc"], "uscc"), ["91420100MA4K0001XX"], ["uscc"])
    assert "91420100MA4K0001XX" not in caught.value.message and "{key}" in caught.value.message
    await http.close()


async def test_per_key_calls_are_bounded_by_concurrency(service: Service) -> None:
    service.delay = 0.05
    http = connector(service, concurrency=3)
    started = time.monotonic()
    await http.fetch(http.bind(GET, ["uscc"], "uscc"), [f"K{i}" for i in range(9)], ["uscc"])
    assert time.monotonic() - started >= 0.15  # 9 calls, 3 at a time, 0.05 s each
    assert len(service.seen) == 9
    await http.close()


async def test_a_check_is_a_probe_and_is_not_retried(service: Service) -> None:
    """/readyz and the start-up report the state now; they do not wait a failure out."""
    service.fail = 1
    http = connector(service, retries=3, backoff=0.5)
    binding = http.bind({**GET, "scan": {"url": "rows", "rows": "$.items"}}, ["uscc"], "uscc")
    with pytest.raises(SourceUnavailable, match="503"):
        await http.check(binding)
    assert len(service.seen) == 1
    await http.close()


NOT_JSON = {
    "nested deeper than any parser": b"[" * 100_000 + b"]" * 100_000,
    "objects nested deeper than any parser": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "not UTF-8": b'{"data": {"uscc": "K1", "name": "\xd5\xc5"}}',
    "an HTML page": b"<html>login</html>",
}


@pytest.mark.parametrize("raw", list(NOT_JSON.values()), ids=list(NOT_JSON))
@pytest.mark.parametrize("source", [GET, BATCH], ids=["per key", "batch"])
async def test_an_answer_that_is_not_json_is_source_unavailable(
    service: Service, raw: bytes, source: dict[str, Any]
) -> None:
    """Never an unexpected error (a RecursionError was an INTERNAL answer)."""
    service.raw = raw
    http = connector(service, retries=0)
    with pytest.raises(SourceUnavailable, match="not JSON"):
        await http.fetch(http.bind(source, ["uscc", "name"], "uscc"), ["K1"], ["name"])
    await http.close()


async def test_an_answer_larger_than_max_bytes_is_refused(service: Service) -> None:
    record = {"data": {"uscc": "K1", "name": "x" * 5000}}
    service.raw = json.dumps(record).encode()
    http = connector(service, max_bytes=4096, retries=2)
    binding = http.bind(GET, ["uscc", "name"], "uscc")
    with pytest.raises(SourceUnavailable, match="max_bytes"):
        await http.fetch(binding, ["K1"], ["name"])
    assert len(service.seen) == 1  # too large is not a passing failure: not retried
    await http.close()
    roomy = connector(service, max_bytes=8192)
    assert await roomy.fetch(roomy.bind(GET, ["uscc", "name"], "uscc"), ["K1"], ["name"]) == {
        "K1": {"name": "x" * 5000}
    }
    await roomy.close()


async def test_a_batch_answering_a_key_twice_gives_its_first_record(service: Service) -> None:
    """As a scan does (connectors/records.py): which record wins must not depend on the kind."""
    twice = [{"uscc": "K1", "name": "first"}, {"uscc": "K1", "name": "second"}]
    service.raw = json.dumps({"items": twice}).encode()
    http = connector(service)
    assert await http.fetch(http.bind(BATCH, ["uscc", "name"], "uscc"), ["K1"], ["name"]) == {
        "K1": {"name": "first"}
    }
    await http.close()


ODD_SECRETS = {"CRLF": "tok\r\nX-Injected: 1", "not ASCII": "令牌tok", "DEL": "tok\x7f"}


@pytest.mark.parametrize("value", list(ODD_SECRETS.values()), ids=list(ODD_SECRETS))
def test_a_secret_no_header_can_carry_is_refused_at_load_never_quoted(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: CR LF failed each request (h11's error quoting the secret), non-ASCII crashed
    the load with a UnicodeEncodeError naming no file or setting."""
    monkeypatch.setenv("GOVSHARE_TEST_ODD_TOKEN", value)
    headers = {"Authorization": "Bearer ${GOVSHARE_TEST_ODD_TOKEN}"}
    with pytest.raises(ConfigurationError) as caught:
        open_connector({"kind": "http", "base_url": "http://127.0.0.1:9/", "headers": headers}, Path())
    message = caught.value.message
    assert "headers.Authorization" in message and "GOVSHARE_TEST_ODD_TOKEN" in message
    assert "tok" not in message


@pytest.mark.parametrize("value", [{"inner": "SECRET-NESTED"}, ["SECRET-NESTED"]], ids=["object", "list"])
@pytest.mark.parametrize("source", [GET, BATCH], ids=["per key", "batch"])
async def test_an_item_path_holding_an_object_or_list_is_source_unavailable(
    service: Service, value: Any, source: dict[str, Any]
) -> None:
    """A row holds values (connectors/base.py): a whole sub-object would carry whatever else
    the department put in it into exports and error text. The path is named, never the value."""
    record = {"uscc": "K1", "name": value}
    service.raw = json.dumps({"data": record, "items": [record]}).encode()
    http = connector(service)
    with pytest.raises(SourceUnavailable, match="name holds a") as caught:
        await http.fetch(http.bind(source, ["uscc", "name"], "uscc"), ["K1"], ["name"])
    assert "SECRET" not in caught.value.message and "source.columns.name" in caught.value.message
    await http.close()


async def test_the_subject_key_may_travel_in_the_query(service: Service) -> None:
    """``?key={key}`` is no credential (the refusal of literal credentials in URLs spares it)."""
    http = connector(service)
    binding = http.bind({"get": "rows/K1?key={key}", "record": "$.data"}, ["uscc", "name"], "uscc")
    assert await http.fetch(binding, ["K1"], ["name"]) == {"K1": {"name": "甲"}}
    await http.close()


async def test_a_colon_in_a_path_stays_in_the_path(service: Service) -> None:
    """``insured:batch`` (a custom method, as the module docstring's example) is a path under
    base_url: httpx read ``insured:`` as a URL scheme and POSTed to ``batch``."""
    http = connector(service)
    source = {"batch": {"url": "rows:lookup", "rows": "$.items"}, "get": "rows:one/{key}", "record": "$.data"}
    binding = http.bind(source, ["uscc", "name"], "uscc")
    assert await http.fetch(binding, ["K1"], ["name"]) == {"K1": {"name": "甲"}}
    assert [seen[1] for seen in service.seen] == ["/rows:lookup"]
    await http.close()
