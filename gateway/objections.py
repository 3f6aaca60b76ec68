"""Objections (疑义), stored: raised by a consumer, answered by the provider, audited.

Rules (who raises, who answers, the deadline) are :mod:`policies.objections`; this module
keeps them in the platform database (tables ``objections`` and ``objection_events``, made
by ``PlatformDB.create_schema`` like every table: an older data folder gains them on
start), counts the due day in working days (:mod:`policies.workdays`), records every step
in the audit trail after it is committed, and answers the disputed marks:
:meth:`Objections.open_for` reads a table of open objections kept in memory, reloaded by
one statement when this process changed one or a second after the last load (so the marks
cost a query nothing in the common case, and objections raised elsewhere show within a
second).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from errors import BadRequest, Forbidden, shown
from gateway.audit import AuditEvent, AuditLog
from gateway.holders import subjects_read
from gateway.onboarding import OnboardingStore
from gateway.platform import Base, PlatformDB, UTCDateTime
from policies.catalog import Catalog
from policies.chinatime import utc_now
from policies.decision import AccessRequest, Consumer, needs_onboarding
from policies.objections import (
    ObjectionLimit,
    ObjectionStatus,
    Outcome,
    Raised,
    disputed_item,
    is_overdue,
    may_read_item,
    not_holder,
    objection_due,
    require_answerer,
    require_not_repeated,
    require_raiser,
    require_text,
    subject_code,
)
from policies.share import Mode
from policies.workdays import WorkdayCalendar
from policies.workflow import Actor

Disputed = dict[str, dict[str, str]]  # subject -> item -> objection id
DISPUTED_KEY = "_disputed"  # the key exported rows carry their open objections under
OPEN_REFRESH_SECONDS = 1.0  # how stale the open objections of other processes may be


class ObjectionRow(Base):
    __tablename__ = "objections"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    consumer: Mapped[str] = mapped_column(sa.String(18), index=True)
    provider: Mapped[str] = mapped_column(sa.String(18), index=True)
    resource: Mapped[str] = mapped_column(sa.String(128), index=True)
    subject: Mapped[str] = mapped_column(sa.String(18), index=True)
    item: Mapped[str] = mapped_column(sa.String(128))
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    due: Mapped[dt.date] = mapped_column(sa.Date)
    statutory: Mapped[bool] = mapped_column(sa.Boolean)  # False: the profile says only "promptly"
    basis: Mapped[str] = mapped_column(sa.Text)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_by: Mapped[str | None] = mapped_column(sa.String(18), nullable=True)
    outcome: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
    note: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


class ObjectionEventRow(Base):
    __tablename__ = "objection_events"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    objection: Mapped[str] = mapped_column(sa.String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(sa.String(18))
    client: Mapped[str] = mapped_column(sa.String(128))
    user: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    action: Mapped[str] = mapped_column(sa.String(16))  # raise | answer
    text: Mapped[str] = mapped_column(sa.Text)  # the reason or the note


class Objections:
    """The objection workflow over the platform database (``PlatformDB``)."""

    def __init__(
        self,
        platform: PlatformDB,
        catalog: Catalog,
        calendar: WorkdayCalendar,
        limit: ObjectionLimit,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.platform, self.catalog, self.calendar, self.limit = platform, catalog, calendar, limit
        self.clock = clock or utc_now
        self.audit: AuditLog | None = None
        self.refresh_seconds = OPEN_REFRESH_SECONDS
        self._open: tuple[dict[tuple[str, str], dict[str, str]] | None, float] = (None, 0.0)
        self._open_lock = asyncio.Lock()

    async def raise_objection(self, actor: Actor, raised: Raised, purpose: str | None) -> ObjectionRow:
        """A new OPEN objection. Raises ``Forbidden`` unless the consumer has read the item of
        that subject (audit trail) or may read it now; ``BadRequest`` for unknown names."""
        consumer = actor.consumer
        require_raiser(consumer.roles)
        resource = disputed_item(self.catalog, raised.resource, raised.item)
        subject = subject_code(resource, raised.subject)
        reason = require_text(raised.reason, "reason")
        if not await self._holds(consumer, resource.id, subject, raised.item, purpose):
            raise not_holder(resource, subject, raised.item)
        await self._not_repeated(consumer.department, resource.id, subject, raised.item)
        now = self.clock()
        row = ObjectionRow(
            id=f"obj-{uuid.uuid4().hex[:12]}",
            consumer=consumer.department,
            provider=resource.provider,
            resource=resource.id,
            subject=subject,
            item=raised.item,
            reason=reason,
            status=ObjectionStatus.OPEN.value,
            raised_at=now,
            due=objection_due(self.calendar, now, self.limit),
            statutory=self.limit.statutory,
            basis=self.limit.basis,
        )
        async with self.platform.session.begin() as session:
            session.add(row)
            session.add(self._event(row.id, actor, "raise", reason))
        self._open = (None, 0.0)  # marked from the next operation on
        await self._audit(actor, "objection.raise", row)
        return row

    async def _holds(
        self, consumer: Consumer, rid: str, subject: str, item: str, purpose: str | None
    ) -> bool:
        if await subjects_read(self.audit, consumer.department, rid, {subject}, item=item):
            return True
        if purpose is None:  # reading now needs a declared purpose, as any read does
            return False
        grants = await self.platform.grants_for(consumer.department)
        onboarded = await OnboardingStore(self.platform).onboarded(consumer.department)
        if needs_onboarding(self.catalog) and not onboarded:  # Sanya art. 12: nothing before it
            return False
        request = AccessRequest(consumer, purpose, Mode.QUERY, self.clock(), onboarded=True)
        return may_read_item(request, self.catalog, self.catalog.resources[rid], item, subject, grants)

    async def _not_repeated(self, department: str, rid: str, subject: str, item: str) -> None:
        """``BadRequest`` when this consumer already has this value under an open objection,
        or too many open in all (policies.objections.require_not_repeated)."""
        mine = sa.and_(ObjectionRow.consumer == department, ObjectionRow.status == ObjectionStatus.OPEN.value)
        same = sa.and_(
            ObjectionRow.resource == rid, ObjectionRow.subject == subject, ObjectionRow.item == item
        )
        async with self.platform.session() as session:
            count = await session.scalar(sa.select(sa.func.count()).where(mine))
            found = (await session.scalars(sa.select(ObjectionRow.id).where(mine, same).limit(1))).all()
        require_not_repeated(found, count or 0)

    async def answer(self, actor: Actor, objection_id: str, outcome: Outcome, note: str) -> ObjectionRow:
        """The provider's answer; once only. Raises ``Forbidden`` for anyone but the
        resource's provider (an unknown id is refused the same way to non-providers)."""
        if not actor.consumer.has("provider"):
            raise Forbidden("only the providing department answers an objection; use a provider token")
        text = require_text(note, "note")
        async with self.platform.session.begin() as session:
            row = await session.get(ObjectionRow, objection_id)
            if row is None or row.provider != actor.consumer.department:  # the same for both
                raise Forbidden(
                    f"no objection {shown(objection_id)} on your department's resources", argument="id"
                )
            resource = self.catalog.resources.get(row.resource)  # None: a published catalog removed it
            if resource is not None:
                require_answerer(actor.consumer.department, actor.consumer.roles, resource)
            if row.status != ObjectionStatus.OPEN.value:
                raise BadRequest(f"objection {row.id} was answered already ({row.outcome}); raise a new one")
            row.status, row.outcome, row.note = ObjectionStatus.ANSWERED.value, outcome.value, text
            row.answered_at, row.answered_by = self.clock(), actor.consumer.department
            session.add(self._event(row.id, actor, "answer", f"{outcome.value}: {text}"))
        self._open = (None, 0.0)
        await self._audit(actor, "objection.answer", row)
        return row

    # --- reading -------------------------------------------------------------------

    async def objections(
        self,
        actor: Consumer,
        status: ObjectionStatus | None = None,
        overdue: bool | None = None,
        resource: str | None = None,
    ) -> list[ObjectionRow]:
        """Operators see all; providers those on their resources; consumers their own."""
        query = _scope(sa.select(ObjectionRow), actor).order_by(ObjectionRow.raised_at)
        if status is not None:
            query = query.where(ObjectionRow.status == status.value)
        if resource is not None:
            query = query.where(ObjectionRow.resource == resource)
        async with self.platform.session() as session:
            rows = list((await session.scalars(query)).all())
        return rows if overdue is None else [r for r in rows if self.overdue(r) is overdue]

    async def get(self, actor: Consumer, objection_id: str) -> ObjectionRow:
        query = _scope(sa.select(ObjectionRow).where(ObjectionRow.id == objection_id), actor)
        async with self.platform.session() as session:
            row = (await session.scalars(query)).first()
        if row is None:
            raise _no_objection(objection_id)
        return row

    async def history(self, objection_id: str) -> list[ObjectionEventRow]:
        query = sa.select(ObjectionEventRow).where(ObjectionEventRow.objection == objection_id)
        async with self.platform.session() as session:
            return list((await session.scalars(query.order_by(ObjectionEventRow.id))).all())

    def overdue(self, row: ObjectionRow) -> bool:
        return is_overdue(row.due, row.answered_at, self.clock())

    async def open_for(self, pairs: Collection[tuple[str, str]]) -> dict[tuple[str, str], dict[str, str]]:
        """Open objections on these (resource, subject) pairs: {(resource, subject): {item: id}}
        (the oldest objection of an item is named). Answered from the table of open
        objections this process keeps: reloaded (one statement) when this process raised or
        answered one, and at most ``refresh_seconds`` after the last load, so objections
        raised through another process are marked within that time."""
        if not pairs:
            return {}
        table = await self._open_table()
        return {pair: dict(table[pair]) for pair in pairs if pair in table}

    async def _open_table(self) -> Mapping[tuple[str, str], Mapping[str, str]]:
        table, loaded = self._open
        if table is not None and time.monotonic() - loaded < self.refresh_seconds:
            return table
        async with self._open_lock:  # one reload at a time: the others wait and share it
            table, loaded = self._open
            if table is None or time.monotonic() - loaded >= self.refresh_seconds:
                table = await self._load_open()
                self._open = (table, time.monotonic())
        return table

    async def _load_open(self) -> dict[tuple[str, str], dict[str, str]]:
        columns = (ObjectionRow.id, ObjectionRow.resource, ObjectionRow.subject, ObjectionRow.item)
        query = sa.select(*columns).where(ObjectionRow.status == ObjectionStatus.OPEN.value)
        found: dict[tuple[str, str], dict[str, str]] = {}
        async with self.platform.session() as session:
            for oid, rid, subject, item in (
                await session.execute(query.order_by(ObjectionRow.raised_at))
            ).all():
                found.setdefault((rid, subject), {}).setdefault(item, oid)
        return found

    async def open_disputes(self, resource: str, subjects: Collection[str]) -> Disputed:
        """For compare and export: {subject: {item: objection id}} of open objections."""
        found = await self.open_for({(resource, s) for s in subjects})
        return {subject: items for (_, subject), items in found.items()}

    async def counts(self, providers: Collection[str] | None = None) -> Mapping[str, dict[str, int]]:
        """Per provider: objections ``open``, ``answered``, ``overdue`` (for ``stats``)."""
        query = sa.select(ObjectionRow)
        if providers is not None:
            query = query.where(ObjectionRow.provider.in_(list(providers)))
        async with self.platform.session() as session:
            rows = (await session.scalars(query)).all()
        counted: dict[str, dict[str, int]] = {}
        for row in rows:
            tally = counted.setdefault(row.provider, {"open": 0, "answered": 0, "overdue": 0})
            tally[row.status] += 1
            tally["overdue"] += self.overdue(row)
        return counted

    # --- helpers -------------------------------------------------------------------

    def _event(self, objection_id: str, actor: Actor, action: str, text: str) -> ObjectionEventRow:
        return ObjectionEventRow(
            objection=objection_id,
            at=self.clock(),
            actor=actor.consumer.department,
            client=actor.consumer.client_id,
            user=actor.user,
            action=action,
            text=text,
        )

    async def _audit(self, actor: Actor, action: str, row: ObjectionRow) -> None:
        """After commit; the reason and note stay in the platform database (they may quote a
        value): the event names the objection, subject, item and outcome."""
        if self.audit is None:
            return
        detail: dict[str, Any] = {"objection": row.id, "status": row.status}
        if row.outcome:
            detail["outcome"] = row.outcome
        event = AuditEvent(
            kind="workflow",
            outcome=action,
            consumer=actor.consumer.department,
            client=actor.consumer.client_id,
            user=actor.user,
            resources=(row.resource,),
            items=(f"{row.resource}.{row.item}",),
            subjects=(row.subject,),
            detail=detail,
        )
        await self.audit.append(event)


def _scope(query: Any, actor: Consumer) -> Any:
    """Operators: all; providers: on their resources (and their own as consumer); others: own."""
    if actor.has("operator"):
        return query
    mine = ObjectionRow.consumer == actor.department
    if actor.has("provider"):
        mine = mine | (ObjectionRow.provider == actor.department)
    return query.where(mine)


def _no_objection(objection_id: str) -> BadRequest:
    return BadRequest(f"no objection {shown(objection_id)} you may see; list yours with the objections query")


class DisputedRows:
    """An export ``PageAnnotator`` (gateway.export_stream): each exported row whose subject
    has an open objection on an item the row carries gets ``_disputed: [{"item": name,
    "objection": id}]``; other rows are left as they are. One lookup per page."""

    def __init__(self, objections: Objections) -> None:
        self.objections = objections

    async def __call__(self, resource: str, rows: list[dict[str, Any]]) -> None:
        key = self.objections.catalog.resources[resource].key
        found = await self.objections.open_disputes(resource, {str(row[key]) for row in rows})
        for row in rows if found else ():
            marks = [
                {"item": item, "objection": oid}
                for item, oid in sorted(found.get(str(row[key]), {}).items())
                if item in row
            ]
            if marks:
                row[DISPUTED_KEY] = marks
