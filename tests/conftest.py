"""Shared fixtures.

- ``demo``: a real ``govshare demo`` process (uvicorn on 127.0.0.1, a free port) over
  SQLite department databases in a temporary data folder; session-wide.
- ``federation`` / ``execute``: the test catalog (tests/data/catalog.yaml, mock sources)
  in-process, for resolver tests that need to look inside (call counts).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import settings as hypothesis_settings
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.dbschema import upgrade_url

# Property tests run on shared, busy machines (CI included): a per-example deadline would
# measure the machine, not the code, and fail at random. Examples stay bounded by max_examples.
hypothesis_settings.register_profile("govshare", deadline=None)
hypothesis_settings.load_profile("govshare")

TESTS = Path(__file__).parent
# `govshare serve` started by a test runs as one process unless the test asks for workers
os.environ.setdefault("GOVSHARE_WORKERS", "1")


@pytest.fixture
def server_time_zone() -> Iterator[Callable[[str], None]]:
    """``server_time_zone(zone)`` sets this process's local time zone (``TZ``), as a server
    started with ``TZ=zone`` would have it; the previous one is restored after the test."""
    before = os.environ.get("TZ")

    def set_zone(zone: str) -> None:
        os.environ["TZ"] = zone
        time.tzset()

    yield set_zone
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


CATALOG = TESTS / "data" / "catalog.yaml"
DEMO_PURPOSE = "行政审批核验"


def run_cli(data_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``govshare ARGS --data DATA`` as a user would, in a child process."""
    command = [sys.executable, "-m", "gateway.cli", *args, "--data", str(data_dir)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result


@dataclass
class DemoServer:
    url: str
    data_dir: Path
    info: dict[str, Any]
    process: subprocess.Popen[str]

    def token(self, who: str) -> str:
        return str(self.info["tokens"][who])

    def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = "consumer",
        purpose: str | None = DEMO_PURPOSE,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST a GraphQL request; ``token`` is a demo role name or a raw token."""
        # vouchers are tested on their own (tests/e2e/test_evidence.py); here they would only
        # make whole-body comparisons noisy
        sent = {"Accept": "application/graphql-response+json", "X-Voucher": "off", **(headers or {})}
        if token is not None:
            sent["Authorization"] = f"Bearer {self.info['tokens'].get(token, token)}"
        if purpose is not None:
            sent["X-Purpose"] = quote(purpose)
        return httpx.post(
            self.url, json={"query": query, "variables": variables or {}}, headers=sent, timeout=30
        )

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run_cli(self.data_dir, *args, check=check)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    data_dir = tmp_path_factory.mktemp("demo-data")
    command = [sys.executable, "-m", "gateway.cli", "demo", "--data", str(data_dir), "--port", "0",
               "--organizations", "300", "--persons", "300"]  # fmt: skip
    log = (data_dir / "server.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True, env=_env())
    try:
        info = _wait_ready(data_dir, process)
        yield DemoServer(info["url"], data_dir, info, process)
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("GOVSHARE_DATABASE_URL", None)
    env.setdefault("GOVSHARE_CHANGE_POLL_SECONDS", "0")  # no change polling unless a test asks
    return env


def _wait_ready(data_dir: Path, process: subprocess.Popen[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"demo exited: {(data_dir / 'server.log').read_text()}")
        info_file = data_dir / "demo.json"
        if info_file.exists():
            info = json.loads(info_file.read_text())
            if _healthy(info["url"]):
                return dict(info)
        time.sleep(0.2)
    raise AssertionError("demo server did not become ready in 120 s")


def _healthy(graphql_url: str) -> bool:
    try:
        return httpx.get(graphql_url.replace("/graphql", "/healthz"), timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


_UPGRADED: set[str] = set()


def postgres_url_or_skip() -> str:
    """The test PostgreSQL (GOVSHARE_TEST_POSTGRES_URL); CI must have one, elsewhere skip.
    Its platform schema is brought to the head once per session (`govshare db upgrade`): the
    server is shared between runs, and a start refuses a PostgreSQL schema behind the code."""
    url = os.environ.get("GOVSHARE_TEST_POSTGRES_URL")
    if url:
        if url not in _UPGRADED:  # as an operator does after installing a version (README)
            _UPGRADED.add(url)
            with ThreadPoolExecutor(1) as thread:  # callers may run inside an event loop
                thread.submit(asyncio.run, upgrade_url(url)).result()
        return url
    if os.environ.get("CI") == "true":
        raise AssertionError("CI=true but GOVSHARE_TEST_POSTGRES_URL is unset: .ci/run starts one")
    pytest.skip("no PostgreSQL: set GOVSHARE_TEST_POSTGRES_URL (bash .ci/run does)")


@pytest.fixture(params=["sqlite", "postgresql"])
def platform_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty platform database URL on each supported engine."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/platform.db"
    return postgres_url_or_skip()


async def create_database_if_missing(url: str, database: str) -> None:
    """Create ``database`` on the PostgreSQL server of ``url`` unless it is there already."""
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            found = await conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": database}
            )
            if not found:
                await conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
    finally:
        await admin.dispose()
