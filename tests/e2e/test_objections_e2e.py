"""Objections (疑义) and change notices against the real demo server (uvicorn, SQLite).

Objections (Hubei art. 23, Zhejiang art. 28): a consumer that read a value disputes it, the
value is still served but marked ``extensions.disputed`` while open, only the resource's
provider answers, each role sees only its own side, overdue ones are flagged and counted.

Change notices (Shanghai art. 16): a provider notifies changed subjects; the ``changes``
query and the ``changeNotices`` subscription (graphql-transport-ws, a real WebSocket) tell a
consumer only of subjects it has read, of resources it may read, never a value.

Organizations 250+ of the demo are used: the sample codes (first 10) are read by other
modules, whose whole-body comparisons an open objection would change.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from gateway.auth import load_signer
from gateway.demo import AMR, MCA, PSB, TAX, organization_codes
from policies.codes import make_uscc
from tests.conftest import DEMO_PURPOSE, DemoServer
from tests.e2e.conftest import approve_unconditional_for, fresh_department

pytestmark = pytest.mark.e2e

AMR_RID = "amr.enterprise_registration"
MCA_RID = "mca.marriage"
ORGS = organization_codes(300)
PROTOCOL = [Subprotocol("graphql-transport-ws")]

OBJECTION_FIELDS = """id consumer provider resource subject item reason status due statutoryDeadline basis
  overdue raisedAt answeredAt answeredBy outcome note"""
RAISE = f"""mutation Raise($resource: String!, $subject: String!, $item: String!, $reason: String!) {{
  raiseObjection(resource: $resource, subject: $subject, item: $item, reason: $reason) {{
    {OBJECTION_FIELDS}
  }}
}}"""
ANSWER = f"""mutation Answer($id: ID!, $outcome: ObjectionOutcome!, $note: String!) {{
  answerObjection(id: $id, outcome: $outcome, note: $note) {{ {OBJECTION_FIELDS} }}
}}"""
OBJECTIONS = """query Objections($status: ObjectionStatus, $overdue: Boolean) {
  objections(status: $status, overdue: $overdue) { id consumer resource subject item status overdue }
}"""
OBJECTION = f"""query One($id: ID!) {{
  objection(id: $id) {{ {OBJECTION_FIELDS} history {{ at actor client action text }} }}
}}"""
NOTIFY = """mutation Notify($resource: String!, $subjects: [String!]!, $items: [String!],
                         $changedAt: DateTime) {
  notifyChange(resource: $resource, subjects: $subjects, items: $items, changedAt: $changedAt) {
    id resource subjects items changedAt notifiedAt late
  }
}"""
CHANGES = """query Changes($resource: String!, $since: DateTime) {
  changes(resource: $resource, since: $since) { id resource subjects items changedAt late }
}"""
SUBSCRIBE = """subscription Notices($resources: [String!]) {
  changeNotices(resources: $resources) { resource subjects items time }
}"""


def token_for(demo: DemoServer, department: str, role: str) -> str:
    return load_signer(demo.data_dir).issue(department, [role], ttl=600)


def ok(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body


def refused(response: Any) -> dict[str, Any]:
    body = response.json()
    assert body.get("errors"), body
    return body["errors"][0]  # type: ignore[no-any-return]


def read_name(demo: DemoServer, token: str, code: str, alias: bool = False) -> dict[str, Any]:
    query = (
        "query($c: USCC!) { organization(code: $c) { er: enterpriseRegistration { n: name status } } }"
        if alias
        else "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { name status } } }"
    )
    return ok(demo.post(query, {"c": code}, token=token))


def read_status(demo: DemoServer, token: str, code: str) -> dict[str, Any]:
    query = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { status } } }"
    return ok(demo.post(query, {"c": code}, token=token))


def reader_token(demo: DemoServer, department: str | None = None) -> str:
    """A consumer token for a department (a fresh one by default) whose application for the
    demo's unconditional items was approved (the demo's hubei: art. 13, 21)."""
    department = department or fresh_department()
    approve_unconditional_for(demo, department)
    return token_for(demo, department, "consumer")


@pytest.fixture(scope="module")
def tokens(demo: DemoServer) -> dict[str, str]:
    return {
        "a": reader_token(demo),
        "b": reader_token(demo),
        "amr": demo.token("provider"),
        "tax": token_for(demo, TAX.code, "provider"),
        "mca": token_for(demo, MCA.code, "provider"),
        "operator": demo.token("operator"),
    }


# --- objections ---------------------------------------------------------------------------


def test_objection_lifecycle_marks_disputed_values_until_answered(
    demo: DemoServer, tokens: dict[str, str]
) -> None:
    code, since = ORGS[250], dt.datetime.now(dt.UTC).isoformat()
    before = read_name(demo, tokens["a"], code)
    assert "disputed" not in before.get("extensions", {})
    raised = ok(
        demo.post(
            RAISE,
            {"resource": AMR_RID, "subject": code, "item": "name", "reason": "名称与营业执照不一致"},
            token=tokens["a"],
        )
    )["data"]["raiseObjection"]
    assert raised["status"] == "OPEN" and raised["provider"] == AMR.code and raised["outcome"] is None
    assert raised["statutoryDeadline"] is False and "promptly" in raised["basis"]  # Hubei: "promptly"
    assert dt.date.fromisoformat(raised["due"]) > dt.datetime.fromisoformat(raised["raisedAt"]).date()
    oid = raised["id"]

    # the value is still served, marked at its path as answered (aliases included), for every consumer
    marked = read_name(demo, tokens["a"], code, alias=True)
    assert (
        marked["data"]["organization"]["er"]["n"]
        == before["data"]["organization"]["enterpriseRegistration"]["name"]
    )
    assert marked["extensions"]["disputed"] == [{"path": ["organization", "er", "n"], "objection": oid}]
    other = read_name(demo, tokens["b"], code)
    assert other["extensions"]["disputed"] == [
        {"path": ["organization", "enterpriseRegistration", "name"], "objection": oid}
    ]
    assert "disputed" not in read_status(demo, tokens["a"], code).get("extensions", {})  # not that item
    assert "disputed" not in read_name(demo, tokens["a"], ORGS[251]).get("extensions", {})  # nor subject

    # only the resource's provider answers
    for who in ("a", "tax", "operator"):
        error = refused(
            demo.post(ANSWER, {"id": oid, "outcome": "CONFIRMED", "note": "x"}, token=tokens[who])
        )
        assert error["extensions"]["code"] == "FORBIDDEN", (who, error)
    answered = ok(
        demo.post(ANSWER, {"id": oid, "outcome": "CONFIRMED", "note": "经核实无误"}, token=tokens["amr"])
    )["data"]["answerObjection"]
    assert answered["status"] == "ANSWERED" and answered["outcome"] == "CONFIRMED"
    assert answered["answeredBy"] == AMR.code and answered["overdue"] is False
    again = refused(demo.post(ANSWER, {"id": oid, "outcome": "CORRECTED", "note": "y"}, token=tokens["amr"]))
    assert again["extensions"]["code"] == "BAD_REQUEST" and "answered already" in again["message"]

    # the consumer sees the answer and the history (who, when, what)
    seen = ok(demo.post(OBJECTION, {"id": oid}, token=tokens["a"]))["data"]["objection"]
    assert (seen["outcome"], seen["note"]) == ("CONFIRMED", "经核实无误")
    steps = [(h["action"], h["actor"], h["text"]) for h in seen["history"]]
    assert steps == [
        ("raise", raised["consumer"], "名称与营业执照不一致"),
        ("answer", AMR.code, "confirmed: 经核实无误"),
    ]
    assert "disputed" not in read_name(demo, tokens["a"], code).get("extensions", {})

    # every step is in the audit trail, without the reason's or note's text
    events = audit_events(demo, tokens["operator"], since)
    mine = [e for e in events if (e.get("detail") or {}).get("objection") == oid]
    assert [e["outcome"] for e in mine] == ["objection.raise", "objection.answer"]
    assert all(e["subjects"] == [code] and e["items"] == [f"{AMR_RID}.name"] for e in mine)
    assert all("名称与营业执照不一致" not in json.dumps(e, ensure_ascii=False) for e in mine)


def audit_events(demo: DemoServer, token: str, since: str) -> list[dict[str, Any]]:
    query = """query($since: DateTime) { auditEvents(since: $since, limit: 1000) {
      events { kind outcome consumer resources items subjects detail } } }"""  # enough for one test
    return ok(demo.post(query, {"since": since}, token=token))["data"]["auditEvents"]["events"]  # type: ignore[no-any-return]


def test_marks_follow_fragments_and_skip_and_never_a_refused_item(
    demo: DemoServer, tokens: dict[str, str], grant_to: Callable[..., Any]
) -> None:
    code = ORGS[256]
    granted = grant_to(AMR_RID, "legal_representative", "法定代表人核验")
    conditional = {"resource": AMR_RID, "subject": code, "item": "legal_representative", "reason": "有误"}
    rep = ok(demo.post(RAISE, conditional, token=granted.token, purpose="法定代表人核验"))["data"][
        "raiseObjection"
    ]
    name = raise_on(demo, tokens["a"], code, "name", purpose="核验企业名称")
    query = """query($c: USCC!, $yes: Boolean!) { organization(code: $c) { ...F } }
      fragment F on Organization { enterpriseRegistration {
        n: name @include(if: $yes)  hidden: name @skip(if: $yes)  legalRepresentative status } }"""
    try:
        plain = demo.post(query, {"c": code, "yes": True}, token=tokens["b"]).json()  # no grant
        holder = ok(demo.post(query, {"c": code, "yes": True}, token=granted.token, purpose="法定代表人核验"))
    finally:
        for oid in (rep["id"], name):
            answer(demo, tokens["amr"], oid)
    where = ["organization", "enterpriseRegistration"]
    assert plain["data"]["organization"]["enterpriseRegistration"]["legalRepresentative"] is None
    assert [e["extensions"]["code"] for e in plain["errors"]] == ["CONDITIONAL_ACCESS_REQUIRED"]
    assert plain["extensions"]["disputed"] == [
        {"path": [*where, "n"], "objection": name}
    ]  # not the refused item
    assert sorted(holder["extensions"]["disputed"], key=str) == sorted(
        [
            {"path": [*where, "n"], "objection": name},
            {"path": [*where, "legalRepresentative"], "objection": rep["id"]},
        ],
        key=str,
    )


def test_exported_rows_carry_their_open_objections(demo: DemoServer, tokens: dict[str, str]) -> None:
    ordered = sorted(ORGS)  # exports run in key order
    at = ordered.index(ORGS[280])
    code, before, following = ORGS[280], ordered[at - 1], ordered[at : at + 3]
    read_name(demo, tokens["a"], code)
    oid = raise_on(demo, tokens["a"], code, "name")
    try:
        rows = export_rows(demo, tokens["b"], "name,status", after=before, limit=3)
        narrow = export_rows(demo, tokens["b"], "status", after=before, limit=1)  # name not exported
        csv_text = export_text(demo, tokens["b"], "name,status", after=before, limit=3, format="csv")
    finally:
        answer(demo, tokens["amr"], oid)
    assert [row["uscc"] for row in rows] == following
    assert rows[0]["_disputed"] == [{"item": "name", "objection": oid}] and rows[0]["name"]  # still served
    assert all("_disputed" not in row for row in rows[1:]) and "_disputed" not in narrow[0]
    assert "_disputed" not in csv_text and oid not in csv_text  # CSV keeps its columns
    after = export_rows(demo, tokens["b"], "name,status", after=before, limit=1)
    assert "_disputed" not in after[0]


def test_compare_items_carry_their_open_objections(
    demo: DemoServer, tokens: dict[str, str], grant_to: Callable[..., Any]
) -> None:
    code = ORGS[257]
    read_name(demo, tokens["a"], code)
    oid = raise_on(demo, tokens["a"], code, "name")
    granted = grant_to("psb.resident", "name", "身份核验")  # match_only: marks would tell who exists
    person = demo.info["samples"]["persons"][7]
    disputed_person = {"resource": "psb.resident", "subject": person, "item": "name", "reason": "姓名有误"}
    pid = ok(demo.post(RAISE, disputed_person, token=granted.token, purpose="身份核验"))["data"][
        "raiseObjection"
    ]
    field = """query($s: String!, $c: JSON!) { compare(resource: "amr.enterprise_registration", subject: $s,
      claims: $c) { items { item outcome annotations } } }"""
    claims = {"name": "某某公司", "status": "存续"}
    try:
        posted = compare(demo, tokens["b"], {"resource": AMR_RID, "subject": code, "claims": claims})
        person_answer = compare(
            demo,
            granted.token,
            {"resource": "psb.resident", "subject": person, "claims": {"name": "张三"}},
            purpose="身份核验",
        )
        items = ok(demo.post(field, {"s": code, "c": claims}, token=tokens["b"]))["data"]["compare"]["items"]
    finally:
        answer(demo, tokens["amr"], oid)
        answer(demo, token_for(demo, PSB.code, "provider"), pid["id"])
    assert posted["annotations"] == {"name": {"disputed": True, "objection": oid}}, posted
    assert set(posted["items"]) == {"name", "status"}  # the outcome is still answered
    assert {i["item"]: i["annotations"] for i in items} == {
        "name": {"disputed": True, "objection": oid},
        "status": None,
    }
    assert "annotations" not in person_answer and pid["id"] not in json.dumps(person_answer)
    assert "annotations" not in compare(
        demo, tokens["b"], {"resource": AMR_RID, "subject": code, "claims": claims}
    )


def compare(
    demo: DemoServer, token: str, body: dict[str, Any], purpose: str = DEMO_PURPOSE
) -> dict[str, Any]:
    base = demo.url.rsplit("/graphql", 1)[0]
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(purpose)}
    response = httpx.post(f"{base}/compare", json=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def export_text(demo: DemoServer, token: str, items: str, **params: Any) -> str:
    base = demo.url.rsplit("/graphql", 1)[0]
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(DEMO_PURPOSE)}
    response = httpx.get(
        f"{base}/export/{AMR_RID}", params={"items": items, **params}, headers=headers, timeout=60
    )
    assert response.status_code == 200, response.text
    return response.text


def export_rows(demo: DemoServer, token: str, items: str, **params: Any) -> list[dict[str, Any]]:
    text = export_text(demo, token, items, format="ndjson", **params)
    return [json.loads(line) for line in text.splitlines()]


def test_roles_see_only_their_own_side(demo: DemoServer, tokens: dict[str, str]) -> None:
    code = ORGS[252]
    read_name(demo, tokens["b"], code)
    oid = raise_on(demo, tokens["b"], code, "name")
    try:
        listed = {
            who: {o["id"] for o in ok(demo.post(OBJECTIONS, token=tokens[who]))["data"]["objections"]}
            for who in ("a", "b", "amr", "tax", "operator")
        }
        assert oid in listed["b"] and oid in listed["amr"] and oid in listed["operator"]
        assert oid not in listed["a"] and oid not in listed["tax"]
        for who in ("a", "tax"):
            error = refused(demo.post(OBJECTION, {"id": oid}, token=tokens[who]))
            assert error["extensions"]["code"] == "BAD_REQUEST" and oid in error["message"]
        open_ids = {
            o["id"]
            for o in ok(demo.post(OBJECTIONS, {"status": "OPEN"}, token=tokens["amr"]))["data"]["objections"]
        }
        assert oid in open_ids
    finally:
        answer(demo, tokens["amr"], oid)


def raise_on(demo: DemoServer, token: str, code: str, item: str, purpose: str | None = None) -> str:
    variables = {"resource": AMR_RID, "subject": code, "item": item, "reason": "数值有误"}
    kwargs = {} if purpose is None else {"purpose": purpose}
    return str(ok(demo.post(RAISE, variables, token=token, **kwargs))["data"]["raiseObjection"]["id"])


def answer(demo: DemoServer, token: str, oid: str) -> None:
    ok(demo.post(ANSWER, {"id": oid, "outcome": "CORRECTED", "note": "已更正"}, token=token))


def test_raising_needs_a_read_or_a_right_to_read_and_reveals_no_existence(
    demo: DemoServer, tokens: dict[str, str]
) -> None:
    stranger = reader_token(demo)  # applied for the unconditional items, read nothing
    absent = make_uscc("1", "1", "420100", "XX999999")  # a valid code the demo does not hold
    refusals = []
    for subject in (ORGS[253], absent):  # address: conditional, no grant, never read
        variables = {"resource": AMR_RID, "subject": subject, "item": "address", "reason": "地址有误"}
        refusals.append(refused(demo.post(RAISE, variables, token=stranger)))
    assert refusals[0] == refusals[1] and refusals[0]["extensions"]["code"] == "FORBIDDEN"
    # without a read and without X-Purpose nothing may be read now either
    no_purpose = {"resource": AMR_RID, "subject": ORGS[253], "item": "name", "reason": "x"}
    assert (
        refused(demo.post(RAISE, no_purpose, token=stranger, purpose=None))["extensions"]["code"]
        == "FORBIDDEN"
    )
    # hubei reads unconditional items on application: without one, name may not be read now
    unapproved = token_for(demo, fresh_department(), "consumer")
    error = refused(demo.post(RAISE, {**no_purpose, "subject": ORGS[254]}, token=unapproved))
    assert error == refused(demo.post(RAISE, {**no_purpose, "subject": absent}, token=unapproved))
    assert error["extensions"]["code"] == "FORBIDDEN"
    # may read it now (unconditional item, the purpose applied for): allowed without a prior read
    oid = raise_on(demo, stranger, ORGS[254], "name", purpose=DEMO_PURPOSE)
    answer(demo, tokens["amr"], oid)
    bad = [
        ({"item": "innerNote"}, "BAD_REQUEST"),
        ({"item": "inner_note"}, "BAD_REQUEST"),  # not shared: not even named
        ({"resource": "nope.nothing"}, "BAD_REQUEST"),
        ({"subject": ORGS[254][:-1] + ("0" if ORGS[254][-1] != "0" else "1")}, "INVALID_CODE"),
        ({"reason": "   "}, "BAD_REQUEST"),
    ]
    for change, code in bad:
        variables = {"resource": AMR_RID, "subject": ORGS[254], "item": "name", "reason": "r", **change}
        error = refused(demo.post(RAISE, variables, token=stranger))
        assert error["extensions"]["code"] == code, (change, error)
    provider_raising = refused(demo.post(RAISE, {**no_purpose, "subject": ORGS[254]}, token=tokens["amr"]))
    assert provider_raising["extensions"]["code"] == "FORBIDDEN"


def test_overdue_objections_are_flagged_and_counted(demo: DemoServer, tokens: dict[str, str]) -> None:
    code = ORGS[255]
    read_name(demo, tokens["a"], code)
    oid = raise_on(demo, tokens["a"], code, "status")
    try:
        backdate(demo, oid, days=40)  # raised 40 days ago: past any working-day limit
        overdue = ok(demo.post(OBJECTIONS, {"overdue": True}, token=tokens["a"]))["data"]["objections"]
        assert [o["id"] for o in overdue if o["id"] == oid] == [oid] and overdue[-1]["overdue"] is True
        not_overdue = ok(demo.post(OBJECTIONS, {"overdue": False}, token=tokens["a"]))["data"]["objections"]
        assert oid not in {o["id"] for o in not_overdue}
        stats = amr_stats(demo, tokens["operator"])
        assert stats["objectionsOverdue"] >= 1 and stats["objections"] >= stats["objectionsOverdue"]
    finally:
        answer(demo, tokens["amr"], oid)
    after = ok(demo.post(OBJECTION, {"id": oid}, token=tokens["a"]))["data"]["objection"]
    assert after["overdue"] is True and after["status"] == "ANSWERED"  # answered late stays overdue


def backdate(demo: DemoServer, oid: str, days: int) -> None:
    """Move an objection's raise time and due day into the past, as if raised ``days`` ago."""
    with contextlib.closing(sqlite3.connect(demo.data_dir / "platform.db")) as db:
        raised = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).replace(tzinfo=None)
        due = (raised + dt.timedelta(days=7)).date()
        db.execute(
            "UPDATE objections SET raised_at = ?, due = ? WHERE id = ?",
            (raised.isoformat(sep=" "), due.isoformat(), oid),
        )
        db.commit()


