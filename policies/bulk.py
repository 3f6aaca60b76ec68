"""The rules of bulk copy and file download (批量复制 / 文件下载, Zhejiang art. 27; Shanghai art. 15).

An export goes through the same decision as a query (``policies.decision.plan_access``),
in mode ``bulk``, and adds these rules:

- the subject key is always exported, first, and is decided like any other item: it is
  what a client resumes after (``after=<last key>``), so an export whose key would be
  refused or masked is refused as a whole;
- every refusal is final for the whole export, before any row is read: a non-shared item
  (NOT_SHARED), a resource without mode bulk (MODE_NOT_ALLOWED), a conditional item
  without a grant covering bulk (CONDITIONAL_ACCESS_REQUIRED ...): the export never sends
  a row that a field error would have withheld;
- a grant's conditions apply per row (DESIGN section 5): a row whose subject lies outside
  the divisions of the grant an item rests on is left out (regions filter rows, they do not
  refuse the export); masks apply to the values; a daily cap counts each exported subject,
  and the export stops at the first row the cap does not admit (``capped``);
- an export that rests on grants is decided again before each page it sends
  (``still_granted``): a grant revoked or expired meanwhile cuts it with the refusal a query
  would now get (revocation is effective at once, also for a long export); any other change
  to what it rests on cuts it too, and the client resumes with ``after`` under a fresh decision.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from errors import AccessDenied, Forbidden, InvalidCode
from policies.catalog import Catalog, Resource
from policies.codes import region_of
from policies.decision import AccessRequest, Grant, ResourcePlan, SubjectAccess, plan_access, subject_access
from policies.share import Mode

CODE_KINDS = {"organization": "USCC", "person": "CitizenID"}


def export_items(resource: Resource, requested: Iterable[str]) -> tuple[str, ...]:
    """The items an export carries, in output order: the subject key first, then the
    requested items in the order asked, each once."""
    return tuple(dict.fromkeys((resource.key, *requested)))


@dataclass(frozen=True)
class ExportPlan:
    """The decision for one export: the items (key first) and the per-row conditions.

    ``refusals`` is empty when the export may start; otherwise it lists every refused item
    with the same error a GraphQL field would carry (code, message, extensions)."""

    resource: Resource
    items: tuple[str, ...]
    plan: ResourcePlan
    refusals: tuple[AccessDenied, ...]
    request: AccessRequest  # as decided (mode bulk): decided again by ``still_granted``
    _by_region: dict[str, SubjectAccess | None] = field(default_factory=dict, compare=False, repr=False)

    @property
    def grants(self) -> tuple[str, ...]:
        """Ids of the grants the conditional items may rest on (for the package manifest)."""
        return tuple(sorted({g.id for grants in self.plan.relied.values() for g in grants}))

    @cached_property
    def deferred(self) -> tuple[str, ...]:
        """Items resting on a grant limited by divisions or a daily cap: read only for the
        rows admitted (DESIGN section 5: never fetch what may not be returned). None when no
        condition depends on the row: then an open grant decides for every row, and every
        item is read with the page."""
        if not self.per_row:
            return ()
        relied = self.plan.relied
        return tuple(
            name
            for name in self.items
            if name != self.resource.key  # the key is read to decide: it names the division
            and any(g.conditions.regions or g.conditions.daily_cap is not None for g in relied.get(name, ()))
        )

    @property
    def per_row(self) -> bool:
        """Whether a row's treatment depends on its subject (regions, grant masks, caps)."""
        return self.plan.per_subject

    def row_access(self, key: str) -> SubjectAccess | None:
        """What the row of subject ``key`` may show, or None when the row is left out (its
        division lies outside the grants an item rests on, or its key is not a valid code
        of the resource's subject kind, so that its division is unknown)."""
        if not self.plan.per_subject:
            return self.plan.plain
        try:
            region = region_of(key, kind=CODE_KINDS[self.resource.subject])  # type: ignore[arg-type]
        except (InvalidCode, KeyError):
            return None
        if region not in self._by_region:  # a few thousand divisions at most
            self._by_region[region] = _row_access(self.plan, region)
        return self._by_region[region]


