"""Two single-process gateways on one data folder (found by a fresh reviewer, stop 17).

With ``--workers N`` (N > 1) each worker's chain is ``<host>-w<slot>`` and a slot held by
another server refuses the second one. With ``--workers 1`` (the default on a one-core host)
the chain is ``GOVSHARE_INSTANCE`` or ``main``, and was unguarded: two such processes on one data folder
(a restart while the old one still runs) or two one-core hosts on one PostgreSQL (README's
production set-up with the deploy/ env file, whose comment says the instance defaults to
the host's name) both append to chain ``main``. Measured: 288 of 800 answers were refused
``AUDIT_UNAVAILABLE`` (UNIQUE constraint failed: audit_events.instance, audit_events.seq).
Now the one process holds its chain's slot (gateway.workers.before_serving); across hosts,
deploy/govshare.env says to give each one-worker host its own GOVSHARE_INSTANCE.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.demo import build_demo
from tests.e2e.conftest import serve
from tests.e2e.test_workers_e2e import stop

pytestmark = pytest.mark.e2e


def test_a_second_single_process_gateway_never_shares_the_first_ones_chain(tmp_path: Path) -> None:
    build_demo(tmp_path, organizations=3, persons=2)
    env = {**os.environ, "GOVSHARE_LOG_LEVEL": "warning", "GOVSHARE_CHANGE_POLL_SECONDS": "0"}
    env.pop("GOVSHARE_INSTANCE", None)
    env.pop("GOVSHARE_DATABASE_URL", None)
    first, _ = serve(tmp_path, env, "first", "--workers", "1")
    command = [sys.executable, "-m", "gateway.cli", "serve", "--data", str(tmp_path), "--port", "0",
               "--workers", "1"]  # fmt: skip
    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 12  # a refusal comes in ~2 s
        while time.monotonic() < deadline and second.poll() is None:
            time.sleep(0.2)
        started = second.poll() is None
    finally:
        stop(second)
        stop(first)
    _, stderr = second.communicate()
    assert not started, "a second `serve --workers 1` started on the first one's audit chain `main`"
    assert second.returncode == 2 and "GOVSHARE_INSTANCE" in stderr, stderr[-2000:]
