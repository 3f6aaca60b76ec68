"""Streaming an export: keyset pages from the connector, per-row conditions, encoders, and
the ASGI response that knows what reached the client.

Rows come from ``Connector.scan`` one page (``PAGE_ROWS``) at a time, ordered by the subject
key, each page asked for after the last key of the one before (keyset pagination): memory
holds one page, whatever the row count. Each page is filtered and masked per row
(``policies.bulk.ExportPlan.row_access``), a daily cap admits the page's subjects at once
(``GrantStore.admit_many``), then encoded (NDJSON with orjson, CSV with the stdlib ``csv``
module, RFC 4180) and sent as one chunk.

``ExportResponse`` is own code rather than Starlette's ``StreamingResponse``: the audit event
that ends an export must say how many rows were actually handed to the server before a
client went away, and uvicorn drops (without an error) what is sent after a disconnect. It
listens for ``http.disconnect`` while it sends and counts a chunk only when no disconnect
was seen by the time the chunk's send returned (then it reached the transport).

Per-row annotations (``PageAnnotator``, e.g. the ``_disputed`` list of open objections) are
applied to each page in ``annotate_page``, after the policy and before encoding: the one
place where such keys are added to rows.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from connectors.base import Row
from errors import AuditUnavailable, GovshareError, RateLimited, SourceUnavailable
from policies.bulk import ExportPlan
from policies.decision import Grant, SubjectAccess
from policies.resilience import call_outcome
from resolvers.batching import ResourceSource
from resolvers.breaker import CircuitBreaker
from resolvers.context import GrantStore

log = logging.getLogger("govshare.export")

PAGE_ROWS = 1000  # rows per source page and per chunk sent: ~10 ms of event loop at most
KEY = "__key__"  # where connectors put the subject key of a scanned row


class PageAnnotator(Protocol):
    """Adds keys to the rows of one page, in place, after the policy has been applied (e.g.
    ``_disputed: [objection ids]``). Called once per page: one lookup per page, not per row."""

    async def __call__(self, resource: str, rows: list[Row]) -> None: ...


@dataclass(eq=False)
class ExportJob:
    """One export: what to read (plan, source, filters) and what happened so far."""

    plan: ExportPlan
    source: ResourceSource
    grants: GrantStore
    today: dt.date  # the China day a daily cap counts on
    after: str | None = None
    since: dt.datetime | None = None  # naive China time, as source stamps are kept
    limit: int | None = None
    annotators: Sequence[PageAnnotator] = ()
    # raises the refusal that ends the export when its grants no longer hold (revoked,
    # expired: ``policies.bulk.still_granted``); awaited before each page after the first
    recheck: Callable[[], Awaitable[None]] | None = None
    stopped: str | None = None  # "daily_cap" when a grant's cap ended the export early
    left_out: int = 0  # rows outside the divisions of the grants relied on


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    first_key: str
    last_key: str


async def pages(job: ExportJob) -> AsyncIterator[Page]:
    """The export's rows, page by page, each row as the consumer may see it. When every
    scanned row is shown (no per-row condition), the next page is read while this one is
    encoded and sent: the source works in its own thread meanwhile (two pages in memory)."""
    after, left = job.after, job.limit
    wanted = _wanted(left)
    pending: asyncio.Future[list[Row]] | None = _scan(job, after, wanted)
    checked = False  # the first page goes out under the decision just made
    try:
        while pending is not None:
            scanned, pending = await pending, None
            if not scanned:
                return
            if checked and job.recheck is not None:
                await job.recheck()  # before the page's deferred items are even read
            checked = True
            after, full = str(scanned[-1][KEY]), len(scanned) == wanted
            if full and not job.plan.per_row:  # every row is shown: the next page can start now
                left = None if left is None else left - len(scanned)
                wanted = _wanted(left)
                pending = _scan(job, after, wanted) if wanted else None
            rows = await _admitted(job, scanned)
            if full and job.plan.per_row and not job.stopped:
                left = None if left is None else left - len(rows)
                wanted = _wanted(left)
                pending = _scan(job, after, wanted) if wanted else None
            if rows:
                await annotate_page(job, rows)
                key = job.plan.resource.key
                yield Page(rows, str(rows[0][key]), str(rows[-1][key]))
    finally:
        if pending is not None:  # the client went away: the read ahead is not needed
            pending.cancel()


def _wanted(left: int | None) -> int:
    return PAGE_ROWS if left is None else min(PAGE_ROWS, left)


def _scan(job: ExportJob, after: str | None, wanted: int) -> asyncio.Future[list[Row]]:
    """The next page's read, behind the source's circuit breaker (resolvers.breaker): while it
    is open the read fails at once, as a failed read would; its outcome counts."""
    breaker = job.source.breaker
    if breaker is not None:
        try:
            breaker.allow()
        except SourceUnavailable as exc:
            refused: asyncio.Future[list[Row]] = asyncio.get_running_loop().create_future()
            refused.set_exception(exc)
            return refused
    items = tuple(name for name in job.plan.items if name not in job.plan.deferred)
    call = job.source.connector.scan(job.source.binding, items, after=after, since=job.since, limit=wanted)
    future = asyncio.ensure_future(call)
    future.add_done_callback(_retrieve)
    if breaker is not None:
        future.add_done_callback(lambda done: _count(breaker, done))
    return future


def _count(breaker: CircuitBreaker, done: asyncio.Future[Any]) -> None:
    if done.cancelled():  # the client went away: says nothing about the source
        return
    failure = done.exception()
    reason = failure.message if isinstance(failure, SourceUnavailable) else type(failure).__name__
    breaker.record(call_outcome(failure), reason)  # policies.resilience


def _retrieve(future: asyncio.Future[Any]) -> None:
    """A read ahead that failed after its export ended: seen, so asyncio logs nothing."""
    if not future.cancelled():
        future.exception()


async def annotate_page(job: ExportJob, rows: list[Row]) -> None:
    """THE place where per-row annotations join exported rows (``PageAnnotator``)."""
    for annotate in job.annotators:
        await annotate(job.plan.resource.id, rows)


async def _admitted(job: ExportJob, scanned: list[Row]) -> list[Row]:
    """The rows as they may be shown: the key column dropped, rows outside the
    grants' divisions left out, masks applied; a used-up daily cap stops the export at the
    first row it does not admit. Items under a region or cap condition (``deferred``) are
    fetched only for the rows admitted: never a value of a subject that may not see it."""
    if not job.plan.per_row:
        return _masked(scanned, job.plan.plan.plain.masks)
    shown: list[tuple[Row, SubjectAccess, str]] = []
    for row in scanned:
        key = str(row.pop(KEY))
        access = job.plan.row_access(key)
        if access is None:
            job.left_out += 1
            continue
        shown.append((row, access, key))
    kept = await _within_caps(job, shown)
    rows = [row for row, _, _ in kept]
    if job.plan.deferred and rows:
        rows = await _with_deferred(job, rows)
    return [_mask_row(row, access) for row, (_, access, _) in zip(rows, kept, strict=True)]


async def _with_deferred(job: ExportJob, rows: list[Row]) -> list[Row]:
    """The rows with their deferred items, fetched for these keys only (one ``IN`` query per
    page), items in export order. A row gone from the source meanwhile keeps nulls."""
    key, deferred, items = job.plan.resource.key, job.plan.deferred, job.plan.items
    fetched = await job.source.fetch([row[key] for row in rows], deferred)
    empty = dict.fromkeys(deferred)
    return [_ordered({**row, **fetched.get(row[key], empty)}, items) for row in rows]


def _ordered(row: Row, items: tuple[str, ...]) -> Row:
    return {name: row[name] for name in items}


def _masked(rows: list[Row], masks: Any) -> list[Row]:
    for row in rows:
        del row[KEY]
    if masks:
        for row in rows:
            for name, mask in masks.items():
                row[name] = mask.apply(row[name])
    return rows


def _mask_row(row: Row, access: SubjectAccess) -> Row:
    for name, mask in access.masks.items():
        row[name] = mask.apply(row[name])
    return row


Shown = list[tuple[Row, SubjectAccess, str]]  # a row, what it may show, its subject key


async def _within_caps(job: ExportJob, shown: Shown) -> Shown:
    """The rows up to the first whose subject a grant's daily cap does not admit (then the
    export stops: ``job.stopped``). Each capped grant is asked once for the page: first only
    looking, to find where the page stops, then counting the subjects before that point, so
    that a subject beyond the stop is never counted by another grant."""
    grants = sorted({g.id: g for _, access, _ in shown for g in access.capped.values()}.items())
    stop = len(shown)
    for count in (False, True):
        for _, grant in grants:
            stop = await _admitted_prefix(job, grant, shown[:stop], count=count)
    if stop < len(shown):
        job.stopped = "daily_cap"
    return shown[:stop]


async def _admitted_prefix(job: ExportJob, grant: Grant, shown: Shown, *, count: bool) -> int:
    """How many of the rows come before the first one ``grant``'s cap refuses."""
    at = [i for i, (_, access, _) in enumerate(shown) if grant in access.capped.values()]
    admitted = await job.grants.admit_many(grant, [shown[i][2] for i in at], job.today, count=count)
    return at[admitted] if admitted < len(at) else len(shown)


