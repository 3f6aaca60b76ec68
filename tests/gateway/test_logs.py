"""Logs: identity codes masked wherever they appear; request lines carry no body."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
from collections.abc import Callable

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.app import Gateway, create_app
from gateway.demo import build_demo
from gateway.logs import JSONFormatter, RequestLog, mask_codes
from gateway.settings import Settings
from policies.codes import normalize

PERSON = "420102198704060005"
ENTERPRISE = "91420102MA0000007H"
DEPARTMENT = "11420100MB00020220"


def test_codes_are_masked_but_departments_kept():
    text = mask_codes(f"person {PERSON} org {ENTERPRISE} dept {DEPARTMENT} legacy 420102870406001")
    assert PERSON not in text and ENTERPRISE not in text and "420102870406001" not in text
    assert "420102***********5" in text and "91420102*********H" in text
    assert DEPARTMENT in text  # organs of state are public


def test_the_formatter_masks_whatever_was_logged():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    logger = logging.getLogger("test.logs")
    logger.addHandler(handler)
    try:
        logger.warning("lookup of %s failed", PERSON, extra={"fields": {"subject": ENTERPRISE}})
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert PERSON not in stream.getvalue() and ENTERPRISE not in stream.getvalue()
    assert line["level"] == "warning" and line["subject"].startswith("91420102*")


async def test_request_lines_carry_no_body(caplog):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": f"name of {PERSON}".encode()})

    caplog.set_level(logging.INFO, logger="govshare.access")
    transport = httpx.ASGITransport(app=RequestLog(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        await client.post("/graphql", json={"query": f'{{ person(id: "{PERSON}") {{ id }} }}'})
    [record] = [r for r in caplog.records if r.name == "govshare.access"]
    assert record.fields["path"] == "/graphql" and record.fields["status"] == 200
    assert PERSON not in json.dumps(record.fields) and PERSON not in record.getMessage()


# --- every spelling the gateway accepts as a code is masked (policies.codes.normalize) ---------

ISSUE_EXAMPLE = "91420103ma0000015t"  # a valid USCC in lower case: accepted by the gateway
FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})


def spellings(code: str) -> dict[str, str]:
    """Spellings that policies.codes.normalize turns into ``code`` (NFKC, whitespace, case)."""
    return {
        "as_is": code,
        "lower": code.lower(),
        "full_width": code.translate(FULL_WIDTH),
        "full_width_lower": code.lower().translate(FULL_WIDTH),
        "spaces": " ".join(code[i : i + 4] for i in range(0, len(code), 4)),
        "ideographic_spaces": "\u3000".join(code[i : i + 3] for i in range(0, len(code), 3)),
        "tabs_and_nbsp": code[:6] + "\t" + code[6:12] + "\u00a0" + code[12:],
        "newline_inside": code[:9] + "\n" + code[9:],
        "mixed": code[:4].translate(FULL_WIDTH) + " " + code[4:10].lower() + "\u3000" + code[10:],
    }


CODES = {"uscc": ENTERPRISE, "citizen_id": PERSON, "citizen_id_x": "11010519491231002X",
         "legacy_id": "420102870406001", "issue_example": ISSUE_EXAMPLE.upper()}  # fmt: skip


# escape sequences a message may write whitespace as: GraphQL/JSON \t \u0085, Python \x1c
_ESCAPED_WHITESPACE = re.compile(r"\\+(?:[tnrfv]|u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2})")


def in_clear(code: str, text: str) -> bool:
    """Whether ``code`` can be read back from ``text`` in any accepted spelling, also with
    its whitespace written as escape sequences (as graphql-core and repr quote strings)."""
    return normalize(code) in normalize(_ESCAPED_WHITESPACE.sub("", text))


def escaped_spellings(code: str) -> dict[str, str]:
    """How a message quotes a code that was sent with whitespace inside (accepted by
    policies.codes.normalize): graphql-core's print_string (``\t``, ``\u0085``),
    Python's repr (``\x1c``), an escape quoted again (``\\t``), one before the code."""
    return {
        "graphql_tab": code[:8] + "\\t" + code[8:],
        "graphql_newline": code[:3] + "\\n" + code[3:],
        "graphql_nel": code[:8] + "\\u0085" + code[8:],
        "graphql_unit_separator": code[:8] + "\\u001F" + code[8:],
        "repr_file_separator": code[:4] + "\\x1c" + code[4:],
        "double_escaped": code[:8] + "\\\\t" + code[8:],
        "leading_tab": "\\t" + code,
        "leading_unicode_tab": "\\u0009" + code,
        "several": "\\t".join(code[i : i + 2] for i in range(0, len(code), 2)),
    }


@pytest.mark.parametrize("spelling", escaped_spellings(ENTERPRISE).keys())
@pytest.mark.parametrize("kind", ["uscc", "citizen_id", "issue_example"])
def test_codes_quoted_with_escaped_whitespace_are_masked(kind, spelling):
    """Fault found by outside testing: ``person(id: "91420103\tMA0000015T")`` (a valid
    USCC with a tab) was logged as ``found: "91420103\\tMA0000015T"``, in clear."""
    code = CODES[kind]
    written = escaped_spellings(code)[spelling]
    masked = mask_codes(f"Expected value of type 'CitizenID', found: \"{written}\".")
    assert in_clear(code, f'"{written}"')  # the helper sees the code through the escapes
    assert not in_clear(code, masked), masked


