"""GOVSHARE_TRUSTED_GATEWAYS and GOVSHARE_GATEWAY_NAME (gateway.settings)."""

from __future__ import annotations

import json

import pytest

from errors import ConfigurationError
from gateway.settings import Settings, TrustedGateway

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
