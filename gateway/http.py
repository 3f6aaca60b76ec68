"""GraphQL over HTTP: POST and GET, ``application/graphql-response+json``, orjson.

Every request but the GraphiQL page needs a bearer token. Errors are shaped from the
error hierarchy: the message, and ``extensions`` with ``code`` and detail. Anything
unexpected is logged and answered as ``INTERNAL`` without its text, so no stored value
can leak through an exception message.
"""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import orjson
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from strawberry.exceptions import MissingQueryError
from strawberry.printer import print_schema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from errors import (
    AuditUnavailable,
    BadRequest,
    GovshareError,
    InvalidHeader,
    OperationNotSelected,
    RequestTooLarge,
    UnsupportedMediaType,
    root_cause,
    shown,
)
from gateway import evidence, graphiql
from gateway.audit import AuditEvent, canonical_json, digest
from gateway.auth import bearer_token, issued_here, voucher_keys
from gateway.evidence import must_record, own_errors, query_event, refusals, touches_data
from gateway.json_body import refuse_duplicate_keys
from gateway.metrics_endpoint import note_answer
from gateway.oversight import readyz_late
from gateway.sourcehealth import SourceHealth, platform_state
from gateway.vouchers import VOUCHER_KEY, answer_of, issue_voucher
from policies.decision import Consumer, canonical_purpose
from policies.forwarding import check_forwardable
from resolvers.context import RequestContext
from resolvers.limits import OperationLimits, check_variable_values, too_complex

if TYPE_CHECKING:
    from gateway.app import Gateway

log = logging.getLogger("govshare.http")
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
_READ_METHODS = ("GET", "HEAD")  # query parameters, queries only
_QUERIES_ONLY = frozenset({OperationType.QUERY})
_ALL_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})


class JSONResponse(Response):
    """orjson-encoded; never stored by a cache on the way (answers carry personal data)."""

    def __init__(self, content: Any, status_code: int = 200, media_type: str = JSON) -> None:
        super().__init__(orjson.dumps(content), status_code, {"Cache-Control": "no-store"}, media_type)


def gateway_of(request: Request) -> Gateway:
    """The gateway as this request found it (``gateway.catalog_swap.PinnedGateway``): one
    catalog, federation and schema for the whole request, whatever a swap does meanwhile."""
    pinned = getattr(request.state, "gateway", None)
    return pinned if pinned is not None else request.app.state.gateway  # type: ignore[no-any-return]


async def authenticate(request: Request) -> Consumer:
    """The caller of a request, from its bearer token (the gateway's own or a trusted issuer's).

    Raises ``InvalidHeader`` (400) for an Authorization value with control characters,
    ``Unauthenticated`` (401) for a missing or refused token."""
    token = bearer_token(header_value(request.headers, "authorization"))
    consumer = await gateway_of(request).authenticator.authenticate(token)
    request.state.consumer = consumer  # for the request log line
    return consumer


@dataclass(frozen=True)
class Answer:
    """One operation's answer: the body, its status under application/graphql-response+json,
    and whether it is a failure of the HTTP request itself (then that status holds under
    every media type: GraphQL over HTTP, "Status codes" of a request that is not well-formed)."""

    body: dict[str, Any]
    status: int
    request_error: bool = False


# Headers read for a GraphQL request besides Authorization and Accept: checked before use
_REQUEST_HEADERS = ("content-type", "x-purpose", "x-request-user", "x-application-id",
                    "x-reject-unauthorized", "x-voucher")  # fmt: skip
_PERCENT_ENCODED = frozenset({"x-purpose", "x-request-user"})


