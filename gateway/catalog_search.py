"""The search index of the published catalog, in the platform database (issue 11 section 3).

Two tables, rebuilt whole from a ``Catalog`` object by ``CatalogSearch.index`` (at start and
whenever a catalog is published; a few thousand rows, one transaction):

- ``catalog_search_resources``: one row per resource with what the filters read (provider,
  subject, open, a flag per share class among its items and per mode) and its catalog
  position, the order pages follow;
- ``catalog_search_text``: one row per resource and per item with its folded text
  (``policies.catalog_query.searchable_texts``). On SQLite an FTS5 virtual table with the
  trigram tokenizer (SQLite 3.34 or later), so that a search of 代表人 finds 法定代表人 (the
  default unicode61 tokenizer splits no Chinese: it would find whole runs of Han characters
  only). On PostgreSQL a plain table with a GIN ``gin_trgm_ops`` index (pg_trgm), which
  answers ``LIKE '%代表人%'``.

Texts and searches are folded in Python before they reach the database (NFKC, lower case),
and the database compares case-sensitively, so both backends and the reference
(``policies.catalog_query.scan``) agree to the character. A search shorter than three
characters has no trigram: the database scans the text table for it (``instr`` / ``LIKE``).

Own code because no library indexes text inside the databases the gateway already uses;
the rule of what matches is ``policies.catalog_query``'s.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from errors import BadRequest, ConfigurationError
from policies.catalog import Catalog, Resource
from policies.catalog_query import TRIGRAM, CatalogQuery, Hit, SearchPage, searchable_texts
from policies.share import Mode, Share

log = logging.getLogger("govshare.catalog")
FTS5_TRIGRAM_SINCE = (3, 34, 0)  # SQLite release that added the trigram tokenizer
_PG_LOCK = 0x67_6F_76_63_61_74  # advisory lock of a rebuild ("govcat"): one writer at a time

metadata = sa.MetaData()
resources_table = sa.Table(
    "catalog_search_resources",
    metadata,
    sa.Column("resource_id", sa.String(128), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False, index=True),
    sa.Column("provider", sa.String(18), nullable=False),
    sa.Column("subject", sa.String(16), nullable=False),
    sa.Column("open", sa.Boolean, nullable=False),
    *(sa.Column(f"share_{share.value}", sa.Boolean, nullable=False) for share in Share),
    *(sa.Column(f"mode_{mode.value}", sa.Boolean, nullable=False) for mode in Mode),
)
text_table = sa.Table(  # created by create_tables (an FTS5 virtual table on SQLite)
    "catalog_search_text",
    sa.MetaData(),
    sa.Column("resource_id", sa.String(128)),
    sa.Column("item", sa.String(128)),
    sa.Column("body", sa.Text),
)

SQLITE_TEXT_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS catalog_search_text "
    "USING fts5(resource_id UNINDEXED, item UNINDEXED, body, tokenize='trigram case_sensitive 1')"
)
POSTGRES_TEXT_DDL = (
    "CREATE TABLE IF NOT EXISTS catalog_search_text "
    "(id BIGSERIAL PRIMARY KEY, resource_id VARCHAR(128) NOT NULL, item VARCHAR(128) NOT NULL, "
    "body TEXT NOT NULL)"
)
POSTGRES_TRGM_INDEX = (
    "CREATE INDEX IF NOT EXISTS catalog_search_text_trgm ON catalog_search_text USING gin (body gin_trgm_ops)"
)
PG_TRGM_MISSING = (
    "catalog search: the pg_trgm extension could not be created (%s); search still answers "
    "but reads the whole text table. Have a database owner run `CREATE EXTENSION pg_trgm;` "
    "in this database and then `CREATE INDEX catalog_search_text_trgm ON catalog_search_text "
    "USING gin (body gin_trgm_ops)`"
)


def create_tables(connection: sa.Connection) -> None:
    """Create the index tables if missing (idempotent), on SQLite or PostgreSQL, in a scratch
    database (tests, ``gateway.bench_search``); the platform database gets them from migration
    0005 (gateway/migrations/versions), which must make the same. A synchronous connection;
    ``ConfigurationError`` when SQLite is older than 3.34 (no trigram tokenizer)."""
    metadata.create_all(connection)
    if connection.dialect.name == "sqlite":
        _require_trigram_sqlite()
        connection.exec_driver_sql(SQLITE_TEXT_DDL)
    else:
        connection.exec_driver_sql(POSTGRES_TEXT_DDL)
        connection.exec_driver_sql(
            "CREATE INDEX IF NOT EXISTS catalog_search_text_rid ON catalog_search_text (resource_id)"
        )
        _trigram_index(connection)


def drop_tables(connection: sa.Connection) -> None:
    """Drop the index tables (Alembic downgrade)."""
    connection.exec_driver_sql("DROP TABLE IF EXISTS catalog_search_text")
    metadata.drop_all(connection)


def _require_trigram_sqlite() -> None:
    if sqlite3.sqlite_version_info < FTS5_TRIGRAM_SINCE:
        raise ConfigurationError(
            f"catalog search needs SQLite 3.34 or later (FTS5 trigram tokenizer); this Python has "
            f"{sqlite3.sqlite_version}: use a newer Python build or PostgreSQL"
        )


def _trigram_index(connection: sa.Connection) -> None:
    """The GIN trigram index, after creating pg_trgm in a savepoint: a role without the right
    to create extensions gets a warning naming the fix, and search without the index."""
    try:
        with connection.begin_nested():
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            connection.exec_driver_sql(POSTGRES_TRGM_INDEX)
    except sa.exc.DBAPIError as refused:
        log.warning(PG_TRGM_MISSING, str(refused.orig).splitlines()[0])


class CatalogSearch:
    """Search over the published catalog, indexed in the platform database (``engine``)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create_tables(self) -> None:
        """``create_tables`` on this engine (what the Alembic revision runs)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(create_tables)

    async def index(self, catalog: Catalog) -> None:
        """Replace the index with ``catalog`` (the published one), in one transaction: a search
        running meanwhile sees the old index or the new, never half of each. Call it at start
        and after every publication; the index tables must exist (``create_tables``)."""
        resources = [_resource_row(position, r) for position, r in enumerate(catalog.resources.values())]
        texts = [
            {"resource_id": r.id, "item": item, "body": body}
            for r in catalog.resources.values()
            for item, body in searchable_texts(r)
        ]
        async with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # two workers rebuilding at once: one after the other
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
            await conn.execute(text_table.delete())
            await conn.execute(resources_table.delete())
            await _insert(conn, resources_table, resources)
            await _insert(conn, text_table, texts)

    async def find(self, query: CatalogQuery, first: int, after: str | None = None) -> SearchPage:
        """At most ``first`` hits after the resource ``after`` (the last id of the previous
        page), in catalog order. ``BadRequest`` when ``after`` is no resource of the index."""
        async with self.engine.connect() as conn:
            where = _filters(conn, query)
            counted = sa.select(sa.func.count()).select_from(resources_table).where(*where)
            total = (await conn.execute(counted)).scalar_one()
            if after is not None:
                where.append(resources_table.c.position > await _position(conn, after))
            ids = list(
                (
                    await conn.execute(
                        sa.select(resources_table.c.resource_id)
                        .where(*where)
                        .order_by(resources_table.c.position)
                        .limit(first + 1)
                    )
                ).scalars()
            )
            page = ids[:first]
            items = await _matched_items(conn, query, page)
        hits = [Hit(rid, tuple(items.get(rid, ()))) for rid in page]
        return SearchPage(hits, int(total), len(ids) > first)


async def _insert(conn: AsyncConnection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await conn.execute(table.insert(), list(rows))


def _resource_row(position: int, resource: Resource) -> dict[str, Any]:
    shares = {item.share for item in resource.items}
    return {
        "resource_id": resource.id,
        "position": position,
        "provider": resource.provider,
        "subject": resource.subject,
        "open": resource.open,
        **{f"share_{share.value}": share in shares for share in Share},
        **{f"mode_{mode.value}": mode in resource.modes for mode in Mode},
    }


def _filters(conn: AsyncConnection, query: CatalogQuery) -> list[Any]:
    """The WHERE clauses of ``query`` over ``resources_table``."""
    columns = resources_table.c
    where: list[Any] = []
    if query.providers is not None:
        where.append(columns.provider.in_(sorted(query.providers)))
    if query.share is not None:
        where.append(columns[f"share_{query.share.value}"].is_(True))
    if query.subject is not None:
        where.append(columns.subject == query.subject)
    if query.mode is not None:
        where.append(columns[f"mode_{query.mode.value}"].is_(True))
    if query.open is not None:
        where.append(columns.open.is_(query.open))
    if query.search is not None:
        found = sa.select(text_table.c.resource_id).where(_text_match(conn, query.search))
        where.append(columns.resource_id.in_(found))
    return where or [sa.true()]


def _text_match(conn: AsyncConnection, search: str) -> Any:
    """``search`` (folded) within ``body``: FTS5 MATCH of the phrase (three characters or more)
    or ``instr`` on SQLite; ``LIKE`` with its wildcards escaped on PostgreSQL (trigram index)."""
    body = text_table.c.body
    if conn.dialect.name != "sqlite":
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return body.like(f"%{escaped}%", escape="\\")
    if len(search) < TRIGRAM:
        return sa.func.instr(body, search) > 0
    phrase = '"' + search.replace('"', '""') + '"'
    return sa.literal_column("catalog_search_text").op("MATCH")(phrase)


async def _position(conn: AsyncConnection, after: str) -> int:
    found = await conn.execute(
        sa.select(resources_table.c.position).where(resources_table.c.resource_id == after)
    )
    position = found.scalar_one_or_none()
    if position is None:
        raise BadRequest(
            f"catalog argument after: {after[:80]!r} is no resource of the published catalog; pass "
            "the previous page's nextAfter, or leave after out for the first page",
            argument="after",
        )
    return int(position)


async def _matched_items(conn: AsyncConnection, query: CatalogQuery, page: list[str]) -> dict[str, list[str]]:
    """Resource id -> names of its items whose text matched (catalog order within a resource
    is kept by the caller's view; here the database's)."""
    if query.search is None or not page:
        return {}
    rows = await conn.execute(
        sa.select(text_table.c.resource_id, text_table.c.item).where(
            _text_match(conn, query.search), text_table.c.resource_id.in_(page), text_table.c.item != ""
        )
    )
    found: dict[str, list[str]] = {}
    for rid, item in rows:
        found.setdefault(rid, []).append(item)
    return found
