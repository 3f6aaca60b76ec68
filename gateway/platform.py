"""The platform database: grants now; applications, audit and clients as they land.

Its schema is kept by Alembic revisions (gateway.dbschema, gateway/migrations).

SQLite in the data folder by default (``sqlite+aiosqlite:///DATA/platform.db``);
any SQLAlchemy async URL works, PostgreSQL (``postgresql+asyncpg://...``) included.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from connectors.sqlite_thread import sqlite_file
from errors import BadRequest, ConfigurationError
from gateway import dbschema
from gateway.sqlite_turn import write_turn
from policies.catalog import Mask
from policies.chinatime import as_utc, utc_now
from policies.decision import Grant, GrantConditions, canonical_purpose
from policies.share import Mode


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """An instant stored as UTC and read back aware (UTC), on every database.

    The column is ``TIMESTAMP WITH TIME ZONE`` (PostgreSQL ``timestamptz``; SQLite has no such
    type and SQLAlchemy stores the wall clock of the datetime it is given, dropping the
    offset). Converting to UTC here, before either sees the value, makes both store the same
    instant (rule: :mod:`policies.chinatime`; a naive value is China time). Values read back
    naive, as SQLite gives them, are UTC: this decorator wrote them, and so did every earlier
    version for the instants it took itself (``now`` in UTC). Every ``DateTime`` column of the
    platform database (grants, applications, clients, audit) uses this type."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    pass


class GrantRow(Base):
    __tablename__ = "grants"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    consumer: Mapped[str] = mapped_column(sa.String(18), index=True)
    resource: Mapped[str] = mapped_column(sa.String(128))
    items: Mapped[list[str]] = mapped_column(sa.JSON)
    modes: Mapped[list[str]] = mapped_column(sa.JSON)
    purpose: Mapped[str] = mapped_column(sa.Text)
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    conditions: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    application: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)

    def to_grant(self) -> Grant:
        return Grant(
            id=self.id,
            consumer=self.consumer,
            resource=self.resource,
            items=frozenset(self.items),
            modes=frozenset(Mode(m) for m in self.modes),
            purpose=self.purpose,
            valid_from=aware(self.valid_from),
            valid_until=aware(self.valid_until),
            revoked=self.revoked_at is not None,
            conditions=conditions_from_json(self.conditions or {}),
            application=self.application,
        )


class GrantGeneration(Base):
    """One row per generation: ``GRANTS`` (1), whose ``value`` grows in every transaction that
    adds or changes a grant (``PlatformDB`` bumps it before the flush, in the same transaction):
    a gateway process caching grants (``gateway.grant_cache``) reloads when it changed, so a
    revocation made by any process is seen by every process on its next request. ``CATALOG``
    (2) is the published catalog's generation, bumped the same way by every publication,
    withdrawal and import (``gateway.catalog_store``): both are read in one statement per
    event-loop tick (``PlatformDB.generations``; gateway.catalog_follow).

    A bump sets ``max(value + 1, now in microseconds since the epoch)`` and a row made again
    starts at now (:func:`generation_floor`): counting on by one from a value set back (the
    database restored from an older backup, the row deleted and made again) would meet a
    number a running worker cached under, and that worker would serve what it held then (a
    revoked grant, a withdrawn item)."""

    __tablename__ = "grant_generation"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger)


GRANTS, CATALOG = 1, 2  # the rows of GrantGeneration


@dataclass(frozen=True)
class Generations:
    """What one read of ``GrantGeneration`` gives: the grants' and the published catalog's
    generations (None: the row is not there yet)."""

    grants: int | None
    catalog: int | None


