"""The workflow's pure rules (policies.workflow): who may move an application, what a step needs.

Hubei art. 19-21 (return and refusal state reasons), Sanya art. 12 (refusal in writing),
Shanghai art. 14 / Zhejiang art. 26 (the provider decides on its own resources). The catalog
is tests/data/catalog.yaml (profile hubei): amr.enterprise_registration is unconditional with
one conditional item (legal_representative) and one non-shared item (inner_note).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from errors import BadRequest, Forbidden, ModeNotAllowed, NotShared
from policies.catalog import Catalog, load_catalog
from policies.decision import Consumer, GrantConditions
from policies.share import Mode
from policies.workflow import (
    OPEN,
    Status,
    Submission,
    all_unconditional,
    check_conditions,
    check_submission,
    may_read,
    narrow,
    require_decider,
    require_reader,
    require_reasons,
    require_role,
    require_status,
)
from tests.conftest import CATALOG

AMR = "amr.enterprise_registration"
TAX = "tax.tax_credit"
PSB = "psb.resident"
AMR_DEPT = "11420000MB00000191"  # provider of amr.enterprise_registration
TAX_DEPT = "11420000MB0000027U"  # provider of tax.tax_credit
CONSUMER = "11420100MB0000035U"
OTHER_CONSUMER = "12330100000000000E"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CATALOG)


def who(department: str, *roles: str) -> Consumer:
    return Consumer(department, f"cli-{department}", frozenset(roles))


def submission(**changes: object) -> Submission:
    base = Submission(
        resource=AMR,
        items=("name", "legal_representative"),
        modes=(Mode.QUERY,),
        purpose="行政审批核验",
        scope_of_knowledge="审批科经办人员",
        security_measures="专网传输，访问留痕",
        legal_basis="《行政许可法》第三十一条",
        valid_from=START,
        valid_until=START + dt.timedelta(days=365),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# --- require_decider -------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.ACCEPTED, Status.SUBMITTED])
def test_the_resources_provider_decides(status: Status):
    require_decider(who(AMR_DEPT, "provider"), status, AMR_DEPT)  # no error


def test_a_provider_of_another_department_is_forbidden():
    with pytest.raises(Forbidden) as raised:
        require_decider(who(TAX_DEPT, "provider"), Status.ACCEPTED, AMR_DEPT)
    assert raised.value.extensions["code"] == "FORBIDDEN"
    assert raised.value.extensions["provider"] == AMR_DEPT


@pytest.mark.parametrize(
    "roles", [("consumer",), ("operator",), ("consumer", "operator")], ids=["consumer", "operator", "both"]
)
def test_deciding_an_accepted_application_needs_the_provider_role(roles: tuple[str, ...]):
    """Even the resource's own department cannot decide through a client without the role."""
    with pytest.raises(Forbidden) as raised:
        require_decider(who(AMR_DEPT, *roles), Status.ACCEPTED, AMR_DEPT)
    assert raised.value.extensions["role"] == "provider"


def test_an_escalated_application_is_settled_by_the_operator():
    require_decider(who(CONSUMER, "operator"), Status.ESCALATED, AMR_DEPT)  # the authority


@pytest.mark.parametrize("decider", [who(AMR_DEPT, "provider"), who(CONSUMER, "consumer")])
def test_an_escalated_application_is_not_for_the_provider_or_consumer(decider: Consumer):
    with pytest.raises(Forbidden) as raised:
        require_decider(decider, Status.ESCALATED, AMR_DEPT)
    assert raised.value.extensions["role"] == "operator"


# --- reading ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "reader",
    [
        who(CONSUMER, "consumer"),  # its consumer, whatever the roles
        who(CONSUMER, "provider"),
        who(AMR_DEPT, "provider"),  # its resource's provider
        who(OTHER_CONSUMER, "operator"),  # any operator
    ],
    ids=["consumer", "consumer-department-as-provider", "provider", "operator"],
)
def test_who_may_read_an_application(reader: Consumer):
    assert may_read(reader, CONSUMER, AMR_DEPT)
    require_reader(reader, CONSUMER, AMR_DEPT)


