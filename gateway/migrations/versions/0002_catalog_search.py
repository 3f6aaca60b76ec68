"""Catalog search index: ``catalog_search_resources`` and ``catalog_search_text``.

Revision ID: 0002_catalog_search
Revises: 0001
Create Date: 2026-11-30

The tables gateway.catalog_search rebuilds from the published catalog (issue 11 section 3):
on SQLite an FTS5 virtual table with the trigram tokenizer (SQLite 3.34 or later); on
PostgreSQL a table with a GIN ``gin_trgm_ops`` index, after ``CREATE EXTENSION pg_trgm``
(without the right to create it: a warning naming the fix, and the table without the index).
Derived data only: a downgrade drops them, the next start after an upgrade fills them.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from gateway.catalog_search import create_tables, drop_tables

revision: str = "0002_catalog_search"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_tables(op.get_bind())


def downgrade() -> None:
    drop_tables(op.get_bind())
