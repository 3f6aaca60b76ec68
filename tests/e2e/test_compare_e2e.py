"""Compare / verify (比对验证) against the real demo server: ``POST /compare`` and the GraphQL
field ``compare`` (issue 8 section 1).

Stored values are read straight from the departments' SQLite files (``stored``). Every
answer of this module is kept (``SEEN``) and the last test scans those raw bytes, the
server's log and the exported audit trail for every stored value of every subject compared
here: compare answers match / mismatch, never a value, by any path.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import sqlite3
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from gateway.auth import load_signer
from tests.conftest import DEMO_PURPOSE
from tests.e2e.conftest import approve_unconditional_for, fresh_department

pytestmark = pytest.mark.e2e

AMR = "amr.enterprise_registration"
SEEN: list[bytes] = []  # every raw answer of this module, scanned at the end
COMPARED: set[tuple[str, str]] = set()  # (db, subject code) compared in this module


def url(demo: Any) -> str:
    return str(demo.url).removesuffix("/graphql") + "/compare"


def applied_department(demo: Any) -> str:
    """A consumer department of its own (its own rate window and audit events) that has
    applied for the demo's unconditional items (hubei: every use by application, art. 13)."""
    department = fresh_department()
    approve_unconditional_for(demo, department)
    return department


def fresh_token(demo: Any) -> str:
    return load_signer(demo.data_dir).issue(applied_department(demo), ["consumer"], ttl=600)


def post(
    demo: Any, body: Any, token: str | None = None, purpose: str | None = DEMO_PURPOSE, **kw: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token or demo.token('consumer')}", **kw.pop("headers", {})}
    if purpose is not None:
        headers["X-Purpose"] = quote(purpose)
    sent = {"content": body} if isinstance(body, bytes) else {"json": body}
    response = httpx.post(url(demo), headers=headers, timeout=30, **sent, **kw)
    SEEN.append(response.content)
    for one in body.get("requests", [body]) if isinstance(body, dict) else []:
        if isinstance(one, dict) and isinstance(one.get("subject"), str):
            COMPARED.add(("psb" if one.get("resource") == "psb.resident" else "amr", one["subject"].upper()))
    return response


