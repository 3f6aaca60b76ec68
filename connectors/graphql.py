"""An upstream govshare gateway as a source: cascading gateways (province > city > county).

Hubei art. 9 and 12, Zhejiang art. 37 and Zhengzhou art. 6 build sharing platforms in
levels whose data flows between them. A city gateway lists a provincial department in its
catalog with ``connector: {kind: graphql, ...}`` and declares the provincial resources it
imports as resources of its own (same items, share classes and conditions as upstream):

    connector:
      kind: graphql
      url: https://gateway.hubei.gov.cn/graphql      # the upstream's GraphQL endpoint
      token_url: https://gateway.hubei.gov.cn/oauth/token   # default: url's origin + /oauth/token
      client_id: ${HUBEI_GATEWAY_CLIENT_ID}          # this gateway's OAuth client AT the upstream
      client_secret: ${HUBEI_GATEWAY_CLIENT_SECRET}  # an environment variable: never in the file
      audience: hubei-province                       # the upstream's GOVSHARE_GATEWAY_NAME
      timeout: 5
    ...
    source: {subject: organization, field: enterpriseRegistration, columns: {item: upstreamField}}

Why declared, not fetched at load: the city's schema, access plan and audit must not change
when the upstream is down or changes its catalog; ``check`` (``catalog check --sources``,
``/readyz``) asks the upstream's ``/schema.graphql`` and reports as ``misconfigured`` any
imported item the upstream does not serve (removed, renamed, or made not shared). A share
class declared looser than upstream cannot leak: every item the city lets through is decided
again upstream, on the original consumer's grants.

Each call: an access token from the upstream's ``/oauth/token`` (client credentials,
RFC 6749 §4.4; cached until shortly before it expires, fetched again after a 401), and an
``X-On-Behalf-Of`` header holding a compact JWS (RFC 7515) signed by this gateway's key over
the ORIGINAL consumer (``sub``, ``client_id``, ``user``, ``purpose``, ``application_id``),
``iss`` = this gateway's client id upstream, ``aud`` = ``audience``, ``iat``/``exp`` (60 s)
and a fresh ``jti`` (single use). The upstream verifies it against this gateway's JWKS and
decides on that consumer's grants (gateway.forwarding). The call is one query
``organizations(codes:)`` / ``persons(ids:)`` selecting only the requested items and each
entry's ``code`` / ``id`` (entries are matched to the keys by it, not by position); refusals
upstream come back per item as error values in the row (``connectors.forwarding``), with
their code (``NOT_SHARED``, ``CONDITIONAL_ACCESS_REQUIRED`` ...), never as
``SOURCE_UNAVAILABLE``; a refusal of the whole request raises that code.

Not offered: ``scan`` (a GraphQL gateway has no key-ordered listing: ``SourceUnavailable``
naming this), ``freshness`` (None: the upstream publishes no change stamp).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from graphql import GraphQLError, parse
from graphql.language import DocumentNode, FieldDefinitionNode, ObjectTypeDefinitionNode

import errors
from connectors.base import (
    DEFAULT_TIMEOUT,
    Binding,
    Connector,
    Row,
    SourceCheck,
    bind_columns,
    bound_columns,
    known_settings,
    name_setting,
    register,
    timeout_setting,
    within,
)
from connectors.forwarding import OnBehalfOf, on_behalf_of
from errors import ConfigurationError, GovshareError, SourceUnavailable

log = logging.getLogger("govshare.connectors.graphql")

ASSERTION_HEADER = "X-On-Behalf-Of"
ASSERTION_LIFETIME = 60  # seconds: long enough for clock skew, short for a captured header
TOKEN_MARGIN = 30  # seconds before expiry an access token is replaced
MAX_KEYS_PER_CALL = 200  # upstream limits: 1,000 codes per list, 25,000 result values
SUBJECTS = {
    "organization": ("organizations", "codes", "USCC", "code"),
    "person": ("persons", "ids", "CitizenID", "id"),
}
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")  # an error code shown as it is
_ENV = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_SETTINGS = {"kind", "url", "token_url", "client_id", "client_secret", "audience", "timeout"}


@dataclass(frozen=True, eq=False)
class GraphQLBinding(Binding):
    """``target`` is the upstream's resource field (``enterpriseRegistration``) under the
    ``subject`` kind's type (``organization`` / ``person``); ``columns`` item -> upstream
    item field; ``key`` the upstream field of the subject's code (checked by ``check``)."""

    subject: str = "organization"


