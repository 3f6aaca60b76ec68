"""A hung department costs its own fields one source timeout; the others still answer.

The tax department's SQLite file is locked by a writer (``BEGIN EXCLUSIVE``), as a
department in the middle of a long load would hold it, and its connector's timeout is
1 s. Concurrent requests ask for a field of the hung department and one of a healthy
department: every request ends within about one timeout (waiting for a pooled
connection or a batching slot included), the hung field is ``SOURCE_UNAVAILABLE``
naming its provider, and the healthy department's field is answered.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.app import Gateway, create_app
from gateway.demo import HOUSING, HPF, TAX, build_demo, organization_codes
from gateway.settings import Settings
from tests.connectors.services import serving

TIMEOUT = 1.0
SLACK = 1.5
PURPOSE = "住房保障资格审核"
QUERY = """query($c: USCC!) {
  organization(code: $c) { enterpriseRegistration { name } taxCredit { creditRating } }
}"""


@pytest.fixture
async def hung_tax(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Gateway]]:
    build_demo(tmp_path, organizations=40, persons=5)
    catalog = tmp_path / "catalog.yaml"
    text = catalog.read_text()
    assert "tax.db'}" in text
    catalog.write_text(text.replace("tax.db'}", f"tax.db', timeout: {TIMEOUT}}}"))
    settings = Settings.load({}, data=str(tmp_path))
    gateway = await Gateway.start(settings)
    app = create_app(settings, gateway)
    app.state.gateway = gateway
    writer = sqlite3.connect(tmp_path / "tax.db", isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            yield client, gateway
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        await gateway.close()


async def ask(client: httpx.AsyncClient, gateway: Gateway, code: str) -> tuple[float, httpx.Response]:
    token = gateway.signer.issue(HOUSING.code, ["consumer"], "test", 600)
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(PURPOSE), "X-Voucher": "off"}
    start = time.monotonic()
    response = await client.post("/graphql", json={"query": QUERY, "variables": {"c": code}}, headers=headers)
    return time.monotonic() - start, response


async def test_a_hung_department_costs_one_timeout_and_the_others_still_answer(hung_tax) -> None:
    client, gateway = hung_tax
    codes = organization_codes(40)
    waves = []
    for wave in range(4):  # requests keep arriving while the first ones hold every slot
        wave_codes = codes[wave * 10 : wave * 10 + 10]
        waves += [asyncio.ensure_future(ask(client, gateway, code)) for code in wave_codes]
        await asyncio.sleep(TIMEOUT / 5)
    for elapsed, response in await asyncio.gather(*waves):
        assert elapsed < TIMEOUT * SLACK
        body = response.json()
        organization = body["data"]["organization"]
        assert organization["enterpriseRegistration"]["name"]  # the healthy department answers
        assert organization["taxCredit"] is None
        [error] = body["errors"]
        assert error["path"] == ["organization", "taxCredit"]
        assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE"
        assert error["extensions"]["provider"] == TAX.code


async def test_compare_with_a_hung_department_answers_its_items_unavailable(hung_tax) -> None:
    """A batch over both departments: the hung one's items are SOURCE_UNAVAILABLE after one
    timeout (no ``found``), the healthy one's are compared."""
    client, gateway = hung_tax
    token = gateway.signer.issue(HOUSING.code, ["consumer"], "test", 600)
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(PURPOSE)}
    code = organization_codes(1)[0]
    requests = [
        {"resource": "tax.tax_credit", "subject": code, "claims": {"credit_rating": "A"}},
        {"resource": "amr.enterprise_registration", "subject": code, "claims": {"status": "x"}},
    ]
    start = time.monotonic()
    response = await client.post("/compare", json={"requests": requests}, headers=headers)
    assert time.monotonic() - start < TIMEOUT + SLACK
    tax, amr = response.json()["results"]
    assert tax["items"] == {} and "found" not in tax
    assert [e["extensions"]["code"] for e in tax["errors"]] == ["SOURCE_UNAVAILABLE"]
    assert tax["errors"][0]["extensions"]["provider"] == TAX.code
    assert amr["found"] is True and amr["items"] == {"status": "mismatch"}


# --- a hung REST department (HPF, kind: http) --------------------------------------------


async def _hang(request: Request) -> JSONResponse:
    await asyncio.sleep(30)  # a department's API that accepts the request and never answers
    return JSONResponse({"items": []})


@pytest.fixture(scope="module")
def hung_rest_url() -> Iterator[str]:
    with serving(Starlette(routes=[Route("/{path:path}", _hang, methods=["GET", "POST"])])) as url:
        yield url


@pytest.fixture
async def hung_hpf(hung_rest_url: str, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Gateway]]:
    build_demo(tmp_path, organizations=20, persons=5, rest_url=hung_rest_url + "/")
    catalog = tmp_path / "catalog.yaml"
    text = catalog.read_text()
    assert "timeout: 5, retries" in text
    catalog.write_text(text.replace("timeout: 5, retries", f"timeout: {TIMEOUT}, retries"))
    settings = Settings.load({}, data=str(tmp_path))
    gateway = await Gateway.start(settings)
    app = create_app(settings, gateway)
    app.state.gateway = gateway
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        yield client, gateway
    await gateway.close()


async def test_a_hung_rest_department_costs_its_fields_one_timeout_only(hung_hpf) -> None:
    """Requests keep arriving while the REST API holds every connection: each answers within
    about one timeout, HPF's field SOURCE_UNAVAILABLE, AMR's (SQLite) answered."""
    client, gateway = hung_hpf
    token = gateway.signer.issue(HOUSING.code, ["consumer"], "test", 600)
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(PURPOSE), "X-Voucher": "off"}
    query = """query($c: USCC!) {
      organization(code: $c) { enterpriseRegistration { name } deposit { depositStatus } }
    }"""

    async def one(code: str) -> tuple[float, dict[str, Any]]:
        start = time.monotonic()
        response = await client.post(
            "/graphql", json={"query": query, "variables": {"c": code}}, headers=headers
        )
        return time.monotonic() - start, response.json()

    calls = []
    for wave in range(2):
        calls += [
            asyncio.ensure_future(one(code)) for code in organization_codes(20)[wave * 10 : wave * 10 + 10]
        ]
        await asyncio.sleep(TIMEOUT / 3)
    for elapsed, body in await asyncio.gather(*calls):
        assert elapsed < TIMEOUT * SLACK
        assert body["data"]["organization"]["enterpriseRegistration"]["name"]
        [error] = body["errors"]
        assert error["path"] == ["organization", "deposit"]
        assert (
            error["extensions"]["code"] == "SOURCE_UNAVAILABLE"
            and error["extensions"]["provider"] == HPF.code
        )
