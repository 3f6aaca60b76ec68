"""The tamper-evident, durable audit log (DESIGN.md section 8).

Every data access, workflow step and admin action is one ``AuditEvent``. ``AuditLog.append``
returns an ``AuditReceipt`` only once the event is committed durably, so the caller can send
its response; if the event cannot be written it raises ``errors.AuditUnavailable`` and the
caller refuses the request (fail closed).

Hash chain
    Each gateway instance (``instance``, a stable name given to the constructor, default
    ``"main"``; NOT hostname+pid, which changes on every restart) has its own chain:
    ``seq`` 1, 2, 3 ... without gaps, ``prev_hash`` the previous event's ``hash`` (64 zeros
    for seq 1) and ``hash = sha256(canonical_json(record))`` where ``record`` is every stored
    field except ``hash`` itself (id, instance, seq, time, prev_hash and all event fields).
    Several gateway processes writing one database must each have their own instance name;
    ``verify_chain`` walks every instance's chain from seq 1 and stops at the first broken
    event, naming it and what is wrong: content changed, link broken, missing seq or
    reordered. Deleting the newest events of a chain (truncation) leaves a valid shorter
    chain: only an outside anchor, such as the signed voucher handed to the consumer (audit
    id + hash), reveals it.

Archive and prune
    ``gateway.audit_archive`` moves a chain's oldest events into a signed archive and
    deletes them; ``NAME_anchors`` then records, per instance, the last pruned seq and hash,
    from which the writer continues and ``verify_chain`` starts.

Group commit
    ``append`` puts the event on an in-memory queue and awaits a future. One writer task
    takes everything queued (up to ``max_batch``), assigns seq/prev_hash/hash in queue order,
    inserts the whole batch with one executemany in ONE transaction, commits, and only then
    resolves the futures. On SQLite every connection runs ``journal_mode=WAL`` and
    ``synchronous=FULL``, so a commit is on disk when it returns; PostgreSQL commits are
    durable by default (keep ``synchronous_commit`` on).

Fail closed
    If a batch cannot be written every waiter in it gets ``AuditUnavailable``, the in-memory
    chain head is dropped and reloaded from the database before the next batch, and the next
    append simply tries again: a repaired store continues the chain without a gap. An append
    also fails if the log is not running, the backlog is full, or the commit does not
    happen within ``timeout`` seconds (the event may still be written later: an event
    recorded for a refused request is harmless, an answered request without one is not).

Privacy
    An event holds codes, item names, decisions, digests and the caller's declared purpose,
    never a stored value of a citizen or enterprise (no names, addresses, amounts ...). The
    response is represented only by ``response_digest``, an HMAC-SHA256 of its canonical
    JSON under the gateway's audit secret (``AuditLog.keyed_digest``; the secret is
    ``DATA/audit-secret``, made once by :func:`load_secret`). Keyed, because parties other
    than the consumer read events (providers, operators, exports): an unkeyed hash of the
    answer lets anyone who knows part of it test guesses for the rest.

Reading
    ``AuditLog.events`` returns plain JSON-ready dicts, OLDEST FIRST BY TIME across every
    chain (then instance, then seq), each exactly the hashed record plus ``hash``: anyone
    can re-check an exported line with ``digest(line without "hash") == line["hash"]``.
    Page with ``after`` = the last event's id. Providers see events on their resources
    through the ``<table>_resources`` index table, which is not part of the chain (it only
    decides visibility; events are re-checked against their hashed ``resources``).

Usage aggregates
    ``<table>_usage`` counts data events per bucket (hour, China day and China month),
    providing department, mode and consumer (``gateway.usage.contributions``), written in
    the SAME transaction as the events, so they never
    disagree with the trail; ``usage`` answers a period from the coarsest whole buckets
    inside it plus the raw events of at most two partial hours, whatever the trail's
    length (DESIGN.md section 8, ``stats``).
    A trail written before the aggregates existed gets them built once, at the first
    ``start`` (``<table>_meta`` remembers it), under a lock that keeps writers out.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, NamedTuple

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from connectors.sqlite_thread import SQLiteThread, sqlite_file
from errors import AuditUnavailable, BadRequest, ConfigurationError
from gateway import dbschema
from gateway.dbschema import shown_url
from gateway.platform import Base, UTCDateTime, json_text
from gateway.sqlite_turn import write_turn
from gateway.usage import (
    DATA_KINDS,
    Contribution,
    UsageCount,
    buckets,
    contributions,
    cover,
    hour_of,
    hour_start,
    month_start,
)
from policies.share import Mode
from resolvers import metrics, tracing

log = logging.getLogger("govshare.audit")
_Rows = list[dict[str, Any]]  # rows of one group commit, as SQLAlchemy's executemany takes them

CHAIN_RETRIES: Final = 5  # a batch chained again after another writer's, before it fails closed
KINDS: Final = frozenset({"query", "compare", "export", "workflow", "admin", "auth"})
ZERO_HASH: Final = "0" * 64
DEFAULT_INSTANCE: Final = "main"
DEFAULT_TABLE: Final = "audit_events"
_VERIFY_PAGE: Final = 2000
_HEX64 = re.compile(r"[0-9a-f]{64}")
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,40}")
_TEXT_FIELDS: Final = ("kind", "consumer", "client", "user", "purpose", "application", "mode", "outcome")
_LIST_FIELDS: Final = ("resources", "items", "subjects")
SECRET_FILE: Final = "audit-secret"
_USAGE_BUILT: Final = "usage_aggregates"
_USAGE_COUNTS: Final = ("calls", "refusals", "unavailable")
_OWNERS: Final = "owners"
_BUILD_PAGE: Final = 5000
_BUILD_RETRIES: Final = 600  # SQLite: seconds another process's build may keep the store locked


@dataclass(frozen=True, kw_only=True)
class AuditEvent:
    """What the caller records. Codes, names and digests only: never a stored value."""

    kind: str  # query | compare | export | workflow | admin | auth
    outcome: str  # "answered" | "refused" | an error code
    consumer: str | None = None
    client: str | None = None
    user: str | None = None
    purpose: str | None = None
    application: str | None = None
    mode: str | None = None
    resources: tuple[str, ...] = ()
    items: tuple[str, ...] = ()  # "resource.item"
    subjects: tuple[str, ...] = ()  # subject codes (USCC / citizen ID) touched
    decisions: Mapping[str, str] = field(default_factory=dict)  # "resource.item" -> ALLOWED | code
    response_digest: str | None = None  # digest(response): hex sha256 of its canonical JSON
    detail: Mapping[str, Any] = field(default_factory=dict)  # extra JSON fields (workflow, admin)


@dataclass(frozen=True)
class AuditReceipt:
    id: str
    seq: int
    hash: str
    instance: str
    time: dt.datetime


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int  # events found intact (all of them when ok)
    first_broken: str | None = None  # id of the first broken event
    reason: str | None = None  # what is wrong with it


# --- canonical JSON -------------------------------------------------------------------


def canonical_json(value: Any) -> bytes:
    """Deterministic UTF-8 JSON: keys sorted (by code point), no spaces, non-ASCII kept,
    datetimes as ISO 8601 UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, tuples as arrays; NaN,
    infinities, naive datetimes and other types are refused (ValueError / TypeError).

    Values go through orjson, which writes the very same bytes (keys in UTF-8 byte order =
    code point order) several times faster, when every float in them is one orjson writes as
    ``repr`` does (json's own float text): most do, ``1e-05`` or ``1e+16`` do not; anything
    orjson would write differently (such floats, NaN, float subclasses, non-text keys, huge
    ints, lone surrogates) takes the json path.
    """
    if _orjson_exact(value):
        try:
            return orjson.dumps(value, option=_ORJSON_CANONICAL, default=_json_default)
        except orjson.JSONEncodeError:
            pass
    return _canonical_slow(value)


_ORJSON_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


_SCALARS = frozenset({str, int, bool, type(None)})


def _orjson_exact(value: Any) -> bool:
    """No float inside that orjson writes otherwise than json (exact type checks first:
    this runs on every answer)."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind in _SCALARS:
            continue
        if kind is dict:
            pending.extend(item.values())
        elif kind is list or kind is tuple:
            pending.extend(item)
        elif kind is float:
            if orjson.dumps(item) != repr(item).encode():  # 1e-05 (json) vs 1e-5 (orjson)
                return False
        elif isinstance(item, float):
            return False
        elif isinstance(item, Mapping):
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return True


def _canonical_slow(value: Any) -> bytes:
    text = json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    )
    return text.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError (a ValueError)