# --- encoders ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """Bytes to send and the rows they complete (a row is counted once its bytes are sent)."""

    body: bytes
    rows: int
    last_key: str | None
    first_key: str | None = None


def ndjson_lines(rows: list[Row]) -> bytes:
    """One JSON object per line (NDJSON, ``\\n`` after each); non-JSON values as text."""
    dumps, option = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    return b"".join([dumps(row, default=str, option=option) for row in rows])


async def ndjson_pieces(job: ExportJob) -> AsyncIterator[Piece]:
    async for page in pages(job):
        yield Piece(ndjson_lines(page.rows), len(page.rows), page.last_key, page.first_key)
    stopped_early(job)


class CSVEncoder:
    """RFC 4180 CSV (CRLF line ends, fields quoted when they hold a comma, quote or line
    break), UTF-8, optionally with a BOM (Excel reads UTF-8 only with one). Booleans are
    written ``true``/``false`` as in JSON, null as an empty field.

    A text cell (header included) whose first character would make a spreadsheet read it as
    a formula (``FORMULA_TRIGGERS``) is written with a leading apostrophe, the "text" mark
    of Excel and LibreOffice (OWASP "CSV Injection"; ASVS 5.0 requirement 1.2.10): a source
    value must never run as a formula on the consumer's desk. Numbers stay numbers; NDJSON
    carries every value exactly as stored."""

    def __init__(self, columns: Sequence[str], header: Sequence[str], bom: bool) -> None:
        self.columns = tuple(columns)
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")
        self._prefix = "\ufeff" if bom else ""
        self.header = header

    def head(self) -> bytes:
        self._writer.writerow([_csv_value(name) for name in self.header])
        return (self._prefix + self._take()).encode()

    def encode(self, rows: list[Row]) -> bytes:
        columns = self.columns
        self._writer.writerows([[_csv_value(row.get(c)) for c in columns] for row in rows])
        return self._take().encode()

    def _take(self) -> str:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\x00")  # OWASP CSV Injection; ASVS 1.2.10