@register
class GraphQLConnector(Connector):
    kind = "graphql"
    forwards_identity = True

    def __init__(self, url: str, token_url: str, client_id: str, client_secret: str, audience: str,
                 timeout: float = DEFAULT_TIMEOUT) -> None:  # fmt: skip
        self.url, self.token_url, self.audience = url, token_url, audience
        self.client_id, self._secret = client_id, client_secret
        self.timeout = timeout
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False)
        self._token: tuple[str, float] | None = None  # (access token, monotonic expiry)
        self._token_lock = asyncio.Lock()

    @classmethod
    def open(cls, settings: Mapping[str, Any], data_dir: Path) -> GraphQLConnector:
        unknown = sorted(set(settings) - _SETTINGS)
        if unknown:
            raise ConfigurationError(
                f"a graphql connector has no settings {unknown}; use {sorted(_SETTINGS)}"
            )
        url = _url(settings.get("url"), "url")
        default_token_url = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}/oauth/token"
        token_url = _url(settings.get("token_url") or default_token_url, "token_url")
        client_id = _from_env(settings.get("client_id"), "client_id", secret=False)
        secret = _from_env(settings.get("client_secret"), "client_secret", secret=True)
        audience = settings.get("audience")
        if not isinstance(audience, str) or not audience:
            raise ConfigurationError(
                "a graphql connector needs `audience:`, the upstream's name (its GOVSHARE_GATEWAY_NAME)"
            )
        return cls(url, token_url, client_id, secret, audience, timeout_setting(settings))

    def bind(self, source: Mapping[str, Any], items: Sequence[str], key_item: str) -> Binding:
        known_settings(source, ("subject", "field", "key", "columns", "updated_at"), "source")
        subject, field = source.get("subject"), source.get("field")
        if not isinstance(field, str) or not _NAME.match(field):
            raise ConfigurationError("a graphql source needs `field:`, the upstream resource's field name")
        if subject not in SUBJECTS:
            raise ConfigurationError("a graphql source needs `subject:` organization or person")
        bound = bind_columns(source, items, key_item)  # checks `columns:` (a mapping of names)
        named = dict(source.get("columns") or {})
        columns = {item: named.get(item, _camel(item)) for item in bound}
        key = name_setting(source, "key") or columns.get(key_item, _camel(key_item))
        return GraphQLBinding(field, key, columns, name_setting(source, "updated_at"), str(subject))

    async def fetch(self, binding: Binding, keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
        forwarded = on_behalf_of.get()
        if forwarded is None or forwarded.sign is None:
            raise SourceUnavailable(
                f"{binding.target}: an upstream gateway is read only on behalf of a consumer, and this "
                "call carries none (connectors.forwarding); it is not read as this gateway itself",
                upstream=self.url,
                unsupported="read without a consumer",
            )
        return await within(
            self.timeout, self._fetch(binding, keys, items, forwarded), f"reading {binding.target}"
        )

    async def _fetch(self, binding: Binding, keys: Sequence[str], items: Sequence[str],
                     forwarded: OnBehalfOf) -> dict[str, Row]:  # fmt: skip
        chunks = [list(keys[i : i + MAX_KEYS_PER_CALL]) for i in range(0, len(keys), MAX_KEYS_PER_CALL)]
        found = await asyncio.gather(*(self._fetch_chunk(binding, c, items, forwarded) for c in chunks))
        return {key: row for part in found for key, row in part.items()}

    async def _fetch_chunk(self, binding: Binding, keys: list[str], items: Sequence[str],
                           forwarded: OnBehalfOf) -> dict[str, Row]:  # fmt: skip
        body = {"query": _query(binding, items), "variables": {"keys": keys}}
        answer = await self._post(body, forwarded)
        refused = _refused_items(binding, items, answer, self.url)
        if not refused:
            return _rows(binding, keys, items, answer, self.url)
        # an item the upstream refuses for the whole operation (NOT_SHARED names it before
        # running): ask again without it, and give that item its refusal in every row
        rest = [item for item in items if item not in refused]
        rows = await self._fetch_chunk(binding, keys, rest, forwarded)
        return {key: {item: row.get(item, refused.get(item)) for item in items} for key, row in rows.items()}

    async def _post(self, body: dict[str, Any], forwarded: OnBehalfOf) -> dict[str, Any]:
        for attempt in (1, 2):  # a second time only after a 401: the token expired or keys rotated
            headers = {"Authorization": f"Bearer {await self._access_token()}",
                       ASSERTION_HEADER: self._assertion(forwarded), "X-Voucher": "off",
                       "Accept": "application/graphql-response+json"}  # fmt: skip
            response = await self._send("POST", self.url, json=body, headers=headers)
            if response.status_code == 401 and attempt == 1:
                self._token = None
                continue
            return _answer(response, self.url)
        raise AssertionError("unreachable")

    def _assertion(self, forwarded: OnBehalfOf) -> str:
        now = int(time.time())
        claims = {"iss": self.client_id, "aud": self.audience, "sub": forwarded.department,
                  "client_id": forwarded.client_id, "user": forwarded.user, "purpose": forwarded.purpose,
                  "application_id": forwarded.application_id, "iat": now, "exp": now + ASSERTION_LIFETIME,
                  "jti": uuid.uuid4().hex}  # fmt: skip
        assert forwarded.sign is not None
        return forwarded.sign({k: v for k, v in claims.items() if v is not None})

    async def _access_token(self) -> str:
        async with self._token_lock:  # one token request, however many calls wait for it
            if self._token is None or self._token[1] - TOKEN_MARGIN <= time.monotonic():
                self._token = await self._new_token()
            return self._token[0]

    async def _new_token(self) -> tuple[str, float]:
        form = {"grant_type": "client_credentials"}
        response = await self._send("POST", self.token_url, data=form, auth=(self.client_id, self._secret))
        if response.status_code != 200:
            raise SourceUnavailable(
                f"the upstream gateway's token endpoint refused this gateway's client "
                f"({response.status_code} {_oauth_error(response)}); check client_id and client_secret",
                upstream=self.url,
            )
        try:
            grant = response.json()
            return str(grant["access_token"]), time.monotonic() + float(grant.get("expires_in", 60))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SourceUnavailable("the upstream gateway's token endpoint answered no access token",
                                    upstream=self.url) from exc  # fmt: skip

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise SourceUnavailable(f"the upstream gateway did not answer ({type(exc).__name__})",
                                    upstream=self.url) from exc  # fmt: skip

    async def scan(self, binding: Binding, items: Sequence[str], *, after: str | None = None,
                   since: dt.datetime | None = None, limit: int = 1000) -> list[Row]:  # fmt: skip
        raise SourceUnavailable(
            f"{binding.target}: an upstream gateway offers no key-ordered scan over GraphQL; bulk "
            "copies are made at the upstream (its export), not through a graphql connector",
            upstream=self.url,
            unsupported="scan",
        )

    async def freshness(self, binding: Binding) -> dt.datetime | None:
        return None  # the upstream publishes no change stamp; its update cycle is in its SDL

    async def check(self, binding: Binding) -> SourceCheck:
        """The upstream's SDL (``GET /schema.graphql``, with this gateway's own token) must serve
        the subject field, the resource field under it and every bound item field."""
        return await within(self.timeout, self._check(binding), f"checking {binding.target}")

    async def _check(self, binding: Binding) -> SourceCheck:
        sdl_url = self.url.rsplit("/", 1)[0] + "/schema.graphql"
        headers = {"Authorization": f"Bearer {await self._access_token()}"}
        response = await self._send("GET", sdl_url, headers=headers)
        if response.status_code != 200:
            status = response.status_code
            raise SourceUnavailable(f"the upstream gateway's schema could not be read ({status})",
                                    upstream=self.url)  # fmt: skip
        return _check_sdl(binding, response.text)

    async def close(self) -> None:
        await self.http.aclose()


# --- settings ---------------------------------------------------------------------------------

_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]*$")


