"""A value a source answers that its item's GraphQL type cannot represent is the
department's fault, and its text never reaches the consumer. A value the connector passes
(text or a fraction for an integer; SQLite keeps any type in any column) makes the field
``SOURCE_UNAVAILABLE`` naming the type, never graphql-core's ``Int cannot represent
non-integer value: '...'``, which quotes it; an object or a list where an item's value
should be is refused by the http connector (a row holds values), so the resource is
``SOURCE_UNAVAILABLE`` and what the object held appears nowhere. HPF's REST API is a real
service on 127.0.0.1; AMR is the demo's SQLite database."""

from __future__ import annotations

import sqlite3
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
from gateway.demo import HOUSING, build_demo, organization_codes
from gateway.settings import Settings
from tests.connectors.services import serving

SECRET = "SECRET-VALUE-110101"


def deposit(code: str, status: Any, employees: Any) -> dict[str, Any]:
    values = {"status": status, "employees": employees, "last_month": "2026-10"}
    return {"unit": {"uscc": code}, "deposit": values}


class Odd:
    """HPF's REST API answering ``status`` and ``employees`` as set by the test."""

    status: Any = "正常缴存"
    employees: Any = 3

    async def lookup(self, request: Request) -> JSONResponse:
        keys = (await request.json())["keys"]
        return JSONResponse({"items": [deposit(k, self.status, self.employees) for k in keys]})

    async def scan(self, request: Request) -> JSONResponse:  # the start-up check's probe
        return JSONResponse({"items": []})


@pytest.fixture(scope="module")
def odd() -> Iterator[tuple[Odd, str]]:
    service = Odd()
    routes = [Route("/deposits/lookup", service.lookup, methods=["POST"]),
              Route("/deposits/records", service.scan)]  # fmt: skip
    app = Starlette(routes=routes)
    with serving(app) as url:
        yield service, url


@pytest.fixture
async def gateway(odd: tuple[Odd, str], tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Gateway]]:
    build_demo(tmp_path, organizations=5, persons=5, rest_url=odd[1] + "/")
    settings = Settings.load({}, data=str(tmp_path))
    started = await Gateway.start(settings)
    app = create_app(settings, started)
    app.state.gateway = started
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        yield client, started
    await started.close()


async def ask(client: httpx.AsyncClient, gateway: Gateway, query: str) -> dict[str, Any]:
    token = gateway.signer.issue(HOUSING.code, ["consumer"], "test", 600)
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote("住房保障资格审核"), "X-Voucher": "off"}
    code = organization_codes(5)[0]
    response = await client.post("/graphql", json={"query": query, "variables": {"c": code}}, headers=headers)
    assert response.status_code == 200, response.text
    assert SECRET not in response.text
    body: dict[str, Any] = response.json()
    return body


FIELDS = {"status": "depositStatus", "employees": "coveredEmployees"}


@pytest.mark.parametrize("answer", [SECRET, 1234.5], ids=["text", "fraction"])
async def test_a_rest_value_its_type_cannot_hold_is_never_quoted(
    odd: tuple[Odd, str], gateway: tuple[httpx.AsyncClient, Gateway], answer: Any
) -> None:
    """A value the connector passes (a JSON scalar) that the item's type (Int) cannot hold."""
    service, _ = odd
    service.status, service.employees = "正常缴存", answer
    query = "query($c: USCC!) { organization(code: $c) { deposit { depositStatus coveredEmployees } } }"
    body = await ask(*gateway, query)
    [error] = body["errors"]
    assert error["path"] == ["organization", "deposit", "coveredEmployees"]
    assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE"
    assert "Int" in error["message"] and str(answer) not in error["message"]
    assert body["data"]["organization"]["deposit"]["depositStatus"] == "正常缴存"  # the rest still answers


@pytest.mark.parametrize("answer", [{"inner": SECRET}, [SECRET]], ids=["object", "list"])
@pytest.mark.parametrize("item", list(FIELDS))
async def test_a_rest_object_or_list_for_an_item_is_never_quoted(
    odd: tuple[Odd, str], gateway: tuple[httpx.AsyncClient, Gateway], item: str, answer: Any
) -> None:
    """The resource is SOURCE_UNAVAILABLE; what the object held is in no answer (``ask``)."""
    service, _ = odd
    service.status, service.employees = "正常缴存", 3
    setattr(service, item, answer)
    query = "query($c: USCC!) { organization(code: $c) { deposit { depositStatus coveredEmployees } } }"
    body = await ask(*gateway, query)
    [error] = body["errors"]
    assert error["path"] == ["organization", "deposit"]
    assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE"


async def test_a_sqlite_value_its_type_cannot_hold_is_never_quoted(
    gateway: tuple[httpx.AsyncClient, Gateway], tmp_path: Path
) -> None:
    code = organization_codes(5)[0]
    with sqlite3.connect(tmp_path / "amr.db") as db:  # SQLite keeps text in any column
        db.execute("UPDATE enterprise SET capital = ? WHERE uscc = ?", (SECRET, code))
    query = (
        "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { registeredCapital status } } }"
    )
    body = await ask(*gateway, query)
    [error] = body["errors"]
    assert error["path"] == ["organization", "enterpriseRegistration", "registeredCapital"]
    assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE"
    assert body["data"]["organization"]["enterpriseRegistration"]["status"]  # the rest still answers