async def graphql_endpoint(request: Request) -> Response:
    try:
        header_value(request.headers, "accept")
    except InvalidHeader as exc:  # refused before the media type is known, but audited
        await _audit_unreadable_accept(request, exc)
        return _refused(exc, JSON)
    if request.method == "GET" and _wants_html(request):
        return graphiql.graphiql_page(request)
    media = response_media_type(request.headers.get("accept"))
    try:
        consumer = await authenticate(request)  # without a caller nothing is audited (gateway.evidence)
    except GovshareError as exc:
        return _refused(exc, media)
    try:
        for name in _REQUEST_HEADERS:
            header_value(request.headers, name)
        await _forwarded(request, consumer)  # a downstream gateway reading for its consumer
        params = await _read_params(request)
    except GovshareError as exc:  # a refused request: recorded like any other refusal
        await _audit_refusal(request, consumer, exc)
        return _refused(exc, media)
    if isinstance(params, list):  # a batch: each operation is decided, fetched and answered alone
        answers = [await _execute(request, consumer, one) for one in params]
        return JSONResponse([answer.body for answer in answers], 200, media)
    answer = await _execute(request, consumer, params)
    # application/json answers 200 for any GraphQL response; request errors keep their 4xx
    legacy_ok = media == JSON and not answer.request_error
    status = 200 if legacy_ok else answer.status
    response = JSONResponse(answer.body, status, media)
    if status == 405:  # RFC 9110 section 15.5.6: a 405 MUST name the methods that would work
        response.headers["Allow"] = "POST"
    return response


def response_media_type(accept: str | None) -> str:
    """The media type to answer in: ``application/graphql-response+json`` when the ``Accept``
    header (RFC 9110 section 12.5.1) names it with a quality above 0 and at least that of
    ``application/json``; otherwise ``application/json`` (also for no header, wildcards only
    or only unsupported types: GraphQL over HTTP lets a server answer that then).

    GraphQL over HTTP, "Accept": the server MUST respect the highest-priority supported type."""
    quality = {GRAPHQL_RESPONSE: 0.0, JSON: 0.0}
    for member in (accept or "").split(","):
        media, *parameters = member.split(";")
        name = media.strip().lower()
        if name in quality:
            quality[name] = max(quality[name], _quality(parameters))
    best = quality[GRAPHQL_RESPONSE]
    return GRAPHQL_RESPONSE if best > 0 and best >= quality[JSON] else JSON


def _quality(parameters: list[str]) -> float:
    """The ``q`` weight of one Accept member (RFC 9110 section 12.4.2: 0 to 1, default 1);
    a malformed weight counts as 1, as if absent."""
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "q":
            try:
                weight = float(value.strip())
            except ValueError:
                return 1.0
            return weight if 0.0 <= weight <= 1.0 else 1.0
    return 1.0


def _refused(exc: GovshareError, media: str) -> Response:
    return JSONResponse({"errors": [_error_dict(exc.message, exc.extensions)]}, exc.status, media)


async def _execute(request: Request, consumer: Consumer, params: dict[str, Any]) -> Answer:
    gateway = gateway_of(request)
    allowed = _QUERIES_ONLY if request.method in _READ_METHODS else _ALL_OPERATIONS
    context = _context(request, gateway, consumer)
    try:
        result = await gateway.schema.execute(
            params["query"],
            variable_values=params.get("variables"),
            context_value=context,
            operation_name=params.get("operationName"),
            allowed_operation_types=allowed,
        )
    except InvalidOperationTypeError as exc:
        if request.method in _READ_METHODS:  # GraphQL over HTTP: a mutation by GET (or HEAD) is 405
            return await _failure(request, consumer, "only queries may be sent with GET; use POST", 405)
        # only a subscription gets here by POST: subscriptions run over WebSocket (gateway.sockets)
        message = (
            f"{exc.operation_type.value} operations are served over WebSocket (graphql-transport-ws) on "
            "this path; send a query or a mutation by POST"
        )
        return await _failure(request, consumer, message, 400)
    except MissingQueryError:
        return await _failure(request, consumer, "no query given", 400)
    except CannotGetOperationTypeError:
        name = params.get("operationName")
        message = f"the document has no operation named {shown(name)}; fix operationName"
        return await _failure(request, consumer, message, 400)
    if context.reject_unauthorized and result.data is not None and refusals(result.errors or []):
        # all or nothing: a refusal found while running (a subject out of scope, a cap) withdraws it all
        result = ExecutionResult(data=None, errors=result.errors, extensions=result.extensions)
    # a request that failed before execution (parse, validation, variables) has no data entry
    # (GraphQL spec 7.1.2 "Data": not present if an error was raised before execution began)
    body: dict[str, Any] = {} if isinstance(result, PreExecutionError) else {"data": result.data}
    if result.errors:
        body["errors"] = [format_error(e) for e in result.errors]
    if result.extensions:
        body["extensions"] = result.extensions
    answered = result.data is not None
    if gateway.audit is not None and must_record(context, own_errors(context, result.errors or []), answered):
        try:
            await _audit_answer(request, gateway, context, body, params.get("operationName"), result)
        except AuditUnavailable as exc:
            if answered:  # fail closed: nothing leaves unaudited
                failed = {"data": None, "errors": [_error_dict(exc.message, exc.extensions)]}
                return Answer(failed, exc.status)
            log.error("a refused request could not be recorded: %s", exc.message)  # it releases nothing
    not_selected = any(isinstance(root_cause(e), OperationNotSelected) for e in result.errors or ())
    note_answer(request, body, context.operation)  # its outcome for /metrics (gateway.metrics_endpoint)
    return Answer(body, _status(result.data, result.errors), request_error=not_selected)


