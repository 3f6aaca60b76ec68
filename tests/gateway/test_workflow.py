"""The stored application workflow (gateway.workflow.Workflow), on SQLite and PostgreSQL.

Hubei art. 18-22: the consumer applies; the platform checks the form within 3 working days
(returning it with reasons); the provider decides within 10 (refusing with reasons); the
consumer is told within 1; data the platform grants itself (unconditional) are granted at
acceptance. Zhejiang art. 26: the provider reviews within 5 working days. Every step is kept
with who (department, client, user), when and why.

The catalog is tests/data/catalog.yaml (profile hubei): amr.enterprise_registration
(provider AMR) has the conditional item legal_representative; tax.tax_credit (provider TAX)
has tax_arrears. The workflow has no clock parameter: tests that need a fixed "now" patch
``gateway.workflow._now``; the others compute expected due dates from the row's own times.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from errors import BadRequest, Forbidden, ModeNotAllowed, NotShared
from gateway.platform import Base, GrantRow, GrantUsage, PlatformDB, aware
from gateway.workflow import ApplicationEventRow, ApplicationRow, Workflow
from policies.catalog import Catalog, Mask, load_catalog
from policies.codes import make_uscc
from policies.decision import Consumer, GrantConditions
from policies.profile import load_profile
from policies.share import Mode
from policies.workdays import CHINA_TIME, WorkdayCalendar, deadline
from policies.workflow import Actor, Approval, Status, Submission
from tests.conftest import CATALOG, create_database_if_missing

AMR = "amr.enterprise_registration"
TAX = "tax.tax_credit"
AMR_DEPT = "11420000MB00000191"
TAX_DEPT = "11420000MB0000027U"
OPERATOR_DEPT = make_uscc("1", "1", "420000", "MB009001")
PURPOSE = "行政审批核验"
CALENDAR = WorkdayCalendar()
_SERIALS = itertools.count(1)


def fresh_department() -> str:
    """A consumer department no other test (nor an earlier run on PostgreSQL) uses."""
    serial = (uuid.uuid4().int % 10_000) * 100 + next(_SERIALS) % 100
    return make_uscc("1", "1", "420100", f"MW{serial:06d}")


def actor(department: str, *roles: str, user: str | None = None, client: str | None = None) -> Actor:
    return Actor(Consumer(department, client or f"cli-{department[-4:]}", frozenset(roles)), user)


OPERATOR = actor(OPERATOR_DEPT, "operator", user="平台审核员", client="platform-console")
AMR_PROVIDER = actor(AMR_DEPT, "provider", user="市场监管局审批员", client="amr-approvals")
TAX_PROVIDER = actor(TAX_DEPT, "provider", client="tax-approvals")


def consumer_actor(user: str | None = "经办人张三") -> Actor:
    return actor(fresh_department(), "consumer", user=user, client="housing-system")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def application(
    resource: str = AMR,
    items: tuple[str, ...] = ("name", "legal_representative"),
    modes: tuple[Mode, ...] = (Mode.QUERY, Mode.COMPARE),
    **changes: Any,
) -> Submission:
    start = now() - dt.timedelta(minutes=1)
    fields: dict[str, Any] = {
        "resource": resource,
        "items": items,
        "modes": modes,
        "purpose": PURPOSE,
        "scope_of_knowledge": "审批科经办人员三名",
        "security_measures": "政务外网传输，访问留痕，不落地存储",
        "legal_basis": "《行政许可法》第三十一条",
        "valid_from": start,
        "valid_until": start + dt.timedelta(days=365),
        **changes,
    }
    return Submission(**fields)


# --- fixtures --------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG)


_FRESH: set[str] = set()


async def own_database(url: str) -> str:
    """A database of these tests' own on the test server, its tables made afresh once per run.

    The server is shared (other suites, earlier runs): a table made there by an older version
    of the code keeps its old columns, since ``create_all`` never alters one.
    """
    own = sa.make_url(url).set(database=f"{sa.make_url(url).database}_workflow_tests")
    rendered = own.render_as_string(hide_password=False)
    if rendered in _FRESH:
        return rendered
    await create_database_if_missing(url, str(own.database))
    engine = create_async_engine(rendered)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
            await conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))  # made afresh too
    finally:
        await engine.dispose()
    _FRESH.add(rendered)
    return rendered


@pytest.fixture
async def platform(platform_url: str) -> AsyncIterator[PlatformDB]:
    postgres = platform_url.startswith("postgresql")
    db = PlatformDB(await own_database(platform_url) if postgres else platform_url)
    await db.create_schema()
    if postgres:  # shared between tests: start clean
        async with db.engine.begin() as conn:
            for table in (ApplicationEventRow, ApplicationRow, GrantUsage, GrantRow):
                await conn.execute(sa.delete(table))
    yield db
    await db.close()


MakeWorkflow = Callable[[str], Workflow]


@pytest.fixture
def make_workflow(platform: PlatformDB, catalog: Catalog) -> MakeWorkflow:
    def make(profile: str = "hubei") -> Workflow:
        return Workflow(platform, catalog, load_profile(profile), CALENDAR, clock=NOW.read)

    return make


@pytest.fixture
def workflow(make_workflow: MakeWorkflow) -> Workflow:
    return make_workflow("hubei")


class SettableClock:
    """The workflow's injected clock: the real time unless a test fixes it."""

    def __init__(self) -> None:
        self.fixed: dt.datetime | None = None

    def read(self) -> dt.datetime:
        return self.fixed or dt.datetime.now(dt.UTC)


NOW = SettableClock()


@pytest.fixture
def clock() -> Iterator[Callable[[dt.datetime], None]]:
    """Fix the workflow's "now" for one test."""

    def set_now(moment: dt.datetime) -> None:
        NOW.fixed = moment

    yield set_now
    NOW.fixed = None


async def stored(platform: PlatformDB, app_id: str) -> ApplicationRow:
    async with platform.session() as session:
        row = await session.get(ApplicationRow, app_id)
    assert row is not None
    return row


