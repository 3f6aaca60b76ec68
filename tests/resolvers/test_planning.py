"""The plan walk (resolvers.planning) collects exactly what execution will collect.

Expected values come from the GraphQL spec: section 3.13 (``@skip(if: true)`` and
``@include(if: false)`` remove a field, fragment spread or inline fragment; ``@skip``
wins when both are present) and "CollectFields" (a selection is executed only if every
selection on its path is included). Section 6.1 GetOperation: several operations need
an operation name.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from graphql import GraphQLError, parse, validate
from graphql.execution.values import get_variable_values
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.catalog import load_catalog
from resolvers.planning import ItemIndex, OperationNotFound, select_operation, wanted_items
from resolvers.schema import _item_index, build_schema
from tests.conftest import CATALOG

CATALOG_ = load_catalog(CATALOG)
SCHEMA = build_schema(CATALOG_)._schema
ITEMS = _item_index(CATALOG_)
AMR = "amr.enterprise_registration"
INDEX = ItemIndex(ITEMS)  # shared by every example, so its cache is exercised too


@dataclass(frozen=True)
class Condition:
    """One directive: skip or include, with a literal or a variable argument."""

    name: str  # "skip" | "include"
    variable: str | None  # the variable's name, or None for a literal
    value: bool  # the literal, or the variable's value in this request

    def text(self) -> str:
        argument = f"${self.variable}" if self.variable else str(self.value).lower()
        return f"@{self.name}(if: {argument})"

    def keeps(self) -> bool:
        return self.value is False if self.name == "skip" else self.value is True


_counter = itertools.count()
conditions = st.lists(
    st.builds(
        Condition,
        name=st.sampled_from(["skip", "include"]),
        variable=st.one_of(st.none(), st.builds(lambda: f"v{next(_counter)}")),
        value=st.booleans(),
    ),
    max_size=2,
    unique_by=lambda c: c.name,  # a directive may appear once per location (spec 5.7.3)
)
WRAPPERS = ["inline", "untyped_inline", "spread"]


@dataclass(frozen=True)
class Case:
    on_org: list[Condition]
    on_resource: list[Condition]
    wrappers: list[tuple[str, list[Condition]]]  # between the resource and the item
    on_item: list[Condition]

    def all_conditions(self) -> list[Condition]:
        return [*self.on_org, *self.on_resource, *(c for _, cs in self.wrappers for c in cs), *self.on_item]

    def document(self) -> str:
        item = f"legalRepresentative {_dirs(self.on_item)}"
        fragments = []
        for n, (kind, conds) in reversed(list(enumerate(self.wrappers))):
            if kind == "inline":
                item = f"... on EnterpriseRegistration {_dirs(conds)} {{ {item} }}"
            elif kind == "untyped_inline":
                item = f"... {_dirs(conds)} {{ {item} }}"
            else:
                fragments.append(f"fragment F{n} on EnterpriseRegistration {{ {item} }}")
                item = f"...F{n} {_dirs(conds)}"
        variables = [f"${c.variable}: Boolean!" for c in self.all_conditions() if c.variable]
        definitions = f"($c: USCC!{''.join(', ' + v for v in variables)})"
        body = (
            f"query Q{definitions} {{ organization(code: $c) {_dirs(self.on_org)} {{ code "
            f"enterpriseRegistration {_dirs(self.on_resource)} {{ name {item} }} }} }}"
        )
        return " ".join([body, *fragments])

    def variables(self, flip: bool = False) -> dict[str, object]:
        values: dict[str, object] = {"c": "91420100MA4K00010R"}
        values.update({c.variable: c.value ^ flip for c in self.all_conditions() if c.variable})
        return values

    def expected(self, flip: bool = False) -> dict[str, frozenset[str]]:
        """Spec 3.13 / CollectFields: included iff every condition on the path keeps it."""

        def keeps(conds: list[Condition]) -> bool:
            return all(
                Condition(c.name, c.variable, c.value ^ (flip and c.variable is not None)).keeps()
                for c in conds
            )

        if not keeps(self.on_org) or not keeps(self.on_resource):
            return {}
        inner = [c for _, cs in self.wrappers for c in cs] + self.on_item
        return {AMR: frozenset({"name", "legal_representative"} if keeps(inner) else {"name"})}


def _dirs(conds: list[Condition]) -> str:
    return " ".join(c.text() for c in conds)


cases = st.builds(
    Case,
    on_org=conditions,
    on_resource=conditions,
    wrappers=st.lists(st.tuples(st.sampled_from(WRAPPERS), conditions), max_size=3),
    on_item=conditions,
)


def plan(text: str, variables: dict[str, object], operation: str | None = "Q") -> dict[str, frozenset[str]]:
    document = parse(text)
    op = select_operation(document, operation)
    coerced = get_variable_values(SCHEMA, op.variable_definitions or (), variables)
    assert not isinstance(coerced, list), coerced
    via_index = INDEX.wanted(SCHEMA, text, document, operation, coerced)
    direct = wanted_items(SCHEMA, ITEMS, document, operation, coerced)
    assert via_index == direct  # the cache never answers for other variable values
    return dict(direct)


@settings(max_examples=300, deadline=None)
@given(cases)
def test_plan_collects_what_the_spec_collects(case: Case) -> None:
    text = case.document()
    assert validate(SCHEMA, parse(text)) == [], text
    assert plan(text, case.variables()) == case.expected(), text
    # the same text with every variable flipped: planned again, not served from the cache
    assert plan(text, case.variables(flip=True)) == case.expected(flip=True), text
    assert plan(text, case.variables()) == case.expected(), text


@pytest.mark.parametrize(
    ("directives", "collected"),
    [
        ("", True),
        ("@skip(if: true)", False),
        ("@skip(if: false)", True),
        ("@include(if: true)", True),
        ("@include(if: false)", False),
        ("@skip(if: true) @include(if: true)", False),  # skip wins (spec 3.13.3)
        ("@skip(if: false) @include(if: false)", False),
        ("@skip(if: false) @include(if: true)", True),
    ],
)
def test_the_spec_table_of_skip_and_include(directives: str, collected: bool) -> None:
    text = (
        "query Q($c: USCC!) { organization(code: $c) { enterpriseRegistration { name "
        f"legalRepresentative {directives} }} }} }}"
    )
    names = {"name", "legal_representative"} if collected else {"name"}
    assert plan(text, {"c": "91420100MA4K00010R"}) == {AMR: frozenset(names)}


def test_a_default_value_counts_like_a_sent_one() -> None:
    text = (
        "query Q($c: USCC!, $s: Boolean! = true) { organization(code: $c) { "
        "enterpriseRegistration { name legalRepresentative @skip(if: $s) } } }"
    )
    assert plan(text, {"c": "91420100MA4K00010R"}) == {AMR: frozenset({"name"})}
    assert plan(text, {"c": "91420100MA4K00010R", "s": False}) == {
        AMR: frozenset({"name", "legal_representative"})
    }


def test_typename_only_selects_the_resource_with_no_items() -> None:
    text = "query Q($c: USCC!) { organization(code: $c) { enterpriseRegistration { __typename } } }"
    assert plan(text, {"c": "91420100MA4K00010R"}) == {AMR: frozenset()}


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("query A { __typename } query B { __typename }", None),
        ("query A { __typename } mutation B { __typename }", None),
        ("query A { __typename }", "B"),
        ("{ __typename }", "A"),
    ],
)
def test_an_operation_not_picked_is_refused(text: str, name: str | None) -> None:
    with pytest.raises(OperationNotFound, match="operationName"):
        select_operation(parse(text), name)


def test_coercion_errors_are_request_errors() -> None:
    op = select_operation(parse("query Q($s: Boolean!) { __typename }"), None)
    errors = get_variable_values(SCHEMA, op.variable_definitions or (), {"s": "yes"})
    assert isinstance(errors, list) and all(isinstance(e, GraphQLError) for e in errors)


def test_the_cache_is_keyed_by_every_condition_variable_of_the_document() -> None:
    """Which conditions a walk reaches depends on the variables: with $a true the walk
    reaches $c, with $a false it reaches $b. A cache keyed by the variables reached by
    the LAST walk answered (a=true, c=true) with the plan of (a=true, c=false): the
    conditional item was executed but not planned (not decided, not audited)."""
    index = ItemIndex(ITEMS)
    text = (
        "query Q($c0: USCC!, $a: Boolean!, $b: Boolean!, $c: Boolean!) { organization(code: $c0) {"
        " ... @skip(if: $a) { enterpriseRegistration { name @include(if: $b) } }"
        " ... @include(if: $a) { enterpriseRegistration { legalRepresentative @include(if: $c) } } } }"
    )
    document = parse(text)
    op = select_operation(document, "Q")

    def wanted(**flags: bool) -> dict[str, frozenset[str]]:
        variables = {"c0": "91420100MA4K00010R", **flags}
        coerced = get_variable_values(SCHEMA, op.variable_definitions or (), variables)
        assert not isinstance(coerced, list), coerced
        return dict(index.wanted(SCHEMA, text, document, "Q", coerced))

    assert wanted(a=True, b=False, c=False) == {AMR: frozenset()}
    assert wanted(a=False, b=True, c=False) == {AMR: frozenset({"name"})}
    assert wanted(a=True, b=False, c=True) == {AMR: frozenset({"legal_representative"})}