def graphql(demo: Any, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
    response = demo.post(query, variables, token=token or "consumer")
    SEEN.append(response.content)
    return dict(response.json())


def org(demo: Any, i: int = 0) -> str:
    return str(demo.info["samples"]["organizations"][i])


def person(demo: Any, i: int = 0) -> str:
    return str(demo.info["samples"]["persons"][i])


def enterprise(stored: Callable[..., Any], code: str, column: str) -> Any:
    return stored("amr", "enterprise", column, "uscc", code)


def codes_of(errors: list[dict[str, Any]]) -> dict[str, str]:
    return {error["extensions"]["item"]: error["extensions"]["code"] for error in errors}


# --- answers -------------------------------------------------------------------------------


def test_true_claims_match_and_false_ones_mismatch(demo: Any, stored: Callable[..., Any]) -> None:
    code = org(demo)
    day = dt.date.fromisoformat(enterprise(stored, code, "reg_date"))
    claims = {
        "name": enterprise(stored, code, "ent_name"),
        "registration_date": f"{day.year}-{day.month}-{day.day}",  # a date as a value: no padding
        "registered_capital": f"{enterprise(stored, code, 'capital')}.00",  # a number as a value
        "status": "不存在的状态",
    }
    answer = post(demo, {"resource": AMR, "subject": code.lower(), "claims": claims})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["resource"] == AMR and body["subject"] == code and body["found"] is True
    assert body["items"] == {
        "name": "match",
        "registration_date": "match",
        "registered_capital": "match",
        "status": "mismatch",
    }
    assert body["errors"] == [] and body["auditId"].startswith("audit-")
    assert answer.headers["cache-control"] == "no-store"


def test_normalisation_follows_each_items_normalize(demo: Any, stored: Callable[..., Any]) -> None:
    """name has normalize [nfkc, strip]; business_scope has none: the same spelling matches
    one and not the other."""
    code = org(demo, 1)
    full_width = str.maketrans("0123456789；", "０１２３４５６７８９;")
    name, scope = enterprise(stored, code, "ent_name"), enterprise(stored, code, "scope")
    assert re.search(r"\d", name), "the demo names carry digits"
    claims = {"name": f"\u3000{name.translate(full_width)}  ", "business_scope": f" {scope} "}
    body = post(demo, {"resource": AMR, "subject": code, "claims": claims}).json()
    assert body["items"] == {"name": "match", "business_scope": "mismatch"}
    exact = post(demo, {"resource": AMR, "subject": code, "claims": {"business_scope": scope}}).json()
    assert exact["items"] == {"business_scope": "match"}


def test_an_unknown_subject_is_not_found_where_the_resource_discloses_it(demo: Any) -> None:
    unknown = _valid_unknown_uscc()
    body = post(demo, {"resource": AMR, "subject": unknown, "claims": {"name": "某公司"}}).json()
    assert body["found"] is False and body["items"] == {"name": "mismatch"} and body["errors"] == []


def _valid_unknown_uscc() -> str:
    from policies.codes import make_uscc

    return make_uscc("9", "1", "420102", "MAYYYYYY")


# --- refusals: per item, the same errors as a read ---------------------------------------------


def test_refused_items_are_absent_with_the_errors_a_read_gets(demo: Any, stored: Callable[..., Any]) -> None:
    code = org(demo, 2)
    claims = {
        "name": enterprise(stored, code, "ent_name"),
        "address": enterprise(stored, code, "address"),  # conditional, no grant
        "inner_note": enterprise(stored, code, "inner_note"),  # not shared: never compared
    }
    body = post(demo, {"resource": AMR, "subject": code, "claims": claims}).json()
    assert body["items"] == {"name": "match"}
    assert codes_of(body["errors"]) == {"address": "CONDITIONAL_ACCESS_REQUIRED", "inner_note": "NOT_SHARED"}
    by_item = {error["extensions"]["item"]: error for error in body["errors"]}
    read = graphql(demo, "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { address } } }",
                   c=code)  # fmt: skip
    read_error = read["errors"][0]["extensions"]
    compare_error = by_item["address"]["extensions"]
    assert compare_error["code"] == read_error["code"] == "CONDITIONAL_ACCESS_REQUIRED"
    same = ("resource", "item", "field", "provider", "providerName", "condition", "reason", "reasons")
    assert {k: compare_error[k] for k in same} == {k: read_error[k] for k in same}
    assert "mode compare" in by_item["address"]["message"]
    note = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { innerNote } } }"
    not_shared = graphql(demo, note, c=code)["errors"][0]["extensions"]
    assert {k: by_item["inner_note"]["extensions"][k] for k in not_shared} == not_shared


def test_a_resource_that_does_not_offer_compare_is_mode_not_allowed(demo: Any) -> None:
    body = post(demo, {"resource": "hrss.social_insurance", "subject": org(demo),
                       "claims": {"insured_employees": "10"}}).json()  # fmt: skip
    assert body["items"] == {} and codes_of(body["errors"]) == {"insured_employees": "MODE_NOT_ALLOWED"}
    assert "found" not in body  # nothing was compared: not even whether the subject exists


def test_compare_unconditional_opens_comparing_not_reading(demo: Any, stored: Callable[..., Any]) -> None:
    """legal_representative is conditional for reading, ``compare: unconditional``."""
    code = org(demo, 3)
    token = fresh_token(demo)
    rep = enterprise(stored, code, "legal_rep")
    body = post(
        demo, {"resource": AMR, "subject": code, "claims": {"legal_representative": rep}}, token
    ).json()
    assert body["items"] == {"legal_representative": "match"} and body["errors"] == []
    read = graphql(demo, "query($c: USCC!) { organization(code: $c) { enterpriseRegistration "
                   "{ legalRepresentative } } }", token, c=code)  # fmt: skip
    assert read["errors"][0]["extensions"]["code"] == "CONDITIONAL_ACCESS_REQUIRED"
    assert rep not in json.dumps(read, ensure_ascii=False)