async def grant_row(platform: PlatformDB, grant_id: str) -> GrantRow:
    async with platform.session() as session:
        row = await session.get(GrantRow, grant_id)
    assert row is not None
    return row


async def move(platform: PlatformDB, app_id: str, **values: Any) -> None:
    """Rewrite an application's dates directly in the database (deadlines in the past)."""
    async with platform.session.begin() as session:
        await session.execute(sa.update(ApplicationRow).where(ApplicationRow.id == app_id).values(**values))


def china_day(moment: dt.datetime) -> dt.date:
    return aware(moment).astimezone(CHINA_TIME).date()


async def accepted(workflow: Workflow, applicant: Actor, submission: Submission | None = None) -> str:
    row = await workflow.submit(applicant, submission or application())
    await workflow.check(OPERATOR, row.id, True, ["材料齐全"])
    return row.id


async def refused(workflow: Workflow, applicant: Actor) -> str:
    app_id = await accepted(workflow, applicant)
    await workflow.decide(AMR_PROVIDER, app_id, False, ["用途与所申请信息项不符"], Approval())
    return app_id


def steps(events: list[ApplicationEventRow]) -> list[tuple[str, str | None, str]]:
    return [(e.action, e.from_status, e.to_status) for e in events]


# --- the whole way ---------------------------------------------------------------


async def test_happy_path_submit_check_approve_with_narrowing_and_conditions(
    workflow: Workflow, platform: PlatformDB
):
    applicant = consumer_actor()
    submission = application()
    row = await workflow.submit(applicant, submission)
    assert row.status == "submitted"
    assert row.consumer == applicant.consumer.department and row.provider == AMR_DEPT
    assert row.check_due == deadline(CALENDAR, row.submitted_at, 3)  # Hubei art. 19

    checked = await workflow.check(OPERATOR, row.id, True, ["材料齐全"])
    assert checked.status == "accepted"

    until = submission.valid_until - dt.timedelta(days=200)
    conditions = GrantConditions(("420102",), {"legal_representative": Mask(1, 0)}, 5)
    approval = Approval(["legal_representative"], [Mode.QUERY], until, conditions)
    decided = await workflow.decide(AMR_PROVIDER, row.id, True, ["同意，限江岸区"], approval)
    assert decided.status == "approved" and decided.grant_id

    app = await stored(platform, row.id)
    assert app.status == "approved"
    assert app.decided_by == AMR_DEPT
    assert app.grant_id == decided.grant_id
    assert app.reasons == ["同意，限江岸区"]
    assert app.checked_at and app.decided_at and app.notified_at
    assert app.check_due == deadline(CALENDAR, aware(app.submitted_at), 3)
    assert app.decide_due == deadline(CALENDAR, aware(app.checked_at), 10)  # Hubei art. 20
    assert app.notify_due == deadline(CALENDAR, aware(app.decided_at), 1)  # Hubei art. 20
    assert workflow.overdue_steps(app) == []

    [grant] = await platform.grants_for(applicant.consumer.department)
    assert grant.id == app.grant_id
    assert grant.resource == AMR
    assert grant.items == frozenset({"legal_representative"})  # narrowed from name + legal_rep
    assert grant.modes == frozenset({Mode.QUERY})  # narrowed from query + compare
    assert grant.purpose == PURPOSE
    assert grant.valid_from == submission.valid_from
    assert grant.valid_until == until
    assert grant.conditions == conditions
    assert not grant.revoked and grant.active_at(now())
    assert (await grant_row(platform, grant.id)).application == row.id

    history = await workflow.history(row.id)
    assert steps(history) == [
        ("submit", None, "submitted"),
        ("accept", "submitted", "accepted"),
        ("approve", "accepted", "approved"),
        ("notify", "approved", "approved"),
    ]
    by_action = {e.action: e for e in history}
    assert (by_action["submit"].actor, by_action["submit"].client, by_action["submit"].user) == (
        applicant.consumer.department, "housing-system", "经办人张三",
    )  # fmt: skip
    assert (by_action["accept"].actor, by_action["accept"].client, by_action["accept"].user) == (
        OPERATOR_DEPT, "platform-console", "平台审核员",
    )  # fmt: skip
    assert (by_action["approve"].actor, by_action["approve"].client, by_action["approve"].user) == (
        AMR_DEPT, "amr-approvals", "市场监管局审批员",
    )  # fmt: skip
    assert by_action["accept"].reasons == ["材料齐全"]
    assert by_action["approve"].reasons == ["同意，限江岸区"]
    assert by_action["notify"].reasons and applicant.consumer.department in by_action["notify"].reasons[0]
    assert all(e.at is not None for e in history)
    assert [aware(e.at) for e in history] == sorted(aware(e.at) for e in history)


async def test_an_approval_takes_everything_applied_for_by_default(workflow: Workflow, platform: PlatformDB):
    applicant = consumer_actor()
    submission = application()
    app_id = await accepted(workflow, applicant, submission)
    await workflow.decide(AMR_PROVIDER, app_id, True, [], Approval())
    [grant] = await platform.grants_for(applicant.consumer.department)
    assert grant.items == frozenset({"name", "legal_representative"})
    assert grant.modes == frozenset({Mode.QUERY, Mode.COMPARE})
    assert (grant.valid_from, grant.valid_until) == (submission.valid_from, submission.valid_until)
    assert grant.conditions == GrantConditions()


async def test_the_purpose_is_stored_as_compared(workflow: Workflow, platform: PlatformDB):
    """Issue 7, item 20: every kind of whitespace folded, invisible characters dropped, on the
    application and on the grant made from it."""
    applicant = consumer_actor()
    app_id = await accepted(workflow, applicant, application(purpose="\u3000行政审批\u2003\u200b核验\u00a0"))
    assert (await workflow.get(applicant, app_id)).purpose == "行政审批 核验"
    await workflow.decide(AMR_PROVIDER, app_id, True, [], Approval())
    [grant] = await platform.grants_for(applicant.consumer.department)
    assert grant.purpose == "行政审批 核验"


