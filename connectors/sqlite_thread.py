"""A whole unit of SQLite work in one thread hand-over.

SQLAlchemy's asyncio engine reaches SQLite through aiosqlite, which hands every DB-API call
to the connection's own thread and back: the cursor, the execute, the fetch, the cursor's
close, the commit and the pool's rollback on return are each a round trip, each a futex
wake-up of that thread and a wake-up of the event loop. One audit group commit is about six
of them, one connector read about five. Measured on the peers harness's S1 workload (two
workers, 8 connections, audit on; README "Side by side"), the audit commit through
:class:`SQLiteThread` took requests/s from about 770 to 940 and p50 from 10 to 8 ms.

:class:`SQLiteThread` keeps a synchronous SQLAlchemy engine (pysqlite: the standard
library's ``sqlite3``) on the same database file and runs a function of a
:class:`sqlalchemy.Connection` in a thread of its own: one hand-over there and one back,
whatever the function does. It is :meth:`AsyncConnection.run_sync
<sqlalchemy.ext.asyncio.AsyncConnection.run_sync>` without the per-call hand-overs, so
callers write the unit once as a sync function of a connection and run it with
``run_sync`` on PostgreSQL (asyncpg needs no thread) and here on SQLite: the SQL is the same
SQLAlchemy Core objects, nothing is written twice.

Only for a database in a file (:func:`sqlite_file`): an in-memory database is private to the
connection that made it. Own code, small: neither SQLAlchemy nor aiosqlite runs several
calls in one hand-over (aiosqlite's ``Connection._execute`` would, but it is private).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa

P = ParamSpec("P")
T = TypeVar("T")
Work = Callable[Concatenate[sa.Connection, P], T]


def sqlite_file(url: sa.URL) -> Path | None:
    """The database file of a SQLite ``url``; None for another backend or an in-memory
    database (``sqlite://``, ``:memory:``, ``file:`` URIs, which may name shared memory)."""
    database = url.database if url.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


class SQLiteThread:
    """Units of work on one SQLite file, each run whole in one of ``threads`` threads.

    ``url`` is the asyncio engine's URL (any SQLite driver name; pysqlite is used);
    ``on_connect(dbapi_connection, record)`` runs for each new connection (pragmas), and
    ``engine_options`` go to :func:`sqlalchemy.create_engine` (``hide_parameters``,
    ``json_serializer``...), so the sync engine behaves as the asyncio one. Each thread has
    its own pooled connection (``pool_size=threads``). Errors are SQLAlchemy's, as through
    the asyncio engine (``OperationalError`` for a locked or missing file). Like an engine
    after ``dispose``, it can still be used after :meth:`close`: the next unit starts
    threads again (a request still pinned to a retired connector reads on)."""

    def __init__(
        self,
        url: sa.URL,
        threads: int = 1,
        on_connect: Callable[[Any, Any], None] | None = None,
        **engine_options: Any,
    ) -> None:
        self.engine = sa.create_engine(
            url.set(drivername="sqlite+pysqlite"), pool_size=threads, max_overflow=0, **engine_options
        )
        if on_connect is not None:
            sa.event.listen(self.engine, "connect", on_connect)
        self._size, self._name = threads, f"sqlite-{(sqlite_file(url) or Path('sqlite')).stem}"
        self._threads: ThreadPoolExecutor | None = None  # started by the first unit
        self._running = 0  # units handed over and not back yet (counted on the event loop)

    @property
    def free(self) -> bool:
        """Whether a thread is free now: a unit run now starts at once, queued behind none."""
        return self._running < self._size

    async def run(self, work: Work[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``work(connection, *args, **kwargs)`` in a thread, on a pooled connection that is
        rolled back when it returns (whatever ``work`` did not commit is undone)."""
        if self._threads is None:
            self._threads = ThreadPoolExecutor(self._size, thread_name_prefix=self._name)
        self._running += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._threads, lambda: self._connected(work, *args, **kwargs)
            )
        finally:
            self._running -= 1

    async def run_in_transaction(self, work: Work[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``work`` in one transaction, committed when it returns, rolled back when it raises."""
        return await self.run(_in_transaction, work, *args, **kwargs)

    async def close(self) -> None:
        """Let running work finish (in a thread: the event loop is not held), then close the
        connections. A unit waiting on a locked file waits at most the connection's busy
        timeout (pysqlite's ``timeout``: pass it in ``connect_args``)."""
        threads, self._threads = self._threads, None
        if threads is not None:
            await asyncio.to_thread(threads.shutdown)
        self.engine.dispose()

    def _connected(self, work: Work[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        with self.engine.connect() as connection:
            return work(connection, *args, **kwargs)


def _in_transaction(connection: sa.Connection, work: Work[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    with connection.begin():
        return work(connection, *args, **kwargs)
