"""Connector settings of the http and file kinds are checked when the catalog loads: a
problem stops the gateway before it serves, naming the catalog file, the path inside it
(``departments[CODE].connector``, ``resources[ID].source``) and the setting (issue 9)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from errors import CatalogError
from gateway.app import check_connectors
from gateway.demo import EMA, HPF, build_demo
from policies.catalog import load_catalog
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    build_demo(folder, organizations=5, persons=5)
    return folder


def changed_catalog(demo_dir: Path, tmp_path: Path, where: str, update: dict[str, Any]) -> Path:
    """The demo catalog with ``update`` merged into a department's connector (``where`` its
    code) or a resource's source (``where`` its id)."""
    data = yaml.safe_load((demo_dir / "catalog.yaml").read_text(encoding="utf-8"))
    departments = {d["code"]: d for d in data["departments"]}
    resources = {r["id"]: r for r in data["resources"]}
    target = departments[where]["connector"] if where in departments else resources[where]["source"]
    for name, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(name), dict):
            target[name] = {**target[name], **value}
        else:
            target[name] = value
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


UNSET_SECRET = {"headers": {"Authorization": "Bearer ${GOVSHARE_TEST_NO_SUCH}"}}
HPF_CONNECTOR, EMA_CONNECTOR = f"departments[{HPF.code}].connector", f"departments[{EMA.code}].connector"
CASES = [
    (HPF.code, UNSET_SECRET, HPF_CONNECTOR, "GOVSHARE_TEST_NO_SUCH, which is not set"),
    (HPF.code, {"headers": {"Authorization": "Bearer abc"}}, HPF_CONNECTOR, "headers.Authorization holds a"),
    (HPF.code, {"retries": "often"}, HPF_CONNECTOR, "retries"),
    (HPF.code, {"base_url": "127.0.0.1:8766"}, HPF_CONNECTOR, "base_url"),
    ("hpf.deposit", {"get": "deposits/records"}, "resources[hpf.deposit].source", "source.get"),
    ("hpf.deposit", {"columns": {"deposit_status": "$.deposit..status"}}, "resources[hpf.deposit].source",
     "source.columns.deposit_status"),
    (EMA.code, {"delimiter": "||"}, EMA_CONNECTOR, "delimiter"),
    (EMA.code, {"delimeter": ";"}, EMA_CONNECTOR, "delimeter"),
    ("hpf.deposit", {"colums": {}}, "resources[hpf.deposit].source", "colums"),
    ("ema.safety_inspection", {"types": {"open_hazards": "float"}}, "resources[ema.safety_inspection].source",
     "source.types.open_hazards"),
]  # fmt: skip


@pytest.mark.parametrize(("where", "update", "path", "named"), CASES)
async def test_a_bad_setting_stops_loading_naming_file_path_and_setting(
    demo_dir: Path, tmp_path: Path, where: str, update: dict[str, Any], path: str, named: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.delenv("GOVSHARE_TEST_NO_SUCH", raising=False)
    catalog_file = changed_catalog(demo_dir, tmp_path, where, update)
    with pytest.raises(CatalogError) as caught:
        await check_connectors(load_catalog(catalog_file), demo_dir)
    assert caught.value.file == str(catalog_file)
    assert caught.value.path == path
    assert named in caught.value.problem


def test_serve_refuses_an_unset_secret_before_serving(demo_dir: Path, tmp_path: Path) -> None:
    catalog_file = changed_catalog(demo_dir, tmp_path, HPF.code, UNSET_SECRET)
    result = run_cli(demo_dir, "serve", "--catalog", str(catalog_file), "--port", "0", check=False)
    assert result.returncode != 0
    assert "GOVSHARE_TEST_NO_SUCH" in result.stderr and f"departments[{HPF.code}].connector" in result.stderr
    assert "serving" not in result.stdout
