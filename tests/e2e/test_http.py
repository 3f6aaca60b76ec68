"""GraphQL over HTTP: GET and POST, media types, status codes, GraphiQL, SDL and JWKS."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from gateway.demo import AMR

pytestmark = pytest.mark.e2e

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
REGISTRATION = (
    "query Reg($code: USCC!) { organization(code: $code) { enterpriseRegistration { name status } } }"
)


def headers(demo: Any, who: str = "consumer", accept: str = GRAPHQL_RESPONSE) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {demo.token(who)}",
        "X-Purpose": quote("行政审批核验"),
        "Accept": accept,
        "X-Voucher": "off",  # vouchers have their own tests
    }


def get(demo: Any, params: dict[str, str], accept: str = GRAPHQL_RESPONSE) -> httpx.Response:
    return httpx.get(demo.url, params=params, headers=headers(demo, accept=accept), timeout=30)


def post_raw(demo: Any, content: bytes, content_type: str, accept: str = GRAPHQL_RESPONSE) -> httpx.Response:
    sent = {**headers(demo, accept=accept), "Content-Type": content_type}
    return httpx.post(demo.url, content=content, headers=sent, timeout=30)


def bad_request(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_REQUEST"], body
    assert body["errors"][0]["message"]
    return dict(body)


# --- GET ------------------------------------------------------------------------------------


def test_get_with_query_parameters_answers(demo, stored):
    code = demo.info["samples"]["organizations"][0]
    response = get(demo, {"query": REGISTRATION, "variables": json.dumps({"code": code})})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json() == {
        "data": {
            "organization": {
                "enterpriseRegistration": {
                    "name": stored("amr", "enterprise", "ent_name", "uscc", code),
                    "status": stored("amr", "enterprise", "status", "uscc", code),
                }
            }
        }
    }


def test_get_with_operation_name_runs_that_operation(demo):
    code = demo.info["samples"]["organizations"][1]
    document = REGISTRATION + " query Other { __typename }"
    answered = get(demo, {"query": document, "operationName": "Other"})
    assert answered.json() == {"data": {"__typename": "Query"}}
    answered = get(
        demo,
        {"query": document, "operationName": "Reg", "variables": json.dumps({"code": code})},
    )
    assert answered.json()["data"]["organization"]["enterpriseRegistration"]["name"]


def test_get_with_malformed_variables_is_bad_request(demo):
    bad_request(get(demo, {"query": REGISTRATION, "variables": "{not json"}))
    bad_request(get(demo, {"query": REGISTRATION, "variables": "[1, 2]"}))


def test_get_without_query_is_bad_request(demo):
    bad_request(get(demo, {}))


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
def test_mutation_over_get_is_405(demo, accept):
    response = get(demo, {"query": "mutation { __typename }"}, accept=accept)
    body = bad_request(response, status=405)
    assert "POST" in body["errors"][0]["message"]
    assert response.headers["content-type"].startswith(accept)


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
def test_a_subscription_over_post_is_a_bad_request_not_405(demo, accept):
    """Found by outside testing: POST of "subscription { x }" answered 405 "only queries
    may be sent with GET; use POST". The schema has no subscription root: a request error
    (GraphQL spec 6.1, GraphQL over HTTP: 400), and POST is the right method."""
    document = json.dumps({"query": "subscription S { x }"}).encode()
    body = bad_request(post_raw(demo, document, JSON, accept=accept), status=400)
    message = body["errors"][0]["message"]
    assert "subscription" in message and "GET" not in message


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
def test_a_405_names_the_method_that_is_allowed(demo, accept):
    """RFC 9110 section 15.5.6: a 405 MUST carry Allow with the methods that would work."""
    response = get(demo, {"query": "mutation { __typename }"}, accept=accept)
    assert response.status_code == 405 and response.headers["allow"] == "POST"


def test_head_is_get_without_a_body(demo):
    """RFC 9110 section 9.3.2: HEAD answers as GET would (status and headers), without content;
    it used to be read as a POST without a media type (415)."""
    params = {"query": "{ __typename }"}
    sent = headers(demo)
    as_get = httpx.get(demo.url, params=params, headers=sent, timeout=30)
    as_head = httpx.head(demo.url, params=params, headers=sent, timeout=30)
    assert (as_head.status_code, as_head.headers["content-type"]) == (200, as_get.headers["content-type"])
    assert as_head.content == b""
    mutation = httpx.head(demo.url, params={"query": "mutation { __typename }"}, headers=sent, timeout=30)
    assert mutation.status_code == 405 and mutation.headers["allow"] == "POST"


@pytest.mark.parametrize(
    ("accept", "media"),
    [(f"{GRAPHQL_RESPONSE};q=0, {JSON}", JSON), (f"{JSON}, {GRAPHQL_RESPONSE};q=0.5", JSON),
     (f"{JSON};q=0.5, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE)],
)  # fmt: skip
def test_the_answer_is_in_the_accepted_type_of_highest_priority(demo, accept, media):
    response = get(demo, {"query": "{ __typename }"}, accept=accept)
    assert response.status_code == 200 and response.headers["content-type"].startswith(media)


def test_mutation_over_post_is_executed(demo):
    """Mutations go by POST only: the same document that GET refuses is answered."""
    document = json.dumps({"query": "mutation { __typename }"}).encode()
    response = post_raw(demo, document, JSON)
    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Mutation"}


# --- POST bodies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{ __typename }", "application/graphql"),
        (b"{ __typename }", "text/plain"),
        (b"query=%7B__typename%7D", "application/x-www-form-urlencoded"),
        # the media type is parsed, not searched for "json" (GraphQL over HTTP: application/json)
        (b'{"query": "{ __typename }"}', "text/plain; a=json"),
        (b'{"query": "{ __typename }"}', "application/jsonx"),
        (b'{"query": "{ __typename }"}', "application/graphql+json"),
        (b'{"query": "{ __typename }"}', "text/json"),
        (b'{"query": "{ __typename }"}', "application/json-patch+json"),
        # JSON is UTF-8 (RFC 8259 section 8.1): any other charset is refused, not guessed at
        (b'{"query": "{ __typename }"}', "application/json; charset=iso-8859-1"),
        (b'{"query": "{ __typename }"}', "application/json; charset=utf-16"),
    ],
)
def test_non_json_post_is_unsupported_media_type(demo, content, content_type):
    response = post_raw(demo, content, content_type)
    assert response.status_code == 415, response.text
    body = response.json()
    assert "data" not in body  # not executed
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNSUPPORTED_MEDIA_TYPE"]
    assert "application/json" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "APPLICATION/JSON", "application/json; charset=utf-8",
     'application/json;charset="UTF-8"', "application/json ; charset=utf8", "application/json; v=1"],
)  # fmt: skip
def test_json_with_parameters_is_executed(demo, content_type):
    response = post_raw(demo, json.dumps({"query": "{ __typename }"}).encode(), content_type)
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "content",
    [b'{"query": ', b"not json at all", b"", b'{"query": "{ __typename }",}'],
    ids=["truncated", "text", "empty", "trailing_comma"],
)
@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
def test_malformed_json_is_bad_request(demo, content, accept):
    body = bad_request(post_raw(demo, content, JSON, accept=accept))
    assert "JSON" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "params",
    [5, "query", {"query": 5}, {"variables": {}}, {"query": "{ __typename }", "variables": [1]}, []],
    ids=["number", "string", "query_not_string", "no_query", "variables_not_object", "empty_batch"],
)
def test_json_of_the_wrong_shape_is_bad_request(demo, params):
    bad_request(post_raw(demo, json.dumps(params).encode(), JSON))


def test_oversized_batch_is_refused_by_the_batch_limit(demo):
    batch = [{"query": "{ __typename }"}] * 21
    response = post_raw(demo, json.dumps(batch).encode(), JSON)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert (error["extensions"]["limit"], error["extensions"]["maximum"]) == ("max_batch", 20)
    assert "20" in error["message"]


def test_batch_answers_a_list_in_order(demo):
    code = demo.info["samples"]["organizations"][2]
    batch = [
        {"query": "{ __typename }"},
        {"query": REGISTRATION, "variables": {"code": code}},
        {"query": "{ nope }"},
    ]
    response = post_raw(demo, json.dumps(batch).encode(), JSON)
    assert response.status_code == 200
    first, second, third = response.json()
    assert first == {"data": {"__typename": "Query"}}
    assert second["data"]["organization"]["enterpriseRegistration"]["name"]
    assert "data" not in third  # failed validation: never executed
    assert [e["extensions"]["code"] for e in third["errors"]] == ["BAD_REQUEST"]


# --- GraphQL errors and media types -----------------------------------------------------------------


def test_syntax_error_is_400_under_graphql_response_json(demo):
    response = post_raw(demo, json.dumps({"query": "{ organization(code: "}).encode(), JSON)
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = bad_request(response, status=400)
    assert "data" not in body  # GraphQL spec 7.1.2: no data entry when execution never began
    assert body["errors"][0]["message"].startswith("Syntax Error")
    assert body["errors"][0]["locations"] == [{"line": 1, "column": 22}]


def test_syntax_error_is_200_under_application_json(demo):
    response = post_raw(demo, json.dumps({"query": "{ organization(code: "}).encode(), JSON, accept=JSON)
    assert response.headers["content-type"].startswith(JSON)
    body = bad_request(response, status=200)
    assert "data" not in body
    assert body["errors"][0]["message"].startswith("Syntax Error")


def test_default_media_type_is_application_json(demo):
    sent = {"Authorization": f"Bearer {demo.token('consumer')}"}
    response = httpx.post(demo.url, json={"query": "{ nope }"}, headers=sent, timeout=30)
    assert response.headers["content-type"].startswith(JSON)
    assert "data" not in bad_request(response, status=200)


def test_unknown_field_is_a_validation_error(demo):
    response = post_raw(demo, json.dumps({"query": "{ nope }"}).encode(), JSON)
    body = bad_request(response, status=400)
    assert "nope" in body["errors"][0]["message"]


@pytest.mark.parametrize("batched", [False, True])
def test_unknown_operation_name_is_bad_request(demo, batched):
    operation = {"query": "query A { __typename }", "operationName": "Nope"}
    response = post_raw(demo, json.dumps([operation] if batched else operation).encode(), JSON)
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    answer = body[0] if batched else body
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["BAD_REQUEST"]
    assert response.status_code == (200 if batched else 400)


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
@pytest.mark.parametrize(
    "document",
    [
        "query A { __typename } query B { __typename }",
        "query A { __typename } query B { __typename } query C { __typename }",
        "query A { __typename } mutation B { __typename }",
        "mutation B { __typename } query A { __typename }",
    ],
    ids=["two_queries", "three_queries", "query_first", "mutation_first"],
)
def test_several_operations_without_operation_name_is_a_request_error(demo, accept, document):
    """GraphQL spec 6.1 GetOperation: several operations and no name is a request error;
    nothing runs, so the answer has no data entry, and it is 400 under either media type."""
    response = post_raw(demo, json.dumps({"query": document}).encode(), JSON, accept=accept)
    body = bad_request(response, status=400)
    assert "data" not in body
    assert "operationName" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "document",
    ["mutation B { __typename } query A { __typename }", "query A { __typename } query B { b: __typename }"],
)
def test_several_operations_by_get_without_operation_name_is_400(demo, document):
    """The operation is picked before its type is checked: the missing name is the fault."""
    body = bad_request(get(demo, {"query": document}))
    assert "data" not in body and "operationName" in body["errors"][0]["message"]


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
@pytest.mark.parametrize("batched", [False, True])
def test_several_operations_with_operation_name_runs_that_one(demo, accept, batched):
    operation = {"query": "query A { a: __typename } query B { b: __typename }", "operationName": "B"}
    response = post_raw(demo, json.dumps([operation] if batched else operation).encode(), JSON, accept=accept)
    assert response.status_code == 200
    assert response.json() == ([{"data": {"b": "Query"}}] if batched else {"data": {"b": "Query"}})


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
@pytest.mark.parametrize(
    ("name", "value"),
    [("operationName", {"obj": "ect"}), ("operationName", 0), ("operationName", False),
     ("operationName", ["A"]), ("extensions", "string"), ("extensions", 0), ("extensions", True),
     ("extensions", ["array"]), ("variables", "string"), ("variables", 1)],
)  # fmt: skip
def test_request_parameters_of_the_wrong_json_type_are_400(demo, accept, name, value):
    """GraphQL over HTTP "Request parameters": operationName a string, variables and
    extensions maps; any other JSON type is a malformed request (400, not executed)."""
    params = {"query": "query A { __typename }", name: value}
    body = bad_request(post_raw(demo, json.dumps(params).encode(), JSON, accept=accept))
    assert "data" not in body
    assert name in body["errors"][0]["message"]


@pytest.mark.parametrize("extensions", ['"string"', "0", "[1]", "{not json"])
def test_get_extensions_parameter_must_be_a_json_object(demo, extensions):
    body = bad_request(get(demo, {"query": "{ __typename }", "extensions": extensions}))
    assert "extensions" in body["errors"][0]["message"]


def test_null_and_object_parameters_are_accepted(demo):
    params = {"query": "query A { __typename }", "operationName": None, "variables": None,
              "extensions": {"any": "map"}}  # fmt: skip
    response = post_raw(demo, json.dumps(params).encode(), JSON)
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
@pytest.mark.parametrize(
    "variables",
    [{}, {"code": 5}, {"code": None}, {"code": "not-a-uscc"}],
    ids=["missing", "number", "null", "invalid_code"],
)
def test_variable_coercion_failure_has_no_data_entry(demo, accept, variables):
    """Coercing variables happens before execution (spec 6.1.2): a failure is a request error."""
    params = {"query": REGISTRATION, "variables": variables}
    response = post_raw(demo, json.dumps(params).encode(), JSON, accept=accept)
    assert response.status_code == (400 if accept == GRAPHQL_RESPONSE else 200), response.text
    body = response.json()
    assert "data" not in body
    assert body["errors"] and all(e["extensions"]["code"] for e in body["errors"])


def test_purpose_header_as_raw_utf8_is_understood(demo, stored):
    """curl sends UTF-8 bytes as they are; percent-encoded UTF-8 works too (demo.post)."""
    code = demo.info["samples"]["organizations"][3]
    query = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { legalRepresentative } } }"
    response = httpx.post(
        demo.url,
        json={"query": query, "variables": {"c": code}},
        headers={
            "Authorization": f"Bearer {demo.token('consumer_with_grant')}",
            "X-Purpose": "行政审批核验".encode(),
        },
        timeout=30,
    )
    body = response.json()
    assert "errors" not in body, body
    assert body["data"]["organization"]["enterpriseRegistration"]["legalRepresentative"] == stored(
        "amr", "enterprise", "legal_rep", "uscc", code
    )


# --- GraphiQL, SDL, JWKS, health ------------------------------------------------------------------


def test_graphiql_page_for_a_browser(demo):
    response = httpx.get(demo.url, headers={"Accept": "text/html,application/xhtml+xml"}, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


def test_browser_get_with_a_query_is_not_the_ide(demo):
    response = httpx.get(
        demo.url, params={"query": "{ __typename }"}, headers={"Accept": "text/html"}, timeout=30
    )
    assert response.status_code == 401  # a query is executed, and needs a token
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_schema_sdl_carries_share_and_provider_directives(demo):
    response = httpx.get(
        demo.url.replace("/graphql", "/schema.graphql"),
        headers={"Authorization": f"Bearer {demo.token('consumer')}"},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    sdl = response.text
    assert "directive @share(" in sdl and "directive @provider(" in sdl
    assert "@share(class: CONDITIONAL" in sdl
    assert "@share(class: UNCONDITIONAL" in sdl
    assert "@provider(" in sdl
    condition = "用于行政审批中核验法定代表人身份"
    assert f'legalRepresentative: String @share(class: CONDITIONAL, condition: "{condition}")' in sdl
    assert f'type EnterpriseRegistration @provider(code: "{AMR.code}"' in sdl
    assert "scalar USCC" in sdl and "scalar CitizenID" in sdl


def test_jwks_publishes_the_public_key_with_kid(demo):
    response = httpx.get(demo.url.replace("/graphql", "/.well-known/jwks.json"), timeout=30)
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert keys
    for key in keys:
        assert key["kid"]
        assert key["kty"] == "EC" and key["crv"] == "P-256"
        assert "d" not in key  # never the private part
    token = demo.token("consumer")
    claims = jwt.decode(token, KeySet.import_key_set(response.json()), algorithms=["ES256"]).claims
    assert claims["sub"] and claims["roles"] == ["consumer"]


def test_healthz(demo):
    response = httpx.get(demo.url.replace("/graphql", "/healthz"), timeout=30)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
