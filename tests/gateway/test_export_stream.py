"""Unit tests of the export encoders and of package verification on inputs no server makes."""

from __future__ import annotations

import asyncio
import csv
import io

import orjson
import pytest

from errors import SourceUnavailable
from gateway.export_stream import CSVEncoder, _count, ndjson_lines
from gateway.package import verify_package
from resolvers.breaker import BreakerSettings, CircuitBreaker

AWKWARD = [
    {"uscc": "A", "name": 'say "hi", then\r\nleave', "n": 1, "flag": True, "none": None},
    {"uscc": "B", "name": "plain", "n": 2, "flag": False, "none": None},
]


def test_csv_quotes_as_rfc_4180_and_round_trips():
    encoder = CSVEncoder(
        ("uscc", "name", "n", "flag", "none"), ("uscc", "name", "n", "flag", "none"), bom=False
    )
    text = (encoder.head() + encoder.encode(AWKWARD)).decode()
    assert text == ('uscc,name,n,flag,none\r\nA,"say ""hi"", then\r\nleave",1,true,\r\nB,plain,2,false,\r\n')
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0][1] == AWKWARD[0]["name"] and header[0] == "uscc"


def test_csv_bom_only_once_before_the_header():
    encoder = CSVEncoder(("uscc",), ("统一社会信用代码",), bom=True)
    data = encoder.head() + encoder.encode([{"uscc": "X"}]) + encoder.encode([{"uscc": "Y"}])
    assert data == "\ufeff统一社会信用代码\r\nX\r\nY\r\n".encode()


def test_ndjson_one_object_per_line():
    lines = ndjson_lines(AWKWARD).split(b"\n")
    assert lines[-1] == b"" and [orjson.loads(line) for line in lines[:-1]] == AWKWARD


def test_verify_names_a_file_that_is_not_a_zip():
    check = verify_package(io.BytesIO(b"not a zip at all"), {"keys": []})
    assert not check.ok and check.problems[0].startswith("not a readable ZIP package")


def test_an_export_counts_once_by_its_end_event():
    from gateway.usage import usage_key
    from policies.share import Mode

    base = {"kind": "export", "mode": "bulk", "consumer": "C", "resources": ["amr.x"]}
    assert usage_key({**base, "outcome": "started", "decisions": {"amr.x.a": "ALLOWED"}}) is None
    ended = usage_key({**base, "outcome": "answered", "decisions": {"amr.x.a": "ALLOWED"}})
    assert ended is not None and ended.mode is Mode.BULK and ended.refused == ()
    cut = usage_key(
        {**base, "outcome": "SOURCE_UNAVAILABLE", "decisions": {"amr.x.a": "ALLOWED|SOURCE_UNAVAILABLE"}}
    )
    assert cut is not None and cut.unavailable == ("amr.x",)


# OWASP "CSV Injection" and ASVS 5.0 requirement 1.2.10: a text cell a spreadsheet would read
# as a formula (first character = + - @ TAB CR NUL) is written with a leading apostrophe
FORMULA_CELLS = [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(1+1)", "'@SUM(1+1)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("\x00=1", "'\x00=1"),
    ("武汉=1", "武汉=1"),
    ("a-b", "a-b"),
    ("'=already", "'=already"),
    ("", ""),
]


@pytest.mark.parametrize(("stored", "written"), FORMULA_CELLS)
def test_csv_text_cells_a_spreadsheet_would_evaluate_get_an_apostrophe(stored, written):
    encoder = CSVEncoder(("v",), ("v",), bom=True)
    body = encoder.encode([{"v": stored}]).decode()
    (cell,) = next(csv.reader(io.StringIO(body, newline="")))
    assert cell == written


@pytest.mark.parametrize("number", [-5, -0.5, 1e-9, -(10**20)])
def test_csv_numbers_stay_numbers(number):
    encoder = CSVEncoder(("n",), ("n",), bom=False)
    assert encoder.encode([{"n": number}]).decode() == f"{number}\r\n"


def test_csv_header_cells_are_neutralised_too():
    encoder = CSVEncoder(("x",), ("=title",), bom=False)
    assert encoder.head() == b"'=title\r\n"


def _failed_read(failure: Exception) -> asyncio.Future[list[object]]:
    done: asyncio.Future[list[object]] = asyncio.get_running_loop().create_future()
    done.set_exception(failure)
    done.exception()  # retrieved
    return done


async def test_an_export_page_read_the_connector_does_not_offer_opens_no_circuit() -> None:
    """An export of a resource read over a graphql connector: its scan is refused as not
    offered (``unsupported: scan``), which says nothing of the upstream; counted, five such
    exports of one consumer opened the upstream's circuit for every consumer's queries."""
    breaker = CircuitBreaker("upstream", BreakerSettings(failures=2))
    for _ in range(5):
        _count(breaker, _failed_read(SourceUnavailable("no scan over GraphQL", unsupported="scan")))
    assert breaker.state == "closed"
    for _ in range(2):
        _count(breaker, _failed_read(SourceUnavailable("down")))
    assert breaker.state == "open"
