"""The access decision: may this consumer have this item, in this mode, for this purpose?

This module is where the rule for each share class lives:

- unconditional: any authenticated department, in any mode the resource offers, where the
  profile says ``unconditional_access: open``; under ``on_application`` (Hubei art. 13,
  18-21; Zhejiang art. 26) only under an active grant, as conditional items, refused with
  APPLICATION_REQUIRED;
- conditional: only under an active grant covering consumer, resource, item, mode and
  purpose (and, when the request names one, that very application);
- not_shared: never.

In mode compare an item's ``compare:`` class replaces its class (``share_in_mode``); the
resource must offer the mode, whatever the class.

``plan_access`` decides once per operation, before any source is called, and says
which columns may be fetched; nothing else is ever fetched. Under a profile with
``access.onboarding`` (Sanya art. 12) a department not onboarded reads nothing
(ONBOARDING_REQUIRED). Messages use the profile's class terms; each refusal carries
``extensions.article`` where the profile cites one (issue 10 section 1).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cached_property
from typing import TypeVar

from errors import (
    AccessDenied,
    ApplicationRequired,
    BadRequest,
    ConditionalAccessRequired,
    GovshareError,
    GrantExpired,
    ModeNotAllowed,
    NotShared,
    OnboardingRequired,
    OutOfScope,
    PurposeRequired,
    RateLimited,
    shown,
)
from policies.catalog import Catalog, Item, Mask, Resource
from policies.profile import Profile, load_profile, profile_names
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
class GrantConditions:
    """Limits a provider may set when granting (Hubei art. 20: 授权范围和条件)."""

    regions: tuple[str, ...] = ()  # subjects' division code must start with one of these
    masks: Mapping[str, Mask] = dataclass_field(default_factory=dict)  # item -> mask
    daily_cap: int | None = None  # distinct subjects a day, through this grant

    @property
    def per_subject(self) -> bool:
        return bool(self.regions or self.masks or self.daily_cap)

    def in_scope(self, region: str) -> bool:
        return not self.regions or region.startswith(self.regions)


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
    conditions: GrantConditions = GrantConditions()
    application: str | None = None  # the application it was approved on, if any

    def named_by(self, reference: str) -> bool:
        """X-Application-Id may name the grant or the application it came from."""
        return reference in (self.id, self.application)

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
    onboarded: bool = True  # the department is onboarded (only read where the profile needs it)


@dataclass(frozen=True)
class ResourcePlan:
    resource: Resource
    allowed: tuple[str, ...]
    denied: Mapping[str, AccessDenied]
    # conditional item -> the active grants it may rest on, least restricted first
    relied: Mapping[str, tuple[Grant, ...]] = dataclass_field(default_factory=dict)
    # conditional item -> grants the request could use by changing its own headers or by
    # waiting (not by a new grant), each with the refusal that says so, cheapest first: a
    # subject outside every relied-on grant's divisions is refused with the first of these
    # that covers it, when there is one (its remedy is cheaper than a new grant)
    nearly: Mapping[str, tuple[tuple[Grant, ConditionalAccessRequired], ...]] = dataclass_field(
        default_factory=dict
    )
    # refused conditional item -> every covering grant with its refusal, cheapest remedy first,
    # when some of them cover only some divisions: the refusal then depends on the subject (a
    # subject outside each of them is OUT_OF_SCOPE, whatever else is wrong with them: only a
    # new grant covering its division lets it through)
    scoped: Mapping[str, tuple[tuple[Grant, AccessDenied], ...]] = dataclass_field(default_factory=dict)
    # refused conditional item -> the grant its refusal names, when that grant has a daily cap
    # and the request alone can cure the refusal (purpose, application id): if today's cap
    # does not admit the subject, the cap is the first reason (waiting cures it; fixing the
    # headers alone would not)
    capped_refusals: Mapping[str, Grant] = dataclass_field(default_factory=dict)
    profile: str = ""  # the catalog's profile: refusals made per subject cite its articles

    @cached_property
    def per_subject(self) -> bool:
        """Whether the answer depends on the subject: no unrestricted grant covers some item,
        a refusal depends on the subject's division, or on a grant's daily cap."""
        return bool(self.scoped or self.capped_refusals) or any(
            grants[0].conditions.per_subject for grants in self.relied.values()
        )

    @cached_property
    def catalog_masks(self) -> dict[str, Mask]:
        return {name: mask for name in self.allowed if (mask := self.resource.items_by_name[name].mask)}

    @cached_property
    def plain(self) -> SubjectAccess:
        """What every subject may see when no condition depends on the subject."""
        return SubjectAccess(self.allowed, self.denied, self.catalog_masks, {})


@dataclass(frozen=True)
class SubjectAccess:
    """What one subject's row may show: the items to fetch, the refusals, the masks."""

    items: tuple[str, ...]
    denied: Mapping[str, GovshareError]
    masks: Mapping[str, Mask]  # catalog masks, made stricter by the relied-on grant's
    capped: Mapping[str, Grant]  # item -> grant whose daily cap must admit the subject
    # refused item -> the capped grant its refusal names: a used-up cap is named first
    # (``over_cap`` with the refusal's reasons after it); looked at, never counted
    capped_refusals: Mapping[str, Grant] = dataclass_field(default_factory=dict)