async def test_an_approval_cannot_lengthen_the_period(workflow: Workflow, platform: PlatformDB):
    applicant = consumer_actor()
    submission = application()
    app_id = await accepted(workflow, applicant, submission)
    longer = Approval(valid_until=submission.valid_until + dt.timedelta(days=365))
    await workflow.decide(AMR_PROVIDER, app_id, True, [], longer)
    [grant] = await platform.grants_for(applicant.consumer.department)
    assert grant.valid_until == submission.valid_until


@pytest.mark.parametrize(
    "approval",
    [
        Approval(items=["legal_representative", "status"]),  # not applied for
        Approval(items=[]),
        Approval(modes=[Mode.BULK]),  # not applied for
        Approval(valid_until=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)),  # ends before it starts
    ],
    ids=["widen-items", "no-items", "widen-modes", "ends-before-start"],
)
async def test_a_bad_approval_changes_nothing(workflow: Workflow, platform: PlatformDB, approval: Approval):
    applicant = consumer_actor()
    app_id = await accepted(workflow, applicant)
    with pytest.raises(BadRequest):
        await workflow.decide(AMR_PROVIDER, app_id, True, [], approval)
    app = await stored(platform, app_id)
    assert (app.status, app.grant_id, app.decided_at) == ("accepted", None, None)
    assert await platform.grants_for(applicant.consumer.department) == []
    assert [e.action for e in await workflow.history(app_id)] == ["submit", "accept"]


# --- return, refuse, escalate ----------------------------------------------------


async def test_the_platform_returns_an_application_with_reasons(workflow: Workflow, platform: PlatformDB):
    applicant = consumer_actor()
    row = await workflow.submit(applicant, application())
    returned = await workflow.check(OPERATOR, row.id, False, [" 安全措施未说明存储方式 ", ""])
    assert returned.status == "returned"
    app = await stored(platform, row.id)
    assert app.status == "returned" and app.reasons == ["安全措施未说明存储方式"]
    assert app.checked_at is not None and app.decide_due is None
    assert steps(await workflow.history(row.id))[-1] == ("return", "submitted", "returned")
    assert await platform.grants_for(applicant.consumer.department) == []


async def test_returning_needs_reasons_and_changes_nothing_without(workflow: Workflow, platform: PlatformDB):
    row = await workflow.submit(consumer_actor(), application())
    with pytest.raises(BadRequest) as raised:
        await workflow.check(OPERATOR, row.id, False, ["  "])
    assert "reasons" in raised.value.message
    app = await stored(platform, row.id)
    assert (app.status, app.checked_at) == ("submitted", None)
    assert [e.action for e in await workflow.history(row.id)] == ["submit"]


async def test_refusing_needs_reasons(workflow: Workflow, platform: PlatformDB):
    applicant = consumer_actor()
    app_id = await accepted(workflow, applicant)
    with pytest.raises(BadRequest) as raised:
        await workflow.decide(AMR_PROVIDER, app_id, False, [], Approval())
    assert "reasons" in raised.value.message
    assert (await stored(platform, app_id)).status == "accepted"

    await workflow.decide(AMR_PROVIDER, app_id, False, ["申请用途不需要法定代表人信息"], Approval())
    app = await stored(platform, app_id)
    assert (app.status, app.reasons, app.decided_by, app.grant_id) == (
        "refused", ["申请用途不需要法定代表人信息"], AMR_DEPT, None,
    )  # fmt: skip
    assert app.notified_at is not None
    assert steps(await workflow.history(app_id))[-2:] == [
        ("refuse", "accepted", "refused"),
        ("notify", "refused", "refused"),
    ]
    assert await platform.grants_for(applicant.consumer.department) == []


async def test_a_refused_application_is_escalated_and_settled_by_the_operator(
    workflow: Workflow, platform: PlatformDB
):
    applicant = consumer_actor()
    app_id = await refused(workflow, applicant)
    with pytest.raises(BadRequest):
        await workflow.escalate(applicant, app_id, [" "])  # reasons are required
    escalated = await workflow.escalate(applicant, app_id, ["该信息为法定审批要件"])
    assert escalated.status == "escalated"

    with pytest.raises(Forbidden):  # no longer the provider's to decide
        await workflow.decide(AMR_PROVIDER, app_id, True, [], Approval())
    await workflow.decide(
        OPERATOR, app_id, True, ["经协调同意共享"], Approval(items=["legal_representative"])
    )

    app = await stored(platform, app_id)
    assert (app.status, app.decided_by) == ("approved", OPERATOR_DEPT)
    [grant] = await platform.grants_for(applicant.consumer.department)
    assert grant.id == app.grant_id and grant.items == frozenset({"legal_representative"})
    assert [e.action for e in await workflow.history(app_id)] == [
        "submit", "accept", "refuse", "notify", "escalate", "approve", "notify",
    ]  # fmt: skip


async def test_a_returned_application_may_be_escalated(workflow: Workflow):
    applicant = consumer_actor()
    row = await workflow.submit(applicant, application())
    await workflow.check(OPERATOR, row.id, False, ["缺少法律依据文号"])
    assert (await workflow.escalate(applicant, row.id, ["依据已列明"])).status == "escalated"


async def test_an_open_application_on_time_cannot_be_escalated(workflow: Workflow):
    applicant = consumer_actor()
    app_id = await accepted(workflow, applicant)
    with pytest.raises(BadRequest) as raised:
        await workflow.escalate(applicant, app_id, ["太慢"])
    assert "accepted" in raised.value.message


async def test_an_overdue_decision_may_be_escalated(workflow: Workflow, platform: PlatformDB):
    applicant = consumer_actor()
    app_id = await accepted(workflow, applicant)
    await move(platform, app_id, decide_due=dt.date(2026, 1, 5))
    assert workflow.overdue_steps(await stored(platform, app_id)) == ["decide"]
    assert (await workflow.escalate(applicant, app_id, ["提供部门逾期未答复"])).status == "escalated"


