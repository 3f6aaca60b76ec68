"""The platform database's schema: its Alembic revision, upgrades, and databases made before
migrations (issue 11 section 1).

Alembic (a well-kept library: no own migration code) keeps the schema. The environment ships
inside the package (``gateway/migrations``: ``env.py``, ``script.py.mako``, ``versions/``) and
is configured here in code (:func:`alembic_config`), so no ``alembic.ini`` is needed at run
time. The revision a database is at is the ``alembic_version`` table.

When the schema is brought to the code's revision (:func:`prepare`, at every start)
    SQLite: always, automatically (the data folder belongs to this gateway). PostgreSQL: an
    empty database is created at the head revision; a database BEHIND the head is refused
    with :class:`errors.SchemaError` naming ``govshare db upgrade`` (an operator decides when
    a shared production database changes), unless ``GOVSHARE_DB_AUTO_UPGRADE=1``. A database
    AHEAD of the code (a revision this version does not know) is refused on both.

Upgrades are serialized: on PostgreSQL under a transaction-scoped advisory lock, on SQLite
under ``BEGIN IMMEDIATE`` (the database's write lock); the stored revision is read again
inside the lock, so gateway processes starting together migrate once. Both engines run DDL
in the transaction: an upgrade that fails leaves the database as it was.

Databases made before migrations (tables, no ``alembic_version``) are adopted inside that
same transaction (:func:`_adopt`): completed to the baseline (``gateway/migrations/baseline.py``)
the way the old additive start-up did (missing tables created, missing nullable columns
added, missing indexes created), checked against the baseline with Alembic's
``compare_metadata`` (a difference refuses, naming it), and stamped at the baseline; then
upgraded like any other. What older data folders lack, from the git history of
``gateway/platform.py`` and ``gateway/audit.py``: ``grants.conditions`` and
``grants.application`` (added 2026-11-21), the audit index ``ix_audit_events_order``, and
every table added since; usage aggregates (``audit_events_usage``) of the short-lived
2026-11-30 shapes are dropped and rebuilt from the trail by the next ``AuditLog.start``
(they are derived from the hash-chained events, which are never touched).
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from errors import SchemaError

log = logging.getLogger("govshare.dbschema")

SCRIPT_LOCATION: Final = "gateway:migrations"
BASELINE: Final = "0001"
VERSION_TABLE: Final = "alembic_version"
AUTO_UPGRADE_VARIABLE: Final = "GOVSHARE_DB_AUTO_UPGRADE"
UPGRADE_COMMAND: Final = "govshare db upgrade"
# Every module declaring platform tables: autogenerate and the models-vs-head check need them all.
MODEL_MODULES: Final = (
    "gateway.platform",
    "gateway.audit",
    "gateway.workflow",
    "gateway.clients",
    "gateway.changes",
    "gateway.objections",
    "gateway.onboarding",
    "gateway.rate_store",
    "gateway.catalog_store",
)
_PG_LOCK: Final = 0x676F76736861  # pg_advisory_xact_lock key: "govsha"
_SQLITE_BUSY_MS: Final = 120_000  # how long a starting process waits for another's migration
_USAGE: Final = "audit_events_usage"
_USAGE_BUILT: Final = "usage_aggregates"  # gateway.audit's marker: aggregates built


def alembic_config(versions: Path | None = None) -> Config:
    """The Alembic configuration, in code: the packaged script location, numbered revision
    files (``NNNN_slug.py``). No ini file is read. ``versions``: a folder of revisions read
    besides the packaged ones, where a new revision is written (tests)."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if versions is not None:
        packaged = Path(__file__).parent / "migrations" / "versions"
        config.set_main_option("version_locations", f"{packaged} {versions}")
        config.set_main_option("path_separator", "space")
    return config


@functools.cache
def scripts() -> ScriptDirectory:
    """The packaged revisions, read once per process (every start asks for the head)."""
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The one head revision. SchemaError when there are several (two revisions written on
    the same parent, e.g. by two branches merged): renumber one onto the other."""
    heads = scripts().get_heads()
    if len(heads) != 1:
        raise SchemaError(
            f"the migrations have {len(heads)} heads ({', '.join(sorted(heads))}): set one's "
            "down_revision to the other (gateway/migrations/README.md)",
            revision=None,
            head=None,
        )
    return heads[0]


def platform_metadata() -> sa.MetaData:
    """``Base.metadata`` with every platform table declared (each model module imported)."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
    from gateway.platform import Base

    return Base.metadata


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands: ``revision`` stored (None: no ``alembic_version`` row),
    ``tables`` of the baseline present, ``head`` the code's revision."""

    revision: str | None
    tables: frozenset[str]
    head: str

    @property
    def at_head(self) -> bool:
        return self.revision == self.head

    @property
    def empty(self) -> bool:
        return self.revision is None and not self.tables

    @property
    def legacy(self) -> bool:
        """Made before migrations: platform tables, no revision."""
        return self.revision is None and bool(self.tables)

    def known(self) -> bool:
        """The stored revision is one of this version's (False: a newer version's)."""
        if self.revision is None:
            return True
        try:
            return scripts().get_revision(self.revision) is not None
        except CommandError:
            return False

    def describe(self) -> str:
        if self.empty:
            return "empty (no platform tables)"
        if self.legacy:
            return "made before migrations (no revision stored)"
        return f"at revision {self.revision}"


