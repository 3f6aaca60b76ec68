"""A hung source costs its callers one timeout, never more (connectors/base.py contract).

The whole wait counts against the connector's ``timeout``: a pooled connection, every
chunk of keys, the clean-up of a call that overran. A source is hung here the way a real
one hangs: a SQLite file locked by another writer (``BEGIN EXCLUSIVE``: readers wait on
the lock inside aiosqlite's thread), a PostgreSQL table locked ``ACCESS EXCLUSIVE`` by an
open transaction, and the mock connector with a ``delay``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from connectors.base import Binding, Connector, open_connector, within
from connectors.mock import MockConnector
from errors import ConfigurationError, SourceUnavailable
from tests.conftest import postgres_url_or_skip

TIMEOUT = 0.5
SLACK = 1.5  # the wait may pass the timeout by scheduling noise only, never by another timeout
ITEMS = ("uscc", "name")
ROWS = [{"uscc": f"K{i:03d}", "name": f"企业{i}"} for i in range(20)]


@dataclass
class Hung:
    connector: Connector
    binding: Binding


async def _sqlite(tmp_path: Path) -> AsyncIterator[Hung]:
    path = tmp_path / "department.db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE enterprise (uscc TEXT PRIMARY KEY, name TEXT, updated_at TEXT)")
        setup.executemany("INSERT INTO enterprise (uscc, name) VALUES (:uscc, :name)", ROWS)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")  # another process writing: every reader waits on the lock
    settings = {"kind": "sql", "url": f"sqlite+aiosqlite:///{path}", "timeout": TIMEOUT}
    connector = open_connector(settings, tmp_path)
    try:
        binding = connector.bind({"table": "enterprise", "updated_at": "updated_at"}, ITEMS, "uscc")
        yield Hung(connector, binding)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        await connector.close()


async def _postgres(tmp_path: Path) -> AsyncIterator[Hung]:
    url = postgres_url_or_skip()
    table = f"govshare_hung_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(url)
    async with admin.begin() as conn:
        columns = "uscc text PRIMARY KEY, name text, updated_at text"
        await conn.execute(sa.text(f"CREATE TABLE {table} ({columns})"))
        await conn.execute(sa.text(f"INSERT INTO {table} (uscc, name) VALUES (:uscc, :name)"), ROWS)
    locker = await admin.connect()
    transaction = await locker.begin()
    await locker.execute(sa.text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
    connector = open_connector({"kind": "sql", "url": url, "timeout": TIMEOUT}, tmp_path)
    try:
        yield Hung(connector, connector.bind({"table": table, "updated_at": "updated_at"}, ITEMS, "uscc"))
    finally:
        await transaction.rollback()
        await locker.close()
        await connector.close()
        async with admin.begin() as conn:
            await conn.execute(sa.text(f"DROP TABLE {table}"))
        await admin.dispose()


async def _mock(tmp_path: Path) -> AsyncIterator[Hung]:
    settings = {"kind": "mock", "tables": {"enterprise": ROWS}, "delay": 60, "timeout": TIMEOUT}
    connector = open_connector(settings, tmp_path)
    yield Hung(connector, connector.bind({"table": "enterprise"}, ITEMS, "uscc"))


HUNG: dict[str, Callable[[Path], AsyncIterator[Hung]]] = {
    "mock": _mock,
    "sqlite": _sqlite,
    "postgresql": _postgres,
}


@pytest.fixture(
    params=["mock", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
async def hung(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Hung]:
    async for made in HUNG[request.param](tmp_path):
        yield made


async def timed(call: Awaitable[Any]) -> tuple[float, BaseException | None]:
    start = time.monotonic()
    try:
        await call
    except Exception as exc:
        return time.monotonic() - start, exc
    return time.monotonic() - start, None


def calls(hung: Hung) -> dict[str, Callable[[], Awaitable[Any]]]:
    keys = [row["uscc"] for row in ROWS]
    return {
        "fetch": lambda: hung.connector.fetch(hung.binding, keys, ["name"]),
        "scan": lambda: hung.connector.scan(hung.binding, ["name"]),
        "freshness": lambda: hung.connector.freshness(hung.binding),
    }


@pytest.mark.parametrize("call", ["fetch", "scan", "freshness"])
async def test_a_hung_source_answers_source_unavailable_within_one_timeout(hung: Hung, call: str) -> None:
    elapsed, error = await timed(calls(hung)[call]())
    assert isinstance(error, SourceUnavailable), error
    assert error.extensions == {"code": "SOURCE_UNAVAILABLE", "timeout": TIMEOUT}
    assert TIMEOUT * 0.9 <= elapsed < TIMEOUT * SLACK


async def test_callers_queued_for_a_connection_wait_one_timeout_in_all(hung: Hung) -> None:
    """More callers than the pool has connections (5 + 10 overflow by default): those
    waiting for a connection are bounded by the same timeout, not by pool_timeout (30 s)."""
    results = await asyncio.gather(*(timed(calls(hung)["fetch"]()) for _ in range(24)))
    for elapsed, error in results:
        assert isinstance(error, SourceUnavailable)
        assert elapsed < TIMEOUT * SLACK


async def test_a_second_call_after_an_abandoned_one_is_bounded_too(hung: Hung) -> None:
    """The first call's abandoned clean-up (a thread still waiting on the lock) must not
    delay the next caller past its own timeout."""
    await timed(calls(hung)["fetch"]())
    elapsed, error = await timed(calls(hung)["fetch"]())
    assert isinstance(error, SourceUnavailable)
    assert elapsed < TIMEOUT * SLACK


async def test_within_passes_results_and_other_failures_through() -> None:
    async def answer() -> int:
        return 42

    async def broken() -> None:
        raise ConnectionResetError("link dropped")

    assert await within(1, answer(), "answering") == 42
    with pytest.raises(ConnectionResetError):
        await within(1, broken(), "breaking")


async def test_a_call_whose_caller_gave_up_is_cancelled_after_one_more_timeout() -> None:
    """Not at once: cancelling a driver while it opens a connection loses the connection."""
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    abandoned: set[asyncio.Future[Any]] = set()
    outer = asyncio.ensure_future(within(0.2, slow(), "sleeping", abandoned))
    await started.wait()
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
    assert len(abandoned) == 1 and not cancelled.is_set()
    await asyncio.wait_for(cancelled.wait(), 1)
    await asyncio.sleep(0)
    assert abandoned == set()


@pytest.mark.parametrize("value", [0, -1, "soon", float("nan"), float("inf"), None])
def test_a_timeout_that_is_not_a_positive_number_of_seconds_is_refused(value: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        open_connector({"kind": "mock", "timeout": value}, tmp_path)
    with pytest.raises(ConfigurationError, match="timeout"):
        open_connector({"kind": "sql", "url": "sqlite+aiosqlite://", "timeout": value}, tmp_path)


def test_the_default_timeout_is_five_seconds(tmp_path: Path) -> None:
    assert MockConnector().timeout == 5.0
    assert open_connector({"kind": "sql", "url": "sqlite+aiosqlite://"}, tmp_path).timeout == 5.0