def test_a_conditional_item_needs_a_grant_covering_compare(
    demo: Any, stored: Callable[..., Any], grant_to: Callable[..., Any]
) -> None:
    code = org(demo, 4)
    address = enterprise(stored, code, "address")
    request = {"resource": AMR, "subject": code, "claims": {"address": address}}
    query_only = grant_to(AMR, "address", DEMO_PURPOSE, modes="query")
    refused = post(demo, request, query_only.token).json()
    assert refused["items"] == {} and codes_of(refused["errors"]) == {
        "address": "CONDITIONAL_ACCESS_REQUIRED"
    }
    compare_only = grant_to(AMR, "address", DEMO_PURPOSE, modes="compare")
    allowed = post(demo, request, compare_only.token).json()
    assert allowed["items"] == {"address": "match"} and allowed["errors"] == []
    wrong = post(demo, {**request, "claims": {"address": address + "1号"}}, compare_only.token).json()
    assert wrong["items"] == {"address": "mismatch"}
    read = graphql(demo, "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { address } } }",
                   compare_only.token, c=code)  # fmt: skip
    assert read["errors"][0]["extensions"]["code"] == "CONDITIONAL_ACCESS_REQUIRED"  # compare is not read
    other_purpose = post(demo, request, compare_only.token, purpose="别的用途").json()
    assert other_purpose["errors"][0]["extensions"]["reason"] == "purpose"


def test_an_expired_compare_grant_is_grant_expired(demo: Any, grant_to: Callable[..., Any]) -> None:
    now = dt.datetime.now(dt.UTC)
    expired = grant_to(AMR, "address", DEMO_PURPOSE, modes="compare",
                       valid_from=now - dt.timedelta(days=3), until=now - dt.timedelta(days=1))  # fmt: skip
    body = post(
        demo, {"resource": AMR, "subject": org(demo), "claims": {"address": "x"}}, expired.token
    ).json()
    assert codes_of(body["errors"]) == {"address": "GRANT_EXPIRED"}


def test_match_only_hides_whether_a_subject_exists(demo: Any, stored: Callable[..., Any]) -> None:
    """psb.resident: compare_disclosure match_only. An unknown citizen ID answers mismatch
    for every item and no ``found``, exactly like a known one with wrong claims."""
    token = fresh_token(demo)
    known = person(demo)
    name = stored("psb", "resident", "full_name", "id_no", known)
    from policies.codes import make_citizen_id

    unknown = make_citizen_id("420102", dt.date(1931, 2, 3), "999")
    claims = {"name": name, "gender": "男"}
    answers = post(demo, {"requests": [
        {"resource": "psb.resident", "subject": known, "claims": claims},
        {"resource": "psb.resident", "subject": unknown, "claims": claims},
        {"resource": "psb.resident", "subject": known, "claims": {"name": name + "某", "gender": "无"}},
    ]}, token).json()["results"]  # fmt: skip
    assert answers[0]["items"]["name"] == "match" and "found" not in answers[0]
    assert answers[1]["items"] == {"name": "mismatch", "gender": "mismatch"}
    assert set(answers[1]) == set(answers[2]) and answers[1]["items"] == answers[2]["items"]
    assert all("found" not in answer for answer in answers)


def test_the_subjects_key_is_never_claimed(demo: Any) -> None:
    """The key holds the subject's own code: under match_only a claim of it would match
    exactly when the subject is on record. Refused as bad input on every path."""
    known, code = person(demo), org(demo)
    single = post(demo, {"resource": "psb.resident", "subject": known, "claims": {"id_number": known}})
    assert single.status_code == 400, single.text
    assert single.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST", "field": "claims.id_number"}
    batch = post(demo, {"requests": [
        {"resource": AMR, "subject": code, "claims": {"name": "x"}},
        {"resource": AMR, "subject": code, "claims": {"name": "x", "uscc": code}},
    ]})  # fmt: skip
    assert batch.status_code == 400
    assert batch.json()["errors"][0]["extensions"]["field"] == "requests[1].claims.uscc"
    query = """query($s: String!) {
      compare(resource: "psb.resident", subject: $s, claims: {id_number: $s}) { items { outcome } } }"""
    answer = graphql(demo, query, s=known)
    assert answer["data"] == {"compare": None}
    assert answer["errors"][0]["extensions"]["field"] == "claims.id_number"


# --- batch, audit -------------------------------------------------------------------------------


def operator_events(demo: Any, consumer: str) -> list[dict[str, Any]]:
    query = """query($c: String) { auditEvents(consumer: $c, limit: 100) { events {
      id kind mode outcome consumer subjects items resources decisions detail responseDigest } } }"""
    answer = graphql(demo, query, "operator", c=consumer)
    return list(answer["data"]["auditEvents"]["events"])


