"""Settings, from flags first, then ``GOVSHARE_*`` environment variables, then defaults.

| variable | default | meaning |
|---|---|---|
| GOVSHARE_DATA | ~/.local/share/govshare | data folder: keys, audit-secret, platform.db, demo databases |
| GOVSHARE_CATALOG | DATA/catalog.yaml | catalog file or folder |
| GOVSHARE_DATABASE_URL | sqlite+aiosqlite:///DATA/platform.db | platform database (SQLAlchemy async URL) |
| GOVSHARE_HOST | 127.0.0.1 | address to listen on |
| GOVSHARE_PORT | 8000 | port to listen on |
| GOVSHARE_TOKEN_TTL | 3600 | lifetime of issued tokens, seconds (also how long a superseded key is kept) |
| GOVSHARE_TOKEN_LEEWAY | 60 | seconds `nbf` / `iat` may be ahead of this clock (0-300); `exp` gets none |
| GOVSHARE_TRUSTED_ISSUERS | [] | external identity platforms whose tokens are accepted, JSON (below) |
| GOVSHARE_CALENDAR | (none) | operator holiday calendar (YAML) for years chinesecalendar does not know |
| GOVSHARE_INSTANCE | main | this process's audit chain name: give each gateway process its own |
| GOVSHARE_LOG_LEVEL | info | JSON log lines on stderr (info: one per request); codes are masked |
| GOVSHARE_AUDIT | on | `off` answers without audit: for benchmarks only, never in service |
| GOVSHARE_MAX_HEAD_BYTES | 65536 | request line and headers (bytes); longer is 431 `HEADERS_TOO_LARGE` |
| GOVSHARE_MAX_BODY_BYTES | 1048576 | largest request body (bytes); larger is 413 `REQUEST_TOO_LARGE` |
| GOVSHARE_MAX_DOCUMENT_CHARS | 16384 | longest GraphQL document (characters) |
| GOVSHARE_MAX_TOKENS | 1000 | most lexical tokens in a document (comments count) |
| GOVSHARE_MAX_FIELDS | 500 | most field selections in a document's operations, fragments inlined |
| GOVSHARE_MAX_ALIASES | 100 | most aliases, fragments inlined |
| GOVSHARE_MAX_DEPTH | 20 | deepest nesting of fields, through fragments |
| GOVSHARE_MAX_REPEATED_FIELDS | 50 | most selections repeating a response name at the same place |
| GOVSHARE_MAX_ERRORS | 100 | most errors in one operation; beyond, the operation is refused whole |
| GOVSHARE_MAX_RESULT_VALUES | 25000 | most values one operation's answer completes (lists multiply) |
| GOVSHARE_MAX_BATCH | 20 | most operations in one batched request (a JSON list) |
| GOVSHARE_MAX_VARIABLE_VALUES | 2000 | most values (list elements, object fields) in a request's variables |
| GOVSHARE_NEW_TOKENS_PER_SECOND | 5000 | tokens/s of documents not parsed before, per client (else 429) |
| GOVSHARE_NEW_TOKENS_BURST | 20000 | how many such tokens a client may bank for a burst |
| GOVSHARE_CACHE_BYTES | 33554432 | bytes each of the document, validation and plan caches may keep |
| GOVSHARE_COMPARE_MAX_BATCH | 1000 | most requests in one `POST /compare` batch |
| GOVSHARE_COMPARE_RATE | 50 | subjects/s one consumer may compare at one resource (else `compare_rate`) |
| GOVSHARE_COMPARE_BURST | 1000 | subjects one consumer may compare at once at one resource, after a pause |
| GOVSHARE_COMPARE_GUESSES | 10 | mismatching claims an hour per consumer, conditional item and subject |
| GOVSHARE_RATE_LIMIT_STORAGE | (below) | compare counters: `memory://`, `platform`, `redis://host:6379` |
| GOVSHARE_REDIS_URL | (none) | Redis shared by all workers and hosts; default: a redis:// CACHE_URL |
| GOVSHARE_WORKERS | cores | worker processes of `govshare serve` (`--workers`); 1 = one process |
| GOVSHARE_GATEWAY_NAME | (none) | this gateway's name, the ``aud`` of forwarding assertions made for it |
| GOVSHARE_TRUSTED_GATEWAYS | [] | downstream gateways that may forward a consumer's identity, JSON (below) |
| GOVSHARE_CACHE_URL | memory:// | row cache: `memory://`, `redis://host:port/db` (shared), `off` |
| GOVSHARE_ROW_CACHE_BYTES | 67108864 | bytes the memory row cache may keep (LRU) |
| GOVSHARE_BREAKER_FAILURES | 5 | consecutive failed calls that open a circuit (or half of the last 20) |
| GOVSHARE_BREAKER_OPEN_SECONDS | 30 | seconds an open circuit fails fast before one probe call |
| GOVSHARE_FRESHNESS_SECONDS | 30 | seconds between freshness reads (a source's change drops cached rows) |
| GOVSHARE_OBJECTION_DAYS | 5 | working days to answer an objection where the profile says only "promptly" |
| GOVSHARE_NOTICE_DAYS | 2 | working days to notify a change where the profile sets no update limit |
| GOVSHARE_CHANGE_POLL_SECONDS | 300 | how often sources with `updated_at` are polled for changes; 0 = off |
| GOVSHARE_DB_AUTO_UPGRADE | off | `on`: a PostgreSQL platform database behind the code is upgraded at start |
| GOVSHARE_METRICS | on | count requests, source calls, cache and audit for `GET /metrics` (operators) |
| GOVSHARE_METRICS_LISTEN | (none) | `HOST:PORT` serving `GET /metrics` WITHOUT a token (a private scraper) |
| GOVSHARE_OTEL_ENDPOINT | (none) | OTLP/HTTP collector URL: traces on (else `OTEL_EXPORTER_OTLP_ENDPOINT`) |

GOVSHARE_RATE_LIMIT_STORAGE defaults to GOVSHARE_REDIS_URL when there is one, else to
``memory://`` with one worker and ``platform`` (the platform database, ``gateway.rate_store``)
with several, so that all workers spend one budget.

The ``MAX_*`` limits answer ``QUERY_TOO_COMPLEX`` (400) naming the limit, its value and its
variable, before the expensive step runs; see ``resolvers.limits``.

``GOVSHARE_TRUSTED_ISSUERS`` is a JSON list of ``{"issuer": ..., "jwks_url": ...}``, optionally
with ``"audience"`` (then a token's ``aud`` must name it; without it, only tokens that carry
no ``aud`` at all are accepted from that issuer, RFC 7519 §4.1.3). A bearer token whose ``iss`` is one
of these issuers is verified against that issuer's JWKS (https, or http on a loopback
address only) and must carry the same claims as the gateway's own: ``sub`` a department
USCC, ``roles`` a list, ``exp``.

``GOVSHARE_TRUSTED_GATEWAYS`` is a JSON list of ``{"client_id": ..., "jwks_url": ...}``: the
OAuth client each downstream gateway (a city gateway federating this one) authenticates
with here, and where its public keys are (its ``/.well-known/jwks.json``; https, or http on
a loopback address). Only those clients may send ``X-On-Behalf-Of`` (gateway.forwarding);
it needs ``GOVSHARE_GATEWAY_NAME``, the audience their assertions must name.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from errors import ConfigurationError
from gateway.platform import default_url
from resolvers.breaker import BreakerSettings
from resolvers.limits import OperationLimits
from resolvers.rowcache import check_cache_url


@dataclass(frozen=True)
class TrustedIssuer:
    """An external identity platform whose tokens the gateway accepts."""

    issuer: str
    jwks_url: str
    audience: str | None = None


@dataclass(frozen=True)
class TrustedGateway:
    """A downstream gateway allowed to forward its consumers' identity (gateway.forwarding)."""

    client_id: str  # its OAuth client at this gateway (gateway.clients)
    jwks_url: str  # its public keys, which sign its forwarding assertions


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    catalog: Path
    database_url: str
    host: str = "127.0.0.1"
    port: int = 8000
    token_ttl: int = 3600
    token_leeway: int = 60
    trusted_issuers: tuple[TrustedIssuer, ...] = ()
    calendar: Path | None = None
    instance: str = "main"
    audit: bool = True
    log_level: str = "info"
    limits: OperationLimits = field(default_factory=OperationLimits)
    compare: CompareSettings = field(default_factory=lambda: CompareSettings())
    gateway_name: str | None = None
    trusted_gateways: tuple[TrustedGateway, ...] = ()
    cache_url: str = "memory://"
    row_cache_bytes: int = 64 * 1024 * 1024
    breaker: BreakerSettings = field(default_factory=BreakerSettings)
    freshness_seconds: int = 30
    objection_days: int = 5  # "promptly" (及时) where the profile sets no number of working days
    change_poll_seconds: int = 300  # 0: no polling of sources for changes
    notice_days: int = 2  # working days to notify a change where the profile sets none
    db_auto_upgrade: bool = False  # PostgreSQL: migrate at start (gateway.dbschema)
    workers: int = 1  # processes `govshare serve` starts (gateway.workers; its default: cores)
    redis_url: str | None = None  # shared by every worker and host (compare limits)
    metrics: bool = True  # count for GET /metrics (resolvers.metrics)
    metrics_listen: tuple[str, int] | None = None  # GOVSHARE_METRICS_LISTEN: /metrics without a token
    otel_endpoint: str | None = None  # OTLP/HTTP collector: traces on (resolvers.tracing)

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **flags: object) -> Settings:
        env = os.environ if environ is None else environ

        def pick(name: str, default: str) -> str:
            flag = flags.get(name)
            return str(flag) if flag is not None else env.get(f"GOVSHARE_{name.upper()}", default)

        data_dir = Path(pick("data", str(default_data_dir(env)))).expanduser().resolve()
        cache_url = _cache_url(pick("cache_url", "memory://"))
        redis_url = _redis_url(pick("redis_url", ""), cache_url)
        workers = _positive("GOVSHARE_WORKERS", pick("workers", "1"))
        return cls(
            data_dir=data_dir,
            catalog=Path(pick("catalog", str(data_dir / "catalog.yaml"))),
            database_url=pick("database_url", default_url(str(data_dir))),
            host=pick("host", "127.0.0.1"),
            port=_number("GOVSHARE_PORT", pick("port", "8000")),
            token_ttl=_ttl(pick("token_ttl", "3600")),
            token_leeway=_leeway(pick("token_leeway", "60")),
            trusted_issuers=parse_trusted_issuers(pick("trusted_issuers", "[]")),
            calendar=Path(pick("calendar", "")) if pick("calendar", "") else None,
            instance=pick("instance", "main"),
            audit=_switch("GOVSHARE_AUDIT", pick("audit", "on")),
            log_level=_level(pick("log_level", "info")),
            limits=_limits(pick),
            compare=_compare_settings(pick, _default_storage(redis_url, workers)),
            gateway_name=pick("gateway_name", "") or None,
            trusted_gateways=_trusted_gateways(pick("trusted_gateways", "[]"), pick("gateway_name", "")),
            cache_url=cache_url,
            row_cache_bytes=_number("GOVSHARE_ROW_CACHE_BYTES", pick("row_cache_bytes", str(64 << 20))),
            breaker=_breaker(pick),
            freshness_seconds=_positive("GOVSHARE_FRESHNESS_SECONDS", pick("freshness_seconds", "30")),
            objection_days=_number("GOVSHARE_OBJECTION_DAYS", pick("objection_days", "5")),
            notice_days=_number("GOVSHARE_NOTICE_DAYS", pick("notice_days", "2")),
            change_poll_seconds=_number("GOVSHARE_CHANGE_POLL_SECONDS", pick("change_poll_seconds", "300")),
            db_auto_upgrade=_switch("GOVSHARE_DB_AUTO_UPGRADE", pick("db_auto_upgrade", "off")),
            workers=workers,
            redis_url=redis_url,
            metrics=_switch("GOVSHARE_METRICS", pick("metrics", "on")),
            metrics_listen=_listen(pick("metrics_listen", "")),
            otel_endpoint=pick("otel_endpoint", env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")) or None,
        )


@dataclass(frozen=True)
class CompareSettings:
    """``POST /compare`` limits (README "Compare"): batch size, and the default rate of
    subjects per consumer and resource (a resource's ``compare_rate`` overrides it)."""

    max_batch: int = 1000
    rate: int = 50  # subjects per second
    burst: int = 1000  # subjects at once
    guesses: int = 10  # mismatching claims an hour of one conditional item of one subject
    storage: str = "memory://"  # a ``limits`` storage URI


def _redis_url(value: str, cache_url: str) -> str | None:
    """GOVSHARE_REDIS_URL, else the row cache's Redis (GOVSHARE_CACHE_URL) when it is one."""
    if value and not value.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigurationError(
            f"GOVSHARE_REDIS_URL must be a redis://host:port/db URL (rediss:// with TLS), got {value!r}"
        )
    return value or (cache_url if cache_url.startswith(("redis://", "rediss://")) else None)


def _default_storage(redis_url: str | None, workers: int) -> str:
    """Where compare counters live unless GOVSHARE_RATE_LIMIT_STORAGE says: in Redis when
    there is one, else in the platform database when several workers must share them."""
    if redis_url:
        return redis_url
    return "memory://" if workers == 1 else PLATFORM_STORAGE


PLATFORM_STORAGE = "platform"  # compare counters in the platform database (gateway.rate_store)


def _compare_settings(pick: Any, storage: str = "memory://") -> CompareSettings:
    defaults = CompareSettings()
    values = {}
    for name in ("max_batch", "rate", "burst", "guesses"):
        variable = f"GOVSHARE_COMPARE_{name.upper()}"
        values[name] = _number(variable, pick(f"compare_{name}", str(getattr(defaults, name))))
        if values[name] < 1:
            raise ConfigurationError(f"{variable} must be at least 1, got {values[name]}")
    if values["burst"] < values["rate"]:
        raise ConfigurationError("GOVSHARE_COMPARE_BURST must be at least GOVSHARE_COMPARE_RATE")
    return CompareSettings(**values, storage=pick("rate_limit_storage", storage))


def default_data_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "govshare"


def _level(value: str) -> str:
    if value.lower() not in ("debug", "info", "warning", "error"):
        raise ConfigurationError(f"GOVSHARE_LOG_LEVEL must be debug, info, warning or error, got {value!r}")
    return value.lower()


def _switch(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in ("on", "off", "true", "false", "1", "0"):
        raise ConfigurationError(f"{name} must be on or off, got {value!r}")
    return lowered in ("on", "true", "1")


def _ttl(value: str) -> int:
    ttl = _number("GOVSHARE_TOKEN_TTL", value)
    if ttl == 0:  # every token would be born expired
        raise ConfigurationError("GOVSHARE_TOKEN_TTL must be at least 1 second, got 0")
    return ttl


MAX_LEEWAY = 300  # RFC 7519 §4.1.4-4.1.5: "usually no more than a few minutes"


def _leeway(value: str) -> int:
    leeway = _number("GOVSHARE_TOKEN_LEEWAY", value)
    if leeway > MAX_LEEWAY:
        raise ConfigurationError(
            f"GOVSHARE_TOKEN_LEEWAY must be at most {MAX_LEEWAY} seconds (clock skew, not a grace "
            f"period), got {leeway}"
        )
    return leeway


def _limits(pick: Any) -> OperationLimits:
    """Each ``OperationLimits`` field from ``GOVSHARE_<FIELD>``: a whole number, at least 1."""
    defaults = OperationLimits()
    values = {}
    for name in OperationLimits.names():
        value = _number(f"GOVSHARE_{name.upper()}", pick(name, str(getattr(defaults, name))))
        if value < 1:
            raise ConfigurationError(f"GOVSHARE_{name.upper()} must be at least 1, got {value}")
        values[name] = value
    return OperationLimits(**values)


def _listen(value: str) -> tuple[str, int] | None:
    """``GOVSHARE_METRICS_LISTEN``: ``HOST:PORT`` (``[::1]:9464``), or empty for none."""
    if not value:
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigurationError(
            f"GOVSHARE_METRICS_LISTEN must be HOST:PORT such as 127.0.0.1:9464, got {value!r}"
        )
    return host.strip("[]"), int(port)


def _cache_url(value: str) -> str:
    check_cache_url(value)
    return value


def _breaker(pick: Any) -> BreakerSettings:
    failures = _positive("GOVSHARE_BREAKER_FAILURES", pick("breaker_failures", "5"))
    seconds = _positive("GOVSHARE_BREAKER_OPEN_SECONDS", pick("breaker_open_seconds", "30"))
    return BreakerSettings(failures=failures, open_seconds=float(seconds))


def _positive(name: str, value: str) -> int:
    number = _number(name, value)
    if number < 1:
        raise ConfigurationError(f"{name} must be at least 1, got {number}")
    return number


def _number(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {value!r}") from None
    if number < 0:
        raise ConfigurationError(f"{name} must not be negative, got {number}")
    return number


_ISSUERS = "GOVSHARE_TRUSTED_ISSUERS"
_OWN_ISSUER = "govshare"  # gateway.auth.ISSUER: the gateway's own tokens


def parse_trusted_issuers(text: str) -> tuple[TrustedIssuer, ...]:
    """``[{"issuer": ..., "jwks_url": ..., "audience"?: ...}, ...]``, checked entry by entry."""
    try:
        entries = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{_ISSUERS} is not valid JSON: {exc}") from None
    if not isinstance(entries, list):
        raise ConfigurationError(f'{_ISSUERS} must be a JSON list of {{"issuer": ..., "jwks_url": ...}}')
    issuers = tuple(_trusted_issuer(i, entry) for i, entry in enumerate(entries))
    names = [one.issuer for one in issuers]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"{_ISSUERS} names an issuer twice: {sorted(names)}")
    return issuers


def _trusted_issuer(index: int, entry: Any) -> TrustedIssuer:
    where = f"{_ISSUERS}[{index}]"
    if not isinstance(entry, dict):
        raise ConfigurationError(f'{where} must be an object {{"issuer": ..., "jwks_url": ...}}')
    unknown = sorted(set(entry) - {"issuer", "jwks_url", "audience"})
    if unknown:
        raise ConfigurationError(f"{where} has unknown keys {unknown}; use issuer, jwks_url, audience")
    issuer, url, audience = entry.get("issuer"), entry.get("jwks_url"), entry.get("audience")
    if not isinstance(issuer, str) or not issuer.strip():
        raise ConfigurationError(f"{where}.issuer must be the issuer's name, as in its tokens' iss")
    if issuer == _OWN_ISSUER:
        raise ConfigurationError(f"{where}.issuer {issuer!r} is the gateway's own issuer name")
    if not isinstance(url, str) or not _safe_url(url):
        raise ConfigurationError(
            f"{where}.jwks_url must be an https URL (http only on a loopback address), got {url!r}"
        )
    if audience is not None and (not isinstance(audience, str) or not audience):
        raise ConfigurationError(f"{where}.audience must be a non-empty string when given")
    return TrustedIssuer(issuer, url, audience)


def _safe_url(url: str) -> bool:
    """A key set fetched over plain HTTP could be swapped on the way: https, or loopback."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


_GATEWAYS = "GOVSHARE_TRUSTED_GATEWAYS"


def _trusted_gateways(text: str, name: str) -> tuple[TrustedGateway, ...]:
    """``[{"client_id": ..., "jwks_url": ...}, ...]``, checked entry by entry; entries need
    ``GOVSHARE_GATEWAY_NAME`` (the audience a forwarding assertion must name)."""
    try:
        entries = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{_GATEWAYS} is not valid JSON: {exc}") from None
    if not isinstance(entries, list):
        raise ConfigurationError(f'{_GATEWAYS} must be a JSON list of {{"client_id": ..., "jwks_url": ...}}')
    gateways = tuple(_trusted_gateway(i, entry) for i, entry in enumerate(entries))
    if gateways and not name:
        raise ConfigurationError(
            f"{_GATEWAYS} needs GOVSHARE_GATEWAY_NAME: the name downstream gateways address this one "
            "by (the aud of their forwarding assertions)"
        )
    if len({g.client_id for g in gateways}) != len(gateways):
        raise ConfigurationError(f"{_GATEWAYS} names a client_id twice")
    return gateways


def _trusted_gateway(index: int, entry: Any) -> TrustedGateway:
    where = f"{_GATEWAYS}[{index}]"
    if not isinstance(entry, dict) or sorted(entry) != ["client_id", "jwks_url"]:
        raise ConfigurationError(
            f'{where} must be an object {{"client_id": ..., "jwks_url": ...}}, nothing else'
        )
    client_id, url = entry["client_id"], entry["jwks_url"]
    if not isinstance(client_id, str) or not client_id:
        raise ConfigurationError(f"{where}.client_id must be the downstream gateway's OAuth client id here")
    if not isinstance(url, str) or not _safe_url(url):
        raise ConfigurationError(
            f"{where}.jwks_url must be an https URL (http only on a loopback address), got {url!r}"
        )
    return TrustedGateway(client_id, url)
