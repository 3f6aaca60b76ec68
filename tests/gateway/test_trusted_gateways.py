"""GOVSHARE_TRUSTED_GATEWAYS and GOVSHARE_GATEWAY_NAME (gateway.settings), and who may forward."""

from __future__ import annotations

import json

import pytest

from errors import ConfigurationError, Forbidden
from gateway.forwarding import ForwardingVerifier
from gateway.settings import Settings, TrustedGateway
from policies.decision import Consumer

ENTRY = {"client_id": "client-city", "jwks_url": "https://city.example.gov.cn/.well-known/jwks.json"}


def load(entries: object, name: str | None = "hubei-province") -> Settings:
    env = {"GOVSHARE_TRUSTED_GATEWAYS": entries if isinstance(entries, str) else json.dumps(entries)}
    if name is not None:
        env["GOVSHARE_GATEWAY_NAME"] = name
    return Settings.load(env, data="/tmp/govshare-settings-test")


def test_trusted_gateways_are_read() -> None:
    settings = load([ENTRY, {"client_id": "client-b", "jwks_url": "http://127.0.0.1:9/jwks.json"}])
    assert settings.gateway_name == "hubei-province"
    assert settings.trusted_gateways == (
        TrustedGateway("client-city", ENTRY["jwks_url"]),
        TrustedGateway("client-b", "http://127.0.0.1:9/jwks.json"),
    )


def test_none_by_default() -> None:
    settings = Settings.load({}, data="/tmp/govshare-settings-test")
    assert (settings.gateway_name, settings.trusted_gateways) == (None, ())


@pytest.mark.parametrize(
    ("entries", "name", "named"),
    [
        ("[", "n", "not valid JSON"),
        ({"client_id": "x"}, "n", "JSON list"),
        ([ENTRY], None, "GOVSHARE_GATEWAY_NAME"),
        ([{**ENTRY, "jwks_url": "http://city.example.gov.cn/jwks.json"}], "n", "https"),
        ([{**ENTRY, "audience": "x"}], "n", "nothing else"),
        ([{**ENTRY, "client_id": ""}], "n", "client_id"),
        ([ENTRY, ENTRY], "n", "twice"),
    ],
)
def test_bad_settings_are_refused_naming_the_fix(entries: object, name: str | None, named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        load(entries, name)


# --- gateway.forwarding.ForwardingVerifier: who may forward at all ----------------------------


async def test_only_this_gateways_own_tokens_may_forward() -> None:
    """A trusted identity platform's token names that platform's clients: one whose client_id
    happens to equal a trusted gateway's is still no gateway of ours."""
    verifier = ForwardingVerifier.create(
        "hubei-province", [TrustedGateway("client-city", ENTRY["jwks_url"])], 60
    )
    city = Consumer("11420100MB0000094Y", "client-city", frozenset({"consumer"}))
    try:
        with pytest.raises(Forbidden, match="not a trusted downstream gateway"):
            await verifier.verify(city, "x.y.z", issued_here=False)
        with pytest.raises(Forbidden):
            await verifier.verify(Consumer(city.department, "client-other", city.roles), "x.y.z")
    finally:
        await verifier.close()