def test_a_batch_answers_in_order_with_one_audit_event(demo: Any, stored: Callable[..., Any]) -> None:
    consumer = applied_department(demo)
    token = load_signer(demo.data_dir).issue(consumer, ["consumer"], ttl=600)
    a, b, c = org(demo, 5), org(demo, 6), org(demo, 7)
    requests = [
        {"resource": "tax.tax_credit", "subject": b, "claims": {"credit_rating": "Z", "audit_note": "x"}},
        {"resource": AMR, "subject": a, "claims": {"name": enterprise(stored, a, "ent_name")}},
        {"resource": AMR, "subject": c, "claims": {"name": "某"}},
    ]
    body = post(demo, {"requests": requests}, token).json()
    results = body["results"]
    assert [(r["resource"], r["subject"]) for r in results] == [("tax.tax_credit", b), (AMR, a), (AMR, c)]
    assert [r["items"] for r in results] == [
        {"credit_rating": "mismatch"},
        {"name": "match"},
        {"name": "mismatch"},
    ]
    assert codes_of(results[0]["errors"]) == {"audit_note": "NOT_SHARED"}
    assert {r["auditId"] for r in results} == {body["auditId"]}
    events = operator_events(demo, consumer)
    assert [event["id"] for event in events] == [body["auditId"]]  # one event for the batch
    event = events[0]
    assert (event["kind"], event["mode"], event["outcome"]) == ("compare", "compare", "partly_refused")
    assert event["subjects"] == [b, a, c] and event["resources"] == [AMR, "tax.tax_credit"]
    assert event["decisions"] == {f"{AMR}.name": "ALLOWED", "tax.tax_credit.credit_rating": "ALLOWED",
                                  "tax.tax_credit.audit_note": "NOT_SHARED"}  # fmt: skip
    assert [r["items"] for r in event["detail"]["results"]] == [r["items"] for r in results]
    assert event["responseDigest"]


def test_the_graphql_field_is_the_same_operation(demo: Any, stored: Callable[..., Any]) -> None:
    consumer = applied_department(demo)
    token = load_signer(demo.data_dir).issue(consumer, ["consumer"], ttl=600)
    code = org(demo, 8)
    query = """query($s: String!, $c: JSON!) { compare(resource: "amr.enterprise_registration",
      subject: $s, claims: $c) { resource subject found auditId items { item outcome } } }"""
    claims = {"name": enterprise(stored, code, "ent_name"), "inner_note": "x", "status": "无"}
    answer = graphql(demo, query, token, s=code.lower(), c=claims)
    found = answer["data"]["compare"]
    assert found["subject"] == code and found["found"] is True
    assert found["items"] == [{"item": "name", "outcome": "MATCH"}, {"item": "inner_note", "outcome": None},
                              {"item": "status", "outcome": "MISMATCH"}]  # fmt: skip
    (error,) = answer["errors"]
    assert error["path"] == ["compare", "items", 1, "outcome"] and error["extensions"]["code"] == "NOT_SHARED"
    events = operator_events(demo, consumer)
    # the refusals are the compare event's: no query event says inner_note was asked to be read
    assert [(e["id"], e["kind"]) for e in events] == [(found["auditId"], "compare")], events
    bad = graphql(demo, query, token, s=code, c={"name": 1})
    assert bad["data"] == {"compare": None}
    assert bad["errors"][0]["extensions"] == {"code": "BAD_REQUEST", "field": "claims.name"}


def test_a_graphql_variable_with_a_key_sent_twice_is_refused(demo: Any) -> None:
    """The GraphQL path of a claim sent twice (in a JSON variable): 400 naming it, by POST
    (single and batch) and by GET, before anything is compared."""
    query = """query($c: JSON!) { compare(resource: "amr.enterprise_registration",
      subject: "91420102MA0000007H", claims: $c) { items { outcome } } }"""
    twice = '{"legal_representative": "a", "legal_representative": "b"}'
    headers = {"Authorization": f"Bearer {demo.token('consumer')}", "X-Purpose": quote(DEMO_PURPOSE),
               "Accept": "application/graphql-response+json"}  # fmt: skip
    single = f'{{"query": {json.dumps(query)}, "variables": {{"c": {twice}}}}}'.encode()
    as_json = {**headers, "Content-Type": "application/json"}
    sent = [
        httpx.post(str(demo.url), content=body, headers=as_json, timeout=30)
        for body in (single, b"[" + single + b"]")
    ]
    sent.append(httpx.get(str(demo.url), params={"query": query, "variables": f'{{"c": {twice}}}'},
                          headers=headers, timeout=30))  # fmt: skip
    fields = ["variables.c.legal_representative", "[0].variables.c.legal_representative",
              "variables.c.legal_representative"]  # fmt: skip
    for answer, field in zip(sent, fields, strict=True):
        SEEN.append(answer.content)
        assert answer.status_code == 400, answer.text
        (error,) = answer.json()["errors"]
        assert error["extensions"] == {"code": "BAD_REQUEST", "field": field}


