"""What one audit event adds to the usage statistics (DESIGN.md section 8).

``stats`` must answer for a year of events in well under a second, so the audit log keeps
running aggregates (``gateway.audit``: table ``<events>_usage``) updated in the same
transaction as the events themselves, and ``gateway.stats`` reads those instead of the
trail. Both sides count through :func:`contributions`, so the aggregates and a count over
the raw events can never differ.

An event contributes once to each providing department one of its resources belongs to
(the catalog's ``resource -> department``, as in force when the event is written): its
mode, its consumer, and whether one of that department's items was refused or its source
unavailable. So the aggregates have at most departments x modes x consumers rows per
bucket, however many events and however varied their refusals.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final

from policies.share import Mode

ALLOWED: Final = "ALLOWED"
SOURCE_UNAVAILABLE: Final = "SOURCE_UNAVAILABLE"
DATA_KINDS: Final[Mapping[str, Mode]] = {"query": Mode.QUERY, "compare": Mode.COMPARE, "export": Mode.BULK}
HOUR: Final = 3600


@dataclass(frozen=True, slots=True)
class UsageKey:
    """One data event as the statistics count it, before departments are applied.

    ``resources``: every resource the event touched (sorted); ``refused``: those with a
    decision other than ``ALLOWED`` (or all of them when the event has no per-item
    decisions and was not answered); ``unavailable``: those refused with
    ``SOURCE_UNAVAILABLE``. ``consumer`` is "" when the event names none."""

    consumer: str
    mode: Mode
    resources: tuple[str, ...]
    refused: tuple[str, ...]
    unavailable: tuple[str, ...]


def event_mode(event: Mapping[str, Any]) -> Mode | None:
    """The service mode of a data event (its ``mode``, else by kind); None for other kinds."""
    kind = event.get("kind")
    if kind not in DATA_KINDS:
        return None
    try:
        return Mode(str(event.get("mode")))
    except ValueError:  # no mode recorded, or one this gateway does not know
        return DATA_KINDS[str(kind)]


def usage_key(event: Mapping[str, Any]) -> UsageKey | None:
    """The usage key of a stored event (a JSON-ready dict); None when it is no data event."""
    mode = event_mode(event)
    resources = sorted(set(event.get("resources") or ()))
    if mode is None or not resources or _export_start(event):
        return None
    decisions: Mapping[str, str] = event.get("decisions") or {}
    outcome = str(event.get("outcome") or "")
    refused, unavailable = [], []
    on = _by_resource(decisions)
    for resource in resources:
        mine = on.get(resource, ())
        if mine:
            is_refused = any(value != ALLOWED for value in mine)
            is_unavailable = any(SOURCE_UNAVAILABLE in value.split("|") for value in mine)
        else:  # no decision on it: only an event without any decision speaks by its outcome
            is_refused = not decisions and outcome not in ("answered", "")
            is_unavailable = not decisions and outcome == SOURCE_UNAVAILABLE
        if is_refused:
            refused.append(resource)
        if is_unavailable:
            unavailable.append(resource)
    consumer = str(event.get("consumer") or "")
    return UsageKey(consumer, mode, tuple(resources), tuple(refused), tuple(unavailable))


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one data event adds to one providing department's statistics."""

    department: str
    mode: Mode
    consumer: str  # "" when the event names none
    refused: bool  # one of the department's items had a decision other than ALLOWED
    unavailable: bool  # one of them failed with SOURCE_UNAVAILABLE


@dataclass(frozen=True, slots=True)
class UsageCount:
    """Data events of one (department, mode, consumer) in a period: how many, how many of
    them refused one of the department's items, how many met its source unavailable."""

    department: str
    mode: Mode
    consumer: str
    calls: int
    refusals: int
    unavailable: int


def contributions(event: Mapping[str, Any], owners: Mapping[str, str]) -> list[Contribution]:
    """One per providing department of the event's resources (none for other kinds)."""
    key = usage_key(event)
    if key is None:
        return []
    refused, unavailable = set(key.refused), set(key.unavailable)
    return [
        Contribution(
            department, key.mode, key.consumer, not mine.isdisjoint(refused), not mine.isdisjoint(unavailable)
        )
        for department, mine in owned(key.resources, owners).items()
    ]


