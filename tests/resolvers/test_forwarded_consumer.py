"""resolvers.extensions.ForwardedConsumer: a forwarding connector's calls carry the consumer
of the operation that made them (connectors.forwarding), and nothing outlives the operation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from connectors.base import Binding, Row
from connectors.forwarding import OnBehalfOf, on_behalf_of
from connectors.mock import MockConnector
from gateway.app import Gateway
from gateway.platform import new_grant_row
from gateway.settings import Settings
from policies.decision import Consumer
from resolvers.batching import ResourceSource
from resolvers.context import RequestContext
from tests.conftest import CATALOG

KNOWN = "91420100MA4K00010R"  # in the test catalog's enterprise table
QUERY = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { name status } } }"


class Upstream(MockConnector):
    """The test catalog's enterprise rows, read as an upstream gateway would be: per consumer."""

    forwards_identity = True

    def __init__(self, tables: dict[str, list[dict[str, object]]]) -> None:
        super().__init__(tables)
        self.made_for: list[OnBehalfOf | None] = []

    async def fetch(self, binding: Binding, keys: Sequence[str], items: Sequence[str]) -> dict[str, Row]:
        self.made_for.append(on_behalf_of.get())
        return await super().fetch(binding, keys, items)


async def test_each_source_call_carries_the_operations_consumer(tmp_path: Path) -> None:
    gateway = await Gateway.start(
        Settings.load({"GOVSHARE_AUDIT": "off"}, data=str(tmp_path), catalog=str(CATALOG))
    )
    try:  # the test catalog is hubei's: the consumer reads unconditional items on application (art. 13)
        amr = gateway.catalog.resources["amr.enterprise_registration"]
        until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        unconditional = [i.name for i in amr.items if i.share.value == "unconditional"]
        await gateway.platform.add_grant(
            new_grant_row("11420100MB0000043N", amr.id, unconditional, "核验", until)
        )
        old = gateway.federation.sources["amr.enterprise_registration"]
        assert isinstance(old.connector, MockConnector)
        upstream = Upstream(old.connector.tables)
        sources = dict(gateway.federation.sources)
        sources["amr.enterprise_registration"] = ResourceSource(upstream, old.binding)
        gateway.federation.sources = sources  # type: ignore[misc]
        consumer = Consumer("11420100MB0000043N", "county-system", frozenset({"consumer"}))
        context = RequestContext(gateway.federation, consumer, purpose="核验", request_user="张科员")
        result = await gateway.schema.execute(QUERY, {"c": KNOWN}, context)
    finally:
        await gateway.close()
    assert result.errors is None, result.errors
    [made_for] = upstream.made_for
    assert made_for is not None and made_for.key == (
        "11420100MB0000043N",
        "county-system",
        "张科员",
        "核验",
        None,
    )
    assert made_for.sign is gateway.federation.assertion_signer  # the gateway's own key signs
    assert on_behalf_of.get() is None  # reset when the operation ended