async def test_escalating_another_departments_application_is_refused(
    workflow: Workflow, platform: PlatformDB
):
    app_id = await refused(workflow, consumer_actor())
    stranger = consumer_actor()
    with pytest.raises((BadRequest, Forbidden)):
        await workflow.escalate(stranger, app_id, ["我也有意见"])
    assert (await stored(platform, app_id)).status == "refused"


async def test_escalating_another_departments_application_is_forbidden(workflow: Workflow):
    app_id = await refused(workflow, consumer_actor())
    with pytest.raises(Forbidden):
        await workflow.escalate(consumer_actor(), app_id, ["我也有意见"])


# --- roles -----------------------------------------------------------------------


async def test_a_provider_deciding_another_departments_resource_is_forbidden(
    workflow: Workflow, platform: PlatformDB
):
    app_id = await accepted(workflow, consumer_actor())
    for decision in (True, False):
        with pytest.raises(Forbidden) as raised:
            await workflow.decide(TAX_PROVIDER, app_id, decision, ["不同意"], Approval())
        assert raised.value.extensions["provider"] == AMR_DEPT
    assert (await stored(platform, app_id)).status == "accepted"


async def test_the_operator_does_not_decide_an_application_that_is_not_escalated(workflow: Workflow):
    app_id = await accepted(workflow, consumer_actor())
    with pytest.raises(Forbidden):
        await workflow.decide(OPERATOR, app_id, True, [], Approval())


@pytest.mark.parametrize("roles", [("provider",), ("operator",)])
async def test_submitting_needs_the_consumer_role(
    workflow: Workflow, platform: PlatformDB, roles: tuple[str, ...]
):
    applicant = actor(fresh_department(), *roles)
    with pytest.raises(Forbidden) as raised:
        await workflow.submit(applicant, application())
    assert raised.value.extensions["role"] == "consumer"
    assert await workflow.applications(OPERATOR, consumer=applicant.consumer.department) == []


@pytest.mark.parametrize("checker", [AMR_PROVIDER, None], ids=["provider", "the-consumer"])
async def test_checking_needs_the_operator_role(
    workflow: Workflow, platform: PlatformDB, checker: Actor | None
):
    applicant = consumer_actor()
    row = await workflow.submit(applicant, application())
    with pytest.raises(Forbidden) as raised:
        await workflow.check(checker or applicant, row.id, True, [])
    assert raised.value.extensions["role"] == "operator"
    assert (await stored(platform, row.id)).status == "submitted"


async def test_a_step_out_of_order_is_refused(workflow: Workflow):
    applicant = consumer_actor()
    row = await workflow.submit(applicant, application())
    with pytest.raises(BadRequest):  # not checked yet
        await workflow.decide(AMR_PROVIDER, row.id, True, [], Approval())
    await workflow.check(OPERATOR, row.id, True, [])
    with pytest.raises(BadRequest):  # checked already
        await workflow.check(OPERATOR, row.id, True, [])
    await workflow.decide(AMR_PROVIDER, row.id, True, [], Approval())
    with pytest.raises(BadRequest):  # decided already
        await workflow.decide(AMR_PROVIDER, row.id, False, ["改变主意"], Approval())


async def test_an_unknown_application_is_a_bad_request(workflow: Workflow):
    with pytest.raises(BadRequest) as raised:
        await workflow.get(OPERATOR, "app-nothing")
    assert "app-nothing" in raised.value.message


@pytest.mark.parametrize(
    ("submission", "error"),
    [
        (application(items=("name", "inner_note")), NotShared),
        (application(items=("legal_rep",)), BadRequest),
        (application(resource="psb.resident", items=("name",), modes=(Mode.BULK,)), ModeNotAllowed),
        (application(purpose=" "), BadRequest),
        (application(purpose="\u3000\u200b\u2028"), BadRequest),
    ],
    ids=["not-shared", "unknown-item", "mode-not-offered", "blank-purpose", "invisible-purpose"],
)
async def test_a_submission_the_platform_could_only_return_is_refused_at_once(
    workflow: Workflow, submission: Submission, error: type[Exception]
):
    applicant = consumer_actor()
    with pytest.raises(error):
        await workflow.submit(applicant, submission)
    assert await workflow.applications(applicant) == []


# --- reading and listing ---------------------------------------------------------


async def test_who_reads_an_application(workflow: Workflow):
    applicant = consumer_actor()
    row = await workflow.submit(applicant, application())
    for reader in (applicant, OPERATOR, AMR_PROVIDER):
        assert (await workflow.get(reader, row.id)).id == row.id
    for stranger in (consumer_actor(), TAX_PROVIDER):
        with pytest.raises(Forbidden):
            await workflow.get(stranger, row.id)


async def test_listing_is_scoped_by_role(workflow: Workflow):
    one, other = consumer_actor(), consumer_actor()
    amr_one = (await workflow.submit(one, application())).id
    tax_one = (await workflow.submit(one, application(TAX, ("tax_arrears",), (Mode.QUERY,)))).id
    amr_other = (await workflow.submit(other, application())).id

    assert [r.id for r in await workflow.applications(one)] == [amr_one, tax_one]
    assert [r.id for r in await workflow.applications(other)] == [amr_other]
    assert [r.id for r in await workflow.applications(one, consumer=one.consumer.department)] == [
        amr_one, tax_one,
    ]  # fmt: skip
    with pytest.raises(Forbidden):
        await workflow.applications(one, consumer=other.consumer.department)

    amr_seen = {r.id for r in await workflow.applications(AMR_PROVIDER)}
    assert {amr_one, amr_other} <= amr_seen and tax_one not in amr_seen
    assert all(r.provider == AMR_DEPT for r in await workflow.applications(AMR_PROVIDER))
    tax_seen = {r.id for r in await workflow.applications(TAX_PROVIDER)}
    assert tax_one in tax_seen and not {amr_one, amr_other} & tax_seen

    assert {amr_one, tax_one, amr_other} <= {r.id for r in await workflow.applications(OPERATOR)}
    by_other = await workflow.applications(OPERATOR, consumer=other.consumer.department)
    assert [r.id for r in by_other] == [amr_other]
    assert [r.id for r in await workflow.applications(one, resource=TAX)] == [tax_one]