def amr_stats(demo: DemoServer, token: str) -> dict[str, Any]:
    query = f"""query {{ stats(department: "{AMR.code}") {{
      objections objectionsOverdue changesNotified changesLate }} }}"""
    found = ok(demo.post(query, token=token))["data"]["stats"]
    return found[0] if isinstance(found, list) else found  # type: ignore[no-any-return]


# --- change notices -------------------------------------------------------------------------


def test_changes_query_lists_only_subjects_read(demo: DemoServer, tokens: dict[str, str]) -> None:
    since = dt.datetime.now(dt.UTC).isoformat()
    reader = reader_token(demo)
    read_name(demo, reader, ORGS[260])
    notified = ok(
        demo.post(
            NOTIFY,
            {"resource": AMR_RID, "subjects": [ORGS[260], ORGS[261]], "items": ["name"]},
            token=tokens["amr"],
        )
    )["data"]["notifyChange"]
    assert notified["late"] is False and notified["subjects"] == [ORGS[260], ORGS[261]]
    changes = ok(demo.post(CHANGES, {"resource": AMR_RID, "since": since}, token=reader))["data"]["changes"]
    assert [(c["id"], c["subjects"], c["items"]) for c in changes] == [
        (notified["id"], [ORGS[260]], ["name"])
    ]
    unknown = refused(demo.post(CHANGES, {"resource": "nope.nothing"}, token=reader))
    assert unknown["extensions"]["code"] == "BAD_REQUEST" and "nope.nothing" in unknown["message"]
    never = reader_token(demo)
    assert ok(demo.post(CHANGES, {"resource": AMR_RID, "since": since}, token=never))["data"]["changes"] == []


