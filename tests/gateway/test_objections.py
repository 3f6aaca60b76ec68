"""The objection and change-notice services over a real platform database (SQLite and
PostgreSQL), with a fixed clock; and change detection over the demo's SQLite sources.

- deadlines in working days (Zhejiang art. 28: 5; Hubei: the default, non-statutory),
  overdue open and answered late, counted per provider;
- "has read" comes from the audit trail: an event that allowed the item, not one that
  refused it, not another consumer's;
- the disputed-marks lookup is ONE statement whatever the number of subjects;
- an older data folder gains the new tables on start (additive upgrade);
- the poller finds changed keys through ``freshness`` and ``scan(since=...)``; the relay
  pushes a change stored by another process exactly once.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from errors import BadRequest, Forbidden
from gateway.audit import AuditEvent, AuditLog
from gateway.changes import ChangeNotices, ChangePoller, ChangeRelay, ChangeRow
from gateway.holders import Holdings, subjects_read
from gateway.objections import ObjectionEventRow, ObjectionRow, Objections
from gateway.platform import PlatformDB, new_grant_row
from policies.catalog import Catalog, Share, load_catalog
from policies.codes import make_uscc
from policies.decision import Consumer
from policies.objections import ObjectionStatus, Outcome, Raised, objection_limit
from policies.profile import load_profile
from policies.workdays import WorkdayCalendar
from policies.workflow import Actor
from tests.conftest import CATALOG

RID = "amr.enterprise_registration"
CHINA = dt.timezone(dt.timedelta(hours=8))
FRIDAY = dt.datetime(2025, 1, 10, 10, 0, tzinfo=CHINA)  # + 5 working days: Fri 17 Jan


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def code(n: int) -> str:
    return make_uscc("9", "1", "420100", f"MA{n:06d}")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG)


@pytest.fixture
async def platform(platform_url: str) -> AsyncIterator[PlatformDB]:
    db = PlatformDB(platform_url)
    await db.create_schema()
    async with db.engine.begin() as conn:  # PostgreSQL is shared between tests: start clean
        for table in (ObjectionEventRow, ObjectionRow, ChangeRow):
            await conn.execute(sa.delete(table))
    yield db
    await db.close()


@pytest.fixture
async def audit(platform: PlatformDB) -> AsyncIterator[AuditLog]:
    table = f"audit_obj_{uuid.uuid4().hex[:8]}"  # its own chain and index tables
    log = AuditLog(platform.engine.url.render_as_string(hide_password=False), table=table)
    await log.start()
    yield log
    await log.close()
    async with platform.engine.begin() as conn:
        for suffix in ("_usage", "_meta", "_resources", ""):
            await conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}{suffix}"))


def service(
    platform: PlatformDB, catalog: Catalog, profile: str, clock: Clock, audit: AuditLog | None
) -> Objections:
    limit = objection_limit(load_profile(profile), 3)
    found = Objections(platform, catalog, WorkdayCalendar(), limit, clock)
    found.audit = audit
    return found


async def applied(platform: PlatformDB, catalog: Catalog, department: str) -> None:
    """The platform's grant on acceptance of ``department``'s application for RID's
    unconditional items, purpose 核验, in force at the fixed clock (hubei reads unconditional
    items on application: Hubei art. 13, 21)."""
    resource = catalog.resources[RID]
    items = [item.name for item in resource.items if item.share is Share.UNCONDITIONAL]
    start, until = FRIDAY - dt.timedelta(days=30), FRIDAY + dt.timedelta(days=365)
    await platform.add_grant(new_grant_row(department, RID, items, "核验", until, valid_from=start))


def actor(department: str, *roles: str) -> Actor:
    return Actor(Consumer(department, "client-1", frozenset(roles)))


async def read_event(audit: AuditLog, consumer: str, subject: str, decision: str = "ALLOWED") -> None:
    """The event a GraphQL read leaves (gateway.evidence.query_event), for one item of RID."""
    await audit.append(
        AuditEvent(
            kind="query",
            outcome="answered",
            consumer=consumer,
            mode="query",
            resources=(RID,),
            items=(f"{RID}.name",),
            subjects=(subject,),
            decisions={f"{RID}.name": decision},
            detail={"subjects_at": {RID: [subject]}},
        )
    )


async def test_deadline_overdue_answer_and_counts(
    platform: PlatformDB, catalog: Catalog, audit: AuditLog
) -> None:
    clock = Clock(FRIDAY)
    objections = service(platform, catalog, "zhejiang", clock, audit)
    reader, provider = code(1), catalog.resources[RID].provider
    await read_event(audit, reader, code(100))
    row = await objections.raise_objection(
        actor(reader, "consumer"), Raised(RID, code(100), "name", "名称有误"), None
    )
    assert (row.due, row.statutory, row.status) == (dt.date(2025, 1, 17), True, "open")
    assert "art. 28" in row.basis
    clock.now = dt.datetime(2025, 1, 17, 23, 0, tzinfo=CHINA)
    assert not objections.overdue(row)
    clock.now = dt.datetime(2025, 1, 18, 0, 30, tzinfo=CHINA)
    assert objections.overdue(row)
    assert [r.id for r in await objections.objections(actor(reader).consumer, overdue=True)] == [row.id]
    assert (await objections.counts([provider]))[provider] == {"open": 1, "answered": 0, "overdue": 1}
    answered = await objections.answer(actor(provider, "provider"), row.id, Outcome.CORRECTED, "已更正")
    assert answered.status == ObjectionStatus.ANSWERED.value and objections.overdue(
        answered
    )  # late stays late
    assert (await objections.counts([provider]))[provider] == {"open": 0, "answered": 1, "overdue": 1}
    history = await objections.history(row.id)
    assert [(h.action, h.actor, h.text) for h in history] == [
        ("raise", reader, "名称有误"),
        ("answer", provider, "corrected: 已更正"),
    ]


async def test_hubei_uses_the_default_marked_non_statutory(platform: PlatformDB, catalog: Catalog) -> None:
    objections = service(platform, catalog, "hubei", Clock(FRIDAY), None)
    raised = Raised(RID, code(101), "name", "有误")
    with pytest.raises(Forbidden):  # hubei: no application, so it may not read name now
        await objections.raise_objection(actor(code(2), "consumer"), raised, "核验")
    await applied(platform, catalog, code(2))
    row = await objections.raise_objection(
        actor(code(2), "consumer"), raised, "核验"
    )  # may read it now: an unconditional item applied for, a purpose declared
    assert (row.due, row.statutory) == (dt.date(2025, 1, 15), False)
    assert "promptly" in row.basis and "art. 23" in row.basis


async def test_a_read_is_an_allowed_item_in_the_consumers_own_trail(
    platform: PlatformDB, catalog: Catalog, audit: AuditLog
) -> None:
    objections = service(platform, catalog, "hubei", Clock(FRIDAY), audit)
    reader, other = code(3), code(4)
    await read_event(audit, reader, code(102))
    await read_event(audit, other, code(103), decision="CONDITIONAL_ACCESS_REQUIRED")
    address = Raised(RID, code(102), "legal_representative", "有误")  # conditional, never allowed to it
    with pytest.raises(Forbidden):
        await objections.raise_objection(actor(reader, "consumer"), address, None)
    for who, subject in ((other, code(103)), (other, code(102)), (reader, code(103))):
        with pytest.raises(Forbidden) as refused:
            await objections.raise_objection(actor(who, "consumer"), Raised(RID, subject, "name", "x"), None)
        assert "neither in your audit trail" in refused.value.message
    await objections.raise_objection(actor(reader, "consumer"), Raised(RID, code(102), "name", "x"), None)
    async with platform.session() as session:  # nothing was stored for the refused ones
        assert await session.scalar(sa.select(sa.func.count()).select_from(ObjectionRow)) == 1


async def test_bad_input_is_refused_and_stores_nothing(platform: PlatformDB, catalog: Catalog) -> None:
    objections = service(platform, catalog, "hubei", Clock(FRIDAY), None)
    consumer = actor(code(5), "consumer")
    for raised in (
        Raised("nope.none", code(104), "name", "x"),
        Raised(RID, code(104), "inner_note", "x"),  # not shared
        Raised(RID, code(104), "name", "\x00"),
        Raised(RID, code(104)[:-1] + "0" if code(104)[-1] != "0" else code(104)[:-1] + "1", "name", "x"),
    ):
        with pytest.raises(BadRequest):
            await objections.raise_objection(consumer, raised, "核验")
    with pytest.raises(Forbidden):
        await objections.answer(actor(code(5), "provider"), "obj-unknown", Outcome.CONFIRMED, "x")
    assert await objections.objections(actor("x", "operator").consumer) == []


async def test_open_for_is_at_most_one_statement(platform: PlatformDB, catalog: Catalog) -> None:
    objections = service(platform, catalog, "hubei", Clock(FRIDAY), None)
    consumer = actor(code(6), "consumer")
    await applied(platform, catalog, code(6))
    ids = [
        (await objections.raise_objection(consumer, Raised(RID, code(200 + n), "name", "x"), "核验")).id
        for n in range(3)
    ]
    pairs = {(RID, code(200 + n)) for n in range(50)} | {("tax.tax_credit", code(200))}
    statements: list[str] = []
    listen: Callable[..., None] = lambda *args: statements.append(args[2])  # noqa: E731
    sa.event.listen(platform.engine.sync_engine, "before_cursor_execute", listen)
    try:
        first = await objections.open_for(pairs)
        assert len(statements) == 1  # the table of open objections, loaded once
        again = await objections.open_for(pairs)
        assert len(statements) == 1  # then read from memory
        answered = await objections.answer(
            actor(catalog.resources[RID].provider, "provider"), ids[0], Outcome.CONFIRMED, "ok"
        )
        after = await objections.open_for(pairs)  # an answer here is seen at once
    finally:
        sa.event.remove(platform.engine.sync_engine, "before_cursor_execute", listen)
    assert first == again == {(RID, code(200 + n)): {"name": ids[n]} for n in range(3)}
    assert answered.id not in str(after) and len(after) == 2


async def test_objections_raised_elsewhere_are_marked_within_the_refresh(
    platform: PlatformDB, catalog: Catalog
) -> None:
    here = service(platform, catalog, "hubei", Clock(FRIDAY), None)
    elsewhere = service(platform, catalog, "hubei", Clock(FRIDAY), None)  # another gateway process
    pair = (RID, code(210))
    assert await here.open_for({pair}) == {}
    await applied(platform, catalog, code(7))
    row = await elsewhere.raise_objection(actor(code(7), "consumer"), Raised(*pair, "name", "x"), "核验")
    here.refresh_seconds = 0.0  # as a second later
    assert await here.open_for({pair}) == {pair: {"name": row.id}}


async def test_an_older_data_folder_gains_the_tables(tmp_path: Path) -> None:
    old = tmp_path / "platform.db"
    with sqlite3.connect(old) as db:  # a data folder from before objections: grants only (1d594b8)
        db.execute(
            "CREATE TABLE grants (id VARCHAR(64) NOT NULL, consumer VARCHAR(18) NOT NULL, "
            "resource VARCHAR(128) NOT NULL, items JSON NOT NULL, modes JSON NOT NULL, "
            "purpose TEXT NOT NULL, valid_from DATETIME NOT NULL, valid_until DATETIME NOT NULL, "
            "revoked_at DATETIME, created_at DATETIME NOT NULL, PRIMARY KEY (id))"
        )
        db.execute("CREATE INDEX ix_grants_consumer ON grants (consumer)")
    platform = PlatformDB(f"sqlite+aiosqlite:///{old}")
    try:
        await platform.create_schema()
        async with platform.engine.connect() as conn:
            names = await conn.run_sync(lambda sync: set(sa.inspect(sync).get_table_names()))
    finally:
        await platform.close()
    assert {"grants", "objections", "objection_events", "change_notices"} <= names


async def test_relay_pushes_a_change_stored_elsewhere_once(platform: PlatformDB, catalog: Catalog) -> None:
    here = ChangeNotices(platform, catalog, WorkdayCalendar(), 2)
    elsewhere = ChangeNotices(platform, catalog, WorkdayCalendar(), 2)  # e.g. govshare notify-change
    relay = ChangeRelay(here)
    provider = actor(catalog.resources[RID].provider, "provider")
    async with here.broker.subscribe() as queue:
        await here.notify(provider, RID, [code(300)])  # pushed at once, here
        await elsewhere.notify(provider, RID, [code(301)], ["name"])
        assert await relay.relay() == 1 and await relay.relay() == 0
        received = [queue.get_nowait() for _ in range(queue.qsize())]
    assert [(n.subjects, n.items) for n in received] == [((code(300),), ()), ((code(301),), ("name",))]


async def test_the_poller_finds_changed_keys_also_across_a_restart(served: Any) -> None:
    _, gateway, samples = served
    changes: ChangeNotices = gateway.federation.changes
    poller = ChangePoller(changes, gateway.federation.sources, interval=3600)
    assert await poller.poll() == []  # the first round notes the stamps
    changed = samples["organizations"][:2]
    later = (dt.datetime.now(CHINA) + dt.timedelta(days=400)).replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(gateway.settings.data_dir / "amr.db") as db:
        db.executemany("UPDATE enterprise SET updated_at = ? WHERE uscc = ?", [(later, c) for c in changed])
        previous = db.execute(
            "SELECT max(updated_at) FROM enterprise WHERE uscc NOT IN (?, ?)", changed
        ).fetchone()[0]
        at_previous = {
            k for (k,) in db.execute("SELECT uscc FROM enterprise WHERE updated_at = ?", (previous,))
        }
    restarted = ChangePoller(
        changes, gateway.federation.sources, interval=3600
    )  # stamps kept in the database
    async with changes.broker.subscribe() as queue:
        found = await restarted.poll()
        pushed = queue.get_nowait()
    [row] = found
    assert (row.resource, row.items, row.notified_by) == (RID, [], "source")
    # since is inclusive: keys stamped exactly at the last stamp seen are reported again
    # rather than a change in that same instant missed; no other key is
    assert set(changed) <= set(row.subjects) <= set(changed) | at_previous
    assert pushed.resource == RID and pushed.subjects == tuple(row.subjects)
    assert await restarted.poll() == []  # nothing new since


async def test_holdings_follow_the_trail_incrementally(platform: PlatformDB, audit: AuditLog) -> None:
    reader = code(8)
    holdings = Holdings(audit, reader)
    assert await holdings.of(RID) == set()
    await read_event(audit, reader, code(400))
    await read_event(audit, code(9), code(401))  # another consumer's read
    await read_event(audit, reader, code(402), decision="NOT_SHARED")  # refused: not a read
    assert await holdings.of(RID) == {code(400)}
    await read_event(audit, reader, code(403))
    assert await holdings.of(RID) == {code(400), code(403)}
    assert await holdings.of("tax.tax_credit") == set()
    assert await subjects_read(audit, reader, RID, {code(403), code(401)}) == {code(403)}
