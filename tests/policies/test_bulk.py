"""Tests for policies.bulk: the export decision over the demo catalog.

A table pins the refusal code of each kind of request; properties check, over generated
grants and subject keys, that a row is shown only under a grant covering bulk whose
divisions hold the subject, with masks never weaker than the catalog's or the grant's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.demo import CATALOG_FILE, DRC, WUHAN_DISTRICTS
from policies.bulk import export_items, plan_export, still_granted
from policies.catalog import Mask, load_catalog
from policies.codes import make_citizen_id, make_uscc
from policies.decision import AccessRequest, Consumer, Grant, GrantConditions
from policies.share import Mode, Share

CATALOG = load_catalog(CATALOG_FILE)
NOW = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
PURPOSE = "行政审批核验"
AMR = "amr.enterprise_registration"
CONSUMER = Consumer(DRC.code, "cli", frozenset({"consumer"}))
REQUEST = AccessRequest(CONSUMER, PURPOSE, Mode.QUERY, NOW)  # plan_export forces bulk
CODES = [make_uscc("9", "1", WUHAN_DISTRICTS[i % 8], f"MA{i:06d}") for i in range(64)]  # 8 per district


def grant(items: tuple[str, ...], modes: tuple[Mode, ...] = (Mode.BULK,), **conditions: object) -> Grant:
    return Grant(
        "g-1", DRC.code, AMR, frozenset(items), frozenset(modes), PURPOSE,
        NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=1),
        conditions=GrantConditions(**conditions),  # type: ignore[arg-type]
    )  # fmt: skip


def applied(resource: str = AMR) -> Grant:
    """The demo's profile (hubei) reads unconditional items on application (art. 13): the
    platform's grant of the resource's unconditional items, as ``govshare demo`` makes it."""
    unconditional = [i.name for i in CATALOG.resources[resource].items if i.share.value == "unconditional"]
    return Grant(
        "app-u", DRC.code, resource, frozenset(unconditional), frozenset(Mode), "另一用途",
        NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=1), application="app-u",
    )  # fmt: skip


def test_without_an_application_unconditional_items_are_not_exported_under_hubei() -> None:
    codes = [e.code for e in plan_export(REQUEST, CATALOG, AMR, ("name",), []).refusals]
    assert codes == ["APPLICATION_REQUIRED", "APPLICATION_REQUIRED"]  # the key and the item


CASES = [
    # (resource, items, grants, expected refusal codes in item order, or [] when allowed);
    # each with the platform's grant of the unconditional items (``applied``)
    (AMR, ("name", "status"), [], []),
    (AMR, ("name", "inner_note"), [], ["NOT_SHARED"]),
    (AMR, ("inner_note",), [grant(("inner_note",))], ["NOT_SHARED"]),
    (AMR, ("address",), [], ["CONDITIONAL_ACCESS_REQUIRED"]),
    (AMR, ("address",), [grant(("address",), (Mode.QUERY, Mode.COMPARE))], ["CONDITIONAL_ACCESS_REQUIRED"]),
    (AMR, ("address",), [grant(("address",))], []),
    ("tax.tax_credit", ("credit_rating",), [], ["MODE_NOT_ALLOWED", "MODE_NOT_ALLOWED"]),
    ("psb.resident", ("gender",), [], ["MODE_NOT_ALLOWED", "MODE_NOT_ALLOWED"]),
    ("credit.credit_record", ("latest_penalty", "blacklisted"), [], ["CONDITIONAL_ACCESS_REQUIRED"]),
]


@pytest.mark.parametrize(("resource", "items", "grants", "codes"), CASES)
def test_refusals(resource: str, items: tuple[str, ...], grants: list[Grant], codes: list[str]) -> None:
    plan = plan_export(REQUEST, CATALOG, resource, items, [*grants, applied(resource)])
    assert [error.code for error in plan.refusals] == codes
    assert plan.items[0] == CATALOG.resources[resource].key  # the key always leads


def test_refusal_carries_the_graphql_field_detail() -> None:
    (error,) = plan_export(REQUEST, CATALOG, AMR, ("inner_note",), [applied()]).refusals
    assert error.extensions["item"] == "inner_note" and error.extensions["field"] == "innerNote"
    assert error.extensions["basis"] == CATALOG.resources[AMR].items_by_name["inner_note"].basis
    assert error.extensions["provider"] == CATALOG.resources[AMR].provider


def test_export_items_key_first_once() -> None:
    assert export_items(CATALOG.resources[AMR], ["name", "uscc", "name"]) == ("uscc", "name")


def test_purpose_required() -> None:
    from errors import PurposeRequired

    with pytest.raises(PurposeRequired):
        plan_export(AccessRequest(CONSUMER, " ", Mode.BULK, NOW), CATALOG, AMR, ("name",), [])


def test_masked_key_refuses_the_export() -> None:
    masked = grant(("address",), masks={"uscc": Mask(6, 0)})
    (error,) = plan_export(REQUEST, CATALOG, AMR, ("address",), [masked, applied()]).refusals
    assert error.code == "FORBIDDEN" and error.extensions["item"] == "uscc"


def test_unconditional_rows_are_never_left_out() -> None:
    plan = plan_export(REQUEST, CATALOG, AMR, ("name",), [applied()])
    assert not plan.refusals
    assert not plan.per_row
    assert all(plan.row_access(code) is not None for code in CODES)


@settings(max_examples=60)
@given(
    regions=st.lists(
        st.sampled_from((*WUHAN_DISTRICTS, "420100", "4201", "110101")), max_size=3, unique=True
    ),
    keep=st.tuples(st.integers(0, 4), st.integers(0, 4)),
    code=st.sampled_from(CODES),
)
def test_rows_shown_only_inside_the_grant_divisions(
    regions: list[str], keep: tuple[int, int], code: str
) -> None:
    scoped = grant(("address",), regions=tuple(regions), masks={"address": Mask(*keep)})
    plan = plan_export(REQUEST, CATALOG, AMR, ("address", "name"), [scoped, applied()])
    assert not plan.refusals
    access = plan.row_access(code)
    inside = not regions or code[2:8].startswith(tuple(regions))
    assert (access is not None) == inside
    if access is not None:
        mask = access.masks["address"]
        assert (mask.keep_first, mask.keep_last) == keep


def test_invalid_source_key_is_left_out_under_regions() -> None:
    plan = plan_export(REQUEST, CATALOG, AMR, ("address",), [grant(("address",), regions=("420102",))])
    assert plan.row_access("not-a-code") is None
    assert plan.row_access(make_citizen_id("420102", dt.date(1990, 1, 1), "001")) is None  # wrong kind


def test_items_under_regions_or_caps_are_deferred_never_the_key():
    scoped = grant(("address", "legal_representative"), regions=("420102",))
    assert plan_export(REQUEST, CATALOG, AMR, ("name", "address"), [scoped]).deferred == ("address",)
    capped = grant(("address",), daily_cap=3)
    assert plan_export(REQUEST, CATALOG, AMR, ("address",), [capped]).deferred == ("address",)
    masked_only = grant(("address",), masks={"address": Mask(1, 1)})
    assert plan_export(REQUEST, CATALOG, AMR, ("address",), [masked_only]).deferred == ()


LATER = NOW + dt.timedelta(hours=2)
GRANTED = grant(("address",))
REVOKED = dataclasses.replace(GRANTED, revoked=True)
NARROWED = dataclasses.replace(GRANTED, conditions=GrantConditions(("420103",)))
STILL = [
    # (items, grants when decided, grants a page later, at, the code that cuts it or None)
    (("name",), [], [], LATER, None),  # unconditional: nothing to lose
    (("address",), [GRANTED], [GRANTED], LATER, None),
    (("address",), [GRANTED], [REVOKED], LATER, "CONDITIONAL_ACCESS_REQUIRED"),
    (("address",), [GRANTED], [], LATER, "CONDITIONAL_ACCESS_REQUIRED"),
    (("address",), [GRANTED], [GRANTED], NOW + dt.timedelta(days=2), "GRANT_EXPIRED"),
    (("address",), [GRANTED], [NARROWED], LATER, "FORBIDDEN"),  # now limited to a district
]


@pytest.mark.parametrize(("items", "before", "after", "at", "code"), STILL)
def test_an_export_is_cut_when_the_grants_it_rests_on_no_longer_hold(items, before, after, at, code):
    plan = plan_export(REQUEST, CATALOG, AMR, items, [*before, applied()])  # hubei: by application
    assert not plan.refusals
    refusal = still_granted(plan, CATALOG, [*after, applied()], at)
    assert (refusal.code if refusal else None) == code


def _entry_edited(item: str, **changed: object) -> object:
    """The demo catalog with one AMR item (or, for item "", the resource itself) changed."""
    resource = CATALOG.resources[AMR]
    if item:
        items = tuple(dataclasses.replace(i, **changed) if i.name == item else i for i in resource.items)
        resource = dataclasses.replace(resource, items=items)
    else:
        resource = dataclasses.replace(resource, **changed)
    return dataclasses.replace(CATALOG, resources={**CATALOG.resources, AMR: resource})


ENTRY_CHANGES = [
    # (items exported, the catalog published while it ran, the code that cuts it or None)
    (("name",), CATALOG, None),
    (("name",), _entry_edited("name", mask=Mask(1, 0)), "FORBIDDEN"),  # a catalog mask added
    (("address",), _entry_edited("address", mask=Mask(0, 0)), "FORBIDDEN"),
    (("name",), _entry_edited("status", mask=Mask(1, 0)), "FORBIDDEN"),  # the entry changed
    (("name",), _entry_edited("", source={"table": "other"}), "FORBIDDEN"),  # other columns
    (("name",), _entry_edited("", provider="11420100MB000102XC"), "FORBIDDEN"),  # moved to the tax bureau
    (("name",), _entry_edited("name", share=Share.NOT_SHARED, basis="依法"), "NOT_SHARED"),
]


@pytest.mark.parametrize(("items", "published", "code"), ENTRY_CHANGES)
def test_an_export_is_cut_when_its_resource_entry_changed_while_it_ran(items, published, code):
    """Rows after a change of the resource's catalog entry are never sent as planned on the
    old entry (an unmasked value under a mask published since): the export is resumed."""
    plan = plan_export(REQUEST, CATALOG, AMR, items, [GRANTED, applied()])
    assert not plan.refusals
    refusal = still_granted(plan, published, [GRANTED, applied()], LATER)  # type: ignore[arg-type]
    assert (refusal.code if refusal else None) == code


@settings(max_examples=60, deadline=None)
@given(
    conditions=st.lists(
        st.builds(
            GrantConditions,
            regions=st.sampled_from([(), ("420103",), ("4201",)]),
            daily_cap=st.sampled_from([None, 5]),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_an_item_is_held_back_for_admitted_rows_only_in_a_per_row_export(conditions):
    """Items read per admitted row (``deferred``) are read only on the per-row path: an
    export without a per-row condition must scan every item it sends."""
    grants = [
        dataclasses.replace(grant(("address",), **{}), id=f"g-{i}", conditions=c)
        for i, c in enumerate(conditions)
    ]
    plan = plan_export(REQUEST, CATALOG, AMR, ("name", "address"), grants)
    assert not plan.deferred or plan.per_row
