"""The order of refusal reasons (issue 7, item 16): the first reason named is the one whose
remedy lets the request through, and following the advice never reveals a hidden reason.

Every pair of reasons is in tests/policies/data/refusal_order.yaml, on one grant and on
two grants, and against OUT_OF_SCOPE (a subject outside the usable grant's divisions);
each is checked against the table, and by following the advice step by step.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from errors import AccessDenied
from policies.decision import REASON_ORDER, AccessRequest, Grant, GrantConditions, plan_access, subject_access
from policies.share import Mode
from tests.policies.test_decision import AMR, HOUR, NOW, PURPOSE, ask, decide, fixed_catalog, grant

TABLE: dict[str, list[dict[str, Any]]] = yaml.safe_load(
    (Path(__file__).parent / "data" / "refusal_order.yaml").read_text(encoding="utf-8")
)
GRANT_REASONS = REASON_ORDER  # revoked, expired, not_yet_valid, application, purpose
OTHER_PURPOSE = "信用监管"


def spoiled(gid: str, reason: str) -> Grant:
    """A grant of the consumer, usable but for ``reason``."""
    changes: dict[str, object] = {
        "revoked": {"revoked": True},
        "expired": {"valid_until": NOW - HOUR},
        "not_yet_valid": {"valid_from": NOW + HOUR},
        "purpose": {"purpose": OTHER_PURPOSE},
        "application": {},  # the request names another grant
        "no_grant": {"items": frozenset({"uscc"})},  # covers other items only
    }[reason]
    return grant(id=gid, **changes)


def world(reasons: list[str], same: bool) -> tuple[list[Grant], AccessRequest]:
    if same:
        gone = {r: spoiled("APP-A", r) for r in reasons}
        merged = grant(id="APP-A")
        for one in gone.values():
            changed = {
                f: getattr(one, f) for f in ("revoked", "valid_from", "valid_until", "purpose", "items")
            }
            merged = replace(merged, **{f: v for f, v in changed.items() if v != getattr(grant(), f)})
        if "expired" in reasons and "not_yet_valid" in reasons:  # an inverted period
            merged = replace(merged, valid_from=NOW + HOUR, valid_until=NOW - HOUR)
        app = "APP-OTHER" if "application" in reasons else None
        return [merged], ask(application_id=app)
    a, b = spoiled("APP-A", reasons[0]), spoiled("APP-B", reasons[1])
    named = {(True, False): "APP-B", (False, True): "APP-A", (True, True): "APP-404"}
    app = named.get((reasons[0] == "application", reasons[1] == "application"))
    return [a, b], ask(application_id=app)


def cases(kind: str) -> list[Any]:
    return [pytest.param(c, id="+".join(c["pair"])) for c in TABLE[kind]]


def test_the_table_has_every_pair() -> None:
    same = {frozenset(c["pair"]) for c in TABLE["same_grant"]}
    assert same == {frozenset(p) for p in itertools.combinations(GRANT_REASONS, 2)}
    two = {tuple(sorted(c["pair"])) for c in TABLE["two_grants"]}
    everything = (*GRANT_REASONS, "no_grant")
    assert two == {tuple(sorted(p)) for p in itertools.combinations_with_replacement(everything, 2)} - {
        (r, r) for r in GRANT_REASONS
    }


@pytest.mark.parametrize("case", cases("same_grant"))
def test_one_grant_with_two_reasons(case: dict[str, Any]) -> None:
    grants, request = world(case["pair"], same=True)
    error = decide("legal_rep", grants, request)
    assert error is not None
    assert (error.code, error.extensions["reason"]) == (case["code"], case["first"])
    assert sorted(error.extensions["reasons"]) == sorted(case["pair"])  # both are named, first first
    follow_the_advice(grants, request, error)


@pytest.mark.parametrize("case", cases("two_grants"))
def test_two_grants_with_one_reason_each(case: dict[str, Any]) -> None:
    grants, request = world(case["pair"], same=False)
    error = decide("legal_rep", grants, request)
    assert error is not None
    assert (error.code, error.extensions["reason"]) == (case["code"], case["first"])
    follow_the_advice(grants, request, error)


def test_the_issues_example_a_revoked_grant_is_reported_as_revoked() -> None:
    error = decide("legal_rep", [grant(revoked=True)], ask(purpose="另一个用途"))
    assert error is not None
    assert error.extensions["reason"] == "revoked"
    assert error.extensions["reasons"] == ["revoked", "purpose"]
    assert "revoked" in error.message and "apply again" in error.message
    assert "does not cover the purpose" not in error.message  # the renewal is applied for the purpose


@pytest.mark.parametrize("case", TABLE["item_level"], ids=lambda c: f"{c['item']}-{c['grant']}")
def test_item_level_reasons_come_first(case: dict[str, Any]) -> None:
    mode = Mode(case.get("mode", "query"))
    bad = spoiled("APP-A", case["grant"])
    error = decide(case["item"], [replace(bad, modes=frozenset(Mode))], ask(mode=mode))
    assert error is not None
    assert error.code == case["first"]


def follow_the_advice(grants: list[Grant], request: AccessRequest, error: AccessDenied | None) -> None:
    """Do what each refusal says, in order: every reason named next was named before (none was
    hidden), and the request goes through once each named reason is cured."""
    known = list(error.extensions["reasons"]) if error else []
    for _ in range(6):
        if error is None:
            return
        assert set(error.extensions["reasons"]) <= set(known), (known, error.message)
        grants, request = remedy(grants, request, error)
        error = decide("legal_rep", grants, request)
    raise AssertionError(f"still refused after following the advice: {error}")


def remedy(
    grants: list[Grant], request: AccessRequest, error: AccessDenied
) -> tuple[list[Grant], AccessRequest]:
    reason = error.extensions["reason"]
    named = next((g for g in grants if g.id == error.extensions.get("grant")), None)
    if reason in ("revoked", "expired", "no_grant"):  # apply again: a new grant as applied for
        renewed = grant(id=f"APP-NEW-{len(grants)}", purpose=request.purpose or PURPOSE)
        app = renewed.id if request.application_id else None
        return [*grants, renewed], replace(request, application_id=app)
    assert named is not None and named.resource == AMR
    if reason == "not_yet_valid":
        return grants, replace(request, now=named.valid_from)
    if reason == "application":
        return grants, replace(request, application_id=named.id)
    assert reason == "purpose"
    return grants, replace(request, purpose=named.purpose)


@pytest.mark.parametrize("case", TABLE["outside_divisions"], ids=lambda c: c["other"])
def test_a_subject_outside_the_usable_grants_divisions(case: dict[str, Any]) -> None:
    scoped = grant(id="APP-A", conditions=GrantConditions(regions=("4201",)))
    other = spoiled("APP-B", case["other"])
    request = ask(application_id="APP-A") if case["other"] == "application" else ask()
    plan = plan_access(request, fixed_catalog(), {AMR: ["legal_rep"]}, [scoped, other]).resources[AMR]
    assert subject_access(plan, "420102").items == ("legal_rep",)  # inside A: served
    error = subject_access(plan, "440300").denied["legal_rep"]
    named = error.extensions.get("reason", error.code)
    assert named == case["first"], error.message
    if case["first"] != "OUT_OF_SCOPE":
        assert error.extensions["grant"] == "APP-B"
        # following the advice lets this subject through
        fixed = {
            "purpose": replace(request, purpose=other.purpose),
            "application": replace(request, application_id="APP-B"),
            "not_yet_valid": replace(request, now=other.valid_from),
        }[case["first"]]
        plan = plan_access(fixed, fixed_catalog(), {AMR: ["legal_rep"]}, [scoped, other]).resources[AMR]
        assert subject_access(plan, "440300").items == ("legal_rep",)


def test_a_division_no_grant_covers_is_out_of_scope_even_with_a_cheaper_grant_elsewhere() -> None:
    scoped = grant(id="APP-A", conditions=GrantConditions(regions=("4201",)))
    other = replace(spoiled("APP-B", "purpose"), conditions=GrantConditions(regions=("4202",)))
    plan = plan_access(ask(), fixed_catalog(), {AMR: ["legal_rep"]}, [scoped, other]).resources[AMR]
    assert subject_access(plan, "440300").denied["legal_rep"].code == "OUT_OF_SCOPE"


@pytest.mark.parametrize("case", TABLE["scoped_grant_with_reason"], ids=lambda c: c["reason"])
def test_a_scoped_grant_with_a_reason_is_out_of_scope_for_a_subject_outside_it(case: dict[str, Any]) -> None:
    """Seen on the demo: a grant for 420103 used with another purpose named ``purpose`` for a
    subject of 420102; with the purpose fixed, OUT_OF_SCOPE appeared (a hidden reason)."""
    scoped = replace(spoiled("APP-A", case["reason"]), conditions=GrantConditions(regions=("4201",)))
    request = ask(application_id="APP-OTHER") if case["reason"] == "application" else ask()
    plan = plan_access(request, fixed_catalog(), {AMR: ["legal_rep"]}, [scoped]).resources[AMR]
    for region, first in (("420102", case["inside"]), ("440300", case["outside"])):
        error = subject_access(plan, region).denied["legal_rep"]
        assert error.extensions.get("reason", error.code) == first, (region, error.message)
    # the subject-independent answer (no subject known) still names the grant's own reason
    assert plan.denied["legal_rep"].extensions["reason"] == case["inside"]
    # following OUT_OF_SCOPE's advice (a new grant covering the division) lets the subject through
    covering = grant(id="APP-NEW", conditions=GrantConditions(regions=("4403",)), purpose=request.purpose)
    fixed = replace(request, application_id=None)
    plan = plan_access(fixed, fixed_catalog(), {AMR: ["legal_rep"]}, [scoped, covering]).resources[AMR]
    assert subject_access(plan, "440300").items == ("legal_rep",)
