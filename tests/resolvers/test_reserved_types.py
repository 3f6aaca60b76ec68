"""Every built-in GraphQL type name is reserved, so no catalog resource can collide with one."""

from __future__ import annotations

from gateway.demo import CATALOG_FILE
from policies.catalog import RESERVED_TYPES, load_catalog
from resolvers.schema import build_schema


def test_every_static_type_name_is_reserved():
    catalog = load_catalog(CATALOG_FILE)
    schema = build_schema(catalog)
    generated = {r.type_name for r in catalog.resources.values()}
    static = {name for name in schema._schema.type_map if not name.startswith("__")} - generated
    assert static <= set(RESERVED_TYPES), sorted(static - set(RESERVED_TYPES))
