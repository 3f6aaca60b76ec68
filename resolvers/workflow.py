"""Workflow queries and mutations: applications, their history and deadlines, grants.

The rules (states, roles, reasons, narrowing) live in ``policies.workflow``; storage and
deadlines in the gateway's workflow service, reached through ``Federation.workflow``.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from errors import BadRequest, ConfigurationError
from policies.catalog import Mask
from policies.catalog_query import item_names
from policies.chinatime import utc_now
from policies.decision import Grant, GrantConditions
from policies.share import Mode
from policies.workflow import Actor, Approval, Status, Submission
from resolvers.arguments import department_argument
from resolvers.context import RequestContext, WorkflowService
from resolvers.types import ServiceMode


@strawberry.enum(description="Where an application stands (see the workflow in README)")
class ApplicationStatus(Enum):
    SUBMITTED = Status.SUBMITTED.value
    RETURNED = Status.RETURNED.value
    ACCEPTED = Status.ACCEPTED.value
    APPROVED = Status.APPROVED.value
    REFUSED = Status.REFUSED.value
    ESCALATED = Status.ESCALATED.value
    REFUSAL_PENDING = Status.REFUSAL_PENDING.value


@strawberry.type(description="One change of an application: who, when, what and why.")
class ApplicationEvent:
    at: dt.datetime
    actor: str
    client: str
    user: str | None
    action: str
    from_status: ApplicationStatus | None
    to_status: ApplicationStatus
    reasons: list[str]


@strawberry.type(name="Grant", description="A consumer's permission for conditional items.")
class GrantView:
    id: strawberry.ID
    consumer: str
    resource: str
    items: list[str]
    modes: list[ServiceMode]
    purpose: str
    valid_from: dt.datetime
    valid_until: dt.datetime
    revoked: bool
    regions: list[str]
    masked_items: list[str]
    daily_cap: int | None


@strawberry.type(description="A conditional-access application (共享申请) and its deadlines in working days.")
class Application:
    id: strawberry.ID
    consumer: str
    provider: str
    resource: str
    items: list[str]
    modes: list[ServiceMode]
    purpose: str
    scope_of_knowledge: str
    security_measures: str
    legal_basis: str
    valid_from: dt.datetime
    valid_until: dt.datetime
    status: ApplicationStatus
    submitted_at: dt.datetime
    check_due: dt.date | None
    checked_at: dt.datetime | None
    decide_due: dt.date | None
    decided_at: dt.datetime | None
    decided_by: str | None
    notify_due: dt.date | None
    notified_at: dt.datetime | None
    reasons: list[str]
    grant_id: str | None
    calendar_warning: str | None
    overdue: list[str] = strawberry.field(description="Steps past their due date (open, or done late).")

    @strawberry.field(description="Every change, oldest first.")
    async def history(self, info: Info) -> list[ApplicationEvent]:
        rows = await _service(info).history(str(self.id))
        return [_event(row) for row in rows]


@strawberry.input
class ApplicationInput:
    resource: str = strawberry.field(description="The resource's id, as `catalog` returns it.")
    items: list[str] = strawberry.field(
        description="Item names, or the item ids `catalog` returns (<resource id>.<item name>)."
    )
    purpose: str
    scope_of_knowledge: str = strawberry.field(description="知悉范围: who will see the data")
    security_measures: str = strawberry.field(description="安全措施: how it is protected")
    legal_basis: str
    valid_until: dt.datetime
    valid_from: dt.datetime | None = None
    modes: list[ServiceMode] = strawberry.field(default_factory=lambda: [ServiceMode.QUERY])


@strawberry.input
class MaskInput:
    item: str
    keep_first: int = 0
    keep_last: int = 0


@strawberry.input(description="Conditions a provider attaches to an approval.")
class ConditionsInput:
    regions: list[str] = strawberry.field(default_factory=list, description="division prefixes, e.g. 4201")
    masks: list[MaskInput] = strawberry.field(default_factory=list)
    daily_cap: int | None = strawberry.field(default=None, description="distinct subjects a day")


def _service(info: Info) -> WorkflowService:
    context: RequestContext = info.context
    if context.federation.workflow is None:
        raise ConfigurationError("the workflow service is not configured")
    return context.federation.workflow


def _actor(info: Info) -> Actor:
    context: RequestContext = info.context
    return Actor(context.consumer, context.request_user)


def _now() -> dt.datetime:
    return utc_now()


def _modes(modes: list[ServiceMode]) -> list[Mode]:
    return [Mode(m.value) for m in modes]


def application_view(row: Any, overdue: list[str]) -> Application:
    fields = {name: getattr(row, name) for name in _ROW_FIELDS}
    return Application(
        **fields,
        id=strawberry.ID(row.id),
        modes=[ServiceMode(m) for m in row.modes],
        status=ApplicationStatus(row.status),
        reasons=list(row.reasons or []),
        overdue=overdue,
    )


_ROW_FIELDS = (
    "consumer", "provider", "resource", "items", "purpose", "scope_of_knowledge", "security_measures",
    "legal_basis", "valid_from", "valid_until", "submitted_at", "check_due", "checked_at", "decide_due",
    "decided_at", "decided_by", "notify_due", "notified_at", "grant_id", "calendar_warning",
)  # fmt: skip


def _event(row: Any) -> ApplicationEvent:
    before = ApplicationStatus(row.from_status) if row.from_status else None
    return ApplicationEvent(
        at=row.at, actor=row.actor, client=row.client, user=row.user, action=row.action,
        from_status=before, to_status=ApplicationStatus(row.to_status), reasons=list(row.reasons or []),
    )  # fmt: skip


def grant_view(grant: Grant) -> GrantView:
    return GrantView(
        id=strawberry.ID(grant.id), consumer=grant.consumer, resource=grant.resource,
        items=sorted(grant.items), modes=[ServiceMode(m.value) for m in sorted(grant.modes)],
        purpose=grant.purpose, valid_from=grant.valid_from, valid_until=grant.valid_until,
        revoked=grant.revoked, regions=list(grant.conditions.regions),
        masked_items=sorted(grant.conditions.masks), daily_cap=grant.conditions.daily_cap,
    )  # fmt: skip


def _view(info: Info, row: Any) -> Application:
    return application_view(row, _service(info).overdue_steps(row))


def _conditions(given: ConditionsInput | None) -> GrantConditions:
    if given is None:
        return GrantConditions()
    if any(m.keep_first < 0 or m.keep_last < 0 for m in given.masks):
        raise BadRequest("a mask keeps zero or more characters at each end (keepFirst, keepLast)")
    masks = {m.item: Mask(m.keep_first, m.keep_last) for m in given.masks}
    return GrantConditions(tuple(given.regions), masks, given.daily_cap)


APPLICATIONS_HELP = (
    "Applications you may see: operators all, providers those on their resources, consumers their own. "
    "overdue: true lists those with a step past its due date."
)
DECIDE_HELP = (
    "Provider decision (or the operator's, when escalated): approve, possibly narrowing items, modes "
    "and period and adding conditions; or refuse with reasons."
)


@strawberry.type
class WorkflowQuery:
    @strawberry.field(description=APPLICATIONS_HELP)
    async def applications(
        self,
        info: Info,
        status: ApplicationStatus | None = None,
        overdue: bool | None = None,
        resource: str | None = None,
        consumer: str | None = None,
    ) -> list[Application]:
        info.context.record_read("applications")
        wanted = Status(status.value) if status else None
        rows = await _service(info).applications(
            _actor(info),
            status=wanted,
            consumer=department_argument(consumer),
            resource=resource,
            overdue=overdue,
        )
        return [_view(info, row) for row in rows]

    @strawberry.field(description="One application, with its history.")
    async def application(self, info: Info, id: strawberry.ID) -> Application:
        info.context.record_read("application")
        return _view(info, await _service(info).get(_actor(info), str(id)))

    @strawberry.field(
        description="Grants you may see: operators all, providers on their resources, consumers their own."
    )
    async def grants(
        self, info: Info, consumer: str | None = None, resource: str | None = None
    ) -> list[GrantView]:
        info.context.record_read("grants")
        found = await _service(info).grants(_actor(info), department_argument(consumer), resource)
        return [grant_view(g) for g in found]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Apply for conditional items (consumer role).")
    async def submit_application(self, info: Info, application: ApplicationInput) -> Application:
        catalog = info.context.federation.catalog
        submission = Submission(
            resource=application.resource,
            items=item_names(catalog, application.resource, application.items),  # as `catalog` gives them
            modes=tuple(_modes(application.modes)),
            purpose=application.purpose,
            scope_of_knowledge=application.scope_of_knowledge,
            security_measures=application.security_measures,
            legal_basis=application.legal_basis,
            valid_from=application.valid_from or _now(),  # DateTime arguments arrive in UTC
            valid_until=application.valid_until,
        )
        return _view(info, await _service(info).submit(_actor(info), submission))

    @strawberry.mutation(description="Platform check (operator): accept, or return with reasons.")
    async def check_application(
        self, info: Info, id: strawberry.ID, accept: bool, reasons: list[str] | None = None
    ) -> Application:
        return _view(info, await _service(info).check(_actor(info), str(id), accept, reasons or []))

    @strawberry.mutation(description=DECIDE_HELP)
    async def decide_application(
        self,
        info: Info,
        id: strawberry.ID,
        approve: bool,
        reasons: list[str] | None = None,
        items: list[str] | None = None,
        modes: list[ServiceMode] | None = None,
        valid_until: dt.datetime | None = None,
        conditions: ConditionsInput | None = None,
    ) -> Application:
        approval = Approval(
            items, _modes(modes) if modes is not None else None, valid_until, _conditions(conditions)
        )
        row = await _service(info).decide(_actor(info), str(id), approve, reasons or [], approval)
        return _view(info, row)

    @strawberry.mutation(description="Take a returned, refused or overdue application to the operator.")
    async def escalate_application(self, info: Info, id: strawberry.ID, reasons: list[str]) -> Application:
        return _view(info, await _service(info).escalate(_actor(info), str(id), reasons))

    @strawberry.mutation(
        description="Revoke a grant (its provider or an operator); effective on the next request."
    )
    async def revoke_grant(self, info: Info, id: strawberry.ID, reasons: list[str]) -> GrantView:
        return grant_view(await _service(info).revoke(_actor(info), str(id), reasons))