def test_only_the_provider_notifies_and_bad_notices_are_refused(
    demo: DemoServer, tokens: dict[str, str]
) -> None:
    for who in ("a", "tax", "operator"):
        error = refused(demo.post(NOTIFY, {"resource": AMR_RID, "subjects": [ORGS[262]]}, token=tokens[who]))
        assert error["extensions"]["code"] == "FORBIDDEN", who
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    bad = [
        ({"subjects": []}, "BAD_REQUEST"),
        ({"subjects": ["91420100NOTACODE1"]}, "INVALID_CODE"),
        ({"items": ["innerNote"]}, "BAD_REQUEST"),
        ({"changedAt": future}, "BAD_REQUEST"),
    ]
    for change, code in bad:
        variables = {"resource": AMR_RID, "subjects": [ORGS[262]], **change}
        assert refused(demo.post(NOTIFY, variables, token=tokens["amr"]))["extensions"]["code"] == code, (
            change
        )


def test_late_notices_are_counted_per_provider(demo: DemoServer, tokens: dict[str, str]) -> None:
    before = amr_stats(demo, tokens["operator"])
    week_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=10)).isoformat()
    late = ok(
        demo.post(
            NOTIFY, {"resource": AMR_RID, "subjects": [ORGS[263]], "changedAt": week_ago}, token=tokens["amr"]
        )
    )["data"]["notifyChange"]
    assert late["late"] is True  # the demo's Hubei sets none: GOVSHARE_NOTICE_DAYS (2) stands in
    after = amr_stats(demo, tokens["operator"])
    assert after["changesNotified"] == before["changesNotified"] + 1
    assert after["changesLate"] == before["changesLate"] + 1


