"""Objections (疑义) and change notices in the schema.

Queries ``objections``, ``objection``, ``changes``; mutations ``raiseObjection``,
``answerObjection``, ``notifyChange``; subscription ``changeNotices`` (graphql-transport-ws,
gateway.sockets). The rules live in ``policies.objections``; storage, deadlines and the
audit trail in the gateway's services, reached through ``Federation.objections`` and
``Federation.changes``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncGenerator
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from errors import ConfigurationError
from policies.objections import ObjectionStatus as Status
from policies.objections import Outcome as OutcomeRule
from policies.objections import Raised
from policies.workflow import Actor
from resolvers.context import ChangeService, ObjectionService, RequestContext


@strawberry.enum(description="Where an objection stands")
class ObjectionStatus(Enum):
    OPEN = Status.OPEN.value
    ANSWERED = Status.ANSWERED.value


@strawberry.enum(description="How the provider settled a disputed value")
class ObjectionOutcome(Enum):
    CORRECTED = OutcomeRule.CORRECTED.value
    CONFIRMED = OutcomeRule.CONFIRMED.value


@strawberry.type(description="One step of an objection: who, when, what.")
class ObjectionEvent:
    at: dt.datetime
    actor: str
    client: str
    user: str | None
    action: str
    text: str


@strawberry.type(description="A disputed value (疑义): Hubei art. 23, Zhejiang art. 28, Zhengzhou art. 21.")
class Objection:
    id: strawberry.ID
    consumer: str
    provider: str
    resource: str
    subject: str
    item: str
    reason: str
    status: ObjectionStatus
    raised_at: dt.datetime
    due: dt.date = strawberry.field(description="Last day to answer (China time), in working days.")
    statutory_deadline: bool = strawberry.field(
        description="True when the regulation sets the number of days; false: it says only 'promptly' "
        "(及时) and the operator's default applies."
    )
    basis: str
    overdue: bool
    answered_at: dt.datetime | None
    answered_by: str | None
    outcome: ObjectionOutcome | None
    note: str | None

    @strawberry.field(description="Every step, oldest first.")
    async def history(self, info: Info) -> list[ObjectionEvent]:
        rows = await _objections(info).history(str(self.id))
        return [
            ObjectionEvent(at=r.at, actor=r.actor, client=r.client, user=r.user, action=r.action, text=r.text)
            for r in rows
        ]


@strawberry.type(
    description="Subjects of a resource that changed (Shanghai art. 16): codes and names, no values."
)
class Change:
    id: strawberry.ID
    resource: str
    subjects: list[str]
    items: list[str] = strawberry.field(description="Changed items; empty: the whole record.")
    changed_at: dt.datetime
    notified_at: dt.datetime
    late: bool = strawberry.field(description="Notified after the profile's update limit (working days).")


@strawberry.type(description="A change pushed to a subscriber: only subjects it has read; never a value.")
class ChangeNotice:
    resource: str
    subjects: list[str]
    items: list[str]
    time: dt.datetime = strawberry.field(description="When the data changed, as stated or detected.")


def _context(info: Info) -> RequestContext:
    return info.context  # type: ignore[no-any-return]


def _objections(info: Info) -> ObjectionService:
    service = _context(info).federation.objections
    if service is None:
        raise ConfigurationError("the objection service is not configured")
    return service


def _changes(info: Info) -> ChangeService:
    service = _context(info).federation.changes
    if service is None:
        raise ConfigurationError("the change notice service is not configured")
    return service


def _actor(info: Info) -> Actor:
    return Actor(_context(info).consumer, _context(info).request_user)


def objection_view(row: Any, overdue: bool) -> Objection:
    fields = {name: getattr(row, name) for name in _ROW_FIELDS}
    outcome = ObjectionOutcome(row.outcome) if row.outcome else None
    return Objection(
        **fields,
        id=strawberry.ID(row.id),
        status=ObjectionStatus(row.status),
        overdue=overdue,
        statutory_deadline=row.statutory,
        outcome=outcome,
    )


_ROW_FIELDS = (
    "consumer",
    "provider",
    "resource",
    "subject",
    "item",
    "reason",
    "raised_at",
    "due",
    "basis",
    "answered_at",
    "answered_by",
    "note",
)


def _view(info: Info, row: Any) -> Objection:
    return objection_view(row, _objections(info).overdue(row))


def change_view(row: Any) -> Change:
    return Change(
        id=strawberry.ID(row.id),
        resource=row.resource,
        subjects=list(row.subjects),
        items=list(row.items),
        changed_at=row.changed_at,
        notified_at=row.notified_at,
        late=row.late,
    )


OBJECTIONS_HELP = (
    "Objections you may see: consumers their own, providers those on their resources, operators all. "
    "overdue: true lists those past their due day (open, or answered late)."
)
CHANGES_HELP = (
    "Changes of a resource notified since a time, narrowed to the subjects you have read there "
    "(per the audit trail) and the items you may read now (X-Purpose for conditional ones); "
    "changes with none of them are left out."
)


@strawberry.type
class ObjectionQuery:
    @strawberry.field(description=OBJECTIONS_HELP)
    async def objections(
        self,
        info: Info,
        status: ObjectionStatus | None = None,
        overdue: bool | None = None,
        resource: str | None = None,
    ) -> list[Objection]:
        _context(info).record_read("objections")
        wanted = Status(status.value) if status else None
        rows = await _objections(info).objections(_context(info).consumer, wanted, overdue, resource)
        return [_view(info, row) for row in rows]

    @strawberry.field(description="One objection you may see, with its history.")
    async def objection(self, info: Info, id: strawberry.ID) -> Objection:
        _context(info).record_read("objections")
        return _view(info, await _objections(info).get(_context(info).consumer, str(id)))

    @strawberry.field(description=CHANGES_HELP)
    async def changes(self, info: Info, resource: str, since: dt.datetime | None = None) -> list[Change]:
        _context(info).record_read("changes")
        context = _context(info)
        rows = await _changes(info).changes(context.consumer, resource, since, context.purpose)
        return [change_view(row) for row in rows]


@strawberry.type
class ObjectionMutation:
    @strawberry.mutation(
        description="Dispute a value you have read or may read (consumer role); the provider answers "
        "within the profile's working days. Sends X-Purpose when you have not read it yet."
    )
    async def raise_objection(
        self, info: Info, resource: str, subject: str, item: str, reason: str
    ) -> Objection:
        raised = Raised(resource, subject, item, reason)
        row = await _objections(info).raise_objection(_actor(info), raised, _context(info).purpose)
        return _view(info, row)

    @strawberry.mutation(description="Answer an objection on your resource (its provider only), once.")
    async def answer_objection(
        self, info: Info, id: strawberry.ID, outcome: ObjectionOutcome, note: str
    ) -> Objection:
        row = await _objections(info).answer(_actor(info), str(id), OutcomeRule(outcome.value), note)
        return _view(info, row)

    @strawberry.mutation(
        description="Announce changed subjects of your resource (its provider only, Shanghai art. 16); "
        "changedAt: when the data changed (default now), against which lateness is counted."
    )
    async def notify_change(
        self,
        info: Info,
        resource: str,
        subjects: list[str],
        items: list[str] | None = None,
        changed_at: dt.datetime | None = None,
    ) -> Change:
        row = await _changes(info).notify(_actor(info), resource, subjects, items, changed_at)
        return change_view(row)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Change notices over graphql-transport-ws (token in connection_init payload): only "
        "subjects you have read, of resources you may read; resources null: all of them."
    )
    async def change_notices(
        self, info: Info, resources: list[str] | None = None
    ) -> AsyncGenerator[ChangeNotice, None]:
        context = _context(info)
        notices = _changes(info).stream(
            context.consumer, resources, context.purpose, context.recheck_credentials
        )
        async for notice in notices:
            yield ChangeNotice(
                resource=notice.resource,
                subjects=list(notice.subjects),
                items=list(notice.items),
                time=notice.changed_at,
            )