def _url(value: Any, name: str) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"a graphql connector's `{name}:` must be an http(s) URL, got {value!r}")
    return str(value)


def _from_env(value: Any, name: str, *, secret: bool) -> str:
    """``${NAME}`` read from the environment; a secret may not be written in the catalog."""
    match = _ENV.match(value) if isinstance(value, str) else None
    if match is None:
        if secret or not isinstance(value, str) or not value:
            raise ConfigurationError(
                f"a graphql connector's `{name}:` must name an environment variable as ${{NAME}}"
                + (" (a secret is never written in the catalog)" if secret else " or be the text itself")
            )
        return value
    found = os.environ.get(match.group(1))
    if not found:
        raise ConfigurationError(
            f"`{name}:` names the environment variable {match.group(1)}, which is not set"
        )
    return found


def _camel(name: str) -> str:
    """An item's field name upstream, as govshare names it (policies.catalog.camel)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


# --- the query and its answer -----------------------------------------------------------------


def _query(binding: Binding, items: Sequence[str]) -> str:
    """``query($keys: [USCC!]!) { s: organizations(codes: $keys) { k: code r: field { item ... } } }``
    selecting exactly the items asked for (``__typename`` when none, to learn existence), and
    each entry's own code (``k``): entries are matched to the keys by it, never by position."""
    listing, argument, scalar, code = SUBJECTS[_subject(binding)]
    fields = " ".join(f"{item}: {binding.columns[item]}" for item in items) or "__typename"
    return (f"query GovshareForward($keys: [{scalar}!]!) {{ s: {listing}({argument}: $keys) "
            f"{{ k: {code} r: {binding.target} {{ {fields} }} }} }}")  # fmt: skip


