"""What does an operation ask for? Resource items, found once per document.

The walk follows the schema through fields, aliases, inline fragments and named
fragments, so every way of naming an item is seen before anything runs. The result
depends only on the document text, so it is cached per (query, operation name).
"""

from __future__ import annotations

from collections.abc import Mapping

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)

Wanted = Mapping[str, frozenset[str]]


class ItemIndex:
    """Which GraphQL (type, field) pairs are catalog items: (type, field) -> (resource, item)."""

    MAX_CACHED = 512

    def __init__(self, items: Mapping[tuple[str, str], tuple[str, str]]):
        self.items = items
        self._cache: dict[tuple[str, str | None], Wanted] = {}

    def wanted(
        self, schema: GraphQLSchema, query: str, document: DocumentNode, operation: str | None
    ) -> Wanted:
        """Cached by text: the same text always parses to the same document (of one schema)."""
        key = (query, operation)
        found = self._cache.get(key)
        if found is None:
            found = wanted_items(schema, self.items, document, operation)
            if len(self._cache) >= self.MAX_CACHED:
                self._cache.clear()
            self._cache[key] = found
        return found


def wanted_items(
    schema: GraphQLSchema,
    items: Mapping[tuple[str, str], tuple[str, str]],
    document: DocumentNode,
    operation: str | None,
) -> Wanted:
    """Resource id -> item names the chosen operation of ``document`` selects."""
    walk = _Walk(schema, items, _fragments(document))
    op = _operation(document, operation)
    root = schema.get_root_type(op.operation) if op else None
    if op and root:
        walk.selections(root, op.selection_set)
    return {rid: frozenset(names) for rid, names in walk.found.items()}


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        items: Mapping[tuple[str, str], tuple[str, str]],
        fragments: dict[str, FragmentDefinitionNode],
    ):
        self.schema, self.items, self.fragments = schema, items, fragments
        self.found: dict[str, set[str]] = {}
        self._seen: set[tuple[str, str]] = set()

    def selections(self, parent: GraphQLNamedType, selection_set: SelectionSetNode | None) -> None:
        for node in selection_set.selections if selection_set else ():
            if isinstance(node, FieldNode):
                self.field(parent, node)
            elif isinstance(node, InlineFragmentNode):
                self.selections(self._condition(parent, node), node.selection_set)
            elif isinstance(node, FragmentSpreadNode):
                self.spread(parent, node)

    def field(self, parent: GraphQLNamedType, node: FieldNode) -> None:
        name = node.name.value
        hit = self.items.get((parent.name, name))
        if hit:
            self.found.setdefault(hit[0], set()).add(hit[1])
        if isinstance(parent, GraphQLObjectType) and name in parent.fields and node.selection_set:
            self.selections(get_named_type(parent.fields[name].type), node.selection_set)

    def spread(self, parent: GraphQLNamedType, node: FragmentSpreadNode) -> None:
        fragment = self.fragments.get(node.name.value)
        key = (parent.name, node.name.value)
        if fragment is None or key in self._seen:  # cycles are refused by validation anyway
            return
        self._seen.add(key)
        self.selections(self._condition(parent, fragment), fragment.selection_set)

    def _condition(
        self, parent: GraphQLNamedType, node: InlineFragmentNode | FragmentDefinitionNode
    ) -> GraphQLNamedType:
        if node.type_condition is None:
            return parent
        return self.schema.get_type(node.type_condition.name.value) or parent


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations if op.name and op.name.value == name), None)
