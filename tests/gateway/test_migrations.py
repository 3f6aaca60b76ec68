"""Alembic migrations of the platform database (gateway.dbschema, gateway/migrations).

The data folders and databases made before migrations are the dumps under
tests/data/migrations/: written by commit 7133902's own code (make_legacy.py there: the demo,
GraphQL reads answered and refused, an application, an objection, a change notice, an OAuth
client, a grant added and revoked; 14 audit events on three chains). Each test loads one into
a new database, upgrades it as a user would, and checks that every row is still there, the
audit chain verifies and the gateway serves from it. PostgreSQL runs when
GOVSHARE_TEST_POSTGRES_URL is set, on a database of these tests' own made afresh per test.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from errors import SchemaError
from gateway import cli, dbschema
from gateway.app import Gateway, create_app
from gateway.audit import AuditLog, verify_chain
from gateway.demo import DRC, GRANT_PURPOSE, HOUSING, build_demo, demo_tokens, organization_codes
from gateway.migrations.baseline import baseline_metadata
from gateway.platform import PlatformDB
from gateway.settings import Settings
from tests.conftest import TESTS, postgres_url_or_skip, run_cli

DUMPS = TESTS / "data" / "migrations"
LEGACY_EVENTS = 14  # audit events in each dump
LEGACY_GRANTS = 43
ORGANIZATIONS = 30  # the dumps' demo size (its organization codes are deterministic)
LEGAL = (
    "query O($code: USCC!) { organization(code: $code) { enterpriseRegistration { legalRepresentative } } }"
)


# --- databases -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's departments and catalog, as the dumps' data folder had them."""
    folder = tmp_path_factory.mktemp("demo")
    build_demo(folder, organizations=ORGANIZATIONS, persons=10)
    (folder / "platform.db").unlink()  # the demo's own; each test loads a dump instead
    return folder


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def folder(demo_folder: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(demo_folder, data)
    return data


@pytest.fixture
def url(backend: str, folder: Path) -> Iterator[str]:
    """An empty platform database of ``backend`` (the data folder's own file on SQLite)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder}/platform.db"
        return
    yield asyncio.run(_fresh_postgres(postgres_url_or_skip()))


async def _fresh_postgres(server: str, suffix: str = "migrations") -> str:
    own = sa.make_url(server).set(database=f"{sa.make_url(server).database}_{suffix}")
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
            await conn.execute(sa.text(f'CREATE DATABASE "{own.database}"'))
    finally:
        await admin.dispose()
    return own.render_as_string(hide_password=False)


def load_dump(url: str) -> None:
    """Load the 7133902 dump of the URL's backend into its (empty) database."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        script = (DUMPS / "platform-7133902.sqlite.sql").read_text(encoding="utf-8")
        with sqlite3.connect(str(parsed.database)) as db:
            db.executescript(script)
        return
    asyncio.run(_load_postgres(parsed, (DUMPS / "platform-7133902.postgresql.sql").read_text("utf-8")))


async def _load_postgres(parsed: sa.URL, script: str) -> None:
    conn = await asyncpg.connect(parsed.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        await conn.execute(script)
    finally:
        await conn.close()


async def _with_engine(url: str, work: Any) -> Any:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(work)
    finally:
        await engine.dispose()


def run(url: str, work: Any) -> Any:
    """``work(sync_connection)`` on the database at ``url``."""
    return asyncio.run(_with_engine(url, work))


def rows(conn: sa.Connection) -> dict[str, list[str]]:
    """Every row of every baseline table, as sorted reprs (types as the driver reads them)."""
    found = sa.MetaData()
    found.reflect(
        conn, only=sorted(set(baseline_metadata().tables) & set(sa.inspect(conn).get_table_names()))
    )
    return {
        name: sorted(repr(tuple(row)) for row in conn.execute(sa.select(table)))
        for name, table in found.tables.items()
    }


def shape(conn: sa.Connection) -> dict[str, Any]:
    """Tables with their columns (name, type, nullable), indexes, unique constraints and keys."""
    inspector = sa.inspect(conn)
    tables = sorted(set(inspector.get_table_names()) - {dbschema.VERSION_TABLE})
    return {
        name: (
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)],
            sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(name)
            ),
            sorted((u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(name)),
            inspector.get_pk_constraint(name)["constrained_columns"],
        )
        for name in tables
    }


