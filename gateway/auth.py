"""The gateway's signing keys and its bearer tokens (JWT, ES256, via joserfc).

The key set lives in ``DATA/keys.json`` (private JWKs, newest last), made on first
start. Tokens carry ``sub`` = the consuming department's USCC, ``client_id`` and
``roles``; ``kid`` names the key, so an older key keeps verifying its tokens.

Rotation (``govshare keys rotate``) appends a new key and stamps the one it replaces
with ``superseded_at`` (epoch seconds, a member of that key's entry; a file without it,
the original ``{"keys": [jwk, ...]}``, still loads). Tokens are signed with the newest
key; a superseded key stays in the file and in ``/.well-known/jwks.json`` until the
longest token lifetime (plus a minute of grace) has passed, and the next rotation then
prunes it. A running gateway re-reads the file when it changed: before it issues a token
or publishes the JWKS, when a token names a key it does not know (then at most once per
``RELOAD_INTERVAL``), and when ``current`` is asked for (vouchers) a ``RELOAD_INTERVAL``
after the last look; so a rotation needs no restart.

The ``Authenticator`` accepts the gateway's own tokens and, optionally, those of
trusted external identity platforms (``GOVSHARE_TRUSTED_ISSUERS``), whose key sets are
fetched with httpx, cached, and fetched again when a token names an unknown key. A
verified token is remembered until it expires: checking a signature costs more than
the rest of a cached GraphQL request.

Time and audience claims (RFC 7519 §4.1.3-4.1.6), the same for every issuer:

- ``exp`` is essential and never extended: a token is refused from the second ``exp``
  names, on the gateway's clock, also when it was remembered (§4.1.4 allows a leeway,
  this gateway takes none: an expired token must not reach data);
- ``nbf`` and ``iat`` may lie up to ``leeway`` seconds ahead of the gateway's clock
  (``GOVSHARE_TOKEN_LEEWAY``, default 60, at most 300): the gateway hosts and identity
  platforms keep clocks a little apart; further ahead, the token is refused;
- ``aud`` (§4.1.3): a token naming an audience is accepted only when the issuer has a
  configured ``audience`` that it names. An issuer without one is trusted only for tokens
  without ``aud``: a token meant for another service is refused, never taken as meant
  for this gateway. The gateway's own tokens carry no ``aud``, and one that does is refused.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, KeySet, import_key
from joserfc.jwt import JWTClaimsRegistry

from errors import ConfigurationError, InvalidCode, Unauthenticated
from gateway.settings import TrustedIssuer
from policies.chinatime import LATEST
from policies.codes import validate_uscc
from policies.decision import ROLES, Consumer

log = logging.getLogger("govshare.auth")
ISSUER = "govshare"
ALGORITHM = "ES256"
DEFAULT_TTL = 3600
DEFAULT_LEEWAY = 60  # seconds nbf / iat may lie ahead of this host's clock (GOVSHARE_TOKEN_LEEWAY)
RELOAD_INTERVAL = 5.0  # seconds between re-reads of a key set for an unknown kid
PRUNE_GRACE = 60  # seconds a superseded key outlives the longest token lifetime
JWKS_MAX_AGE = 3600.0  # an external key set is fetched again after this long
EXTERNAL_ALGORITHMS = ["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "EdDSA"]
_SUPERSEDED = "superseded_at"
LATEST_EXP = int(LATEST.timestamp())  # exp at or after it is refused: beyond the instants stored


def check_claims(claims: dict[str, Any], issuer: str, audience: str | None, leeway: int) -> None:
    """Raise ``Unauthenticated`` unless the claims are of ``issuer``, carry ``sub`` and ``exp``,
    ``exp`` has not passed (no leeway), ``nbf`` / ``iat`` are at most ``leeway`` seconds ahead,
    and ``aud`` names ``audience`` (or, with no audience configured, is absent).
    RFC 7519 §4.1.1-4.1.6; see the module docstring."""
    options: dict[str, Any] = {"iss": {"essential": True, "value": issuer}}
    if audience is not None:
        options["aud"] = {"essential": True, "value": audience}
    elif "aud" in claims:
        raise Unauthenticated(
            f"the bearer token is meant for audience {_shown(claims['aud'])}, and tokens of issuer "
            f"{issuer!r} are accepted here only without aud (no audience is configured for it: "
            "GOVSHARE_TRUSTED_ISSUERS); get a token meant for this gateway"
        )
    registry = JWTClaimsRegistry(leeway=leeway, sub={"essential": True}, exp={"essential": True}, **options)
    try:
        registry.validate(claims)
    except (JoseError, ValueError) as exc:
        raise _refused(exc, issuer) from exc
    if not claims["exp"] < LATEST_EXP:  # finite and storable: later arithmetic (float, datetime) holds
        raise Unauthenticated(
            f"the bearer token of issuer {issuer!r} was refused (InvalidClaimError: exp "
            f"{_shown(claims['exp'])} is after {LATEST:%Y-%m-%d}); get a new token"
        )
    if not time.time() < claims["exp"]:  # exp gets no leeway; joserfc compares whole seconds
        raise Unauthenticated(
            f"the bearer token of issuer {issuer!r} was refused (ExpiredTokenError: it expired at "
            f"exp {claims['exp']}); get a new token"
        )


def _shown(value: Any) -> str:
    return repr(value)[:120]


@dataclass
class Signer:
    """Issues and verifies the gateway's own tokens with the key set of ``keys.json``."""

    keys: KeySet
    path: Path | None = None
    reload_interval: float = RELOAD_INTERVAL
    leeway: int = DEFAULT_LEEWAY  # seconds nbf / iat may be ahead (never added to exp)
    generation: int = 0  # bumped whenever the key set changes
    _stamp: tuple[int, int, int] | None = field(default=None, repr=False)
    _kid_reload_at: float = field(default=-math.inf, repr=False)
    _current_checked_at: float = field(default_factory=time.monotonic, repr=False)

    @property
    def current(self) -> ECKey:
        """The newest key; ``keys.json`` is looked at again every ``reload_interval`` seconds."""
        self.recheck()
        return self.keys.keys[-1]  # type: ignore[return-value]

    def recheck(self) -> None:
        """Re-read ``keys.json`` if ``reload_interval`` has passed: a removed key stops verifying
        (and remembered tokens signed by it are dropped) within that interval."""
        now = time.monotonic()
        if now - self._current_checked_at >= self.reload_interval:
            self._current_checked_at = now
            self.refresh()

    def jwks(self) -> dict[str, Any]:
        self.refresh()
        return dict(self.keys.as_dict(private=False))

    def knows(self, kid: str) -> bool:
        return any(key.kid == kid for key in self.keys.keys)

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
        if not now + ttl < LATEST_EXP:  # check_claims would refuse it
            raise ValueError(f"a token's lifetime must end before {LATEST:%Y-%m-%d}; got {ttl} seconds")
        self.refresh()  # sign with the newest key, also right after a rotation
        claims = {"iss": ISSUER, "sub": department, "client_id": client_id or f"cli-{department}",
                  "roles": sorted(set(roles)), "iat": now, "exp": now + ttl}  # fmt: skip
        key = self.keys.keys[-1]
        return jwt.encode({"alg": ALGORITHM, "kid": key.kid}, claims, key, algorithms=[ALGORITHM])

    def verify(self, token: str) -> Consumer:
        return consumer_of(self.verified_claims(token, unverified_header(token)))

    def verified_claims(self, token: str, header: dict[str, Any]) -> dict[str, Any]:
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthenticated("the bearer token names no signing key (kid); get a new token")
        if not self.knows(kid):
            self._reload_for_unknown_kid()
        if not self.knows(kid):
            raise Unauthenticated(
                f"the bearer token is signed with key {kid[:64]!r}, which this gateway does not hold "
                "(retired by key rotation, or not the gateway's); get a new token"
            )
        try:
            claims = jwt.decode(token, self.keys, algorithms=[ALGORITHM]).claims
        except (JoseError, ValueError) as exc:
            raise _refused(exc) from exc
        check_claims(claims, ISSUER, None, self.leeway)
        return claims

    def refresh(self) -> bool:
        """Re-read ``keys.json`` if it changed on disk (a cheap ``stat`` otherwise)."""
        if self.path is None:
            return False
        stamp = _stamp(self.path)  # before reading: a change after it is seen next time
        if stamp is None or stamp == self._stamp:
            return False
        try:
            keys = _key_set(read_key_entries(self.path))
        except ConfigurationError:
            if self._stamp is None:
                raise
            log.exception("keeping the signing keys in use: %s is unreadable", self.path)
            self._stamp = stamp
            return False
        self.keys, self._stamp = keys, stamp
        self.generation += 1
        log.info("signing keys reloaded from %s; current key %s", self.path, keys.keys[-1].kid)
        return True

    def _reload_for_unknown_kid(self) -> None:
        """A changed ``keys.json`` is re-read at once, then not again for ``reload_interval``."""
        now = time.monotonic()
        if now - self._kid_reload_at >= self.reload_interval and self.refresh():
            self._kid_reload_at = now