def subject_access(plan: ResourcePlan, region: str) -> SubjectAccess:
    """Apply the relied-on grants' conditions for a subject of this division code."""
    if not plan.per_subject:
        return plan.plain
    denied: dict[str, GovshareError] = dict(plan.denied)
    masks = dict(plan.catalog_masks)
    capped: dict[str, Grant] = {}
    for name, candidates in plan.scoped.items():
        covering = next((error for grant, error in candidates if grant.conditions.in_scope(region)), None)
        denied[name] = covering or _out_of_scope(plan, name, candidates[0][0])
    for name, grants in plan.relied.items():
        grant = next((g for g in grants if g.conditions.in_scope(region)), None)
        if grant is None:  # none of the consumer's grants for this item covers the division
            denied[name] = _outside_every_grant(plan, name, region, grants[0])
            continue
        if name in grant.conditions.masks:  # a grant may mask more than the catalog, never less
            granted = grant.conditions.masks[name]
            masks[name] = masks[name].stricter(granted) if name in masks else granted
        if grant.conditions.daily_cap is not None:
            capped[name] = grant
    items = tuple(name for name in plan.allowed if name not in denied)
    refusals = {name: g for name, g in plan.capped_refusals.items() if g.conditions.in_scope(region)}
    return SubjectAccess(items, denied, masks, capped, refusals)


def _outside_every_grant(plan: ResourcePlan, name: str, region: str, first: Grant) -> GovshareError:
    """OUT_OF_SCOPE (its remedy: a new grant covering the division), unless a grant the request
    could use by its own headers or by waiting covers the division: that refusal comes first."""
    nearly = plan.nearly.get(name, ())
    cheaper = next((error for grant, error in nearly if grant.conditions.in_scope(region)), None)
    return cheaper or _out_of_scope(plan, name, first)


def _out_of_scope(plan: ResourcePlan, name: str, grant: Grant) -> OutOfScope:
    resource, regions = plan.resource, ", ".join(grant.conditions.regions)
    return cite(
        plan.profile,
        OutOfScope(
            f"{resource.id}.{name}: this subject is outside the divisions your grant {grant.id} covers "
            f"({regions}); apply for a grant covering its division",
            resource=resource.id,
            item=name,
            grant=grant.id,
            regions=list(grant.conditions.regions),
        ),
    )


def over_cap(resource: Resource, name: str, grant: Grant, then: AccessDenied | None = None) -> RateLimited:
    """RATE_LIMITED for a used-up daily cap (a grant condition, DESIGN section 5). ``then``:
    the refusal that remains once the cap admits the subject again (e.g. a wrong purpose),
    named after it so that following the advice reveals nothing new (``REASON_ORDER``)."""
    message = (
        f"{resource.id}.{name}: your grant {grant.id} allows {grant.conditions.daily_cap} distinct "
        "subjects a day and today's are used; try again tomorrow or apply for a higher cap"
    )
    reasons = ["daily_cap", *(then.extensions.get("reasons", ()) if then else ())]
    if then is not None:
        message += f"; once that is done: {then.message}"
    return RateLimited(
        message,
        resource=resource.id,
        item=name,
        grant=grant.id,
        cap=grant.conditions.daily_cap,
        reasons=reasons,
    )


@dataclass(frozen=True)
class AccessPlan:
    resources: Mapping[str, ResourcePlan]

    def denials(self) -> list[AccessDenied]:
        return [err for plan in self.resources.values() for err in plan.denied.values()]


# Invisible characters a copied purpose may carry: zero-width space / non-joiner / joiner,
# word joiner, BOM (zero-width no-break space) and the Mongolian vowel separator (whitespace
# before Unicode 6.3). They are dropped; they separate nothing a reader can see.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u180e"))


