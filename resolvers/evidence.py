"""``auditEvents``: operators read every event, providers those on their resources (and
their own), consumers their own; oldest first by time across every chain, paged with
``after`` (the last event's id, ``nextAfter``). A department reads its own events without
the operator's details (``OPERATOR_ONLY``).

A provider's view of ANOTHER department's event holds only what concerns its own
resources (:func:`provider_part`): their resources, items, decisions and the subjects
looked up at them; no response digest (even keyed, equal digests would tell it that two
answers were the same); the outcome as far as its items go. Its own events it sees whole."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from errors import BadRequest, ConfigurationError, Forbidden
from policies.decision import Consumer
from resolvers.arguments import department_argument
from resolvers.context import AuditReader, RequestContext

MAX_PAGE = 1000
ALLOWED = "ALLOWED"


@strawberry.type(description="One audit event: who read what, for what purpose, and what was decided.")
class AuditEventView:
    id: strawberry.ID
    seq: int
    instance: str
    time: str
    kind: str
    outcome: str
    consumer: str | None
    client: str | None
    user: str | None
    purpose: str | None
    application: str | None
    mode: str | None
    resources: list[str]
    items: list[str]
    subjects: list[str]
    decisions: JSON
    response_digest: str | None
    detail: JSON
    prev_hash: str
    hash: str


@strawberry.type
class AuditPage:
    events: list[AuditEventView]
    next_after: strawberry.ID | None = strawberry.field(
        description="Pass as `after` for the next page (the last event's id); null at the end."
    )
    next_after_seq: int | None = strawberry.field(
        description="The last event's seq, for afterSeq (a cursor within ONE chain: use nextAfter)."
    )


def _reader(info: Info) -> AuditReader:
    context: RequestContext = info.context
    if context.federation.audit is None:
        raise ConfigurationError("the audit trail is switched off (GOVSHARE_AUDIT=off)")
    return context.federation.audit


def _scope(context: RequestContext, consumer: str | None) -> dict[str, Any]:
    """What this caller may see: all (operator), its resources' and own (provider), own."""
    actor: Consumer = context.consumer
    if actor.has("operator"):
        return {"consumer": consumer}
    if consumer not in (None, actor.department):
        raise Forbidden("you may read your own department's audit events only")
    if actor.has("provider"):
        catalog = context.federation.catalog
        mine = [rid for rid, r in catalog.resources.items() if r.provider == actor.department]
        return {"consumer": actor.department, "provider_resources": mine}
    return {"consumer": actor.department}


def provider_part(event: dict[str, Any], mine: list[str]) -> dict[str, Any]:
    """Another department's event as its provider may see it (issue 7 item 2).

    Kept: its own resources, items and decisions; the subjects looked up at its own
    resources (``detail.subjects_at``; an event without that record shows none); the
    operation name; the downstream gateway that forwarded the read (``detail.via``).
    Dropped: ``response_digest`` (derived from the whole answer, other providers' values
    included), every other detail, and a ``partly_refused`` outcome
    caused only by others' items (it reads ``answered`` when all of its items were allowed).
    ``hash`` and ``prev_hash`` stay: they let an auditor match the part with the operator's
    full copy, and they cover the keyed response digest, so no guess can be tested on them.
    """
    ours = set(mine)
    on_ours = lambda key: key in ours or key.rsplit(".", 1)[0] in ours  # noqa: E731
    decisions = {k: v for k, v in (event.get("decisions") or {}).items() if on_ours(k)}
    detail = event.get("detail") or {}
    at = {r: codes for r, codes in (detail.get("subjects_at") or {}).items() if r in ours}
    seen = {code for codes in at.values() for code in codes}
    outcome = event.get("outcome")
    if outcome == "partly_refused" and all(value == ALLOWED for value in decisions.values()):
        outcome = "answered"
    kept_detail: dict[str, Any] = {"subjects_at": at} if at else {}
    if "operation" in detail:
        kept_detail["operation"] = detail["operation"]
    if "via" in detail:  # the gateway that forwarded a read of the provider's data
        kept_detail["via"] = detail["via"]
    return {
        **event,
        "outcome": outcome,
        "resources": [r for r in event.get("resources") or [] if r in ours],
        "items": [i for i in event.get("items") or [] if on_ours(i)],
        "decisions": decisions,
        "subjects": [code for code in event.get("subjects") or [] if code in seen],
        "response_digest": None,
        "detail": kept_detail,
    }


# detail entries for the operator only: an export's ``leftOut`` counts the rows outside the
# divisions the consumer is granted, that is subjects (with ``since``: changes) it may not see
OPERATOR_ONLY = ("leftOut",)


def own_part(event: dict[str, Any]) -> dict[str, Any]:
    """A department's own event as it reads it: all but the ``OPERATOR_ONLY`` details."""
    detail = event.get("detail") or {}
    if not any(name in detail for name in OPERATOR_ONLY):
        return event
    return {**event, "detail": {k: v for k, v in detail.items() if k not in OPERATOR_ONLY}}


_COPIED = (
    "consumer", "client", "user", "purpose", "application", "mode", "response_digest", "prev_hash",
    "hash", "instance", "kind", "outcome",
)  # fmt: skip


def _view(event: dict[str, Any]) -> AuditEventView:
    fields: dict[str, Any] = {name: event.get(name) for name in _COPIED}
    fields.update(
        id=strawberry.ID(event["id"]),
        seq=int(event["seq"]),
        time=str(event["time"]),
        resources=list(event.get("resources") or []),
        items=list(event.get("items") or []),
        subjects=list(event.get("subjects") or []),
        decisions=event.get("decisions") or {},
        detail=event.get("detail") or {},
    )
    return AuditEventView(**fields)


def _part(event: dict[str, Any], own: str, mine: list[str] | None, operator: bool) -> dict[str, Any]:
    """The event as this caller may read it: whole (operator), its own, or a provider's part."""
    if operator:
        return event
    return own_part(event) if mine is None or event.get("consumer") == own else provider_part(event, mine)


@strawberry.type
class EvidenceQuery:
    @strawberry.field(
        description="At most `limit` audit events you may see, oldest first by time across every "
        "gateway instance; page with `after` = the previous page's nextAfter."
    )
    async def audit_events(
        self,
        info: Info,
        consumer: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        after_seq: Annotated[
            int | None, strawberry.argument(description="Only events with a larger seq (one chain's cursor).")
        ] = None,
        limit: int = 100,
        after: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="The id of the last event of the previous page (its nextAfter)."),
        ] = None,
    ) -> AuditPage:
        consumer = department_argument(consumer)
        if not 1 <= limit <= MAX_PAGE:
            raise BadRequest(f"limit is 1 to {MAX_PAGE}")
        info.context.record_read("auditEvents")
        scope = _scope(info.context, consumer)
        events = await _reader(info).events(
            since=since, until=until, after_seq=after_seq, limit=limit, after=after, **scope
        )
        full = len(events) >= limit
        mine = scope.get("provider_resources")
        own = info.context.consumer.department
        operator = info.context.consumer.has("operator")
        shown = [_part(e, own, mine, operator) for e in events]
        return AuditPage(
            events=[_view(e) for e in shown],
            next_after=strawberry.ID(events[-1]["id"]) if full else None,
            next_after_seq=int(events[-1]["seq"]) if full else None,
        )