async def test_listing_by_status(workflow: Workflow):
    applicant = consumer_actor()
    submitted = (await workflow.submit(applicant, application())).id
    accepted_id = await accepted(workflow, applicant)
    assert [r.id for r in await workflow.applications(applicant, status=Status.SUBMITTED)] == [submitted]
    assert [r.id for r in await workflow.applications(applicant, status=Status.ACCEPTED)] == [accepted_id]
    assert await workflow.applications(applicant, status=Status.REFUSED) == []


async def test_a_provider_may_filter_its_applications_by_consumer(workflow: Workflow):
    applicant = consumer_actor()
    row = await workflow.submit(applicant, application())
    assert row.id in {r.id for r in await workflow.applications(AMR_PROVIDER)}
    filtered = await workflow.applications(AMR_PROVIDER, consumer=applicant.consumer.department)
    assert [r.id for r in filtered] == [row.id]


# --- grants and revocation -------------------------------------------------------


async def test_grants_are_listed_by_scope_and_revoked_with_reasons(workflow: Workflow, platform: PlatformDB):
    applicant = consumer_actor()
    app_id = await accepted(workflow, applicant)
    decided = await workflow.decide(AMR_PROVIDER, app_id, True, [], Approval())
    grant_id = decided.grant_id
    assert grant_id

    assert [g.id for g in await workflow.grants(applicant)] == [grant_id]
    assert grant_id in {g.id for g in await workflow.grants(AMR_PROVIDER)}
    assert grant_id not in {g.id for g in await workflow.grants(TAX_PROVIDER)}
    assert grant_id in {g.id for g in await workflow.grants(OPERATOR, resource=AMR)}
    assert await workflow.grants(consumer_actor()) == []
    with pytest.raises(Forbidden):
        await workflow.grants(consumer_actor(), consumer=applicant.consumer.department)

    for stranger in (TAX_PROVIDER, applicant):
        with pytest.raises(Forbidden):
            await workflow.revoke(stranger, grant_id, ["不再需要"])
    with pytest.raises(BadRequest):
        await workflow.revoke(AMR_PROVIDER, grant_id, [])
    assert not (await platform.grants_for(applicant.consumer.department))[0].revoked

    revoked = await workflow.revoke(AMR_PROVIDER, grant_id, ["使用部门超范围使用"])
    assert revoked.revoked and not revoked.active_at(now())
    [stored_grant] = await platform.grants_for(applicant.consumer.department)
    assert stored_grant.revoked


async def test_an_operator_may_revoke(workflow: Workflow, platform: PlatformDB):
    applicant = consumer_actor()
    app_id = await accepted(workflow, applicant)
    grant_id = (await workflow.decide(AMR_PROVIDER, app_id, True, [], Approval())).grant_id
    assert grant_id
    assert (await workflow.revoke(OPERATOR, grant_id, ["安全检查发现问题"])).revoked
    with pytest.raises(BadRequest):
        await workflow.revoke(OPERATOR, "grant-nothing", ["x"])


async def test_revoking_is_kept_in_the_applications_history(workflow: Workflow):
    applicant = consumer_actor()
    app_id = await accepted(workflow, applicant)
    grant_id = (await workflow.decide(AMR_PROVIDER, app_id, True, [], Approval())).grant_id
    assert grant_id
    await workflow.revoke(AMR_PROVIDER, grant_id, ["使用部门超范围使用"])
    last = (await workflow.history(app_id))[-1]
    assert (last.action, last.actor, last.reasons) == ("revoke", AMR_DEPT, ["使用部门超范围使用"])


# --- conditions a provider attaches ----------------------------------------------


async def test_a_mask_on_an_item_not_granted_is_refused(workflow: Workflow, platform: PlatformDB):
    app_id = await accepted(workflow, consumer_actor())
    typo = Approval(conditions=GrantConditions(masks={"legal_rep": Mask(1, 0)}))
    with pytest.raises(BadRequest):
        await workflow.decide(AMR_PROVIDER, app_id, True, [], typo)


@pytest.mark.parametrize("cap", [0, -1])
async def test_a_daily_cap_below_one_is_refused(workflow: Workflow, cap: int):
    app_id = await accepted(workflow, consumer_actor())
    with pytest.raises(BadRequest):
        await workflow.decide(
            AMR_PROVIDER, app_id, True, [], Approval(conditions=GrantConditions(daily_cap=cap))
        )


# --- deadlines and overdue -------------------------------------------------------


async def test_an_overdue_check_is_listed_and_named(workflow: Workflow, platform: PlatformDB):
    applicant = consumer_actor()
    late = (await workflow.submit(applicant, application())).id
    on_time = (await workflow.submit(applicant, application())).id
    submitted_at = dt.datetime(2025, 12, 29, 2, 0, tzinfo=dt.UTC)  # a Monday, 10:00 in China
    check_due = deadline(CALENDAR, submitted_at, 3)
    assert check_due == dt.date(2026, 1, 4)  # 2026-01-01..03 are New Year holidays; 01-04 a workday
    await move(platform, late, submitted_at=submitted_at, check_due=check_due)

    assert [r.id for r in await workflow.applications(applicant, overdue=True)] == [late]
    assert [r.id for r in await workflow.applications(applicant, overdue=False)] == [on_time]
    assert late in {r.id for r in await workflow.applications(OPERATOR, overdue=True)}
    assert workflow.overdue_steps(await stored(platform, late)) == ["check"]
    assert workflow.overdue_steps(await stored(platform, on_time)) == []