async def read_state(engine: AsyncEngine) -> SchemaState:
    async with engine.connect() as conn:
        return await conn.run_sync(_state)


def _state(conn: sa.Connection) -> SchemaState:
    revision = MigrationContext.configure(conn).get_current_revision()
    from gateway.migrations.baseline import baseline_metadata

    present = set(sa.inspect(conn).get_table_names()) & set(baseline_metadata().tables)
    return SchemaState(revision, frozenset(present), head())


async def prepare(engine: AsyncEngine, *, auto_upgrade: bool = False) -> None:
    """Bring the platform database to the head revision as a start may (module docstring),
    else raise SchemaError saying what to run."""
    state = await read_state(engine)
    if state.at_head:
        return
    safe = shown_url(engine.url)
    if not state.known():
        raise _ahead(safe, state)
    if engine.dialect.name == "sqlite" or state.empty or auto_upgrade:
        _, after = await upgrade(engine)
        log.warning("platform database %s, %s, upgraded to %s", safe, state.describe(), after)
        return
    raise SchemaError(
        f"the platform database {safe} is {state.describe()}; this version needs revision "
        f"{state.head}: run `{UPGRADE_COMMAND}` (with the same GOVSHARE_DATABASE_URL) after a "
        f"backup, or set {AUTO_UPGRADE_VARIABLE}=1 to upgrade on start",
        revision=state.revision,
        head=state.head,
    )


def _ahead(safe: str, state: SchemaState) -> SchemaError:
    return SchemaError(
        f"the platform database {safe} is at revision {state.revision}, which this version of "
        f"govshare does not know (its newest is {state.head}): a newer version upgraded it; run "
        "that version, or restore the backup taken before the upgrade",
        revision=state.revision,
        head=state.head,
    )


async def upgrade(engine: AsyncEngine, target: str = "head") -> tuple[str | None, str | None]:
    """Upgrade to ``target`` (a revision id, or "head") in ONE locked transaction, adopting a
    database made before migrations first. Returns (revision before, revision after).
    SchemaError: unknown target, a target behind the stored revision, a newer database, or
    a pre-migration database whose shape is not the baseline's."""
    async with engine.connect() as conn:
        await _lock(conn)
        result = await conn.run_sync(_upgrade, target)
        await conn.commit()
    return result


