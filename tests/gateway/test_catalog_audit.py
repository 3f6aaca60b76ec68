"""The catalog a gateway serves is recorded in the audit trail when it starts."""

from __future__ import annotations

import hashlib

from gateway.app import Gateway
from gateway.demo import build_demo
from gateway.settings import Settings


async def test_each_start_records_the_catalog_in_force(tmp_path):
    build_demo(tmp_path, organizations=5, persons=5)
    for _ in range(2):
        gateway = await Gateway.start(Settings.load({}, data=str(tmp_path)))
        await gateway.close()
    (tmp_path / "catalog.yaml").write_text((tmp_path / "catalog.yaml").read_text() + "\n# changed\n")
    gateway = await Gateway.start(Settings.load({}, data=str(tmp_path)))
    assert gateway.audit is not None
    events = [e for e in await gateway.audit.events(limit=100) if e["outcome"] == "catalog.load"]
    await gateway.close()
    assert [e["kind"] for e in events] == ["admin"] * 3
    digests = [next(iter(e["detail"]["files"].values())) for e in events]
    assert digests[0] == digests[1] != digests[2]
    assert digests[2] == hashlib.sha256((tmp_path / "catalog.yaml").read_bytes()).hexdigest()
    assert events[0]["detail"]["profile"] == "hubei"