async def test_a_step_done_late_stays_flagged(workflow: Workflow, platform: PlatformDB):
    applicant = consumer_actor()
    app_id = (await workflow.submit(applicant, application())).id
    await move(platform, app_id, check_due=dt.date(2026, 1, 5))
    await workflow.check(OPERATOR, app_id, True, [])  # today: after the due date
    app = await stored(platform, app_id)
    assert workflow.overdue_steps(app) == ["check"]
    assert [r.id for r in await workflow.applications(OPERATOR, overdue=True) if r.id == app_id] == [app_id]
    await workflow.decide(AMR_PROVIDER, app_id, True, [], Approval())
    assert workflow.overdue_steps(await stored(platform, app_id)) == ["check"]  # decided on time


async def test_overdue_is_the_day_after_the_due_date_in_china(workflow: Workflow, platform: PlatformDB):
    row = await workflow.submit(consumer_actor(), application())
    app = await stored(platform, row.id)
    assert app.check_due is not None
    assert workflow.overdue_steps(app, today=app.check_due) == []
    assert workflow.overdue_steps(app, today=app.check_due + dt.timedelta(days=1)) == ["check"]


async def test_a_check_on_the_due_day_in_china_is_on_time(
    workflow: Workflow, platform: PlatformDB, clock: Callable[[dt.datetime], None]
):
    """2026-10-10 00:30 in China is still 2026-10-09 in UTC; it is the due day (Hubei check 3)."""
    clock(dt.datetime(2026, 9, 30, 2, 0, tzinfo=dt.UTC))
    applicant = consumer_actor()
    row = await workflow.submit(applicant, application())
    assert row.check_due == dt.date(2026, 10, 10)
    clock(dt.datetime(2026, 10, 9, 16, 30, tzinfo=dt.UTC))  # 2026-10-10 00:30 CST
    await workflow.check(OPERATOR, row.id, True, [])
    app = await stored(platform, row.id)
    assert workflow.overdue_steps(app, today=dt.date(2026, 10, 20)) == []
    assert app.decide_due == dt.date(2026, 10, 23)  # 10 working days after Saturday 10-10


def test_hubei_check_deadline_over_national_day_2026():
    """Submitted 2026-09-30: 10-01..07 are holidays, 10-08, 10-09 and Saturday 10-10 (调休) work."""
    hubei = load_profile("hubei").deadlines
    assert (hubei.check, hubei.decide, hubei.notify, hubei.platform_grant) == (3, 10, 1, 3)
    due = deadline(CALENDAR, dt.date(2026, 9, 30), hubei.check)
    assert due == dt.date(2026, 10, 10)
    assert due.weekday() == 5 and CALENDAR.is_workday(due)
    # the day is China's: 09-29 15:59 UTC is 23:59 on 09-29 there, a minute later it is 09-30
    late_evening = dt.datetime(2026, 9, 29, 15, 59, tzinfo=dt.UTC)
    assert deadline(CALENDAR, late_evening, hubei.check) == dt.date(2026, 10, 9)
    assert deadline(CALENDAR, late_evening + dt.timedelta(minutes=1), hubei.check) == dt.date(2026, 10, 10)
    assert deadline(CALENDAR, dt.date(2026, 10, 3), hubei.check) == dt.date(2026, 10, 10)  # in the holidays
    assert deadline(CALENDAR, dt.date(2026, 9, 30), None) is None


async def test_a_submission_on_2026_09_30_is_due_for_check_on_2026_10_10(
    workflow: Workflow, clock: Callable[[dt.datetime], None]
):
    clock(dt.datetime(2026, 9, 30, 2, 0, tzinfo=dt.UTC))  # 10:00 in China
    row = await workflow.submit(consumer_actor(), application())
    assert row.check_due == dt.date(2026, 10, 10)
    assert row.calendar_warning is None  # chinesecalendar knows 2026


async def test_deadlines_in_a_year_without_a_calendar_carry_a_warning(
    workflow: Workflow, platform: PlatformDB, clock: Callable[[dt.datetime], None]
):
    clock(dt.datetime(2028, 3, 1, 2, 0, tzinfo=dt.UTC))  # a Wednesday; no holiday calendar for 2028
    row = await workflow.submit(consumer_actor(), application())
    assert row.check_due == dt.date(2028, 3, 6)  # Monday-Friday fallback
    app = await stored(platform, row.id)
    assert app.calendar_warning and "2028" in app.calendar_warning
    assert "GOVSHARE_CALENDAR" in app.calendar_warning


async def test_a_deadline_crossing_into_an_unknown_year_warns_about_that_year(
    workflow: Workflow, platform: PlatformDB, clock: Callable[[dt.datetime], None]
):
    clock(dt.datetime(2026, 12, 30, 2, 0, tzinfo=dt.UTC))
    row = await workflow.submit(consumer_actor(), application())
    assert row.check_due is not None and row.check_due.year == 2027
    app = await stored(platform, row.id)
    assert app.calendar_warning and "2027" in app.calendar_warning and "2026" not in app.calendar_warning


async def test_the_calendar_warning_of_a_submission_now(workflow: Workflow, platform: PlatformDB):
    app = await stored(platform, (await workflow.submit(consumer_actor(), application())).id)
    assert app.check_due is not None
    expected = CALENDAR.fallback_years(china_day(app.submitted_at), app.check_due)
    assert bool(app.calendar_warning) == bool(expected)


def offline_workflow(catalog: Catalog) -> Workflow:
    """For what needs no database (calendar warnings)."""
    no_database: Any = None
    return Workflow(no_database, catalog, load_profile("hubei"), CALENDAR)


def test_calendar_warnings_name_each_fallback_year(catalog: Catalog):
    workflow = offline_workflow(catalog)
    warnings = workflow.calendar_warnings(dt.date(2026, 6, 1), dt.date(2028, 6, 1))
    assert len(warnings) == 2
    assert "2027" in warnings[0] and "2028" in warnings[1]
    assert workflow.calendar_warnings(dt.date(2025, 1, 1), dt.date(2026, 12, 31)) == []


