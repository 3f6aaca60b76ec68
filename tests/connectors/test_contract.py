"""The connector contract (connectors/base.py), one suite run against every connector.

Backends (one fixture, ``backend``, parametrized over every kind). To add a kind: write
an async generator yielding a ``Backend`` (its connector over a source holding ``ROWS``,
``make_table`` to add sources, ``broken`` and ``hung`` connectors, ``locate`` giving the
``source:`` settings of a "table") and add one line to ``FACTORIES``; every test then runs
on it. A kind whose source is a real service starts it once per module (``rest_url``):

- ``mock``: connectors.mock over in-memory rows;
- ``http-batch`` / ``http-get``: connectors.http against a real REST service (uvicorn on
  127.0.0.1, gateway/demo_rest.py in its ``generous`` mode: it answers more keys, rows and
  fields than asked), fetching through its batch endpoint / one GET per key;
- ``file``: connectors.file over CSV files in tmp_path;
- ``graphql``: connectors.graphql against a plain GraphQL endpoint offering govshare's
  subject queries over the same rows (tests/connectors/graphql_upstream.py, generous: it
  answers subjects nobody asked for). An upstream gateway offers no scan and no change
  stamp: ``scan`` raises ``SourceUnavailable`` (``unsupported: scan``), ``freshness`` is
  None (``Backend.scans`` False); the rest of the contract holds. Forwarding the consumer
  to a real govshare upstream is tests/connectors/test_graphql.py and tests/e2e/test_cascade.py;
- ``sqlite``: connectors.sql over a SQLite file in tmp_path (aiosqlite);
- ``postgresql``: connectors.sql over the server named by GOVSHARE_TEST_POSTGRES_URL
  (``postgresql+asyncpg://user:password@host:port/db``), in a uniquely named table
  dropped afterwards. Without that variable the backend is skipped, except under
  CI=true, where it fails: CI must run it.

Every backend holds the same rows. Items are mapped to differently named columns
(``name`` reads ``ent_name``) except ``status`` and ``uscc``, which read their own; every
source also holds ``inner_note``, which no test asks for and no answer may hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from connectors.base import Binding, Connector, Row, SourceCheck, open_connector
from connectors.file import FileConnector
from connectors.forwarding import OnBehalfOf, on_behalf_of
from connectors.graphql import GraphQLConnector
from connectors.http import HTTPConnector
from connectors.mock import MockConnector
from connectors.sql import SQLConnector
from errors import ConfigurationError, SourceUnavailable
from gateway.demo_rest import Table, rest_app
from tests.connectors.graphql_upstream import upstream_app
from tests.connectors.services import serving

POSTGRES_ENV = "GOVSHARE_TEST_POSTGRES_URL"
ITEMS = ("uscc", "name", "legal_representative", "registered_capital", "status", "registration_date")
SOURCE = {
    "columns": {
        "name": "ent_name",
        "legal_representative": "legal_rep",
        "registered_capital": "capital",
        "registration_date": "reg_date",
    },
    "updated_at": "updated_at",
}
COLUMN = {item: SOURCE["columns"].get(item, item) for item in ITEMS}  # type: ignore[union-attr]
COUNT = 1300
START = dt.datetime(2024, 1, 1, 0, 0)
STEP = dt.timedelta(minutes=7)  # 1300 rows over about six days, at all times of day


def key(i: int) -> str:
    return f"K{i:05d}"


def source_row(i: int) -> dict[str, Any]:
    """A row as stored, keyed by column; dates are ``date`` / ``datetime`` values."""
    return {
        "uscc": key(i),
        "ent_name": f"企业{i}",
        "legal_rep": f"代表{i}",
        "capital": 1000 * i,
        "status": ("存续", "注销", "吊销")[i % 3],
        "reg_date": dt.date(2000, 1, 1) + dt.timedelta(days=i),
        "updated_at": START + i * STEP,
        "inner_note": f"内部核查{i}",
    }


ROWS = [source_row(i) for i in range(COUNT)]
BY_KEY = {row["uscc"]: row for row in ROWS}


def expected(k: str, items: Sequence[str]) -> Row:
    """The row a connector must answer for key ``k``: item names, dates as ISO text."""
    values = {item: BY_KEY[k][COLUMN[item]] for item in items}
    return {n: v.isoformat() if isinstance(v, dt.date) else v for n, v in values.items()}


def table_of(metadata: sa.MetaData, name: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("uscc", sa.String(32), primary_key=True),
        sa.Column("ent_name", sa.String(64)),
        sa.Column("legal_rep", sa.String(64)),
        sa.Column("capital", sa.Integer),
        sa.Column("status", sa.String(16)),
        sa.Column("reg_date", sa.Date),
        sa.Column("updated_at", sa.DateTime, nullable=True),
        sa.Column("inner_note", sa.String(64)),
    )


# --- backends -------------------------------------------------------------------------


Pairs = list[tuple[Connector, Binding]]
HUNG_TIMEOUT = 0.3  # seconds: the timeout of the connectors over a hung source


def at_table(table: str, items: Sequence[str]) -> dict[str, Any]:
    return {"table": table}


@dataclass
class Backend:
    """One connector over a prepared source, and a way to make more tables in it.

    A "table" is whatever holds one resource's rows in that kind of source (a SQL table, a
    REST collection, a CSV file); ``locate(table, items)`` gives the ``source:`` settings
    that bind to it, and ``where`` the setting a source cannot do without."""

    name: str
    connector: Connector
    table: str
    make_table: Callable[[list[dict[str, Any]]], Awaitable[str]]
    broken: Callable[[], Awaitable[Pairs]]  # each failing on every call
    hung: Callable[[], Awaitable[Pairs]]  # each hanging, with a timeout of HUNG_TIMEOUT
    locate: Callable[[str, Sequence[str]], dict[str, Any]] = at_table
    where: str = "table"
    target_of: Callable[[str], str] = str
    many: int = 1200  # keys in one fetch of the "many keys" tests (one HTTP request each for http-get)
    scans: bool = True  # offers scan and freshness (an upstream gateway offers neither)

    def bind(self, items: Sequence[str] = ITEMS, **source: Any) -> Binding:
        table = source.pop("table", self.table)
        return self.connector.bind({**self.locate(table, items), **SOURCE, **source}, items, "uscc")

    @contextlib.contextmanager
    def capture(self) -> Iterator[list[str]]:
        """SQL statements sent while inside (sql backends only; empty for mock)."""
        captured: list[str] = []
        if not isinstance(self.connector, SQLConnector):
            yield captured
            return
        engine = self.connector.read_engine

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            captured.append(statement)

        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            yield captured
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)


async def mock_backend() -> AsyncIterator[Backend]:
    def as_stored(row: dict[str, Any]) -> dict[str, Any]:
        return {c: v.isoformat() if isinstance(v, dt.date) else v for c, v in row.items()}

    connector = MockConnector({"enterprise": [as_stored(r) for r in ROWS]})

    async def make_table(rows: list[dict[str, Any]]) -> str:
        name = f"t_{uuid.uuid4().hex[:8]}"
        connector.tables[name] = [as_stored(r) for r in rows]
        return name

    async def broken() -> Pairs:
        failing = MockConnector({"enterprise": []})
        failing.failing = True
        return [(failing, failing.bind({"table": "enterprise", **SOURCE}, ITEMS, "uscc"))]

    async def hung() -> Pairs:
        slow = MockConnector({"enterprise": [as_stored(r) for r in ROWS[:5]]}, delay=30, timeout=HUNG_TIMEOUT)
        return [(slow, slow.bind({"table": "enterprise", **SOURCE}, ITEMS, "uscc"))]

    yield Backend("mock", connector, "enterprise", make_table, broken, hung)


async def sql_backend(name: str, url: str, broken_url: str | None) -> AsyncIterator[Backend]:
    """``broken_url``, when given, is a server nobody answers at."""
    admin: AsyncEngine = create_async_engine(url)
    metadata = sa.MetaData()
    made: list[sa.Table] = []

    async def make_table(rows: list[dict[str, Any]]) -> str:
        table = table_of(metadata, f"govshare_contract_{uuid.uuid4().hex[:12]}")
        async with admin.begin() as conn:
            await conn.run_sync(table.create)
            made.append(table)
            if rows:
                await conn.execute(table.insert(), rows)
        return table.name

    async def broken() -> list[tuple[Connector, Binding]]:
        cases = []
        for where in (url, broken_url) if broken_url else (url,):
            failing = SQLConnector.open({"kind": "sql", "url": where, "timeout": 5}, Path())
            opened.append(failing)
            cases.append((failing, failing.bind({"table": "no_such_table", **SOURCE}, ITEMS, "uscc")))
        return cases

    async def hung() -> Pairs:
        if name != "sqlite":
            pytest.skip(
                "PostgreSQL: a locked table hangs queries but not check's catalog lookups; "
                "its hung fetch, scan and freshness are tests/connectors/test_timeouts.py"
            )
        table = await make_table(ROWS[:5])
        locker = sqlite3.connect(sa.engine.make_url(url).database or "", isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")  # another writer: every reader waits on the lock
        unlock.append(locker)
        slow = SQLConnector.open({"kind": "sql", "url": url, "timeout": HUNG_TIMEOUT}, Path())
        opened.append(slow)
        return [(slow, slow.bind({"table": table, **SOURCE}, ITEMS, "uscc"))]

    opened: list[Connector] = []
    unlock: list[sqlite3.Connection] = []
    try:
        table = await make_table(ROWS)
        connector = SQLConnector.open({"kind": "sql", "url": url, "timeout": 10}, Path())
        opened.append(connector)
        yield Backend(name, connector, table, make_table, broken, hung)
    finally:
        for locker in unlock:
            locker.execute("ROLLBACK")
            locker.close()
        for each in opened:
            await each.close()
        async with admin.begin() as conn:
            for table in made:
                await conn.run_sync(table.drop, checkfirst=True)
        await admin.dispose()


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if url:
        return url
    reason = (
        f"{POSTGRES_ENV} is not set: set it to a postgresql+asyncpg://user:password@host/db "
        "URL to run the connector contract on PostgreSQL"
    )
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"CI must run the PostgreSQL contract, but {reason}")
    pytest.skip(reason)


def as_json(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as a REST API or a CSV file holds it: dates as ISO 8601 text."""
    return {c: v.isoformat() if isinstance(v, dt.date) else v for c, v in row.items()}


