"""Check that every chain's anchor is explained by the signed archives in a folder (issue 12
section 2: "the live chain stays verifiable after pruning"; Zhengzhou art. 27 信息审计跟踪,
Sanya art. 22 确保数据可追溯).

``audit verify`` walks each live chain from its anchor (``NAME_anchors``: last pruned seq and
hash, archive name and SHA-256). On its own that trusts the anchor: someone who can write
the database could delete events and move the anchor past them. ``verify_anchors`` closes
that gap against the archive folder: per chain,

1. the archive the anchor names is in the folder, with the recorded SHA-256, and verifies
   offline (``audit_archive.verify_archive``: signature with the given keys, data hash,
   every event's hash and link, the manifest's ranges);
2. it holds the chain and, at the anchor's seq, the anchor's hash (a seq beyond the
   archive's last is events deleted without an archive);
3. going back, each archive's first event links (``prevHash``) to the event before it as
   held by another archive in the folder, down to seq 1 (``prevHash`` 64 zeros) or the
   oldest archive present (its declared start, reported per chain: archives past their
   retention may have been removed). No archive holding the seq before: a gap when an older
   archive of the chain exists. Archives that overlap must hold the same hash there (a run
   stopped between prune transactions is archived again from the anchor: identical
   events, accepted); a different hash is two histories and is named;
4. an archived chain with no anchor in the store is named (its anchor was deleted).

Every archive in the folder (``*.zip``) must verify: the folder is the operator's archive
of record. Own code because no library knows this chain format; hashing and ZIP are the
stdlib's.
"""

from __future__ import annotations

import asyncio
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa

from errors import AuditUnavailable, BadRequest
from gateway.audit import DEFAULT_TABLE, ZERO_HASH, _engine, _tables
from gateway.audit_archive import EVENTS_FILE, sha256_file, verify_archive
from gateway.dbschema import shown_url


class Anchor(NamedTuple):
    """One row of ``NAME_anchors``."""

    instance: str
    seq: int
    hash: str
    archive: str
    archive_sha256: str


class Segment(NamedTuple):
    """One chain's range in one archive (its manifest's ``chains`` entry), verified."""

    archive: str
    first_seq: int
    last_seq: int
    prev_hash: str
    last_hash: str


@dataclass
class ArchiveFile:
    """An archive in the folder: its SHA-256, the problems ``verify_archive`` found, and per
    instance its segment (only when it verifies)."""

    path: Path
    sha256: str
    problems: list[str]
    segments: dict[str, Segment] = field(default_factory=dict)


@dataclass
class AnchorCheck:
    """The outcome of ``verify_anchors``: ``problems`` (empty when every anchor is
    explained), each naming chain, archive file and what does not match; ``starts``: per
    anchored chain, the seq its archives start at (1 unless older archives were removed);
    ``archives``: how many archive files were read."""

    problems: list[str]
    starts: dict[str, int]
    archives: int

    @property
    def ok(self) -> bool:
        return not self.problems


async def load_anchors(url: str, *, table: str = DEFAULT_TABLE) -> list[Anchor]:
    """Every chain's anchor, by instance name (none: no table yet, nothing pruned).
    Raises AuditUnavailable when the store cannot be read."""
    anchors = _tables(table).anchors
    engine = _engine(url)
    try:
        async with engine.connect() as conn:
            if not await conn.run_sync(lambda sync: sa.inspect(sync).has_table(anchors.name)):
                return []
            column = anchors.c
            query = sa.select(column.instance, column.seq, column.hash, column.archive, column.archive_sha256)
            return [Anchor(*row) for row in (await conn.execute(query.order_by(column.instance))).all()]
    except sa.exc.SQLAlchemyError as exc:
        raise AuditUnavailable(f"the audit store {shown_url(url)} cannot be read: {exc}") from exc
    finally:
        await engine.dispose()


async def verify_anchors(
    url: str, folder: Path, jwks: Mapping[str, Any], *, table: str = DEFAULT_TABLE
) -> AnchorCheck:
    """Check every chain's anchor against the archives in ``folder`` (module docstring).
    Raises BadRequest (argument ``--archives``) when ``folder`` is not a folder,
    AuditUnavailable when the store cannot be read."""
    if not folder.is_dir():
        raise BadRequest(
            f"--archives {folder} is not a folder: give the folder `govshare audit archive` wrote to",
            argument="--archives",
        )
    anchors = await load_anchors(url, table=table)
    return await asyncio.to_thread(_check_all, anchors, folder, jwks)


def _check_all(anchors: list[Anchor], folder: Path, jwks: Mapping[str, Any]) -> AnchorCheck:
    files = {path.name: _read(path, jwks) for path in sorted(folder.glob("*.zip")) if path.is_file()}
    problems = [f"archive {name} does not verify: {p}" for name, file in files.items() for p in file.problems]
    starts: dict[str, int] = {}
    for anchor in anchors:
        start = _explain(anchor, files, problems)
        if start is not None:
            starts[anchor.instance] = start
    anchored = {anchor.instance for anchor in anchors}
    for name, file in files.items():
        for instance in sorted(set(file.segments) - anchored):
            problems.append(f"chain {instance}: archive {name} holds its events but the store has no "
                            "anchor for it (the anchor, or the chain, was deleted)")  # fmt: skip
    return AnchorCheck(problems, starts, len(files))


