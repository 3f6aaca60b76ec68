"""The connector contract: how the gateway reads a department's source.

A connector serves one department. ``bind`` checks a resource's ``source`` settings
once, at load time; afterwards the gateway only asks for batches:

- ``fetch``: rows for a batch of subject keys, only the named items;
- ``scan``: rows after a key, optionally changed since a time (bulk export);
- ``freshness``: when the source last changed;
- ``check``: whether the bound table and every bound column exist (``govshare catalog
  check --sources``, ``/readyz``): a misspelt name is found before a query trips on it.

Every call answers within the connector's ``timeout`` (seconds, default 5) or raises
``SourceUnavailable``: the whole wait counts (a pool or connection slot, the query, the
clean-up), so a hung department costs its fields at most one timeout. ``within`` is the
helper that keeps this promise without waiting for a hung call's clean-up.

A row is a ``dict`` keyed by item name. Each source kind is one module defining a
subclass with a ``kind`` constant, registered with ``@register``; ``open_connector``
builds one from a department's ``connector:`` settings.
"""

from __future__ import annotations

import abc
import asyncio
import datetime as dt
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from errors import ConfigurationError, SourceUnavailable

DEFAULT_TIMEOUT = 5.0
Row = dict[str, Any]


@dataclass(frozen=True, eq=False)  # hashed by identity: bindings are made once, at load
class Binding:
    """Where one resource lives in a source: e.g. a table, its key and item columns."""

    target: str
    key: str
    columns: Mapping[str, str]
    updated_at: str | None = None


@dataclass(frozen=True)
class SourceCheck:
    """What ``Connector.check`` found for one binding: the table, and the bound columns
    (key, items, change stamp) that it lacks. ``table_exists`` False means nothing else
    could be checked."""

    target: str
    table_exists: bool
    missing_columns: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.table_exists and not self.missing_columns

    def describe(self) -> str:
        """One line naming what is missing, e.g. ``table 'enterprise' has no column 'legal_rep'``."""
        if not self.table_exists:
            return f"table {self.target!r} does not exist"
        if self.missing_columns:
            names = ", ".join(repr(c) for c in self.missing_columns)
            plural = "s" if len(self.missing_columns) > 1 else ""
            return f"table {self.target!r} has no column{plural} {names}"
        return f"table {self.target!r} has every bound column"


def bound_columns(binding: Binding) -> tuple[str, ...]:
    """Every source column a binding reads: key, item columns, change stamp; once each, in order."""
    names = [binding.key, *binding.columns.values(), *([binding.updated_at] if binding.updated_at else [])]
    return tuple(dict.fromkeys(names))


class Connector(abc.ABC):
    kind: ClassVar[str]
    timeout: float = DEFAULT_TIMEOUT  # seconds for one whole call, every wait included
    # True for a source that decides per consumer (an upstream gateway, connectors.forwarding):
    # its calls carry the consumer and are never coalesced, nor cached, across consumers
    forwards_identity: ClassVar[bool] = False

    @classmethod
    @abc.abstractmethod
    def open(cls, settings: Mapping[str, Any], data_dir: Path) -> Connector: ...

    @abc.abstractmethod
    def bind(self, source: Mapping[str, Any], items: Sequence[str], key_item: str) -> Binding: ...

    @abc.abstractmethod
    async def fetch(self, binding: Binding, keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
        """Rows by key for the keys that exist; each row holds exactly ``items``."""

    @abc.abstractmethod
    async def scan(
        self,
        binding: Binding,
        items: Sequence[str],
        *,
        after: str | None = None,
        since: dt.datetime | None = None,
        limit: int = 1000,
    ) -> list[Row]:
        """Rows ordered by key, keys greater than ``after``; each row also holds the key. A row
        whose key is null is never scanned: it has no place in key order (SQLite sorts it
        first, PostgreSQL last) and names no subject."""

    @abc.abstractmethod
    async def freshness(self, binding: Binding) -> dt.datetime | None: ...

    @abc.abstractmethod
    async def check(self, binding: Binding) -> SourceCheck:
        """Whether the bound table and columns exist (``bound_columns``); raises
        ``SourceUnavailable`` (within the connector's timeout) when the source cannot be asked."""

    async def close(self) -> None:
        return None


_KINDS: dict[str, type[Connector]] = {}
C = TypeVar("C", bound=type[Connector])
T = TypeVar("T")


Abandoned = set[asyncio.Future[Any]]


async def within(seconds: float, call: Awaitable[T], what: str, abandoned: Abandoned | None = None) -> T:
    """``call``'s result, or ``SourceUnavailable`` once ``seconds`` have passed.

    Unlike ``asyncio.timeout``, the caller does not wait for a call that overruns to
    unwind: a driver stuck in a thread (SQLite waiting on a lock) or a pool checkout cannot
    stretch the wait past ``seconds``. The abandoned call may finish on its own for another
    ``seconds`` (cancelling a driver in the middle of opening a connection loses that
    connection unclosed), then it is cancelled; it is kept in ``abandoned`` until it ends,
    so that ``close`` can let it finish before the engine goes (see ``settle``). Other
    failures pass through unchanged. Raised with ``timeout`` (seconds) in the extensions.
    """
    task = asyncio.ensure_future(call)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        _abandon(task, abandoned, seconds)
        raise
    if not done:
        _abandon(task, abandoned, seconds)
        raise SourceUnavailable(f"{what} took longer than the source timeout of {seconds:g} s",
                                timeout=seconds)  # fmt: skip
    return task.result()


async def settle(abandoned: Abandoned, seconds: float) -> None:
    """Give calls abandoned at their timeout up to ``seconds`` to unwind (before a close)."""
    if abandoned:
        await asyncio.wait(set(abandoned), timeout=seconds)


def _abandon(task: asyncio.Future[Any], abandoned: Abandoned | None, grace: float) -> None:
    stop = asyncio.get_running_loop().call_later(grace, task.cancel)
    task.add_done_callback(lambda _: stop.cancel())
    task.add_done_callback(_retrieve)
    if abandoned is not None:
        abandoned.add(task)
        task.add_done_callback(abandoned.discard)


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Mark an abandoned call's outcome as seen, so asyncio logs no 'never retrieved'."""
    if not task.cancelled():
        task.exception()


def timeout_setting(settings: Mapping[str, Any]) -> float:
    """``timeout:`` of a connector's settings: seconds, a positive number (default 5)."""
    value = settings.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(value, bool):  # YAML `yes`/`true`: float() would make it 1 s
        raise ConfigurationError(f"connector timeout must be a number of seconds, got {value!r}")
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"connector timeout must be a number of seconds, got {value!r}") from None
    if not seconds > 0 or seconds == float("inf"):
        raise ConfigurationError(f"connector timeout must be a positive number of seconds, got {value!r}")
    return seconds