class GenerationFile:
    """The generations of a SQLite platform database read in the event loop's own thread.

    Every request reads them (``gateway.grant_cache``: once per event-loop tick). Through
    aiosqlite one read is five hand-overs to its connection thread and back (check out,
    execute, fetch, close, the pool's rollback), which made the read the costliest part of a
    cached request's database work with ``serve --workers 2``, where each worker's ticks
    hold half the requests. Here it is one ``sqlite3`` primary-key read of a two-row table on
    a connection of its own (~10 µs): in WAL mode a reader never waits for a writer, and each
    statement outside a transaction reads the latest commit, which is what the callers need
    (a revocation committed before a request arrived is seen). Own code: the hot path;
    PostgreSQL keeps asyncpg, which has no thread to hand over to."""

    _SELECT = f"SELECT id, value FROM {GrantGeneration.__tablename__} WHERE id IN ({GRANTS}, {CATALOG})"

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None

    @classmethod
    def of(cls, engine: AsyncEngine) -> GenerationFile | None:
        """For a SQLite file database; None for PostgreSQL and in-memory SQLite."""
        database = sqlite_file(engine.url)
        return cls(str(database)) if database is not None else None

    def read(self) -> Generations:
        """Raises ``sqlalchemy.exc.OperationalError`` when the file cannot be read, as the
        engine's read would (callers fail closed on it)."""
        try:
            if self._conn is None:
                self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
                self._conn.execute(f"PRAGMA busy_timeout={SQLITE_READ_BUSY_MS}")
            found = dict(self._conn.execute(self._SELECT).fetchall())
        except sqlite3.Error as exc:
            raise sa.exc.OperationalError(self._SELECT, None, exc) from exc
        return Generations(found.get(GRANTS), found.get(CATALOG))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class GrantUsage(Base):
    """Distinct subjects read through a capped grant, per day (China time)."""

    __tablename__ = "grant_usage"

    grant: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    day: Mapped[dt.date] = mapped_column(sa.Date, primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(18), primary_key=True)


def conditions_to_json(conditions: GrantConditions) -> dict[str, Any]:
    masks = {k: {"keep_first": m.keep_first, "keep_last": m.keep_last} for k, m in conditions.masks.items()}
    return {"regions": list(conditions.regions), "masks": masks, "daily_cap": conditions.daily_cap}


def conditions_from_json(raw: dict[str, Any]) -> GrantConditions:
    masks = {
        k: Mask(int(m.get("keep_first", 0)), int(m.get("keep_last", 0)))
        for k, m in raw.get("masks", {}).items()
    }
    cap = raw.get("daily_cap")
    return GrantConditions(tuple(raw.get("regions") or ()), masks, int(cap) if cap is not None else None)


