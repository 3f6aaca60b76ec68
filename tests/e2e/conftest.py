"""End-to-end helpers over the session-wide ``demo`` server (tests/conftest.py).

- ``grant_to``: a fresh consumer department (a USCC nobody else uses), a grant for it
  made with ``govshare grant add`` and a token from the data folder's signer.
- ``stored``: read a value straight from a department's SQLite file, to check what
  the gateway answers (or must never answer) against what is really stored.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import json
import secrets
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.auth import load_signer
from gateway.demo import BIGDATA
from gateway.demo_applications import approve_unconditional
from gateway.settings import Settings
from policies.codes import USCC_CHARSET, make_uscc
from tests.conftest import DEMO_PURPOSE


def fresh_department() -> str:
    """A valid department USCC (category 11, Wuhan) that no other test uses: six random
    letters (21^6 choices), not a counter, since this module may be imported twice (as
    pytest's conftest and as ``tests.e2e.conftest``) and two counters would hand out the same
    codes; the demo departments' serials (MB000101 ...) are all digits."""
    return make_uscc("1", "1", "420100", "MB" + "".join(secrets.choice(USCC_CHARSET[10:]) for _ in range(6)))


@dataclass(frozen=True)
class Granted:
    consumer: str
    token: str
    grant: dict[str, Any]


@pytest.fixture
def grant_to(demo: Any) -> Callable[..., Granted]:
    def make(
        resource: str,
        items: str,
        purpose: str,
        *,
        modes: str = "query",
        valid_from: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> Granted:
        consumer = fresh_department()
        args = ["grant", "add", "--consumer", consumer, "--resource", resource]
        args += ["--items", items, "--purpose", purpose, "--modes", modes]
        if valid_from is not None:
            args += ["--from", valid_from.isoformat()]
        if until is not None:
            args += ["--until", until.isoformat()]
        grant = json.loads(demo.cli(*args).stdout)
        assert grant["consumer"] == consumer and not grant["revoked"]
        approve_unconditional_for(demo, consumer)
        # the data folder's signer, as `govshare token` uses it (a CLI run costs a second)
        token = load_signer(demo.data_dir).issue(consumer, ["consumer"], ttl=600)
        return Granted(consumer, token, grant)

    return make


def approve_unconditional_for(demo: Any, *consumers: str) -> None:
    """The demo's profile (hubei) reads unconditional items on application (art. 13): the
    consumers apply for them and the platform grants on acceptance (art. 21), through the
    workflow, into the demo server's platform database."""
    settings = Settings.load({}, data=str(demo.data_dir))

    def approve() -> None:
        asyncio.run(approve_unconditional(settings, consumers, BIGDATA.code, DEMO_PURPOSE))

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # a plain test: no loop of its own
        approve()
        return
    # an async test (or a fixture it calls) runs a loop: asyncio.run needs a thread of its own
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(approve).result()


@pytest.fixture
def stored(demo: Any) -> Callable[[str, str, str, str, str], Any]:
    """stored(db, table, column, key_column, key): the value in DATA/<db>.db, read-only."""

    def read(db: str, table: str, column: str, key_column: str, key: str) -> Any:
        uri = f"file:{demo.data_dir / (db + '.db')}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            row = conn.execute(f"SELECT {column} FROM {table} WHERE {key_column} = ?", (key,)).fetchone()
        assert row is not None, f"{key} is not in {db}.{table}"
        return row[0]

    return read


def serve(
    data: Path, env: dict[str, str], name: str, *flags: str, timeout: float = 90
) -> tuple[subprocess.Popen[str], str]:
    """``govshare serve --port 0`` in a child process, its output in ``serve-<name>.log``;
    waits up to ``timeout`` seconds for /healthz and returns the process and its GraphQL URL."""
    log = data / f"serve-{name}.log"
    command = [sys.executable, "-m", "gateway.cli", "serve", "--data", str(data), "--port", "0", *flags]
    with log.open("w") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        serving = [line for line in log.read_text().splitlines() if "serving" in line and "http" in line]
        if serving and _healthy(url := serving[0].rsplit(" ", 1)[-1]):
            return process, url
        time.sleep(0.2)
    process.kill()
    raise AssertionError(f"server {name} did not start: {log.read_text()}")


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url.replace("/graphql", "/healthz"), timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
