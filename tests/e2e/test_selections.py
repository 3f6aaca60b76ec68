"""What a request selects, against the real demo server.

- ``@skip`` / ``@include`` (GraphQL spec 3.13: a selection is collected unless its
  ``@skip(if:)`` is true or its ``@include(if:)`` is false) remove the selection from the
  access plan: a skipped conditional item is not decided, not audited as requested, and
  does not make an all-or-nothing request (``X-Reject-Unauthorized``) fail. Every place a
  selection can carry the directive is tried: the item field, an inline fragment, a
  fragment spread, a fragment's own selection, the resource field, with literals and
  variables.
- A selection of only ``__typename`` (spec 4.4.1: valid on every object type) answers the
  type name, on subject and resource types, in fragments and mixed with items.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.auth import load_signer
from tests.conftest import DemoServer
from tests.e2e.test_evidence import all_events, ask, fresh_department, one_event, org, person, unique

pytestmark = pytest.mark.e2e

AMR = "amr.enterprise_registration"
ITEM = "legalRepresentative"  # conditional: the plain "consumer" has no grant for it

# (place, document); {cond} is the directive, {vars} the variable definitions
PLACES = {
    "field": "query Q($c: USCC!{vars}) { organization(code: $c) { enterpriseRegistration {{ name "
    "legalRepresentative {cond} }} }} }}",
    "alias": "query Q($c: USCC!{vars}) { organization(code: $c) { enterpriseRegistration {{ name "
    "rep: legalRepresentative {cond} }} }} }}",
    "inline_fragment": "query Q($c: USCC!{vars}) { organization(code: $c) { enterpriseRegistration {{ "
    "name ... on EnterpriseRegistration {cond} {{ legalRepresentative }} }} }} }}",
    "untyped_inline_fragment": "query Q($c: USCC!{vars}) { organization(code: $c) { "
    "enterpriseRegistration {{ name ... {cond} {{ legalRepresentative }} }} }} }}",
    "fragment_spread": "query Q($c: USCC!{vars}) { organization(code: $c) { enterpriseRegistration {{ "
    "name ...Rep {cond} }} }} }} fragment Rep on EnterpriseRegistration {{ legalRepresentative }}",
    "inside_fragment": "query Q($c: USCC!{vars}) { organization(code: $c) { enterpriseRegistration {{ "
    "...Rep }} }} }} fragment Rep on EnterpriseRegistration {{ name legalRepresentative {cond} }}",
    "nested_fragments": "query Q($c: USCC!{vars}) { organization(code: $c) { ...Org } } "
    "fragment Org on Organization {{ enterpriseRegistration {{ name ... {{ ...Rep {cond} }} }} }} "
    "fragment Rep on EnterpriseRegistration {{ legalRepresentative }}",
}
# (directive, variable definitions, variables) -> the spec's answer: is the item collected?
CONDITIONS = {
    "skip_true": ("@skip(if: true)", "", {}, False),
    "include_false": ("@include(if: false)", "", {}, False),
    "skip_var_true": ("@skip(if: $s)", ", $s: Boolean!", {"s": True}, False),
    "include_var_false": ("@include(if: $i)", ", $i: Boolean!", {"i": False}, False),
    "include_default_false": ("@include(if: $i)", ", $i: Boolean! = false", {}, False),
    "skip_wins_over_include": ("@skip(if: true) @include(if: true)", "", {}, False),
    "include_true_skip_var_true": ("@include(if: true) @skip(if: $s)", ", $s: Boolean!", {"s": True}, False),
    "skip_false": ("@skip(if: false)", "", {}, True),
    "include_var_true": ("@include(if: $i)", ", $i: Boolean!", {"i": True}, True),
    "skip_var_false": ("@skip(if: $s)", ", $s: Boolean!", {"s": False}, True),
}


def document(place: str, condition: str) -> tuple[str, dict[str, Any], bool]:
    directive, definitions, variables, collected = CONDITIONS[condition]
    text = PLACES[place].replace("{vars}", definitions).replace("{cond}", directive)
    return text.replace("{{", "{").replace("}}", "}"), variables, collected


@pytest.mark.parametrize("condition", CONDITIONS)
@pytest.mark.parametrize("place", PLACES)
def test_skipped_conditional_item_is_not_requested(demo, place, condition):
    query, variables, collected = document(place, condition)
    code, user = org(demo, 1), unique(f"skip-{place}-{condition}")
    response = ask(
        demo, query, {"c": code, **variables}, user=user, headers={"X-Reject-Unauthorized": "true"}
    )
    body = response.json()
    event = one_event(demo, user)
    if collected:  # all or nothing: the conditional item without a grant refuses it all
        assert response.status_code == 403, body
        assert body["data"] is None
        assert event["decisions"][f"{AMR}.legal_representative"] == "CONDITIONAL_ACCESS_REQUIRED"
        return
    assert response.status_code == 200, body
    assert "errors" not in body
    registration = body["data"]["organization"]["enterpriseRegistration"]
    assert set(registration) == {"name"} and registration["name"]
    assert event["items"] == [f"{AMR}.name"]
    assert event["decisions"] == {f"{AMR}.name": "ALLOWED"}
    assert event["outcome"] == "answered"


@pytest.mark.parametrize("skip", [True, False])
def test_skipped_resource_is_neither_planned_nor_fetched(demo, skip):
    query = """query Q($c: USCC!, $s: Boolean!) { organization(code: $c) {
      taxCredit { creditRating }
      enterpriseRegistration @skip(if: $s) { name legalRepresentative }
    } }"""
    user = unique(f"skip-resource-{skip}")
    response = ask(demo, query, {"c": org(demo, 2), "s": skip}, user=user)
    event = one_event(demo, user)
    assert (f"{AMR}.legal_representative" in event["decisions"]) is not skip
    assert (AMR in event["resources"]) is not skip
    assert ("enterpriseRegistration" in response.json()["data"]["organization"]) is not skip


def test_same_text_with_other_variable_values_is_planned_again(demo):
    """The plan cache is keyed by the directive variables' values, not the text alone."""
    query, _, _ = document("field", "skip_var_true")
    answers = []
    for skip in (True, False, True):
        user = unique(f"cache-{skip}")
        response = ask(demo, query, {"c": org(demo, 3), "s": skip}, user=user)
        answers.append((response.status_code, sorted(one_event(demo, user)["decisions"])))
    assert answers[0] == answers[2] == (200, [f"{AMR}.name"])
    assert answers[1][1] == [f"{AMR}.legal_representative", f"{AMR}.name"]


