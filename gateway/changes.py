"""Change notices (Shanghai art. 16), stored and pushed.

A provider announces changed subjects (``notifyChange``, ``govshare notify-change``), or
the gateway finds them by polling each source that has an ``updated_at`` stamp
(:class:`ChangePoller`: ``Connector.freshness``, then ``Connector.scan(since=...)`` for
the keys). Each change is a row of ``change_notices`` (platform database) with the change
time the provider states (``changed_at``) and the time it was notified; late ones (after
the profile's update limit in working days) are counted in ``stats``.

Consumers learn of changes to subjects they have read (per the audit trail,
:mod:`gateway.holders`): by the ``changes`` query, or pushed through :class:`NoticeBroker`
to the ``changeNotices`` subscription. A notice carries codes, item names and times, never
a value. The broker is an in-process fan-out (one bounded queue per subscriber: a slow
subscriber loses its oldest notices, never stalls the others); several gateway processes
each push the notices given to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from errors import GovshareError
from gateway.audit import AuditEvent, AuditLog
from gateway.holders import Holdings, subjects_read
from gateway.onboarding import OnboardingStore
from gateway.platform import Base, PlatformDB, UTCDateTime
from policies.catalog import Catalog
from policies.chinatime import CHINA_TIME, as_utc, utc_now
from policies.decision import AccessRequest, Consumer, needs_onboarding
from policies.objections import (
    MAX_NOTICE_SUBJECTS,
    check_changed_at,
    holding_kinds,
    known_resource,
    notice_due,
    notice_for,
    notice_items,
    notice_items_for,
    notice_late,
    notice_subjects,
    readable_items,
    require_notifier,
)
from policies.share import Mode
from policies.workdays import WorkdayCalendar
from policies.workflow import Actor

log = logging.getLogger("govshare.changes")
PUSHED_KEPT = 10_000
QUEUE_SIZE = 256  # notices a subscriber may fall behind by; beyond, its oldest are dropped
NOTICE_PURPOSE = "变更通知"  # decides unconditional items only: a grant is for its own purpose
DETECTED_BY = "source"  # ``notified_by`` of a change found by polling


class ChangeRow(Base):
    __tablename__ = "change_notices"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    resource: Mapped[str] = mapped_column(sa.String(128), index=True)
    provider: Mapped[str] = mapped_column(sa.String(18), index=True)
    subjects: Mapped[list[str]] = mapped_column(sa.JSON)
    items: Mapped[list[str]] = mapped_column(sa.JSON)  # empty: the whole record
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # as the provider states it
    notified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    due: Mapped[dt.date | None] = mapped_column(sa.Date, nullable=True)  # None: no update limit
    late: Mapped[bool] = mapped_column(sa.Boolean)
    notified_by: Mapped[str] = mapped_column(sa.String(18))  # the provider, or "source" when detected


@dataclass(frozen=True)
class Notice:
    """What a subscriber is sent: codes, item names and times only."""

    resource: str
    subjects: tuple[str, ...]
    items: tuple[str, ...]
    changed_at: dt.datetime
    notified_at: dt.datetime


class NoticeBroker:
    """In-process fan-out of notices to subscribers (one bounded queue each)."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[Notice]] = set()

    def publish(self, notice: Notice) -> None:
        for queue in list(self._queues):
            if queue.full():  # a slow subscriber loses its oldest notice, nobody waits for it
                queue.get_nowait()
            queue.put_nowait(notice)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Notice]]:
        queue: asyncio.Queue[Notice] = asyncio.Queue(QUEUE_SIZE)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._queues)


