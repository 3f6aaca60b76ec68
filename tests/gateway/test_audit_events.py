"""Audit evidence in-process over ASGI (issue 7 items 2 and 12).

Item 12: every refused request of an authenticated caller is one audit event whose
decisions carry the refusal code (on the items it kept from being served, and under
"request" for the request as a whole); an unauthenticated request is not an event.
Item 2: what another department's provider reads of an event holds only its own resources'
items, decisions and subjects, and nothing derived from the response that it could test
guesses against; the stored digest is an HMAC (RFC 2104) under the data folder's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import stat
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from errors import BadRequest, ConfigurationError, QueryTooComplex
from gateway.app import Gateway
from gateway.audit import SECRET_FILE, AuditEvent, AuditLog, canonical_json, digest, keyed_digest, load_secret
from gateway.demo import AMR, BIGDATA, HOUSING, PSB, TAX, build_demo, organization_codes
from gateway.evidence import REQUEST, record_refusal, refused_request
from gateway.settings import Settings
from gateway.vouchers import answer_of, response_digest
from policies.decision import Consumer

PURPOSE = "住房保障资格审核"
AMR_NAME = "amr.enterprise_registration.name"
NAME = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { name } } }"


def sent(
    gateway: Gateway, department: str = HOUSING.code, roles: tuple[str, ...] = ("consumer",), **extra: str
):
    token = gateway.signer.issue(department, list(roles), "test", 600)
    base = {
        "Authorization": f"Bearer {token}",
        "X-Voucher": "off",
        "Accept": "application/graphql-response+json",
    }
    return {**base, "X-Purpose": quote(PURPOSE), **extra}


async def newest(gateway: Gateway, count: int = 1) -> list[dict[str, Any]]:
    assert gateway.audit is not None
    found = await gateway.audit.events(limit=1000)
    return found[len(found) - count :]


async def event_count(gateway: Gateway) -> int:
    assert gateway.audit is not None
    return len(await gateway.audit.events(limit=1000))


async def one_event_for(gateway: Gateway, send) -> tuple[httpx.Response, dict[str, Any]]:
    """Send a request; exactly one new event must be recorded for it."""
    before = await event_count(gateway)
    response = await send()
    assert await event_count(gateway) == before + 1, response.text
    [event] = await newest(gateway)
    return response, event


def codes_of(response: httpx.Response) -> set[str]:
    return {e["extensions"]["code"] for e in response.json()["errors"]}


# --- item 12: every refusal is an event -----------------------------------------------

INVALID_USCCS = {  # USCC (GB 32100-2015) rules the gateway checks: each example breaks one
    "length": "91420100MA4K0001",
    "charset": "91420100MA4K0001I0",  # I is not in the code's alphabet
    "check character": "91420100MA4K000100",
    "empty": "",
}
INVALID_CITIZEN_IDS = {  # GB 11643-1999
    "length": "4201061985010143",
    "check character": "420106198501014300",
    "birth date": "420106198513014304",  # month 13
}


@pytest.mark.parametrize("how", ["literal", "variable", "list variable"])
@pytest.mark.parametrize("case", list(INVALID_USCCS))
async def test_an_invalid_uscc_is_a_refusal_event_never_allowed(served, case: str, how: str):
    client, gateway, _ = served
    code = INVALID_USCCS[case]
    queries = {
        "literal": (f'{{ organization(code: "{code}") {{ enterpriseRegistration {{ name }} }} }}', {}),
        "variable": (NAME, {"c": code}),
        "list variable": (
            "query($c: [USCC!]!) { organizations(codes: $c) { enterpriseRegistration { name } } }",
            {"c": [organization_codes(1)[0], code]},
        ),
    }
    query, variables = queries[how]
    response, event = await one_event_for(
        gateway,
        lambda: client.post("/graphql", json={"query": query, "variables": variables}, headers=sent(gateway)),
    )
    assert codes_of(response) == {"INVALID_CODE"}
    assert event["outcome"] == "refused"
    assert event["decisions"][REQUEST] == "INVALID_CODE"
    assert "ALLOWED" not in event["decisions"].values()
    assert event["subjects"] == []  # nothing was looked up
    assert event["consumer"] == HOUSING.code


@pytest.mark.parametrize("case", list(INVALID_CITIZEN_IDS))
async def test_an_invalid_citizen_id_variable_is_a_refusal_event(served, case: str):
    client, gateway, _ = served
    query = "query($p: CitizenID!) { person(id: $p) { resident { gender } } }"
    response, event = await one_event_for(
        gateway,
        lambda: client.post(
            "/graphql",
            json={"query": query, "variables": {"p": INVALID_CITIZEN_IDS[case]}},
            headers=sent(gateway),
        ),
    )
    assert codes_of(response) == {"INVALID_CODE"}
    assert event["decisions"][REQUEST] == "INVALID_CODE"  # refused before planning: no item was decided
    assert set(event["decisions"].values()) == {"INVALID_CODE"} and event["outcome"] == "refused"


@pytest.mark.parametrize(
    ("query", "items"),
    [
        (NAME, {AMR_NAME}),
        ("query($c: USCC!) { organization(code: $c) { code } }", set()),  # a lookup alone
    ],
)
async def test_no_purpose_is_a_refusal_event(served, query: str, items: set[str]):
    client, gateway, _ = served
    headers = sent(gateway)
    del headers["X-Purpose"]
    response, event = await one_event_for(
        gateway,
        lambda: client.post(
            "/graphql", json={"query": query, "variables": {"c": organization_codes(1)[0]}}, headers=headers
        ),
    )
    assert codes_of(response) == {"PURPOSE_REQUIRED"}
    assert event["decisions"] == {REQUEST: "PURPOSE_REQUIRED", **dict.fromkeys(items, "PURPOSE_REQUIRED")}
    assert set(event["items"]) == items
    assert event["outcome"] in ("refused", "partly_refused") and event["purpose"] is None


async def test_not_shared_and_all_or_nothing_refusals_are_events(served):
    client, gateway, _ = served
    code = organization_codes(1)[0]
    not_shared = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { name innerNote } } }"
    response, event = await one_event_for(
        gateway,
        lambda: client.post(
            "/graphql", json={"query": not_shared, "variables": {"c": code}}, headers=sent(gateway)
        ),
    )
    assert codes_of(response) >= {"NOT_SHARED"}
    assert event["decisions"]["amr.enterprise_registration.inner_note"] == "NOT_SHARED"

    strict = sent(gateway, **{"X-Reject-Unauthorized": "true"})
    conditional = (
        "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { name legalRepresentative } } }"
    )
    response, event = await one_event_for(
        gateway,
        lambda: client.post(
            "/graphql", json={"query": conditional, "variables": {"c": code}}, headers=strict
        ),
    )
    assert response.status_code == 403 and response.json()["data"] is None
    assert event["outcome"] == "refused"
    assert (
        event["decisions"]["amr.enterprise_registration.legal_representative"]
        == "CONDITIONAL_ACCESS_REQUIRED"
    )


REQUEST_ERRORS = {  # name: (how to send it, expected status)
    "syntax error": (lambda c, h: c.post("/graphql", json={"query": "{ organization("}, headers=h), 400),
    "unknown field": (lambda c, h: c.post("/graphql", json={"query": "{ nothingHere }"}, headers=h), 400),
    "body not JSON": (
        lambda c, h: c.post(
            "/graphql", content=b"{not json", headers={**h, "Content-Type": "application/json"}
        ),
        400,
    ),
    "query not a string": (lambda c, h: c.post("/graphql", json={"query": 5}, headers=h), 400),
    "batch too large": (
        lambda c, h: c.post("/graphql", json=[{"query": "{ __typename }"}] * 50, headers=h),
        400,
    ),
    "mutation by GET": (
        lambda c, h: c.get(
            "/graphql", params={"query": 'mutation { revokeGrant(id: "x", reasons: []) { id } }'}, headers=h
        ),
        405,
    ),
    "unknown operationName": (
        lambda c, h: c.post(
            "/graphql", json={"query": "query A { __typename }", "operationName": "B"}, headers=h
        ),
        400,
    ),
}


REQUEST_ERROR_CODES = {"batch too large": "QUERY_TOO_COMPLEX"}  # a cost limit (resolvers.limits)


@pytest.mark.parametrize("case", list(REQUEST_ERRORS))
async def test_a_request_refused_before_it_ran_is_an_event(served, case: str):
    client, gateway, _ = served
    send, status = REQUEST_ERRORS[case]
    response, event = await one_event_for(gateway, lambda: send(client, sent(gateway)))
    assert response.status_code == status
    assert event["outcome"] == "refused"
    assert event["decisions"][REQUEST] == REQUEST_ERROR_CODES.get(case, "BAD_REQUEST")
    assert event["consumer"] == HOUSING.code and event["purpose"] == PURPOSE


async def test_an_unauthenticated_request_is_not_an_event(served):
    client, gateway, _ = served
    before = await event_count(gateway)
    for authorization in ({}, {"Authorization": "Bearer not-a-token"}):
        response = await client.post(
            "/graphql", json={"query": NAME, "variables": {"c": "x"}}, headers=authorization
        )
        assert response.status_code == 401
    assert await event_count(gateway) == before


async def test_a_header_with_a_control_character_is_never_an_audit_outage(served):
    client, gateway, _ = served
    for header in ("X-Purpose", "X-Request-User"):
        headers = sent(gateway, **{header: quote("核验\x00") if header == "X-Purpose" else "%00who"})
        response, event = await one_event_for(
            gateway,
            lambda: client.post(
                "/graphql",
                json={"query": NAME, "variables": {"c": organization_codes(1)[0]}},
                headers=headers,  # noqa: B023
            ),
        )
        assert response.status_code != 503, response.text
        assert "\x00" not in str(event)


async def test_a_refusal_is_answered_with_its_own_code_when_the_audit_store_fails(served, caplog):
    client, gateway, _ = served
    assert gateway.audit is not None
    await gateway.audit.close()  # appends now fail: AUDIT_UNAVAILABLE
    headers = sent(gateway)
    del headers["X-Purpose"]
    with caplog.at_level(logging.ERROR, logger="govshare"):
        refused = await client.post(
            "/graphql", json={"query": NAME, "variables": {"c": organization_codes(1)[0]}}, headers=headers
        )
    assert codes_of(refused) == {"PURPOSE_REQUIRED"}
    assert any("could not be recorded" in r.getMessage() for r in caplog.records)
    answered = await client.post(
        "/graphql", json={"query": NAME, "variables": {"c": organization_codes(1)[0]}}, headers=sent(gateway)
    )
    assert answered.status_code == 503 and codes_of(answered) == {"AUDIT_UNAVAILABLE"}  # fail closed


async def test_the_refusal_hook_records_a_cost_limit_refusal(served):
    """gateway.evidence.refused_request + record_refusal: what code refusing before parsing calls."""
    _, gateway, _ = served
    consumer = Consumer(HOUSING.code, "client-1", frozenset({"consumer"}))
    error = QueryTooComplex("the document has 20000 tokens; the limit is 10000", limit="tokens", value=10000)
    receipt = await record_refusal(
        gateway.audit, refused_request(consumer, error, purpose="核验\x00", user="张三")
    )
    assert receipt is not None
    [event] = await newest(gateway)
    assert event["id"] == receipt.id
    assert event["decisions"] == {REQUEST: "QUERY_TOO_COMPLEX"} and event["outcome"] == "refused"
    assert (event["purpose"], event["user"]) == (None, "张三")
    detail = {"refused": "QUERY_TOO_COMPLEX", "limit": "tokens", "value": 10000, "unreadable": ["purpose"]}
    assert event["detail"] == detail
    assert await record_refusal(None, refused_request(consumer, BadRequest("x"))) is None


# --- item 2: what a provider reads of another department's event -----------------------


async def test_a_provider_sees_only_its_own_subjects_items_and_no_digest(served):
    client, gateway, samples = served
    org, person = samples["organizations"][0], samples["persons"][0]
    query = """query($c: USCC!, $p: CitizenID!) {
      organization(code: $c) { enterpriseRegistration { name } taxCredit { creditRating } }
      person(id: $p) { resident { gender } }
    }"""
    response = await client.post(
        "/graphql", json={"query": query, "variables": {"c": org, "p": person}}, headers=sent(gateway)
    )
    body = response.json()
    assert "errors" not in body
    [full] = await newest(gateway)
    assert full["subjects"] == [org, person]

    read = """{ auditEvents(limit: 1000) { events { id consumer outcome resources items decisions subjects
      responseDigest detail hash } } }"""
    seen = {}
    for provider, resource, subject in (
        (AMR, "amr.enterprise_registration", org),
        (PSB, "psb.resident", person),
    ):
        view = await client.post(
            "/graphql", json={"query": read}, headers=sent(gateway, provider.code, ("provider",))
        )
        [event] = [e for e in view.json()["data"]["auditEvents"]["events"] if e["id"] == full["id"]]
        assert event["resources"] == [resource]
        assert all(key.startswith(resource) for key in [*event["items"], *event["decisions"]])
        assert event["subjects"] == [subject]  # not the subject looked up only at another provider
        assert event["responseDigest"] is None and event["hash"] == full["hash"]
        assert set(event["detail"]) <= {"operation", "subjects_at"}
        seen[provider.key] = event
    tax = await client.post("/graphql", json={"query": read}, headers=sent(gateway, TAX.code, ("provider",)))
    [event] = [e for e in tax.json()["data"]["auditEvents"]["events"] if e["id"] == full["id"]]
    assert event["subjects"] == [org] and person not in str(event)


async def test_a_subject_is_looked_up_only_at_the_resources_selected_under_it(served):
    """Found by outside testing: with two organizations in one operation, one asked for its
    registration (amr) and one for its tax rating (tax), each was fetched from BOTH sources
    (the plan is per operation) and each provider's view showed both codes: the amr provider
    learnt which organization the consumer looked up at tax. A subject is looked up only at
    the resources selected under it (GraphQL CollectFields, so aliases, fragments and
    @skip/@include count as execution counts them); its existence, when nothing readable is
    asked of it, at the resources selected under it if they can answer it."""
    client, gateway, samples = served
    at_amr, at_tax, only_denied, at_tax_skipped = samples["organizations"][2:6]
    query = """query($a: USCC!, $t: USCC!, $d: USCC!, $s: USCC!, $no: Boolean!) {
      a: organization(code: $a) { ...Reg }
      t: organization(code: $t) { taxCredit { creditRating } }
      d: organization(code: $d) { taxCredit { taxArrears } }
      s: organization(code: $s) { taxCredit { creditRating } ...Reg @include(if: $no) }
    }
    fragment Reg on Organization { enterpriseRegistration { name } }"""
    variables = {"a": at_amr, "t": at_tax, "d": only_denied, "s": at_tax_skipped, "no": False}
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=sent(gateway)
    )
    assert response.status_code == 200, response.text
    [full] = await newest(gateway)
    tax_rid, amr_rid = "tax.tax_credit", "amr.enterprise_registration"
    assert full["detail"]["subjects_at"] == {
        amr_rid: [at_amr],
        tax_rid: [at_tax, only_denied, at_tax_skipped],
    }
    read = "{ auditEvents(limit: 1000) { events { id subjects detail } } }"
    for provider, subjects in ((AMR, [at_amr]), (TAX, [at_tax, only_denied, at_tax_skipped])):
        view = await client.post(
            "/graphql", json={"query": read}, headers=sent(gateway, provider.code, ("provider",))
        )
        [event] = [e for e in view.json()["data"]["auditEvents"]["events"] if e["id"] == full["id"]]
        assert event["subjects"] == subjects, provider


async def test_the_stored_digest_is_keyed_so_guesses_cannot_be_tested(served):
    """The attack of issue 7 item 2: knowing its own part of the answer, a reader hashes
    candidate answers. Against an HMAC under a secret it does not hold, no candidate matches,
    not even the true answer; with the secret (the gateway's) the true answer does."""
    client, gateway, samples = served
    conditional = (
        "query($c: USCC!) { organization(code: $c) { "
        "enterpriseRegistration { name } taxCredit { creditRating } } }"
    )
    response = await client.post(
        "/graphql",
        json={"query": conditional, "variables": {"c": samples["organizations"][1]}},
        headers=sent(gateway),
    )
    body = response.json()
    [event] = await newest(gateway)
    true_value = body["data"]["organization"]["taxCredit"]["creditRating"]
    candidates = [true_value, "A", "B", "M", "C", "D"]
    for candidate in candidates:
        guess = {
            "data": {
                "organization": {**body["data"]["organization"], "taxCredit": {"creditRating": candidate}}
            }
        }
        assert digest(guess) != event["response_digest"]
    assert response_digest(body) != event["response_digest"]
    secret = (gateway.settings.data_dir / SECRET_FILE).read_text().strip()
    expected = hmac.new(bytes.fromhex(secret), canonical_json(answer_of(body)), hashlib.sha256).hexdigest()
    assert event["response_digest"] == expected  # RFC 2104 HMAC-SHA256 of the canonical answer


async def test_the_partial_outcome_speaks_only_of_the_providers_items(served):
    client, gateway, samples = served
    query = (
        "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { name } "
        "taxCredit { creditRating taxArrears } } }"
    )
    await client.post(
        "/graphql",
        json={"query": query, "variables": {"c": samples["organizations"][2]}},
        headers=sent(gateway),
    )
    [full] = await newest(gateway)
    assert full["outcome"] == "partly_refused"  # TAX's conditional taxArrears, no grant
    read = "{ auditEvents(limit: 1000) { events { id outcome decisions } } }"
    view = await client.post("/graphql", json={"query": read}, headers=sent(gateway, AMR.code, ("provider",)))
    [event] = [e for e in view.json()["data"]["auditEvents"]["events"] if e["id"] == full["id"]]
    assert event == {"id": full["id"], "outcome": "answered", "decisions": {AMR_NAME: "ALLOWED"}}


def test_the_secret_is_made_once_private_and_stable(tmp_path: Path):
    first = load_secret(tmp_path)
    assert len(first) == 32 and load_secret(tmp_path) == first
    assert stat.S_IMODE(os.stat(tmp_path / SECRET_FILE).st_mode) == 0o600
    assert keyed_digest(first, {"a": 1}) == hmac.new(first, b'{"a":1}', hashlib.sha256).hexdigest()


def test_workers_starting_at_once_agree_on_one_secret(tmp_path: Path):
    found: list[bytes] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        found.append(load_secret(tmp_path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8 and len(set(found)) == 1
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_FILE]  # no draft left behind


@pytest.mark.parametrize("content", ["", "not hex", "ab" * 16])
def test_a_damaged_secret_is_a_clear_configuration_error(tmp_path: Path, content: str):
    (tmp_path / SECRET_FILE).write_text(content)
    with pytest.raises(ConfigurationError, match=SECRET_FILE):
        load_secret(tmp_path)


async def test_a_restarted_gateway_keys_with_the_same_secret(tmp_path: Path):
    build_demo(tmp_path, organizations=5, persons=5)
    settings = Settings.load({}, data=str(tmp_path))
    digests = []
    for _ in range(2):
        gateway = await Gateway.start(settings)
        assert gateway.audit is not None
        digests.append(gateway.audit.keyed_digest({"data": {"x": 1}}))
        await gateway.close()
    assert digests[0] == digests[1]


# --- item 13: auditEvents across several chains ----------------------------------------


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 7])
async def test_audit_events_returns_at_most_limit_across_chains_and_pages_cover_all(served, limit: int):
    client, gateway, _ = served
    async with AuditLog(gateway.settings.database_url, instance="second") as second:
        for n in range(3):  # two chains now: the gateway's ("main") and "second", interleaved in time
            await second.append(AuditEvent(kind="admin", outcome=f"second.{n}"))
            await gateway.audit.append(AuditEvent(kind="admin", outcome=f"main.{n}"))  # type: ignore[union-attr]
    read = """query($limit: Int!, $after: ID) { auditEvents(limit: $limit, after: $after) {
      events { id instance seq time } nextAfter } }"""
    operator = sent(gateway, BIGDATA.code, ("operator",), **{"X-Voucher": "off"})
    stored = await gateway.audit.events(limit=1000)  # type: ignore[union-attr]
    assert {e["instance"] for e in stored} == {"main", "second"}
    pages, after = [], None
    for _ in range(100):
        answer = await client.post(
            "/graphql", json={"query": read, "variables": {"limit": limit, "after": after}}, headers=operator
        )
        page = answer.json()["data"]["auditEvents"]
        assert len(page["events"]) <= limit
        pages.append(page["events"])
        after = page["nextAfter"]
        if after is None:
            break
    seen = [e["id"] for page in pages for e in page]
    assert seen[: len(stored)] == [e["id"] for e in stored]  # oldest first by time, each once
    times = [e["time"] for page in pages for e in page]
    assert times == sorted(times)