def revision(conn: sa.Connection) -> str | None:
    from alembic.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def differences(conn: sa.Connection) -> list[str]:
    return dbschema.schema_differences(conn, dbschema.platform_metadata())


def cli_env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """``govshare`` (``run_cli``'s child processes, ``in_process``) uses ``url`` as the platform
    database."""
    monkeypatch.setenv("GOVSHARE_DATABASE_URL", url)


def in_process(capsys: pytest.CaptureFixture[str], folder: Path, *args: str) -> tuple[int, str, str]:
    """``govshare ARGS --data FOLDER`` in this process (cheaper than a child process on a
    busy machine; one test per behaviour also runs it as a child): exit code, stdout, stderr."""
    capsys.readouterr()
    code = cli.main([*args, "--data", str(folder)])
    out, err = capsys.readouterr()
    return code, out, err


# --- the baseline is today's schema --------------------------------------------------


def test_the_baseline_makes_the_schema_create_all_made(url: str) -> None:
    """A fresh upgrade gives, table by table, the columns, types, indexes, constraints and keys
    of the database 7133902's create_all made (the dump), on each backend."""
    load_dump(url)
    legacy = run(url, shape)
    if url.startswith("postgresql"):
        fresh = asyncio.run(_fresh_postgres(postgres_url_or_skip(), "migrations_fresh"))
    else:
        fresh = url.replace("platform.db", "fresh.db")
    asyncio.run(dbschema.upgrade_url(fresh, dbschema.BASELINE))  # later revisions add to it
    assert run(fresh, shape) == legacy
    assert run(fresh, revision) == dbschema.BASELINE


def test_the_head_matches_the_models(url: str) -> None:
    """A model changed without a revision fails here: autogenerate finds the difference."""
    asyncio.run(dbschema.upgrade_url(url))
    assert run(url, differences) == []


def test_one_head_and_numbered_revisions() -> None:
    history = dbschema.history()
    assert [rev for rev, _, _ in history] == [f"{n:04d}" for n in range(len(history), 0, -1)]
    assert [parent for _, parent, _ in history] == [
        *(f"{n:04d}" for n in range(len(history) - 1, 0, -1)),
        None,
    ]
    assert dbschema.head() == history[0][0]


# --- upgrading a database made before migrations -------------------------------------


