"""The execution fast path (resolvers.fastpath) against graphql-core's own walk.

Differential: generated documents over the demo schema (aliases, repeated keys, inline and
named fragments, ``@skip``/``@include`` by literal and by variable, lists of subjects,
subjects no source holds, conditional items without a covering grant, a missing purpose,
all-or-nothing) run through both paths on the same gateway; the JSON answers must be byte-
identical (errors with their locations, paths and extensions; nulls; key order) and the
audit events equal. Then the security floor on the fast path itself: a refused item is
null with its refusal, and its stored value is nowhere in the answer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from graphql import GraphQLObjectType
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gateway.app import Gateway
from gateway.demo import DRC, HOUSING, build_demo, organization_codes, person_ids
from gateway.settings import Settings
from policies.decision import Consumer
from resolvers.context import RequestContext
from resolvers.fastpath import RecordFields
from tests.resolvers.answers import audit_event, response_body
from tests.resolvers.documents import Shapes, condition, selection

ORGANIZATIONS = 20


@dataclasses.dataclass
class Served:
    loop: asyncio.AbstractEventLoop
    gateway: Gateway
    orgs: list[str]  # held by the demo's sources, then valid codes no source holds
    persons: list[str]

    def run(self, work: Any) -> Any:
        return self.loop.run_until_complete(work)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("fastpath")
    build_demo(data, organizations=ORGANIZATIONS, persons=10)
    _without_rest_department(data / "catalog.yaml")
    loop = asyncio.new_event_loop()
    gateway = loop.run_until_complete(Gateway.start(Settings.load({}, data=str(data))))
    persons = person_ids(12, random.Random(20261121))[6:]  # as build_demo draws them: 4 held, 2 not
    yield Served(loop, gateway, organization_codes(ORGANIZATIONS + 3)[-6:], persons)
    loop.run_until_complete(gateway.close())
    loop.close()


def _without_rest_department(catalog: Path) -> None:
    """HPF's REST API is not started here: its circuit breaker would change state between
    the two runs of one document (and the retry time in its message every second)."""
    text = catalog.read_text("utf-8")
    start, end = text.index("- id: hpf.deposit"), text.index("- id: ema.safety_inspection")
    catalog.write_text(text[:start] + text[end:], "utf-8")


@dataclasses.dataclass(frozen=True)
class Case:
    query: str
    variables: dict[str, Any]
    consumer: str
    purpose: str | None
    all_or_nothing: bool
    max_errors: int | None = None  # the executor's error limit when not the default


SHAPES = Shapes(plain_conditions=3, plain_aliases=6, plain_wraps=2)


@st.composite
def cases(draw: st.DrawFn, served: Served) -> Case:
    schema = served.gateway.schema._schema
    flags: dict[str, bool] = {}
    fragments: dict[str, str] = {}
    roots = []
    variables: dict[str, Any] = {}
    declared: list[str] = []
    roots_drawn = st.lists(st.sampled_from(["organization", "organizations", "person", "persons"]),
                           min_size=1, max_size=2)  # fmt: skip
    for i, root in enumerate(draw(roots_drawn)):
        subject = "Organization" if root.startswith("organization") else "Person"
        subject_type = schema.get_type(subject)
        assert isinstance(subject_type, GraphQLObjectType)
        body = selection(draw, SHAPES, subject_type, flags, fragments, 1)
        pool = served.orgs if subject == "Organization" else served.persons
        var = f"v{i}"
        if root in ("organizations", "persons"):
            variables[var] = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4))
            declared.append(f"${var}: [{'USCC' if subject == 'Organization' else 'CitizenID'}!]!")
            call = f"{root}({'codes' if subject == 'Organization' else 'ids'}: ${var})"
        else:
            variables[var] = draw(st.sampled_from(pool))
            declared.append(f"${var}: {'USCC' if subject == 'Organization' else 'CitizenID'}!")
            call = f"{root}({'code' if subject == 'Organization' else 'id'}: ${var})"
        roots.append(f"r{i}: {call}{condition(draw, SHAPES, flags)} {{ {body} }}")
    declared += [f"${name}: Boolean!" for name in flags]
    variables.update(flags)
    head = f"query Q({', '.join(declared)})"
    query = " ".join([f"{head} {{ {' '.join(roots)} }}", *fragments.values()])
    consumer = draw(st.sampled_from([HOUSING.code, DRC.code]))
    purpose = draw(st.sampled_from(["行政审批核验", "行政审批核验", None]))
    max_errors = draw(st.sampled_from([None, None, None, 1, 2, 3]))  # the limit reached mid-object
    return Case(query, variables, consumer, purpose, draw(st.integers(0, 5)) == 0, max_errors)


def _executor(served: Served) -> type[RecordFields]:
    executor: Any = served.gateway.schema.execution_context_class
    assert issubclass(executor, RecordFields)
    return executor  # type: ignore[no-any-return]


def answer(served: Served, case: Case, fast: bool) -> tuple[bytes, dict[str, Any]]:
    """The body as gateway.http sends it, and the audit event's fields (its time is not one)."""
    consumer = Consumer(case.consumer, "diff", frozenset({"consumer"}))
    context = RequestContext(served.gateway.federation, consumer, purpose=case.purpose,
                             reject_unauthorized=case.all_or_nothing)  # fmt: skip
    executor: Any = _executor(served)
    executor.record_fast_path, limit = fast, executor.max_errors
    executor.max_errors = case.max_errors or limit
    compiled = served.gateway.schema.compiled_queries  # the whole-operation fast path: off with it
    assert compiled is not None
    compiled.enabled = fast
    try:
        result = served.run(served.gateway.schema.execute(case.query, case.variables, context))
    finally:
        executor.record_fast_path, executor.max_errors, compiled.enabled = True, limit, True
    _, event = audit_event(context, result)
    return orjson.dumps(response_body(result)), event


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
@given(st.data())
def test_fast_path_answers_byte_identical_to_graphql_core(served: Served, data: st.DataObject) -> None:
    case = data.draw(cases(served))
    normal = answer(served, case, fast=False)
    fast = answer(served, case, fast=True)
    assert fast[0] == normal[0], case
    assert fast[1] == normal[1], case


