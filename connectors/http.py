"""A department's REST API as a source, through one pooled ``httpx.AsyncClient``.

Department settings (``connector:``), checked once by ``open``::

    kind: http
    base_url: https://api.hrss.example.gov.cn/v1/   # every resource URL is relative to it
    headers: {Authorization: 'Bearer ${HRSS_API_TOKEN}'}  # ${NAME}: from the environment
    auth: {username: govshare, password: '${HRSS_API_PASSWORD}'}  # HTTP Basic (RFC 7617)
    timeout: 5          # seconds for one whole call: pool wait, every request, retries, backoff
    concurrency: 8      # per-key requests in flight at once (and the pool's connection limit)
    retries: 2          # extra attempts of an idempotent request (GET; a batch POST marked so)
    backoff: 0.1        # seconds before the first retry, doubled before each next one
    max_bytes: 33554432 # largest answer read (decoded bytes; default 32 MiB): a bigger one is refused

Secrets are never written in the catalog: ``${NAME}`` in a header value or the password is
read from the environment variable NAME when the connector opens, and an unset one is a
``ConfigurationError`` naming it. An ``Authorization`` header or a password written out
literally is refused for the same reason, as is one in any header whose name says it
carries a credential (``Cookie``, ``X-Api-Key``, ``*Token*``, ``*Secret*``), a query
parameter so named in any URL, and a user name and password in ``base_url``. A variable
holding what no header can carry (a line break, a non-ASCII character) is refused when the
connector opens, never quoted.

A resource's ``source:`` (checked once by ``bind``)::

    get: insured/{key}                 # one subject: GET, 404 = no such subject
    record: $.data                     # where the record is in that answer (default: `$`)
    batch: {url: insured:batch, body: keys, rows: $.items, max_keys: 100, idempotent: false}
    key: $.uscc                        # the subject key in a record (default: the key item's path)
    columns: {insured_count: $.insured.count}   # item -> JSON path (default: `$.<item>`)
    updated_at: $.updated_at           # change stamp, ISO 8601
    scan: {url: insured, rows: $.items, params: {after: after, since: since, limit: limit}}
    freshness: {url: insured/freshness, field: $.updated_at}

``fetch`` POSTs chunks of keys to ``batch`` (``{"<body>": [keys]}``) where the API has such
an endpoint, otherwise GETs ``get`` once per key, at most ``concurrency`` at a time. ``scan``
GETs ``scan.url`` with the contract's arguments as the named query parameters (an unused
argument is left out; ``since`` in ISO 8601). ``freshness`` GETs ``freshness.url`` and reads
``field``; without it the freshness is unknown (None). ``check`` asks ``scan`` for one row
(or ``get`` for a key no subject has, when there is no scan): a 404 means the resource does
not exist; a record lacking a bound path names it missing.

The API may answer more than asked: other keys, other fields, rows before ``after``, past
``limit`` or unchanged since ``since``: all of it is cut here (connectors/records.py), so a
caller gets exactly the contract's rows. Retries (RFC 9110 section 9.2.2: only idempotent
methods may be repeated automatically) follow a transport error or a 429, 502, 503 or 504
answer; a batch POST is retried only when its settings say ``idempotent: true``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from connectors.base import (
    Abandoned,
    Binding,
    Connector,
    Row,
    SourceCheck,
    bind_columns,
    known_settings,
    register,
    settle,
    timeout_setting,
    within,
)
from connectors.records import MISSING, RecordPath, as_stamp, only_asked, path_setting, scan_window
from errors import ConfigurationError, SourceUnavailable

T = TypeVar("T")
RETRY_STATUSES = frozenset({429, 502, 503, 504})
_SECRET = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# header names that carry credentials: their values must come from the environment
_CREDENTIAL_HEADER = re.compile(r"authorization|cookie|token|secret|key|password|signature", re.IGNORECASE)
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")  # RFC 3986 scheme and authority
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 section 5.6.2 token: a header name
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e]*")  # RFC 9110 section 5.5 field-value, ASCII only
_DEFAULTS = {"concurrency": 8, "retries": 2, "backoff": 0.1, "max_bytes": 32 * 1024 * 1024}
_SCAN_PARAMS = ("after", "since", "limit")
CONNECTOR_SETTINGS = ("kind", "base_url", "headers", "auth", "timeout", *_DEFAULTS)
SOURCE_SETTINGS = ("get", "record", "batch", "scan", "freshness", "key", "columns", "updated_at")
ROOT = RecordPath("$", ())


@dataclass(frozen=True)
class Batch:
    """A batch endpoint: POST ``{body: [keys]}`` to ``url``; the records are at ``rows``."""

    url: str
    body: str
    rows: RecordPath
    max_keys: int
    idempotent: bool


@dataclass(frozen=True)
class Scan:
    """A list endpoint: GET ``url`` with the contract's arguments as the named query parameters."""

    url: str
    rows: RecordPath
    params: Mapping[str, str]


