"""Whether a subject exists is answered only from resources offered for query."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from errors import SourceUnavailable
from gateway.app import Gateway
from gateway.platform import new_grant_row
from gateway.settings import Settings
from policies.decision import Consumer
from resolvers.context import RequestContext
from tests.conftest import CATALOG

CONSUMER = "11420100MB0000043N"


async def applied(gateway: Gateway) -> None:
    """The test catalog's profile (hubei) reads unconditional items on application (art. 13):
    the consumer holds the platform's grant of every organization resource's key."""
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    for resource in gateway.catalog.resources_on("organization"):
        row = new_grant_row(CONSUMER, resource.id, [resource.key], "核验", until, list(resource.modes))
        await gateway.platform.add_grant(row)


KNOWN = "91420100MA4K00010R"  # in the test catalog's enterprise and tax tables
QUERY = "query($c: USCC!) { organization(code: $c) { code } }"


async def exists(catalog_text: str, tmp_path: Path) -> object:
    path = tmp_path / "catalog.yaml"
    path.write_text(catalog_text, encoding="utf-8")
    gateway = await Gateway.start(
        Settings.load({"GOVSHARE_AUDIT": "off"}, data=str(tmp_path), catalog=str(path))
    )
    await applied(gateway)
    consumer = Consumer(CONSUMER, "test", frozenset({"consumer"}))
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


class _Down:
    """A resource source whose department does not answer."""

    round_trips = 0

    def __init__(self, resource: str) -> None:
        self.resource = resource

    async def fetch(self, keys: object, items: object) -> dict[str, object]:
        raise SourceUnavailable(f"{self.resource}: down", resource=self.resource, provider="p")


UNKNOWN = "91420100MA4K00037H"  # a valid USCC in no table of the test catalog


async def existence_with(tmp_path: Path, down: set[str], code: str) -> tuple[object, list[str]]:
    gateway = await Gateway.start(
        Settings.load({"GOVSHARE_AUDIT": "off"}, data=str(tmp_path), catalog=str(CATALOG))
    )
    sources = dict(gateway.federation.sources)
    sources.update({rid: _Down(rid) for rid in down})  # type: ignore[misc]
    gateway.federation.sources = sources  # type: ignore[misc]
    await applied(gateway)
    consumer = Consumer(CONSUMER, "test", frozenset({"consumer"}))
    result = await gateway.schema.execute(
        QUERY, {"c": code}, RequestContext(gateway.federation, consumer, purpose="核验")
    )
    await gateway.close()
    codes = [e.extensions.get("code") for e in result.errors or []]  # type: ignore[union-attr]
    return (result.data or {}).get("organization"), codes


async def test_a_subject_no_source_could_answer_for_is_not_said_to_exist(tmp_path: Path):
    """Found by outside testing: with every source that could answer down, "does it exist?"
    answered yes (a failed fetch was taken for a found row), for a code no table holds,
    with no error and no SOURCE_UNAVAILABLE in the audit. Unknown is not yes."""
    from policies.catalog import load_catalog

    rids = {r.id for r in load_catalog(CATALOG).resources_on("organization")}
    organization, codes = await existence_with(tmp_path, rids, UNKNOWN)
    assert organization is None and codes == ["SOURCE_UNAVAILABLE"]


async def test_one_source_holding_the_subject_answers_even_if_another_is_down(tmp_path: Path):
    organization, codes = await existence_with(tmp_path, {"tax.tax_credit"}, KNOWN)
    assert organization == {"code": KNOWN} and codes == []


async def test_before_an_application_every_code_gets_the_same_answer(tmp_path: Path):
    """Hubei art. 13: without an approved application nothing tells whether a code exists."""
    gateway = await Gateway.start(
        Settings.load({"GOVSHARE_AUDIT": "off"}, data=str(tmp_path), catalog=str(CATALOG))
    )
    consumer = Consumer(CONSUMER, "test", frozenset({"consumer"}))
    answers = []
    for code in (KNOWN, UNKNOWN):
        result = await gateway.schema.execute(
            QUERY, {"c": code}, RequestContext(gateway.federation, consumer, purpose="核验")
        )
        answers.append(result.data)
    await gateway.close()
    assert answers == [{"organization": {"code": KNOWN}}, {"organization": {"code": UNKNOWN}}]
