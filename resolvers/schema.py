"""Catalog -> strawberry schema.

Subject types (``Organization``, ``Person``) get one field per resource keyed on that
subject kind; each resource type gets one field per shared item. Non-shared items are
left out of the schema altogether. Item fields have no resolver: a resource resolves
to a ``Record`` whose attributes are the allowed values, and whose missing attributes
raise the decision's error, so the per-item hot path is a plain attribute read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import strawberry
from strawberry.extensions import ParserCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from errors import GovshareError, QueryTooComplex
from policies.catalog import Catalog, Item, Resource
from policies.decision import ResourcePlan
from policies.share import Share
from resolvers import operator
from resolvers.context import RequestContext
from resolvers.extensions import AccessPlanner, BoundedCache, Validation
from resolvers.planning import ItemIndex
from resolvers.types import (
    SCALARS,
    USCC,
    CitizenID,
    ProviderDirective,
    ShareDirective,
    share_class,
)

MAX_SUBJECTS = 1000
SUBJECT_KINDS = {"organization": ("Organization", "code"), "person": ("Person", "id")}
_PY_TYPES: dict[str, type] = {
    "string": str, "integer": int, "number": float, "boolean": bool, "date": str, "datetime": str,
}  # fmt: skip


class Subject:
    """An organization or person addressed by its (validated) code, with the rows (or the
    source errors) already fetched for it while finding out whether it exists."""

    __slots__ = ("code", "id", "rows")

    def __init__(self, code: str, rows: dict[str, Any] | None = None) -> None:
        self.code = self.id = code
        self.rows = rows or {}


class Record:
    """One resource row as the consumer may see it: denied items raise their error."""

    def __init__(self, denied: Mapping[str, GovshareError], row: dict[str, Any]) -> None:
        self.__dict__.update(row)
        self._denied = denied

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # protocol probes (e.g. is-awaitable) are not items
            raise AttributeError(name)
        error = self.__dict__.get("_denied", {}).get(name)
        if error is not None:
            raise error
        return None


class GovshareSchema(strawberry.Schema):
    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        """Expected refusals are answers, not incidents: log only the unexpected."""
        unexpected = [e for e in errors if not isinstance(_root_cause(e), GovshareError)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def _root_cause(error: BaseException) -> BaseException:
    while getattr(error, "original_error", None) is not None:
        error = error.original_error  # type: ignore[attr-defined]
    return error


def build_schema(catalog: Catalog) -> tuple[GovshareSchema, ItemIndex]:
    resource_types = {rid: _resource_type(catalog, r) for rid, r in catalog.resources.items()}
    subjects = {kind: _subject_type(catalog, kind, resource_types) for kind in SUBJECT_KINDS}
    query = _query_type(subjects)
    holder: dict[str, ItemIndex] = {}
    not_shared, validated, plans = _not_shared_index(catalog), BoundedCache(512), BoundedCache(512)
    schema = GovshareSchema(
        query=query,
        config=StrawberryConfig(scalar_map=SCALARS),
        extensions=[
            ParserCache,
            lambda: Validation(not_shared, validated),
            lambda: AccessPlanner(holder["index"], plans),
        ],
    )
    holder["index"] = ItemIndex(schema._schema, _item_index(catalog))
    return schema, holder["index"]


def _item_index(catalog: Catalog) -> dict[tuple[str, str], tuple[str, str]]:
    return {
        (r.type_name, item.field): (r.id, item.name)
        for r in catalog.resources.values()
        for item in r.shared_items
    }


def _not_shared_index(catalog: Catalog) -> dict[tuple[str, str], tuple[Resource, Item]]:
    return {
        (r.type_name, item.field): (r, item)
        for r in catalog.resources.values()
        for item in r.items
        if item.share is Share.NOT_SHARED
    }


def _describe_resource(catalog: Catalog, resource: Resource) -> str:
    provider = catalog.provider_of(resource)
    return (
        f"{resource.name} ({resource.id}, 资源代码 {resource.code}). Provider: {provider.name} "
        f"({provider.code}). Default class: {resource.share.value}. "
        f"Update cycle: {resource.update_cycle}. Modes: "
        f"{', '.join(sorted(m.value for m in resource.modes))}. {resource.summary}".strip()
    )


def _describe_item(resource: Resource, item: Item) -> str:
    text = f"{item.title} ({item.name}). Class: {item.share.value}."
    if item.share is Share.CONDITIONAL:
        text += f" Condition: {item.condition}. Needs a grant covering this item."
    if item.mask:
        text += f" Masked: first {item.mask.keep_first}, last {item.mask.keep_last} kept."
    return f"{text} Update cycle: {resource.update_cycle}."


def _item_field(resource: Resource, item: Item) -> Any:
    condition = item.condition if item.share is Share.CONDITIONAL else None
    return strawberry.field(
        name=item.field,
        description=_describe_item(resource, item),
        directives=[ShareDirective(class_=share_class(item.share), condition=condition)],
    )


def _resource_type(catalog: Catalog, resource: Resource) -> type:
    items = resource.shared_items
    namespace: dict[str, Any] = {item.name: _item_field(resource, item) for item in items}
    namespace["__annotations__"] = {item.name: _PY_TYPES[item.type] | None for item in items}
    provider = catalog.provider_of(resource)
    cls = type(resource.type_name, (), namespace)
    directive = ProviderDirective(code=provider.code, name=provider.name, update_cycle=resource.update_cycle)
    return strawberry.type(cls, description=_describe_resource(catalog, resource), directives=[directive])


def _resource_resolver(resource: Resource) -> Callable[..., Any]:
    """Sync on the hot path (the row is already on the subject); awaits only when not."""
    rid = resource.id
    masks = {item.name: item.mask for item in resource.items if item.mask}

    def present(plan: ResourcePlan, row: Any) -> Record | None:
        if isinstance(row, BaseException):
            raise row
        if row is None:
            return None
        if masks:
            row = {k: (masks[k].apply(v) if k in masks else v) for k, v in row.items()}
        return Record(plan.denied, row)

    async def load(root: Subject, context: RequestContext, plan: ResourcePlan) -> Record | None:
        return present(plan, await context.loader(rid).load(root.code))

    def resolve(root: Subject, info: Info) -> Any:
        context: RequestContext = info.context
        assert context.plan is not None
        plan = context.plan.resources[rid]
        if not plan.allowed:
            return Record(plan.denied, {})
        if rid in root.rows:
            return present(plan, root.rows[rid])
        return load(root, context, plan)

    return resolve


def _subject_type(catalog: Catalog, kind: str, resource_types: dict[str, type]) -> type:
    type_name, code_field = SUBJECT_KINDS[kind]
    scalar = USCC if kind == "organization" else CitizenID
    namespace: dict[str, Any] = {"__annotations__": {code_field: scalar}}
    for resource in catalog.resources_on(kind):
        namespace[resource.field] = strawberry.field(
            name=resource.field,
            resolver=_resource_resolver(resource),
            graphql_type=resource_types[resource.id] | None,
            description=_describe_resource(catalog, resource),
        )
    code_name = "USCC" if kind == "organization" else "citizen ID"
    description = f"A {kind} addressed by its {code_name}; one field per resource keyed on it."
    return strawberry.type(type(type_name, (), namespace), description=description)


async def _lookup(info: Info, kind: str, code: str) -> Subject | None:
    """The subject, or None when no requested source has a record of it."""
    context: RequestContext = info.context
    assert context.plan is not None
    fetched = [rid for rid, p in context.plan.resources.items() if p.allowed and p.resource.subject == kind]
    if not fetched:
        return await _exists(context, kind, code)
    loads = (context.loader(rid).load(code) for rid in fetched)
    rows = await asyncio.gather(*loads, return_exceptions=True)
    if all(row is None for row in rows):
        return None
    return Subject(code, dict(zip(fetched, rows, strict=True)))


async def _exists(context: RequestContext, kind: str, code: str) -> Subject | None:
    """Nothing readable was asked of it: look its key up where the key is unconditional."""
    resources = [
        r
        for r in context.federation.catalog.resources_on(kind)
        if r.items_by_name[r.key].share is Share.UNCONDITIONAL
    ]
    loads = (context.loader(r.id, (r.key,)).load(code) for r in resources)
    rows = await asyncio.gather(*loads, return_exceptions=True)
    return None if all(row is None for row in rows) else Subject(code)


def _check_count(codes: Sequence[str]) -> None:
    if len(codes) > MAX_SUBJECTS:
        raise QueryTooComplex(f"at most {MAX_SUBJECTS} codes per list; split the request", limit=MAX_SUBJECTS)


def _query_type(subjects: dict[str, type]) -> type:
    organization_type: Any = subjects["organization"]
    person_type: Any = subjects["person"]

    async def organization(info: Info, code: USCC) -> Any:
        return await _lookup(info, "organization", code)

    async def organizations(info: Info, codes: list[USCC]) -> Any:
        _check_count(codes)
        return await asyncio.gather(*(_lookup(info, "organization", c) for c in codes))

    async def person(info: Info, id: CitizenID) -> Any:
        return await _lookup(info, "person", id)

    async def persons(info: Info, ids: list[CitizenID]) -> Any:
        _check_count(ids)
        return await asyncio.gather(*(_lookup(info, "person", i) for i in ids))

    def root(resolver: Callable[..., Any], graphql_type: Any, description: str) -> Any:
        return strawberry.field(resolver=resolver, graphql_type=graphql_type, description=description)

    many = f"(at most {MAX_SUBJECTS}), in order; null where no source holds the code"
    namespace = {
        "organization": root(organization, organization_type | None, "An organization by USCC."),
        "organizations": root(organizations, list[organization_type | None], f"By USCC {many}."),
        "person": root(person, person_type | None, "A person by citizen ID."),
        "persons": root(persons, list[person_type | None], f"By citizen ID {many}."),
        "catalog": strawberry.field(resolver=operator.catalog, description=operator.CATALOG_HELP),
    }
    return strawberry.type(type("Query", (), namespace))
