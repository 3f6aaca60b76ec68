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
    response is represented only by ``response_digest``, the sha256 of its canonical JSON.

Reading
    ``AuditLog.events`` returns plain JSON-ready dicts, oldest first (by seq, then instance),
    each exactly the hashed record plus ``hash``: anyone can re-check an exported line with
    ``digest(line without "hash") == line["hash"]``. Providers see events on their
    resources through the ``<table>_resources`` index table, which is not part of the chain
    (it only decides visibility; events are re-checked against their hashed ``resources``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from errors import AuditUnavailable
from gateway.platform import Base, UTCDateTime, json_text

log = logging.getLogger("govshare.audit")

KINDS: Final = frozenset({"query", "compare", "export", "workflow", "admin", "auth"})
ZERO_HASH: Final = "0" * 64
DEFAULT_INSTANCE: Final = "main"
DEFAULT_TABLE: Final = "audit_events"
_VERIFY_PAGE: Final = 2000
_HEX64 = re.compile(r"[0-9a-f]{64}")
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,40}")
_TEXT_FIELDS: Final = ("kind", "consumer", "client", "user", "purpose", "application", "mode", "outcome")
_LIST_FIELDS: Final = ("resources", "items", "subjects")


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

    Values without floats go through orjson, which writes the very same bytes (keys in
    UTF-8 byte order = code point order) several times faster; anything orjson would write
    differently (floats, NaN, non-text keys, huge ints, lone surrogates) takes the json path.
    """
    if _floatless(value):
        try:
            return orjson.dumps(value, option=_ORJSON_CANONICAL, default=_json_default)
        except orjson.JSONEncodeError:
            pass
    return _canonical_slow(value)


_ORJSON_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


_SCALARS = frozenset({str, int, bool, type(None)})


def _floatless(value: Any) -> bool:
    """No float anywhere inside (exact type checks first: this runs on every answer)."""
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
    """Hex sha256 of ``canonical_json(value)``."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


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
        sa.Index(f"ix_{name}_consumer", "consumer"),
    )
    resources = sa.Table(
        f"{name}_resources",
        metadata,
        sa.Column("resource", sa.Text, primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
    )
    return events, resources


AUDIT_EVENTS, AUDIT_RESOURCES = audit_tables(Base.metadata)  # PlatformDB.create_schema makes them


def _tables(name: str) -> tuple[sa.Table, sa.Table]:
    if name == DEFAULT_TABLE:
        return AUDIT_EVENTS, AUDIT_RESOURCES
    if not _NAME.fullmatch(name):
        raise ValueError(f"audit table name {name!r} must match {_NAME.pattern}")
    return audit_tables(sa.MetaData(), name)


def _engine(url: str) -> AsyncEngine:
    engine = create_async_engine(url, hide_parameters=True, json_serializer=json_text)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine.sync_engine, "connect", _sqlite_durable)
    return engine


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
            raise AuditUnavailable(f"the audit store {_safe_url(url)} cannot be opened: no folder {folder}")


def _safe_url(url: str) -> str:
    return sa.make_url(url).render_as_string(hide_password=True)


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


