"""Statistics for the yearly evaluation, per department and period (DESIGN.md section 8).

What the regulations' evaluations read: Hubei art. 26 (授权办理、数据调用和数据可用性),
Sanya art. 27 and Zhejiang art. 35 / Zhengzhou art. 31 (提供数量、更新时效、使用情况 /
利用频率), Shanghai art. 22 (目录编制、资源共享、更新维护). For each department:

- quantity: the resources it provides and their items by share class (the catalog);
- use: the data events of the audit trail (kinds query / compare / export) in the period
  that touch its resources, by service mode, their distinct consumer departments, and how
  many were refused (a decision on one of its items other than ``ALLOWED``);
- availability: the share of those events in which none of its items was refused with
  ``SOURCE_UNAVAILABLE`` (1.0 when there were none); and ``circuit``, its source's circuit
  breaker in this process (``resolvers.breaker``: state, calls, failures, calls refused
  while open, times opened, seconds open, share of calls that succeeded);
- authorizations: the applications on its resources decided in the period, approved or
  refused, their handling time in Chinese working days from submission to decision
  (average and 95th percentile, nearest rank), and how many applications have an
  overdue step (``Workflow.overdue_steps``);
- timeliness: per resource, the source's last update (``Connector.freshness``) judged by
  ``policies.timeliness``: the catalog's update cycle plus the profile's update limit in
  working days, or, for realtime resources, the last change notice (``gateway.oversight``
  over ``gateway.changes``; without oversight the catalog's cycle alone); ``late`` counts
  the late resources;
- catalog upkeep: the catalog entries not maintained within the profile's
  ``catalog_review_months`` (Shanghai / Zhejiang art. 10);
- objections (Hubei art. 23, Zhejiang art. 28): on its resources, all and overdue
  (``gateway.objections``); change notices (Shanghai art. 16): notified, and late against
  the update limit (``gateway.changes``).

Use is NOT counted by reading the trail: the audit log keeps running aggregates per
bucket (hour, China day, China month), providing department, mode and consumer
(``gateway.usage``), written in the same transaction as each event, and
``AuditLog.usage`` answers a period from the coarsest whole buckets inside it plus the raw
events of at most two partial hours. So ``stats`` takes about as long for a year of
events as for a day (README: Performance, ``python -m gateway.bench_stats``). The counting
is in pure functions and small tally classes over usage counts and application rows;
:class:`Statistics` only fetches (usage, applications, freshness) and assembles.

Who may read what (:func:`visible_departments`): operators every department (or the one
they name), a provider its own department only, anyone else nothing (``FORBIDDEN``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import math
from collections import Counter
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import sqlalchemy as sa

from errors import BadRequest, ConfigurationError, Forbidden
from gateway.oversight import Oversight, ResourceOversight, source_instant
from gateway.platform import aware
from gateway.usage import UsageCount, contributions
from gateway.workflow import ApplicationRow, Workflow
from policies import timeliness as policies_timeliness
from policies.catalog import Catalog, Department, Resource
from policies.chinatime import china_day
from policies.decision import Consumer
from policies.profile import Profile
from policies.share import Mode, Share
from policies.workdays import WorkdayCalendar
from policies.workflow import Status
from resolvers.batching import ResourceSource
from resolvers.breaker import BreakerSnapshot

log = logging.getLogger("govshare.stats")

MODES: Final = (Mode.QUERY, Mode.COMPARE, Mode.BULK)
CYCLE_DAYS: Final[Mapping[str, int]] = policies_timeliness.CYCLE_DAYS  # realtime: by change notices
APPLICATION_PAGE: Final = 500
FRESHNESS_TIMEOUT: Final = 5.0
P95: Final = 0.95


# --- results --------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """``since`` inclusive, ``until`` exclusive; None is open. Naive datetimes are China time."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "since", _utc(self.since))
        object.__setattr__(self, "until", _utc(self.until))
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise BadRequest("since must be before until", since=_text(self.since), until=_text(self.until))

    def contains(self, moment: dt.datetime) -> bool:
        moment = aware(moment)
        return (self.since is None or moment >= self.since) and (self.until is None or moment < self.until)


