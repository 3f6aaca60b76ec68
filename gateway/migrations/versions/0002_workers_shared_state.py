"""Workers' shared state (issue 12 section 1): the grants' generation and compare counters.

``grant_generation``: one row bumped by every grant change (gateway.grant_cache reloads on
a change); ``rate_entries`` / ``rate_counters``: compare rate limits and guess budgets in the
platform database when several workers have no Redis (gateway.rate_store).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 17:43:48.004122

Reviewed by hand after autogenerate (gateway/migrations/README.md): SQLite alters tables in
batch mode; a new NOT NULL column needs a server_default or a data step for stored rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    generation = op.create_table(
        "grant_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(generation, [{"id": 1, "value": 0}])  # the one row (PlatformDB reads id 1)
    op.create_table(
        "rate_counters",
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "rate_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("rate_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rate_entries_key"), ["key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rate_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_entries_key"))

    op.drop_table("rate_entries")
    op.drop_table("rate_counters")
    op.drop_table("grant_generation")
