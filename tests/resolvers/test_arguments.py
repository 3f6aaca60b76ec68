"""Arguments never end in a server error: bad input is a 4xx naming what was wrong.

- DateTime arguments (policies/chinatime.py): an instant outside 1900-01-01 .. 9999-01-01
  UTC is BAD_REQUEST, never 500. The issue's examples, ``0001-01-01T00:00:00+14:00`` (before
  year 1 in UTC) and ``9999-12-31T23:59:59-12:00`` (after year 9999 in UTC), cannot even be
  represented by Python's datetime in UTC; each is tried as a variable and as a literal in
  every DateTime argument of the schema. Without an offset an input is China time.
- Text arguments (policies/text.py): a C0 control character other than tab and line breaks
  (``\\u0000`` cannot be stored in PostgreSQL) is BAD_REQUEST naming the argument.
- A hypothesis property test over every argument of every root field (drawn from each
  argument's GraphQL type, with wrong types and extreme values mixed in), for the roles
  operator, provider and consumer, on SQLite and PostgreSQL: no answer is INTERNAL or 5xx.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gateway.app import Gateway, create_app
from gateway.demo import AMR, HOUSING, build_demo, organization_codes
from gateway.settings import Settings
from tests.conftest import postgres_url_or_skip

PURPOSE = "行政审批核验"
FAR = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"]  # issue 7, item 8
ROLES = {"operator": HOUSING.code, "consumer": HOUSING.code, "provider": AMR.code}
APPLY = (
    "mutation($u: DateTime!, $f: DateTime) { submitApplication(application: {resource: "
    '"amr.enterprise_registration", items: ["legal_representative"], purpose: "p", scopeOfKnowledge: "s", '
    'securityMeasures: "m", legalBasis: "l", validUntil: $u, validFrom: $f}) { id validFrom validUntil } }'
)
DATETIME_ARGUMENTS = {  # every DateTime argument of the schema; the test below checks the list is whole
    "auditEvents.since": ("operator", "query($t: DateTime) { auditEvents(since: $t) { nextAfterSeq } }"),
    "auditEvents.until": ("operator", "query($t: DateTime) { auditEvents(until: $t) { nextAfterSeq } }"),
    "stats.since": ("operator", "query($t: DateTime) { stats(since: $t) { __typename } }"),
    "stats.until": ("operator", "query($t: DateTime) { stats(until: $t) { __typename } }"),
    "decideApplication.validUntil": (
        "provider",
        'mutation($t: DateTime) { decideApplication(id: "app-x", approve: true, validUntil: $t) { id } }',
    ),
    "ApplicationInput.validUntil": (
        "consumer",
        APPLY.replace("$u", "$t"),
    ),
    "ApplicationInput.validFrom": (
        "consumer",
        APPLY.replace("$u: DateTime!, $f: DateTime", "$t: DateTime")
        .replace("$f", "$t")
        .replace("validUntil: $u", 'validUntil: "2030-01-01T00:00:00"'),
    ),
    "changes.since": (
        "consumer",
        'query($t: DateTime) { changes(resource: "amr.enterprise_registration", since: $t) { id } }',
    ),
    "notifyChange.changedAt": (
        "provider",
        'mutation($t: DateTime) { notifyChange(resource: "amr.enterprise_registration", '
        'subjects: ["91420100MA0000000X"], changedAt: $t) { id } }',
    ),
}


class Served:
    """A gateway over the demo data, in-process on its own event loop thread (hypothesis
    drives the test synchronously; each example is one request)."""

    def __init__(self, data_dir: Path, database_url: str | None) -> None:
        build_demo(data_dir, organizations=5, persons=5)
        environ = {"GOVSHARE_DATABASE_URL": database_url} if database_url else {}
        self.settings = Settings.load(environ, data=str(data_dir))
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.gateway: Gateway = self.run(Gateway.start(self.settings))
        app = create_app(self.settings, self.gateway)
        app.state.gateway = self.gateway  # ASGITransport runs no lifespan
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")

    def run(self, work: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=60)

    def post(
        self, role: str, query: str, variables: dict[str, Any] | None = None, **more: Any
    ) -> httpx.Response:
        token = self.gateway.signer.issue(ROLES[role], [role], "test", 600)
        headers = {
            "Authorization": f"Bearer {token}",
            "X-Purpose": quote(PURPOSE),
            "X-Voucher": "off",
            "Accept": "application/graphql-response+json",
        }
        body = {"query": query, "variables": variables or {}, **more}
        return self.run(self.client.post("/graphql", json=body, headers=headers))  # type: ignore[no-any-return]

    def close(self) -> None:
        self.run(self.client.aclose())
        self.run(self.gateway.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    url = postgres_url_or_skip() if request.param == "postgresql" else None
    running = Served(tmp_path_factory.mktemp(f"arguments-{request.param}"), url)
    try:
        yield running
    finally:
        running.close()


def codes_of(response: httpx.Response) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in response.json().get("errors") or []]


def assert_no_server_error(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    assert not {"INTERNAL", "AUDIT_UNAVAILABLE"} & set(codes_of(response)), response.text


# --- DateTime ---------------------------------------------------------------------------


def test_the_list_of_datetime_arguments_is_whole(served: Served) -> None:
    schema = served.gateway.schema._schema
    found = set()
    for root in (schema.query_type, schema.mutation_type):
        assert root is not None
        for name, field in root.fields.items():
            found |= {f"{name}.{arg}" for arg, a in field.args.items() if _named(a.type).name == "DateTime"}
    for type_name, kind in schema.type_map.items():
        if isinstance(kind, GraphQLInputObjectType):
            found |= {f"{type_name}.{f}" for f, v in kind.fields.items() if _named(v.type).name == "DateTime"}
    assert found == set(DATETIME_ARGUMENTS)


@pytest.mark.parametrize("argument", DATETIME_ARGUMENTS)
@pytest.mark.parametrize("far", FAR)
def test_a_datetime_far_from_now_is_bad_request(served: Served, argument: str, far: str) -> None:
    role, query = DATETIME_ARGUMENTS[argument]
    as_variable = served.post(role, query, {"t": far})
    as_literal = served.post(role, _literal(query, far))
    for response in (as_variable, as_literal):
        assert response.status_code == 400, response.text
        assert codes_of(response) == ["BAD_REQUEST"]
        assert "out of range" in response.json()["errors"][0]["message"]
        assert "data" not in response.json() or response.json()["data"] is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01T17:00:00+08:00", "2026-12-01T09:00:00+00:00"),
        ("2026-12-01T09:00:00Z", "2026-12-01T09:00:00+00:00"),
        ("2026-12-01T17:00:00", "2026-12-01T09:00:00+00:00"),  # no offset: China time, UTC+8
        ("2026-12-01T17:00:00-05:00", "2026-12-01T22:00:00+00:00"),
    ],
)
def test_an_application_period_is_the_instant_sent(served: Served, text: str, expected: str) -> None:
    response = served.post("consumer", APPLY, {"u": text, "f": "2026-11-01T08:00:00+08:00"})
    assert response.status_code == 200, response.text
    application = response.json()["data"]["submitApplication"]
    assert application["validUntil"] == expected
    assert application["validFrom"] == "2026-11-01T00:00:00+00:00"
    again = served.post(
        "consumer", "query($i: ID!) { application(id: $i) { validUntil } }", {"i": application["id"]}
    )
    assert again.json()["data"]["application"]["validUntil"] == expected  # as stored, read back


@pytest.mark.parametrize("text", ["tomorrow", "2026-13-01T00:00:00", "2026-12-01T25:00:00+08:00", ""])
def test_a_datetime_that_is_not_iso_8601_is_bad_request(served: Served, text: str) -> None:
    role, query = DATETIME_ARGUMENTS["stats.since"]
    response = served.post(role, query, {"t": text})
    assert response.status_code == 400 and codes_of(response) == ["BAD_REQUEST"]
    assert "ISO 8601" in response.json()["errors"][0]["message"]


# --- text -------------------------------------------------------------------------------


@pytest.mark.parametrize("control", ["\x00", "\x01", "\x1b", "\x7f\x00"])
def test_a_control_character_in_text_is_bad_request(served: Served, control: str) -> None:
    value = f"app{control}x"
    as_variable = served.post("operator", "query($i: ID!) { application(id: $i) { id } }", {"i": value})
    assert as_variable.status_code == 400 and codes_of(as_variable) == ["BAD_REQUEST"]
    assert "variable $i" in as_variable.json()["errors"][0]["message"]
    escaped = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in value)
    as_literal = served.post("operator", f'{{ auditEvents(consumer: "{escaped}") {{ nextAfterSeq }} }}')
    assert as_literal.status_code == 400 and codes_of(as_literal) == ["BAD_REQUEST"]
    query = APPLY.replace('purpose: "p"', "purpose: $p").replace("$f: DateTime", "$f: DateTime, $p: String!")
    nested = served.post("consumer", query, {"u": "2030-01-01T00:00:00", "p": f"审核{control}"})
    assert nested.status_code == 400 and "variable $p" in nested.json()["errors"][0]["message"]


def test_tabs_and_line_breaks_are_text(served: Served) -> None:
    response = served.post("operator", "query($i: ID!) { application(id: $i) { id } }", {"i": "a\tb\r\nc"})
    assert response.status_code == 400 and "no application" in response.json()["errors"][0]["message"]


# --- what a refusal repeats of the client's value ------------------------------------------

HUGE = 300_000  # characters: far more than any message should repeat


@pytest.mark.parametrize(
    ("role", "query", "value"),
    [
        ("operator", DATETIME_ARGUMENTS["stats.since"][1], "x" * HUGE),
        ("operator", DATETIME_ARGUMENTS["stats.since"][1], [1] * HUGE),
        ("operator", DATETIME_ARGUMENTS["stats.since"][1], {"a": "x" * HUGE}),
        ("consumer", APPLY.replace('"amr.enterprise_registration"', "$r").replace(
            "$f: DateTime", "$f: DateTime, $r: String!"), "r" * HUGE),
        ("consumer", APPLY.replace('["legal_representative"]', "[$r]").replace(
            "$f: DateTime", "$f: DateTime, $r: String!"), "i" * HUGE),
    ],
    ids=["datetime text", "datetime list", "datetime object", "resource", "item"],
)  # fmt: skip
def test_a_refusal_repeats_at_most_a_little_of_a_huge_value(
    served: Served, role: str, query: str, value: Any
) -> None:
    """A 300 KB argument used to come back whole (twice: in the message and in extensions)."""
    response = served.post(role, query, {"t": value, "r": value, "u": "2030-01-01T00:00:00"})
    assert 400 <= response.status_code < 500 and codes_of(response)
    assert len(response.content) < 4_000, response.text[:300]


def test_an_unknown_operation_name_is_repeated_cut(served: Served) -> None:
    response = served.post("operator", "query A { __typename }", operationName="B" * HUGE)
    assert response.status_code == 400 and len(response.content) < 4_000


# --- every argument -----------------------------------------------------------------------


def _named(kind: Any) -> Any:
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return kind


def _literal(query: str, value: str) -> str:
    """The query with its variable $t written in as a literal."""
    head, brace, body = query.partition("{")
    head = re.sub(r"\$t: DateTime!?(, )?", "", head).replace(", )", ")").replace("()", "")
    return head + brace + body.replace("$t", f'"{value}"')


CONTROL = st.characters(max_codepoint=0x1F)
TEXT = st.text(st.one_of(CONTROL, st.characters(exclude_categories=("Cs",))), max_size=24)
KNOWN_TEXT = st.sampled_from(
    ["amr.enterprise_registration", "legal_representative", "psb.resident", AMR.code, HOUSING.code, "app-x",
     "grant-x", "4201", "", " ", "x" * 300]
)  # fmt: skip
INSTANT = st.one_of(
    st.sampled_from([*FAR, "2026-12-01T17:00:00", "2026-12-01T09:00:00Z", "1899-12-31T23:59:59Z"]),
    st.builds(
        lambda moment, hours: moment.replace(
            tzinfo=None if hours is None else dt.timezone(dt.timedelta(hours=hours))
        ),
        st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59)),
        st.one_of(st.none(), st.integers(-14, 14)),
    ).map(lambda moment: moment.isoformat()),
    TEXT,
)
SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "String": st.one_of(KNOWN_TEXT, TEXT),
    "ID": st.one_of(KNOWN_TEXT, TEXT),
    "Int": st.one_of(st.integers(1, 100), st.integers(-(2**31), 2**31 - 1), st.sampled_from([0, -1, 2**31])),
    "Boolean": st.booleans(),
    "DateTime": INSTANT,
    "USCC": st.one_of(st.sampled_from(organization_codes(3)), TEXT),
    "CitizenID": st.one_of(st.sampled_from(["110105198501014304", "11010519850101430X"]), TEXT),
    # compare(claims:): item -> claim maps, hostile keys and values, and JSON of other shapes
    "JSON": st.one_of(
        st.dictionaries(
            st.one_of(st.sampled_from(["name", "religion", "birth_date", "registered_capital"]), TEXT),
            st.one_of(TEXT, st.integers(), st.none(), st.lists(TEXT, max_size=2)),
            max_size=3,
        ),
        TEXT,
        st.lists(TEXT, max_size=2),
    ),
}
WRONG_JSON = st.one_of(
    st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans(), st.just({}), st.just([])
)


def value_of(kind: GraphQLInputType) -> st.SearchStrategy[Any]:
    """Values of a GraphQL input type: well-typed JSON, extreme and hostile in content."""
    if isinstance(kind, GraphQLNonNull):
        return value_of(kind.of_type).filter(lambda value: value is not None)
    if isinstance(kind, GraphQLList):
        return st.one_of(st.none(), st.lists(value_of(kind.of_type), max_size=3))
    if isinstance(kind, GraphQLEnumType):
        return st.one_of(st.none(), st.sampled_from(list(kind.values)))
    if isinstance(kind, GraphQLInputObjectType):
        fields = {n: (isinstance(f.type, GraphQLNonNull), value_of(f.type)) for n, f in kind.fields.items()}
        required = {n: values for n, (needed, values) in fields.items() if needed}
        optional = {n: values for n, (needed, values) in fields.items() if not needed}
        return st.one_of(st.none(), st.fixed_dictionaries(required, optional=optional))
    assert isinstance(kind, GraphQLScalarType)
    return st.one_of(st.none(), SCALARS[kind.name])


@st.composite
def operations(draw: st.DrawFn, served: Served) -> tuple[str, str, dict[str, Any]]:
    """One root field with its arguments as variables; now and then one of them of a wrong JSON type."""
    schema = served.gateway.schema._schema
    roots = [("query", schema.query_type), ("mutation", schema.mutation_type)]
    kind, root = draw(st.sampled_from(roots))
    assert root is not None
    name = draw(st.sampled_from(sorted(root.fields)))
    field: GraphQLField = root.fields[name]
    optional = st.sampled_from([True, True, True, False])  # most often all of them
    chosen = [a for a in field.args if isinstance(field.args[a].type, GraphQLNonNull) or draw(optional)]
    declared = ", ".join(f"${a}: {field.args[a].type}" for a in chosen)
    passed = ", ".join(f"{a}: ${a}" for a in chosen)
    head = f"{kind}({declared})" if chosen else kind
    call = f"{name}({passed})" if chosen else name
    query = f"{head} {{ {call} {{ __typename }} }}"
    variables = {a: draw(value_of(field.args[a].type)) for a in chosen}
    if chosen and draw(st.integers(0, 9)) == 0:
        variables[draw(st.sampled_from(chosen))] = draw(WRONG_JSON)
    return draw(st.sampled_from(sorted(ROLES))), query, variables


@settings(
    max_examples=600,
    deadline=None,
    derandomize=True,  # the same examples on every run and machine
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],  # no explain phase
)
@given(st.data())
def test_no_argument_of_the_schema_ends_in_a_server_error(served: Served, data: st.DataObject) -> None:
    role, query, variables = data.draw(operations(served))
    assert_no_server_error(served.post(role, query, variables))