@dataclass(frozen=True)
class ItemCounts:
    unconditional: int = 0
    conditional: int = 0
    not_shared: int = 0


@dataclass(frozen=True)
class AuthorizationStats:
    count: int = 0  # decided in the period
    approved: int = 0
    refused: int = 0
    average_working_days: float | None = None  # submitted -> decided; None when none decided
    p95_working_days: float | None = None
    overdue: int = 0  # applications with an overdue step (decided in the period, or still undecided)


@dataclass(frozen=True)
class Timeliness:
    resource: str
    update_cycle: str
    last_update: dt.datetime | None  # None: the source has no change stamp, or could not be asked
    due_by: dt.datetime | None  # None: unknown, or realtime (judged by change notices)
    on_time: bool | None  # None: unknown
    rule: str = policies_timeliness.CYCLE  # cycle | realtime
    last_notice: dt.datetime | None = None  # the last change notice on the resource
    limit_working_days: int | None = None  # the profile's limit after the cycle
    basis: str = ""  # the article, e.g. 《上海市政务数据资源共享管理办法》 art. 16


@dataclass(frozen=True)
class Figure:
    """One figure the evaluation article names: ``figure`` (one of
    ``policies.profile_oversight.EVALUATION_FIGURES``), the article's ``term``, the ``value``
    (None when unknown) and its ``unit``."""

    figure: str
    term: str
    value: float | None
    unit: str


@dataclass(frozen=True)
class DepartmentStats:
    department: Department
    resources: int
    items: ItemCounts
    calls_by_mode: Mapping[Mode, int]  # every mode of MODES, 0 when unused
    distinct_consumers: int
    refusals: int
    authorizations: AuthorizationStats
    availability: float
    timeliness: tuple[Timeliness, ...]
    circuit: BreakerSnapshot | None = None  # its source's breaker in this process (Hubei art. 26)
    objections: int = 0  # objections raised on its resources (any status)
    objections_overdue: int = 0  # of those, past their due day (open, or answered late)
    changes_notified: int = 0  # change notices on its resources
    changes_late: int = 0  # of those, notified after the update limit (Shanghai art. 16)
    catalog_overdue: int = 0  # entries not maintained within the profile's limit (art. 10)
    catalog_reviewed: int | None = None  # entries maintained in time; None: the profile sets no upkeep
    evaluation: tuple[Figure, ...] = ()  # the figures the profile's evaluation article names

    @property
    def late(self) -> int:
        """Resources late for their update (timeliness per provider)."""
        return sum(t.on_time is False for t in self.timeliness)


# --- who may read what ----------------------------------------------------------------


def visible_departments(actor: Consumer, catalog: Catalog, department: str | None = None) -> list[str]:
    """The departments whose statistics ``actor`` may read, in catalog order.

    Operators: every department, or the one named. A provider: its own department only
    (naming another is FORBIDDEN). Anyone else: FORBIDDEN."""
    if actor.has("operator"):
        if department is None:
            return list(catalog.departments)
        if department not in catalog.departments:
            raise BadRequest(
                f"no department {department!r} in the catalog; the catalog query lists them",
                department=department,
            )
        return [department]
    if actor.has("provider"):
        if department not in (None, actor.department):
            raise Forbidden(
                "a providing department reads its own statistics only; operators read all",
                department=department,
            )
        return [actor.department] if actor.department in catalog.departments else []
    raise Forbidden(
        "statistics are for platform operators and providing departments; "
        "use a token with the operator or provider role",
        role="operator",
    )


# --- catalog --------------------------------------------------------------------------


