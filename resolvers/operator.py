"""The catalog's views: resources, items and departments as the ``catalog`` query shows them
to every authenticated department (resolvers.catalog_read), non-shared items and their legal
basis included; never a value, never a draft or its review history (issue 11 section 3)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import strawberry
from strawberry.types import Info

from errors import Forbidden
from policies.catalog import Catalog, Department, Item, Resource
from policies.catalog_query import SearchPage, item_id
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
    id: strawberry.ID = strawberry.field(
        description="<resource id>.<item name>: what submitApplication's items accepts."
    )
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
    published: dt.date | None
    provider: DepartmentView
    items: list[ItemView]
    compare_disclosure: str = strawberry.field(description="full, or match_only (unknown: mismatch).")
    open: bool = strawberry.field(
        description="可否向社会开放: may be opened to the public (Zhejiang art. 8)."
    )
    matched_items: list[str] = strawberry.field(
        default_factory=list, description="Names of the items whose title or name matched `search`."
    )


@strawberry.type(name="Catalog")
class CatalogView:
    profile: str
    departments: list[DepartmentView]
    resources: list[ResourceView] = strawberry.field(description="This page's resources, in catalog order.")
    total_count: int = strawberry.field(description="Resources answering the filters, all pages together.")
    next_after: strawberry.ID | None = strawberry.field(
        description="Pass as `after` for the next page (the last resource's id); null at the end."
    )


def require_operator(info: Info) -> RequestContext:
    context: RequestContext = info.context
    if not context.consumer.has("operator"):
        raise Forbidden(
            "this query is for platform operators; use a token with the operator role",
            role="operator",
        )
    return context


def catalog_view(catalog: Catalog, page: SearchPage) -> CatalogView:
    """``page`` of ``catalog`` (hits of resources no longer in it left out: the index may lag
    a publication by one rebuild), with every department."""
    hits = [hit for hit in page.hits if hit.resource in catalog.resources]
    resources = [_resource(catalog, catalog.resources[hit.resource], hit.items) for hit in hits]
    last = strawberry.ID(page.hits[-1].resource) if page.more and page.hits else None
    return CatalogView(
        profile=catalog.profile,
        departments=[_department(d) for d in catalog.departments.values()],
        resources=resources,
        total_count=page.total,
        next_after=last,
    )


def _department(department: Department) -> DepartmentView:
    return DepartmentView(
        code=department.code, name=department.name, region=department.region, level=department.level
    )


def _resource(catalog: Catalog, resource: Resource, matched: Collection[str] = ()) -> ResourceView:
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
        items=[_item(catalog, resource, item) for item in resource.items],
        compare_disclosure=resource.compare_disclosure,
        matched_items=[item.name for item in resource.items if item.name in matched],
    )


def _item(catalog: Catalog, resource: Resource, item: Item) -> ItemView:
    return ItemView(
        id=strawberry.ID(item_id(resource, item.name)),
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
