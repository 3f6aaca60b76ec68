"""Helpers for connectors whose source answers whole records (REST, files, GraphQL).

A source that is not SQL cannot be told which columns or rows to send: it answers what
it has. These helpers cut its answer down to what the contract promises
(connectors/base.py): only the asked keys, only the asked items, scan rows ordered by key
after ``after``, changed since ``since``, at most ``limit``.

``RecordPath`` reads one value out of a JSON record: a *singular query* of RFC 9535
(JSONPath) section 2.3.5: ``$.basic.name``, ``$.phones[0]``, ``$['legal rep']``, or the
same without the leading ``$`` (``basic.name``). Own code rather than a JSONPath library
because it runs on the hot path (every item of every record) and a singular query is a
walk down a few keys: jsonpath-ng's ``find`` builds match objects per call, about 20x
slower for the same answer, and filters or wildcards make no sense for one item value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from connectors.base import Row
from errors import ConfigurationError

_STEP = re.compile(r"\.([A-Za-z_\u0080-\uffff][\w\u0080-\uffff-]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]")
_MISSING = object()
CHINA_TIME = ZoneInfo("Asia/Shanghai")  # as policies/chinatime.py (connectors may not import policies)


@dataclass(frozen=True)
class RecordPath:
    """A compiled singular JSONPath (RFC 9535 section 2.3.5): object member names and
    array indexes, walked from the record's root. ``text`` is the path as configured."""

    text: str
    steps: tuple[str | int, ...]

    @classmethod
    def parse(cls, text: str) -> RecordPath:
        """``$.a.b[0]``, ``a.b``, ``$['a b']``, ``$`` (the record itself); raises
        ``ConfigurationError`` naming the path and where it stops making sense."""
        if not text:
            raise ConfigurationError(
                "'' is not a JSON path; write e.g. `$.basic.name`, or `$` for the record"
            )
        body = text[1:] if text.startswith("$") else "." + text if text[0] != "[" else text
        steps: list[str | int] = []
        at = 0
        while at < len(body):
            match = _STEP.match(body, at)
            if match is None:
                raise ConfigurationError(
                    f"{text!r} is not a JSON path (at {body[at:]!r}); write e.g. `$.basic.name`, "
                    "`$.items[0]` or `$['legal rep']`"
                )
            name, index, quoted = match.groups()
            steps.append(int(index) if index is not None else name if name is not None else quoted)
            at = match.end()
        return cls(text, tuple(steps))

    def get(self, record: Any) -> Any:
        """The value at this path, or None when the record lacks it."""
        value = self.find(record)
        return None if value is _MISSING else value

    def find(self, record: Any) -> Any:
        """The value at this path, or ``MISSING`` (tells a null value from an absent one)."""
        for step in self.steps:
            if isinstance(step, int):
                if not isinstance(record, list) or step >= len(record):
                    return _MISSING
            elif not isinstance(record, dict) or step not in record:
                return _MISSING
            record = record[step]
        return record


MISSING = _MISSING


def path_setting(value: Any, where: str) -> RecordPath:
    """A JSON path setting; ``where`` names the setting in the error (e.g. ``source.columns.name``)."""
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{where} must be a JSON path such as `$.name`, got {value!r}")
    try:
        return RecordPath.parse(value)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}: {exc.message}") from None


def as_stamp(value: Any) -> dt.datetime | None:
    """A change stamp as a naive ``datetime`` in China time (ISO 8601 text or a datetime),
    None when absent or unreadable: a row without a readable stamp counts as unchanged, as a
    SQL NULL does. A naive stamp is China time, as the ``since`` the gateway passes is
    (gateway/export.py); one with an offset (``Z``, ``+08:00``) is converted to it, so stamps
    of both spellings compare (a mix raised TypeError)."""
    if value is None or isinstance(value, dt.datetime):
        return None if value is None else china_time(value)
    try:
        return china_time(dt.datetime.fromisoformat(str(value)))
    except ValueError:
        return None


def read_stamp(text: str) -> dt.datetime:
    """ISO 8601 text as ``as_stamp`` reads it; raises ``ValueError`` when it is not one."""
    return china_time(dt.datetime.fromisoformat(text))


def china_time(stamp: dt.datetime) -> dt.datetime:
    """``stamp`` as naive China time (GB/T 7408 local time of the platform, UTC+8)."""
    return stamp if stamp.tzinfo is None else stamp.astimezone(CHINA_TIME).replace(tzinfo=None)


def scan_window(
    rows: Iterable[tuple[str, Any]],
    stamp: Callable[[Any], dt.datetime | None] | None,
    *,
    after: str | None,
    since: dt.datetime | None,
    limit: int,
) -> list[tuple[str, Any]]:
    """``(key, record)`` pairs cut to the scan contract: keys above ``after``, stamped at or
    after ``since`` (only when ``stamp`` reads a change stamp: a source that cannot say what
    changed misses nothing), ordered by key, at most ``limit``; a repeated key counts once."""
    chosen, seen = {}, set()
    for key, record in rows:
        if (after is not None and key <= after) or key in seen:
            continue
        seen.add(key)  # a source that repeats a key is wrong: its first record is the one
        if since is None or stamp is None or _changed(stamp(record), since):
            chosen[key] = record
    return sorted(chosen.items())[: max(limit, 0)]


def _changed(stamp: dt.datetime | None, since: dt.datetime) -> bool:
    return stamp is not None and stamp >= since


def only_asked(found: Mapping[str, Row], keys: Sequence[str]) -> dict[str, Row]:
    """The rows of ``found`` whose key was asked for: a source that answers more keeps it to itself."""
    return {key: found[key] for key in dict.fromkeys(keys) if key in found}