async def _audit_answer(
    request: Request,
    gateway: Gateway,
    context: RequestContext,
    body: dict[str, Any],
    operation: str | None,
    result: ExecutionResult,
) -> None:
    """Record the answer durably (with its KEYED digest: others read the event), then, if it
    touched data and the client does not opt out, attach its voucher (with the plain
    digest: the consumer's own proof, README "Vouchers")."""
    assert gateway.audit is not None
    errors = own_errors(context, result.errors or [])
    answer = canonical_json(answer_of(body))  # encoded once for both digests
    keyed = gateway.audit.keyed_digest(answer)
    event = query_event(context, errors, keyed, operation, result.data is not None)
    receipt = await gateway.audit.append(event)
    wanted = (header_value(request.headers, "x-voucher") or "").lower() not in ("off", "false", "none")
    if wanted and touches_data(context, errors):
        voucher = issue_voucher(gateway.signer, receipt, context.consumer.department, digest(answer))
        body.setdefault("extensions", {})[VOUCHER_KEY] = voucher


async def _audit_refusal(request: Request, consumer: Consumer, error: GovshareError) -> None:
    """A request refused before it ran (a header, the body, the method, the operation):
    an event with the refusal code (gateway.evidence), answered even if it cannot be stored.

    A refused header's value is not recorded (it is what could not be stored or shown
    safely); the request's other identifying headers are, when they are valid."""
    await evidence.record_refusal(gateway_of(request).audit, refused_event(request, consumer, error))


def refused_event(request: Request, consumer: Consumer, error: GovshareError) -> AuditEvent:
    """The event of a request refused as a whole, with its identifying headers where they are
    valid (a refused header's value is never recorded); for every endpoint (GraphQL, compare)."""
    headers = request.headers
    return evidence.refused_request(
        consumer,
        error,
        purpose=_purpose(_valid_or_none(headers, "x-purpose")),
        user=_valid_or_none(headers, "x-request-user"),
        application=_valid_or_none(headers, "x-application-id"),
    )


async def _audit_unreadable_accept(request: Request, error: InvalidHeader) -> None:
    """An Accept header that cannot be read refuses the request before anything else; when
    its caller can be authenticated, that refusal is an event like any other (issue 7 item
    12). A caller that cannot be is not (gateway.evidence): the 400 stands either way."""
    try:
        consumer = await authenticate(request)
    except GovshareError:
        return
    await _audit_refusal(request, consumer, error)


def _valid_or_none(headers: Mapping[str, str], name: str) -> str | None:
    try:
        return header_value(headers, name)
    except InvalidHeader:
        return None


async def _failure(request: Request, consumer: Consumer, message: str, status: int) -> Answer:
    """A request refused before execution: recorded (gateway.evidence), then answered."""
    error = BadRequest(message)
    await _audit_refusal(request, consumer, error)
    return Answer({"errors": [_error_dict(message, error.extensions)]}, status, request_error=True)


_FORWARDED_HEADERS = ("x-purpose", "x-request-user", "x-application-id")


