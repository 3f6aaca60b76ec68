"""``govshare catalog import|export`` and the register's CLI (``gateway.cli.main`` with the
arguments a user types, in process: a child process per command costs seconds): every
problem of a bad catalog at once with file and path, a byte-stable round trip, a provider's
draft reviewed and published, another department refused."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.audit import AuditLog
from gateway.cli import main
from gateway.platform import PlatformDB, new_grant_row
from gateway.settings import Settings
from tests.conftest import CATALOG

AMR, TAX = "11420000MB00000191", "11420000MB0000027U"
RESOURCE = "tax.tax_credit"


def govshare(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> tuple[int, str, str]:
    """Exit code, standard output and error of ``govshare ARGS --data DATA``."""
    capsys.readouterr()
    code = main([*args, "--data", str(data)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    (tmp_path / "platform.db").touch()  # a data folder a gateway made (the CLI makes none)
    assert govshare(capsys, tmp_path, "catalog", "import", str(CATALOG))[0] == 0
    return tmp_path


def test_a_bad_catalog_lists_every_problem_with_file_and_path(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    document["resources"][0]["items"][1]["share"] = "not_shared"
    document["resources"][2]["subject"] = "vehicle"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    before = govshare(capsys, data, "catalog", "export")[1]
    code, _, err = govshare(capsys, data, "catalog", "import", str(bad))
    assert code == 2
    assert f"{bad}: resources[0].items[1].basis" in err and f"{bad}: resources[2].subject" in err
    assert govshare(capsys, data, "catalog", "export")[1] == before  # nothing stored


def test_export_import_export_is_byte_stable(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    govshare(capsys, data, "catalog", "export", str(first))
    assert govshare(capsys, data, "catalog", "import", str(first))[0] == 0
    govshare(capsys, data, "catalog", "export", str(second))
    assert first.read_bytes() == second.read_bytes()


def test_a_provider_drafts_the_operator_reviews_and_publishes(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    resource = next(r for r in document["resources"] if r["id"] == RESOURCE)
    resource["summary"] = "纳税信用等级(年度维护)"
    draft = tmp_path / "draft.yaml"
    draft.write_text(yaml.safe_dump(resource, allow_unicode=True), encoding="utf-8")
    code, _, err = govshare(capsys, data, "catalog", "draft", str(draft), "--department", AMR)
    assert code == 2 and TAX in err  # another department's resource
    assert (
        govshare(capsys, data, "catalog", "draft", str(draft), "--department", TAX, "--reason", "年度维护")[0]
        == 0
    )
    assert govshare(capsys, data, "catalog", "submit", RESOURCE, "--department", TAX)[0] == 0
    code, _, err = govshare(capsys, data, "catalog", "publish", RESOURCE)
    assert code == 2 and "no approved entries" in err
    assert govshare(capsys, data, "catalog", "review", RESOURCE, "--approve")[0] == 0
    assert govshare(capsys, data, "catalog", "publish", RESOURCE)[0] == 0
    exported = yaml.safe_load(govshare(capsys, data, "catalog", "export")[1])
    served = next(r for r in exported["resources"] if r["id"] == RESOURCE)
    assert served["summary"] == "纳税信用等级(年度维护)" and "reviewed" in served
    history = govshare(capsys, data, "catalog", "history", RESOURCE)[1]
    actions = [yaml.safe_load(line)["action"] for line in history.splitlines() if '"item": null' in line]
    assert actions == ["import", "draft", "submit", "approve", "publish"]


def test_a_draft_whose_source_the_connector_refuses_exits_2_and_stores_nothing(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI path binds the source as the gateway will (it stored what no gateway could serve)."""
    before = govshare(capsys, data, "catalog", "export")[1]
    document = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    resource = next(r for r in document["resources"] if r["id"] == RESOURCE)
    resource["source"] = {**resource["source"], "url": "http://169.254.169.254/latest/meta-data"}
    draft = tmp_path / "draft.yaml"
    draft.write_text(yaml.safe_dump(resource, allow_unicode=True), encoding="utf-8")
    code, _, err = govshare(capsys, data, "catalog", "draft", str(draft), "--department", TAX)
    assert code == 2 and "source" in err, err
    assert govshare(capsys, data, "catalog", "export")[1] == before


def test_a_yaml_alias_bomb_is_refused_at_once_and_stores_nothing(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nine anchors of nine aliases in a resource's source: the import walked 9^9 values (hung)."""
    before = govshare(capsys, data, "catalog", "export")[1]
    laughs = ['        a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        laughs.append(f"        {name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    text = CATALOG.read_text(encoding="utf-8")
    marker = "    source: {table: tax_credit, columns: {credit_rating: rating, tax_arrears: arrears}}\n"
    assert marker in text
    bomb = "    source:\n      table: tax_credit\n      x:\n" + "\n".join(laughs) + "\n"
    (tmp_path / "bomb.yaml").write_text(text.replace(marker, bomb), encoding="utf-8")
    code, _, err = govshare(capsys, data, "catalog", "import", str(tmp_path / "bomb.yaml"))
    assert code == 2 and "aliases expand" in err, err
    assert govshare(capsys, data, "catalog", "export")[1] == before


def test_a_withdrawal_from_the_command_line_tells_the_consumers_it_touches(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI serves nothing, so no swap tells anyone and the gateways that follow the
    publication tell nobody (the publisher did): the CLI itself records a ``catalog.notice``
    for each consumer whose grant the withdrawal narrows (gateway.catalog_notices), and none
    for a consumer it does not touch."""
    asyncio.run(_grant(data, HOLDER, "tax.tax_credit", ["tax_arrears"]))
    asyncio.run(_grant(data, BYSTANDER, "tax.tax_credit", ["credit_rating"]))
    withdraw = ("catalog", "withdraw", RESOURCE, "--item", "tax_arrears", "--reason", "口径调整")
    assert govshare(capsys, data, *withdraw, "--department", TAX)[0] == 0
    notices = [e for e in asyncio.run(_events(data)) if e["outcome"] == "catalog.notice"]
    assert [n["consumer"] for n in notices] == [HOLDER]
    assert notices[0]["resources"] == [RESOURCE]
    assert [c["item"] for c in notices[0]["detail"]["changes"]] == ["tax_arrears"]


HOLDER, BYSTANDER = "11420100MB00020145", "11420100MB0001011L"


async def _grant(data: Path, consumer: str, resource: str, items: list[str]) -> None:
    platform = PlatformDB(Settings.load({}, data=str(data)).database_url)
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    try:
        await platform.add_grant(new_grant_row(consumer, resource, items, "信用监管", until))
    finally:
        await platform.close()


async def _events(data: Path) -> list[dict[str, Any]]:
    async with AuditLog(Settings.load({}, data=str(data)).database_url, instance="reader") as log:
        return await log.events(limit=1000)
