"""The ``catalog`` query over HTTP on the demo server (issue 11 section 3): every department
reads and searches the published catalog, non-shared items' legal basis included, never a
value; bad arguments are BAD_REQUEST naming the argument and what it accepts (never a 500);
an application starts from the ids the catalog gave."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.auth import load_signer
from tests.conftest import DemoServer
from tests.e2e.conftest import fresh_department

pytestmark = pytest.mark.e2e

AMR_RID = "amr.enterprise_registration"
SEARCH = """query($search: String, $provider: String, $share: String, $subject: String, $mode: String,
               $open: Boolean, $first: Int! = 100, $after: ID) {
  catalog(search: $search, provider: $provider, share: $share, subject: $subject, mode: $mode,
          open: $open, first: $first, after: $after) {
    profile totalCount nextAfter
    resources {
      id name summary subject shareTerm modes updateCycle open matchedItems
      provider { code name }
      items { id name title share shareTerm condition basis masked }
    }
  }
}"""
WHO = ["consumer", "consumer_with_grant", "provider", "operator"]


def _catalog(demo: DemoServer, token: str = "consumer", **variables: Any) -> dict[str, Any]:
    response = demo.post(SEARCH, variables, token=token, purpose=None)
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return dict(body["data"]["catalog"])


def _refused(demo: DemoServer, **variables: Any) -> dict[str, Any]:
    response = demo.post(SEARCH, variables, purpose=None)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["data"] is None
    return dict(body["errors"][0])


@pytest.mark.parametrize("who", WHO)
def test_every_department_finds_the_item_by_its_chinese_title(demo: DemoServer, who: str) -> None:
    found = _catalog(demo, who, search="法定代表人")
    assert [r["id"] for r in found["resources"]] == [AMR_RID]
    resource = found["resources"][0]
    assert resource["matchedItems"] == ["legal_representative"]
    item = next(i for i in resource["items"] if i["name"] == "legal_representative")
    assert item["id"] == f"{AMR_RID}.legal_representative"
    assert item["share"] == "CONDITIONAL" and item["shareTerm"] == "有条件共享" and item["condition"]
    assert found["totalCount"] == 1 and found["nextAfter"] is None


def test_a_consumer_sees_non_shared_items_with_their_basis_and_no_value(
    demo: DemoServer, stored: Any
) -> None:
    found = _catalog(demo, "consumer")
    resources = {r["id"]: r for r in found["resources"]}
    note = next(i for i in resources[AMR_RID]["items"] if i["name"] == "inner_note")
    assert note["share"] == "NOT_SHARED" and "第三十五条" in note["basis"]
    assert note["shareTerm"] == "不予共享"
    code = demo.info["samples"]["organizations"][0]
    text = json.dumps(found, ensure_ascii=False)
    for column in ("ent_name", "legal_rep", "inner_note", "scope"):  # the demo source's columns
        value = stored("amr", "enterprise", column, "uscc", code)
        assert value and str(value) not in text, column
    assert code not in json.dumps(found)


def test_substring_and_summary_search(demo: DemoServer) -> None:
    assert [r["id"] for r in _catalog(demo, search="代表人")["resources"]] == [AMR_RID]
    by_summary = _catalog(demo, search="注销登记")["resources"]
    assert [(r["id"], r["matchedItems"]) for r in by_summary] == [(AMR_RID, [])]


def test_filters_over_http(demo: DemoServer) -> None:
    everything = _catalog(demo)["resources"]
    persons = _catalog(demo, subject="PERSON")["resources"]
    assert persons and {r["subject"] for r in persons} == {"person"}
    assert len(persons) < len(everything)
    amr = everything[0]["provider"]
    by_name = _catalog(demo, provider=amr["name"])["resources"]
    assert {r["provider"]["code"] for r in by_name} == {amr["code"]}
    not_shared = _catalog(demo, share="不予共享")["resources"]  # the profile's own term
    assert not_shared and all(any(i["share"] == "NOT_SHARED" for i in r["items"]) for r in not_shared)
    compare = _catalog(demo, mode="COMPARE")["resources"]
    assert compare and all("COMPARE" in r["modes"] for r in compare)
    assert _catalog(demo, open=False)["totalCount"] == len(everything)  # the demo opens nothing
    assert _catalog(demo, open=True)["resources"] == []


def test_pages_over_http(demo: DemoServer) -> None:
    ids, after = [], None
    while True:
        page = _catalog(demo, first=3, after=after)
        ids += [r["id"] for r in page["resources"]]
        after = page["nextAfter"]
        if after is None:
            break
    assert ids == [r["id"] for r in _catalog(demo)["resources"]]
    assert len(ids) == page["totalCount"] > 3


@pytest.mark.parametrize(
    ("arguments", "argument", "allowed"),
    [
        ({"share": "SECRET"}, "share", "CONDITIONAL"),
        ({"subject": "company"}, "subject", "ORGANIZATION"),
        ({"mode": "export"}, "mode", "BULK"),
        ({"provider": "没有这个部门"}, "provider", "USCC"),
        ({"first": 0}, "first", "500"),
        ({"first": 501}, "first", "500"),
        ({"after": "no.such"}, "after", "nextAfter"),
        ({"search": "   "}, "search", "法定代表人"),
        ({"search": "长" * 101}, "search", "100"),
    ],
)
def test_bad_arguments_name_the_argument_and_what_it_accepts(
    demo: DemoServer, arguments: dict[str, Any], argument: str, allowed: str
) -> None:
    error = _refused(demo, **arguments)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert f"argument {argument}" in error["message"] and allowed in error["message"]


def test_the_catalog_needs_a_token(demo: DemoServer) -> None:
    response = demo.post(SEARCH, {"search": "法定代表人"}, token=None, purpose=None)
    assert response.status_code == 401
    assert "第三十五条" not in response.text and "法定代表人" not in response.text


ARGUMENTS = st.fixed_dictionaries(
    {},
    optional={
        "search": st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=120),
        "provider": st.text(max_size=30),
        "share": st.text(max_size=20) | st.sampled_from(["CONDITIONAL", "受限共享类", "not_shared"]),
        "subject": st.text(max_size=20) | st.sampled_from(["PERSON", "organization"]),
        "mode": st.text(max_size=20) | st.sampled_from(["BULK", "query"]),
        "open": st.booleans(),
        "first": st.integers(-(2**31), 2**31 - 1),
        "after": st.text(max_size=40) | st.just(AMR_RID),
    },
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arguments=ARGUMENTS)
def test_no_argument_makes_a_server_error(demo: DemoServer, arguments: dict[str, Any]) -> None:
    response = demo.post(SEARCH, arguments, purpose=None)
    assert response.status_code in (200, 400), response.text
    body = response.json()
    if response.status_code == 400:
        assert body["errors"][0]["extensions"]["code"] in ("BAD_REQUEST", "GRAPHQL_VALIDATION_FAILED")
        assert body.get("data") is None
    else:
        assert "errors" not in body and body["data"]["catalog"]["totalCount"] >= 0


# --- an application from the catalog ids ----------------------------------------------------

SUBMIT = """mutation($application: ApplicationInput!) {
  submitApplication(application: $application) { id resource items status }
}"""


def _application(resource: str, items: list[str]) -> dict[str, Any]:
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    return {
        "resource": resource, "items": items, "purpose": "企业开办审批核验",
        "scopeOfKnowledge": "审批科经办人员", "securityMeasures": "政务外网，调用留痕",
        "legalBasis": "《优化营商环境条例》第十九条", "validUntil": until.isoformat(), "modes": ["QUERY"],
    }  # fmt: skip


def _fresh_consumer(demo: DemoServer) -> str:
    return load_signer(demo.data_dir).issue(fresh_department(), ["consumer"], ttl=600)


def test_an_application_starts_from_the_ids_the_catalog_found(demo: DemoServer) -> None:
    token = _fresh_consumer(demo)
    found = _catalog(demo, token, search="法定代表人")["resources"][0]
    ids = [i["id"] for i in found["items"] if i["name"] in found["matchedItems"]]
    response = demo.post(SUBMIT, {"application": _application(found["id"], ids)}, token=token, purpose=None)
    body = response.json()
    assert "errors" not in body, body
    application = body["data"]["submitApplication"]
    assert application["resource"] == AMR_RID and application["items"] == ["legal_representative"]


@pytest.mark.parametrize(
    ("resource", "items", "says"),
    [
        (AMR_RID, [f"{AMR_RID}.no_such_item"], "has no item"),
        (AMR_RID, ["tax.tax_credit.credit_rating"], "not an item of"),
        ("no.such_resource", ["no.such_resource.name"], "unknown resource"),
        (AMR_RID, [f"{AMR_RID}.inner_note"], "第三十五条"),  # non-shared: never granted, basis cited
    ],
)
def test_unknown_or_foreign_catalog_ids_are_refused_clearly(
    demo: DemoServer, resource: str, items: list[str], says: str
) -> None:
    token = _fresh_consumer(demo)
    response = demo.post(SUBMIT, {"application": _application(resource, items)}, token=token, purpose=None)
    body = response.json()
    assert response.status_code in (400, 403) and body["data"] is None, body
    assert says in body["errors"][0]["message"]
