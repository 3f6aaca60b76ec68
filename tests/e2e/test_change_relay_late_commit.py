"""A change notice stored by another process (the CLI, another worker or host) whose commit
waited on the platform file's write lock (behind an audit commit, an archive's prune) still
reaches this process's subscribers: it is stamped once its transaction holds the write
(gateway.changes), and the relay looks ``ChangeRelay.MARGIN`` back from its last look. Found
by a fresh reviewer (stop 17): stamped before the wait, a notice committed 8 s late reached
0 of 4 subscriptions (README promises "within a second")."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3

import pytest

from gateway.demo import organization_codes
from tests.conftest import DemoServer
from tests.e2e.test_objections_e2e import (
    AMR_RID,
    listening,
    notify,
    read_name,
    reader_token,
    subscription,
    tokens,  # noqa: F401  (the module fixture)
)

pytestmark = pytest.mark.e2e
ORGS = organization_codes(300)
HOLD = 7  # seconds: past the relay's 5 s margin


async def test_a_notice_committed_late_by_another_process_still_reaches_subscribers(
    demo: DemoServer,
    tokens: dict[str, str],  # noqa: F811
) -> None:
    reader = reader_token(demo)
    canary, changed = ORGS[290], ORGS[291]
    for code in (canary, changed):
        read_name(demo, reader, code)
    async with subscription(demo, reader, [AMR_RID]) as ws:
        await listening(ws, lambda: notify(demo, tokens["amr"], AMR_RID, [canary]))
        lock = sqlite3.connect(demo.data_dir / "platform.db", isolation_level=None, timeout=30)
        lock.execute("BEGIN IMMEDIATE")  # another writer holds the platform file for 7 s
        try:
            cli = asyncio.create_task(
                asyncio.to_thread(demo.cli, "notify-change", "--resource", AMR_RID, "--subjects", changed)
            )
            await asyncio.sleep(HOLD)
        finally:
            lock.execute("COMMIT")
            lock.close()
        await cli  # stored now, 7 s after the command began
        subjects: list[str] = []
        with contextlib.suppress(TimeoutError):
            while changed not in subjects:
                message = json.loads(await asyncio.wait_for(ws.recv(), 5))
                subjects = message["payload"]["data"]["changeNotices"]["subjects"]
    assert changed in subjects, "a notice committed 7 s after the command began never reached the subscriber"
