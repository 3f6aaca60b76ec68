"""Vouchers (电子凭证, Zhengzhou art. 22): a signed snapshot of what was answered.

A voucher is a compact JWS (ES256, the gateway's current key, ``kid`` in the header)
over ``{"aid": audit event id, "ahash": its chain hash, "sub": consumer USCC,
"dig": sha256 of the canonical response, "iat": seconds}``. The response digest covers
the answer as sent minus ``extensions.voucher`` itself, so anyone holding the response
and the gateway's JWKS can check offline that this gateway answered exactly this, and
find the audit event that recorded it.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from gateway.audit import AuditReceipt, digest
from gateway.auth import ALGORITHM, Signer

VOUCHER_KEY = "voucher"


def answer_of(body: Mapping[str, Any]) -> dict[str, Any]:
    """The response as vouched for: the body without ``extensions.voucher`` itself."""
    extensions = {k: v for k, v in (body.get("extensions") or {}).items() if k != VOUCHER_KEY}
    answer = {k: v for k, v in body.items() if k != "extensions"}
    if extensions:
        answer["extensions"] = extensions
    return answer


def response_digest(body: Mapping[str, Any]) -> str:
    """sha256 of the canonical response (``gateway.audit.canonical_json``), minus its voucher.

    Unkeyed, so that anyone holding the response can check a voucher offline. It is only
    in the voucher, which goes to the consumer alone, who holds the whole answer anyway; the
    audit event, which others read, holds a KEYED digest instead (``AuditLog.keyed_digest``)."""
    return digest(answer_of(body))


def issue_voucher(signer: Signer, receipt: AuditReceipt, consumer: str, response_digest: str) -> str:
    """Compact JWS, ES256. Signed with the key's own ECDSA: joserfc's serializer costs twice
    the signature itself on this hot path; joserfc verifies what this makes (tests)."""
    key = signer.current
    claims = {"aid": receipt.id, "ahash": receipt.hash, "dig": response_digest, "iat": int(time.time()),
              "sub": consumer}  # fmt: skip
    header = {"alg": ALGORITHM, "kid": key.kid, "typ": "govshare-voucher"}
    signing_input = f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(claims))}"
    der = key.private_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))  # type: ignore[union-attr]
    r, s = decode_dss_signature(der)
    return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class VoucherCheck:
    ok: bool
    reason: str
    claims: Mapping[str, Any]


def verify_voucher(token: str, response: Mapping[str, Any], jwks: Mapping[str, Any]) -> VoucherCheck:
    """Check signature (against the JWKS) and that the response is the one vouched for."""
    try:
        keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        claims = json.loads(jws.deserialize_compact(token, keys, algorithms=[ALGORITHM]).payload)
    except (JoseError, ValueError) as exc:
        return VoucherCheck(False, f"signature does not verify ({type(exc).__name__})", {})
    if claims.get("dig") != response_digest(response):
        return VoucherCheck(False, "the response differs from the one vouched for", claims)
    return VoucherCheck(True, f"vouched: audit event {claims.get('aid')}", claims)
