"""README.md agrees with the code (issue 7, item 21): it links to nothing outside the
repository, and every GraphQL signature it shows is the served schema's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import (
    FieldDefinitionNode,
    GraphQLObjectType,
    ObjectTypeDefinitionNode,
    parse,
    print_ast,
)

from policies.catalog import load_catalog
from resolvers.schema import build_schema

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DEMO_CATALOG = ROOT / "gateway" / "demo_catalog.yaml"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_no_reference_leaves_the_repository():
    outside = [line for line in README.splitlines() if "../" in line]
    assert outside == [], outside
    for target in re.findall(r"\]\(([^)#\s]+)", README):  # markdown links
        if re.match(r"[a-z]+://|mailto:", target):
            continue
        assert (ROOT / target).resolve().is_relative_to(ROOT), target
        assert (ROOT / target).exists(), f"README links to {target}, which is not in the repository"


def test_files_the_readme_names_exist():
    """A document it names is in the repository (DESIGN.md, say, is not: not named)."""
    named = set(re.findall(r"`((?:[a-z_]+/)+[a-z_]+\.(?:py|yaml|md))`", README))
    assert named, "the README names files (e.g. gateway/demo_catalog.yaml)"
    missing = sorted(name for name in named if not (ROOT / name).exists())
    assert missing == [], missing
    documents = set(re.findall(r"[\w./-]+\.md\b", README)) - {"README.md"}
    assert sorted(d for d in documents if not list(ROOT.glob(f"**/{d}"))) == []


def signature(field: FieldDefinitionNode) -> tuple[str, tuple[tuple[str, str], ...], str]:
    args = tuple((arg.name.value, print_ast(arg.type)) for arg in field.arguments or ())
    return field.name.value, args, print_ast(field.type)


def served(type_: GraphQLObjectType) -> dict[str, tuple[str, tuple[tuple[str, str], ...], str]]:
    return {
        name: (name, tuple((arg, str(value.type)) for arg, value in field.args.items()), str(field.type))
        for name, field in type_.fields.items()
    }


@pytest.mark.parametrize("root", ["Query", "Mutation"])
def test_every_signature_shown_is_the_served_schemas(root: str):
    schema = build_schema(load_catalog(DEMO_CATALOG))._schema
    real = served(schema.get_type(root))  # type: ignore[arg-type]
    shown = [
        definition
        for text in blocks("graphql")
        for definition in parse(re.sub(r"#[^\n]*", "", text)).definitions
        if isinstance(definition, ObjectTypeDefinitionNode) and definition.name.value == root
    ]
    assert len(shown) == 1, f"README shows type {root} once"
    fields = {field.name.value: signature(field) for field in shown[0].fields or ()}
    for name, sig in fields.items():
        assert name in real, f"README shows {root}.{name}, which the schema does not have"
        assert sig == real[name], f"README: {sig}\nschema: {real[name]}"
    assert set(fields) == set(real), f"README leaves out {sorted(set(real) - set(fields))}"


def test_the_catalog_field_is_non_null_as_served():
    """The issue's example: README said `catalog: Catalog`, the SDL `catalog: Catalog!`."""
    sdl = build_schema(load_catalog(DEMO_CATALOG)).as_str()
    shown = re.compile(r"\bcatalog\(.*?\): Catalog!", re.DOTALL)  # with its search arguments
    assert shown.search(sdl)
    assert shown.search(README)
