"""gateway.json_body: a key sent twice in one JSON object is a 400 naming its path."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from errors import BadRequest
from gateway.json_body import refuse_duplicate_keys


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"a": 1, "a": 2}', "a"),
        ('{"claims": {"name": "a", "name": "b"}}', "claims.name"),
        ('{"requests": [{"claims": {}}, {"claims": {"x": 1, "x": 1}}]}', "requests[1].claims.x"),
        ('[{"variables": {"c": {"n": 1, "n": 2}}}]', "[0].variables.c.n"),
        ('{"a": 1, "b": {"a": 2}}', None),  # the same name in different objects is fine
        ("[" * 5000 + "]" * 5000, "(body)"),  # deeper than json's recursion: 400, never a 500
        ('{"a": NaN}', None),  # json reads NaN (orjson, run first, refuses it)
    ],
)
def test_a_key_sent_twice_is_named(body: str, field: str | None) -> None:
    if field is None:
        refuse_duplicate_keys(body)
        return
    with pytest.raises(BadRequest) as refused:
        refuse_duplicate_keys(body.encode())
    assert refused.value.extensions["field"] == field


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=10,
)


@given(JSON)
def test_a_document_without_duplicates_passes(value: object) -> None:
    refuse_duplicate_keys(json.dumps(value))
