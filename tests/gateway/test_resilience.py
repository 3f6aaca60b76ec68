"""A hung department behind its circuit breaker, in a running gateway.

The tax department's SQLite file is locked by a writer (``BEGIN EXCLUSIVE``), its timeout
is 0.3 s and its circuit opens after 2 failures. The first requests wait one timeout for
its fields; once the circuit is open, a query spanning tax and a healthy department answers
at once: tax's field is ``SOURCE_UNAVAILABLE`` (``circuit: open``), the rest is answered.
``/readyz`` and ``stats`` show the open circuit; the transition is logged.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from gateway.app import Gateway, create_app
from gateway.demo import AMR, BIGDATA, HOUSING, TAX, build_demo, organization_codes
from gateway.settings import Settings

TIMEOUT = 0.3
QUERY = """query($c: USCC!) {
  organization(code: $c) { enterpriseRegistration { name } taxCredit { creditRating } }
}"""


@pytest.fixture
async def hung_tax(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Gateway]]:
    build_demo(tmp_path, organizations=20, persons=5)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace("tax.db'}", f"tax.db', timeout: {TIMEOUT}}}"))
    flags = {"breaker_failures": 2, "breaker_open_seconds": 600}
    settings = Settings.load({}, data=str(tmp_path), **flags)  # type: ignore[arg-type]
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


async def ask(client: httpx.AsyncClient, gateway: Gateway, code: str) -> tuple[float, Any]:
    token = gateway.signer.issue(HOUSING.code, ["consumer"], "test", 600)
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote("住房保障资格审核"), "X-Voucher": "off"}
    started = time.monotonic()
    response = await client.post("/graphql", json={"query": QUERY, "variables": {"c": code}}, headers=headers)
    return time.monotonic() - started, response.json()


async def test_with_the_circuit_open_the_hung_department_costs_nothing(
    hung_tax: tuple[httpx.AsyncClient, Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "govshare.circuit")
    client, gateway = hung_tax
    codes = organization_codes(20)
    for code in codes[:2]:
        elapsed, _ = await ask(client, gateway, code)
        assert elapsed >= TIMEOUT * 0.9  # closed: a whole timeout
    breaker = gateway.federation.sources["tax.tax_credit"].breaker
    assert breaker is not None and breaker.state == "open"
    times = []
    for code in codes[2:12]:
        elapsed, body = await ask(client, gateway, code)
        times.append(elapsed)
        organization = body["data"]["organization"]
        assert organization["enterpriseRegistration"]["name"] and organization["taxCredit"] is None
        [error] = body["errors"]
        assert error["path"] == ["organization", "taxCredit"]
        assert (
            error["extensions"]["code"] == "SOURCE_UNAVAILABLE" and error["extensions"]["circuit"] == "open"
        )
        assert error["extensions"]["provider"] == TAX.code
    assert sorted(times)[len(times) // 2] < TIMEOUT / 3  # the median: a busy machine may stall one
    [line] = [r for r in caplog.records if r.name == "govshare.circuit"]
    assert line.fields == {
        "source": TAX.code,
        "from": "closed",
        "to": "open",
        "reason": line.fields["reason"],
    }  # type: ignore[attr-defined]

    started = time.monotonic()
    ready = (await client.get("/readyz")).json()
    assert time.monotonic() - started < 1.0  # the open source is not asked again
    assert ready["status"] == "degraded"
    assert ready["sources"]["tax.tax_credit"]["circuit"] == "open"
    assert ready["sources"]["amr.enterprise_registration"]["circuit"] == "closed"

    stats = await operator_stats(client, gateway)
    assert stats[TAX.code]["state"] == "open" and stats[TAX.code]["rejected"] >= 10
    assert stats[TAX.code]["availability"] < 0.2 and stats[TAX.code]["opened"] == 1
    assert stats[AMR.code]["state"] == "closed" and stats[AMR.code]["availability"] == 1.0


async def operator_stats(client: httpx.AsyncClient, gateway: Gateway) -> dict[str, Any]:
    token = gateway.signer.issue(BIGDATA.code, ["operator"], "test", 600)
    query = "{ stats { department { code } circuit { state calls failures rejected opened availability } } }"
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote("评估"), "X-Voucher": "off"}
    body = (await client.post("/graphql", json={"query": query}, headers=headers)).json()
    assert "errors" not in body, body
    return {entry["department"]["code"]: entry["circuit"] for entry in body["data"]["stats"]}


async def test_an_export_of_a_source_whose_circuit_is_open_fails_at_once(served) -> None:
    client, gateway, _ = served
    source = gateway.federation.sources["amr.enterprise_registration"]
    assert source.breaker is not None
    for _ in range(source.breaker.settings.failures):
        source.breaker.failed("down (test)")
    token = gateway.signer.issue(HOUSING.code, ["consumer"], ttl=600)
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "test", "X-Request-User": "circuit"}
    started = time.monotonic()
    url = "/export/amr.enterprise_registration"
    answer = await client.get(url, params={"items": "name"}, headers=headers)
    assert time.monotonic() - started < 1.0
    assert answer.status_code == 503
    [error] = answer.json()["errors"]
    assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE"
    assert source.breaker.rejected == 1 and source.breaker.calls == source.breaker.settings.failures
