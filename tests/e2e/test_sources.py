"""Sources are checked, not trusted (issue 7, item 19): ``govshare catalog check --sources``
opens each connector and names a missing table or column; ``/readyz`` reports each source's
state and is not ``ready`` with a misspelt table; a query then fails SOURCE_UNAVAILABLE on that
resource only, and the server log names the table, not only ``OperationalError``.

Runs the real CLI and a real server on 127.0.0.1 over the demo's SQLite departments.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway import demo, demo_rest
from tests.conftest import run_cli
from tests.connectors.services import serving

MISSPELT = "enterprise_registraton"
QUERY = """query($code: USCC!) {
  organization(code: $code) { enterpriseRegistration { name } taxCredit { creditRating } }
}"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A demo data folder whose REST department (HPF) is served for the module: ``govshare demo``
    serves it only while it runs, so the catalog is pointed at this module's own REST service."""
    data = tmp_path_factory.mktemp("sources")
    run_cli(data, "demo", "--no-serve", "--port", "0", "--organizations", "20", "--persons", "10")
    catalog = data / "catalog.yaml"
    with serving(demo_rest.demo_app(data)) as url:
        text = catalog.read_text(encoding="utf-8")
        built_url = re.search(r"base_url: '?(http://127\.0\.0\.1:\d+/)", text)
        assert built_url, "the demo catalog names HPF's REST API"
        catalog.write_text(text.replace(built_url.group(1), url.rstrip("/") + "/"), encoding="utf-8")
        yield data


def misspell(data: Path) -> None:
    catalog = data / "catalog.yaml"
    text = catalog.read_text(encoding="utf-8")
    assert "table: enterprise\n" in text
    catalog.write_text(text.replace("table: enterprise\n", f"table: {MISSPELT}\n", 1), encoding="utf-8")


def restore(data: Path) -> None:
    catalog = data / "catalog.yaml"
    text = catalog.read_text(encoding="utf-8")
    catalog.write_text(text.replace(f"table: {MISSPELT}\n", "table: enterprise\n"), encoding="utf-8")


def test_catalog_check_sources_names_the_misspelt_table(built: Path):
    ok = run_cli(built, "catalog", "check", "--sources")
    states = [json.loads(line) for line in ok.stdout.splitlines() if line.startswith("{")]
    assert {s["state"] for s in states} == {"ok"} and len(states) == 8
    misspell(built)
    try:
        assert run_cli(built, "catalog", "check").returncode == 0  # the file alone is fine
        result = run_cli(built, "catalog", "check", "--sources", check=False)
        assert result.returncode == 1
        lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        states = {s["resource"]: s for s in lines}
        bad = states["amr.enterprise_registration"]
        assert bad["state"] == "misconfigured" and MISSPELT in bad["detail"]
        assert all(s["state"] == "ok" for rid, s in states.items() if rid != "amr.enterprise_registration")
        assert "1 of 8 sources" in result.stderr
    finally:
        restore(built)


def test_catalog_check_sources_names_a_missing_column(built: Path):
    catalog = built / "catalog.yaml"
    original = catalog.read_text(encoding="utf-8")
    assert "legal_representative: legal_rep," in original
    changed = original.replace("legal_representative: legal_rep,", "legal_representative: legal_repr,", 1)
    catalog.write_text(changed, encoding="utf-8")
    try:
        result = run_cli(built, "catalog", "check", "--sources", check=False)
        assert result.returncode == 1
        assert "'legal_repr'" in result.stdout and "has no column" in result.stdout
    finally:
        catalog.write_text(original, encoding="utf-8")


@pytest.fixture
def served_misspelt(built: Path) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    misspell(built)
    log_file = built / "serve.log"
    command = [sys.executable, "-m", "gateway.cli", "serve", "--data", str(built), "--port", "0"]
    with log_file.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        url = wait_serving(log_file, process)
        yield url, log_file, process
    finally:
        process.terminate()
        process.wait(timeout=20)
        restore(built)


def wait_serving(log_file: Path, process: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log_file.read_text()
        found = re.search(r"at (http://\S+)/graphql", log_file.read_text())
        if found:
            with_port = found.group(1)
            try:
                if httpx.get(f"{with_port}/healthz", timeout=2).status_code == 200:
                    return with_port
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    raise AssertionError(f"not serving: {log_file.read_text()}")


def test_readyz_reports_each_source_and_is_not_ready_with_a_misspelt_table(
    served_misspelt: tuple[str, Path, subprocess.Popen[str]], built: Path
):
    base, log_file, _ = served_misspelt
    ready = httpx.get(f"{base}/readyz", timeout=10)
    assert ready.status_code == 503
    body: dict[str, Any] = ready.json()
    assert body["status"] == "not_ready"
    assert set(body["sources"]) == {
        "amr.enterprise_registration", "tax.tax_credit", "hrss.social_insurance",
        "credit.credit_record", "psb.resident", "mca.marriage", "hpf.deposit", "ema.safety_inspection",
    }  # fmt: skip
    amr = body["sources"]["amr.enterprise_registration"]
    assert amr["state"] == "misconfigured" and MISSPELT in amr["detail"] and amr["provider"] == demo.AMR.code
    assert body["sources"]["tax.tax_credit"]["state"] == "ok"

    info = json.loads((built / "demo.json").read_text())
    code = info["samples"]["organizations"][0]
    headers = {"Authorization": f"Bearer {info['tokens']['consumer']}", "X-Purpose": "%E6%B5%8B%E8%AF%95"}
    answer = httpx.post(
        f"{base}/graphql", json={"query": QUERY, "variables": {"code": code}}, headers=headers
    )
    data = answer.json()
    assert data["data"]["organization"]["taxCredit"] is not None  # the rest is served
    codes = {e["extensions"]["code"] for e in data["errors"]}
    assert codes == {"SOURCE_UNAVAILABLE"}
    assert MISSPELT not in answer.text  # the department's table names stay in the log
    time.sleep(0.5)
    log = log_file.read_text()
    assert f"no such table: {MISSPELT}" in log  # the log says which table
    assert f"is misconfigured: table '{MISSPELT}' does not exist" in log  # said at startup already