def test_upgrade_keeps_every_row_and_the_audit_chain(
    url: str, folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    load_dump(url)
    before = run(url, rows)
    assert len(before["grants"]) == LEGACY_GRANTS and len(before["audit_events"]) == LEGACY_EVENTS
    cli_env(monkeypatch, url)
    assert "made before migrations" in in_process(capsys, folder, "db", "current")[1]
    upgraded = run_cli(folder, "db", "upgrade")  # as the operator runs it
    assert f"to {dbschema.head()}" in upgraded.stdout
    assert run(url, rows) == before
    assert run(url, revision) == dbschema.head()
    assert run(url, differences) == []
    assert in_process(capsys, folder, "audit", "verify") == (0, f"ok: {LEGACY_EVENTS} events verified\n", "")
    assert in_process(capsys, folder, "db", "current") == (0, f"{dbschema.head()} (head)\n", "")
    assert "already at" in in_process(capsys, folder, "db", "upgrade")[1]  # a second one changes nothing
    assert run(url, rows) == before


SUBMIT = """mutation Submit($application: ApplicationInput!) {
  submitApplication(application: $application) { id status consumer }
}"""
APPLICATION = {
    "resource": "amr.enterprise_registration",
    "items": ["address"],
    "purpose": "住房保障资格审核",
    "scopeOfKnowledge": "住房保障科审核人员",
    "securityMeasures": "政务外网专线，调用留痕",
    "legalBasis": "《公共租赁住房管理办法》第八条",
    "validUntil": "2036-01-01T00:00:00+08:00",
    "modes": ["QUERY"],
}


async def _serve(settings: Settings, code: str) -> dict[str, Any]:
    """Start the gateway on the settings' data folder, read as DRC (the dump's conditional
    grant) and as HOUSING (none), apply as HOUSING (a new application event: PostgreSQL's
    sequence continues after the stored ones); the answers."""
    gateway = await Gateway.start(settings)
    app = create_app(settings, gateway)
    app.state.gateway = gateway
    tokens = demo_tokens(settings)
    answers: dict[str, Any] = {}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            for who, sent in (
                ("consumer_with_grant", {"query": LEGAL, "variables": {"code": code}}),
                ("consumer", {"query": LEGAL, "variables": {"code": code}}),
                ("application", {"query": SUBMIT, "variables": {"application": APPLICATION}}),
            ):
                token = tokens["consumer" if who == "application" else who]
                headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(GRANT_PURPOSE),
                           "X-Voucher": "off"}  # fmt: skip
                answers[who] = (await client.post("/graphql", json=sent, headers=headers)).json()
    finally:
        await gateway.close()
    return answers


def test_the_gateway_serves_an_upgraded_database(url: str, folder: Path) -> None:
    """Start (SQLite: upgrading itself; PostgreSQL: after GOVSHARE_DB_AUTO_UPGRADE) serves the
    stored grants; what it audits continues the stored chains."""
    load_dump(url)
    before = run(url, rows)
    code = organization_codes(ORGANIZATIONS)[0]
    settings = Settings.load({"GOVSHARE_DB_AUTO_UPGRADE": "on"}, data=str(folder), database_url=url)
    answers = asyncio.run(_serve(settings, code))
    granted = answers["consumer_with_grant"]
    assert "errors" not in granted, granted
    assert granted["data"]["organization"]["enterpriseRegistration"]["legalRepresentative"]
    refused = answers["consumer"]
    assert refused["data"]["organization"]["enterpriseRegistration"]["legalRepresentative"] is None
    assert refused["errors"][0]["extensions"]["code"] == "CONDITIONAL_ACCESS_REQUIRED"
    assert answers["application"]["data"]["submitApplication"]["consumer"] == HOUSING.code
    after = run(url, rows)
    assert set(before["application_events"]) < set(after["application_events"])
    assert set(before["grants"]) == set(after["grants"])
    checked = asyncio.run(verify_chain(url))
    assert checked.ok and checked.checked > LEGACY_EVENTS  # the new reads appended to the chain


def test_postgresql_start_refuses_a_database_behind_and_names_the_command(folder: Path) -> None:
    url = asyncio.run(_fresh_postgres(postgres_url_or_skip()))
    load_dump(url)
    before = run(url, rows)
    settings = Settings.load({}, data=str(folder), database_url=url)
    with pytest.raises(SchemaError, match=r"run `govshare db upgrade`.*GOVSHARE_DB_AUTO_UPGRADE=1"):
        asyncio.run(Gateway.start(settings))
    assert run(url, revision) is None and run(url, rows) == before  # nothing changed


def test_postgresql_start_creates_an_empty_database() -> None:
    url = asyncio.run(_fresh_postgres(postgres_url_or_skip()))

    async def start() -> None:
        platform = PlatformDB(url)
        await platform.create_schema()
        assert await platform.all_grants() == []
        await platform.close()

    asyncio.run(start())
    assert run(url, revision) == dbschema.head()


# --- older shapes: what the additive start-up added over time ------------------------


