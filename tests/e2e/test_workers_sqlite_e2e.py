"""``govshare serve --workers 2`` on the embedded default, a SQLite platform database:
each worker listens on its own ``SO_REUSEPORT`` socket, so many keep-alive connections opened
at once are spread over both (gateway.workers.BalancedMultiprocess), and both workers'
audit writers commit to the one SQLite file in turns (gateway.sqlite_turn) without losing or
breaking an event. The PostgreSQL set-up: tests/e2e/test_workers_e2e.py."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest

from gateway.auth import load_signer
from gateway.demo import BIGDATA, build_demo
from gateway.demo_applications import approve_unconditional
from gateway.settings import Settings
from tests.conftest import DEMO_PURPOSE
from tests.e2e.conftest import fresh_department, serve
from tests.e2e.test_workers_e2e import stop

pytestmark = pytest.mark.e2e
READ = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { name } } }"
CONNECTIONS = 32


@dataclass
class Pool:
    data: Path
    url: str
    process: subprocess.Popen[str]
    token: str
    codes: list[str]


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    data = tmp_path_factory.mktemp("workers_sqlite")
    samples = build_demo(data, organizations=20, persons=2)
    department = fresh_department()
    asyncio.run(
        approve_unconditional(Settings.load(data=str(data)), (department,), BIGDATA.code, DEMO_PURPOSE)
    )
    env = {**os.environ, "GOVSHARE_LOG_LEVEL": "warning", "GOVSHARE_INSTANCE": "sq",
           "GOVSHARE_CHANGE_POLL_SECONDS": "0"}  # fmt: skip
    env.pop("GOVSHARE_DATABASE_URL", None)  # the data folder's SQLite file
    process, url = serve(data, env, "sqlite-pool", "--workers", "2", timeout=150)
    token = load_signer(data).issue(department, ["consumer"], ttl=600)
    try:
        yield Pool(data, url, process, token, samples["organizations"])
    finally:
        stop(process)


def listening_sockets(port: int) -> int:
    """TCP sockets in LISTEN state on ``port`` (``/proc/net/tcp``, state 0A)."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for row in rows if row.split()[1].endswith(f":{port:04X}") and row.split()[3] == "0A")


def test_each_worker_listens_on_its_own_socket(pool: Pool):
    """Two listening sockets on the port, not one shared: with one, 32 connections opened at
    once went 23 to one worker and 9 to the other for the whole run."""
    assert both_listening(pool) == 2


def both_listening(pool: Pool, timeout: float = 120) -> int:
    """The port's listening sockets once the second worker is up (or the timeout passes):
    /healthz answers when the first worker is; a spawned interpreter starts slowly under load."""
    port = urlsplit(pool.url).port
    assert port is not None
    deadline = time.monotonic() + timeout
    while (found := listening_sockets(port)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def event_of(answer: dict[str, Any]) -> str:
    payload = answer["extensions"]["voucher"].split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["aid"])


def chains_of(data: Path, events: list[str]) -> dict[str, str]:
    """event id -> the audit chain (instance) that holds it, read from the SQLite file."""
    with sqlite3.connect(data / "platform.db") as conn:
        marks = ",".join("?" * len(events))
        rows = conn.execute(f"SELECT id, instance FROM audit_events WHERE id IN ({marks})", events)
        return dict(rows.fetchall())


def one_connection(pool: Pool, n: int) -> list[dict[str, Any]]:
    """Four reads over one keep-alive connection (a client of its own)."""
    headers = {"Authorization": f"Bearer {pool.token}", "X-Purpose": quote(DEMO_PURPOSE)}
    with httpx.Client(headers=headers, timeout=60) as client:
        codes = [pool.codes[(n + k) % len(pool.codes)] for k in range(4)]
        return [client.post(pool.url, json={"query": READ, "variables": {"c": c}}).json() for c in codes]


def test_many_connections_are_spread_over_both_workers_and_every_event_is_kept(pool: Pool):
    assert both_listening(pool) == 2
    with concurrent.futures.ThreadPoolExecutor(CONNECTIONS) as threads:
        per_connection = list(threads.map(lambda n: one_connection(pool, n), range(CONNECTIONS)))
    answers = [answer for answers in per_connection for answer in answers]
    assert all(not answer.get("errors") for answer in answers), [a for a in answers if a.get("errors")][:2]
    events = [event_of(answer) for answer in answers]
    chains = chains_of(pool.data, events)
    assert set(chains) == set(events)  # every answer's event is stored
    first_chain = [chains[event_of(answers[0])] for answers in per_connection]
    busiest = max(first_chain.count(chain) for chain in set(first_chain))
    assert set(first_chain) == {"sq-w0", "sq-w1"} and busiest <= 26, first_chain
    verify = [sys.executable, "-m", "gateway.cli", "audit", "verify", "--data", str(pool.data)]
    env = {k: v for k, v in os.environ.items() if k != "GOVSHARE_DATABASE_URL"}
    done = subprocess.run(verify, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0 and done.stdout.startswith("ok: "), done.stdout + done.stderr
