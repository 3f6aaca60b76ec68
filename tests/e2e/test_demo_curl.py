"""The commands people paste work as printed (issue 7, item 21): the curl line `govshare demo`
prints, and the curl example of README.md, each run by a real shell against a real server."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).parents[2]

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")


def printed_curl(demo: Any, path: str = "/graphql") -> str:
    lines = [
        line for line in (demo.data_dir / "server.log").read_text().splitlines() if line.startswith("curl ")
    ]
    assert len(lines) == 2, "govshare demo prints one GraphQL and one compare curl command"
    (line,) = [line for line in lines if line.split()[2].endswith(path)]
    return line


def test_the_printed_compare_curl_works_pasted_as_is(demo):
    """The organization's real name, spelt otherwise (full-width, spaces): a match; the made-up
    legal representative: a mismatch; no value in the answer."""
    answer = run_shell(printed_curl(demo, "/compare"))
    code = demo.info["samples"]["organizations"][0]
    assert answer["subject"] == code and answer["found"] is True and answer["errors"] == []
    assert answer["items"] == {"name": "match", "legal_representative": "mismatch"}


def run_shell(script: str, env: dict[str, str] | None = None) -> Any:
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_printed_curl_works_pasted_as_is(demo, stored):
    answer = run_shell(printed_curl(demo))
    assert "errors" not in answer, answer
    code = demo.info["samples"]["organizations"][0]
    organization = answer["data"]["organization"]
    assert organization["code"] == code
    registration = organization["enterpriseRegistration"]
    assert registration["name"] == stored("amr", "enterprise", "ent_name", "uscc", code)
    # the conditional item: the printed command runs as the consumer holding the demo grant
    assert registration["legalRepresentative"] == stored("amr", "enterprise", "legal_rep", "uscc", code)


def test_the_readmes_curl_example_works(demo, stored, tmp_path):
    """README's example, with only the address and the home folder pointed at this test's demo."""
    block = next(b for b in re.findall(r"```sh\n(.*?)```", ROOT.joinpath("README.md").read_text(), re.DOTALL)
                 if "curl -s http://127.0.0.1:8000/graphql" in b)  # fmt: skip
    parts = urlsplit(demo.url)
    script = block.replace("http://127.0.0.1:8000", f"{parts.scheme}://{parts.netloc}")
    home = tmp_path / "home"
    (home / ".local" / "share").mkdir(parents=True)
    (home / ".local" / "share" / "govshare").symlink_to(demo.data_dir)
    answer = run_shell(script, env={**os.environ, "HOME": str(home)})
    code = "91420102MA0000007H"
    assert code == demo.info["samples"]["organizations"][0]  # README's code is the demo's first
    registration = answer["data"]["organization"]["enterpriseRegistration"]
    assert registration["name"] == stored("amr", "enterprise", "ent_name", "uscc", code)
    assert registration["legalRepresentative"] is None  # as README says, for the `consumer` token
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["CONDITIONAL_ACCESS_REQUIRED"]


@pytest.mark.parametrize("marker", ['"claims": {"name"', '"requests"'])
def test_the_readmes_compare_examples_work(demo, marker):
    """README's compare examples, with the address pointed at this test's demo and $TOKEN set."""
    block = next(b for b in re.findall(r"```sh\n(.*?)```", ROOT.joinpath("README.md").read_text(), re.DOTALL)
                 if "/compare" in b and marker in b)  # fmt: skip
    parts = urlsplit(demo.url)
    script = block.replace("http://127.0.0.1:8000", f"{parts.scheme}://{parts.netloc}")
    answer = run_shell(script, env={**os.environ, "TOKEN": demo.token("consumer")})
    results = answer.get("results", [answer])
    assert all(set(r["items"].values()) <= {"match", "mismatch"} and r["auditId"] for r in results)
    if marker == '"requests"':
        assert [r["resource"] for r in results] == ["amr.enterprise_registration", "tax.tax_credit"]
    else:
        assert set(results[0]["items"]) == {"name", "registration_date"}
        assert [e["extensions"]["code"] for e in results[0]["errors"]] == ["NOT_SHARED"]
