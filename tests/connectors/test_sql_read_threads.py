"""The SQL connector's read threads on a SQLite file (connectors.sqlite_thread): what a read
that outlives its caller's timeout may cost the rest of the gateway. Both faults were found by
a fresh reviewer (stop 17)."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
from pathlib import Path

from connectors.base import Connector, open_connector
from connectors.sql import READ_THREADS
from errors import SourceUnavailable

TIMEOUT = 0.3
ROWS = [(f"K{i:03d}", f"企业{i}") for i in range(20)]


def _department(tmp_path: Path) -> Path:
    path = tmp_path / "department.db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE enterprise (uscc TEXT PRIMARY KEY, name TEXT, updated_at TEXT)")
        setup.executemany("INSERT INTO enterprise (uscc, name) VALUES (?, ?)", ROWS)
    return path


def _open(path: Path) -> Connector:
    settings = {"kind": "sql", "url": f"sqlite+aiosqlite:///{path}", "timeout": TIMEOUT}
    return open_connector(settings, path.parent)


async def test_closing_a_connector_whose_reads_overran_is_bounded_by_its_timeout(tmp_path: Path) -> None:
    """``close`` lets abandoned calls unwind for one timeout (connectors.base.settle), then
    goes: a retired connector or a shutting-down gateway must not wait on a lock it does not
    hold. The read threads wait in SQLite's busy handler no longer than the connector's
    timeout (they waited pysqlite's 5 s, and ``close`` with them)."""
    path = _department(tmp_path)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")  # another process writing, for longer than the timeout
    connector = _open(path)
    try:
        binding = connector.bind({"table": "enterprise"}, ("uscc", "name"), "uscc")
        reads = [connector.fetch(binding, ["K001"], ("uscc", "name")) for _ in range(READ_THREADS)]
        results = await asyncio.gather(*reads, return_exceptions=True)
        assert all(isinstance(r, SourceUnavailable) for r in results), results
        started = time.perf_counter()
        await connector.close()
        assert time.perf_counter() - started < TIMEOUT * 3
    finally:
        writer.execute("ROLLBACK")
        writer.close()


async def test_a_read_after_close_keeps_the_connector_contract(tmp_path: Path) -> None:
    """A retired connector is closed after ``DRAIN_SECONDS`` even when a request pinned to it
    still runs (a long export, a subscription: gateway.catalog_swap), and at shutdown. As the
    asyncio engine reconnects after ``dispose``, the read threads start again (they raised
    ``RuntimeError('cannot schedule new futures after shutdown')``, no ``SourceUnavailable``:
    the export was cut as an internal error)."""
    path = _department(tmp_path)
    connector = _open(path)
    binding = connector.bind({"table": "enterprise"}, ("uscc", "name"), "uscc")
    await connector.close()
    try:
        rows = await connector.fetch(binding, ["K001"], ("uscc", "name"))
    except SourceUnavailable:
        return  # refused within the contract: fine too
    finally:
        await connector.close()
    assert rows == {"K001": {"uscc": "K001", "name": "企业1"}}


async def test_a_point_read_does_not_queue_behind_long_scans_of_the_same_file(tmp_path: Path) -> None:
    """Head-of-line blocking: ``READ_THREADS`` export pages scanning a large table (``since``
    filters on an unindexed ``updated_at``) hold every read thread; a one-key fetch of an
    interactive query goes to the asyncio engine's pool beside them instead of waiting for one
    (it waited: 100 ms behind scans of 80 ms on 600,000 rows, against 6 ms before the read
    threads; on a department's table of millions of rows it would time out)."""
    path = tmp_path / "department.db"
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE enterprise (uscc TEXT PRIMARY KEY, name TEXT, updated_at TEXT)")
        rows = ((f"K{i:08d}", "n", "2020-01-01T00:00:00") for i in range(400_000))
        setup.executemany("INSERT INTO enterprise VALUES (?, ?, ?)", rows)
    connector = _open(path)
    binding = connector.bind({"table": "enterprise", "updated_at": "updated_at"}, ("uscc", "name"), "uscc")
    later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)  # nothing changed since: the scan reads every row
    try:
        started = time.perf_counter()
        await connector.scan(binding, ("name",), since=later)
        one_scan = time.perf_counter() - started
        scans = [
            asyncio.create_task(connector.scan(binding, ("name",), since=later)) for _ in range(READ_THREADS)
        ]
        await asyncio.sleep(one_scan / 10)
        started = time.perf_counter()
        assert await connector.fetch(binding, ["K00000001"], ("uscc", "name"))
        waited = time.perf_counter() - started
        await asyncio.gather(*scans, return_exceptions=True)  # a slow machine may time them out
        assert waited < one_scan / 2, f"a one-key fetch took {waited:.3f} s behind scans of {one_scan:.3f} s"
    finally:
        await connector.close()
