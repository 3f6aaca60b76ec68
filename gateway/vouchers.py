"""Vouchers (电子凭证, Zhengzhou art. 22): a signed snapshot of what was answered.

A voucher is a compact JWS (ES256, the gateway's current key, ``kid`` in the header)
over ``{"aid": audit event id, "ahash": its chain hash, "sub": consumer USCC,
"dig": sha256 of the canonical response, "iat": seconds}``. The response digest covers
the answer as sent minus ``extensions.voucher`` itself, so anyone holding the response
and the gateway's JWKS can check offline that this gateway answered exactly this, and
find the audit event that recorded it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from gateway.audit import AuditReceipt, digest
from gateway.auth import ALGORITHM, Signer

VOUCHER_KEY = "voucher"


def response_digest(body: Mapping[str, Any]) -> str:
    """sha256 of the canonical response, without the voucher it will carry."""
    extensions = {k: v for k, v in (body.get("extensions") or {}).items() if k != VOUCHER_KEY}
    answer = {k: v for k, v in body.items() if k != "extensions"}
    if extensions:
        answer["extensions"] = extensions
    return digest(answer)


def issue_voucher(signer: Signer, receipt: AuditReceipt, consumer: str, response_digest: str) -> str:
    claims = {"aid": receipt.id, "ahash": receipt.hash, "sub": consumer, "dig": response_digest,
              "iat": int(time.time())}  # fmt: skip
    header = {"alg": ALGORITHM, "kid": signer.current.kid, "typ": "govshare-voucher"}
    payload = json.dumps(claims, separators=(",", ":"), sort_keys=True)
    return jws.serialize_compact(header, payload, signer.current, algorithms=[ALGORITHM])


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
