"""One GraphQL query spanning three kinds of department source, through the real
``govshare demo`` gateway (tests/conftest.py ``demo``): AMR's SQLite database (sql), HPF's
REST API that the demo starts on 127.0.0.1 (http, gateway/demo_rest.py) and EMA's CSV
drop (file). Answers are checked against what each source really holds."""

from __future__ import annotations

import csv
import json
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

QUERY = """query Kinds($code: USCC!) {
  organization(code: $code) {
    enterpriseRegistration { name status }
    deposit { uscc depositStatus coveredEmployees lastPaidMonth }
    safetyInspection { lastInspection inspectionResult openHazards }
  }
}"""


def hpf_record(demo: Any, code: str) -> dict[str, Any]:
    records = json.loads((demo.data_dir / "hpf.json").read_text(encoding="utf-8"))["deposits"]
    return next(r for r in records if r["unit"]["uscc"] == code)


def inspections(demo: Any) -> dict[str, dict[str, str]]:
    with (demo.data_dir / "ema" / "safety_inspection.csv").open(encoding="utf-8", newline="") as handle:
        return {row["uscc"]: row for row in csv.DictReader(handle)}


def test_one_query_reads_sql_http_and_file_departments(demo: Any, stored: Any) -> None:
    code = demo.info["samples"]["organizations"][0]  # organizations[::3] have an inspection
    response = demo.post(QUERY, {"code": code})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    organization = body["data"]["organization"]
    assert organization["enterpriseRegistration"]["name"] == stored(
        "amr", "enterprise", "ent_name", "uscc", code
    )
    record = hpf_record(demo, code)
    assert organization["deposit"] == {
        "uscc": code,
        "depositStatus": record["deposit"]["status"],
        "coveredEmployees": record["deposit"]["employees"],
        "lastPaidMonth": record["deposit"]["last_month"],
    }
    row = inspections(demo)[code]
    assert organization["safetyInspection"] == {
        "lastInspection": row["inspected_on"],
        "inspectionResult": row["result"],
        "openHazards": int(row["hazards"]),
    }


def test_a_subject_missing_from_the_file_is_null_and_others_still_answer(demo: Any) -> None:
    code = demo.info["samples"]["organizations"][1]  # not in EMA's drop
    assert code not in inspections(demo)
    body = demo.post(QUERY, {"code": code}).json()
    assert "errors" not in body, body
    assert body["data"]["organization"]["safetyInspection"] is None
    assert body["data"]["organization"]["deposit"]["uscc"] == code


def test_the_rest_departments_non_shared_field_is_never_answered(demo: Any) -> None:
    code = demo.info["samples"]["organizations"][0]
    remark = hpf_record(demo, code)["internal_remark"]
    response = demo.post(
        "query($c: USCC!) { organization(code: $c) { deposit { internalRemark } } }", {"c": code}
    )
    assert remark not in response.text
    assert response.json().get("errors"), "a non-shared item must not be queryable"
