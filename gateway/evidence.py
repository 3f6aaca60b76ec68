"""From an answered (or refused) GraphQL request to its audit event (DESIGN.md section 8).

Which requests are audited (:func:`must_record`): every authenticated request that asked
for resource items or looked a subject up (allowed or not), read the audit trail, grants,
applications or statistics, or was REFUSED, wholly or in part, for any reason with a code:
a missing purpose (``PURPOSE_REQUIRED``), an identity code that fails its rules
(``INVALID_CODE``, as a literal or a variable), a non-shared item, a mode, all-or-nothing,
a cost limit (``QUERY_TOO_COMPLEX``), a bad header or body (``BAD_REQUEST``) ... The
refusal code is in ``decisions``: on each item it kept from being served, and under
:data:`REQUEST` for the request as a whole.

Not audited: a request without a valid token (``UNAUTHENTICATED``, 401). It has no
accountable caller to record, and anyone could fill the trail with them; the request log
has one line per such request.

Refusals found outside a GraphQL execution (the body, the headers, a limit checked before
parsing) are recorded through :func:`refused_request` and :func:`record_refusal`::

    await record_refusal(gateway.audit, refused_request(consumer, QueryTooComplex(...)))

A refusal is answered even when it cannot be recorded (nothing leaves with it; the failure
is logged at ERROR); an answer that cannot be recorded is not sent (fail closed).

What an event holds of the response is ``response_digest``, keyed with the gateway's audit
secret (``AuditLog.keyed_digest``): providers and operators read events, and an unkeyed
hash of the answer would let them test guesses of values they were never given.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, Final

from graphql import GraphQLError

from errors import AccessDenied, AuditUnavailable, GovshareError, RateLimited, SourceUnavailable, root_cause
from gateway.audit import AuditEvent, AuditLog, AuditReceipt
from policies.decision import Consumer
from resolvers.compare import RECORDED_ELSEWHERE
from resolvers.context import RequestContext

log = logging.getLogger("govshare.audit")

ALLOWED: Final = "ALLOWED"
REQUEST: Final = "request"  # decision key of a refusal of the whole request (no dot: no item)
BAD_REQUEST: Final = "BAD_REQUEST"
INTERNAL: Final = "INTERNAL"
_RECORDED = (AccessDenied, RateLimited, SourceUnavailable)


def own_errors(context: RequestContext, errors: Iterable[GraphQLError]) -> list[GraphQLError]:
    """The errors this operation's event records: not those another event already holds
    (the GraphQL field compare's item refusals are its compare event's, in mode compare)."""
    elsewhere = context.extra.get(RECORDED_ELSEWHERE) or ()
    return [error for error in errors if not any(root_cause(error) is other for other in elsewhere)]


def refusals(errors: Iterable[GraphQLError]) -> list[GovshareError]:
    """The access-relevant causes among a result's errors (all-or-nothing withdraws on these)."""
    causes = (root_cause(error) for error in errors)
    return [cause for cause in causes if isinstance(cause, _RECORDED)]


def error_code(error: GraphQLError | GovshareError) -> str:
    """The code an error is answered with: the govshare code, ``BAD_REQUEST`` for syntax,
    validation and variable coercion (GraphQL spec sections 2, 5 and 6.1.2), else ``INTERNAL``."""
    cause = root_cause(error) if isinstance(error, GraphQLError) else error
    if isinstance(cause, GovshareError):
        return cause.code
    return BAD_REQUEST if isinstance(cause, GraphQLError) else INTERNAL


def touches_data(context: RequestContext, errors: Iterable[GraphQLError]) -> bool:
    """Items were asked for, a subject was looked up (existence is data too), or refused."""
    planned = context.plan is not None and bool(context.plan.resources)
    return planned or bool(context.subjects) or bool(context.extra.get("reads")) or bool(refusals(errors))


def must_record(context: RequestContext, errors: Iterable[GraphQLError], answered: bool) -> bool:
    """Whether an executed request is an audit event: it touched data, or it was refused
    (no data), or an error with a govshare code refused part of it."""
    found = list(errors)
    if touches_data(context, found) or (found and not answered):
        return True
    return any(isinstance(root_cause(error), GovshareError) for error in found)


