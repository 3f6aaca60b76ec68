"""A non-shared item (不予共享) is unreachable by every path, for every token.

Each refusal says NOT_SHARED and cites the legal basis from the served catalog
(DATA/catalog.yaml); the stored value, read straight from the department's SQLite
file, appears nowhere in the raw response body. Values of conditional items asked
for without a grant never appear either.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml
from graphql import get_introspection_query

from gateway.demo import AMR, PSB, TAX

pytestmark = pytest.mark.e2e

GRAPHQL_RESPONSE = "application/graphql-response+json"
AMR_RID = "amr.enterprise_registration"
TOKENS = ("consumer", "consumer_with_grant", "operator", "provider")
NOT_SHARED_FIELDS = (
    "innerNote",
    "auditNote",
    "religion",
    "internalRemark",
    "inner_note",
    "audit_note",
    "internal_remark",
)


@pytest.fixture(scope="module")
def basis(demo: Any) -> dict[tuple[str, str], str]:
    """(resource id, item name) -> legal basis, for the non-shared items the demo serves."""
    catalog = yaml.safe_load((demo.data_dir / "catalog.yaml").read_text())
    found = {
        (resource["id"], item["name"]): item["basis"]
        for resource in catalog["resources"]
        for item in resource["items"]
        if item.get("share") == "not_shared"
    }
    assert set(found) == {
        (AMR_RID, "inner_note"),
        ("tax.tax_credit", "audit_note"),
        ("psb.resident", "religion"),
        ("hpf.deposit", "internal_remark"),
    }
    return found


def codes(demo: Any) -> list[str]:
    return list(demo.info["samples"]["organizations"])


def inner_notes(stored: Any, codes: list[str]) -> list[str]:
    notes = [stored("amr", "enterprise", "inner_note", "uscc", code) for code in codes]
    assert all(notes), "the demo stores an inner note for every enterprise"
    return notes


def assert_not_shared(
    response: httpx.Response,
    basis: dict[tuple[str, str], str],
    resource: str,
    item: str,
    provider: str,
    secrets: list[str],
) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert "data" not in body  # refused before execution: no data entry (GraphQL spec 7.1.2)
    assert body["errors"]
    for error in body["errors"]:
        extensions = error["extensions"]
        assert extensions["code"] == "NOT_SHARED", error
        assert extensions["resource"] == resource
        assert extensions["item"] == item
        assert extensions["provider"] == provider
        assert extensions["basis"] == basis[(resource, item)]
        assert basis[(resource, item)] in error["message"]
    for secret in secrets:
        assert secret not in response.text


# --- every way of naming innerNote ---------------------------------------------------

INNER_NOTE_QUERIES = {
    "by_name": """query Q($code: USCC!) {
      organization(code: $code) { enterpriseRegistration { name innerNote } }
    }""",
    "alias": """query Q($code: USCC!) {
      organization(code: $code) { enterpriseRegistration { name x: innerNote } }
    }""",
    "alias_named_like_an_allowed_field": """query Q($code: USCC!) {
      organization(code: $code) { enterpriseRegistration { name: innerNote } }
    }""",
    "named_fragment": """query Q($code: USCC!) {
      organization(code: $code) { enterpriseRegistration { ...Reg } }
    }
    fragment Reg on EnterpriseRegistration { name innerNote }""",
    "nested_named_fragments": """query Q($code: USCC!) {
      organization(code: $code) { ...Org }
    }
    fragment Org on Organization { code enterpriseRegistration { ...Reg } }
    fragment Reg on EnterpriseRegistration { status innerNote }""",
    "inline_fragment": """query Q($code: USCC!) {
      organization(code: $code) {
        enterpriseRegistration { name ... on EnterpriseRegistration { innerNote } }
      }
    }""",
    "untyped_inline_fragment": """query Q($code: USCC!) {
      organization(code: $code) { enterpriseRegistration { ... { innerNote } } }
    }""",
    "skipped_by_directive": """query Q($code: USCC!) {
      organization(code: $code) { enterpriseRegistration { name innerNote @skip(if: true) } }
    }""",
    "in_an_operation_not_executed": """query Q($code: USCC!) {
      organization(code: $code) { enterpriseRegistration { name } }
    }
    query Other($code: USCC!) {
      organization(code: $code) { enterpriseRegistration { innerNote } }
    }""",
}


@pytest.mark.parametrize("reject", [None, "false"])
@pytest.mark.parametrize("who", TOKENS)
@pytest.mark.parametrize("path", sorted(INNER_NOTE_QUERIES))
def test_inner_note_is_refused_by_every_path(demo, stored, basis, path, who, reject):
    code = codes(demo)[0]
    headers = {} if reject is None else {"X-Reject-Unauthorized": reject}
    response = httpx.post(
        demo.url,
        json={"query": INNER_NOTE_QUERIES[path], "variables": {"code": code}, "operationName": "Q"},
        headers={
            "Accept": GRAPHQL_RESPONSE,
            "Authorization": f"Bearer {demo.token(who)}",
            "X-Purpose": quote("行政审批核验"),
            **headers,
        },
        timeout=30,
    )
    secrets = inner_notes(stored, [code])
    assert_not_shared(response, basis, AMR_RID, "inner_note", AMR.code, secrets)
    # nothing else is answered either: not even the unconditional name
    assert stored("amr", "enterprise", "ent_name", "uscc", code) not in response.text


@pytest.mark.parametrize("who", TOKENS)
def test_inner_note_in_a_batch_of_many_codes(demo, stored, basis, who):
    many = codes(demo)
    query = """query Many($codes: [USCC!]!) {
      organizations(codes: $codes) { code enterpriseRegistration { name innerNote } }
    }"""
    response = demo.post(query, {"codes": many}, token=who)
    assert_not_shared(response, basis, AMR_RID, "inner_note", AMR.code, inner_notes(stored, many))
    assert len(response.json()["errors"]) == 1


def test_inner_note_in_a_batch_of_many_literal_codes(demo, stored, basis):
    many = codes(demo)
    literal = ", ".join(f'"{code}"' for code in many)
    query = f"{{ organizations(codes: [{literal}]) {{ enterpriseRegistration {{ innerNote }} }} }}"
    response = demo.post(query, token="operator")
    assert_not_shared(response, basis, AMR_RID, "inner_note", AMR.code, inner_notes(stored, many))


def test_repeated_refusals_stay_not_shared(demo, stored, basis):
    """The parser/validation caches must not turn a second refusal into a bare error."""
    code = codes(demo)[1]
    query = "query R($c: USCC!) { organization(code: $c) { enterpriseRegistration { innerNote } } }"
    for who in ("consumer", "consumer", "operator", "provider", "consumer"):
        response = demo.post(query, {"c": code}, token=who)
        assert_not_shared(response, basis, AMR_RID, "inner_note", AMR.code, inner_notes(stored, [code]))


@pytest.mark.parametrize("reject", ["true", "false"])
def test_other_non_shared_items_are_refused(demo, stored, basis, reject):
    code, pid = codes(demo)[2], demo.info["samples"]["persons"][2]
    headers = {"X-Reject-Unauthorized": reject}
    tax = demo.post(
        "query($c: USCC!) { organization(code: $c) { taxCredit { creditRating auditNote } } }",
        {"c": code},
        token="operator",
        headers=headers,
    )
    audit_note = stored("tax", "tax_credit", "audit_note", "uscc", code)
    assert_not_shared(tax, basis, "tax.tax_credit", "audit_note", TAX.code, [audit_note])

    resident = demo.post(
        "query($i: CitizenID!) { person(id: $i) { resident { gender religion } } }",
        {"i": pid},
        token="provider",
        headers=headers,
    )
    religion = stored("psb", "resident", "religion", "id_no", pid)
    assert_not_shared(resident, basis, "psb.resident", "religion", PSB.code, [religion])


def test_a_query_naming_all_non_shared_items_gets_one_error_each(demo, stored, basis):
    code, pid = codes(demo)[3], demo.info["samples"]["persons"][3]
    query = """query All($c: USCC!, $i: CitizenID!) {
      organization(code: $c) {
        enterpriseRegistration { innerNote } taxCredit { auditNote } deposit { internalRemark }
      }
      person(id: $i) { resident { religion } }
    }"""
    response = demo.post(query, {"c": code, "i": pid}, token="consumer_with_grant")
    assert response.status_code == 403
    body = response.json()
    assert "data" not in body  # refused before execution: no data entry (GraphQL spec 7.1.2)
    cited = {(e["extensions"]["resource"], e["extensions"]["item"]): e for e in body["errors"]}
    assert len(body["errors"]) == len(basis)
    assert set(cited) == set(basis)
    for key, error in cited.items():
        assert error["extensions"]["code"] == "NOT_SHARED"
        assert error["extensions"]["basis"] == basis[key]
    for secret in (
        stored("amr", "enterprise", "inner_note", "uscc", code),
        stored("tax", "tax_credit", "audit_note", "uscc", code),
        stored("psb", "resident", "religion", "id_no", pid),
    ):
        assert secret not in response.text


def test_not_shared_under_application_json_is_still_refused(demo, stored, basis):
    code = codes(demo)[4]
    query = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { innerNote } } }"
    response = demo.post(query, {"c": code}, headers={"Accept": "application/json"})
    assert response.status_code == 200  # application/json answers 200 for any GraphQL result
    body = response.json()
    assert "data" not in body  # refused before execution: no data entry (GraphQL spec 7.1.2)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_SHARED"]
    assert body["errors"][0]["extensions"]["basis"] == basis[(AMR_RID, "inner_note")]
    assert stored("amr", "enterprise", "inner_note", "uscc", code) not in response.text


# --- batched HTTP request --------------------------------------------------------------


@pytest.mark.parametrize("who", TOKENS)
def test_batched_request_refuses_only_the_non_shared_operation(demo, stored, basis, who):
    code = codes(demo)[5]
    refused = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { name innerNote } } }"
    allowed = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { name } } }"
    response = httpx.post(
        demo.url,
        json=[
            {"query": refused, "variables": {"c": code}},
            {"query": allowed, "variables": {"c": code}},
        ],
        headers={
            "Accept": GRAPHQL_RESPONSE,
            "Authorization": f"Bearer {demo.token(who)}",
            "X-Purpose": quote("行政审批核验"),
        },
        timeout=30,
    )
    assert response.status_code == 200
    first, second = response.json()
    assert "data" not in first  # refused before execution: no data entry (GraphQL spec 7.1.2)
    assert [e["extensions"]["code"] for e in first["errors"]] == ["NOT_SHARED"]
    assert first["errors"][0]["extensions"]["basis"] == basis[(AMR_RID, "inner_note")]
    assert second["data"] == {
        "organization": {
            "enterpriseRegistration": {"name": stored("amr", "enterprise", "ent_name", "uscc", code)}
        }
    }
    assert "errors" not in second
    assert first["extensions"]["voucher"] != second["extensions"]["voucher"]  # one per operation
    assert stored("amr", "enterprise", "inner_note", "uscc", code) not in response.text


# --- introspection and SDL --------------------------------------------------------------


@pytest.mark.parametrize("who", TOKENS)
@pytest.mark.parametrize(
    ("type_name", "field"),
    [("EnterpriseRegistration", "innerNote"), ("TaxCredit", "auditNote"), ("Resident", "religion")],
)
def test_type_introspection_leaves_non_shared_items_out(demo, who, type_name, field):
    query = "query($t: String!) { __type(name: $t) { name fields { name description } } }"
    response = demo.post(query, {"t": type_name}, token=who, purpose=None)
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    fields = [f["name"] for f in body["data"]["__type"]["fields"]]
    assert fields and field not in fields
    assert field not in response.text


@pytest.mark.parametrize("who", TOKENS)
def test_full_schema_introspection_leaves_non_shared_items_out(demo, stored, who):
    response = demo.post(get_introspection_query(descriptions=True), token=who, purpose=None)
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    types = {t["name"]: t for t in body["data"]["__schema"]["types"]}
    registration = {f["name"] for f in types["EnterpriseRegistration"]["fields"]}
    assert {"name", "legalRepresentative", "address"} <= registration
    for name in NOT_SHARED_FIELDS:
        assert name not in response.text
    code = codes(demo)[0]
    assert stored("amr", "enterprise", "inner_note", "uscc", code) not in response.text


@pytest.mark.parametrize("who", TOKENS)
def test_schema_sdl_leaves_non_shared_items_out(demo, stored, who):
    response = httpx.get(
        demo.url.replace("/graphql", "/schema.graphql"),
        headers={"Authorization": f"Bearer {demo.token(who)}"},
        timeout=30,
    )
    assert response.status_code == 200
    sdl = response.text
    assert "type EnterpriseRegistration" in sdl and "legalRepresentative" in sdl
    for name in NOT_SHARED_FIELDS:
        assert name not in sdl
    assert "NOT_SHARED)" not in sdl  # no field carries @share(class: NOT_SHARED)
    code = codes(demo)[0]
    assert stored("amr", "enterprise", "inner_note", "uscc", code) not in sdl


# --- conditional values without a grant --------------------------------------------------

CONDITIONAL_QUERY = """query Conditional($codes: [USCC!]!, $ids: [CitizenID!]!) {
  organizations(codes: $codes) {
    code
    enterpriseRegistration { legalRepresentative address }
    taxCredit { taxArrears }
    socialInsurance { contributionArrears }
    creditRecord { latestPenalty }
  }
  persons(ids: $ids) {
    id
    resident { name address }
    marriage { maritalStatus registrationDate }
  }
}"""


def conditional_secrets(stored: Any, codes: list[str], ids: list[str]) -> list[str]:
    """Stored text values of conditional items (numbers are checked in the JSON instead)."""
    values = []
    for code in codes:
        values.append(stored("amr", "enterprise", "legal_rep", "uscc", code))
        values.append(stored("amr", "enterprise", "address", "uscc", code))
        values.append(stored("credit", "credit_record", "latest_penalty", "uscc", code))
    for pid in ids:
        values.append(stored("psb", "resident", "full_name", "id_no", pid))
        values.append(stored("psb", "resident", "address", "id_no", pid))
        values.append(stored("psb", "resident", "address", "id_no", pid)[:6])  # masked prefix
        values.append(stored("mca", "marriage", "marital_status", "id_no", pid))
        values.append(stored("mca", "marriage", "reg_date", "id_no", pid))
    return [v for v in values if v]


@pytest.mark.parametrize("reject", [None, "true"])
@pytest.mark.parametrize("who", ["consumer", "operator", "provider"])
def test_conditional_values_without_grant_never_appear(demo, stored, who, reject):
    org_codes, ids = codes(demo), list(demo.info["samples"]["persons"])
    headers = {} if reject is None else {"X-Reject-Unauthorized": reject}
    response = demo.post(CONDITIONAL_QUERY, {"codes": org_codes, "ids": ids}, token=who, headers=headers)
    body = response.json()
    assert body["errors"]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"CONDITIONAL_ACCESS_REQUIRED"}
    if reject == "true":
        assert response.status_code == 403
        assert body["data"] is None
    else:
        assert response.status_code == 200
        for organization in body["data"]["organizations"]:
            assert organization["enterpriseRegistration"] == {
                "legalRepresentative": None,
                "address": None,
            }
            assert organization["taxCredit"] == {"taxArrears": None}
            assert organization["socialInsurance"] == {"contributionArrears": None}
            assert organization["creditRecord"] == {"latestPenalty": None}
        for person in body["data"]["persons"]:
            assert person["resident"] == {"name": None, "address": None}
            assert person["marriage"] == {"maritalStatus": None, "registrationDate": None}
    for secret in conditional_secrets(stored, org_codes, ids):
        assert secret not in response.text, secret
