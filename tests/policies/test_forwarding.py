"""policies.forwarding: what a verified forwarding assertion may claim (cascading gateways)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from errors import InvalidHeader, Unauthenticated
from policies.codes import make_uscc
from policies.decision import Consumer, canonical_purpose
from policies.forwarding import MAX_ASSERTION_LIFETIME, MAX_TEXT, check_forwardable, forwarded_request

CITY = Consumer("11420100MB0000094Y", "client-city", frozenset({"consumer", "operator"}))
COUNTY = make_uscc("1", "1", "420102", "MB000001")
NOW = 1_800_000_000


def claims(**changes: Any) -> dict[str, Any]:
    base = {
        "iss": "client-city",
        "aud": "hubei",
        "sub": COUNTY,
        "client_id": "county-system",
        "purpose": "行政审批核验",
        "user": "张科员",
        "iat": NOW,
        "exp": NOW + 60,
        "jti": "a" * 32,
    }
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def test_the_original_consumer_is_decided_on_with_the_consumer_role_only() -> None:
    forwarded = forwarded_request(claims(), CITY)
    assert forwarded.consumer == Consumer(COUNTY, "county-system", frozenset({"consumer"}))
    assert (forwarded.purpose, forwarded.user, forwarded.application_id) == ("行政审批核验", "张科员", None)
    assert forwarded.audit_detail() == {"department": CITY.department, "client": "client-city"}


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"sub": "110105198501014304"}, "sub"),  # a citizen ID is not a department
        ({"sub": None}, "sub"),
        ({"client_id": None}, "client_id"),
        ({"jti": None}, "jti"),
        ({"jti": "short"}, "jti"),
        ({"exp": NOW + MAX_ASSERTION_LIFETIME + 1}, "exp"),
        ({"exp": NOW}, "exp"),
        ({"iat": None}, "iat"),
        ({"purpose": 42}, "purpose"),
        ({"user": "张\u202e科员"}, "user"),  # a bidi override would disguise the name in audit views
        ({"purpose": "核验\n伪造的一行"}, "purpose"),
        ({"application_id": "x" * 501}, "application_id"),
    ],
)
def test_a_claim_that_cannot_be_believed_is_refused_naming_it(changes: dict[str, Any], named: str) -> None:
    with pytest.raises(Unauthenticated) as caught:
        forwarded_request(claims(**changes), CITY)
    assert named in caught.value.message


@given(
    st.text(min_size=1, max_size=60).filter(lambda t: t.strip()), st.sampled_from(["operator", "provider"])
)
def test_no_claim_lends_more_than_the_consumer_role(purpose: str, role: str) -> None:
    try:
        forwarded = forwarded_request(claims(purpose=purpose, roles=[role]), CITY)
    except Unauthenticated:
        return  # a purpose with a control or format character
    assert forwarded.consumer.roles == frozenset({"consumer"})
    assert forwarded.purpose == canonical_purpose(purpose)


@given(st.text(min_size=0, max_size=MAX_TEXT + 20))
def test_a_request_text_is_forwardable_exactly_when_an_assertion_may_carry_it(value: str) -> None:
    """check_forwardable and forwarded_request agree on the length bound: what a gateway
    accepts from its consumer, its upstream accepts in the assertion."""
    if len(value) <= MAX_TEXT:
        check_forwardable("X-Request-User", value)
    else:
        with pytest.raises(InvalidHeader) as caught:
            check_forwardable("X-Request-User", value)
        assert caught.value.extensions["header"] == "X-Request-User"


@given(st.text(alphabet=st.sampled_from("\ufdfa\u3371a\u00a0 "), max_size=40).map(lambda t: t * 14))
def test_a_purpose_is_forwardable_exactly_when_its_canonical_form_fits(value: str) -> None:
    fits = len(value) <= MAX_TEXT and len(canonical_purpose(value)) <= MAX_TEXT
    if fits:
        check_forwardable("X-Purpose", value, purpose=True)
    else:
        with pytest.raises(InvalidHeader):
            check_forwardable("X-Purpose", value, purpose=True)
