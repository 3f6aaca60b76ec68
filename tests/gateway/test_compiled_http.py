"""The whole-operation fast path (resolvers.compiled_query) behind /graphql, in process over ASGI.

Each document is sent three times with the same headers: once to have it parsed, once with
the fast path off, once with it on (the fast path must answer that one). The responses
(status, body but the voucher), the vouchers' claims but the receipt, and the audit events
recorded (but their ids and times) must be the same: refusals of conditional items without
a grant, non-shared items, invalid codes, missing variables, all-or-nothing included. A
voucher from the fast path verifies against the answer it came with.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest

from gateway.app import Gateway
from gateway.auth import voucher_keys
from gateway.demo import DRC, HOUSING, organization_codes
from gateway.platform import new_grant_row
from gateway.vouchers import VOUCHER_KEY, verify_voucher
from resolvers.compiled_query import CompiledQueries

PURPOSE = "行政审批核验"  # the demo grant's (DRC: legal representative)
ORG = """query($c: USCC!) { organization(code: $c) { code
  er: enterpriseRegistration { name status legalRepresentative } taxCredit { creditRating __typename } } }"""
LIST = (
    "query($c: [USCC!]!) { organizations(codes: $c) { enterpriseRegistration { name legalRepresentative } } }"
)
CASES = [
    (ORG, {"c": organization_codes(1)[0]}, HOUSING.code, {}),  # legalRepresentative refused: no grant
    (ORG, {"c": organization_codes(1)[0]}, DRC.code, {}),  # granted: the value
    (ORG, {"c": organization_codes(1)[0]}, HOUSING.code, {"X-Reject-Unauthorized": "true"}),  # all or nothing
    (ORG, {"c": "91420102MA0000007X"}, DRC.code, {}),  # invalid USCC: a request error
    (ORG, {}, DRC.code, {}),  # missing variable
    (LIST, {"c": organization_codes(3)}, HOUSING.code, {}),
    ("query($c: USCC!) { organization(code: $c) { enterpriseRegistration { innerNote } } }",
     {"c": organization_codes(1)[0]}, DRC.code, {}),  # not shared: refused by validation
]  # fmt: skip


def _headers(gateway: Gateway, department: str, extra: dict[str, str]) -> dict[str, str]:
    token = gateway.signer.issue(department, ["consumer"], "test", 600)
    return {"Authorization": f"Bearer {token}", "X-Purpose": quote(PURPOSE),
            "Accept": "application/graphql-response+json", **extra}  # fmt: skip


def _compiled(gateway: Gateway) -> CompiledQueries:
    compiled = gateway.schema.compiled_queries
    assert compiled is not None
    return compiled


async def _grant(gateway: Gateway) -> None:
    """DRC's grant of the legal representative for PURPOSE (as the demo's)."""
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    row = new_grant_row(DRC.code, "amr.enterprise_registration", ["legal_representative"], PURPOSE, until)
    await gateway.platform.add_grant(row)


async def _events(gateway: Gateway, consumer: str) -> list[dict[str, Any]]:
    assert gateway.audit is not None
    found = await gateway.audit.events(consumer=consumer, limit=1000)
    unstable = {"id", "seq", "at", "time", "hash", "prev", "prev_hash", "instance", "signature"}
    return [{k: v for k, v in event.items() if k not in unstable} for event in found]


def _claims(body: dict[str, Any]) -> dict[str, Any]:
    token = body.get("extensions", {}).pop(VOUCHER_KEY, None)
    if body.get("extensions") == {}:
        del body["extensions"]
    if token is None:
        return {}
    payload = token.split(".")[1]
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return {k: v for k, v in claims.items() if k not in ("aid", "ahash", "iat")}


async def _send(
    client: httpx.AsyncClient, gateway: Gateway, case: tuple[Any, ...], fast: bool
) -> tuple[Any, ...]:
    query, variables, consumer, extra = case
    before = len(await _events(gateway, consumer))
    _compiled(gateway).enabled = fast
    try:
        sent = await client.post("/graphql", json={"query": query, "variables": variables},
                                 headers=_headers(gateway, consumer, extra))  # fmt: skip
    finally:
        _compiled(gateway).enabled = True
    body = sent.json()
    claims = _claims(body)
    return sent.status_code, body, claims, (await _events(gateway, consumer))[before:]  # this request's


IDS = ["refused", "granted", "all-or-nothing", "invalid-code", "missing", "list", "not-shared"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_http_answers_events_and_vouchers_are_the_same_on_both_paths(served, case):
    client, gateway, _ = served
    await _grant(gateway)
    await _send(client, gateway, case, fast=False)  # parsed and validated once
    ran = 0
    original = _compiled(gateway)._run

    async def counted(*args: Any) -> Any:
        nonlocal ran
        ran += 1
        return await original(*args)

    normal = await _send(client, gateway, case, fast=False)
    _compiled(gateway)._run = counted  # type: ignore[method-assign]
    try:
        fast = await _send(client, gateway, case, fast=True)
    finally:
        del _compiled(gateway)._run
    assert fast == normal
    compiles = case[0] != CASES[-1][0] and case[1] != {} and "X" not in case[1].get("c", "")[-1:]
    assert ran == (1 if compiles else 0)


async def test_a_fast_answer_carries_a_voucher_that_verifies(served):
    client, gateway, _ = served
    await _grant(gateway)
    case = CASES[1]
    for _ in range(2):  # the second is answered by the fast path
        sent = await client.post("/graphql", json={"query": case[0], "variables": case[1]},
                                 headers=_headers(gateway, case[2], {}))  # fmt: skip
    body = sent.json()
    assert body["data"]["organization"]["er"]["legalRepresentative"]
    check = verify_voucher(body["extensions"][VOUCHER_KEY], body, voucher_keys(gateway.settings.data_dir))
    assert check.ok, check.reason


async def test_a_refused_item_is_null_and_its_value_nowhere_on_the_fast_path(served):
    client, gateway, _ = served
    await _grant(gateway)
    case = CASES[0]
    for _ in range(2):
        sent = await client.post("/graphql", json={"query": case[0], "variables": case[1]},
                                 headers=_headers(gateway, case[2], {}))  # fmt: skip
    body = sent.json()
    assert body["data"]["organization"]["er"]["legalRepresentative"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["CONDITIONAL_ACCESS_REQUIRED"]
    granted = await client.post("/graphql", json={"query": case[0], "variables": case[1]},
                                headers=_headers(gateway, DRC.code, {}))  # fmt: skip
    value = granted.json()["data"]["organization"]["er"]["legalRepresentative"]
    assert value and value not in sent.text
