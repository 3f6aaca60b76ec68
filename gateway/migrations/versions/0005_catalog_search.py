"""Catalog search index: ``catalog_search_resources`` and ``catalog_search_text``.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

The tables gateway.catalog_search rebuilds from the published catalog at start and on each
publication (issue 11 section 3): on SQLite an FTS5 virtual table with the trigram tokenizer
(SQLite 3.34 or later); on PostgreSQL a table with a GIN ``gin_trgm_ops`` index, after
``CREATE EXTENSION pg_trgm`` in a savepoint (a role without the right to create it gets a
warning naming the fix, and the table without the index: search answers the same, slower).
Derived data only, not declared on the models (an FTS5 table cannot be): a downgrade drops
them. Written out here, not imported, as revisions must (gateway/migrations/README.md).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("govshare.catalog")
FLAGS = (
    "share_unconditional",
    "share_conditional",
    "share_not_shared",
    "mode_compare",
    "mode_query",
    "mode_bulk",
)


def upgrade() -> None:
    _drop_leftovers()  # derived data: a copy left by a database reset outside Alembic goes
    op.create_table(
        "catalog_search_resources",
        sa.Column("resource_id", sa.String(128), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("provider", sa.String(18), nullable=False),
        sa.Column("subject", sa.String(16), nullable=False),
        sa.Column("open", sa.Boolean, nullable=False),
        *(sa.Column(flag, sa.Boolean, nullable=False) for flag in FLAGS),
    )
    op.create_index("ix_catalog_search_resources_position", "catalog_search_resources", ["position"])
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_text()
    else:
        _postgres_text()


def _sqlite_text() -> None:
    if sqlite3.sqlite_version_info < (3, 34, 0):
        raise RuntimeError(
            f"catalog search needs SQLite 3.34 or later (FTS5 trigram tokenizer); this Python has "
            f"{sqlite3.sqlite_version}: use a newer Python build or PostgreSQL"
        )
    op.execute(
        "CREATE VIRTUAL TABLE catalog_search_text USING fts5(resource_id UNINDEXED, item UNINDEXED, "
        "body, tokenize='trigram case_sensitive 1')"
    )


def _postgres_text() -> None:
    op.execute(
        "CREATE TABLE catalog_search_text (id BIGSERIAL PRIMARY KEY, resource_id VARCHAR(128) NOT NULL, "
        "item VARCHAR(128) NOT NULL, body TEXT NOT NULL)"
    )
    op.execute("CREATE INDEX catalog_search_text_rid ON catalog_search_text (resource_id)")
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            bind.exec_driver_sql(
                "CREATE INDEX catalog_search_text_trgm ON catalog_search_text USING gin (body gin_trgm_ops)"
            )
    except sa.exc.DBAPIError as refused:
        log.warning(
            "catalog search: the pg_trgm extension could not be created (%s); search still answers "
            "but reads the whole text table. Have a database owner run `CREATE EXTENSION pg_trgm;` "
            "in this database and then `CREATE INDEX catalog_search_text_trgm ON catalog_search_text "
            "USING gin (body gin_trgm_ops)`",
            str(refused.orig).splitlines()[0],
        )


def _drop_leftovers() -> None:
    """The tables are not on the models, so a reset that drops the models' tables and the
    version table (tests do) leaves them behind; they hold only what the next start rebuilds."""
    op.execute("DROP TABLE IF EXISTS catalog_search_text")
    op.execute("DROP TABLE IF EXISTS catalog_search_resources")


def downgrade() -> None:
    _drop_leftovers()