def test_cli_notify_change_is_stored_and_reaches_the_changes_query(demo: DemoServer) -> None:
    since = dt.datetime.now(dt.UTC).isoformat()
    reader = reader_token(demo)
    read_name(demo, reader, ORGS[264])
    out = demo.cli(
        "notify-change",
        "--resource",
        AMR_RID,
        "--subjects",
        f"{ORGS[264]},{ORGS[265]}",
        "--items",
        "name,status",
    )
    row = json.loads(out.stdout)
    assert row["resource"] == AMR_RID and row["items"] == ["name", "status"]
    changes = ok(demo.post(CHANGES, {"resource": AMR_RID, "since": since}, token=reader))["data"]["changes"]
    assert [(c["id"], c["subjects"]) for c in changes] == [(row["id"], [ORGS[264]])]
    wrong = demo.cli("notify-change", "--resource", AMR_RID, "--subjects", "123", check=False)
    assert wrong.returncode == 2 and "govshare: error:" in wrong.stderr


# --- the subscription ---------------------------------------------------------------------


def ws_url(demo: DemoServer) -> str:
    return demo.url.replace("http://", "ws://")


@contextlib.asynccontextmanager
async def subscription(
    demo: DemoServer, token: str, resources: list[str] | None, purpose: str | None = None
) -> AsyncIterator[ClientConnection]:
    async with connect(ws_url(demo), subprotocols=PROTOCOL, open_timeout=10) as ws:
        init = {"Authorization": f"Bearer {token}", **({"X-Purpose": purpose} if purpose else {})}
        await ws.send(json.dumps({"type": "connection_init", "payload": init}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        payload = {"query": SUBSCRIBE, "variables": {"resources": resources}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        yield ws


async def listening(ws: ClientConnection, canary: Callable[[], None]) -> None:
    """Wait until the subscription receives: notify a canary change until one arrives."""
    for _ in range(50):
        canary()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ws.recv(), 0.2)
            return
    raise AssertionError("the subscription never received the canary notice")


async def next_notice(ws: ClientConnection, skip: str) -> tuple[dict[str, Any], str]:
    """The next notice that is not a canary (subjects == [skip]), and its raw frame."""
    while True:
        raw = str(await asyncio.wait_for(ws.recv(), 10))
        message = json.loads(raw)
        assert message["type"] == "next", message
        notice = message["payload"]["data"]["changeNotices"]
        if notice["subjects"] != [skip]:
            return notice, raw


def notify(
    demo: DemoServer, token: str, resource: str, subjects: list[str], items: list[str] | None = None
) -> None:
    ok(demo.post(NOTIFY, {"resource": resource, "subjects": subjects, "items": items}, token=token))


async def test_subscription_pushes_only_subjects_read_and_never_values(
    demo: DemoServer, tokens: dict[str, str], stored: Callable[..., Any]
) -> None:
    department, since = fresh_department(), dt.datetime.now(dt.UTC).isoformat()
    reader = reader_token(demo, department)
    canary, read, unread = ORGS[270], ORGS[271], ORGS[272]
    for code in (canary, read):
        read_name(demo, reader, code)
    async with subscription(demo, reader, [AMR_RID]) as ws:
        await listening(ws, lambda: notify(demo, tokens["amr"], AMR_RID, [canary]))
        notify(demo, tokens["amr"], AMR_RID, [unread], ["name"])  # never read: nothing is sent
        notify(demo, tokens["amr"], AMR_RID, [read, unread], ["name"])
        notice, raw = await next_notice(ws, canary)
    assert notice["resource"] == AMR_RID and notice["subjects"] == [read] and notice["items"] == ["name"]
    assert dt.datetime.fromisoformat(notice["time"]) <= dt.datetime.now(dt.UTC)
    value = stored("amr", "enterprise", "ent_name", "uscc", read)
    assert value and value not in raw and unread not in raw  # codes and item names only
    sent = [e for e in audit_events(demo, tokens["operator"], since) if e["outcome"] == "change.notice"]
    assert [
        (e["kind"], e["subjects"]) for e in sent if e["consumer"] == department and read in e["subjects"]
    ] == [("workflow", [read])]  # each notice sent is audited; nothing for the subject never read
    assert not any(unread in e["subjects"] for e in sent if e["consumer"] == department)


async def test_subscription_skips_resources_the_consumer_may_no_longer_read(
    demo: DemoServer, tokens: dict[str, str], grant_to: Callable[..., Any]
) -> None:
    granted = grant_to(MCA_RID, "marital_status", "婚姻状况核验")
    person = demo.info["samples"]["persons"][5]
    body = ok(
        demo.post(
            "query($i: CitizenID!) { person(id: $i) { marriage { maritalStatus } } }",
            {"i": person},
            token=granted.token,
            purpose="婚姻状况核验",
        )
    )
    assert body["data"]["person"]["marriage"]["maritalStatus"] is not None
    canary, read = ORGS[273], ORGS[274]
    for code in (canary, read):
        read_name(demo, granted.token, code)
    demo.cli("grant", "revoke", granted.grant["id"])
    async with subscription(demo, granted.token, None, "婚姻状况核验") as ws:  # every resource
        await listening(ws, lambda: notify(demo, tokens["amr"], AMR_RID, [canary]))
        notify(demo, tokens["mca"], MCA_RID, [person])  # read before, may not read now: not sent
        notify(demo, tokens["amr"], AMR_RID, [ORGS[276], read])  # it read 274, not 276
        notice, _ = await next_notice(ws, canary)  # the first after the canary: not the MCA one
    assert (notice["resource"], notice["subjects"]) == (AMR_RID, [read]), notice


async def test_unauthenticated_connections_are_refused(demo: DemoServer, tokens: dict[str, str]) -> None:
    for payload in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": tokens["a"]}):
        async with connect(ws_url(demo), subprotocols=PROTOCOL) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403, payload
    async with connect(ws_url(demo), subprotocols=PROTOCOL) as ws:  # subscribe before init
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_a_subscription_to_an_unknown_resource_is_an_error(
    demo: DemoServer, tokens: dict[str, str]
) -> None:
    async with subscription(demo, tokens["a"], ["nope.nothing"]) as ws:
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
    errors = message["payload"] if message["type"] == "error" else message["payload"].get("errors")
    assert errors and "nope.nothing" in errors[0]["message"], message


async def test_only_subscriptions_run_over_the_socket(demo: DemoServer, tokens: dict[str, str]) -> None:
    async with connect(ws_url(demo), subprotocols=PROTOCOL) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {tokens['a']}"}})
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        query = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { name } } }"
        payload = {"query": query, "variables": {"c": ORGS[275]}}
        await ws.send(json.dumps({"id": "q", "type": "subscribe", "payload": payload}))
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        huge = "subscription { changeNotices { resource } }" + " " * 20_000  # past max_document_chars
        await ws.send(json.dumps({"id": "h", "type": "subscribe", "payload": {"query": huge}}))
        too_long = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert message["type"] == "error" and "HTTP POST" in message["payload"][0]["message"]
    assert too_long["id"] == "h" and "max_document_chars" in json.dumps(too_long), too_long


