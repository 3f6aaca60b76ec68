"""Offline exchange packages (离线交换, Shanghai art. 15): an export as one signed ZIP.

A package holds, in this order:

- ``data.ndjson`` (or ``data.csv``): the exported rows, exactly as ``format=ndjson`` (or
  ``csv``) would stream them;
- ``manifest.json``: resource, items and their titles, filters, row count, SHA-256 and
  size of the data file, time, consumer, client, purpose, grant ids, audit id (the export's
  start event), last key, and whether the export was complete;
- ``manifest.jws``: a compact JWS (RFC 7515, ES256, the gateway's current key, ``kid`` in
  the header, ``typ`` ``govshare-package+jws``) whose payload is ``manifest.json``, byte for
  byte. Keys: ``/.well-known/voucher-keys.json`` (retired keys included).

The ZIP is written with the stdlib ``zipfile`` to a sink that is drained after each page,
so the package streams (data descriptors, ZIP64) and memory holds one page; deflating runs
in a thread, off the event loop. ``verify_package`` checks a package offline and names
every problem found: missing or unexpected member, signature, manifest changed, data hash,
row count.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import lzma
import zipfile
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from gateway.auth import ALGORITHM, Signer
from gateway.export_stream import CSVEncoder, ExportJob, Piece, ndjson_lines, pages
from policies.chinatime import CHINA_TIME

MANIFEST = "manifest.json"
SIGNATURE = "manifest.jws"
PACKAGE_TYPE = "govshare-package+jws"
FORMAT = "govshare-package/1"
DATA_FILES = {"ndjson": "data.ndjson", "csv": "data.csv"}
MAX_MANIFEST_BYTES = 1 << 20  # a manifest is a few kB; its JWS a third more


class _Sink(io.RawIOBase):
    """Where zipfile writes: collects bytes until drained. Not seekable, so zipfile writes
    sizes in data descriptors after each member (APPNOTE 4.3.9) and never seeks back."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def drain(self) -> bytes:
        out, self._parts = b"".join(self._parts), []
        return out


@dataclass
class PackageHeader:
    """What the manifest says besides the data: who, why, what, under which grants."""

    resource: Mapping[str, Any]  # id, name, provider
    items: list[str]
    titles: dict[str, str]
    filters: dict[str, Any]
    consumer: str
    client: str
    purpose: str | None
    grants: list[str]
    audit_id: str
    data_format: str = "ndjson"
    extra: dict[str, Any] = field(default_factory=dict)


async def package_pieces(
    job: ExportJob, header: PackageHeader, signer: Signer, csv_encoder: CSVEncoder | None
) -> AsyncIterator[Piece]:
    """The package's bytes, page by page: data member, then manifest and its JWS."""
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED)
    name = DATA_FILES[header.data_format]
    hasher, size, rows, last_key = hashlib.sha256(), 0, 0, None
    member = archive.open(_member_info(name), "w", force_zip64=True)  # size unknown in advance
    try:
        if csv_encoder is not None:
            head = csv_encoder.head()
            hasher.update(head)
            size += len(head)
            await asyncio.to_thread(member.write, head)
        async for page in pages(job):
            data = csv_encoder.encode(page.rows) if csv_encoder else ndjson_lines(page.rows)
            hasher.update(data)
            size, rows, last_key = size + len(data), rows + len(page.rows), page.last_key
            await asyncio.to_thread(member.write, data)  # deflate releases the GIL
            yield Piece(sink.drain(), len(page.rows), page.last_key, page.first_key)
    except BaseException:  # cut (client gone, source down, grant revoked): nothing more is sent
        _discard(archive, member)
        raise
    member.close()
    data_entry = {"file": name, "format": header.data_format, "sha256": hasher.hexdigest(),
                  "bytes": size, "rows": rows}  # fmt: skip
    manifest = manifest_bytes(header, data_entry, last_key, job.stopped)
    archive.writestr(MANIFEST, manifest)
    archive.writestr(SIGNATURE, sign_manifest(signer, manifest))
    archive.close()
    yield Piece(sink.drain(), 0, None)


def _discard(archive: zipfile.ZipFile, member: IO[bytes]) -> None:
    """Close a package that was cut, into the sink only (never sent): left open, zipfile's
    ``__del__`` would raise about the open member when it is collected."""
    with contextlib.suppress(Exception):  # a write may still run in its thread: whatever it left
        member.close()
    with contextlib.suppress(Exception):
        archive.close()


