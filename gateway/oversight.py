"""Late resources and overdue catalog entries, as ``/readyz``, ``stats`` and the operator
query ``lateResources`` report them (issue 10 section 3; rules in ``policies.timeliness``).

:class:`Oversight` only fetches: each resource's source freshness (``Connector.freshness``,
a source that fails or is slow counts as unknown, never as a failure) and the last change
notice per resource from a :class:`ChangeNoticeReader` (the change-notice store of issue 8
section 4; without one every realtime resource is judged with no notice). The verdicts of
all resources are kept for ``ttl`` seconds: ``/readyz`` may be polled often and must not
ask every department's source each time; an expired set is served while one background task
renews it (a hung source delays only the first judgement, by at most ``freshness_timeout``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from errors import BadRequest
from policies.catalog import Catalog, Resource
from policies.chinatime import as_utc, check_range, china_day, utc_now
from policies.profile import Profile
from policies.timeliness import ReviewVerdict, UpdateVerdict, judge_review, judge_update, update_rule
from policies.workdays import WorkdayCalendar
from resolvers.batching import ResourceSource

log = logging.getLogger("govshare.oversight")

FRESHNESS_TIMEOUT: Final = 5.0  # seconds one source may take to give its last change
VERDICT_TTL: Final = 5.0  # seconds the verdicts are reused
UPDATE_LATE: Final = "UPDATE_LATE"
CATALOG_REVIEW_OVERDUE: Final = "CATALOG_REVIEW_OVERDUE"


class ChangeNoticeReader(Protocol):
    """The change-notice store as oversight reads it: the time of the last change notice
    per resource (resources without one are left out)."""

    async def last_notices(self, resources: Collection[str]) -> Mapping[str, dt.datetime]: ...


@dataclass(frozen=True)
class ResourceOversight:
    """One resource: its update verdict and its catalog entry's upkeep."""

    resource: Resource
    update: UpdateVerdict
    review: ReviewVerdict

    @property
    def reasons(self) -> tuple[str, ...]:
        """``UPDATE_LATE`` and/or ``CATALOG_REVIEW_OVERDUE``; empty when neither."""
        late = (UPDATE_LATE,) if self.update.late else ()
        return late + ((CATALOG_REVIEW_OVERDUE,) if self.review.overdue else ())