def test_readiness_warnings_on_a_leap_day(catalog: Catalog):
    no_database: Any = None
    leap_day = dt.datetime(2028, 2, 29, 2, 0, tzinfo=dt.UTC)
    workflow = Workflow(no_database, catalog, load_profile("hubei"), CALENDAR, clock=lambda: leap_day)
    warnings = workflow.upcoming_calendar_warnings()
    assert "2028" in " ".join(warnings) and "2029" in " ".join(warnings)


async def test_an_existing_platform_database_is_upgraded(tmp_path: Path, catalog: Catalog):
    path = tmp_path / "platform.db"
    with contextlib.closing(sqlite3.connect(path)) as db, db:  # the grants table of 1d594b8 (2026-11-21)
        db.execute(
            "CREATE TABLE grants (id VARCHAR(64) NOT NULL, consumer VARCHAR(18) NOT NULL, "
            "resource VARCHAR(128) NOT NULL, items JSON NOT NULL, modes JSON NOT NULL, "
            "purpose TEXT NOT NULL, "
            "valid_from DATETIME NOT NULL, valid_until DATETIME NOT NULL, revoked_at DATETIME, "
            "created_at DATETIME NOT NULL, PRIMARY KEY (id))"
        )
        db.execute("CREATE INDEX ix_grants_consumer ON grants (consumer)")
    platform = PlatformDB(f"sqlite+aiosqlite:///{path}")
    try:
        await platform.create_schema()
        flow = Workflow(platform, catalog, load_profile("hubei"), CALENDAR)
        applicant = consumer_actor()
        app_id = await accepted(flow, applicant)
        await flow.decide(AMR_PROVIDER, app_id, True, [], Approval())
        assert len(await platform.grants_for(applicant.consumer.department)) == 1
    finally:
        await platform.close()


# --- the platform grants; other profiles -----------------------------------------


async def test_hubei_the_platform_grants_only_unconditional_items_at_acceptance(
    workflow: Workflow, platform: PlatformDB
):
    """Hubei art. 21 (and art. 12): data without control parameters are granted by the platform."""
    applicant = consumer_actor()
    row = await workflow.submit(applicant, application(items=("name", "status"), modes=(Mode.BULK,)))
    checked = await workflow.check(OPERATOR, row.id, True, [])
    assert checked.status == "approved"
    app = await stored(platform, row.id)
    assert (app.status, app.decided_by) == ("approved", OPERATOR_DEPT)
    assert app.checked_at and app.decided_at and app.notified_at
    [grant] = await platform.grants_for(applicant.consumer.department)
    assert grant.id == app.grant_id
    assert grant.items == frozenset({"name", "status"}) and grant.modes == frozenset({Mode.BULK})
    assert (await grant_row(platform, grant.id)).application == row.id
    history = await workflow.history(row.id)
    assert steps(history) == [
        ("submit", None, "submitted"),
        ("accept", "submitted", "accepted"),
        ("approve", "accepted", "approved"),
        ("notify", "approved", "approved"),
    ]
    assert history[2].actor == OPERATOR_DEPT and history[2].reasons == ["platform grants unconditional items"]
    assert workflow.overdue_steps(app) == []


async def test_hubei_a_conditional_item_still_goes_to_the_provider(workflow: Workflow, platform: PlatformDB):
    applicant = consumer_actor()
    row = await workflow.submit(applicant, application(items=("name", "legal_representative")))
    assert (await workflow.check(OPERATOR, row.id, True, [])).status == "accepted"
    assert await platform.grants_for(applicant.consumer.department) == []


@pytest.mark.parametrize("profile", ["shanghai", "sanya", "zhengzhou"])
async def test_without_a_platform_grant_unconditional_items_wait_for_the_provider(
    make_workflow: MakeWorkflow, platform: PlatformDB, profile: str
):
    flow = make_workflow(profile)
    applicant = consumer_actor()
    row = await flow.submit(applicant, application(items=("name",)))
    assert row.check_due is None  # none of them has a platform check step
    app = await stored(platform, row.id)
    assert app.status == "accepted"  # straight to the provider, who has not decided
    expected = deadline(CALENDAR, aware(app.checked_at), load_profile(profile).deadlines.decide)  # type: ignore[arg-type]
    assert app.decide_due == expected
    assert await platform.grants_for(applicant.consumer.department) == []


async def test_zhejiang_no_check_deadline_and_five_working_days_to_decide(
    make_workflow: MakeWorkflow, platform: PlatformDB
):
    flow = make_workflow("zhejiang")
    applicant = consumer_actor()
    row = await flow.submit(applicant, application())
    assert row.check_due is None
    app = await stored(platform, row.id)
    assert app.check_due is None
    assert app.status == "accepted"
    assert app.decide_due == deadline(CALENDAR, aware(app.checked_at), 5)  # type: ignore[arg-type]
    await flow.decide(AMR_PROVIDER, row.id, True, [], Approval())
    app = await stored(platform, row.id)
    assert app.notify_due is None  # Zhejiang has no separate notification step
    assert flow.overdue_steps(app) == []


async def test_zhejiang_five_working_days_on_fixed_dates(
    make_workflow: MakeWorkflow, platform: PlatformDB, clock: Callable[[dt.datetime], None]
):
    flow = make_workflow("zhejiang")
    clock(dt.datetime(2026, 9, 29, 2, 0, tzinfo=dt.UTC))  # Tuesday 10:00 in China
    row = await flow.submit(consumer_actor(), application())
    # 09-30, then the National Day holidays, then 10-08, 10-09, 10-10 (Saturday, 调休), 10-12
    assert (await stored(platform, row.id)).decide_due == dt.date(2026, 10, 12)


async def test_zhejiang_the_platform_opens_unconditional_items_at_once(
    make_workflow: MakeWorkflow, platform: PlatformDB
):
    """Zhejiang art. 26: 非受限共享类 data are opened by the platform 即时 (platform_grant: 0)."""
    flow = make_workflow("zhejiang")
    applicant = consumer_actor()
    row = await flow.submit(applicant, application(items=("name", "status"), modes=(Mode.COMPARE,)))
    assert row.status == "approved"
    [grant] = await platform.grants_for(applicant.consumer.department)
    assert grant.items == frozenset({"name", "status"})


