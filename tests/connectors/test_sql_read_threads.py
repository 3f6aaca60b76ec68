"""The SQL connector's read threads on a SQLite file (connectors.sqlite_thread): what a read
that outlives its caller's timeout may cost the rest of the gateway. Both faults were found by
a fresh reviewer (stop 17)."""

from __future__ import annotations

import asyncio
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
