"""The audit trail under failure (DESIGN.md section 8): fail closed, crash-safe, tamper-evident.

Destructive, so each test that breaks a server starts its OWN ``govshare demo`` in a
temporary data folder (the session-wide ``demo`` server is only read, and its platform
database only copied):

- the audit store becomes unwritable while the server runs: data queries are refused
  with 503 AUDIT_UNAVAILABLE and no data; once it is repaired the chain continues;
- SIGKILL under concurrent load: every request that was answered has its event on disk,
  and the chain verifies;
- a copy of the platform database tampered with (a field edited, a row deleted, two
  rows' seq swapped): ``govshare audit verify`` exits 1 naming the broken event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import DEMO_PURPOSE, DemoServer, run_cli

pytestmark = pytest.mark.e2e

GRAPHQL_RESPONSE = "application/graphql-response+json"
NAME = "query Name($code: USCC!) { organization(code: $code) { code enterpriseRegistration { name } } }"
BROKEN = re.compile(r"audit chain broken at (audit-[0-9a-f]+): (.*)")


# --- an own server --------------------------------------------------------------------------


@dataclass
class OwnServer:
    url: str
    data_dir: Path
    info: dict[str, Any]
    process: subprocess.Popen[bytes]

    @property
    def platform_db(self) -> Path:
        return self.data_dir / "platform.db"

    def codes(self) -> list[str]:
        return list(self.info["samples"]["organizations"])

    def headers(self, user: str, token: str = "consumer", accept: str = GRAPHQL_RESPONSE) -> dict[str, str]:
        return {
            "Accept": accept,
            "Authorization": f"Bearer {self.info['tokens'][token]}",
            "X-Purpose": quote(DEMO_PURPOSE),
            "X-Request-User": user,
        }

    def ask(self, code: str, user: str, accept: str = GRAPHQL_RESPONSE) -> httpx.Response:
        payload = {"query": NAME, "variables": {"code": code}}
        return httpx.post(self.url, json=payload, headers=self.headers(user, accept=accept), timeout=30)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("GOVSHARE_")}


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url.replace("/graphql", "/healthz"), timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[OwnServer]:
    data_dir = tmp_path / "data"
    command = [sys.executable, "-m", "gateway.cli", "demo", "--data", str(data_dir), "--port", "0",
               "--host", "127.0.0.1", "--organizations", "200", "--persons", "50"]  # fmt: skip
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=_env())
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "own demo server did not become ready in 60 s"
            info_file = data_dir / "demo.json"
            if info_file.exists():
                info = json.loads(info_file.read_text())
                if _healthy(info["url"]):
                    break
            time.sleep(0.1)
        yield OwnServer(info["url"], data_dir, info, process)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)
        log.close()


def verify(data_dir: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "gateway.cli", "audit", "verify", "--data", str(data_dir)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=_env())


def stored_name(server: OwnServer, code: str) -> str:
    uri = f"file:{server.data_dir / 'amr.db'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
        row = conn.execute("SELECT ent_name FROM enterprise WHERE uscc = ?", (code,)).fetchone()
    return str(row[0])


def main_chain(db: Path) -> list[tuple[int, str, str | None]]:
    """(seq, id, user) of the gateway's chain, in seq order."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT seq, id, user FROM audit_events WHERE instance = 'main' ORDER BY seq")
        return [(int(seq), str(event_id), user) for seq, event_id, user in rows]


# --- fail closed ------------------------------------------------------------------------------