def _csv_value(value: Any) -> Any:
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


async def csv_pieces(job: ExportJob, encoder: CSVEncoder) -> AsyncIterator[Piece]:
    yield Piece(encoder.head(), 0, None)
    async for page in pages(job):
        yield Piece(encoder.encode(page.rows), len(page.rows), page.last_key, page.first_key)
    stopped_early(job)


def stopped_early(job: ExportJob) -> None:
    """An NDJSON or CSV stream that a daily cap stopped is cut (RATE_LIMITED), not ended: a
    short body that looked complete would hide the missing rows. Resume tomorrow with
    ``after`` = the last key received."""
    if job.stopped == "daily_cap":
        raise RateLimited(
            f"{job.plan.resource.id}: a grant's daily cap of subjects is used up; the export stopped "
            "there: resume tomorrow with after=<the last key received>",
            resource=job.plan.resource.id,
            reasons=["daily_cap"],
        )


# --- the response ---------------------------------------------------------------------------


@dataclass
class Sent:
    """What reached the server: rows and bytes whose send returned before any disconnect,
    the last such row's key, the keyed digest of those bytes, and how it ended."""

    rows: int = 0
    bytes: int = 0
    first_key: str | None = None
    last_key: str | None = None
    digest: str | None = None
    outcome: str = "answered"  # answered | partial (client gone) | an error code
    error: GovshareError | None = None
    hasher: Any = None  # hmac object, updated with every byte sent

    def add(self, piece: Piece) -> None:
        self.rows += piece.rows
        self.bytes += len(piece.body)
        self.last_key = piece.last_key or self.last_key
        self.first_key = self.first_key or piece.first_key
        if self.hasher is not None:
            self.hasher.update(piece.body)


