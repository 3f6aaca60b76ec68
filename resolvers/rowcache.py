"""The row cache: raw source rows kept in aiocache, below the access decision.

Safety rule: the cache sits at the boundary between the per-request DataLoaders and the
department's source (``resolvers.batching.ResourceSource``), BELOW the access decision.
Every request is planned first (``policies.decision``, grants read afresh from the platform
database), and only then asks the cache for exactly the items the plan allows; a hit is
narrowed to those items like a source answer. So a grant revoked a moment ago stops the
next request whether or not the row is cached, and a non-shared column never enters the
cache: it is not bound (``gateway.app._bind``), so no source call and no cache entry can
name it.

Keys, one per item column of one subject's row, plus a marker telling whether the source
has the subject at all::

    govshare:rows:<resource>:<generation>:<subject digest>:<item>     value of the item
    govshare:rows:<resource>:<generation>:<subject digest>:#          b"1" has a row, b"0" not

Why per item rather than per (resource, subject, item set): consumers with different grants
ask for different item sets of the same rows, and share the cached columns; and a change
notice for (resource, subjects) deletes a known, finite set of keys (the resource's shared
items), in memory and in Redis alike, without scanning. A lookup is still one ``multi_get``
(one Redis ``MGET``) per resource and batch. The subject's code is hashed (BLAKE2b) so key
listings do not show citizen IDs or USCCs; the values are the data itself, so Redis must
be kept at the platform's protection level.

``generation`` is the source's last change as ``Connector.freshness`` reports it, observed
by the gateway (``observe``): when a provider's data change is detected, the resource's
rows are read under new keys and the old ones age out with their TTL. Every process that
sees the same stamp uses the same keys, so processes sharing Redis need no coordination.

Values are JSON (orjson) with dates, times and decimals tagged, never pickle: a Redis
reachable by others must not be a way to run code in the gateway.

Backends (``open_backend``): ``memory://`` (default) is :class:`BoundedMemoryCache`, an
aiocache backend of our own, because aiocache's ``SimpleMemoryCache`` is unbounded and
keeps one timer per key: ours is a least-recently-used map bounded in bytes (reusing
``resolvers.limits.ByteBoundedCache``) whose entries expire when read past their TTL.
``redis://host:port/db`` is aiocache's ``RedisCache``, shared by several gateway processes.
A cache that fails (Redis down) is treated as a miss and logged; it never fails a request,
and after 5 failures in a row its own circuit breaker (``resolvers.breaker``) skips it for
30 s, so that a hung Redis does not cost each request a Redis timeout.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson
from aiocache import Cache
from aiocache.base import BaseCache
from aiocache.serializers import BaseSerializer

from connectors.base import Row
from errors import ConfigurationError, SourceUnavailable
from resolvers import metrics
from resolvers.breaker import CircuitBreaker
from resolvers.limits import ByteBoundedCache

log = logging.getLogger("govshare.cache")

NAMESPACE = "govshare:rows"  # keys are NAMESPACE:<key>, as aiocache builds Redis keys
EXISTS = "#"  # the marker's item name: not a catalog item name (those are identifiers)
ROW, NO_ROW = b"1", b"0"
DEFAULT_BYTES = 64 * 1024 * 1024
# bytes an entry keeps besides its key and value: str and bytes headers, two tuples, a float,
# an int, the OrderedDict slot and link (dummy slots after evictions included); measured with
# tracemalloc (tests/resolvers/test_rowcache.py: the budget holds, about 0.9 of it used)
ENTRY_OVERHEAD = 400
REDIS_TIMEOUT = 1.0  # seconds one Redis command may take before it counts as a miss


class TaggedJSON(BaseSerializer):
    """One item value <-> bytes: ``[v]`` for JSON scalars, ``{"d": ...}`` date, ``{"t": ...}``
    datetime, ``{"n": ...}`` decimal, ``{"b": ...}`` bytes (base64). None stays a miss."""

    DEFAULT_ENCODING = None  # bytes as they are

    def dumps(self, value: Any) -> bytes:  # type: ignore[override]
        if isinstance(value, bytes):  # markers and values already encoded
            return value
        return encode_value(value)

    def loads(self, value: Any) -> Any:
        return value  # decoded by RowCache, which knows a marker from a value


def _tag(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"n": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"b": base64.b64encode(bytes(value)).decode()}
    return [value]


def decode_value(raw: bytes) -> Any:
    """An item value as ``TaggedJSON`` wrote it."""
    found = orjson.loads(raw)
    if isinstance(found, list):
        return found[0]
    kind, text = next(iter(found.items()))
    if kind == "t":
        return dt.datetime.fromisoformat(text)
    if kind == "d":
        return dt.date.fromisoformat(text)
    if kind == "n":
        return decimal.Decimal(text)
    return base64.b64decode(text)


def encode_value(value: Any) -> bytes:
    """``TaggedJSON`` bytes of exactly their length: orjson's own result keeps a 4 KiB buffer
    however short the JSON (measured: 4,097 bytes for ``["x"]``), which would make the memory
    backend's byte budget hold ten times its size; the copy is right-sized."""
    return bytes(memoryview(orjson.dumps(_tag(value))))