def owners(catalog: Catalog, departments: Iterable[str]) -> dict[str, str]:
    """Resource id -> providing department, for the resources of ``departments``."""
    wanted = set(departments)
    return {rid: r.provider for rid, r in catalog.resources.items() if r.provider in wanted}


def item_counts(resources: Iterable[Resource]) -> ItemCounts:
    counts = Counter(item.share for resource in resources for item in resource.items)
    return ItemCounts(counts[Share.UNCONDITIONAL], counts[Share.CONDITIONAL], counts[Share.NOT_SHARED])


# --- use and availability: audit events -----------------------------------------------


@dataclass
class Usage:
    """One department's data events: by mode, consumers, refusals, source failures."""

    calls: Counter[Mode] = field(default_factory=Counter)
    consumers: set[str] = field(default_factory=set)
    refusals: int = 0
    unavailable: int = 0

    @property
    def events(self) -> int:
        return sum(self.calls.values())

    @property
    def availability(self) -> float:
        return 1.0 if not self.events else (self.events - self.unavailable) / self.events

    def calls_by_mode(self) -> dict[Mode, int]:
        return {mode: self.calls[mode] for mode in MODES}


class UsageTally:
    """Counts data events per providing department (``gateway.usage.contributions``).

    An event counts once for each department providing one of its resources; it is a
    refusal for that department when one of its items there had a decision other than
    ``ALLOWED``, and a source failure when one failed with ``SOURCE_UNAVAILABLE``."""

    def __init__(self, owners: Mapping[str, str]) -> None:
        self.owners = owners
        self.usage: dict[str, Usage] = {}

    def add(self, event: Mapping[str, Any]) -> None:
        """Count one stored event (a JSON-ready dict)."""
        for part in contributions(event, self.owners):
            self.add_count(
                UsageCount(part.department, part.mode, part.consumer, 1, part.refused, part.unavailable)
            )

    def add_count(self, count: UsageCount) -> None:
        """Count the events of one (department, mode, consumer) read from the aggregates."""
        usage = self.usage.setdefault(count.department, Usage())
        usage.calls[count.mode] += count.calls
        if count.consumer and count.calls:
            usage.consumers.add(count.consumer)
        usage.refusals += count.refusals
        usage.unavailable += count.unavailable

    def of(self, department: str) -> Usage:
        return self.usage.get(department) or Usage()


def tally_events(events: Iterable[Mapping[str, Any]], owners: Mapping[str, str]) -> UsageTally:
    tally = UsageTally(owners)
    for event in events:
        tally.add(event)
    return tally


# --- authorizations: applications -----------------------------------------------------


def working_days(calendar: WorkdayCalendar, start: dt.datetime, end: dt.datetime) -> int:
    """Working days from ``start`` to ``end`` (China dates): those in (start day, end day]."""
    return calendar.workdays_between(china_day(start), china_day(end))


