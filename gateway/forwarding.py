"""Identity forwarding between cascading gateways: signing (downstream) and verifying (upstream).

Downstream, a city gateway's ``graphql`` connector asks ``assertion_signer`` to sign the
claims naming the original consumer (connectors.forwarding): a compact JWS (RFC 7515) by the
gateway's current signing key, header ``typ`` ``govshare-forward+jwt`` so that no other token
of that key (its access tokens, its vouchers) can pass for one.

Upstream, ``ForwardingVerifier.verify`` takes the caller authenticated by its bearer token
and the ``X-On-Behalf-Of`` header and answers the forwarded request (policies.forwarding),
or refuses:

- ``Forbidden`` when the caller's client is not a trusted downstream gateway
  (``GOVSHARE_TRUSTED_GATEWAYS``, clients of this gateway's own registry: a token of an
  external identity platform never qualifies): an ordinary client cannot claim to act for
  another department;
- ``Unauthenticated`` when the assertion is not of that gateway (``iss`` its client id,
  signature by a key of its JWKS, fetched and cached as for trusted issuers), not for this
  gateway (``aud`` = ``GOVSHARE_GATEWAY_NAME``), expired, too long-lived, of the wrong
  ``typ``, or replayed (its ``jti`` seen before while it was valid).

Replays are remembered per process until the assertion expires (at most 300 s; the
connector makes them live 60 s). Several upstream processes each keep their own memory: a
captured header could be replayed once at each of them within that minute, and only
together with the forwarding gateway's own bearer token.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import jwt

from connectors.forwarding import AssertionSigner
from errors import Forbidden, Unauthenticated
from gateway.auth import ALGORITHM, RemoteIssuer, Signer, unverified_header
from gateway.settings import TrustedGateway, TrustedIssuer
from policies.decision import Consumer
from policies.forwarding import Forwarded, forwarded_request

ASSERTION_TYPE = "govshare-forward+jwt"
MAX_REMEMBERED_JTI = 100_000


def assertion_signer(signer: Signer) -> AssertionSigner:
    """Claims -> compact JWS by ``signer``'s current key (its kid in the header)."""

    def sign(claims: Mapping[str, Any]) -> str:
        key = signer.current
        header = {"alg": ALGORITHM, "kid": key.kid, "typ": ASSERTION_TYPE}
        return jwt.encode(header, dict(claims), key, algorithms=[ALGORITHM])

    return sign


@dataclass(eq=False)
class ForwardingVerifier:
    """The trusted downstream gateways of this gateway, with their key sets and seen jtis."""

    name: str | None
    gateways: dict[str, RemoteIssuer]
    client: httpx.AsyncClient | None = None
    _seen: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)

    @classmethod
    def create(cls, name: str | None, trusted: Iterable[TrustedGateway], leeway: int) -> ForwardingVerifier:
        trusted = list(trusted)
        if not trusted:
            return cls(name, {})
        client = httpx.AsyncClient(timeout=httpx.Timeout(5.0), follow_redirects=False)
        gateways = {
            one.client_id: RemoteIssuer(
                TrustedIssuer(one.client_id, one.jwks_url, name), client, leeway=leeway
            )
            for one in trusted
        }
        return cls(name, gateways, client)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()

    async def verify(self, caller: Consumer, assertion: str, *, issued_here: bool = True) -> Forwarded:
        """The forwarded request ``caller`` (authenticated by its bearer token) makes.
        ``issued_here``: the bearer token is this gateway's own (its OAuth client registry
        names the trusted gateways; an external platform's client ids are its own)."""
        remote = self.gateways.get(caller.client_id) if issued_here else None
        if remote is None:
            raise Forbidden(
                f"client {caller.client_id[:64]!r} is not a trusted downstream gateway, so it may not "
                "send X-On-Behalf-Of: read as yourself (drop the header), or have the operator list "
                "the gateway in GOVSHARE_TRUSTED_GATEWAYS",
                header="X-On-Behalf-Of",
            )
        header = unverified_header(assertion)
        if header.get("typ") != ASSERTION_TYPE:
            raise Unauthenticated(
                f"X-On-Behalf-Of is not a forwarding assertion (typ must be {ASSERTION_TYPE})"
            )
        try:
            claims = await remote.verified_claims(assertion, header)
        except Unauthenticated as exc:
            raise Unauthenticated(
                f"the forwarding assertion (X-On-Behalf-Of) was refused: {exc.message}"
            ) from exc
        forwarded = forwarded_request(claims, caller)
        self._use_once(caller.client_id, forwarded)
        return forwarded

    def _use_once(self, client_id: str, forwarded: Forwarded) -> None:
        now = int(time.time())
        if len(self._seen) >= MAX_REMEMBERED_JTI:
            self._seen = {k: exp for k, exp in self._seen.items() if exp > now}
        if len(self._seen) >= MAX_REMEMBERED_JTI:  # all still valid: refuse rather than forget one
            raise Unauthenticated("too many forwarding assertions in flight; retry in a minute")
        key = (client_id, forwarded.jti)
        if self._seen.get(key, 0) > now:
            raise Unauthenticated("the forwarding assertion was used before (replayed jti); make a new one")
        self._seen[key] = forwarded.exp
