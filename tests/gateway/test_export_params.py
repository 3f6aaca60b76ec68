"""Property tests of the export's query parameters: any query string is either read or
refused with BAD_REQUEST naming a parameter, never anything else (no 500)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from errors import BadRequest
from gateway.demo import CATALOG_FILE
from gateway.export import EXPORT_PARAMETERS, read_params, single_values
from policies.catalog import load_catalog

RESOURCES = load_catalog(CATALOG_FILE).resources
AMR = "amr.enterprise_registration"
NAMES = st.sampled_from((*EXPORT_PARAMETERS, "fromat", "item"))
VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(("1", "0", "csv", "package", "ndjson", "name,status", "2026-11-01T00:00:00Z", "100")),
)


@given(query=st.dictionaries(NAMES, VALUES, max_size=6))
def test_any_query_is_read_or_refused_naming_a_parameter(query: dict[str, str]) -> None:
    try:
        params = read_params(RESOURCES, AMR, query)
    except BadRequest as refused:
        assert refused.extensions["parameter"] in {*query, "items"}
        assert refused.status == 400
        return
    assert params.items and set(params.items) <= set(RESOURCES[AMR].items_by_name)
    assert params.limit is None or params.limit >= 1
    assert params.since is None or params.since.tzinfo is dt.UTC


@given(limit=st.integers(min_value=1, max_value=10**9))
def test_every_positive_limit_is_read(limit: int) -> None:
    assert read_params(RESOURCES, AMR, {"items": "name", "limit": str(limit)}).limit == limit


@pytest.mark.parametrize(
    ("since", "utc"),
    [("2026-11-01T08:00:00", "2026-11-01T00:00:00"), ("2026-11-01T00:00:00Z", "2026-11-01T00:00:00")],
)
def test_since_without_offset_is_china_time(since: str, utc: str) -> None:
    params = read_params(RESOURCES, AMR, {"items": "name", "since": since})
    assert params.since == dt.datetime.fromisoformat(utc).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize("limit", ["²", "١٢", "１０", " ", "1e3", "0x10", "+5"])
def test_limits_that_are_not_ascii_whole_numbers_are_refused(limit: str) -> None:
    with pytest.raises(BadRequest) as refused:
        read_params(RESOURCES, AMR, {"items": "name", "limit": limit})
    assert refused.value.extensions["parameter"] == "limit"


@pytest.mark.parametrize(
    "pairs",
    [[("items", "inner_note"), ("items", "name")], [("items", "name"), ("after", "A"), ("after", "B")]],
)
def test_a_parameter_sent_more_than_once_is_refused_naming_it(pairs: list[tuple[str, str]]) -> None:
    """Which of two values counts is a guess (Starlette takes the last, a proxy may look at
    the first): the export refuses to guess, as POST /oauth/token does (RFC 6749 section 3.2)."""
    with pytest.raises(BadRequest) as refused:
        single_values(pairs)
    assert refused.value.extensions["parameter"] == pairs[-1][0] and "more than once" in refused.value.message


@given(query=st.dictionaries(NAMES, VALUES, max_size=6))
def test_distinct_parameters_are_kept_as_sent(query: dict[str, str]) -> None:
    assert single_values(list(query.items())) == query
