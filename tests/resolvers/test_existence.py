"""Whether a subject exists is answered only from resources offered for query."""

from __future__ import annotations

from pathlib import Path

from gateway.app import Gateway
from gateway.settings import Settings
from policies.decision import Consumer
from resolvers.context import RequestContext
from tests.conftest import CATALOG

KNOWN = "91420100MA4K00010R"  # in the test catalog's enterprise and tax tables
QUERY = "query($c: USCC!) { organization(code: $c) { code } }"


async def exists(catalog_text: str, tmp_path: Path) -> object:
    path = tmp_path / "catalog.yaml"
    path.write_text(catalog_text, encoding="utf-8")
    gateway = await Gateway.start(
        Settings.load({"GOVSHARE_AUDIT": "off"}, data=str(tmp_path), catalog=str(path))
    )
    consumer = Consumer("11420100MB0000043N", "test", frozenset({"consumer"}))
    result = await gateway.schema.execute(
        QUERY, {"c": KNOWN}, RequestContext(gateway.federation, consumer, purpose="核验")
    )
    await gateway.close()
    assert result.errors is None
    return result.data["organization"]  # type: ignore[index]


async def test_a_known_organization_exists(tmp_path: Path):
    assert await exists(CATALOG.read_text(encoding="utf-8"), tmp_path) == {"code": KNOWN}


async def test_compare_only_resources_do_not_answer_existence(tmp_path: Path):
    text = CATALOG.read_text(encoding="utf-8")
    text = text.replace("modes: [query, compare, bulk]", "modes: [compare]").replace(
        "modes: [query, compare]\n    source: {table: tax_credit",
        "modes: [compare]\n    source: {table: tax_credit",
    )
    assert await exists(text, tmp_path) is None
