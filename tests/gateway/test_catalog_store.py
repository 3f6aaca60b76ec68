"""The stored catalog (gateway/catalog_store.py) on SQLite and PostgreSQL: import validated
as load_catalog, export byte-stable, providers edit their own entries only, item-by-item
review, return with reasons, publication through ``on_publish``, withdrawal, history, and
bad input refused without touching what is stored."""

from __future__ import annotations

import asyncio
import itertools
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from hypothesis import given
from hypothesis import strategies as st

from errors import BadRequest, CatalogError, CatalogErrors, Forbidden
from gateway.catalog_store import CatalogEntryRow, CatalogEventRow, CatalogMetaRow, CatalogStore, _Register
from gateway.platform import PlatformDB
from policies.catalog import Catalog, load_catalog
from policies.chinatime import today_in_china
from policies.decision import Consumer
from policies.share import Share
from policies.timeliness import add_months
from policies.workflow import Actor
from policies.yamlfiles import StrictTextDatesLoader

TESTS = Path(__file__).parents[1]
DEMO = TESTS.parent / "gateway" / "demo_catalog.yaml"
CATALOGS = [DEMO, TESTS / "data" / "catalog.yaml", *sorted((TESTS / "data" / "profiles").glob("*.yaml")),
            TESTS / "policies" / "data" / "catalog_folders" / "split"]  # fmt: skip
AMR, TAX = "11420000MB00000191", "11420000MB0000027U"  # providers in tests/data/catalog.yaml
RESOURCE = "amr.enterprise_registration"
OPERATOR = Actor(Consumer("11420100MB00010040", "ops", frozenset({"operator"})), user="审核员")
AMR_PROVIDER = Actor(Consumer(AMR, "amr-app", frozenset({"provider"})), user="编目员")
TAX_PROVIDER = Actor(Consumer(TAX, "tax-app", frozenset({"provider"})))


@pytest.fixture
async def store(platform_url: str) -> AsyncIterator[tuple[CatalogStore, list[Catalog]]]:
    platform = PlatformDB(platform_url)
    await platform.create_schema()
    await _empty(platform)  # PostgreSQL is shared between tests
    published: list[Catalog] = []

    async def record(catalog: Catalog) -> None:
        published.append(catalog)

    yield CatalogStore(platform, on_publish=record), published
    await _empty(platform)
    await platform.close()


async def _empty(platform: PlatformDB) -> None:
    async with platform.engine.begin() as conn:
        for table in (CatalogEntryRow, CatalogEventRow, CatalogMetaRow):
            await conn.execute(sa.delete(table))


async def _imported(store: CatalogStore, path: Path = TESTS / "data" / "catalog.yaml") -> Catalog:
    return (await store.import_catalog(path, OPERATOR)).catalog


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.name)
async def test_import_then_export_is_byte_stable(store: Any, path: Path, tmp_path: Path) -> None:
    catalog_store, _ = store
    imported = await _imported(catalog_store, path)
    assert imported == _without_files(load_catalog(path))  # the same validated dataclasses
    first = await catalog_store.export_yaml()
    (tmp_path / "exported.yaml").write_bytes(first)
    assert _without_files(load_catalog(tmp_path / "exported.yaml")) == imported
    again = await catalog_store.import_catalog(tmp_path / "exported.yaml", OPERATOR)
    assert (again.published, again.withdrawn) == (0, 0)  # nothing changed: nothing new published
    assert await catalog_store.export_yaml() == first


def _without_files(catalog: Catalog) -> Catalog:
    return Catalog(catalog.profile, catalog.departments, catalog.resources)


async def test_a_bad_catalog_is_refused_with_every_problem_and_nothing_stored(
    store: Any, tmp_path: Path
) -> None:
    catalog_store, published = store
    await _imported(catalog_store)
    before = await catalog_store.export_yaml()
    data = yaml.safe_load((TESTS / "data" / "catalog.yaml").read_text(encoding="utf-8"))
    data["resources"][0]["items"][1]["share"] = "not_shared"  # without basis
    data["resources"][1]["update_cycle"] = "hourly"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogErrors) as refused:
        await catalog_store.import_catalog(bad, OPERATOR)
    paths = {(e.file, e.path) for e in refused.value.errors}
    assert (str(bad), "resources[0].items[1].basis") in paths
    assert (str(bad), "resources[1].update_cycle") in paths
    assert await catalog_store.export_yaml() == before
    assert published == []  # an import is no publication to a serving gateway


