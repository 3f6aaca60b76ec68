"""Statistics for the yearly evaluation (gateway.stats; Hubei art. 26, Zhejiang art. 35 ...).

Pure counting first, table-driven over hand-made audit events and application rows: calls by
mode, distinct consumers, refusals, availability, working-day handling times across the 2026
National Day holiday (10-01..10-07 off, Saturday 10-10 worked), timeliness per update cycle,
who may read what. Then the service over a real audit log, platform database and mock
sources (tests/data/catalog.yaml): events read page by page, a source whose freshness fails
or hangs counts as unknown, and the ``stats`` GraphQL field with its role scoping.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connectors.base import Binding
from connectors.mock import MockConnector
from errors import BadRequest, Forbidden
from gateway.audit import AuditEvent, AuditLog
from gateway.platform import PlatformDB
from gateway.stats import (
    CYCLE_DAYS,
    AuthorizationStats,
    ItemCounts,
    Period,
    Statistics,
    authorization_stats,
    item_counts,
    nearest_rank,
    tally_events,
    timeliness,
    visible_departments,
    working_days,
)
from gateway.workflow import ApplicationRow, Workflow
from policies.catalog import Catalog, Resource, load_catalog
from policies.codes import make_uscc
from policies.decision import Consumer
from policies.profile import load_profile
from policies.share import Mode, Share
from policies.workdays import CHINA_TIME, WorkdayCalendar
from resolvers.batching import ResourceSource
from resolvers.context import Federation, RequestContext
from resolvers.schema import build_schema
from tests.conftest import CATALOG

AMR = "amr.enterprise_registration"
TAX = "tax.tax_credit"
PSB = "psb.resident"
AMR_DEPT = "11420000MB00000191"
TAX_DEPT = "11420000MB0000027U"
PSB_DEPT = "11420100MB0000035U"
HOUSING = make_uscc("1", "1", "420100", "MT000001")
DRC = make_uscc("1", "1", "420100", "MT000002")
OPERATOR_DEPT = make_uscc("1", "1", "420100", "MT000009")
OWNERS = {AMR: AMR_DEPT, TAX: TAX_DEPT, PSB: PSB_DEPT}
CALENDAR = WorkdayCalendar()
NOW = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG)


def who(department: str, *roles: str) -> Consumer:
    return Consumer(department, f"client-{department[-4:]}", frozenset(roles))


def china(y: int, m: int, d: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(y, m, d, hour, tzinfo=CHINA_TIME)


# --- calls, consumers, refusals, availability ----------------------------------------


def ev(
    kind: str = "query",
    consumer: str | None = HOUSING,
    resources: Sequence[str] = (AMR,),
    decisions: dict[str, str] | None = None,
    outcome: str = "answered",
    mode: str | None = "default",
) -> dict[str, Any]:
    """A stored event as AuditLog.events returns it (only what the counting reads)."""
    if decisions is None:
        decisions = (
            {f"{r}.name": "ALLOWED" for r in resources} if kind in ("query", "compare", "export") else {}
        )
    if mode == "default":
        mode = {"query": "query", "compare": "compare", "export": "bulk"}.get(kind)
    return {"kind": kind, "consumer": consumer, "resources": list(resources), "decisions": decisions,
            "outcome": outcome, "mode": mode}  # fmt: skip


@dataclass(frozen=True)
class UsageCase:
    events: list[dict[str, Any]]
    calls: dict[Mode, int]
    consumers: int
    refusals: int
    availability: float
    department: str = AMR_DEPT


def calls(query: int = 0, compare: int = 0, bulk: int = 0) -> dict[Mode, int]:
    return {Mode.QUERY: query, Mode.COMPARE: compare, Mode.BULK: bulk}


USAGE_CASES = {
    "no events: nothing counted, fully available": UsageCase([], calls(), 0, 0, 1.0),
    "query events of two consumers": UsageCase(
        [ev(), ev(), ev(consumer=DRC)], calls(query=3), consumers=2, refusals=0, availability=1.0
    ),
    "by mode: compare, and export counted as bulk": UsageCase(
        [ev("query"), ev("compare"), ev("export"), ev("export", mode=None)],
        calls(query=1, compare=1, bulk=2),
        consumers=1,
        refusals=0,
        availability=1.0,
    ),
    "an unknown recorded mode falls back to the kind": UsageCase(
        [ev("compare", mode="telepathy")], calls(compare=1), 1, 0, 1.0
    ),
    "workflow, admin and auth events are not calls": UsageCase(
        [ev("workflow", outcome="submit"), ev("admin", consumer=None, outcome="grant.add"), ev("auth")],
        calls(),
        0,
        0,
        1.0,
    ),
    "events on other departments' resources do not count": UsageCase(
        [ev(resources=(TAX,)), ev(resources=(PSB,), consumer=DRC)], calls(), 0, 0, 1.0
    ),
    "a refused item counts once per event": UsageCase(
        [
            ev(
                decisions={
                    f"{AMR}.name": "ALLOWED",
                    f"{AMR}.legal_representative": "CONDITIONAL_ACCESS_REQUIRED",
                    f"{AMR}.inner_note": "NOT_SHARED",
                }
            ),
            ev(),
        ],
        calls(query=2),
        1,
        refusals=1,
        availability=1.0,
    ),
    "allowed then capped per subject is a refusal": UsageCase(
        [ev(decisions={f"{AMR}.name": "ALLOWED|RATE_LIMITED"})], calls(query=1), 1, 1, 1.0
    ),
    "another department's refusal is not this one's": UsageCase(
        [ev(resources=(AMR, TAX), decisions={f"{AMR}.name": "ALLOWED", f"{TAX}.tax_arrears": "NOT_SHARED"})],
        calls(query=1),
        1,
        refusals=0,
        availability=1.0,
    ),
    "... but it is the other department's": UsageCase(
        [ev(resources=(AMR, TAX), decisions={f"{AMR}.name": "ALLOWED", f"{TAX}.tax_arrears": "NOT_SHARED"})],
        calls(query=1),
        1,
        refusals=1,
        availability=1.0,
        department=TAX_DEPT,
    ),
    "SOURCE_UNAVAILABLE in one of four events": UsageCase(
        [ev(), ev(), ev(consumer=DRC), ev(decisions={f"{AMR}.name": "SOURCE_UNAVAILABLE"})],
        calls(query=4),
        consumers=2,
        refusals=1,
        availability=0.75,
    ),
    "SOURCE_UNAVAILABLE after an allowed decision": UsageCase(
        [ev(decisions={f"{AMR}.name": "ALLOWED|SOURCE_UNAVAILABLE"}), ev()], calls(query=2), 1, 1, 0.5
    ),
    "another department's source failure does not lower this one's availability": UsageCase(
        [
            ev(
                resources=(AMR, TAX),
                decisions={f"{AMR}.name": "ALLOWED", f"{TAX}.credit_rating": "SOURCE_UNAVAILABLE"},
            )
        ],
        calls(query=1),
        1,
        0,
        1.0,
    ),
    "a decision on the whole resource counts too": UsageCase(
        [ev(decisions={AMR: "SOURCE_UNAVAILABLE"}), ev()], calls(query=2), 1, refusals=1, availability=0.5
    ),
    "an event without decisions is judged by its outcome": UsageCase(
        [
            ev(decisions={}, outcome="SOURCE_UNAVAILABLE"),
            ev(decisions={}, outcome="answered"),
            ev(decisions={}, outcome="refused"),
        ],
        calls(query=3),
        1,
        refusals=2,
        availability=2 / 3,
    ),
    "an event without a consumer still counts as a call": UsageCase(
        [ev(consumer=None)], calls(query=1), consumers=0, refusals=0, availability=1.0
    ),
}


@pytest.mark.parametrize("case", USAGE_CASES.values(), ids=USAGE_CASES.keys())
def test_usage_is_counted_per_department(case: UsageCase) -> None:
    usage = tally_events(case.events, OWNERS).of(case.department)
    assert usage.calls_by_mode() == case.calls
    assert len(usage.consumers) == case.consumers
    assert usage.refusals == case.refusals
    assert usage.availability == pytest.approx(case.availability)


def test_one_event_across_departments_counts_for_each() -> None:
    tally = tally_events([ev(resources=(AMR, TAX, PSB))], OWNERS)
    assert [tally.of(d).calls[Mode.QUERY] for d in (AMR_DEPT, TAX_DEPT, PSB_DEPT)] == [1, 1, 1]
    assert tally.of(OPERATOR_DEPT).events == 0  # provides nothing


# --- working days and authorizations --------------------------------------------------


@pytest.mark.parametrize(
    ("submitted", "decided", "days"),
    [
        (china(2026, 9, 30), china(2026, 10, 12), 4),  # 10-08, 10-09, Sat 10-10 (worked), 10-12
        (china(2026, 9, 30, 9), china(2026, 9, 30, 17), 0),  # same day
        (china(2026, 10, 1), china(2026, 10, 7), 0),  # inside the holiday
        (china(2026, 10, 9), china(2026, 10, 13), 3),  # Sat 10-10 worked, Sun 10-11 not
        (china(2026, 11, 16), china(2026, 11, 23), 5),  # an ordinary week
        # 23:30 UTC on 09-30 is already 10-01 in China: the holiday starts the count
        (dt.datetime(2026, 9, 30, 23, 30, tzinfo=dt.UTC), china(2026, 10, 8), 1),
    ],
)
def test_working_days_use_china_dates_and_the_holiday_calendar(submitted, decided, days) -> None:
    assert working_days(CALENDAR, submitted, decided) == days


@pytest.mark.parametrize(
    ("histogram", "fraction", "expected"),
    [
        ({}, 0.95, None),
        ({4: 1}, 0.95, 4),
        ({d: 1 for d in range(1, 21)}, 0.95, 19),  # rank ceil(19.0) = 19
        ({d: 1 for d in range(1, 21)}, 0.5, 10),
        ({1: 99, 30: 1}, 0.95, 1),
        ({1: 90, 30: 10}, 0.95, 30),
    ],
)
def test_nearest_rank_percentile(histogram, fraction, expected) -> None:
    assert nearest_rank(histogram, fraction) == expected


_IDS = iter(range(10_000))


def app(
    submitted: dt.datetime,
    decided: dt.datetime | None = None,
    status: str = "approved",
    late: bool = False,
) -> ApplicationRow:
    return ApplicationRow(id=f"{'late' if late else 'app'}-{next(_IDS)}", resource=AMR, provider=AMR_DEPT,
                          status=status, submitted_at=submitted, decided_at=decided)  # fmt: skip


def late(row: ApplicationRow) -> list[str]:
    return ["decide"] if row.id.startswith("late") else []


def weekdays_after(start: dt.datetime, n: int) -> list[dt.datetime]:
    """The n weekdays after ``start`` (November 2026 has no holiday: working day k is the k-th)."""
    days = (start + dt.timedelta(days=k) for k in range(1, 3 * n))
    return [day for day in days if day.weekday() < 5][:n]


OCTOBER = Period(china(2026, 10, 1, 0), china(2026, 11, 1, 0))
AUTHORIZATION_CASES = {
    "none": ([], Period(), AuthorizationStats()),
    "across the National Day holiday: 12 days are 4 working days": (
        [app(china(2026, 9, 30), china(2026, 10, 12))],
        OCTOBER,
        AuthorizationStats(1, 1, 0, 4.0, 4.0, 0),
    ),
    "average and p95 of 1..20 working days": (
        [app(china(2026, 11, 2), decided) for decided in weekdays_after(china(2026, 11, 2), 20)],
        Period(),
        AuthorizationStats(20, 20, 0, 10.5, 19.0, 0),
    ),
    "refused, and refused then escalated, are refusals": (
        [
            app(china(2026, 10, 12), china(2026, 10, 13), "refused"),
            app(china(2026, 10, 12), china(2026, 10, 14), "escalated"),
            app(china(2026, 10, 12), china(2026, 10, 15), "approved"),
        ],
        OCTOBER,
        AuthorizationStats(3, 1, 2, 2.0, 3.0, 0),
    ),
    "decided outside the period: not counted": (
        [app(china(2026, 9, 1), china(2026, 9, 30)), app(china(2026, 10, 20), china(2026, 11, 2))],
        OCTOBER,
        AuthorizationStats(),
    ),
    "overdue: decided in the period late, or still undecided then": (
        [
            app(china(2026, 9, 1), china(2026, 10, 20), late=True),  # decided late in October
            app(china(2026, 10, 9), None, "accepted", late=True),  # still open, overdue
            app(china(2026, 10, 9), None, "escalated", late=True),  # escalated while overdue, undecided
            app(china(2026, 11, 5), None, "submitted", late=True),  # submitted after the period
            app(china(2026, 9, 1), china(2026, 9, 20), late=True),  # decided (late) before the period
            app(china(2026, 10, 9), None, "submitted"),
        ],  # open, not overdue
        OCTOBER,
        AuthorizationStats(1, 1, 0, 31.0, 31.0, overdue=3),  # 09-20 (Sunday) was worked
    ),
}


@pytest.mark.parametrize(
    ("rows", "period", "expected"), AUTHORIZATION_CASES.values(), ids=AUTHORIZATION_CASES.keys()
)
def test_authorizations(rows, period, expected) -> None:
    assert authorization_stats(rows, period, CALENDAR, late) == expected


def test_period_bounds() -> None:
    with pytest.raises(BadRequest):
        Period(NOW, NOW)
    naive = Period(dt.datetime(2026, 10, 1), None)  # naive is China time: UTC+8 (Asia/Shanghai)
    assert naive.since == dt.datetime(2026, 9, 30, 16, 0, tzinfo=dt.UTC)
    assert naive.contains(dt.datetime(2026, 9, 30, 16, 0, tzinfo=dt.UTC))
    assert not naive.contains(dt.datetime(2026, 9, 30, 15, 59, tzinfo=dt.UTC))
    assert not OCTOBER.contains(china(2026, 11, 1, 0))  # until is exclusive


# --- timeliness -----------------------------------------------------------------------


def resource(cycle: str) -> Resource:
    return Resource(id=f"x.{cycle}", code="X", name="x", provider=AMR_DEPT, subject="none", key="k",
                    share=Share.UNCONDITIONAL, items=(), source={}, update_cycle=cycle)  # fmt: skip


TIMELINESS_CASES = [
    # cycle, last update, on time
    *((cycle, NOW - dt.timedelta(days=days), True) for cycle, days in CYCLE_DAYS.items()),  # due exactly now
    *((cycle, NOW - dt.timedelta(days=days, seconds=1), False) for cycle, days in CYCLE_DAYS.items()),
    ("daily", NOW - dt.timedelta(hours=3), True),
    ("weekly", NOW - dt.timedelta(days=8), False),
    ("monthly", NOW - dt.timedelta(days=30), True),
    ("quarterly", NOW - dt.timedelta(days=93), False),
    ("yearly", NOW - dt.timedelta(days=365), True),
    ("quarterly", NOW + dt.timedelta(minutes=1), True),  # a stamp in the future is still "now"
]


@pytest.mark.parametrize(("cycle", "last", "on_time"), TIMELINESS_CASES)
def test_timeliness_per_update_cycle(cycle, last, on_time) -> None:
    found = timeliness(resource(cycle), last, NOW)
    assert (found.resource, found.update_cycle, found.last_update) == (f"x.{cycle}", cycle, last)
    assert found.due_by == last + dt.timedelta(days=CYCLE_DAYS[cycle])
    assert found.on_time is on_time


def test_realtime_is_judged_by_change_notices_not_by_a_zero_day_cycle() -> None:
    """Without a profile or notices: a change older than the grace (1 hour) with no notice is late."""
    fresh = timeliness(resource("realtime"), NOW - dt.timedelta(minutes=59), NOW)
    stale = timeliness(resource("realtime"), NOW - dt.timedelta(minutes=61), NOW)
    assert (fresh.rule, fresh.due_by, fresh.on_time) == ("realtime", None, True)
    assert (stale.rule, stale.due_by, stale.on_time) == ("realtime", None, False)
    assert timeliness(resource("realtime"), None, NOW).on_time is None


def test_timeliness_unknown_without_a_last_update_and_naive_stamps_are_china_time() -> None:
    unknown = timeliness(resource("daily"), None, NOW)
    assert (unknown.last_update, unknown.due_by, unknown.on_time) == (None, None, None)
    naive = timeliness(resource("daily"), dt.datetime(2026, 11, 20, 20, 0), NOW)  # 12:00 UTC
    assert naive.due_by == NOW and naive.on_time is True


@pytest.mark.parametrize(
    "stamp",
    [
        dt.datetime(9999, 12, 31, 23, 59, 59),  # "never" in some sources: + 1 day overflows datetime
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))),  # before year 1 in UTC
        dt.datetime(1800, 1, 1, tzinfo=dt.UTC),
    ],
)
def test_timeliness_of_a_stamp_out_of_range_is_unknown_not_an_error(stamp: dt.datetime) -> None:
    found = timeliness(resource("daily"), stamp, NOW)
    assert (found.last_update, found.due_by, found.on_time) == (None, None, None)


# --- quantity and scoping -------------------------------------------------------------


def test_items_by_share_class(catalog: Catalog) -> None:
    assert item_counts([catalog.resources[AMR]]) == ItemCounts(5, 1, 1)
    assert item_counts([catalog.resources[TAX]]) == ItemCounts(2, 1, 1)
    assert item_counts([catalog.resources[PSB]]) == ItemCounts(2, 3, 0)  # resource default: conditional
    assert item_counts([]) == ItemCounts(0, 0, 0)


ALL = [AMR_DEPT, TAX_DEPT, PSB_DEPT]
SCOPES = {
    "operator: every department": (who(OPERATOR_DEPT, "operator"), None, ALL),
    "operator: the one named": (who(OPERATOR_DEPT, "operator"), TAX_DEPT, [TAX_DEPT]),
    "operator and provider: operator wins": (who(AMR_DEPT, "provider", "operator"), None, ALL),
    "provider: its own": (who(AMR_DEPT, "provider"), None, [AMR_DEPT]),
    "provider naming itself": (who(AMR_DEPT, "provider"), AMR_DEPT, [AMR_DEPT]),
    "provider outside the catalog: nothing": (who(DRC, "provider"), None, []),
    "provider naming another": (who(AMR_DEPT, "provider"), TAX_DEPT, Forbidden),
    "consumer": (who(HOUSING, "consumer"), None, Forbidden),
    "consumer naming itself": (who(HOUSING, "consumer"), HOUSING, Forbidden),
    "no roles": (who(AMR_DEPT), None, Forbidden),
    "operator naming an unknown department": (who(OPERATOR_DEPT, "operator"), DRC, BadRequest),
}


@pytest.mark.parametrize(("actor", "department", "expected"), SCOPES.values(), ids=SCOPES.keys())
def test_who_may_read_which_departments(catalog: Catalog, actor, department, expected) -> None:
    if isinstance(expected, list):
        assert visible_departments(actor, catalog, department) == expected
    else:
        with pytest.raises(expected) as raised:
            visible_departments(actor, catalog, department)
        assert raised.value.code in ("FORBIDDEN", "BAD_REQUEST")


# --- the service over a real audit log, platform database and mock sources ------------


class HangingConnector(MockConnector):
    async def freshness(self, binding: Binding) -> dt.datetime | None:
        await asyncio.sleep(30)
        return None


class BrokenConnector(MockConnector):
    async def freshness(self, binding: Binding) -> dt.datetime | None:
        raise RuntimeError("driver exploded")


class PagedReader:
    """The audit log, recording each read: ``events`` (a scan of the trail) or ``usage``."""

    def __init__(self, log: AuditLog) -> None:
        self.log, self.calls, self.scans = log, [], []

    async def events(self, **kwargs: Any) -> list[dict[str, Any]]:
        self.scans.append(kwargs)
        return await self.log.events(**kwargs)

    async def usage(
        self, since: dt.datetime | None = None, until: dt.datetime | None = None, departments: Any = None
    ) -> Any:
        self.calls.append({"since": since, "until": until, "departments": departments})
        return await self.log.usage(since, until, departments)


@dataclass
class World:
    catalog: Catalog
    stats: Statistics
    reader: PagedReader
    federation: Federation
    started: dt.datetime


def _sources(catalog: Catalog, connectors: dict[str, MockConnector]) -> dict[str, ResourceSource]:
    sources = {}
    for rid, r in catalog.resources.items():
        connector = connectors[r.provider]
        source = {**r.source, "updated_at": "updated_at"}
        sources[rid] = ResourceSource(
            connector, connector.bind(source, [i.name for i in r.shared_items], r.key)
        )
    return sources


async def _events(log: AuditLog) -> None:
    def record(consumer: str, resources: Collection[str], kind: str = "query", **decided: str) -> AuditEvent:
        decisions = {f"{r}.name": "ALLOWED" for r in resources} | {
            k.replace("__", "."): v for k, v in decided.items()
        }
        mode = {"query": "query", "compare": "compare", "export": "bulk"}.get(kind)
        return AuditEvent(kind=kind, outcome="answered", consumer=consumer, mode=mode,
                          resources=tuple(resources), decisions=decisions if mode else {})  # fmt: skip

    for event in [
        record(HOUSING, [AMR]),
        record(HOUSING, [AMR, TAX]),
        record(DRC, [AMR], **{f"{AMR}__legal_representative": "CONDITIONAL_ACCESS_REQUIRED"}),
        record(DRC, [AMR], "compare", **{f"{AMR}__name": "SOURCE_UNAVAILABLE"}),
        record(DRC, [TAX], "compare"),
        record(HOUSING, [AMR], "export"),
        record(HOUSING, [AMR], "workflow"),  # not a call
    ]:
        await log.append(event)


async def _applications(platform: PlatformDB) -> None:
    def row(n: int, submitted: dt.datetime, decided: dt.datetime | None, status: str, **dues: Any) -> Any:
        submitted, decided = submitted.astimezone(dt.UTC), decided and decided.astimezone(dt.UTC)  # as stored
        return ApplicationRow(
            id=f"app-{n:03d}", consumer=HOUSING, provider=AMR_DEPT, resource=AMR, items=["name"],
            modes=["query"], purpose="p", scope_of_knowledge="s", security_measures="m", legal_basis="b",
            valid_from=submitted, valid_until=submitted + dt.timedelta(days=365), status=status,
            submitted_at=submitted, decided_at=decided, reasons=[], **dues,
        )  # fmt: skip

    async with platform.session.begin() as session:
        session.add_all([
            # across the holiday, decided on time (decide due 10-16); 02:00 in China is 10-11 in UTC
            row(1, china(2026, 9, 30), china(2026, 10, 12, 2), "approved", decide_due=dt.date(2026, 10, 16)),
            # refused late (decide due 10-09, decided 10-13)
            row(2, china(2026, 9, 28), china(2026, 10, 13), "refused", decide_due=dt.date(2026, 10, 9)),
            # still open and overdue (decide due 11-10, "now" is 11-21)
            row(3, china(2026, 10, 27), None, "accepted", decide_due=dt.date(2026, 11, 10)),
            # decided in September
            row(4, china(2026, 9, 1), china(2026, 9, 2), "approved", decide_due=dt.date(2026, 9, 15)),
        ])  # fmt: skip


@pytest.fixture
async def world(tmp_path: Path, catalog: Catalog) -> AsyncIterator[World]:
    url = f"sqlite+aiosqlite:///{tmp_path}/platform.db"
    tables = {
        AMR_DEPT: {"enterprise": [{"uscc": "91420100MA4K00010R", "updated_at": "2026-11-21T14:00:00"}]},
        TAX_DEPT: {"tax_credit": [{"uscc": "91420100MA4K00010R", "updated_at": "2026-09-01T00:00:00+00:00"}]},
    }
    connectors = {
        AMR_DEPT: MockConnector(tables[AMR_DEPT]),
        TAX_DEPT: BrokenConnector(tables[TAX_DEPT]),
        PSB_DEPT: HangingConnector({}),
    }
    platform = PlatformDB(url)
    await platform.create_schema()
    workflow = Workflow(platform, catalog, load_profile("hubei"), CALENDAR, clock=lambda: NOW)
    log = AuditLog(url, owners=OWNERS)
    await log.start()
    try:
        started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        await _events(log)
        await _applications(platform)
        reader = PagedReader(log)
        sources = _sources(catalog, connectors)
        stats = Statistics(catalog, sources, reader, workflow, freshness_timeout=0.05)
        federation = Federation(catalog, sources, platform, workflow, reader, stats)
        yield World(catalog, stats, reader, federation, started)
    finally:
        await log.close()
        await platform.close()


async def test_operator_reads_every_department(world: World) -> None:
    found = await world.stats.department_stats(who(OPERATOR_DEPT, "operator"))
    assert [s.department.code for s in found] == ALL
    amr, tax, psb = found
    assert (amr.resources, amr.items) == (1, ItemCounts(5, 1, 1))
    assert amr.calls_by_mode == {Mode.QUERY: 3, Mode.COMPARE: 1, Mode.BULK: 1}
    assert (amr.distinct_consumers, amr.refusals, amr.availability) == (2, 2, 0.8)
    assert tax.calls_by_mode == {Mode.QUERY: 1, Mode.COMPARE: 1, Mode.BULK: 0}
    assert (tax.distinct_consumers, tax.refusals, tax.availability) == (2, 0, 1.0)
    assert psb.calls_by_mode == {Mode.QUERY: 0, Mode.COMPARE: 0, Mode.BULK: 0} and psb.availability == 1.0
    assert amr.objections == tax.objections == psb.objections == 0
    # counted from the aggregates in one read, never by scanning the trail
    assert world.reader.calls == [{"since": None, "until": None, "departments": set(ALL)}]
    assert world.reader.scans == []


async def test_authorizations_in_the_service(world: World) -> None:
    october = {"since": china(2026, 10, 1, 0), "until": china(2026, 11, 1, 0)}
    amr, tax, _ = await world.stats.department_stats(who(OPERATOR_DEPT, "operator"), **october)
    # app-001: 4 working days across the holiday; app-002: 09-28 -> 10-13 is 7 working days
    # (09-29, 09-30, 10-08, 10-09, Sat 10-10, 10-12, 10-13), refused late; app-003 still open
    # and overdue; app-004 was decided in September
    assert amr.authorizations == AuthorizationStats(2, 1, 1, 5.5, 7.0, overdue=2)
    assert tax.authorizations == AuthorizationStats()
    everything = (await world.stats.department_stats(who(OPERATOR_DEPT, "operator"), department=AMR_DEPT))[0]
    assert everything.authorizations == AuthorizationStats(3, 2, 1, 4.0, 7.0, overdue=2)


async def test_a_source_that_fails_or_hangs_counts_as_unknown(world: World) -> None:
    amr, tax, psb = await world.stats.department_stats(who(OPERATOR_DEPT, "operator"))
    (amr_time,) = amr.timeliness
    assert amr_time.last_update == dt.datetime(2026, 11, 21, 6, 0, tzinfo=dt.UTC)  # naive: China time
    assert amr_time.due_by == dt.datetime(2026, 11, 22, 6, 0, tzinfo=dt.UTC) and amr_time.on_time is True
    assert [(t.resource, t.last_update, t.on_time) for t in tax.timeliness] == [(TAX, None, None)]  # raised
    assert [(t.resource, t.last_update, t.on_time) for t in psb.timeliness] == [
        (PSB, None, None)
    ]  # timed out


async def test_provider_reads_its_own_department_from_its_own_events(world: World) -> None:
    (tax,) = await world.stats.department_stats(who(TAX_DEPT, "provider"))
    assert tax.department.code == TAX_DEPT
    assert tax.calls_by_mode == {Mode.QUERY: 1, Mode.COMPARE: 1, Mode.BULK: 0}
    assert len(world.reader.calls) == 1 and world.reader.scans == []
    with pytest.raises(Forbidden):
        await world.stats.department_stats(who(TAX_DEPT, "provider"), department=AMR_DEPT)
    with pytest.raises(Forbidden):
        await world.stats.department_stats(who(HOUSING, "consumer"))


async def test_period_filters_events(world: World) -> None:
    before = await world.stats.department_stats(who(OPERATOR_DEPT, "operator"), until=world.started)
    assert all(sum(s.calls_by_mode.values()) == 0 and s.availability == 1.0 for s in before)
    after = await world.stats.department_stats(who(OPERATOR_DEPT, "operator"), since=world.started)
    assert sum(after[0].calls_by_mode.values()) == 5


STATS_QUERY = """query Stats($department: String, $since: DateTime) {
  stats(department: $department, since: $since) {
    department { code name }
    resources items { unconditional conditional notShared }
    callsByMode { mode count } distinctConsumers refusals availability objections
    authorizations { count approved refused averageWorkingDays p95WorkingDays overdue }
    timeliness { resource updateCycle lastUpdate dueBy onTime }
  }
}"""


async def test_the_stats_field(world: World) -> None:
    schema = build_schema(world.catalog)

    async def run(consumer: Consumer, **variables: Any) -> Any:
        return await schema.execute(STATS_QUERY, variables, RequestContext(world.federation, consumer))

    result = await run(who(OPERATOR_DEPT, "operator"), department=AMR_DEPT)
    assert result.errors is None
    (amr,) = result.data["stats"]
    assert amr["department"] == {"code": AMR_DEPT, "name": "湖北省市场监督管理局"}
    assert amr["items"] == {"unconditional": 5, "conditional": 1, "notShared": 1}
    assert amr["callsByMode"] == [{"mode": "QUERY", "count": 3}, {"mode": "COMPARE", "count": 1},
                                  {"mode": "BULK", "count": 1}]  # fmt: skip
    counted = ("distinctConsumers", "refusals", "availability", "objections")
    assert [amr[name] for name in counted] == [2, 2, 0.8, 0]
    assert amr["authorizations"] == {"count": 3, "approved": 2, "refused": 1, "averageWorkingDays": 4.0,
                                     "p95WorkingDays": 7.0, "overdue": 2}  # fmt: skip
    due = {"lastUpdate": "2026-11-21T06:00:00+00:00", "dueBy": "2026-11-22T06:00:00+00:00", "onTime": True}
    assert amr["timeliness"] == [{"resource": AMR, "updateCycle": "daily", **due}]

    result = await run(who(PSB_DEPT, "provider"))
    assert result.errors is None and [s["department"]["code"] for s in result.data["stats"]] == [PSB_DEPT]

    for consumer, variables in [
        (who(HOUSING, "consumer"), {}),
        (who(PSB_DEPT, "provider"), {"department": AMR_DEPT}),
    ]:
        result = await run(consumer, **variables)
        assert result.data is None
        assert [e.extensions["code"] for e in result.errors] == ["FORBIDDEN"]

    result = await run(who(OPERATOR_DEPT, "operator"), since="not a date")
    assert result.errors