def digest(value: Any) -> str:
    """Hex sha256 of ``canonical_json(value)``; ``bytes`` are taken as that JSON already
    (JSON has no bytes), so a caller needing several digests of one answer encodes it once."""
    return hashlib.sha256(_canonical(value)).hexdigest()


def _canonical(value: Any) -> bytes:
    return value if isinstance(value, bytes) else canonical_json(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _utc_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not canonical JSON")


def _utc_text(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()} has no time zone: use an aware one")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- tables ---------------------------------------------------------------------------


def audit_tables(metadata: sa.MetaData, name: str = DEFAULT_TABLE) -> tuple[sa.Table, sa.Table]:
    """The events table and its resource index table (``NAME_resources``, not hashed)."""
    events = sa.Table(
        name,
        metadata,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("instance", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("time", UTCDateTime, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        *(sa.Column(text, sa.Text, nullable=text not in ("kind", "outcome")) for text in _TEXT_FIELDS),
        *(sa.Column(array, sa.JSON, nullable=False) for array in _LIST_FIELDS),
        sa.Column("decisions", sa.JSON, nullable=False),
        sa.Column("response_digest", sa.Text, nullable=True),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.UniqueConstraint("instance", "seq", name=f"uq_{name}_instance_seq"),
        sa.Index(f"ix_{name}_time", "time"),
        sa.Index(f"ix_{name}_order", "time", "instance", "seq"),  # oldest first across chains
        sa.Index(f"ix_{name}_consumer", "consumer"),
    )
    resources = sa.Table(
        f"{name}_resources",
        metadata,
        sa.Column("resource", sa.Text, primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
    )
    return events, resources


def usage_tables(metadata: sa.MetaData, name: str = DEFAULT_TABLE) -> tuple[sa.Table, sa.Table]:
    """The usage aggregates (``NAME_usage``: per bucket, providing department, mode and
    consumer, the number of data events, of refusals and of source failures) and
    ``NAME_meta`` (key -> value: the catalog's owners, and that the aggregates were built)."""
    usage = sa.Table(
        f"{name}_usage",
        metadata,
        sa.Column("span", sa.SmallInteger, primary_key=True),  # gateway.usage.SPAN_HOUR, _DAY, _MONTH
        sa.Column("bucket", sa.BigInteger, primary_key=True),  # hours, China days or months since 1970
        sa.Column("department", sa.String(64), primary_key=True),  # the providing department
        sa.Column("mode", sa.String(16), primary_key=True),
        sa.Column("consumer", sa.String(64), primary_key=True),  # "" when the event names none
        sa.Column("calls", sa.BigInteger, nullable=False),
        sa.Column("refusals", sa.BigInteger, nullable=False),
        sa.Column("unavailable", sa.BigInteger, nullable=False),
    )
    meta = sa.Table(
        f"{name}_meta",
        metadata,
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    return usage, meta


def anchor_table(metadata: sa.MetaData, name: str = DEFAULT_TABLE) -> sa.Table:
    """``NAME_anchors``: per chain (instance), where its live part starts after archived
    events were pruned (gateway.audit_archive): the last pruned ``seq``, its ``hash`` (the
    ``prev_hash`` of the first live event), and the signed archive holding the pruned
    events (file name and SHA-256). No row: the chain starts at seq 1."""
    return sa.Table(
        f"{name}_anchors",
        metadata,
        sa.Column("instance", sa.String(64), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("archive", sa.Text, nullable=False),
        sa.Column("archive_sha256", sa.String(64), nullable=False),
        sa.Column("pruned_at", UTCDateTime, nullable=False),
    )


class AuditTables(NamedTuple):
    events: sa.Table
    resources: sa.Table
    usage: sa.Table
    meta: sa.Table
    anchors: sa.Table


AUDIT_EVENTS, AUDIT_RESOURCES = audit_tables(Base.metadata)  # made by the migrations (gateway.dbschema)
AUDIT_USAGE, AUDIT_META = usage_tables(Base.metadata)
AUDIT_ANCHORS = anchor_table(Base.metadata)


def _tables(name: str) -> AuditTables:
    if name == DEFAULT_TABLE:
        return AuditTables(AUDIT_EVENTS, AUDIT_RESOURCES, AUDIT_USAGE, AUDIT_META, AUDIT_ANCHORS)
    if not _NAME.fullmatch(name):
        raise ValueError(f"audit table name {name!r} must match {_NAME.pattern}")
    metadata = sa.MetaData()
    events = audit_tables(metadata, name)
    return AuditTables(*events, *usage_tables(metadata, name), anchor_table(metadata, name))


# --- the audit secret -----------------------------------------------------------------


def load_secret(data_dir: Path) -> bytes:
    """The gateway's audit secret (32 random bytes, hex in ``DATA/audit-secret``, mode 0600),
    made on first use. Every worker of one data folder reads the same file, and a new one is
    published with an atomic hard link, so two workers starting at once agree on it.
    Raises ConfigurationError when the file is unreadable or not 64 hex digits."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        draft = data_dir / f".{SECRET_FILE}.{uuid.uuid4().hex}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(draft, path)  # fails if another worker published one first: theirs wins
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise ConfigurationError(f"{path} cannot be read: {exc}") from exc
    if not _HEX64.fullmatch(text):
        raise ConfigurationError(
            f"{path} must hold 64 lowercase hex digits; restore it from a backup (moving it away "
            "makes a new secret, and the digests of older events can then no longer be checked)"
        )
    return bytes.fromhex(text)


def keyed_digest(secret: bytes, value: Any) -> str:
    """Hex HMAC-SHA256 (RFC 2104) of ``canonical_json(value)`` under ``secret`` (``bytes``:
    that JSON already, as for ``digest``)."""
    if len(secret) < 32:
        raise ConfigurationError(f"the audit secret must be 32 bytes (64 hex digits in DATA/{SECRET_FILE})")
    return hmac.new(secret, _canonical(value), hashlib.sha256).hexdigest()


def _engine(url: str) -> AsyncEngine:
    engine = create_async_engine(url, hide_parameters=True, json_serializer=json_text)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine.sync_engine, "connect", _sqlite_durable)
    return engine


def _commit_thread(engine: AsyncEngine) -> SQLiteThread | None:
    """The group commit's own thread on a SQLite file (one: commits are one at a time)."""
    if sqlite_file(engine.url) is None:
        return None
    return SQLiteThread(engine.url, 1, _sqlite_durable, hide_parameters=True, json_serializer=json_text)


def _sqlite_durable(dbapi_connection: Any, _record: Any) -> None:
    """Committed means on disk: WAL with a full sync at each commit."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def _check_folder(url: str) -> None:
    """A SQLite file needs its folder: say so plainly (and spare aiosqlite a failing connect)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).parent
        if not folder.is_dir():
            raise AuditUnavailable(f"the audit store {shown_url(url)} cannot be opened: no folder {folder}")


# --- records --------------------------------------------------------------------------


def _content(event: AuditEvent) -> dict[str, Any]:
    """The event's fields as plain JSON values (what the database gives back). Whatever
    canonical_json refuses (NaN, lone surrogates ...) is refused when the event is hashed."""
    if event.kind not in KINDS:
        raise AuditUnavailable(f"audit event kind {event.kind!r} is not one of {sorted(KINDS)}")
    for name in _TEXT_FIELDS:
        value = getattr(event, name)
        if value is not None and (not isinstance(value, str) or "\x00" in value):
            raise AuditUnavailable(f"audit event field {name} must be text without NUL characters")
    for name in _LIST_FIELDS:
        if isinstance(getattr(event, name), str):
            raise AuditUnavailable(f"audit event field {name} must be a tuple of strings, not a string")
    if event.response_digest is not None and not _HEX64.fullmatch(event.response_digest):
        raise AuditUnavailable("audit event response_digest must be a lowercase hex sha256 (digest())")
    content = {name: getattr(event, name) for name in (*_TEXT_FIELDS, "response_digest")}
    content.update({name: list(getattr(event, name)) for name in _LIST_FIELDS})
    content.update(decisions=dict(event.decisions), detail=_plain(event.detail) if event.detail else {})
    return content


def _plain(value: Mapping[str, Any]) -> dict[str, Any]:
    try:
        plain: dict[str, Any] = json.loads(canonical_json(value))
    except (TypeError, ValueError) as exc:
        raise AuditUnavailable(f"audit event detail is not canonical JSON: {exc}") from None
    return plain


def _record(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A stored row as the record its hash covers (every column but ``hash``)."""
    record = {key: value for key, value in row.items() if key != "hash"}
    moment: dt.datetime = record["time"]
    record["time"] = _utc_text(moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC))
    return record


async def _load_head(
    conn: AsyncConnection, events: sa.Table, instance: str, anchors: sa.Table | None = None
) -> tuple[int, str]:
    """(seq, hash) of the chain's newest event; with none live, its anchor (every event
    archived and pruned: the chain continues after it), else (0, ZERO_HASH)."""
    query = (
        sa.select(events.c.seq, events.c.hash)
        .where(events.c.instance == instance)
        .order_by(events.c.seq.desc())
        .limit(1)
    )
    row = (await conn.execute(query)).first()
    if row is None and anchors is not None:
        return await load_anchor(conn, anchors, instance)
    return (0, ZERO_HASH) if row is None else (int(row.seq), str(row.hash))


async def load_anchor(conn: AsyncConnection, anchors: sa.Table, instance: str) -> tuple[int, str]:
    """(last pruned seq, its hash) of ``instance``'s chain; (0, ZERO_HASH) when none was pruned
    (or the store predates anchors)."""
    if not await conn.run_sync(lambda sync: sa.inspect(sync).has_table(anchors.name)):
        return 0, ZERO_HASH
    query = sa.select(anchors.c.seq, anchors.c.hash).where(anchors.c.instance == instance)
    row = (await conn.execute(query)).first()
    return (0, ZERO_HASH) if row is None else (int(row.seq), str(row.hash))


@dataclass(slots=True)
class _Pending:
    content: dict[str, Any]
    id: str
    time: dt.datetime
    future: asyncio.Future[AuditReceipt]


_STOP: Final = None
_Receipts = list[tuple[_Pending, AuditReceipt]]


def _refuse(pending: _Pending, error: AuditUnavailable) -> None:
    if not pending.future.done():
        pending.future.set_exception(error)


# --- the log --------------------------------------------------------------------------


class AuditLog:
    """Append-only, hash-chained, group-committed audit log of one gateway instance.

    ``url`` is the platform database (SQLAlchemy async URL); the log has its own engine.
    ``instance`` names this process's chain: stable across restarts, unique among the
    processes writing the same database. ``secret`` (:func:`load_secret`) keys
    ``keyed_digest``. ``owners`` (resource id -> providing department, from the catalog)
    attributes data events to departments in the usage aggregates; without it, the owners
    the gateway last stored are used. ``clock`` gives each event's time (aware; tests and
    benchmarks set it). ``table`` exists for tests.
    """

    def __init__(
        self,
        url: str,
        instance: str | None = None,
        max_batch: int = 512,
        *,
        table: str = DEFAULT_TABLE,
        timeout: float = 10.0,
        max_pending: int = 100_000,
        secret: bytes | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        owners: Mapping[str, str] | None = None,
    ) -> None:
        self.instance = instance or DEFAULT_INSTANCE
        if len(self.instance) > 64:
            raise ValueError("an audit instance name has at most 64 characters")
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.url = url
        self.engine = _engine(url)
        self._thread = _commit_thread(self.engine)
        self._events, self._resources, self._usage, self._meta, self._anchors = _tables(table)
        self._upserts: dict[str, Any] = {}  # dialect -> the aggregates' upsert (_usage_upsert)
        self._inserts = (self._events.insert(), self._resources.insert())  # built once, not per group commit
        self._secret = secret
        self._owners = None if owners is None else dict(owners)
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._max_batch, self._timeout, self._max_pending = max_batch, timeout, max_pending
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._head: tuple[int, str] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def commit_engine(self) -> sa.Engine:
        """The engine the group commit's statements go through, for SQLAlchemy's events
        (``commit``, ``before_cursor_execute``): the SQLite file's own thread's, else the
        asyncio engine's sync core."""
        return self._thread.engine if self._thread is not None else self.engine.sync_engine

    async def __aenter__(self) -> AuditLog:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Bring the tables to the code's revision, build the usage aggregates once for a
        trail that predates them, load this instance's chain head, start the writer."""
        if self._writer is not None:
            raise RuntimeError("this AuditLog was already started; make a new one to reopen")
        _check_folder(self.url)
        try:
            await self._create_tables()
            await self._settle_owners()
            await self._ensure_usage()
            async with self.engine.connect() as conn:
                self._head = await _load_head(conn, self._events, self.instance, self._anchors)
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            log.error("audit store %s cannot be opened: %s", shown_url(self.url), exc)
            raise AuditUnavailable(f"the audit store {shown_url(self.url)} cannot be opened: {exc}") from exc
        self._writer = asyncio.create_task(self._run(), name=f"audit-writer-{self.instance}")

    async def _create_tables(self) -> None:
        """The platform's own tables come from its migrations (gateway.dbschema: a database
        behind them is upgraded or refused, as at the gateway's start). A test's own table
        name is created if missing; a process starting at the same moment may win the race
        to create one (an error here), after which the check finds it."""
        if self._events is AUDIT_EVENTS:
            await dbschema.prepare(self.engine)
            return
        tables = [self._events, self._resources, self._usage, self._meta, self._anchors]
        for attempt in range(3):
            try:
                async with self.engine.begin() as conn:
                    await conn.run_sync(lambda sync: _create(sync, tables))
                return
            except sa.exc.DBAPIError:
                if attempt == 2:
                    raise
                await asyncio.sleep(0.2 * (attempt + 1))

    def keyed_digest(self, value: Any) -> str:
        """HMAC-SHA256 of ``canonical_json(value)`` under this gateway's audit secret: what
        an event may hold of a response (readers other than the consumer cannot test guesses
        against it). Raises ConfigurationError when the log was made without a secret."""
        if self._secret is None:
            raise ConfigurationError("this audit log has no secret: pass load_secret(data_dir)")
        return keyed_digest(self._secret, value)

    def keyed_hasher(self) -> hmac.HMAC:
        """An incremental HMAC-SHA256 under the audit secret, for a digest of bytes sent in
        pieces (a streamed export): ``update`` each piece, ``hexdigest`` at the end."""
        if self._secret is None:
            raise ConfigurationError("this audit log has no secret: pass load_secret(data_dir)")
        return hmac.new(self._secret, digestmod=hashlib.sha256)

    async def append(self, event: AuditEvent) -> AuditReceipt:
        """Record ``event``; return once it is committed durably, else raise AuditUnavailable."""
        if self._writer is None or self._closing or self._writer.done():
            raise AuditUnavailable("the audit log is not running, so the request is refused")
        if self._queue.qsize() >= self._max_pending:
            raise AuditUnavailable("the audit log is behind (backlog full), so the request is refused")
        content = _content(event)
        future: asyncio.Future[AuditReceipt] = asyncio.get_running_loop().create_future()
        now = _as_utc(self._clock())
        self._queue.put_nowait(_Pending(content, f"audit-{uuid.uuid4().hex}", now, future))
        try:
            async with asyncio.timeout(self._timeout):
                with tracing.span("audit.commit", {"govshare.audit.kind": event.kind}):
                    return await future
        except TimeoutError:
            raise AuditUnavailable(
                f"the audit store did not commit within {self._timeout:g} s, so the request is refused"
            ) from None

    async def close(self) -> None:
        """Write everything already appended, stop the writer, release the engine."""
        self._closing = True
        if self._writer is not None and not self._writer.done():
            self._queue.put_nowait(_STOP)
            await self._writer
        if self._thread is not None:
            await self._thread.close()
        await self.engine.dispose()

    async def events(
        self,
        *,
        consumer: str | None = None,
        provider_resources: Collection[str] | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        after_seq: int | None = None,
        instance: str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> list[dict[str, Any]]:
        """At most ``limit`` stored events, OLDEST FIRST BY TIME across every instance's
        chain (ties: instance, then seq), as JSON-ready dicts.

        ``consumer`` and ``provider_resources`` are visibility scopes: given together, an
        event matches if it is the consumer's own OR touches one of the resources; None
        means no restriction (an operator passes neither). ``since`` is inclusive, ``until``
        exclusive (naive datetimes are UTC). Page with ``after`` = the id of the last event
        returned (BadRequest when no event has that id). ``after_seq`` keeps only events
        with a larger seq: a cursor within ONE chain (with ``instance``).
        """
        where = self._filters(consumer, provider_resources, since, until, after_seq, instance)
        column = self._events.c
        found: list[dict[str, Any]] = []
        try:
            async with self.engine.connect() as conn:
                cursor = None if after is None else await self._cursor(conn, after)
                while len(found) < limit:
                    query = sa.select(self._events).where(*where)
                    if cursor is not None:
                        query = query.where(self._after(*cursor))
                    wanted = limit - len(found)
                    ordered = query.order_by(column.time, column.instance, column.seq).limit(wanted)
                    rows = list((await conn.execute(ordered)).mappings())
                    events = [{**_record(row), "hash": row["hash"]} for row in rows]
                    found += [event for event in events if _visible(event, consumer, provider_resources)]
                    if len(rows) < wanted:  # the end: a page dropped by the re-check is refilled above
                        break
                    cursor = rows[-1]["time"], rows[-1]["instance"], rows[-1]["seq"]
        except sa.exc.SQLAlchemyError as exc:
            raise AuditUnavailable(f"the audit store cannot be read: {exc.__class__.__name__}") from exc
        return found

    async def _cursor(self, conn: AsyncConnection, event_id: str) -> tuple[Any, str, int]:
        """(time, instance, seq) of the event ``event_id``: where the next page starts."""
        column = self._events.c
        query = sa.select(column.time, column.instance, column.seq).where(column.id == event_id)
        row = (await conn.execute(query)).first()
        if row is None:
            raise BadRequest(
                f"no audit event {event_id!r}: pass the id of the last event of the previous page",
                argument="after",
            )
        return row[0], row[1], row[2]

    def _after(self, time: Any, instance: str, seq: int) -> sa.ColumnElement[bool]:
        """Events after (time, instance, seq) in that order: the keyset cursor."""
        column = self._events.c
        return sa.or_(
            column.time > time,
            sa.and_(
                column.time == time,
                sa.or_(column.instance > instance, sa.and_(column.instance == instance, column.seq > seq)),
            ),
        )

    def _filters(
        self,
        consumer: str | None,
        provider_resources: Collection[str] | None,
        since: dt.datetime | None,
        until: dt.datetime | None,
        after_seq: int | None,
        instance: str | None,
    ) -> list[sa.ColumnElement[bool]]:
        table, where = self._events, []
        if since is not None:
            where.append(table.c.time >= _as_utc(since))
        if until is not None:
            where.append(table.c.time < _as_utc(until))
        if after_seq is not None:
            where.append(table.c.seq > after_seq)
        if instance is not None:
            where.append(table.c.instance == instance)
        scopes = []
        if consumer is not None:
            scopes.append(table.c.consumer == consumer)
        if provider_resources is not None:
            index = self._resources
            touched = sa.select(index.c.event_id).where(index.c.resource.in_(list(provider_resources)))
            scopes.append(table.c.id.in_(touched))
        if scopes:
            where.append(sa.or_(*scopes))
        return where

    # --- usage aggregates -------------------------------------------------------------

    async def usage(
        self,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        departments: Collection[str] | None = None,
    ) -> list[UsageCount]:
        """Data events in [since, until) (naive = UTC) per (department, mode, consumer), for
        ``departments`` (None: all).

        Whole months, days and hours come from the aggregates (:func:`gateway.usage.cover`);
        the partial hours at either end (at most two) from the raw events there, counted
        with this log's ``owners``. So the cost follows departments x modes x consumers and
        the traffic of two hours, not the length of the trail. Raises AuditUnavailable."""
        start = None if since is None else _as_utc(since)
        end = None if until is None else _as_utc(until)
        first = _OPEN_FIRST if start is None else _first_whole_hour(start)
        stop = _OPEN_STOP if end is None else hour_of(end)  # whole hours end where until's hour starts
        counted: _Tally = {}
        try:
            async with self.engine.connect() as conn:
                if first >= stop:  # inside at most two partial hours
                    await self._raw_usage(conn, start, end, counted)
                else:
                    await self._summed_usage(conn, cover(first, stop), departments, counted)
                    if start is not None and hour_start(first) > start:
                        await self._raw_usage(conn, start, hour_start(first), counted)
                    if end is not None and hour_start(stop) < end:
                        await self._raw_usage(conn, hour_start(stop), end, counted)
        except sa.exc.SQLAlchemyError as exc:
            raise AuditUnavailable(f"the audit store cannot be read: {exc.__class__.__name__}") from exc
        wanted = None if departments is None else set(departments)
        return [
            UsageCount(department, Mode(mode), consumer, *sums)
            for (department, mode, consumer), sums in counted.items()
            if wanted is None or department in wanted
        ]

    async def _summed_usage(
        self,
        conn: AsyncConnection,
        ranges: Sequence[tuple[int, int, int]],
        departments: Collection[str] | None,
        counted: _Tally,
    ) -> None:
        table = self._usage.c
        inside = [sa.and_(table.span == span, table.bucket.between(lo, hi - 1)) for span, lo, hi in ranges]
        query = (
            sa.select(
                table.department,
                table.mode,
                table.consumer,
                *(sa.func.sum(table[name]) for name in _USAGE_COUNTS),
            )
            .where(sa.or_(*inside))
            .group_by(table.department, table.mode, table.consumer)
        )
        if departments is not None:
            query = query.where(table.department.in_(sorted(departments)))
        for department, mode, consumer, *sums in await conn.execute(query):
            _tally(counted, (department, mode, consumer), [int(n) for n in sums])

    async def _raw_usage(
        self,
        conn: AsyncConnection,
        start: dt.datetime | None,
        end: dt.datetime | None,
        counted: _Tally,
    ) -> None:
        column = self._events.c
        query = sa.select(
            column.kind, column.mode, column.consumer, column.resources, column.decisions, column.outcome
        ).where(column.kind.in_(list(DATA_KINDS)))
        if start is not None:
            query = query.where(column.time >= start)
        if end is not None:
            query = query.where(column.time < end)
        for row in (await conn.execute(query)).mappings():
            for part in contributions(dict(row), self._owners or {}):
                _tally(counted, (part.department, part.mode.value, part.consumer), _sums(part))

    def _usage_upsert(self, dialect: str) -> Any:
        """The aggregates' upsert (SQLite and PostgreSQL ``ON CONFLICT ... DO UPDATE``), built
        once per dialect rather than per batch: building it and its cache key was a tenth of
        the group commit's CPU."""
        statement = self._upserts.get(dialect)
        if statement is None:
            insert = _dialect_insert(dialect)(self._usage)
            added = {name: self._usage.c[name] + insert.excluded[name] for name in _USAGE_COUNTS}
            statement = insert.on_conflict_do_update(index_elements=list(_USAGE_KEY), set_=added)
            self._upserts[dialect] = statement
        return statement

    async def _settle_owners(self) -> None:
        """Remember the catalog's resource -> department (given), or read it back (not given:
        the command line, which writes no data events but may build the aggregates).

        Workers starting together on a fresh database may both find no row and both insert
        it: the one that loses the race reads the winner's row and settles again (it failed
        to start before: the whole ``serve --workers N`` stopped)."""
        try:
            await self._settle_owners_once()
        except sa.exc.IntegrityError:
            await self._settle_owners_once()

    async def _settle_owners_once(self) -> None:
        async with write_turn(self.engine), self.engine.begin() as conn:
            stored = (
                await conn.execute(sa.select(self._meta.c.value).where(self._meta.c.key == _OWNERS))
            ).first()
            if self._owners is None:
                self._owners = json.loads(stored[0]) if stored else {}
                return
            text = json.dumps(self._owners, sort_keys=True, ensure_ascii=False)
            if stored is None:
                await conn.execute(self._meta.insert(), [{"key": _OWNERS, "value": text}])
            elif stored[0] != text:
                await conn.execute(self._meta.update().where(self._meta.c.key == _OWNERS).values(value=text))

    async def _ensure_usage(self) -> None:
        """Build the aggregates once for a trail written before they existed."""
        for attempt in range(_BUILD_RETRIES):
            if await self._usage_built():
                return
            try:
                await self._build_usage()
                return
            except _AlreadyBuilt:
                return
            except sa.exc.OperationalError:  # SQLite: another process is building them now
                if self.engine.dialect.name != "sqlite" or attempt == _BUILD_RETRIES - 1:
                    raise
                await asyncio.sleep(1.0)

    async def _usage_built(self) -> bool:
        async with self.engine.connect() as conn:
            marker = sa.select(self._meta.c.value).where(self._meta.c.key == _USAGE_BUILT)
            return (await conn.execute(marker)).first() is not None

    async def _build_usage(self) -> None:
        """Recount every data event into the aggregates in ONE transaction that first locks
        writers out (PostgreSQL: a table lock that every append's upsert waits for; SQLite:
        the first write takes the database's write lock), so nothing is counted twice."""
        async with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(sa.text(f'LOCK TABLE "{self._usage.name}" IN SHARE ROW EXCLUSIVE MODE'))
            await conn.execute(self._usage.delete())
            marker = sa.select(self._meta.c.value).where(self._meta.c.key == _USAGE_BUILT)
            if (await conn.execute(marker)).first() is not None:
                raise _AlreadyBuilt  # another process built them while this one waited
            counted: _Counted = {}
            column = self._events.c
            wanted = (column.id, column.time, column.kind, column.mode, column.consumer, column.resources,
                      column.decisions, column.outcome)  # fmt: skip
            query = sa.select(*wanted).where(column.kind.in_(list(DATA_KINDS))).order_by(column.id)
            last: str | None = None
            events = 0
            while rows := await _page(conn, query, column.id, last):
                _count_rows(counted, rows, self._owners or {})
                events, last = events + len(rows), rows[-1]["id"]
            rows_out = [counted[k] for k in sorted(counted)]
            for start in range(0, len(rows_out), _BUILD_PAGE):
                await conn.execute(self._usage.insert(), rows_out[start : start + _BUILD_PAGE])
            await conn.execute(self._meta.insert(), [{"key": _USAGE_BUILT, "value": "1"}])
        log.info("audit usage aggregates built: %d data events counted", events)

    # --- the writer -------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            if first is _STOP:
                return
            # the write turn first (gateway.sqlite_turn: other processes on one SQLite file):
            # events appended while this writer waits for it join this commit
            async with write_turn(self.engine):
                await asyncio.sleep(0)  # one turn of the loop: requests ready now join this batch
                batch, stop = self._batch(first)
                started = time.perf_counter()
                written = await self._write(batch)
            metrics.audit_batch(len(batch), time.perf_counter() - started, self._queue.qsize(), not written)
            if stop:
                return

    def _batch(self, first: _Pending) -> tuple[list[_Pending], bool]:
        """``first`` and what waits behind it, at most ``max_batch``; and whether a stop came."""
        batch = [first]
        while len(batch) < self._max_batch and not self._queue.empty():
            item = self._queue.get_nowait()
            if item is _STOP:
                return batch, True
            batch.append(item)
        return batch, False

    async def _write(self, batch: list[_Pending]) -> bool:
        """Commit ``batch`` in one transaction and answer its futures; False when it failed."""
        try:
            head, receipts = await self._append_batch(batch)
        except Exception as exc:  # any failure: the whole batch fails closed
            self._head = None  # reload from the database before the next batch
            log.error("audit batch of %d events not written: %s", len(batch), exc)
            for pending in batch:
                _refuse(pending, _unavailable())
            return False
        self._head = head
        for pending, receipt in receipts:
            if not pending.future.done():
                pending.future.set_result(receipt)
        return True

    async def _append_batch(self, batch: list[_Pending]) -> tuple[tuple[int, str], _Receipts]:
        """Chain ``batch`` after the stored head and commit it; the new head and the receipts.
        Another process appending to the same chain meanwhile (two one-process gateways with
        one GOVSHARE_INSTANCE on two hosts, the command line's ``cli`` chain run twice at
        once) makes the insert collide on (instance, seq): the head is read again and the
        batch chained after it, at most ``CHAIN_RETRIES`` times. Raises what the last try
        raised."""
        collisions = 0
        while True:
            head = self._head or await self._reload_head()
            rows, links, receipts, head = self._chain(batch, head)
            try:
                if rows:
                    await self._commit(rows, links, _usage_rows(rows, self._owners or {}))
                return head, receipts
            except sa.exc.IntegrityError:
                self._head = None  # another writer moved the chain: chain after its head
                collisions += 1
                if collisions == CHAIN_RETRIES:
                    raise

    async def _commit(self, rows: _Rows, links: list[dict[str, str]], usage: _Rows) -> None:
        """Events, index and aggregates in one transaction: all or none. On a SQLite file in
        one thread hand-over (``connectors.sqlite_thread``), elsewhere through the asyncio
        engine; the same statements either way (``_insert_batch``)."""
        if self._thread is not None:
            await self._thread.run_in_transaction(self._insert_batch, rows, links, usage)
            return
        async with self.engine.begin() as conn:
            await conn.run_sync(self._insert_batch, rows, links, usage)

    def _insert_batch(
        self, conn: sa.Connection, rows: _Rows, links: list[dict[str, str]], usage: _Rows
    ) -> None:
        conn.execute(self._inserts[0], rows)
        if links:
            conn.execute(self._inserts[1], links)
        if usage:  # an upsert: the same bucket and key add up
            conn.execute(self._usage_upsert(conn.dialect.name), usage)

    async def _reload_head(self) -> tuple[int, str]:
        async with self.engine.connect() as conn:
            return await _load_head(conn, self._events, self.instance, self._anchors)

    def _chain(
        self, batch: Sequence[_Pending], head: tuple[int, str]
    ) -> tuple[list[dict[str, Any]], list[dict[str, str]], _Receipts, tuple[int, str]]:
        """Number and hash the batch in queue order; an event that cannot be hashed fails alone."""
        seq, prev = head
        rows: list[dict[str, Any]] = []
        links: list[dict[str, str]] = []
        receipts: _Receipts = []
        for pending in batch:
            record = {**pending.content, "id": pending.id, "instance": self.instance, "seq": seq + 1}
            record.update(time=_utc_text(pending.time), prev_hash=prev)
            try:
                hashed = digest(record)
            except (TypeError, ValueError) as exc:
                _refuse(pending, AuditUnavailable(f"audit event is not canonical JSON: {exc}"))
                continue
            seq, prev = seq + 1, hashed
            rows.append({**record, "time": pending.time, "hash": hashed})
            links.extend({"resource": r, "event_id": pending.id} for r in set(record["resources"]))
            receipts.append((pending, AuditReceipt(pending.id, seq, hashed, self.instance, pending.time)))
        return rows, links, receipts, (seq, prev)


# --- usage aggregates -----------------------------------------------------------------

_USAGE_KEY: Final = ("span", "bucket", "department", "mode", "consumer")
_Counted = dict[tuple[Any, ...], dict[str, Any]]  # usage primary key -> row
_Tally = dict[tuple[str, str, str], list[int]]  # (department, mode, consumer) -> counts


class _AlreadyBuilt(Exception):
    """Another process built the aggregates first: roll this build back."""


async def _page(
    conn: AsyncConnection, query: sa.Select[Any], column: sa.ColumnElement[str], last: str | None
) -> list[dict[str, Any]]:
    """One page of ``query`` after ``last`` (keyset on ``column``), as plain dicts."""
    paged = query if last is None else query.where(column > last)
    return [dict(row) for row in (await conn.execute(paged.limit(_BUILD_PAGE))).mappings()]


def _first_whole_hour(moment: dt.datetime) -> int:
    hour = hour_of(moment)
    return hour if hour_start(hour) == moment else hour + 1


def _sums(part: Contribution) -> list[int]:
    return [1, int(part.refused), int(part.unavailable)]  # in _USAGE_COUNTS order


def _tally(counted: _Tally, key: tuple[str, str, str], sums: list[int]) -> None:
    found = counted.get(key)
    if found is None:
        counted[key] = list(sums)
    else:
        for index, value in enumerate(sums):
            found[index] += value


def _dialect_insert(dialect: str) -> Callable[[sa.Table], Any]:
    """The dialect's INSERT with ON CONFLICT DO UPDATE (SQLite 3.24+, PostgreSQL 9.5+)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    raise ConfigurationError(f"the audit store supports SQLite and PostgreSQL, not {dialect}")


def _count_rows(counted: _Counted, rows: Sequence[Mapping[str, Any]], owners: Mapping[str, str]) -> None:
    """Add stored events (with ``time``) to ``counted``: each contribution in its hour, its
    China day and its China month. Events alike in everything their contributions depend on
    (most of a group commit: the same consumer asking the same query) are counted once,
    times their number: the same integer sums, a fraction of the work per event."""
    for (_, hour), (parts, times) in _alike(rows, owners).items():
        spans = buckets(hour)
        for part in parts:
            sums = [times * value for value in _sums(part)]
            for span, bucket in spans:
                key = (span, bucket, part.department, part.mode.value, part.consumer)
                found = counted.get(key)
                if found is None:
                    found = counted[key] = _usage_row(key)
                for name, value in zip(_USAGE_COUNTS, sums, strict=True):
                    found[name] += value


def _alike(rows: Sequence[Mapping[str, Any]], owners: Mapping[str, str]) -> dict[Any, list[Any]]:
    """(what ``contributions`` reads of an event, its hour) -> [its contributions, how many
    events]; an event whose fields cannot be a key (a damaged stored row) stands alone."""
    groups: dict[Any, list[Any]] = {}
    for row in rows:
        hour = hour_of(_as_utc(row["time"]))
        try:
            key: Any = (_contribution_key(row), hour)
            found = groups.get(key)
        except TypeError:  # unhashable: counted on its own
            key, found = (id(row), hour), None
        if found is None:
            groups[key] = [contributions(row, owners), 1]
        else:
            found[1] += 1
    return groups


def _contribution_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """Every field ``gateway.usage.contributions`` reads of an event (owners aside)."""
    decisions = row.get("decisions") or {}
    decided = tuple(decisions.items()) if isinstance(decisions, Mapping) else decisions
    resources = tuple(row.get("resources") or ())
    return (row.get("kind"), row.get("mode"), resources, row.get("outcome"), row.get("consumer"), decided)


def _usage_row(key: tuple[Any, ...]) -> dict[str, Any]:
    row: dict[str, Any] = dict(zip(_USAGE_KEY, key, strict=True))
    row.update(dict.fromkeys(_USAGE_COUNTS, 0))
    return row


def _usage_rows(rows: Sequence[Mapping[str, Any]], owners: Mapping[str, str]) -> list[dict[str, Any]]:
    """A batch's contribution to the aggregates, one row per primary key, in key order (one
    lock order for every writer: no deadlock between processes)."""
    counted: _Counted = {}
    _count_rows(counted, rows, owners)
    return [counted[key] for key in sorted(counted)]


_OPEN_FIRST: Final = month_start(1970 * 12)  # an open period: every bucket there can be
_OPEN_STOP: Final = month_start(9999 * 12)


def _create(sync: sa.Connection, tables: Sequence[sa.Table]) -> None:
    """A test's own tables (``table=``), with their indexes."""
    tables[0].metadata.create_all(sync, tables=list(tables))
    for table in tables:
        for index in table.indexes:
            index.create(sync, checkfirst=True)


def _unavailable() -> AuditUnavailable:
    return AuditUnavailable(
        "the audit store could not record this access, so the request is refused; "
        "operators: the gateway log (logger govshare.audit) has the cause"
    )


def _as_utc(moment: dt.datetime) -> dt.datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def _visible(event: Mapping[str, Any], consumer: str | None, resources: Collection[str] | None) -> bool:
    """Re-check a row found through the (unhashed) resource index against its hashed fields."""
    if consumer is None and resources is None:
        return True
    own = consumer is not None and event["consumer"] == consumer
    return own or (resources is not None and not set(event["resources"]).isdisjoint(resources))


async def export_events(
    url: str, *, since: dt.datetime | None = None, table: str = DEFAULT_TABLE, page: int = 1000
) -> AsyncGenerator[dict[str, Any], None]:
    """Every event (since ``since``), oldest first by time across every chain, page by page.

    Reads only: the log is not started (no tables made, no aggregates built)."""
    audit = AuditLog(url, table=table)
    try:
        after: str | None = None
        while batch := await audit.events(since=since, after=after, limit=page):
            for event in batch:
                yield event
            after = batch[-1]["id"]
    finally:
        await audit.close()


# --- verification ---------------------------------------------------------------------


async def verify_chain(url: str, *, table: str = DEFAULT_TABLE) -> VerifyResult:
    """Walk every instance's chain from seq 1 (or from its anchor: the last event archived
    and pruned, ``gateway.audit_archive``) and name the first broken event.

    Each event's hash is recomputed from its stored fields, its prev_hash must be the hash
    of the event before it (the anchor's hash for the first live one), and seq must run
    1, 2, 3 ... (anchor + 1, + 2 ...). Instances are walked in name order.
    """
    events, anchors = _tables(table).events, _tables(table).anchors
    _check_folder(url)
    engine = _engine(url)
    try:
        async with engine.connect() as conn:
            if not await conn.run_sync(lambda sync: sa.inspect(sync).has_table(events.name)):
                raise AuditUnavailable(
                    f"{shown_url(url)} has no {events.name} table: nothing was audited there yet, "
                    "or --data / GOVSHARE_DATABASE_URL names the wrong database"
                )
            names = await conn.scalars(sa.select(events.c.instance).distinct().order_by(events.c.instance))
            checked = 0
            for instance in names.all():
                start = await load_anchor(conn, anchors, instance)
                count, broken, reason = await _verify_instance(conn, events, instance, start)
                checked += count
                if broken is not None:
                    return VerifyResult(False, checked, broken, reason)
            return VerifyResult(True, checked)
    except sa.exc.SQLAlchemyError as exc:
        raise AuditUnavailable(f"the audit store {shown_url(url)} cannot be read: {exc}") from exc
    finally:
        await engine.dispose()


async def _verify_instance(
    conn: AsyncConnection, events: sa.Table, instance: str, start: tuple[int, str] = (0, ZERO_HASH)
) -> tuple[int, str | None, str | None]:
    checked, expected, prev_hash = 0, start[0] + 1, start[1]
    query = sa.select(events).where(events.c.instance == instance).order_by(events.c.seq)
    page = query.limit(_VERIFY_PAGE)
    while rows := list((await conn.execute(page)).mappings()):
        for row in rows:
            problem = await _check(conn, events, row, expected, prev_hash)
            if problem is not None:
                return checked, str(row["id"]), f"instance {instance}, seq {row['seq']}: {problem}"
            checked, expected, prev_hash = checked + 1, row["seq"] + 1, row["hash"]
        page = query.where(events.c.seq > rows[-1]["seq"]).limit(_VERIFY_PAGE)
    return checked, None, None


async def _check(
    conn: AsyncConnection, events: sa.Table, row: Mapping[Any, Any], expected: int, prev_hash: str
) -> str | None:
    """What is wrong with ``row`` as the event after seq ``expected - 1`` (None: intact)."""
    seq = row["seq"]
    if seq > expected:
        gap = f"{expected}" if seq == expected + 1 else f"{expected}..{seq - 1}"
        return f"missing seq {gap}: events deleted before this one"
    if seq < expected:
        return f"reordered: seq {seq} comes after seq {expected - 1} (duplicate or moved)"
    record = _record(row)
    content_ok = digest(record) == row["hash"]
    if row["prev_hash"] == prev_hash:
        return None if content_ok else "content changed: its stored fields no longer match its hash"
    if content_ok:
        return f"link broken: prev_hash is not the hash of seq {seq - 1} (that event was rewritten)"
    written = await _written_seq(conn, events, row["instance"], row["prev_hash"], depth=8)
    if written is not None and written != seq and digest({**record, "seq": written}) == row["hash"]:
        return f"reordered: written as seq {written} but stored as seq {seq}"
    if digest({**record, "prev_hash": prev_hash}) == row["hash"]:
        return f"link broken: prev_hash was changed (it no longer names seq {seq - 1})"
    return f"content changed and link broken: neither its fields nor its prev_hash match seq {seq - 1}"


async def _written_seq(
    conn: AsyncConnection, events: sa.Table, instance: str, prev_hash: str, depth: int
) -> int | None:
    """The seq an intact event was written with, found from the event its prev_hash names."""
    if prev_hash == ZERO_HASH:
        return 1
    query = sa.select(events).where(events.c.instance == instance, events.c.hash == prev_hash)
    origin = (await conn.execute(query.limit(1))).mappings().first()
    if origin is None:
        return None
    record = _record(origin)
    if digest(record) == origin["hash"]:
        return int(origin["seq"]) + 1
    if depth == 0:
        return None
    moved = await _written_seq(conn, events, instance, origin["prev_hash"], depth - 1)
    if moved is not None and digest({**record, "seq": moved}) == origin["hash"]:
        return moved + 1
    return None
