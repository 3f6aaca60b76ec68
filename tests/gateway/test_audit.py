"""The audit log: hash chain, group commit, fail closed, tamper detection (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import create_async_engine

from errors import AuditUnavailable, BadRequest
from gateway.audit import (
    ZERO_HASH,
    AuditEvent,
    AuditLog,
    VerifyResult,
    canonical_json,
    digest,
    verify_chain,
)
from gateway.platform import PlatformDB, default_url
from policies.codes import make_uscc
from tests.conftest import run_cli

CONSUMER = make_uscc("1", "1", "420100", "MC000001")
OTHER = make_uscc("1", "1", "420100", "MC000002")
RESOURCE = "amr.enterprise_registration"


@dataclass
class Store:
    """One test's audit tables, uniquely named (the PostgreSQL database is shared); SQL names them $T."""

    url: str
    table: str

    def log(self, **options: Any) -> AuditLog:
        return AuditLog(self.url, table=self.table, **options)

    async def verify(self) -> VerifyResult:
        return await verify_chain(self.url, table=self.table)

    async def sql(self, statement: str, **params: Any) -> None:
        engine = create_async_engine(self.url)
        try:
            async with engine.begin() as conn:
                await conn.execute(sa.text(statement.replace("$T", self.table)), params)
        finally:
            await engine.dispose()


@pytest.fixture
async def store(platform_url: str) -> AsyncIterator[Store]:
    table = f"audit_t_{uuid.uuid4().hex[:12]}"
    yield Store(platform_url, table)
    engine = create_async_engine(platform_url)
    async with engine.begin() as conn:
        for name in (
            table,
            f"{table}_resources",
            f"{table}_moved",
            f"{table}_usage",
            f"{table}_meta",
            f"{table}_anchors",
        ):
            await conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))
    await engine.dispose()


@pytest.fixture
async def audit(store: Store) -> AsyncIterator[AuditLog]:
    async with store.log() as log:
        yield log


def event(n: int = 0, *, consumer: str = CONSUMER, resource: str = RESOURCE, **changes: Any) -> AuditEvent:
    fields: dict[str, Any] = {
        "kind": "query",
        "outcome": "answered",
        "consumer": consumer,
        "client": "client-1",
        "user": "张三",
        "purpose": "行政审批核验",
        "application": None,
        "mode": "query",
        "resources": (resource,),
        "items": (f"{resource}.name", f"{resource}.capital"),
        "subjects": (make_uscc("9", "1", "420100", f"MA{n:06d}"),),
        "decisions": {f"{resource}.name": "ALLOWED", f"{resource}.capital": "NOT_SHARED"},
        "response_digest": digest({"data": {"n": n}}),
    }
    return AuditEvent(**{**fields, **changes})


async def append_many(log: AuditLog, count: int, **changes: Any) -> list[str]:
    return [(await log.append(event(n, **changes))).id for n in range(count)]


# --- chain ----------------------------------------------------------------------------


async def test_receipts_run_from_one_and_form_a_verifiable_chain(store: Store, audit: AuditLog):
    receipts = [await audit.append(event(n)) for n in range(5)]
    assert [r.seq for r in receipts] == [1, 2, 3, 4, 5]
    stored = await audit.events()
    assert [e["id"] for e in stored] == [r.id for r in receipts]
    assert [e["hash"] for e in stored] == [r.hash for r in receipts]
    assert [e["prev_hash"] for e in stored] == [ZERO_HASH] + [r.hash for r in receipts[:-1]]
    for line in stored:  # every exported line re-checks on its own
        assert digest({k: v for k, v in line.items() if k != "hash"}) == line["hash"]
    assert (
        stored[0]["purpose"] == "行政审批核验"
        and stored[0]["decisions"][f"{RESOURCE}.capital"] == "NOT_SHARED"
    )
    assert stored[0]["time"].endswith("Z") and receipts[0].time.tzinfo is not None
    assert await store.verify() == VerifyResult(True, 5)


async def test_concurrent_appends_share_few_transactions(store: Store, audit: AuditLog):
    commits: list[int] = []
    sa.event.listen(audit.commit_engine, "commit", lambda _conn: commits.append(1))
    receipts = await asyncio.gather(*(audit.append(event(n)) for n in range(200)))
    assert 1 <= len(commits) <= 5, f"{len(commits)} transactions for 200 appends"
    assert sorted(r.seq for r in receipts) == list(range(1, 201))
    assert len({r.id for r in receipts}) == len({r.hash for r in receipts}) == 200
    assert await store.verify() == VerifyResult(True, 200)