async def test_a_yaml_syntax_error_names_the_file_and_line(store: Any, tmp_path: Path) -> None:
    catalog_store, _ = store
    broken = tmp_path / "broken.yaml"
    broken.write_text("profile: hubei\ndepartments: [\n", encoding="utf-8")
    with pytest.raises(CatalogError) as refused:
        await catalog_store.import_catalog(broken, OPERATOR)
    assert refused.value.file == str(broken) and refused.value.path.startswith("line")
    assert not await catalog_store.has_catalog()


async def test_provider_drafts_its_own_resource_operator_reviews_item_by_item_and_publishes(
    store: Any,
) -> None:
    catalog_store, published = store
    await _imported(catalog_store)
    resource = _resource_body(RESOURCE)
    resource["summary"] = "企业登记基本信息(年度维护)"
    resource["items"].append(
        {"name": "phone", "title": "联系电话", "share": "conditional", "condition": "用于联系核实"}
    )
    drafted = await catalog_store.draft(AMR_PROVIDER, resource, "新增联系电话")
    assert {(e.item, e.state.value) for e in drafted} == {(None, "draft"), ("phone", "draft")}
    submitted = await catalog_store.submit(AMR_PROVIDER, RESOURCE)
    assert all(e.state.value == "submitted" for e in submitted)
    with pytest.raises(BadRequest, match="no approved entries"):
        await catalog_store.publish(OPERATOR, RESOURCE)  # nothing reviewed yet
    await catalog_store.review(OPERATOR, RESOURCE, None, True, [])
    returned = await catalog_store.review(OPERATOR, RESOURCE, "phone", False, ["条件表述不清"])
    assert (returned.state.value, returned.reasons) == ("returned", ("条件表述不清",))
    catalog = await catalog_store.publish(OPERATOR, RESOURCE)
    served = catalog.resources[RESOURCE]
    assert served.summary == "企业登记基本信息(年度维护)" and "phone" not in served.items_by_name
    assert served.reviewed is not None  # the yearly upkeep (art. 10) is today
    assert published[-1] is catalog
    # the provider corrects the returned item; the second round publishes it
    corrected = {**resource["items"][-1], "condition": "用于行政审批联系核实"}
    await catalog_store.draft(
        AMR_PROVIDER, {**_resource_body(RESOURCE, catalog_store_items=False), "items": [corrected]}
    )
    await catalog_store.submit(AMR_PROVIDER, RESOURCE)
    for item in (None, "phone"):
        await catalog_store.review(OPERATOR, RESOURCE, item, True, [])
    catalog = await catalog_store.publish(OPERATOR, RESOURCE)
    phone = catalog.resources[RESOURCE].items_by_name["phone"]
    assert (phone.share, phone.condition) == (Share.CONDITIONAL, "用于行政审批联系核实")


async def test_a_provider_cannot_touch_another_departments_entries(store: Any) -> None:
    catalog_store, _ = store
    await _imported(catalog_store)
    before = await catalog_store.export_yaml()
    with pytest.raises(Forbidden) as refused:
        await catalog_store.draft(TAX_PROVIDER, {**_resource_body(RESOURCE), "summary": "篡改"})
    assert refused.value.extensions == {"code": "FORBIDDEN", "provider": AMR}
    hand_over = {**_resource_body("tax.tax_credit"), "provider": AMR}  # giving its resource away
    with pytest.raises(Forbidden):
        await catalog_store.draft(TAX_PROVIDER, hand_over)
    with pytest.raises(Forbidden):
        await catalog_store.submit(TAX_PROVIDER, RESOURCE)
    with pytest.raises(Forbidden):
        await catalog_store.withdraw(TAX_PROVIDER, RESOURCE, "name", ["不需要"])
    with pytest.raises(Forbidden):
        await catalog_store.review(AMR_PROVIDER, RESOURCE, None, True, [])  # never its own reviewer
    with pytest.raises(Forbidden):
        await catalog_store.history(TAX_PROVIDER.consumer, RESOURCE)
    assert await catalog_store.export_yaml() == before
    assert {e.provider for e in await catalog_store.entries(TAX_PROVIDER.consumer)} == {TAX}