def known_settings(settings: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    """Raises ``ConfigurationError`` naming each setting of ``settings`` not in ``allowed``:
    a misspelt one (``colums:``, ``delimeter:``) would otherwise be ignored silently and the
    source read with its default. ``where`` names the section (``connector``, ``source``)."""
    if not isinstance(settings, Mapping):
        raise ConfigurationError(f"{where} must be a mapping of settings, got {type(settings).__name__}")
    unknown = sorted(str(name) for name in settings if name not in allowed)
    if unknown:
        names = ", ".join(f"`{name}:`" for name in unknown)
        takes = ", ".join(allowed)
        raise ConfigurationError(f"{where} has unknown settings {names}; this kind takes {takes}")


def register(cls: C) -> C:
    _KINDS[cls.kind] = cls
    return cls


def open_connector(settings: Mapping[str, Any], data_dir: Path) -> Connector:
    _load_builtin_kinds()
    kind = settings.get("kind")
    if kind not in _KINDS:
        known = ", ".join(sorted(_KINDS))
        raise ConfigurationError(f"connector kind {kind!r} is unknown; use one of: {known}")
    return _KINDS[str(kind)].open(settings, data_dir)


def _load_builtin_kinds() -> None:
    from connectors import file, graphql, http, mock, sql  # noqa: F401  (importing registers them)


def name_setting(source: Mapping[str, Any], name: str) -> str | None:
    """``source.<name>`` (a column or path name such as ``key``, ``updated_at``) as text,
    None when unset; ``ConfigurationError`` naming it when it is not text."""
    value = source.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"source.{name} must be a column name (text), got {value!r}")
    return value


def bind_table(source: Mapping[str, Any], items: Sequence[str], key_item: str, kind: str) -> Binding:
    """The binding of a table-shaped source (``{table, key, columns, updated_at}``: the sql
    and mock kinds): ``key`` defaults to the key item's column. Raises
    ``ConfigurationError`` naming the setting that is unknown, missing or of the wrong type."""
    known_settings(source, ("table", "key", "columns", "updated_at"), "source")
    table = source.get("table")
    if not table:
        raise ConfigurationError(f"a {kind} source needs `table:`")
    columns = bind_columns(source, items, key_item)
    key = name_setting(source, "key") or columns.get(key_item, key_item)
    return Binding(str(table), key, columns, name_setting(source, "updated_at"))


def bind_columns(source: Mapping[str, Any], items: Sequence[str], key_item: str) -> dict[str, str]:
    """Item -> source column; items not mapped read the column of the same name. Raises
    ``ConfigurationError`` naming ``source.columns`` (or the item) when it is not a mapping
    of item names to column names."""
    given = source.get("columns") or {}
    if not isinstance(given, Mapping):
        raise ConfigurationError(f"source.columns must map items to columns, got {type(given).__name__}")
    columns = dict(given)
    for item, column in columns.items():
        if not isinstance(column, str) or not column:
            raise ConfigurationError(f"source.columns.{item} must be a column name (text), got {column!r}")
    unknown = sorted(set(columns) - set(items))
    if unknown:
        raise ConfigurationError(f"source.columns maps unknown items {unknown}; map catalog items")
    return {item: str(columns.get(item, item)) for item in items}
