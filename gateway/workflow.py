"""The application workflow, stored: applications, their history, deadlines, grants.

Each step's due date is counted in Chinese working days from the profile's limits
(``policies.profile``) with ``policies.workdays``; where the calendar had to fall back
to Monday-Friday the application says so in ``calendar_warning``. Every change keeps who
(department, client, user), when and why, and is queryable as the history.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from errors import BadRequest, Forbidden, shown
from gateway.audit import AuditEvent, AuditLog
from gateway.platform import Base, PlatformDB, UTCDateTime, aware, new_grant_row
from policies.catalog import Catalog
from policies.chinatime import china_day, utc_now
from policies.decision import Consumer, Grant, canonical_purpose
from policies.profile import Profile
from policies.share import Mode
from policies.workdays import WorkdayCalendar, deadline
from policies.workflow import (
    Actor,
    Approval,
    Status,
    Submission,
    all_unconditional,
    check_conditions,
    check_submission,
    escalable_from,
    may_read,
    narrow,
    require_decider,
    require_reader,
    require_reasons,
    require_role,
    require_status,
)

REVOKING = "revoking a grant"  # the act named when a caller may not revoke


class ApplicationRow(Base):
    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    consumer: Mapped[str] = mapped_column(sa.String(18), index=True)
    provider: Mapped[str] = mapped_column(sa.String(18), index=True)
    resource: Mapped[str] = mapped_column(sa.String(128))
    items: Mapped[list[str]] = mapped_column(sa.JSON)
    modes: Mapped[list[str]] = mapped_column(sa.JSON)
    purpose: Mapped[str] = mapped_column(sa.Text)
    scope_of_knowledge: Mapped[str] = mapped_column(sa.Text)
    security_measures: Mapped[str] = mapped_column(sa.Text)
    legal_basis: Mapped[str] = mapped_column(sa.Text)
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    check_due: Mapped[dt.date | None] = mapped_column(sa.Date, nullable=True)
    checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decide_due: Mapped[dt.date | None] = mapped_column(sa.Date, nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(sa.String(18), nullable=True)
    notify_due: Mapped[dt.date | None] = mapped_column(sa.Date, nullable=True)
    notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reasons: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    grant_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    calendar_warning: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


class ApplicationEventRow(Base):
    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    application: Mapped[str] = mapped_column(sa.String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(sa.String(18))
    client: Mapped[str] = mapped_column(sa.String(128))
    user: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    action: Mapped[str] = mapped_column(sa.String(32))
    from_status: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(sa.String(16))
    reasons: Mapped[list[str]] = mapped_column(sa.JSON, default=list)


PLATFORM = Actor(Consumer("platform", "govshare", frozenset({"operator"})))


class Workflow:
    def __init__(
        self,
        platform: PlatformDB,
        catalog: Catalog,
        profile: Profile,
        calendar: WorkdayCalendar,
        clock: Callable[[], dt.datetime] | None = None,
    ):
        self.platform, self.catalog, self.profile, self.calendar = platform, catalog, profile, calendar
        self.clock = clock or _now  # injectable, so deadlines can be tested on fixed dates
        self.audit: AuditLog | None = None  # every step is recorded once it is committed

    # --- steps ---------------------------------------------------------------------

    async def submit(self, actor: Actor, submission: Submission) -> ApplicationRow:
        require_role(actor.consumer, "consumer", "applying")
        check_submission(self.catalog, submission)
        now = self.clock()
        row = ApplicationRow(
            id=f"app-{uuid.uuid4().hex[:12]}",
            consumer=actor.consumer.department,
            provider=self.catalog.resources[submission.resource].provider,
            resource=submission.resource,
            items=list(submission.items),
            modes=[m.value for m in submission.modes],
            purpose=canonical_purpose(submission.purpose),
            scope_of_knowledge=submission.scope_of_knowledge,
            security_measures=submission.security_measures,
            legal_basis=submission.legal_basis,
            valid_from=submission.valid_from,
            valid_until=submission.valid_until,
            status=Status.SUBMITTED.value,
            submitted_at=now,
            check_due=self._due(now, self.profile.deadlines.check),
            reasons=[],
        )
        row.calendar_warning = self._warning(now, row.check_due)
        async with self.platform.session.begin() as session:
            session.add(row)
            session.add(self._event(row.id, actor, "submit", None, Status.SUBMITTED, ()))
            if self.profile.deadlines.check is None:  # no platform check step in this regulation
                await self._accept(session, row, PLATFORM, ("no platform check step in this profile",))
        await self._record(actor, "submit", row)
        return row

    async def check(self, actor: Actor, app_id: str, accept: bool, reasons: Sequence[str]) -> ApplicationRow:
        require_role(actor.consumer, "operator", "checking an application")
        async with self.platform.session.begin() as session:
            row = await _load(session, app_id)
            require_status(Status(row.status), [Status.SUBMITTED], "check")
            if accept:
                await self._accept(session, row, actor, tuple(reasons))
            else:
                row.checked_at = self.clock()
                why = require_reasons(reasons, "returning")
                self._move(session, row, actor, "return", Status.RETURNED, why)
        await self._record(actor, "check", row)
        return row

    async def _accept(self, session: Any, row: ApplicationRow, actor: Actor, reasons: Sequence[str]) -> None:
        now = self.clock()
        row.checked_at = now
        self._move(session, row, actor, "accept", Status.ACCEPTED, reasons)
        row.decide_due = self._due(now, self.profile.deadlines.decide)
        row.calendar_warning = self._warning(now, row.decide_due) or row.calendar_warning
        if self._platform_grants(row):
            await self._approve(session, row, actor, Approval(), "platform grants unconditional items")

    async def decide(
        self, actor: Actor, app_id: str, approve: bool, reasons: Sequence[str], approval: Approval
    ) -> ApplicationRow:
        async with self.platform.session.begin() as session:
            row = await _load(session, app_id)
            require_status(Status(row.status), [Status.ACCEPTED, Status.ESCALATED], "decide")
            require_decider(actor.consumer, Status(row.status), row.provider)
            if approve:
                await self._approve(session, row, actor, approval, *reasons)
            elif self._refusal_needs_consent(row):
                why = require_reasons(reasons, "refusing")
                row.decided_at, row.decided_by = self.clock(), actor.consumer.department
                self._move(session, row, actor, "refuse", Status.REFUSAL_PENDING, why)
            else:
                self._conclude(
                    session, row, actor, "refuse", Status.REFUSED, require_reasons(reasons, "refusing")
                )
        await self._record(actor, "decide", row)
        return row

    def _refusal_needs_consent(self, row: ApplicationRow) -> bool:
        """Sanya art. 12: a provider's refusal needs the informatization department's consent
        (an escalated application is decided by the operator itself)."""
        return self.profile.access.refusal_confirmation and Status(row.status) is Status.ACCEPTED

    async def confirm_refusal(
        self, actor: Actor, app_id: str, consent: bool, reasons: Sequence[str]
    ) -> ApplicationRow:
        """The operator consents to a pending refusal (REFUSED, the consumer told) or withholds
        consent (back to ACCEPTED: the provider decides again); reasons are required when
        withholding. Sanya art. 12."""
        require_role(actor.consumer, "operator", "confirming a refusal")
        async with self.platform.session.begin() as session:
            row = await _load(session, app_id)
            require_status(Status(row.status), [Status.REFUSAL_PENDING], "confirm the refusal of")
            if consent:
                why = (*(row.reasons or []), *(r.strip() for r in reasons if r.strip()))
                decided = row.decided_at, row.decided_by  # the provider decided; the operator consents
                self._conclude(session, row, actor, "confirm_refusal", Status.REFUSED, why)
                row.decided_at, row.decided_by = decided
            else:
                why = require_reasons(reasons, "withholding consent to a refusal")
                row.decided_at = row.decided_by = None
                self._move(session, row, actor, "withhold_consent", Status.ACCEPTED, why)
        await self._record(actor, "confirm_refusal", row)
        return row

    async def escalate(self, actor: Actor, app_id: str, reasons: Sequence[str]) -> ApplicationRow:
        async with self.platform.session.begin() as session:
            row = await _load(session, app_id)
            if actor.consumer.department != row.consumer:
                raise Forbidden("only the applying department escalates its application")
            overdue = bool(self.overdue_steps(row))
            allowed = escalable_from(Status(row.status), overdue, row.decide_due)
            require_status(Status(row.status), allowed, "escalate")
            self._move(
                session, row, actor, "escalate", Status.ESCALATED, require_reasons(reasons, "escalating")
            )
        await self._record(actor, "escalate", row)
        return row

    async def _record(self, actor: Actor, action: str, row: ApplicationRow) -> None:
        detail = {"application": row.id, "status": row.status, "reasons": list(row.reasons or [])}
        if row.grant_id:
            detail["grant"] = row.grant_id
        await self._audit_step(actor, action, row.resource, detail)

    async def _audit_step(self, actor: Actor, action: str, resource: str, detail: dict[str, Any]) -> None:
        """Audited after commit: if the audit store fails, the caller is told AUDIT_UNAVAILABLE."""
        if self.audit is None:
            return
        event = AuditEvent(kind="workflow", outcome=action, consumer=actor.consumer.department,
                           client=actor.consumer.client_id, user=actor.user, resources=(resource,),
                           detail=detail)  # fmt: skip
        await self.audit.append(event)

    # --- reading -------------------------------------------------------------------

    async def get(self, actor: Actor, app_id: str) -> ApplicationRow:
        async with self.platform.session() as session:
            row = await _load(session, app_id)
        require_reader(actor.consumer, row.consumer, row.provider)
        return row

    async def applications(
        self,
        actor: Actor,
        *,
        status: Status | None = None,
        consumer: str | None = None,
        resource: str | None = None,
        overdue: bool | None = None,
    ) -> list[ApplicationRow]:
        query = sa.select(ApplicationRow).order_by(ApplicationRow.submitted_at)
        query = _scope(query, actor.consumer, consumer)
        if status is not None:
            query = query.where(ApplicationRow.status == status.value)
        if resource is not None:
            query = query.where(ApplicationRow.resource == resource)
        async with self.platform.session() as session:
            rows = list((await session.scalars(query)).all())
        if overdue is not None:
            rows = [r for r in rows if bool(self.overdue_steps(r)) is overdue]
        return rows

    async def history(self, app_id: str) -> list[ApplicationEventRow]:
        query = sa.select(ApplicationEventRow).where(ApplicationEventRow.application == app_id)
        async with self.platform.session() as session:
            return list((await session.scalars(query.order_by(ApplicationEventRow.id))).all())

    def overdue_steps(self, row: ApplicationRow, today: dt.date | None = None) -> list[str]:
        """Steps past their due date: still open, or done late."""
        today = today or _china_day(self.clock())
        steps = (("check", row.check_due, row.checked_at), ("decide", row.decide_due, row.decided_at),
                 ("notify", row.notify_due, row.notified_at))  # fmt: skip
        return [name for name, due, done in steps if due and _late(due, done, today)]

    # --- helpers -------------------------------------------------------------------

    def _event(
        self,
        app_id: str,
        actor: Actor,
        action: str,
        before: Status | None,
        after: Status,
        reasons: Sequence[str],
    ) -> ApplicationEventRow:
        return ApplicationEventRow(
            application=app_id,
            at=self.clock(),
            actor=actor.consumer.department,
            client=actor.consumer.client_id,
            user=actor.user,
            action=action,
            from_status=before.value if before else None,
            to_status=after.value,
            reasons=list(reasons),
        )

    def _due(self, start: dt.datetime, days: int | None) -> dt.date | None:
        return deadline(self.calendar, start, days)

    def calendar_warnings(self, start: dt.date, end: dt.date) -> list[str]:
        """One line per year in [start, end] whose working days fall back to Monday-Friday."""
        return [
            f"no holiday calendar for {year}: working days counted Monday-Friday; set GOVSHARE_CALENDAR"
            for year in self.calendar.fallback_years(start, end)
        ]

    def upcoming_calendar_warnings(self) -> list[str]:
        """For /readyz: years from today (China time) to a year ahead without a holiday calendar."""
        today = _china_day(self.clock())
        return self.calendar_warnings(today, today + dt.timedelta(days=366))

    def _warning(self, start: dt.datetime, due: dt.date | None) -> str | None:
        years = self.calendar.fallback_years(start.date(), due or start.date())
        if not years:
            return None
        return (f"working days for {', '.join(map(str, years))} counted Monday-Friday: no holiday calendar "
                "for those years; the operator should supply one (GOVSHARE_CALENDAR)")  # fmt: skip

    def _platform_grants(self, row: ApplicationRow) -> bool:
        return self.profile.deadlines.platform_grant is not None and all_unconditional(
            self.catalog, row.resource, row.items, [Mode(m) for m in row.modes]
        )

    def _move(self, session: Any, row: ApplicationRow, actor: Actor, action: str, to: Status,
              reasons: Sequence[str]) -> ApplicationRow:  # fmt: skip
        session.add(self._event(row.id, actor, action, Status(row.status), to, reasons))
        row.status, row.reasons = to.value, list(reasons)
        return row

    def _conclude(self, session: Any, row: ApplicationRow, actor: Actor, action: str, to: Status,
                  reasons: Sequence[str]) -> None:  # fmt: skip
        """A decision: recorded, and the consumer told at once (the notify step)."""
        now = self.clock()
        self._move(session, row, actor, action, to, reasons)
        row.decided_at, row.decided_by = now, actor.consumer.department
        row.notify_due = self._due(now, self.profile.deadlines.notify)
        row.notified_at = now
        session.add(self._event(row.id, actor, "notify", to, to, (f"{row.consumer} told: {to.value}",)))

    async def _approve(
        self, session: Any, row: ApplicationRow, actor: Actor, approval: Approval, *reasons: str
    ) -> None:
        items = narrow(row.items, approval.items, "items")
        check_conditions(approval.conditions, items)
        modes = [Mode(m) for m in narrow(row.modes, approval.modes, "modes")]
        until = min(aware(row.valid_until), aware(approval.valid_until or row.valid_until))
        grant = new_grant_row(
            row.consumer, row.resource, items, row.purpose, until, modes,
            aware(row.valid_from), approval.conditions, application=row.id,
        )  # fmt: skip
        session.add(grant)  # one transaction: the decision and its grant land together
        row.grant_id = grant.id
        self._conclude(session, row, actor, "approve", Status.APPROVED, tuple(reasons))

    async def grants(
        self, actor: Actor, consumer: str | None = None, resource: str | None = None
    ) -> list[Grant]:
        """Operators see all grants; providers those on their resources; consumers their own."""
        mine = consumer in (None, actor.consumer.department)
        if not mine and not actor.consumer.has("operator") and not actor.consumer.has("provider"):
            raise Forbidden("you may list your own department's grants only")
        grants = await self.platform.all_grants()
        visible = [g for g in grants if self._may_see(actor.consumer, g)]
        return [g for g in visible if consumer in (None, g.consumer) and resource in (None, g.resource)]

    def _may_see(self, actor: Consumer, grant: Grant) -> bool:
        return may_read(actor, grant.consumer, self._provider_of(grant))

    def _provider_of(self, grant: Grant) -> str:
        """The grant's resource's provider; "" once the resource left the catalog (a published
        catalog removed it: the operator still lists and revokes its grants)."""
        resource = self.catalog.resources.get(grant.resource)
        return resource.provider if resource is not None else ""

    async def revoke(self, actor: Actor, grant_id: str, reasons: Sequence[str]) -> Grant:
        operator = actor.consumer.has("operator")
        if not operator:  # the role first: whether a grant exists is not every caller's business
            require_role(actor.consumer, "provider", REVOKING)
        grants = {g.id: g for g in await self.platform.all_grants()}
        grant = grants.get(grant_id)
        if grant is None:
            raise BadRequest(f"no grant {shown(grant_id)}")
        provider = self._provider_of(grant)
        if not operator:
            require_decider(actor.consumer, Status.ACCEPTED, provider, REVOKING)
        why = require_reasons(reasons, "revoking")
        revoked = await self.platform.revoke_grant(grant_id)
        async with self.platform.session.begin() as session:  # kept in the application's history
            session.add(
                self._event(grant.application or grant.id, actor, "revoke", None, Status.APPROVED, why)
            )
        await self._audit_step(actor, "revoke", grant.resource, {"grant": grant.id, "reasons": list(why)})
        return revoked


def _scope(query: Any, actor: Consumer, consumer: str | None) -> Any:
    """Operators see all; providers their resources' applications; consumers their own."""
    if consumer not in (None, actor.department) and not actor.has("operator") and not actor.has("provider"):
        raise Forbidden("you may list your own department's applications only")
    if consumer is not None:
        query = query.where(ApplicationRow.consumer == consumer)
    if actor.has("operator"):
        return query
    mine = ApplicationRow.consumer == actor.department
    if actor.has("provider"):
        mine = mine | (ApplicationRow.provider == actor.department)
    return query.where(mine)


async def _load(session: Any, app_id: str) -> ApplicationRow:
    row = await session.get(ApplicationRow, app_id)
    if row is None:
        raise BadRequest(f"no application {app_id!r}; list yours with the applications query")
    return row  # type: ignore[no-any-return]


def _late(due: dt.date, done: dt.datetime | None, today: dt.date) -> bool:
    return (_china_day(done) if done else today) > due


def _china_day(moment: dt.datetime) -> dt.date:
    """The day in China of a stored instant (deadlines and lateness are China's days)."""
    return china_day(aware(moment))


def _now() -> dt.datetime:
    return utc_now()