# --- break-it: notices never tell of items or resources the consumer may not read ----------


def test_changes_never_name_items_without_a_grant_nor_resources_no_longer_readable(
    demo: DemoServer, tokens: dict[str, str], grant_to: Callable[..., Any]
) -> None:
    since = dt.datetime.now(dt.UTC).isoformat()
    reader = reader_token(demo)
    read_name(demo, reader, ORGS[280])  # name is unconditional; legal_representative is not
    for items in (["legal_representative"], ["name", "legal_representative"], None):
        notify(demo, tokens["amr"], AMR_RID, [ORGS[280]], items)
    changes = ok(demo.post(CHANGES, {"resource": AMR_RID, "since": since}, token=reader))["data"]["changes"]
    assert [c["items"] for c in changes] == [["name"], []], changes  # never legal_representative
    granted = grant_to(MCA_RID, "marital_status", "婚姻状况核验")
    person = demo.info["samples"]["persons"][6]
    query = "query($i: CitizenID!) { person(id: $i) { marriage { maritalStatus } } }"
    ok(demo.post(query, {"i": person}, token=granted.token, purpose="婚姻状况核验"))
    notify(demo, tokens["mca"], MCA_RID, [person])
    mine = {"resource": MCA_RID, "since": since}
    assert ok(demo.post(CHANGES, mine, token=granted.token, purpose="婚姻状况核验"))["data"]["changes"]
    demo.cli("grant", "revoke", granted.grant["id"])
    assert ok(demo.post(CHANGES, mine, token=granted.token, purpose="婚姻状况核验"))["data"]["changes"] == []


