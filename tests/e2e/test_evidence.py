"""Audit evidence against the real demo server (DESIGN.md section 8).

Every access path leaves exactly one audit event with the right fields, denied attempts
included; no stored value of a citizen or enterprise ever reaches the audit store; the
voucher (电子凭证) in ``extensions.voucher`` verifies offline with ``govshare voucher
verify`` and names the audit event that recorded the answer; ``auditEvents`` shows each
role what it may see; ``govshare audit verify`` / ``export`` work on the demo's folder.

The demo server is session-wide and other tests write events too, so each test finds its
own events by a unique ``X-Request-User`` (or its own fresh consumer department).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import json
import re
import sqlite3
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from graphql import get_introspection_query

from gateway.audit import ZERO_HASH, digest, export_events, keyed_digest, load_secret
from gateway.auth import load_signer
from gateway.demo import AMR, DRC, HOUSING
from gateway.vouchers import answer_of, response_digest
from policies.codes import make_uscc
from tests.conftest import DEMO_PURPOSE, DemoServer, run_cli

pytestmark = pytest.mark.e2e


def keyed(demo: DemoServer, body: dict[str, Any]) -> str:
    """What an audit event holds of a response: HMAC-SHA256 under the data folder's secret."""
    return keyed_digest(load_secret(demo.data_dir), answer_of(body))


GRAPHQL_RESPONSE = "application/graphql-response+json"
AMR_RID = "amr.enterprise_registration"
TAX_RID = "tax.tax_credit"
REGISTRATION_AND_TAX = """query Mixed($code: USCC!) {
  organization(code: $code) {
    code
    enterpriseRegistration { name legalRepresentative }
    taxCredit { creditRating }
  }
}"""
NAME = "query Name($code: USCC!) { organization(code: $code) { enterpriseRegistration { name } } }"
RATING = "query Rating($code: USCC!) { organization(code: $code) { taxCredit { creditRating } } }"
AUDIT_EVENTS = """query Audit($consumer: String, $since: DateTime, $afterSeq: Int, $limit: Int!) {
  auditEvents(consumer: $consumer, since: $since, afterSeq: $afterSeq, limit: $limit) {
    events {
      id seq instance time kind outcome consumer client user purpose application mode
      resources items subjects decisions responseDigest detail prevHash hash
    }
    nextAfterSeq
  }
}"""


# --- helpers ---------------------------------------------------------------------------


def unique(label: str) -> str:
    return f"ev-{label}-{uuid.uuid4().hex[:12]}"


def org(demo: DemoServer, n: int = 0) -> str:
    return str(demo.info["samples"]["organizations"][n])


def person(demo: DemoServer, n: int = 0) -> str:
    return str(demo.info["samples"]["persons"][n])


def fresh_department() -> str:
    """A consumer department of this module's own (demo: MB..., other tests: MF...)."""
    return make_uscc("1", "1", "420100", f"ME{uuid.uuid4().int % 10**6:06d}")


def token_for(demo: DemoServer, department: str, roles: tuple[str, ...] = ("consumer",)) -> str:
    return load_signer(demo.data_dir).issue(department, list(roles), ttl=600)


def headers_for(user: str, *, voucher: bool = False, **more: str) -> dict[str, str]:
    return {"X-Request-User": quote(user), "X-Voucher": "on" if voucher else "off", **more}