async def test_zhejiang_the_provider_decides_without_a_platform_check(make_workflow: MakeWorkflow):
    flow = make_workflow("zhejiang")
    applicant = consumer_actor()
    row = await flow.submit(applicant, application())
    assert row.decide_due == deadline(CALENDAR, row.submitted_at, 5)
    decided = await flow.decide(AMR_PROVIDER, row.id, True, [], Approval())
    assert decided.status == "approved"


# --- instants (issue 7, item 1): China time in, UTC stored, on SQLite and PostgreSQL -----

CST = dt.timezone(dt.timedelta(hours=8))
END_UTC = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)  # 17:00 in China


@pytest.mark.parametrize(
    "until",
    [dt.datetime(2026, 12, 1, 17, tzinfo=CST), END_UTC, dt.datetime(2026, 12, 1, 17)],
    ids=["+08:00", "Z", "none (China time)"],
)
async def test_an_application_period_and_its_grant_end_at_the_instant_applied_for(
    workflow: Workflow, platform: PlatformDB, until: dt.datetime
):
    start = dt.datetime(2026, 11, 1, 8, tzinfo=CST)
    app_id = await accepted(workflow, consumer_actor(), application(valid_from=start, valid_until=until))
    row = await stored(platform, app_id)
    assert (row.valid_from, row.valid_until) == (dt.datetime(2026, 11, 1, 0, tzinfo=dt.UTC), END_UTC)
    await workflow.decide(AMR_PROVIDER, app_id, True, ["同意"], Approval())
    grant = (await grant_row(platform, (await stored(platform, app_id)).grant_id or "")).to_grant()
    assert grant.active_at(END_UTC - dt.timedelta(seconds=1))
    assert not grant.active_at(END_UTC)  # not 8 hours later


async def test_an_approval_narrowing_the_period_in_china_time(workflow: Workflow, platform: PlatformDB):
    app_id = await accepted(workflow, consumer_actor())
    narrowed = now().replace(tzinfo=None, microsecond=0) + dt.timedelta(days=10)  # naive: China time
    await workflow.decide(AMR_PROVIDER, app_id, True, ["同意"], Approval(valid_until=narrowed))
    grant = (await grant_row(platform, (await stored(platform, app_id)).grant_id or "")).to_grant()
    assert grant.valid_until == (narrowed - dt.timedelta(hours=8)).replace(tzinfo=dt.UTC)


# --- issue 10 section 2: profile rules in the workflow -----------------------------------------


async def test_zhengzhou_sets_no_deadline_so_an_undecided_application_may_be_escalated_at_once(
    make_workflow: MakeWorkflow, platform: PlatformDB
):
    """Zhengzhou art. 18: conditions per the competent organ, disputes to the authority; with no
    decision deadline an undecided application could otherwise wait for ever."""
    workflow = make_workflow("zhengzhou")
    applicant = consumer_actor()
    row = await workflow.submit(applicant, application())  # no platform check step: accepted
    assert (row.status, row.decide_due) == ("accepted", None)
    assert (await workflow.escalate(applicant, row.id, ["十个月未答复"])).status == "escalated"


async def test_under_hubei_an_accepted_application_on_time_still_cannot_be_escalated(workflow: Workflow):
    app_id = await accepted(workflow, applicant := consumer_actor())
    with pytest.raises(BadRequest):
        await workflow.escalate(applicant, app_id, ["太慢"])


async def test_under_sanya_a_refusal_waits_for_the_operators_consent(
    make_workflow: MakeWorkflow, platform: PlatformDB
):
    """Sanya art. 12: 不同意提供信息的,应当书面说明理由并征得信息化主管部门同意."""
    workflow = make_workflow("sanya")
    applicant = consumer_actor()
    row = await workflow.submit(applicant, application())
    pending = await workflow.decide(AMR_PROVIDER, row.id, False, ["涉及商业秘密"], Approval())
    assert (pending.status, pending.reasons) == ("refusal_pending", ["涉及商业秘密"])
    with pytest.raises(BadRequest):  # not final: nothing to escalate yet
        await workflow.escalate(applicant, row.id, ["不服"])
    with pytest.raises(Forbidden):
        await workflow.confirm_refusal(AMR_PROVIDER, row.id, True, [])
    with pytest.raises(BadRequest):  # withholding consent needs reasons
        await workflow.confirm_refusal(OPERATOR, row.id, False, [" "])
    back = await workflow.confirm_refusal(OPERATOR, row.id, False, ["理由不充分,请重新审核"])
    assert back.status == "accepted" and back.decided_at is None
    await workflow.decide(AMR_PROVIDER, row.id, False, ["确属商业秘密"], Approval())
    final = await workflow.confirm_refusal(OPERATOR, row.id, True, [])
    assert (final.status, final.reasons, final.decided_by) == ("refused", ["确属商业秘密"], AMR_DEPT)
    assert [e.action for e in await workflow.history(row.id)] == [
        "submit", "accept", "refuse", "withhold_consent", "refuse", "confirm_refusal", "notify",
    ]  # fmt: skip
    assert await platform.grants_for(applicant.consumer.department) == []
    assert (await workflow.escalate(applicant, row.id, ["不服"])).status == "escalated"  # now final


async def test_under_other_profiles_a_refusal_is_final_at_once(make_workflow: MakeWorkflow):
    for profile in ("hubei", "shanghai", "zhejiang", "zhengzhou"):
        workflow = make_workflow(profile)
        row = await workflow.submit(consumer_actor(), application())
        if row.status == "submitted":
            await workflow.check(OPERATOR, row.id, True, [])
        refused_row = await workflow.decide(AMR_PROVIDER, row.id, False, ["不符合条件"], Approval())
        assert refused_row.status == "refused", profile
        with pytest.raises(BadRequest):
            await workflow.confirm_refusal(OPERATOR, row.id, True, [])
