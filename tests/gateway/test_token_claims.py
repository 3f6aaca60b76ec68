"""Time and audience claims of bearer tokens, RFC 7519 §4.1.3-4.1.6 (issue 7, item 11).

- ``aud`` (§4.1.3): "If the principal processing the claim does not identify itself with a
  value in the aud claim when this claim is present, then the JWT MUST be rejected." An
  issuer with no configured audience is trusted only for tokens without ``aud``.
- ``exp`` (§4.1.4): refused on or after ``exp``; the gateway takes no leeway on it.
- ``nbf`` (§4.1.5) and ``iat`` (§4.1.6): up to the leeway (default 60 s) ahead is clock skew.

The table runs against ``check_claims`` for the gateway's own issuer and a trusted one with
and without an audience; the end-to-end cases run the real app (own tokens, and a trusted
identity platform served on 127.0.0.1) are in test_oauth.py, next to its fixtures.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt

from errors import ConfigurationError, Unauthenticated
from gateway import auth
from gateway.auth import DEFAULT_LEEWAY, ISSUER, check_claims
from gateway.settings import Settings
from policies.chinatime import LATEST
from tests.gateway.test_oauth import DEPARTMENT

IDP = "https://idp.example.gov.cn"
MARGIN = 3  # seconds kept from each boundary, so that a slow test machine does not flip a case

# (name, issuer's configured audience, claim changes relative to now, accepted?)
# Offsets are seconds from now; "aud" values literal.
CASES: list[tuple[str, str | None, dict[str, Any], bool]] = [
    ("plain", None, {}, True),
    # aud, no audience configured: only tokens without aud
    ("aud of another service", None, {"aud": "https://other.service"}, False),
    ("aud list of other services", None, {"aud": ["a", "b"]}, False),
    ("aud empty list", None, {"aud": []}, False),
    ("aud the issuer itself", None, {"aud": IDP}, False),
    # aud, audience configured: it must be named
    ("configured, aud missing", "govshare-gateway", {}, False),
    ("configured, aud other", "govshare-gateway", {"aud": "other"}, False),
    ("configured, aud named", "govshare-gateway", {"aud": "govshare-gateway"}, True),
    ("configured, aud among others", "govshare-gateway", {"aud": ["x", "govshare-gateway"]}, True),
    ("configured, aud wrong case", "govshare-gateway", {"aud": "GOVSHARE-GATEWAY"}, False),
    # exp: never extended
    ("exp just ahead", None, {"exp": +MARGIN}, True),
    ("exp now", None, {"exp": 0}, False),
    ("exp just passed, within the leeway", None, {"exp": -MARGIN}, False),
    ("exp passed by more than the leeway", None, {"exp": -DEFAULT_LEEWAY - MARGIN}, False),
    ("exp missing", None, {"exp": None}, False),
    # exp past the last instant the gateway stores (policies.chinatime.LATEST): no arithmetic overflows
    ("exp at the year 9999", None, {"exp": LATEST.timestamp()}, False),
    ("exp a huge integer", None, {"exp": 10**400}, False),
    ("exp just before the year 9999", None, {"exp": LATEST.timestamp() - 1}, True),
    # nbf: the leeway
    ("nbf passed", None, {"nbf": -3600}, True),
    ("nbf ahead within the leeway", None, {"nbf": DEFAULT_LEEWAY - MARGIN}, True),
    ("nbf ahead beyond the leeway", None, {"nbf": DEFAULT_LEEWAY + MARGIN}, False),
    ("nbf not a number", None, {"nbf": "soon"}, False),
    # iat: the leeway
    ("iat ahead within the leeway", None, {"iat": DEFAULT_LEEWAY - MARGIN}, True),
    ("iat ahead beyond the leeway", None, {"iat": DEFAULT_LEEWAY + MARGIN}, False),
    ("iat long ago", None, {"iat": -86400}, True),
]


def claims(issuer: str, changes: dict[str, Any]) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": issuer,
        "sub": DEPARTMENT,
        "roles": ["consumer"],
        "iat": now,
        "exp": now + 300,
    }
    for name, value in changes.items():
        timed = name in ("exp", "nbf", "iat") and isinstance(value, int)
        base[name] = now + value if timed else value
    return {name: value for name, value in base.items() if value is not None}


@pytest.mark.parametrize(("name", "audience", "changes", "accepted"), CASES, ids=[c[0] for c in CASES])
def test_claims_of_a_trusted_issuer(name: str, audience: str | None, changes: dict[str, Any], accepted: bool):
    checked = claims(IDP, changes)
    if accepted:
        check_claims(checked, IDP, audience, DEFAULT_LEEWAY)
    else:
        with pytest.raises(Unauthenticated):
            check_claims(checked, IDP, audience, DEFAULT_LEEWAY)


@pytest.mark.parametrize(
    ("name", "changes", "accepted"),
    [(name, changes, ok) for name, audience, changes, ok in CASES if audience is None],
    ids=[c[0] for c in CASES if c[1] is None],
)
def test_claims_of_the_gateways_own_tokens(
    name: str, changes: dict[str, Any], accepted: bool, tmp_path: Path
):
    """Own tokens through the signer: the same rules, and they never carry aud."""
    signer = auth.load_signer(tmp_path)
    key = signer.keys.keys[-1]
    token = jwt.encode({"alg": "ES256", "kid": key.kid}, claims(ISSUER, changes), key, algorithms=["ES256"])
    if accepted:
        assert signer.verify(token).department == DEPARTMENT
    else:
        with pytest.raises(Unauthenticated):
            signer.verify(token)


def test_an_aud_refusal_says_what_to_do():
    with pytest.raises(Unauthenticated) as caught:
        check_claims(claims(IDP, {"aud": "https://other.service"}), IDP, None, DEFAULT_LEEWAY)
    message = caught.value.message
    assert (
        "https://other.service" in message
        and "without aud" in message
        and "GOVSHARE_TRUSTED_ISSUERS" in message
    )


def test_a_not_yet_valid_refusal_names_the_claim():
    with pytest.raises(Unauthenticated) as caught:
        check_claims(claims(IDP, {"nbf": 600}), IDP, None, DEFAULT_LEEWAY)
    assert "nbf" in caught.value.message or "not yet valid" in caught.value.message


@pytest.mark.parametrize(
    ("leeway", "ahead", "accepted"), [(0, MARGIN, False), (120, 100, True), (120, 130, False)]
)
def test_the_leeway_is_configurable(leeway: int, ahead: int, accepted: bool):
    for claim in ("nbf", "iat"):
        checked = claims(IDP, {claim: ahead})
        if accepted:
            check_claims(checked, IDP, None, leeway)
        else:
            with pytest.raises(Unauthenticated):
                check_claims(checked, IDP, None, leeway)


@pytest.mark.parametrize("leeway", [0, 60, 120, 300])
def test_exp_is_never_extended_by_the_leeway(leeway: int):
    with pytest.raises(Unauthenticated, match="Expired"):
        check_claims(claims(IDP, {"exp": -1}), IDP, None, leeway)


def test_leeway_setting():
    assert Settings.load({}, data="/tmp/unused").token_leeway == DEFAULT_LEEWAY == 60
    assert Settings.load({"GOVSHARE_TOKEN_LEEWAY": "10"}, data="/tmp/unused").token_leeway == 10
    for bad, fragment in (("301", "at most 300"), ("-1", "negative"), ("a", "whole number")):
        with pytest.raises(ConfigurationError, match=fragment):
            Settings.load({"GOVSHARE_TOKEN_LEEWAY": bad}, data="/tmp/unused")


def test_a_token_ttl_of_zero_is_refused():
    """Every token would be born expired (RFC 7519 §4.1.4: refused on or after exp)."""
    with pytest.raises(ConfigurationError, match="at least 1 second"):
        Settings.load({"GOVSHARE_TOKEN_TTL": "0"}, data="/tmp/unused")
    assert Settings.load({"GOVSHARE_TOKEN_TTL": "1"}, data="/tmp/unused").token_ttl == 1
