"""The demo: valid synthetic subjects, a catalog with every class, a usable demo.json."""

from __future__ import annotations

import json
import random

from gateway import demo
from policies.catalog import load_catalog
from policies.codes import is_valid_citizen_id, is_valid_uscc
from policies.share import Share
from tests.conftest import run_cli


def test_ten_thousand_valid_distinct_codes_of_each_kind():
    organizations = demo.organization_codes(10_000)
    persons = demo.person_ids(10_000, random.Random(1))
    assert len(set(organizations)) == 10_000 and all(map(is_valid_uscc, organizations))
    assert len(set(persons)) >= 9_990 and all(map(is_valid_citizen_id, persons))


def test_demo_catalog_has_five_or_more_providers_and_every_class():
    catalog = load_catalog(demo.CATALOG_FILE)
    providers = {r.provider for r in catalog.resources.values()}
    assert len(providers) >= 5
    assert {d.code for d in (*demo.PROVIDERS, *demo.OTHER_PROVIDERS)} == providers
    classes = {item.share for r in catalog.resources.values() for item in r.items}
    assert classes == set(Share)
    assert {r.subject for r in catalog.resources.values()} == {"organization", "person"}


def test_demo_without_serving_writes_databases_and_demo_json(tmp_path):
    result = run_cli(
        tmp_path, "demo", "--no-serve", "--port", "0", "--organizations", "50", "--persons", "20"
    )
    assert "sample query" in result.stdout
    info = json.loads((tmp_path / "demo.json").read_text())
    assert set(info["tokens"]) == {"operator", "consumer", "consumer_with_grant", "provider"}
    assert info["samples"]["organizations"][0] == demo.organization_codes(1)[0]
    assert info["grant"]["consumer"] == demo.DRC.code
    assert {p.name for p in tmp_path.glob("*.db")} >= {f"{d.key}.db" for d in demo.PROVIDERS}
    run_cli(tmp_path, "demo", "--no-serve", "--port", "0", "--organizations", "50", "--persons", "20")
    again = json.loads((tmp_path / "demo.json").read_text())
    assert again["grant"]["id"] == info["grant"]["id"]  # reused, not granted twice
