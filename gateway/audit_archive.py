"""Archive the audit trail's oldest events into a signed file and prune them from the live
chains, which stay verifiable (issue 12 section 2; Zhengzhou art. 27 信息审计跟踪 and 容灾备份,
Zhejiang art. 33, Sanya art. 22 确保数据可追溯). X-Road archives its message log every 6 hours;
``govshare audit archive --older-than 6h DIR`` does the same here.

An archive is a ZIP written like an export package (gateway.package, whose signing and
offline checks it reuses):

- ``events.ndjson``: the archived events, one canonical JSON line each (exactly what
  ``govshare audit export`` writes: the hashed record plus ``hash``), chain by chain
  (instance name order), seq ascending;
- ``manifest.json``: format, created, cut (events strictly older were taken), ``chains``
  (per instance: firstSeq, lastSeq, prevHash = the hash the first one links to, lastHash,
  events) and ``data`` (file, SHA-256, bytes, rows);
- ``manifest.jws``: compact JWS (RFC 7515, ES256, the gateway's current key) over
  ``manifest.json``, ``typ`` ``govshare-audit-archive+jws`` (RFC 8725 section 3.11: an
  export package's signature does not vouch for an archive, nor the reverse).

Per chain only a PREFIX is taken (the events before its first event at or after the cut),
so the live part stays one unbroken chain. Order of work, so that no event is ever deleted
without a verified copy on disk: write the ZIP to a temporary name, fsync it, rename it,
fsync the folder; verify the file as written (signature, data hash, every event's hash and
link) and that it holds exactly the planned ranges; then delete. Each delete transaction
takes a piece of at most ``PRUNE_PIECE`` events from the front of a chain: it re-reads
their hashes (unchanged since written), deletes the events and their index rows, and moves
the chain's anchor (``NAME_anchors``: last pruned seq and hash, archive name and SHA-256) to
the piece's last event, all or nothing. So the chain verifies after every transaction, and
a SQLite writer (the serving gateway's audit log) waits well under a second for the lock
(100,000 events in one transaction held it 1.9 s on a 2-core machine). The usage
aggregates are kept: statistics do not change when raw events move to an archive. A chain
whose every event was archived continues after its anchor (gateway.audit loads the head
from it).

Own code because no library archives a hash chain; ZIP, JWS and hashing are the stdlib's and
joserfc's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import os
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from errors import AuditUnavailable, BadRequest
from gateway import dbschema
from gateway.audit import (
    AUDIT_EVENTS,
    DEFAULT_TABLE,
    AuditTables,
    _create,
    _engine,
    _record,
    _tables,
    canonical_json,
    digest,
    load_anchor,
)
from gateway.auth import Signer
from gateway.package import MANIFEST, SIGNATURE, PackageCheck, sign_manifest, verify_package

ARCHIVE_TYPE: Final = "govshare-audit-archive+jws"
ARCHIVE_FORMAT: Final = "govshare-audit-archive/1"
EVENTS_FILE: Final = "events.ndjson"
_PAGE: Final = 2000
PRUNE_PIECE: Final = 10 * _PAGE  # events deleted per transaction
MAX_EVENT_LINE: Final = 1 << 20  # bytes: a hostile archive's line is not read whole
_AGE = re.compile(r"([1-9][0-9]{0,6})([smhdw])")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(frozen=True)
class ChainRange:
    """One chain's archived events: seq ``first_seq``..``last_seq`` (inclusive), the first
    linking to ``prev_hash`` (the previous anchor, or 64 zeros), the last hashing to
    ``last_hash``; ``pieces`` splits the range into the transactions that delete it: (first
    seq, last seq, last hash, SHA-256 of their hashes in seq order, hex each + LF), the
    digest re-checked just before the piece is deleted."""

    instance: str
    first_seq: int
    last_seq: int
    prev_hash: str
    last_hash: str
    events: int
    pieces: tuple[tuple[int, int, str, str], ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"instance": self.instance, "firstSeq": self.first_seq, "lastSeq": self.last_seq,
                "prevHash": self.prev_hash, "lastHash": self.last_hash, "events": self.events}  # fmt: skip


@dataclass(frozen=True)
class ArchiveResult:
    """What ``archive_and_prune`` did: the archive written (None: nothing older than the
    cut, nothing written or deleted), its SHA-256, the chains pruned, events moved."""

    path: Path | None
    sha256: str | None
    cut: dt.datetime
    chains: tuple[ChainRange, ...]

    @property
    def events(self) -> int:
        return sum(chain.events for chain in self.chains)

    def as_json(self) -> dict[str, Any]:
        return {"archive": None if self.path is None else str(self.path), "sha256": self.sha256,
                "cut": _iso(self.cut), "events": self.events,
                "chains": [chain.as_json() for chain in self.chains]}  # fmt: skip


def parse_age(text: str, flag: str = "--older-than") -> dt.timedelta:
    """``6h``, ``30d``, ``45m``, ``90s``, ``2w`` as a timedelta; BadRequest naming ``flag``."""
    found = _AGE.fullmatch(text.strip())
    if found is None:
        raise BadRequest(
            f"{flag} {text!r} is not an age: give a whole number and a unit s, m, h, d or w (e.g. 6h or 30d)",
            argument=flag,
        )
    return dt.timedelta(seconds=int(found[1]) * _UNITS[found[2]])


async def archive_and_prune(
    url: str,
    signer: Signer,
    out_dir: Path,
    older_than: dt.timedelta,
    *,
    now: dt.datetime | None = None,
    table: str = DEFAULT_TABLE,
) -> ArchiveResult:
    """Archive every chain's events older than ``now - older_than`` into a signed ZIP in
    ``out_dir`` and prune them (module docstring). Raises BadRequest for a bad folder,
    AuditUnavailable when the store cannot be read or the written archive does not verify
    (nothing is deleted then; the problems are named)."""
    cut = (now or dt.datetime.now(dt.UTC)) - older_than
    tables = _tables(table)
    engine = _engine(url)
    try:
        await _prepare(engine, tables)
        async with engine.connect() as conn:
            plan = await _plan(conn, tables, cut)
        if not plan:
            return ArchiveResult(None, None, cut, ())
        path = _target(out_dir, cut)
        async with engine.connect() as conn:
            written = await _write_archive(conn, tables.events, plan, path, signer, cut)
        sha256 = _check_written(path, signer, written)
        for chain in written:
            for piece in chain.pieces:
                async with engine.begin() as conn:
                    await _prune(conn, tables, chain.instance, piece, (path.name, sha256))
        return ArchiveResult(path, sha256, cut, tuple(written))
    except sa.exc.SQLAlchemyError as exc:
        where = dbschema.shown_url(url)
        raise AuditUnavailable(f"the audit store {where} cannot be archived: {exc}") from exc
    except OSError as exc:  # a folder that cannot be made, a full disk: nothing was pruned
        where = f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)
        raise AuditUnavailable(f"the audit archive cannot be written, nothing was pruned: {where}") from exc
    finally:
        await engine.dispose()


async def _plan(
    conn: AsyncConnection, tables: AuditTables, cut: dt.datetime
) -> list[tuple[str, int, int, str]]:
    """Per chain with something to archive: (instance, first seq, last seq, prev hash). The
    range ends before the chain's first event at or after the cut (a prefix: the live part
    stays one chain even if a clock stepped back)."""
    column = tables.events.c
    names = await conn.scalars(sa.select(column.instance).distinct().order_by(column.instance))
    plan = []
    for instance in names.all():
        anchor_seq, anchor_hash = await load_anchor(conn, tables.anchors, instance)
        mine = column.instance == instance
        young = await conn.scalar(sa.select(sa.func.min(column.seq)).where(mine, column.time >= cut))
        last = (
            (young - 1)
            if young is not None
            else await conn.scalar(sa.select(sa.func.max(column.seq)).where(mine))
        )
        if last is not None and last > anchor_seq:
            plan.append((instance, anchor_seq + 1, int(last), anchor_hash))
    return plan


async def _prepare(engine: AsyncEngine, tables: AuditTables) -> None:
    """The platform's tables at this version's revision (the anchors come with revision 0003:
    SQLite is upgraded, a PostgreSQL database behind is refused naming ``govshare db
    upgrade``, as at a gateway's start); a test's own tables are made if missing."""
    if tables.events is AUDIT_EVENTS:
        await dbschema.prepare(engine)
        return
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: _create(sync, list(tables)))


def _target(out_dir: Path, cut: dt.datetime) -> Path:
    if out_dir.exists() and not out_dir.is_dir():
        raise BadRequest(
            f"{out_dir} is not a folder: give the folder archives are written to", argument="DIR"
        )
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return out_dir / f"audit-archive-{stamp}-before-{cut.astimezone(dt.UTC).strftime('%Y%m%dT%H%M%SZ')}.zip"


async def _write_archive(
    conn: AsyncConnection,
    events: sa.Table,
    plan: list[tuple[str, int, int, str]],
    path: Path,
    signer: Signer,
    cut: dt.datetime,
) -> list[ChainRange]:
    """Stream the planned ranges into the ZIP (page by page), sign, fsync, rename."""
    draft = path.with_name(f".{path.name}.partial")
    try:
        return await _write_draft(conn, events, plan, (draft, path), signer, cut)
    except BaseException:
        draft.unlink(missing_ok=True)  # a full disk or a stop leaves no half archive behind
        raise


async def _write_draft(
    conn: AsyncConnection,
    events: sa.Table,
    plan: list[tuple[str, int, int, str]],
    paths: tuple[Path, Path],
    signer: Signer,
    cut: dt.datetime,
) -> list[ChainRange]:
    draft, path = paths
    hasher, size, chains = hashlib.sha256(), 0, []
    with (
        draft.open("wb") as handle,
        zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        with archive.open(_member(), "w", force_zip64=True) as member:
            for instance, first, last, prev in plan:
                chain, written = await _write_chain(
                    conn, events, (instance, first, last, prev), member, hasher
                )
                chains.append(chain)
                size += written
        data = {"file": EVENTS_FILE, "format": "ndjson", "sha256": hasher.hexdigest(), "bytes": size,
                "rows": sum(chain.events for chain in chains)}  # fmt: skip
        manifest = _manifest(cut, chains, data)
        archive.writestr(MANIFEST, manifest)
        archive.writestr(SIGNATURE, sign_manifest(signer, manifest, ARCHIVE_TYPE))
        archive.close()
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(draft, path)
    fsync_folder(path.parent)
    return chains


async def _write_chain(
    conn: AsyncConnection, events: sa.Table, span: tuple[str, int, int, str], member: IO[bytes], hasher: Any
) -> tuple[ChainRange, int]:
    instance, first, last, prev = span
    column = events.c
    query = (
        sa.select(events)
        .where(column.instance == instance, column.seq.between(first, last))
        .order_by(column.seq)
    )
    pieces: list[tuple[int, int, str, str]] = []
    hashes, size, count, last_hash, after = hashlib.sha256(), 0, 0, prev, first - 1
    while rows := list((await conn.execute(query.where(column.seq > after).limit(_PAGE))).mappings()):
        lines = b"".join(canonical_json({**_record(row), "hash": row["hash"]}) + b"\n" for row in rows)
        await asyncio.to_thread(member.write, lines)  # deflate, off the event loop
        hasher.update(lines)
        hashes.update(b"".join(row["hash"].encode() + b"\n" for row in rows))
        size, count, last_hash, after = (
            size + len(lines),
            count + len(rows),
            rows[-1]["hash"],
            rows[-1]["seq"],
        )
        if count % PRUNE_PIECE == 0 or after >= last:  # pages are whole fractions of a piece
            start = pieces[-1][1] + 1 if pieces else first
            pieces.append((start, after, last_hash, hashes.hexdigest()))
            hashes = hashlib.sha256()
    return ChainRange(instance, first, last, prev, last_hash, count, tuple(pieces)), size


def _manifest(cut: dt.datetime, chains: list[ChainRange], data: Mapping[str, Any]) -> bytes:
    manifest = {"format": ARCHIVE_FORMAT, "created": _iso(dt.datetime.now(dt.UTC)), "cut": _iso(cut),
                "chains": [chain.as_json() for chain in chains], "data": dict(data)}  # fmt: skip
    return orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)


def _check_written(path: Path, signer: Signer, planned: list[ChainRange]) -> str:
    """The archive as written verifies and holds exactly the planned ranges; its SHA-256.
    Raises AuditUnavailable naming the problems (nothing is pruned then)."""
    check = verify_archive(path, signer.jwks())
    problems = list(check.problems)
    for chain in planned:
        if chain.events != chain.last_seq - chain.first_seq + 1:
            problems.append(f"instance {chain.instance}: seq {chain.first_seq}..{chain.last_seq} holds "
                            f"{chain.events} events (a gap in the live chain)")  # fmt: skip
    if check.ok and check.manifest.get("chains") != [chain.as_json() for chain in planned]:
        problems.append("the archive's chains differ from the ranges read")
    if problems:
        raise AuditUnavailable(
            f"audit archive {path} does not verify, nothing was pruned: " + "; ".join(problems)
        )
    return sha256_file(path)


async def _prune(
    conn: AsyncConnection,
    tables: AuditTables,
    instance: str,
    piece: tuple[int, int, str, str],
    archive: tuple[str, str],
) -> None:
    """In the caller's transaction: the piece's events unchanged since written, then
    deleted, and the chain's anchor moved to the piece's last event."""
    first, last, last_hash, hashes = piece
    column = tables.events.c
    where = (column.instance == instance, column.seq.between(first, last))
    stored = await conn.scalars(sa.select(column.hash).where(*where).order_by(column.seq))
    if hashlib.sha256(b"".join(h.encode() + b"\n" for h in stored)).hexdigest() != hashes:
        raise AuditUnavailable(f"instance {instance}: seq {first}..{last} changed while archived; not pruned")
    ids = sa.select(column.id).where(*where)
    await conn.execute(tables.resources.delete().where(tables.resources.c.event_id.in_(ids)))
    await conn.execute(tables.events.delete().where(*where))
    await conn.execute(tables.anchors.delete().where(tables.anchors.c.instance == instance))
    anchor = {"instance": instance, "seq": last, "hash": last_hash, "archive": archive[0],
              "archive_sha256": archive[1], "pruned_at": dt.datetime.now(dt.UTC)}  # fmt: skip
    await conn.execute(tables.anchors.insert(), [anchor])


# --- offline verification ---------------------------------------------------------------


def verify_archive(source: str | Path | IO[bytes], jwks: Mapping[str, Any]) -> PackageCheck:
    """Check an audit archive offline: the package checks of gateway.package (members, the
    JWS of type ``govshare-audit-archive+jws`` against ``jwks``, data SHA-256, size and rows),
    then every event: its hash recomputed from its fields, seq consecutive and prev_hash the
    hash before it within its chain, each chain as the manifest says (first/last seq,
    prevHash, lastHash, events). ``problems`` names each one found (line, instance, seq)."""
    if isinstance(source, str | Path):
        try:
            source = io.BytesIO(Path(source).read_bytes())
        except OSError as exc:
            return PackageCheck([f"{source}: cannot be read ({exc.strerror})"], {})
    check = verify_package(source, jwks, typ=ARCHIVE_TYPE)
    if not check.ok:
        return check
    if check.manifest.get("format") != ARCHIVE_FORMAT:
        return PackageCheck(
            [f"{MANIFEST} is not an audit archive's (format {check.manifest.get('format')!r})"], {}
        )
    source.seek(0)
    with zipfile.ZipFile(source) as archive, archive.open(EVENTS_FILE) as member:
        found = _walk(member, check.problems)
    _compare_chains(check.manifest.get("chains"), found, check.problems)
    return check


def _walk(member: IO[bytes], problems: list[str]) -> dict[str, dict[str, Any]]:
    """Every line's hash and link; per instance what was found (first/last seq and hash)."""
    chains: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(_lines(member), start=1):
        if line is None:
            problems.append(
                f"{EVENTS_FILE} line {number}: longer than {MAX_EVENT_LINE:,} bytes, not an audit event"
            )
            continue
        try:
            event = json.loads(line)
            record = {key: value for key, value in event.items() if key != "hash"}
            instance, seq = str(event["instance"]), int(event["seq"])
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            problems.append(f"{EVENTS_FILE} line {number}: not an audit event ({exc})")
            continue
        where = f"{EVENTS_FILE} line {number} (instance {instance}, seq {seq})"
        if digest(record) != event.get("hash"):
            problems.append(f"{where}: content changed: its fields no longer match its hash")
        chain = chains.get(instance)
        if chain is None:
            chains[instance] = {"firstSeq": seq, "prevHash": event.get("prev_hash"), "events": 0}
        elif seq != chain["lastSeq"] + 1 or event.get("prev_hash") != chain["lastHash"]:
            problems.append(f"{where}: link broken: it does not follow seq {chain['lastSeq']} of its chain")
        chain = chains[instance]
        chain.update(lastSeq=seq, lastHash=event.get("hash"), events=chain["events"] + 1)
    return chains


def _lines(member: IO[bytes]) -> Iterator[bytes | None]:
    """The member's lines, each read at most ``MAX_EVENT_LINE`` bytes at a time: a longer one
    (a hostile file; an event is a few kB) is skipped to its end and given as None."""
    while line := member.readline(MAX_EVENT_LINE + 1):
        if len(line) <= MAX_EVENT_LINE:
            yield line
            continue
        while line and not line.endswith(b"\n"):
            line = member.readline(MAX_EVENT_LINE)
        yield None


def _compare_chains(said: Any, found: dict[str, dict[str, Any]], problems: list[str]) -> None:
    said_by = (
        {str(c.get("instance")): c for c in said if isinstance(c, dict)} if isinstance(said, list) else {}
    )
    for instance in sorted(set(said_by) | set(found)):
        expected, seen = said_by.get(instance), found.get(instance)
        if expected is None or seen is None:
            where = "the manifest" if expected is None else EVENTS_FILE
            problems.append(f"instance {instance}: not in {where}")
            continue
        for key in ("firstSeq", "lastSeq", "prevHash", "lastHash", "events"):
            if expected.get(key) != seen.get(key):
                is_, says = seen.get(key), expected.get(key)
                problems.append(f"instance {instance}: {key} is {is_!r}, the manifest says {says!r}")


# --- small helpers ----------------------------------------------------------------------


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _member() -> zipfile.ZipInfo:
    now = dt.datetime.now(dt.UTC).timetuple()
    info = zipfile.ZipInfo(
        EVENTS_FILE, (now.tm_year, now.tm_mon, now.tm_mday, now.tm_hour, now.tm_min, now.tm_sec)
    )
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def fsync_folder(folder: Path) -> None:
    """The rename is durable only once the folder's entry is (POSIX: fsync the directory)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_file(path: Path) -> str:
    """The file's SHA-256 (hex), read in 1 MiB blocks."""
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            hasher.update(block)
    return hasher.hexdigest()
