"""The ``catalog`` query: every authenticated department searches the published catalog
(issue 11 section 3; Shanghai art. 10, Zhejiang art. 8-11, Hubei art. 18).

Arguments are validated once (``policies.catalog_query.catalog_query``: a bad one is a
``BAD_REQUEST`` naming the argument and what it accepts); the search runs in the platform
database's index (``Federation.catalog_search``, gateway.catalog_search). A federation built
without an index (a schema embedded without the platform database) answers from
``policies.catalog_query.scan_page`` instead, the same rule.
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from errors import BadRequest
from policies.catalog_query import CatalogQuery, SearchPage, catalog_query, page_after, scan_page
from resolvers.context import Federation, RequestContext
from resolvers.operator import CatalogView, catalog_view

DEFAULT_PAGE = 100
MAX_PAGE = 500
CATALOG_HELP = (
    "The published catalog (资源目录), for every authenticated department: resources with their "
    "items, share classes in the profile's terms, conditions, modes, update cycle, provider, open "
    "(Zhejiang art. 8) and, for non-shared items, their legal basis. Never data, drafts or review "
    "history. Filters combine (AND); pages follow catalog order (`after` = the previous nextAfter)."
)
SHARE_HELP = "An item class: UNCONDITIONAL, CONDITIONAL, NOT_SHARED or the profile's term (受限共享类)."


async def catalog(
    info: Info,
    search: Annotated[
        str | None,
        strawberry.argument(description="Text within a name, title or summary (法定代表人, 代表人)."),
    ] = None,
    provider: Annotated[
        str | None, strawberry.argument(description="A USCC, or part of a department's name.")
    ] = None,
    share: Annotated[str | None, strawberry.argument(description=SHARE_HELP)] = None,
    subject: Annotated[str | None, strawberry.argument(description="ORGANIZATION, PERSON or NONE.")] = None,
    mode: Annotated[str | None, strawberry.argument(description="COMPARE, QUERY or BULK.")] = None,
    open: Annotated[
        bool | None, strawberry.argument(description="可否向社会开放 (Zhejiang art. 8): true or false.")
    ] = None,
    first: Annotated[int, strawberry.argument(description=f"Page size, 1 to {MAX_PAGE}.")] = DEFAULT_PAGE,
    after: Annotated[
        strawberry.ID | None, strawberry.argument(description="The previous page's nextAfter.")
    ] = None,
) -> CatalogView:
    context: RequestContext = info.context
    context.record_read("catalog")
    if not 1 <= first <= MAX_PAGE:
        raise BadRequest(f"catalog argument first: {first} is not 1 to {MAX_PAGE}", argument="first")
    published = context.federation.catalog
    query = catalog_query(
        published, search=search, provider=provider, share=share, subject=subject, mode=mode, open=open
    )
    page = await _find(context.federation, query, first, None if after is None else page_after(str(after)))
    return catalog_view(published, page)


async def _find(federation: Federation, query: CatalogQuery, first: int, after: str | None) -> SearchPage:
    if federation.catalog_search is None:
        return scan_page(federation.catalog, query, first, after)
    return await federation.catalog_search.find(query, first, after)