class Counting:
    """Counts the objects the fast path completed (it must not silently always fall back)."""

    def __init__(self, served: Served) -> None:
        self.executor: Any = _executor(served)
        self.original = self.executor.record_fields
        self.completed = 0

    def __enter__(self) -> Counting:
        def counted(executor: Any, *args: Any) -> Any:
            found = self.original(executor, *args)
            self.completed += found is not None
            return found

        self.executor.record_fields = counted
        return self

    def __exit__(self, *_: object) -> None:
        self.executor.record_fields = self.original


S1 = """query($c: USCC!) { organization(code: $c) {
  er: enterpriseRegistration { name status ... on EnterpriseRegistration { legalRepresentative } }
  taxCredit { creditRating __typename } creditRecord { blacklisted penaltyCount } } }"""


def test_fast_path_completes_resources_and_refuses_conditional_items(served: Served) -> None:
    case = Case(S1, {"c": served.orgs[0]}, HOUSING.code, "行政审批核验", False)
    with Counting(served) as counting:
        body, _ = answer(served, case, fast=True)
    assert counting.completed == 3  # the three resources, each in one loop
    sent = orjson.loads(body)
    assert sent["data"]["organization"]["er"]["legalRepresentative"] is None
    [error] = sent["errors"]
    assert error["extensions"]["code"] == "CONDITIONAL_ACCESS_REQUIRED"
    assert error["path"] == ["organization", "er", "legalRepresentative"]
    assert sent["data"]["organization"]["er"]["name"]


def test_refused_value_is_nowhere_in_a_fast_answer(served: Served) -> None:
    """HOUSING holds no grant for the legal representative: the value stored for this
    organization (read directly from AMR's database) never appears in the bytes sent."""
    database = served.gateway.settings.data_dir / "amr.db"  # the catalog is stored, not a file
    with sqlite3.connect(database) as db:
        [(stored,)] = db.execute("SELECT legal_rep FROM enterprise WHERE uscc = ?", (served.orgs[0],))
    case = Case(S1, {"c": served.orgs[0]}, HOUSING.code, "行政审批核验", False)
    body, event = answer(served, case, fast=True)
    assert stored and stored.encode() not in body
    assert (
        event["decisions"]["amr.enterprise_registration.legal_representative"]
        == "CONDITIONAL_ACCESS_REQUIRED"
    )


def test_other_shapes_take_the_normal_path(served: Served) -> None:
    """Introspection and subjects are not resource records: the fast path completes nothing."""
    case = Case("{ __schema { queryType { name } } }", {}, HOUSING.code, "行政审批核验", False)
    with Counting(served) as counting:
        body, _ = answer(served, case, fast=True)
    assert counting.completed == 0
    assert orjson.loads(body)["data"]["__schema"]["queryType"]["name"] == "Query"


def test_the_error_limit_reached_inside_a_record_ends_both_paths_alike(served: Served) -> None:
    """Two refusals in one resource and ``max_errors`` 1: the fast loop raises the limit
    from inside the record, as graphql-core's walk does; no value of the record is sent."""
    query = S1.replace("status", "status address")  # a second conditional item, no grant
    case = Case(query, {"c": served.orgs[0]}, HOUSING.code, "行政审批核验", False, max_errors=1)
    normal, fast = answer(served, case, fast=False), answer(served, case, fast=True)
    assert fast == normal
    sent = orjson.loads(fast[0])
    assert sent["data"] is None
    assert [e["extensions"]["code"] for e in sent["errors"]] == ["QUERY_TOO_COMPLEX"]
