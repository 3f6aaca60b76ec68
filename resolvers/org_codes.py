"""``organizationByOrgCode``: an organization by its 9-character organization code, where the
profile keys organizations that way (Zhejiang art. 21; ``policies.identifiers``).

The code resolves to the USCC that embeds it (DESIGN section 6, legacy lookups); the answer
is then exactly ``organization(code: <that USCC>)``: same access plan, same audit, same
refusals. Which USCCs exist is learnt from the organization resources' keys through the
connectors' ``scan`` (keys only, no item), kept as an index for ``INDEX_TTL`` seconds: one
scan per resource and period, not one per request. Own code: no library knows GB 11714 or
the catalog's sources.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any

import strawberry
from strawberry.types import Info

from policies.catalog import Catalog
from policies.identifiers import accepts_org_code, usccs_embedding, validate_org_code
from policies.profile import load_profile, profile_names
from resolvers.context import RequestContext
from resolvers.subjects import lookup

INDEX_TTL = 300.0  # seconds an index of keys is reused
SCAN_PAGE = 5000  # keys per scan call


class OrgCodeIndex:
    """Organization code -> USCCs, from every organization resource's keys."""

    def __init__(self) -> None:
        self._built: tuple[float, dict[str, set[str]]] | None = None
        self._lock = asyncio.Lock()

    async def usccs(self, context: RequestContext, org_code: str) -> tuple[str, ...]:
        async with self._lock:  # one scan at a time: concurrent requests share it
            if self._built is None or time.monotonic() - self._built[0] >= INDEX_TTL:
                self._built = (time.monotonic(), await _scan_keys(context))
        return usccs_embedding(org_code, self._built[1].get(org_code, ()))


async def _scan_keys(context: RequestContext) -> dict[str, set[str]]:
    index: dict[str, set[str]] = defaultdict(set)
    for rid, source in context.federation.sources.items():
        if context.federation.catalog.resources[rid].subject != "organization":
            continue
        after: str | None = None
        while True:
            rows = await source.connector.scan(source.binding, (), after=after, limit=SCAN_PAGE)
            for row in rows:
                key = str(row["__key__"])
                index[key[8:17]].add(key)
            if len(rows) < SCAN_PAGE:
                break
            after = str(rows[-1]["__key__"])
    return index


def org_code_fields(catalog: Catalog, organization_type: Any) -> dict[str, Any]:
    """The ``organizationByOrgCode`` root field where the profile accepts organization codes."""
    if catalog.profile not in profile_names() or not accepts_org_code(load_profile(catalog.profile)):
        return {}
    index = OrgCodeIndex()

    async def organization_by_org_code(info: Info, org_code: str) -> Any:
        code = validate_org_code(org_code)  # INVALID_CODE naming the rule
        found = await index.usccs(info.context, code)
        return await lookup(info, "organization", found[0]) if len(found) == 1 else None

    field = strawberry.field(
        resolver=organization_by_org_code,
        graphql_type=organization_type | None,
        description="An organization by its 9-character organization code (组织机构代码, GB 11714; "
        "Zhejiang art. 21), resolved to the USCC that embeds it (characters 9-17); null when no "
        "source knows it.",
    )
    return {"organization_by_org_code": field}