def query_event(
    context: RequestContext,
    errors: list[GraphQLError],
    digest: str | None,
    operation: str | None,
    answered: bool,
) -> AuditEvent:
    """The event of one executed GraphQL operation. ``digest``: the keyed digest of the
    answer as sent (``AuditLog.keyed_digest``); ``answered``: it carried data."""
    refused = [cause for cause in map(root_cause, errors) if isinstance(cause, GovshareError)]
    decisions = _decisions(context, refused)
    request_code = _request_code(errors, answered)
    if request_code is not None:
        _refuse_request(decisions, request_code, answered)
    consulted = context.extra.get("existence", ())
    resources = sorted({key.rsplit(".", 1)[0] for key in decisions if key != REQUEST} | set(consulted))
    purpose, user, application, unreadable = _clean(
        context.purpose, context.request_user, context.application_id
    )
    return AuditEvent(
        kind="query",
        outcome=_outcome(answered, decisions, refused),
        consumer=context.consumer.department,
        client=context.consumer.client_id,
        user=user,
        purpose=purpose,
        application=application,
        mode="query",
        resources=tuple(resources),
        items=tuple(sorted(key for key in decisions if key != REQUEST)),
        subjects=tuple(dict.fromkeys(context.subjects)),
        decisions=decisions,
        response_digest=digest,
        detail=_detail(context, operation, unreadable),
    )


def refused_request(
    consumer: Consumer,
    error: GovshareError,
    *,
    purpose: str | None = None,
    user: str | None = None,
    application: str | None = None,
    operation: str | None = None,
) -> AuditEvent:
    """The event of a request refused before (or instead of) a GraphQL execution: a bad body
    or header, a cost limit checked before parsing ... ``decisions`` is ``{"request": code}``
    (plus the error's item, if it names one). Header values that cannot be stored as they
    are (control characters) are left out and named in ``detail.unreadable``; ``detail``
    holds ``refused`` (the code) and the error's plain extensions (header, rule, limit ...)."""
    decisions = {REQUEST: error.code}
    resource, item = error.extensions.get("resource"), error.extensions.get("item")
    if isinstance(resource, str) and isinstance(item, str):
        decisions[f"{resource}.{item}"] = error.code
    items = sorted(key for key in decisions if key != REQUEST)
    purpose, user, application, unreadable = _clean(purpose, user, application)
    detail: dict[str, Any] = {"refused": error.code}
    detail.update((k, v) for k, v in error.extensions.items() if k != "code" and _plain_value(v))
    if operation:
        detail["operation"] = operation
    if unreadable:
        detail["unreadable"] = unreadable
    return AuditEvent(
        kind="query",
        outcome="refused",
        consumer=consumer.department,
        client=consumer.client_id,
        user=user,
        purpose=purpose,
        application=application,
        mode="query",
        resources=tuple(sorted({key.rsplit(".", 1)[0] for key in items})),
        items=tuple(items),
        decisions=decisions,
        detail=detail,
    )


async def record_refusal(audit: AuditLog | None, event: AuditEvent) -> AuditReceipt | None:
    """Record the event of a refused request; never raises. A refusal releases nothing, so
    it is answered even when the audit store fails: that failure is logged at ERROR (an
    operator must know that refusals go unrecorded) and None returned."""
    if audit is None:
        return None
    try:
        return await audit.append(event)
    except AuditUnavailable as exc:
        codes = sorted(set(event.decisions.values()))
        log.error("a refused request (%s) could not be recorded: %s", ", ".join(codes), exc.message)
        return None


def _plain_value(value: Any) -> bool:
    """Extensions name rules, headers and limits, never a stored value (errors.py); only
    plain JSON scalars go into the event."""
    return isinstance(value, str | int | bool) and not (isinstance(value, str) and len(value) > 200)