def _refused(exc: Exception, issuer: str | None = None) -> Unauthenticated:
    """Name the failed check (e.g. ``InvalidClaimError: nbf``), never the token's content."""
    of = f" of issuer {issuer!r}" if issuer else ""
    what = type(exc).__name__
    if isinstance(exc, JoseError) and getattr(exc, "description", None):
        what += f": {str(exc.description)[:200]}"
    return Unauthenticated(f"the bearer token{of} was refused ({what}); get a new token")


def unverified_header(token: str) -> dict[str, Any]:
    header, _ = _peek(token)
    return header


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims before any check: only to choose the keys that will check them.

    The claims are anyone's text at this point: orjson parses them because it refuses nesting
    deeper than 1024 with a ValueError (``json.loads`` raises RecursionError: a 500)."""
    try:
        compact = jws.extract_compact(token.encode())
        claims = orjson.loads(compact.payload)
    except (JoseError, ValueError, UnicodeError) as exc:
        raise _refused(exc) from exc
    if not isinstance(claims, dict):
        raise Unauthenticated("the bearer token's payload is not a JSON object of claims")
    return dict(compact.headers()), claims


def issued_here(token: str) -> bool:
    """Whether an (already verified) token was issued by this gateway (``iss`` govshare), not
    by a trusted external identity platform, whose ``client_id`` claims name its own clients."""
    return _peek(token)[1].get("iss") == ISSUER


def consumer_of(claims: dict[str, Any]) -> Consumer:
    """The caller named by verified claims: ``sub`` a department USCC, ``roles`` a list."""
    try:
        department = validate_uscc(str(claims["sub"]))
    except InvalidCode as exc:
        raise Unauthenticated("the token's sub is not a valid USCC of a department") from exc
    roles = claims.get("roles") or []
    if not isinstance(roles, list):
        raise Unauthenticated("the token's roles claim must be a list")
    client_id = claims.get("client_id", claims.get("azp", ""))
    return Consumer(department, str(client_id), frozenset(map(str, roles)))


# --- keys.json --------------------------------------------------------------------------------


def load_signer(data_dir: Path, leeway: int = DEFAULT_LEEWAY, *, create: bool = True) -> Signer:
    """The data folder's key set, made (with one fresh key) on first use; with ``create=False``
    a folder without ``keys.json`` is a ``ConfigurationError`` (commands that must use the keys
    of a running gateway, never make their own)."""
    path = data_dir / "keys.json"
    if not path.exists():
        if not create:
            raise ConfigurationError(
                f"{data_dir} holds no signing keys (keys.json): it is not the data folder of a "
                "gateway; pass --data DIR or set GOVSHARE_DATA to the folder the gateway serves "
                "(`govshare serve` or `govshare demo` makes the keys on first start)"
            )
        data_dir.mkdir(parents=True, exist_ok=True)
        _write_private(path, {"keys": [_new_key()]})
    stamp = _stamp(path)
    return Signer(_key_set(read_key_entries(path)), path, leeway=leeway, _stamp=stamp)


def _new_key() -> dict[str, Any]:
    return dict(ECKey.generate_key("P-256", auto_kid=True).as_dict(private=True))


def read_key_entries(path: Path) -> list[dict[str, Any]]:
    """The entries of ``keys.json``: private JWKs, oldest first, maybe with ``superseded_at``."""
    try:
        entries = json.loads(path.read_text())["keys"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(f'{path} is not a key set {{"keys": [...]}}: {exc}') from exc
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise ConfigurationError(f"{path} holds no keys; move it away and a new key set is made")
    return entries


def _key_set(entries: Iterable[dict[str, Any]]) -> KeySet:
    jwks = [{k: v for k, v in entry.items() if k != _SUPERSEDED} for entry in entries]
    return KeySet([ECKey.import_key(jwk) for jwk in jwks])  # type: ignore[arg-type]


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_ino, info.st_mtime_ns, info.st_size


def _write_private(path: Path, content: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle)
    os.replace(tmp, path)


@dataclass(frozen=True)
class Rotation:
    current: str  # the new key's kid
    kept: list[dict[str, Any]]  # the superseded keys still verifying: kid, superseded_at
    pruned: list[str]  # kids removed


def rotate_keys(data_dir: Path, keep: int, now: float | None = None) -> Rotation:
    """Add a new current key; prune keys superseded more than ``keep`` + grace seconds ago."""
    path = data_dir / "keys.json"
    load_signer(data_dir, create=False)  # a rotation in a folder without keys is a mistaken --data
    entries, moment = read_key_entries(path), int(time.time() if now is None else now)
    for entry in entries:
        entry.setdefault(_SUPERSEDED, moment)
    kept: list[dict[str, Any]] = []
    pruned: list[dict[str, Any]] = []
    for entry in entries:
        alive = _superseded_at(path, entry) + keep + PRUNE_GRACE > moment
        (kept if alive else pruned).append(entry)
    new = _new_key()
    _retire(data_dir, pruned)
    _write_private(path, {"keys": [*kept, new]})
    return Rotation(
        current=str(new["kid"]),
        kept=[{"kid": entry.get("kid"), _SUPERSEDED: entry[_SUPERSEDED]} for entry in kept],
        pruned=[str(entry.get("kid")) for entry in pruned],
    )


RETIRED_FILE = "retired-keys.json"


def _retire(data_dir: Path, pruned: list[dict[str, Any]]) -> None:
    """Pruned keys no longer sign or verify tokens, but vouchers they signed stay checkable:
    their PUBLIC halves are kept in DATA/retired-keys.json."""
    if not pruned:
        return
    path = data_dir / RETIRED_FILE
    retired = json.loads(path.read_text())["keys"] if path.exists() else []
    for entry in pruned:
        public = ECKey.import_key({k: v for k, v in entry.items() if k != _SUPERSEDED})
        retired.append(public.as_dict(private=False))
    path.write_text(json.dumps({"keys": retired}))


def voucher_keys(data_dir: Path) -> dict[str, Any]:
    """Every public key a voucher may have been signed with: the live ones and the retired."""
    live = load_signer(data_dir, create=False).jwks()["keys"]
    path = data_dir / RETIRED_FILE
    retired = json.loads(path.read_text())["keys"] if path.exists() else []
    return {"keys": [*live, *retired]}


def _superseded_at(path: Path, entry: dict[str, Any]) -> int:
    value = entry[_SUPERSEDED]
    if not isinstance(value, int) or isinstance(value, bool):
        raise ConfigurationError(
            f"{path}: key {entry.get('kid')!r} has {_SUPERSEDED} {value!r}; it must be epoch seconds"
        )
    return value


def key_summary(data_dir: Path) -> list[dict[str, Any]]:
    """kid and ``superseded_at`` (null for the current key) of each key, oldest first."""
    load_signer(data_dir, create=False)
    entries = read_key_entries(data_dir / "keys.json")
    return [{"kid": entry.get("kid"), _SUPERSEDED: entry.get(_SUPERSEDED)} for entry in entries]


# --- external issuers -------------------------------------------------------------------------


@dataclass(eq=False)
class RemoteIssuer:
    """A trusted identity platform: its key set, fetched from ``jwks_url`` and cached."""

    trusted: TrustedIssuer
    client: httpx.AsyncClient
    reload_interval: float = RELOAD_INTERVAL
    leeway: int = DEFAULT_LEEWAY
    max_age: float = JWKS_MAX_AGE
    keys: KeySet | None = None
    generation: int = 0
    _fetched_at: float = field(default=-math.inf, repr=False)
    _tried_at: float = field(default=-math.inf, repr=False)
    _error: str = field(default="not fetched yet", repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @property
    def name(self) -> str:
        return self.trusted.issuer

    async def verified_claims(self, token: str, header: dict[str, Any]) -> dict[str, Any]:
        kid = header.get("kid")
        keys = await self._keys_for(kid if isinstance(kid, str) else None)
        try:
            claims = jwt.decode(token, keys, algorithms=EXTERNAL_ALGORITHMS).claims
        except (JoseError, ValueError) as exc:
            raise _refused(exc, self.name) from exc
        check_claims(claims, self.name, self.trusted.audience, self.leeway)
        return claims

    async def _keys_for(self, kid: str | None) -> KeySet:
        """The cached key set, fetched first when missing, stale or lacking ``kid``; fetches
        are tried at most once per ``reload_interval``."""
        now = time.monotonic()
        unknown = kid is not None and self.keys is not None and not _has_kid(self.keys, kid)
        wanted = self.keys is None or now - self._fetched_at >= self.max_age or unknown
        if wanted and now - self._tried_at >= self.reload_interval:
            await self._fetch(now)
        if self.keys is None:
            raise Unauthenticated(
                f"could not fetch the key set of trusted issuer {self.name!r} from "
                f"{self.trusted.jwks_url} ({self._error}); try again in a few seconds"
            )
        if kid is not None and not _has_kid(self.keys, kid):
            raise Unauthenticated(
                f"the bearer token names key {kid[:64]!r}, which is not in the key set of trusted "
                f"issuer {self.name!r} ({self.trusted.jwks_url}); get a new token"
            )
        return self.keys

    async def _fetch(self, asked_at: float) -> None:
        async with self._lock:
            if self._tried_at >= asked_at:  # another request fetched while this one waited
                return
            self._tried_at = time.monotonic()
            try:
                keys = await self._download()
            except (httpx.HTTPError, ValueError) as exc:
                self._error = f"{type(exc).__name__}: {exc}"
                log.warning("could not fetch the key set of %s: %s", self.name, self._error)
                return  # a cached key set keeps serving
            if keys != self.keys:
                self.keys = keys
                self.generation += 1  # tokens remembered under the old key set are checked again
            self._fetched_at = time.monotonic()

    async def _download(self) -> KeySet:
        response = await self.client.get(self.trusted.jwks_url)
        response.raise_for_status()
        document = orjson.loads(response.content)  # depth-limited: a ValueError, never RecursionError
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise ValueError('the document is not a JWKS {"keys": [...]}')
        keys = [key for key in map(_public_signing_key, entries) if key is not None]
        if not keys:
            raise ValueError("the key set holds no usable signing key")
        return KeySet(keys)


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys.keys)


def _public_signing_key(entry: Any) -> Key | None:
    """An asymmetric signing key of a remote JWKS; anything else is skipped."""
    if not isinstance(entry, dict) or entry.get("kty") not in ("EC", "RSA", "OKP"):
        return None
    if entry.get("use", "sig") != "sig":
        return None
    try:
        return import_key({k: v for k, v in entry.items() if k != "d"})  # type: ignore[arg-type]
    except (JoseError, ValueError, KeyError, TypeError) as exc:
        log.warning("skipping a key of a trusted issuer's JWKS: %s", exc)
        return None


# --- authentication ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Remembered:
    consumer: Consumer
    exp: float
    source: Signer | RemoteIssuer
    generation: int


@dataclass(eq=False)
class Authenticator:
    """Bearer token -> Consumer, for the gateway's own tokens and trusted issuers' tokens."""

    signer: Signer
    issuers: dict[str, RemoteIssuer] = field(default_factory=dict)
    client: httpx.AsyncClient | None = None
    max_remembered: int = 10_000
    _verified: dict[str, _Remembered] = field(default_factory=dict, repr=False)

    @classmethod
    def create(cls, signer: Signer, trusted: Iterable[TrustedIssuer] = ()) -> Authenticator:
        """Trusted issuers' tokens get the signer's ``leeway`` too (one setting for all)."""
        trusted = list(trusted)
        if not trusted:
            return cls(signer)
        client = httpx.AsyncClient(timeout=httpx.Timeout(5.0), follow_redirects=False)
        issuers = {one.issuer: RemoteIssuer(one, client, leeway=signer.leeway) for one in trusted}
        return cls(signer, issuers, client)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()

    async def authenticate(self, token: str) -> Consumer:
        self.signer.recheck()
        remembered = self._verified.get(token)
        if remembered is not None:
            if time.time() < remembered.exp and remembered.generation == remembered.source.generation:
                return remembered.consumer
            self._verified.pop(token, None)
        header, unverified = _peek(token)
        source, claims = await self._verify(token, header, unverified.get("iss"))
        consumer, exp = consumer_of(claims), claims["exp"]  # check_claims made sure exp is ahead
        self._remember(token, _Remembered(consumer, float(exp), source, source.generation))
        return consumer

    async def _verify(
        self, token: str, header: dict[str, Any], issuer: Any
    ) -> tuple[Signer | RemoteIssuer, dict[str, Any]]:
        if issuer == ISSUER:
            return self.signer, self.signer.verified_claims(token, header)
        remote = self.issuers.get(issuer) if isinstance(issuer, str) else None
        if remote is None:
            known = ", ".join(repr(name) for name in [ISSUER, *self.issuers])
            raise Unauthenticated(
                f"tokens of issuer {str(issuer)[:100]!r} are not accepted here (trusted: {known}); "
                "get a token from POST /oauth/token"
            )
        return remote, await remote.verified_claims(token, header)

    def _remember(self, token: str, remembered: _Remembered) -> None:
        if len(self._verified) >= self.max_remembered:
            now = time.time()
            for key in [k for k, v in self._verified.items() if v.exp <= now]:
                del self._verified[key]
            if len(self._verified) >= self.max_remembered:
                self._verified.clear()
        self._verified[token] = remembered


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "send `Authorization: Bearer <token>`; get one from POST /oauth/token or `govshare token`"
        )
    return token.strip()
