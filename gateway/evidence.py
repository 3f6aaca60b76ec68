"""From an answered (or refused) GraphQL operation to its audit event and voucher.

Which operations are audited: every one that asked for resource items (allowed or not),
and every one refused for access reasons before it ran (e.g. naming a non-shared item).
The event records codes, item names and decisions, and the response only by its digest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graphql import GraphQLError

from errors import AccessDenied, GovshareError, RateLimited, SourceUnavailable, root_cause
from gateway.audit import AuditEvent
from resolvers.context import RequestContext

ALLOWED = "ALLOWED"
_RECORDED = (AccessDenied, RateLimited, SourceUnavailable)


def refusals(errors: Iterable[GraphQLError]) -> list[GovshareError]:
    """The access-relevant causes among a result's errors."""
    causes = (root_cause(error) for error in errors)
    return [cause for cause in causes if isinstance(cause, _RECORDED)]


def touches_data(context: RequestContext, errors: Iterable[GraphQLError]) -> bool:
    """Items were asked for, a subject was looked up (existence is data too), or refused."""
    planned = context.plan is not None and bool(context.plan.resources)
    return planned or bool(context.subjects) or bool(context.extra.get("reads")) or bool(refusals(errors))


def query_event(
    context: RequestContext, errors: list[GraphQLError], digest: str, operation: str | None, answered: bool
) -> AuditEvent:
    refused = refusals(errors)
    decisions = _decisions(context, refused)
    consulted = context.extra.get("existence", ())
    resources = sorted({key.rsplit(".", 1)[0] for key in decisions} | set(consulted))
    return AuditEvent(
        kind="query",
        outcome=_outcome(answered, decisions, refused),
        consumer=context.consumer.department,
        client=context.consumer.client_id,
        user=context.request_user,
        purpose=context.purpose,
        application=context.application_id,
        mode="query",
        resources=tuple(resources),
        items=tuple(sorted(decisions)),
        subjects=tuple(dict.fromkeys(context.subjects)),
        decisions=decisions,
        response_digest=digest,
        detail=_detail(context, operation),
    )


def _detail(context: RequestContext, operation: str | None) -> dict[str, Any]:
    detail: dict[str, Any] = {"operation": operation} if operation else {}
    if context.extra.get("reads"):
        detail["reads"] = list(context.extra["reads"])
    return detail


def _outcome(answered: bool, decisions: Mapping[str, str], refused: list[GovshareError]) -> str:
    if not answered:
        return "refused"
    if refused or any(value != ALLOWED for value in decisions.values()):
        return "partly_refused"
    return "answered"


def _decisions(context: RequestContext, refused: list[GovshareError]) -> dict[str, str]:
    """Item -> ALLOWED or the refusal code; a per-subject refusal (scope, cap) is noted too."""
    decisions: dict[str, str] = {}
    plans = context.plan.resources.values() if context.plan else ()
    for plan in plans:
        for name in plan.allowed:
            decisions[f"{plan.resource.id}.{name}"] = ALLOWED
        for name, error in plan.denied.items():
            decisions[f"{plan.resource.id}.{name}"] = error.code
    for refusal in refused:
        for key in _item_keys(refusal.extensions, decisions):
            if decisions.get(key, ALLOWED) == ALLOWED:
                decisions[key] = refusal.code if key not in decisions else f"{ALLOWED}|{refusal.code}"
    return decisions


def _item_keys(extensions: Mapping[str, Any], decisions: Mapping[str, str]) -> list[str]:
    """The items a refusal concerns: one item, or every decided item of a failed resource."""
    resource, item = extensions.get("resource"), extensions.get("item")
    if resource and item:
        return [f"{resource}.{item}"]
    if resource:
        return [key for key in decisions if key.rsplit(".", 1)[0] == resource]
    return []
