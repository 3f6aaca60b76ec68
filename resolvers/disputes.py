"""Disputed marks: ``extensions.disputed`` on answers carrying a value under open objection.

While an objection (疑义) on (resource, subject, item) is open, the value is still served
(Hubei art. 23: business continues during the check) and the answer says so:
``extensions.disputed: [{"path": ["organization", "enterpriseRegistration", "name"],
"objection": "obj-..."}]``, the path as in the answer (aliases included).

How, per operation (a schema extension, never a per-field hook): each resource field that
resolves for a subject notes (its resolve info, the subject code, the resource) in the
request context (``resolvers.subjects``); after execution ONE lookup
(``ObjectionService.open_for``) asks for open objections on all those pairs; only when one
is found are the response keys under that field collected (aliases, fragments,
``@skip``/``@include`` as execution collects them) and a mark added for each disputed item
actually present in the answer (a refused item, null with an error at its path, is not).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, Protocol

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)
from graphql.execution.values import get_directive_values
from graphql.pyutils import Path
from graphql.type import GraphQLIncludeDirective, GraphQLSkipDirective
from strawberry.extensions import SchemaExtension

from resolvers.context import RequestContext

log = logging.getLogger("govshare.disputes")
CARRIED = "carried"  # context.extra key: [(resolve info, subject code, resource id)]


class FieldAt(Protocol):
    """Where a resource field resolved: its ``GraphQLResolveInfo``, or the compiled fast
    path's ``resolvers.subjects.CarriedAt`` (the same three attributes)."""

    @property
    def path(self) -> Path: ...

    @property
    def field_nodes(self) -> list[FieldNode]: ...

    @property
    def fragments(self) -> Mapping[str, FragmentDefinitionNode]: ...


Carried = tuple[FieldAt, str, str]
DISPUTED = "disputed"  # the answer's extensions key


def note_carried(context: RequestContext, info: FieldAt, code: str, rid: str) -> None:
    """Called by a resource field resolving for a subject: cheap, a list append."""
    context.extra.setdefault(CARRIED, []).append((info, code, rid))


class DisputedMarks(SchemaExtension):
    """Adds ``extensions.disputed`` after execution; one objection lookup per operation."""

    def __init__(self) -> None:
        self.marks: list[dict[str, Any]] = []

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        yield
        ctx = self.execution_context
        self.marks = await disputed_marks(ctx.context, ctx.result)

    def get_results(self) -> dict[str, Any]:
        return {DISPUTED: self.marks} if self.marks else {}


async def disputed_marks(context: Any, result: Any) -> list[dict[str, Any]]:
    """The marks of an executed operation's ``result`` (``data``, ``errors``): one objection
    lookup when a resource resolved for a subject, none when nothing did."""
    carried: list[Carried] = getattr(context, "extra", {}).get(CARRIED) or []
    service = context.federation.objections if carried else None
    if service is None or result is None or result.data is None:
        return []
    found = await service.open_for({(rid, code) for _, code, rid in carried})
    if not found:
        return []
    errors = {tuple(e.path) for e in result.errors or () if e.path}
    try:
        return _marks(context, carried, found, result.data, errors)
    except Exception:  # a mark is a notice beside the answer: never the reason it fails
        log.exception("disputed marks could not be made; the answer goes without them")
        return []


def _marks(
    context: RequestContext,
    carried: Iterable[Carried],
    found: Mapping[tuple[str, str], Mapping[str, str]],
    data: Any,
    errors: set[tuple[Any, ...]],
) -> list[dict[str, Any]]:
    catalog = context.federation.catalog
    variables = context.extra.get("variables")  # coerced once by resolvers.extensions.AccessPlanner
    marks = []
    for info, code, rid in carried:
        disputed = found.get((rid, code))
        if not disputed:
            continue
        path = info.path.as_list()
        record = _at(data, path)
        if not isinstance(record, dict):
            continue
        items = {item.field: item.name for item in catalog.resources[rid].shared_items}
        for key, field in _response_keys(info, variables):
            oid = disputed.get(items.get(field, ""))
            if oid is not None and key in record and tuple([*path, key]) not in errors:
                marks.append({"path": [*path, key], "objection": oid})
    return marks


def _at(data: Any, path: list[Any]) -> Any:
    for step in path:
        if isinstance(data, dict) and isinstance(step, str):
            data = data.get(step)
        elif isinstance(data, list) and isinstance(step, int) and step < len(data):
            data = data[step]
        else:
            return None
    return data


def _response_keys(info: FieldAt, variables: Any) -> list[tuple[str, str]]:
    """(response key, field name) of the fields selected under this field."""
    found: list[tuple[str, str]] = []
    for node in info.field_nodes:
        _collect(info, variables, node.selection_set, found)
    return found


def _collect(
    info: FieldAt,
    variables: Any,
    selections: SelectionSetNode | None,
    found: list[tuple[str, str]],
) -> None:
    for node in selections.selections if selections else ():
        if not _included(variables, node):
            continue
        if isinstance(node, FieldNode):
            found.append(((node.alias or node.name).value, node.name.value))
        elif isinstance(node, InlineFragmentNode):
            _collect(info, variables, node.selection_set, found)
        elif isinstance(node, FragmentSpreadNode) and node.name.value in info.fragments:
            _collect(info, variables, info.fragments[node.name.value].selection_set, found)


def _included(variables: Any, node: Any) -> bool:
    """``@skip``/``@include`` as execution reads them (GraphQL spec 3.13), with the
    operation's coerced variables."""
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip and skip.get("if") is True:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return not (include and include.get("if") is False)