def test_a_condition_hidden_by_an_outer_one_still_keys_the_plan(demo):
    """Found by outside testing: with $a true the walk never reaches $b, with $a false never
    $c; the plan cache was keyed by the variables the last walk reached, so (a, c) = (true,
    true) got the plan of (true, false): legalRepresentative ran unplanned (null, no error,
    not in the audit event) and an all-or-nothing request was not refused."""
    query = """query Q($c0: USCC!, $a: Boolean!, $b: Boolean!, $c: Boolean!) { organization(code: $c0) {
      ... @skip(if: $a) { enterpriseRegistration { name @include(if: $b) } }
      ... @include(if: $a) { enterpriseRegistration { legalRepresentative @include(if: $c) } }
    } }"""
    code = org(demo, 4)
    for flags in ({"a": True, "b": False, "c": False}, {"a": False, "b": True, "c": False}):
        assert ask(demo, query, {"c0": code, **flags}, user=unique("warm")).status_code == 200
    user = unique("hidden-condition")
    response = ask(demo, query, {"c0": code, "a": True, "b": False, "c": True}, user=user,
                   headers={"X-Reject-Unauthorized": "true"})  # fmt: skip
    assert response.status_code == 403, response.text
    assert response.json()["data"] is None
    event = one_event(demo, user)
    assert event["decisions"][f"{AMR}.legal_representative"] == "CONDITIONAL_ACCESS_REQUIRED"


