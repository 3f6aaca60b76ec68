"""policies.catalog_query: argument validation (every refusal names its argument and what it
accepts), folding, the reference scan and the ids an application may name."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from errors import BadRequest
from policies.catalog import load_catalog
from policies.catalog_query import catalog_query, fold, item_names, page_after, scan
from policies.share import Mode, Share

CATALOG = load_catalog(Path(__file__).parents[2] / "gateway" / "demo_catalog.yaml")
AMR = "amr.enterprise_registration"


@given(
    argument=st.sampled_from(["search", "provider", "share", "subject", "mode"]),
    value=st.text(max_size=130),
)
def test_any_text_is_a_query_or_a_refusal_naming_its_argument(argument: str, value: str) -> None:
    try:
        query = catalog_query(CATALOG, **{argument: value})
    except BadRequest as refused:
        assert refused.extensions["argument"] == argument
        assert f"argument {argument}" in refused.message
        assert argument == "search" or refused.extensions["allowed"]
    else:
        assert query.search is None or 0 < len(query.search) <= 100


@pytest.mark.parametrize(
    ("arguments", "field", "expected"),
    [
        ({"share": "CONDITIONAL"}, "share", Share.CONDITIONAL),
        ({"share": "not_shared"}, "share", Share.NOT_SHARED),
        ({"share": "无条件共享"}, "share", Share.UNCONDITIONAL),  # hubei's own term
        ({"subject": "Person"}, "subject", "person"),
        ({"mode": "BULK"}, "mode", Mode.BULK),
        ({"provider": "11420100mb0001011l"}, "providers", frozenset({"11420100MB0001011L"})),
        ({"search": "  ＡＭＲ  法定 "}, "search", "amr 法定"),
    ],
)
def test_accepted_spellings(arguments: dict[str, str], field: str, expected: object) -> None:
    assert getattr(catalog_query(CATALOG, **arguments), field) == expected


def test_another_profiles_term_is_refused_with_this_profiles_terms() -> None:
    with pytest.raises(BadRequest, match="有条件共享") as refused:
        catalog_query(CATALOG, share="受限共享类")  # zhejiang's word; the demo is hubei
    assert "CONDITIONAL (有条件共享)" in refused.value.extensions["allowed"]


@given(st.text(max_size=50))
def test_fold_is_idempotent_and_one_line(text: str) -> None:
    assert fold(fold(text)) == fold(text) and "\n" not in fold(text)


def test_scan_finds_the_title_and_names_the_item() -> None:
    hits = scan(CATALOG, catalog_query(CATALOG, search="代表人"))
    assert [(h.resource, h.items) for h in hits] == [(AMR, ("legal_representative",))]


def test_item_ids_and_names_are_both_accepted() -> None:
    given_ids = [f"{AMR}.legal_representative", "address"]
    assert item_names(CATALOG, AMR, given_ids) == ("legal_representative", "address")


def test_an_item_id_of_another_resource_is_refused() -> None:
    with pytest.raises(BadRequest, match=r"not an item of amr\.enterprise_registration"):
        item_names(CATALOG, AMR, ["tax.tax_credit.credit_rating"])


@pytest.mark.parametrize("text", ["法定\x00代表人", "\x00", "\x1b[2J"])
def test_a_search_with_control_characters_is_refused(text: str) -> None:
    """SQLite's FTS5 and PostgreSQL both fail on a NUL (a 500 for any caller below the HTTP guard)."""
    with pytest.raises(BadRequest) as refused:
        catalog_query(CATALOG, search=text)
    assert refused.value.extensions["argument"] == "search"


@pytest.mark.parametrize("text", ["\x00", "amr.enterprise_registration\x00", "x" * 129])
def test_an_after_no_resource_id_can_be_is_refused(text: str) -> None:
    with pytest.raises(BadRequest) as refused:
        page_after(text)
    assert refused.value.extensions["argument"] == "after"
    assert page_after("amr.enterprise_registration") == "amr.enterprise_registration"
