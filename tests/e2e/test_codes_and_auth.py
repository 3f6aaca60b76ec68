"""Identity codes on input (INVALID_CODE naming the rule) and bearer-token authentication."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query
from joserfc import jwt
from joserfc.jwk import ECKey

from gateway.demo import AMR
from policies.chinatime import today_in_china
from policies.codes import citizen_id_check_char, make_uscc, org_code_check_char, uscc_check_char

pytestmark = pytest.mark.e2e

GRAPHQL_RESPONSE = "application/graphql-response+json"
ORG_BY_VARIABLE = "query($code: USCC!) { organization(code: $code) { code enterpriseRegistration { name } } }"
PERSON_BY_VARIABLE = "query($id: CitizenID!) { person(id: $id) { id resident { gender birthDate } } }"


def org_literal(code: str) -> str:
    return f'{{ organization(code: "{code}") {{ code enterpriseRegistration {{ name }} }} }}'


def person_literal(pid: str) -> str:
    return f'{{ person(id: "{pid}") {{ id resident {{ gender birthDate }} }} }}'


def _other(ch: str) -> str:
    return "1" if ch != "1" else "2"


def bad_usccs(good: str) -> dict[str, tuple[str, str]]:
    """case -> (code, the rule it must fail): each breaks exactly one rule of a valid code."""
    body = good[:16] + _other(good[16])  # wrong org-code check digit ...
    wrong_org = body + uscc_check_char(body)  # ... under a correct 18th character
    assert org_code_check_char(good[8:16]) == good[16] != wrong_org[16]
    cases = {
        "check_char": (good[:17] + _other(good[17]), "check_char"),
        "too_short": (good[:17], "length"),
        "too_long": (good + "1", "length"),
        "org_code_check": (wrong_org, "org_code_check"),
        "division_letters": (good[:2] + "4201A2" + good[8:], "division"),
        # GB/T 2260: characters 3-8 begin with a province-level code (16 is none), or are 100000
        "division_no_province": (_with_uscc_check(good[:2] + "160102" + good[8:17]), "division"),
        "citizen_id_as_uscc": ("110105198501014304", "division"),  # issue 7's example
    }
    for letter in "IOSVZ":
        cases[f"forbidden_{letter}"] = (good[:9] + letter + good[10:], "charset")
    return cases


def _with_uscc_check(first17: str) -> str:
    return first17 + uscc_check_char(first17)


def bad_citizen_ids(good: str) -> dict[str, tuple[str, str]]:
    def with_check(first17: str) -> str:
        return first17 + citizen_id_check_char(first17)

    future = today_in_china() + dt.timedelta(days=400)
    return {
        "check_char": (good[:17] + _other(good[17]), "check_char"),
        "feb_30": (with_check(good[:6] + "19870230" + good[14:17]), "birth_date"),
        "month_13": (with_check(good[:6] + "19871301" + good[14:17]), "birth_date"),
        "future_birth": (with_check(good[:6] + future.strftime("%Y%m%d") + good[14:17]), "birth_date"),
        "too_short": (good[:16], "length"),
        "letter_inside": (good[:10] + "A" + good[11:], "charset"),
        "legacy_feb_30": (good[:6] + "870230" + good[14:17], "birth_date"),
        "division_no_province": (with_check("160102" + good[6:17]), "division"),  # GB/T 2260
        "division_national": (with_check("100000" + good[6:17]), "division"),  # USCC-only code
    }


def assert_invalid_code(response: httpx.Response, kind: str, rule: str, code: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert "data" not in body  # refused before execution: no data entry (GraphQL spec 7.1.2)
    assert len(body["errors"]) == 1, body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INVALID_CODE"
    assert error["extensions"]["kind"] == kind
    assert error["extensions"]["rule"] == rule
    assert rule in error["message"]


# --- USCC -------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["variable", "literal"])
@pytest.mark.parametrize("case", sorted(bad_usccs(make_uscc("9", "1", "420102", "MA000000"))))
def test_invalid_uscc_names_the_failed_rule(demo, case, how):
    good = demo.info["samples"]["organizations"][0]
    code, rule = bad_usccs(good)[case]
    if how == "variable":
        response = demo.post(ORG_BY_VARIABLE, {"code": code})
    else:
        response = demo.post(org_literal(code))
    assert_invalid_code(response, "USCC", rule, code)


def test_invalid_code_among_many_refuses_the_batch(demo):
    codes = list(demo.info["samples"]["organizations"])
    codes[3] = codes[3][:17] + _other(codes[3][17])
    query = "query($codes: [USCC!]!) { organizations(codes: $codes) { code } }"
    assert_invalid_code(demo.post(query, {"codes": codes}), "USCC", "check_char", codes[3])


@pytest.mark.parametrize("how", ["variable", "literal"])
def test_full_width_and_lower_case_uscc_is_normalized(demo, how):
    good = demo.info["samples"]["organizations"][0]
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in good.lower())  # full-width forms
    for variant in (good.lower(), f" {good[:8]} {good[8:]} ", full_width):
        if how == "variable":
            response = demo.post(ORG_BY_VARIABLE, {"code": variant})
        else:
            response = demo.post(org_literal(variant))
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body
        assert body["data"]["organization"]["code"] == good
        assert body["data"]["organization"]["enterpriseRegistration"]["name"]


def test_valid_unknown_uscc_is_null_without_errors(demo):
    unknown = make_uscc("9", "1", "420102", "MA9YYYY1")
    assert unknown not in demo.info["samples"]["organizations"]
    query = """query($code: USCC!) {
      organization(code: $code) { code enterpriseRegistration { name } taxCredit { creditRating } }
    }"""
    response = demo.post(query, {"code": unknown})
    assert response.status_code == 200
    assert response.json() == {"data": {"organization": None}}


def test_unknown_codes_in_a_batch_are_null_in_place(demo):
    known = demo.info["samples"]["organizations"][:2]
    unknown = make_uscc("9", "1", "420102", "MA9YYYY2")
    query = (
        "query($codes: [USCC!]!) { organizations(codes: $codes) { code enterpriseRegistration { status } } }"
    )
    response = demo.post(query, {"codes": [known[0], unknown, known[1]]})
    body = response.json()
    assert "errors" not in body
    answered = body["data"]["organizations"]
    assert [o and o["code"] for o in answered] == [known[0], None, known[1]]


def test_unknown_uscc_is_null_even_when_only_the_code_is_selected(demo):
    unknown = make_uscc("9", "1", "420102", "MA9YYYY3")
    response = demo.post("query($code: USCC!) { organization(code: $code) { code } }", {"code": unknown})
    assert response.json() == {"data": {"organization": None}}


# --- citizen ID ---------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["variable", "literal"])
@pytest.mark.parametrize("case", sorted(bad_citizen_ids("420102198704060005")))
def test_invalid_citizen_id_names_the_failed_rule(demo, case, how):
    good = demo.info["samples"]["persons"][0]
    pid, rule = bad_citizen_ids(good)[case]
    if how == "variable":
        response = demo.post(PERSON_BY_VARIABLE, {"id": pid})
    else:
        response = demo.post(person_literal(pid))
    assert_invalid_code(response, "CitizenID", rule, pid)


@pytest.mark.parametrize("how", ["variable", "literal"])
def test_legacy_15_digit_id_is_converted(demo, stored, how):
    good = next(p for p in demo.info["samples"]["persons"] if p[6:8] == "19")
    legacy = good[:6] + good[8:17]
    assert len(legacy) == 15
    response = (
        demo.post(PERSON_BY_VARIABLE, {"id": legacy})
        if how == "variable"
        else demo.post(person_literal(legacy))
    )
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    assert body["data"]["person"] == {
        "id": good,
        "resident": {
            "gender": stored("psb", "resident", "gender", "id_no", good),
            "birthDate": stored("psb", "resident", "birth", "id_no", good),
        },
    }


def test_lower_case_x_check_char_is_accepted(demo):
    with_x = next((p for p in demo.info["samples"]["persons"] if p.endswith("X")), None)
    if with_x is None:
        pytest.skip("no sample ID ends in X")
    response = demo.post(PERSON_BY_VARIABLE, {"id": with_x.lower()})
    assert "errors" not in response.json()
    assert response.json()["data"]["person"]["id"] == with_x


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (PERSON_BY_VARIABLE, {"id": 420102198704060005}),
        (ORG_BY_VARIABLE, {"code": ["91420102MA0000007H"]}),
        (ORG_BY_VARIABLE, {"code": None}),
        (ORG_BY_VARIABLE, {}),
        ("{ person(id: 420102198704060005) { id } }", {}),
    ],
    ids=["int_variable", "list_variable", "null_variable", "missing_variable", "int_literal"],
)
def test_wrongly_typed_code_is_a_client_error_not_internal(demo, query, variables):
    response = demo.post(query, variables)
    assert response.status_code == 400
    codes = [e["extensions"]["code"] for e in response.json()["errors"]]
    assert "INTERNAL" not in codes
    assert set(codes) <= {"BAD_REQUEST", "INVALID_CODE"}


# --- authentication --------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str, str, str]:
    header, payload, signature = token.split(".")
    return json.loads(_unb64(header)), json.loads(_unb64(payload)), header, payload, signature


def assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert body["errors"][0]["message"]


SIMPLE = "query($code: USCC!) { organization(code: $code) { enterpriseRegistration { name } } }"


def test_valid_token_is_accepted(demo):
    code = demo.info["samples"]["organizations"][0]
    response = demo.post(SIMPLE, {"code": code})
    assert response.status_code == 200 and "errors" not in response.json()


def test_no_authorization_header_is_unauthenticated(demo):
    code = demo.info["samples"]["organizations"][0]
    response = demo.post(SIMPLE, {"code": code}, token=None)
    assert_unauthenticated(response)
    assert "Bearer" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer  \t x", "Basic dXNlcjpwYXNz", "Token abc", "Bearer garbage", "Bearer a.b.c"],
)
def test_malformed_authorization_is_unauthenticated(demo, authorization):
    code = demo.info["samples"]["organizations"][0]
    response = httpx.post(
        demo.url,
        json={"query": SIMPLE, "variables": {"code": code}},
        headers={"Authorization": authorization, "Accept": GRAPHQL_RESPONSE, "X-Purpose": "x"},
        timeout=30,
    )
    assert_unauthenticated(response)


def test_token_with_one_signature_character_changed(demo):
    _, _, header, payload, signature = parts(demo.token("consumer"))
    index = len(signature) // 2  # not the last char: its low bits may be padding
    changed = signature[:index] + ("A" if signature[index] != "A" else "B") + signature[index + 1 :]
    assert_unauthenticated(demo.post("{ __typename }", token=f"{header}.{payload}.{changed}"))


def test_token_with_payload_changed_keeps_no_signature_valid(demo):
    _, claims, header, _, signature = parts(demo.token("consumer"))
    for change in (
        {"sub": demo.info["grant"]["consumer"]},  # pretend to be the department with a grant
        {"roles": ["operator"]},
        {"exp": claims["exp"] + 3600},
    ):
        forged = _b64(json.dumps({**claims, **change}).encode())
        assert_unauthenticated(demo.post("{ __typename }", token=f"{header}.{forged}.{signature}"))


def test_unsigned_token_is_refused(demo):
    _, claims, _, _, _ = parts(demo.token("operator"))
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    token = f"{header}.{_b64(json.dumps(claims).encode())}."
    assert_unauthenticated(demo.post("{ __typename }", token=token))


def test_token_signed_by_another_key_is_refused(demo):
    header, claims, _, _, _ = parts(demo.token("operator"))
    own = ECKey.generate_key("P-256", auto_kid=True)
    for kid in (header["kid"], own.kid, None):  # the gateway's kid, our kid, no kid
        head = {"alg": "ES256", "typ": "JWT"} | ({"kid": kid} if kid else {})
        token = jwt.encode(head, claims, own, algorithms=["ES256"])
        assert_unauthenticated(demo.post("{ __typename }", token=token))
        assert_unauthenticated(demo.post("{ catalog { profile } }", token=token, purpose=None))


def test_expired_token_is_refused(demo):
    token = demo.cli("token", "--department", AMR.code, "--roles", "consumer", "--ttl", "1").stdout.strip()
    _, claims, _, _, _ = parts(token)
    assert claims["exp"] - claims["iat"] == 1
    time.sleep(max(0.0, claims["exp"] + 1.2 - time.time()))
    response = demo.post("{ __typename }", token=token)
    assert_unauthenticated(response)
    assert "Expired" in response.json()["errors"][0]["message"]


def test_token_from_cli_is_accepted(demo):
    token = demo.cli("token", "--department", AMR.code.lower(), "--roles", "consumer").stdout.strip()
    _, claims, _, _, _ = parts(token)
    assert claims["sub"] == AMR.code and claims["roles"] == ["consumer"]
    response = demo.post("{ __typename }", token=token)
    assert response.status_code == 200


def test_introspection_without_token_is_unauthenticated(demo):
    assert_unauthenticated(demo.post(get_introspection_query(), token=None, purpose=None))
    assert_unauthenticated(demo.post('{ __type(name: "EnterpriseRegistration") { name } }', token=None))
    sdl = httpx.get(demo.url.replace("/graphql", "/schema.graphql"), timeout=30)
    assert sdl.status_code == 401
    assert sdl.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_get_without_token_is_unauthenticated(demo):
    response = httpx.get(
        demo.url, params={"query": "{ __typename }"}, headers={"Accept": GRAPHQL_RESPONSE}, timeout=30
    )
    assert_unauthenticated(response)


def test_unauthenticated_under_application_json_keeps_401(demo):
    response = demo.post("{ __typename }", token="garbage", headers={"Accept": "application/json"})
    assert response.headers["content-type"].startswith("application/json")
    assert_unauthenticated(response)


# --- the catalog ---------------------------------------------------------------------------------

CATALOG = """{ catalog {
  profile
  departments { code name }
  resources { id provider { code } items { name field share condition basis masked } }
} }"""


def test_operator_sees_the_whole_catalog_with_non_shared_items_and_basis(demo):
    response = demo.post(CATALOG, token="operator", purpose=None)
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    catalog = body["data"]["catalog"]
    assert catalog["profile"] == "hubei"
    assert AMR.code in {d["code"] for d in catalog["departments"]}
    resources = {r["id"]: r for r in catalog["resources"]}
    assert set(resources) >= {
        "amr.enterprise_registration",
        "tax.tax_credit",
        "hrss.social_insurance",
        "credit.credit_record",
        "psb.resident",
        "mca.marriage",
    }
    items = {(rid, i["name"]): i for rid, r in resources.items() for i in r["items"]}
    not_shared = {key: i for key, i in items.items() if i["share"] == "NOT_SHARED"}
    assert set(not_shared) == {
        ("amr.enterprise_registration", "inner_note"),
        ("tax.tax_credit", "audit_note"),
        ("psb.resident", "religion"),
        ("hpf.deposit", "internal_remark"),
    }
    for item in not_shared.values():
        assert item["basis"] and "第" in item["basis"]  # cites an article
    assert "第三十五条" in not_shared[("amr.enterprise_registration", "inner_note")]["basis"]
    legal_rep = items[("amr.enterprise_registration", "legal_representative")]
    assert legal_rep["share"] == "CONDITIONAL" and legal_rep["condition"]
    assert items[("psb.resident", "address")]["masked"] is True
    assert items[("amr.enterprise_registration", "name")]["share"] == "UNCONDITIONAL"
    assert resources["amr.enterprise_registration"]["provider"]["code"] == AMR.code


@pytest.mark.parametrize("who", ["consumer", "consumer_with_grant", "provider"])
def test_every_department_reads_the_published_catalog(demo, who):
    """Issue 11 section 3: the catalog, non-shared items' basis included, is every authenticated
    department's to read (it holds no data); it used to be the operators' alone."""
    response = demo.post(CATALOG, token=who, purpose=None)
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    assert body["data"] == demo.post(CATALOG, token="operator", purpose=None).json()["data"]
    assert "第三十五条" in response.text


# --- departments named in arguments ----------------------------------------------------------

AUDIT_OF = "query($d: String) { auditEvents(consumer: $d, limit: 2) { events { id } } }"  # oldest: stable
DEPARTMENT_FILTERS = {  # every argument naming a department, with the role allowed to use it
    "auditEvents.consumer": ("operator", AUDIT_OF),
    "stats.department": ("operator", "query($d: String) { stats(department: $d) { department { code } } }"),
    "applications.consumer": ("operator", "query($d: String) { applications(consumer: $d) { id } }"),
    "grants.consumer": ("operator", "query($d: String) { grants(consumer: $d) { id } }"),
    "own auditEvents": ("consumer_with_grant", AUDIT_OF),
    "own grants": ("consumer_with_grant", "query($d: String) { grants(consumer: $d) { id } }"),
}


@pytest.mark.parametrize("argument", sorted(DEPARTMENT_FILTERS))
def test_a_department_argument_takes_every_spelling_of_its_code(demo, argument):
    """A USCC is normalised wherever it is accepted (README: spaces removed, full-width folded,
    upper case): `auditEvents(consumer: "11420100mb...")` answered an empty list, `stats` said
    no such department and a consumer's own code in lower case was FORBIDDEN."""
    role, query = DEPARTMENT_FILTERS[argument]
    department = demo.info["grant"]["consumer"]  # the department holding the demo grant
    sample = demo.info["samples"]["organizations"][0]
    demo.post(ORG_BY_VARIABLE, {"code": sample}, token="consumer_with_grant")  # an event of it
    canonical = demo.post(query, {"d": department}, token=role)
    assert canonical.status_code == 200 and "errors" not in canonical.json(), canonical.text
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in department.lower())
    for spelling in (department.lower(), f" {department[:8]} {department[8:]} ", full_width):
        answer = demo.post(query, {"d": spelling}, token=role)
        assert answer.status_code == 200 and answer.json()["data"] == canonical.json()["data"], spelling
    assert canonical.json()["data"] != {"auditEvents": {"events": []}}
    refused = demo.post(query, {"d": department[:17]}, token=role)
    assert [e["extensions"]["code"] for e in refused.json()["errors"]] == ["INVALID_CODE"]
