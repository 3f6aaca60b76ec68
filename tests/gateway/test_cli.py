"""The govshare command line, run as a user runs it (a child process)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gateway import cli
from gateway.auth import load_signer
from gateway.platform import PlatformDB, default_url
from policies.codes import make_uscc
from tests.conftest import CATALOG, run_cli

CONSUMER = make_uscc("1", "1", "420100", "MC000001")


def initialise(folder: Path) -> Path:
    """What `govshare serve` leaves in a data folder on first start: keys and platform database."""
    load_signer(folder)
    platform = PlatformDB(default_url(str(folder)))

    async def create() -> None:
        await platform.create_schema()
        await platform.close()

    asyncio.run(create())
    return folder


@pytest.fixture
def data(tmp_path: Path) -> Path:
    shutil.copy(CATALOG, tmp_path / "catalog.yaml")
    return initialise(tmp_path)


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


def test_catalog_check_reports_every_problem(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    text = CATALOG.read_text(encoding="utf-8").replace("basis: 《税收征收管理法》第八条", "")
    bad.write_text(text.replace("update_cycle: daily", "update_cycle: hourly", 1), "utf-8")
    result = run_cli(tmp_path, "catalog", "check", str(bad), check=False)
    assert result.returncode == 2
    assert "2 problems" in result.stderr
    assert "resources[0].update_cycle" in result.stderr and "resources[1].items[3].basis" in result.stderr


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


# --- the catalog: --catalog everywhere, one default (issue 7, item 17) -------------------------


def govshare(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GOVSHARE_")} | (env or {})
    command = [sys.executable, "-m", "gateway.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=environ)


def commands(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every leaf command of the parser: ("grant", "add") -> its parser."""
    found: dict[tuple[str, ...], argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found |= commands(sub, (*prefix, name))
    return found or {prefix: parser}


def needs_catalog(command: tuple[str, ...]) -> bool:
    return command in {("serve",), ("demo",), ("grant", "add"), ("catalog", "check")}


def test_every_command_that_reads_the_catalog_takes_catalog():
    for command, parser in commands(cli._parser()).items():
        options = {opt for action in parser._actions for opt in action.option_strings}
        assert "--data" in options, command
        if needs_catalog(command):
            assert "--catalog" in options, command


@pytest.fixture
def elsewhere(tmp_path: Path) -> tuple[Path, Path]:
    """A data folder without catalog.yaml, as after `serve --catalog X`, and X."""
    folder = initialise(tmp_path / "data")
    catalog = tmp_path / "catalogs" / "city.yaml"
    catalog.parent.mkdir()
    shutil.copy(CATALOG, catalog)
    return folder, catalog


GRANT = ["grant", "add", "--consumer", CONSUMER, "--resource", "tax.tax_credit", "--items", "tax_arrears",
         "--purpose", "信用"]  # fmt: skip


def test_grant_add_reads_the_catalog_serve_was_given(elsewhere: tuple[Path, Path]):
    folder, catalog = elsewhere
    missing = govshare(*GRANT, "--data", str(folder))
    assert missing.returncode == 2
    assert "--catalog" in missing.stderr and "GOVSHARE_CATALOG" in missing.stderr, missing.stderr
    assert str(folder / "catalog.yaml") in missing.stderr
    by_flag = govshare(*GRANT, "--data", str(folder), "--catalog", str(catalog))
    assert by_flag.returncode == 0, by_flag.stderr
    by_env = govshare(*GRANT, "--data", str(folder), env={"GOVSHARE_CATALOG": str(catalog)})
    assert by_env.returncode == 0, by_env.stderr
    listed = govshare("grant", "list", "--data", str(folder)).stdout.splitlines()
    assert len(listed) == 2


def test_catalog_check_takes_catalog_or_the_default(elsewhere: tuple[Path, Path]):
    folder, catalog = elsewhere
    assert govshare("catalog", "check", "--catalog", str(catalog), "--data", str(folder)).stdout.startswith(
        "ok:"
    )
    by_env = govshare("catalog", "check", "--data", str(folder), env={"GOVSHARE_CATALOG": str(catalog)})
    assert by_env.stdout.startswith("ok:")
    missing = govshare("catalog", "check", "--data", str(folder))
    assert missing.returncode == 2 and "GOVSHARE_CATALOG" in missing.stderr


# --- nothing is made in the wrong folder (issue 7, item 18) -------------------------------------


def test_serve_with_an_empty_data_folder_says_how_to_fix_it_before_serving(tmp_path: Path):
    result = govshare("serve", "--data", str(tmp_path), "--port", "0")
    assert result.returncode == 2
    assert "serving" not in result.stdout
    assert "--catalog PATH" in result.stderr and "govshare demo" in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_serve_with_a_catalog_whose_department_files_are_elsewhere_refuses_before_serving(tmp_path: Path):
    """--catalog given, but --data is not the folder holding the departments' SQLite files."""
    demo_catalog = Path(cli.__file__).parent / "demo_catalog.yaml"
    result = govshare("serve", "--data", str(tmp_path), "--catalog", str(demo_catalog), "--port", "0")
    assert result.returncode == 2
    assert "serving" not in result.stdout
    assert "does not exist" in result.stderr and "GOVSHARE_DATA" in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []


# command -> arguments after it; each must refuse in a folder no gateway uses, and make nothing there
STATEFUL = {
    ("token",): ["--department", CONSUMER, "--roles", "consumer"],
    ("grant", "add"): [*GRANT[2:], "--catalog", str(CATALOG)],
    ("grant", "list"): [],
    ("grant", "revoke"): ["APP-1"],
    ("client", "create"): ["--department", CONSUMER, "--roles", "consumer", "--name", "x"],
    ("client", "list"): [],
    ("client", "disable"): ["c-1"],
    ("keys", "rotate"): [],
    ("keys", "list"): [],
    ("audit", "verify"): [],
    ("audit", "export"): [],
    ("voucher", "verify"): ["TOKEN", "--response", "{response}"],
    ("package", "verify"): ["{response}"],
    ("notify-change",): [
        "--resource",
        "amr.enterprise_registration",
        "--subjects",
        CONSUMER,
        "--catalog",
        str(CATALOG),
    ],
    ("report",): ["--year", "2026", "--catalog", str(CATALOG)],
    ("onboard",): [CONSUMER, "--commitment", "承诺", "--catalog", str(CATALOG)],
    ("db", "upgrade"): [],
    ("db", "current"): [],
    ("backup",): ["{response}.backup"],
    ("audit", "archive"): ["--older-than", "6h", "{response}.archives"],
    ("audit", "verify-archive"): ["{response}"],
    ("catalog", "import"): [str(CATALOG)],
    ("catalog", "export"): [],
    ("catalog", "entries"): [],
    ("catalog", "history"): ["amr.enterprise_registration"],
    ("catalog", "draft"): [str(CATALOG), "--department", CONSUMER],
    ("catalog", "submit"): ["amr.enterprise_registration", "--department", CONSUMER],
    ("catalog", "review"): ["amr.enterprise_registration", "--approve"],
    ("catalog", "publish"): ["amr.enterprise_registration"],
    ("catalog", "withdraw"): ["amr.enterprise_registration", "--reason", "x"],
}
MAKE_STATE = {("serve",), ("demo",), ("restore",)}  # these make a data folder's state
STATELESS = {("catalog", "check"), ("db", "history"), ("db", "revision")}  # no data folder read


def test_the_table_names_every_command():
    assert set(commands(cli._parser())) == set(STATEFUL) | MAKE_STATE | STATELESS


@pytest.mark.parametrize("command", sorted(STATEFUL), ids=" ".join)
def test_a_command_refuses_a_folder_no_gateway_uses(tmp_path: Path, command: tuple[str, ...]):
    empty = tmp_path / "empty"
    empty.mkdir()
    response = tmp_path / "response.json"
    response.write_text('{"data": null}')
    arguments = [arg.replace("{response}", str(response)) for arg in STATEFUL[command]]
    result = govshare(*command, *arguments, "--data", str(empty))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "--data" in result.stderr and "GOVSHARE_DATA" in result.stderr, result.stderr
    assert result.stdout == ""
    assert list(empty.iterdir()) == []


def test_token_without_data_refuses_when_the_default_folder_has_no_keys(tmp_path: Path):
    """The issue's example: no --data, the default folder (XDG_DATA_HOME/govshare) holds no keys."""
    result = govshare(
        "token", "--department", CONSUMER, env={"XDG_DATA_HOME": str(tmp_path), "HOME": str(tmp_path)}
    )
    assert result.returncode == 2
    assert "GOVSHARE_DATA" in result.stderr and str(tmp_path / "govshare") in result.stderr
    assert not (tmp_path / "govshare" / "keys.json").exists()


@pytest.mark.parametrize(
    "command", [("grant", "list"), ("audit", "export"), ("catalog", "check", "--sources")]
)
def test_output_to_a_closed_pipe_ends_quietly(data: Path, command: tuple[str, ...]):
    """`govshare audit export | head` ended in a BrokenPipeError traceback. A pipe whose reader
    is gone before the command writes makes it certain (Python docs, "Note on SIGPIPE")."""
    run_cli(data, "grant", "add", "--consumer", CONSUMER, "--resource", "tax.tax_credit",
            "--items", "tax_arrears", "--purpose", "信用")  # fmt: skip
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        command_line = [sys.executable, "-m", "gateway.cli", *command, "--data", str(data)]
        done = subprocess.run(command_line, stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert done.returncode == 1
