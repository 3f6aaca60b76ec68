"""resolvers.limits: the cost of a document, measured in linear time; caches bounded by bytes.

Expected counts follow the definitions in resolvers/limits.py: ``fields`` counts field
selections and fragment uses with fragments inlined (a fragment spread twice in one
selection set is collected once, as execution collects it: GraphQL spec, CollectFields),
``depth`` the deepest field nesting, ``repeated`` the selections of a response name
already selected at the same merged place (spec, FieldsInSetCanMerge).
"""

from __future__ import annotations

import gc
import time
import tracemalloc

import pytest
from graphql import get_introspection_query, parse
from hypothesis import given, settings
from hypothesis import strategies as st

from errors import QueryTooComplex, RateLimited
from resolvers.extensions import _TOKEN, document_cache
from resolvers.limits import (
    ByteBoundedCache,
    OperationLimits,
    ParseBudget,
    check_document,
    check_variable_values,
    document_bytes,
    measure,
    repeated_fields,
)

ORG = "organization(code: $c)"


@pytest.mark.parametrize(
    ("document", "fields", "aliases", "depth"),
    [
        ("{ __typename }", 1, 0, 1),
        (f"query($c: USCC!) {{ {ORG} {{ code }} }}", 2, 0, 2),
        (f"query($c: USCC!) {{ a: {ORG} {{ code }} b: {ORG} {{ x: code }} }}", 4, 3, 2),
        (f"query($c: USCC!) {{ {ORG} {{ enterpriseRegistration {{ name status }} }} }}", 4, 0, 3),
        # inline fragment: counted as a selection, adds no depth
        (f"query($c: USCC!) {{ {ORG} {{ ... on Organization {{ code }} }} }}", 3, 0, 2),
        # a named fragment used twice under different fields: inlined twice
        (
            f"query($c: USCC!) {{ a: {ORG} {{ ...F }} b: {ORG} {{ ...F }} }}"
            " fragment F on Organization { enterpriseRegistration { n: name } }",
            8,
            4,
            3,
        ),
        # the same spread twice in one selection set is collected once
        (f"query($c: USCC!) {{ {ORG} {{ ...F ...F }} }} fragment F on Organization {{ code }}", 3, 0, 2),
        # two operations: validation works through both
        ("query A { __typename } query B { __typename t: __typename }", 3, 1, 1),
    ],
)
def test_measure_counts_by_the_definitions(document: str, fields: int, aliases: int, depth: int) -> None:
    cost = measure(parse(document))
    assert (cost.fields, cost.aliases, cost.depth) == (fields, aliases, depth)


def test_a_fragment_cycle_counts_nothing_more_and_ends() -> None:
    cost = measure(parse("{ ...A } fragment A on Query { __typename ...B } fragment B on Query { ...A }"))
    assert cost.fields == 4  # ...A, __typename, ...B and the spread closing the cycle, not followed


def test_fragments_spread_under_many_fields_are_measured_once_each() -> None:
    """30 fragments, each spreading the next under two fields: 2^30 fields when inlined.
    strawberry's MaxAliasesLimiter and QueryDepthLimiter walk each spread again (2^30
    visits); the measure walks each fragment once."""
    chain = " ".join(f"fragment F{i} on Organization {{ a: code x: {ORG} {{ ...F{i + 1} }} "
                     f"y: {ORG} {{ ...F{i + 1} }} }}" for i in range(30))  # fmt: skip
    document = parse(
        f"query($c: USCC!) {{ {ORG} {{ ...F0 }} }} {chain} fragment F30 on Organization {{ code }}"
    )
    start = time.perf_counter()
    cost = measure(document)
    assert time.perf_counter() - start < 0.1
    assert cost.fields > 2**30
    with pytest.raises(QueryTooComplex) as refused:
        check_document(document, OperationLimits())
    assert refused.value.extensions["limit"] == "max_fields"


@pytest.mark.parametrize(
    ("document", "repeated"),
    [
        # the example: one field selected 380 times
        ("query($c: USCC!) { " + ORG + " { enterpriseRegistration { " + "name " * 380 + "} } }", 379),
        # fragments adding different items of one resource: the resource is merged once
        (
            f"query($c: USCC!) {{ {ORG} {{ ...A ...B }} }}"
            " fragment A on Organization { enterpriseRegistration { name } }"
            " fragment B on Organization { enterpriseRegistration { status } }",
            1,
        ),
        # distinct aliases are distinct response names
        (f"query($c: USCC!) {{ a: {ORG} {{ code }} b: {ORG} {{ code }} }}", 0),
        # repeats below a repeated field meet at the same merged place
        (f"query($c: USCC!) {{ {ORG} {{ code code }} {ORG} {{ code }} }}", 3),
    ],
)
def test_repeated_fields_counts_selections_merged_into_one_place(document: str, repeated: int) -> None:
    assert repeated_fields(parse(document)) == repeated


