"""``auditEvents``: operators read every event, providers those on their resources (and
their own), consumers their own; oldest first, paged by sequence number."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from errors import BadRequest, ConfigurationError, Forbidden
from policies.decision import Consumer
from resolvers.context import AuditReader, RequestContext

MAX_PAGE = 1000


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
    next_after_seq: int | None = strawberry.field(
        description="Pass as afterSeq for the next page; null at the end."
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


def _provider_part(event: dict[str, Any], mine: list[str]) -> dict[str, Any]:
    """Another department's event as its provider may see it: only the parts on its own
    resources (the hashes still let an auditor match it with the operator's full copy)."""
    ours = set(mine)
    on_ours = lambda key: key.rsplit(".", 1)[0] in ours  # noqa: E731
    return {
        **event,
        "resources": [r for r in event.get("resources") or [] if r in ours],
        "items": [i for i in event.get("items") or [] if on_ours(i)],
        "decisions": {k: v for k, v in (event.get("decisions") or {}).items() if on_ours(k)},
    }


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


@strawberry.type
class EvidenceQuery:
    @strawberry.field(description="Audit events you may see, oldest first; page with afterSeq.")
    async def audit_events(
        self,
        info: Info,
        consumer: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        after_seq: int | None = None,
        limit: int = 100,
    ) -> AuditPage:
        if not 1 <= limit <= MAX_PAGE:
            raise BadRequest(f"limit is 1 to {MAX_PAGE}")
        info.context.record_read("auditEvents")
        scope = _scope(info.context, consumer)
        events = await _reader(info).events(
            since=since, until=until, after_seq=after_seq, limit=limit, **scope
        )
        following = int(events[-1]["seq"]) if len(events) >= limit else None
        mine = scope.get("provider_resources")
        own = info.context.consumer.department
        shown = [e if mine is None or e.get("consumer") == own else _provider_part(e, mine) for e in events]
        return AuditPage(events=[_view(e) for e in shown], next_after_seq=following)