def canonical_purpose(purpose: str | None) -> str:
    """A purpose as it is compared and stored: NFKC (full-width forms folded), invisible
    characters dropped, every run of whitespace of any kind (Unicode White_Space: ASCII
    spaces, tabs and line breaks, U+00A0, U+1680, U+2000-200A, U+2028/2029, U+202F, U+205F,
    the ideographic space U+3000 ...) made one ASCII space, none at either end. "" for None.
    Idempotent: ``canonical_purpose(canonical_purpose(p)) == canonical_purpose(p)``."""
    text = unicodedata.normalize("NFKC", (purpose or "").translate(_INVISIBLE)).translate(_INVISIBLE)
    return " ".join(text.split())


def has_purpose(purpose: str | None) -> bool:
    """Whether a purpose is declared: something visible is left once it is made canonical."""
    return bool(canonical_purpose(purpose))


def same_purpose(a: str, b: str) -> bool:
    """Whether two spellings name one purpose (``canonical_purpose``)."""
    return canonical_purpose(a) == canonical_purpose(b)


def plan_access(
    request: AccessRequest,
    catalog: Catalog,
    wanted: Mapping[str, Iterable[str]],
    grants: Iterable[Grant],
) -> AccessPlan:
    """Decide every wanted (resource, item) pair of one operation."""
    if any(wanted.values()):
        require_onboarded(request, catalog)
    if any(wanted.values()) and not has_purpose(request.purpose):
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
    relied: dict[str, tuple[Grant, ...]] = {}
    nearly: dict[str, tuple[tuple[Grant, ConditionalAccessRequired], ...]] = {}
    scoped: dict[str, tuple[tuple[Grant, AccessDenied], ...]] = {}
    capped_refusals: dict[str, Grant] = {}
    for name in sorted(set(names)):
        item = resource.items_by_name[name]
        error = decide_item(request, catalog, resource, item, relevant)
        if error is not None:
            denied[name] = error
            if (grant := _capped_grant_of(error, relevant)) is not None:
                capped_refusals[name] = grant
            if isinstance(error, ConditionalAccessRequired | GrantExpired) and error.extensions.get("grant"):
                scoped_refusals = _refusals_by_grant(request, catalog, resource, item, relevant)
                if any(g.conditions.regions for g, _ in scoped_refusals):
                    scoped[name] = scoped_refusals
            continue
        allowed.append(name)
        if needs_grant(catalog, item, request.mode):
            relied[name] = _relied_on(request, item, relevant)
            if any(g.conditions.regions for g in relied[name]):  # only then can a subject fall outside
                nearly[name] = _nearly_usable(request, catalog, resource, item, relevant)
    return ResourcePlan(
        resource, tuple(allowed), denied, relied, nearly, scoped, capped_refusals, catalog.profile
    )


_CURED_BY_THE_REQUEST = frozenset({"application", "purpose"})


def _capped_grant_of(error: AccessDenied, grants: list[Grant]) -> Grant | None:
    """The daily-capped grant a refusal names, when only the request's own headers stand
    between it and the subject (then a used-up cap must be named first)."""
    if not isinstance(error, ConditionalAccessRequired):
        return None
    reasons = set(error.extensions.get("reasons", ()))
    grant = next((g for g in grants if g.id == error.extensions.get("grant")), None)
    if grant is None or grant.conditions.daily_cap is None or not reasons <= _CURED_BY_THE_REQUEST:
        return None
    return grant


def _refusals_by_grant(
    request: AccessRequest, catalog: Catalog, resource: Resource, item: Item, grants: list[Grant]
) -> tuple[tuple[Grant, AccessDenied], ...]:
    """Every grant covering the item and mode (none usable), with the refusal it gives, the
    cheapest to make usable first (``_remedy_rank``)."""
    covering = [g for g in grants if item.name in g.items and request.mode in g.modes]
    judged = sorted(
        ((g, grant_defects(request, g, item)) for g in covering),
        key=lambda pair: _remedy_rank(request, *pair),
    )
    detail = _detail(catalog, resource, item)
    return tuple((g, _grant_refusal(request, catalog, resource, item, g, d, detail)) for g, d in judged)