def _answer(response: httpx.Response, url: str) -> dict[str, Any]:
    """The GraphQL response body. ``SourceUnavailable`` for anything not a GraphQL response
    and for a refusal of THIS gateway rather than of the consumer: its credentials or its
    forwarding (401, or an error naming the X-On-Behalf-Of header: not trusted to forward),
    which the consumer can do nothing about."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
        raise SourceUnavailable(f"the upstream gateway answered {response.status_code} without a GraphQL "
                                "response", upstream=url)  # fmt: skip
    if response.status_code == 401 or _names_forwarding(body):
        raise SourceUnavailable(f"the upstream gateway refused this gateway's credentials or forwarded "
                                f"identity: {_first_message(body)}", upstream=url)  # fmt: skip
    return body


def _names_forwarding(body: dict[str, Any]) -> bool:
    found = body.get("errors") or []
    return any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("header") == ASSERTION_HEADER for e in found
    )


def _rows(binding: Binding, keys: list[str], items: Sequence[str], body: dict[str, Any],
          url: str) -> dict[str, Row]:  # fmt: skip
    """Rows by key from ``data.s[i].r``; each upstream error at ``s[i]`` / ``s[i].r`` /
    ``s[i].r.item`` becomes that row's item values, kept with its code."""
    listing = (body.get("data") or {}).get("s")
    if not isinstance(listing, list):  # the whole operation was refused upstream: its code
        raise _whole_refusal(body, url)
    refusals = _refusals_by_path(body.get("errors") or [], url)
    rows: dict[str, Row] = {}
    for index, key in _entry_keys(keys, listing).items():
        subject = listing[index]
        record = subject.get("r") if isinstance(subject, dict) else None
        record = record if isinstance(record, dict) else None
        for_row = refusals.get((index, None))
        if record is None and for_row is None:
            continue  # no such subject (or no row of this resource) upstream
        record = record or {}
        rows[key] = {item: _value(refusals.get((index, item)) or for_row, record, item) for item in items}
    return rows


def _entry_keys(keys: list[str], listing: list[Any]) -> dict[int, str]:
    """Index of an answer entry -> the key it answers. An entry naming its code (``k``)
    answers that key if it was asked (an upstream answering other subjects, more than asked
    or in another order must not pass one subject's row for another's); a null entry (no
    such subject, or refused whole) answers the key at its position only when every entry
    naming a code stands at its own key's position, first answer per key."""
    named = {i: e["k"] for i, e in enumerate(listing) if isinstance(e, dict) and isinstance(e.get("k"), str)}
    in_order = all(i < len(keys) and keys[i] == k for i, k in named.items())
    asked, found, answered = set(keys), dict[int, str](), set[str]()
    for index in range(len(listing)):
        key = named.get(index, keys[index] if in_order and index < len(keys) else None)
        if key in asked and key not in answered:
            found[index] = key
            answered.add(key)
    return found


def _value(refusal: GovshareError | None, record: dict[str, Any], item: str) -> Any:
    return refusal if refusal is not None else record.get(item)


def _refusals_by_path(found: list[Any], url: str) -> dict[tuple[int, str | None], GovshareError]:
    refusals: dict[tuple[int, str | None], GovshareError] = {}
    for error in found:
        path = error.get("path") if isinstance(error, dict) else None
        if not isinstance(path, list) or len(path) < 2 or not isinstance(path[1], int):
            continue
        item = path[3] if len(path) > 3 and isinstance(path[3], str) else None
        refusals[(path[1], item)] = _local_error(error, url)
    return refusals


def _refused_items(binding: Binding, items: Sequence[str], body: dict[str, Any],
                   url: str) -> dict[str, GovshareError]:  # fmt: skip
    """Requested items an upstream refused before running (no data; each error's ``field``
    names the upstream field, as govshare's NOT_SHARED does): item -> its refusal."""
    if (body.get("data") or {}).get("s") is not None:
        return {}
    by_field = {binding.columns[item]: item for item in items}
    refused: dict[str, GovshareError] = {}
    for error in body.get("errors") or []:
        found = error.get("extensions") if isinstance(error, dict) else None
        field = found.get("field") if isinstance(found, dict) else None
        refusal = _local_error(error, url) if isinstance(field, str) and field in by_field else None
        if isinstance(refusal, errors.AccessDenied):
            refused[by_field[str(field)]] = refusal
    return refused


