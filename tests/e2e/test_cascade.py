"""Cascading gateways: a city gateway federating a provincial one, both real uvicorn servers
on 127.0.0.1 (random ports), each with its own data folder, keys, platform database and audit
trail (issue 9 section 3; Hubei art. 9 and 12, Zhejiang art. 37, Zhengzhou art. 6).

The province serves tests/data/catalog.yaml (mock departments). The city imports the
province's ``amr.enterprise_registration`` as ``hubei.enterprise_registration`` through a
``graphql`` connector that authenticates with its own OAuth client at the province and
forwards each county consumer in a signed ``X-On-Behalf-Of`` assertion. County A holds a
grant on ``legal_representative`` at both levels; county B only at the city.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import uvicorn
from joserfc import jwt
from joserfc.jwk import ECKey

from gateway.app import create_app
from gateway.auth import Signer, load_signer
from gateway.clients import ClientStore
from gateway.demo_applications import approve_unconditional
from gateway.forwarding import ASSERTION_TYPE, assertion_signer
from gateway.platform import PlatformDB, default_url, new_grant_row
from gateway.settings import Settings, TrustedGateway
from tests.conftest import CATALOG
from tests.e2e.conftest import fresh_department

pytestmark = pytest.mark.e2e

PURPOSE = "企业开办行政审批核验"
PROVINCE_AMR = "11420000MB00000191"  # the provincial department in tests/data/catalog.yaml
CITY = "11420100MB0000094Y"  # the city platform's own department (the forwarding gateway)
KNOWN = "91420100MA4K00010R"  # an enterprise the provincial AMR holds
UPSTREAM_NAME = "hubei-province"

CITY_CATALOG = f"""
profile: hubei
departments:
  - code: "{PROVINCE_AMR}"
    name: 湖北省市场监督管理局
    region: "420000"
    level: province
    connector:
      kind: graphql
      url: "{{url}}"
      client_id: "${{CASCADE_TEST_CLIENT_ID}}"
      client_secret: "${{CASCADE_TEST_CLIENT_SECRET}}"
      audience: {UPSTREAM_NAME}
      timeout: 5
resources:
  - id: hubei.enterprise_registration
    code: 420000-AMR-001
    name: 企业登记信息
    provider: "{PROVINCE_AMR}"
    subject: organization
    key: uscc
    update_cycle: daily
    share: unconditional
    modes: [query]
    source: {{subject: organization, field: enterpriseRegistration}}
    items:
      - {{name: uscc, title: 统一社会信用代码}}
      - {{name: name, title: 企业名称}}
      - name: legal_representative
        title: 法定代表人
        share: conditional
        condition: 用于行政审批核验法定代表人身份
      - {{name: registered_capital, title: 注册资本, type: integer}}
      - {{name: status, title: 登记状态}}
      - {{name: inner_note, title: 内部备注}}   # not shared at the province: the city's catalog diverged