REST_TABLES: dict[str, Table] = {}  # what the module's REST service serves, by collection name


@pytest.fixture(scope="module")
def rest_url() -> Iterator[str]:
    """The generous REST service (gateway/demo_rest.py) on 127.0.0.1, shared by the module."""
    with serving(rest_app(REST_TABLES, generous=True)) as url:
        yield url


async def hang(request: Any) -> None:
    await asyncio.sleep(30)


@pytest.fixture(scope="module")
def hung_url() -> Iterator[str]:
    """A REST service that never answers in time (every route sleeps 30 s)."""
    from starlette.applications import Starlette
    from starlette.routing import Route

    with serving(Starlette(routes=[Route("/{path:path}", hang, methods=["GET", "POST"])])) as url:
        yield url


def http_source(per_key: bool) -> Callable[[str, Sequence[str]], dict[str, Any]]:
    def locate(table: str, items: Sequence[str]) -> dict[str, Any]:
        source: dict[str, Any] = {
            "scan": {"url": f"{table}/records", "rows": "$.items"},
            "freshness": {"url": f"{table}/freshness", "field": "$.updated_at"},
        }
        if per_key:
            return {**source, "get": f"{table}/records/{{key}}", "record": "$.data"}
        return {**source, "batch": {"url": f"{table}/lookup", "rows": "$.items", "max_keys": 250}}

    return locate


