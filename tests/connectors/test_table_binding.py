"""connectors.base.bind_table: the binding of the table-shaped kinds (sql, mock)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.base import Binding, Connector
from connectors.mock import MockConnector
from connectors.sql import SQLConnector
from errors import ConfigurationError

ITEMS = ("uscc", "name", "status")


def _connectors(tmp_path: Path) -> list[Connector]:
    (tmp_path / "d.db").touch()
    return [SQLConnector.open({"url": "sqlite+aiosqlite:///{data}/d.db"}, tmp_path), MockConnector({})]


@pytest.mark.parametrize(
    ("source", "binding"),
    [
        ({"table": "ent"}, Binding("ent", "uscc", {"uscc": "uscc", "name": "name", "status": "status"})),
        (
            {"table": "ent", "columns": {"uscc": "code", "name": "ent_name"}, "updated_at": "changed"},
            Binding("ent", "code", {"uscc": "code", "name": "ent_name", "status": "status"}, "changed"),
        ),
        (
            {"table": "ent", "key": "id"},
            Binding("ent", "id", {"uscc": "uscc", "name": "name", "status": "status"}),
        ),
    ],
)
def test_a_table_source_binds_its_key_and_columns(
    tmp_path: Path, source: dict[str, Any], binding: Binding
) -> None:
    for connector in _connectors(tmp_path):
        assert _fields(connector.bind(source, ITEMS, "uscc")) == _fields(binding)


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ({}, "needs `table:`"),
        ({"table": ""}, "needs `table:`"),
        ({"table": "ent", "colums": {"name": "n"}}, "colums"),  # misspelt: never ignored
        ({"table": "ent", "columns": ["name"]}, "source.columns"),
        ({"table": "ent", "columns": {"nickname": "n"}}, "nickname"),
        ({"table": "ent", "key": 7}, "key"),
    ],
)
def test_a_wrong_table_source_is_refused_naming_the_setting(
    tmp_path: Path, source: dict[str, Any], named: str
) -> None:
    for connector in _connectors(tmp_path):
        with pytest.raises(ConfigurationError, match=named) as refused:
            connector.bind(source, ITEMS, "uscc")
        if "table:" in named:
            assert f"a {connector.kind} source" in str(refused.value)


def _fields(binding: Binding) -> tuple[Any, ...]:
    return binding.target, binding.key, dict(binding.columns), binding.updated_at  # eq=False: by identity