"""


@dataclass
class Cascade:
    province: str  # base URLs
    city: str
    province_signer: Signer
    city_signer: Signer
    city_client: str  # the city's OAuth client id at the province
    ordinary_client: tuple[str, str]  # (client_id, secret) of a plain consumer system at the province
    county_a: str  # granted at both levels
    county_b: str  # granted at the city only
    county_c: str  # granted nowhere (conditional items)

    def county_token(self, county: str) -> str:
        return self.city_signer.issue(county, ["consumer"], ttl=600)

    def operator(self) -> str:
        return self.province_signer.issue(PROVINCE_AMR, ["operator"], ttl=600)


def _socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY on accept
    sock.bind(("127.0.0.1", 0))
    return sock


def _serve(settings: Settings, sock: socket.socket) -> tuple[uvicorn.Server, threading.Thread]:
    config = uvicorn.Config(create_app(settings), log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.02)
    assert server.started, "a gateway did not start"
    return server, thread


async def _prepare_province(data: Path, county_a: str) -> tuple[str, str, tuple[str, str]]:
    platform = PlatformDB(default_url(str(data)))
    await platform.create_schema()
    clients = ClientStore(platform)
    city, secret = await clients.create(CITY, ["consumer"], "武汉市政务数据共享交换平台")
    ordinary = await clients.create(fresh_department(), ["consumer"], "某区业务系统")
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    await platform.add_grant(
        new_grant_row(county_a, "amr.enterprise_registration", ["legal_representative"], PURPOSE, until)
    )
    await platform.close()
    return city.client_id, secret, (ordinary[0].client_id, ordinary[1])


async def _prepare_city(data: Path, counties: list[str]) -> None:
    platform = PlatformDB(default_url(str(data)))
    await platform.create_schema()
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    for county in counties:
        row = new_grant_row(county, "hubei.enterprise_registration", ["legal_representative"], PURPOSE, until)
        await platform.add_grant(row)
    await platform.close()


@pytest.fixture(scope="module")
def cascade(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cascade]:
    province_data, city_data = tmp_path_factory.mktemp("province"), tmp_path_factory.mktemp("city")
    province_sock, city_sock = _socket(), _socket()
    province_url = f"http://127.0.0.1:{province_sock.getsockname()[1]}"
    city_url = f"http://127.0.0.1:{city_sock.getsockname()[1]}"
    county_a, county_b, county_c = fresh_department(), fresh_department(), fresh_department()
    city_client, secret, ordinary = asyncio.run(_prepare_province(province_data, county_a))
    asyncio.run(_prepare_city(city_data, [county_a, county_b]))
    (city_data / "catalog.yaml").write_text(CITY_CATALOG.replace("{url}", f"{province_url}/graphql"))
    trusted = (TrustedGateway(city_client, f"{city_url}/.well-known/jwks.json"),)
    province = dataclasses.replace(
        Settings.load({}, data=str(province_data), catalog=str(CATALOG), instance="province"),
        gateway_name=UPSTREAM_NAME,
        trusted_gateways=trusted,
    )
    city = Settings.load({}, data=str(city_data), instance="city")
    # both catalogs are hubei's: every county applied for the unconditional items at each level
    # and the platform granted them on acceptance (Hubei art. 13, 21)
    counties = (county_a, county_b, county_c)
    asyncio.run(approve_unconditional(province, counties, PROVINCE_AMR, PURPOSE))
    asyncio.run(approve_unconditional(city, counties, CITY, PURPOSE))
    saved = {name: os.environ.get(name) for name in ("CASCADE_TEST_CLIENT_ID", "CASCADE_TEST_CLIENT_SECRET")}
    os.environ.update(CASCADE_TEST_CLIENT_ID=city_client, CASCADE_TEST_CLIENT_SECRET=secret)
    servers = [_serve(province, province_sock), _serve(city, city_sock)]
    try:
        yield Cascade(
            province_url,
            city_url,
            load_signer(province_data),
            load_signer(city_data),
            city_client,
            ordinary,
            county_a,
            county_b,
            county_c,
        )
    finally:
        for server, thread in servers:
            server.should_exit = True
            thread.join(timeout=20)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


QUERY = (
    """query($c: USCC!) { organization(code: $c) { enterpriseRegistration { name legalRepresentative } } }"""
)


def post(
    base: str,
    token: str,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    sent = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/graphql-response+json",
        "X-Voucher": "off",
        **(headers or {}),
    }
    return httpx.post(
        f"{base}/graphql", json={"query": query, "variables": variables or {}}, headers=sent, timeout=30
    )


def county_read(cascade: Cascade, county: str, user: str, code: str = KNOWN) -> httpx.Response:
    headers = {"X-Purpose": quote(PURPOSE), "X-Request-User": quote(user)}
    return post(cascade.city, cascade.county_token(county), QUERY, {"c": code}, headers)


AUDIT = """query($consumer: String) { auditEvents(consumer: $consumer, limit: 1000) {
  events { consumer client user purpose items decisions detail outcome } } }"""


def upstream_events(cascade: Cascade, consumer: str, user: str) -> list[dict[str, Any]]:
    answer = post(cascade.province, cascade.operator(), AUDIT, {"consumer": consumer}).json()
    return [e for e in answer["data"]["auditEvents"]["events"] if e["user"] == user]


# --- reading through the city -----------------------------------------------------------------


def test_county_reads_provincial_resource_through_the_city(cascade: Cascade) -> None:
    user = f"county-clerk-{uuid.uuid4().hex[:6]}"
    answer = county_read(cascade, cascade.county_a, user)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body
    assert body["data"]["organization"]["enterpriseRegistration"] == {
        "name": "武汉甲科技有限公司",
        "legalRepresentative": "张三",
    }


def test_upstream_audits_the_county_consumer_purpose_and_city_gateway(cascade: Cascade) -> None:
    user = f"county-clerk-{uuid.uuid4().hex[:6]}"
    assert "errors" not in county_read(cascade, cascade.county_a, user).json()
    [event] = upstream_events(cascade, cascade.county_a, user)
    assert event["consumer"] == cascade.county_a  # the ORIGINAL consumer, not the city
    assert event["purpose"] == PURPOSE
    assert event["detail"]["via"] == {"department": CITY, "client": cascade.city_client}
    # only the items the county asked for went upstream
    assert sorted(event["items"]) == [
        "amr.enterprise_registration.legal_representative",
        "amr.enterprise_registration.name",
    ]
    assert set(event["decisions"].values()) == {"ALLOWED"}


def test_upstream_refusal_reaches_the_county_with_its_code(cascade: Cascade) -> None:
    user = f"county-clerk-{uuid.uuid4().hex[:6]}"
    body = county_read(cascade, cascade.county_b, user).json()
    record = body["data"]["organization"]["enterpriseRegistration"]
    assert record == {"name": "武汉甲科技有限公司", "legalRepresentative": None}
    [error] = body["errors"]
    assert error["extensions"]["code"] == "CONDITIONAL_ACCESS_REQUIRED"
    assert error["path"][-1] == "legalRepresentative"
    assert error["extensions"]["resource"] == "hubei.enterprise_registration"  # the city's own name
    assert error["extensions"]["upstream_resource"] == "amr.enterprise_registration"
    [event] = upstream_events(cascade, cascade.county_b, user)
    assert (
        event["decisions"]["amr.enterprise_registration.legal_representative"]
        == "CONDITIONAL_ACCESS_REQUIRED"
    )
    assert event["detail"]["via"]["department"] == CITY


def test_unknown_subject_is_null_through_the_city(cascade: Cascade) -> None:
    answer = county_read(cascade, cascade.county_a, "clerk", code="91420100MA4K00993E")
    body = answer.json()
    assert body["data"] == {"organization": None}, body


def test_city_checks_the_imported_resource_against_the_upstream_schema(cascade: Cascade) -> None:
    """The city declares inner_note, which the province does not share (so does not serve)."""
    ready = httpx.get(f"{cascade.city}/readyz", timeout=30).json()
    source = ready["sources"]["hubei.enterprise_registration"]
    assert source["state"] == "misconfigured", ready
    assert "innerNote" in source["detail"] and "legalRepresentative" not in source["detail"]


def test_an_item_not_shared_upstream_is_not_shared_for_the_county(cascade: Cascade) -> None:
    user = f"county-clerk-{uuid.uuid4().hex[:6]}"
    headers = {"X-Purpose": quote(PURPOSE), "X-Request-User": quote(user)}
    query = QUERY.replace("legalRepresentative", "innerNote")
    body = post(cascade.city, cascade.county_token(cascade.county_a), query, {"c": KNOWN}, headers).json()
    assert body["data"]["organization"]["enterpriseRegistration"] == {
        "name": "武汉甲科技有限公司",
        "innerNote": None,
    }
    [error] = body["errors"]
    assert (error["extensions"]["code"], error["extensions"]["item"]) == ("NOT_SHARED", "inner_note")
    assert error["extensions"]["basis"]  # the province's legal basis reaches the county
    assert "内部备注" not in str(body["data"])


def test_an_item_the_city_refuses_is_not_asked_upstream(cascade: Cascade) -> None:
    """County C holds no city grant: legalRepresentative is refused at the city and never
    forwarded; the province sees a read of name only."""
    user = f"county-clerk-{uuid.uuid4().hex[:6]}"
    body = county_read(cascade, cascade.county_c, user).json()
    assert body["data"]["organization"]["enterpriseRegistration"]["legalRepresentative"] is None
    assert body["errors"][0]["extensions"]["code"] == "CONDITIONAL_ACCESS_REQUIRED"
    assert "upstream" not in body["errors"][0]["extensions"]  # the city's own refusal
    [event] = upstream_events(cascade, cascade.county_c, user)
    assert event["items"] == ["amr.enterprise_registration.name"]


# --- refused upstream: forged, replayed, untrusted, ordinary ----------------------------------


def city_token_at_province(cascade: Cascade) -> str:
    return cascade.province_signer.issue(CITY, ["consumer"], client_id=cascade.city_client, ttl=600)


def assertion(cascade: Cascade, **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": cascade.city_client,
        "aud": UPSTREAM_NAME,
        "sub": cascade.county_a,
        "client_id": "county-system",
        "purpose": PURPOSE,
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
        **changes,
    }
    return assertion_signer(cascade.city_signer)({k: v for k, v in claims.items() if v is not None})


UPSTREAM_QUERY = QUERY.replace("legalRepresentative", "legalRepresentative uscc")


def upstream_read(cascade: Cascade, token: str, signed: str, **headers: str) -> httpx.Response:
    return post(cascade.province, token, UPSTREAM_QUERY, {"c": KNOWN}, {"X-On-Behalf-Of": signed, **headers})


def test_a_valid_assertion_is_accepted_once(cascade: Cascade) -> None:
    signed = assertion(cascade)
    first = upstream_read(cascade, city_token_at_province(cascade), signed)
    assert first.status_code == 200 and "errors" not in first.json(), first.text
    replayed = upstream_read(cascade, city_token_at_province(cascade), signed)
    assert replayed.status_code == 401
    assert "replayed" in replayed.json()["errors"][0]["message"]


def test_an_ordinary_client_may_not_forward(cascade: Cascade) -> None:
    client_id, secret = cascade.ordinary_client
    grant = httpx.post(
        f"{cascade.province}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=30,
    ).json()
    answer = upstream_read(cascade, grant["access_token"], assertion(cascade))
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_a_forged_assertion_is_refused(cascade: Cascade) -> None:
    now = int(time.time())
    forger = ECKey.generate_key("P-256", auto_kid=True)
    claims = {
        "iss": cascade.city_client,
        "aud": UPSTREAM_NAME,
        "sub": cascade.county_a,
        "client_id": "x",
        "purpose": PURPOSE,
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    header = {"alg": "ES256", "kid": forger.kid, "typ": ASSERTION_TYPE}
    forged = jwt.encode(header, claims, forger, algorithms=["ES256"])
    answer = upstream_read(cascade, city_token_at_province(cascade), forged)
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"aud": "another-gateway"}, "aud"),
        ({"iss": "client-someone-else"}, "iss"),
        ({"exp": int(time.time()) - 5, "iat": int(time.time()) - 65}, "expired"),
        ({"exp": int(time.time()) + 3600}, "at most"),
        ({"sub": "not-a-uscc"}, "sub"),
        ({"jti": None}, "jti"),
    ],
)
def test_a_bad_assertion_is_refused(cascade: Cascade, changes: dict[str, Any], why: str) -> None:
    answer = upstream_read(cascade, city_token_at_province(cascade), assertion(cascade, **changes))
    assert answer.status_code == 401, answer.text
    assert why.lower() in answer.json()["errors"][0]["message"].lower()


def test_an_access_token_is_not_an_assertion(cascade: Cascade) -> None:
    """The city's key also signs its access tokens: one of them must not pass for an assertion."""
    answer = upstream_read(cascade, city_token_at_province(cascade), cascade.county_token(cascade.county_a))
    assert answer.status_code == 401
    assert "typ" in answer.json()["errors"][0]["message"]