Finish = Callable[[Sent], Awaitable[None]]


class ExportResponse(Response):
    """Streams ``pieces``; ``finish`` records the end (audit) BEFORE the final empty chunk
    is sent, so a client never sees a complete export that is not recorded; if ``finish``
    fails the body is left unterminated (the client sees a truncated transfer)."""

    def __init__(
        self,
        pieces: AsyncIterator[Piece],
        headers: dict[str, str],
        media_type: str,
        finish: Finish,
        sent: Sent,
    ) -> None:
        # as Starlette's StreamingResponse: no body attribute, so no Content-Length (chunked)
        self.status_code, self.media_type, self.background = 200, media_type, None
        self.init_headers(headers)
        self.pieces, self.finish, self.sent = pieces, finish, sent

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gone = asyncio.Event()
        watcher = asyncio.ensure_future(_watch_disconnect(receive, gone))
        try:
            first = await self._first()  # before any header: a source down at once is a plain 503
            if isinstance(first, GovshareError):
                await self._finished()
                await _send_error(send, first)
                return
            await send(
                {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
            )
            complete = await self._stream(send, gone, _resumed(first, self.pieces))
            if await self._finished() and complete:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            await _close(self.pieces)

    async def _first(self) -> Piece | GovshareError | None:
        try:
            return await anext(self.pieces)
        except StopAsyncIteration:
            return None
        except GovshareError as exc:
            self.sent.outcome, self.sent.error = exc.code, exc
            return exc
        except asyncio.CancelledError:  # the server is stopping: the end is recorded all the same
            self.sent.outcome = "partial"
            await self._finished()
            raise
        except Exception:  # a bug: logged, recorded, answered without its text (a value may be in it)
            log.exception("export failed before its first row")
            error = GovshareError("internal error; the incident is logged")
            self.sent.outcome, self.sent.error = error.code, error
            return error

    async def _stream(self, send: Send, gone: asyncio.Event, pieces: AsyncIterator[Piece]) -> bool:
        """True when every piece was sent; False when the client went or the source failed."""
        try:
            async for piece in pieces:
                if gone.is_set():
                    break
                await send({"type": "http.response.body", "body": piece.body, "more_body": True})
                await asyncio.sleep(0)  # let a pending disconnect be seen before counting
                if gone.is_set():
                    break
                self.sent.add(piece)
        except GovshareError as exc:  # a source failing mid-stream: cut, recorded with its code
            log.warning("export cut: %s", exc.message)
            self.sent.outcome, self.sent.error = exc.code, exc
            return False
        except asyncio.CancelledError:  # the server is stopping: what was sent is recorded
            self.sent.outcome = "partial"
            await self._finished()
            raise
        except Exception:  # a bug: cut and recorded, never a complete-looking answer
            log.exception("export failed")
            self.sent.outcome = "INTERNAL"
            return False
        if gone.is_set():
            self.sent.outcome = "partial"
            return False
        return True

    async def _finished(self) -> bool:
        """Record the end (shielded: a stopping server still records it); False when the
        audit store refused it, and then a complete stream is left unterminated."""
        try:
            await asyncio.shield(self.finish(self.sent))
        except AuditUnavailable as exc:
            log.error("an export's end could not be recorded (%s rows sent): %s", self.sent.rows, exc.message)
            return False
        return True


async def _resumed(first: Piece | None, rest: AsyncIterator[Piece]) -> AsyncIterator[Piece]:
    if first is not None:
        yield first
    async for piece in rest:
        yield piece


async def _send_error(send: Send, error: GovshareError) -> None:
    """The error as a whole answer, ``{"errors": [{message, extensions}]}``."""
    body = orjson.dumps({"errors": [{"message": error.message, "extensions": error.extensions}]})
    headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store"),
               (b"content-length", str(len(body)).encode())]  # fmt: skip
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _watch_disconnect(receive: Receive, gone: asyncio.Event) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.set()
            return


async def _close(pieces: AsyncIterator[Piece]) -> None:
    close = getattr(pieces, "aclose", None)
    if close is not None:
        await close()
