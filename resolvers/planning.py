"""What does an operation ask for? Resource items, found once per document.

The walk follows the schema through fields, aliases, inline fragments and named
fragments, so every way of naming an item is seen before anything runs. It honours
``@skip`` and ``@include`` exactly as execution will (GraphQL spec, section 3.13 and
"CollectFields": a selection whose ``@skip(if:)`` is true or whose ``@include(if:)`` is
false is not collected), so a skipped item is neither decided, nor audited as
requested, nor a reason for an all-or-nothing refusal.

The result depends on the document text and, where a ``@skip``/``@include`` condition
is a variable, on that variable's value: it is cached per (query, operation name) and
the values of EVERY variable a condition of the document uses. Not only those the walk
reached: which conditions a walk reaches depends on the values (an outer ``@skip(if: $a)``
hides an inner ``@include(if: $b)``), so a key of the reached ones would let two walks
that reached different variables share an entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
    Visitor,
    get_named_type,
    visit,
)
from graphql.execution.values import VariableValues, get_directive_values

from errors import shown
from resolvers.limits import ByteBoundedCache, text_bytes

Wanted = Mapping[str, frozenset[str]]
_CONDITIONS = frozenset({GraphQLSkipDirective.name, GraphQLIncludeDirective.name})


class OperationNotFound(LookupError):
    """The document has no operation the request names (or several and none is named)."""


@dataclass(frozen=True)
class _Planned:
    wanted: Wanted
    depends_on: tuple[str, ...]  # variables used by any @skip/@include condition of the document


WANTED_BYTES = 4_096  # a few frozensets of item names


class ItemIndex:
    """Which GraphQL (type, field) pairs are catalog items: (type, field) -> (resource, item).

    What a document wants is cached per (text, operation) within ``cache_bytes``."""

    def __init__(self, items: Mapping[tuple[str, str], tuple[str, str]], cache_bytes: int = 32 * 1_048_576):
        self.items = items
        # both keyed by the query text: bounded by the bytes they keep, not only by entries
        self._cache: ByteBoundedCache[tuple[object, ...], Wanted] = ByteBoundedCache(
            cache_bytes, lambda key, _: text_bytes(str(key[0])) + WANTED_BYTES
        )
        self._depends: ByteBoundedCache[tuple[str, str | None], tuple[str, ...]] = ByteBoundedCache(
            cache_bytes, lambda key, depends: text_bytes(key[0]) + 64 * len(depends)
        )

    def wanted(
        self,
        schema: GraphQLSchema,
        query: str,
        document: DocumentNode,
        operation: str | None,
        variables: VariableValues | None = None,
    ) -> Wanted:
        """Cached by text (the same text always parses to the same document of one schema)
        and by the values of the variables its ``@skip``/``@include`` conditions use.

        Raises ``OperationNotFound`` when ``operation`` does not pick one operation."""
        text_key = (query, operation)
        depends = self._depends.get(text_key)
        if depends is not None:
            found = self._cache.get(_key(text_key, depends, variables))
            if found is not None:
                return found
        planned = plan_walk(schema, self.items, document, operation, variables)
        self._depends.put(text_key, planned.depends_on)
        self._cache.put(_key(text_key, planned.depends_on, variables), planned.wanted)
        return planned.wanted


def _key(
    text_key: tuple[str, str | None], depends: tuple[str, ...], variables: VariableValues | None
) -> tuple[object, ...]:
    coerced = variables.coerced if variables is not None else {}
    return (*text_key, *(coerced.get(name) for name in depends))


def wanted_items(
    schema: GraphQLSchema,
    items: Mapping[tuple[str, str], tuple[str, str]],
    document: DocumentNode,
    operation: str | None,
    variables: VariableValues | None = None,
) -> Wanted:
    """Resource id -> item names the chosen operation of ``document`` selects.

    ``variables`` are the operation's coerced variable values (``get_variable_values``),
    needed when a ``@skip``/``@include`` condition is a variable. A resource selected with
    no item (only ``__typename``) maps to an empty set. Raises ``OperationNotFound``."""
    return plan_walk(schema, items, document, operation, variables).wanted


def plan_walk(
    schema: GraphQLSchema,
    items: Mapping[tuple[str, str], tuple[str, str]],
    document: DocumentNode,
    operation: str | None,
    variables: VariableValues | None = None,
) -> _Planned:
    walk = _Walk(schema, items, _fragments(document), variables)
    op = select_operation(document, operation)
    root = schema.get_root_type(op.operation)
    if root:
        walk.selections(root, op.selection_set)
    wanted = {rid: frozenset(names) for rid, names in walk.found.items()}
    return _Planned(wanted, condition_variables(document))


def condition_variables(document: DocumentNode) -> tuple[str, ...]:
    """Names of the variables any ``@skip``/``@include`` of ``document`` uses (every
    operation and fragment, reached or not), sorted: what a plan may depend on."""
    found = _ConditionVariables()
    visit(document, found)
    return tuple(sorted(found.names))


class _ConditionVariables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_directive(self, node: DirectiveNode, *_: object) -> None:
        if node.name.value in _CONDITIONS:
            self.names.update(
                arg.value.name.value for arg in node.arguments or () if isinstance(arg.value, VariableNode)
            )


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        items: Mapping[tuple[str, str], tuple[str, str]],
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues | None,
    ):
        self.schema, self.items, self.fragments, self.variables = schema, items, fragments, variables
        self.resource_types = {type_name: rid for (type_name, _), (rid, _) in items.items()}
        self.found: dict[str, set[str]] = {}
        self._seen: set[tuple[str, str]] = set()

    def selections(self, parent: GraphQLNamedType, selection_set: SelectionSetNode | None) -> None:
        for node in selection_set.selections if selection_set else ():
            if not self._included(node):
                continue
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
            child = get_named_type(parent.fields[name].type)
            resource = self.resource_types.get(child.name)
            if resource is not None:  # selected, even if only for __typename
                self.found.setdefault(resource, set())
            self.selections(child, node.selection_set)

    def spread(self, parent: GraphQLNamedType, node: FragmentSpreadNode) -> None:
        fragment = self.fragments.get(node.name.value)
        key = (parent.name, node.name.value)
        if fragment is None or key in self._seen:  # cycles are refused by validation anyway
            return
        self._seen.add(key)
        self.selections(self._condition(parent, fragment), fragment.selection_set)

    def _included(self, node: SelectionNode) -> bool:
        """@skip wins over @include (spec 3.13.3); both absent means included."""
        if not node.directives:
            return True
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip and skip["if"]:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include is not None and not include["if"])

    def _condition(
        self, parent: GraphQLNamedType, node: InlineFragmentNode | FragmentDefinitionNode
    ) -> GraphQLNamedType:
        if node.type_condition is None:
            return parent
        return self.schema.get_type(node.type_condition.name.value) or parent


def selected_fields(
    schema: GraphQLSchema,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: VariableValues | None,
    parent: GraphQLNamedType,
    field_nodes: Sequence[FieldNode],
) -> frozenset[str]:
    """Names of the fields of ``parent`` selected directly under ``field_nodes`` (one
    response key's nodes), as execution's CollectFields collects them: through aliases,
    inline fragments and fragment spreads, honouring ``@skip``/``@include``. A subject's
    resolver uses it to look the subject up only at the resources selected under it."""
    walk = _FieldNames(schema, dict(fragments), variables)
    for node in field_nodes:
        walk.selections(parent, node.selection_set)
    return frozenset(walk.names)


class _FieldNames(_Walk):
    """The walk one level deep: field names only, no items, no recursion."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues | None,
    ):
        super().__init__(schema, {}, fragments, variables)
        self.names: set[str] = set()

    def field(self, parent: GraphQLNamedType, node: FieldNode) -> None:
        self.names.add(node.name.value)


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def select_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    """The operation to run, as GraphQL's GetOperation (spec 6.1) picks it.

    Raises ``OperationNotFound`` with a message saying how to fix the request."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        if len(operations) == 1:
            return operations[0]
        named = ", ".join(op.name.value for op in operations if op.name) or "none is named"
        raise OperationNotFound(
            f"the document has {len(operations)} operations ({named}); "
            "send operationName to choose the one to run"
        )
    found = next((op for op in operations if op.name and op.name.value == name), None)
    if found is None:
        raise OperationNotFound(f"the document has no operation named {shown(name)}; fix operationName")
    return found