def _nearly_usable(
    request: AccessRequest, catalog: Catalog, resource: Resource, item: Item, grants: list[Grant]
) -> tuple[tuple[Grant, ConditionalAccessRequired], ...]:
    """Covering grants whose reasons the request cures itself or by waiting, cheapest first."""
    covering = [g for g in grants if item.name in g.items and request.mode in g.modes]
    judged = [(g, d) for g in covering if (d := grant_defects(request, g, item))]
    usable = sorted(
        ((g, d) for g, d in judged if max(_REMEDY_COST[r] for r in d) < _NEW_GRANT),
        key=lambda pair: _remedy_rank(request, *pair),
    )
    detail = _detail(catalog, resource, item)
    return tuple((g, _refusal(request, catalog, resource, item, g, d, detail)) for g, d in usable)


def _relied_on(request: AccessRequest, item: Item, grants: list[Grant]) -> tuple[Grant, ...]:
    """The active grants an allowed conditional item may rest on, least restricted first:
    a subject is served under the first whose conditions admit it."""
    usable = [
        g
        for g in grants
        if item.name in g.items
        and request.mode in g.modes
        and g.active_at(request.now)
        and (share_in_mode(item, request.mode) is Share.UNCONDITIONAL or _matches_request(request, g))
    ]
    return tuple(sorted(usable, key=lambda g: (g.conditions.per_subject, g.id)))


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
        return not_shared_refusal(catalog, resource, item)
    if request.mode not in resource.modes:
        error = ModeNotAllowed(_mode_message(request.mode, resource), mode=request.mode.value, **detail)
        return cite(catalog.profile, error)
    if not needs_grant(catalog, item, request.mode):
        return None
    return _conditional(request, catalog, resource, item, list(grants), detail)


def share_in_mode(item: Item, mode: Mode) -> Share:
    """The class an item has in a service mode: its ``share``, except that in mode compare an
    item's ``compare:`` class stands in for it (DESIGN section 3: a verification that
    discloses nothing may be opened wider than reading, e.g. ``compare: unconditional`` on a
    conditional item). A non-shared item is non-shared in every mode (never compared)."""
    if mode is Mode.COMPARE and item.compare is not None and item.share is not Share.NOT_SHARED:
        return item.compare
    return item.share


# Why a grant covering the item and mode does not apply, in the order they are named.
# A reason that only a new grant cures comes first (a renewal is applied for with the right
# purpose, so it cures the request-side reasons too), then one that waiting cures, then
# those the consumer cures by changing its own request: so the first reason named is the
# one whose remedy lets the request through, and following the advice never reveals a
# reason that was hidden (issue 7, item 16).
REASON_ORDER = ("revoked", "expired", "not_yet_valid", "application", "purpose")
_NEW_GRANT = 3  # the cost of a remedy that needs a new grant (as OUT_OF_SCOPE's does)
_REMEDY_COST = {
    "revoked": _NEW_GRANT,
    "expired": _NEW_GRANT,
    "not_yet_valid": 2,
    "application": 1,
    "purpose": 1,
}


def grant_defects(request: AccessRequest, grant: Grant, item: Item | None = None) -> tuple[str, ...]:
    """Why ``grant`` (which covers the item and mode) does not apply, in ``REASON_ORDER``.

    For an unconditional ``item`` (read on application: Hubei art. 12-13, 21; Zhejiang art.
    26) only the grant's own state counts (revoked, expired, not yet valid): 无条件共享 is
    sharing without attached conditions, so the purpose the application named and
    ``X-Application-Id`` are not matched against the request."""
    found = {
        "revoked": grant.revoked,
        "expired": grant.valid_until <= request.now,
        "not_yet_valid": request.now < grant.valid_from,
        "application": bool(request.application_id) and not grant.named_by(request.application_id or ""),
        "purpose": not same_purpose(grant.purpose, request.purpose or ""),
    }
    if item is not None and share_in_mode(item, request.mode) is Share.UNCONDITIONAL:
        found["application"] = found["purpose"] = False
    return tuple(reason for reason in REASON_ORDER if found[reason])


def _matches_request(request: AccessRequest, grant: Grant) -> bool:
    """The grant is for the request's purpose and, when it names one, its application."""
    named = not request.application_id or grant.named_by(request.application_id)
    return named and same_purpose(grant.purpose, request.purpose or "")


def _remedy_rank(
    request: AccessRequest, grant: Grant, defects: tuple[str, ...]
) -> tuple[int, int, bool, str]:
    """Cheapest remedy first: the costliest reason of a grant decides what it takes to use it;
    then fewer reasons, then the grant the request names, then the id (a stable answer)."""
    named = bool(request.application_id) and grant.named_by(request.application_id or "")
    return max(_REMEDY_COST[d] for d in defects), len(defects), not named, grant.id