async def http_backend(name: str, url: str, hung_url: str) -> AsyncIterator[Backend]:
    locate = http_source(per_key=name == "http-get")

    async def make_table(rows: list[dict[str, Any]]) -> str:
        table = f"t_{uuid.uuid4().hex[:8]}"
        REST_TABLES[table] = Table.of("uscc", "updated_at", [as_json(r) for r in rows])
        return table

    def opened(base_url: str, timeout: float, **settings: Any) -> Connector:
        made = open_connector({"kind": "http", "base_url": base_url, "timeout": timeout, **settings}, Path())
        connectors.append(made)
        return made

    async def broken() -> Pairs:
        closed = opened(f"http://127.0.0.1:{free_port()}", 5, retries=1, backoff=0.01)
        return [(closed, closed.bind({**locate("enterprise", ITEMS), **SOURCE}, ITEMS, "uscc"))]

    async def hung() -> Pairs:
        slow = opened(hung_url, HUNG_TIMEOUT)
        return [(slow, slow.bind({**locate("enterprise", ITEMS), **SOURCE}, ITEMS, "uscc"))]

    connectors: list[Connector] = []
    connector = opened(url, 10, concurrency=16)
    try:
        table = await make_table(ROWS)
        yield Backend(
            name,
            connector,
            table,
            make_table,
            broken,
            hung,
            locate,
            "get",
            lambda t: f"{t}/records/{{key}}" if name == "http-get" else f"{t}/lookup",
            300 if name == "http-get" else 1200,  # one request per key: fewer keys
        )
    finally:
        for each in connectors:
            await each.close()


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    header = list(source_row(0))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in as_json(row).values()] for row in rows])


def file_source(table: str, items: Sequence[str]) -> dict[str, Any]:
    types = {"registered_capital": "integer"} if "registered_capital" in items else {}
    return {"file": f"{table}.csv", "types": types}


async def file_backend(folder: Path) -> AsyncIterator[Backend]:
    async def make_table(rows: list[dict[str, Any]]) -> str:
        table = f"t_{uuid.uuid4().hex[:8]}"
        write_csv(folder / f"{table}.csv", rows)
        return table

    async def broken() -> Pairs:
        (folder / "malformed.csv").write_text("uscc,ent_name\nK00001\n", encoding="utf-8")
        return [(connector, connector.bind({**file_source(t, ITEMS), **SOURCE}, ITEMS, "uscc"))
                for t in ("no_such_file", "malformed")]  # fmt: skip

    fifos: list[Path] = []

    async def hung() -> Pairs:
        """A named pipe nobody writes to: opening it for reading waits for a writer."""
        fifo = folder / f"{uuid.uuid4().hex[:8]}.csv"
        os.mkfifo(fifo)
        fifos.append(fifo)
        slow = FileConnector.open({"kind": "file", "folder": str(folder), "timeout": HUNG_TIMEOUT}, folder)
        return [(slow, slow.bind({**file_source(fifo.stem, ITEMS), **SOURCE}, ITEMS, "uscc"))]

    connector = FileConnector.open({"kind": "file", "folder": "{data}", "timeout": 10}, folder)
    try:
        yield Backend("file", connector, await make_table(ROWS), make_table, broken, hung, file_source,
                      "file", lambda t: str(folder / f"{t}.csv"))  # fmt: skip
    finally:
        await connector.close()
        for fifo in fifos:  # release the readers still waiting on it
            with contextlib.suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


GRAPHQL_TABLES: dict[str, list[dict[str, Any]]] = {}  # what the module's GraphQL endpoint serves


@pytest.fixture(scope="module")
def graphql_url() -> Iterator[str]:
    """A plain GraphQL endpoint with govshare's subject queries (generous), shared by the module."""
    columns = {column: "Int" if column == "capital" else "String" for column in source_row(0)}
    with serving(upstream_app(GRAPHQL_TABLES, generous=True, columns=columns)) as url:
        yield url