# --- __typename ------------------------------------------------------------------------------

TYPENAME_CASES = {
    "resource_only": (
        "query Q($c: USCC!) { organization(code: $c) { enterpriseRegistration { __typename } } }",
        {"organization": {"enterpriseRegistration": {"__typename": "EnterpriseRegistration"}}},
    ),
    "resource_aliased": (
        "query Q($c: USCC!) { organization(code: $c) { r: enterpriseRegistration { t: __typename } } }",
        {"organization": {"r": {"t": "EnterpriseRegistration"}}},
    ),
    "subject_only": (
        "query Q($c: USCC!) { organization(code: $c) { __typename } }",
        {"organization": {"__typename": "Organization"}},
    ),
    "resource_in_inline_fragment": (
        "query Q($c: USCC!) { organization(code: $c) { taxCredit { ... on TaxCredit { __typename } } } }",
        {"organization": {"taxCredit": {"__typename": "TaxCredit"}}},
    ),
    "resource_in_named_fragment": (
        "query Q($c: USCC!) { organization(code: $c) { ...O } } "
        "fragment O on Organization { __typename enterpriseRegistration { ...R } } "
        "fragment R on EnterpriseRegistration { __typename }",
        {
            "organization": {
                "__typename": "Organization",
                "enterpriseRegistration": {"__typename": "EnterpriseRegistration"},
            }
        },
    ),
    "conditional_resource_on_person": (
        "query Q($p: CitizenID!) { person(id: $p) { __typename resident { __typename } } }",
        {"person": {"__typename": "Person", "resident": {"__typename": "Resident"}}},
    ),
    "items_skipped_leaving_typename": (
        "query Q($c: USCC!) { organization(code: $c) { enterpriseRegistration "
        "{ __typename legalRepresentative @skip(if: true) } } }",
        {"organization": {"enterpriseRegistration": {"__typename": "EnterpriseRegistration"}}},
    ),
}


@pytest.mark.parametrize("case", TYPENAME_CASES)
def test_typename_only_selection_answers_the_type_name(demo, case):
    query, expected = TYPENAME_CASES[case]
    response = demo.post(query, {"c": org(demo, 4), "p": person(demo, 0)})
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    assert body["data"] == expected


def test_typename_mixed_with_items_answers_both(demo, stored):
    code = org(demo, 5)
    query = """query Q($c: USCC!) { organization(code: $c) {
      __typename enterpriseRegistration { __typename name } taxCredit { __typename }
    } }"""
    body = demo.post(query, {"c": code}).json()
    assert "errors" not in body, body
    assert body["data"]["organization"] == {
        "__typename": "Organization",
        "enterpriseRegistration": {
            "__typename": "EnterpriseRegistration",
            "name": stored("amr", "enterprise", "ent_name", "uscc", code),
        },
        "taxCredit": {"__typename": "TaxCredit"},
    }


def test_typename_list_of_subjects(demo):
    codes = [org(demo, n) for n in range(3)]
    query = "query Q($cs: [USCC!]!) { organizations(codes: $cs) { enterpriseRegistration { __typename } } }"
    body = demo.post(query, {"cs": codes}).json()
    assert "errors" not in body, body
    assert (
        body["data"]["organizations"]
        == [{"enterpriseRegistration": {"__typename": "EnterpriseRegistration"}}] * 3
    )


# --- header values -----------------------------------------------------------------------------