async def test_an_invalid_draft_names_every_problem_and_stores_nothing(store: Any) -> None:
    catalog_store, _ = store
    await _imported(catalog_store)
    before = await catalog_store.entries(OPERATOR.consumer)
    resource = _resource_body(RESOURCE)
    resource["items"][1] = {**resource["items"][1], "share": "not_shared"}  # no basis
    resource["modes"] = ["query", "teleport"]
    with pytest.raises(BadRequest) as refused:
        await catalog_store.draft(AMR_PROVIDER, resource)
    paths = {p["path"] for p in refused.value.extensions["problems"]}
    assert paths == {"resources[0].items[1].basis", "resources[0].modes"}
    assert refused.value.extensions["problems"][0]["where"] == f"catalog store: resource {RESOURCE}"
    for body, field in (
        ([], "resource"),
        ({"name": "x"}, "resource.id"),
        ({"id": RESOURCE, "items": "x"}, "resource.items"),
    ):
        with pytest.raises(BadRequest) as wrong:
            await catalog_store.draft(AMR_PROVIDER, body)  # type: ignore[arg-type]
        assert wrong.value.extensions["field"] == field
    assert await catalog_store.entries(OPERATOR.consumer) == before


async def test_withdrawing_an_item_takes_it_out_at_once_and_the_key_item_is_refused(store: Any) -> None:
    catalog_store, published = store
    await _imported(catalog_store)
    with pytest.raises(BadRequest, match="reasons"):
        await catalog_store.withdraw(AMR_PROVIDER, RESOURCE, "legal_representative", [])
    with pytest.raises(BadRequest, match=r"resources\[0\]\.key"):
        await catalog_store.withdraw(AMR_PROVIDER, RESOURCE, "uscc", ["误登记"])
    await catalog_store.withdraw(AMR_PROVIDER, RESOURCE, "legal_representative", ["依法不再共享"])
    assert "legal_representative" not in published[-1].resources[RESOURCE].items_by_name
    await catalog_store.withdraw(OPERATOR, "tax.tax_credit", None, ["资源下线"])
    assert "tax.tax_credit" not in (await catalog_store.published_catalog()).resources
    with pytest.raises(BadRequest, match="cannot withdraw"):
        await catalog_store.withdraw(OPERATOR, "tax.tax_credit", None, ["again"])


async def test_history_tells_who_changed_what_when_and_why(store: Any) -> None:
    catalog_store, _ = store
    await _imported(catalog_store)
    await catalog_store.draft(
        AMR_PROVIDER, {**_resource_body(RESOURCE, catalog_store_items=False), "summary": "新"}, "年度维护"
    )
    await catalog_store.submit(AMR_PROVIDER, RESOURCE)
    await catalog_store.review(OPERATOR, RESOURCE, None, False, ["摘要过短"])
    steps = await catalog_store.history(AMR_PROVIDER.consumer, RESOURCE, None)
    header = [s for s in steps if s.item is None]
    assert [s.action for s in header] == ["import", "draft", "submit", "return"]
    draft = header[1]
    assert (draft.department, draft.client, draft.user, draft.reasons) == (
        AMR,
        "amr-app",
        "编目员",
        ("年度维护",),
    )
    assert draft.changed == ("summary",) and draft.body is not None and draft.body["summary"] == "新"
    assert header[3].reasons == ("摘要过短",) and header[3].department == OPERATOR.consumer.department
    assert all(a.at <= b.at for a, b in itertools.pairwise(steps))


async def test_start_up_imports_once_and_keeps_workflow_edits(store: Any, tmp_path: Path) -> None:
    catalog_store, _ = store
    path = tmp_path / "catalog.yaml"
    shutil.copy(TESTS / "data" / "catalog.yaml", path)
    assert RESOURCE in (await catalog_store.ensure(path)).resources  # first start: imported
    text = path.read_text(encoding="utf-8").replace("企业登记信息", "企业登记信息(改)", 1)
    path.write_text(text, encoding="utf-8")
    assert (await catalog_store.ensure(path)).resources[RESOURCE].name == "企业登记信息(改)"  # no edits yet
    await catalog_store.withdraw(OPERATOR, "tax.tax_credit", None, ["下线"])
    path.write_text(text.replace("企业登记信息(改)", "企业登记信息(再改)", 1), encoding="utf-8")
    kept = await catalog_store.ensure(path)  # the workflow published since: the store wins
    assert kept.resources[RESOURCE].name == "企业登记信息(改)" and "tax.tax_credit" not in kept.resources