def _conditional(
    request: AccessRequest,
    catalog: Catalog,
    resource: Resource,
    item: Item,
    grants: list[Grant],
    detail: dict[str, str],
) -> AccessDenied | None:
    """None when a grant covers item, mode and purpose and applies now; else the refusal naming
    first the reason whose remedy lets the request through (``REASON_ORDER``), all its reasons
    in ``extensions.reasons`` and the grant they are about in ``extensions.grant``."""
    covering = [g for g in grants if item.name in g.items and request.mode in g.modes]
    judged = [(g, grant_defects(request, g, item)) for g in covering]
    if any(not defects for _, defects in judged):
        return None
    if not judged:
        unconditional = share_in_mode(item, request.mode) is Share.UNCONDITIONAL
        reason = "no_application" if unconditional else "no_grant"
        message = _conditional_message(catalog, resource, item, request, (reason,), None)
        refusal = ApplicationRequired if unconditional else ConditionalAccessRequired
        error = refusal(message, reason=reason, reasons=[reason], condition=item.condition or "", **detail)
        return cite(catalog.profile, error)
    best, defects = min(judged, key=lambda pair: _remedy_rank(request, *pair))
    return _grant_refusal(request, catalog, resource, item, best, defects, detail)


def _grant_refusal(
    request: AccessRequest,
    catalog: Catalog,
    resource: Resource,
    item: Item,
    grant: Grant,
    defects: tuple[str, ...],
    detail: dict[str, str],
) -> AccessDenied:
    """GRANT_EXPIRED when expiry is the first reason, else CONDITIONAL_ACCESS_REQUIRED."""
    if defects[0] == "expired":
        message = _conditional_message(catalog, resource, item, request, defects, grant)
        error = GrantExpired(message, reason="expired", reasons=list(defects), grant=grant.id, **detail)
        return cite(catalog.profile, error)
    return _refusal(request, catalog, resource, item, grant, defects, detail)


def _refusal(
    request: AccessRequest,
    catalog: Catalog,
    resource: Resource,
    item: Item,
    grant: Grant,
    defects: tuple[str, ...],
    detail: dict[str, str],
) -> ConditionalAccessRequired:
    message = _conditional_message(catalog, resource, item, request, defects, grant)
    extra = {"reason": defects[0], "reasons": list(defects), "grant": grant.id}
    unconditional = share_in_mode(item, request.mode) is Share.UNCONDITIONAL
    refusal = ApplicationRequired if unconditional else ConditionalAccessRequired
    return cite(catalog.profile, refusal(message, condition=item.condition or "", **extra, **detail))


def _detail(catalog: Catalog, resource: Resource, item: Item) -> dict[str, str]:
    provider = catalog.provider_of(resource)
    return {
        "resource": resource.id,
        "item": item.name,
        "field": item.field,
        "provider": provider.code,
        "providerName": provider.name,
    }


def not_shared_refusal(catalog: Catalog, resource: Resource, item: Item) -> NotShared:
    """NOT_SHARED for ``item`` in the profile's term for the class, with its legal basis and
    the profile's article (``articles.basis``, e.g. Zhejiang art. 6). The one builder of this
    refusal: a field refused by the decision and a field absent from the schema (validation)
    read the same."""
    detail = _detail(catalog, resource, item)
    message = _not_shared_message(catalog, resource, item)
    return cite(catalog.profile, NotShared(message, basis=item.basis, **detail))


def _not_shared_message(catalog: Catalog, resource: Resource, item: Item) -> str:
    return (
        f"{resource.id}.{item.name} ({item.title}) is not shared ({catalog.share_term(Share.NOT_SHARED)}); "
        f"legal basis: {item.basis}. Remove it from the query."
    )


def _mode_message(mode: Mode, resource: Resource) -> str:
    offered = ", ".join(sorted(m.value for m in resource.modes))
    return f"{resource.id} is not offered in mode {mode.value}; it offers: {offered}"


_REASONS = {
    "revoked": "your grant {grant} for it has been revoked; apply again to the provider",
    "expired": "your grant {grant} for it has expired; apply again to the provider for a renewed grant",
    "not_yet_valid": "your grant {grant} for it is not valid yet; wait for its start date ({start})",
    "application": "X-Application-Id {application!r} names none of your grants for it; send "
    "X-Application-Id: {grant} (or leave the header out)",
    "purpose": "your grant {grant} does not cover the purpose {purpose!r}; send the X-Purpose your "
    "grant was approved for, or apply for this purpose",
    "no_grant": "condition: {condition}. Apply to the provider for a grant covering this item, "
    "mode {mode} and your purpose",
    "no_application": "under this profile every use needs an approved application, unconditional "
    "items included; apply through the platform for this item, mode {mode} and your purpose (the "
    "platform grants unconditional items on acceptance)",
}