async def _forwarded(request: Request, caller: Consumer) -> None:
    """Verify ``X-On-Behalf-Of`` (gateway.forwarding) and keep the forwarded request on
    ``request.state.forwarded``; the assertion carries purpose, user and application id, so
    the headers naming them must be absent (one source of truth for the audit trail)."""
    assertion = header_value(request.headers, "x-on-behalf-of")
    if assertion is None:
        return
    verifier = gateway_of(request).forwarding
    if verifier is None:
        raise AssertionError("Gateway.start makes a ForwardingVerifier")
    token = bearer_token(header_value(request.headers, "authorization"))
    forwarded = await verifier.verify(caller, assertion, issued_here=issued_here(token))
    doubled = [name for name in _FORWARDED_HEADERS if request.headers.get(name) is not None]
    if doubled:
        raise BadRequest(
            f"a forwarded request carries purpose, user and application id in X-On-Behalf-Of; "
            f"drop {', '.join(_display(n) for n in doubled)}",
            header=_display(doubled[0]),
        )
    request.state.forwarded = forwarded


def refuse_forwarding(request: Request) -> None:
    """Raise ``BadRequest`` naming ``X-On-Behalf-Of`` on an endpoint that does not read it
    (``/export``, ``/compare``): ignored, the request would be decided for the caller itself,
    and a downstream gateway meaning to act for its consumer would lend it its own grants."""
    if request.headers.get("x-on-behalf-of") is not None:
        raise BadRequest(
            "X-On-Behalf-Of is read on /graphql only: this request would be decided for your own "
            "client's grants; drop the header, or read through /graphql",
            header="X-On-Behalf-Of",
        )


def _context(request: Request, gateway: Gateway, consumer: Consumer) -> RequestContext:
    forwarded = getattr(request.state, "forwarded", None)
    if forwarded is not None:  # decided and audited for the ORIGINAL consumer
        return RequestContext(
            federation=gateway.federation,
            consumer=forwarded.consumer,
            purpose=forwarded.purpose,
            request_user=forwarded.user,
            application_id=forwarded.application_id,
            reject_unauthorized=_all_or_nothing(request),
            extra={"via": forwarded.audit_detail()},
        )
    headers = request.headers
    return RequestContext(
        federation=gateway.federation,
        consumer=consumer,
        purpose=_purpose(header_value(headers, "x-purpose")),
        request_user=header_value(headers, "x-request-user"),
        application_id=header_value(headers, "x-application-id"),
        reject_unauthorized=_all_or_nothing(request),
        sent_in_url=request.method in _READ_METHODS,
    )


def _all_or_nothing(request: Request) -> bool:
    return (header_value(request.headers, "x-reject-unauthorized") or "").lower() == "true"


def _purpose(text: str | None) -> str | None:
    """X-Purpose as the policy compares it and the audit trail stores it (canonical_purpose)."""
    return None if text is None else canonical_purpose(text)


# Characters no header value the gateway reads may hold, raw or percent-decoded: controls
# (RFC 9110 section 5.5 allows only visible characters, space and tab), format characters
# (invisible, e.g. bidi overrides that disguise a purpose in audit views), lone surrogates
# and line/paragraph separators (they split log lines).
_FORBIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """The header's text, stripped, or None when absent.

    Headers are Latin-1 on the wire: raw UTF-8 (curl) is decoded; X-Purpose and
    X-Request-User may also be percent-encoded UTF-8 (browsers send only Latin-1).
    Raises ``InvalidHeader`` (400) naming the header for a control or format character
    (tab allowed, RFC 9110 section 5.5), raw octets or percent-encoding that are not UTF-8."""
    value = headers.get(name)
    if value is None:
        return None
    value = _utf8(name, value)
    _require_visible(name, value)
    if name in _PERCENT_ENCODED:
        try:
            value = unquote(value, errors="strict")
        except UnicodeDecodeError as exc:
            raise InvalidHeader(
                f"the {_display(name)} header is percent-encoded but not as UTF-8; encode the text "
                "as UTF-8 before percent-encoding it",
                header=_display(name),
            ) from exc
        _require_visible(name, value)
    if name in _FORWARDED_HEADERS:  # carried upstream in a forwarding assertion
        check_forwardable(_display(name), value.strip(), purpose=name == "x-purpose")
    return value.strip()


def _utf8(name: str, value: str) -> str:
    """The header's octets (Starlette hands them over Latin-1 decoded) read as UTF-8.
    Octets that are not UTF-8 (GBK, Latin-1 ...) are refused, never guessed: read as
    Latin-1 they would be matched and stored as mojibake. Raises ``InvalidHeader``."""
    if value.isascii():  # the common case: ASCII is UTF-8 as it is
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError as exc:
        raise InvalidHeader(
            f"the {_display(name)} header is not UTF-8 (e.g. GBK or Latin-1); send it as UTF-8, "
            "or percent-encode its UTF-8 bytes",
            header=_display(name),
        ) from exc