def _export_start(event: Mapping[str, Any]) -> bool:
    """An export is one call, counted by its end event (gateway.export): its start is not."""
    return event.get("kind") == "export" and event.get("outcome") == "started"


def _by_resource(decisions: Mapping[str, str]) -> dict[str, list[str]]:
    """Each resource's decision values: a key ("resource.item", or a whole "resource") is on
    itself and on its part before the last dot. One pass, not one per resource."""
    on: dict[str, list[str]] = {}
    for key, value in decisions.items():
        on.setdefault(key, []).append(str(value))
        head = key.rsplit(".", 1)[0]
        if head != key:
            on.setdefault(head, []).append(str(value))
    return on


def hour_of(moment: dt.datetime) -> int:
    """Whole hours since 1970-01-01T00:00Z (UTC) of an aware instant: the finest bucket."""
    return int(moment.timestamp() // HOUR)


def hour_start(hour: int) -> dt.datetime:
    """The instant an hour bucket starts (aware, UTC)."""
    return dt.datetime.fromtimestamp(hour * HOUR, dt.UTC)


# --- buckets: hours, China days, China months -------------------------------------------
#
# Each event is counted in three buckets: its hour, its day and its month, days and months
# by China time (UTC+8, no daylight saving since 1991: policies.workdays.CHINA_TIME), the
# calendar the evaluations count in. A period is answered from the coarsest buckets that
# fit inside it (:func:`cover`): a year is 12 months, not 8,760 hours, so the rows read
# follow the number of distinct usage keys, not the number of events.

SPAN_HOUR: Final = 0
SPAN_DAY: Final = 1
SPAN_MONTH: Final = 2
_CHINA_HOURS: Final = 8
_EPOCH: Final = dt.date(1970, 1, 1)


def china_day(hour: int) -> int:
    """Days since 1970-01-01 (China date) of an hour bucket."""
    return (hour + _CHINA_HOURS) // 24


def day_start(day: int) -> int:
    """The hour bucket a China day starts with (its 00:00 China time)."""
    return day * 24 - _CHINA_HOURS


def china_month(hour: int) -> int:
    """Months since 1970-01 (China calendar: year * 12 + month - 1) of an hour bucket."""
    date = _EPOCH + dt.timedelta(days=china_day(hour))
    return date.year * 12 + date.month - 1


def month_start(month: int) -> int:
    """The hour bucket a China month starts with (the 1st, 00:00 China time)."""
    year, index = divmod(month, 12)
    return day_start((dt.date(year, index + 1, 1) - _EPOCH).days)


@functools.lru_cache(maxsize=4096)  # every event of an hour has the same buckets
def buckets(hour: int) -> tuple[tuple[int, int], ...]:
    """The (span, bucket) an event of hour bucket ``hour`` is counted in."""
    return ((SPAN_HOUR, hour), (SPAN_DAY, china_day(hour)), (SPAN_MONTH, china_month(hour)))


_UNITS: Final = (
    (SPAN_MONTH, china_month, month_start),
    (SPAN_DAY, china_day, day_start),
)


def cover(first: int, stop: int) -> list[tuple[int, int, int]]:
    """The hour buckets [first, stop) as (span, from, to) ranges of whole months, then whole
    days, then hours: at most 1 range of months, 2 of days and 2 of hours."""
    ranges: list[tuple[int, int, int]] = []

    def split(a: int, b: int, level: int) -> None:
        if a >= b:
            return
        if level == len(_UNITS):
            ranges.append((SPAN_HOUR, a, b))
            return
        span, unit_of, start_of = _UNITS[level]
        lo = unit_of(a) + (start_of(unit_of(a)) < a)  # the first whole unit at or after a
        hi = unit_of(b)  # units before the one b falls in end by b
        if lo >= hi:
            split(a, b, level + 1)
            return
        ranges.append((span, lo, hi))
        split(a, start_of(lo), level + 1)
        split(start_of(hi), b, level + 1)

    split(first, stop, 0)
    return ranges


def owned(resources: Collection[str], owners: Mapping[str, str]) -> dict[str, set[str]]:
    """Department -> the resources among ``resources`` it provides (per ``owners``)."""
    touched: dict[str, set[str]] = {}
    for resource in resources:
        owner = owners.get(resource)
        if owner is not None:
            touched.setdefault(owner, set()).add(resource)
    return touched