def _whole_refusal(body: dict[str, Any], url: str) -> GovshareError:
    found = [e for e in body.get("errors") or [] if isinstance(e, dict)]
    if not found:
        return SourceUnavailable("the upstream gateway answered no data and no error", upstream=url)
    return _local_error(found[0], url, in_row=False)  # raised: for the log, never shown as is


# Codes an upstream refusal keeps: the consumer's own remedy is the same at every level
_KEPT = (errors.AccessDenied, errors.RateLimited, errors.SourceUnavailable, errors.PurposeRequired)


def _local_error(error: dict[str, Any], url: str, *, in_row: bool = True) -> GovshareError:
    """An upstream GraphQL error as the same govshare error here: its code and plain
    extensions kept (``upstream`` added), message prefixed. An unknown or internal code is
    ``SOURCE_UNAVAILABLE``; ``in_row`` (an item value, shown to the consumer as it is) it
    carries none of the upstream's text or extensions (an endpoint's internal errors may name
    hosts, accounts, SQL, stack traces), only ``upstream_code``, the text logged for the
    operator. Raised (a whole refusal) it keeps the text for the log: the consumer is told
    only that the department's source is unavailable (resolvers.subjects)."""
    found = error.get("extensions")
    extensions: dict[str, Any] = found if isinstance(found, dict) else {}
    code = extensions.get("code")
    text = str(error.get("message", ""))[:500]
    message = f"upstream gateway: {text}"
    detail = {k: v for k, v in extensions.items() if k != "code" and isinstance(v, str | int | bool | list)}
    renamed = ("resource", "item", "field", "provider", "providerName")  # the upstream's names for them
    detail = {f"upstream_{k}" if k in renamed else k: v for k, v in detail.items()}
    cls = _ERROR_CLASSES.get(code) if isinstance(code, str) else None
    if cls is None and not in_row:
        return SourceUnavailable(f"{message} (code {code!r})", upstream=url)
    if cls is None:  # the upstream's own failure: its text (addresses, accounts, SQL) is not the consumer's
        log.warning("upstream gateway %s answered an error of code %r: %r", url, code, text)
        shown = {"upstream_code": code} if isinstance(code, str) and _CODE.match(code) else {}
        return SourceUnavailable(
            "upstream gateway: failed with an error that has no equivalent here (its text is in "
            "this gateway's log)",
            upstream=url,
            **shown,
        )
    return cls(message, **{**detail, "upstream": url})


def _error_classes() -> dict[str, type[GovshareError]]:
    found: dict[str, type[GovshareError]] = {}
    pending: list[type[GovshareError]] = list(_KEPT)
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        concrete = cls.code != GovshareError.code and cls.__init__ is GovshareError.__init__
        if concrete and cls.code not in found:
            found[cls.code] = cls
    return found


_ERROR_CLASSES = _error_classes()


def _first_message(body: dict[str, Any]) -> str:
    found = body.get("errors") or [{}]
    return str(found[0].get("message", "no message") if isinstance(found[0], dict) else found[0])[:300]


def _oauth_error(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", ""))
    except ValueError:
        return ""


# --- check against the upstream SDL -----------------------------------------------------------


def _check_sdl(binding: Binding, sdl: str) -> SourceCheck:
    try:
        document = parse(sdl)
    except GraphQLError as exc:
        raise SourceUnavailable(f"the upstream gateway's schema does not parse: {exc.message}") from exc
    types = _object_types(document)
    subject = _subject(binding)
    subject_type = subject[:1].upper() + subject[1:]
    resource = _field(types.get(subject_type), binding.target)
    if resource is None:  # the "table" is the resource's field under the subject's type
        return SourceCheck(binding.target, table_exists=False)
    type_name = _named(resource)
    present = {f.name.value for f in types[type_name].fields or ()} if type_name in types else set()
    missing = tuple(column for column in bound_columns(binding) if column not in present)
    return SourceCheck(binding.target, True, missing)


def _subject(binding: Binding) -> str:
    if not isinstance(binding, GraphQLBinding):
        raise ConfigurationError("a graphql source must be bound by GraphQLConnector.bind")
    return binding.subject


def _object_types(document: DocumentNode) -> dict[str, ObjectTypeDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, ObjectTypeDefinitionNode)}


def _field(node: ObjectTypeDefinitionNode | None, name: str) -> FieldDefinitionNode | None:
    return next((f for f in (node.fields or ()) if f.name.value == name), None) if node else None


def _named(field: FieldDefinitionNode) -> str:
    kind: Any = field.type
    while hasattr(kind, "type"):
        kind = kind.type
    return str(kind.name.value)
