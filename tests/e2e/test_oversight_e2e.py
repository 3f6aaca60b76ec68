"""Late resources through a real server (issue 10 section 3): the demo's departments under the
shanghai profile (update limit 2 working days, art. 16; yearly catalog upkeep, art. 10), with
the sources' change stamps set here: AMR's last change in January (daily cycle: late), TAX's
today (monthly: on time), PSB's realtime resource changed two hours ago with no change
notice (late: judged by notices, not by a zero-day cycle), MCA's today (daily: on time).
Only TAX's catalog entry has a ``reviewed`` date within the year; AMR's ``published``
2024-01-01 and the undated others are overdue.

``/readyz``, ``lateResources`` (operators only) and ``stats`` must all say so.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway import demo
from policies.chinatime import CHINA_TIME
from tests.conftest import run_cli
from tests.e2e.test_sources import wait_serving

pytestmark = pytest.mark.e2e
DATA: list[Path] = []  # the module server's data folder

NOW = dt.datetime.now(CHINA_TIME).replace(tzinfo=None, microsecond=0)
STAMPS = {  # department db, table, newest change stamp (naive: China time)
    "amr": ("enterprise", dt.datetime(2026, 1, 5, 9, 0)),
    "tax": ("tax_credit", NOW),
    "psb": ("resident", NOW - dt.timedelta(hours=2)),
    "mca": ("marriage", NOW),
    "hrss": ("insurance", NOW),
    "credit": ("credit_record", NOW),
}
LATE = """{ lateResources { resource provider { code } reasons updateCycle rule limitWorkingDays
  lastUpdate lastNotice dueBy updateArticle lastReview reviewDue reviewArticle } }"""
STATS = """{ stats { department { code } late catalogOverdue catalogReviewed
  timeliness { resource rule onTime dueBy limitWorkingDays article }
  evaluation { figure term value unit } } }"""


def set_stamps(data: Path) -> None:
    for db, (table, newest) in STAMPS.items():
        with contextlib.closing(sqlite3.connect(data / f"{db}.db")) as conn, conn:
            conn.execute(f"UPDATE {table} SET updated_at = ?", (newest.isoformat(),))


def under_shanghai(data: Path) -> None:
    catalog = data / "catalog.yaml"
    text = catalog.read_text(encoding="utf-8")
    assert "profile: hubei\n" in text and "- id: tax.tax_credit\n" in text
    text = text.replace("profile: hubei\n", "profile: shanghai\n", 1)
    reviewed = f"- id: tax.tax_credit\n  reviewed: '{NOW.date().isoformat()}'\n"
    catalog.write_text(text.replace("- id: tax.tax_credit\n", reviewed, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    data = tmp_path_factory.mktemp("oversight")
    DATA[:] = [data]
    run_cli(data, "demo", "--no-serve", "--port", "0", "--organizations", "20", "--persons", "10")
    set_stamps(data)
    under_shanghai(data)
    log_file = data / "serve.log"
    command = [sys.executable, "-m", "gateway.cli", "serve", "--data", str(data), "--port", "0"]
    with log_file.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        yield wait_serving(log_file, process), json.loads((data / "demo.json").read_text())
    finally:
        process.terminate()
        process.wait(timeout=20)


def post(server: tuple[str, dict[str, Any]], query: str, who: str) -> httpx.Response:
    base, info = server
    headers = {"Authorization": f"Bearer {info['tokens'][who]}", "Accept": "application/json"}
    return httpx.post(f"{base}/graphql", json={"query": query}, headers=headers, timeout=30)


def test_readyz_flags_late_resources_and_overdue_entries_without_changing_the_status(server) -> None:
    response = httpx.get(f"{server[0]}/readyz", timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    # the demo's REST department is served by `govshare demo` only: here it is unavailable
    # (degraded); lateness itself never makes the gateway not ready
    assert body["status"] in ("ready", "degraded") and body["profile"] == "shanghai"
    late = {entry["resource"]: entry for entry in body["late"]["resources"]}
    assert {"amr.enterprise_registration", "psb.resident"} <= set(late)
    assert not set(late) & {"tax.tax_credit", "mca.marriage", "hrss.social_insurance", "credit.credit_record"}
    unanswered = {rid for rid, source in body["sources"].items() if source["state"] != "ok"}
    assert not set(late) & unanswered  # a source that does not answer is unknown, not late
    assert late["amr.enterprise_registration"]["provider"] == demo.AMR.code
    assert late["amr.enterprise_registration"]["article"] == "《上海市政务数据资源共享管理办法》 art. 16"
    overdue = {entry["resource"] for entry in body["late"]["catalog"]}
    assert "tax.tax_credit" not in overdue and "amr.enterprise_registration" in overdue
    assert overdue == set(body["sources"]) - {"tax.tax_credit"}  # no reviewed date, or published 2024
    assert {entry["article"] for entry in body["late"]["catalog"]} == {
        "《上海市政务数据资源共享管理办法》 art. 10"
    }


def test_late_resources_for_the_operator(server) -> None:
    response = post(server, LATE, "operator")
    assert response.status_code == 200, response.text
    found = {entry["resource"]: entry for entry in response.json()["data"]["lateResources"]}
    amr, psb = found["amr.enterprise_registration"], found["psb.resident"]
    assert amr["reasons"] == ["UPDATE_LATE", "CATALOG_REVIEW_OVERDUE"]
    assert (amr["rule"], amr["limitWorkingDays"], amr["updateCycle"]) == ("cycle", 2, "daily")
    assert amr["lastUpdate"].startswith("2026-01-05T01:00:00")  # 09:00 China time, in UTC
    # daily: produced 2026-01-06 (a Tuesday); + 2 working days = Thursday 2026-01-08, to its end
    assert dt.datetime.fromisoformat(amr["dueBy"]) == dt.datetime(2026, 1, 8, 23, 59, 59, 999999, CHINA_TIME)
    assert (amr["lastReview"], amr["reviewDue"]) == ("2024-01-01", "2025-01-01")
    assert psb["rule"] == "realtime" and psb["dueBy"] is None and psb["lastNotice"] is None
    assert "UPDATE_LATE" in psb["reasons"]
    assert "tax.tax_credit" not in found  # on time and reviewed this year
    mca = found["mca.marriage"]
    assert mca["reasons"] == ["CATALOG_REVIEW_OVERDUE"] and mca["lastReview"] is None


@pytest.mark.parametrize("who", ["consumer", "consumer_with_grant", "provider"])
def test_late_resources_are_for_operators_only(server, who: str) -> None:
    response = post(server, LATE, who)
    body = response.json()
    assert response.status_code == 200 and body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["FORBIDDEN"]
    assert "amr.enterprise_registration" not in response.text  # nothing of the verdicts leaks


def test_stats_count_late_resources_and_the_shanghai_evaluation_figures(server) -> None:
    response = post(server, STATS, "operator")
    assert response.status_code == 200, response.text
    by_code = {entry["department"]["code"]: entry for entry in response.json()["data"]["stats"]}
    amr, tax, psb = by_code[demo.AMR.code], by_code[demo.TAX.code], by_code[demo.PSB.code]
    assert (amr["late"], tax["late"], psb["late"]) == (1, 0, 1)
    assert (amr["catalogOverdue"], amr["catalogReviewed"]) == (1, 0)
    assert (tax["catalogOverdue"], tax["catalogReviewed"]) == (0, 1)
    (timeliness,) = tax["timeliness"]
    assert timeliness["onTime"] is True and timeliness["limitWorkingDays"] == 2
    assert timeliness["article"] == "《上海市政务数据资源共享管理办法》 art. 16"
    figures = {figure["figure"]: figure for figure in amr["evaluation"]}
    assert list(figures) == ["catalog_upkeep", "use", "timeliness"]  # art. 22's order
    assert [figure["term"] for figure in amr["evaluation"]] == ["目录编制", "资源共享", "更新维护"]
    assert figures["timeliness"]["value"] == 0.0 and figures["catalog_upkeep"]["value"] == 0.0
    assert by_code[demo.TAX.code]["evaluation"][0]["value"] == 1.0
    housing = by_code[demo.HOUSING.code]  # provides nothing: nothing judged
    assert housing["late"] == 0 and housing["catalogReviewed"] is None


def test_a_change_notice_covering_the_change_makes_a_realtime_resource_on_time(server) -> None:
    """The realtime rule reads the change-notice store (gateway.changes): once PSB's change is
    notified (``govshare notify-change``, changed at the source's own stamp), it is not late."""
    person = server[1]["samples"]["persons"][0]
    changed = (NOW - dt.timedelta(hours=2)).replace(tzinfo=CHINA_TIME).isoformat()
    notify = ["notify-change", "--resource", "psb.resident", "--subjects", person, "--changed-at", changed]
    run_cli(DATA[0], *notify)
    deadline = time.monotonic() + 15  # verdicts are kept 5 s
    while time.monotonic() < deadline:
        found = {e["resource"]: e for e in post(server, LATE, "operator").json()["data"]["lateResources"]}
        if "UPDATE_LATE" not in found.get("psb.resident", {}).get("reasons", []):
            break
        time.sleep(0.5)
    psb = found["psb.resident"]  # still listed: its catalog entry is overdue
    assert psb["reasons"] == ["CATALOG_REVIEW_OVERDUE"]
    assert dt.datetime.fromisoformat(psb["lastNotice"]) == dt.datetime.fromisoformat(changed)