def test_unwritable_audit_store_refuses_data_and_the_chain_continues_after_repair(own_server):
    server = own_server
    code = server.codes()[1]
    name = stored_name(server, code)
    before = server.ask(code, "fc-before")
    assert before.status_code == 200 and name in before.text

    with contextlib.closing(sqlite3.connect(server.platform_db, isolation_level=None)) as conn:
        conn.execute("ALTER TABLE audit_events RENAME TO audit_events_moved")
        try:
            for attempt in range(3):  # the failure is not a one-off: every try is refused
                refused = server.ask(code, f"fc-during-{attempt}")
                assert refused.status_code == 503, refused.text
                body = refused.json()
                assert body["data"] is None
                assert body["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
                assert name not in refused.text
                assert code not in refused.text
            # the legacy media type answers 200 for any GraphQL result, but still no data
            legacy = server.ask(code, "fc-during-json", accept="application/json")
            assert legacy.json()["data"] is None
            assert legacy.json()["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
            assert name not in legacy.text
        finally:
            conn.execute("ALTER TABLE audit_events_moved RENAME TO audit_events")

    after = server.ask(code, "fc-after")
    assert after.status_code == 200, after.text
    assert after.json()["data"]["organization"]["enterpriseRegistration"]["name"] == name

    result = verify(server.data_dir)
    assert result.returncode == 0, result.stderr
    chain = main_chain(server.platform_db)
    assert [seq for seq, _, _ in chain] == list(range(1, len(chain) + 1))  # no gap
    written = [user for _, _, user in chain]
    assert written.index("fc-after") == written.index("fc-before") + 1
    assert not any(user and user.startswith("fc-during") for user in written)


# --- SIGKILL under load ------------------------------------------------------------------------

CLIENTS = 16
LOAD_SECONDS = 2.0


async def _load(server: OwnServer) -> tuple[list[str], int]:
    """16 clients query different codes until the server is killed; the answered users."""
    answered: list[str] = []
    failures = 0
    codes = server.codes()
    killed = asyncio.Event()

    async def client(number: int) -> None:
        nonlocal failures
        async with httpx.AsyncClient(timeout=10) as http:
            for n in range(100_000):
                if killed.is_set():
                    return
                user = f"load-{number}-{n}-{uuid.uuid4().hex[:6]}"
                code = codes[(number * 37 + n) % len(codes)]
                try:
                    response = await http.post(
                        server.url,
                        json={"query": NAME, "variables": {"code": code}},
                        headers=server.headers(user),
                    )
                except httpx.HTTPError:
                    failures += 1
                    if killed.is_set():
                        return
                    await asyncio.sleep(0.01)
                    continue
                if response.status_code == 200:
                    data = response.json().get("data") or {}
                    if (data.get("organization") or {}).get("enterpriseRegistration"):
                        answered.append(user)

    async def killer() -> None:
        await asyncio.sleep(LOAD_SECONDS)
        os.kill(server.process.pid, signal.SIGKILL)
        killed.set()

    async with asyncio.timeout(60):
        await asyncio.gather(killer(), *(client(i) for i in range(CLIENTS)))
    return answered, failures


def test_sigkill_under_load_loses_no_answered_request(own_server):
    server = own_server
    answered, _ = asyncio.run(_load(server))
    assert server.process.wait(timeout=20) == -signal.SIGKILL
    assert len(answered) > 50, "the load did not get going"
    assert len(set(answered)) == len(answered)

    result = verify(server.data_dir)  # opens the database as the next start would (WAL recovery)
    assert result.returncode == 0, result.stderr
    recorded = {user for _, _, user in main_chain(server.platform_db)}
    lost = [user for user in answered if user not in recorded]
    assert not lost, f"{len(lost)} of {len(answered)} answered requests have no audit event: {lost[:5]}"


# --- tampering -------------------------------------------------------------------------------


@pytest.fixture
def demo_copy(demo: DemoServer, tmp_path: Path) -> tuple[Path, list[tuple[int, str, str | None]]]:
    """A consistent copy of the demo's platform database, with at least four own events on
    the gateway's chain; returns the copy's path and those events (seq, id, user)."""
    mine = [f"tamper-{n}-{uuid.uuid4().hex[:8]}" for n in range(4)]
    for n, user in enumerate(mine):
        response = demo.post(NAME, {"code": demo.info["samples"]["organizations"][n]},
                             headers={"X-Request-User": user})  # fmt: skip
        assert response.status_code == 200
    original = tmp_path / "original"
    original.mkdir()
    source = sqlite3.connect(f"file:{demo.data_dir / 'platform.db'}?mode=ro", uri=True)
    with contextlib.closing(source), contextlib.closing(sqlite3.connect(original / "platform.db")) as copy:
        source.backup(copy)
    chain = main_chain(original / "platform.db")
    own = [entry for entry in chain if entry[2] in mine]
    assert [user for _, _, user in own] == mine
    assert own[-1][0] - own[0][0] == 3  # nothing else in between: the demo is idle
    return original / "platform.db", own


def tampered(original: Path, tmp_path: Path, name: str, *statements: tuple[str, tuple[Any, ...]]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(original, folder / "platform.db")
    with contextlib.closing(sqlite3.connect(folder / "platform.db")) as conn, conn:
        for sql, parameters in statements:
            assert conn.execute(sql, parameters).rowcount == 1, sql
    return folder


def broken_at(result: subprocess.CompletedProcess[str]) -> tuple[str, str]:
    assert result.returncode == 1, (result.stdout, result.stderr)
    match = BROKEN.search(result.stderr)
    assert match, result.stderr
    return match.group(1), match.group(2)


def test_untampered_copy_verifies(demo_copy):
    original, _ = demo_copy
    result = run_cli(original.parent, "audit", "verify")
    assert result.stdout.startswith("ok: ")


def test_edited_purpose_is_named(demo_copy, tmp_path):
    original, own = demo_copy
    _, event_id, _ = own[1]
    edit = ("UPDATE audit_events SET purpose = ? WHERE id = ?", ("招商引资", event_id))
    folder = tampered(original, tmp_path, "edited", edit)
    named, reason = broken_at(verify(folder))
    assert named == event_id
    assert "content changed" in reason


def test_deleted_middle_row_is_named(demo_copy, tmp_path):
    original, own = demo_copy
    (_, deleted, _), (_, following, _) = own[1], own[2]
    folder = tampered(original, tmp_path, "deleted", ("DELETE FROM audit_events WHERE id = ?", (deleted,)))
    named, reason = broken_at(verify(folder))
    assert named == following
    assert "missing seq" in reason


def test_swapped_seq_is_named(demo_copy, tmp_path):
    original, own = demo_copy
    (seq_a, id_a, _), (seq_b, id_b, _) = own[1], own[2]
    folder = tampered(
        original,
        tmp_path,
        "swapped",
        ("UPDATE audit_events SET seq = -1 WHERE id = ?", (id_a,)),
        ("UPDATE audit_events SET seq = ? WHERE id = ?", (seq_a, id_b)),
        ("UPDATE audit_events SET seq = ? WHERE id = ?", (seq_b, id_a)),
    )
    named, reason = broken_at(verify(folder))
    assert named in (id_a, id_b)
    assert "reordered" in reason