@pytest.mark.parametrize(
    "header", ["Accept", "Content-Type", "X-Purpose", "X-Request-User", "X-Application-Id",
               "X-Reject-Unauthorized", "X-Voucher"],
)  # fmt: skip
async def test_every_refused_header_of_an_authenticated_request_is_an_event(served, header: str):
    """Found by outside testing: an Accept header with a bidi override (U+202E, raw UTF-8)
    was refused 400 INVALID_HEADER before the caller was known, and left no event."""
    client, gateway, _ = served
    value = {"Accept": "application/json", "Content-Type": "application/json"}.get(header, "x")
    headers = sent(gateway, **{header: (value + "\u202e").encode()})  # raw UTF-8 on the wire
    response, event = await one_event_for(
        gateway,
        lambda: client.post(
            "/graphql", json={"query": NAME, "variables": {"c": organization_codes(1)[0]}}, headers=headers
        ),
    )
    assert response.status_code == 400 and codes_of(response) == {"INVALID_HEADER"}
    assert event["decisions"] == {REQUEST: "INVALID_HEADER"} and event["outcome"] == "refused"
    assert event["detail"]["header"] == header


async def test_items_withheld_by_all_or_nothing_are_not_recorded_allowed(served):
    """Found by outside testing: with X-Reject-Unauthorized: true and one conditional item
    refused, nothing is served, yet the event recorded the other items as ALLOWED."""
    client, gateway, _ = served
    strict = sent(gateway, **{"X-Reject-Unauthorized": "true"})
    query = (
        "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { name legalRepresentative }"
        " taxCredit { creditRating } } }"
    )
    response, event = await one_event_for(
        gateway,
        lambda: client.post(
            "/graphql", json={"query": query, "variables": {"c": organization_codes(1)[0]}}, headers=strict
        ),
    )
    assert response.status_code == 403 and response.json()["data"] is None
    assert event["outcome"] == "refused"
    refused = "CONDITIONAL_ACCESS_REQUIRED"
    assert event["decisions"] == {
        "amr.enterprise_registration.legal_representative": refused,
        AMR_NAME: refused,
        "tax.tax_credit.credit_rating": refused,
        REQUEST: refused,
    }
