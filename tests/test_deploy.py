"""The production example in deploy/ (README "Production deployment") is consistent with the
code: every command its systemd units, compose file and Dockerfile run is a ``govshare``
command that the CLI accepts with those flags (argparse, as it would run), every variable
they set is a documented setting (gateway/settings.py and README "Configuration"), the load
balancer points at the ports the gateways listen on, and the unit's pre-start command runs
for real against a data folder."""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import gateway.settings
from gateway.cli import _parser

ROOT = Path(__file__).parent.parent
DEPLOY = ROOT / "deploy"
README = (ROOT / "README.md").read_text()
SETTINGS_DOC = gateway.settings.__doc__ or ""


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string((DEPLOY / "systemd" / name).read_text())
    return parser


def env_file() -> dict[str, str]:
    lines = (DEPLOY / "govshare.env").read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.startswith("#")]
    return {key: value for key, value in pairs}


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


def gateways() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose()["services"].items() if s.get("command", [""])[0] == "govshare"}


def commands() -> list[list[str]]:
    """Every govshare command line deploy/ runs."""
    found = []
    for name in ("govshare.service", "govshare-keys-rotate.service"):
        service = unit(name)["Service"]
        found += [shlex.split(service[key]) for key in ("ExecStartPre", "ExecStart") if key in service]
    found += [service["command"] for service in gateways().values()]
    docker_cmd = re.search(r"^CMD (\[.*\])$", (DEPLOY / "Dockerfile").read_text(), re.M)
    assert docker_cmd is not None
    found.append(json.loads(docker_cmd.group(1)))
    return found


@pytest.mark.parametrize("argv", commands(), ids=shlex.join)
def test_every_command_is_a_govshare_command_with_flags_the_cli_takes(argv: list[str]):
    assert Path(argv[0]).name == "govshare", argv
    args = _parser().parse_args(argv[1:])  # exits (fails the test) on an unknown command or flag
    assert callable(args.run)


def test_there_is_a_server_a_pre_start_check_and_a_rotation():
    lines = [shlex.join(argv[1:]) for argv in commands()]
    assert "serve" in lines and "catalog check" in lines and "keys rotate" in lines
    assert any(line.startswith("serve --workers") for line in lines)


def variables() -> set[str]:
    names = set(env_file())
    for service in gateways().values():
        names |= set(service["environment"])
    return names


@pytest.mark.parametrize("name", sorted(variables()))
def test_every_variable_set_is_a_documented_setting(name: str):
    assert name.startswith("GOVSHARE_")
    assert re.search(rf"^\| {name} \|", SETTINGS_DOC, re.M), f"{name} is not in gateway/settings.py"
    assert f"`{name}`" in README, f"{name} is not in README Configuration"


def test_both_units_read_the_documented_environment_file():
    for name in ("govshare.service", "govshare-keys-rotate.service"):
        assert unit(name)["Service"]["EnvironmentFile"] == "/etc/govshare/govshare.env"
    assert unit("govshare-keys-rotate.timer")["Timer"]["OnCalendar"]


def test_the_gateways_share_postgresql_redis_and_the_data_folder():
    environments = [service["environment"] for service in gateways().values()]
    assert len(environments) >= 2
    for key in ("GOVSHARE_DATABASE_URL", "GOVSHARE_REDIS_URL", "GOVSHARE_DATA"):
        assert len({environment[key] for environment in environments}) == 1, key
    assert all(e["GOVSHARE_DATABASE_URL"].startswith("postgresql+asyncpg://") for e in environments)
    volumes = [tuple(service["volumes"]) for service in gateways().values()]
    assert len(set(volumes)) == 1  # keys.json and audit-secret: one set for every host
    assert env_file()["GOVSHARE_DATABASE_URL"].startswith("postgresql+asyncpg://")


def test_the_load_balancer_sends_to_every_gateway_on_its_port():
    nginx = (DEPLOY / "nginx.conf").read_text()
    upstream = set(re.findall(r"^\s*server ([\w.-]+:\d+)", nginx, re.M))
    expected = {f"{s['hostname']}:{s['environment']['GOVSHARE_PORT']}" for s in gateways().values()}
    assert upstream == expected
    assert "proxy_set_header Upgrade" in nginx  # subscriptions pass through


def test_the_pre_start_check_runs_against_a_data_folder(tmp_path: Path):
    from gateway.demo import build_demo

    build_demo(tmp_path, organizations=5, persons=2)
    [argv] = [a for a in commands() if a[1:] == ["catalog", "check"]]
    env = {
        **os.environ,
        **env_file(),
        "GOVSHARE_DATA": str(tmp_path),
        "GOVSHARE_CATALOG": str(tmp_path / "catalog.yaml"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", *argv[1:]], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
