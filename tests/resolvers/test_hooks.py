"""resolvers.hooks: the cached runner enters the same hooks, in the same order, with the same
outcome, as strawberry's own runner, for the schema's extensions and hooks of every kind."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner

from policies.catalog import load_catalog
from resolvers.hooks import CachedHooksRunner, hook_factory
from resolvers.schema import build_schema

PHASES = ("operation", "parsing", "validation", "executing")
DEMO = Path(__file__).parents[2] / "gateway" / "demo_catalog.yaml"


class Journal(SchemaExtension):
    """Hooks of every kind strawberry accepts, writing what runs to ``log``."""

    log: ClassVar[list[str]] = []

    def on_operation(self) -> Iterator[None]:  # generator
        self.log.append("operation:enter")
        yield
        self.log.append("operation:exit")

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]  # async generator
        self.log.append("execute:enter")
        try:
            yield
        finally:
            self.log.append("execute:exit")

    def on_validate(self) -> None:  # type: ignore[override]  # plain function: strawberry's path
        self.log.append("validate")

    async def on_parse(self) -> None:  # type: ignore[override]  # coroutine: strawberry's path
        self.log.append("parse")


class Refuses(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        raise ValueError("refused before execution")
        yield  # pragma: no cover


def _hooks(runner: SchemaExtensionsRunner, phase: str) -> list[tuple[object, bool]]:
    return [(hook.extension, hook.is_async) for hook in getattr(runner, phase)().hooks]


def test_schema_extensions_get_the_same_hooks() -> None:
    schema = build_schema(load_catalog(DEMO))
    extensions = schema.get_extensions()
    assert isinstance(schema.create_extensions_runner(None, extensions), CachedHooksRunner)  # type: ignore[arg-type]
    plain, cached = SchemaExtensionsRunner(None, extensions), CachedHooksRunner(None, extensions)  # type: ignore[arg-type]
    for phase in PHASES:
        assert _hooks(cached, phase) == _hooks(plain, phase), phase
    assert any(_hooks(cached, phase) for phase in PHASES)


async def _journal(runner_class: type[SchemaExtensionsRunner]) -> list[str]:
    Journal.log = []
    runner = runner_class(None, [Journal(), Journal()])  # type: ignore[arg-type]
    async with runner.operation():
        async with runner.parsing():
            Journal.log.append("parsing")
        async with runner.validation():
            Journal.log.append("validating")
        async with runner.executing():
            Journal.log.append("executing")
    return Journal.log


async def test_hooks_of_every_kind_run_in_the_same_order() -> None:
    expected = await _journal(SchemaExtensionsRunner)
    assert await _journal(CachedHooksRunner) == expected
    assert expected.count("execute:exit") == 2 and expected[0] == "operation:enter"


async def _refused(runner_class: type[SchemaExtensionsRunner]) -> list[str]:
    Journal.log = []
    runner = runner_class(None, [Journal(), Refuses()])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="refused before execution"):
        async with runner.executing():
            Journal.log.append("executing")
    return Journal.log


async def test_a_hook_that_raises_stops_the_phase_alike() -> None:
    expected = await _refused(SchemaExtensionsRunner)
    assert await _refused(CachedHooksRunner) == expected
    assert "executing" not in expected and expected[0] == "execute:enter"


def test_hook_factory_per_kind() -> None:
    assert hook_factory(Journal, "on_operation") is not None
    assert hook_factory(Refuses, "on_operation") is None
    with pytest.raises(LookupError):
        hook_factory(Journal, "on_validate")