def _resource_body(rid: str, *, catalog_store_items: bool = True) -> dict[str, Any]:
    data = yaml.load(
        (TESTS / "data" / "catalog.yaml").read_text(encoding="utf-8"), Loader=StrictTextDatesLoader
    )
    body = next(r for r in data["resources"] if r["id"] == rid)
    if not catalog_store_items:
        body.pop("items")
    return body


async def test_yearly_upkeep_is_flagged_to_the_provider_and_cleared_by_a_review(store: Any) -> None:
    catalog_store, _ = store
    await _imported(catalog_store, TESTS / "data" / "profiles" / "shanghai.yaml")  # no reviewed date
    provider = Actor(Consumer("11310000MB0001011L", "amr", frozenset({"provider"})))
    [header] = [e for e in await catalog_store.entries(provider.consumer, RESOURCE) if e.item is None]
    assert header.upkeep_overdue is True  # art. 10: never reviewed
    body = dict(header.published or {})
    await catalog_store.draft(provider, body, "年度全面维护")  # unchanged: the yearly upkeep
    [submitted] = await catalog_store.submit(provider, RESOURCE)
    assert submitted.due is not None and submitted.overdue is False  # 2 working days (art. 10)
    await catalog_store.review(OPERATOR, RESOURCE, None, True, [])
    await catalog_store.publish(OPERATOR, RESOURCE)
    [header] = [e for e in await catalog_store.entries(provider.consumer, RESOURCE) if e.item is None]
    assert header.upkeep_overdue is False and header.upkeep_due is not None
    assert header.upkeep_due == add_months(today_in_china(), 12)


async def test_a_draft_with_a_value_json_cannot_hold_names_the_field(store: Any) -> None:
    catalog_store, _ = store
    await _imported(catalog_store)
    with pytest.raises(BadRequest) as refused:
        await catalog_store.draft(AMR_PROVIDER, {**_resource_body(RESOURCE), "published": {1, 2}})
    assert refused.value.extensions["field"] == "resource"


CONSUMER = Actor(Consumer("11420000MB0000027U", "tax-app", frozenset({"consumer"})))


@pytest.mark.parametrize("name", ["", None])
async def test_an_item_without_a_name_never_overwrites_the_resources_own_fields(
    store: Any, name: Any
) -> None:
    catalog_store, _ = store
    await _imported(catalog_store)
    before = await catalog_store.entries(OPERATOR.consumer)
    resource = _resource_body(RESOURCE)
    item = {"title": "无名", "share": "unconditional"} if name is None else {"name": name, "title": "无名"}
    resource["items"].append(item)
    with pytest.raises(BadRequest) as refused:
        await catalog_store.draft(AMR_PROVIDER, resource)
    assert "name" in str(refused.value)
    assert await catalog_store.entries(OPERATOR.consumer) == before


@pytest.mark.parametrize("provider", [None, 12345, ["11420000MB00000191"]])
async def test_a_department_without_the_provider_role_cannot_draft_whatever_provider_it_claims(
    store: Any, provider: Any
) -> None:
    catalog_store, _ = store
    await _imported(catalog_store)
    body = {**_resource_body(RESOURCE), "id": "new.thing", "code": "420000-AMR-999"}
    body.pop("provider")
    if provider is not None:
        body["provider"] = provider
    with pytest.raises(Forbidden):
        await catalog_store.draft(CONSUMER, body)


async def test_a_consumer_cannot_tell_a_drafted_resource_from_none(store: Any) -> None:
    """An unpublished draft's id must not leak to a department without a register role: the
    refusal is the same FORBIDDEN whether the resource exists or not."""
    catalog_store, _ = store
    await _imported(catalog_store)
    secret = {**_resource_body(RESOURCE), "id": "amr.secret_plan", "code": "420000-AMR-998"}
    await catalog_store.draft(AMR_PROVIDER, secret)
    for rid in ("amr.secret_plan", "amr.no_such_thing"):
        with pytest.raises(Forbidden):
            await catalog_store.history(CONSUMER.consumer, rid)
        with pytest.raises(Forbidden):
            await catalog_store.submit(CONSUMER, rid)
        with pytest.raises(Forbidden):
            await catalog_store.withdraw(CONSUMER, rid, None, ["x"])


