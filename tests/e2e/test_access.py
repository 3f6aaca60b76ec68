"""Share classes over HTTP: unconditional, conditional (grants), masked items."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from gateway.demo import AMR, CREDIT, HRSS, PSB, TAX

pytestmark = pytest.mark.e2e

GRAPHQL_RESPONSE = "application/graphql-response+json"
AMR_RID = "amr.enterprise_registration"
REGISTRATION = """query Registration($code: USCC!) {
  organization(code: $code) {
    code
    enterpriseRegistration { name status legalRepresentative address }
  }
}"""
LEGAL_REP = """query LegalRep($code: USCC!) {
  organization(code: $code) { enterpriseRegistration { name legalRepresentative } }
}"""


def org(demo: Any, n: int = 0) -> str:
    return str(demo.info["samples"]["organizations"][n])


def person(demo: Any, n: int = 0) -> str:
    return str(demo.info["samples"]["persons"][n])


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def errors_of(response: httpx.Response) -> list[dict[str, Any]]:
    return list(response.json().get("errors", []))


def only_error(response: httpx.Response) -> dict[str, Any]:
    errors = errors_of(response)
    assert len(errors) == 1, errors
    return errors[0]


# --- unconditional ----------------------------------------------------------------


def test_cross_department_query_answers_every_unconditional_field(demo, stored):
    code, pid = org(demo, 3), person(demo, 3)
    query = """query Cross($code: USCC!, $id: CitizenID!) {
      organization(code: $code) {
        code
        enterpriseRegistration { uscc name status registeredCapital registrationDate businessScope }
        taxCredit { creditRating taxpayerType }
        socialInsurance { insuredEmployees contributionStatus }
        creditRecord { blacklisted penaltyCount }
      }
      person(id: $id) { id resident { idNumber gender birthDate } }
    }"""
    response = demo.post(query, {"code": code, "id": pid})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert "errors" not in body
    organization = body["data"]["organization"]
    assert organization["code"] == code
    registration = organization["enterpriseRegistration"]
    assert registration == {
        "uscc": code,
        "name": stored("amr", "enterprise", "ent_name", "uscc", code),
        "status": stored("amr", "enterprise", "status", "uscc", code),
        "registeredCapital": stored("amr", "enterprise", "capital", "uscc", code),
        "registrationDate": stored("amr", "enterprise", "reg_date", "uscc", code),
        "businessScope": stored("amr", "enterprise", "scope", "uscc", code),
    }
    assert organization["taxCredit"] == {
        "creditRating": stored("tax", "tax_credit", "rating", "uscc", code),
        "taxpayerType": stored("tax", "tax_credit", "taxpayer_type", "uscc", code),
    }
    assert organization["socialInsurance"] == {
        "insuredEmployees": stored("hrss", "insurance", "insured", "uscc", code),
        "contributionStatus": stored("hrss", "insurance", "pay_status", "uscc", code),
    }
    assert organization["creditRecord"] == {
        "blacklisted": bool(stored("credit", "credit_record", "blacklisted", "uscc", code)),
        "penaltyCount": stored("credit", "credit_record", "penalties", "uscc", code),
    }
    resident = body["data"]["person"]["resident"]
    assert body["data"]["person"]["id"] == pid
    assert resident == {
        "idNumber": pid,
        "gender": stored("psb", "resident", "gender", "id_no", pid),
        "birthDate": stored("psb", "resident", "birth", "id_no", pid),
    }


# --- conditional without / with a grant -----------------------------------------------


def test_conditional_item_without_grant_is_null_with_one_error_rest_answers(demo, stored):
    code = org(demo, 1)
    query = """query Partial($code: USCC!) {
      organization(code: $code) {
        enterpriseRegistration { name legalRepresentative status }
        taxCredit { creditRating }
      }
    }"""
    response = demo.post(query, {"code": code}, token="consumer")
    assert response.status_code == 200  # a partial result is a success
    body = response.json()
    organization = body["data"]["organization"]
    assert organization["enterpriseRegistration"] == {
        "name": stored("amr", "enterprise", "ent_name", "uscc", code),
        "legalRepresentative": None,
        "status": stored("amr", "enterprise", "status", "uscc", code),
    }
    assert organization["taxCredit"]["creditRating"] == stored("tax", "tax_credit", "rating", "uscc", code)
    error = only_error(response)
    assert error["path"] == ["organization", "enterpriseRegistration", "legalRepresentative"]
    extensions = error["extensions"]
    assert extensions["code"] == "CONDITIONAL_ACCESS_REQUIRED"
    assert extensions["reason"] == "no_grant"
    assert extensions["resource"] == AMR_RID
    assert extensions["item"] == "legal_representative"
    assert extensions["field"] == "legalRepresentative"
    assert extensions["provider"] == AMR.code
    assert extensions["providerName"] == AMR.name
    assert extensions["condition"] == "用于行政审批中核验法定代表人身份"
    assert "grant" in error["message"]  # the way to apply
    assert stored("amr", "enterprise", "legal_rep", "uscc", code) not in response.text


def test_conditional_items_of_each_provider_are_denied_one_error_per_field(demo):
    query = """query Many($code: USCC!) {
      organization(code: $code) {
        enterpriseRegistration { address }
        taxCredit { taxArrears }
        socialInsurance { contributionArrears }
        creditRecord { latestPenalty }
      }
    }"""
    response = demo.post(query, {"code": org(demo, 2)}, token="consumer")
    assert response.status_code == 200
    errors = errors_of(response)
    denied = {(e["extensions"]["resource"], e["extensions"]["item"]): e for e in errors}
    assert len(errors) == len(denied) == 4
    assert {key: e["extensions"]["provider"] for key, e in denied.items()} == {
        (AMR_RID, "address"): AMR.code,
        ("tax.tax_credit", "tax_arrears"): TAX.code,
        ("hrss.social_insurance", "contribution_arrears"): HRSS.code,
        ("credit.credit_record", "latest_penalty"): CREDIT.code,
    }
    assert {e["extensions"]["code"] for e in errors} == {"CONDITIONAL_ACCESS_REQUIRED"}
    organization = response.json()["data"]["organization"]
    assert organization == {
        "enterpriseRegistration": {"address": None},
        "taxCredit": {"taxArrears": None},
        "socialInsurance": {"contributionArrears": None},
        "creditRecord": {"latestPenalty": None},
    }


def test_granted_conditional_items_are_returned_without_errors(demo, stored):
    code = org(demo, 1)
    response = demo.post(REGISTRATION, {"code": code}, token="consumer_with_grant")
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    registration = body["data"]["organization"]["enterpriseRegistration"]
    legal_rep = stored("amr", "enterprise", "legal_rep", "uscc", code)
    address = stored("amr", "enterprise", "address", "uscc", code)
    assert registration["legalRepresentative"] == legal_rep
    assert registration["address"] == address
    # the raw body carries values unescaped: absence checks on raw text are meaningful
    assert legal_rep in response.text and address in response.text


def test_granted_items_in_a_batch_of_organizations(demo, stored):
    codes = demo.info["samples"]["organizations"]
    query = """query Batch($codes: [USCC!]!) {
      organizations(codes: $codes) { code enterpriseRegistration { legalRepresentative } }
    }"""
    response = demo.post(query, {"codes": codes}, token="consumer_with_grant")
    body = response.json()
    assert "errors" not in body
    answered = [o["enterpriseRegistration"]["legalRepresentative"] for o in body["data"]["organizations"]]
    assert answered == [stored("amr", "enterprise", "legal_rep", "uscc", c) for c in codes]


def test_reject_unauthorized_refuses_the_whole_request(demo, stored):
    code = org(demo, 4)
    response = demo.post(
        REGISTRATION, {"code": code}, token="consumer", headers={"X-Reject-Unauthorized": "true"}
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert body["data"] is None
    denied = sorted((e["extensions"]["resource"], e["extensions"]["item"]) for e in body["errors"])
    assert denied == [(AMR_RID, "address"), (AMR_RID, "legal_representative")]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"CONDITIONAL_ACCESS_REQUIRED"}
    assert {e["extensions"]["provider"] for e in body["errors"]} == {AMR.code}
    # nothing at all is answered, not even the unconditional items
    assert stored("amr", "enterprise", "ent_name", "uscc", code) not in response.text
    assert stored("amr", "enterprise", "legal_rep", "uscc", code) not in response.text


def test_reject_unauthorized_answers_when_everything_is_allowed(demo, stored):
    code = org(demo, 4)
    response = demo.post(
        REGISTRATION,
        {"code": code},
        token="consumer_with_grant",
        headers={"X-Reject-Unauthorized": "true"},
    )
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    registration = body["data"]["organization"]["enterpriseRegistration"]
    assert registration["legalRepresentative"] == stored("amr", "enterprise", "legal_rep", "uscc", code)


def test_reject_unauthorized_false_keeps_partial_results(demo):
    response = demo.post(LEGAL_REP, {"code": org(demo)}, headers={"X-Reject-Unauthorized": "false"})
    assert response.status_code == 200
    registration = response.json()["data"]["organization"]["enterpriseRegistration"]
    assert registration["name"] and registration["legalRepresentative"] is None
    assert only_error(response)["extensions"]["code"] == "CONDITIONAL_ACCESS_REQUIRED"


# --- purpose -----------------------------------------------------------------------


def test_wrong_purpose_against_the_grant_is_denied(demo, stored):
    code = org(demo, 5)
    response = demo.post(LEGAL_REP, {"code": code}, token="consumer_with_grant", purpose="招商引资")
    assert response.status_code == 200
    error = only_error(response)
    assert error["extensions"]["code"] == "CONDITIONAL_ACCESS_REQUIRED"
    assert error["extensions"]["reason"] == "purpose"
    assert error["extensions"]["item"] == "legal_representative"
    assert "招商引资" in error["message"]
    registration = response.json()["data"]["organization"]["enterpriseRegistration"]
    assert registration["legalRepresentative"] is None
    assert stored("amr", "enterprise", "legal_rep", "uscc", code) not in response.text


def test_purpose_is_compared_after_normalization(demo, stored):
    code = org(demo, 5)
    response = demo.post(LEGAL_REP, {"code": code}, token="consumer_with_grant", purpose="  行政审批核验  ")
    assert "errors" not in response.json()
    registration = response.json()["data"]["organization"]["enterpriseRegistration"]
    assert registration["legalRepresentative"] == stored("amr", "enterprise", "legal_rep", "uscc", code)


@pytest.mark.parametrize("purpose", [None, "", "   "])
def test_missing_purpose_is_purpose_required(demo, purpose):
    response = demo.post(LEGAL_REP, {"code": org(demo)}, token="consumer_with_grant", purpose=purpose)
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body  # refused before execution: no data entry (GraphQL spec 7.1.2)
    error = only_error(response)
    assert error["extensions"]["code"] == "PURPOSE_REQUIRED"
    assert "X-Purpose" in error["message"]


def test_missing_purpose_even_for_unconditional_items(demo):
    query = "query($code: USCC!) { organization(code: $code) { taxCredit { creditRating } } }"
    response = demo.post(query, {"code": org(demo)}, purpose=None)
    assert response.status_code == 400
    assert only_error(response)["extensions"]["code"] == "PURPOSE_REQUIRED"


def test_no_purpose_needed_without_data_access(demo):
    response = demo.post("{ __typename }", purpose=None)
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


# --- grant validity ------------------------------------------------------------------


def test_expired_grant_is_grant_expired(demo, grant_to, stored):
    granted = grant_to(
        AMR_RID,
        "legal_representative",
        "到期测试",
        valid_from=now() - dt.timedelta(days=30),
        until=now() - dt.timedelta(days=1),
    )
    code = org(demo, 6)
    response = demo.post(LEGAL_REP, {"code": code}, token=granted.token, purpose="到期测试")
    assert response.status_code == 200
    error = only_error(response)
    assert error["extensions"]["code"] == "GRANT_EXPIRED"
    assert error["extensions"]["resource"] == AMR_RID
    assert error["extensions"]["item"] == "legal_representative"
    assert error["extensions"]["provider"] == AMR.code
    assert response.json()["data"]["organization"]["enterpriseRegistration"]["name"]
    assert stored("amr", "enterprise", "legal_rep", "uscc", code) not in response.text


def test_grant_not_yet_valid_is_denied(demo, grant_to, stored):
    granted = grant_to(
        AMR_RID,
        "legal_representative",
        "未来测试",
        valid_from=now() + dt.timedelta(days=1),
        until=now() + dt.timedelta(days=30),
    )
    code = org(demo, 6)
    response = demo.post(LEGAL_REP, {"code": code}, token=granted.token, purpose="未来测试")
    assert response.status_code == 200
    error = only_error(response)
    assert error["extensions"]["code"] == "CONDITIONAL_ACCESS_REQUIRED"
    assert error["extensions"]["item"] == "legal_representative"
    # the purpose matches the grant: the denial must not blame it
    assert error["extensions"]["reason"] != "purpose", error["message"]
    assert "does not cover the purpose" not in error["message"]
    assert response.json()["data"]["organization"]["enterpriseRegistration"] == {
        "name": stored("amr", "enterprise", "ent_name", "uscc", code),
        "legalRepresentative": None,
    }
    assert stored("amr", "enterprise", "legal_rep", "uscc", code) not in response.text


def test_revoked_grant_is_denied_on_the_next_request(demo, grant_to, stored):
    granted = grant_to(AMR_RID, "legal_representative", "撤销测试")
    code = org(demo, 7)
    legal_rep = stored("amr", "enterprise", "legal_rep", "uscc", code)
    before = demo.post(LEGAL_REP, {"code": code}, token=granted.token, purpose="撤销测试")
    assert "errors" not in before.json()
    assert before.json()["data"]["organization"]["enterpriseRegistration"]["legalRepresentative"] == legal_rep

    revoked = demo.cli("grant", "revoke", granted.grant["id"]).stdout
    assert '"revoked": true' in revoked

    after = demo.post(LEGAL_REP, {"code": code}, token=granted.token, purpose="撤销测试")
    assert after.status_code == 200
    error = only_error(after)
    assert error["extensions"]["code"] == "CONDITIONAL_ACCESS_REQUIRED"
    assert error["extensions"]["item"] == "legal_representative"
    assert error["extensions"]["reason"] != "purpose", error["message"]  # the purpose matches
    assert "does not cover the purpose" not in error["message"]
    assert after.json()["data"]["organization"]["enterpriseRegistration"]["legalRepresentative"] is None
    assert legal_rep not in after.text

    # issue 7: with a wrong purpose too, the grant is reported revoked (sending its purpose
    # would not help), not "wrong purpose"
    other = demo.post(LEGAL_REP, {"code": code}, token=granted.token, purpose="另一个用途")
    error = only_error(other)
    assert error["extensions"]["reason"] == "revoked", error["message"]
    assert error["extensions"]["reasons"] == ["revoked", "purpose"]
    assert "does not cover the purpose" not in error["message"]


# --- grant scope -------------------------------------------------------------------


def test_grant_for_one_item_does_not_unlock_another_of_the_same_resource(demo, grant_to, stored):
    granted = grant_to(AMR_RID, "legal_representative", "单项测试")
    code = org(demo, 8)
    response = demo.post(REGISTRATION, {"code": code}, token=granted.token, purpose="单项测试")
    assert response.status_code == 200
    registration = response.json()["data"]["organization"]["enterpriseRegistration"]
    assert registration["legalRepresentative"] == stored("amr", "enterprise", "legal_rep", "uscc", code)
    assert registration["address"] is None
    error = only_error(response)
    assert error["path"] == ["organization", "enterpriseRegistration", "address"]
    assert error["extensions"]["code"] == "CONDITIONAL_ACCESS_REQUIRED"
    assert error["extensions"]["item"] == "address"
    assert error["extensions"]["reason"] == "no_grant"
    assert stored("amr", "enterprise", "address", "uscc", code) not in response.text


def test_grant_on_one_resource_does_not_unlock_another_resource(demo, stored):
    code = org(demo, 9)
    query = """query Other($code: USCC!) {
      organization(code: $code) {
        enterpriseRegistration { legalRepresentative }
        taxCredit { taxArrears }
        creditRecord { latestPenalty }
      }
    }"""
    response = demo.post(query, {"code": code}, token="consumer_with_grant")
    assert response.status_code == 200
    organization = response.json()["data"]["organization"]
    assert organization["enterpriseRegistration"]["legalRepresentative"] == stored(
        "amr", "enterprise", "legal_rep", "uscc", code
    )
    assert organization["taxCredit"] == {"taxArrears": None}
    assert organization["creditRecord"] == {"latestPenalty": None}
    denied = {(e["extensions"]["resource"], e["extensions"]["item"]): e for e in errors_of(response)}
    assert set(denied) == {("tax.tax_credit", "tax_arrears"), ("credit.credit_record", "latest_penalty")}
    assert {e["extensions"]["code"] for e in denied.values()} == {"CONDITIONAL_ACCESS_REQUIRED"}
    assert {e["extensions"]["reason"] for e in denied.values()} == {"no_grant"}


def test_grant_for_compare_mode_does_not_unlock_query(demo, grant_to, stored):
    granted = grant_to(AMR_RID, "legal_representative", "比对测试", modes="compare")
    code = org(demo, 8)
    response = demo.post(LEGAL_REP, {"code": code}, token=granted.token, purpose="比对测试")
    error = only_error(response)
    assert error["extensions"]["code"] == "CONDITIONAL_ACCESS_REQUIRED"
    assert error["extensions"]["item"] == "legal_representative"
    assert stored("amr", "enterprise", "legal_rep", "uscc", code) not in response.text


def test_application_id_restricts_to_that_grant(demo, stored):
    code = org(demo, 2)
    grant_id = demo.info["grant"]["id"]
    legal_rep = stored("amr", "enterprise", "legal_rep", "uscc", code)
    named = demo.post(
        LEGAL_REP, {"code": code}, token="consumer_with_grant", headers={"X-Application-Id": grant_id}
    )
    assert "errors" not in named.json()
    assert named.json()["data"]["organization"]["enterpriseRegistration"]["legalRepresentative"] == legal_rep
    other = demo.post(
        LEGAL_REP,
        {"code": code},
        token="consumer_with_grant",
        headers={"X-Application-Id": "grant-000000000000"},
    )
    assert only_error(other)["extensions"]["code"] == "CONDITIONAL_ACCESS_REQUIRED"
    assert legal_rep not in other.text


def test_another_departments_grant_cannot_be_borrowed(demo, stored):
    """The consumer without grants names the demo grant (of another department)."""
    code = org(demo, 2)
    response = demo.post(
        LEGAL_REP,
        {"code": code},
        token="consumer",
        headers={"X-Application-Id": demo.info["grant"]["id"]},
    )
    assert only_error(response)["extensions"]["code"] == "CONDITIONAL_ACCESS_REQUIRED"
    assert stored("amr", "enterprise", "legal_rep", "uscc", code) not in response.text


# --- masking ------------------------------------------------------------------------


def test_masked_item_is_returned_masked_when_granted(demo, grant_to, stored):
    granted = grant_to("psb.resident", "name,address", "身份核验")
    pid = person(demo, 1)
    query = """query Resident($id: CitizenID!) {
      person(id: $id) { id resident { idNumber name gender address } }
    }"""
    response = demo.post(query, {"id": pid}, token=granted.token, purpose="身份核验")
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    resident = body["data"]["person"]["resident"]
    address = stored("psb", "resident", "address", "id_no", pid)
    assert len(address) > 6
    assert resident["address"] == address[:6] + "*" * (len(address) - 6)
    assert resident["name"] == stored("psb", "resident", "full_name", "id_no", pid)
    assert resident["idNumber"] == pid
    assert address not in response.text
    assert address[6:] not in response.text


def test_masked_item_without_grant_is_denied(demo, stored):
    pid = person(demo, 1)
    query = "query($id: CitizenID!) { person(id: $id) { resident { gender address } } }"
    response = demo.post(query, {"id": pid}, token="consumer")
    error = only_error(response)
    assert error["extensions"]["code"] == "CONDITIONAL_ACCESS_REQUIRED"
    assert error["extensions"]["resource"] == "psb.resident"
    assert error["extensions"]["provider"] == PSB.code
    resident = response.json()["data"]["person"]["resident"]
    assert resident == {"gender": stored("psb", "resident", "gender", "id_no", pid), "address": None}
    assert stored("psb", "resident", "address", "id_no", pid)[:6] not in response.text


# --- isolation between concurrent requests -----------------------------------------------


def test_concurrent_requests_never_widen_what_a_consumer_sees(demo, stored):
    """Sources coalesce concurrent fetches; each consumer still gets only its own items."""
    codes = demo.info["samples"]["organizations"]
    legal_reps = {stored("amr", "enterprise", "legal_rep", "uscc", c) for c in codes}
    query = """query Batch($codes: [USCC!]!) {
      organizations(codes: $codes) { enterpriseRegistration { name legalRepresentative } }
    }"""

    def send(who: str) -> tuple[str, str]:
        headers = {"Authorization": f"Bearer {demo.token(who)}", "X-Purpose": quote("行政审批核验")}
        body = {"query": query, "variables": {"codes": codes}}
        return who, httpx.post(demo.url, json=body, headers=headers, timeout=30).text

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(send, ["consumer", "consumer_with_grant"] * 12))
    for who, text in answers:
        seen = {name for name in legal_reps if name in text}
        assert seen == (legal_reps if who == "consumer_with_grant" else set()), who


# --- purposes spelled with any whitespace (issue 7, item 20) -----------------------------------


@pytest.mark.parametrize(
    ("granted_as", "asked_as"),
    [
        ("行政审批 核验", "行政审批\u3000核验"),  # the example: ideographic space in the request
        ("行政审批\u3000核验", "行政审批 核验"),  # and in the grant
        ("行政审批\u2003核验", "行政审批\u00a0\u3000核验\u3000"),  # em space; no-break + trailing
        # invisible characters and a line separator in the grant (headers may hold neither:
        # INVALID_HEADER), a tab in the request
        ("\ufeff行政审批\u200b \u2028核验", "行政审批\t核验"),
    ],
    ids=["ideographic-request", "ideographic-grant", "em-and-nbsp", "invisible-and-tab"],
)
def test_a_purpose_matches_whatever_whitespace_it_is_spelled_with(
    demo, grant_to, stored, granted_as, asked_as
):
    granted = grant_to(AMR_RID, "legal_representative", granted_as)
    assert granted.grant["purpose"] == "行政审批 核验"  # stored as compared: one ASCII space
    code = org(demo, 9)
    legal_rep = stored("amr", "enterprise", "legal_rep", "uscc", code)
    # percent-encoded (as GraphiQL sends it) and raw UTF-8 (as curl sends it)
    sent = [{"purpose": asked_as}, {"purpose": None, "headers": {"X-Purpose": asked_as.encode()}}]
    for how in sent:
        response = demo.post(LEGAL_REP, {"code": code}, token=granted.token, **how)
        assert "errors" not in response.json(), response.json()
        assert (
            response.json()["data"]["organization"]["enterpriseRegistration"]["legalRepresentative"]
            == legal_rep
        )
