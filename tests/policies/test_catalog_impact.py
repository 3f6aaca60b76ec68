"""The breaking-change analysis (policies.catalog_impact): table-driven over
tests/policies/data/catalog_impact.yaml (edits of the demo catalog), plus properties."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.demo import CATALOG_FILE
from policies.catalog import Catalog, load_catalog
from policies.catalog_impact import STRICTNESS, ApplicationRef, ChangeKind, breaking_changes, impact
from policies.decision import Grant
from policies.share import Mode, Share

DATA = yaml.safe_load((Path(__file__).parent / "data" / "catalog_impact.yaml").read_text(encoding="utf-8"))
DEMO = yaml.safe_load(CATALOG_FILE.read_text(encoding="utf-8"))
CONSUMERS: dict[str, str] = DATA["consumers"]
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def grants() -> list[Grant]:
    return [
        Grant(
            g["id"],
            CONSUMERS[g["consumer"]],
            g["resource"],
            frozenset(g["items"]),
            frozenset(Mode(m) for m in g["modes"]),
            "test",
            EPOCH,
            EPOCH + dt.timedelta(days=365),
            revoked=g.get("revoked", False),
        )
        for g in DATA["grants"]
    ]


def applications() -> list[ApplicationRef]:
    return [
        ApplicationRef(
            a["id"],
            CONSUMERS[a["consumer"]],
            a["resource"],
            frozenset(a["items"]),
            frozenset(Mode(m) for m in a["modes"]),
            a["status"],
        )
        for a in DATA["applications"]
    ]


def edited(tmp: Path, name: str, edits: list[dict[str, Any]], profile: str | None = None) -> Catalog:
    """The demo catalog with ``edits`` applied (a removed item's column mapping goes with it,
    as a provider removing it would do), loaded and validated like any catalog."""
    data = copy.deepcopy(DEMO)
    if profile:
        data["profile"] = profile
    for edit in edits:
        _apply(data, edit)
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_catalog(path)


def _apply(data: dict[str, Any], edit: dict[str, Any]) -> None:
    resources = data["resources"]
    resource = next(r for r in resources if r["id"] == edit["resource"])
    if "item" not in edit:
        if edit.get("remove"):
            resources.remove(resource)
        else:
            resource.update(edit["set"])
        return
    item = next(i for i in resource["items"] if i["name"] == edit["item"])
    if edit.get("remove"):
        resource["items"].remove(item)
        resource["source"].get("columns", {}).pop(item["name"], None)
        return
    for key, value in edit["set"].items():
        if value is None:
            item.pop(key, None)
        else:
            item[key] = value


def _profiled(tmp: Path, profile: str | None) -> Catalog:
    return edited(tmp, f"old-{profile}", [], profile)


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda case: case["name"])
def test_impact(case: dict[str, Any], tmp_path: Path) -> None:
    old = _profiled(tmp_path, case.get("profile"))
    new = edited(tmp_path, "new", case["edits"], case.get("profile"))
    found = impact(old, new, grants(), applications())
    assert [c.as_json() for c in found.changes] == case["changes"]
    assert {a.id for a in found.grants} == set(case["grants"])
    assert {a.id for a in found.applications} == set(case["applications"])
    assert list(found.consumers) == sorted(CONSUMERS[c] for c in case.get("consumers", []))
    assert found.breaking is bool(case["changes"])
    for affected in (*found.grants, *found.applications):  # each names changes of its own resource
        assert affected.changes and all(
            found.changes[i].resource == affected.resource for i in affected.changes
        )


def test_every_change_kind_has_a_case() -> None:
    kinds = {change["kind"] for case in DATA["cases"] for change in case["changes"]}
    assert kinds == {kind.value for kind in ChangeKind} - {ChangeKind.SUBJECT_CHANGED.value}


BASE = load_catalog(CATALOG_FILE)
SHARED = [(r.id, i.name) for r in BASE.resources.values() for i in r.items if i.share is not Share.NOT_SHARED]


def _reclassed(catalog: Catalog, rid: str, name: str, share: Share) -> Catalog:
    """``catalog`` with one item moved to ``share`` (condition / basis set as the class needs)."""
    resource = catalog.resources[rid]
    extra = {"condition": "条件", "basis": None} if share is Share.CONDITIONAL else {"condition": None}
    if share is Share.NOT_SHARED:
        extra = {"condition": None, "basis": "依据"}
    items = tuple(
        _replace(item, share=share, compare=None, **extra) if item.name == name else item
        for item in resource.items
    )
    changed = _replace(resource, items=items)
    return _replace(catalog, resources={**catalog.resources, rid: changed})


def _replace(obj: Any, **changes: Any) -> Any:
    return dataclasses.replace(obj, **changes)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SHARED), st.sampled_from(list(Share)))
def test_a_class_change_is_breaking_exactly_when_stricter(target: tuple[str, str], share: Share) -> None:
    """Moving one item to ``share``: a class_stricter change listed iff the new class ranks
    above the old; a grant on that item is listed iff that change (or a compare change) is."""
    rid, name = target
    before = BASE.resources[rid].items_by_name[name]
    new = _reclassed(BASE, rid, name, share)
    changes = breaking_changes(BASE, new)
    stricter = [c for c in changes if c.kind is ChangeKind.CLASS_STRICTER]
    assert bool(stricter) is (STRICTNESS[share] > STRICTNESS[before.share])
    assert all(c.resource == rid and c.item == name for c in changes)
    holder = Grant(
        "g", "c", rid, frozenset({name}), frozenset(Mode), "p", EPOCH, EPOCH + dt.timedelta(days=1)
    )
    assert bool(impact(BASE, new, [holder]).grants) is bool(changes)


@given(st.lists(st.sampled_from(sorted(BASE.resources)), unique=True))
def test_removing_resources_lists_each_once_and_nothing_else(removed: list[str]) -> None:
    new = _replace(BASE, resources={rid: r for rid, r in BASE.resources.items() if rid not in removed})
    changes = breaking_changes(BASE, new)
    assert [c.resource for c in changes] == [rid for rid in BASE.resources if rid in removed]
    assert {c.kind for c in changes} <= {ChangeKind.RESOURCE_REMOVED}


def test_the_same_catalog_breaks_nothing_whatever_the_grants() -> None:
    assert not impact(BASE, BASE, grants(), applications()).breaking
