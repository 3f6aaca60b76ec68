"""``stats`` over HTTP against the real demo server (Hubei art. 26, Zhejiang art. 35 ...).

A consumer department (HOUSING, demo token "consumer", no grant) reads a few organizations
across departments; its reads of AMR's conditional ``legalRepresentative`` are refused. The
operator then sees those calls on the AMR department, from at least one consumer; the AMR
provider (demo token "provider") sees its own department only; the consumer is FORBIDDEN.
The demo server is shared by the whole session, so counts are "at least" and the period
starts just before this module's own queries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gateway.demo import AMR, HOUSING, SAMPLE_ORGANIZATION_QUERY, TAX
from tests.conftest import DemoServer

pytestmark = pytest.mark.e2e

STATS = """query Stats($since: DateTime, $until: DateTime, $department: String) {
  stats(since: $since, until: $until, department: $department) {
    department { code name region level }
    resources
    items { unconditional conditional notShared }
    callsByMode { mode count }
    distinctConsumers
    refusals
    availability
    authorizations { count approved refused averageWorkingDays p95WorkingDays overdue }
    timeliness { resource updateCycle lastUpdate dueBy onTime }
    objections objectionsOverdue changesNotified changesLate
  }
}"""
READS = 3


@pytest.fixture(scope="module")
def since(demo: DemoServer) -> str:
    """The period's start, then READS cross-department reads by the consumer."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    for code in demo.info["samples"]["organizations"][:READS]:
        response = demo.post(SAMPLE_ORGANIZATION_QUERY, {"code": code}, token="consumer")
        assert response.status_code == 200
        codes = {error["extensions"]["code"] for error in response.json().get("errors", [])}
        assert codes == {"CONDITIONAL_ACCESS_REQUIRED"}  # legalRepresentative, without a grant
    return start.isoformat()


def stats(demo: DemoServer, token: str, **variables: Any) -> Any:
    return demo.post(STATS, variables, token=token, purpose=None)


def calls(department: dict[str, Any]) -> dict[str, int]:
    return {entry["mode"]: entry["count"] for entry in department["callsByMode"]}


def test_operator_sees_the_calls_on_amr(demo: DemoServer, since: str) -> None:
    response = stats(demo, "operator", since=since)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body
    by_code = {entry["department"]["code"]: entry for entry in body["data"]["stats"]}
    assert {AMR.code, TAX.code, HOUSING.code} <= set(by_code)
    amr = by_code[AMR.code]
    assert amr["department"]["name"] == AMR.name
    assert amr["resources"] == 1
    assert amr["items"] == {"unconditional": 6, "conditional": 2, "notShared": 1}
    assert set(calls(amr)) == {"QUERY", "COMPARE", "BULK"}
    assert calls(amr)["QUERY"] >= READS
    assert amr["distinctConsumers"] >= 1
    assert amr["refusals"] >= READS  # each read was refused legalRepresentative
    assert 0.0 <= amr["availability"] <= 1.0
    # objections are counted (tests/e2e/test_objections_e2e.py raises some on the same server)
    assert amr["objections"] >= amr["objectionsOverdue"] >= 0
    assert amr["changesNotified"] >= amr["changesLate"] >= 0
    (timeliness,) = amr["timeliness"]
    assert timeliness["resource"] == "amr.enterprise_registration" and timeliness["updateCycle"] == "daily"
    assert timeliness["lastUpdate"] is not None and timeliness["dueBy"] is not None  # the demo has stamps
    assert isinstance(timeliness["onTime"], bool)
    assert amr["authorizations"]["count"] >= 0
    housing = by_code[HOUSING.code]  # a consumer-only department: provides nothing
    assert housing["resources"] == 0 and sum(calls(housing).values()) == 0 and housing["timeliness"] == []


def test_a_period_before_the_reads_has_none_of_them(demo: DemoServer, since: str) -> None:
    earlier = dt.datetime.fromisoformat(since) - dt.timedelta(days=365)
    later = earlier + dt.timedelta(days=30)
    response = stats(demo, "operator", since=earlier.isoformat(), until=later.isoformat())
    assert response.status_code == 200, response.text
    for entry in response.json()["data"]["stats"]:
        assert sum(calls(entry).values()) == 0 and entry["availability"] == 1.0


def test_provider_sees_only_its_own_department(demo: DemoServer, since: str) -> None:
    response = stats(demo, "provider", since=since)
    assert response.status_code == 200, response.text
    (amr,) = response.json()["data"]["stats"]
    assert amr["department"]["code"] == AMR.code
    assert calls(amr)["QUERY"] >= READS and amr["distinctConsumers"] >= 1
    named = stats(demo, "provider", since=since, department=AMR.code).json()["data"]["stats"]
    assert [entry["department"]["code"] for entry in named] == [AMR.code]
    other = stats(demo, "provider", department=TAX.code)
    assert other.status_code == 403
    assert [e["extensions"]["code"] for e in other.json()["errors"]] == ["FORBIDDEN"]


@pytest.mark.parametrize("token", ["consumer", "consumer_with_grant"])
def test_consumers_are_forbidden(demo: DemoServer, token: str) -> None:
    response = stats(demo, token)
    assert response.status_code == 403
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