async def test_group_commits_on_sqlite_are_durable_wal_commits_in_one_thread(store: Store, audit: AuditLog):
    """The group commit on a SQLite file runs in its own thread (connectors.sqlite_thread):
    its connections are prepared as the log's (WAL, a full sync at each commit)."""
    if audit.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's own commit thread")
    threads: set[int] = set()
    sa.event.listen(audit.commit_engine, "commit", lambda _conn: threads.add(threading.get_ident()))
    await asyncio.gather(*(audit.append(event(n)) for n in range(20)))
    await append_many(audit, 3)
    assert len(threads) == 1 and threading.get_ident() not in threads
    with audit.commit_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL
    assert await store.verify() == VerifyResult(True, 23)


async def test_two_writers_of_one_chain_chain_after_each_other(store: Store):
    """Two processes appending to one chain (one GOVSHARE_INSTANCE on two hosts, the CLI's
    ``cli`` chain run twice at once): an insert that collides on (instance, seq) is chained
    again after the other writer's head, so every event is stored and the chain verifies
    (before, each collision refused its batch AUDIT_UNAVAILABLE)."""
    async with store.log() as first, store.log() as second:
        assert first.instance == second.instance
        receipts = await asyncio.gather(*(log.append(event(n)) for n in range(40) for log in (first, second)))
    assert sorted(r.seq for r in receipts) == list(range(1, 81))
    assert await store.verify() == VerifyResult(True, 80)


async def test_max_batch_bounds_a_transaction(store: Store):
    async with store.log(max_batch=50) as log:
        commits: list[int] = []
        sa.event.listen(log.commit_engine, "commit", lambda _conn: commits.append(1))
        await asyncio.gather(*(log.append(event(n)) for n in range(200)))
    assert len(commits) >= 4
    assert (await store.verify()).ok


async def test_restart_continues_the_chain(store: Store):
    async with store.log() as first:
        await append_many(first, 3)
    async with store.log() as second:
        receipt = await second.append(event(9))
    assert receipt.seq == 4
    assert await store.verify() == VerifyResult(True, 4)


async def test_close_writes_everything_already_appended(store: Store):
    log = store.log()
    await log.start()
    pending = [asyncio.create_task(log.append(event(n))) for n in range(30)]
    await asyncio.sleep(0)
    await log.close()
    assert sorted(task.result().seq for task in pending) == list(range(1, 31))
    with pytest.raises(AuditUnavailable, match="not running"):
        await log.append(event())
    assert await store.verify() == VerifyResult(True, 30)


async def test_append_before_start_is_refused(store: Store):
    log = store.log()
    try:
        with pytest.raises(AuditUnavailable, match="not running"):
            await log.append(event())
    finally:
        await log.close()


async def test_instances_keep_separate_chains_and_all_are_verified(store: Store):
    async with store.log(instance="gw-a") as a, store.log(instance="gw-b") as b:
        await asyncio.gather(*(log.append(event(n)) for n in range(3) for log in (a, b)))
        assert [(e["instance"], e["seq"]) for e in await a.events()] == [
            (name, seq) for seq in (1, 2, 3) for name in ("gw-a", "gw-b")
        ]
    assert await store.verify() == VerifyResult(True, 6)
    await store.sql("UPDATE $T SET outcome = 'refused' WHERE instance = 'gw-b' AND seq = 2")
    result = await store.verify()
    assert not result.ok and result.checked == 3 + 1
    assert "instance gw-b, seq 2: content changed" in str(result.reason)


# --- fail closed ----------------------------------------------------------------------


async def test_unwritable_store_refuses_then_recovers_without_a_gap(store: Store, audit: AuditLog):
    await append_many(audit, 3)
    await store.sql("ALTER TABLE $T RENAME TO $T_moved")
    results = await asyncio.gather(*(audit.append(event(n)) for n in range(5)), return_exceptions=True)
    assert all(isinstance(r, AuditUnavailable) for r in results), results
    assert "refused" in str(results[0])
    with pytest.raises(AuditUnavailable):  # the next append tries again, and fails again
        await audit.append(event())
    await store.sql("ALTER TABLE $T_moved RENAME TO $T")
    receipts = [await audit.append(event(n)) for n in range(2)]
    assert [r.seq for r in receipts] == [4, 5]
    assert await store.verify() == VerifyResult(True, 5)


