"""A large export against a real server of its own: 80,000 enterprises (about 12 MB of NDJSON).

- a client that closes the connection mid-stream leaves an end event marked ``partial``
  with the rows actually handed over (at least every complete line the client read,
  fewer than the whole);
- a GraphQL query answers promptly while the export streams (the export does not hold
  the event loop).
"""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from gateway.auth import load_signer
from gateway.bench import start_server
from gateway.bench_export import fill_enterprise
from gateway.demo import HOUSING, build_demo

pytestmark = pytest.mark.e2e

ROWS = 80_000
PURPOSE = "批量核验"
ITEMS = "name,status,registered_capital,registration_date,business_scope"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    data_dir = tmp_path_factory.mktemp("export-big")
    build_demo(data_dir, organizations=30, persons=10)
    fill_enterprise(data_dir / "amr.db", ROWS)
    token = load_signer(data_dir).issue(HOUSING.code, ["consumer"], ttl=600)
    process, url = start_server(data_dir, audit=True)
    try:
        yield url.rsplit("/graphql", 1)[0], token, data_dir
    finally:
        process.terminate()
        process.wait(timeout=20)


def end_event(data_dir: Path, user: str, timeout: float = 10.0) -> dict[str, Any]:
    """The export's end event (the server writes it once it sees the client gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.closing(sqlite3.connect(data_dir / "platform.db")) as db:
            found = db.execute(
                "SELECT outcome, detail FROM audit_events WHERE user = ? AND outcome != 'started'", (user,)
            ).fetchall()
        if found:
            (outcome, detail), = found  # fmt: skip
            return {"outcome": outcome, **json.loads(detail)}
        time.sleep(0.1)
    raise AssertionError(f"no end event for {user} within {timeout} s")


def test_disconnect_mid_stream_is_audited_partial_with_the_rows_sent(big):
    base, token, data_dir = big
    host, port = base.split("//")[1].split(":")
    user = "disconnect-" + str(time.monotonic_ns())
    request = (f"GET /export/amr.enterprise_registration?items={ITEMS} HTTP/1.1\r\nHost: {host}\r\n"
               f"Authorization: Bearer {token}\r\nX-Purpose: {quote(PURPOSE)}\r\nX-Request-User: {user}\r\n"
               "\r\n").encode()  # fmt: skip
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)  # no room to swallow it all
    client.connect((host, int(port)))
    client.sendall(request)
    received = b""
    while len(received) < 200_000:
        received += client.recv(65536)
    client.close()
    head, _, body = received.partition(b"\r\n\r\n")
    assert b" 200 " in head.split(b"\r\n")[0]
    complete_lines = body.count(b"}\n")  # chunk-size lines hold no "}"
    event = end_event(data_dir, user)
    assert event["outcome"] == "partial"
    assert complete_lines <= event["rows"] < ROWS
    assert event["lastKey"] is not None and event["bytes"] > 0


def test_graphql_answers_promptly_while_a_large_export_streams(big):
    base, token, _ = big
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(PURPOSE)}
    started, finished, received = threading.Event(), threading.Event(), [0]

    def stream() -> None:
        params = {"items": ITEMS}
        with httpx.stream("GET", f"{base}/export/amr.enterprise_registration", params=params,
                          headers=headers, timeout=120) as answer:  # fmt: skip
            for chunk in answer.iter_bytes():
                received[0] += chunk.count(b"\n")
                started.set()
        finished.set()

    exporter = threading.Thread(target=stream)
    exporter.start()
    assert started.wait(30)
    query = {"query": "{ catalog { resources { id } } }"}
    latencies = []
    with httpx.Client(timeout=30) as client:
        while not finished.is_set():
            began = time.perf_counter()
            answer = client.post(f"{base}/graphql", json=query, headers=headers)
            latencies.append(time.perf_counter() - began)
            assert answer.status_code == 200, answer.text
    exporter.join()
    assert received[0] == ROWS
    assert len(latencies) >= 3, "the export ended before the queries could overlap it"
    assert max(latencies) < 1.0, sorted(latencies)[-5:]


def test_limit_across_pages_then_resume_matches_the_source_order(big):
    base, token, data_dir = big
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(PURPOSE)}
    url = f"{base}/export/amr.enterprise_registration"
    first = httpx.get(url, params={"items": "status", "limit": 2500}, headers=headers, timeout=60)
    keys = [json.loads(line)["uscc"] for line in first.text.splitlines()]
    second = httpx.get(url, params={"items": "status", "limit": 2500, "after": keys[-1]}, headers=headers,
                       timeout=60)  # fmt: skip
    keys += [json.loads(line)["uscc"] for line in second.text.splitlines()]
    with contextlib.closing(sqlite3.connect(data_dir / "amr.db")) as db:
        stored = [k for (k,) in db.execute("SELECT uscc FROM enterprise ORDER BY uscc LIMIT 5000")]
    assert keys == stored