def test_compare_is_never_sent_in_a_url(demo: Any) -> None:
    """GraphQL over HTTP lets a query come by GET, but a claim that matches IS the stored
    value, and a URL's query string is written to the access logs of every proxy on the way
    and to browser histories: the compare field by GET is refused, nothing is compared."""
    consumer = fresh_department()
    token = load_signer(demo.data_dir).issue(consumer, ["consumer"], ttl=600)
    query = """query($c: JSON!) { compare(resource: "amr.enterprise_registration",
      subject: "91420102MA0000007H", claims: $c) { items { outcome } } }"""
    params = {"query": query, "variables": '{"c": {"name": "x"}}'}
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(DEMO_PURPOSE)}
    answer = httpx.get(str(demo.url), params=params, headers=headers, timeout=30)
    SEEN.append(answer.content)
    body = answer.json()
    assert body["data"] == {"compare": None}, body
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST" and "POST" in body["errors"][0]["message"]
    assert [e for e in operator_events(demo, consumer) if e["kind"] == "compare"] == []


def test_the_schema_has_the_compare_field(demo: Any) -> None:
    sdl = httpx.get(str(demo.url).replace("/graphql", "/schema.graphql"), timeout=10,
                    headers={"Authorization": f"Bearer {demo.token('consumer')}"}).text  # fmt: skip
    assert "compare(resource: String!, subject: String!, claims: JSON!): CompareResult" in sdl


def test_the_operators_catalog_shows_the_compare_settings(demo: Any) -> None:
    query = "{ catalog { resources { id modes compareDisclosure items { name compare normalize } } } }"
    resources = {r["id"]: r for r in graphql(demo, query, "operator")["data"]["catalog"]["resources"]}
    assert resources["psb.resident"]["compareDisclosure"] == "match_only"
    assert resources[AMR]["compareDisclosure"] == "full" and "COMPARE" in resources[AMR]["modes"]
    items = {i["name"]: i for i in resources[AMR]["items"]}
    assert items["legal_representative"]["compare"] == "UNCONDITIONAL" and items["address"]["compare"] is None
    assert items["name"]["normalize"] == ["nfkc", "strip"]


# --- whole-request refusals -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"resource": "amr.nothing", "subject": "x", "claims": {"a": "b"}}, 400, "BAD_REQUEST", "resource"),
        ({"resource": AMR, "subject": "91420102MA0000007X", "claims": {"name": "b"}}, 400, "INVALID_CODE",
         "subject"),
        ({"resource": AMR, "subject": 91420102, "claims": {"name": "b"}}, 400, "BAD_REQUEST", "subject"),
        ({"resource": AMR, "subject": "{org}", "claims": {"nosuch": "b"}}, 400, "BAD_REQUEST",
         "claims.nosuch"),
        ({"resource": AMR, "subject": "{org}", "claims": {"name": 1000}}, 400, "BAD_REQUEST", "claims.name"),
        ({"resource": AMR, "subject": "{org}", "claims": {"name": None}}, 400, "BAD_REQUEST", "claims.name"),
        ({"resource": AMR, "subject": "{org}", "claims": {}}, 400, "BAD_REQUEST", "claims"),
        ({"resource": AMR, "subject": "{org}", "claims": ["name"]}, 400, "BAD_REQUEST", "claims"),
        ({"resource": AMR, "subject": "{org}", "claims": {"name": "x" * 1001}}, 400, "BAD_REQUEST",
         "claims.name"),
        ({"resource": AMR, "subject": "{org}", "claims": {"name": "a"}, "extra": 1}, 400, "BAD_REQUEST",
         "extra"),
        (["not", "an", "object"], 400, "BAD_REQUEST", "(body)"),
        ({"requests": []}, 400, "BAD_REQUEST", "requests"),
        ({"requests": {"a": 1}}, 400, "BAD_REQUEST", "requests"),
        ({"requests": [{"resource": AMR, "subject": "{org}", "claims": {"name": "a"}}, 5]}, 400,
         "BAD_REQUEST", "requests[1]"),
        ({"requests": [{"resource": AMR, "subject": "{org}", "claims": {"name": 5}}]}, 400, "BAD_REQUEST",
         "requests[0].claims.name"),
        (b"{not json", 400, "BAD_REQUEST", "(body)"),
        # a key twice: which claim was compared would be the parser's choice, not the sender's
        (b'{"resource": "amr.enterprise_registration", "subject": "{org}", '
         b'"claims": {"name": "a", "name": "b"}}', 400, "BAD_REQUEST", "claims.name"),
        (b'{"resource": "psb.resident", "resource": "amr.enterprise_registration", "subject": "{org}", '
         b'"claims": {"name": "a"}}', 400, "BAD_REQUEST", "resource"),
        (b'{"requests": [{"resource": "amr.enterprise_registration", "subject": "{org}", '
         b'"claims": {"name": "a"}}], "requests": []}', 400, "BAD_REQUEST", "requests"),
    ],
)  # fmt: skip
def test_bad_input_is_a_4xx_naming_the_field(
    demo: Any, body: Any, status: int, code: str, field: str
) -> None:
    if isinstance(body, bytes):
        body = body.replace(b"{org}", org(demo).encode())
    else:
        body = json.loads(json.dumps(body).replace("{org}", org(demo)))
    answer = post(demo, body, headers={"Content-Type": "application/json"})
    assert answer.status_code == status, answer.text
    (error,) = answer.json()["errors"]
    assert error["extensions"]["code"] == code and error["extensions"]["field"] == field
    assert field in error["message"] or field == "(body)"


