"""The application workflow over HTTP against the real demo server (Hubei art. 18-22).

"Done means": a consumer department, with HTTP alone, gets a token (an OAuth client the
operator made for it), finds a conditional resource in the schema (the ``catalog`` query is
for operators; the SDL carries ``@share(class: CONDITIONAL ...)`` and ``@provider``), applies;
the operator checks; the providing department (AMR, demo token "provider") approves with
conditions: region 420102 only, a mask, 2 distinct subjects a day. The consumer then reads
under exactly those conditions, until the provider revokes the grant.

Demo organization codes cycle through the Wuhan districts (420102, 420103, ...): code n is in
district WUHAN_DISTRICTS[n % 8].
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from graphql import ObjectTypeDefinitionNode, StringValueNode, parse

from gateway.auth import load_signer
from gateway.demo import AMR, TAX, WUHAN_DISTRICTS, organization_codes
from policies.catalog import Mask
from policies.codes import make_uscc
from tests.conftest import DemoServer
from tests.e2e.conftest import approve_unconditional_for

pytestmark = pytest.mark.e2e

GRAPHQL_RESPONSE = "application/graphql-response+json"
PURPOSE = "保障性住房资格审核"
AMR_RID = "amr.enterprise_registration"
ADDRESS_MASK = Mask(3, 2)

APPLICATION_FIELDS = """id consumer provider resource items modes purpose status reasons grantId
  submittedAt checkDue checkedAt decideDue decidedAt decidedBy notifyDue notifiedAt calendarWarning overdue"""
SUBMIT = f"""mutation Submit($application: ApplicationInput!) {{
  submitApplication(application: $application) {{ {APPLICATION_FIELDS} }}
}}"""
CHECK = f"""mutation Check($id: ID!, $accept: Boolean!, $reasons: [String!]) {{
  checkApplication(id: $id, accept: $accept, reasons: $reasons) {{ {APPLICATION_FIELDS} }}
}}"""
DECIDE = f"""mutation Decide($id: ID!, $approve: Boolean!, $reasons: [String!], $items: [String!],
                      $conditions: ConditionsInput) {{
  decideApplication(id: $id, approve: $approve, reasons: $reasons, items: $items, conditions: $conditions) {{
    {APPLICATION_FIELDS}
  }}
}}"""
REVOKE = """mutation Revoke($id: ID!, $reasons: [String!]!) {
  revokeGrant(id: $id, reasons: $reasons) { id revoked }
}"""
APPLICATION = f"""query Application($id: ID!) {{
  application(id: $id) {{
    {APPLICATION_FIELDS}
    history {{ at actor client user action fromStatus toStatus reasons }}
  }}
}}"""
GRANTS = """query Grants($resource: String) {
  grants(resource: $resource) {
    id consumer resource items modes purpose revoked regions maskedItems dailyCap
  }
}"""
READ = """query Read($code: USCC!) {
  organization(code: $code) {
    code
    enterpriseRegistration { name legalRepresentative address }
    taxCredit { creditRating taxArrears }
  }
}"""


def fresh_department() -> str:
    """A consumer department of its own (tests.e2e.conftest's counter is not safe to share: imported
    by name it is a second module, whose serials the grant_to fixture's copy hands out again)."""
    return make_uscc("1", "1", "420100", f"MF{uuid.uuid4().int % 10**6:06d}")


# --- HTTP helpers ----------------------------------------------------------------


def post(
    demo: DemoServer,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str,
    purpose: str | None = PURPOSE,
    user: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    sent = dict(headers or {})
    if user is not None:
        sent["X-Request-User"] = quote(user)
    response = demo.post(query, variables, token=token, purpose=purpose, headers=sent)
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    return response


def data(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return dict(body["data"])


def error_codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json().get("errors", [])]


def errors_by_field(response: httpx.Response) -> dict[str, str]:
    """The error code per field path ("enterpriseRegistration.address"), below the subject."""
    return {
        ".".join(str(p) for p in error["path"][1:]): error["extensions"]["code"]
        for error in response.json().get("errors", [])
    }


def one_error(response: httpx.Response) -> dict[str, Any]:
    errors = response.json().get("errors", [])
    assert len(errors) == 1, errors
    return dict(errors[0])


# --- the consumer's side: token and discovery ------------------------------------


def consumer_token(demo: DemoServer, department: str) -> tuple[str, str]:
    """An OAuth client made for the department (operator, CLI), its token fetched over HTTP."""
    args = ["client", "create", "--department", department, "--roles", "consumer", "--name", "住房保障系统"]
    made = json.loads(demo.cli(*args).stdout)
    client_id, secret = made["client_id"], made["client_secret"]
    token_url = demo.url.replace("/graphql", "/oauth/token")
    response = httpx.post(
        token_url, data={"grant_type": "client_credentials"}, auth=(client_id, secret), timeout=30
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"]), client_id


@dataclass(frozen=True)
class Found:
    resource: str
    provider: str
    type_name: str
    conditional: dict[str, str]  # item name -> GraphQL field


def conditional_resources(demo: DemoServer, token: str) -> list[Found]:
    """From the printed SDL: types with @provider whose fields carry @share(class: CONDITIONAL)."""
    response = httpx.get(
        demo.url.replace("/graphql", "/schema.graphql"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    found = []
    for node in parse(response.text).definitions:
        if not isinstance(node, ObjectTypeDefinitionNode) or node.description is None:
            continue
        provider = _directive_arg(node, "provider", "code")
        rid = re.search(r"\((\w+\.\w+), 资源代码", node.description.value)
        if provider is None or rid is None:
            continue
        conditional = {}
        for field in node.fields or ():
            share = next((d for d in field.directives or () if d.name.value == "share"), None)
            cls = next((a.value for a in share.arguments if a.name.value == "class"), None) if share else None
            if cls is not None and getattr(cls, "value", None) == "CONDITIONAL" and field.description:
                item = re.match(r".*?\((\w+)\)\. Class: \S+ \(conditional\)", field.description.value, re.S)
                assert item, field.description.value
                conditional[item.group(1)] = field.name.value
        if conditional:
            found.append(Found(rid.group(1), provider, node.name.value, conditional))
    return found


def _directive_arg(node: ObjectTypeDefinitionNode, directive: str, argument: str) -> str | None:
    for applied in node.directives or ():
        if applied.name.value == directive:
            for arg in applied.arguments:
                if arg.name.value == argument and isinstance(arg.value, StringValueNode):
                    return arg.value.value
    return None


def application_input(resource: str, items: list[str], **changes: Any) -> dict[str, Any]:
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=180)
    return {
        "resource": resource,
        "items": items,
        "purpose": PURPOSE,
        "scopeOfKnowledge": "住房保障科审核人员",
        "securityMeasures": "政务外网专线，调用留痕，结果不落地",
        "legalBasis": "《公共租赁住房管理办法》第八条",
        "validUntil": until.isoformat(),
        "modes": ["QUERY"],
        **changes,
    }


def submit_and_check(demo: DemoServer, token: str, resource: str, items: list[str]) -> dict[str, Any]:
    submitted = data(post(demo, SUBMIT, {"application": application_input(resource, items)}, token=token))
    app = submitted["submitApplication"]
    checked = data(
        post(demo, CHECK, {"id": app["id"], "accept": True, "reasons": ["材料齐全"]}, token="operator")
    )
    assert checked["checkApplication"]["status"] == "ACCEPTED"
    return dict(checked["checkApplication"])


def org_in(district: str, nth: int = 0) -> str:
    """The nth demo organization code of a Wuhan district (codes cycle through the districts)."""
    index = WUHAN_DISTRICTS.index(district) + 8 * nth
    return organization_codes(index + 1)[index]


# --- "Done means" ----------------------------------------------------------------


def test_a_consumer_applies_is_granted_with_conditions_reads_under_them_until_revoked(
    demo: DemoServer, stored: Any
):
    department = fresh_department()
    token, client_id = consumer_token(demo, department)
    approve_unconditional_for(demo, department)  # hubei: unconditional items by application (art. 13)

    # 1. find a conditional resource of the AMR department in the schema
    found = {f.resource: f for f in conditional_resources(demo, token)}
    assert found, "the SDL shows no conditional item"
    amr = next(f for f in found.values() if f.provider == AMR.code)
    assert amr.resource == "amr.enterprise_registration"
    assert {"legal_representative", "address"} <= set(amr.conditional)
    items = sorted(amr.conditional)

    # before: the conditional items need a grant
    code = org_in("420102")
    before = post(demo, READ, {"code": code}, token=token)
    assert (
        errors_by_field(before)["enterpriseRegistration.legalRepresentative"] == "CONDITIONAL_ACCESS_REQUIRED"
    )

    # 2. apply, as a named civil servant
    submitted = post(
        demo, SUBMIT, {"application": application_input(amr.resource, items)}, token=token, user="王经办"
    )
    app = data(submitted)["submitApplication"]
    assert (app["status"], app["consumer"], app["provider"]) == ("SUBMITTED", department, AMR.code)
    assert app["checkDue"] and app["overdue"] == []
    app_id = app["id"]

    # 3. the operator checks it
    checked = post(
        demo, CHECK, {"id": app_id, "accept": True, "reasons": ["材料齐全"]}, token="operator", user="李审核"
    )
    assert data(checked)["checkApplication"]["status"] == "ACCEPTED"

    # 4. the provider approves with conditions
    conditions = {
        "regions": ["420102"],
        "masks": [
            {"item": "address", "keepFirst": ADDRESS_MASK.keep_first, "keepLast": ADDRESS_MASK.keep_last}
        ],
        "dailyCap": 2,
    }
    variables = {"id": app_id, "approve": True, "reasons": ["同意，限江岸区"], "conditions": conditions}
    decided = data(post(demo, DECIDE, variables, token="provider", user="赵审批"))["decideApplication"]
    assert (decided["status"], decided["decidedBy"]) == ("APPROVED", AMR.code)
    assert decided["grantId"] and decided["notifiedAt"]
    grant_id = decided["grantId"]

    grants = data(post(demo, GRANTS, {"resource": amr.resource}, token=token))["grants"]
    [grant] = [g for g in grants if g["id"] == grant_id]  # beside its application for unconditional items
    assert grant == {
        "id": grant_id,
        "consumer": department,
        "resource": amr.resource,
        "items": items,
        "modes": ["QUERY"],
        "purpose": PURPOSE,
        "revoked": False,
        "regions": ["420102"],
        "maskedItems": ["address"],
        "dailyCap": 2,
    }

    # 5. read: an in-scope subject gets the granted items, address masked
    first = post(demo, READ, {"code": code}, token=token)
    registration = first.json()["data"]["organization"]["enterpriseRegistration"]
    assert registration["name"] == stored("amr", "enterprise", "ent_name", "uscc", code)
    assert registration["legalRepresentative"] == stored("amr", "enterprise", "legal_rep", "uscc", code)
    address = stored("amr", "enterprise", "address", "uscc", code)
    assert registration["address"] == ADDRESS_MASK.apply(address) != address
    # items not granted still need a grant
    assert errors_by_field(first) == {"taxCredit.taxArrears": "CONDITIONAL_ACCESS_REQUIRED"}

    # a subject of another district is out of scope (and does not count against the cap)
    outside = org_in("420103")
    out = post(demo, READ, {"code": outside}, token=token)
    assert errors_by_field(out) == {
        "enterpriseRegistration.legalRepresentative": "OUT_OF_SCOPE",
        "enterpriseRegistration.address": "OUT_OF_SCOPE",
        "taxCredit.taxArrears": "CONDITIONAL_ACCESS_REQUIRED",
    }
    assert out.json()["data"]["organization"]["enterpriseRegistration"]["name"]

    # the second distinct in-scope subject today is answered, the third is rate limited
    second = org_in("420102", 1)
    assert "enterpriseRegistration.address" not in errors_by_field(
        post(demo, READ, {"code": second}, token=token)
    )
    third = org_in("420102", 2)
    limited = post(demo, READ, {"code": third}, token=token)
    assert errors_by_field(limited) == {
        "enterpriseRegistration.legalRepresentative": "RATE_LIMITED",
        "enterpriseRegistration.address": "RATE_LIMITED",
        "taxCredit.taxArrears": "CONDITIONAL_ACCESS_REQUIRED",
    }
    assert limited.json()["data"]["organization"]["enterpriseRegistration"]["name"]  # unconditional
    # a subject already admitted today is still answered
    again = post(demo, READ, {"code": code}, token=token)
    repeated = again.json()["data"]["organization"]["enterpriseRegistration"]
    assert repeated["legalRepresentative"] == registration["legalRepresentative"]

    # 6. the application's history, via GraphQL
    history = data(post(demo, APPLICATION, {"id": app_id}, token=token))["application"]["history"]
    assert [(e["action"], e["fromStatus"], e["toStatus"]) for e in history] == [
        ("submit", None, "SUBMITTED"),
        ("accept", "SUBMITTED", "ACCEPTED"),
        ("approve", "ACCEPTED", "APPROVED"),
        ("notify", "APPROVED", "APPROVED"),
    ]
    assert (history[0]["actor"], history[0]["client"], history[0]["user"]) == (
        department,
        client_id,
        "王经办",
    )
    assert (history[1]["user"], history[1]["reasons"]) == ("李审核", ["材料齐全"])
    assert (history[2]["actor"], history[2]["user"], history[2]["reasons"]) == (
        AMR.code,
        "赵审批",
        ["同意，限江岸区"],
    )

    # 7. the provider revokes, with reasons: the next request is denied
    revoked = data(post(demo, REVOKE, {"id": grant_id, "reasons": ["超出申请用途使用"]}, token="provider"))
    assert revoked["revokeGrant"] == {"id": grant_id, "revoked": True}
    after = post(demo, READ, {"code": code}, token=token)
    assert errors_by_field(after) == {
        "enterpriseRegistration.legalRepresentative": "CONDITIONAL_ACCESS_REQUIRED",
        "enterpriseRegistration.address": "CONDITIONAL_ACCESS_REQUIRED",
        "taxCredit.taxArrears": "CONDITIONAL_ACCESS_REQUIRED",
    }
    denied = next(e for e in after.json()["errors"] if e["path"][-1] == "address")
    assert denied["extensions"]["reason"] == "revoked"


def test_revoking_needs_reasons(demo: DemoServer):
    department = fresh_department()
    token = load_signer(demo.data_dir).issue(department, ["consumer"], ttl=600)
    app = submit_and_check(demo, token, AMR_RID, ["address"])
    grant_id = data(post(demo, DECIDE, {"id": app["id"], "approve": True}, token="provider"))[
        "decideApplication"
    ]["grantId"]
    response = post(demo, REVOKE, {"id": grant_id, "reasons": ["  "]}, token="provider")
    assert error_codes(response) == ["BAD_REQUEST"]
    [grant] = data(post(demo, GRANTS, {"resource": AMR_RID}, token=token))["grants"]
    assert not grant["revoked"]
    # X-Application-Id naming the grant relies on it (DESIGN section 5)
    query = "query($code: USCC!) { organization(code: $code) { enterpriseRegistration { address } } }"
    relied = post(
        demo, query, {"code": org_in("420105")}, token=token, headers={"X-Application-Id": grant_id}
    )
    assert data(relied)["organization"]["enterpriseRegistration"]["address"]


def test_a_provider_of_another_department_cannot_decide(demo: DemoServer):
    token = load_signer(demo.data_dir).issue(fresh_department(), ["consumer"], ttl=600)
    app = submit_and_check(demo, token, AMR_RID, ["legal_representative"])
    tax_provider = load_signer(demo.data_dir).issue(TAX.code, ["provider"], ttl=600)
    for approve in (True, False):
        response = post(
            demo, DECIDE, {"id": app["id"], "approve": approve, "reasons": ["同意"]}, token=tax_provider
        )
        assert response.status_code == 403
        error = one_error(response)
        assert error["extensions"]["code"] == "FORBIDDEN" and error["extensions"]["provider"] == AMR.code
    status = data(post(demo, APPLICATION, {"id": app["id"]}, token="operator"))["application"]["status"]
    assert status == "ACCEPTED"


def test_a_consumer_cannot_read_another_departments_application(demo: DemoServer):
    token = load_signer(demo.data_dir).issue(fresh_department(), ["consumer"], ttl=600)
    app_id = data(post(demo, SUBMIT, {"application": application_input(AMR_RID, ["address"])}, token=token))[
        "submitApplication"
    ]["id"]
    response = post(demo, APPLICATION, {"id": app_id}, token="consumer")  # the demo's housing bureau
    assert response.status_code == 403
    error = one_error(response)
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert response.json()["data"] is None
    listed = data(post(demo, "{ applications { id } }", token="consumer"))["applications"]
    assert app_id not in {a["id"] for a in listed}
    # its provider and the operator read it
    for reader in ("provider", "operator"):
        assert data(post(demo, APPLICATION, {"id": app_id}, token=reader))["application"]["id"] == app_id


def test_the_operator_lists_overdue_applications(demo: DemoServer):
    listed = data(post(demo, "{ applications(overdue: true) { id overdue status } }", token="operator"))
    assert isinstance(listed["applications"], list)
    assert all(a["overdue"] for a in listed["applications"])  # each names its late steps
    everything = data(post(demo, "{ applications { id } }", token="operator"))["applications"]
    assert {a["id"] for a in listed["applications"]} <= {a["id"] for a in everything}


def test_workflow_roles_over_http(demo: DemoServer):
    token = load_signer(demo.data_dir).issue(fresh_department(), ["consumer"], ttl=600)
    # a provider token cannot apply; a consumer cannot check
    submitted = post(demo, SUBMIT, {"application": application_input(AMR_RID, ["address"])}, token="provider")
    assert error_codes(submitted) == ["FORBIDDEN"]
    app_id = data(post(demo, SUBMIT, {"application": application_input(AMR_RID, ["address"])}, token=token))[
        "submitApplication"
    ]["id"]
    assert error_codes(post(demo, CHECK, {"id": app_id, "accept": True}, token=token)) == ["FORBIDDEN"]
    returned = post(demo, CHECK, {"id": app_id, "accept": False}, token="operator")
    assert error_codes(returned) == ["BAD_REQUEST"]  # returning needs reasons
    returned = data(
        post(demo, CHECK, {"id": app_id, "accept": False, "reasons": ["依据不充分"]}, token="operator")
    )
    assert returned["checkApplication"]["status"] == "RETURNED"
    # a non-shared item cannot even be applied for
    refused = post(demo, SUBMIT, {"application": application_input(AMR_RID, ["inner_note"])}, token=token)
    assert error_codes(refused) == ["NOT_SHARED"]


def test_readyz_lists_warnings(demo: DemoServer):
    response = httpx.get(demo.url.replace("/graphql", "/readyz"), timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body["warnings"], list) and all(isinstance(w, str) for w in body["warnings"])
    assert body["profile"] == "hubei"


def test_a_period_without_an_offset_is_not_an_internal_error(demo: DemoServer):
    token = load_signer(demo.data_dir).issue(fresh_department(), ["consumer"], ttl=600)
    given = application_input(AMR_RID, ["address"], validUntil="2027-06-30T00:00:00")
    response = post(demo, SUBMIT, {"application": given}, token=token)
    assert "INTERNAL" not in error_codes(response)


def test_an_approval_period_without_an_offset_is_not_an_internal_error(demo: DemoServer):
    token = load_signer(demo.data_dir).issue(fresh_department(), ["consumer"], ttl=600)
    app = submit_and_check(demo, token, AMR_RID, ["address"])
    variables = {"id": app["id"], "approve": True, "validUntil": "2027-01-31T00:00:00"}
    query = "mutation($id: ID!, $approve: Boolean!, $validUntil: DateTime) {"
    query += " decideApplication(id: $id, approve: $approve, validUntil: $validUntil) { status } }"
    assert "INTERNAL" not in error_codes(post(demo, query, variables, token="provider"))


def test_the_application_id_header_accepts_the_application(demo: DemoServer):
    token = load_signer(demo.data_dir).issue(fresh_department(), ["consumer"], ttl=600)
    app = submit_and_check(demo, token, AMR_RID, ["legal_representative"])
    data(post(demo, DECIDE, {"id": app["id"], "approve": True}, token="provider"))
    query = (
        "query($code: USCC!) { organization(code: $code) { enterpriseRegistration { legalRepresentative } } }"
    )
    code = org_in("420104")
    response = post(demo, query, {"code": code}, token=token, headers={"X-Application-Id": app["id"]})
    assert error_codes(response) == []


@pytest.mark.parametrize("field", ["items", "modes"])
def test_an_approval_that_keeps_no_items_or_no_modes_is_refused(demo: DemoServer, field: str):
    """`modes: []` used to be read as "not given" and approved every mode applied for, while
    `items: []` was refused: an approval keeps at least one of each (policies.workflow.narrow)."""
    token = load_signer(demo.data_dir).issue(fresh_department(), ["consumer"], ttl=600)
    app = submit_and_check(demo, token, AMR_RID, ["address"])
    kind = {"items": "[String!]", "modes": "[ServiceMode!]"}[field]
    query = f"mutation($id: ID!, $v: {kind}) {{ decideApplication(id: $id, approve: true, {field}: $v)"
    query += " { status } }"
    response = post(demo, query, {"id": app["id"], "v": []}, token="provider")
    assert error_codes(response) == ["BAD_REQUEST"] and "at least one" in one_error(response)["message"]
    status = data(post(demo, APPLICATION, {"id": app["id"]}, token="operator"))["application"]["status"]
    assert status == "ACCEPTED"


def test_a_consumer_may_not_revoke_and_is_told_so_whether_the_grant_exists_or_not(demo: DemoServer):
    """A consumer trying revokeGrant was told "deciding an application needs the provider role",
    and only for a grant that exists (else "no grant": an existence check before the role)."""
    token = load_signer(demo.data_dir).issue(fresh_department(), ["consumer"], ttl=600)
    app = submit_and_check(demo, token, AMR_RID, ["address"])
    decided = data(post(demo, DECIDE, {"id": app["id"], "approve": True}, token="provider"))
    for grant_id in (decided["decideApplication"]["grantId"], "grant-000000000000"):
        response = post(demo, REVOKE, {"id": grant_id, "reasons": ["不再需要"]}, token=token)
        error = one_error(response)
        assert error["extensions"]["code"] == "FORBIDDEN" and "revoking a grant" in error["message"]
    tax_provider = load_signer(demo.data_dir).issue(TAX.code, ["provider"], ttl=600)
    response = post(demo, REVOKE, {"id": decided["decideApplication"]["grantId"], "reasons": ["x"]},
                    token=tax_provider)  # fmt: skip
    error = one_error(response)
    assert error["extensions"]["code"] == "FORBIDDEN" and error["extensions"]["provider"] == AMR.code
