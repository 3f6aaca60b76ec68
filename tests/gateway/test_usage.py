"""Usage aggregates (issue 7 item 15): kept in the same transaction as the events, so a
count from the aggregates equals a count over the raw trail for ANY period; built once for
a trail that predates them; ``stats`` never scans the trail (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.audit import _USAGE_COUNTS, _USAGE_KEY, AuditEvent, AuditLog, _usage_rows
from gateway.stats import UsageTally, tally_events
from gateway.usage import (
    SPAN_DAY,
    SPAN_HOUR,
    SPAN_MONTH,
    UsageKey,
    buckets,
    contributions,
    cover,
    day_start,
    hour_of,
    hour_start,
    month_start,
    usage_key,
)
from policies.codes import make_uscc
from policies.share import Mode
from policies.workdays import CHINA_TIME

AMR, TAX, PSB = "amr.enterprise_registration", "tax.tax_credit", "psb.resident"
OWNERS = {AMR: "AMR", TAX: "TAX", PSB: "PSB"}
CONSUMERS = [make_uscc("1", "1", "420100", f"MT00000{n}") for n in range(1, 4)]
T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # an hour boundary
DECISIONS = [
    "ALLOWED", "ALLOWED", "CONDITIONAL_ACCESS_REQUIRED", "SOURCE_UNAVAILABLE", "ALLOWED|OUT_OF_SCOPE",
]  # fmt: skip


def random_event(rng: random.Random) -> AuditEvent:
    kind = rng.choice(["query", "query", "compare", "export", "workflow", "admin"])
    resources = tuple(rng.sample([AMR, TAX, PSB], rng.randint(0, 3)))
    decisions = {f"{r}.{item}": rng.choice(DECISIONS) for r in resources for item in ("name", "x")}
    if rng.random() < 0.2:
        decisions = {}
    return AuditEvent(
        kind=kind,
        outcome=rng.choice(["answered", "partly_refused", "refused"]),
        consumer=rng.choice([*CONSUMERS, None]),
        mode=rng.choice([None, "query", "compare", "bulk", "unknown"]) if kind != "admin" else None,
        resources=resources,
        decisions=decisions,
    )


class Clock:
    """Event times: T0 plus the given minutes (with microseconds), one per append."""

    def __init__(self, minutes: list[float]) -> None:
        self.moments = [T0 + dt.timedelta(minutes=m) for m in minutes]

    def __call__(self) -> dt.datetime:
        return self.moments.pop(0)


@pytest.fixture
async def table(platform_url: str) -> AsyncIterator[tuple[str, str]]:
    name = f"audit_u_{uuid.uuid4().hex[:12]}"
    yield platform_url, name
    engine = create_async_engine(platform_url)
    async with engine.begin() as conn:
        for suffix in ("", "_resources", "_usage", "_meta"):
            await conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}{suffix}"))
    await engine.dispose()


MINUTES = [*(random.Random(7).uniform(-30, 6 * 60) for _ in range(240)), 0.0, 60.0, 120.0]


async def fill(url: str, name: str, instance: str = "main", seed: int = 1) -> None:
    rng = random.Random(seed)
    minutes = sorted(MINUTES)
    async with AuditLog(url, instance, table=name, clock=Clock(minutes), owners=OWNERS) as log:
        for _ in minutes:
            await log.append(random_event(rng))


async def raw_tally(log: AuditLog, since: dt.datetime | None, until: dt.datetime | None) -> UsageTally:
    return tally_events(await log.events(since=since, until=until, limit=100_000), OWNERS)


async def aggregated_tally(log: AuditLog, since: dt.datetime | None, until: dt.datetime | None) -> UsageTally:
    tally = UsageTally(OWNERS)
    for count in await log.usage(since, until):
        tally.add_count(count)
    return tally


def periods() -> list[tuple[dt.datetime | None, dt.datetime | None]]:
    """Open ends, whole hours, partial hours at either end, both in one hour, empty, beyond."""
    minute = lambda m: T0 + dt.timedelta(minutes=m)  # noqa: E731
    rng = random.Random(3)
    chosen: list[tuple[dt.datetime | None, dt.datetime | None]] = [
        (None, None),
        (minute(0), None),
        (None, minute(120)),
        (minute(60), minute(180)),
        (minute(59.5), minute(181.25)),
        (minute(61), minute(62)),
        (minute(61), minute(121)),
        (minute(500), minute(900)),
        (minute(-600), minute(-300)),
        (minute(-60 * 24), minute(60 * 24 * 2)),  # whole China days (the events' day among them)
        (minute(-60 * 24 * 40), minute(60 * 24 * 40 + 7)),  # a whole China month, and edges
    ]
    for _ in range(12):
        a, b = sorted(rng.uniform(-40, 400) for _ in range(2))
        chosen.append((minute(a), minute(b)))
    return chosen


async def test_aggregates_equal_a_count_over_the_raw_trail_for_any_period(table: tuple[str, str]):
    url, name = table
    await fill(url, name)
    log = AuditLog(url, table=name, owners=OWNERS)
    try:
        for since, until in periods():
            raw, summed = await raw_tally(log, since, until), await aggregated_tally(log, since, until)
            assert summed.usage == raw.usage, (since, until)
        assert (await raw_tally(log, None, None)).usage, "the data must hold some data events"
    finally:
        await log.close()


async def test_two_instances_writing_at_once_keep_the_aggregates_exact(table: tuple[str, str]):
    url, name = table
    await asyncio.gather(fill(url, name, "a", seed=1), fill(url, name, "b", seed=2))
    log = AuditLog(url, table=name, owners=OWNERS)
    try:
        assert (await aggregated_tally(log, None, None)).usage == (await raw_tally(log, None, None)).usage
        counts = await aggregated_tally(log, None, None)
        assert sum(counts.of("AMR").calls.values()) > 0
    finally:
        await log.close()


async def test_a_trail_written_before_the_aggregates_gets_them_built_once(table: tuple[str, str]):
    url, name = table
    await fill(url, name)
    engine = create_async_engine(url)
    async with engine.begin() as conn:  # as a store from before the aggregates: no tables
        await conn.execute(sa.text(f"DROP TABLE {name}_usage"))
        await conn.execute(sa.text(f"DROP TABLE {name}_meta"))
    await engine.dispose()
    async with AuditLog(url, "upgraded", table=name, owners=OWNERS) as log:
        expected = (await raw_tally(log, None, None)).usage
        assert (await aggregated_tally(log, None, None)).usage == expected
        await log.append(AuditEvent(kind="query", outcome="answered", mode="query", resources=(TAX,)))
        after = (await aggregated_tally(log, None, None)).of("TAX")
        assert after == (await raw_tally(log, None, None)).of("TAX")
    async with AuditLog(url, "again", table=name) as log:  # a second start does not count twice
        assert (await aggregated_tally(log, None, None)).usage == (await raw_tally(log, None, None)).usage
        assert log._owners == OWNERS  # without owners given (the command line): the stored ones


async def test_stats_reads_raw_events_only_in_the_partial_hours_at_the_ends(table: tuple[str, str]):
    url, name = table
    await fill(url, name)
    log = AuditLog(url, table=name, owners=OWNERS)
    statements: list[str] = []
    sa.event.listen(log.engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    async def scans(since: float, until: float) -> list[str]:
        statements.clear()
        await log.usage(T0 + dt.timedelta(minutes=since), T0 + dt.timedelta(minutes=until))
        return [s for s in statements if f"FROM {name} " in s or s.rstrip().endswith(f"FROM {name}")]

    try:
        partial = await scans(30, 301.5)
        assert len(partial) == 2 and all("time >=" in s and "time <" in s for s in partial), partial
        assert await scans(60, 300) == []  # whole hours: aggregates only
        assert len(await scans(-600, 60 * 24 * 40 + 1)) == 1  # months, days, hours, one partial hour
    finally:
        await log.close()


@pytest.mark.parametrize(
    ("since", "until"),
    [
        ("2026-01-01T00:00+08:00", "2027-01-01T00:00+08:00"),  # a China year: 12 months
        ("2026-01-31T13:00+08:00", "2026-03-02T05:00+08:00"),
        ("2025-12-31T16:00Z", "2026-02-01T03:00Z"),
        ("2026-02-27T00:00+08:00", "2026-03-01T00:00+08:00"),  # whole days only
        ("2026-05-01T07:00Z", "2026-05-01T09:00Z"),  # hours only
        ("2024-02-28T22:00+08:00", "2024-03-01T01:00+08:00"),  # leap day
    ],
)
def test_cover_tiles_a_period_with_whole_china_months_days_and_hours(since: str, until: str):
    first = hour_of(dt.datetime.fromisoformat(since))
    stop = hour_of(dt.datetime.fromisoformat(until))
    ranges = cover(first, stop)
    hours: list[int] = []
    for span, lo, hi in ranges:
        start_of = {SPAN_HOUR: lambda h: h, SPAN_DAY: day_start, SPAN_MONTH: month_start}[span]
        hours.extend(range(start_of(lo), start_of(hi)))
        for unit in range(lo, hi):  # each bucket is whole China time: starts at 00:00 +08:00
            moment = hour_start(start_of(unit)).astimezone(CHINA_TIME)
            assert span == SPAN_HOUR or moment.hour == 0
            assert span != SPAN_MONTH or moment.day == 1
    assert sorted(hours) == list(range(first, stop))  # every hour once, none outside
    assert len([r for r in ranges if r[0] == SPAN_MONTH]) <= 1 and len(ranges) <= 5
    if since.startswith("2026-01-01"):
        assert ranges == [(SPAN_MONTH, 2026 * 12, 2027 * 12)]


@given(
    moment=st.datetimes(
        min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC)
    )
)
def test_an_hour_bucket_holds_its_instant(moment: dt.datetime):
    hour = hour_of(moment)
    assert hour_start(hour) <= moment < hour_start(hour + 1)
    assert hour_start(hour).minute == hour_start(hour).second == hour_start(hour).microsecond == 0


def event_dict(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"kind": "query", "mode": "query", "consumer": CONSUMERS[0], "outcome": "answered"}
    return {**base, **fields}


USAGE_CASES = {  # event fields: expected (resources, refused, unavailable), or None: no data event
    "allowed": ({"resources": [AMR], "decisions": {f"{AMR}.name": "ALLOWED"}}, ((AMR,), (), ())),
    "refused item": (
        {"resources": [AMR, TAX], "decisions": {f"{AMR}.name": "ALLOWED", f"{TAX}.x": "NOT_SHARED"}},
        ((AMR, TAX), (TAX,), ()),
    ),
    "source down after allowed": (
        {"resources": [AMR], "decisions": {f"{AMR}.name": "ALLOWED|SOURCE_UNAVAILABLE"}},
        ((AMR,), (AMR,), (AMR,)),
    ),
    "no decisions, refused": (
        {"resources": [PSB], "decisions": {}, "outcome": "refused"},
        ((PSB,), (PSB,), ()),
    ),
    "decisions elsewhere only": (
        {"resources": [PSB, AMR], "decisions": {f"{AMR}.name": "FORBIDDEN"}, "outcome": "refused"},
        ((AMR, PSB), (AMR,), ()),
    ),
    "admin": ({"kind": "admin", "resources": [AMR]}, None),
    "no resources": ({"resources": [], "decisions": {"request": "PURPOSE_REQUIRED"}}, None),
}


@pytest.mark.parametrize("case", list(USAGE_CASES))
def test_usage_key_of_an_event(case: str):
    fields, expected = USAGE_CASES[case]
    key = usage_key(event_dict(**fields))
    if expected is None:
        assert key is None
    else:
        assert key == UsageKey(CONSUMERS[0], Mode.QUERY, *expected)


def _on_by_definition(key: str, resource: str) -> bool:
    return key == resource or key.rsplit(".", 1)[0] == resource


_NAMES = st.sampled_from(["a", "a.b", "a.b.c", "b", "request", "a.", ".a", ""])
_VALUES = st.sampled_from(["ALLOWED", "NOT_SHARED", "ALLOWED|SOURCE_UNAVAILABLE", "SOURCE_UNAVAILABLE"])


@given(resources=st.lists(_NAMES, min_size=1, max_size=4), decisions=st.dictionaries(_NAMES, _VALUES))
def test_usage_key_reads_each_resource_decisions_as_defined(resources: list[str], decisions: dict[str, str]):
    """The one-pass grouping says what the definition (a key is on itself and on its part
    before the last dot) says, for every resource."""
    key = usage_key(event_dict(resources=resources, decisions=decisions))
    assert key is not None
    for resource in sorted(set(resources)):
        mine = [value for name, value in decisions.items() if _on_by_definition(name, resource)]
        refused = any(v != "ALLOWED" for v in mine)  # outcome "answered": no decision, no refusal
        unavailable = any("SOURCE_UNAVAILABLE" in v.split("|") for v in mine)
        assert (resource in key.refused) == refused, resource
        assert (resource in key.unavailable) == unavailable, resource


def _counted_one_by_one(
    rows: list[dict[str, Any]], owners: dict[str, str]
) -> dict[tuple[Any, ...], list[int]]:
    """The aggregates' definition: each event's contributions, one event at a time."""
    counted: dict[tuple[Any, ...], list[int]] = {}
    for row in rows:
        for part in contributions(row, owners):
            for span, bucket in buckets(hour_of(row["time"])):
                found = counted.setdefault(
                    (span, bucket, part.department, part.mode.value, part.consumer), [0, 0, 0]
                )
                for index, value in enumerate((1, int(part.refused), int(part.unavailable))):
                    found[index] += value
    return counted


_KEYS = st.sampled_from([f"{AMR}.name", f"{TAX}.x", PSB, "request"])
_TIMES = [dt.datetime(2026, 11, 30, h, m, tzinfo=dt.UTC) for h in (0, 15, 16) for m in (0, 59)]
_ROWS = st.lists(
    st.fixed_dictionaries({
        "kind": st.sampled_from(["query", "compare", "export", "admin"]),
        "mode": st.sampled_from(["query", "compare", "export", "bogus"]),
        "outcome": st.sampled_from(["answered", "refused", "started", "SOURCE_UNAVAILABLE"]),
        "consumer": st.sampled_from(CONSUMERS[:2]),
        "resources": st.lists(st.sampled_from([AMR, TAX, PSB]), max_size=3),
        "decisions": st.dictionaries(_KEYS, _VALUES, max_size=3),
        "time": st.sampled_from(_TIMES),
    }),
    max_size=12,
)  # fmt: skip


@given(rows=_ROWS)
def test_a_group_commit_counts_alike_events_as_one_by_one(rows: list[dict[str, Any]]):
    """Counting alike events once, times their number (gateway.audit._count_rows), gives
    exactly the per-event sums, for any mix of kinds, modes, outcomes, decisions and hours."""
    owners = {AMR: "dept-a", TAX: "dept-b", PSB: "dept-a"}
    expected = _counted_one_by_one(rows, owners)
    got = {
        tuple(row[k] for k in _USAGE_KEY): [row[c] for c in _USAGE_COUNTS]
        for row in _usage_rows(rows, owners)
    }
    assert got == expected


@given(first=st.integers(-10_000, 600_000), length=st.integers(0, 40_000))
def test_cover_tiles_any_range_of_hours_exactly_once(first: int, length: int):
    stop = first + length
    starts = {SPAN_HOUR: lambda h: h, SPAN_DAY: day_start, SPAN_MONTH: month_start}
    hours = [h for span, lo, hi in cover(first, stop) for h in range(starts[span](lo), starts[span](hi))]
    assert sorted(hours) == list(range(first, stop))
    assert len(cover(first, stop)) <= 5