def nearest_rank(histogram: Mapping[int, int], fraction: float) -> int | None:
    """The nearest-rank percentile (the smallest value with at least ``fraction`` of the
    counts at or below it) of a value -> count histogram; None when it is empty."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank, seen = max(1, math.ceil(fraction * total)), 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise AssertionError("unreachable: the ranks add up to the total")


def decided(row: ApplicationRow) -> bool:
    return row.decided_at is not None


def refused(row: ApplicationRow) -> bool:
    """Refused, or refused and then escalated (the escalation keeps the decision's time)."""
    return row.status == Status.REFUSED.value or (row.status == Status.ESCALATED.value and decided(row))


class AuthorizationTally:
    """Applications of one department, one row at a time; durations kept as a histogram."""

    def __init__(
        self, period: Period, calendar: WorkdayCalendar, overdue: Callable[[ApplicationRow], Sequence[str]]
    ) -> None:
        self.period, self.calendar, self.overdue_steps = period, calendar, overdue
        self.count = self.approved = self.refused = self.overdue = 0
        self.days: Counter[int] = Counter()

    def add(self, row: ApplicationRow) -> None:
        in_period = row.decided_at is not None and self.period.contains(row.decided_at)
        open_then = row.decided_at is None and (
            self.period.until is None or aware(row.submitted_at) < self.period.until
        )
        if in_period:
            assert row.decided_at is not None
            self.count += 1
            self.approved += row.status == Status.APPROVED.value
            self.refused += refused(row)
            self.days[working_days(self.calendar, row.submitted_at, row.decided_at)] += 1
        if (in_period or open_then) and self.overdue_steps(row):
            self.overdue += 1

    def result(self) -> AuthorizationStats:
        total = sum(self.days.values())
        average = sum(days * n for days, n in self.days.items()) / total if total else None
        p95 = nearest_rank(self.days, P95)
        return AuthorizationStats(
            count=self.count,
            approved=self.approved,
            refused=self.refused,
            average_working_days=None if average is None else round(average, 2),
            p95_working_days=None if p95 is None else float(p95),
            overdue=self.overdue,
        )


def authorization_stats(
    rows: Iterable[ApplicationRow],
    period: Period,
    calendar: WorkdayCalendar,
    overdue: Callable[[ApplicationRow], Sequence[str]],
) -> AuthorizationStats:
    tally = AuthorizationTally(period, calendar, overdue)
    for row in rows:
        tally.add(row)
    return tally.result()


# --- timeliness -----------------------------------------------------------------------


def timeliness(resource: Resource, last_update: dt.datetime | None, now: dt.datetime) -> Timeliness:
    """When the next update is due by the catalog's cycle alone (no profile), and whether it
    still is; a realtime resource is judged by change notices (here: none).

    A source's stamp without an offset is China time; one outside the range of instants
    (policies.chinatime, e.g. 9999-12-31 as "never") counts as unknown, not as an error."""
    rule = policies_timeliness.catalog_rule(resource.update_cycle)
    last = source_instant(resource.id, last_update)
    verdict = policies_timeliness.judge_update(rule, last, None, aware(now), WorkdayCalendar())
    return from_verdict(resource, verdict)


def from_verdict(resource: Resource, verdict: policies_timeliness.UpdateVerdict) -> Timeliness:
    """The stats record of a ``policies.timeliness`` verdict."""
    rule = verdict.rule
    on_time = None if verdict.late is None else not verdict.late
    return Timeliness(resource.id, resource.update_cycle, verdict.last_update, verdict.due_by, on_time,
                      rule.kind, verdict.last_notice, rule.limit_working_days, rule.basis)  # fmt: skip


# --- assembly -------------------------------------------------------------------------


def department_stats(
    catalog: Catalog,
    department: str,
    usage: Usage,
    authorizations: AuthorizationStats,
    freshness: Mapping[str, dt.datetime | None],
    now: dt.datetime,
    verdicts: Mapping[str, ResourceOversight] | None = None,
) -> DepartmentStats:
    """One department's record; ``verdicts`` (``gateway.oversight``) judge timeliness and
    catalog upkeep under the profile, else the catalog's cycle alone judges timeliness."""
    resources = [r for r in catalog.resources.values() if r.provider == department]
    if verdicts is not None:
        return _with_verdicts(department_stats(catalog, department, usage, authorizations, {}, now),
                              [verdicts[r.id] for r in resources if r.id in verdicts])  # fmt: skip
    return DepartmentStats(
        department=catalog.departments[department],
        resources=len(resources),
        items=item_counts(resources),
        calls_by_mode=usage.calls_by_mode(),
        distinct_consumers=len(usage.consumers),
        refusals=usage.refusals,
        authorizations=authorizations,
        availability=usage.availability,
        timeliness=tuple(timeliness(r, freshness.get(r.id), now) for r in resources),
    )


def _with_verdicts(stats: DepartmentStats, found: Sequence[ResourceOversight]) -> DepartmentStats:
    judged = [f.review.overdue for f in found if f.review.overdue is not None]
    return dataclasses.replace(
        stats,
        timeliness=tuple(from_verdict(f.resource, f.update) for f in found),
        catalog_overdue=sum(judged),
        catalog_reviewed=len(judged) - sum(judged) if judged else None,
    )


FIGURE_UNITS: Final[Mapping[str, str]] = {
    "quantity": "resources provided",
    "timeliness": "share of resources updated on time",
    "use": "data calls",
    "authorizations": "applications decided",
    "availability": "share of calls the source answered",
    "catalog_upkeep": "share of catalog entries maintained in time",
}


def figure_value(figure: str, stats: DepartmentStats) -> float | None:
    """The value of one evaluation figure (``FIGURE_UNITS``) for a department's record."""
    if figure == "quantity":
        return float(stats.resources)
    if figure == "timeliness":
        judged = [t.on_time for t in stats.timeliness if t.on_time is not None]
        return sum(judged) / len(judged) if judged else None
    if figure == "use":
        return float(sum(stats.calls_by_mode.values()))
    if figure == "authorizations":
        return float(stats.authorizations.count)
    if figure == "availability":
        return stats.availability
    kept, overdue = stats.catalog_reviewed, stats.catalog_overdue
    return None if kept is None else kept / (kept + overdue)


def with_evaluation(stats: DepartmentStats, profile: Profile) -> DepartmentStats:
    """``stats`` with the figures that ``profile``'s evaluation article names, in its order."""
    terms = profile.oversight.evaluation.figures
    figures = tuple(Figure(f, term, figure_value(f, stats), FIGURE_UNITS[f]) for f, term in terms.items())
    return dataclasses.replace(stats, evaluation=figures)


class UsageReader(Protocol):
    """The audit log's usage aggregates (implemented by ``gateway.audit.AuditLog.usage``)."""

    async def usage(
        self,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        departments: Collection[str] | None = None,
    ) -> Sequence[UsageCount]: ...


class Statistics:
    """The ``stats`` query's service: reads the audit log's usage aggregates, the
    applications and the sources' freshness, and counts with the functions above."""

    def __init__(
        self,
        catalog: Catalog,
        sources: Mapping[str, ResourceSource],
        audit: UsageReader | None,
        workflow: Workflow,
        *,
        clock: Callable[[], dt.datetime] | None = None,
        freshness_timeout: float = FRESHNESS_TIMEOUT,
        oversight: Oversight | None = None,
    ) -> None:
        self.catalog, self.sources, self.audit, self.workflow = catalog, sources, audit, workflow
        self.oversight = oversight  # profile rules for timeliness and catalog upkeep
        self._clock = clock  # default: the workflow's (so a test's fixed clock holds for both)
        self.freshness_timeout = freshness_timeout
        self.objections: Any = None  # gateway.objections.Objections, set by the gateway when running
        self.changes: Any = None  # gateway.changes.ChangeNotices

    async def department_stats(
        self,
        actor: Consumer,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        department: str | None = None,
    ) -> list[DepartmentStats]:
        departments = visible_departments(actor, self.catalog, department)
        period = Period(since, until)
        if not departments:
            return []
        if self.audit is None:
            raise ConfigurationError("the audit trail is switched off (GOVSHARE_AUDIT=off): no call counts")
        owned = owners(self.catalog, departments)
        now = (self._clock or self.workflow.clock)()
        usage, authorizations, freshness = await asyncio.gather(
            self._usage(owned, period), self._authorizations(owned, period, now), self._freshness(owned)
        )
        verdicts = await self.oversight.verdicts() if self.oversight is not None else None
        blank = AuthorizationStats()
        circuits = {s.breaker.source: s.breaker for s in self.sources.values() if s.breaker is not None}
        found = [
            dataclasses.replace(
                department_stats(
                    self.catalog, c, usage.of(c), authorizations.get(c, blank), freshness, now, verdicts
                ),
                circuit=circuits[c].snapshot() if c in circuits else None,
            )
            for c in departments
        ]
        found = await self._with_notices(found, departments)
        return [with_evaluation(stats, self.workflow.profile) for stats in found]

    async def _with_notices(
        self, found: list[DepartmentStats], departments: list[str]
    ) -> list[DepartmentStats]:
        """Objection and change-notice counts per providing department, when those services run."""
        objections = await self.objections.counts(departments) if self.objections else {}
        changes = await self.changes.late_counts(departments) if self.changes else {}
        return [_notices(s, objections.get(s.department.code), changes.get(s.department.code)) for s in found]

    async def _usage(self, owned: Mapping[str, str], period: Period) -> UsageTally:
        """The period's data events, from the audit log's aggregates (never a scan of the trail)."""
        assert self.audit is not None
        tally = UsageTally(owned)
        if not owned:
            return tally
        for count in await self.audit.usage(period.since, period.until, set(owned.values())):
            tally.add_count(count)
        return tally

    async def _authorizations(
        self, owned: Mapping[str, str], period: Period, now: dt.datetime
    ) -> dict[str, AuthorizationStats]:
        today = china_day(now)

        def overdue(row: ApplicationRow) -> list[str]:
            return self.workflow.overdue_steps(row, today)

        calendar = self.workflow.calendar
        tallies = {code: AuthorizationTally(period, calendar, overdue) for code in owned.values()}
        async for row in self._applications(owned, period):
            tallies[owned[row.resource]].add(row)
        return {code: tally.result() for code, tally in tallies.items()}

    async def _applications(self, owned: Mapping[str, str], period: Period) -> AsyncIterator[ApplicationRow]:
        """Applications on ``owned`` decided in the period or undecided then, a page at a time."""
        if not owned:
            return
        table = ApplicationRow
        query = sa.select(table).where(table.resource.in_(sorted(owned)))
        if period.since is not None:
            query = query.where(table.decided_at.is_(None) | (table.decided_at >= period.since))
        if period.until is not None:
            query = query.where(table.submitted_at < period.until)
        last: str | None = None
        async with self.workflow.platform.session() as session:
            while True:
                paged = query if last is None else query.where(table.id > last)
                rows = list((await session.scalars(paged.order_by(table.id).limit(APPLICATION_PAGE))).all())
                for row in rows:
                    yield row
                if len(rows) < APPLICATION_PAGE:
                    return
                last = rows[-1].id
                session.expunge_all()  # only one page is held

    async def _freshness(self, owned: Mapping[str, str]) -> dict[str, dt.datetime | None]:
        """Each resource's last update; a source that fails or is too slow counts as unknown."""
        if self.oversight is not None:  # it asks the sources itself (and keeps the answers a while)
            return {}
        rids = [rid for rid in owned if rid in self.sources]
        answers = await asyncio.gather(*(self._fresh(rid) for rid in rids))
        return dict(zip(rids, answers, strict=True))

    async def _fresh(self, rid: str) -> dt.datetime | None:
        source = self.sources[rid]
        try:
            async with asyncio.timeout(self.freshness_timeout):
                return await source.connector.freshness(source.binding)
        except Exception as exc:  # any failure of one source: unknown, never a failed query
            log.warning("freshness of %s unknown: %s: %s", rid, type(exc).__name__, exc)
            return None


def _notices(
    stats: DepartmentStats, objections: Mapping[str, int] | None, changes: Mapping[str, int] | None
) -> DepartmentStats:
    """``stats`` with its objection and change-notice counts (none: zeros)."""
    o, c = objections or {}, changes or {}
    return dataclasses.replace(
        stats,
        objections=o.get("open", 0) + o.get("answered", 0),
        objections_overdue=o.get("overdue", 0),
        changes_notified=c.get("notified", 0),
        changes_late=c.get("late", 0),
    )


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else aware(moment).astimezone(dt.UTC)


def _text(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