async def test_a_stuck_store_times_out_and_the_chain_survives(store: Store):
    async with store.log(timeout=0.3) as log:
        await log.append(event(0))
        engine = create_async_engine(store.url)
        async with engine.connect() as blocker:  # holds the write lock until rolled back
            if engine.dialect.name == "sqlite":
                await blocker.execute(sa.text(f"UPDATE {store.table} SET outcome = outcome WHERE seq = 1"))
            else:
                await blocker.execute(sa.text(f"LOCK TABLE {store.table} IN EXCLUSIVE MODE"))
            with pytest.raises(AuditUnavailable, match=r"did not commit within 0\.3 s"):
                await log.append(event(1))
            await blocker.rollback()
        await engine.dispose()
        receipt = await log.append(event(2))  # the late event may or may not have landed
        assert len(await log.events()) == receipt.seq
    assert await store.verify() == VerifyResult(True, receipt.seq)


async def test_unreachable_store_refuses_to_start(tmp_path: Path):
    log = AuditLog(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/platform.db")
    try:
        with pytest.raises(AuditUnavailable, match="cannot be opened"):
            await log.start()
    finally:
        await log.close()


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"kind": "peek"}, "kind 'peek'"),
        ({"purpose": "a\x00b"}, "NUL"),
        ({"resources": RESOURCE}, "tuple of strings"),
        ({"response_digest": "abc"}, "hex sha256"),
        ({"detail": {"ratio": math.nan}}, "canonical JSON"),
        ({"purpose": "\ud800"}, "canonical JSON"),
        ({"decisions": {"x": math.inf}}, "canonical JSON"),
        ({"detail": {"at": dt.datetime(2025, 1, 1)}}, "naive"),
    ],
)
async def test_a_bad_event_is_refused_alone(store: Store, audit: AuditLog, changes: dict[str, Any], fragment):
    results = await asyncio.gather(
        audit.append(event(1)),
        audit.append(event(2, **changes)),
        audit.append(event(3)),
        return_exceptions=True,
    )
    assert isinstance(results[1], AuditUnavailable) and fragment in str(results[1])
    assert [getattr(r, "seq", None) for r in results] == [1, None, 2]
    assert await store.verify() == VerifyResult(True, 2)


# --- canonical JSON -------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), JSON_VALUES, min_size=1, max_size=8), st.randoms())
def test_key_order_does_not_change_the_digest(value: dict[str, Any], random: Any):
    keys = list(value)
    random.shuffle(keys)
    shuffled = {key: value[key] for key in keys}
    assert canonical_json(shuffled) == canonical_json(value)
    assert digest(shuffled) == digest(value)
    assert json.loads(canonical_json(value)) == value


PLAIN_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"\\'))


@given(PLAIN_TEXT, PLAIN_TEXT)
def test_unicode_is_kept_as_utf8(key: str, text: str):
    assert canonical_json({key: [text]}) == f'{{"{key}":["{text}"]}}'.encode()