class Oversight:
    """Judges every resource of the catalog under ``profile``; see the module docs."""

    def __init__(
        self,
        catalog: Catalog,
        sources: Mapping[str, ResourceSource],
        profile: Profile,
        calendar: WorkdayCalendar,
        *,
        notices: ChangeNoticeReader | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
        ttl: float = VERDICT_TTL,
        freshness_timeout: float = FRESHNESS_TIMEOUT,
    ) -> None:
        self.catalog, self.sources, self.profile, self.calendar = catalog, sources, profile, calendar
        self.notices, self.clock, self.ttl, self.freshness_timeout = notices, clock, ttl, freshness_timeout
        self._kept: tuple[float, dict[str, ResourceOversight]] | None = None
        self._lock = asyncio.Lock()
        self._renewal: asyncio.Task[None] | None = None

    async def verdicts(self) -> dict[str, ResourceOversight]:
        """Every resource's verdicts, in catalog order; reused for ``ttl`` seconds. Only the
        first call waits for the sources (at most ``freshness_timeout``); later an expired set
        is returned at once and renewed by one background task, so a hung source never holds
        a ``/readyz`` or ``stats`` request."""
        if self._kept is None:
            async with self._lock:
                if self._kept is None:
                    self._kept = (time.monotonic(), await self._judge_all())
            return self._kept[1]
        if time.monotonic() - self._kept[0] >= self.ttl and (self._renewal is None or self._renewal.done()):
            self._renewal = asyncio.create_task(self._renew())
        return self._kept[1]

    async def close(self) -> None:
        """Stop a renewal under way (before the sources it asks are closed)."""
        if self._renewal is not None and not self._renewal.done():
            self._renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewal

    async def _renew(self) -> None:
        try:
            self._kept = (time.monotonic(), await self._judge_all())
        except Exception:  # the kept verdicts stay; the next read tries again
            log.exception("late resources: renewing the verdicts failed")

    async def late(self) -> list[ResourceOversight]:
        """The resources that are late or whose catalog entry is overdue, in catalog order."""
        return [found for found in (await self.verdicts()).values() if found.reasons]

    async def _judge_all(self) -> dict[str, ResourceOversight]:
        rids = list(self.catalog.resources)
        stamps, notices = await asyncio.gather(self._freshness(rids), self._notices(rids))
        now = as_utc(self.clock())
        return {rid: self._judge(rid, stamps.get(rid), notices.get(rid), now) for rid in rids}

    def _judge(
        self, rid: str, stamp: dt.datetime | None, notice: dt.datetime | None, now: dt.datetime
    ) -> ResourceOversight:
        resource = self.catalog.resources[rid]
        rule = update_rule(self.profile, resource.update_cycle, resource.content)
        update = judge_update(rule, stamp, notice, now, self.calendar)
        review = judge_review(self.profile, resource.reviewed, resource.published, china_day(now))
        return ResourceOversight(resource, update, review)

    async def _freshness(self, rids: list[str]) -> dict[str, dt.datetime | None]:
        bound = [rid for rid in rids if rid in self.sources]
        answers = await asyncio.gather(*(self._fresh(rid) for rid in bound))
        return dict(zip(bound, answers, strict=True))

    async def _fresh(self, rid: str) -> dt.datetime | None:
        source = self.sources[rid]
        try:
            async with asyncio.timeout(self.freshness_timeout):
                stamp = await source.connector.freshness(source.binding)
        except Exception as exc:  # any failure of one source: unknown, never a failed check
            log.warning("freshness of %s unknown: %s: %s", rid, type(exc).__name__, exc)
            return None
        return source_instant(rid, stamp)

    async def _notices(self, rids: list[str]) -> Mapping[str, dt.datetime]:
        if self.notices is None:
            return {}
        try:
            found = await self.notices.last_notices(rids)
        except Exception as exc:  # the store failing: realtime resources judged as if never notified
            log.warning("change notices unknown: %s: %s", type(exc).__name__, exc)
            return {}
        return {rid: as_utc(moment) for rid, moment in found.items()}


def source_instant(rid: str, stamp: dt.datetime | None) -> dt.datetime | None:
    """A source's change stamp as an aware UTC instant (naive = China time); one outside the
    range of instants (e.g. 9999-12-31 as "never") counts as unknown, not as an error."""
    if stamp is None:
        return None
    try:
        return check_range(as_utc(stamp))  # LATEST is a year short of datetime.max: room for a cycle
    except (BadRequest, OverflowError):
        log.warning("last update of %s is out of range: %s; counted as unknown", rid, stamp)
        return None


async def readyz_late(oversight: OversightLike | None) -> dict[str, Any]:
    """``/readyz``'s ``late`` entry: the ids of the resources late for their update
    (``resources``) and of those whose catalog entry is overdue (``catalog``), each with the
    article; lateness does not change the status (the data are still served)."""
    if oversight is None:
        return {"resources": [], "catalog": []}
    found = await oversight.late()
    return {
        "resources": [_entry(f, f.update.rule.basis) for f in found if UPDATE_LATE in f.reasons],
        "catalog": [_entry(f, f.review.basis) for f in found if CATALOG_REVIEW_OVERDUE in f.reasons],
    }


class OversightLike(Protocol):
    async def late(self) -> Sequence[ResourceOversight]: ...


def _entry(found: ResourceOversight, basis: str) -> dict[str, str]:
    return {"resource": found.resource.id, "provider": found.resource.provider, "article": basis}
