"""The OAuth flow against the real demo server, as an integrator runs it with curl:
``govshare client create`` -> ``POST /oauth/token`` (HTTP Basic) -> ``/graphql`` with the token."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from tests.conftest import DemoServer
from tests.e2e.conftest import approve_unconditional_for, fresh_department

pytestmark = pytest.mark.e2e

QUERY = """query($code: USCC!) {
  organization(code: $code) { enterpriseRegistration { name legalRepresentative } }
}"""


def create_client(demo: DemoServer, department: str, roles: str = "consumer") -> tuple[str, str]:
    args = ["client", "create", "--department", department, "--roles", roles, "--name", "行政审批系统"]
    made = json.loads(demo.cli(*args).stdout)
    return made["client_id"], made["client_secret"]


def token_url(demo: DemoServer) -> str:
    return demo.url.replace("/graphql", "/oauth/token")


def fetch_token(demo: DemoServer, client_id: str, secret: str, **form: str) -> httpx.Response:
    data = {"grant_type": "client_credentials", **form}
    return httpx.post(token_url(demo), data=data, auth=(client_id, secret), timeout=30)


def kid_of(token: str) -> str:
    header = token.split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"])


def registration(demo: DemoServer, token: str) -> dict[str, Any]:
    code = demo.info["samples"]["organizations"][0]
    response = demo.post(QUERY, {"code": code}, token=token)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_client_credentials_flow_reads_data(demo: DemoServer):
    department = fresh_department()
    approve_unconditional_for(demo, department)  # hubei: unconditional items by application (art. 13)
    client_id, secret = create_client(demo, department)
    response = fetch_token(demo, client_id, secret)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    answer = registration(demo, body["access_token"])
    assert answer["data"]["organization"]["enterpriseRegistration"]["name"]
    codes = [error["extensions"]["code"] for error in answer.get("errors", [])]
    assert codes == ["CONDITIONAL_ACCESS_REQUIRED"]  # legalRepresentative needs a grant


def test_token_of_a_granted_department_reads_conditional_items(demo: DemoServer):
    client_id, secret = create_client(demo, demo.info["grant"]["consumer"])
    answer = registration(demo, fetch_token(demo, client_id, secret).json()["access_token"])
    assert "errors" not in answer
    assert answer["data"]["organization"]["enterpriseRegistration"]["legalRepresentative"]


def test_disabled_client_and_wrong_secret_get_invalid_client(demo: DemoServer):
    client_id, secret = create_client(demo, fresh_department())
    wrong = fetch_token(demo, client_id, "not-the-secret")
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"].startswith("Basic")
    demo.cli("client", "disable", client_id)
    disabled = fetch_token(demo, client_id, secret)
    assert disabled.status_code == 401 and disabled.json()["error"] == "invalid_client"


def test_rotation_on_a_running_server(demo: DemoServer):
    client_id, secret = create_client(demo, fresh_department(), "consumer,provider")
    before = fetch_token(demo, client_id, secret, scope="consumer").json()["access_token"]
    rotated = json.loads(demo.cli("keys", "rotate").stdout)
    after = fetch_token(demo, client_id, secret).json()["access_token"]  # no restart needed
    assert kid_of(after) == rotated["current"] != kid_of(before)
    jwks = httpx.get(demo.url.replace("/graphql", "/.well-known/jwks.json"), timeout=30).json()
    assert {kid_of(before), rotated["current"]} <= {key["kid"] for key in jwks["keys"]}
    for token in (before, after):
        assert registration(demo, token)["data"]["organization"] is not None
