"""The platform database as it was when migrations began (2026-11-30, commit 7133902): the
tables, columns, indexes and constraints ``Base.metadata.create_all`` made then, frozen.

Generated from that metadata with Alembic's autogenerate (``produce_migrations`` against an
empty database) and reviewed; ``DateTime(timezone=True)`` stands for ``UTCDateTime``, whose
DDL it is. Two users: the baseline revision (``versions/0001_baseline.py``) creates these
tables in an empty database, and :mod:`gateway.dbschema` adopts a database made before
migrations by completing it to this shape. NEVER edit this module to follow a model change:
add a revision instead (gateway/migrations/README.md).
"""

from __future__ import annotations

import sqlalchemy as sa

_INSTANT = sa.DateTime(timezone=True)


def baseline_metadata() -> sa.MetaData:
    """A new ``MetaData`` holding the fourteen baseline tables."""
    metadata = sa.MetaData()
    sa.Table(
        "application_events",
        metadata,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application", sa.String(length=64), nullable=False),
        sa.Column("at", _INSTANT, nullable=False),
        sa.Column("actor", sa.String(length=18), nullable=False),
        sa.Column("client", sa.String(length=128), nullable=False),
        sa.Column("user", sa.Text(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_application_events_application", "application"),
    )
    sa.Table(
        "applications",
        metadata,
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("consumer", sa.String(length=18), nullable=False),
        sa.Column("provider", sa.String(length=18), nullable=False),
        sa.Column("resource", sa.String(length=128), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("modes", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("scope_of_knowledge", sa.Text(), nullable=False),
        sa.Column("security_measures", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("valid_from", _INSTANT, nullable=False),
        sa.Column("valid_until", _INSTANT, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", _INSTANT, nullable=False),
        sa.Column("check_due", sa.Date(), nullable=True),
        sa.Column("checked_at", _INSTANT, nullable=True),
        sa.Column("decide_due", sa.Date(), nullable=True),
        sa.Column("decided_at", _INSTANT, nullable=True),
        sa.Column("decided_by", sa.String(length=18), nullable=True),
        sa.Column("notify_due", sa.Date(), nullable=True),
        sa.Column("notified_at", _INSTANT, nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("grant_id", sa.String(length=64), nullable=True),
        sa.Column("calendar_warning", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_applications_consumer", "consumer"),
        sa.Index("ix_applications_provider", "provider"),
        sa.Index("ix_applications_status", "status"),
    )
    sa.Table(
        "audit_events",
        metadata,
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("instance", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("time", _INSTANT, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("consumer", sa.Text(), nullable=True),
        sa.Column("client", sa.Text(), nullable=True),
        sa.Column("user", sa.Text(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("application", sa.Text(), nullable=True),
        sa.Column("mode", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("resources", sa.JSON(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("subjects", sa.JSON(), nullable=False),
        sa.Column("decisions", sa.JSON(), nullable=False),
        sa.Column("response_digest", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance", "seq", name="uq_audit_events_instance_seq"),
        sa.Index("ix_audit_events_consumer", "consumer"),
        sa.Index("ix_audit_events_order", "time", "instance", "seq"),
        sa.Index("ix_audit_events_time", "time"),
    )
    sa.Table(
        "audit_events_meta",
        metadata,
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    sa.Table(
        "audit_events_resources",
        metadata,
        sa.Column("resource", sa.Text(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("resource", "event_id"),
    )
    sa.Table(
        "audit_events_usage",
        metadata,
        sa.Column("span", sa.SmallInteger(), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("refusals", sa.BigInteger(), nullable=False),
        sa.Column("unavailable", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("span", "bucket", "department", "mode", "consumer"),
    )
    sa.Table(
        "change_notices",
        metadata,
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("resource", sa.String(length=128), nullable=False),
        sa.Column("provider", sa.String(length=18), nullable=False),
        sa.Column("subjects", sa.JSON(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("changed_at", _INSTANT, nullable=False),
        sa.Column("notified_at", _INSTANT, nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("notified_by", sa.String(length=18), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_change_notices_notified_at", "notified_at"),
        sa.Index("ix_change_notices_provider", "provider"),
        sa.Index("ix_change_notices_resource", "resource"),
    )
    sa.Table(
        "change_source_stamps",
        metadata,
        sa.Column("resource", sa.String(length=128), nullable=False),
        sa.Column("stamp", _INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("resource"),
    )
    sa.Table(
        "grant_usage",
        metadata,
        sa.Column("grant", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("subject", sa.String(length=18), nullable=False),
        sa.PrimaryKeyConstraint("grant", "day", "subject"),
    )
    sa.Table(
        "grants",
        metadata,
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("consumer", sa.String(length=18), nullable=False),
        sa.Column("resource", sa.String(length=128), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("modes", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("valid_from", _INSTANT, nullable=False),
        sa.Column("valid_until", _INSTANT, nullable=False),
        sa.Column("revoked_at", _INSTANT, nullable=True),
        sa.Column("created_at", _INSTANT, nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=True),
        sa.Column("application", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_grants_consumer", "consumer"),
    )
    sa.Table(
        "oauth_clients",
        metadata,
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("department", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("grant_types", sa.JSON(), nullable=False),
        sa.Column("secret_hash", sa.String(length=256), nullable=False),
        sa.Column("created_at", _INSTANT, nullable=False),
        sa.Column("disabled_at", _INSTANT, nullable=True),
        sa.PrimaryKeyConstraint("client_id"),
        sa.Index("ix_oauth_clients_department", "department"),
    )
    sa.Table(
        "objection_events",
        metadata,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("objection", sa.String(length=64), nullable=False),
        sa.Column("at", _INSTANT, nullable=False),
        sa.Column("actor", sa.String(length=18), nullable=False),
        sa.Column("client", sa.String(length=128), nullable=False),
        sa.Column("user", sa.Text(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_objection_events_objection", "objection"),
    )
    sa.Table(
        "objections",
        metadata,
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("consumer", sa.String(length=18), nullable=False),
        sa.Column("provider", sa.String(length=18), nullable=False),
        sa.Column("resource", sa.String(length=128), nullable=False),
        sa.Column("subject", sa.String(length=18), nullable=False),
        sa.Column("item", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("raised_at", _INSTANT, nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("statutory", sa.Boolean(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.Column("answered_at", _INSTANT, nullable=True),
        sa.Column("answered_by", sa.String(length=18), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_objections_consumer", "consumer"),
        sa.Index("ix_objections_provider", "provider"),
        sa.Index("ix_objections_resource", "resource"),
        sa.Index("ix_objections_status", "status"),
        sa.Index("ix_objections_subject", "subject"),
    )
    sa.Table(
        "onboarding",
        metadata,
        sa.Column("department", sa.String(length=18), nullable=False),
        sa.Column("commitment", sa.Text(), nullable=False),
        sa.Column("onboarded_at", _INSTANT, nullable=False),
        sa.Column("onboarded_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("department"),
    )
    return metadata