@dataclass(frozen=True, eq=False)
class HTTPBinding(Binding):
    """A resource on a REST API; ``columns`` holds item -> JSON path text, ``paths`` the compiled paths."""

    get: str | None = None
    record: RecordPath = ROOT
    batch: Batch | None = None
    scan: Scan | None = None
    freshness: tuple[str, RecordPath] | None = None
    paths: Mapping[str, RecordPath] = field(default_factory=dict)
    key_path: RecordPath = ROOT
    stamp_path: RecordPath | None = None


@register
class HTTPConnector(Connector):
    kind = "http"

    def __init__(self, client: httpx.AsyncClient, timeout: float, *, concurrency: int = 8, retries: int = 2,
                 backoff: float = 0.1, max_bytes: int = 32 * 1024 * 1024) -> None:  # fmt: skip
        self.client = client
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._slots = asyncio.Semaphore(concurrency)
        self._abandoned: Abandoned = set()

    @classmethod
    def open(cls, settings: Mapping[str, Any], data_dir: Path) -> HTTPConnector:
        """Raises ``ConfigurationError`` naming the setting: no or a bad ``base_url``, an unset
        ``${NAME}``, a literal credential, a non-positive number."""
        known_settings(settings, CONNECTOR_SETTINGS, "connector")
        base_url = _base_url(settings.get("base_url"))
        timeout = timeout_setting(settings)
        numbers = {name: _number(settings, name, default) for name, default in _DEFAULTS.items()}
        concurrency, retries = int(numbers["concurrency"]), int(numbers["retries"])
        client = httpx.AsyncClient(
            base_url=base_url,
            headers=_headers(settings.get("headers")),
            auth=_basic_auth(settings.get("auth")),
            timeout=timeout,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        return cls(client, timeout, concurrency=concurrency, retries=retries, backoff=numbers["backoff"],
                   max_bytes=int(numbers["max_bytes"]))  # fmt: skip

    def bind(self, source: Mapping[str, Any], items: Sequence[str], key_item: str) -> HTTPBinding:
        """Raises ``ConfigurationError`` naming the ``source.`` setting that is wrong."""
        known_settings(source, SOURCE_SETTINGS, "source")
        get, batch = _template(source.get("get")), _batch(source.get("batch"))
        if get is None and batch is None:
            raise ConfigurationError(
                "a http source needs `get:` (a URL template with {key}) or `batch:` (a POST endpoint)"
            )
        columns = bind_columns(source, items, key_item)
        paths = {item: path_setting(text, f"source.columns.{item}") for item, text in columns.items()}
        key_text = source.get("key") or columns.get(key_item, key_item)
        key_path = path_setting(key_text, "source.key")
        stamp = source.get("updated_at")
        return HTTPBinding(
            target=get or (batch.url if batch else ""), key=key_path.text, columns=columns,
            updated_at=str(stamp) if stamp else None, get=get,
            record=path_setting(source.get("record", "$"), "source.record"), batch=batch,
            scan=_scan(source.get("scan")), freshness=_freshness(source.get("freshness")), paths=paths,
            key_path=key_path, stamp_path=path_setting(stamp, "source.updated_at") if stamp else None,
        )  # fmt: skip

    # --- the contract -------------------------------------------------------------------

    async def fetch(self, binding: Binding, keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
        bound = _http(binding)
        wanted = list(dict.fromkeys(k for k in keys if k))
        if not wanted:
            return {}
        reading = self._fetch_batches(bound, wanted) if bound.batch else self._fetch_each(bound, wanted)
        records = await self._within(reading, f"reading {bound.target}")
        found: dict[str, Row] = {}
        for key, record in records:  # a source that repeats a key is wrong: its first record is the one
            found.setdefault(key, _project(bound, record, items))
        return only_asked(found, wanted)

    async def scan(
        self,
        binding: Binding,
        items: Sequence[str],
        *,
        after: str | None = None,
        since: dt.datetime | None = None,
        limit: int = 1000,
    ) -> list[Row]:
        bound = _http(binding)
        if bound.scan is None:
            raise SourceUnavailable(
                f"the REST source {bound.target} offers no scan; set `source.scan`", unsupported="scan"
            )
        since = since if bound.updated_at else None  # no change stamp: the API must not filter
        window = await self._within(self._scan(bound, after, since, limit), f"scanning {bound.target}")
        return [{"__key__": key, **_project(bound, record, items)} for key, record in window]

    async def freshness(self, binding: Binding) -> dt.datetime | None:
        bound = _http(binding)
        if not bound.updated_at or bound.freshness is None:
            return None
        url, stamp = bound.freshness
        answer = await self._within(self._json("GET", url), f"dating {bound.target}")
        return as_stamp(stamp.get(answer))

    async def check(self, binding: Binding) -> SourceCheck:
        """One scan row (or a GET of a key no subject has): 404 = no such resource; the bound
        paths a record lacks are named missing (no record: only existence is known)."""
        bound = _http(binding)
        return await self._within(self._check(bound), f"checking {bound.target}")

    async def close(self) -> None:
        await settle(self._abandoned, self.timeout)
        await self.client.aclose()

    # --- requests -----------------------------------------------------------------------

    async def _fetch_batches(self, bound: HTTPBinding, keys: list[str]) -> list[tuple[str, Any]]:
        batch = bound.batch
        assert batch is not None
        chunks = [keys[at : at + batch.max_keys] for at in range(0, len(keys), batch.max_keys)]
        answers = await asyncio.gather(*(self._post_batch(batch, chunk) for chunk in chunks))
        return [pair for answer in answers for pair in _keyed(bound, _rows_at(batch.rows, answer, batch.url))]

    async def _post_batch(self, batch: Batch, keys: list[str]) -> Any:
        async with self._slots:
            return await self._json("POST", batch.url, json={batch.body: keys}, retry=batch.idempotent)

    async def _fetch_each(self, bound: HTTPBinding, keys: list[str]) -> list[tuple[str, Any]]:
        records = await asyncio.gather(*(self._get_one(bound, key) for key in keys))
        return [(key, record) for key, record in zip(keys, records, strict=True) if record is not MISSING]

    async def _get_one(self, bound: HTTPBinding, key: str) -> Any:
        """The record of ``key``, or MISSING (404, or a record that names another key)."""
        assert bound.get is not None
        async with self._slots:
            answer = await self._json("GET", _fill(bound.get, key), missing_ok=True, shown=bound.get)
        record = MISSING if answer is MISSING else bound.record.find(answer)
        return record if record is not MISSING and _key_of(bound, record) == key else MISSING

    async def _scan(
        self, bound: HTTPBinding, after: str | None, since: dt.datetime | None, limit: int
    ) -> list[tuple[str, Any]]:
        """Pages of the list endpoint, each after the last key seen, until ``limit`` rows
        are found or a page brings nothing new: an API may cap its pages below ``limit``."""
        assert bound.scan is not None
        stamp = _stamp_reader(bound) if bound.updated_at else None
        found: list[tuple[str, Any]] = []
        while len(found) < limit:
            start = found[-1][0] if found else after
            params = _scan_params(bound.scan, start, since, limit - len(found))
            answer = await self._json("GET", bound.scan.url, params=params)
            pairs = _keyed(bound, _rows_at(bound.scan.rows, answer, bound.scan.url))
            page = scan_window(pairs, stamp, after=start, since=since, limit=limit - len(found))
            if not page:
                break
            found += page
        return found

    async def _check(self, bound: HTTPBinding) -> SourceCheck:
        """Not retried: a probe reports the state now (/readyz, start-up), it does not wait it out."""
        if bound.scan is not None:
            params = _scan_params(bound.scan, None, None, 1)
            answer = await self._json("GET", bound.scan.url, params=params, missing_ok=True, retry=False)
            records = [] if answer is MISSING else _rows_at(bound.scan.rows, answer, bound.scan.url)
        else:
            url = _fill(bound.get or "", "__govshare_check__")
            await self._json("GET", url, missing_ok=True, shown=bound.get, retry=False)
            answer, records = None, []
        if answer is MISSING:
            return SourceCheck(bound.target, table_exists=False)
        return SourceCheck(bound.target, True, _missing_paths(bound, records[0]) if records else ())

    async def _json(self, method: str, url: str, *, missing_ok: bool = False, shown: str | None = None,
                    retry: bool | None = None, **request: Any) -> Any:  # fmt: skip
        """The decoded JSON answer; MISSING for a 404 when ``missing_ok``. ``shown`` is what an
        error names instead of ``url`` (a template: subject codes stay out of error text).
        ``retry``: whether a failure may be repeated (default: for GET, the idempotent method)."""
        shown = shown or url
        response = await self._send(
            method, url, method == "GET" if retry is None else retry, shown, **request
        )
        if response.status_code == 404 and missing_ok:
            return MISSING
        if response.status_code >= 300:
            raise SourceUnavailable(f"{method} {shown} answered {response.status_code}{_hint(response)}")
        try:
            return json.loads(response.content)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            raise SourceUnavailable(f"{method} {shown} answered something that is not JSON") from None

    async def _send(
        self, method: str, url: str, idempotent: bool, shown: str, **request: Any
    ) -> httpx.Response:
        """One request, repeated after a transport error or a 429/502/503/504 answer when
        ``idempotent`` (RFC 9110 section 9.2.2), waiting ``backoff`` seconds doubled each time."""
        attempts = 1 + (self.retries if idempotent else 0)
        for attempt in range(attempts):
            last = attempt + 1 == attempts
            try:
                outgoing = self.client.build_request(method, "./" + url, **request)  # see _relative_url
                response = await self._bounded(outgoing, shown)
            except httpx.HTTPError as exc:
                if last:
                    raise SourceUnavailable(f"{method} {shown} failed: {type(exc).__name__}") from exc
            else:
                if last or response.status_code not in RETRY_STATUSES:
                    return response
            await asyncio.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _bounded(self, request: httpx.Request, shown: str) -> httpx.Response:
        """The response with its body read, at most ``max_bytes`` of it (decoded, so a
        compressed bomb counts at its real size): a source cannot fill the gateway's memory."""
        response = await self.client.send(request, stream=True)
        try:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > self.max_bytes:
                    raise SourceUnavailable(
                        f"{request.method} {shown} answered more than max_bytes ({self.max_bytes} bytes);"
                        " raise the connector's `max_bytes:` or lower `batch.max_keys`"
                    )
        finally:
            await response.aclose()
        response._content = bytes(body)  # httpx's own slot for a body read (Response.read)
        return response

    async def _within(self, call: Awaitable[T], what: str) -> T:
        return await within(self.timeout, call, what, self._abandoned)


# --- records --------------------------------------------------------------------------


def _http(binding: Binding) -> HTTPBinding:
    if not isinstance(binding, HTTPBinding):
        raise TypeError("a http connector reads only the bindings it made")
    return binding


def _project(bound: HTTPBinding, record: Any, items: Sequence[str]) -> Row:
    """The items of ``record``; ``SourceUnavailable`` when a path holds an object or a list:
    a row holds values, and a sub-object would carry whatever else the department put in it
    (into exports, error text). The path is named, never the value."""
    row = {item: bound.paths[item].get(record) for item in items}
    for item, value in row.items():
        if isinstance(value, dict | list):
            shape = "an object" if isinstance(value, dict) else "a list"
            raise SourceUnavailable(
                f"{bound.target}: {bound.paths[item].text} holds {shape}, not a value; map the item"
                f" to a value inside it (source.columns.{item})"
            )
    return row


def _key_of(bound: HTTPBinding, record: Any) -> str | None:
    value = bound.key_path.get(record)
    return None if value is None else str(value)


def _keyed(bound: HTTPBinding, records: list[Any]) -> list[tuple[str, Any]]:
    return [(key, record) for record in records if (key := _key_of(bound, record)) is not None]


def _rows_at(path: RecordPath, answer: Any, url: str) -> list[Any]:
    rows = path.get(answer)
    if not isinstance(rows, list):
        raise SourceUnavailable(f"{url} answered no list at {path.text}")
    return rows


def _stamp_reader(bound: HTTPBinding) -> Any:
    stamp = bound.stamp_path
    assert stamp is not None
    return lambda record: as_stamp(stamp.get(record))


def _missing_paths(bound: HTTPBinding, record: Any) -> tuple[str, ...]:
    paths = [bound.key_path, *bound.paths.values(), *([bound.stamp_path] if bound.stamp_path else [])]
    texts = dict.fromkeys(p.text for p in paths if p.find(record) is MISSING)
    return tuple(texts)


def _scan_params(scan: Scan, after: str | None, since: dt.datetime | None, limit: int) -> dict[str, str]:
    values = {"after": after, "since": since.isoformat() if since else None, "limit": str(limit)}
    return {
        scan.params[name]: value
        for name, value in values.items()
        if value is not None and name in scan.params
    }


def _fill(template: str, key: str) -> str:
    return template.replace("{key}", quote(key, safe=""))


def _hint(response: httpx.Response) -> str:
    if response.status_code in (401, 403):
        return ": the API refused govshare's credentials; check the connector's headers / auth"
    return ""


# --- settings -------------------------------------------------------------------------


def _base_url(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ConfigurationError(f"a http connector needs `base_url:` (http:// or https://), got {value!r}")
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        raise ConfigurationError(f"base_url {value!r} is not a URL: {exc}") from None
    _no_query_credential(url.query.decode(), "base_url")
    if url.userinfo:  # not echoed: it holds a password
        raise ConfigurationError(
            "base_url holds a user name and password, a credential written in the catalog; use "
            "`auth: {username: ..., password: '${DEPT_API_PASSWORD}'}` and export the variable"
        )
    return value if value.endswith("/") else value + "/"


def _number(settings: Mapping[str, Any], name: str, default: float) -> float:
    value = settings.get(name, default)
    integral = isinstance(default, int)
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or (integral and not isinstance(value, int)):
        kind = "a whole number" if integral else "a number of seconds"
        raise ConfigurationError(f"connector `{name}:` must be {kind}, got {value!r}")
    least = 1 if name in ("concurrency", "max_bytes") else 0
    if value < least:
        raise ConfigurationError(f"connector `{name}:` must be {least} or more, got {value!r}")
    return float(value)


def secret(value: Any, where: str) -> str:
    """``value`` with each ``${NAME}`` replaced by the environment variable NAME; raises
    ``ConfigurationError`` naming ``where`` and NAME when it is unset."""
    if not isinstance(value, str):
        raise ConfigurationError(f"{where} must be text, got {value!r}")

    def read(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ConfigurationError(
                f"{where} names the environment variable {name}, which is not set; export {name} "
                "before starting govshare (secrets are never written in the catalog)"
            )
        return os.environ[name]

    return _SECRET.sub(read, value)


def _headers(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"connector `headers:` must map header names to values, got {value!r}")
    for name, text in value.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise ConfigurationError(
                f"headers: {name!r} is not a header name (RFC 9110 section 5.1: letters, digits and"
                " !#$%&'*+-.^_`|~, no spaces)"
            )
        if _CREDENTIAL_HEADER.search(str(name)) and not _SECRET.search(str(text)):
            _literal_secret(f"headers.{name}")
    return {str(name): _header_value(text, f"headers.{name}") for name, text in value.items()}


def _header_value(text: Any, where: str) -> str:
    """``text`` with its secrets read; ``ConfigurationError`` when the result is no legal
    header value (RFC 9110 section 5.5): a line break would split the request, a non-ASCII
    character would fail it. The value itself is never quoted: it holds a secret."""
    value = secret(text, where)
    if not _FIELD_VALUE.fullmatch(value):
        source = ", ".join(_SECRET.findall(str(text))) or "the catalog"
        raise ConfigurationError(
            f"{where}: the value (from {source}) holds a character a header may not carry "
            "(RFC 9110 section 5.5: visible ASCII, spaces and tabs, no line break); check it"
        )
    return value


def _basic_auth(value: Any) -> httpx.BasicAuth | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) != {"username", "password"}:
        raise ConfigurationError("connector `auth:` must be {username: ..., password: '${ENV_NAME}'}")
    if not _SECRET.search(str(value["password"])):
        _literal_secret("auth.password")
    return httpx.BasicAuth(
        secret(value["username"], "auth.username"), secret(value["password"], "auth.password")
    )


def _literal_secret(where: str) -> None:
    raise ConfigurationError(
        f"{where} holds a credential written in the catalog; name an environment variable "
        "instead, e.g. 'Bearer ${DEPT_API_TOKEN}', and export it"
    )


def _template(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value.count("{key}") != 1:
        raise ConfigurationError(f"source.get must be a URL template holding {{key}} once, got {value!r}")
    return _relative_url(value, "source.get")


def _relative_url(value: Any, where: str) -> str:
    """A path under base_url (requests go to ``./path``, so that a colon in it, as in
    ``insured:batch``, is not read as a URL scheme: RFC 3986 section 4.2). An absolute URL or
    a ``..`` segment is refused: the department's credentials go with every request, and
    only to base_url."""
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{where} must be a URL relative to the connector's base_url, got {value!r}")
    path = value.lstrip("/")
    if _ABSOLUTE.match(path) or ".." in path.split("?")[0].split("/"):
        raise ConfigurationError(
            f"{where} {value!r} leaves the connector's base_url; give a path under it"
            " (e.g. deposits/records/{key}), or change base_url"
        )
    _no_query_credential(path.partition("?")[2], where)
    return path


def _no_query_credential(query: str, where: str) -> None:
    """A query parameter named as a credential (``access_token``, ``appKey``) written in the
    catalog is refused, its value not echoed: secrets come from the environment, in a header."""
    for name, _, value in (pair.partition("=") for pair in query.split("&") if pair):
        if _CREDENTIAL_HEADER.search(name) and "{key}" not in value:  # `?key={key}`: the subject
            raise ConfigurationError(
                f"{where}: the query parameter {name!r} carries a credential written in the catalog;"
                " send it in a header instead, e.g. `headers: {X-Api-Key: '${DEPT_API_KEY}'}`"
            )


def _section(value: Any, where: str, allowed: Sequence[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{where} must be a mapping with {', '.join(allowed)}, got {value!r}")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ConfigurationError(f"{where} has unknown settings {unknown}; use {', '.join(allowed)}")
    return value


def _batch(value: Any) -> Batch | None:
    if value is None:
        return None
    section = _section(value, "source.batch", ("url", "body", "rows", "max_keys", "idempotent"))
    max_keys = section.get("max_keys", 100)
    if isinstance(max_keys, bool) or not isinstance(max_keys, int) or max_keys < 1:
        raise ConfigurationError(
            f"source.batch.max_keys must be a whole number of at least 1, got {max_keys!r}"
        )
    idempotent = section.get("idempotent", False)
    if not isinstance(idempotent, bool):
        raise ConfigurationError(f"source.batch.idempotent must be true or false, got {idempotent!r}")
    body = section.get("body", "keys")
    if not isinstance(body, str) or not body:
        raise ConfigurationError(f"source.batch.body must name the JSON field of the key list, got {body!r}")
    url = _relative_url(section.get("url"), "source.batch.url")
    rows = path_setting(section.get("rows", "$"), "source.batch.rows")
    return Batch(url, body, rows, max_keys, idempotent)


def _scan(value: Any) -> Scan | None:
    if value is None:
        return None
    section = _section(value, "source.scan", ("url", "rows", "params"))
    params = section.get("params", {name: name for name in _SCAN_PARAMS})
    if not isinstance(params, Mapping) or not set(params) <= set(_SCAN_PARAMS):
        raise ConfigurationError(
            f"source.scan.params maps {', '.join(_SCAN_PARAMS)} to query parameter names, got {params!r}"
        )
    url = _relative_url(section.get("url"), "source.scan.url")
    return Scan(url, path_setting(section.get("rows", "$"), "source.scan.rows"), dict(params))


def _freshness(value: Any) -> tuple[str, RecordPath] | None:
    if value is None:
        return None
    section = _section(value, "source.freshness", ("url", "field"))
    url = _relative_url(section.get("url"), "source.freshness.url")
    return url, path_setting(section.get("field"), "source.freshness.field")