def test_check_document_names_the_first_limit_exceeded() -> None:
    limits = OperationLimits(max_fields=3, max_aliases=1, max_depth=2, max_repeated_fields=0)
    cases = {
        "{ a: __typename b: __typename c: __typename d: __typename }": ("max_fields", 3, 4),
        "{ a: __typename b: __typename }": ("max_aliases", 1, 2),
        f"query($c: USCC!) {{ {ORG} {{ enterpriseRegistration {{ name }} }} }}": ("max_depth", 2, 3),
        "{ __typename __typename }": ("max_repeated_fields", 0, 1),
    }
    for document, (limit, maximum, found) in cases.items():
        with pytest.raises(QueryTooComplex) as refused:
            check_document(parse(document), limits)
        extensions = refused.value.extensions
        assert extensions == {"code": "QUERY_TOO_COMPLEX", "limit": limit, "maximum": maximum,
                              "variable": f"GOVSHARE_{limit.upper()}", "found": found}  # fmt: skip
        assert f"the limit is {maximum}" in refused.value.message


# --- caches bounded by bytes -------------------------------------------------------------


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: ByteBoundedCache[str, int] = ByteBoundedCache(30, lambda key, value: value)
    cache.put("a", 10)
    cache.put("b", 10)
    cache.put("c", 10)
    assert cache.get("a") == 10  # a is now the most recently used
    cache.put("d", 10)
    assert cache.get("b") is None
    assert [cache.get(k) for k in "acd"] == [10, 10, 10]
    assert cache.bytes == 30


def test_an_entry_larger_than_the_budget_is_not_kept() -> None:
    cache: ByteBoundedCache[str, int] = ByteBoundedCache(30, lambda key, value: value)
    cache.put("a", 10)
    cache.put("huge", 31)
    assert cache.get("huge") is None
    assert cache.get("a") == 10


@settings(max_examples=200)
@given(st.lists(st.tuples(st.sampled_from("abcdefgh"), st.integers(0, 50)), max_size=60), st.integers(1, 120))
def test_cached_bytes_never_exceed_the_budget(puts: list[tuple[str, int]], budget: int) -> None:
    cache: ByteBoundedCache[str, int] = ByteBoundedCache(budget, lambda key, value: value, entries=5)
    for key, size in puts:
        cache.put(key, size)
        kept = {k: cache._items[k][1] for k in cache._items}
        assert cache.bytes == sum(kept.values()) <= budget
        assert len(cache) <= 5
    if puts and puts[-1][1] <= budget:
        assert cache.get(puts[-1][0]) == puts[-1][1]  # the newest entry that fits is kept


SHAPES = {
    "fresh aliases": lambda i: "query($c: USCC!) { " + ORG + " { "
    + " ".join(f"a{i}_{j}: enterpriseRegistration {{ name }}" for j in range(240)) + " } }",
    "arguments": lambda i: "{ " + " ".join(f'o{i}_{j}: organization(code: "91420100MA000{j:05d}") {{ code }}'
                                            for j in range(190)) + " }",
    "fragments": lambda i: "{ ...F0 } "
    + " ".join(f"fragment F{j} on Query {{ t{i}: __typename ...F{j + 1} }}" for j in range(120))
    + " fragment F120 on Query { __typename }",
    "strings": lambda i: "{ " + " ".join(f'o{j}: organization(code: "{"x" * 60}{i}") {{ code }}'
                                         for j in range(150)) + " }",
}  # fmt: skip


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_document_estimate_is_an_upper_bound_of_real_memory(shape: str) -> None:
    text = SHAPES[shape](0)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        document = parse(text)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert getattr(document, "token_count", 0) > 500  # a document near the token limit
    assert kept <= document_bytes(text, document)


def test_many_distinct_large_documents_stay_within_the_cache_budget() -> None:
    """The issue's example: 150 distinct large documents grew RSS by 1.7 GB. The document
    cache keeps what its budget allows and lets the rest go."""
    budget = 4 * 1_048_576
    cache = document_cache(OperationLimits(cache_bytes=budget))
    texts = [SHAPES["fresh aliases"](i) for i in range(150)]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for text in texts:
            cache.put(text, parse(text))
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert cache.bytes <= budget
    assert 0 < len(cache) < 150
    assert kept <= budget


@pytest.mark.parametrize(
    "document",
    [
        get_introspection_query(descriptions=True),
        '{ a: organization(code: "x\\"y {") { code } } # a comment { with braces',
        'query($c: [USCC!]! = ["a", "b"]) { x(f: 1.5e3, g: -2, h: """block "" \\""" {""") { ...F } }'
        " fragment F on X { y @skip(if: true) }",
        "query Q($v: Int = 0) { __typename }  # trailing\n# and another\n",
    ],
)
def test_the_cheap_token_count_agrees_with_the_parser(document: str) -> None:
    """The pre-parse count (one regex pass) must equal graphql-core's own count for
    max_tokens, or it would refuse documents the parser admits."""
    assert len(_TOKEN.findall(document)) == parse(document).token_count