def _detail(context: RequestContext, operation: str | None, unreadable: list[str]) -> dict[str, Any]:
    detail: dict[str, Any] = {"operation": operation} if operation else {}
    if context.extra.get("via"):  # forwarded by a downstream gateway (gateway.forwarding)
        detail["via"] = dict(context.extra["via"])
    if context.extra.get("reads"):
        detail["reads"] = list(context.extra["reads"])
    looked_up: Mapping[str, list[str]] = context.extra.get("subjects_at") or {}
    if looked_up:  # which subject was looked up where: a provider sees only its own (provider_part)
        detail["subjects_at"] = {rid: list(dict.fromkeys(codes)) for rid, codes in sorted(looked_up.items())}
    if unreadable:
        detail["unreadable"] = unreadable
    return detail


def _clean(*values: str | None) -> tuple[Any, ...]:
    """Header texts as they can be stored: one with a control character (NUL, a line break
    ...) is left out, and its position named in the last element of the result."""
    names = ("purpose", "user", "application")
    kept: list[str | None] = []
    unreadable: list[str] = []
    for name, value in zip(names, values, strict=True):
        if value is not None and any(unicodedata.category(char) == "Cc" for char in value):
            unreadable.append(name)
            value = None
        kept.append(value)
    return (*kept, unreadable)


def _request_code(errors: list[GraphQLError], answered: bool) -> str | None:
    """The code that refused the request as a whole, if one did: the first error not tied to
    one resource (an unexpected error counts only when nothing was answered). When nothing
    was answered and every error is tied to a resource (all or nothing, X-Reject-Unauthorized,
    withdrew the answer for one refused item), the first of them refused the whole request."""
    for error in errors:
        cause = root_cause(error)
        if isinstance(cause, GovshareError) and "resource" in cause.extensions:
            continue
        code = error_code(error)
        if code != INTERNAL or not answered:
            return code
    if not answered and errors:
        return error_code(errors[0])
    return None


def _refuse_request(decisions: dict[str, str], code: str, answered: bool) -> None:
    """Name the request-level refusal; when nothing was answered, no item was served either."""
    decisions[REQUEST] = code
    if not answered:  # "ALLOWED|OUT_OF_SCOPE": allowed for some subjects, withheld all the same
        for key, value in decisions.items():
            if value == ALLOWED or value.startswith(f"{ALLOWED}|"):
                decisions[key] = code if value == ALLOWED else value.removeprefix(f"{ALLOWED}|")


def _outcome(answered: bool, decisions: Mapping[str, str], refused: list[GovshareError]) -> str:
    if not answered:
        return "refused"
    if refused or any(value != ALLOWED for value in decisions.values()):
        return "partly_refused"
    return "answered"


def _decisions(context: RequestContext, refused: list[GovshareError]) -> dict[str, str]:
    """Item -> ALLOWED or the refusal code; a per-subject refusal (scope, cap) is noted too.
    When the plan could not be made (e.g. no purpose), the items it was asked for carry the
    planning error's code."""
    decisions: dict[str, str] = {}
    plans = context.plan.resources.values() if context.plan else ()
    for plan in plans:
        for name in plan.allowed:
            decisions[f"{plan.resource.id}.{name}"] = ALLOWED
        for name, error in plan.denied.items():
            if name not in plan.scoped:  # else refused per subject: the refusals below say how
                decisions[f"{plan.resource.id}.{name}"] = error.code
    if context.plan is None and refused:
        wanted: Mapping[str, Iterable[str]] = context.extra.get("wanted") or {}
        for rid, names in wanted.items():
            for name in sorted(names):
                decisions[f"{rid}.{name}"] = refused[0].code
    for refusal in refused:
        for key in _item_keys(refusal.extensions, decisions):
            if decisions.get(key, ALLOWED) == ALLOWED:
                decisions[key] = refusal.code if key not in decisions else f"{ALLOWED}|{refusal.code}"
    for plan in plans:  # a per-subject refusal no subject met (none found): the plan's own
        for name in plan.scoped:
            decisions.setdefault(f"{plan.resource.id}.{name}", plan.denied[name].code)
    return decisions


def _item_keys(extensions: Mapping[str, Any], decisions: Mapping[str, str]) -> list[str]:
    """The items a refusal concerns: one item, or every decided item of a failed resource."""
    resource, item = extensions.get("resource"), extensions.get("item")
    if resource and item:
        return [f"{resource}.{item}"]
    if resource:
        return [key for key in decisions if key.rsplit(".", 1)[0] == resource]
    return []
