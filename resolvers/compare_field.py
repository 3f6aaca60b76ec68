"""The GraphQL field ``compare(resource:, subject:, claims:)``: ``resolvers.compare`` as a
query field, the same operation as ``POST /compare`` (same decision, rate, audit event).

An item that may not be compared is listed with ``outcome: null`` and a field error at
``["compare", "items", i, "outcome"]`` carrying the refusal, the very error (code and
detail) a read of the item gets. A refusal of the whole call (no purpose, bad input, rate)
is the field's error and ``compare`` is null.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from errors import BadRequest, ConfigurationError, GovshareError
from resolvers.compare import MATCH, MISMATCH, RECORDED_ELSEWHERE, CompareResult, read_request
from resolvers.context import RequestContext


@strawberry.enum(description="The outcome of comparing a claim with the stored value.")
class CompareOutcome(Enum):
    MATCH = MATCH
    MISMATCH = MISMATCH


@strawberry.type(description="One claimed item: match or mismatch, or null with the refusal as its error.")
class CompareItem:
    item: str
    annotations: JSON | None = strawberry.field(
        description="Flags beside the outcome (e.g. an open objection), null when none."
    )
    _outcome: strawberry.Private[str | None]
    _error: strawberry.Private[GovshareError | None]

    @strawberry.field(description="null when the item may not be compared (see the field's error).")
    def outcome(self) -> CompareOutcome | None:
        if self._error is not None:
            raise self._error
        return CompareOutcome(self._outcome) if self._outcome is not None else None


@strawberry.type(name="CompareResult", description="The answer to one compare: never a stored value.")
class CompareView:
    resource: str
    subject: str = strawberry.field(description="The subject's code, normalised.")
    found: bool | None = strawberry.field(
        description="Whether the subject is on record; null when the resource does not tell "
        "(compare_disclosure: match_only) or nothing was compared."
    )
    items: list[CompareItem]
    audit_id: strawberry.ID | None


def _view(result: CompareResult, audit_id: str | None) -> CompareView:
    refused = {error.extensions.get("item"): error for error in result.errors}
    items = [
        CompareItem(
            item=name,
            annotations=result.annotations.get(name),  # type: ignore[arg-type]
            _outcome=result.items.get(name),
            _error=refused.get(name),
        )
        for name in result.request.claims
    ]
    return CompareView(
        resource=result.request.resource.id,
        subject=result.request.subject,
        found=result.found,
        items=items,
        audit_id=strawberry.ID(audit_id) if audit_id else None,
    )


_NOT_IN_URL = (
    "compare may not be sent by GET: a claim that matches is the stored value, and a URL is "
    "written to proxies' access logs and browser histories; send it by POST"
)


@strawberry.type
class CompareQuery:
    @strawberry.field(
        description="Compare / verify (比对验证): does each claimed value match the record? "
        "Answers match or mismatch per item, never the stored value. claims: {item: text}.",
    )
    async def compare(self, info: Info, resource: str, subject: str, claims: JSON) -> CompareView | None:
        context: RequestContext = info.context
        comparer = context.federation.comparer
        if comparer is None:
            raise ConfigurationError("compare is not configured on this gateway")
        if context.sent_in_url:  # a claim that matches IS the value: never in a URL
            raise BadRequest(_NOT_IN_URL, field="compare")
        raw: dict[str, Any] = {"resource": resource, "subject": subject, "claims": claims}
        request = read_request(context.federation.catalog, raw)
        own = dataclasses.replace(context, subjects=[], extra={}, plan=None)  # its own audit event
        answer = await comparer.compare(own, [request])
        recorded = context.extra.setdefault(RECORDED_ELSEWHERE, [])
        recorded.extend(error for result in answer.results for error in result.errors)
        return _view(answer.results[0], answer.audit_id)
