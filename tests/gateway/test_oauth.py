"""OAuth clients, ``POST /oauth/token``, key rotation and trusted external issuers, in-process.

The app runs over ``httpx.ASGITransport`` with its lifespan entered by hand; the
external identity platform is a small Starlette app served by uvicorn on 127.0.0.1.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from errors import BadRequest, ConfigurationError, InvalidCode
from gateway import auth
from gateway.app import Gateway, create_app
from gateway.auth import PRUNE_GRACE, load_signer, rotate_keys
from gateway.clients import ClientRow, ClientStore, hash_secret
from gateway.settings import Settings, TrustedIssuer, parse_trusted_issuers
from policies.chinatime import LATEST
from policies.codes import make_uscc
from tests.conftest import CATALOG, run_cli

DEPARTMENT = make_uscc("1", "1", "420100", "MD000001")
TTL = 900
TYPENAME = {"query": "{ __typename }"}


# --- fixtures ---------------------------------------------------------------------------------


@dataclass
class Harness:
    gateway: Gateway
    http: httpx.AsyncClient

    @property
    def data_dir(self) -> Path:
        return self.gateway.settings.data_dir

    async def client(self, roles: tuple[str, ...] = ("consumer",), **kwargs: Any) -> tuple[str, str]:
        made, secret = await ClientStore(self.gateway.platform).create(
            DEPARTMENT, roles, "审批系统", **kwargs
        )
        return made.client_id, secret

    async def token_response(self, client_id: str, secret: str, **form: str) -> httpx.Response:
        data = {"grant_type": "client_credentials", **form}
        return await self.http.post("/oauth/token", data=data, auth=(client_id, secret))

    async def token(self, client_id: str, secret: str, **form: str) -> str:
        response = await self.token_response(client_id, secret, **form)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    async def graphql(self, token: str) -> httpx.Response:
        return await self.http.post("/graphql", json=TYPENAME, headers={"Authorization": f"Bearer {token}"})


def settings_for(data_dir: Path, database_url: str, **changes: Any) -> Settings:
    shutil.copy(CATALOG, data_dir / "catalog.yaml")
    settings = Settings.load({}, data=str(data_dir))
    return dataclasses.replace(settings, database_url=database_url, token_ttl=TTL, **changes)


async def start(settings: Settings) -> AsyncIterator[Harness]:
    gateway = await Gateway.start(settings)
    app = create_app(settings, gateway)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                yield Harness(gateway, client)
    finally:
        await gateway.close()


@pytest.fixture
async def harness(tmp_path: Path, platform_url: str) -> AsyncIterator[Harness]:
    async for running in start(settings_for(tmp_path, platform_url)):
        yield running


def claims_of(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload)


def assert_oauth_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == error
    assert body["error_description"]
    return dict(body)


def assert_unauthenticated(response: httpx.Response) -> str:
    assert response.status_code == 401, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    return str(error["message"])


class Clock:
    """Stands in for the ``time`` module inside gateway.auth: now + offset."""

    def __init__(self, offset: float) -> None:
        self.offset = offset

    def time(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.offset


# --- the token endpoint -----------------------------------------------------------------------


async def test_basic_auth_issues_a_signed_token(harness: Harness):
    client_id, secret = await harness.client(("consumer", "provider"))
    response = await harness.token_response(client_id, secret)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == TTL
    assert body["scope"] == "consumer provider"
    header, claims = claims_of(body["access_token"])
    assert header == {"alg": "ES256", "kid": harness.gateway.signer.current.kid, "typ": "JWT"}
    assert claims["iss"] == "govshare" and claims["sub"] == DEPARTMENT
    assert claims["client_id"] == client_id and claims["roles"] == ["consumer", "provider"]
    assert claims["exp"] - claims["iat"] == TTL and abs(claims["iat"] - time.time()) < 10


async def test_post_auth_issues_a_token_that_works_on_graphql(harness: Harness):
    client_id, secret = await harness.client()
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    response = await harness.http.post("/oauth/token", data=form)
    assert response.status_code == 200, response.text
    answer = await harness.graphql(response.json()["access_token"])
    assert answer.status_code == 200 and answer.json() == {"data": {"__typename": "Query"}}
    consumer = await harness.gateway.authenticator.authenticate(response.json()["access_token"])
    assert (consumer.department, consumer.client_id, consumer.roles) == (DEPARTMENT, client_id, {"consumer"})


async def test_wrong_secret_is_invalid_client_with_www_authenticate(harness: Harness):
    client_id, secret = await harness.client()
    response = await harness.token_response(client_id, secret + "x")
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic ")
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": "nope"}
    assert_oauth_error(await harness.http.post("/oauth/token", data=form), 401, "invalid_client")


async def test_unknown_client_is_invalid_client(harness: Harness):
    response = await harness.token_response("client-0000000000000000", "whatever")
    assert_oauth_error(response, 401, "invalid_client")
    assert "www-authenticate" in response.headers
    no_credentials = await harness.http.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert_oauth_error(no_credentials, 401, "invalid_client")


async def test_disabled_client_is_refused_but_its_tokens_last_until_expiry(harness: Harness):
    client_id, secret = await harness.client()
    token = await harness.token(client_id, secret)
    disabled = await ClientStore(harness.gateway.platform).disable(client_id)
    assert disabled.disabled
    body = assert_oauth_error(await harness.token_response(client_id, secret), 401, "invalid_client")
    assert "disabled" in body["error_description"]
    assert (await harness.graphql(token)).status_code == 200  # documented: valid until exp


@pytest.mark.parametrize(
    ("form", "fragment"),
    [
        ({}, "grant_type is missing"),
        ({"grant_type": ""}, "grant_type is missing"),  # an empty parameter counts as absent
    ],
)
async def test_missing_grant_type_is_invalid_request(harness: Harness, form: dict[str, str], fragment: str):
    client_id, secret = await harness.client()
    response = await harness.http.post("/oauth/token", data=form, auth=(client_id, secret))
    assert fragment in assert_oauth_error(response, 400, "invalid_request")["error_description"]


async def test_malformed_requests_are_invalid_request(harness: Harness):
    client_id, secret = await harness.client()
    as_json = await harness.http.post(
        "/oauth/token", json={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert_oauth_error(as_json, 400, "invalid_request")
    twice = await harness.http.post(
        "/oauth/token",
        content=b"grant_type=client_credentials&grant_type=client_credentials",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=(client_id, secret),
    )
    assert "more than once" in assert_oauth_error(twice, 400, "invalid_request")["error_description"]
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    both = await harness.http.post("/oauth/token", data=form, auth=(client_id, secret))
    assert "one way" in assert_oauth_error(both, 400, "invalid_request")["error_description"]


@pytest.mark.parametrize(
    "bad", ["\x00", "\n", "\x7f", "\u0085", "审"], ids=["nul", "lf", "del", "nel", "non_ascii"]
)
@pytest.mark.parametrize("how", ["basic_id", "basic_secret", "form_id", "form_secret"])
async def test_control_characters_in_credentials_are_invalid_request(harness: Harness, how: str, bad: str):
    """RFC 6749 Appendix A: client_id and client_secret are VSCHAR; not a 503 from the database."""
    client_id, secret = await harness.client()
    form = {"grant_type": "client_credentials"}
    if how.startswith("basic"):
        user, password = (client_id + bad, secret) if how == "basic_id" else (client_id, secret + bad)
        basic = base64.b64encode(f"{user}:{password}".encode()).decode()
        response = await harness.http.post(
            "/oauth/token", data=form, headers={"Authorization": f"Basic {basic}"}
        )
    else:
        form |= {"client_id": client_id + (bad if how == "form_id" else ""),
                 "client_secret": secret + (bad if how == "form_secret" else "")}  # fmt: skip
        response = await harness.http.post("/oauth/token", data=form)
    assert "%x20-7E" in assert_oauth_error(response, 400, "invalid_request")["error_description"]


async def test_password_grant_is_unsupported(harness: Harness):
    client_id, secret = await harness.client()
    form = {"grant_type": "password", "username": "u", "password": "p"}
    response = await harness.http.post("/oauth/token", data=form, auth=(client_id, secret))
    body = assert_oauth_error(response, 400, "unsupported_grant_type")
    assert body["error_description"] == "grant_type password is not supported; use client_credentials"


async def test_scope_narrows_roles(harness: Harness):
    client_id, secret = await harness.client(("consumer", "operator"))
    response = await harness.token_response(client_id, secret, scope="consumer")
    assert response.status_code == 200 and response.json()["scope"] == "consumer"
    assert claims_of(response.json()["access_token"])[1]["roles"] == ["consumer"]


@pytest.mark.parametrize("scope", ["provider", "consumer provider", "king", 'a"b\\c'])
async def test_scope_beyond_the_clients_roles_is_invalid_scope(harness: Harness, scope: str):
    client_id, secret = await harness.client(("consumer", "operator"))
    body = assert_oauth_error(
        await harness.token_response(client_id, secret, scope=scope), 400, "invalid_scope"
    )
    assert "consumer operator" in body["error_description"]


async def test_client_without_the_grant_type_is_unauthorized_client(harness: Harness):
    client_id, secret = await harness.client(grant_types=("authorization_code",))
    assert_oauth_error(await harness.token_response(client_id, secret), 400, "unauthorized_client")


async def test_oversized_body_is_invalid_request(harness: Harness):
    client_id, secret = await harness.client()
    response = await harness.token_response(client_id, secret, padding="x" * 20_000)
    assert "larger than" in assert_oauth_error(response, 400, "invalid_request")["error_description"]


async def test_platform_database_outage_is_503_not_a_crash(harness: Harness, monkeypatch: pytest.MonkeyPatch):
    async def broken(self: ClientStore, client_id: str) -> None:
        raise sa.exc.OperationalError("SELECT", {}, ConnectionRefusedError())

    monkeypatch.setattr(ClientStore, "get", broken)
    response = await harness.token_response("client-0000000000000000", "s")
    assert_oauth_error(response, 503, "temporarily_unavailable")


async def test_token_endpoint_takes_only_post(harness: Harness):
    assert (await harness.http.get("/oauth/token")).status_code == 405


# --- the client store -------------------------------------------------------------------------


async def test_secret_is_stored_only_as_a_salted_scrypt_hash(harness: Harness):
    client_id, secret = await harness.client()
    async with harness.gateway.platform.engine.connect() as conn:
        row = (
            await conn.execute(sa.select(ClientRow.__table__).where(ClientRow.client_id == client_id))
        ).one()
    assert all(secret not in str(value) for value in row)
    assert row.secret_hash.startswith("scrypt$16384$8$1$")
    assert hash_secret(secret) != hash_secret(secret)  # a fresh salt each time
    stored = await ClientStore(harness.gateway.platform).get(client_id)
    assert stored is not None and stored.check_secret(secret) and not stored.check_secret(secret[:-1])


async def test_store_lists_and_disables_clients(harness: Harness):
    store = ClientStore(harness.gateway.platform)
    one, _ = await harness.client(("provider", "consumer"))
    listed = {client.client_id: client for client in await store.list()}
    assert listed[one].roles == ("consumer", "provider") and listed[one].department == DEPARTMENT
    assert "secret" not in json.dumps(listed[one].public()).replace("client_secret", "")
    assert not listed[one].disabled
    assert (await store.disable(one)).disabled
    assert (await store.get(one)).disabled  # type: ignore[union-attr]
    with pytest.raises(BadRequest, match="no client"):
        await store.disable("client-missing")


@pytest.mark.parametrize(
    ("department", "roles", "name", "error", "fragment"),
    [
        ("91420100MA4K00010X", ["consumer"], "x", InvalidCode, "check_char"),
        (DEPARTMENT, ["consumer", "king"], "x", BadRequest, "roles must be one or more of"),
        (DEPARTMENT, [], "x", BadRequest, "roles must be one or more of"),
        (DEPARTMENT, ["consumer"], "  ", BadRequest, "needs a name"),
    ],
)
async def test_store_refuses_bad_clients(
    harness: Harness, department: str, roles: list[str], name: str, error: type[Exception], fragment: str
):
    with pytest.raises(error, match=fragment):
        await ClientStore(harness.gateway.platform).create(department, roles, name)


def test_cli_creates_lists_and_disables_clients(tmp_path: Path):
    from tests.gateway.test_cli import initialise

    initialise(tmp_path)
    create = ["client", "create", "--department", DEPARTMENT.lower(), "--roles", "consumer,provider"]
    created = run_cli(tmp_path, *create, "--name", "不动产登记系统")
    made = json.loads(created.stdout)
    assert set(made) == {"client_id", "client_secret"} and "not shown again" in created.stderr
    [listed] = [json.loads(line) for line in run_cli(tmp_path, "client", "list").stdout.splitlines()]
    assert listed["client_id"] == made["client_id"] and listed["department"] == DEPARTMENT
    assert made["client_secret"] not in json.dumps(listed)
    disabled = json.loads(run_cli(tmp_path, "client", "disable", made["client_id"]).stdout)
    assert disabled["disabled"] is True
    bad_roles = ["client", "create", "--department", DEPARTMENT, "--roles", "admin", "--name", "x"]
    bad = run_cli(tmp_path, *bad_roles, check=False)
    assert bad.returncode == 2 and "roles must be one or more of" in bad.stderr and bad.stdout == ""


# --- keys and rotation ------------------------------------------------------------------------


async def test_rotation_keeps_old_tokens_and_signs_with_the_new_key(harness: Harness):
    client_id, secret = await harness.client()
    old_token = await harness.token(client_id, secret)
    old_kid = claims_of(old_token)[0]["kid"]
    rotation = rotate_keys(harness.data_dir, TTL)
    assert rotation.kept[0]["kid"] == old_kid and rotation.pruned == []
    new_token = await harness.token(client_id, secret)  # the running gateway picks the new key up
    assert claims_of(new_token)[0]["kid"] == rotation.current != old_kid
    assert (await harness.graphql(old_token)).status_code == 200
    assert (await harness.graphql(new_token)).status_code == 200
    jwks = (await harness.http.get("/.well-known/jwks.json")).json()
    assert [key["kid"] for key in jwks["keys"]] == [old_kid, rotation.current]
    assert all("d" not in key and "superseded_at" not in key for key in jwks["keys"])


async def test_rotation_prunes_keys_superseded_longer_than_the_ttl(harness: Harness):
    client_id, secret = await harness.client()
    old_token = await harness.token(client_id, secret)
    assert (await harness.graphql(old_token)).status_code == 200  # remembered by the gateway now
    first = rotate_keys(harness.data_dir, TTL)
    keys_file = harness.data_dir / "keys.json"
    content = json.loads(keys_file.read_text())
    content["keys"][0]["superseded_at"] = int(time.time()) - TTL - PRUNE_GRACE - 1  # "long ago"
    keys_file.write_text(json.dumps(content))
    second = rotate_keys(harness.data_dir, TTL)
    assert second.pruned == [claims_of(old_token)[0]["kid"]]
    assert [key["kid"] for key in second.kept] == [first.current]
    jwks = (await harness.http.get("/.well-known/jwks.json")).json()
    assert [key["kid"] for key in jwks["keys"]] == [first.current, second.current]
    assert "does not hold" in assert_unauthenticated(await harness.graphql(old_token))


async def test_rotation_by_another_process_is_picked_up_for_verification(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    rotate_keys(harness.data_dir, TTL)
    elsewhere = load_signer(harness.data_dir).issue(DEPARTMENT, ["consumer"], "other-process", 60)
    assert (await harness.graphql(elsewhere)).status_code == 200  # unknown kid: keys.json re-read
    rotate_keys(harness.data_dir, TTL)
    newer = load_signer(harness.data_dir).issue(DEPARTMENT, ["consumer"], "other-process", 60)
    assert_unauthenticated(await harness.graphql(newer))  # re-read at most once per few seconds
    monkeypatch.setattr(auth, "time", Clock(auth.RELOAD_INTERVAL + 0.1))
    assert (await harness.graphql(newer)).status_code == 200


def test_keys_json_of_the_original_format_loads_and_rotates(tmp_path: Path):
    old_keys = [ECKey.generate_key("P-256", auto_kid=True) for _ in range(2)]
    (tmp_path / "keys.json").write_text(json.dumps({"keys": [k.as_dict(private=True) for k in old_keys]}))
    signer = load_signer(tmp_path)
    assert signer.current.kid == old_keys[1].kid
    claims = {"iss": "govshare", "sub": DEPARTMENT, "roles": ["consumer"], "exp": int(time.time()) + 60}
    token = jwt.encode({"alg": "ES256", "kid": old_keys[0].kid}, claims, old_keys[0], algorithms=["ES256"])
    assert signer.verify(token).department == DEPARTMENT
    rotated = json.loads(run_cli(tmp_path, "keys", "rotate").stdout)
    assert [key["kid"] for key in rotated["kept"]] == [old_keys[0].kid, old_keys[1].kid]
    assert rotated["pruned"] == []
    assert load_signer(tmp_path).verify(token).department == DEPARTMENT
    listed = [json.loads(line) for line in run_cli(tmp_path, "keys", "list").stdout.splitlines()]
    assert [key["kid"] for key in listed][-1] == rotated["current"] and listed[-1]["superseded_at"] is None


def test_corrupt_superseded_at_is_a_configuration_error(tmp_path: Path):
    load_signer(tmp_path)  # a gateway's data folder: rotation never makes a first key set
    rotate_keys(tmp_path, TTL)
    content = json.loads((tmp_path / "keys.json").read_text())
    content["keys"][0]["superseded_at"] = "yesterday"
    (tmp_path / "keys.json").write_text(json.dumps(content))
    with pytest.raises(ConfigurationError, match="epoch seconds"):
        rotate_keys(tmp_path, TTL)


# --- hostile tokens: refused as UNAUTHENTICATED, never a 500 ------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unsigned(header: bytes, payload: bytes) -> str:
    return f"{_b64(header)}.{_b64(payload)}.{_b64(b'not a signature')}"


HOSTILE_PAYLOADS = {
    "array nested 20000 deep": b"[" * 20_000,
    "object nested 5000 deep": b'{"a":' * 5_000,
    "claims nested 3000 deep": b'{"iss":"govshare","x":' + b"[" * 3_000 + b"]" * 3_000 + b"}",
    "not UTF-8": b'{"iss":"\xff"}',
    "NaN issuer": b'{"iss":NaN}',
}


@pytest.mark.parametrize("payload", HOSTILE_PAYLOADS.values(), ids=HOSTILE_PAYLOADS.keys())
async def test_a_hostile_unsigned_payload_is_unauthenticated(harness: Harness, payload: bytes):
    """Anyone can send these before any signature is checked (RFC 7515 §5.2: reject what
    cannot be parsed): a RecursionError in the JSON parser used to answer 500."""
    header = json.dumps({"alg": "ES256", "kid": harness.gateway.signer.current.kid}).encode()
    assert_unauthenticated(await harness.graphql(_unsigned(header, payload)))


@pytest.mark.parametrize(
    "exp", [10**400, 2**64, int(LATEST.timestamp())], ids=["10^400", "2^64", "9999-01-01"]
)
async def test_a_signed_token_with_an_exp_past_the_year_9999_is_unauthenticated(harness: Harness, exp: int):
    """exp must be an instant the gateway can hold (policies.chinatime.LATEST); beyond it the
    memo of verified tokens overflowed (float(exp)) into a 500."""
    key = harness.gateway.signer.current
    claims = {"iss": "govshare", "sub": DEPARTMENT, "roles": ["consumer"], "iat": int(time.time())}
    claims["exp"] = exp
    token = jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key, algorithms=["ES256"])
    message = assert_unauthenticated(await harness.graphql(token))
    assert "exp" in message or "JSONDecodeError" in message  # beyond 64 bits: not JSON taken here


def test_cli_token_refuses_a_lifetime_that_is_expired_or_past_the_year_9999(tmp_path: Path):
    load_signer(tmp_path)
    for ttl, fragment in (("-5", "at least 1 second"), ("0", "at least 1 second"), ("9" * 30, "before 9999")):
        result = run_cli(tmp_path, "token", "--department", DEPARTMENT, "--ttl", ttl, check=False)
        assert result.returncode != 0 and fragment in result.stderr, (ttl, result.stderr)


# --- expiry and the memo of verified tokens ---------------------------------------------------


async def test_expired_token_is_refused(harness: Harness):
    expired = harness.gateway.signer.issue(DEPARTMENT, ["consumer"], "c", ttl=-5)
    assert "Expired" in assert_unauthenticated(await harness.graphql(expired))


async def test_a_remembered_token_is_refused_once_it_expires(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    token = harness.gateway.signer.issue(DEPARTMENT, ["consumer"], "c", ttl=60)
    assert (await harness.graphql(token)).status_code == 200
    assert token in harness.gateway.authenticator._verified
    monkeypatch.setattr(auth, "time", Clock(61))
    assert "Expired" in assert_unauthenticated(await harness.graphql(token))


# --- trusted external issuers -----------------------------------------------------------------


@dataclass
class IdentityPlatform:
    """An external issuer: its JWKS at ``jwks_url`` and a signing key; counts JWKS fetches."""

    name: str
    keys: list[ECKey | RSAKey] = field(default_factory=list)
    fetches: int = 0
    jwks_url: str = ""
    down: bool = False

    def token(self, key: ECKey | RSAKey | None = None, **changes: Any) -> str:
        key = key or self.keys[-1]
        alg = "ES256" if isinstance(key, ECKey) else "RS256"
        claims = {
            "iss": self.name,
            "sub": DEPARTMENT,
            "roles": ["consumer"],
            "client_id": "ext-app",
            "iat": int(time.time()),
            "exp": int(time.time()) + 300,
            **changes,
        }
        claims = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])

    async def jwks(self, request: Request) -> JSONResponse:
        self.fetches += 1
        if self.down:
            return JSONResponse({"error": "maintenance"}, 503)
        return JSONResponse(KeySet(list(self.keys)).as_dict(private=False))


@pytest.fixture
def platform_idp() -> Iterator[IdentityPlatform]:
    idp = IdentityPlatform("https://idp.example.gov.cn", [ECKey.generate_key("P-256", auto_kid=True)])
    app = Starlette(routes=[Route("/jwks.json", idp.jwks)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    idp.jwks_url = f"http://127.0.0.1:{sock.getsockname()[1]}/jwks.json"
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11", loop="asyncio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the identity platform did not start"
    try:
        yield idp
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
async def trusting(tmp_path: Path, platform_idp: IdentityPlatform) -> AsyncIterator[Harness]:
    trusted = (TrustedIssuer(platform_idp.name, platform_idp.jwks_url),)
    settings = settings_for(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/platform.db", trusted_issuers=trusted)
    async for running in start(settings):
        yield running


async def test_trusted_issuers_token_is_accepted_and_its_jwks_cached(
    trusting: Harness, platform_idp: IdentityPlatform
):
    for _ in range(2):
        assert (await trusting.graphql(platform_idp.token())).status_code == 200
    consumer = await trusting.gateway.authenticator.authenticate(platform_idp.token(roles=["provider"]))
    assert (consumer.department, consumer.client_id, consumer.roles) == (DEPARTMENT, "ext-app", {"provider"})
    assert platform_idp.fetches == 1
    assert (
        await trusting.graphql(trusting.gateway.signer.issue(DEPARTMENT, ["consumer"]))
    ).status_code == 200


async def test_trusted_issuers_new_key_is_fetched_on_unknown_kid(
    trusting: Harness, platform_idp: IdentityPlatform, monkeypatch: pytest.MonkeyPatch
):
    assert (await trusting.graphql(platform_idp.token())).status_code == 200
    platform_idp.keys.append(RSAKey.generate_key(2048, auto_kid=True))  # the platform rotates, to RSA
    monkeypatch.setattr(auth, "time", Clock(auth.RELOAD_INTERVAL + 0.1))
    assert (await trusting.graphql(platform_idp.token())).status_code == 200
    assert platform_idp.fetches == 2


async def test_cached_key_set_keeps_serving_while_the_platform_is_down(
    trusting: Harness, platform_idp: IdentityPlatform, monkeypatch: pytest.MonkeyPatch
):
    assert (await trusting.graphql(platform_idp.token())).status_code == 200
    platform_idp.down = True
    monkeypatch.setattr(auth, "time", Clock(auth.JWKS_MAX_AGE + 1))  # stale: fetched again, and fails
    lasting = platform_idp.token(exp=int(time.time() + 2 * auth.JWKS_MAX_AGE))
    assert (await trusting.graphql(lasting)).status_code == 200
    assert platform_idp.fetches == 2


async def test_forged_external_token_is_refused(trusting: Harness, platform_idp: IdentityPlatform):
    forger = ECKey.generate_key("P-256", auto_kid=True)
    real_kid = platform_idp.keys[0].kid
    same_kid = ECKey.import_key({**forger.as_dict(private=True), "kid": real_kid})
    assert "refused" in assert_unauthenticated(await trusting.graphql(platform_idp.token(same_kid)))
    assert "not in the key set" in assert_unauthenticated(await trusting.graphql(platform_idp.token(forger)))


async def test_unknown_issuer_is_refused(trusting: Harness, platform_idp: IdentityPlatform):
    message = assert_unauthenticated(await trusting.graphql(platform_idp.token(iss="https://evil.example")))
    assert "evil.example" in message and "not accepted" in message


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"exp": int(time.time()) - 10}, "Expired"),
        ({"sub": "91420100MA4K00010X"}, "not a valid USCC"),
        ({"roles": "consumer"}, "must be a list"),
        ({"exp": None}, "refused"),
    ],
)
async def test_external_claims_follow_the_same_rules(
    trusting: Harness, platform_idp: IdentityPlatform, changes: dict[str, Any], fragment: str
):
    assert fragment in assert_unauthenticated(await trusting.graphql(platform_idp.token(**changes)))


async def test_unreachable_jwks_is_unauthenticated_not_a_crash(tmp_path: Path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    name = "https://down.example"
    trusted = (TrustedIssuer(name, f"http://127.0.0.1:{closed_port}/jwks.json"),)
    settings = settings_for(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/platform.db", trusted_issuers=trusted)
    idp = IdentityPlatform(name, [ECKey.generate_key("P-256", auto_kid=True)])
    async for running in start(settings):
        message = assert_unauthenticated(await running.graphql(idp.token()))
        assert "could not fetch the key set" in message and name in message and "ConnectError" in message
        assert "could not fetch" in assert_unauthenticated(await running.graphql(idp.token()))


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{", "not valid JSON"),
        ('{"issuer": "x"}', "must be a JSON list"),
        ('[{"issuer": "x"}]', "jwks_url must be an https URL"),
        ('[{"issuer": "x", "jwks_url": "http://idp.example/jwks"}]', "jwks_url must be an https URL"),
        ('[{"issuer": "govshare", "jwks_url": "https://idp.example/jwks"}]', "gateway's own issuer"),
        ('[{"issuer": "x", "jwks_url": "https://a/j", "extra": 1}]', "unknown keys"),
        ('[{"issuer": "x", "jwks_url": "https://a/j"}, {"issuer": "x", "jwks_url": "https://b/j"}]', "twice"),
    ],
)
def test_trusted_issuers_setting_is_checked(text: str, fragment: str):
    with pytest.raises(ConfigurationError, match=fragment):
        Settings.load({"GOVSHARE_TRUSTED_ISSUERS": text}, data="/tmp/unused")


def test_trusted_issuers_setting_parses():
    text = (
        '[{"issuer": "a", "jwks_url": "https://a.gov.cn/jwks", "audience": "govshare"}, '
        '{"issuer": "b", "jwks_url": "http://127.0.0.1:9/jwks"}]'
    )
    assert parse_trusted_issuers(text) == (
        TrustedIssuer("a", "https://a.gov.cn/jwks", "govshare"),
        TrustedIssuer("b", "http://127.0.0.1:9/jwks"),
    )
    assert Settings.load({}, data="/tmp/unused").trusted_issuers == ()


async def test_audience_is_required_when_configured(tmp_path: Path, platform_idp: IdentityPlatform):
    trusted = (TrustedIssuer(platform_idp.name, platform_idp.jwks_url, "govshare-gateway"),)
    settings = settings_for(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/platform.db", trusted_issuers=trusted)
    async for running in start(settings):
        assert_unauthenticated(await running.graphql(platform_idp.token()))
        assert_unauthenticated(await running.graphql(platform_idp.token(aud="other")))
        assert (await running.graphql(platform_idp.token(aud=["x", "govshare-gateway"]))).status_code == 200


# --- token claims end to end (RFC 7519 §4.1.3-4.1.6; the table is in test_token_claims.py) ---


async def test_a_token_for_another_service_is_refused_by_an_issuer_without_audience(
    trusting: Harness, platform_idp: IdentityPlatform
):
    """The issue's example: the trusted issuer has no configured audience."""
    assert (await trusting.graphql(platform_idp.token())).status_code == 200
    message = assert_unauthenticated(await trusting.graphql(platform_idp.token(aud="https://other.service")))
    assert "other.service" in message


async def test_clock_skew_within_the_leeway_passes_end_to_end(
    trusting: Harness, platform_idp: IdentityPlatform
):
    now = int(time.time())
    ahead = platform_idp.token(iat=now + 30, nbf=now + 30)
    assert (await trusting.graphql(ahead)).status_code == 200
    assert_unauthenticated(await trusting.graphql(platform_idp.token(nbf=now + 600)))


async def test_the_leeway_setting_reaches_every_verifier(tmp_path: Path, platform_idp: IdentityPlatform):
    trusted = (TrustedIssuer(platform_idp.name, platform_idp.jwks_url),)
    settings = settings_for(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/platform.db", trusted_issuers=trusted)
    settings = dataclasses.replace(settings, token_leeway=0)
    async for running in start(settings):
        assert running.gateway.signer.leeway == 0
        assert all(one.leeway == 0 for one in running.gateway.authenticator.issuers.values())
        now = int(time.time())
        assert_unauthenticated(await running.graphql(platform_idp.token(nbf=now + 30)))
