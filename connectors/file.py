"""CSV files that a department drops where online exchange is not yet possible.

Department settings (``connector:``)::

    kind: file
    folder: '{data}/hpf'     # where the files are ({data}: the gateway's data folder; default it)
    encoding: utf-8-sig      # default; a BOM written by spreadsheet programs is skipped
    delimiter: ','           # one character
    timeout: 5               # seconds for one whole call, a reload included
    max_bytes: 268435456     # largest file read (default 256 MiB); a larger one is refused unread

A resource's ``source:``::

    file: deposits.csv                     # relative to folder; the first line is the header
    key: uscc                              # header of the subject key (default: the key item's column)
    columns: {deposit_status: status}      # item -> header (default: the item's name)
    updated_at: updated_at                 # header of the change stamp, ISO 8601
    types: {employees: integer}            # items read as integer, number or boolean (else text)

The file is read whole and indexed by subject key in memory (a department's drop is a
few MB; a lookup is then a dict read). Each call compares the file's identity (inode,
size, modification time) with the loaded one and reloads when it changed. The new index
is built aside and swapped in by one assignment, so a reader sees the old or the new
content, never half of either; a file changed while being read (fstat before and after
differ) is read again. Departments should still drop a file by writing it under another
name and renaming it (atomic on POSIX): a file caught half-written between two reads
would otherwise load as it stood.

A malformed file fails every call with ``SourceUnavailable`` naming the file and line (a
row with too many or too few fields, an empty or repeated key, a value that is not of its
``types:`` type, an unreadable stamp, an unclosed quote (the reader is strict), a bound
column named twice in the header, text that is not in ``encoding``) until it is replaced;
the old content is not served in the meantime, since it is no longer what the department
publishes. An empty cell is None (CSV cannot tell empty text from no value).

``file:`` stays inside ``folder`` (``..`` and absolute paths are refused by ``bind``) and a
symbolic link there that leads outside it is not followed: the department writes its drop
folder, and a link must not make it serve another file of the server.

Parsing is the standard library's ``csv`` module (RFC 4180 quoting, multi-line fields).
XLSX is not read: openpyxl is not a dependency yet, and a department can export CSV.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import csv
import datetime as dt
import io
import logging
import os
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from connectors.base import (
    Abandoned,
    Binding,
    Connector,
    Row,
    SourceCheck,
    bind_columns,
    bound_columns,
    known_settings,
    name_setting,
    register,
    settle,
    timeout_setting,
    within,
)
from connectors.records import as_stamp, read_stamp
from errors import ConfigurationError, SourceUnavailable

T = TypeVar("T")
log = logging.getLogger("govshare.connectors")
Identity = tuple[int, int, int]  # inode, size in bytes, modification time in ns
MAX_BYTES = 256 * 1024 * 1024  # largest file read (bytes): a department's drop is a few MB


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes", "是"):
        return True
    if lowered in ("false", "0", "no", "否"):
        return False
    raise ValueError(text)


TYPES: dict[str, Callable[[str], Any]] = {"integer": int, "number": float, "boolean": _boolean}


@dataclass(frozen=True, eq=False)
class FileBinding(Binding):
    """A resource in a CSV file: ``target`` is the file's path; ``types`` item -> reader."""

    types: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    """One complete reading of a file: rows by key (values by header), keys in order."""

    identity: Identity
    header: tuple[str, ...]
    rows: Mapping[str, Mapping[str, Any]]
    keys: tuple[str, ...]
    latest: dt.datetime | None