def test_too_many_requests_in_a_batch_is_refused_whole(demo: Any) -> None:
    one = {"resource": AMR, "subject": org(demo), "claims": {"name": "a"}}
    answer = post(demo, {"requests": [one] * 1001})
    assert answer.status_code == 400
    extensions = answer.json()["errors"][0]["extensions"]
    assert extensions["code"] == "QUERY_TOO_COMPLEX" and extensions["maximum"] == 1000
    assert extensions["variable"] == "GOVSHARE_COMPARE_MAX_BATCH"


def test_whole_request_refusals(demo: Any) -> None:
    request = {"resource": AMR, "subject": org(demo), "claims": {"name": "a"}}
    assert post(demo, request, purpose=None).json()["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"
    unauthenticated = post(demo, request, token="not-a-token")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    as_text = post(demo, json.dumps(request).encode(), headers={"Content-Type": "text/plain"})
    assert as_text.status_code == 415
    assert httpx.get(url(demo), timeout=10).status_code == 405


def test_the_rate_limit_answers_429_with_retry_after(demo: Any) -> None:
    """psb.resident: compare_rate {per_second: 5, burst: 10} in the demo catalog."""
    consumer = applied_department(demo)
    token = load_signer(demo.data_dir).issue(consumer, ["consumer"], ttl=600)
    one = {"resource": "psb.resident", "subject": person(demo, 1), "claims": {"gender": "男"}}
    assert post(demo, {"requests": [one] * 10}, token).status_code == 200
    refused = post(demo, one, token)
    assert refused.status_code == 429
    retry = int(refused.headers["Retry-After"])
    assert 1 <= retry <= 2  # a window of 10 subjects per 2 s
    extensions = refused.json()["errors"][0]["extensions"]
    assert extensions["code"] == "RATE_LIMITED" and extensions["retryAfter"] == retry
    other = post(demo, {"resource": AMR, "subject": org(demo), "claims": {"name": "a"}}, token)
    assert other.status_code == 200  # the limit is per resource
    query = 'query($s: String!) { compare(resource: "psb.resident", subject: $s, claims: {gender: "男"}) '
    query += "{ found } }"
    field = graphql(demo, query, token, s=person(demo, 1))  # the same limiter behind the field
    assert field["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    too_big = post(demo, {"requests": [one] * 11}, fresh_token(demo))
    assert too_big.status_code == 400
    assert too_big.json()["errors"][0]["extensions"]["limit"] == "compare_burst"
    refusals = [e for e in operator_events(demo, consumer) if e["outcome"] == "refused"]
    assert refusals and refusals[0]["kind"] == "compare"
    assert refusals[0]["decisions"]["request"] == "RATE_LIMITED"


def test_a_conditional_item_cannot_be_learned_by_claiming_value_after_value(
    demo: Any, stored: Callable[..., Any]
) -> None:
    """legal_representative is conditional (reading needs a grant) but ``compare:
    unconditional``. A department without a grant that claims name after name (the demo's
    names come from ~10,000 combinations: 200 s at the compare rate) would learn it: after
    GOVSHARE_COMPARE_GUESSES (10) mismatching claims of one item of one subject in an hour,
    that item of that subject is refused (RATE_LIMITED, reason compare_guesses), before any
    source is asked. A true claim costs nothing; other subjects and unconditional items
    keep their own budgets."""
    token = fresh_token(demo)
    code, other = org(demo, 3), org(demo, 4)
    truth = enterprise(stored, code, "legal_rep")
    guesses = [{"resource": AMR, "subject": code, "claims": {"legal_representative": f"某{i}", "name": "x"}}
               for i in range(11)]  # fmt: skip
    answers = post(demo, {"requests": guesses}, token).json()["results"]  # one batch: the same budget
    assert all(a["items"]["legal_representative"] == "mismatch" for a in answers[:10])
    assert answers[10]["items"] == {"name": "mismatch"}
    assert answers[10]["errors"][0]["extensions"]["reasons"] == ["compare_guesses"]
    claim = {"resource": AMR, "subject": code, "claims": {"legal_representative": truth, "name": "x"}}
    refused = post(demo, claim, token).json()
    assert refused["items"] == {"name": "mismatch"}, refused  # even the true value: the budget is spent
    (error,) = refused["errors"]
    assert (
        error["extensions"]["code"] == "RATE_LIMITED"
        and error["extensions"]["item"] == "legal_representative"
    )
    assert error["extensions"]["reasons"] == ["compare_guesses"] and truth not in json.dumps(refused)
    query = """query($s: String!, $c: JSON!) { compare(resource: "amr.enterprise_registration", subject: $s,
      claims: $c) { items { item outcome } } }"""
    field = graphql(demo, query, token, s=code, c={"legal_representative": truth})
    assert field["errors"][0]["extensions"]["reasons"] == ["compare_guesses"]  # the same budget
    fresh = post(demo, {**claim, "subject": other, "claims": {"legal_representative": "某"}}, token).json()
    assert fresh["items"] == {"legal_representative": "mismatch"}  # another subject: its own budget
    honest = fresh_token(demo)
    for _ in range(12):  # true claims cost nothing
        again = post(demo, {**claim, "claims": {"legal_representative": truth}}, honest).json()
    assert again["items"] == {"legal_representative": "match"}


# --- the key negative test: no stored value anywhere ------------------------------------------------


def _stored_values(demo: Any) -> set[str]:
    """Every stored value of every subject compared in this module (texts of 2+ characters,
    numbers, dates), read straight from the SQLite files."""
    found: set[str] = set()
    tables = {"amr": ("enterprise", "uscc"), "psb": ("resident", "id_no")}
    for db, code in COMPARED:
        table, key = tables[db]
        uri = f"file:{demo.data_dir / (db + '.db')}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute(f"SELECT * FROM {table} WHERE {key} = ?", (code,)).fetchone()
        if row is None:
            continue
        columns = [c for c in row.keys() if c not in (key, "updated_at")]  # noqa: SIM118 (sqlite3.Row)
        found.update(str(row[c]) for c in columns if row[c] is not None)
    return {value for value in found if len(value) >= 2 and value not in ("男", "女", "0", "1")}


def test_no_stored_value_in_any_answer_log_or_audit_event(demo: Any) -> None:
    values = _stored_values(demo)
    assert len(values) > 20, "the module compared subjects with stored values"
    exported = demo.cli("audit", "export").stdout.encode()
    log = (demo.data_dir / "server.log").read_bytes()
    assert b'"/compare"' in log  # the log has the compare requests
    assert b'"kind":"compare"' in exported.replace(b" ", b"")
    for where, raw in (("answers", b"\n".join(SEEN)), ("log", log), ("audit", exported)):
        text = raw.decode("utf-8", "replace")
        for value in values:
            escaped = json.dumps(value)[1:-1]  # as an ASCII-only JSON writer would write it
            assert escaped == value or escaped not in text, (where, value)
            if value.isdigit():  # a number: only as a whole token, not inside a digest or an id
                assert not re.search(rf"(?<![0-9a-zA-Z]){value}(?![0-9a-zA-Z])", text), (where, value)
            else:
                assert value not in text, (where, value)
