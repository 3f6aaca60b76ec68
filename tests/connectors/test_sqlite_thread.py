"""connectors.sqlite_thread: a whole unit of SQLite work in one thread hand-over."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from connectors.sqlite_thread import SQLiteThread, sqlite_file

ITEMS = sa.table("items", sa.column("code"), sa.column("name"))


@pytest.fixture
def url(tmp_path: Path) -> sa.URL:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'd.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE items (code TEXT PRIMARY KEY, name TEXT)"))
    engine.dispose()
    return sa.make_url(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}")


@pytest.mark.parametrize(
    ("url", "file"),
    [
        ("sqlite+aiosqlite:////srv/data/platform.db", "/srv/data/platform.db"),
        ("sqlite:///relative.db", "relative.db"),
        ("sqlite+aiosqlite://", None),  # in memory: private to its connection
        ("sqlite+aiosqlite:///:memory:", None),
        ("sqlite+aiosqlite:///file:shared?mode=memory&cache=shared&uri=true", None),
        ("postgresql+asyncpg://u@127.0.0.1/db", None),
    ],
)
def test_only_a_database_in_a_file_has_a_file(url: str, file: str | None) -> None:
    assert sqlite_file(sa.make_url(url)) == (Path(file) if file else None)


async def test_a_unit_runs_whole_in_one_thread_that_is_not_the_event_loops(url: sa.URL) -> None:
    worker = SQLiteThread(url)
    seen: list[int] = []

    def unit(conn: sa.Connection, codes: list[str]) -> list[str]:
        for code in codes:
            seen.append(threading.get_ident())
            conn.execute(ITEMS.insert(), {"code": code, "name": code.lower()})
        return [row.name for row in conn.execute(sa.select(ITEMS.c.name).order_by(ITEMS.c.code))]

    try:
        assert await worker.run_in_transaction(unit, ["A", "B", "C"]) == ["a", "b", "c"]
        assert len(set(seen)) == 1 and seen[0] != threading.get_ident()
    finally:
        await worker.close()


async def test_run_rolls_back_what_the_unit_did_not_commit(url: sa.URL) -> None:
    worker = SQLiteThread(url)
    try:
        await worker.run(lambda conn: conn.execute(ITEMS.insert(), {"code": "A", "name": "a"}))
        assert await worker.run(_count) == 0
        await worker.run_in_transaction(lambda conn: conn.execute(ITEMS.insert(), {"code": "A", "name": "a"}))
        assert await worker.run(_count) == 1
    finally:
        await worker.close()


async def test_a_unit_that_raises_leaves_nothing_and_its_error_is_sqlalchemys(url: sa.URL) -> None:
    worker = SQLiteThread(url)

    def half(conn: sa.Connection) -> None:
        conn.execute(ITEMS.insert(), {"code": "A", "name": "a"})
        conn.execute(sa.text("INSERT INTO no_such_table VALUES (1)"))

    try:
        with pytest.raises(OperationalError, match="no_such_table"):
            await worker.run_in_transaction(half)
        assert await worker.run(_count) == 0  # the first insert went with the transaction
    finally:
        await worker.close()


async def test_the_event_loop_runs_while_a_unit_waits(url: sa.URL) -> None:
    """A unit that waits for the loop to act must finish: the loop is not held meanwhile."""
    worker = SQLiteThread(url)
    released = threading.Event()
    asyncio.get_running_loop().call_later(0.05, released.set)
    try:
        assert await asyncio.wait_for(worker.run(lambda _conn: released.wait(5)), 2) is True
    finally:
        await worker.close()


async def test_close_lets_running_work_finish(url: sa.URL) -> None:
    worker = SQLiteThread(url)
    started = threading.Event()

    def slow(conn: sa.Connection) -> str:
        started.set()
        threading.Event().wait(0.2)
        conn.execute(ITEMS.insert(), {"code": "Z", "name": "z"})
        conn.commit()
        return "done"

    running = asyncio.ensure_future(worker.run(slow))
    await asyncio.to_thread(started.wait, 2)
    await worker.close()
    assert running.done() and running.result() == "done"
    check = SQLiteThread(url)
    try:
        assert await check.run(_count) == 1
    finally:
        await check.close()


async def test_on_connect_prepares_every_connection(url: sa.URL) -> None:
    def wal(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.execute("PRAGMA journal_mode=WAL")  # type: ignore[attr-defined]

    worker = SQLiteThread(url, 2, wal)
    try:
        modes = await asyncio.gather(*(worker.run(_journal_mode) for _ in range(4)))
        assert modes == ["wal"] * 4
    finally:
        await worker.close()


def _count(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(ITEMS)).scalar_one())


def _journal_mode(conn: sa.Connection) -> str:
    return str(conn.exec_driver_sql("PRAGMA journal_mode").scalar_one())


async def test_a_closed_worker_runs_the_next_unit_on_new_threads(url: sa.URL) -> None:
    """As an engine after ``dispose``: a request still pinned to a retired connector reads on."""
    worker = SQLiteThread(url)
    await worker.run_in_transaction(lambda conn: conn.execute(ITEMS.insert(), {"code": "A", "name": "a"}))
    await worker.close()
    try:
        assert await worker.run(_count) == 1
    finally:
        await worker.close()


async def test_free_says_whether_a_unit_would_start_at_once(url: sa.URL) -> None:
    worker = SQLiteThread(url, 2)
    release = threading.Event()
    try:
        assert worker.free
        held = [asyncio.ensure_future(worker.run(lambda _conn: release.wait(5))) for _ in range(2)]
        await asyncio.sleep(0)
        assert not worker.free  # both threads taken: a third unit would queue
        release.set()
        await asyncio.gather(*held)
        assert worker.free
    finally:
        await worker.close()
