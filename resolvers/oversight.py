"""``lateResources``: the resources late for their update and the catalog entries overdue
for upkeep, under the profile's rules (operators only; issue 10 section 3).

Update limits: Shanghai art. 16, Zhejiang art. 25, Zhengzhou art. 24, Hubei art. 17, Sanya
art. 17; catalog upkeep: Shanghai art. 10, Zhejiang art. 10 (``policies.timeliness``). The
verdicts are the gateway's (``Federation.oversight``), shared with ``/readyz`` and ``stats``.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from errors import ConfigurationError
from resolvers.operator import DepartmentView, require_operator

LATE_HELP = (
    "Resources late for their update (the catalog's update cycle plus the profile's update limit "
    "in working days; realtime resources by their change notices) and catalog entries not "
    "maintained within the profile's limit, each with the article (operators only)."
)


@strawberry.enum(description="Why a resource is listed.")
class LateReason(Enum):
    UPDATE_LATE = "UPDATE_LATE"
    CATALOG_REVIEW_OVERDUE = "CATALOG_REVIEW_OVERDUE"


@strawberry.type(description="A resource late for its update or overdue for catalog upkeep.")
class LateResource:
    resource: str
    provider: DepartmentView
    reasons: list[LateReason]
    update_cycle: str
    rule: str = strawberry.field(description="cycle (update cycle + limit) or realtime (change notices).")
    limit_working_days: int | None = strawberry.field(
        description="The profile's update limit after the cycle, in working days; null: the catalog's cycle."
    )
    last_update: dt.datetime | None = strawberry.field(description="The source's last change stamp.")
    last_notice: dt.datetime | None = strawberry.field(description="The last change notice on the resource.")
    due_by: dt.datetime | None = strawberry.field(description="The last on-time instant; null for realtime.")
    update_article: str
    last_review: dt.date | None = strawberry.field(description="The entry's reviewed date, else published.")
    review_due: dt.date | None = strawberry.field(description="The day by which it is maintained again.")
    review_article: str


def late_view(found: Any, provider: Any) -> LateResource:
    """From a ``gateway.oversight.ResourceOversight`` record and the provider department."""
    update, review = found.update, found.review
    return LateResource(
        resource=found.resource.id,
        provider=DepartmentView(
            code=provider.code, name=provider.name, region=provider.region, level=provider.level
        ),
        reasons=[LateReason(reason) for reason in found.reasons],
        update_cycle=found.resource.update_cycle,
        rule=update.rule.kind,
        limit_working_days=update.rule.limit_working_days,
        last_update=update.last_update,
        last_notice=update.last_notice,
        due_by=update.due_by,
        update_article=update.rule.basis,
        last_review=review.last_review,
        review_due=review.due,
        review_article=review.basis,
    )


@strawberry.type
class OversightQuery:
    @strawberry.field(description=LATE_HELP)
    async def late_resources(self, info: Info) -> list[LateResource]:
        context = require_operator(info)
        context.record_read("lateResources")
        federation = context.federation
        if federation.oversight is None:
            raise ConfigurationError("oversight is not wired in this gateway (Federation.oversight)")
        catalog = federation.catalog
        return [late_view(f, catalog.provider_of(f.resource)) for f in await federation.oversight.late()]
