"""GraphQL over HTTP: POST and GET, ``application/graphql-response+json``, orjson.

Every request but the GraphiQL page needs a bearer token. Errors are shaped from the
error hierarchy: the message, and ``extensions`` with ``code`` and detail. Anything
unexpected is logged and answered as ``INTERNAL`` without its text, so no stored value
can leak through an exception message.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
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
from strawberry.types.graphql import OperationType

from errors import AuditUnavailable, BadRequest, GovshareError, root_cause
from gateway import graphiql
from gateway.auth import bearer_token, voucher_keys
from gateway.evidence import query_event, refusals, touches_data
from gateway.vouchers import VOUCHER_KEY, issue_voucher, response_digest
from policies.decision import Consumer
from resolvers.context import RequestContext

if TYPE_CHECKING:
    from gateway.app import Gateway

log = logging.getLogger("govshare.http")
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
MAX_BATCH = 20
_QUERIES_ONLY = frozenset({OperationType.QUERY})
_ALL_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})


class JSONResponse(Response):
    """orjson-encoded; never stored by a cache on the way (answers carry personal data)."""

    def __init__(self, content: Any, status_code: int = 200, media_type: str = JSON) -> None:
        super().__init__(orjson.dumps(content), status_code, {"Cache-Control": "no-store"}, media_type)


def gateway_of(request: Request) -> Gateway:
    return request.app.state.gateway  # type: ignore[no-any-return]


async def authenticate(request: Request) -> Consumer:
    """The caller of a request, from its bearer token (the gateway's own or a trusted issuer's)."""
    token = bearer_token(request.headers.get("authorization"))
    consumer = await gateway_of(request).authenticator.authenticate(token)
    request.state.consumer = consumer  # for the request log line
    return consumer


async def graphql_endpoint(request: Request) -> Response:
    if request.method == "GET" and _wants_html(request):
        return graphiql.graphiql_page(request)
    media = GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in request.headers.get("accept", "") else JSON
    try:
        consumer = await authenticate(request)
        params = await _read_params(request)
    except GovshareError as exc:
        return JSONResponse({"errors": [_error_dict(exc.message, exc.extensions)]}, exc.status, media)
    if isinstance(params, list):  # a batch: each operation is decided, fetched and answered alone
        answers = [await _execute(request, consumer, one) for one in params]
        return JSONResponse([body for body, _ in answers], 200, media)
    body, status = await _execute(request, consumer, params)
    legacy_ok = media == JSON and status != 405  # application/json answers 200 for any GraphQL result
    return JSONResponse(body, 200 if legacy_ok else status, media)


async def _execute(
    request: Request, consumer: Consumer, params: dict[str, Any]
) -> tuple[dict[str, Any], int]:
    gateway = gateway_of(request)
    allowed = _QUERIES_ONLY if request.method == "GET" else _ALL_OPERATIONS
    context = _context(request, gateway, consumer)
    try:
        result = await gateway.schema.execute(
            params["query"],
            variable_values=params.get("variables"),
            context_value=context,
            operation_name=params.get("operationName"),
            allowed_operation_types=allowed,
        )
    except InvalidOperationTypeError:
        return _failure("only queries may be sent with GET; use POST", 405)
    except MissingQueryError:
        return _failure("no query given", 400)
    except CannotGetOperationTypeError:
        name = params.get("operationName")
        return _failure(f"the document has no operation named {name!r}; fix operationName", 400)
    if context.reject_unauthorized and result.data is not None and refusals(result.errors or []):
        # all or nothing: a refusal found while running (a subject out of scope, a cap) withdraws it all
        result = ExecutionResult(data=None, errors=result.errors, extensions=result.extensions)
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [format_error(e) for e in result.errors]
    if result.extensions:
        body["extensions"] = result.extensions
    if gateway.audit is not None and touches_data(context, result.errors or []):
        try:
            await _audit_answer(request, gateway, context, body, params.get("operationName"), result)
        except AuditUnavailable as exc:  # fail closed: nothing leaves unaudited
            return {"data": None, "errors": [_error_dict(exc.message, exc.extensions)]}, exc.status
    return body, _status(result.data, result.errors)


async def _audit_answer(
    request: Request,
    gateway: Gateway,
    context: RequestContext,
    body: dict[str, Any],
    operation: str | None,
    result: ExecutionResult,
) -> None:
    """Record the answer durably, then (unless the client opts out) attach its voucher."""
    assert gateway.audit is not None
    digest = response_digest(body)
    event = query_event(context, list(result.errors or []), digest, operation, result.data is not None)
    receipt = await gateway.audit.append(event)
    if request.headers.get("x-voucher", "").strip().lower() not in ("off", "false", "none"):
        voucher = issue_voucher(gateway.signer, receipt, context.consumer.department, digest)
        body.setdefault("extensions", {})[VOUCHER_KEY] = voucher


def _failure(message: str, status: int) -> tuple[dict[str, Any], int]:
    return {"errors": [_error_dict(message, {"code": "BAD_REQUEST"})]}, status


def _context(request: Request, gateway: Gateway, consumer: Consumer) -> RequestContext:
    headers = request.headers
    return RequestContext(
        federation=gateway.federation,
        consumer=consumer,
        purpose=header_text(headers.get("x-purpose")),
        request_user=header_text(headers.get("x-request-user")),
        application_id=headers.get("x-application-id"),
        reject_unauthorized=headers.get("x-reject-unauthorized", "").strip().lower() == "true",
    )


def header_text(value: str | None) -> str | None:
    """Headers are Latin-1 on the wire: accept raw UTF-8 (curl) and percent-encoded UTF-8."""
    if value is None:
        return None
    with contextlib.suppress(UnicodeError):
        value = value.encode("latin-1").decode("utf-8")
    return unquote(value).strip()


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and "query" not in request.query_params


async def _read_params(request: Request) -> dict[str, Any] | list[dict[str, Any]]:
    if request.method == "GET":
        return _get_params(request.query_params)
    if "json" not in request.headers.get("content-type", ""):
        raise BadRequest("send the request as JSON: Content-Type: application/json")
    try:
        params = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from exc
    if isinstance(params, list):
        if not 0 < len(params) <= MAX_BATCH:
            raise BadRequest(f"a batch holds 1 to {MAX_BATCH} operations")
        return [_check_params(one) for one in params]
    return _check_params(params)


def _get_params(query: Mapping[str, str]) -> dict[str, Any]:
    params: dict[str, Any] = dict(query)
    if "variables" in params:
        try:
            params["variables"] = orjson.loads(params["variables"])
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"the variables parameter is not valid JSON: {exc}") from exc
    return _check_params(params)


def _check_params(params: Any) -> dict[str, Any]:
    if not isinstance(params, dict) or not isinstance(params.get("query"), str):
        raise BadRequest('send {"query": "...", "variables": {...}}: the query must be a string')
    if params.get("variables") is not None and not isinstance(params["variables"], dict):
        raise BadRequest("variables must be a JSON object")
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
    """Ready to serve, and what an operator should know: e.g. deadlines counted Monday-Friday."""
    gateway = gateway_of(request)
    workflow = gateway.federation.workflow
    warnings = workflow.upcoming_calendar_warnings() if workflow else []
    return JSONResponse({"status": "ready", "profile": gateway.catalog.profile, "warnings": warnings})


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})
