"""Every "today" is today in China, whatever the server's TZ (issue 7, item 1).

A ``govshare demo`` of its own runs with ``TZ`` set far from China: ``Etc/GMT+12`` (UTC-12,
20 hours behind China: its date is China's yesterday unless it is 20:00-24:00 in China),
else ``Etc/GMT-14`` (UTC+14, 6 hours ahead: its date is China's tomorrow from 18:00 in China),
so that the server's local date differs from China's whenever the test runs. Then:

- a citizen ID born today in China is valid, one born tomorrow in China is not
  (GB 11643-1999: the birth date is a real date, not in the future);
- an application's first deadline counts from the day it was submitted in China;
- a daily cap counts subjects on China's day (``grant_usage.day``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from policies.chinatime import CHINA_TIME, today_in_china
from policies.codes import citizen_id_check_char, make_citizen_id
from policies.profile import load_profile
from policies.workdays import WorkdayCalendar

pytestmark = pytest.mark.e2e

PURPOSE = "保障性住房资格审核"


def far_zone() -> tuple[str, dt.timezone]:
    """A TZ whose date differs from China's now, and its fixed offset (POSIX signs are inverted)."""
    china_hour = dt.datetime.now(CHINA_TIME).hour
    if china_hour < 20:
        return "Etc/GMT+12", dt.timezone(dt.timedelta(hours=-12))
    return "Etc/GMT-14", dt.timezone(dt.timedelta(hours=14))


class Server:
    def __init__(self, data_dir: Path, zone: str) -> None:
        self.data_dir = data_dir
        command = [sys.executable, "-m", "gateway.cli", "demo", "--data", str(data_dir), "--port", "0",
                   "--organizations", "20", "--persons", "20"]  # fmt: skip
        env = {key: value for key, value in os.environ.items() if key != "GOVSHARE_DATABASE_URL"}
        env["TZ"] = zone
        self.log = (data_dir / "server.log").open("w")
        self.process = subprocess.Popen(
            command, stdout=self.log, stderr=subprocess.STDOUT, text=True, env=env
        )
        self.info = self._wait_ready()

    def _wait_ready(self) -> dict[str, Any]:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"demo exited: {(self.data_dir / 'server.log').read_text()}")
            info_file = self.data_dir / "demo.json"
            if info_file.exists():
                info: dict[str, Any] = json.loads(info_file.read_text())
                try:
                    if httpx.get(info["url"].replace("/graphql", "/healthz"), timeout=2).status_code == 200:
                        return info
                except httpx.HTTPError:
                    pass
            time.sleep(0.2)
        raise AssertionError("demo server did not become ready in 120 s")

    def post(self, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
        headers = {
            "Authorization": f"Bearer {self.info['tokens'][token]}",
            "X-Purpose": quote(PURPOSE),
            "X-Voucher": "off",
            "Accept": "application/graphql-response+json",
        }
        body = {"query": query, "variables": variables}
        return dict(httpx.post(self.info["url"], json=body, headers=headers, timeout=30).json())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        self.log.close()


@pytest.fixture(scope="module")
def far_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dt.timezone]]:
    zone, offset = far_zone()
    server = Server(tmp_path_factory.mktemp("china-today"), zone)
    try:
        yield server, offset
    finally:
        server.stop()


def test_the_server_date_really_differs_from_china(far_server: tuple[Server, dt.timezone]) -> None:
    """The premise: otherwise the tests below could not fail."""
    _, offset = far_server
    assert dt.datetime.now(offset).date() != today_in_china()


def test_a_citizen_born_today_in_china_is_valid_and_tomorrow_is_not(
    far_server: tuple[Server, dt.timezone],
) -> None:
    server, _ = far_server
    today = today_in_china()
    query = "query($id: CitizenID!) { person(id: $id) { id } }"
    born_today = server.post(query, {"id": make_citizen_id("420102", today, "001")}, "consumer")
    assert "errors" not in born_today, born_today
    first17 = f"420102{today + dt.timedelta(days=1):%Y%m%d}001"  # well-formed but for the date
    tomorrow = first17 + citizen_id_check_char(first17)
    refused = server.post(query, {"id": tomorrow}, "consumer")
    assert [e["extensions"]["rule"] for e in refused["errors"]] == ["birth_date"]


SUBMIT = (
    """mutation($a: ApplicationInput!) { submitApplication(application: $a) { id submittedAt checkDue } }"""
)
CHECK = """mutation($id: ID!) { checkApplication(id: $id, accept: true, reasons: ["ok"]) { id } }"""
DECIDE = """mutation($id: ID!, $c: ConditionsInput) {
  decideApplication(id: $id, approve: true, reasons: ["同意"], conditions: $c) { grantId }
}"""
READ = "query($code: USCC!) { organization(code: $code) { enterpriseRegistration { legalRepresentative } } }"


def test_deadlines_and_daily_caps_count_china_days(far_server: tuple[Server, dt.timezone]) -> None:
    server, _ = far_server
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    application = {
        "resource": "amr.enterprise_registration", "items": ["legal_representative"], "purpose": PURPOSE,
        "scopeOfKnowledge": "住房保障科", "securityMeasures": "专线", "legalBasis": "《办法》第八条",
        "validUntil": until,
    }  # fmt: skip
    submitted = server.post(SUBMIT, {"a": application}, "consumer")["data"]["submitApplication"]
    day = today_in_china()
    profile = load_profile("hubei")  # the demo catalog's profile
    expected = WorkdayCalendar().add_workdays(day, profile.deadlines.check or 0)
    assert submitted["checkDue"] == expected.isoformat()

    server.post(CHECK, {"id": submitted["id"]}, "operator")
    decided = server.post(DECIDE, {"id": submitted["id"], "c": {"dailyCap": 1}}, "provider")
    assert decided["data"]["decideApplication"]["grantId"], decided
    code = server.info["samples"]["organizations"][0]
    answered = server.post(READ, {"code": code}, "consumer")
    assert "errors" not in answered, answered
    with sqlite3.connect(server.data_dir / "platform.db") as conn:
        days = {row[0] for row in conn.execute("SELECT day FROM grant_usage")}
    assert days == {day.isoformat()}
