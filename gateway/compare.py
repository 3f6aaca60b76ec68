"""``POST /compare``: compare / verify over HTTP (README "Compare"), and its audit event.

Request (JSON, ``Authorization``, ``X-Purpose``; optional ``X-Request-User``,
``X-Application-Id``)::

    {"resource": "amr.enterprise_registration", "subject": "<USCC>", "claims": {"name": "..."}}
    {"requests": [{...}, {...}]}                       # a batch, at most GOVSHARE_COMPARE_MAX_BATCH

Answer (200)::

    {"resource": ..., "subject": <normalised code>, "found": true, "items": {"name": "match"},
     "errors": [{"message": ..., "extensions": {"code": "NOT_SHARED", ...}}], "auditId": ...}
    {"results": [<one answer per request, in order>], "auditId": ...}

A request refused as a whole answers ``{"errors": [...]}`` with the error's status: 400 for
bad input (``extensions.field`` names the field), 401, 429 ``RATE_LIMITED`` with
``Retry-After``, 503 ``AUDIT_UNAVAILABLE``. The work itself is ``resolvers.compare``, shared
with the GraphQL field ``compare``.

Audit: ONE event per call (kind and mode ``compare``) naming every subject, the items, the
decision per item and each request's match / mismatch per item; never a stored value nor a
claimed one (a claim could confirm a value to whoever reads the trail). Refusals of the
whole call are events too (``gateway.evidence.refused_request``), as for GraphQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from errors import (
    AuditUnavailable,
    BadRequest,
    GovshareError,
    QueryTooComplex,
    RateLimited,
    RateStoreUnavailable,
)
from gateway import evidence
from gateway.audit import AuditEvent, AuditLog, canonical_json
from gateway.http import (
    JSONResponse,
    _context,
    _require_json,
    authenticate,
    gateway_of,
    header_value,
    read_body,
    refuse_forwarding,
    refused_event,
)
from gateway.json_body import refuse_duplicate_keys
from policies.catalog import Catalog
from resolvers.compare import CompareRequest, CompareResult, read_request
from resolvers.context import RequestContext

_HEADERS = ("content-type", "x-purpose", "x-request-user", "x-application-id")
ALLOWED = evidence.ALLOWED


async def compare_endpoint(request: Request) -> Response:
    """``POST /compare`` (module docstring)."""
    try:
        consumer = await authenticate(request)  # without a caller nothing is audited
    except GovshareError as exc:
        return _refused(exc)
    gateway = gateway_of(request)
    try:
        for name in _HEADERS:
            header_value(request.headers, name)
        refuse_forwarding(request)
        _require_json(header_value(request.headers, "content-type"))
        body = await _read_json(request, gateway.settings.limits.max_body_bytes)
        requests, batch = read_requests(gateway.catalog, body, gateway.settings.compare.max_batch)
        assert gateway.federation.comparer is not None
        context = _context(request, gateway, consumer)
        answer = await gateway.federation.comparer.compare(context, requests)
    except AuditUnavailable as exc:  # fail closed: nothing compared leaves unaudited
        return _refused(exc)
    except GovshareError as exc:
        await _audit_refusal(request, exc)
        return _refused(exc)
    answers = [result_json(result, answer.audit_id) for result in answer.results]
    return JSONResponse({"results": answers, "auditId": answer.audit_id} if batch else answers[0])


async def _read_json(request: Request, limit: int) -> Any:
    body = await read_body(request, limit)
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}", field="(body)") from exc
    refuse_duplicate_keys(body)
    return parsed


def read_requests(catalog: Catalog, body: Any, max_batch: int) -> tuple[list[CompareRequest], bool]:
    """The requests of a body and whether it is a batch (``{"requests": [...]}``). Raises
    ``BadRequest`` / ``InvalidCode`` naming the field, ``QueryTooComplex`` for too many."""
    if not isinstance(body, dict) or "requests" not in body:
        return [read_request(catalog, body)], False
    if set(body) != {"requests"}:
        raise BadRequest('a batch is {"requests": [...]} and nothing else', field="(body)")
    items = body["requests"]
    if not isinstance(items, list) or not items:
        raise BadRequest("requests must be a non-empty list of compare requests", field="requests")
    if len(items) > max_batch:
        raise QueryTooComplex(
            f"requests holds {len(items)} compare requests; at most {max_batch} per batch "
            "(GOVSHARE_COMPARE_MAX_BATCH): split it",
            field="requests",
            limit="compare_max_batch",
            maximum=max_batch,
            found=len(items),
            variable="GOVSHARE_COMPARE_MAX_BATCH",
        )
    return [read_request(catalog, raw, f"requests[{i}].") for i, raw in enumerate(items)], True


def result_json(result: CompareResult, audit_id: str | None) -> dict[str, Any]:
    """One request's answer as JSON: ``found`` only when it is told, ``annotations`` only
    when an item has some (``resolvers.compare.annotate_items``)."""
    out: dict[str, Any] = {"resource": result.request.resource.id, "subject": result.request.subject}
    if result.found is not None:
        out["found"] = result.found
    out["items"] = result.items
    if result.annotations:
        out["annotations"] = result.annotations
    out["errors"] = [_error_json(error) for error in result.errors]
    out["auditId"] = audit_id
    return out


def _error_json(error: GovshareError) -> dict[str, Any]:
    return {"message": error.message, "extensions": dict(error.extensions)}


def _refused(exc: GovshareError) -> Response:
    response = JSONResponse({"errors": [_error_json(exc)]}, exc.status)
    if isinstance(exc, RateLimited | RateStoreUnavailable) and "retryAfter" in exc.extensions:
        response.headers["Retry-After"] = str(exc.extensions["retryAfter"])
    return response


async def _audit_refusal(request: Request, error: GovshareError) -> None:
    """The call refused as a whole: an event of kind compare (answered even if not stored)."""
    event = refused_event(request, request.state.consumer, error)
    resource = error.extensions.get("resource")
    resources = (resource,) if isinstance(resource, str) else event.resources
    event = dataclasses.replace(event, kind="compare", mode="compare", resources=resources)
    await evidence.record_refusal(gateway_of(request).audit, event)


@dataclasses.dataclass(eq=False)
class AuditCompareRecorder:
    """Writes the one event of a compare call (``resolvers.compare.CompareRecorder``)."""

    audit: AuditLog

    async def record(self, context: RequestContext, results: Sequence[CompareResult]) -> str | None:
        """Durable before the answer leaves; raises ``AuditUnavailable`` otherwise."""
        receipt = await self.audit.append(compare_event(context, results, self.audit))
        return receipt.id


def compare_event(context: RequestContext, results: Sequence[CompareResult], audit: AuditLog) -> AuditEvent:
    """The event: codes, item names, decisions and match / mismatch; never a value. Its
    ``response_digest`` is keyed (``AuditLog.keyed_digest``) over the answers as sent."""
    decisions = _decisions(results)
    outcome = _outcome(decisions)
    answers = [result_json(result, None) for result in results]
    subjects_at = context.extra.get("subjects_at") or {}
    detail = {
        "requests": len(results),
        "results": [_outcome_of(result) for result in results],
        "subjects_at": {rid: list(dict.fromkeys(codes)) for rid, codes in sorted(subjects_at.items())},
    }
    return AuditEvent(
        kind="compare",
        outcome=outcome,
        consumer=context.consumer.department,
        client=context.consumer.client_id,
        user=context.request_user,
        purpose=context.purpose,
        application=context.application_id,
        mode="compare",
        resources=tuple(sorted({result.request.resource.id for result in results})),
        items=tuple(sorted(decisions)),
        subjects=tuple(dict.fromkeys(result.request.subject for result in results)),
        decisions=decisions,
        response_digest=audit.keyed_digest(canonical_json(answers)),
        detail=detail,
    )


def _decisions(results: Sequence[CompareResult]) -> dict[str, str]:
    """``resource.item`` -> ALLOWED, the refusal code, or ``ALLOWED|CODE`` when it was
    compared for some subjects and refused for others (a division, a daily cap)."""
    seen: dict[str, set[str]] = {}
    for result in results:
        rid = result.request.resource.id
        for name in result.items:
            seen.setdefault(f"{rid}.{name}", set()).add(ALLOWED)
        for error in result.errors:
            seen.setdefault(f"{rid}.{error.extensions.get('item')}", set()).add(error.code)
    return {key: "|".join(sorted(codes, key=lambda c: (c != ALLOWED, c))) for key, codes in seen.items()}


def _outcome(decisions: dict[str, str]) -> str:
    if all(value == ALLOWED for value in decisions.values()):
        return "answered"
    if any(value.startswith(ALLOWED) for value in decisions.values()):
        return "partly_refused"
    return "refused"


def _outcome_of(result: CompareResult) -> dict[str, Any]:
    """What the trail keeps of one request: where, whom, and match / mismatch per item."""
    kept: dict[str, Any] = {"resource": result.request.resource.id, "subject": result.request.subject}
    if result.found is not None:
        kept["found"] = result.found
    kept["items"] = dict(result.items)
    return kept
