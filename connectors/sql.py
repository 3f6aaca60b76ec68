"""SQL sources through SQLAlchemy's asyncio engine (SQLite via aiosqlite, PostgreSQL via asyncpg).

Settings: ``{kind: sql, url: ..., timeout: seconds}``; ``{data}`` in the URL is the
gateway's data folder. ``timeout`` (default 5) bounds each whole call: waiting for a pooled
connection, every chunk of keys and the clean-up together (see ``connectors.base.within``).
A resource binds ``source: {table, key, updated_at, columns}``.
Each fetch is one ``SELECT ... WHERE key IN (...)`` naming only the requested columns.
A SQLite file is read through ``connectors.sqlite_thread`` (each statement in one thread
hand-over, up to ``READ_THREADS`` at once) rather than aiosqlite's five; when every read
thread is busy (long export scans, say) a statement goes to the asyncio engine's own pool, as
before, rather than wait behind them. The asyncio engine also serves PostgreSQL, in-memory
SQLite and the table check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from connectors.base import (
    DEFAULT_TIMEOUT,
    Abandoned,
    Binding,
    Connector,
    Row,
    SourceCheck,
    bind_table,
    bound_columns,
    known_settings,
    register,
    settle,
    timeout_setting,
    within,
)
from connectors.sqlite_thread import SQLiteThread, sqlite_file
from errors import ConfigurationError, SourceUnavailable

MAX_KEYS_PER_QUERY = 500
READ_THREADS = 4  # concurrent reads of one SQLite file (WAL readers do not wait for each other)
T = TypeVar("T")


@register
class SQLConnector(Connector):
    kind = "sql"

    def __init__(self, engine: AsyncEngine, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.engine = engine
        self.timeout = timeout
        # a SQLite file is read in one thread hand-over a statement (connectors.sqlite_thread)
        self._thread = _read_threads(engine, timeout)
        self._abandoned: Abandoned = set()  # calls that overran, still unwinding

    @property
    def read_engine(self) -> sa.Engine:
        """The engine fetches and scans go through, for SQLAlchemy's events
        (``before_cursor_execute``): the SQLite file's read threads', else the asyncio
        engine's sync core."""
        return self._thread.engine if self._thread is not None else self.engine.sync_engine

    @classmethod
    def open(cls, settings: Mapping[str, Any], data_dir: Path) -> SQLConnector:
        known_settings(settings, ("kind", "url", "timeout"), "connector")
        url = str(settings.get("url") or "")
        if not url:
            raise ConfigurationError("a sql connector needs `url:` (a SQLAlchemy async URL)")
        url = url.replace("{data}", str(data_dir))
        _require_sqlite_file(url)
        try:
            engine = create_async_engine(url)
        except (ImportError, SQLAlchemyError) as exc:  # no such dialect, a sync driver, a missing package
            raise ConfigurationError(
                f"a sql connector's url names a driver govshare cannot use ({type(exc).__name__}: {exc});"
                " use an async driver: sqlite+aiosqlite:///path or postgresql+asyncpg://..."
            ) from None
        return cls(engine, timeout_setting(settings))

    def bind(self, source: Mapping[str, Any], items: Sequence[str], key_item: str) -> Binding:
        return bind_table(source, items, key_item, self.kind)

    async def fetch(self, binding: Binding, keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
        return await self._within(self._fetch(binding, keys, items), f"reading {binding.target}")

    async def _fetch(self, binding: Binding, keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
        statement = _select_by_keys(binding, tuple(items))
        rows: dict[str, Row] = {}
        for start in range(0, len(keys), MAX_KEYS_PER_QUERY):
            chunk = list(keys[start : start + MAX_KEYS_PER_QUERY])
            for record in await self._run(statement, {"keys": chunk}):
                rows[record[0]] = _row(items, record[1:])
        return rows

    async def scan(
        self,
        binding: Binding,
        items: Sequence[str],
        *,
        after: str | None = None,
        since: dt.datetime | None = None,
        limit: int = 1000,
    ) -> list[Row]:
        sqlite = self.engine.dialect.name == "sqlite"
        statement = _select_scan(binding, tuple(items), after is not None, since is not None, sqlite)
        params = {"after": after, "since": since, "limit": limit}
        records = await self._within(self._run(statement, params), f"scanning {binding.target}")
        return [_row(("__key__", *items), record) for record in records]

    async def freshness(self, binding: Binding) -> dt.datetime | None:
        if not binding.updated_at:
            return None
        latest: sa.ColumnClause[Any] = sa.column(binding.updated_at)
        statement: sa.Select[Any] = sa.select(sa.func.max(latest)).select_from(sa.table(binding.target))
        records = await self._within(self._run(statement, {}), f"dating {binding.target}")
        value = records[0][0] if records else None
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else value

    async def check(self, binding: Binding) -> SourceCheck:
        """Ask the database's catalog (SQLAlchemy inspector) for the table and its columns."""

        def inspect(conn: sa.Connection) -> set[str] | None:
            inspector = sa.inspect(conn)
            if not inspector.has_table(binding.target):
                return None
            return {str(column["name"]) for column in inspector.get_columns(binding.target)}

        async def look() -> set[str] | None:
            try:
                async with self.engine.connect() as conn:
                    return await conn.run_sync(inspect)
            except (SQLAlchemyError, OSError) as exc:
                raise SourceUnavailable(f"source check failed: {describe_failure(exc)}") from exc

        present = await self._within(look(), f"checking {binding.target}")
        if present is None:
            return SourceCheck(binding.target, table_exists=False)
        return SourceCheck(binding.target, True, tuple(c for c in bound_columns(binding) if c not in present))

    async def close(self) -> None:
        await settle(self._abandoned, self.timeout)  # their connections go back before the pool goes
        if self._thread is not None:
            await self._thread.close()
        await self.engine.dispose()

    async def _within(self, call: Awaitable[T], what: str) -> T:
        return await within(self.timeout, call, what, self._abandoned)

    async def _run(self, statement: sa.Executable, params: Mapping[str, Any]) -> Sequence[Any]:
        try:  # bounded by the caller's ``within``
            if self._thread is not None and self._thread.free:  # else never queued behind a long scan
                return await self._thread.run(_all, statement, dict(params))
            async with self.engine.connect() as conn:
                return await conn.run_sync(_all, statement, dict(params))
        except (SQLAlchemyError, OSError) as exc:
            raise SourceUnavailable(f"source query failed: {describe_failure(exc)}") from exc


def _read_threads(engine: AsyncEngine, timeout: float) -> SQLiteThread | None:
    """The read threads of a SQLite file. A read waits on a locked file (another process
    writing in rollback-journal mode) no longer than the connector's ``timeout``: past it the
    caller has given up (``within``), and ``close`` would wait for the thread."""
    if sqlite_file(engine.url) is None:
        return None
    return SQLiteThread(engine.url, READ_THREADS, connect_args={"timeout": timeout})


def _all(conn: sa.Connection, statement: sa.Executable, params: dict[str, Any]) -> Sequence[Any]:
    return conn.execute(statement, params).all()


def _require_sqlite_file(url: str) -> None:
    """A department's SQLite file must exist: connecting would create an empty one (in a
    mistaken data folder, say) and every query would then fail on a table it lacks."""
    try:
        parsed = make_url(url)
    except (ValueError, SQLAlchemyError) as exc:
        raise ConfigurationError(f"a sql connector's url is not a SQLAlchemy URL: {exc}") from exc
    database = sqlite_file(parsed)
    if database is not None and not database.exists():
        raise ConfigurationError(
            f"the SQLite database {database} does not exist; check the url (`{{data}}` is the data "
            "folder: pass --data DIR or set GOVSHARE_DATA)"
        )


def describe_failure(exc: BaseException) -> str:
    """The error's kind and the database's own words, e.g. ``OperationalError: no such table:
    enterprise_registraton``: the operator learns which table or column, not only the kind. The
    driver's message (``orig``) names objects, never the statement's parameters (subject codes)."""
    detail = str(getattr(exc, "orig", None) or "").strip().splitlines()
    return f"{type(exc).__name__}: {detail[0][:300]}" if detail else type(exc).__name__


def _row(names: Sequence[str], values: Sequence[Any]) -> Row:
    # dates as ISO text; inlined, not a call per value: this runs for every value an export scans
    return {
        name: value.isoformat() if type(value) in _DATES else value
        for name, value in zip(names, values, strict=True)
    }


_DATES = frozenset({dt.date, dt.datetime})


@lru_cache(maxsize=1024)
def _select_by_keys(binding: Binding, items: tuple[str, ...]) -> sa.Select[Any]:
    key: sa.ColumnClause[Any] = sa.column(binding.key)
    columns: list[sa.ColumnClause[Any]] = [sa.column(binding.columns[item]) for item in items]
    table = sa.table(binding.target)
    return sa.select(key, *columns).select_from(table).where(key.in_(sa.bindparam("keys", expanding=True)))


@lru_cache(maxsize=256)
def _select_scan(
    binding: Binding, items: tuple[str, ...], after: bool, since: bool, sqlite: bool
) -> sa.Select[Any]:
    key: sa.ColumnClause[Any] = sa.column(binding.key)
    columns: list[sa.ColumnClause[Any]] = [sa.column(binding.columns[item]) for item in items]
    statement: sa.Select[Any] = sa.select(key, *columns).select_from(sa.table(binding.target))
    statement = statement.where(key.is_not(None))  # no place in key order: never a subject
    if after:
        statement = statement.where(key > sa.bindparam("after"))
    if since and binding.updated_at:
        statement = statement.where(_since(sa.column(binding.updated_at), sqlite))
    return statement.order_by(key).limit(sa.bindparam("limit"))


def _since(stamp: sa.ColumnClause[Any], sqlite: bool) -> sa.ColumnElement[bool]:
    """SQLite keeps stamps as text in several shapes ('T' or space): compare normalized."""
    since = sa.bindparam("since", type_=sa.DateTime())
    if sqlite:
        return sa.func.datetime(stamp) >= sa.func.datetime(since)
    return stamp >= since
