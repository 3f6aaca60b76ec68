"""Resolving subjects (organizations, persons) and their resources.

``lookup`` finds a subject by code: it works out, per resource, what this subject's row
may show (the plan, narrowed by the relied-on grants' conditions: region scope, daily
cap, masks), fetches exactly that through the request's DataLoaders, and answers None
when no source holds the code. The rows ride on the ``Subject``, so resource fields
resolve synchronously; item fields are plain attribute reads on a ``Record``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from graphql import FieldNode, FragmentDefinitionNode, get_named_type
from graphql.pyutils import Path
from strawberry.types import Info

from errors import (
    ConditionalAccessRequired,
    GovshareError,
    PurposeRequired,
    QueryTooComplex,
    SourceUnavailable,
)
from policies.catalog import Catalog, Resource
from policies.chinatime import china_day
from policies.codes import region_of
from policies.decision import (
    Grant,
    ResourcePlan,
    SubjectAccess,
    decide_item,
    has_purpose,
    needs_grant,
    over_cap,
    require_onboarded,
    subject_access,
)
from policies.share import Mode, Share
from resolvers.context import RequestContext
from resolvers.disputes import note_carried
from resolvers.planning import selected_fields

CODE_KINDS = {"organization": "USCC", "person": "CitizenID"}
MAX_SUBJECTS_PER_OPERATION = 2000


class Subject:
    """An organization or person addressed by its (validated) code, with the rows (or the
    source errors) already fetched for it and what each resource may show of it."""

    __slots__ = ("access", "code", "id", "rows")

    def __init__(
        self, code: str, rows: dict[str, Any] | None = None, access: dict[str, SubjectAccess] | None = None
    ) -> None:
        self.code = self.id = code
        self.rows = rows or {}
        self.access = access or {}


class Record:
    """One resource row as the consumer may see it: denied items raise their error."""

    def __init__(self, denied: Mapping[str, GovshareError], row: dict[str, Any]) -> None:
        # a denied item must raise, even if a row somehow carried it: it never enters __dict__
        self.__dict__.update((k, v) for k, v in row.items() if k not in denied)
        self._denied = denied

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # protocol probes (e.g. is-awaitable) are not items
            raise AttributeError(name)
        error = self.__dict__.get("_denied", {}).get(name)
        if error is not None:
            raise error
        return None


def _refused(value: Any) -> bool:
    return isinstance(value, GovshareError)


def _upstream_refusals(row: dict[str, Any], resource: Resource) -> dict[str, GovshareError]:
    """Row values that are errors: an upstream gateway refused those items (a forwarding
    connector, connectors.graphql). Each is denied here with the same code, named by this
    gateway's resource, item and provider (the upstream's names stay as ``upstream_*``)."""
    refused = {k: v for k, v in row.items() if _refused(v)}
    for item, error in refused.items():
        named = {"resource": resource.id, "item": item, "provider": resource.provider}
        refused[item] = type(error)(error.message, **{**_plain(error.extensions), **named})
    return refused


def _plain(extensions: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in extensions.items() if k != "code"}


class CarriedAt(NamedTuple):
    """Where a resource field resolves, as ``resolvers.disputes`` reads it from a resolve info
    (its path, field nodes and the document's fragments): what the compiled fast path
    (``resolvers.compiled_query``) passes instead of a ``GraphQLResolveInfo``."""

    path: Path
    field_nodes: list[FieldNode]
    fragments: Mapping[str, FragmentDefinitionNode]


ResourceReader = Callable[
    [Subject, RequestContext, Any], Any
]  # (subject, context, info) -> Record | None | awaitable


def resource_resolver(resource: Resource) -> Callable[..., Any]:
    """The strawberry resolver of a resource field under a subject."""
    return resolver_of(resource_reader(resource))


def resolver_of(read: ResourceReader) -> Callable[..., Any]:
    """``read`` as a strawberry resolver (``(root, info)``)."""

    def resolve(root: Subject, info: Info) -> Any:
        return read(root, info.context, info._raw_info)

    return resolve


def resource_reader(resource: Resource) -> ResourceReader:
    """``(subject, context, info) -> Record | None | awaitable``: sync on the hot path (the row
    is already on the subject); awaits only when not. ``info`` is the field's resolve info
    (or a ``CarriedAt``): where the field sits, for the disputed marks."""
    rid = resource.id

    def present(access: SubjectAccess, row: Any) -> Record | None:
        if isinstance(row, SourceUnavailable):  # say which department failed, for the consumer and the audit
            circuit = {k: row.extensions[k] for k in ("circuit", "retryAfter") if k in row.extensions}
            raise SourceUnavailable(f"{rid}: the providing department's source is unavailable; retry later",
                                    resource=rid, provider=resource.provider, **circuit) from row  # fmt: skip
        if isinstance(row, BaseException):
            raise row
        if row is None:
            return None
        if access.masks:
            masks = access.masks
            row = {k: (masks[k].apply(v) if k in masks and not _refused(v) else v) for k, v in row.items()}
        refused = _upstream_refusals(row, resource)  # a few hundred ns: no refusal, no copy
        return Record({**refused, **access.denied} if refused else access.denied, row)

    async def load(root: Subject, context: RequestContext, access: SubjectAccess) -> Record | None:
        return present(access, await context.loader(rid, access.items).load(root.code))

    def read(root: Subject, context: RequestContext, info: Any) -> Any:
        assert context.plan is not None
        access = root.access.get(rid)
        if access is None:
            planned = context.plan.resources.get(rid)
            if planned is None:  # no item of it reached the plan: nothing of it may be read
                return Record({}, {})
            access = planned.plain
        if not access.items:  # e.g. only __typename selected: the type name, no source call
            return Record(access.denied, {})
        note_carried(context, info, root.code, rid)  # for the disputed marks
        if rid in root.rows:
            return present(access, root.rows[rid])
        return load(root, context, access)

    return read


async def lookup(info: Info, kind: str, code: str) -> Subject | None:
    """The subject, or None when no requested source has a record of it."""
    return await look_up(info.context, kind, code, selected_resources(info, kind))


async def look_up(context: RequestContext, kind: str, code: str, selected: frozenset[str]) -> Subject | None:
    """``lookup`` with the ids of the resources selected under the subject field already
    known (``_selected_resources``; the compiled fast path knows them per document)."""
    assert context.plan is not None
    if not has_purpose(context.purpose):  # even "does it exist?" is an access to data
        raise PurposeRequired(
            "looking a subject up needs a declared purpose: send X-Purpose", header="X-Purpose"
        )
    context.subjects.append(code)
    if len(context.subjects) > MAX_SUBJECTS_PER_OPERATION:  # aliases cannot multiply the list cap
        raise QueryTooComplex(
            f"at most {MAX_SUBJECTS_PER_OPERATION} subjects per operation; split the request",
            limit=MAX_SUBJECTS_PER_OPERATION,
        )
    on_kind = [
        p for p in context.plan.resources.values() if p.resource.subject == kind and p.resource.id in selected
    ]
    plans = [p for p in on_kind if p.allowed]
    # wholly refused resources whose refusal depends on the subject's division (OUT_OF_SCOPE
    # outside a scoped grant, policies.decision.ResourcePlan.scoped): refused per subject too
    scoped = [p for p in on_kind if (p.scoped or p.capped_refusals) and not p.allowed]
    if not plans:
        subject = await _exists(context, kind, code, selected)
        if subject is not None and scoped:
            region = region_of(code, kind=CODE_KINDS[kind])  # type: ignore[arg-type]
            for p in scoped:
                found = subject_access(p, region)
                subject.access[p.resource.id] = (
                    await admit_capped(context, p, found, code) if found.capped_refusals else found
                )
        return subject
    plans += scoped
    conditional = any(p.per_subject for p in plans)  # only then does the subject's division matter
    region = region_of(code, kind=CODE_KINDS[kind]) if conditional else ""  # type: ignore[arg-type]
    access = {p.resource.id: subject_access(p, region) for p in plans}
    for rid, found in access.items():
        if found.capped or found.capped_refusals:  # a grant's daily cap must admit this subject first
            access[rid] = await admit_capped(context, context.plan.resources[rid], found, code)
    fetched = [rid for rid, a in access.items() if a.items]
    _looked_up(context, code, fetched)
    loads = (context.loader(rid, access[rid].items).load(code) for rid in fetched)
    rows = await asyncio.gather(*loads, return_exceptions=True)
    if fetched and all(row is None for row in rows):
        return None
    return Subject(code, dict(zip(fetched, rows, strict=True)), access)


async def admit_capped(
    context: RequestContext, plan: ResourcePlan, access: SubjectAccess, code: str
) -> SubjectAccess:
    """Items under a capped grant stay only if the cap admits the subject today (China time)."""
    today = china_day(context.now)
    denied: dict[str, GovshareError] = dict(access.denied)
    for name, grant in access.capped.items():
        if not await context.federation.grants.admit(grant, code, today):
            denied[name] = over_cap(plan.resource, name, grant)
    for name, grant in access.capped_refusals.items():  # refused anyway: look, never count
        refusal = denied[name]
        if isinstance(refusal, ConditionalAccessRequired) and not await context.federation.grants.admit(
            grant, code, today, count=False
        ):
            denied[name] = over_cap(plan.resource, name, grant, then=refusal)
    items = tuple(name for name in access.items if name not in denied)
    return SubjectAccess(items, denied, access.masks, {})


async def _keys_readable(context: RequestContext, resources: list[Resource]) -> list[Resource]:
    """The resources whose key this consumer may read in mode query: all of them under an
    ``open`` profile; under ``on_application`` (Hubei art. 13, Zhejiang art. 26) those its
    grants cover, so that existence is not told to a department that has not applied."""
    catalog = context.federation.catalog
    request = await context.access_request(Mode.QUERY)
    if resources:  # whether a subject exists is a read too: not before onboarding (Sanya art. 12)
        require_onboarded(request, catalog)
    if not any(needs_grant(catalog, r.items_by_name[r.key]) for r in resources):
        return resources
    grants = await context.federation.grants.grants_for(context.consumer.department)
    return [
        r
        for r in resources
        if decide_item(request, catalog, r, r.items_by_name[r.key], _of(grants, r)) is None
    ]


def _of(grants: list[Grant], resource: Resource) -> list[Grant]:
    return [g for g in grants if g.resource == resource.id]


async def _exists(context: RequestContext, kind: str, code: str, selected: frozenset[str]) -> Subject | None:
    """Nothing readable was asked of it: look its key up where the key is unconditional,
    at the resources selected under it when one of them can answer, else at every one (a
    selection of only its code or ``__typename`` names no resource)."""
    keyed = [
        r
        for r in context.federation.catalog.resources_on(kind)
        if r.items_by_name[r.key].share is Share.UNCONDITIONAL and Mode.QUERY in r.modes
    ]
    resources = await _keys_readable(context, keyed)  # on application: only with a grant
    if keyed and not resources:  # not applied for: existence is not told, the refusals are
        return Subject(code)  # the same answer for every code (the one it was asked with)
    resources = [r for r in resources if r.id in selected] or resources
    context.extra["existence"] = sorted({*context.extra.get("existence", ()), *(r.id for r in resources)})
    _looked_up(context, code, [r.id for r in resources])
    loads = (context.loader(r.id, (r.key,)).load(code) for r in resources)
    rows = await asyncio.gather(*loads, return_exceptions=True)
    if any(row is not None and not isinstance(row, BaseException) for row in rows):
        return Subject(code)
    failed = [(r, row) for r, row in zip(resources, rows, strict=True) if isinstance(row, BaseException)]
    if not failed:
        return None
    resource, error = failed[0]  # no source said yes and one could not answer: unknown, not "yes"
    if isinstance(error, SourceUnavailable):  # its own words may name the database's internals
        raise SourceUnavailable(
            f"{resource.id}: the providing department's source is unavailable, so whether this "
            f"{kind} exists is unknown; retry later",
            resource=resource.id,
            provider=resource.provider,
        ) from error
    raise error


def selected_resources(info: Info, kind: str) -> frozenset[str]:
    """Ids of the resources selected under this subject field (one per response key, so
    computed once for every code of a list), as execution collects them: a subject is
    looked up only there, and only those providers see it in the audit trail (issue 7
    item 2). The access plan stays per operation: it decides the items, this the sources."""
    raw = info._raw_info
    context: RequestContext = info.context
    cache: dict[tuple[int, ...], frozenset[str]] = context.extra.setdefault("selected", {})
    key = tuple(map(id, raw.field_nodes))
    found = cache.get(key)
    if found is None:
        subject = get_named_type(raw.return_type)
        variables = context.extra.get("variables")  # coerced once by resolvers.extensions
        names = selected_fields(raw.schema, raw.fragments, variables, subject, raw.field_nodes)
        found = cache[key] = resources_named(context.federation.catalog, kind, names)
    return found


def resources_named(catalog: Catalog, kind: str, names: frozenset[str]) -> frozenset[str]:
    """Ids of the resources on ``kind`` whose subject fields are among ``names``."""
    by_field = {r.field: r.id for r in catalog.resources_on(kind)}
    return frozenset(by_field[n] for n in names if n in by_field)


def _looked_up(context: RequestContext, code: str, resources: list[str]) -> None:
    """Note where a subject was looked up: the audit event shows each provider only the
    subjects looked up at its own resources (gateway.evidence, resolvers.evidence)."""
    where: dict[str, list[str]] = context.extra.setdefault("subjects_at", {})
    for rid in resources:
        where.setdefault(rid, []).append(code)