async def _load_head(conn: AsyncConnection, events: sa.Table, instance: str) -> tuple[int, str]:
    query = (
        sa.select(events.c.seq, events.c.hash)
        .where(events.c.instance == instance)
        .order_by(events.c.seq.desc())
        .limit(1)
    )
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
    processes writing the same database. ``table`` exists for tests.
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
    ) -> None:
        self.instance = instance or DEFAULT_INSTANCE
        if len(self.instance) > 64:
            raise ValueError("an audit instance name has at most 64 characters")
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.url = url
        self.engine = _engine(url)
        self._events, self._resources = _tables(table)
        self._max_batch, self._timeout, self._max_pending = max_batch, timeout, max_pending
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._head: tuple[int, str] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._closing = False

    async def __aenter__(self) -> AuditLog:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Create the tables if needed, load this instance's chain head, start the writer."""
        if self._writer is not None:
            raise RuntimeError("this AuditLog was already started; make a new one to reopen")
        tables = [self._events, self._resources]
        _check_folder(self.url)
        try:
            async with self.engine.begin() as conn:
                await conn.run_sync(lambda sync: self._events.metadata.create_all(sync, tables=tables))
            async with self.engine.connect() as conn:
                self._head = await _load_head(conn, self._events, self.instance)
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            log.error("audit store %s cannot be opened: %s", _safe_url(self.url), exc)
            raise AuditUnavailable(f"the audit store {_safe_url(self.url)} cannot be opened: {exc}") from exc
        self._writer = asyncio.create_task(self._run(), name=f"audit-writer-{self.instance}")

    async def append(self, event: AuditEvent) -> AuditReceipt:
        """Record ``event``; return once it is committed durably, else raise AuditUnavailable."""
        if self._writer is None or self._closing or self._writer.done():
            raise AuditUnavailable("the audit log is not running, so the request is refused")
        if self._queue.qsize() >= self._max_pending:
            raise AuditUnavailable("the audit log is behind (backlog full), so the request is refused")
        content = _content(event)
        future: asyncio.Future[AuditReceipt] = asyncio.get_running_loop().create_future()
        now = dt.datetime.now(dt.UTC)
        self._queue.put_nowait(_Pending(content, f"audit-{uuid.uuid4().hex}", now, future))
        try:
            async with asyncio.timeout(self._timeout):
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
    ) -> list[dict[str, Any]]:
        """Stored events, OLDEST FIRST (by seq, then instance), as JSON-ready dicts.

        ``consumer`` and ``provider_resources`` are visibility scopes: given together, an
        event matches if it is the consumer's own OR touches one of the resources; None
        means no restriction (an operator passes neither). ``since`` is inclusive, ``until``
        exclusive (naive datetimes are UTC). Page with ``after_seq`` = the last returned
        seq: a page never splits one seq across instances, so it may hold a few more than
        ``limit`` events when several instances write.
        """
        where = self._filters(consumer, provider_resources, since, until, after_seq, instance)
        base = sa.select(self._events).where(*where)
        try:
            async with self.engine.connect() as conn:
                rows = list((await conn.execute(base.order_by("seq", "instance").limit(limit))).mappings())
                if rows and len(rows) == limit:
                    column = self._events.c
                    rest = base.where(column.seq == rows[-1]["seq"], column.instance > rows[-1]["instance"])
                    rows += list((await conn.execute(rest.order_by("instance"))).mappings())
        except sa.exc.SQLAlchemyError as exc:
            raise AuditUnavailable(f"the audit store cannot be read: {exc.__class__.__name__}") from exc
        found = [{**_record(row), "hash": row["hash"]} for row in rows]
        return [event for event in found if _visible(event, consumer, provider_resources)]

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

    # --- the writer -------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            if first is _STOP:
                return
            await asyncio.sleep(0)  # one turn of the loop: requests ready now join this batch
            batch, stop = [first], False
            while len(batch) < self._max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            await self._write(batch)
            if stop:
                return

    async def _write(self, batch: list[_Pending]) -> None:
        try:
            head = self._head or await self._reload_head()
            rows, links, receipts, head = self._chain(batch, head)
            if rows:
                async with self.engine.begin() as conn:
                    await conn.execute(self._events.insert(), rows)
                    if links:
                        await conn.execute(self._resources.insert(), links)
        except Exception as exc:  # any failure: the whole batch fails closed
            self._head = None  # reload from the database before the next batch
            log.error("audit batch of %d events not written: %s", len(batch), exc)
            for pending in batch:
                _refuse(pending, _unavailable())
            return
        self._head = head
        for pending, receipt in receipts:
            if not pending.future.done():
                pending.future.set_result(receipt)

    async def _reload_head(self) -> tuple[int, str]:
        async with self.engine.connect() as conn:
            return await _load_head(conn, self._events, self.instance)

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
) -> AsyncIterator[dict[str, Any]]:
    """Every event (since ``since``), oldest first, page by page."""
    audit = AuditLog(url, table=table)
    try:
        after: int | None = None
        while batch := await audit.events(since=since, after_seq=after, limit=page):
            for event in batch:
                yield event
            after = batch[-1]["seq"]
    finally:
        await audit.close()


# --- verification ---------------------------------------------------------------------


async def verify_chain(url: str, *, table: str = DEFAULT_TABLE) -> VerifyResult:
    """Walk every instance's chain from seq 1 and name the first broken event.

    Each event's hash is recomputed from its stored fields, its prev_hash must be the hash
    of the event before it, and seq must run 1, 2, 3 ... Instances are walked in name order.
    """
    events, _ = _tables(table)
    _check_folder(url)
    engine = _engine(url)
    try:
        async with engine.connect() as conn:
            if not await conn.run_sync(lambda sync: sa.inspect(sync).has_table(events.name)):
                raise AuditUnavailable(
                    f"{_safe_url(url)} has no {events.name} table: nothing was audited there yet, "
                    "or --data / GOVSHARE_DATABASE_URL names the wrong database"
                )
            names = await conn.scalars(sa.select(events.c.instance).distinct().order_by(events.c.instance))
            checked = 0
            for instance in names.all():
                count, broken, reason = await _verify_instance(conn, events, instance)
                checked += count
                if broken is not None:
                    return VerifyResult(False, checked, broken, reason)
            return VerifyResult(True, checked)
    except sa.exc.SQLAlchemyError as exc:
        raise AuditUnavailable(f"the audit store {_safe_url(url)} cannot be read: {exc}") from exc
    finally:
        await engine.dispose()


async def _verify_instance(
    conn: AsyncConnection, events: sa.Table, instance: str
) -> tuple[int, str | None, str | None]:
    checked, expected, prev_hash = 0, 1, ZERO_HASH
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