async def test_a_notice_of_items_without_a_grant_is_not_pushed(
    demo: DemoServer, tokens: dict[str, str]
) -> None:
    reader = reader_token(demo)
    canary, read = ORGS[281], ORGS[282]
    for code in (canary, read):
        read_name(demo, reader, code)
    async with subscription(demo, reader, [AMR_RID]) as ws:
        await listening(ws, lambda: notify(demo, tokens["amr"], AMR_RID, [canary]))
        notify(demo, tokens["amr"], AMR_RID, [read], ["legal_representative"])  # no grant: not sent
        notify(demo, tokens["amr"], AMR_RID, [read], ["legal_representative", "name"])
        notice, raw = await next_notice(ws, canary)
    assert notice["items"] == ["name"] and "legal_representative" not in raw, notice


def test_one_open_objection_per_consumer_and_value(demo: DemoServer, tokens: dict[str, str]) -> None:
    consumer = reader_token(demo)
    code = ORGS[283]
    read_name(demo, consumer, code)
    first = raise_on(demo, consumer, code, "name")
    try:
        again = {"resource": AMR_RID, "subject": code, "item": "name", "reason": "再次提出"}
        error = refused(demo.post(RAISE, again, token=consumer))
        assert error["extensions"]["code"] == "BAD_REQUEST" and error["extensions"]["objection"] == first
        assert first in error["message"]
        stranger = reader_token(demo)
        other = raise_on(demo, stranger, code, "name", purpose=DEMO_PURPOSE)  # its own objection
        answer(demo, tokens["amr"], other)
    finally:
        answer(demo, tokens["amr"], first)
    answer(demo, tokens["amr"], raise_on(demo, consumer, code, "name"))  # answered: a new one may follow