def _as_of_2026_11_21(conn: sa.Connection) -> None:
    """The shape of a data folder from the first commits (git history of gateway/platform.py):
    grants without conditions and application, no audit order index, none of the later tables."""
    for table in ("objection_events", "objections", "onboarding", "change_notices", "change_source_stamps"):
        conn.execute(sa.text(f"DROP TABLE {table}"))
    conn.execute(sa.text("DROP INDEX ix_audit_events_order"))
    for column in ("conditions", "application"):
        conn.execute(sa.text(f"ALTER TABLE grants DROP COLUMN {column}"))
    conn.commit()


def _old_usage_shape(conn: sa.Connection) -> None:
    """audit_events_usage as commit 5f33c36 made it (hour key, other counters)."""
    conn.execute(sa.text("DROP TABLE audit_events_usage"))
    conn.execute(sa.text(
        "CREATE TABLE audit_events_usage (span SMALLINT NOT NULL, bucket BIGINT NOT NULL, key TEXT NOT NULL, "
        "mode TEXT NOT NULL, consumer TEXT NOT NULL, resources TEXT NOT NULL, calls BIGINT NOT NULL, "
        "refused TEXT NOT NULL, unavailable TEXT NOT NULL, PRIMARY KEY (span, bucket, key))"
    ))  # fmt: skip
    conn.execute(
        sa.text("INSERT INTO audit_events_usage VALUES (0, 1, 'k', 'query', '', '[]', 3, '{}', '{}')")
    )
    conn.commit()


def test_a_data_folder_from_the_first_commits_upgrades_without_loss(url: str) -> None:
    load_dump(url)
    run(url, _as_of_2026_11_21)
    kept = {name: found for name, found in run(url, rows).items() if name != "grants"}
    asyncio.run(dbschema.upgrade_url(url))
    assert run(url, differences) == []
    after = run(url, rows)
    assert {name: after[name] for name in kept} == kept
    assert after["objections"] == [] and after["change_notices"] == []  # made, empty

    async def grants() -> list[Any]:
        platform = PlatformDB(url)
        try:
            return await platform.grants_for(DRC.code)
        finally:
            await platform.close()

    drc = asyncio.run(grants())
    assert drc and all(grant.conditions.daily_cap is None for grant in drc)  # no conditions stored: none


def test_usage_aggregates_of_an_old_shape_are_rebuilt_from_the_trail(url: str, folder: Path) -> None:
    load_dump(url)
    usage = run(url, rows)["audit_events_usage"]
    run(url, _old_usage_shape)
    asyncio.run(dbschema.upgrade_url(url))
    assert run(url, rows)["audit_events_usage"] == []

    async def start_audit() -> None:
        async with AuditLog(url, instance="cli"):  # owners: those the gateway stored
            pass

    asyncio.run(start_audit())
    assert run(url, rows)["audit_events_usage"] == usage  # recounted from the 14 events


# --- refusals: nothing changes --------------------------------------------------------


def _unknown_shape(conn: sa.Connection) -> None:
    conn.execute(sa.text("ALTER TABLE oauth_clients ADD COLUMN pet_name TEXT NOT NULL DEFAULT 'x'"))
    conn.commit()


def test_a_pre_migration_database_of_unknown_shape_is_refused_unchanged(url: str) -> None:
    load_dump(url)
    run(url, lambda conn: (conn.execute(sa.text("DROP TABLE onboarding")), conn.commit()))
    run(url, _unknown_shape)
    before, tables = run(url, rows), run(url, shape)
    with pytest.raises(
        SchemaError, match=r"govshare made, .*: column oauth_clients\.pet_name is not govshare's"
    ):
        asyncio.run(dbschema.upgrade_url(url))
    assert run(url, shape) == tables  # onboarding NOT created: the adoption rolled back
    assert run(url, rows) == before and run(url, revision) is None


async def _create_schema(url: str) -> None:
    platform = PlatformDB(url)
    try:
        await platform.create_schema(auto_upgrade=True)
    finally:
        await platform.close()


def _stamp_future(conn: sa.Connection) -> None:
    conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    conn.commit()