def _member_info(name: str) -> zipfile.ZipInfo:
    """A streamed member's entry, dated now (China time: ZIP stores local wall-clock times)."""
    info = zipfile.ZipInfo(name, dt.datetime.now(CHINA_TIME).timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def manifest_bytes(
    header: PackageHeader, data: Mapping[str, Any], last_key: str | None, stopped: str | None
) -> bytes:
    """The manifest as signed: JSON, keys sorted, two-space indent, UTF-8."""
    manifest = {
        "format": FORMAT,
        "resource": dict(header.resource),
        "items": header.items,
        "titles": header.titles,
        "filters": header.filters,
        "data": dict(data),
        "rows": data["rows"],
        "created": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        "consumer": header.consumer,
        "client": header.client,
        "purpose": header.purpose,
        "grants": header.grants,
        "auditId": header.audit_id,
        "lastKey": last_key,
        "complete": stopped is None,
        **({"stopped": stopped} if stopped else {}),
        **header.extra,
    }
    return orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)


def sign_manifest(signer: Signer, manifest: bytes, typ: str = PACKAGE_TYPE) -> str:
    """Compact JWS over the manifest bytes with the gateway's current key; ``typ`` names what
    it vouches for (an audit archive has its own, gateway.audit_archive)."""
    key = signer.current
    protected = {"alg": ALGORITHM, "kid": key.kid, "typ": typ}
    return jws.serialize_compact(protected, manifest, key, algorithms=[ALGORITHM])


# --- verification -----------------------------------------------------------------------

# What decompressing a member the gateway did not write may raise: a broken or truncated
# stream (zlib, bz2's OSError, lzma, EOFError), a method zipfile lacks (NotImplementedError),
# an encrypted member (RuntimeError), headers that disagree (BadZipFile).
UNREADABLE = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, NotImplementedError,
              RuntimeError)  # fmt: skip


@dataclass
class PackageCheck:
    """The outcome of ``verify_package``: ``problems`` (empty when it holds), each one sentence
    naming what does not hold; ``manifest`` as read (the signed one when the signature holds)."""

    problems: list[str]
    manifest: dict[str, Any]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_package(
    source: str | Path | IO[bytes], jwks: Mapping[str, Any], *, typ: str = PACKAGE_TYPE
) -> PackageCheck:
    """Check a package offline: members present, each name once, none encrypted; the JWS
    (typed ``govshare-package+jws``, RFC 8725 section 3.11) verifies against ``jwks``; manifest
    unchanged; the data file's SHA-256, size and row count as the manifest says.

    The file may be hostile: a member is never inflated past the size the manifest vouches
    for (``MAX_MANIFEST_BYTES`` for the manifest and its JWS), and a member that cannot be
    decompressed is a problem named, not an exception."""
    try:
        with zipfile.ZipFile(source) as archive:
            return _verify(archive, jwks, typ)
    except UNREADABLE as exc:
        return PackageCheck([f"not a readable ZIP package: {exc}"], {})


def _verify(archive: zipfile.ZipFile, jwks: Mapping[str, Any], typ: str) -> PackageCheck:
    problems = _member_problems(archive.infolist())
    names = set(archive.namelist())
    problems += [f"the package has no {member}" for member in (MANIFEST, SIGNATURE) if member not in names]
    written = _small_member(archive, MANIFEST, problems)
    token = _small_member(archive, SIGNATURE, problems)
    text = None if token is None else token.decode("ascii", "replace")
    signed = None if text is None else _signed_manifest(text, jwks, problems, typ)
    if signed is not None and written is not None and signed != written:
        problems.append(
            f"{MANIFEST} differs from the manifest signed in {SIGNATURE} (the manifest was changed)"
        )
    manifest = _manifest(signed if signed is not None else written, problems)
    if manifest:
        _check_data(archive, manifest, problems)
        expected = {MANIFEST, SIGNATURE, str(manifest["data"].get("file"))}
        problems += [
            f"unexpected member {name!r} (not named by the manifest)" for name in sorted(names - expected)
        ]
    return PackageCheck(problems, manifest)


def _member_problems(infos: list[zipfile.ZipInfo]) -> list[str]:
    """A name held twice (ZIP tools differ on which copy they show or extract, so the copy
    verified may not be the one read) and encrypted members (the gateway writes none)."""
    counts = Counter(info.filename for info in infos)
    twice = [f"the package holds {n} copies of {name!r}: a ZIP tool may show any copy, and only one "
             "can be the one signed for" for name, n in sorted(counts.items()) if n > 1]  # fmt: skip
    locked = sorted({info.filename for info in infos if info.flag_bits & 0x1})  # APPNOTE 4.4.4 bit 0
    return twice + [f"{name!r} is encrypted (a package is never encrypted)" for name in locked]


