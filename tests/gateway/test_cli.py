"""The govshare command line, run as a user runs it (a child process)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gateway.auth import load_signer
from policies.codes import make_uscc
from tests.conftest import CATALOG, run_cli

CONSUMER = make_uscc("1", "1", "420100", "MC000001")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    shutil.copy(CATALOG, tmp_path / "catalog.yaml")
    return tmp_path


def test_catalog_check_accepts_a_good_catalog(tmp_path: Path):
    result = run_cli(tmp_path, "catalog", "check", str(CATALOG))
    assert result.stdout.startswith("ok: 3 departments, 3 resources")


def test_catalog_check_names_file_path_and_fix(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        CATALOG.read_text(encoding="utf-8").replace("basis: 《税收征收管理法》第八条", ""), "utf-8"
    )
    result = run_cli(tmp_path, "catalog", "check", str(bad), check=False)
    assert result.returncode == 2
    assert str(bad) in result.stderr
    assert "resources[1].items[3].basis" in result.stderr
    assert "fix:" in result.stderr


def test_token_carries_department_and_roles(data: Path):
    token = run_cli(data, "token", "--department", CONSUMER, "--roles", "consumer,operator").stdout.strip()
    consumer = load_signer(data).verify(token)
    assert consumer.department == CONSUMER
    assert consumer.roles == {"consumer", "operator"}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--department", "91420100MA4K00010X", "--roles", "consumer"], "check_char"),
        (["--department", CONSUMER, "--roles", "consumer,king"], "roles must be among"),
    ],
)
def test_token_refuses_bad_input(data: Path, args: list[str], fragment: str):
    result = run_cli(data, "token", *args, check=False)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert result.stdout == ""


def test_grant_add_list_revoke(data: Path):
    args = ["--consumer", CONSUMER, "--resource", "tax.tax_credit", "--items", "tax_arrears"]
    args += ["--purpose", "信用"]
    added = json.loads(run_cli(data, "grant", "add", *args).stdout)
    assert added["items"] == ["tax_arrears"] and added["revoked"] is False
    listed = [json.loads(line) for line in run_cli(data, "grant", "list").stdout.splitlines()]
    assert [g["id"] for g in listed] == [added["id"]]
    revoked = json.loads(run_cli(data, "grant", "revoke", added["id"]).stdout)
    assert revoked["revoked"] is True


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--resource", "tax.tax_credit", "--items", "audit_note"], "not shared"),
        (["--resource", "tax.tax_credit", "--items", "nope"], "has no item 'nope'"),
        (["--resource", "tax.nothing", "--items", "x"], "unknown resource"),
        (
            ["--resource", "tax.tax_credit", "--items", "tax_arrears", "--modes", "bulk"],
            "not offered in mode bulk",
        ),
        (["--resource", "tax.tax_credit", "--items", "tax_arrears", "--until", "tomorrow"], "not an ISO"),
        (
            ["--resource", "tax.tax_credit", "--items", "tax_arrears", "--until", "2020-01-01"],
            "end must come after",
        ),
    ],
)
def test_grant_add_refuses_and_stores_nothing(data: Path, extra: list[str], fragment: str):
    result = run_cli(data, "grant", "add", "--consumer", CONSUMER, "--purpose", "p", *extra, check=False)
    assert result.returncode == 2, result.stderr
    assert fragment in result.stderr
    assert run_cli(data, "grant", "list").stdout == ""