def aware(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC, aware: the rule of :func:`policies.chinatime.as_utc` (naive = China
    time). Rows read through :class:`UTCDateTime` are aware UTC already."""
    return as_utc(moment)


def json_text(value: Any) -> str:
    """JSON columns are written with orjson: the json module costs several times more."""
    return orjson.dumps(value).decode()


def default_url(data_dir: str) -> str:
    return f"sqlite+aiosqlite:///{data_dir}/platform.db"


class PlatformDB:
    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_async_engine(url, json_serializer=json_text)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine.sync_engine, "connect", _sqlite_shared)
        self.session = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=PlatformSession
        )
        self._cap_lock = asyncio.Lock()  # one instance admits one subject at a time
        self._generation = sa.select(GrantGeneration.value).where(GrantGeneration.id == GRANTS)
        rows = GrantGeneration.id.in_((GRANTS, CATALOG))
        self._generations = sa.select(GrantGeneration.id, GrantGeneration.value).where(rows)
        self._generation_file = GenerationFile.of(self.engine)  # SQLite: read in the loop thread

    async def create_schema(self, *, auto_upgrade: bool = False) -> None:
        """Bring the schema to this version's Alembic head revision, as a start may: always on
        SQLite, on PostgreSQL only when empty or with ``auto_upgrade``
        (``GOVSHARE_DB_AUTO_UPGRADE``); else errors.SchemaError naming ``govshare db upgrade``
        (gateway.dbschema). A database that cannot be reached: ``ConfigurationError`` naming
        it (password hidden) and GOVSHARE_DATABASE_URL, one line for every command and
        worker rather than the driver's traceback."""
        try:
            await dbschema.prepare(self.engine, auto_upgrade=auto_upgrade)
            await self._seed_generation()
        except (OSError, sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            where = dbschema.shown_url(self.engine.url)
            raise ConfigurationError(
                f"the platform database {where} cannot be reached ({type(exc).__name__}): start it, "
                "or fix GOVSHARE_DATABASE_URL"
            ) from exc

    async def _seed_generation(self) -> None:
        """The generation rows, made once; workers starting together may race to make them."""
        for row in (GRANTS, CATALOG):
            try:
                async with self.engine.begin() as conn:
                    found = sa.select(GrantGeneration.value).where(GrantGeneration.id == row)
                    if await conn.scalar(found) is None:
                        made = sa.insert(GrantGeneration).values(id=row, value=generation_floor())
                        await conn.execute(made)
            except sa.exc.IntegrityError:
                pass  # another process made it first

    async def grants_generation(self) -> int | None:
        """The grants' generation (``GrantGeneration``): one primary-key read, no ORM."""
        async with self.engine.connect() as conn:
            return await conn.scalar(self._generation)

    async def generations(self) -> Generations:
        """The grants' and the catalog's generations in ONE primary-key read, no ORM: what
        each event-loop tick of a serving process reads (gateway.grant_cache)."""
        if self._generation_file is not None:
            return self._generation_file.read()
        async with self.engine.connect() as conn:
            found = {row: value for row, value in (await conn.execute(self._generations)).all()}
        return Generations(found.get(GRANTS), found.get(CATALOG))

    async def close(self) -> None:
        if self._generation_file is not None:
            self._generation_file.close()
        await self.engine.dispose()

    async def add_grant(self, row: GrantRow) -> Grant:
        """Store a grant made (and validated) by ``new_grant_row``."""
        async with self.session.begin() as session:
            session.add(row)
        return row.to_grant()

    async def grants_for(self, department: str) -> list[Grant]:
        return [row.to_grant() for row in await self._grant_rows(GrantRow.consumer == department)]

    async def all_grants(self) -> list[Grant]:
        return [row.to_grant() for row in await self._grant_rows(sa.true())]

    async def admit(self, grant: Grant, subject: str, day: dt.date, *, count: bool = True) -> bool:
        """Count ``subject`` against the grant's daily cap; False when the cap is used up.
        ``count=False`` only looks (a refused read must not spend the cap)."""
        return await self.admit_many(grant, (subject,), day, count=count) == 1

    async def admit_many(
        self, grant: Grant, subjects: Sequence[str], day: dt.date, *, count: bool = True
    ) -> int:
        """How many of ``subjects``, in order, the grant's daily cap admits on ``day`` (China
        date): a subject already counted that day passes, a new one while distinct subjects
        stay within the cap; it stops at the first one refused. Those admitted are counted
        (``count=False``: only looks), in one transaction: an export spends a page at once."""
        cap = grant.conditions.daily_cap
        if cap is None:
            return len(subjects)
        async with self._cap_lock, write_turn(self.engine), self.session.begin() as session:
            await _lock_grant(session, grant.id)
            where = (GrantUsage.grant == grant.id) & (GrantUsage.day == day)
            seen = set((await session.scalars(sa.select(GrantUsage.subject).where(where))).all())
            admitted, new = _within_cap(subjects, seen, cap)
            if count:
                session.add_all([GrantUsage(grant=grant.id, day=day, subject=subject) for subject in new])
            return admitted

    async def revoke_grant(self, grant_id: str) -> Grant:
        async with self.session.begin() as session:
            row = await session.get(GrantRow, grant_id)
            if row is None:
                raise BadRequest(f"no grant {grant_id!r}; list them with `govshare grant list`")
            row.revoked_at = row.revoked_at or utc_now()
        return row.to_grant()

    async def _grant_rows(self, condition: sa.ColumnElement[bool]) -> Sequence[GrantRow]:
        async with self.session() as session:
            result = await session.scalars(sa.select(GrantRow).where(condition).order_by(GrantRow.created_at))
            return result.all()


async def _lock_grant(session: Any, grant_id: str) -> None:
    """Serialise cap counting of one grant across processes: a no-op UPDATE of its row takes
    PostgreSQL's row lock (other admits of the grant wait for this commit, then read what it
    counted) and SQLite's write lock (one writer at a time; WAL readers go on). It is the
    transaction's first statement, so SQLite never has to upgrade a read to a write."""
    await session.execute(sa.update(GrantRow).where(GrantRow.id == grant_id).values(id=GrantRow.id))


def _bump_grant_generation(session: Any, _context: Any, _instances: Any) -> None:
    """``before_flush``: a flush writing a grant bumps ``GrantGeneration`` in its transaction."""
    touched = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(row, GrantRow) for row in touched):
        bump_generation(session, GRANTS)


def bump_generation(session: Any, row: int) -> None:
    """Move generation ``row`` (``GRANTS`` or ``CATALOG``) on in ``session``'s transaction (a
    sync ``Session``, from a ``before_flush`` listener): to ``max(value + 1, now)``."""
    bump = sa.update(GrantGeneration).where(GrantGeneration.id == row)
    following, floor = GrantGeneration.value + 1, sa.literal(generation_floor(), sa.BigInteger)
    session.connection().execute(bump.values(value=sa.case((following > floor, following), else_=floor)))


def generation_floor() -> int:
    """The least value a bumped or newly made generation takes: now, in microseconds since the
    epoch (never a number used before, whatever the row was set back to)."""
    return time.time_ns() // 1000


class PlatformSession(Session):
    """The platform database's sessions: a flush writing a grant bumps its generation."""


sa.event.listen(PlatformSession, "before_flush", _bump_grant_generation)


def _sqlite_shared(dbapi_connection: Any, _record: Any) -> None:
    """Several worker processes on one SQLite file: WAL (readers never wait for the writer)
    and a busy timeout, so a writer waits for another's commit instead of failing."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    finally:
        cursor.close()


SQLITE_BUSY_MS = 30_000  # how long a SQLite writer waits for another process's transaction
# The generations read runs in the event loop's thread (GenerationFile): a WAL reader waits only
# while a connection recovers the WAL index after a crash, rare and short; past this it fails
# closed (the request is refused) rather than stall every other request of the process
SQLITE_READ_BUSY_MS = 100


def _within_cap(subjects: Sequence[str], seen: set[str], cap: int) -> tuple[int, list[str]]:
    """The admitted prefix's length and the subjects in it not seen before (each once)."""
    new: list[str] = []
    for admitted, subject in enumerate(subjects):
        if subject not in seen:
            if len(seen) >= cap:
                return admitted, new
            seen.add(subject)
            new.append(subject)
    return len(subjects), new


def new_grant_row(
    consumer: str,
    resource: str,
    items: Iterable[str],
    purpose: str,
    valid_until: dt.datetime,
    modes: Iterable[Mode] = (Mode.QUERY,),
    valid_from: dt.datetime | None = None,
    conditions: GrantConditions | None = None,
    application: str | None = None,
) -> GrantRow:
    """A validated grant row, for a caller's own transaction (the workflow adds it with the decision)."""
    now = utc_now()
    row = GrantRow(
        id=f"grant-{uuid.uuid4().hex[:12]}",
        consumer=consumer,
        resource=resource,
        items=sorted(set(items)),
        modes=sorted(Mode(m).value for m in modes),
        purpose=canonical_purpose(purpose),  # stored as compared: every kind of whitespace folded
        valid_from=valid_from or now,
        valid_until=valid_until,
        created_at=now,
        conditions=conditions_to_json(conditions or GrantConditions()),
        application=application,
    )
    _check_grant(row)
    return row


def _check_grant(row: GrantRow) -> None:
    if not row.items:
        raise BadRequest("a grant needs at least one item")
    if not row.purpose:
        raise BadRequest("a grant needs the purpose it is approved for")
    if aware(row.valid_until) <= aware(row.valid_from):
        raise BadRequest("a grant's end must come after its start")
