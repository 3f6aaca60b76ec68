"""What one audit event adds to the usage statistics: its usage key (DESIGN.md section 8).

``stats`` must answer for a year of events in well under a second, so the audit log keeps
running aggregates (``gateway.audit``: table ``<events>_usage``) updated in the same
transaction as the events themselves, and ``gateway.stats`` reads those instead of the
trail. Both sides count through :func:`usage_key`, so the aggregates and a count over the
raw events can never differ.

A key is department-free on purpose: which department provides a resource is the
catalog's business and is applied when ``stats`` reads (``UsageTally``), so the
aggregates need no catalog and stay right when a resource changes hands.
"""

from __future__ import annotations

import datetime as dt
import hashlib
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
    """One data event as the statistics count it.

    ``resources``: every resource the event touched (sorted); ``refused``: those with a
    decision other than ``ALLOWED`` (or all of them when the event has no per-item
    decisions and was not answered); ``unavailable``: those refused with
    ``SOURCE_UNAVAILABLE``. ``consumer`` is "" when the event names none."""

    consumer: str
    mode: Mode
    resources: tuple[str, ...]
    refused: tuple[str, ...]
    unavailable: tuple[str, ...]

    @property
    def digest(self) -> str:
        """A short stable name of the key (the aggregates' primary key with the hour)."""
        text = "\x1f".join((self.consumer, self.mode.value, *self._joined()))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def _joined(self) -> tuple[str, str, str]:
        return ("\x1e".join(self.resources), "\x1e".join(self.refused), "\x1e".join(self.unavailable))


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
    if mode is None or not resources:
        return None
    decisions: Mapping[str, str] = event.get("decisions") or {}
    outcome = str(event.get("outcome") or "")
    refused, unavailable = [], []
    for resource in resources:
        mine = [str(value) for key, value in decisions.items() if _on(key, resource)]
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


def _on(key: str, resource: str) -> bool:
    """Whether a decision key ("resource.item", or a whole "resource") is on ``resource``."""
    return key == resource or key.rsplit(".", 1)[0] == resource


def hour_of(moment: dt.datetime) -> int:
    """Whole hours since 1970-01-01T00:00Z (UTC) of an aware instant: the aggregates' bucket."""
    return int(moment.timestamp() // HOUR)


def hour_start(hour: int) -> dt.datetime:
    """The instant an hour bucket starts (aware, UTC)."""
    return dt.datetime.fromtimestamp(hour * HOUR, dt.UTC)


def owned(resources: Collection[str], owners: Mapping[str, str]) -> dict[str, set[str]]:
    """Department -> the resources among ``resources`` it provides (per ``owners``)."""
    touched: dict[str, set[str]] = {}
    for resource in resources:
        owner = owners.get(resource)
        if owner is not None:
            touched.setdefault(owner, set()).add(resource)
    return touched
