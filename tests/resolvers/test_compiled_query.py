"""The whole-operation fast path (resolvers.compiled_query) against strawberry's Schema.execute.

Differential: generated subject look-up documents over the demo schema (one or several
roots, single codes and lists, aliases, repeated keys, inline and named fragments,
``@skip``/``@include`` by literal and by variable, ``__typename`` and the code field) with
generated variables (codes held, codes no source holds, lower-case codes, invalid codes,
missing or mistyped variables, control characters), consumers with and without grants (a
daily cap already used up, a grant scoped to one division, the demo's grant), purposes
(the granted one, another, none), all-or-nothing, and small error and result-value caps.
Each case runs on the same gateway with the fast path off, then on; the JSON bodies as
gateway.http sends them (with or without ``data``), their status, the audit event, whether
it is recorded and vouched for, the voucher's digest input and the log lines must be
identical. Then: the fast path does run (it must not silently always fall back), what it
cannot know takes the normal path, and refusals hold on it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import strawberry
from graphql import GraphQLObjectType, GraphQLSchema
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import PreExecutionError

from gateway.app import Gateway
from gateway.audit import canonical_json, digest
from gateway.demo import DRC, HOUSING, build_demo, organization_codes, person_ids
from gateway.evidence import must_record, touches_data
from gateway.http import _status
from gateway.platform import new_grant_row
from gateway.settings import Settings
from gateway.vouchers import answer_of
from policies.decision import Consumer, GrantConditions
from policies.share import Mode
from resolvers.compiled_query import CompiledQueries, resolves_per_field
from resolvers.context import RequestContext
from tests.resolvers.answers import audit_event, response_body
from tests.resolvers.documents import Shapes, condition, selection

ORGANIZATIONS = 20
PURPOSE = "住房保障资格审核"
OTHER = "11420100MB0001011L"  # a department of state holding no grant
CAPPED_FIRST = 0  # the organization that spent the capped grant's one subject of today


@dataclasses.dataclass
class Served:
    loop: asyncio.AbstractEventLoop
    gateway: Gateway
    orgs: list[str]  # held by the demo's sources, then valid codes no source holds
    persons: list[str]

    def run(self, work: Any) -> Any:
        return self.loop.run_until_complete(work)

    @property
    def fast(self) -> CompiledQueries:
        compiled = self.gateway.schema.compiled_queries
        assert compiled is not None
        return compiled


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data = tmp_path_factory.mktemp("compiled")
    build_demo(data, organizations=ORGANIZATIONS, persons=10)
    _without_rest_department(data / "catalog.yaml")
    loop = asyncio.new_event_loop()
    budget = {"GOVSHARE_NEW_TOKENS_PER_SECOND": "100000000", "GOVSHARE_NEW_TOKENS_BURST": "100000000"}
    gateway = loop.run_until_complete(Gateway.start(Settings.load(budget, data=str(data))))  # many new texts
    persons = person_ids(12, random.Random(20261121))[6:]  # as build_demo draws them: 4 held, 2 not
    served = Served(loop, gateway, organization_codes(ORGANIZATIONS + 3)[-6:], persons)
    loop.run_until_complete(_grants(served))
    _spend_the_cap(served)
    yield served
    loop.run_until_complete(gateway.close())
    loop.close()


def _without_rest_department(catalog: Path) -> None:
    """HPF's REST API is not started here: its circuit breaker would change state between
    the two runs of one document (and the retry time in its message every second). Rows
    are not cached: both runs of a document wait for the same source calls, so concurrent
    look-ups interleave alike (an operation refused whole while they run cancels them)."""
    text = catalog.read_text("utf-8")
    start, end = text.index("- id: hpf.deposit"), text.index("- id: ema.safety_inspection")
    text = re.sub(r"^(- id: .*)$", r"\1\n  cache_ttl: 0", text[:start] + text[end:], flags=re.MULTILINE)
    catalog.write_text(text, "utf-8")


async def _grants(served: Served) -> None:
    """HOUSING's grants: a daily cap of one subject, spent now (every other subject is
    RATE_LIMITED today, the spent one admitted again: a state no run changes), and a grant
    scoped to one division (OUT_OF_SCOPE elsewhere)."""
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    capped = GrantConditions(daily_cap=1)
    scoped = GrantConditions(("420102",))
    for resource, items, conditions in (
        ("amr.enterprise_registration", ["legal_representative"], capped),
        ("tax.tax_credit", ["tax_arrears"], scoped),
        ("psb.resident", ["name", "address"], None),
    ):
        row = new_grant_row(HOUSING.code, resource, items, PURPOSE, until, [Mode.QUERY], None, conditions)
        await served.gateway.platform.add_grant(row)


def _spend_the_cap(served: Served) -> None:
    query = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { legalRepresentative } } }"
    spend = Case(query, {"c": served.orgs[CAPPED_FIRST]}, HOUSING.code, PURPOSE, False)
    assert b"RATE_LIMITED" not in run_case(served, spend, fast=False).body


@dataclasses.dataclass(frozen=True)
class Case:
    query: str
    variables: Any
    consumer: str
    purpose: str | None
    all_or_nothing: bool
    max_errors: int | None = None  # the executor's caps when not the defaults
    max_result_values: int | None = None
    operation_name: str | None = None


SHAPES = Shapes(plain_conditions=4, plain_aliases=8, plain_wraps=3)


def _code(draw: st.DrawFn, pool: list[str]) -> Any:
    """Mostly a code from the pool; sometimes lower case (normalised), invalid or mistyped."""
    code = draw(st.sampled_from(pool))
    odd = draw(st.sampled_from([None] * 24 + ["lower", "lower", "check", "empty", "int", "control"]))
    return {None: code, "lower": code.lower(), "check": code[:-1] + ("0" if code[-1] != "0" else "1"),
            "empty": "", "int": 42, "control": code + "\u0000"}[odd]  # fmt: skip


@st.composite
def cases(draw: st.DrawFn, served: Served) -> Case:
    schema: GraphQLSchema = served.gateway.schema._schema
    flags: dict[str, bool] = {}
    fragments: dict[str, str] = {}
    roots, declared = [], []
    variables: dict[str, Any] = {}
    choices = ["organization"] * 4 + ["organizations", "organizations", "person", "persons", "__typename"]
    for i, root in enumerate(draw(st.lists(st.sampled_from(choices), min_size=1, max_size=3))):
        if root == "__typename":  # a root the fast path does not know: the whole document is normal
            roots.append(f"t{i}: __typename")
            continue
        subject = "Organization" if root.startswith("organization") else "Person"
        subject_type = schema.get_type(subject)
        assert isinstance(subject_type, GraphQLObjectType)
        body = selection(draw, SHAPES, subject_type, flags, fragments, 1)
        pool = served.orgs if subject == "Organization" else served.persons
        scalar = "USCC" if subject == "Organization" else "CitizenID"
        var = f"v{i}"
        many = root in ("organizations", "persons")
        argument = ("codes" if many else "code") if subject == "Organization" else ("ids" if many else "id")
        if many:
            variables[var] = [_code(draw, pool) for _ in range(draw(st.integers(0, 4)))]
            declared.append(f"${var}: [{scalar}!]!")
        else:
            variables[var] = _code(draw, pool)
            declared.append(f"${var}: {scalar}!")
        if draw(st.integers(0, 30)) == 17:  # hypothesis favours 0: that would be most cases
            del variables[var]  # a missing variable: a request error
        roots.append(f"r{i}: {root}({argument}: ${var}){condition(draw, SHAPES, flags)} {{ {body} }}")
    declared += [f"${name}: Boolean!" for name in flags]
    variables.update(flags)
    head = f"query Q({', '.join(declared)})" if declared else "query Q"
    query = " ".join([f"{head} {{ {' '.join(roots)} }}", *fragments.values()])
    return Case(
        query,
        variables,
        draw(st.sampled_from([HOUSING.code, HOUSING.code, DRC.code, OTHER])),
        draw(st.sampled_from([PURPOSE, PURPOSE, "行政审批核验", "另一目的", None])),
        draw(st.integers(0, 5)) == 3,
        draw(st.sampled_from([None, None, None, 1, 2, 3])),
        draw(st.sampled_from([None, None, None, None, 2, 5, 9, 14])),
        draw(st.sampled_from([None, None, None, None, None, "Q", "Q", "Other"])),
    )


@dataclasses.dataclass(frozen=True)
class Answer:
    body: bytes
    status: int
    event: dict[str, Any]
    recorded: bool
    vouched: bool
    voucher_digest: str
    logged: tuple[tuple[str, int, str], ...]


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith("aiocache"):  # the row cache: filled by whichever path ran first
            self.lines.append((record.name, record.levelno, record.getMessage()))


def run_case(served: Served, case: Case, fast: bool) -> Answer:
    """Everything gateway.http derives from the result: the body it sends, the status, the
    audit event (its time aside), whether it is recorded and vouched for, the voucher's
    digest input; and the log lines the run wrote."""
    consumer = Consumer(case.consumer, "diff", frozenset({"consumer"}))
    context = RequestContext(served.gateway.federation, consumer, purpose=case.purpose,
                             reject_unauthorized=case.all_or_nothing)  # fmt: skip
    executor: Any = served.gateway.schema.execution_context_class
    limits = executor.max_errors, executor.max_result_values
    executor.max_errors = case.max_errors or limits[0]
    executor.max_result_values = case.max_result_values or limits[1]
    served.fast.enabled = fast
    lines, root = _Lines(), logging.getLogger()
    level, root.level = root.level, logging.DEBUG
    root.addHandler(lines)
    try:
        result = served.run(
            served.gateway.schema.execute(
                case.query, case.variables, context, operation_name=case.operation_name
            )
        )
    finally:
        served.fast.enabled = True
        executor.max_errors, executor.max_result_values = limits
        root.removeHandler(lines)
        root.level = level
    body = response_body(result, data=not isinstance(result, PreExecutionError))
    errors, event = audit_event(context, result)
    return Answer(
        orjson.dumps(body),
        _status(result.data, result.errors),
        event,
        must_record(context, errors, result.data is not None),
        touches_data(context, errors),
        digest(canonical_json(answer_of(body))),
        tuple(lines.lines),
    )


class Counting:
    """Counts the operations the compiled path answered (it must not always fall back)."""

    def __init__(self, served: Served) -> None:
        self.fast = served.fast
        self.original = self.fast._run
        self.ran = 0

    def __enter__(self) -> Counting:
        async def counted(*args: Any) -> Any:
            self.ran += 1
            return await self.original(*args)

        self.fast._run = counted  # type: ignore[method-assign]
        return self

    def __exit__(self, *_: object) -> None:
        del self.fast._run


@settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
@given(st.data())
def test_compiled_path_answers_byte_identical_to_schema_execute(served: Served, data: st.DataObject) -> None:
    case, fast_first = data.draw(cases(served)), data.draw(st.booleans())
    run_case(served, case, fast=False)  # parsed and validated: a text seen before is what compiles
    for _ in range(3):  # concurrent roots finish in the order their sources answer: retry a race
        if fast_first:  # either path first: the row cache (off here) or a connection is warm for the second
            fast, normal = run_case(served, case, fast=True), run_case(served, case, fast=False)
        else:
            normal, fast = run_case(served, case, fast=False), run_case(served, case, fast=True)
        if fast == normal:
            return
    assert fast == normal, case


def test_the_differential_cases_do_take_the_compiled_path(served: Served) -> None:
    """Most generated documents compile: the differential test compares two paths, not one."""
    drawn: list[Case] = []

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        drawn.append(data.draw(cases(served)))

    draw()
    with Counting(served) as counting:
        for case in drawn:
            run_case(served, case, fast=True)
            run_case(served, case, fast=True)  # the first run parsed it: the normal path's work
    assert counting.ran >= len(drawn) // 2


S1 = """query($c: USCC!) { organization(code: $c) {
  er: enterpriseRegistration { name status ... on EnterpriseRegistration { legalRepresentative } }
  taxCredit { creditRating taxArrears __typename } code } }"""


def test_s1_is_compiled_and_refuses_what_no_grant_covers(served: Served) -> None:
    """HOUSING's capped grant is spent on another subject today, its scoped grant does not
    cover this division: both items are null with their refusals, on the compiled path."""
    case = Case(S1, {"c": served.orgs[1]}, HOUSING.code, PURPOSE, False)
    run_case(served, case, fast=False)  # parsed and validated: the normal path's work
    with Counting(served) as counting:
        answer = run_case(served, case, fast=True)
    assert counting.ran == 1
    sent = orjson.loads(answer.body)
    assert sent["data"]["organization"]["er"]["legalRepresentative"] is None
    assert sent["data"]["organization"]["taxCredit"]["taxArrears"] is None
    assert {e["extensions"]["code"] for e in sent["errors"]} == {"RATE_LIMITED", "OUT_OF_SCOPE"}
    assert answer == run_case(served, case, fast=False)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ __schema { queryType { name } } }", {}),  # introspection
        ("{ catalog { resources { id } } }", {}),  # another root
        (
            "query($c: USCC!) { organization(code: $c) { code } } query B { __typename }",
            {"c": "x"},
        ),  # no name
        ("query($c: USCC!) { organization(code: $c) { code } }", {"c": "91420102MA0000007X"}),  # invalid USCC
        ("query($c: USCC!) { organization(code: $c) { code } }", {}),  # missing variable
        ('{ organization(code: "91420102MA0000007X") { code } }', {}),  # invalid literal: validation
    ],
)
def test_what_the_compiled_form_does_not_know_takes_the_normal_path(
    served: Served, query: str, variables: dict[str, Any]
) -> None:
    case = Case(query, variables, HOUSING.code, PURPOSE, False)
    run_case(served, case, fast=False)
    with Counting(served) as counting:
        fast = run_case(served, case, fast=True)
    assert counting.ran == 0
    assert fast == run_case(served, case, fast=False)


def test_not_shared_items_are_refused_by_validation_before_the_compiled_path(served: Served) -> None:
    query = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { innerNote } } }"
    case = Case(query, {"c": served.orgs[0]}, DRC.code, "行政审批核验", False)
    run_case(served, case, fast=False)
    with Counting(served) as counting:
        sent = orjson.loads(run_case(served, case, fast=True).body)
    assert counting.ran == 0
    assert "data" not in sent and sent["errors"][0]["extensions"]["code"] == "NOT_SHARED"


def test_all_or_nothing_on_the_compiled_path_withholds_everything(served: Served) -> None:
    """X-Reject-Unauthorized with an item no grant covers: no data at all, the refusal named."""
    case = Case(S1, {"c": served.orgs[2]}, OTHER, PURPOSE, True)
    run_case(served, case, fast=False)
    with Counting(served) as counting:
        answer = run_case(served, case, fast=True)
    assert counting.ran == 1
    sent = orjson.loads(answer.body)
    assert sent["data"] is None
    assert {e["extensions"]["code"] for e in sent["errors"]} == {"CONDITIONAL_ACCESS_REQUIRED"}
    assert answer.status == 403 and answer.recorded


def test_a_cap_on_result_values_refuses_the_whole_operation_alike(served: Served) -> None:
    case = Case(S1, {"c": served.orgs[2]}, DRC.code, "行政审批核验", False, max_result_values=4)
    run_case(served, case, fast=False)
    with Counting(served) as counting:
        fast = run_case(served, case, fast=True)
    assert counting.ran == 1
    sent = orjson.loads(fast.body)
    assert "data" not in sent and sent["errors"][0]["extensions"]["limit"] == "max_result_values"
    assert fast == run_case(served, case, fast=False)


class _PerField(SchemaExtension):
    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        return _next(root, info, *args, **kwargs)


def test_a_schema_with_field_middleware_gets_no_fast_path(served: Served) -> None:
    """The compiled walk runs no field middleware: a schema whose extensions resolve per field
    must not be given one (build_schema checks); govshare's own extensions do not."""

    @strawberry.type
    class Query:
        ok: bool = True

    assert resolves_per_field(strawberry.Schema(query=Query, extensions=[_PerField]))
    assert not resolves_per_field(served.gateway.schema)
    assert served.gateway.schema.compiled_queries is not None