def _row_access(plan: ResourcePlan, region: str) -> SubjectAccess | None:
    access = subject_access(plan, region)
    return None if any(name in access.denied for name in plan.allowed) else access


def plan_export(
    request: AccessRequest,
    catalog: Catalog,
    resource_id: str,
    requested: Sequence[str],
    grants: Iterable[Grant],
) -> ExportPlan:
    """Decide an export of ``requested`` items of ``resource_id`` (mode bulk is forced).

    Raises ``PurposeRequired`` without a purpose. Refusals are returned, not raised, so that
    the caller can answer all of them at once (403) and audit them."""
    request = dataclasses.replace(request, mode=Mode.BULK)  # onboarding (Sanya art. 12) kept
    resource = catalog.resources[resource_id]
    items = export_items(resource, requested)
    plan = plan_access(request, catalog, {resource_id: items}, grants).resources[resource_id]
    refusals = [plan.denied[name] for name in items if name in plan.denied]
    if not refusals and _key_masked(plan, resource.key):
        refusals.append(_masked_key(catalog, resource))
    return ExportPlan(resource, items, plan, tuple(refusals), request)


def still_granted(
    plan: ExportPlan, catalog: Catalog, grants: Iterable[Grant], now: dt.datetime
) -> AccessDenied | None:
    """None while the export may go on at ``now`` with the consumer's current ``grants``;
    else the refusal that ends it: the one a query would now get (a grant revoked, expired),
    or ``Forbidden`` when the export still may run but on other grants than it was decided on
    (other conditions: regions, masks, caps), so that it is resumed and decided afresh.

    ``catalog`` is the one served now: an item withdrawn or made stricter since the export
    began ends it at its next page like a revoked grant (issue 11: a withdrawal takes
    effect for reads at once); a resource or item no longer in it is ``Forbidden``, and so
    is any other change of the resource's entry (a catalog mask added, another provider,
    other columns): the rest was planned on the old entry, so the export is resumed."""
    current = catalog.resources.get(plan.resource.id)
    if current is None or any(name not in current.items_by_name for name in plan.items):
        return _withdrawn(plan)
    if not plan.plan.relied and current == plan.resource:  # unconditional, unchanged: nothing to lose
        return None
    request = dataclasses.replace(plan.request, now=now)
    fresh = plan_export(request, catalog, plan.resource.id, plan.items, grants)
    if fresh.refusals:
        return fresh.refusals[0]
    if fresh.plan.relied != plan.plan.relied:
        return _resume(plan, catalog, "the grants this export rests on changed", "the grants as they are now")
    if current != plan.resource:  # masks, provider, columns: the rows were read under the old entry
        return _resume(plan, catalog, "the resource's catalog entry changed", "the published catalog")
    return None


def _resume(plan: ExportPlan, catalog: Catalog, what: str, under: str) -> Forbidden:
    """The export may go on, but not as decided: resumed and decided afresh."""
    return Forbidden(
        f"{plan.resource.id}: {what} while this export ran; resume with after=<the last key "
        f"received>, under {under}",
        resource=plan.resource.id,
        provider=catalog.provider_of(catalog.resources[plan.resource.id]).code,
    )


def _withdrawn(plan: ExportPlan) -> Forbidden:
    return Forbidden(
        f"{plan.resource.id}: an item of this export was withdrawn from the published catalog while "
        "it ran; read the catalog query for what is published now and export those items",
        resource=plan.resource.id,
        provider=plan.resource.provider,
    )


def _key_masked(plan: ResourcePlan, key: str) -> bool:
    if key in plan.catalog_masks:
        return True
    return any(key in g.conditions.masks for grants in plan.relied.values() for g in grants)


def _masked_key(catalog: Catalog, resource: Resource) -> Forbidden:
    return Forbidden(
        f"{resource.id} cannot be exported to you: its subject key {resource.key!r} is masked for you, "
        "and an export is ordered and resumed by that key; read it by query instead",
        resource=resource.id,
        item=resource.key,
        provider=catalog.provider_of(resource).code,
    )