class ForCounty(GraphQLConnector):
    """Reads on behalf of one consumer, as ResourceSource sets it for each call of a
    forwarding connector (connectors.forwarding); without one it would refuse to read."""

    async def fetch(self, binding: Binding, keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
        on_behalf_of.set(OnBehalfOf("11420102MB0000019A", "county", None, "核验", None, lambda claims: "jws"))
        return await super().fetch(binding, keys, items)


def graphql_source(table: str, items: Sequence[str]) -> dict[str, Any]:
    return {"subject": "organization", "field": table}


async def graphql_backend(url: str, hung_url: str) -> AsyncIterator[Backend]:
    async def make_table(rows: list[dict[str, Any]]) -> str:
        table = f"t_{uuid.uuid4().hex[:8]}"
        GRAPHQL_TABLES[table] = [as_json(r) for r in rows]
        return table

    def opened(base_url: str, timeout: float) -> Connector:
        made = ForCounty(f"{base_url}/graphql", f"{base_url}/oauth/token", "city", "s", "contract", timeout)
        connectors.append(made)
        return made

    async def broken() -> Pairs:
        closed = opened(f"http://127.0.0.1:{free_port()}", 5)
        return [(closed, closed.bind({**graphql_source("enterprise", ITEMS), **SOURCE}, ITEMS, "uscc"))]

    async def hung() -> Pairs:
        slow = opened(hung_url, HUNG_TIMEOUT)
        return [(slow, slow.bind({**graphql_source("enterprise", ITEMS), **SOURCE}, ITEMS, "uscc"))]

    connectors: list[Connector] = []
    connector = opened(url, 10)
    try:
        yield Backend("graphql", connector, await make_table(ROWS), make_table, broken, hung, graphql_source,
                      "field", scans=False)  # fmt: skip
    finally:
        for each in connectors:
            await each.close()


def scanning(backend: Backend) -> None:
    """Skip a test of scan or freshness on a kind that offers neither (an upstream gateway:
    its refusal is test_a_kind_without_scan_says_so)."""
    if not backend.scans:
        pytest.skip(f"{backend.name} offers no scan nor change stamp (SourceUnavailable, unsupported: scan)")


def postgresql_backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    url = postgres_url()
    closed = sa.engine.make_url(url).set(host="127.0.0.1", port=free_port())
    return sql_backend("postgresql", url, closed.render_as_string(hide_password=False))


Factory = Callable[[pytest.FixtureRequest, Path], AsyncIterator[Backend]]
FACTORIES: dict[str, Factory] = {  # one entry per backend: a new kind adds its own line
    "mock": lambda request, tmp_path: mock_backend(),
    "sqlite": lambda request, tmp_path: sql_backend(
        "sqlite", f"sqlite+aiosqlite:///{tmp_path / 'department.db'}", None
    ),
    "postgresql": postgresql_backend,
    "http-batch": lambda request, tmp_path: http_backend(
        "http-batch", request.getfixturevalue("rest_url"), request.getfixturevalue("hung_url")
    ),
    "http-get": lambda request, tmp_path: http_backend(
        "http-get", request.getfixturevalue("rest_url"), request.getfixturevalue("hung_url")
    ),
    "file": lambda request, tmp_path: file_backend(tmp_path),
    "graphql": lambda request, tmp_path: graphql_backend(
        request.getfixturevalue("graphql_url"), request.getfixturevalue("hung_url")
    ),
}
BACKENDS = [
    pytest.param(name, id=name, marks=[pytest.mark.postgres] if name == "postgresql" else [])
    for name in FACTORIES
]


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    async for made in FACTORIES[request.param](request, tmp_path):
        yield made


def free_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- bind -----------------------------------------------------------------------------


async def test_bind_maps_items_to_columns(backend: Backend) -> None:
    binding = backend.bind()
    assert binding.target == backend.target_of(backend.table)
    assert binding.key == "uscc"
    assert dict(binding.columns) == COLUMN
    assert dict(binding.columns)["status"] == "status"  # unmapped: same-named column
    assert binding.updated_at == "updated_at"


async def test_bind_takes_an_explicit_key_column(backend: Backend) -> None:
    assert backend.bind(key="ent_name").key == "ent_name"


async def test_bind_reads_the_key_column_when_the_key_item_is_not_bound(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    binding = backend.bind(["name", "status"], columns={"name": "ent_name"})
    assert binding.key == "uscc"


async def test_bind_refuses_a_source_without_table(backend: Backend) -> None:
    where = backend.where
    for source in ({}, {where: ""}, {where: None, **SOURCE}):
        with pytest.raises(ConfigurationError, match=where):
            backend.connector.bind(source, ITEMS, "uscc")


async def test_bind_refuses_columns_for_unknown_items(backend: Backend) -> None:
    source = {**backend.locate(backend.table, ITEMS), "columns": {"shoe_size": "size", "name": "ent_name"}}
    with pytest.raises(ConfigurationError, match="shoe_size"):
        backend.connector.bind(source, ITEMS, "uscc")


@pytest.mark.parametrize(
    ("extra", "named"),
    [({"columns": "ent_name"}, "columns"), ({"columns": ["name"]}, "columns"), ({"key": ["uscc"]}, "key"),
     ({"updated_at": 5}, "updated_at"), ({"columns": {"name": 5}}, "columns.name")],
)  # fmt: skip
async def test_bind_refuses_settings_of_the_wrong_shape_naming_them(
    backend: Backend, extra: dict[str, Any], named: str
) -> None:
    """A ConfigurationError (file and path at load), never a ValueError from deep inside."""
    with pytest.raises(ConfigurationError, match=named):
        backend.connector.bind({**backend.locate(backend.table, ITEMS), **extra}, ITEMS, "uscc")
    with pytest.raises(ConfigurationError, match="mapping"):
        backend.connector.bind(["table"], ITEMS, "uscc")  # type: ignore[arg-type]


async def test_bind_refuses_an_unknown_setting_naming_it(backend: Backend) -> None:
    """A misspelt setting (``colums:``) would be ignored and the item read from the wrong place."""
    source = {**backend.locate(backend.table, ITEMS), "colums": {"name": "ent_name"}}
    with pytest.raises(ConfigurationError, match="colums"):
        backend.connector.bind(source, ITEMS, "uscc")


# --- fetch ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "items",
    [
        ITEMS,
        ("name",),
        ("status", "name"),
        ("legal_representative", "registration_date", "registered_capital"),
        ("uscc",),
        (),
    ],
    ids=["all", "one", "two", "mapped", "key-only", "none"],
)
async def test_fetch_returns_existing_keys_with_exactly_the_items(
    backend: Backend, items: tuple[str, ...]
) -> None:
    wanted = [key(5), key(1), "K99999", key(1299), key(5), "", "K00001 "]
    rows = await backend.connector.fetch(backend.bind(), wanted, items)
    assert set(rows) == {key(1), key(5), key(1299)}
    for k, row in rows.items():
        assert row == expected(k, items)
        assert list(row) == list(items)


async def test_fetch_selects_no_column_that_is_not_requested(backend: Backend) -> None:
    binding = backend.bind()
    with backend.capture() as statements:
        rows = await backend.connector.fetch(binding, [key(7), key(8)], ["name", "status"])
    assert rows == {
        key(7): expected(key(7), ["name", "status"]),
        key(8): expected(key(8), ["name", "status"]),
    }
    assert all("uscc" not in row for row in rows.values())
    if isinstance(backend.connector, SQLConnector):  # the SQL sent names what is read
        assert statements, "the SQL sent was not captured"
        text = " ".join(statements)
        assert "ent_name" in text and "status" in text
        for unrequested in ("legal_rep", "capital", "reg_date", "updated_at", "inner_note"):
            assert unrequested not in text, f"{unrequested} was selected: {text}"


async def test_fetch_without_keys_returns_nothing(backend: Backend) -> None:
    assert await backend.connector.fetch(backend.bind(), [], ITEMS) == {}


async def test_fetch_of_1200_keys(backend: Backend) -> None:
    keys = [key(i) for i in reversed(range(backend.many))]
    rows = await backend.connector.fetch(backend.bind(), keys, ["name", "uscc"])
    assert set(rows) == set(keys)
    assert all(rows[k] == expected(k, ["name", "uscc"]) for k in keys)


async def test_fetch_of_1200_keys_of_which_few_exist(backend: Backend) -> None:
    keys = [f"X{i:05d}" for i in range(backend.many - 5)] + [
        key(3),
        key(600),
        key(1200),
        key(1201),
        key(1202),
    ]
    rows = await backend.connector.fetch(backend.bind(), keys, ["status"])
    assert rows == {k: expected(k, ["status"]) for k in keys[-5:]}


async def test_fetch_from_an_empty_table(backend: Backend) -> None:
    binding = backend.bind(table=await backend.make_table([]))
    assert await backend.connector.fetch(binding, [key(1)], ITEMS) == {}
    assert await backend.connector.freshness(binding) is None
    if backend.scans:
        assert await backend.connector.scan(binding, ITEMS) == []


# --- scan -----------------------------------------------------------------------------


async def test_scan_orders_by_key_and_respects_the_limit(backend: Backend) -> None:
    scanning(backend)
    rows = await backend.connector.scan(backend.bind(), ["name"], limit=25)
    assert [r["__key__"] for r in rows] == [key(i) for i in range(25)]
    for row in rows:
        assert row == {"__key__": row["__key__"], **expected(row["__key__"], ["name"])}


async def test_scan_rows_hold_the_key_and_exactly_the_items(backend: Backend) -> None:
    scanning(backend)
    items = ["status", "registration_date", "uscc"]
    rows = await backend.connector.scan(backend.bind(), items, after=key(100), limit=3)
    assert rows == [{"__key__": key(i), **expected(key(i), items)} for i in (101, 102, 103)]
    rows = await backend.connector.scan(backend.bind(), [], limit=2)
    assert rows == [{"__key__": key(0)}, {"__key__": key(1)}]


async def test_scan_selects_no_column_that_is_not_requested(backend: Backend) -> None:
    scanning(backend)
    with backend.capture() as statements:
        await backend.connector.scan(backend.bind(), ["legal_representative"], limit=5)
    if isinstance(backend.connector, SQLConnector):  # the SQL sent names what is read
        text = " ".join(statements)
        assert "legal_rep" in text
        for unrequested in ("ent_name", "capital", "reg_date", "status"):
            assert unrequested not in text, f"{unrequested} was selected: {text}"


async def test_scan_pages_through_everything_with_after(backend: Backend) -> None:
    scanning(backend)
    binding, seen, after = backend.bind(), [], None
    for _ in range(COUNT // 400 + 2):
        page = await backend.connector.scan(binding, ["status"], after=after, limit=400)
        if not page:
            break
        assert len(page) <= 400
        seen += [row["__key__"] for row in page]
        after = page[-1]["__key__"]
    assert seen == [key(i) for i in range(COUNT)]
    assert await backend.connector.scan(binding, ["status"], after=key(COUNT - 1)) == []


async def test_scan_never_yields_a_row_without_a_key(backend: Backend) -> None:
    """A null key has no place in key order (SQLite sorts it first): resuming after it would
    skip keys. The SQL backends' contract table refuses a null key (NOT NULL primary key): the
    SQL connector is checked over a demo table that takes one, in tests/gateway/test_export_http.py."""
    scanning(backend)
    if isinstance(backend.connector, SQLConnector):
        pytest.skip("the contract table's primary key refuses a null")
    if backend.name == "file":
        pytest.skip("the file connector refuses a file with an empty key as a whole (naming its line)")
    table = await backend.make_table([{**source_row(0), "uscc": None}, source_row(1), source_row(2)])
    binding = backend.bind(table=table)
    assert [row["__key__"] for row in await backend.connector.scan(binding, ["name"], limit=1)] == [key(1)]


async def test_scan_default_limit_is_1000(backend: Backend) -> None:
    scanning(backend)
    rows = await backend.connector.scan(backend.bind(), ["uscc"])
    assert len(rows) == 1000


async def test_scan_filters_with_since(backend: Backend) -> None:
    scanning(backend)
    since = START + 1000 * STEP + dt.timedelta(minutes=3)  # mid-day, between two rows
    assert since.hour not in (0, 23)
    rows = await backend.connector.scan(backend.bind(), ["name"], since=since, limit=COUNT)
    assert [r["__key__"] for r in rows] == [key(i) for i in range(1001, COUNT)]
    exact = await backend.connector.scan(backend.bind(), ["name"], since=START + 1000 * STEP, limit=5)
    assert [r["__key__"] for r in exact] == [key(i) for i in range(1000, 1005)]


async def test_scan_combines_after_since_and_limit(backend: Backend) -> None:
    scanning(backend)
    since = START + 500 * STEP
    rows = await backend.connector.scan(backend.bind(), ["status"], after=key(700), since=since, limit=10)
    assert [r["__key__"] for r in rows] == [key(i) for i in range(701, 711)]
    rows = await backend.connector.scan(backend.bind(), ["status"], after=key(100), since=since, limit=2)
    assert [r["__key__"] for r in rows] == [key(500), key(501)]


async def test_scan_since_without_an_update_column_misses_nothing(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    """A source that cannot tell what changed must not answer that nothing did."""
    scanning(backend)
    binding = backend.bind(updated_at=None)
    rows = await backend.connector.scan(binding, ["name"], since=START + 1200 * STEP, limit=COUNT)
    assert len(rows) == COUNT


# --- freshness ------------------------------------------------------------------------


async def test_freshness_is_the_latest_update(backend: Backend) -> None:
    scanning(backend)
    assert await backend.connector.freshness(backend.bind()) == START + (COUNT - 1) * STEP


async def test_freshness_without_an_update_column_is_none(backend: Backend) -> None:
    assert await backend.connector.freshness(backend.bind(updated_at=None)) is None


async def test_rows_without_update_stamp_are_ignored_by_freshness_and_since(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    scanning(backend)
    rows = [source_row(1), {**source_row(2), "updated_at": None}, source_row(3)]
    binding = backend.bind(table=await backend.make_table(rows))
    assert await backend.connector.freshness(binding) == START + 3 * STEP
    found = await backend.connector.scan(binding, ["status"], since=START)
    assert [r["__key__"] for r in found] == [key(1), key(3)]


# --- failures and close ---------------------------------------------------------------


@pytest.mark.parametrize("call", ["fetch", "scan", "freshness"])
async def test_a_failing_source_raises_source_unavailable(
    backend: Backend, call: str, request: pytest.FixtureRequest
) -> None:
    """mock: `failing = True`; sql: a table that does not exist; PostgreSQL also a closed port."""
    if call != "fetch":
        scanning(backend)
    for connector, binding in await backend.broken():
        with pytest.raises(SourceUnavailable) as caught:
            if call == "fetch":
                await connector.fetch(binding, [key(1)], ["name"])
            elif call == "scan":
                await connector.scan(binding, ["name"])
            else:
                await connector.freshness(binding)
        assert caught.value.extensions["code"] == "SOURCE_UNAVAILABLE"
        assert caught.value.status == 503


async def test_close_works_and_may_be_repeated(backend: Backend) -> None:
    await backend.connector.fetch(backend.bind(), [key(1)], ["name"])
    await backend.connector.close()
    await backend.connector.close()


async def test_a_hung_source_costs_each_call_one_timeout(backend: Backend) -> None:
    """mock: a delay; SQLite: a file locked by a writer; http: a service that never answers;
    file: a named pipe nobody writes (opening it waits for ever). The four calls run at
    once: each answers SourceUnavailable after one timeout, none waits for another."""

    async def timed(call: Awaitable[Any]) -> tuple[float, BaseException | None]:
        started = time.monotonic()
        try:
            await call
        except SourceUnavailable as exc:
            assert exc.extensions["timeout"] == HUNG_TIMEOUT
            return time.monotonic() - started, exc
        return time.monotonic() - started, None

    for connector, binding in await backend.hung():
        assert connector.timeout == HUNG_TIMEOUT
        calls = {
            "fetch": connector.fetch(binding, [key(1)], ["name"]),
            "check": connector.check(binding),
        }
        if backend.scans:  # a kind without them answers at once, asking nobody
            calls.update(scan=connector.scan(binding, ["name"]), freshness=connector.freshness(binding))
        outcomes = dict(zip(calls, await asyncio.gather(*map(timed, calls.values())), strict=True))
        for call, (elapsed, raised) in outcomes.items():
            assert raised is not None, f"{call} of a hung source answered"
            assert elapsed < HUNG_TIMEOUT + 1.0, (
                f"{call} took {elapsed:.2f} s"
            )  # the hang is 30 s; slack for a busy machine


async def test_a_source_that_answers_more_is_cut_down(backend: Backend) -> None:
    """Every source holds ``inner_note`` and more rows than asked; the http service also
    answers keys, rows and fields nobody asked for (gateway/demo_rest.py, generous)."""
    binding = backend.bind()
    rows = await backend.connector.fetch(binding, [key(3), key(4), "K00003 "], ["name"])
    assert rows == {key(3): expected(key(3), ["name"]), key(4): expected(key(4), ["name"])}
    if not backend.scans:
        assert "内部核查" not in repr(rows)
        return
    page = await backend.connector.scan(binding, ["status"], after=key(10), limit=3)
    assert page == [{"__key__": key(i), **expected(key(i), ["status"])} for i in (11, 12, 13)]
    since = await backend.connector.scan(binding, [], since=START + 1297 * STEP, limit=5)
    assert since == [{"__key__": key(i)} for i in (1297, 1298, 1299)]
    assert "内部核查" not in repr((rows, page, since))


async def test_a_kind_without_scan_says_so(backend: Backend) -> None:
    """An upstream gateway has no key-ordered listing: scan is refused plainly (never an
    empty page, which an export would take for "nothing there"); freshness is unknown."""
    if backend.scans:
        pytest.skip(f"{backend.name} offers scan")
    with pytest.raises(SourceUnavailable) as caught:
        await backend.connector.scan(backend.bind(), ["name"], limit=5)
    assert caught.value.extensions["unsupported"] == "scan"
    assert await backend.connector.freshness(backend.bind()) is None


async def test_concurrent_fetches_each_get_their_own_rows(backend: Backend) -> None:
    binding = backend.bind()
    batches = [[key(i), key(i + 1)] for i in range(0, 40, 2)]
    answers = await asyncio.gather(*(backend.connector.fetch(binding, b, ["name"]) for b in batches))
    for batch, rows in zip(batches, answers, strict=True):
        assert rows == {k: expected(k, ["name"]) for k in batch}


# --- open_connector -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ftp", None, "SQL"])
def test_open_connector_refuses_unknown_kinds_naming_the_known_ones(kind: str | None, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        open_connector({"kind": kind} if kind else {}, tmp_path)
    message = caught.value.message
    assert repr(kind) in message
    assert all(known in message for known in ("mock", "sql", "http", "file"))


async def test_open_connector_builds_each_kind(
    tmp_path: Path, rest_url: str, graphql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with contextlib.closing(sqlite3.connect(tmp_path / "amr.db")) as db, db:
        db.execute("CREATE TABLE enterprise (uscc TEXT PRIMARY KEY, ent_name TEXT)")
        db.execute("INSERT INTO enterprise VALUES ('K1', '甲')")
    sql = open_connector({"kind": "sql", "url": "sqlite+aiosqlite:///{data}/amr.db"}, tmp_path)
    mock = open_connector(
        {"kind": "mock", "tables": {"enterprise": [{"uscc": "K1", "ent_name": "甲"}]}}, tmp_path
    )
    (tmp_path / "enterprise.csv").write_text("uscc,ent_name\nK1,甲\n", encoding="utf-8")
    table = await (await anext(http_backend("http-batch", rest_url, rest_url))).make_table(
        [{"uscc": "K1", "ent_name": "甲"}]
    )
    file = open_connector({"kind": "file"}, tmp_path)
    http = open_connector({"kind": "http", "base_url": rest_url}, tmp_path)
    GRAPHQL_TABLES["built"] = [{"uscc": "K1", "ent_name": "甲"}]
    monkeypatch.setenv("CONTRACT_UPSTREAM_SECRET", "s")
    secret = "${CONTRACT_UPSTREAM_SECRET}"
    settings = {
        "kind": "graphql",
        "url": f"{graphql_url}/graphql",
        "client_id": "city",
        "client_secret": secret,
    }
    graphql = open_connector({**settings, "audience": "contract"}, tmp_path)
    on_behalf_of.set(OnBehalfOf("11420102MB0000019A", "county", None, "核验", None, lambda claims: "jws"))
    assert isinstance(sql, SQLConnector) and isinstance(mock, MockConnector)
    assert isinstance(file, FileConnector) and isinstance(http, HTTPConnector)
    assert isinstance(graphql, GraphQLConnector)
    sources = {
        sql: {"table": "enterprise"},
        mock: {"table": "enterprise"},
        file: {"file": "enterprise.csv"},
        http: {"batch": {"url": f"{table}/lookup", "rows": "$.items"}},
        graphql: {"subject": "organization", "field": "built"},
    }
    try:
        for connector, source in sources.items():
            binding = connector.bind({**source, "columns": {"name": "ent_name"}}, ["uscc", "name"], "uscc")
            assert await connector.fetch(binding, ["K1", "K2"], ["name"]) == {"K1": {"name": "甲"}}
    finally:
        for each in sources:
            await each.close()


@pytest.mark.parametrize(
    "settings",
    [
        {"kind": "sql", "url": "sqlite+aiosqlite://", "timout": 1},
        {"kind": "mock", "tabels": {}},
        {"kind": "file", "delimeter": ";"},
        {"kind": "http", "base_url": "http://127.0.0.1:9/", "header": {"X-Caller": "govshare"}},
    ],
    ids=lambda settings: settings["kind"],
)
def test_open_connector_refuses_an_unknown_setting_naming_it(
    settings: dict[str, Any], tmp_path: Path
) -> None:
    misspelt = next(name for name in settings if name not in ("kind", "url", "base_url"))
    with pytest.raises(ConfigurationError, match=misspelt):
        open_connector(settings, tmp_path)


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"kind": "sql", "url": "postgresql://govshare@127.0.0.1/db"}, "async driver"),
        ({"kind": "sql", "url": "nosuch+driver://x"}, "async driver"),
        ({"kind": "sql", "url": "sqlite+aiosqlite://", "timeout": True}, "timeout"),
        ({"kind": "mock", "delay": "slow"}, "delay"),
        ({"kind": "mock", "tables": "enterprise"}, "tables"),
        ({"kind": "http", "base_url": "http://127.0.0.1:9/", "headers": {"X Caller": "gs"}}, "X Caller"),
        ({"kind": "file", "timeout": False}, "timeout"),
    ],
)
def test_open_connector_refuses_settings_of_the_wrong_shape_naming_them(
    settings: dict[str, Any], named: str, tmp_path: Path
) -> None:
    """A ConfigurationError (file and path at load), never a driver's or Python's own error."""
    with pytest.raises(ConfigurationError, match=named):
        open_connector(settings, tmp_path)


def test_a_sql_connector_needs_a_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="url"):
        open_connector({"kind": "sql"}, tmp_path)


# --- check: the bound table and columns exist (issue 7, item 19) -------------------------


async def test_check_finds_the_table_and_every_bound_column(backend: Backend) -> None:
    found = await backend.connector.check(backend.bind())
    assert found == SourceCheck(backend.target_of(backend.table), True, ())
    assert found.ok


async def test_check_names_a_misspelt_table(backend: Backend) -> None:
    misspelt = backend.table + "_typo"
    found = await backend.connector.check(backend.bind(table=misspelt))
    assert (found.ok, found.table_exists) == (False, False)
    assert repr(backend.target_of(misspelt)) in found.describe() and "does not exist" in found.describe()


@pytest.mark.parametrize(
    ("source", "missing"),
    [
        ({"columns": {**SOURCE["columns"], "name": "ent_nam"}}, ("ent_nam",)),  # type: ignore[dict-item]
        ({"key": "uscc_code"}, ("uscc_code",)),
        ({"updated_at": "changed"}, ("changed",)),
        ({"columns": {**SOURCE["columns"], "name": "x1", "status": "x2"}}, ("x1", "x2")),  # type: ignore[dict-item]
    ],
    ids=["item", "key", "updated_at", "two"],
)
async def test_check_names_each_missing_column(
    backend: Backend, source: dict[str, Any], missing: tuple[str, ...]
) -> None:
    found = await backend.connector.check(backend.bind(**source))
    assert found.table_exists and not found.ok
    assert set(found.missing_columns) == set(missing)
    assert all(repr(column) in found.describe() for column in missing)


async def test_check_of_a_source_that_does_not_answer(backend: Backend) -> None:
    for connector, binding in await backend.broken():
        try:
            found = await connector.check(binding)
        except SourceUnavailable as exc:
            assert exc.status == 503
        else:
            assert not found.ok  # reachable, but its bound table is not there


async def test_a_failed_query_names_what_the_source_said(backend: Backend) -> None:
    """The log must say which table or column, not only OperationalError (sql backends)."""
    if backend.name in ("mock", "http-get"):
        pytest.skip("the mock has no database to speak; a per-key GET's 404 means no such subject")
    binding = backend.bind(table="enterprise_registraton")
    with pytest.raises(SourceUnavailable) as caught:
        await backend.connector.fetch(binding, [key(1)], ["name"])
    assert "enterprise_registraton" in caught.value.message
    assert key(1) not in caught.value.message  # parameters (subject codes) are not quoted


# --- SQLite stamps as the demo writes them --------------------------------------------


async def test_sqlite_since_with_iso_text_stamps(tmp_path: Path) -> None:
    stamps = {"A": "2024-01-02T09:00:00", "B": "2024-01-02T11:00:00", "C": "2024-01-01T23:00:00"}
    with contextlib.closing(sqlite3.connect(tmp_path / "demo.db")) as db, db:
        db.execute("CREATE TABLE enterprise (uscc, ent_name, updated_at, PRIMARY KEY (uscc))")
        db.executemany("INSERT INTO enterprise VALUES (?, ?, ?)", [(k, k, s) for k, s in stamps.items()])
    connector = SQLConnector.open({"kind": "sql", "url": f"sqlite+aiosqlite:///{tmp_path}/demo.db"}, tmp_path)
    try:
        binding = connector.bind({"table": "enterprise", "updated_at": "updated_at"}, ["uscc"], "uscc")
        assert await connector.freshness(binding) == dt.datetime(2024, 1, 2, 11, 0)
        rows = await connector.scan(binding, [], since=dt.datetime(2024, 1, 2, 10, 0))
        assert [r["__key__"] for r in rows] == ["B"]
    finally:
        await connector.close()


def test_a_missing_sqlite_file_is_a_configuration_error_and_is_not_created(tmp_path: Path) -> None:
    """Connecting would make an empty file (in a mistaken data folder, say): refuse instead."""
    with pytest.raises(ConfigurationError) as caught:
        open_connector({"kind": "sql", "url": "sqlite+aiosqlite:///{data}/amr.db"}, tmp_path)
    assert str(tmp_path / "amr.db") in caught.value.message and "GOVSHARE_DATA" in caught.value.message
    assert list(tmp_path.iterdir()) == []