def test_a_database_from_a_newer_version_is_refused(
    url: str, folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(dbschema.upgrade_url(url))
    run(url, _stamp_future)
    with pytest.raises(SchemaError, match="revision 9999, which this version of govshare does not know"):
        asyncio.run(_create_schema(url))
    cli_env(monkeypatch, url)
    code, _, err = in_process(capsys, folder, "db", "upgrade")
    assert code == 2 and "does not know" in err
    assert run(url, revision) == "9999"
    code, out, _ = in_process(capsys, folder, "db", "current")  # no advice to run the upgrade refused above
    assert code == 1 and "unknown to this version" in out and "db upgrade" not in out and "newer" in out


def test_upgrade_to_an_unknown_revision_names_the_history(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{folder}/platform.db"
    asyncio.run(dbschema.upgrade_url(url))
    cli_env(monkeypatch, url)
    code, _, err = in_process(capsys, folder, "db", "upgrade", "--to", "0042")
    assert code == 2 and "cannot upgrade to '0042'" in err and "govshare db history" in err
    assert "<base> -> 0001  Baseline" in in_process(capsys, folder, "db", "history")[1]


# --- concurrency: processes starting together migrate once ---------------------------


async def _prepare_together(url: str, count: int) -> None:
    engines: list[AsyncEngine] = [create_async_engine(url) for _ in range(count)]
    try:
        await asyncio.gather(*(dbschema.prepare(engine, auto_upgrade=True) for engine in engines))
    finally:
        for engine in engines:
            await engine.dispose()


def test_starts_at_the_same_moment_migrate_once(url: str) -> None:
    load_dump(url)
    before = run(url, rows)
    asyncio.run(_prepare_together(url, 4))
    assert run(url, revision) == dbschema.head()
    assert run(url, rows) == before


# --- the developers' command ----------------------------------------------------------


@pytest.fixture
def scratch_table() -> Iterator[sa.Table]:
    from gateway.platform import UTCDateTime

    metadata = dbschema.platform_metadata()
    table = sa.Table(
        "scratch_notes",
        metadata,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Index("ix_scratch_notes_at", "at"),
    )
    yield table
    metadata.remove(table)


def test_db_revision_writes_the_next_numbered_revision(scratch_table: sa.Table, tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    path = asyncio.run(dbschema.new_revision("add scratch notes", tmp_path, versions))
    head = int(dbschema.head())
    assert path.name == f"{head + 1:04d}_add_scratch_notes.py"
    text = path.read_text()
    assert f'down_revision: str | Sequence[str] | None = "{head:04d}"' in text
    assert 'op.create_table(\n        "scratch_notes"' in text
    assert "sa.DateTime(timezone=True)" in text and "gateway." not in text  # no model import
    assert 'batch_op.create_index("ix_scratch_notes_at"' in text


def test_a_model_change_without_a_revision_is_found(url: str, scratch_table: sa.Table) -> None:
    """What makes test_the_head_matches_the_models fail when a model changes alone."""
    asyncio.run(dbschema.upgrade_url(url))
    assert run(url, differences) == ["table scratch_notes missing", "index ix_scratch_notes_at missing"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+asyncpg://gov:s3cret@db.internal:5432/platform",
            "postgresql+asyncpg://gov:***@db.internal:5432/platform",
        ),
        ("postgresql+asyncpg://gov@db.internal/platform", "postgresql+asyncpg://gov@db.internal/platform"),
        ("sqlite+aiosqlite:////srv/govshare/platform.db", "sqlite+aiosqlite:////srv/govshare/platform.db"),
        ("redis://:s3cret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("not a url but gov:s3cret@host", "***"),  # unparsable with credentials: nothing of it
        ("not a url", "not a url"),
    ],
)
def test_a_database_url_is_shown_without_its_password(url: str, shown: str) -> None:
    """Errors and logs name the database (gateway.dbschema.shown_url), never its password."""
    assert dbschema.shown_url(url) == shown
    assert "s3cret" not in dbschema.shown_url(sa.make_url(url) if "://" in url else url)
