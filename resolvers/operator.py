"""Operator queries: the whole catalog, non-shared items and their legal basis included."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from errors import Forbidden
from policies.catalog import Catalog, Department, Item, Resource
from resolvers.context import RequestContext
from resolvers.types import ServiceMode, ShareClass, share_class


@strawberry.type(name="Department")
class DepartmentView:
    code: str
    name: str
    region: str
    level: str


@strawberry.type(name="CatalogItem")
class ItemView:
    name: str
    field: str
    title: str
    type: str
    share: ShareClass
    share_term: str = strawberry.field(
        description="The share class in the profile's own term, e.g. 受限共享类."
    )
    condition: str | None
    basis: str | None
    masked: bool
    compare: ShareClass | None = strawberry.field(description="Its class in mode compare, if set.")
    normalize: list[str] = strawberry.field(description="How claims are normalised before comparing.")


@strawberry.type(name="CatalogResource")
class ResourceView:
    id: str
    code: str
    field: str
    name: str
    summary: str
    subject: str
    category: str
    share: ShareClass
    share_term: str = strawberry.field(description="The default share class in the profile's own term.")
    modes: list[ServiceMode]
    update_cycle: str
    open: bool
    published: dt.date | None
    provider: DepartmentView
    items: list[ItemView]
    compare_disclosure: str = strawberry.field(description="full, or match_only (unknown: mismatch).")


@strawberry.type(name="Catalog")
class CatalogView:
    profile: str
    departments: list[DepartmentView]
    resources: list[ResourceView]


CATALOG_HELP = "The whole catalog, non-shared items and their legal basis included (operators only)."


def require_operator(info: Info) -> RequestContext:
    context: RequestContext = info.context
    if not context.consumer.has("operator"):
        raise Forbidden(
            "this query is for platform operators; use a token with the operator role",
            role="operator",
        )
    return context


def catalog(info: Info) -> CatalogView:
    context = require_operator(info)
    return catalog_view(context.federation.catalog)


def catalog_view(catalog: Catalog) -> CatalogView:
    return CatalogView(
        profile=catalog.profile,
        departments=[_department(d) for d in catalog.departments.values()],
        resources=[_resource(catalog, r) for r in catalog.resources.values()],
    )


def _department(department: Department) -> DepartmentView:
    return DepartmentView(
        code=department.code, name=department.name, region=department.region, level=department.level
    )


def _resource(catalog: Catalog, resource: Resource) -> ResourceView:
    return ResourceView(
        id=resource.id,
        code=resource.code,
        field=resource.field,
        name=resource.name,
        summary=resource.summary,
        subject=resource.subject,
        category=resource.category,
        share=share_class(resource.share),
        share_term=catalog.share_term(resource.share),
        modes=[ServiceMode[m.name] for m in sorted(resource.modes)],
        update_cycle=resource.update_cycle,
        open=resource.open,
        published=resource.published,
        provider=_department(catalog.provider_of(resource)),
        items=[_item(catalog, item) for item in resource.items],
        compare_disclosure=resource.compare_disclosure,
    )


def _item(catalog: Catalog, item: Item) -> ItemView:
    return ItemView(
        name=item.name,
        field=item.field,
        title=item.title,
        type=item.type,
        share=share_class(item.share),
        share_term=catalog.share_term(item.share),
        condition=item.condition,
        basis=item.basis,
        masked=item.mask is not None,
        compare=share_class(item.compare) if item.compare else None,
        normalize=list(item.normalize),
    )