class ChangeNotices:
    """Change notices over the platform database, pushed through a :class:`NoticeBroker`."""

    def __init__(
        self,
        platform: PlatformDB,
        catalog: Catalog,
        calendar: WorkdayCalendar,
        update_limit_days: int,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.platform, self.catalog, self.calendar = platform, catalog, calendar
        self.update_limit_days = update_limit_days
        self.clock = clock or utc_now
        self.broker = NoticeBroker()
        self._pushed: OrderedDict[str, None] = OrderedDict()
        self.audit: AuditLog | None = None
        # Drops the cached rows of (resource id, subjects) (resolvers.context.Federation.invalidate_rows):
        # a change notice must not leave the old rows served from the row cache until their TTL ends.
        self.invalidate: Callable[[str, Sequence[str]], Awaitable[int]] | None = None

    async def notify(
        self,
        actor: Actor,
        resource_id: str,
        subjects: Iterable[str],
        items: Iterable[str] | None = None,
        changed_at: dt.datetime | None = None,
    ) -> ChangeRow:
        """The provider's notice. Raises ``Forbidden`` for anyone but the resource's provider,
        ``BadRequest`` for an unknown resource, bad codes, unknown items or a future time."""
        resource = known_resource(self.catalog, resource_id)
        require_notifier(actor.consumer.department, actor.consumer.roles, resource)
        now = self.clock()
        when = check_changed_at(as_utc(changed_at, "changedAt"), now) if changed_at else now
        row = await self.record(
            resource.id,
            notice_subjects(subjects, resource),
            notice_items(items, resource),
            when,
            actor.consumer.department,
        )
        await self._audit(actor, row)
        return row

    async def record(
        self, rid: str, subjects: Sequence[str], items: Sequence[str], changed_at: dt.datetime, by: str
    ) -> ChangeRow:
        """Store a change and push it to subscribers (validated by the caller)."""
        now = self.clock()
        due = notice_due(self.calendar, changed_at, self.update_limit_days)
        row = ChangeRow(
            id=f"chg-{uuid.uuid4().hex[:12]}",
            resource=rid,
            provider=self.catalog.resources[rid].provider,
            subjects=list(subjects),
            items=list(items),
            changed_at=changed_at,
            notified_at=now,
            due=due,
            late=notice_late(due, now),
            notified_by=by,
        )
        async with self.platform.session.begin() as session:
            session.add(row)
            await session.flush()  # the transaction holds its write now (SQLite: waited for the lock)
            # stamped once the write is held, so it commits within moments of its stamp: other
            # processes' relays look back ChangeRelay.MARGIN from their last look, no further
            row.notified_at = self.clock()
            row.late = notice_late(due, row.notified_at)
        if self.invalidate is not None:
            await self.invalidate(rid, list(subjects))
        if self.first_push(row.id):
            self.broker.publish(notice_of(row))
        return row

    def first_push(self, change_id: str) -> bool:
        """True the first time a change is pushed from this process (remembers the latest
        ``PUSHED_KEPT`` ids: the relay looks a few seconds back, never further)."""
        if change_id in self._pushed:
            return False
        self._pushed[change_id] = None
        if len(self._pushed) > PUSHED_KEPT:
            self._pushed.popitem(last=False)
        return True

    async def changes(
        self, consumer: Consumer, resource: str, since: dt.datetime | None, purpose: str | None = None
    ) -> list[ChangeRow]:
        """Changes of ``resource`` notified since ``since`` (inclusive), each narrowed to the
        subjects ``consumer`` has read there and the items it may read now (as the
        subscription: without a declared ``purpose`` only unconditional items count);
        changes with none of them are left out. Raises ``BadRequest`` for a resource the
        catalog does not have."""
        resource = known_resource(self.catalog, resource).id
        query = sa.select(ChangeRow).where(ChangeRow.resource == resource)
        if since is not None:
            query = query.where(ChangeRow.notified_at >= as_utc(since, "since"))
        async with self.platform.session() as session:
            rows = list((await session.scalars(query.order_by(ChangeRow.notified_at))).all())
        readable = await self._readable(consumer, resource, purpose) if rows else frozenset()
        if not readable:
            return []
        kinds = holding_kinds(self.catalog.resources[resource])
        read = await subjects_read(self.audit, consumer.department, resource, kinds=kinds)
        return [narrowed for row in rows if (narrowed := _narrow(row, read, readable)) is not None]

    async def _readable(self, consumer: Consumer, rid: str, purpose: str | None) -> frozenset[str]:
        """The items of ``rid`` the consumer may read now (mode query, its grants today):
        none for a department not onboarded where the profile requires it (Sanya art. 12)."""
        if needs_onboarding(self.catalog) and not await OnboardingStore(self.platform).onboarded(
            consumer.department
        ):
            return frozenset()
        grants = await self.platform.grants_for(consumer.department)
        request = AccessRequest(consumer, purpose or NOTICE_PURPOSE, Mode.QUERY, self.clock())
        return readable_items(request, self.catalog, self.catalog.resources[rid], grants)

    async def stream(
        self,
        consumer: Consumer,
        resources: Collection[str] | None,
        purpose: str | None,
        recheck: Callable[[], Awaitable[None]] | None = None,
    ) -> AsyncIterator[Notice]:
        """The notices ``consumer`` may hear of, as they come: of ``resources`` (None: all)
        that it may read at the time of the notice (the access decision, mode query; without
        a declared ``purpose`` only unconditional items count), narrowed to the subjects it
        has read there; each one sent is audited. ``recheck`` is awaited before each notice
        is decided: what it raises (an expired token: ``Unauthenticated``) ends the stream,
        nothing more is sent. Raises ``BadRequest`` for an unknown resource before anything
        is awaited."""
        wanted = (
            {known_resource(self.catalog, rid).id for rid in resources} if resources is not None else None
        )
        holdings = Holdings(self.audit, consumer.department)
        async with self.broker.subscribe() as queue:
            while True:
                notice = await queue.get()
                if wanted is not None and notice.resource not in wanted:
                    continue
                if recheck is not None:
                    await recheck()
                narrowed = await self._for(consumer, notice, purpose, holdings)
                if narrowed is not None:
                    await self._audit_sent(consumer, narrowed)
                    yield narrowed

    async def _for(
        self, consumer: Consumer, notice: Notice, purpose: str | None, holdings: Holdings
    ) -> Notice | None:
        if notice.resource not in self.catalog.resources:  # a published catalog removed it since
            return None
        items = notice_items_for(notice.items, await self._readable(consumer, notice.resource, purpose))
        if items is None:
            return None
        kinds = holding_kinds(self.catalog.resources[notice.resource])
        subjects = tuple(notice_for(notice.subjects, await holdings.of(notice.resource, kinds)))
        return dataclasses.replace(notice, subjects=subjects, items=tuple(items)) if subjects else None

    async def _audit_sent(self, consumer: Consumer, notice: Notice) -> None:
        """A notice sent is a disclosure (these subjects changed): an event naming the consumer,
        resource and subjects. Kind ``workflow``: it is not a call of the resource, which the
        usage statistics count (``gateway.usage``)."""
        if self.audit is None:
            return
        await self.audit.append(
            AuditEvent(
                kind="workflow",
                outcome="change.notice",
                consumer=consumer.department,
                client=consumer.client_id,
                resources=(notice.resource,),
                subjects=notice.subjects,
                detail={"subscription": "changeNotices", "changed_at": notice.changed_at.isoformat()},
            )
        )

    async def last_notices(self, resources: Collection[str]) -> Mapping[str, dt.datetime]:
        """Per resource, the latest change it has a notice for (``changed_at``, UTC): the input
        of the realtime update rule (``gateway.oversight``, ``policies.timeliness``)."""
        latest = sa.func.max(ChangeRow.changed_at)
        query = sa.select(ChangeRow.resource, latest).where(ChangeRow.resource.in_(sorted(resources)))
        async with self.platform.session() as session:
            rows = (await session.execute(query.group_by(ChangeRow.resource))).all()
        return {resource: as_utc(moment) for resource, moment in rows if moment is not None}

    async def late_counts(self, providers: Collection[str] | None = None) -> Mapping[str, dict[str, int]]:
        """Per provider: ``notified`` changes and ``late`` ones (Shanghai art. 16)."""
        query = sa.select(ChangeRow.provider, ChangeRow.late, sa.func.count()).group_by(
            ChangeRow.provider, ChangeRow.late
        )
        if providers is not None:
            query = query.where(ChangeRow.provider.in_(list(providers)))
        counted: dict[str, dict[str, int]] = {}
        async with self.platform.session() as session:
            for provider, late, count in (await session.execute(query)).all():
                tally = counted.setdefault(provider, {"notified": 0, "late": 0})
                tally["notified"] += count
                tally["late"] += count if late else 0
        return counted

    async def _audit(self, actor: Actor, row: ChangeRow) -> None:
        if self.audit is None:
            return
        detail = {"change": row.id, "changed_at": row.changed_at.isoformat(), "late": row.late}
        await self.audit.append(
            AuditEvent(
                kind="workflow",
                outcome="change.notify",
                consumer=actor.consumer.department,
                client=actor.consumer.client_id,
                user=actor.user,
                resources=(row.resource,),
                items=tuple(f"{row.resource}.{i}" for i in row.items),
                subjects=tuple(row.subjects),
                detail=detail,
            )
        )


def notice_of(row: ChangeRow) -> Notice:
    return Notice(row.resource, tuple(row.subjects), tuple(row.items), row.changed_at, row.notified_at)


def _narrow(row: ChangeRow, read: Collection[str], readable: Collection[str]) -> ChangeRow | None:
    subjects = notice_for(row.subjects, read)
    items = notice_items_for(row.items, readable)
    if not subjects or items is None:
        return None
    return ChangeRow(
        id=row.id,
        resource=row.resource,
        provider=row.provider,
        subjects=subjects,
        items=items,
        changed_at=row.changed_at,
        notified_at=row.notified_at,
        due=row.due,
        late=row.late,
        notified_by=row.notified_by,
    )


class Periodic:
    """A background task that runs ``round`` every ``interval`` seconds until ``stop``; a
    platform-database error is logged (``failure``) and the next round tries again."""

    name = "govshare-periodic"
    failure = "%s"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def round(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.round()
            except sa.exc.SQLAlchemyError as exc:  # the next round tries again
                log.warning(self.failure, exc.__class__.__name__)


class ChangeRelay(Periodic):
    """Pushes changes stored by other processes (``govshare notify-change``, other gateway
    instances on the same database) to this process's subscribers: every ``interval``
    seconds, while anyone subscribes, rows notified since the last look (less a margin for
    clock skew between processes) that this process has not pushed yet."""

    MARGIN = dt.timedelta(seconds=5)

    name = "govshare-change-relay"
    failure = "change relay could not read change_notices: %s"

    def __init__(self, notices: ChangeNotices, interval: float = 1.0) -> None:
        super().__init__(interval)
        self.notices = notices
        self.since = notices.clock()

    async def round(self) -> None:
        await self.relay()

    async def relay(self) -> int:
        """One look; the number of notices pushed."""
        now = self.notices.clock()
        if not self.notices.broker.subscribers:
            self.since = now
            return 0
        query = sa.select(ChangeRow).where(ChangeRow.notified_at >= self.since - self.MARGIN)
        async with self.notices.platform.session() as session:
            rows = (await session.scalars(query.order_by(ChangeRow.notified_at))).all()
        self.since = now
        fresh = [row for row in rows if self.notices.first_push(row.id)]
        for row in fresh:
            if self.notices.invalidate is not None:  # stored by another process: drop our copies too
                await self.notices.invalidate(row.resource, list(row.subjects))
            self.notices.broker.publish(notice_of(row))
        return len(fresh)


class SourceStampRow(Base):
    """The last ``updated_at`` stamp the poller saw per resource: detection survives a restart."""

    __tablename__ = "change_source_stamps"

    resource: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    stamp: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ChangePoller(Periodic):
    """Finds changes in sources that have an ``updated_at`` stamp: every ``interval``
    seconds (the first round after one interval, so a starting gateway is not slowed) it
    asks each such source's ``freshness``; when it moved on from the last stamp seen (kept in
    ``change_source_stamps``: changes made while the gateway was down are found too), the
    keys changed since (``scan(since=...)``, inclusive: a row stamped exactly then is
    reported again rather than missed; no item is read) are recorded, at most
    ``MAX_NOTICE_SUBJECTS`` to a change. A resource never seen before is only noted."""

    name = "govshare-change-poller"
    failure = "change poll could not use the platform database: %s"

    def __init__(
        self, notices: ChangeNotices, sources: Mapping[str, Any], interval: float, scan_limit: int = 1000
    ) -> None:
        super().__init__(interval)
        self.notices, self.sources, self.scan_limit = notices, sources, scan_limit

    async def round(self) -> None:
        await self.poll()

    async def poll(self) -> list[ChangeRow]:
        """One round over every stamped source; a failing source is logged and skipped."""
        found: list[ChangeRow] = []
        for rid, source in self.sources.items():
            if source.binding.updated_at:
                try:
                    found += await self._poll_one(rid, source)
                except GovshareError as exc:
                    log.warning("change poll of %s failed: %s", rid, exc.message)
                except Exception:  # a connector's own fault: logged, the other sources still polled
                    log.exception("change poll of %s failed unexpectedly", rid)
        return found

    async def _poll_one(self, rid: str, source: Any) -> list[ChangeRow]:
        stamp = await source.connector.freshness(source.binding)
        if stamp is None:
            return []
        fresh = as_utc(stamp)
        last = await self._seen(rid)
        if last is not None and fresh <= last:
            return []
        keys = await self._changed_keys(source, last) if last is not None else []
        chunks = [keys[i : i + MAX_NOTICE_SUBJECTS] for i in range(0, len(keys), MAX_NOTICE_SUBJECTS)]
        rows = [await self.notices.record(rid, chunk, [], fresh, DETECTED_BY) for chunk in chunks]
        await self._note(rid, fresh)  # after the records: a failure before is found again next round
        return rows

    async def _changed_keys(self, source: Any, last: dt.datetime) -> list[str]:
        keys: list[str] = []
        after = None
        while True:  # keyset pages of changed keys only
            rows = await source.connector.scan(
                source.binding, [], after=after, since=_naive_china(last), limit=self.scan_limit
            )
            keys += [str(r["__key__"]) for r in rows]
            if len(rows) < self.scan_limit:
                return keys
            after = keys[-1]

    async def _seen(self, rid: str) -> dt.datetime | None:
        async with self.notices.platform.session() as session:
            row = await session.get(SourceStampRow, rid)
            return row.stamp if row is not None else None

    async def _note(self, rid: str, stamp: dt.datetime) -> None:
        async with self.notices.platform.session.begin() as session:
            row = await session.get(SourceStampRow, rid)
            if row is None:
                session.add(SourceStampRow(resource=rid, stamp=stamp))
            else:
                row.stamp = stamp


def _naive_china(moment: dt.datetime) -> dt.datetime:
    """Source stamps are naive China time (as ``as_utc`` reads them back)."""
    return moment.astimezone(CHINA_TIME).replace(tzinfo=None)