class BoundedMemoryCache(BaseCache):  # type: ignore[misc]
    """aiocache backend: an LRU map bounded in bytes (``budget``), entries expiring at their
    TTL (checked when read). Values are bytes (``TaggedJSON``), so their size is known."""

    NAME = "bounded-memory"

    def __init__(self, budget: int = DEFAULT_BYTES, **kwargs: Any) -> None:
        kwargs.setdefault("timeout", None)  # in-process: no asyncio.wait_for per call
        super().__init__(serializer=TaggedJSON(), **kwargs)
        self.entries: ByteBoundedCache[str, tuple[bytes, float | None]] = ByteBoundedCache(
            budget, _entry_bytes, entries=max(1, budget // ENTRY_OVERHEAD)
        )

    def _build_key(self, key: str, namespace: str | None = None) -> str:
        """``namespace:key``, as aiocache's Redis backend builds keys."""
        ns = namespace if namespace is not None else self.namespace
        return key if ns is None else f"{ns}:{key}"

    def _live(self, key: str) -> bytes | None:
        found = self.entries.get(key)
        if found is None:
            return None
        if found[1] is not None and found[1] <= time.monotonic():
            self.entries.pop(key)
            return None
        return found[0]

    async def _get(self, key: str, encoding: Any = None, _conn: Any = None) -> bytes | None:
        return self._live(key)

    async def _multi_get(self, keys: Sequence[str], encoding: Any = None, _conn: Any = None) -> list[Any]:
        return [self._live(key) for key in keys]

    async def multi_get(
        self, keys: Sequence[str], loads_fn: Any = None, namespace: str | None = None, **options: Any
    ) -> list[Any]:
        """aiocache's ``multi_get`` (values in key order, None for a miss) without its per-call
        wrappers when none applies: an environment read (``AIOCACHE_DISABLE``), a timeout
        (none in process) and plugin hooks (none set). Profiled under load, the wrappers were
        a third of a row-cache lookup's CPU. With plugins or options, aiocache's own path."""
        if self.plugins or options:
            return await super().multi_get(keys, loads_fn=loads_fn, namespace=namespace, **options)  # type: ignore[no-any-return]
        loads = loads_fn or self._serializer.loads
        ns = namespace if namespace is not None else self.namespace
        return [loads(self._live(self.build_key(key, namespace=ns))) for key in keys]

    async def _set(self, key: str, value: bytes, ttl: float | None = None, _cas_token: Any = None,
                   _conn: Any = None) -> bool:  # fmt: skip
        self.entries.put(key, (value, time.monotonic() + ttl if ttl else None))
        return True

    async def _multi_set(self, pairs: Iterable[tuple[str, bytes]], ttl: float | None = None,
                         _conn: Any = None) -> bool:  # fmt: skip
        deadline = time.monotonic() + ttl if ttl else None
        for key, value in pairs:
            self.entries.put(key, (value, deadline))
        return True

    async def _add(self, key: str, value: bytes, ttl: float | None = None, _conn: Any = None) -> bool:
        if self._live(key) is not None:
            raise ValueError(f"Key {key} already exists, use .set to update the value")
        return await self._set(key, value, ttl)

    async def _exists(self, key: str, _conn: Any = None) -> bool:
        return self._live(key) is not None

    async def _delete(self, key: str, _conn: Any = None) -> int:
        return int(self.entries.pop(key) is not None)

    async def _clear(self, namespace: str | None = None, _conn: Any = None) -> bool:
        for key in self.entries.listed():
            if not namespace or key.startswith(namespace):
                self.entries.pop(key)
        return True

    async def _expire(self, key: str, ttl: float, _conn: Any = None) -> bool:
        value = self._live(key)
        if value is None:
            return False
        self.entries.put(key, (value, time.monotonic() + ttl if ttl else None))
        return True

    async def _raw(self, command: str, *args: Any, **kwargs: Any) -> Any:
        if command == "keys":  # inspection (tests, operators): the keys kept, LRU first
            return self.entries.listed()
        raise NotImplementedError(f"bounded memory cache has no raw command {command!r}")

    async def _redlock_release(self, key: str, value: Any) -> int:
        if self._live(key) == value:
            return await self._delete(key)
        return 0


def _entry_bytes(key: str, entry: tuple[bytes, float | None]) -> int:
    return ENTRY_OVERHEAD + len(key) + len(entry[0])


def check_cache_url(url: str) -> None:
    """Raise ``ConfigurationError`` naming ``GOVSHARE_CACHE_URL`` unless ``url`` is ``memory://``,
    ``off`` or ``redis://[:password@]host[:port][/db]``: a port 1-65535, a whole-number
    database, no query parameters (the gateway sets the timeout itself). The password is
    never repeated in the message."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else url.lower()
    if scheme in ("off", "none", "", "memory"):
        return
    if scheme != "redis":
        raise ConfigurationError(
            f"GOVSHARE_CACHE_URL must be memory://, redis://host:port/db or off, got {_shown(url)!r}"
        )
    parsed = urlsplit(url)
    try:
        parsed.port  # noqa: B018  (parsing it is the check)
    except ValueError as exc:
        raise ConfigurationError(f"GOVSHARE_CACHE_URL {_shown(url)!r} has a bad port ({exc})") from None
    database = parsed.path.strip("/") or "0"
    if not database.isdigit():
        raise ConfigurationError(
            f"GOVSHARE_CACHE_URL {_shown(url)!r}: the database after the port must be a whole number"
        )
    if parsed.query:
        names = ", ".join(sorted({name for name, _ in parse_qsl(parsed.query, keep_blank_values=True)}))
        raise ConfigurationError(
            f"GOVSHARE_CACHE_URL {_shown(url)!r} takes no query parameters (got {names or parsed.query!r}); "
            f"the gateway sets the Redis timeout ({REDIS_TIMEOUT:g} s) itself"
        )


def _shown(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    parsed = urlsplit(url)
    if parsed.password is None:
        return url
    host = parsed.netloc.rsplit("@", 1)[1]
    return parsed._replace(netloc=f"{parsed.username or ''}:***@{host}").geturl()


def open_backend(url: str, budget: int = DEFAULT_BYTES) -> BaseCache | None:
    """The cache a ``GOVSHARE_CACHE_URL`` names: ``memory://`` (bounded to ``budget`` bytes),
    ``redis://[:password@]host[:port][/db]``, or ``off`` (None: no row cache)."""
    check_cache_url(url)
    scheme = url.split("://", 1)[0].lower() if "://" in url else url.lower()
    if scheme in ("off", "none", ""):
        return None
    if scheme == "memory":
        return BoundedMemoryCache(budget, namespace=NAMESPACE)
    if scheme == "redis":
        cache = Cache.from_url(url)
        cache.serializer = TaggedJSON()
        cache.namespace, cache.timeout = NAMESPACE, REDIS_TIMEOUT
        return cache
    raise AssertionError(f"check_cache_url let {scheme!r} through")


DEFINED = "~"  # joins a resource id and the digest of its definition (never in a catalog id)


def defined(resource: str, definition: str) -> str:
    """The cache name of ``resource`` under a ``definition`` (a digest of its catalog entry,
    the same in every process serving that catalog): a catalog swap that changed the resource
    binds a source under this name (gateway.catalog_swap), so rows cached under its old
    definition, by requests still running on the old catalog too, are never read by the new
    one. The old rows expire with their TTL."""
    return f"{resource}{DEFINED}{definition}"


def catalog_id(name: str) -> str:
    """The catalog's resource id of a cache name made by :func:`defined` (or of an id): what
    metrics and traces label it with, whatever version of its definition is cached."""
    return name.partition(DEFINED)[0]


def subject_digest(subject: str) -> str:
    """A subject's code as it appears in cache keys: BLAKE2b, 16 bytes, hex."""
    return hashlib.blake2b(subject.encode(), digest_size=16).hexdigest()


class RowCache:
    """Rows of many resources in one aiocache backend; see the module's safety rule.

    ``get`` answers (found, missing): found maps a key to its row (only ``items``) or to None
    when the source is known not to have it; missing lists the keys to fetch. Counts ``hits``
    and ``misses`` per subject looked up, and ``errors`` of the backend."""

    def __init__(self, backend: BaseCache, name: str = "memory") -> None:
        self.backend, self.name = backend, name
        self.breaker = CircuitBreaker(f"row cache ({name})")
        self.generations: dict[str, str] = {}
        self.hits = self.misses = self.errors = 0

    def generation(self, resource: str) -> str:
        """The resource's current generation (``observe``): part of every key of its rows. A
        resource ``defined`` anew shares its catalog id's generation."""
        return self.generations.get(resource.partition(DEFINED)[0], "0")

    def _prefix(self, resource: str, subject: str) -> str:
        return f"{resource}:{self.generation(resource)}:{subject_digest(subject)}:"

    async def get(
        self, resource: str, keys: Sequence[str], items: Sequence[str]
    ) -> tuple[dict[str, Row | None], list[str]]:
        names = (EXISTS, *items)
        wanted = [self._prefix(resource, key) + name for key in keys for name in names]
        try:
            self.breaker.allow()
            values = await self.backend.multi_get(wanted)
        except Exception as exc:  # a cache that fails is a miss, never a failed request
            self._failed("read", exc)
            self.misses += len(keys)
            metrics.cache_lookup(catalog_id(resource), 0, len(keys), failed=True)
            return {}, list(keys)
        self.breaker.succeeded()
        found: dict[str, Row | None] = {}
        missing: list[str] = []
        width = len(names)
        for index, key in enumerate(keys):
            row = _row(values[index * width : (index + 1) * width], items)
            if row is False:
                missing.append(key)
            else:
                found[key] = row  # type: ignore[assignment]
        self.hits += len(found)
        self.misses += len(missing)
        metrics.cache_lookup(catalog_id(resource), len(found), len(missing))
        return found, missing

    async def put(
        self, resource: str, keys: Sequence[str], items: Sequence[str], rows: dict[str, Row], ttl: int
    ) -> None:
        """Keep ``rows`` (only ``items`` of each) for ``ttl`` seconds; keys absent from
        ``rows`` are kept as known to have no row."""
        pairs: list[tuple[str, bytes]] = []
        for key in keys:
            prefix, row = self._prefix(resource, key), rows.get(key)
            pairs.append((prefix + EXISTS, NO_ROW if row is None else ROW))
            if row is not None:
                pairs.extend((prefix + item, encode_value(row[item])) for item in items)
        try:
            self.breaker.allow()
            await self.backend.multi_set(pairs, ttl=ttl)
        except Exception as exc:
            self._failed("write", exc)
            return
        self.breaker.succeeded()

    async def invalidate(self, resource: str, subjects: Iterable[str], items: Sequence[str]) -> int:
        """Delete the cached rows of ``subjects`` of ``resource`` (``items``: every item the
        resource binds); the number of keys deleted. For change notices (``notifyChange``).
        Raises the backend's error when it fails: the caller must know the rows may linger."""
        deleted = 0
        for subject in subjects:
            prefix = self._prefix(resource, subject)
            for name in (EXISTS, *items):
                deleted += int(await self.backend.delete(prefix + name) or 0)
        return deleted

    def observe(self, resource: str, stamp: dt.datetime | None) -> bool:
        """Note the source's last change (``Connector.freshness``); True when it moved, so
        the resource's cached rows are no longer read (new keys from now on)."""
        generation = "0" if stamp is None else stamp.isoformat()
        previous = self.generations.get(resource)
        self.generations[resource] = generation
        moved = previous is not None and previous != generation
        if moved:
            log.info("source of %s changed: its cached rows are dropped", resource,
                     extra={"fields": {"resource": resource, "generation": generation}})  # fmt: skip
        return moved

    async def state(self) -> dict[str, Any]:
        """For /readyz: backend, whether it answers, hit and miss counts."""
        body: dict[str, Any] = {"backend": self.name, "hits": self.hits, "misses": self.misses,
                                "errors": self.errors, "circuit": self.breaker.state}  # fmt: skip
        try:
            await self.backend.exists("ping")
        except Exception as exc:
            return {**body, "state": "unavailable", "detail": type(exc).__name__}
        if isinstance(self.backend, BoundedMemoryCache):
            entries = self.backend.entries
            body.update(bytes=entries.bytes, budget=entries.budget, entries=len(entries))
        return {**body, "state": "ok"}

    async def close(self) -> None:
        client = getattr(self.backend, "client", None)  # Redis: aiocache 0.12 calls a deprecated close()
        await (client.aclose() if client is not None else self.backend.close())

    def _failed(self, what: str, exc: Exception) -> None:
        if isinstance(exc, SourceUnavailable):  # skipped while its circuit is open: logged on opening
            return
        self.errors += 1
        self.breaker.failed(type(exc).__name__)
        log.warning("row cache %s failed (%s): served from the source", what, type(exc).__name__,
                    extra={"fields": {"backend": self.name}})  # fmt: skip


def _row(values: Sequence[bytes | None], items: Sequence[str]) -> Row | bool | None:
    """The row from its marker and item values; None: known absent; False: a miss."""
    marker = values[0]
    if marker == NO_ROW:
        return None
    if marker != ROW or any(value is None for value in values[1:]):
        return False
    return {item: decode_value(value) for item, value in zip(items, values[1:], strict=True)}  # type: ignore[arg-type]
