"""Execution fast path: a resource's items completed straight from its ``Record``.

A query's documents are already parsed, validated and planned before execution (the
caches of ``resolvers.extensions``), and every item of a resource type is a nullable
scalar field without resolver whose value is an attribute of the ``Record`` that the
resource's resolver returned (``resolvers.subjects``): the access plan has already decided
it, and a denied item raises its refusal on read. graphql-core's executor still walks each
such field on its own: field definition look-up, a ``GraphQLResolveInfo``, argument
coercion, strawberry's resolver wrapper, ``complete_value``'s dispatch. Profiled on the S1
query (13 items under 3 resources) that walk was most of the execution's CPU.

``RecordFields.execute_fields`` completes the fields of a ``Record`` in one loop instead:
the same attribute read (so a refused or non-shared item raises exactly as before and is
never read from anywhere else), the same leaf serialization (``complete_leaf_value``),
the same error handling (``handle_field_error``: location, path, ``max_errors``), the
same order of keys and errors. Anything else, or any field it does not know as a plain
item, goes to graphql-core's own ``execute_fields`` whole: subjects, roots, mutations,
subscriptions, introspection, ``__typename``-only types, a schema with field middleware.
``tests/resolvers/test_fastpath.py`` proves the two paths answer byte-identical JSON,
errors and audit detail included, over generated documents. Own code: it is the hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from graphql import GraphQLObjectType, is_leaf_type, is_nullable_type
from graphql.pyutils import Path

# resource type name -> {GraphQL field name: Record attribute (the item's name)}
RecordItems = Mapping[str, Mapping[str, str]]


class RecordFields:
    """Mixin for the graphql-core ``ExecutionContext`` (``resolvers.schema.LimitedExecution``).

    ``record_items`` is set per schema (``resolvers.schema.build_schema``); the caller
    passes only ``resolvers.subjects.Record`` sources; ``record_fast_path`` switches it off
    (the differential test runs both)."""

    record_items: ClassVar[RecordItems] = MappingProxyType({})
    record_fast_path: ClassVar[bool] = True

    def record_fields(
        self, parent_type: GraphQLObjectType, source: Any, path: Path | None, grouped: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """The completed fields of ``source`` (a ``Record``), or None to take the normal path."""
        items = self.record_items.get(parent_type.name)
        if items is None or _has_middleware(self):
            return None
        # a compiled operation's record (resolvers.compiled_query) knows its plain items already
        plain = grouped.plain if type(grouped) is PlannedFields else plain_items(parent_type, items, grouped)
        if plain is None:
            return None
        results: dict[str, Any] = {}
        for (key, details), attribute in zip(grouped.items(), plain, strict=True):
            if attribute == "__typename":
                results[key] = parent_type.name
                continue
            results[key] = self._record_item(parent_type, source, path, key, details, attribute)
        return results

    def _record_item(
        self, parent_type: GraphQLObjectType, source: Any, path: Path | None, key: str, details: Any,
        attribute: str,
    ) -> Any:  # fmt: skip
        """One item as ``execute_field`` + ``complete_value`` complete a nullable leaf."""
        field_type = parent_type.fields[details[0].node.name.value].type
        try:
            value = getattr(source, attribute)
            if isinstance(value, Exception):  # as complete_value: an error value is raised
                raise value
            if value is None:
                return None
            return self.complete_leaf_value(field_type, value)  # type: ignore[attr-defined]
        except Exception as raw_error:
            self.handle_field_error(raw_error, field_type, details, Path(path, key, parent_type.name))  # type: ignore[attr-defined]
            return None


def plain_items(
    parent_type: GraphQLObjectType, items: Mapping[str, str], grouped: Mapping[str, Any]
) -> list[str] | None:
    """The Record attribute (or ``__typename``) each response key of ``grouped`` reads, in
    order; None when one of them is not a plain item."""
    found = [_plain_item(parent_type, items, details) for details in grouped.values()]
    plain = [attribute for attribute in found if attribute is not None]
    return plain if len(plain) == len(found) else None


class PlannedFields(dict[str, Any]):
    """A record's grouped field set as a compiled operation keeps it
    (``resolvers.compiled_query``), with its ``plain_items`` worked out once."""

    plain: list[str] | None = None

    @classmethod
    def of(
        cls, parent_type: GraphQLObjectType, items: Mapping[str, str] | None, grouped: Mapping[str, Any]
    ) -> PlannedFields:
        planned = cls(grouped)
        planned.plain = None if items is None else plain_items(parent_type, items, grouped)
        return planned


def _has_middleware(executor: object) -> bool:
    """Whether field middleware would wrap resolvers (strawberry always passes a manager,
    empty unless an extension resolves per field): then the normal path runs it."""
    manager = getattr(executor, "middleware_manager", None)
    return manager is not None and bool(manager.middlewares)


def _plain_item(parent_type: GraphQLObjectType, items: Mapping[str, str], details: Any) -> str | None:
    """The Record attribute this response key reads, ``__typename``, or None when the
    field is anything but a plain item (arguments, a sub-selection, a type not a nullable
    leaf, a resolver of its own): then the whole object takes the normal path."""
    node = details[0].node
    name = node.name.value
    if name == "__typename":
        return name
    attribute = items.get(name)
    field = parent_type.fields.get(name)
    if attribute is None or field is None or node.arguments or node.selection_set is not None:
        return None
    if not (is_nullable_type(field.type) and is_leaf_type(field.type)):
        return None
    if not getattr(field.resolve, "_is_default", False):  # strawberry's resolver-less field
        return None
    return attribute