@pytest.mark.parametrize(
    "reader",
    [
        who(OTHER_CONSUMER, "consumer"),  # another consumer
        who(TAX_DEPT, "provider"),  # the provider of another resource
        who(AMR_DEPT, "consumer"),  # the provider's department without the provider role
    ],
    ids=["other-consumer", "other-provider", "provider-department-without-role"],
)
def test_others_may_not_read_an_application(reader: Consumer):
    assert not may_read(reader, CONSUMER, AMR_DEPT)
    with pytest.raises(Forbidden) as raised:
        require_reader(reader, CONSUMER, AMR_DEPT)
    assert raised.value.extensions["code"] == "FORBIDDEN"


def test_require_role_names_the_missing_role():
    require_role(who(CONSUMER, "consumer"), "consumer", "applying")
    with pytest.raises(Forbidden) as raised:
        require_role(who(CONSUMER, "provider"), "consumer", "applying")
    assert raised.value.extensions["role"] == "consumer"
    assert "applying" in raised.value.message


# --- narrowing, reasons, statuses ------------------------------------------------


def test_narrow_keeps_what_was_asked_by_default():
    assert narrow(["a", "b"], None, "items") == ("a", "b")


def test_narrow_may_narrow():
    assert narrow(["a", "b", "c"], ["c", "a"], "items") == ("c", "a")
    assert narrow(["query", "compare"], [Mode.COMPARE], "modes") == (Mode.COMPARE,)


@pytest.mark.parametrize("granted", [["a", "z"], ["z"]])
def test_narrow_cannot_widen(granted: list[str]):
    with pytest.raises(BadRequest) as raised:
        narrow(["a", "b"], granted, "items")
    assert "'z'" in raised.value.message and "items" in raised.value.message


def test_narrow_cannot_empty():
    with pytest.raises(BadRequest) as raised:
        narrow(["a", "b"], [], "modes")
    assert "at least one" in raised.value.message


def test_reasons_are_cleaned():
    assert require_reasons([" 用途不明 ", "", "  ", "范围过宽"], "refusing") == ("用途不明", "范围过宽")


@pytest.mark.parametrize(
    "reasons", [[], [""], ["  ", "\t\n"], ["\u3000"]], ids=["none", "empty", "ws", "ideo"]
)
def test_reasons_are_required(reasons: list[str]):
    with pytest.raises(BadRequest) as raised:
        require_reasons(reasons, "refusing")
    assert "refusing needs written reasons" in raised.value.message


def test_require_status_lists_the_allowed_statuses():
    require_status(Status.SUBMITTED, [Status.SUBMITTED], "check")
    with pytest.raises(BadRequest) as raised:
        require_status(Status.APPROVED, [Status.ACCEPTED, Status.ESCALATED], "decide")
    assert "approved" in raised.value.message
    assert "accepted, escalated" in raised.value.message


def test_open_statuses():
    assert {Status.SUBMITTED, Status.ACCEPTED, Status.ESCALATED, Status.REFUSAL_PENDING} == OPEN


# --- check_submission ------------------------------------------------------------


def test_a_complete_application_passes(catalog: Catalog):
    check_submission(catalog, submission())
    check_submission(catalog, submission(modes=(Mode.QUERY, Mode.COMPARE, Mode.BULK)))


def test_a_non_shared_item_cannot_be_applied_for(catalog: Catalog):
    with pytest.raises(NotShared) as raised:
        check_submission(catalog, submission(items=("name", "inner_note")))
    assert raised.value.extensions["basis"] == "《企业信息公示暂行条例》第十条"
    assert "cannot be granted" in raised.value.message


def test_an_unknown_item_is_refused_with_the_known_ones(catalog: Catalog):
    with pytest.raises(BadRequest) as raised:
        check_submission(catalog, submission(items=("legal_rep",)))
    assert "legal_rep" in raised.value.message and "legal_representative" in raised.value.message


