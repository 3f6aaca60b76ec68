"""How many ``changeNotices`` subscriptions one consumer may hold, against the real demo
server (uvicorn, SQLite, real WebSockets). Found by a fresh reviewer (stop 17): with no bound,
one consumer with 20 sockets of 100 subscriptions each (2,000) made one provider notice take
19.7 s to reach them all (each subscription re-authenticates, reads its grants and holdings and
appends an audit event) while another client's point query went from 6 to 75 ms median; and
strawberry's own per-connection refusal carried no code. Now ``GOVSHARE_MAX_SUBSCRIPTIONS``
(100) bounds a consumer department's live subscriptions per process, refused RATE_LIMITED.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tests.conftest import DemoServer

pytestmark = pytest.mark.e2e

PROTOCOL = [Subprotocol("graphql-transport-ws")]
SUBSCRIBE = 'subscription { changeNotices(resources: ["amr.enterprise_registration"]) { resource } }'
PER_CONSUMER_BOUND = 100  # OperationLimits.max_subscriptions


async def _open(demo: DemoServer, token: str) -> ClientConnection:
    ws = await connect(demo.url.replace("http://", "ws://"), subprotocols=PROTOCOL, open_timeout=10)
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
    return ws


async def _subscribe(ws: ClientConnection, ids: range) -> None:
    for i in ids:
        await ws.send(json.dumps({"id": str(i), "type": "subscribe", "payload": {"query": SUBSCRIBE}}))


async def _refusals(ws: ClientConnection, wait: float = 1.0) -> list[dict[str, Any]]:
    """The ``error`` messages the server sent within ``wait`` seconds of silence."""
    errors: list[dict[str, Any]] = []
    with contextlib.suppress(TimeoutError):
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), wait))
            if message["type"] == "error":
                errors.append(message)
    return errors


async def test_one_consumer_cannot_hold_unbounded_subscriptions(demo: DemoServer) -> None:
    token = demo.token("consumer")
    sockets = [await _open(demo, token) for _ in range(PER_CONSUMER_BOUND // 100 + 1)]
    try:
        for n, ws in enumerate(sockets):
            await _subscribe(ws, range(n * 100, (n + 1) * 100))
        refused = [e for ws in sockets for e in await _refusals(ws)]
    finally:
        for ws in sockets:
            await ws.close()
    assert refused, (
        f"{len(sockets) * 100} live subscriptions of one consumer were all accepted: "
        "no per-consumer bound on subscriptions or sockets (every notice fans out to all of them)"
    )


async def test_the_per_connection_subscription_limit_is_a_coded_error(demo: DemoServer) -> None:
    """strawberry's own refusal (past 100 on one connection) carries no ``extensions.code``
    and is not in README's error table: every govshare error names its code."""
    ws = await _open(demo, demo.token("consumer"))
    try:
        await _subscribe(ws, range(101))
        refused = await _refusals(ws)
    finally:
        await ws.close()
    assert refused, "the 101st subscription on one connection was accepted"
    error = refused[0]["payload"][0]
    assert error.get("extensions", {}).get("code"), error


async def test_the_bound_is_per_department_and_freed_when_subscriptions_end(demo: DemoServer) -> None:
    """Another department subscribes while the first one is at its bound; once the first one's
    sockets close, it may subscribe again (its subscriptions are no longer counted)."""
    full = await _open(demo, demo.token("consumer"))
    other = await _open(demo, demo.token("consumer_with_grant"))
    try:
        await _subscribe(full, range(PER_CONSUMER_BOUND))
        await _subscribe(other, range(1))
        assert await _refusals(other) == []
        await _subscribe(full, range(PER_CONSUMER_BOUND, PER_CONSUMER_BOUND + 1))
        refused = await _refusals(full)
        assert [e["payload"][0]["extensions"]["code"] for e in refused] == ["RATE_LIMITED"]
        assert refused[0]["payload"][0]["extensions"]["limit"] == "max_subscriptions"
    finally:
        await full.close()
        await other.close()
    again = await _open(demo, demo.token("consumer"))
    try:  # the server ends the closed sockets' subscriptions as it reads their close: moments
        for attempt in range(10):
            await _subscribe(again, range(attempt, attempt + 1))
            if not await _refusals(again, 0.3):
                break
        else:
            raise AssertionError("a department's closed subscriptions still count against it")
    finally:
        await again.close()
