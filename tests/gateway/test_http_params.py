"""Validators of the HTTP layer (gateway.http): header values, the POST media type and the
request parameters, against their rules (RFC 9110 section 5.5 field values, RFC 8259
section 8.1 UTF-8 JSON, GraphQL over HTTP "Request parameters" and "POST request")."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from errors import BadRequest, InvalidHeader, UnsupportedMediaType
from gateway.http import (
    GRAPHQL_RESPONSE,
    JSON,
    _check_params,
    _require_json,
    header_value,
    response_media_type,
)

FORBIDDEN = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def on_the_wire(text: str) -> str:
    """What Starlette hands over for a header sent as UTF-8 bytes: Latin-1 decoded."""
    return text.encode("utf-8", "surrogatepass").decode("latin-1")


def allowed(text: str) -> bool:
    return all(c == "\t" or unicodedata.category(c) not in FORBIDDEN for c in text)


@given(st.text())
def test_raw_header_values_are_accepted_exactly_when_visible(text):
    for name in ("x-application-id", "accept", "content-type", "authorization"):
        headers = {name: on_the_wire(text)}
        if allowed(text):
            assert header_value(headers, name) == text.strip()
        else:
            with pytest.raises(InvalidHeader) as caught:
                header_value(headers, name)
            assert caught.value.header == "-".join(p.capitalize() for p in name.split("-"))


@given(st.text())
def test_percent_encoded_values_are_checked_after_decoding(text):
    for name, shown in (("x-purpose", "X-Purpose"), ("x-request-user", "X-Request-User")):
        headers = {name: quote(text.encode("utf-8", "surrogatepass"))}
        if allowed(text):
            assert header_value(headers, name) == text.strip()
        else:
            with pytest.raises(InvalidHeader) as caught:
                header_value(headers, name)
            assert caught.value.header == shown and shown in caught.value.message


@pytest.mark.parametrize("encoded", ["%FF", "%E8%A1", "abc%C3%28", "%ED%A0%80"])
def test_percent_encoding_that_is_not_utf8_is_refused(encoded):
    with pytest.raises(InvalidHeader, match="UTF-8"):
        header_value({"x-purpose": encoded}, "x-purpose")


RAW_NOT_UTF8 = {
    "gbk": "行政审批核验".encode("gbk"),  # every byte >= 0xA0: printable as Latin-1
    "latin1": "José".encode("latin-1"),
    "lone_continuation": b"abc\x80",
    "truncated": "审".encode()[:2],
    "surrogate": b"\xed\xa0\x80",
}


@pytest.mark.parametrize("raw", RAW_NOT_UTF8.values(), ids=RAW_NOT_UTF8.keys())
@pytest.mark.parametrize(
    "name", ["x-purpose", "x-request-user", "x-application-id", "accept", "authorization"]
)
def test_raw_bytes_that_are_not_utf8_are_refused(name, raw):
    """Found by outside testing: a GBK X-Purpose was read as Latin-1 and stored in the audit
    trail as "ÐÐÕþÉóÅúoËÑé". Header values are UTF-8 (README; RFC 9110 section 5.5 leaves
    other octets opaque): anything else is refused naming the header, never guessed."""
    with pytest.raises(InvalidHeader, match="UTF-8") as caught:
        header_value({name: raw.decode("latin-1")}, name)
    assert caught.value.header == "-".join(p.capitalize() for p in name.split("-"))


def test_absent_header_is_none():
    assert header_value({}, "x-purpose") is None


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "Application/JSON", "application/json;charset=utf-8",
     "application/json; charset=UTF8", 'application/json; charset="utf-8"', "application/json; boundary=x",
     " application/json "],
)  # fmt: skip
def test_json_media_types_pass(content_type):
    _require_json(content_type)


@pytest.mark.parametrize(
    "content_type",
    [None, "", "text/plain; a=json", "application/jsonp", "application/graphql", "json", "text/json",
     "application/x-json", "application/json-seq", "application/json; charset=latin-1",
     "multipart/form-data"],
)  # fmt: skip
def test_other_media_types_are_415(content_type):
    with pytest.raises(UnsupportedMediaType) as caught:
        _require_json(content_type)
    assert caught.value.status == 415 and "application/json" in caught.value.message


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=5,
)


@given(json_values, json_values, json_values)
def test_parameters_of_the_wrong_json_type_are_bad_requests(operation_name, variables, extensions):
    params = {"query": "{ __typename }", "operationName": operation_name, "variables": variables,
              "extensions": extensions}  # fmt: skip
    well_formed = (
        (operation_name is None or isinstance(operation_name, str))
        and (variables is None or isinstance(variables, dict))
        and (extensions is None or isinstance(extensions, dict))
    )
    if well_formed:
        assert _check_params(params) is params
    else:
        with pytest.raises(BadRequest):
            _check_params(params)


# GraphQL over HTTP, "Accept": the highest-priority supported type wins; RFC 9110 12.4.2: q=0
# means "not acceptable", a missing q is 1.
@pytest.mark.parametrize(
    ("accept", "media"),
    [(None, JSON), ("", JSON), ("*/*", JSON), ("application/*", JSON), ("text/html", JSON),
     (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE), (JSON, JSON),
     (f"{GRAPHQL_RESPONSE}, {JSON}", GRAPHQL_RESPONSE),
     (f"{JSON}, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
     (f"{GRAPHQL_RESPONSE};q=0", JSON),
     (f"{GRAPHQL_RESPONSE}; q=0.0, {JSON}", JSON),
     (f"{JSON}, {GRAPHQL_RESPONSE};q=0.5", JSON),
     (f"{JSON};q=0.4, {GRAPHQL_RESPONSE};q=0.5", GRAPHQL_RESPONSE),
     (f"{GRAPHQL_RESPONSE}x", JSON), (f"x{GRAPHQL_RESPONSE}", JSON),
     ("Application/GraphQL-Response+JSON", GRAPHQL_RESPONSE),
     (f"{GRAPHQL_RESPONSE};charset=utf-8", GRAPHQL_RESPONSE),
     (f"{GRAPHQL_RESPONSE};q=oops", GRAPHQL_RESPONSE),
     (f"{GRAPHQL_RESPONSE};q=nan, {JSON};q=0.9", GRAPHQL_RESPONSE)],
)  # fmt: skip
def test_the_response_media_type_follows_the_accept_priorities(accept, media):
    assert response_media_type(accept) == media


@given(st.text())
def test_any_accept_header_chooses_one_of_the_two_types(accept):
    assert response_media_type(accept) in (GRAPHQL_RESPONSE, JSON)