def test_an_unknown_resource_is_refused(catalog: Catalog):
    with pytest.raises(BadRequest) as raised:
        check_submission(catalog, submission(resource="amr.nothing"))
    assert "amr.nothing" in raised.value.message


def test_a_mode_the_resource_does_not_offer_is_refused(catalog: Catalog):
    with pytest.raises(ModeNotAllowed) as raised:
        check_submission(catalog, submission(resource=PSB, items=("name",), modes=(Mode.BULK,)))
    assert raised.value.extensions["mode"] == "bulk"


@pytest.mark.parametrize("name", ["purpose", "scope_of_knowledge", "security_measures", "legal_basis"])
@pytest.mark.parametrize("blank", ["", "   ", "\u3000\t"], ids=["empty", "spaces", "ideographic"])
def test_each_declaration_is_required(catalog: Catalog, name: str, blank: str):
    with pytest.raises(BadRequest) as raised:
        check_submission(catalog, submission(**{name: blank}))
    assert raised.value.extensions["field"] == name
    assert name.replace("_", " ") in raised.value.message


@pytest.mark.parametrize("field", ["items", "modes"])
def test_at_least_one_item_and_mode(catalog: Catalog, field: str):
    with pytest.raises(BadRequest) as raised:
        check_submission(catalog, submission(**{field: ()}))
    assert "at least one" in raised.value.message


@pytest.mark.parametrize("length", [dt.timedelta(0), -dt.timedelta(seconds=1), -dt.timedelta(days=30)])
def test_the_period_must_end_after_it_starts(catalog: Catalog, length: dt.timedelta):
    with pytest.raises(BadRequest) as raised:
        check_submission(catalog, submission(valid_until=START + length))
    assert "end after it starts" in raised.value.message


@pytest.mark.parametrize("region", ["42", "4201", "420102", "10", "100000", "71", "83"])
def test_a_grant_region_is_a_gb_t_2260_prefix(region: str):
    check_conditions(GrantConditions(regions=(region,)), ["name"])


@pytest.mark.parametrize("region", ["4", "4201021", "42a1", "01", "16", "0105", "1001", "90"])
def test_a_grant_region_outside_every_province_is_refused(region: str):
    """GB/T 2260: a prefix that begins no division code would silently match no subject."""
    with pytest.raises(BadRequest) as raised:
        check_conditions(GrantConditions(regions=(region,)), ["name"])
    assert repr(region) in raised.value.message


# --- all_unconditional -----------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "items", "expected"),
    [
        (AMR, ["name", "status"], True),
        (AMR, ["name", "legal_representative"], False),
        (AMR, ["legal_representative"], False),
        (PSB, ["id_number", "gender"], True),  # unconditional items of a conditional resource
        (PSB, ["id_number", "address"], False),  # the resource default is conditional
        (TAX, ["tax_arrears"], False),
        (AMR, [], True),  # vacuous
    ],
)
def test_all_unconditional(catalog: Catalog, resource: str, items: list[str], expected: bool):
    assert all_unconditional(catalog, resource, items) is expected


def test_an_item_unconditional_for_comparing_only_is_the_platforms_to_grant_in_compare_only():
    """Hubei art. 12, 21: the platform grants unconditional data; ``compare: unconditional``
    makes an item so in mode compare only (policies.decision.share_in_mode)."""
    from gateway.demo import CATALOG_FILE

    demo = load_catalog(CATALOG_FILE)
    assert all_unconditional(demo, "psb.resident", ["name"], [Mode.COMPARE])
    assert not all_unconditional(demo, "psb.resident", ["name"], [Mode.QUERY])
    assert not all_unconditional(demo, "psb.resident", ["name"], [Mode.QUERY, Mode.COMPARE])
    assert all_unconditional(demo, "psb.resident", ["gender"], [Mode.QUERY, Mode.COMPARE])
