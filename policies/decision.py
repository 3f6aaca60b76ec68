"""The access decision: may this consumer have this item, in this mode, for this purpose?

This module is where the rule for each share class lives:

- unconditional: any authenticated department, in any mode the resource offers;
- conditional: only under an active grant covering consumer, resource, item, mode and
  purpose (and, when the request names one, that very application);
- not_shared: never.

``plan_access`` decides once per operation, before any source is called, and says
which columns may be fetched; nothing else is ever fetched.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from errors import (
    AccessDenied,
    BadRequest,
    ConditionalAccessRequired,
    GrantExpired,
    ModeNotAllowed,
    NotShared,
    PurposeRequired,
)
from policies.catalog import Catalog, Item, Resource
from policies.share import Mode, Share

ROLES = ("consumer", "provider", "operator")


@dataclass(frozen=True)
class Consumer:
    """An authenticated caller: a department (by USCC) through one of its client systems."""

    department: str
    client_id: str
    roles: frozenset[str]

    def has(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Grant:
    id: str
    consumer: str
    resource: str
    items: frozenset[str]
    modes: frozenset[Mode]
    purpose: str
    valid_from: dt.datetime
    valid_until: dt.datetime
    revoked: bool = False

    def active_at(self, now: dt.datetime) -> bool:
        return not self.revoked and self.valid_from <= now < self.valid_until


@dataclass(frozen=True)
class AccessRequest:
    """The who, why and how of one operation."""

    consumer: Consumer
    purpose: str | None
    mode: Mode
    now: dt.datetime
    application_id: str | None = None


@dataclass(frozen=True)
class ResourcePlan:
    resource: Resource
    allowed: tuple[str, ...]
    denied: Mapping[str, AccessDenied]


@dataclass(frozen=True)
class AccessPlan:
    resources: Mapping[str, ResourcePlan]

    def denials(self) -> list[AccessDenied]:
        return [err for plan in self.resources.values() for err in plan.denied.values()]


def same_purpose(a: str, b: str) -> bool:
    return _canonical(a) == _canonical(b)


def _canonical(purpose: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", purpose).split())


def plan_access(
    request: AccessRequest,
    catalog: Catalog,
    wanted: Mapping[str, Iterable[str]],
    grants: Iterable[Grant],
) -> AccessPlan:
    """Decide every wanted (resource, item) pair of one operation."""
    if any(wanted.values()) and not (request.purpose or "").strip():
        raise PurposeRequired(
            "data access needs a declared purpose: send the X-Purpose header",
            header="X-Purpose",
        )
    usable = [g for g in grants if g.consumer == request.consumer.department]
    plans = {rid: _plan_resource(request, catalog, rid, names, usable) for rid, names in wanted.items()}
    return AccessPlan(plans)


def _plan_resource(
    request: AccessRequest, catalog: Catalog, rid: str, names: Iterable[str], grants: list[Grant]
) -> ResourcePlan:
    resource = catalog.resources[rid]
    relevant = [g for g in grants if g.resource == rid]
    allowed: list[str] = []
    denied: dict[str, AccessDenied] = {}
    for name in sorted(set(names)):
        error = decide_item(request, catalog, resource, resource.items_by_name[name], relevant)
        if error is None:
            allowed.append(name)
        else:
            denied[name] = error
    return ResourcePlan(resource, tuple(allowed), denied)


def decide_item(
    request: AccessRequest,
    catalog: Catalog,
    resource: Resource,
    item: Item,
    grants: Iterable[Grant],
) -> AccessDenied | None:
    """None when the item may be returned, else the error saying why not and what to do."""
    detail = _detail(catalog, resource, item)
    if item.share is Share.NOT_SHARED:
        return NotShared(_not_shared_message(resource, item), basis=item.basis, **detail)
    if request.mode not in resource.modes:
        return ModeNotAllowed(_mode_message(request.mode, resource), mode=request.mode.value, **detail)
    if item.share is Share.UNCONDITIONAL:
        return None
    return _conditional(request, resource, item, list(grants), detail)


def _conditional(
    request: AccessRequest, resource: Resource, item: Item, grants: list[Grant], detail: dict[str, str]
) -> AccessDenied | None:
    if request.application_id:
        grants = [g for g in grants if g.id == request.application_id]
    covering = [g for g in grants if item.name in g.items and request.mode in g.modes]
    matching = [g for g in covering if same_purpose(g.purpose, request.purpose or "")]
    if any(g.active_at(request.now) for g in matching):
        return None
    if any(not g.revoked and g.valid_until <= request.now for g in matching):
        return GrantExpired(_expired_message(resource, item), **detail)
    reason = _inactive_reason(matching) if matching else ("purpose" if covering else "no_grant")
    message = _conditional_message(resource, item, request, reason)
    return ConditionalAccessRequired(message, reason=reason, condition=item.condition or "", **detail)


def _inactive_reason(matching: list[Grant]) -> str:
    """Why grants that match item, mode and purpose still do not apply now."""
    return "revoked" if all(g.revoked for g in matching) else "not_yet_valid"


def _detail(catalog: Catalog, resource: Resource, item: Item) -> dict[str, str]:
    provider = catalog.provider_of(resource)
    return {
        "resource": resource.id,
        "item": item.name,
        "field": item.field,
        "provider": provider.code,
        "providerName": provider.name,
    }


def _not_shared_message(resource: Resource, item: Item) -> str:
    return (
        f"{resource.id}.{item.name} ({item.title}) is not shared (不予共享); "
        f"legal basis: {item.basis}. Remove it from the query."
    )


def _mode_message(mode: Mode, resource: Resource) -> str:
    offered = ", ".join(sorted(m.value for m in resource.modes))
    return f"{resource.id} is not offered in mode {mode.value}; it offers: {offered}"


def _expired_message(resource: Resource, item: Item) -> str:
    return (
        f"your grant for {resource.id}.{item.name} ({item.title}) has expired; "
        "apply again to the provider for a renewed grant"
    )


_REASONS = {
    "purpose": "your grant does not cover the purpose {purpose!r}; send the X-Purpose your grant "
    "was approved for, or apply for this purpose",
    "revoked": "your grant for it has been revoked; apply again to the provider",
    "not_yet_valid": "your grant for it is not valid yet; wait for its start date",
    "no_grant": "condition: {condition}. Apply to the provider for a grant covering this item, "
    "mode {mode} and your purpose",
}


def _conditional_message(resource: Resource, item: Item, request: AccessRequest, reason: str) -> str:
    what = f"{resource.id}.{item.name} ({item.title}) is conditionally shared (有条件共享)"
    why = _REASONS[reason].format(purpose=request.purpose, condition=item.condition, mode=request.mode.value)
    return f"{what}: {why}"


def check_grantable(catalog: Catalog, resource_id: str, items: Iterable[str], modes: Iterable[Mode]) -> None:
    """Refuse a grant that names unknown things, or a non-shared item (never grantable)."""
    resource = catalog.resources.get(resource_id)
    if resource is None:
        raise BadRequest(f"unknown resource {resource_id!r}; see the catalog for resource ids")
    for name in items:
        item = resource.items_by_name.get(name)
        if item is None:
            raise BadRequest(
                f"{resource_id} has no item {name!r}; known: {', '.join(resource.items_by_name)}"
            )
        if item.share is Share.NOT_SHARED:
            raise NotShared(_not_shared_message(resource, item) + " It cannot be granted.", basis=item.basis)
    for mode in modes:
        if mode not in resource.modes:
            raise ModeNotAllowed(_mode_message(mode, resource), mode=mode.value)