def _require_visible(name: str, value: str) -> None:
    if value.isprintable():  # the common case, at C speed: no Cc, Cf, Cs, Zl or Zp inside
        return
    bad = next((c for c in value if c != "\t" and unicodedata.category(c) in _FORBIDDEN), None)
    if bad is not None:
        raise InvalidHeader(
            f"the {_display(name)} header holds a control or format character (U+{ord(bad):04X}, "
            f"{unicodedata.category(bad)}) at position {value.index(bad) + 1}; send visible text only",
            header=_display(name),
        )


def _display(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and "query" not in request.query_params


async def _read_params(request: Request) -> dict[str, Any] | list[dict[str, Any]]:
    if request.method in _READ_METHODS:  # HEAD is GET without the body (RFC 9110 section 9.3.2)
        params = _get_params(request.query_params)
        limits = gateway_of(request).settings.limits
        check_variable_values([params], limits.max_variable_values, limits.max_depth)
        for name in ("variables", "extensions"):
            if name in request.query_params:
                refuse_duplicate_keys(request.query_params[name], f"{name}.")
        return params
    _require_json(header_value(request.headers, "content-type"))
    limits = gateway_of(request).settings.limits
    body = await read_body(request, limits.max_body_bytes)
    try:
        params = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from exc
    checked = _check_batch(params, limits) if isinstance(params, list) else _check_params(params)
    operations = checked if isinstance(checked, list) else [checked]
    check_variable_values(operations, limits.max_variable_values, limits.max_depth)
    refuse_duplicate_keys(body)  # e.g. a compare claim twice in a variable: which was used?
    return checked


def _require_json(content_type: str | None) -> None:
    """GraphQL over HTTP, "POST request": the body is ``application/json``; media type
    parameters are allowed (RFC 9110 section 8.3.1), but a charset must be UTF-8 (the
    only encoding of JSON, RFC 8259 section 8.1). Raises ``UnsupportedMediaType`` (415)."""
    media, *parameters = (content_type or "").split(";")
    fix = "send the request as JSON: Content-Type: application/json"
    if media.strip().lower() != JSON:
        raise UnsupportedMediaType(f"unsupported Content-Type {shown(content_type)}; {fix}")
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(f"unsupported charset in {shown(content_type)}; JSON is UTF-8: {fix}")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused (``RequestTooLarge``, 413) as soon as it passes ``limit`` bytes:
    by its Content-Length before reading, and while reading a chunked or lying body."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit, int(declared))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit, None)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int, found: int | None) -> RequestTooLarge:
    refusal = too_complex("max_body_bytes", limit, "bytes in the request body", found)
    return RequestTooLarge(refusal.message, **{k: v for k, v in refusal.extensions.items() if k != "code"})


def _check_batch(params: list[Any], limits: OperationLimits) -> list[dict[str, Any]]:
    if not params:
        raise BadRequest("a batch holds at least one operation")
    if len(params) > limits.max_batch:
        raise too_complex("max_batch", limits.max_batch, "operations in the batch", len(params))
    return [_check_params(one) for one in params]


def _get_params(query: Mapping[str, str]) -> dict[str, Any]:
    params: dict[str, Any] = dict(query)
    for name in ("variables", "extensions"):
        if name in params:
            try:
                params[name] = orjson.loads(params[name])
            except orjson.JSONDecodeError as exc:
                raise BadRequest(f"the {name} parameter is not valid JSON: {exc}") from exc
    return _check_params(params)


def _check_params(params: Any) -> dict[str, Any]:
    """GraphQL over HTTP, "Request parameters": query a string; operationName a string
    or null; variables and extensions a map (JSON object) or null. Raises ``BadRequest``."""
    if not isinstance(params, dict) or not isinstance(params.get("query"), str):
        raise BadRequest('send {"query": "...", "variables": {...}}: the query must be a string')
    if params.get("operationName") is not None and not isinstance(params["operationName"], str):
        raise BadRequest("operationName must be a string (the name of one operation of the document)")
    for name in ("variables", "extensions"):
        if params.get(name) is not None and not isinstance(params[name], dict):
            raise BadRequest(f"{name} must be a JSON object")
    return params


def _status(data: Any, errors: list[GraphQLError] | None) -> int:
    """Under graphql-response+json a request that produced no data is a client error."""
    if data is not None or not errors:
        return 200
    cause = root_cause(errors[0])
    if isinstance(cause, GovshareError):
        return cause.status
    return 400 if isinstance(cause, GraphQLError) else 500


def format_error(error: GraphQLError) -> dict[str, Any]:
    cause = root_cause(error)
    if isinstance(cause, GovshareError):
        extensions = cause.extensions
    elif isinstance(cause, GraphQLError):
        extensions = {"code": "BAD_REQUEST"}  # syntax, validation, variable coercion
    else:
        log.error("unexpected error in %s", error.path, exc_info=cause)
        return _error_dict("internal error; the incident is logged", {"code": "INTERNAL"}, error)
    return _error_dict(error.message, extensions, error)


def _error_dict(
    message: str, extensions: Mapping[str, Any], error: GraphQLError | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"message": message}
    if error is not None and error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error is not None and error.path:
        out["path"] = error.path
    out["extensions"] = dict(extensions)
    return out


async def schema_sdl(request: Request) -> Response:
    try:
        await authenticate(request)
    except GovshareError as exc:
        return JSONResponse({"errors": [_error_dict(exc.message, exc.extensions)]}, exc.status)
    return PlainTextResponse(print_schema(gateway_of(request).schema) + "\n")


async def jwks(request: Request) -> Response:
    return JSONResponse(gateway_of(request).signer.jwks())


async def voucher_jwks(request: Request) -> Response:
    """Keys to check vouchers with, including keys retired from signing tokens."""
    return JSONResponse(voucher_keys(gateway_of(request).settings.data_dir))


async def readyz(request: Request) -> Response:
    """Ready to serve, each source's state, and what an operator should know (e.g. deadlines
    counted Monday-Friday). ``status``: ``ready`` (200) when every source has its tables and
    columns; ``degraded`` (200) when some source does not answer (its fields are
    SOURCE_UNAVAILABLE, the rest is served); ``not_ready`` (503) when a source lacks a bound
    table or column, a configuration error that no retry cures."""
    gateway = gateway_of(request)
    workflow = gateway.federation.workflow
    warnings = workflow.upcoming_calendar_warnings() if workflow else []
    states = await gateway.source_states()
    sources = {s.resource: {"provider": s.provider, "state": s.state, "detail": s.detail} for s in states}
    found = {s.state for s in states}
    body: dict[str, Any] = {"profile": gateway.catalog.profile, "warnings": warnings, "sources": sources}
    if gateway.health is not None:  # circuits, freshness, cache, platform database (issue 9)
        found |= await readiness(gateway, gateway.health, sources, body)
    degraded = found & {"unavailable", "open", "half_open", "cache_unavailable"}
    if gateway.swaps.behind is not None:  # fail closed: data requests CATALOG_OUT_OF_DATE
        found.add("catalog_out_of_date")
        body["catalog"] = {"state": "out_of_date", "detail": gateway.swaps.behind}
    status = "not_ready" if found & {"misconfigured", "platform_unavailable", "catalog_out_of_date"} else (
        "degraded" if degraded else "ready")  # fmt: skip
    body = {"status": status, **body}
    body["late"] = await readyz_late(gateway.federation.oversight)  # flags only: status unchanged
    return JSONResponse(body, status_code=503 if status == "not_ready" else 200)


async def readiness(
    gateway: Any, health: SourceHealth, sources: dict[str, dict[str, Any]], body: dict[str, Any]
) -> set[str]:
    """Add each source's circuit and freshness, the cache and the platform database to the
    /readyz ``body``; the states found that make it degraded or not ready."""
    now = dt.datetime.now(dt.UTC)
    for rid, entry in sources.items():
        entry.update(health.resource_state(rid, now))
    body["cache"], body["platform"] = await health.cache_state(), await platform_state(gateway.platform)
    found = {entry["circuit"] for entry in sources.values()}
    if body["cache"]["state"] != "ok":
        found.add("cache_unavailable")
    if body["platform"]["state"] != "ok":
        found.add("platform_unavailable")
    return found


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})
