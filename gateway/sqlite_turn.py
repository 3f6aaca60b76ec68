"""Whose turn it is to write a SQLite file shared by several gateway processes.

SQLite lets one writer at a time into a database file. A writer that finds the file locked
by another process waits in SQLite's busy handler, which does not wake when the lock is
released: it sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100, 100 ... ms between
attempts (``sqliteDefaultBusyCallback`` in SQLite's ``main.c``). With ``serve --workers 2``
on SQLite both workers' audit writers commit continuously, so one of them is nearly always
asleep in that back-off: measured on the peers S1 workload, p99 548 ms and fewer requests
per second than one worker.

:class:`WriteTurn` makes the hot writers (the audit group commit, the daily-cap count)
queue on an exclusive ``fcntl.flock`` of ``<database>.write-turn``
instead: the kernel hands it to the next waiter the moment its holder lets go, so the
next write starts at once, and SQLite's busy handler is only the fallback for the rare
writes that do not take a turn (the access workflow, the catalog). In one process an
``asyncio.Lock`` orders the coroutines first, so at most one thread per process waits on
the file lock. Uncontended, taking a turn is one non-blocking ``flock`` call, no thread.
The audit writer takes its turn before it gathers its batch, so the events appended while it
waited are committed together: the busier the file, the larger each commit.

Own code, a few lines: ``filelock`` (the well-kept library for this) polls a non-blocking
lock every ``poll_interval`` (50 ms by default), which is the very sleep this module
exists to remove.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import weakref
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from connectors.sqlite_thread import sqlite_file

# per event loop (an asyncio.Lock belongs to one), then per database file
_Loop = asyncio.AbstractEventLoop
_turns: weakref.WeakKeyDictionary[_Loop, dict[Path, WriteTurn]] = weakref.WeakKeyDictionary()


class WriteTurn:
    """An exclusive, cross-process turn to write one SQLite database file.

    ``async with turn:`` waits for the turn (without blocking the event loop) and holds it
    until the block ends; use it around a whole write transaction (``engine.begin()``), so
    the commit lands before the next process starts writing."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".write-turn")
        self._local = asyncio.Lock()
        self._fd: int | None = None

    async def __aenter__(self) -> None:
        await self._local.acquire()
        try:
            await self._take(self._open())
        except BaseException:
            self._local.release()
            raise

    async def __aexit__(self, *_exc: object) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._local.release()

    def _open(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            weakref.finalize(self, os.close, self._fd)
        return self._fd

    async def _take(self, fd: int) -> None:
        """The file lock: at once when free, else from a thread that blocks in ``flock``.
        A waiter cancelled meanwhile (a timeout) gives the lock back as soon as the thread
        gets it, so a lost waiter never keeps every other process out."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        waiting = asyncio.get_running_loop().run_in_executor(None, fcntl.flock, fd, fcntl.LOCK_EX)
        try:
            await asyncio.shield(waiting)
        except asyncio.CancelledError:
            waiting.add_done_callback(lambda done: _give_back(fd, done))
            raise


def _give_back(fd: int, done: asyncio.Future[None]) -> None:
    if not done.cancelled() and done.exception() is None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def write_turn(engine: AsyncEngine) -> contextlib.AbstractAsyncContextManager[None]:
    """The turn to write ``engine``'s database: one :class:`WriteTurn` per SQLite file and
    event loop in this process; for PostgreSQL or an in-memory SQLite database nothing to
    wait for (their writers queue on row locks, or there is one process)."""
    database = sqlite_file(engine.url)
    if database is None:
        return contextlib.nullcontext()
    path = database.resolve()
    mine = _turns.setdefault(asyncio.get_running_loop(), {})
    turn = mine.get(path)
    if turn is None:
        turn = mine[path] = WriteTurn(path)
    return turn
