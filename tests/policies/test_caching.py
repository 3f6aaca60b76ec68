"""policies.caching.row_ttl over the table in data/cache_ttl.yaml, and its bounds as properties."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from policies.caching import CYCLE_FRACTION, CYCLE_SECONDS, MAX_DERIVED_TTL, row_ttl
from policies.catalog import UPDATE_CYCLES, load_catalog

CASES = yaml.safe_load((Path(__file__).parent / "data" / "cache_ttl.yaml").read_text(encoding="utf-8"))
CATALOG = load_catalog(Path(__file__).parents[2] / "gateway" / "demo_catalog.yaml")
RESOURCE = CATALOG.resources["amr.enterprise_registration"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['cache_ttl']}-{c['update_cycle']}")
def test_row_ttl(case: dict) -> None:
    resource = dataclasses.replace(RESOURCE, cache_ttl=case["cache_ttl"], update_cycle=case["update_cycle"])
    assert row_ttl(resource) == case["ttl"]


@given(st.sampled_from(UPDATE_CYCLES))
def test_a_derived_ttl_is_a_small_fraction_of_the_cycle_and_at_most_an_hour(cycle: str) -> None:
    ttl = row_ttl(dataclasses.replace(RESOURCE, cache_ttl=None, update_cycle=cycle))
    if cycle == "realtime":
        assert ttl is None
    else:
        assert ttl is not None and 0 < ttl <= min(CYCLE_SECONDS[cycle] / CYCLE_FRACTION, MAX_DERIVED_TTL)


@given(st.integers(min_value=0, max_value=10**7), st.sampled_from(UPDATE_CYCLES))
def test_the_catalogs_cache_ttl_wins(seconds: int, cycle: str) -> None:
    ttl = row_ttl(dataclasses.replace(RESOURCE, cache_ttl=seconds, update_cycle=cycle))
    assert ttl == (seconds or None)