def _conditional_message(
    catalog: Catalog,
    resource: Resource,
    item: Item,
    request: AccessRequest,
    reasons: tuple[str, ...],
    grant: Grant | None,
) -> str:
    """The reasons in the order they are to be cured: the first, then each that remains."""
    share = share_in_mode(item, request.mode)
    term = catalog.share_term(share)
    how = "conditionally shared" if share is Share.CONDITIONAL else "shared on application"
    what = f"{resource.id}.{item.name} ({item.title}) is {how} ({term})"
    values = {
        "purpose": request.purpose,
        "condition": item.condition,
        "mode": request.mode.value,
        "application": request.application_id,
        "grant": grant.id if grant else "",
        "start": grant.valid_from.isoformat() if grant else "",
    }
    first, *then = (_REASONS[reason].format(**values) for reason in reasons)
    if reasons[0] in ("revoked", "expired"):
        then = []  # the new grant applied for covers the purpose and the request names it
    also = "".join(f"; once that is done: {text}" for text in then)
    return f"{what}: {first}{also}"


def check_grantable(catalog: Catalog, resource_id: str, items: Iterable[str], modes: Iterable[Mode]) -> None:
    """Refuse a grant that names unknown things, or a non-shared item (never grantable)."""
    resource = catalog.resources.get(resource_id)
    if resource is None:
        raise BadRequest(f"unknown resource {shown(resource_id)}; see the catalog for resource ids")
    for name in items:
        item = resource.items_by_name.get(name)
        if item is None:
            raise BadRequest(
                f"{resource_id} has no item {shown(name)}; known: {', '.join(resource.items_by_name)}"
            )
        if item.share is Share.NOT_SHARED:
            message = _not_shared_message(catalog, resource, item) + " It cannot be granted."
            raise cite(catalog.profile, NotShared(message, basis=item.basis))
    for mode in modes:
        if mode not in resource.modes:
            raise ModeNotAllowed(_mode_message(mode, resource), mode=mode.value)


def _profile(name: str) -> Profile | None:
    return load_profile(name) if name in profile_names() else None


def needs_grant(catalog: Catalog, item: Item, mode: Mode = Mode.QUERY) -> bool:
    """Whether using ``item`` in ``mode`` needs an active grant: conditional items (in that
    mode, ``share_in_mode``) always; unconditional ones where the profile says
    ``unconditional_access: on_application`` (Hubei art. 13, 18-21; Zhejiang art. 26)."""
    share = share_in_mode(item, mode)
    if share is not Share.UNCONDITIONAL:
        return share is Share.CONDITIONAL
    profile = _profile(catalog.profile)
    return profile is not None and profile.access.unconditional_on_application


def needs_onboarding(catalog: Catalog) -> bool:
    """Whether a department must be onboarded before any read (Sanya art. 12)."""
    profile = _profile(catalog.profile)
    return profile is not None and profile.access.onboarding


def require_onboarded(request: AccessRequest, catalog: Catalog) -> None:
    """Raise ONBOARDING_REQUIRED when the profile requires onboarding (Sanya art. 12: a
    department's first use needs its written access application) and the requesting
    department is not onboarded. Every read asks this first: items, and whether a subject
    exists."""
    if needs_onboarding(catalog) and not request.onboarded:
        raise onboarding_required(catalog, request.consumer.department)


def onboarding_required(catalog: Catalog, department: str) -> OnboardingRequired:
    """ONBOARDING_REQUIRED for ``department``, citing the profile's article."""
    message = (
        f"department {department} is not onboarded: before its first use a department applies in "
        "writing to the informatization department for access, committing to the sharing and "
        "secrecy rules; ask the platform operator to record it (mutation onboardDepartment or "
        "`govshare onboard`)"
    )
    return cite(catalog.profile, OnboardingRequired(message, department=department))


E = TypeVar("E", bound=GovshareError)


def cite(profile_name: str, error: E) -> E:
    """``error`` with ``extensions.article`` (``"浙江省 第二十六条"``) when the profile cites an
    article for its code (``vocabulary.refusal_topics``); unchanged otherwise."""
    profile = _profile(profile_name)
    article = profile.article_for(error.code) if profile else None
    if article:
        error.extensions["article"] = article
    return error