# A value per kind of forbidden character, as sent on the wire (Latin-1 bytes; raw C0 controls
# and DEL are already refused by the HTTP parser, so the raw cases are those it lets through:
# C1 controls and Unicode format characters as UTF-8) and, for the
# percent-encoded headers, percent-encoded too: RFC 9110 section 5.5 allows visible characters,
# space and tab only; format characters and line separators are invisible or split log lines.
RAW_BAD = {
    "c1_control_nel": "审批\u0085".encode(),
    "bidi_override": "审批\u202e".encode(),
    "zero_width": "审\u200b批".encode(),
    "line_separator": "审批\u2028x".encode(),
    "not_utf8_gbk": "审批".encode("gbk"),  # printable as Latin-1: was stored as mojibake
}
PERCENT_BAD = {
    "nul": "%E5%AE%A1%E6%89%B9%00",
    "lf": "abc%0Aforged",
    "cr": "abc%0D",
    "escape": "%1B%5B31m",
    "del": "abc%7F",
    "bidi_override": "%E2%80%AE",
    "not_utf8": "%FF%FE",
}
HEADERS = ["Authorization", "X-Purpose", "X-Request-User", "X-Application-Id", "X-Reject-Unauthorized",
           "Content-Type", "Accept", "X-Voucher"]  # fmt: skip


def send(demo: DemoServer, token: str, headers: dict[str, Any]) -> httpx.Response:
    sent: dict[str, Any] = {"Authorization": f"Bearer {token}", "X-Purpose": "%E8%A1%8C%E6%94%BF",
                            "Content-Type": "application/json", "Accept": "application/graphql-response+json",
                            **headers}  # fmt: skip
    content = b'{"query": "query Q($c: USCC!) { organization(code: $c) { code } }", "variables": {"c": "%s"}}'
    return httpx.post(demo.url, content=content % org(demo, 0).encode(), headers=sent, timeout=30)


def assert_invalid_header(response: httpx.Response, header: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "INVALID_HEADER", "header": header}
    assert header in error["message"]


@pytest.mark.parametrize("value", RAW_BAD.values(), ids=RAW_BAD.keys())
@pytest.mark.parametrize("header", HEADERS)
def test_raw_control_or_format_character_in_any_header_is_400(demo, header, value):
    token = demo.token("consumer")
    if header == "Authorization":
        value = b"Bearer " + token.encode() + value
    assert_invalid_header(send(demo, token, {header: value}), header)


@pytest.mark.parametrize("value", PERCENT_BAD.values(), ids=PERCENT_BAD.keys())
@pytest.mark.parametrize("header", ["X-Purpose", "X-Request-User"])
def test_percent_encoded_control_character_is_400_and_audited(demo, header, value):
    department = fresh_department()
    token = load_signer(demo.data_dir).issue(department, ["consumer"], ttl=600)
    assert_invalid_header(send(demo, token, {header: value, "X-Application-Id": "APP-1"}), header)
    [event] = [e for e in all_events(demo.data_dir) if e["consumer"] == department]
    assert event["outcome"] == "refused" and event["kind"] == "query"
    assert event["decisions"] == {"request": "INVALID_HEADER"}  # the refusal code (gateway.evidence)
    assert event["detail"] == {"refused": "INVALID_HEADER", "header": header}
    assert event["application"] == "APP-1"
    refused, other = ("purpose", "user") if header == "X-Purpose" else ("user", "purpose")
    assert event[refused] is None  # the refused value is not stored
    assert event[other] == ("行政" if other == "purpose" else None)


@pytest.mark.parametrize(
    "value", ["行政\t审批".encode(), "%E8%A1%8C%E6%94%BF%09x", "a  spaced   user", "a%20b"]
)
def test_tab_and_spaces_are_allowed(demo, value):
    """RFC 9110 section 5.5: a field value may hold spaces and horizontal tabs."""
    response = send(demo, demo.token("consumer"), {"X-Request-User": value})
    assert response.status_code == 200, response.text


def test_nul_in_purpose_is_400_not_an_outage(demo):
    """The issue's example: a percent-encoded NUL in X-Purpose was a 503 AUDIT_UNAVAILABLE."""
    user = unique("nul")
    response = ask(demo, "{ __typename }", user=user, purpose=None, headers={"X-Purpose": "%E8%A1%8C%00"})
    assert_invalid_header(response, "X-Purpose")
    event = one_event(demo, user)
    assert (event["outcome"], event["purpose"], event["user"]) == ("refused", None, user)
    assert event["decisions"] == {"request": "INVALID_HEADER"}