def _read(path: Path, jwks: Mapping[str, Any]) -> ArchiveFile:
    check = verify_archive(path, jwks)
    file = ArchiveFile(path, sha256_file(path), list(check.problems))
    if check.ok:
        for entry in check.manifest["chains"]:
            file.segments[str(entry["instance"])] = Segment(
                path.name, entry["firstSeq"], entry["lastSeq"], entry["prevHash"], entry["lastHash"]
            )
    return file


def _explain(anchor: Anchor, files: dict[str, ArchiveFile], problems: list[str]) -> int | None:
    """The seq the chain's archives start at, or None with the reason added to ``problems``."""
    where = f"chain {anchor.instance}: archive {anchor.archive} named by its anchor (seq {anchor.seq})"
    file = files.get(anchor.archive)
    if file is None:
        problems.append(f"{where} is not in the archive folder")
        return None
    if file.sha256 != anchor.archive_sha256:
        problems.append(f"{where} has SHA-256 {file.sha256}, the anchor records {anchor.archive_sha256}")
        return None
    if file.problems:
        problems.append(f"{where} does not verify (see above)")
        return None
    segment = file.segments.get(anchor.instance)
    if segment is None:
        problems.append(f"{where} holds no event of this chain (another chain's archive?)")
        return None
    if not segment.first_seq <= anchor.seq <= segment.last_seq:
        problems.append(f"{where} holds seq {segment.first_seq}..{segment.last_seq} only: "
                        "events after the archive were deleted or the anchor was moved")  # fmt: skip
        return None
    held = _hash_at(file, anchor.instance, anchor.seq)
    if held != anchor.hash:
        problems.append(f"{where} holds hash {held} at that seq, the anchor records {anchor.hash}")
        return None
    return _walk_back(anchor.instance, segment, files, problems)


def _walk_back(
    instance: str, segment: Segment, files: dict[str, ArchiveFile], problems: list[str]
) -> int | None:
    """Follow ``prevHash`` from archive to archive towards seq 1 (each step ends at a lower
    seq, so it ends)."""
    while segment.first_seq > 1:
        before = segment.first_seq - 1
        holders = [f for f in files.values() if _holds(f, instance, before)]
        found = {f.path.name: _hash_at(f, instance, before) for f in holders}
        for name, held in found.items():
            if held != segment.prev_hash:
                problems.append(f"chain {instance}: archive {segment.archive} starts at seq "
                                f"{segment.first_seq} linking to hash {segment.prev_hash}, but archive "
                                f"{name} holds hash {held} at seq {before}")  # fmt: skip
        if any(held != segment.prev_hash for held in found.values()):
            return None
        if not found:
            return _declared_start(instance, segment, files, problems)
        segment = min((files[name].segments[instance] for name in found), key=lambda s: s.first_seq)
    if segment.prev_hash != ZERO_HASH:
        problems.append(f"chain {instance}: archive {segment.archive} starts at seq 1 but links to "
                        f"hash {segment.prev_hash}, not 64 zeros")  # fmt: skip
        return None
    return 1


def _declared_start(
    instance: str, segment: Segment, files: dict[str, ArchiveFile], problems: list[str]
) -> int | None:
    """No archive holds the seq before ``segment``: its start, unless an older one exists (a gap)."""
    older = [f.segments[instance] for f in files.values() if instance in f.segments
             and f.segments[instance].last_seq < segment.first_seq - 1]  # fmt: skip
    if older:
        last = max(older, key=lambda s: s.last_seq)
        problems.append(f"chain {instance}: archive {segment.archive} starts at seq {segment.first_seq} "
                        f"but archive {last.archive} ends at seq {last.last_seq}: seq "
                        f"{last.last_seq + 1}..{segment.first_seq - 1} is in no archive (a gap)")  # fmt: skip
        return None
    return segment.first_seq


def _holds(file: ArchiveFile, instance: str, seq: int) -> bool:
    segment = file.segments.get(instance)
    return segment is not None and segment.first_seq <= seq <= segment.last_seq


def _hash_at(file: ArchiveFile, instance: str, seq: int) -> str | None:
    """The hash of event ``seq`` of ``instance`` in a verified archive (the manifest's
    ``lastHash`` for the last; otherwise read from ``events.ndjson``, streamed)."""
    segment = file.segments[instance]
    if seq == segment.last_seq:
        return segment.last_hash
    with zipfile.ZipFile(file.path) as archive, archive.open(EVENTS_FILE) as member:
        for line in member:
            event = json.loads(line)
            if event["instance"] == instance and event["seq"] == seq:
                return str(event["hash"])
    return None
