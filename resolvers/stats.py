"""``stats``: what the regulations' yearly evaluation reads, per department and period.

Hubei art. 26 (授权办理、数据调用、数据可用性), Sanya art. 27, Zhejiang art. 35 and
Zhengzhou art. 31 (提供数量、更新时效、使用情况), Shanghai art. 22 (目录编制、资源共享、
更新维护). Operators read every department (or one), a providing department its own,
consumers nothing (FORBIDDEN). The counting is the gateway's (``Federation.stats``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.types import Info

from errors import ConfigurationError
from resolvers.arguments import department_argument
from resolvers.context import RequestContext
from resolvers.operator import DepartmentView
from resolvers.types import ServiceMode

STATS_HELP = (
    "Per department, in the period [since, until): resources and items provided, calls by mode, "
    "consumers, refusals, authorizations, source availability, update timeliness under the profile's "
    "update limit, catalog upkeep, and the figures the profile's evaluation article names (Hubei "
    "art. 26, Zhejiang art. 35, Zhengzhou art. 31, Shanghai art. 22, Sanya art. 27). Operators: every "
    "department, or the one named; a provider: its own department only; consumers: FORBIDDEN."
)


@strawberry.type(description="Items of a department's resources by share class.")
class ItemCounts:
    unconditional: int
    conditional: int
    not_shared: int


@strawberry.type(description="Data events (audit trail) in one service mode.")
class ModeCount:
    mode: ServiceMode
    count: int


@strawberry.type(
    description="Conditional-access applications on the department's resources (Hubei art. 26: 授权办理)."
)
class AuthorizationStats:
    count: int = strawberry.field(description="Applications decided in the period.")
    approved: int = strawberry.field(description="Of those, approved.")
    refused: int = strawberry.field(description="Of those, refused (escalated after refusal included).")
    average_working_days: float | None = strawberry.field(
        description="Average Chinese working days from submission to decision; null when none decided."
    )
    p95_working_days: float | None = strawberry.field(
        description="95th percentile (nearest rank) of those working days; null when none decided."
    )
    overdue: int = strawberry.field(
        description="Applications decided in the period, or still undecided in it, with a step past "
        "its due date (done late, or still open)."
    )


@strawberry.type(description="Whether a resource is updated within its catalog update cycle.")
class ResourceTimeliness:
    resource: str
    update_cycle: str
    last_update: dt.datetime | None = strawberry.field(
        description="The source's last change (its change stamp); null when it has none or did not answer."
    )
    due_by: dt.datetime | None = strawberry.field(
        description="lastUpdate + the cycle (realtime 0, daily 1 day, weekly 7, monthly 31, "
        "quarterly 92, yearly 366); null when unknown."
    )
    on_time: bool | None = strawberry.field(
        description="Not late: for rule cycle, now is not past dueBy; for realtime, the last change "
        "has a change notice at or after it (or is within the grace); null when unknown."
    )
    rule: str = strawberry.field(
        description="cycle: lastUpdate + the cycle + the profile's update limit in working days "
        "(Shanghai art. 16, Zhejiang art. 25); realtime: judged by change notices (Zhengzhou art. 24, "
        "Zhejiang art. 25, or update_cycle realtime)."
    )
    last_notice: dt.datetime | None = strawberry.field(description="The last change notice on the resource.")
    limit_working_days: int | None = strawberry.field(
        description="The profile's update limit after the cycle; null: the catalog's cycle is the limit."
    )
    article: str = strawberry.field(description="The article the rule comes from.")


@strawberry.type(description="A figure the profile's evaluation article names (e.g. Zhejiang art. 35).")
class EvaluationFigure:
    figure: str = strawberry.field(
        description="quantity, timeliness, use, authorizations, availability or catalog_upkeep."
    )
    term: str = strawberry.field(description="The article's own words for it, e.g. 更新时效.")
    value: float | None = strawberry.field(description="Its value; null when unknown or not judged.")
    unit: str


@strawberry.type(
    description="The department source's circuit breaker since this gateway process started "
    "(Hubei art. 26, 数据可用性): its state and how its source calls went."
)
class SourceCircuit:
    state: str = strawberry.field(description="closed, open (failing fast) or half_open (probing).")
    calls: int = strawberry.field(description="Source calls made.")
    failures: int = strawberry.field(description="Of those, failed or timed out.")
    rejected: int = strawberry.field(description="Calls refused at once while the circuit was open.")
    opened: int = strawberry.field(description="Times the circuit opened.")
    seconds_open: float = strawberry.field(description="Seconds not closed, in all.")
    availability: float = strawberry.field(
        description="Successful source calls / (calls + rejected); 1.0 when there were none."
    )


def _circuit(snapshot: Any) -> SourceCircuit | None:
    if snapshot is None:
        return None
    return SourceCircuit(state=snapshot.state, calls=snapshot.calls, failures=snapshot.failures,
                         rejected=snapshot.rejected, opened=snapshot.opened,
                         seconds_open=snapshot.seconds_open, availability=snapshot.availability)  # fmt: skip


@strawberry.type(description="One department's sharing statistics for the evaluation (评估).")
class DepartmentStats:
    department: DepartmentView
    resources: int = strawberry.field(description="Resources it provides (catalog).")
    items: ItemCounts = strawberry.field(description="Its resources' items by share class.")
    calls_by_mode: list[ModeCount] = strawberry.field(
        description="Data events (query, compare, bulk export) in the period touching its resources."
    )
    distinct_consumers: int = strawberry.field(description="Distinct consumer departments in those events.")
    refusals: int = strawberry.field(
        description="Of those events, how many had a decision on its items other than ALLOWED."
    )
    authorizations: AuthorizationStats
    availability: float | None = strawberry.field(
        description="Share of those events in which no item of its resources failed with "
        "SOURCE_UNAVAILABLE; 1.0 when there were none."
    )
    timeliness: list[ResourceTimeliness] = strawberry.field(description="Per resource it provides.")
    objections: int = strawberry.field(description="Objections (疑义) raised on its resources, any status.")
    objections_overdue: int = strawberry.field(
        description="Of those, past their due day in working days (open, or answered late)."
    )
    changes_notified: int = strawberry.field(
        description="Change notices on its resources (Shanghai art. 16)."
    )
    changes_late: int = strawberry.field(
        description="Of those, notified after the update limit (working days after the stated change time)."
    )
    late: int = strawberry.field(description="Its resources late for their update (timeliness per provider).")
    catalog_overdue: int = strawberry.field(
        description="Its catalog entries not maintained within the profile's limit "
        "(Shanghai / Zhejiang art. 10)."
    )
    catalog_reviewed: int | None = strawberry.field(
        description="Its catalog entries maintained in time; null where the profile sets no upkeep."
    )
    evaluation: list[EvaluationFigure] = strawberry.field(
        description="The figures the profile's evaluation article names, in its order, with its terms."
    )
    circuit: SourceCircuit | None = strawberry.field(
        default=None, description="Its source's circuit breaker in this process; null without a source."
    )


def _view(stats: Any) -> DepartmentStats:
    """From a ``gateway.stats.DepartmentStats`` record (read by attribute)."""
    department, items, auth = stats.department, stats.items, stats.authorizations
    return DepartmentStats(
        department=DepartmentView(
            code=department.code, name=department.name, region=department.region, level=department.level
        ),
        resources=stats.resources,
        items=ItemCounts(
            unconditional=items.unconditional, conditional=items.conditional, not_shared=items.not_shared
        ),
        calls_by_mode=[
            ModeCount(mode=ServiceMode(mode.value), count=n) for mode, n in stats.calls_by_mode.items()
        ],
        distinct_consumers=stats.distinct_consumers,
        refusals=stats.refusals,
        authorizations=AuthorizationStats(
            count=auth.count,
            approved=auth.approved,
            refused=auth.refused,
            average_working_days=auth.average_working_days,
            p95_working_days=auth.p95_working_days,
            overdue=auth.overdue,
        ),
        availability=stats.availability,
        timeliness=[
            ResourceTimeliness(
                resource=t.resource,
                update_cycle=t.update_cycle,
                last_update=t.last_update,
                due_by=t.due_by,
                on_time=t.on_time,
                rule=t.rule,
                last_notice=t.last_notice,
                limit_working_days=t.limit_working_days,
                article=t.basis,
            )
            for t in stats.timeliness
        ],
        objections=stats.objections,
        circuit=_circuit(getattr(stats, "circuit", None)),
        objections_overdue=stats.objections_overdue,
        changes_notified=stats.changes_notified,
        changes_late=stats.changes_late,
        late=stats.late,
        catalog_overdue=stats.catalog_overdue,
        catalog_reviewed=stats.catalog_reviewed,
        evaluation=[
            EvaluationFigure(figure=f.figure, term=f.term, value=f.value, unit=f.unit)
            for f in stats.evaluation
        ],
    )


@strawberry.type
class StatsQuery:
    @strawberry.field(description=STATS_HELP)
    async def stats(
        self,
        info: Info,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        department: str | None = None,
    ) -> list[DepartmentStats]:
        context: RequestContext = info.context
        context.record_read("stats")
        service = context.federation.stats
        if service is None:
            raise ConfigurationError("statistics are not wired in this gateway (Federation.stats)")
        found = await service.department_stats(
            context.consumer, since=since, until=until, department=department_argument(department)
        )
        return [_view(stats) for stats in found]