@pytest.mark.parametrize("spelling", spellings(ENTERPRISE).keys())
@pytest.mark.parametrize("kind", CODES)
def test_every_accepted_spelling_is_masked(kind, spelling):
    code = CODES[kind]
    written = spellings(code)[spelling]
    if kind != "legacy_id" and kind != "citizen_id_x":
        assert normalize(written) == normalize(code)  # the gateway reads it as the code
    masked = mask_codes(f"查询 {written}：失败 (code={written!r})")
    assert not in_clear(code, masked), masked
    keep = 6 if kind != "uscc" and kind != "issue_example" else 8
    stars = {"uscc": 9, "issue_example": 9, "legacy_id": 8}.get(kind, 11)
    assert normalize(code)[:keep] + "*" * stars + normalize(code)[-1] in masked


def test_the_issue_example_in_a_validation_message_is_masked():
    message = f'Argument "code" has invalid value "{ISSUE_EXAMPLE}". Cannot query field "nope".'
    masked = mask_codes(message)
    assert ISSUE_EXAMPLE not in masked and not in_clear(ISSUE_EXAMPLE, masked)
    assert "91420103*********T" in masked


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([ENTERPRISE, PERSON, ISSUE_EXAMPLE.upper()]),
    st.lists(st.tuples(st.booleans(), st.booleans(), st.sampled_from(["", "", " ", "\u3000", "\t"])),
             min_size=18, max_size=18),
    st.sampled_from(["", "代码", "code: ", '"', "（", "= "]),
)  # fmt: skip
def test_masking_is_spelling_blind(code, choices, prefix):
    """Any per-character mix of case, full width and whitespace that normalizes to the code."""
    written = "".join(
        (c.lower() if lower else c).translate(FULL_WIDTH if wide else {}) + space
        for c, (lower, wide, space) in zip(code, choices, strict=True)
    )
    assert normalize(written) == code
    assert not in_clear(code, mask_codes(prefix + written + "。"))


def test_full_width_quotes_do_not_break_the_json_line():
    """Masking normalizes (NFKC) each value before it is encoded, never the encoded line."""
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "say ＂%s＂ ＼ ok", (ENTERPRISE,), None)
    line = JSONFormatter().format(record)
    assert json.loads(line)["message"] == 'say "91420102*********H" \\ ok'


# --- client mistakes are not ERROR lines, and quote no code ------------------------------------


@pytest.fixture
async def served(tmp_path):
    build_demo(tmp_path, organizations=5, persons=5)
    settings = Settings.load({}, data=str(tmp_path))
    gateway = await Gateway.start(settings)
    app = create_app(settings, gateway)
    app.state.gateway = gateway  # ASGITransport runs no lifespan
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        yield client, gateway
    await gateway.close()


BY_LITERAL = '{ organization(code: "CODE") { code } }'
BY_VARIABLE = "query($c: USCC!) { organization(code: $c) { code } }"
MISTAKES = {
    "syntax": ({"query": BY_LITERAL.replace("CODE", ISSUE_EXAMPLE)[:-2]}, {}),
    "validation": ({"query": BY_LITERAL.replace("CODE", ISSUE_EXAMPLE).replace("code }", "nope }")}, {}),
    "invalid_code_literal": ({"query": BY_LITERAL.replace("CODE", ISSUE_EXAMPLE[:-1] + "0")}, {}),
    "invalid_code_variable": ({"query": BY_VARIABLE, "variables": {"c": "9142 0103 ma00 0001 50"}}, {}),
    "coercion": ({"query": BY_VARIABLE, "variables": {"c": 5}}, {}),
    "several_operations": ({"query": "query A { __typename } query B { __typename }"}, {}),
    "operation_name_type": ({"query": "{ __typename }", "operationName": 5}, {}),
    "bad_header": ({"query": BY_LITERAL.replace("CODE", ISSUE_EXAMPLE)}, {"X-Purpose": "%00"}),
    "no_purpose": ({"query": BY_LITERAL.replace("CODE", ISSUE_EXAMPLE)}, {"X-Purpose": ""}),
    # a valid USCC with a tab inside, where a citizen ID is expected: quoted with "\t"
    "escaped_in_message": (
        {"query": '{ person(id: "' + ISSUE_EXAMPLE[:8] + "\\t" + ISSUE_EXAMPLE[8:] + '") { id } }'},
        {},
    ),
}


async def test_client_mistakes_are_not_error_lines_and_quote_no_code(served):
    client, gateway = served
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    before = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        token = gateway.signer.issue("11420100MB0000043N", ["consumer"], "test", 600)
        for params, extra in MISTAKES.values():
            sent = {"Authorization": f"Bearer {token}", "X-Purpose": "x", "X-Voucher": "off", **extra}
            response = await client.post("/graphql", json=params, headers=sent)
            assert 400 <= response.status_code < 500 or "errors" in response.json(), response.text
    finally:
        root.removeHandler(handler)
        root.setLevel(before)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines, "nothing was logged at all"
    assert [line for line in lines if line["level"] in ("error", "critical")] == []
    for line in lines:
        assert not in_clear(ISSUE_EXAMPLE, json.dumps(line, ensure_ascii=False)), line


def test_log_times_are_utc_whatever_the_server_tz(server_time_zone: Callable[[str], None]) -> None:
    """An instant written without an offset would read as China time (README, Time): say UTC."""
    server_time_zone("Etc/GMT+12")
    record = logging.LogRecord("govshare", logging.INFO, __file__, 1, "hello", None, None)
    record.created = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC).timestamp()
    line = json.loads(JSONFormatter().format(record))
    assert line["time"] == "2026-12-01T09:00:00Z"
