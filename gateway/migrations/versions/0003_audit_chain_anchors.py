"""audit chain anchors

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 17:43:15.989468

``audit_events_anchors`` (gateway.audit.anchor_table): per audit chain, where its live part
starts after `govshare audit archive` pruned its oldest events (last pruned seq and hash,
the archive's file name and SHA-256). A new table: no stored row changes; a chain without
an anchor row starts at seq 1, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events_anchors",
        sa.Column("instance", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("archive", sa.Text(), nullable=False),
        sa.Column("archive_sha256", sa.String(length=64), nullable=False),
        sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("instance"),
    )


def downgrade() -> None:
    op.drop_table("audit_events_anchors")