def test_canonical_json_forms():
    moment = dt.datetime(2025, 3, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert canonical_json({"b": (1, 2.5), "a": moment}) == b'{"a":"2025-03-01T00:00:00.000000Z","b":[1,2.5]}'
    assert canonical_json({"日期": dt.date(2025, 3, 1)}) == '{"日期":"2025-03-01"}'.encode()
    for bad in (math.nan, math.inf, dt.datetime(2025, 1, 1), {1, 2}, "\ud800"):
        with pytest.raises((ValueError, TypeError)):
            canonical_json({"x": bad})


# --- tampering ------------------------------------------------------------------------


async def _rewrite_purpose_and_hash(store: Store) -> None:
    async with store.log() as log:
        [row] = await log.events(after_seq=2, limit=1)
    row["purpose"] = "别的用途"
    forged = digest({k: v for k, v in row.items() if k != "hash"})
    await store.sql("UPDATE $T SET purpose = '别的用途', hash = :h WHERE seq = 3", h=forged)


async def _swap(store: Store, one: int, other: int) -> None:
    await store.sql("UPDATE $T SET seq = -1 WHERE seq = :a", a=one)
    await store.sql("UPDATE $T SET seq = :a WHERE seq = :b", a=one, b=other)
    await store.sql("UPDATE $T SET seq = :b WHERE seq = -1", b=other)


TAMPERING = {  # case: (tamper, seq of the event named, events intact before it, reason)
    "purpose changed": (
        lambda s: s.sql("UPDATE $T SET purpose = '别的' WHERE seq = 3"),
        3,
        2,
        "content changed",
    ),
    "subjects changed": (
        lambda s: s.sql("UPDATE $T SET subjects = '[]' WHERE seq = 3"),
        3,
        2,
        "content changed",
    ),
    "row deleted": (lambda s: s.sql("DELETE FROM $T WHERE seq = 3"), 4, 2, "missing seq 3"),
    "first row deleted": (lambda s: s.sql("DELETE FROM $T WHERE seq = 1"), 2, 0, "missing seq 1"),
    "rows swapped": (lambda s: _swap(s, 3, 6), 6, 2, "reordered: written as seq 6 but stored as seq 3"),
    "neighbours swapped": (lambda s: _swap(s, 3, 4), 4, 2, "reordered: written as seq 4 but stored as seq 3"),
    "prev_hash changed": (
        lambda s: s.sql(f"UPDATE $T SET prev_hash = '{'ab' * 32}' WHERE seq = 3"),
        3,
        2,
        "link broken: prev_hash was changed",
    ),
    "row rewritten with a new hash": (_rewrite_purpose_and_hash, 4, 3, "link broken"),
}


@pytest.mark.parametrize("case", list(TAMPERING))
async def test_tampering_names_the_first_broken_event(store: Store, audit: AuditLog, case: str):
    ids = await append_many(audit, 8)
    tamper, broken_seq, intact, reason = TAMPERING[case]
    await tamper(store)
    result = await store.verify()
    assert not result.ok
    assert result.first_broken == ids[broken_seq - 1]
    assert reason in str(result.reason)
    assert result.checked == intact


# --- reading --------------------------------------------------------------------------


async def test_events_by_scope_time_and_page(audit: AuditLog):
    await audit.append(event(1, consumer=CONSUMER, resource="amr.a"))
    await audit.append(event(2, consumer=OTHER, resource="tax.b"))
    middle = await audit.append(event(3, consumer=OTHER, resource="amr.a"))
    await audit.append(
        event(4, kind="admin", consumer=None, resources=(), items=(), subjects=(), decisions={})
    )
    seqs = lambda events: [e["seq"] for e in events]  # noqa: E731
    assert seqs(await audit.events()) == [1, 2, 3, 4]
    assert seqs(await audit.events(consumer=CONSUMER)) == [1]
    assert seqs(await audit.events(provider_resources={"amr.a"})) == [1, 3]
    assert seqs(await audit.events(provider_resources=set())) == []
    assert seqs(await audit.events(consumer=OTHER, provider_resources={"amr.a"})) == [1, 2, 3]
    assert seqs(await audit.events(since=middle.time)) == [3, 4]
    assert seqs(await audit.events(until=middle.time)) == [1, 2]
    assert seqs(await audit.events(limit=2)) == [1, 2]
    assert seqs(await audit.events(after_seq=2, limit=2)) == [3, 4]


class Ticks:
    """A clock for AuditLog(clock=...): each call returns the next of the given instants."""

    def __init__(self, *moments: dt.datetime) -> None:
        self.moments = list(moments)

    def __call__(self) -> dt.datetime:
        return self.moments.pop(0)


T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


async def two_chains(store: Store) -> list[tuple[str, int]]:
    """Chain a writes at minutes 0, 1, 2, 3, 10; chain b at 4, 5, 11 (by seq, a and b would
    alternate: a1 b1 a2 b2 ...). Returns (instance, seq) in time order."""
    async with (
        store.log(instance="a", clock=Ticks(*map(at, (0, 1, 2, 3, 10)))) as a,
        store.log(instance="b", clock=Ticks(*map(at, (4, 5, 11)))) as b,
    ):
        for n in range(4):
            await a.append(event(n))
        for n in range(2):
            await b.append(event(n))
        await a.append(event(9))
        await b.append(event(9))
    return [("a", 1), ("a", 2), ("a", 3), ("a", 4), ("b", 1), ("b", 2), ("a", 5), ("b", 3)]


def order(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(e["instance"], e["seq"]) for e in events]


async def test_events_are_oldest_first_by_time_across_chains(store: Store):
    expected = await two_chains(store)
    reader = store.log()
    try:
        assert order(await reader.events()) == expected
        times = [e["time"] for e in await reader.events()]
        assert times == sorted(times)
    finally:
        await reader.close()


@pytest.mark.parametrize("limit", [1, 2, 3, 5, 7, 8, 100])
async def test_a_page_holds_at_most_limit_events_and_pages_cover_all_once(store: Store, limit: int):
    expected = await two_chains(store)
    reader = store.log()
    try:
        pages, after = [], None
        while page := await reader.events(limit=limit, after=after):
            assert len(page) <= limit
            pages.append(page)
            after = page[-1]["id"]
        assert order(pages[0]) == expected[:limit]
        assert [item for page in pages for item in order(page)] == expected
        with pytest.raises(BadRequest, match="no audit event"):
            await reader.events(after="audit-unknown")
    finally:
        await reader.close()


async def test_cli_export_is_oldest_first_by_time_across_chains(tmp_path: Path):
    url = default_url(str(tmp_path))
    expected = await two_chains(Store(url, "audit_events"))
    lines = [json.loads(line) for line in run_cli(tmp_path, "audit", "export").stdout.splitlines()]
    assert [(line["instance"], line["seq"]) for line in lines] == expected
    assert [line["time"] for line in lines] == sorted(line["time"] for line in lines)


async def test_a_forged_resource_index_row_does_not_widen_a_providers_view(store: Store, audit: AuditLog):
    [mine, _] = await append_many(audit, 2)
    await store.sql("INSERT INTO $T_resources (resource, event_id) VALUES ('tax.b', :id)", id=mine)
    assert await audit.events(provider_resources={"tax.b"}) == []


async def test_forged_index_rows_do_not_end_a_providers_paging_early(store: Store, audit: AuditLog):
    forged = await append_many(audit, 4)
    real = (await audit.append(event(9, resource="tax.b"))).id
    for event_id in forged:
        await store.sql("INSERT INTO $T_resources (resource, event_id) VALUES ('tax.b', :id)", id=event_id)
    for limit in (1, 2, 5):
        assert [e["id"] for e in await audit.events(provider_resources={"tax.b"}, limit=limit)] == [real]


# --- command line ---------------------------------------------------------------------


async def test_cli_verifies_exports_and_names_the_broken_event(tmp_path: Path):
    async with AuditLog(default_url(str(tmp_path))) as log:
        ids = await append_many(log, 5)
    assert run_cli(tmp_path, "audit", "verify").stdout == "ok: 5 events verified\n"
    lines = [json.loads(line) for line in run_cli(tmp_path, "audit", "export").stdout.splitlines()]
    assert [line["id"] for line in lines] == ids
    assert all(digest({k: v for k, v in line.items() if k != "hash"}) == line["hash"] for line in lines)
    since = run_cli(tmp_path, "audit", "export", "--since", lines[3]["time"].replace("Z", "+00:00"))
    assert [json.loads(line)["seq"] for line in since.stdout.splitlines()] == [4, 5]

    engine = create_async_engine(default_url(str(tmp_path)))
    async with engine.begin() as conn:
        await conn.execute(sa.text("UPDATE audit_events SET purpose = '另一个目的' WHERE seq = 2"))
    await engine.dispose()
    result = run_cli(tmp_path, "audit", "verify", check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert ids[1] in result.stderr and "content changed" in result.stderr


def test_cli_verify_without_an_audit_table_says_so(tmp_path: Path):
    result = run_cli(tmp_path, "audit", "verify", check=False)
    assert result.returncode == 2
    assert "no platform database" in result.stderr and "GOVSHARE_DATA" in result.stderr  # nothing made
    assert not (tmp_path / "platform.db").exists()
    (tmp_path / "platform.db").touch()  # a database, without the audit table
    result = run_cli(tmp_path, "audit", "verify", check=False)
    assert result.returncode == 2
    assert "no audit_events table" in result.stderr


async def test_workers_starting_together_on_a_fresh_database_all_start(tmp_path: Path):
    """Each worker's audit log records the catalog's owners at start; two used to find no row
    at once, both insert it, and the loser failed to start (stopping ``serve --workers N``)."""
    owners = {"tax.credit": "11430000MB0000000X"}
    platform = PlatformDB(default_url(str(tmp_path)))  # as `serve` does before its workers start
    await platform.create_schema()
    await platform.close()
    logs = [AuditLog(default_url(str(tmp_path)), instance=f"w{n}", owners=owners) for n in range(4)]
    try:
        await asyncio.gather(*(log.start() for log in logs))
        assert all(log._writer is not None for log in logs)
    finally:
        await asyncio.gather(*(log.close() for log in logs if log._writer is not None))
