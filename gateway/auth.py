"""The gateway's signing keys and its bearer tokens (JWT, ES256, via joserfc).

The key set lives in ``DATA/keys.json`` (private JWKs, newest last), made on first
start. Tokens carry ``sub`` = the consuming department's USCC, ``client_id`` and
``roles``; ``kid`` names the key, so an older key keeps verifying its tokens.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from joserfc.jwt import JWTClaimsRegistry

from errors import InvalidCode, Unauthenticated
from policies.codes import validate_uscc
from policies.decision import ROLES, Consumer

ISSUER = "govshare"
ALGORITHM = "ES256"
DEFAULT_TTL = 3600
_CLAIMS = JWTClaimsRegistry(
    iss={"essential": True, "value": ISSUER},
    sub={"essential": True},
    exp={"essential": True},
)


@dataclass
class Signer:
    """Issues and verifies tokens. A verified token is remembered until it expires: checking
    an ES256 signature costs more than the rest of a cached GraphQL request."""

    keys: KeySet
    max_remembered: int = 10_000
    _verified: dict[str, tuple[Consumer, float]] = field(default_factory=dict, repr=False)

    @property
    def current(self) -> ECKey:
        return self.keys.keys[-1]  # type: ignore[return-value]

    def jwks(self) -> dict[str, Any]:
        return dict(self.keys.as_dict(private=False))

    def issue(
        self,
        department: str,
        roles: list[str],
        client_id: str | None = None,
        ttl: int = DEFAULT_TTL,
    ) -> str:
        department = validate_uscc(department)
        unknown = sorted(set(roles) - set(ROLES))
        if unknown or not roles:
            raise ValueError(f"roles must be among {', '.join(ROLES)}; got {roles}")
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": department, "client_id": client_id or f"cli-{department}",
                  "roles": sorted(set(roles)), "iat": now, "exp": now + ttl}  # fmt: skip
        header = {"alg": ALGORITHM, "kid": self.current.kid}
        return jwt.encode(header, claims, self.current, algorithms=[ALGORITHM])

    def verify(self, token: str) -> Consumer:
        try:
            claims = jwt.decode(token, self.keys, algorithms=[ALGORITHM]).claims
            _CLAIMS.validate(claims)
        except (JoseError, ValueError) as exc:
            raise Unauthenticated(
                f"the bearer token was refused ({type(exc).__name__}); get a new token"
            ) from exc
        return _consumer(claims)


def _consumer(claims: dict[str, Any]) -> Consumer:
    try:
        department = validate_uscc(str(claims["sub"]))
    except InvalidCode as exc:
        raise Unauthenticated("the token's sub is not a valid USCC of a department") from exc
    roles = claims.get("roles") or []
    if not isinstance(roles, list):
        raise Unauthenticated("the token's roles claim must be a list")
    return Consumer(department, str(claims.get("client_id", "")), frozenset(map(str, roles)))


def load_signer(data_dir: Path) -> Signer:
    """The data folder's key set, made (with one fresh key) on first use."""
    path = data_dir / "keys.json"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        _write_private(path, {"keys": [ECKey.generate_key("P-256", auto_kid=True).as_dict(private=True)]})
    keys = [ECKey.import_key(k) for k in json.loads(path.read_text())["keys"]]
    return Signer(KeySet(keys))  # type: ignore[arg-type]


def _write_private(path: Path, content: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle)
    os.replace(tmp, path)


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send `Authorization: Bearer <token>`; get one with `govshare token`")
    return token.strip()