@pytest.mark.parametrize(
    "query",
    [
        "query($c: USCC!, $s: Boolean = true) { organization(code: $c) @skip(if: $s) { code } }",
        "query($c: USCC!, $s: Boolean = true) { organization(code: $c) { code taxCredit @include(if: $s) "
        "{ creditRating } } }",
        "query($c: USCC!, $s: Boolean = true) { ...A @skip(if: $s) } "
        "fragment A on Query { organization(code: $c) { code } }",
    ],
)
def test_a_null_condition_variable_is_refused_by_the_normal_path_as_before(served: Served, query: str):
    """``@skip(if: $s)`` with a nullable ``$s`` sent as null is a request error (400, audited)
    on the normal path; compiling it raised that error out of the fast path (a 500, no event)."""
    case = Case(query, {"c": served.orgs[1], "s": None}, DRC.code, PURPOSE, False)
    normal = run_case(served, case, fast=False)
    assert run_case(served, case, fast=True) == normal
    assert b"not to be None" in normal.body


def test_no_allowed_operation_type_is_refused_on_either_path(served: Served):
    """``allowed_operation_types=set()`` allows nothing (strawberry raises); the fast path took
    an empty set for "queries" and answered."""
    from strawberry.schema.exceptions import InvalidOperationTypeError

    from policies.decision import Consumer
    from resolvers.context import RequestContext

    query = "query($c: USCC!) { organization(code: $c) { code } }"
    run_case(served, Case(query, {"c": served.orgs[1]}, HOUSING.code, PURPOSE, False), fast=False)
    consumer = Consumer(HOUSING.code, "d", frozenset({"consumer"}))
    for fast in (False, True):
        served.fast.enabled = fast
        try:
            context = RequestContext(served.gateway.federation, consumer, purpose=PURPOSE)
            call = served.gateway.schema.execute(
                query, {"c": served.orgs[1]}, context, allowed_operation_types=set()
            )
            with pytest.raises(InvalidOperationTypeError):
                served.run(call)
        finally:
            served.fast.enabled = True
