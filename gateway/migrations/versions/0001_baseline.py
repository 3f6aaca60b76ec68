"""Baseline: the platform database as ``create_all`` made it on 2026-11-30 (commit 7133902).

Revision ID: 0001
Revises:
Create Date: 2026-11-30

The fourteen tables of gateway/migrations/baseline.py (grants, grant usage, applications and
their events, OAuth clients, change notices and source stamps, objections and their events,
onboarding, and the audit trail: events, resource index, usage aggregates, meta). A database
made before migrations is not created by this revision but adopted at it (gateway.dbschema).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from gateway.migrations.baseline import baseline_metadata

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    baseline_metadata().create_all(op.get_bind(), checkfirst=False)


def downgrade() -> None:
    baseline_metadata().drop_all(op.get_bind(), checkfirst=False)