# Strings left open restart the scan at every quote unless the scan consumes them: each of
# these held the event loop ~0.8 s in one 16 KB request while counting only a few tokens
# (so neither max_tokens nor the parse budget stopped a client sending them in a loop).
UNTERMINATED = {
    "escaped quotes in an open string": "{ a(x: " + '"\\' * 8_185 + ")}",
    "open strings, one per line": '"\\"' * 4_000 + "\n",
    "escaped block quotes in an open block string": '"""' + '\\"""' * 4_090,
    "quotes inside an open block string": '"""' + '"a' * 8_180,
    "lone quotes": '"' * 16_384,
}


@pytest.mark.parametrize("document", UNTERMINATED.values(), ids=UNTERMINATED.keys())
def test_the_cheap_token_count_is_linear_in_the_document(document: str) -> None:
    """Each character is scanned a bounded number of times (about 1 ms per 16 KB); a
    quadratic scan of a document within max_document_chars takes hundreds of ms."""
    assert len(document) <= OperationLimits().max_document_chars
    start = time.perf_counter()
    _TOKEN.findall(document)
    assert time.perf_counter() - start < 0.05


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='"\\\n ab{}', max_size=200))
def test_the_cheap_token_count_never_undercounts_what_the_parser_reads(document: str) -> None:
    """Whatever the scan makes of text the parser refuses, on text the parser accepts it
    counts exactly the parser's tokens (max_tokens refuses nothing the parser admits)."""
    try:
        expected = parse(document).token_count
    except Exception:
        return
    assert len(_TOKEN.findall(document)) == expected


# --- fairness: parsing new documents -----------------------------------------------------


def test_the_parse_budget_spends_refills_at_its_rate_and_caps_at_its_burst() -> None:
    budget = ParseBudget(rate=100, burst=300)
    budget.take("a", 300, now=0.0)  # a full bucket to start
    with pytest.raises(RateLimited) as refused:
        budget.take("a", 1, now=0.0)
    extensions = refused.value.extensions
    assert (extensions["code"], extensions["limit"], extensions["maximum"]) == (
        "RATE_LIMITED", "new_tokens_per_second", 100,
    )  # fmt: skip
    assert extensions["variable"] == "GOVSHARE_NEW_TOKENS_PER_SECOND"
    assert extensions["retry_after"] == 0.0
    budget.take("b", 300, now=0.0)  # each client has its own bucket
    budget.take("a", 100, now=1.0)  # 100 tokens a second
    with pytest.raises(RateLimited):
        budget.take("a", 50, now=1.25)
    budget.take("a", 300, now=100.0)  # never more than the burst banked...
    with pytest.raises(RateLimited):
        budget.take("a", 1, now=100.0)


def test_the_parse_budget_keeps_a_bounded_number_of_clients() -> None:
    budget = ParseBudget(rate=1, burst=10, clients=3)
    for client in "abcd":
        budget.take(client, 10, now=0.0)
    assert len(budget._buckets) == 3
    budget.take("a", 10, now=0.0)  # forgotten, so full again


def _values_in(value: object) -> int:
    """The definition: every list element and object field, at any depth."""
    if isinstance(value, dict):
        return len(value) + sum(_values_in(v) for v in value.values())
    if isinstance(value, list):
        return len(value) + sum(_values_in(v) for v in value)
    return 0


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=2), inner, max_size=4),
    max_leaves=40,
)


VARIABLES = st.dictionaries(st.sampled_from(["c", "d"]), JSON_VALUES, max_size=2)


@given(st.lists(VARIABLES, min_size=1, max_size=3), st.integers(min_value=1, max_value=60))
def test_variable_values_are_refused_exactly_past_the_limit(variables: list[dict], maximum: int) -> None:
    operations = [{"query": "{ __typename }", "variables": v} for v in variables]
    total = sum(_values_in(v) for v in variables)
    if total > maximum:
        with pytest.raises(QueryTooComplex) as refused:
            check_variable_values(operations, maximum, max_depth=1_000)
        assert refused.value.extensions["limit"] == "max_variable_values"
    else:
        check_variable_values(operations, maximum, max_depth=1_000)


def nested(depth: int, kind: str) -> object:
    value: object = "x"
    for _ in range(depth):
        value = [value] if kind == "list" else {"k": value}
    return value


@pytest.mark.parametrize("kind", ["list", "object"])
@pytest.mark.parametrize("depth", [1, 5, 20])
def test_variables_nested_to_the_depth_limit_pass_and_one_more_is_refused(kind: str, depth: int) -> None:
    """The variable itself is level 1 of the variables map (GraphQL spec 6.1.2: each
    variable's value is coerced by its type, a list or input object per level)."""
    check_variable_values([{"variables": {"v": nested(depth, kind)}}], 2_000, max_depth=depth)
    with pytest.raises(QueryTooComplex) as refused:
        check_variable_values([{"variables": {"v": nested(depth + 1, kind)}}], 2_000, max_depth=depth)
    assert refused.value.extensions == {"code": "QUERY_TOO_COMPLEX", "limit": "max_depth",
                                        "maximum": depth, "variable": "GOVSHARE_MAX_DEPTH"}  # fmt: skip