def test_a_forwarded_request_may_not_also_send_a_purpose_header(cascade: Cascade) -> None:
    answer = upstream_read(
        cascade, city_token_at_province(cascade), assertion(cascade), **{"X-Purpose": quote("别的用途")}
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["extensions"]["header"] == "X-Purpose"


def test_forwarding_refusals_are_audited_upstream(cascade: Cascade) -> None:
    client_id, secret = cascade.ordinary_client
    grant = httpx.post(
        f"{cascade.province}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=30,
    ).json()
    upstream_read(cascade, grant["access_token"], assertion(cascade))
    events = post(cascade.province, cascade.operator(), AUDIT, {"consumer": None}).json()
    refused = [e for e in events["data"]["auditEvents"]["events"] if e["client"] == client_id]
    assert refused and refused[-1]["decisions"]["request"] == "FORBIDDEN"


def test_concurrent_counties_are_each_decided_on_their_own_grants(cascade: Cascade) -> None:
    """The city coalesces concurrent reads of one resource into one upstream call, but never
    across consumers: each upstream call is made for one consumer, decided on its grants."""

    async def read(county: str) -> dict[str, Any]:
        headers = {
            "Authorization": f"Bearer {cascade.county_token(county)}",
            "X-Purpose": quote(PURPOSE),
            "X-Voucher": "off",
        }
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.post(
                f"{cascade.city}/graphql", json={"query": QUERY, "variables": {"c": KNOWN}}, headers=headers
            )
        return dict(answer.json())

    async def many() -> list[dict[str, Any]]:
        return await asyncio.gather(
            *(read(c) for _ in range(8) for c in (cascade.county_a, cascade.county_b))
        )

    answers = asyncio.run(many())
    for index, body in enumerate(answers):
        value = body["data"]["organization"]["enterpriseRegistration"]["legalRepresentative"]
        if index % 2 == 0:
            assert value == "张三" and "errors" not in body, body
        else:
            assert value is None and body["errors"][0]["extensions"]["code"] == "CONDITIONAL_ACCESS_REQUIRED"


# --- one consumer's bad request must not cut the others off the province ----------------------


def test_a_request_the_upstream_cannot_take_is_refused_at_the_city_and_opens_no_circuit(
    cascade: Cascade,
) -> None:
    """An X-Request-User (or X-Purpose, X-Application-Id) longer than a forwarding assertion
    may carry was forwarded, refused upstream with 401, seen as the city's own credentials
    failing (SOURCE_UNAVAILABLE) and counted by the province's circuit: six such requests of
    one county cut every county off the province. Refused at the city, naming the header."""
    for name in ("X-Request-User", "X-Purpose", "X-Application-Id"):
        for _ in range(3):
            headers = {"X-Purpose": quote(PURPOSE), name: "a" * 600}
            answer = post(cascade.city, cascade.county_token(cascade.county_b), QUERY, {"c": KNOWN}, headers)
            assert answer.status_code == 400, answer.text
            error = answer.json()["errors"][0]
            assert (error["extensions"]["code"], error["extensions"]["header"]) == ("INVALID_HEADER", name)
            assert "500" in error["message"]
    expanding = {"X-Purpose": quote("\ufdfa" * 100)}  # 100 characters, 1,800 once NFKC-normalised
    answer = post(cascade.city, cascade.county_token(cascade.county_b), QUERY, {"c": KNOWN}, expanding)
    assert answer.status_code == 400, answer.text
    assert "NFKC" in answer.json()["errors"][0]["message"]
    body = county_read(cascade, cascade.county_a, f"county-clerk-{uuid.uuid4().hex[:6]}").json()
    assert "errors" not in body, body
    assert body["data"]["organization"]["enterpriseRegistration"]["legalRepresentative"] == "张三"
