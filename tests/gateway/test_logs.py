"""Logs: identity codes masked wherever they appear; request lines carry no body."""

from __future__ import annotations

import io
import json
import logging

import httpx

from gateway.logs import JSONFormatter, RequestLog, mask_codes

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
