"""Whom a request forwarded by a downstream gateway is decided for (cascading gateways).

A city gateway reading a provincial one (Hubei art. 9 and 12, Zhejiang art. 37, Zhengzhou
art. 6) authenticates as itself and names, in a signed assertion, the consumer it reads
for. Once the assertion's signature, issuer, audience and expiry are verified (gateway
side), this module holds the rule for what it may claim:

- only a trusted downstream gateway may forward (its client is configured as one);
- the original consumer is a department (``sub``, a valid USCC, GB 32100) reading through
  one of its systems (``client_id``), with the ``consumer`` role only: a forwarding gateway
  cannot lend operator or provider powers, nor its own grants;
- ``purpose``, ``user`` and ``application_id`` are the original request's, text without
  control characters; the purpose is compared and stored in its canonical form; every
  request is held to the same bounds (``check_forwardable``, gateway side for X-Purpose,
  X-Request-User, X-Application-Id), so that no request a gateway accepts makes an
  assertion its upstream must refuse;
- the assertion lives at most ``MAX_ASSERTION_LIFETIME`` seconds and carries a ``jti`` used
  once (replays are refused by the verifier).

Raises ``Unauthenticated`` (a claim that cannot be believed) naming the claim.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from errors import InvalidCode, InvalidHeader, Unauthenticated
from policies.codes import validate_uscc
from policies.decision import Consumer, canonical_purpose

MAX_ASSERTION_LIFETIME = 300  # seconds between iat and exp
MAX_TEXT = 500  # characters of purpose / user / application id


@dataclass(frozen=True)
class Forwarded:
    """A verified forwarded request: the original consumer and the gateway that forwarded it."""

    consumer: Consumer
    purpose: str | None
    user: str | None
    application_id: str | None
    via: Consumer  # the forwarding gateway, as its own bearer token names it
    jti: str
    exp: int

    def audit_detail(self) -> dict[str, str]:
        """``detail.via`` of the audit event: the forwarding gateway's department and client."""
        return {"department": self.via.department, "client": self.via.client_id}


def forwarded_request(claims: Mapping[str, Any], via: Consumer) -> Forwarded:
    """The forwarded request named by verified ``claims`` of an assertion made by ``via``."""
    try:
        department = validate_uscc(_text(claims, "sub", required=True) or "")
    except InvalidCode as exc:
        raise Unauthenticated(
            f"the forwarding assertion's sub is not a department's USCC ({exc.rule})"
        ) from exc
    jti = _text(claims, "jti", required=True) or ""
    if not 16 <= len(jti) <= 128:
        raise Unauthenticated("the forwarding assertion's jti must be 16 to 128 characters")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or not isinstance(exp, int) or not 0 < exp - iat <= MAX_ASSERTION_LIFETIME:
        raise Unauthenticated(
            f"a forwarding assertion needs iat and exp at most {MAX_ASSERTION_LIFETIME} seconds apart"
        )
    client = _text(claims, "client_id", required=True) or ""
    purpose = _text(claims, "purpose")
    consumer = Consumer(department, client, frozenset({"consumer"}))
    return Forwarded(
        consumer,
        canonical_purpose(purpose) if purpose is not None else None,
        _text(claims, "user"),
        _text(claims, "application_id"),
        via,
        jti,
        exp,
    )


def _text(claims: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
        raise Unauthenticated(f"the forwarding assertion's {name} must be text of 1 to {MAX_TEXT} characters")
    if any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") and char != "\t" for char in value):
        raise Unauthenticated(f"the forwarding assertion's {name} holds a control or format character")
    return value


def check_forwardable(header: str, value: str, *, purpose: bool = False) -> None:
    """Raise ``InvalidHeader`` (400, naming ``header``) when ``value``, a request's purpose,
    user or application id, is longer than a forwarding assertion may carry (``MAX_TEXT``);
    a ``purpose`` is forwarded in its canonical form, which NFKC may make longer (U+FDFA is
    18 characters), so that form is held to the bound too. Why every request: a gateway
    reading an upstream one forwards them in an assertion; accepted here and refused
    upstream, the refusal would be this gateway's (its forwarded identity,
    ``SOURCE_UNAVAILABLE``) and would count against the upstream's circuit."""
    length = max(len(value), len(canonical_purpose(value))) if purpose else len(value)
    if length > MAX_TEXT:
        raise InvalidHeader(
            f"the {header} header is {length} characters long"
            f"{' once normalised (NFKC)' if length > len(value) else ''}; at most {MAX_TEXT} are accepted",
            header=header,
        )
