"""Export edge cases in process (the demo app over httpx.ASGITransport, real SQLite sources)."""

from __future__ import annotations

import contextlib
import sqlite3

from gateway.demo import HOUSING

AMR = "amr.enterprise_registration"


def headers(gateway, user: str) -> dict[str, str]:
    token = gateway.signer.issue(HOUSING.code, ["consumer"], ttl=600)
    return {"Authorization": f"Bearer {token}", "X-Purpose": "test", "X-Request-User": user}


async def test_a_source_down_at_the_start_is_a_plain_503_and_recorded(served, tmp_path):
    client, gateway, _ = served
    with contextlib.closing(sqlite3.connect(tmp_path / "amr.db")) as db, db:
        db.execute("ALTER TABLE enterprise RENAME TO enterprise_moved")
    answer = await client.get(f"/export/{AMR}", params={"items": "name"}, headers=headers(gateway, "down"))
    assert answer.status_code == 503 and answer.headers["content-type"] == "application/json"
    assert answer.json()["errors"][0]["extensions"]["code"] == "SOURCE_UNAVAILABLE"
    events = [e for e in await gateway.audit.events(limit=100) if e["user"] == "down"]
    assert [e["outcome"] for e in events] == ["started", "SOURCE_UNAVAILABLE"]
    assert events[1]["detail"]["rows"] == 0


async def test_head_is_405_and_runs_nothing(served):
    client, gateway, _ = served
    answer = await client.head(f"/export/{AMR}", params={"items": "name"}, headers=headers(gateway, "head"))
    assert answer.status_code == 405 and answer.headers["allow"] == "GET"
    assert not [e for e in await gateway.audit.events(limit=100) if e["user"] == "head"]


async def test_empty_export_is_a_complete_empty_body(served):
    client, gateway, _ = served
    params = {"items": "name", "after": "ZZZZZZZZZZZZZZZZZZ"}
    answer = await client.get(f"/export/{AMR}", params=params, headers=headers(gateway, "empty"))
    assert answer.status_code == 200 and answer.content == b""
    end = [e for e in await gateway.audit.events(limit=100) if e["user"] == "empty"][-1]
    assert end["outcome"] == "answered" and end["detail"]["rows"] == 0
