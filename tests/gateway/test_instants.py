"""Stored instants are UTC on every backend and read back aware (policies/chinatime.py).

China Standard Time is UTC+8 (no daylight saving since 1991), so 17:00 in China on
2026-12-01 is 09:00 UTC, written ``2026-12-01T17:00:00+08:00``, ``2026-12-01T09:00:00Z``
or, without an offset (China time), ``2026-12-01T17:00:00``. Each is tried on SQLite
(which keeps no offset) and PostgreSQL (``timestamptz``).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway.audit import AuditEvent, AuditLog
from gateway.clients import ClientRow
from gateway.platform import Base, GrantRow, PlatformDB, UTCDateTime, new_grant_row
from gateway.workflow import ApplicationEventRow, ApplicationRow
from policies.chinatime import parse_instant
from policies.codes import make_uscc
from tests.conftest import CATALOG, run_cli

CST = dt.timezone(dt.timedelta(hours=8))  # the offset China time has had since 1991
END = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)  # the one instant of the three spellings
SPELLINGS = {
    "+08:00": "2026-12-01T17:00:00+08:00",
    "Z": "2026-12-01T09:00:00Z",
    "none (China time)": "2026-12-01T17:00:00",
}
AS_DATETIMES = {
    "+08:00": dt.datetime(2026, 12, 1, 17, 0, tzinfo=CST),
    "Z": dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC),
    "-05:00": dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    "none (China time)": dt.datetime(2026, 12, 1, 17, 0),
}


def consumer() -> str:
    return make_uscc("1", "1", "420100", f"MT{uuid.uuid4().int % 10**6:06d}")


def test_every_datetime_column_of_the_platform_database_stores_utc() -> None:
    """The kind, not one column: grants, applications, their events, clients and the audit trail."""
    import gateway.audit  # noqa: F401  (its table joins Base.metadata on import)

    columns = [c for t in Base.metadata.sorted_tables for c in t.columns if _is_datetime(c.type)]
    assert {c.table.name for c in columns} >= {
        "grants",
        "applications",
        "application_events",
        "oauth_clients",
    }
    assert any(c.table.name.startswith("audit") and c.name == "time" for c in columns)
    assert [f"{c.table.name}.{c.name}" for c in columns if not isinstance(c.type, UTCDateTime)] == []
    for row in (GrantRow, ApplicationRow, ApplicationEventRow, ClientRow):
        assert row.__table__ in Base.metadata.sorted_tables  # type: ignore[attr-defined]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_three_spellings_are_one_instant(spelling: str) -> None:
    parsed = parse_instant(SPELLINGS[spelling])
    assert parsed == END and parsed.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize("given", AS_DATETIMES)
async def test_a_grant_period_is_stored_as_the_instant_given(platform: PlatformDB, given: str) -> None:
    who = consumer()
    until = AS_DATETIMES[given]
    start = until - dt.timedelta(days=30)
    await platform.add_grant(
        new_grant_row(who, "amr.enterprise_registration", ["a"], "p", until, valid_from=start)
    )
    [stored] = await platform.grants_for(who)
    expected = END if given != "-05:00" else dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    assert stored.valid_until == expected
    assert stored.valid_until.utcoffset() == dt.timedelta(0)  # aware, in UTC, on both engines
    assert stored.valid_from == expected - dt.timedelta(days=30)
    assert await _stored_utc_text(platform, "valid_until", who) == "2026-12-01 09:00:00"


@pytest.mark.parametrize("given", ["+08:00", "none (China time)"])
async def test_a_grant_until_17_china_time_stops_serving_at_09_utc(platform: PlatformDB, given: str) -> None:
    """Issue 7, item 1: on SQLite such a grant served conditional data for 8 more hours."""
    who = consumer()
    until = AS_DATETIMES[given]
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    await platform.add_grant(
        new_grant_row(who, "amr.enterprise_registration", ["a"], "p", until, valid_from=start)
    )
    [grant] = await platform.grants_for(who)
    assert grant.active_at(dt.datetime(2026, 12, 1, 8, 59, 59, tzinfo=dt.UTC))
    assert not grant.active_at(dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC))
    assert not grant.active_at(dt.datetime(2026, 12, 1, 16, 59, tzinfo=dt.UTC))  # 8 hours later


async def test_queries_compare_instants_not_wall_clocks(platform: PlatformDB) -> None:
    """A bound parameter goes through the same conversion as a stored value."""
    who = consumer()
    await platform.add_grant(new_grant_row(who, "r.x", ["a"], "p", AS_DATETIMES["+08:00"]))
    async with platform.session() as session:
        before = GrantRow.valid_until > dt.datetime(2026, 12, 1, 16, 59, tzinfo=CST)  # 08:59Z
        after = GrantRow.valid_until > dt.datetime(
            2026, 12, 1, 4, 1, tzinfo=dt.timezone(dt.timedelta(hours=-5))
        )
        assert (await session.scalars(sa.select(GrantRow.id).where(before))).all() != []
        assert (await session.scalars(sa.select(GrantRow.id).where(after))).all() == []


async def test_the_audit_time_is_stored_as_utc(platform_url: str) -> None:
    table = f"audit_instants_{uuid.uuid4().hex[:8]}"
    async with AuditLog(platform_url, table=table) as log:
        receipt = await log.append(AuditEvent(kind="admin", outcome="answered", consumer=consumer()))
    engine = create_async_engine(platform_url)
    try:
        stored = await _raw_utc_text(engine, table, "time", "id", receipt.id)
    finally:
        await engine.dispose()
    assert receipt.time.utcoffset() == dt.timedelta(0)
    assert stored == receipt.time.strftime("%Y-%m-%d %H:%M:%S")


async def test_values_an_older_version_stored_on_sqlite_read_back_as_utc(tmp_path: Path) -> None:
    """Earlier versions wrote the wall clock of the datetime given, offset dropped; every
    instant they took themselves (creation, revocation, audit times) was now() in UTC."""
    db = PlatformDB(f"sqlite+aiosqlite:///{tmp_path}/platform.db")
    await db.create_schema()
    async with db.engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO grants (id, consumer, resource, items, modes, purpose, valid_from, valid_until,"
                " created_at) VALUES ('g1', :c, 'r.x', '[\"a\"]', '[\"query\"]', 'p',"
                " '2026-11-01 00:00:00.000000', '2026-12-01 09:00:00.000000', '2026-11-01 00:00:00.000000')"
            ),
            {"c": consumer()},
        )
    [grant] = await db.all_grants()
    await db.close()
    assert grant.valid_until == END


def test_grant_add_takes_until_with_or_without_an_offset(tmp_path: Path) -> None:
    from tests.gateway.test_cli import initialise

    shutil.copy(CATALOG, tmp_path / "catalog.yaml")
    initialise(tmp_path)  # a gateway's data folder: grant add never makes a platform database
    for spelling in SPELLINGS.values():
        args = ["--consumer", consumer(), "--resource", "tax.tax_credit", "--items", "tax_arrears"]
        args += ["--purpose", "信用", "--from", "2026-11-01T00:00:00", "--until", spelling]
        run_cli(tmp_path, "grant", "add", *args)
    listed = [json.loads(line) for line in run_cli(tmp_path, "grant", "list").stdout.splitlines()]
    assert {dt.datetime.fromisoformat(g["valid_until"]) for g in listed} == {END}
    assert {dt.datetime.fromisoformat(g["valid_from"]) for g in listed} == {
        dt.datetime(2026, 10, 31, 16, 0, tzinfo=dt.UTC)
    }
    with sqlite3.connect(tmp_path / "platform.db") as conn:
        assert {row[0] for row in conn.execute("SELECT valid_until FROM grants")} == {
            "2026-12-01 09:00:00.000000"
        }


def _is_datetime(kind: sa.types.TypeEngine[object]) -> bool:
    return isinstance(getattr(kind, "impl_instance", kind), sa.DateTime)


async def _stored_utc_text(platform: PlatformDB, column: str, who: str) -> str:
    return await _raw_utc_text(platform.engine, "grants", column, "consumer", who)


async def _raw_utc_text(engine: AsyncEngine, table: str, column: str, key: str, value: str) -> str:
    """The stored value itself, as UTC text to the second, bypassing the column type."""
    if engine.dialect.name == "postgresql":
        shown = f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
    else:  # SQLite keeps text
        shown = f"substr({column}, 1, 19)"
    async with engine.connect() as conn:
        return str(await conn.scalar(sa.text(f"SELECT {shown} FROM {table} WHERE {key} = :v"), {"v": value}))