def test_reasons_may_span_lines_and_hold_ideographic_spaces(demo: DemoServer, tokens: dict[str, str]) -> None:
    consumer = reader_token(demo)
    code = ORGS[284]
    read_name(demo, consumer, code)
    reason = "名称有误：\n营业执照显示\u3000“某某有限公司”"  # as typed by a Chinese input method
    variables = {"resource": AMR_RID, "subject": code, "item": "name", "reason": reason}
    row = ok(demo.post(RAISE, variables, token=consumer))["data"]["raiseObjection"]
    answer(demo, tokens["amr"], row["id"])
    assert row["reason"] == reason
    for hidden in ("\u202e反向", "零宽\u200b", "\ufeff标记"):  # bidi override, zero width, BOM
        error = refused(demo.post(RAISE, {**variables, "reason": hidden}, token=consumer))
        assert error["extensions"]["code"] == "BAD_REQUEST" and error["extensions"]["character"], error


async def test_a_subscription_ends_when_its_token_expires(demo: DemoServer, tokens: dict[str, str]) -> None:
    department, since = fresh_department(), dt.datetime.now(dt.UTC).isoformat()
    approve_unconditional_for(demo, department)  # hubei: name is read on application
    reader = load_signer(demo.data_dir).issue(department, ["consumer"], ttl=4)
    canary, read = ORGS[285], ORGS[286]
    for code in (canary, read):
        read_name(demo, reader, code)
    async with subscription(demo, reader, [AMR_RID]) as ws:
        await listening(ws, lambda: notify(demo, tokens["amr"], AMR_RID, [canary]))
        await asyncio.sleep(5)  # the token has expired
        notify(demo, tokens["amr"], AMR_RID, [read])
        messages = []
        with contextlib.suppress(TimeoutError, ConnectionClosed):
            while True:
                messages.append(json.loads(await asyncio.wait_for(ws.recv(), 3)))
    assert not any(m.get("payload", {}).get("data") for m in messages if m["type"] == "next"), messages
    assert any("UNAUTHENTICATED" in json.dumps(m) for m in messages), messages
    sent = [e for e in audit_events(demo, tokens["operator"], since) if e["outcome"] == "change.notice"]
    assert not any(read in e["subjects"] for e in sent if e["consumer"] == department)