def ask(
    demo: DemoServer,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    user: str,
    token: str = "consumer",
    purpose: str | None = DEMO_PURPOSE,
    voucher: bool = False,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    sent = headers_for(user, voucher=voucher, **(headers or {}))
    return demo.post(query, variables, token=token, purpose=purpose, headers=sent)


def all_events(data_dir: Path) -> list[dict[str, Any]]:
    """Every stored event, oldest first, exactly as hashed plus ``hash`` (gateway.audit)."""

    async def read() -> list[dict[str, Any]]:
        return [event async for event in export_events(f"sqlite+aiosqlite:///{data_dir}/platform.db")]

    return asyncio.run(read())


def events_of(demo: DemoServer, user: str) -> list[dict[str, Any]]:
    return [event for event in all_events(demo.data_dir) if event["user"] == user]


def one_event(demo: DemoServer, user: str) -> dict[str, Any]:
    found = events_of(demo, user)
    assert len(found) == 1, found
    return found[0]


def assert_chained(demo: DemoServer, event: dict[str, Any]) -> None:
    """The event's hash covers its fields, and its prev_hash is its predecessor's hash."""
    assert digest({k: v for k, v in event.items() if k != "hash"}) == event["hash"]
    if event["seq"] == 1:
        assert event["prev_hash"] == ZERO_HASH
        return
    before = [
        e
        for e in all_events(demo.data_dir)
        if e["instance"] == event["instance"] and e["seq"] == event["seq"] - 1
    ]
    assert len(before) == 1
    assert before[0]["hash"] == event["prev_hash"]


def stored_value(demo: DemoServer, db: str, table: str, column: str, key_column: str, key: str) -> Any:
    uri = f"file:{demo.data_dir / (db + '.db')}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
        row = conn.execute(f"SELECT {column} FROM {table} WHERE {key_column} = ?", (key,)).fetchone()
    assert row is not None, f"{key} is not in {db}.{table}"
    return row[0]


def event_count(demo: DemoServer) -> int:
    uri = f"file:{demo.data_dir / 'platform.db'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
        return int(conn.execute("SELECT count(*) FROM audit_events").fetchone()[0])


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- one event per access path -----------------------------------------------------------


def test_single_query_is_one_event_with_every_field(demo):
    code = org(demo, 0)
    user, application = f"经办人-{unique('single')}", f"APP-{uuid.uuid4().hex[:8]}"
    started = now()
    response = ask(demo, REGISTRATION_AND_TAX, {"code": code}, user=user,
                   headers={"X-Application-Id": application})  # fmt: skip
    assert response.status_code == 200
    body = response.json()
    assert body["data"]["organization"]["enterpriseRegistration"]["name"]
    assert "extensions" not in body  # X-Voucher: off

    event = one_event(demo, user)
    assert event["kind"] == "query"
    assert event["instance"] == "main"
    assert event["consumer"] == HOUSING.code
    assert event["client"] == "demo-housing"
    assert event["user"] == user  # percent-encoded UTF-8 on the wire
    assert event["purpose"] == DEMO_PURPOSE
    assert event["application"] == application
    assert event["mode"] == "query"
    assert event["resources"] == [AMR_RID, TAX_RID]
    assert event["items"] == [
        f"{AMR_RID}.legal_representative",
        f"{AMR_RID}.name",
        f"{TAX_RID}.credit_rating",
    ]
    assert event["subjects"] == [code]
    assert event["decisions"] == {
        f"{AMR_RID}.name": "ALLOWED",
        f"{AMR_RID}.legal_representative": "CONDITIONAL_ACCESS_REQUIRED",
        f"{TAX_RID}.credit_rating": "ALLOWED",
    }
    assert event["outcome"] == "partly_refused"
    assert event["response_digest"] == keyed(demo, body)
    assert started - dt.timedelta(seconds=1) <= parse_time(event["time"]) <= now()
    assert_chained(demo, event)


def test_organizations_of_several_codes_is_one_event_listing_every_subject(demo):
    codes = [org(demo, n) for n in (1, 2, 3)]
    user = unique("many")
    query = """query Many($codes: [USCC!]!) {
      organizations(codes: $codes) { code enterpriseRegistration { name status } }
    }"""
    response = ask(demo, query, {"codes": codes}, user=user)
    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    event = one_event(demo, user)
    assert event["subjects"] == codes
    assert event["items"] == [f"{AMR_RID}.name", f"{AMR_RID}.status"]
    assert set(event["decisions"].values()) == {"ALLOWED"}
    assert event["outcome"] == "answered"
    assert event["response_digest"] == keyed(demo, body)
    assert_chained(demo, event)


def test_batched_http_request_is_one_event_per_operation(demo):
    user = unique("batch")
    codes = [org(demo, 4), org(demo, 5)]
    response = httpx.post(
        demo.url,
        json=[{"query": RATING, "variables": {"code": c}, "operationName": "Rating"} for c in codes],
        headers={
            "Accept": GRAPHQL_RESPONSE,
            "Authorization": f"Bearer {demo.token('consumer')}",
            "X-Purpose": quote(DEMO_PURPOSE),
            **headers_for(user),
        },
        timeout=30,
    )
    assert response.status_code == 200
    answers = response.json()
    assert len(answers) == 2 and all("errors" not in a for a in answers)
    found = events_of(demo, user)
    assert len(found) == 2
    assert sorted(e["subjects"][0] for e in found) == sorted(codes)
    by_subject = {e["subjects"][0]: e for e in found}
    for code, answer in zip(codes, answers, strict=True):
        event = by_subject[code]
        assert event["subjects"] == [code]
        assert event["decisions"] == {f"{TAX_RID}.credit_rating": "ALLOWED"}
        assert event["detail"] == {"operation": "Rating", "subjects_at": {TAX_RID: [code]}}
        assert event["response_digest"] == keyed(demo, answer)
    assert found[0]["seq"] < found[1]["seq"] and found[0]["instance"] == found[1]["instance"]


def test_not_shared_item_refused_at_validation_is_one_event(demo):
    code, user = org(demo, 6), unique("notshared")
    query = (
        "query Q($code: USCC!) { organization(code: $code) { enterpriseRegistration { name innerNote } } }"
    )
    response = ask(demo, query, {"code": code}, user=user)
    assert response.status_code == 403
    body = response.json()
    assert "data" not in body  # refused before execution: no data entry (GraphQL spec 7.1.2)
    assert {e["extensions"]["code"] for e in body["errors"]} == {"NOT_SHARED"}
    event = one_event(demo, user)
    assert event["kind"] == "query"
    assert event["decisions"][f"{AMR_RID}.inner_note"] == "NOT_SHARED"
    assert f"{AMR_RID}.inner_note" in event["items"]
    assert event["resources"] == [AMR_RID]
    assert event["outcome"] != "answered"
    assert event["response_digest"] == keyed(demo, body)
    note = stored_value(demo, "amr", "enterprise", "inner_note", "uscc", code)
    assert note not in json.dumps(event, ensure_ascii=False)
    assert_chained(demo, event)


def test_reject_unauthorized_refusal_is_one_event(demo):
    code, user = org(demo, 7), unique("reject")
    query = """query R($code: USCC!) {
      organization(code: $code) { enterpriseRegistration { name legalRepresentative } }
    }"""
    response = ask(demo, query, {"code": code}, user=user, headers={"X-Reject-Unauthorized": "true"})
    assert response.status_code == 403
    body = response.json()
    assert body["data"] is None
    event = one_event(demo, user)
    assert event["decisions"][f"{AMR_RID}.legal_representative"] == "CONDITIONAL_ACCESS_REQUIRED"
    assert event["outcome"] != "answered"
    assert event["response_digest"] == keyed(demo, body)
    assert_chained(demo, event)


@pytest.mark.parametrize("kind", ["typename", "introspection"])
def test_a_query_without_resource_items_makes_no_event(demo, kind):
    user = unique(kind)
    query = "{ __typename }" if kind == "typename" else get_introspection_query()
    before = event_count(demo)
    for _ in range(2):
        response = ask(demo, query, user=user)
        assert response.status_code == 200
        assert "errors" not in response.json()
    assert event_count(demo) == before
    assert events_of(demo, user) == []


def test_a_subject_existence_lookup_is_audited(demo):
    pid, user = person(demo, 1), unique("exists")
    response = ask(demo, "query P($id: CitizenID!) { person(id: $id) { id } }", {"id": pid}, user=user)
    assert response.status_code == 200
    assert response.json()["data"]["person"] == {"id": pid}  # the PSB register knows this citizen
    event = one_event(demo, user)
    assert event["subjects"] == [pid]
    assert "psb.resident" in event["resources"]  # where the register was consulted


def test_workflow_mutation_is_one_workflow_event(demo):
    department, user = fresh_department(), unique("workflow")
    submit = """mutation Submit($application: ApplicationInput!) {
      submitApplication(application: $application) { id status consumer }
    }"""
    application = {
        "resource": AMR_RID,
        "items": ["address"],
        "purpose": "住房保障资格审核",
        "scopeOfKnowledge": "住房保障科审核人员",
        "securityMeasures": "政务外网专线，调用留痕",
        "legalBasis": "《公共租赁住房管理办法》第八条",
        "validUntil": (now() + dt.timedelta(days=90)).isoformat(),
        "modes": ["QUERY"],
    }
    response = ask(demo, submit, {"application": application}, user=user, token=token_for(demo, department))
    assert response.status_code == 200, response.text
    submitted = response.json()["data"]["submitApplication"]
    assert submitted["consumer"] == department
    event = one_event(demo, user)
    assert event["kind"] == "workflow"
    assert event["outcome"] == "submit"
    assert event["consumer"] == department
    assert event["client"] == f"cli-{department}"
    assert event["resources"] == [AMR_RID]
    assert event["detail"]["application"] == submitted["id"]
    assert event["detail"]["status"] == "submitted"
    assert event["response_digest"] is None
    assert_chained(demo, event)


def test_grant_add_is_one_admin_event(demo, grant_to):
    purpose = f"管理审计-{uuid.uuid4().hex[:6]}"
    granted = grant_to(AMR_RID, "address", purpose)  # runs `govshare grant add`
    found = [
        e
        for e in all_events(demo.data_dir)
        if e["kind"] == "admin" and (e["detail"] or {}).get("id") == granted.grant["id"]
    ]
    assert len(found) == 1, found
    event = found[0]
    assert event["instance"] == "cli"
    assert event["outcome"] == "grant.add"
    assert event["resources"] == [AMR_RID]
    assert event["detail"]["consumer"] == granted.consumer
    assert event["detail"]["items"] == ["address"]
    assert event["detail"]["purpose"] == purpose
    assert_chained(demo, event)


# --- denied attempts -------------------------------------------------------------------------


def test_conditional_items_without_grant_are_audited_as_denied(demo):
    code, user = org(demo, 8), unique("denied")
    query = """query D($code: USCC!) {
      organization(code: $code) { enterpriseRegistration { legalRepresentative address } }
    }"""
    response = ask(demo, query, {"code": code}, user=user)
    assert response.status_code == 200
    body = response.json()
    assert body["data"]["organization"]["enterpriseRegistration"] == {
        "legalRepresentative": None,
        "address": None,
    }
    event = one_event(demo, user)
    assert event["decisions"] == {
        f"{AMR_RID}.legal_representative": "CONDITIONAL_ACCESS_REQUIRED",
        f"{AMR_RID}.address": "CONDITIONAL_ACCESS_REQUIRED",
    }
    assert event["outcome"] != "answered"
    assert event["subjects"] == [code]
    assert event["response_digest"] == keyed(demo, body)


def test_wrong_purpose_against_a_grant_is_audited_as_denied(demo):
    code, user = org(demo, 8), unique("purpose")
    query = """query P($code: USCC!) {
      organization(code: $code) { enterpriseRegistration { legalRepresentative } }
    }"""
    response = ask(demo, query, {"code": code}, user=user, token="consumer_with_grant", purpose="招商引资")
    assert response.status_code == 200
    event = one_event(demo, user)
    assert event["consumer"] == DRC.code
    assert event["purpose"] == "招商引资"
    assert event["decisions"] == {f"{AMR_RID}.legal_representative": "CONDITIONAL_ACCESS_REQUIRED"}
    assert event["outcome"] != "answered"


# --- privacy -------------------------------------------------------------------------------


def test_no_stored_value_ever_appears_in_an_audit_event(demo):
    user = unique("privacy")
    codes = [org(demo, n) for n in range(10)]
    pids = [person(demo, n) for n in range(10)]
    granted_read = """query G($codes: [USCC!]!) {
      organizations(codes: $codes) {
        enterpriseRegistration { name legalRepresentative address status businessScope registeredCapital }
        taxCredit { creditRating taxpayerType taxArrears }
        creditRecord { penaltyCount latestPenalty }
      }
    }"""
    response = ask(demo, granted_read, {"codes": codes}, user=user, token="consumer_with_grant")
    assert response.status_code == 200
    answered = response.json()["data"]["organizations"]
    assert [o["enterpriseRegistration"]["legalRepresentative"] for o in answered] == [
        stored_value(demo, "amr", "enterprise", "legal_rep", "uscc", c) for c in codes
    ]
    people = "query P($ids: [CitizenID!]!) { persons(ids: $ids) { resident { gender name address } } }"
    ask(demo, people, {"ids": pids}, user=user, token="operator")
    for text in (
        "query N($code: USCC!) { organization(code: $code) { enterpriseRegistration { innerNote } } }",
        "query N($code: USCC!) { organization(code: $code) { taxCredit { auditNote } } }",
    ):
        assert ask(demo, text, {"code": codes[0]}, user=user).status_code == 403
    assert len(events_of(demo, user)) >= 4

    secrets: set[str] = set()
    for code in codes:
        for column in ("ent_name", "legal_rep", "address", "inner_note"):
            secrets.add(stored_value(demo, "amr", "enterprise", column, "uscc", code))
        secrets.add(stored_value(demo, "tax", "tax_credit", "audit_note", "uscc", code))
        latest = stored_value(demo, "credit", "credit_record", "latest_penalty", "uscc", code)
        if latest:
            secrets.add(latest)
    for pid in pids:
        for column in ("full_name", "address", "religion"):
            secrets.add(stored_value(demo, "psb", "resident", column, "id_no", pid))
    secrets.add(stored_value(demo, "amr", "enterprise", "scope", "uscc", codes[0]))
    assert all(isinstance(s, str) and len(s) >= 2 for s in secrets)

    for event in all_events(demo.data_dir):
        text = json.dumps(event, ensure_ascii=False)
        # short values (two-character names) only against this test's own events: another
        # test's purpose or user name might contain them by chance
        checked = secrets if event["user"] == user else {s for s in secrets if len(s) >= 5}
        leaked = sorted(s for s in checked if s in text)
        assert not leaked, (event["id"], leaked)


# --- vouchers --------------------------------------------------------------------------------


def jws_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def altered_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    return f"{header}.{payload}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"


def test_voucher_is_attached_only_when_asked(demo):
    code = org(demo, 2)
    on = ask(demo, NAME, {"code": code}, user=unique("von"), voucher=True)
    off = ask(demo, NAME, {"code": code}, user=unique("voff"), voucher=False)
    assert isinstance(on.json()["extensions"]["voucher"], str)
    assert "extensions" not in off.json()


def test_voucher_verifies_offline_and_names_its_audit_event(demo, tmp_path):
    code, user = org(demo, 3), unique("voucher")
    response = ask(demo, REGISTRATION_AND_TAX, {"code": code}, user=user, voucher=True)
    assert response.status_code == 200
    body = response.json()
    token = body["extensions"]["voucher"]

    saved = tmp_path / "response.json"
    saved.write_bytes(response.content)  # exactly as received
    verified = demo.cli("voucher", "verify", token, "--response", str(saved))
    claims = json.loads(verified.stdout)
    assert claims["ok"] is True

    # the claims name the audit event, by id and chain hash, and the response by its digest
    assert jws_claims(token) == {k: v for k, v in claims.items() if k != "ok"}
    event = one_event(demo, user)
    assert claims["aid"] == event["id"]
    assert claims["ahash"] == event["hash"]
    assert claims["sub"] == HOUSING.code
    assert claims["dig"] == response_digest(body)  # the voucher: plain, the consumer's own proof
    assert event["response_digest"] == keyed(demo, body) != claims["dig"]  # the event: keyed

    # one value changed: refused
    changed = json.loads(response.content)
    changed["data"]["organization"]["taxCredit"]["creditRating"] += "X"
    changed_file = tmp_path / "changed.json"
    changed_file.write_text(json.dumps(changed, ensure_ascii=False), encoding="utf-8")
    refused = demo.cli("voucher", "verify", token, "--response", str(changed_file), check=False)
    assert refused.returncode == 1, refused
    assert "differs" in refused.stderr

    # the signature altered: refused
    forged = demo.cli("voucher", "verify", altered_signature(token), "--response", str(saved), check=False)
    assert forged.returncode == 1, forged
    assert "signature" in forged.stderr

    # offline: the JWKS served by the gateway, saved to a file; a data folder without keys
    jwks = httpx.get(demo.url.replace("/graphql", "/.well-known/jwks.json"), timeout=30)
    assert jwks.status_code == 200
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_bytes(jwks.content)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    offline = run_cli(
        elsewhere, "voucher", "verify", token, "--response", str(saved), "--jwks", str(jwks_file)
    )
    assert json.loads(offline.stdout)["aid"] == event["id"]
    assert list(elsewhere.iterdir()) == []


# --- auditEvents: who sees what -----------------------------------------------------------------


def read_audit(demo: DemoServer, token: str, **variables: Any) -> httpx.Response:
    variables.setdefault("limit", 1000)
    return demo.post(AUDIT_EVENTS, variables, token=token, purpose=None)


def not_reads(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Without the events that record reads of the trail itself (auditEvents, grants ...)."""
    return [e for e in events if "reads" not in (e.get("detail") or {})]


def all_pages(demo: DemoServer, token: str, limit: int, **variables: Any) -> list[dict[str, Any]]:
    """Page through auditEvents with afterSeq until nextAfterSeq is null (bounded)."""
    events: list[dict[str, Any]] = []
    after = None
    for _ in range(10_000):
        response = read_audit(demo, token, limit=limit, afterSeq=after, **variables)
        assert response.status_code == 200, response.text
        page = response.json()["data"]["auditEvents"]
        assert len({e["seq"] for e in page["events"]}) <= limit
        events += page["events"]
        after = page["nextAfterSeq"]
        if after is None:
            return events
        assert after == page["events"][-1]["seq"]
    raise AssertionError("auditEvents paging did not end")


@pytest.fixture(scope="module")
def two_consumers(demo: DemoServer) -> dict[str, Any]:
    """Two fresh consumers, each with an event on amr.* and one only on tax.*."""
    since = now() - dt.timedelta(seconds=2)
    made: dict[str, Any] = {"since": since.isoformat(), "users": {}}
    for label in ("a", "b"):
        department = fresh_department()
        token = token_for(demo, department)
        made[label] = {"department": department, "token": token}
        for resource, query in (("amr", NAME), ("tax", RATING)):
            user = unique(f"scope-{label}-{resource}")
            assert ask(demo, query, {"code": org(demo, 9)}, user=user, token=token).status_code == 200
            made["users"][(label, resource)] = user
    return made


def users(events: list[dict[str, Any]]) -> set[str]:
    return {e["user"] for e in events if e["user"]}


def test_operator_reads_events_of_every_consumer(demo, two_consumers):
    seen = all_pages(demo, "operator", 1000, since=two_consumers["since"])
    assert set(two_consumers["users"].values()) <= users(seen)
    departments = {e["consumer"] for e in seen}
    assert {two_consumers["a"]["department"], two_consumers["b"]["department"]} <= departments


def test_consumer_reads_only_its_own_events(demo, two_consumers):
    a, b = two_consumers["a"], two_consumers["b"]
    seen = all_pages(demo, a["token"], 1000)
    assert {e["consumer"] for e in seen} == {a["department"]}
    by = two_consumers["users"]
    assert {by[("a", "amr")], by[("a", "tax")]} <= users(seen)
    assert not {by[("b", "amr")], by[("b", "tax")]} & users(seen)
    asked_own = read_audit(demo, a["token"], consumer=a["department"])
    again = asked_own.json()["data"]["auditEvents"]["events"]
    assert again[: len(seen)] == seen
    # reading the trail is itself recorded: the only newer events are those reads
    newer = again[len(seen) :]
    assert newer and all(e["detail"]["reads"] == ["auditEvents"] and e["decisions"] == {} for e in newer)

    refused = read_audit(demo, a["token"], consumer=b["department"])
    assert refused.status_code == 403
    body = refused.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


def test_a_forbidden_audit_read_is_not_recorded_as_answered(demo, two_consumers):
    a, b = two_consumers["a"], two_consumers["b"]
    user = unique("forbidden")
    response = demo.post(
        AUDIT_EVENTS, {"consumer": b["department"], "limit": 10}, token=a["token"], purpose=None,
        headers=headers_for(user),
    )  # fmt: skip
    assert response.status_code == 403
    assert all(event["outcome"] != "answered" for event in events_of(demo, user))


def test_provider_reads_events_on_its_resources_not_others(demo, two_consumers):
    seen = all_pages(demo, "provider", 1000, since=two_consumers["since"])
    found = users(seen)
    by = two_consumers["users"]
    assert {by[("a", "amr")], by[("b", "amr")]} <= found
    assert not {by[("a", "tax")], by[("b", "tax")]} & found
    for event in seen:
        own = event["consumer"] == AMR.code
        assert own or any(r.startswith("amr.") for r in event["resources"]), event


def test_paging_returns_every_event_once_in_order(demo, two_consumers):
    department = fresh_department()
    token = token_for(demo, department)
    made = [unique(f"page{n}") for n in range(5)]
    for n, user in enumerate(made):
        assert ask(demo, NAME, {"code": org(demo, n)}, user=user, token=token).status_code == 200
    own = all_pages(demo, "operator", 2, consumer=department)
    assert [e["user"] for e in own] == made
    assert len({e["id"] for e in own}) == 5
    assert [e["seq"] for e in own] == sorted(e["seq"] for e in own)
    assert own == not_reads(all_pages(demo, token, 1000))  # its own reads of the trail are events too

    # the whole log since the fixture began, three at a time, against the store itself
    since = two_consumers["since"]
    paged = all_pages(demo, "operator", 3, since=since)
    stored = [
        e for e in all_events(demo.data_dir) if parse_time(e["time"]) >= dt.datetime.fromisoformat(since)
    ]
    assert [e["id"] for e in not_reads(paged)] == [e["id"] for e in not_reads(stored)]
    assert [(e["seq"], e["instance"]) for e in paged] == sorted((e["seq"], e["instance"]) for e in paged)


# --- the CLI on the demo's data folder --------------------------------------------------------------


def test_audit_verify_accepts_the_demo_chain(demo):
    ask(demo, NAME, {"code": org(demo)}, user=unique("verify"))
    result = demo.cli("audit", "verify")
    assert re.fullmatch(r"ok: \d+ events verified\n", result.stdout)
    assert int(result.stdout.split()[1]) == event_count(demo)


def test_audit_export_lines_recompute_their_hash(demo):
    ask(demo, NAME, {"code": org(demo)}, user=unique("export"))
    result = demo.cli("audit", "export")
    lines = result.stdout.splitlines()
    assert len(lines) == event_count(demo)
    order = []
    for line in lines:
        event = json.loads(line)
        assert digest({k: v for k, v in event.items() if k != "hash"}) == event["hash"]
        order.append((event["time"], event["instance"], event["seq"]))
    assert order == sorted(order)  # oldest first by time across the chains (main, cli)
    assert len({instance for _, instance, _ in order}) >= 2, "the demo folder has the cli chain too"