ODD_IDS = ["\x00", "amr\x00.enterprise_registration", "a" * 300, " ", "amr.enterprise_registration\n"]


@pytest.mark.parametrize("odd", ODD_IDS, ids=["nul", "inner-nul", "long", "blank", "newline"])
async def test_odd_ids_are_bad_requests_on_every_backend_and_store_nothing(store: Any, odd: str) -> None:
    catalog_store, _ = store
    await _imported(catalog_store)
    before = await catalog_store.export_yaml()
    calls = [
        catalog_store.history(AMR_PROVIDER.consumer, odd),
        catalog_store.history(AMR_PROVIDER.consumer, RESOURCE, odd),
        catalog_store.entries(AMR_PROVIDER.consumer, odd),
        catalog_store.submit(AMR_PROVIDER, odd),
        catalog_store.review(OPERATOR, odd, None, True, []),
        catalog_store.review(OPERATOR, RESOURCE, odd, True, []),
        catalog_store.withdraw(AMR_PROVIDER, odd, None, ["x"]),
        catalog_store.withdraw(AMR_PROVIDER, RESOURCE, odd, ["x"]),
        catalog_store.publish(OPERATOR, odd),
        catalog_store.draft(AMR_PROVIDER, {**_resource_body(RESOURCE), "id": odd}),
        catalog_store.draft(
            AMR_PROVIDER, {**_resource_body(RESOURCE), "items": [{"name": odd, "title": "怪"}]}
        ),
    ]
    for call in calls:
        try:
            answer = await call
        except BadRequest:
            continue
        assert answer == [], answer  # entries / history of nothing: nothing
    assert await catalog_store.export_yaml() == before


async def test_nobody_approves_a_change_they_drafted_or_submitted_themselves(store: Any) -> None:
    """Shanghai art. 10 separates the cataloguer from the reviewer (审核人员逐条审核): a client
    holding both roles cannot approve or publish its own change; another operator can."""
    catalog_store, _ = store
    await _imported(catalog_store)
    both = Actor(
        Consumer(AMR_PROVIDER.consumer.department, "amr-app", frozenset({"provider", "operator"})), "编目员"
    )
    await catalog_store.draft(both, {**_resource_body(RESOURCE), "summary": "自审"})
    await catalog_store.submit(both, RESOURCE)
    with pytest.raises(Forbidden, match="review"):
        await catalog_store.review(both, RESOURCE, None, True, [])
    assert (await catalog_store.review(OPERATOR, RESOURCE, None, True, [])).state.value == "approved"


async def test_a_return_racing_a_publication_never_publishes_what_was_returned(store: Any) -> None:
    """Review and publish at once, many times: either the return or the publication wins,
    never both (a returned change served, or history saying returned while it is published)."""
    catalog_store, _ = store
    await _imported(catalog_store)
    for round_ in range(6):
        await catalog_store.draft(AMR_PROVIDER, {**_resource_body(RESOURCE), "summary": f"第{round_}版"})
        await catalog_store.submit(AMR_PROVIDER, RESOURCE)
        await catalog_store.review(OPERATOR, RESOURCE, None, True, [])
        outcomes = await asyncio.gather(
            catalog_store.publish(OPERATOR, RESOURCE),
            catalog_store.review(OPERATOR, RESOURCE, None, False, ["撤回审核"]),
            return_exceptions=True,
        )
        won = [not isinstance(o, BaseException) for o in outcomes]
        assert won.count(True) == 1, outcomes
        assert all(isinstance(o, BadRequest) for o in outcomes if isinstance(o, BaseException)), outcomes
        [header] = [e for e in await catalog_store.entries(OPERATOR.consumer, RESOURCE) if e.item is None]
        assert header.state.value == ("published" if won[0] else "returned")


@given(
    st.lists(
        st.tuples(st.sampled_from("abc"), st.sampled_from(["", "x", "y", "z"]), st.integers(0, 5)),
        max_size=30,
    )
)
def test_the_register_grouped_in_one_pass_is_each_resources_rows_in_order(
    rows: list[tuple[str, str, int]],
) -> None:
    register = _Register({(r, i): CatalogEntryRow(resource=r, item=i, position=p) for r, i, p in rows})
    groups = register.grouped()
    assert set(groups) == {r for r, _, _ in rows}
    for resource, grouped in groups.items():
        assert grouped == register.of(resource)