def test_a_compare_on_a_match_only_resource_is_no_holding_a_notice_could_betray(
    demo: DemoServer, tokens: dict[str, str]
) -> None:
    since = dt.datetime.now(dt.UTC).isoformat()
    comparer = reader_token(demo)
    person = demo.info["samples"]["persons"][8]
    claims = {"resource": "psb.resident", "subject": person, "claims": {"name": "张三"}}
    assert "found" not in compare(demo, comparer, claims)  # match_only: existence is not told
    notify(demo, token_for(demo, PSB.code, "provider"), "psb.resident", [person])
    changes = ok(demo.post(CHANGES, {"resource": "psb.resident", "since": since}, token=comparer))
    assert changes["data"]["changes"] == []  # a notice would tell the comparer the person exists


async def test_a_purpose_over_the_socket_follows_the_x_purpose_header_rules(
    demo: DemoServer, tokens: dict[str, str]
) -> None:
    for purpose in (
        "行政审批\u202e核验",
        "核验\u0000",
        "x" * 70_000,
    ):  # bidi override, NUL, past the HTTP head limit (max_head_bytes, 64 KiB)
        async with connect(ws_url(demo), subprotocols=PROTOCOL) as ws:
            init = {"Authorization": f"Bearer {tokens['a']}", "X-Purpose": purpose}
            await ws.send(json.dumps({"type": "connection_init", "payload": init}))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403, purpose[:20]
    async with subscription(
        demo, tokens["a"], [AMR_RID], quote("行政审批核验")
    ):  # percent-encoded, as by HTTP
        pass
