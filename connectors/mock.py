"""An in-memory source for tests and examples: rows in dicts, every call counted.

Settings: ``{kind: mock, tables: {target: [row, ...]}, delay: seconds, timeout: seconds}``
where each row is keyed by source column. ``calls`` counts fetches and scans; setting
``failing`` makes every call raise ``SourceUnavailable``, as a department that is down
would; ``delay`` makes every call wait that long first, as a hung one would. Like every
connector, a call answers within ``timeout`` (default 5 s) or raises ``SourceUnavailable``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from connectors.base import (
    DEFAULT_TIMEOUT,
    Binding,
    Connector,
    Row,
    SourceCheck,
    bind_table,
    bound_columns,
    known_settings,
    register,
    timeout_setting,
    within,
)
from errors import ConfigurationError, SourceUnavailable


@register
class MockConnector(Connector):
    kind = "mock"

    def __init__(
        self,
        tables: Mapping[str, list[Mapping[str, Any]]] | None = None,
        *,
        delay: float = 0.0,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.tables = {name: [dict(row) for row in rows] for name, rows in (tables or {}).items()}
        self.calls: list[tuple[str, str, tuple[str, ...]]] = []
        self.failing = False
        self.delay = delay
        self.timeout = timeout

    @classmethod
    def open(cls, settings: Mapping[str, Any], data_dir: Path) -> MockConnector:
        known_settings(settings, ("kind", "tables", "delay", "timeout"), "connector")
        delay, tables = settings.get("delay", 0.0), settings.get("tables") or {}
        if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
            raise ConfigurationError(f"connector `delay:` must be a number of seconds, got {delay!r}")
        if not isinstance(tables, Mapping) or not all(isinstance(rows, list) for rows in tables.values()):
            raise ConfigurationError("connector `tables:` must map table names to lists of rows")
        return cls(tables, delay=float(delay), timeout=timeout_setting(settings))

    def bind(self, source: Mapping[str, Any], items: Sequence[str], key_item: str) -> Binding:
        return bind_table(source, items, key_item, self.kind)

    async def fetch(self, binding: Binding, keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
        await self._wait(f"reading {binding.target}")
        self._record("fetch", binding, items)
        wanted = set(keys)
        rows = (row for row in self.tables.get(binding.target, []) if row[binding.key] in wanted)
        return {row[binding.key]: _project(binding, row, items) for row in rows}

    async def scan(
        self,
        binding: Binding,
        items: Sequence[str],
        *,
        after: str | None = None,
        since: dt.datetime | None = None,
        limit: int = 1000,
    ) -> list[Row]:
        await self._wait(f"scanning {binding.target}")
        self._record("scan", binding, items)
        keyed = [row for row in self.tables.get(binding.target, []) if row.get(binding.key) is not None]
        rows = sorted(keyed, key=lambda row: row[binding.key])
        rows = [r for r in rows if after is None or r[binding.key] > after]
        if since is not None and binding.updated_at:  # like SQL: no change stamp, no filter
            rows = [r for r in rows if _changed_since(binding, r, since)]
        return [{"__key__": r[binding.key], **_project(binding, r, items)} for r in rows[:limit]]

    async def freshness(self, binding: Binding) -> dt.datetime | None:
        await self._wait(f"dating {binding.target}")
        self._record("freshness", binding, ())
        if not binding.updated_at:
            return None
        stamps = [r.get(binding.updated_at) for r in self.tables.get(binding.target, [])]
        return max((_as_datetime(s) for s in stamps if s is not None), default=None)

    async def check(self, binding: Binding) -> SourceCheck:
        """A table is a key of ``tables``; its columns are those its rows hold (an empty
        table has no known columns, so only its existence is checked)."""
        await self._wait(f"checking {binding.target}")
        self._record("check", binding, ())
        if binding.target not in self.tables:
            return SourceCheck(binding.target, table_exists=False)
        rows = self.tables[binding.target]
        present = {column for row in rows for column in row}
        missing = tuple(c for c in bound_columns(binding) if rows and c not in present)
        return SourceCheck(binding.target, True, missing)

    async def _wait(self, what: str) -> None:
        """The configured delay, bounded by the timeout like any connector's call."""
        if self.delay > 0:
            await within(self.timeout, asyncio.sleep(self.delay), what)

    def _record(self, call: str, binding: Binding, items: Sequence[str]) -> None:
        if self.failing:
            raise SourceUnavailable("mock source is failing")
        self.calls.append((call, binding.target, tuple(items)))


def _project(binding: Binding, row: Mapping[str, Any], items: Sequence[str]) -> Row:
    return {item: row.get(binding.columns[item]) for item in items}


def _changed_since(binding: Binding, row: Mapping[str, Any], since: dt.datetime) -> bool:
    stamp = row.get(str(binding.updated_at))
    return stamp is not None and _as_datetime(stamp) >= since


def _as_datetime(value: Any) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