def _small_member(archive: zipfile.ZipFile, name: str, problems: list[str]) -> bytes | None:
    """A member of at most ``MAX_MANIFEST_BYTES`` (zipfile inflates no further than the size
    the entry declares), or None with the problem named."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > MAX_MANIFEST_BYTES:
        problems.append(f"{name} declares {info.file_size:,} bytes, more than a manifest's "
                        f"{MAX_MANIFEST_BYTES:,}: not read (a compression bomb, not a package)")  # fmt: skip
        return None
    try:
        return archive.read(info)
    except UNREADABLE as exc:
        problems.append(f"{name} cannot be read ({type(exc).__name__}: {exc})")
        return None


def _signed_manifest(token: str, jwks: Mapping[str, Any], problems: list[str], typ: str) -> bytes | None:
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        problems.append('the JWKS is not a JSON object with a "keys" list (RFC 7517 section 5)')
        return None
    try:
        keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        problems.append(f"the JWKS cannot be read as a key set: {exc}")
        return None
    try:
        signed = jws.deserialize_compact(token.strip(), keys, algorithms=[ALGORITHM])
    except (JoseError, ValueError) as exc:
        kid = _kid(token)
        known = any(key.kid == kid for key in keys.keys)
        why = "its key is known, so the signature or the signed manifest was altered" if known else \
            f"the JWKS has no key {kid!r} (a different gateway, or the wrong --jwks)"  # fmt: skip
        problems.append(f"{SIGNATURE}: the signature does not verify ({type(exc).__name__}): {why}")
        return None
    kind = signed.protected.get("typ")
    if kind != typ:  # the same key signs tokens and vouchers: only this type vouches here
        problems.append(f"{SIGNATURE} is a JWS of type {kind!r}, not the signature expected here ({typ})")
        return None
    return bytes(signed.payload)


def _kid(token: str) -> Any:
    """The ``kid`` of a compact JWS's header, or None when the header is not a JSON object."""
    try:
        header = json.loads(_b64decode(token.split(".")[0]))
    except ValueError:
        return None
    return header.get("kid") if isinstance(header, dict) else None


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _manifest(raw: bytes | None, problems: list[str]) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        manifest = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        problems.append(f"{MANIFEST} is not valid JSON: {exc}")
        return {}
    if not isinstance(manifest, dict) or not isinstance(manifest.get("data"), dict):
        problems.append(f"{MANIFEST} has no data entry (file, sha256, rows)")
        return {}
    return manifest


def _check_data(archive: zipfile.ZipFile, manifest: dict[str, Any], problems: list[str]) -> None:
    data = manifest["data"]
    name, said = str(data.get("file")), data.get("bytes")
    if name not in archive.namelist():
        problems.append(f"the package has no {name} (the data file the manifest names)")
        return
    vouched = said if isinstance(said, int) and said >= 0 else archive.getinfo(name).file_size
    bound = vouched + MAX_MANIFEST_BYTES  # a few rows added are still described in full
    try:
        found, size = _digest(archive, name, bound)
        if size > bound:
            problems.append(f"{name}: it holds more than {bound:,} bytes, the manifest says {said} "
                            "(the data was changed, or a compression bomb); not read further")  # fmt: skip
            return
        rows = _count_rows(archive, name, str(data.get("format")))
    except UNREADABLE as exc:
        problems.append(f"{name} cannot be read ({type(exc).__name__}: {exc})")
        return
    except (UnicodeDecodeError, csv.Error) as exc:
        problems.append(f"{name}: it cannot be read as UTF-8 {data.get('format')}: {exc}")
        return
    if found != data.get("sha256"):
        problems.append(f"{name}: its SHA-256 is {found}, the manifest says {data.get('sha256')} "
                        "(the data was changed)")  # fmt: skip
    if size != said:
        problems.append(f"{name}: it holds {size} bytes, the manifest says {said}")
    if rows != data.get("rows"):
        problems.append(f"{name}: it holds {rows} rows, the manifest says {data.get('rows')}")


def _digest(archive: zipfile.ZipFile, name: str, bound: int) -> tuple[str, int]:
    """SHA-256 and size of a member, read in 1 MiB chunks and no further than ``bound`` + 1
    bytes (a size past the bound is all the caller needs to know: never inflate a bomb)."""
    hasher, size = hashlib.sha256(), 0
    with archive.open(name) as member:
        while size <= bound and (chunk := member.read(min(1 << 20, bound + 1 - size))):
            hasher.update(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size


def _count_rows(archive: zipfile.ZipFile, name: str, data_format: str) -> int:
    """NDJSON: its lines. CSV: its records (RFC 4180: a quoted field may hold line breaks),
    the header excluded. Read as a stream: a package may hold millions of rows."""
    with archive.open(name) as member:
        if data_format == "csv":
            text = io.TextIOWrapper(member, encoding="utf-8-sig", newline="")
            return max(0, sum(1 for _ in csv.reader(text)) - 1)
        return sum(chunk.count(b"\n") for chunk in iter(lambda: member.read(1 << 20), b""))
