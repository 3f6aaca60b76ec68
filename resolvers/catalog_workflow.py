"""The catalog register over GraphQL (issue 11 §2): providers draft and submit their own
department's entries, the operator reviews each submitted entry, publishes or returns it.

Rules in ``policies.catalog_workflow``; storage in ``gateway.catalog_store``, reached through
``Federation.catalog_store``. A refused step is an error with ``extensions.code``
(``FORBIDDEN`` for another department's entry or the wrong role, ``BAD_REQUEST`` naming the
field or listing every catalog problem in ``extensions.problems``); nothing is stored then.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from errors import BadRequest, ConfigurationError
from policies.catalog_workflow import EntryState
from policies.workflow import Actor
from resolvers.context import CatalogStoreService, RequestContext

DRAFT_HELP = (
    "Draft a new resource or a change of one of YOUR department's resources (provider role): "
    "`resource` is the resource as in the YAML catalog (id, provider, items ...; leave `items` out "
    "to change its own fields only). Validated at once as `govshare catalog check` would; "
    "submit it with submitCatalogChange."
)
REVIEW_HELP = (
    "Review ONE submitted entry (operator role; Shanghai art. 10 逐条审核, Zhejiang art. 10): "
    "`item` null for the resource's own fields; approve, or return it with reasons."
)
PUBLISH_HELP = (
    "Publish every approved entry of a resource as one new version (operator role); the whole "
    "catalog is validated first and its `reviewed` date becomes today."
)
WITHDRAW_HELP = (
    "Take an entry out of the catalog at once, with reasons (its provider or an operator); "
    "`item` null withdraws the whole resource."
)


@strawberry.enum(description="Where a catalog entry stands (draft -> submitted -> approved -> published)")
class CatalogEntryState(Enum):
    DRAFT = EntryState.DRAFT.value
    SUBMITTED = EntryState.SUBMITTED.value
    APPROVED = EntryState.APPROVED.value
    PUBLISHED = EntryState.PUBLISHED.value
    RETURNED = EntryState.RETURNED.value
    WITHDRAWN = EntryState.WITHDRAWN.value


@strawberry.type(description="One catalog entry: a resource's own fields (item null) or one item.")
class CatalogEntry:
    resource: str
    item: str | None
    provider: str
    state: CatalogEntryState
    version: int
    published: JSON | None
    proposed: JSON | None
    reasons: list[str]
    submitted_at: dt.datetime | None
    updated_at: dt.datetime
    due: dt.date | None = strawberry.field(
        description="Last day (China) to publish a submitted change (Shanghai art. 10: 2 working days)"
    )
    overdue: bool
    upkeep_due: dt.date | None = strawberry.field(
        description="A published resource's next yearly upkeep (Shanghai / Zhejiang art. 10; header only)"
    )
    upkeep_overdue: bool | None = strawberry.field(
        description="Not reviewed within the profile's months (null where the profile sets no upkeep)"
    )


@strawberry.type(description="One step of a catalog entry's history: who, what, when, why.")
class CatalogEntryEvent:
    resource: str
    item: str | None
    action: str
    state: CatalogEntryState
    version: int
    department: str
    client: str
    user: str | None
    at: dt.datetime
    reasons: list[str]
    changed: list[str]
    body: JSON | None


def _store(info: Info) -> CatalogStoreService:
    context: RequestContext = info.context
    if context.federation.catalog_store is None:
        raise ConfigurationError("the catalog store is not configured")
    return context.federation.catalog_store


def _actor(info: Info) -> Actor:
    context: RequestContext = info.context
    return Actor(context.consumer, context.request_user)


def _entry(view: Any) -> CatalogEntry:
    return CatalogEntry(
        resource=view.resource, item=view.item, provider=view.provider,
        state=CatalogEntryState(view.state.value), version=view.version, published=view.published,
        proposed=view.proposed, reasons=list(view.reasons), submitted_at=view.submitted_at,
        updated_at=view.updated_at, due=view.due, overdue=view.overdue, upkeep_due=view.upkeep_due,
        upkeep_overdue=view.upkeep_overdue,
    )  # fmt: skip


def _event(view: Any) -> CatalogEntryEvent:
    return CatalogEntryEvent(
        resource=view.resource, item=view.item, action=view.action, state=CatalogEntryState(view.state),
        version=view.version, department=view.department, client=view.client, user=view.user,
        at=view.at, reasons=list(view.reasons), changed=list(view.changed), body=view.body,
    )  # fmt: skip


def _reason(text: str | None) -> str:
    if text is not None and len(text) > 2000:
        raise BadRequest("reason is longer than 2,000 characters; shorten it", field="reason")
    return text or ""


@strawberry.type
class CatalogWorkflowQuery:
    @strawberry.field(description="The register's entries: operators all, a provider its own department's.")
    async def catalog_entries(
        self, info: Info, resource: str | None = None, state: CatalogEntryState | None = None
    ) -> list[CatalogEntry]:
        context: RequestContext = info.context
        wanted = EntryState(state.value) if state is not None else None
        return [_entry(view) for view in await _store(info).entries(context.consumer, resource, wanted)]

    @strawberry.field(description="Every step of a resource's entries, oldest first (provider, operators).")
    async def catalog_history(
        self, info: Info, resource: str, item: str | None = None
    ) -> list[CatalogEntryEvent]:
        context: RequestContext = info.context
        return [_event(view) for view in await _store(info).history(context.consumer, resource, item)]

    @strawberry.field(
        description="What publishing a resource's pending changes would break, before the review "
        "decides: the breaking changes (an item removed, a class made stricter), each grant and "
        "application they touch and the consumers to notify (its provider and operators only)."
    )
    async def catalog_impact(self, info: Info, resource: str) -> JSON:
        context: RequestContext = info.context
        found = await _store(info).impact(context.consumer, resource)
        return JSON({"resource": resource, **found.as_json()})


@strawberry.type
class CatalogWorkflowMutation:
    @strawberry.mutation(description=DRAFT_HELP)
    async def draft_catalog_resource(
        self, info: Info, resource: JSON, reason: str | None = None
    ) -> list[CatalogEntry]:
        if not isinstance(resource, dict):
            raise BadRequest("resource must be a JSON object: a resource as in YAML", field="resource")
        drafted = await _store(info).draft(_actor(info), resource, _reason(reason))
        return [_entry(view) for view in drafted]

    @strawberry.mutation(description="Submit every draft entry of one of your resources for review.")
    async def submit_catalog_change(self, info: Info, resource: str) -> list[CatalogEntry]:
        return [_entry(view) for view in await _store(info).submit(_actor(info), resource)]

    @strawberry.mutation(description=REVIEW_HELP)
    async def review_catalog_entry(
        self,
        info: Info,
        resource: str,
        approve: bool,
        item: str | None = None,
        reasons: list[str] | None = None,
    ) -> CatalogEntry:
        return _entry(await _store(info).review(_actor(info), resource, item, approve, reasons or []))

    @strawberry.mutation(description=PUBLISH_HELP)
    async def publish_catalog_change(self, info: Info, resource: str) -> list[CatalogEntry]:
        store = _store(info)
        await store.publish(_actor(info), resource)
        context: RequestContext = info.context
        return [_entry(view) for view in await store.entries(context.consumer, resource)]

    @strawberry.mutation(description=WITHDRAW_HELP)
    async def withdraw_catalog_entry(
        self, info: Info, resource: str, reasons: list[str], item: str | None = None
    ) -> list[CatalogEntry]:
        return [_entry(view) for view in await _store(info).withdraw(_actor(info), resource, item, reasons)]