@register
class FileConnector(Connector):
    kind = "file"

    def __init__(self, folder: Path, timeout: float, encoding: str = "utf-8-sig", delimiter: str = ",",
                 max_bytes: int = MAX_BYTES) -> None:  # fmt: skip
        self.folder = folder
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.encoding = encoding
        self.delimiter = delimiter
        self._loaded: dict[Binding, Snapshot] = {}
        self._loading: dict[Binding, asyncio.Future[Snapshot]] = {}
        self._stating: dict[Binding, asyncio.Future[Identity | None]] = {}
        self._failed: dict[Binding, tuple[Identity | None, str]] = {}  # a malformed file is parsed once
        self._abandoned: Abandoned = set()

    @classmethod
    def open(cls, settings: Mapping[str, Any], data_dir: Path) -> FileConnector:
        known_settings(
            settings, ("kind", "folder", "encoding", "delimiter", "timeout", "max_bytes"), "connector"
        )
        folder = Path(str(settings.get("folder") or "{data}").replace("{data}", str(data_dir)))
        encoding = str(settings.get("encoding") or "utf-8-sig")
        try:
            "".encode(encoding)
        except LookupError:
            raise ConfigurationError(
                f"connector `encoding:` {encoding!r} is not a known text encoding"
            ) from None
        delimiter = settings.get("delimiter", ",")
        if not isinstance(delimiter, str) or len(delimiter) != 1:
            raise ConfigurationError(f"connector `delimiter:` must be one character, got {delimiter!r}")
        max_bytes = settings.get("max_bytes", MAX_BYTES)
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
            raise ConfigurationError(
                f"connector `max_bytes:` must be a whole number of bytes, got {max_bytes!r}"
            )
        return cls(folder, timeout_setting(settings), encoding, delimiter, max_bytes)

    def bind(self, source: Mapping[str, Any], items: Sequence[str], key_item: str) -> FileBinding:
        """Raises ``ConfigurationError`` naming the ``source.`` setting that is wrong. The file
        need not exist yet (a department may drop it later): ``check`` says whether it does."""
        known_settings(source, ("file", "key", "columns", "updated_at", "types"), "source")
        name = _file_name(source.get("file"))
        columns = bind_columns(source, items, key_item)
        types = source.get("types") or {}
        if not isinstance(types, Mapping):
            raise ConfigurationError(f"source.types must map items to {', '.join(TYPES)}")
        for item, kind in types.items():
            if item not in columns or kind not in TYPES:
                raise ConfigurationError(
                    f"source.types.{item}: {kind!r}; give catalog items one of {', '.join(TYPES)}"
                )
        key = name_setting(source, "key") or columns.get(key_item, key_item)
        if any(columns[item] == key for item in types):
            raise ConfigurationError(
                f"source.types: the key column {key!r} is text (subject codes); drop its type"
            )
        stamp = name_setting(source, "updated_at")
        return FileBinding(str(self.folder / name), key, columns, str(stamp) if stamp else None, types)

    # --- the contract -------------------------------------------------------------------

    async def fetch(self, binding: Binding, keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
        snapshot = await self._within(self._snapshot(binding), f"reading {binding.target}")
        return {
            k: _project(binding, snapshot.rows[k], items) for k in dict.fromkeys(keys) if k in snapshot.rows
        }

    async def scan(
        self,
        binding: Binding,
        items: Sequence[str],
        *,
        after: str | None = None,
        since: dt.datetime | None = None,
        limit: int = 1000,
    ) -> list[Row]:
        snapshot = await self._within(self._snapshot(binding), f"scanning {binding.target}")
        start = 0 if after is None else bisect.bisect_right(snapshot.keys, after)
        found: list[Row] = []
        for key in snapshot.keys[start:]:
            if len(found) >= limit:
                break
            row = snapshot.rows[key]
            if since is None or binding.updated_at is None or _changed(row[binding.updated_at], since):
                found.append({"__key__": key, **_project(binding, row, items)})
        return found

    async def freshness(self, binding: Binding) -> dt.datetime | None:
        if not binding.updated_at:
            return None
        return (await self._within(self._snapshot(binding), f"dating {binding.target}")).latest

    async def check(self, binding: Binding) -> SourceCheck:
        """The file exists and its header names every bound column (only the header is read)."""
        header = await self._within(
            asyncio.to_thread(self._header, binding.target), f"checking {binding.target}"
        )
        if header is None:
            return SourceCheck(binding.target, table_exists=False)
        return SourceCheck(binding.target, True, tuple(c for c in bound_columns(binding) if c not in header))

    async def close(self) -> None:
        await settle(self._abandoned, self.timeout)
        self._loaded.clear()

    # --- loading ------------------------------------------------------------------------

    async def _snapshot(self, binding: Binding) -> Snapshot:
        """The loaded snapshot if the file is unchanged, else a fresh one (one load at a time per binding)."""
        identity = await self._identity_of(binding)
        loaded = self._loaded.get(binding)
        if loaded is not None and loaded.identity == identity:
            return loaded
        failed = self._failed.get(binding)
        if failed is not None and identity is not None and failed[0] == identity:
            raise SourceUnavailable(failed[1])
        pending = self._loading.get(binding)
        if pending is None:
            pending = asyncio.ensure_future(asyncio.to_thread(self._read, binding))
            self._loading[binding] = pending
            pending.add_done_callback(lambda done: self._loaded_from(binding, identity, done))
        return await asyncio.shield(pending)  # one reader's timeout does not stop others' load

    async def _identity_of(self, binding: Binding) -> Identity | None:
        """The file's identity, read in a worker thread: a stat on a network share can hang,
        and the event loop serves every department. One stat in flight per file, shared by
        every caller, so a hung share cannot drain the thread pool."""
        pending = self._stating.get(binding)
        if pending is None:
            pending = asyncio.ensure_future(asyncio.to_thread(_identity, binding.target))
            self._stating[binding] = pending
            pending.add_done_callback(lambda _: self._stating.pop(binding, None))
        return await asyncio.shield(pending)

    def _loaded_from(
        self, binding: Binding, identity: Identity | None, done: asyncio.Future[Snapshot]
    ) -> None:
        self._loading.pop(binding, None)
        if done.cancelled():
            return
        failure = done.exception()
        if failure is None:
            snapshot = done.result()
            self._loaded[binding] = snapshot  # the swap: one assignment
            self._failed.pop(binding, None)
            log.info("file %s loaded: %d rows", binding.target, len(snapshot.keys))
        elif isinstance(failure, SourceUnavailable):
            self._failed[binding] = (identity, failure.message)
            log.warning("file %s not loaded: %s", binding.target, failure.message)

    def _read(self, binding: Binding) -> Snapshot:
        """Read the whole file (in a worker thread), again if it changed meanwhile."""
        for _ in range(3):
            with self._opened(binding.target) as handle:
                before = _fidentity(handle.fileno())
                if before[1] > self.max_bytes:
                    raise SourceUnavailable(
                        f"the file {binding.target} holds {before[1]} bytes, more than max_bytes"
                        f" ({self.max_bytes}); split it or raise the connector's `max_bytes:`"
                    )
                data = handle.read(self.max_bytes + 1)  # a file growing meanwhile: cut, then read again
                if _fidentity(handle.fileno()) != before:
                    continue
            text = _decoded(binding.target, data, self.encoding)
            return _parse(binding, io.StringIO(text, newline=""), before, self.delimiter)
        raise SourceUnavailable(
            f"the file {binding.target} kept changing while being read; write it aside and rename it"
        )

    def _header(self, path: str) -> tuple[str, ...] | None:
        try:
            with self._opened(path) as handle:
                line = _first_line(path, handle, self.encoding)
        except SourceUnavailable:
            if not os.path.lexists(path):
                return None
            raise
        try:
            return tuple(next(csv.reader([line], delimiter=self.delimiter, strict=True), []))
        except csv.Error as exc:
            raise SourceUnavailable(f"{path} line 1: {exc}") from None

    @contextlib.contextmanager
    def _opened(self, path: str) -> Iterator[BinaryIO]:
        """``path`` open for reading in binary; ``SourceUnavailable`` when it is missing,
        unreadable, or leads outside the folder (a symbolic link the department dropped
        must not serve another file; ``bind`` already refuses names with ``..``)."""
        folder = os.path.realpath(self.folder)
        if os.path.commonpath([os.path.realpath(path), folder]) != folder:
            raise SourceUnavailable(
                f"the file {path} leads outside the connector's folder {self.folder} (a symbolic link?);"
                " drop the file itself there"
            )
        try:
            with open(path, "rb") as handle:
                yield handle
        except FileNotFoundError:
            raise SourceUnavailable(f"the file {path} does not exist (yet)") from None
        except OSError as exc:
            raise SourceUnavailable(f"the file {path} cannot be read: {exc.strerror}") from None

    async def _within(self, call: Awaitable[T], what: str) -> T:
        return await within(self.timeout, call, what, self._abandoned)


def _file_name(value: Any) -> str:
    """``source.file``: a path relative to the folder that stays inside it."""
    if not isinstance(value, str) or not value:
        raise ConfigurationError("a file source needs `file:` (a CSV file name, relative to the folder)")
    if os.path.isabs(value) or ".." in Path(value).parts:
        raise ConfigurationError(
            f"source.file {value!r} leads outside the connector's folder; name a file inside it"
            " (e.g. deposits.csv), or set the connector's `folder:`"
        )
    return value


def _decoded(path: str, data: bytes, encoding: str) -> str:
    """``data`` as text; ``SourceUnavailable`` naming the line where it stops being
    ``encoding`` (never the bytes: they are part of a stored value)."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceUnavailable(
            f"{path} line {line}: the file is not {encoding} text; save it as {encoding} or set the"
            " connector's `encoding:` to the one it is written in (e.g. gb18030)"
        ) from None


def _first_line(path: str, handle: BinaryIO, encoding: str) -> str:
    """The header line: the first 64 KiB decoded (a line ends at a decoded newline: in
    UTF-16 the byte 0x0A is half a character), as far as they are ``encoding`` text; a
    fault after the header is for a full read to name by its line."""
    data = handle.read(64 * 1024)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        text = data[: exc.start].decode(encoding)  # the valid part before the fault
        if not any(end in text for end in "\r\n"):
            raise SourceUnavailable(
                f"{path} line 1: the file is not {encoding} text; save it as {encoding} or set the"
                " connector's `encoding:` to the one it is written in (e.g. gb18030)"
            ) from None
    return text.splitlines()[0] if text else ""


def _identity(path: str) -> Identity | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_ino, status.st_size, status.st_mtime_ns)


def _fidentity(descriptor: int) -> Identity:
    status = os.fstat(descriptor)
    return (status.st_ino, status.st_size, status.st_mtime_ns)


def _parse(binding: Binding, handle: Any, identity: Identity, delimiter: str) -> Snapshot:
    """Raises ``SourceUnavailable`` naming the file and line of the first malformed row."""
    reader = csv.reader(handle, delimiter=delimiter, strict=True)  # strict: an unclosed quote is an error
    try:
        header = tuple(next(reader))
    except StopIteration:
        raise SourceUnavailable(
            f"{binding.target}: the file is empty; its first line must be the header"
        ) from None
    except csv.Error as exc:
        raise SourceUnavailable(f"{binding.target} line 1: {exc}") from None
    missing = [c for c in bound_columns(binding) if c not in header]
    if missing:
        raise SourceUnavailable(
            f"{binding.target} line 1: the header has no column {', '.join(map(repr, missing))}"
        )
    twice = [c for c in bound_columns(binding) if header.count(c) > 1]
    if twice:  # which of the two is shared is not for the gateway to guess
        raise _malformed(binding, 1, f"the header names column {twice[0]!r} twice")
    convert = _converters(binding, header)
    rows: dict[str, dict[str, Any]] = {}
    lines: dict[str, int] = {}
    start = [2]  # first line of the row being read, also when the reader fails inside it
    try:
        for line, record in _numbered(reader, start):
            row = _row(binding, header, record, convert, line)
            key = row[binding.key]
            if key in rows:
                raise _malformed(binding, line, f"the key {binding.key} repeats line {lines[key]}")
            rows[key], lines[key] = row, line
    except csv.Error as exc:
        raise _malformed(binding, start[0], str(exc)) from None
    stamps = [row[binding.updated_at] for row in rows.values()] if binding.updated_at else []
    latest = max((s for s in stamps if s is not None), default=None)
    return Snapshot(identity, header, rows, tuple(sorted(rows)), latest)


def _numbered(reader: Any, start: list[int]) -> Any:
    """(first line of the row, fields) for each non-blank row; blank lines are skipped.
    ``start[0]`` is the first line of the row being read (for an error inside it)."""
    start[0] = reader.line_num + 1
    for record in reader:
        if record:
            yield start[0], record
        start[0] = reader.line_num + 1


def _converters(binding: Binding, header: Sequence[str]) -> dict[str, Callable[[str], Any]]:
    types = binding.types if isinstance(binding, FileBinding) else {}
    convert = {binding.columns[item]: TYPES[kind] for item, kind in types.items()}
    if binding.updated_at and binding.updated_at in header:
        convert[binding.updated_at] = read_stamp
    return convert


Converters = Mapping[str, Callable[[str], Any]]


def _row(binding: Binding, header: Sequence[str], record: list[str], convert: Converters, line: int) -> Row:
    if len(record) != len(header):
        raise _malformed(binding, line, f"{len(record)} fields where the header has {len(header)}")
    row: Row = {}
    for column, text in zip(header, record, strict=True):
        row[column] = None if text == "" else _value(binding, column, text, convert, line)
    if not row.get(binding.key):
        raise _malformed(binding, line, f"the key {binding.key} is empty")
    return row


def _value(
    binding: Binding, column: str, text: str, convert: Mapping[str, Callable[[str], Any]], line: int
) -> Any:
    reader = convert.get(column)
    if reader is None:
        return text
    try:
        return reader(text)
    except ValueError:
        kind = "an ISO 8601 date-time" if column == binding.updated_at else _kind(binding, column)
        # the value itself stays out: error text reaches logs, and it may be a subject's data
        raise _malformed(binding, line, f"column {column}: the value is not {kind}") from None


def _kind(binding: Binding, column: str) -> str:
    types = binding.types if isinstance(binding, FileBinding) else {}
    item = next(i for i, c in binding.columns.items() if c == column and i in types)
    return {"integer": "an integer", "number": "a number", "boolean": "true or false"}[types[item]]


def _malformed(binding: Binding, line: int, what: str) -> SourceUnavailable:
    return SourceUnavailable(f"{binding.target} line {line}: {what}; fix the file and drop it again")


def _project(binding: Binding, row: Mapping[str, Any], items: Sequence[str]) -> Row:
    return {item: _plain(row.get(binding.columns[item])) for item in items}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _changed(stamp: Any, since: dt.datetime) -> bool:
    stamp = as_stamp(stamp)
    return stamp is not None and stamp >= since