async def _lock(conn: AsyncConnection) -> None:
    """Take the migration lock for this connection's transaction (module docstring)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
    elif conn.dialect.name == "sqlite":
        await conn.exec_driver_sql(f"PRAGMA busy_timeout = {_SQLITE_BUSY_MS}")
        await conn.exec_driver_sql("BEGIN IMMEDIATE")  # pysqlite would begin only at the first DML


def _upgrade(conn: sa.Connection, target: str) -> tuple[str | None, str | None]:
    state = _state(conn)
    if not state.known():
        raise _ahead(shown_url(conn.engine.url), state)
    if state.legacy:
        _adopt(conn)
    config = alembic_config()
    config.attributes["connection"] = conn
    try:
        command.upgrade(config, target)
    except CommandError as exc:
        raise SchemaError(
            f"cannot upgrade to {target!r}: {exc}; `govshare db history` lists the revisions",
            revision=state.revision,
            head=state.head,
        ) from exc
    return state.revision, MigrationContext.configure(conn).get_current_revision()


def _adopt(conn: sa.Connection) -> None:
    """Complete a pre-migration database to the baseline, check it, stamp it (docstring)."""
    from gateway.migrations.baseline import baseline_metadata

    baseline = baseline_metadata()
    _drop_old_usage(conn, baseline.tables[_USAGE])
    baseline.create_all(conn, checkfirst=True)
    inspector = sa.inspect(conn)
    for table in baseline.sorted_tables:
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        columns |= _add_columns(conn, table, columns)
        present = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:  # on a missing NOT NULL column: reported below instead
            if index.name not in present and {column.name for column in index.columns} <= columns:
                index.create(conn)
    differences = schema_differences(conn, baseline)
    if differences:
        raise SchemaError(
            "the platform database was made before migrations but is not a shape any version of "
            f"govshare made, so it is left unchanged: {'; '.join(differences)}",
            revision=None,
            head=BASELINE,
        )
    MigrationContext.configure(conn).stamp(scripts(), BASELINE)
    log.warning("platform database made before migrations adopted at revision %s", BASELINE)


def _add_columns(conn: sa.Connection, table: sa.Table, present: set[str]) -> set[str]:
    """What the additive start-up did: ``ADD COLUMN`` for each missing nullable column (a
    missing NOT NULL column has no value for the stored rows: compare_metadata reports it).
    Returns the names added."""
    quote = conn.dialect.identifier_preparer.quote
    added = {column.name for column in table.columns if column.name not in present and column.nullable}
    for name in sorted(added):
        kind = table.columns[name].type.compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(name)} {kind}"))
    return added


def _drop_old_usage(conn: sa.Connection, usage: sa.Table) -> None:
    """Usage aggregates of another shape are dropped, and their 'built' marker with them, so
    the next ``AuditLog.start`` rebuilds them from the events (gateway.audit)."""
    inspector = sa.inspect(conn)
    if not inspector.has_table(usage.name):
        return
    if {column["name"] for column in inspector.get_columns(usage.name)} == set(usage.columns.keys()):
        return
    usage.drop(conn)
    if inspector.has_table("audit_events_meta"):
        conn.execute(sa.text("DELETE FROM audit_events_meta WHERE key = :key"), {"key": _USAGE_BUILT})
    log.warning("usage aggregates of an older shape dropped: the audit log rebuilds them at start")


def schema_differences(conn: sa.Connection, metadata: sa.MetaData) -> list[str]:
    """What Alembic's autogenerate finds between the database and ``metadata``, for the
    tables ``metadata`` declares (other tables, and the version table, are ignored); empty
    when they agree. Each difference is one readable line."""
    wanted = set(metadata.tables)

    def include(name: str | None, kind: str, _parent: Any) -> bool:
        return kind != "table" or name in wanted

    context = MigrationContext.configure(conn, opts={"include_name": include, "compare_type": True})
    return [_describe(diff) for diff in compare_metadata(context, metadata)]


def _describe(diff: Any) -> str:
    """One compare_metadata difference in words (database first, then govshare's metadata)."""
    if isinstance(diff, list):  # column modifications come grouped per column
        return ", ".join(_describe(part) for part in diff)
    action, *details = diff
    if action.startswith("modify_"):  # (action, schema, table, column, existing, old, new)
        _, table, column, _, found, wanted = details
        return f"column {table}.{column}: {action[7:]} is {found}, govshare's is {wanted}"
    item = details[-1]
    name = f"{item.table.name}.{item.name}" if isinstance(item, sa.Column) else getattr(item, "name", item)
    change, _, kind = action.partition("_")  # add_table, remove_column, add_index ...
    return f"{kind} {name} " + ("missing" if change == "add" else "is not govshare's")


def shown_url(url: str | sa.URL) -> str:
    """A database URL as errors and logs may show it: the password as ``***`` (SQLAlchemy's
    ``render_as_string(hide_password=True)``). Text that is not a URL is shown as it is when
    it holds no ``@`` (no credentials), else as ``***``."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return str(url) if "@" not in str(url) else "***"


# --- what the command line runs (gateway.cli_db) --------------------------------------


async def upgrade_url(url: str, target: str = "head") -> tuple[str | None, str | None]:
    engine = create_async_engine(url)
    try:
        return await upgrade(engine, target)
    finally:
        await engine.dispose()


async def state_of(url: str) -> SchemaState:
    engine = create_async_engine(url)
    try:
        return await read_state(engine)
    finally:
        await engine.dispose()


def history() -> list[tuple[str, str | None, str]]:
    """Every revision, newest first: (id, parent id, message)."""
    return [(str(s.revision), _parent(s.down_revision), s.doc or "") for s in scripts().walk_revisions()]


def _parent(down: str | Sequence[str] | None) -> str | None:
    return down if down is None or isinstance(down, str) else ",".join(down)


async def new_revision(message: str, workdir: Path, versions: Path | None = None) -> Path:
    """Write the next numbered revision file, its operations autogenerated from the models'
    difference with the head (a scratch SQLite database in ``workdir`` is upgraded to the
    head to compare against). Returns the file's path; a developer reviews it before use.
    ``versions``: write it there instead of the package's versions folder (tests)."""
    url = f"sqlite+aiosqlite:///{workdir}/scratch.db"
    await upgrade_url(url)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            path = await conn.run_sync(_write_revision, message, versions)
    finally:
        await engine.dispose()
    return path


_RUFF_HOOKS: Final = {
    "hooks": "ruff_fix, ruff_format",
    "ruff_fix.type": "exec",
    "ruff_fix.executable": "ruff",
    "ruff_fix.options": "check --fix --quiet REVISION_SCRIPT_FILENAME",
    "ruff_format.type": "exec",
    "ruff_format.executable": "ruff",
    "ruff_format.options": "format --quiet REVISION_SCRIPT_FILENAME",
}


def _write_revision(conn: sa.Connection, message: str, versions: Path | None) -> Path:
    config = alembic_config(versions)
    config.attributes["connection"] = conn
    for option, value in _RUFF_HOOKS.items():  # the new file as the project's style wants it
        config.set_section_option("post_write_hooks", option, value)
    number = max(int(rev) for rev, _, _ in history()) + 1
    script = command.revision(
        config, message, autogenerate=True, rev_id=f"{number:04d}", version_path=versions
    )
    if script is None or isinstance(script, list):
        raise SchemaError("alembic wrote no single revision", revision=None, head=None)
    return Path(script.path)
