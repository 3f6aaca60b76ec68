"""Compare / verify (比对验证, Zhejiang art. 27 (一)), shared by ``POST /compare`` and the
GraphQL field ``compare``: match or mismatch per claimed item, never the stored value.

One call compares a list of requests (``CompareRequest``: resource, subject, claims)::

    answer = await comparer.compare(context, [CompareRequest(resource, code, {"name": "..."})])
    answer.results[0].items      # {"name": "match"}
    answer.results[0].errors     # [NotShared(...), ...]: the same errors as GraphQL fields
    answer.audit_id              # the one audit event of the whole call

Steps, each once per call: the access decision for mode compare (``policies.decision``,
``share_in_mode``: an item's ``compare:`` class), the consumer's rate at each resource
(``SubjectRate``), ONE source fetch per resource for every subject of the call (only the
items that may be compared), the comparisons (``policies.compare.matches``, constant time),
the per-item annotations (``annotate_items``) and ONE audit event (``CompareRecorder``).

``compare_disclosure: match_only`` on a resource: an unknown subject answers every item
``mismatch`` and no ``found``; it takes the same steps as a known one (the same fetch, a
comparison against a stand-in for each item), so its timing does not tell it apart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from connectors.base import Row
from errors import BadRequest, GovshareError, InvalidCode, RateLimited, SourceUnavailable, shown
from policies.catalog import Catalog, Resource
from policies.codes import region_of, validate_citizen_id, validate_uscc
from policies.compare import MAX_CLAIM_CHARS, budgets_guesses, claim_problem, matches
from policies.decision import (
    AccessPlan,
    ResourcePlan,
    SubjectAccess,
    needs_grant,
    plan_access,
    subject_access,
)
from policies.share import Mode
from resolvers.context import RequestContext
from resolvers.subjects import admit_capped

log = logging.getLogger("govshare.sources")
MATCH, MISMATCH = "match", "mismatch"
# RequestContext.extra key: refusals a compare event already records (the GraphQL field's);
# the operation's own event (gateway.evidence.own_errors) leaves them out, else it would
# say those items were asked to be READ
RECORDED_ELSEWHERE = "recorded_elsewhere"
_VALIDATORS = {"organization": validate_uscc, "person": validate_citizen_id}
_CODE_NAMES = {"organization": "a USCC (GB 32100)", "person": "a citizen ID (GB 11643)"}


@dataclass(frozen=True)
class CompareRequest:
    """One subject's claims at one resource: item name -> claimed value (text)."""

    resource: Resource
    subject: str  # normalised and validated code
    claims: Mapping[str, str]


@dataclass
class CompareResult:
    """The answer to one ``CompareRequest``. ``found``: None when it is not told (match_only
    with an unknown subject, nothing compared, source unavailable). ``annotations``: item ->
    extra flags (``annotate_items``)."""

    request: CompareRequest
    found: bool | None = None
    items: dict[str, str] = field(default_factory=dict)
    errors: list[GovshareError] = field(default_factory=list)
    annotations: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class CompareAnswer:
    results: list[CompareResult]
    audit_id: str | None


class SubjectRate(Protocol):
    """The consumer's compare rate at a resource (implemented by gateway.compare_rate)."""

    async def take(self, consumer: str, resource: Resource, subjects: int) -> None:
        """Spend ``subjects`` units or raise ``RateLimited`` (``extensions.retryAfter``)."""
        ...

    async def reserve_guess(self, consumer: str, resource: Resource, subject: str, item: str) -> bool:
        """Spend one mismatching claim of the item of the subject before comparing it,
        atomically across processes; False (nothing spent) when none is left."""
        ...

    async def refund_guess(self, consumer: str, resource: Resource, subject: str, item: str) -> None:
        """Give back a reserved claim that did not mismatch (matched, not found, unavailable)."""
        ...


class CompareRecorder(Protocol):
    """Writes the one audit event of a compare call (implemented by gateway.compare)."""

    async def record(self, context: RequestContext, results: Sequence[CompareResult]) -> str | None:
        """The event's id once it is durable; ``AuditUnavailable`` when it cannot be written."""
        ...


# --- reading requests -----------------------------------------------------------------------


def read_request(catalog: Catalog, raw: Any, where: str = "") -> CompareRequest:
    """One ``{"resource", "subject", "claims"}`` object, checked. ``where``: its place in the
    body (``requests[3].``) for messages. Raises ``BadRequest`` naming the field and the fix,
    ``InvalidCode`` for a subject that is not a valid code of the resource's kind."""
    if not isinstance(raw, dict):
        raise _bad(where.rstrip(".") or "(body)", 'must be an object {"resource", "subject", "claims"}')
    unknown = sorted(set(raw) - {"resource", "subject", "claims"})
    if unknown:
        fix = "is not a field of a compare request; use resource, subject, claims"
        raise _bad(f"{where}{unknown[0][:40]}", fix)
    resource = _resource(catalog, raw.get("resource"), f"{where}resource")
    subject = _subject(resource, raw.get("subject"), f"{where}subject")
    return CompareRequest(resource, subject, _claims(resource, raw.get("claims"), f"{where}claims"))


def _bad(at: str, problem: str) -> BadRequest:
    return BadRequest(f"{at} {problem}", field=at)


def _resource(catalog: Catalog, rid: Any, at: str) -> Resource:
    if not isinstance(rid, str) or not rid:
        raise _bad(at, 'must be a resource id, e.g. "amr.enterprise_registration"')
    resource = catalog.resources.get(rid)
    if resource is None:
        offering = ", ".join(r for r, res in catalog.resources.items() if Mode.COMPARE in res.modes)
        raise _bad(at, f"names no resource of the catalog ({shown(rid)}); those offering compare: {offering}")
    if resource.subject not in _VALIDATORS:
        raise _bad(at, f"{rid} has no subject (organization or person) to compare against")
    return resource


def _subject(resource: Resource, code: Any, at: str) -> str:
    kind = resource.subject
    if not isinstance(code, str):
        raise _bad(at, f"must be {_CODE_NAMES[kind]} as a string")
    try:
        return _VALIDATORS[kind](code)
    except InvalidCode as exc:
        raise InvalidCode(f"{at}: {exc.message}", kind=exc.kind, rule=exc.rule, field=at) from None


_TEXT_ONLY = 'must be a string: send numbers, dates and booleans as text, e.g. "1000"'


def _claims(resource: Resource, claims: Any, at: str) -> dict[str, str]:
    if not isinstance(claims, dict) or not claims:
        raise _bad(at, 'must be a non-empty object of item -> claimed value, e.g. {"name": "..."}')
    for name, value in claims.items():
        if name not in resource.items_by_name:
            known = ", ".join(resource.items_by_name)
            raise _bad(f"{at}.{name[:40]}", f"is not an item of {resource.id}; its items: {known}")
        problem = claim_problem(resource, name)
        if problem is not None:
            raise _bad(f"{at}.{name}", problem)
        if not isinstance(value, str):
            raise _bad(f"{at}.{name}", _TEXT_ONLY)
        if len(value) > MAX_CLAIM_CHARS:
            raise _bad(f"{at}.{name}", f"is longer than {MAX_CLAIM_CHARS} characters")
    return dict(claims)


# --- comparing ------------------------------------------------------------------------------


@dataclass(eq=False)
class Comparer:
    """The compare operation, built once per gateway (``Federation.comparer``)."""

    rate: SubjectRate | None = None
    recorder: CompareRecorder | None = None

    async def compare(self, context: RequestContext, requests: Sequence[CompareRequest]) -> CompareAnswer:
        """Every request answered in order (module docstring). Raises ``PurposeRequired``,
        ``RateLimited`` or ``QueryTooComplex`` (the whole call), ``AuditUnavailable``."""
        plan = await _plan(context, requests)
        await self._take(context, requests)
        results = [CompareResult(request) for request in requests]
        accesses = [await _access(context, plan.resources[r.request.resource.id], r) for r in results]
        accesses = [await self._budget(context, r, a) for r, a in zip(results, accesses, strict=True)]
        rows = await _fetch(context, results, accesses)
        await _compare_all(results, accesses, rows)
        await self._refund_guesses(context, results, accesses)
        await annotate_items(context, results)
        audit_id = await self.recorder.record(context, results) if self.recorder else None
        return CompareAnswer(results, audit_id)

    async def _budget(
        self, context: RequestContext, result: CompareResult, access: SubjectAccess
    ) -> SubjectAccess:
        """The access narrowed to the items whose mismatching claims are not used up for this
        subject this hour (``budgets_guesses``). Every claim reserves its unit before anything
        is fetched (a batch of 1000 guesses at one subject, or claims spread over workers at
        the same moment, get no more than the budget); a used-up item is refused, never
        fetched. Claims that do not mismatch get their unit back (``_refund_guesses``)."""
        if self.rate is None:
            return access
        request, denied = result.request, dict(access.denied)
        for name in _budgeted(result, access):
            if not await self.rate.reserve_guess(
                context.consumer.department, request.resource, request.subject, name
            ):
                denied[name] = _guesses_used(request.resource, name)
        if len(denied) == len(access.denied):
            return access
        items = tuple(name for name in access.items if name not in denied)
        return SubjectAccess(items, denied, access.masks, {})

    async def _refund_guesses(
        self, context: RequestContext, results: Sequence[CompareResult], accesses: Sequence[SubjectAccess]
    ) -> None:
        """Give back the units reserved by claims that did not mismatch: a match costs nothing."""
        if self.rate is None:
            return
        for result, access in zip(results, accesses, strict=True):
            request = result.request
            for name in _budgeted(result, access):
                if result.items.get(name) != MISMATCH:
                    await self.rate.refund_guess(
                        context.consumer.department, request.resource, request.subject, name
                    )

    async def _take(self, context: RequestContext, requests: Sequence[CompareRequest]) -> None:
        if self.rate is None:
            return
        counts: dict[str, int] = {}
        for request in requests:  # a resource that does not offer compare compares nothing: free
            if Mode.COMPARE in request.resource.modes:
                counts[request.resource.id] = counts.get(request.resource.id, 0) + 1
        catalog = context.federation.catalog
        for rid, count in counts.items():
            await self.rate.take(context.consumer.department, catalog.resources[rid], count)


async def _plan(context: RequestContext, requests: Sequence[CompareRequest]) -> AccessPlan:
    """The decision for mode compare over every claimed item of the call, made once."""
    wanted: dict[str, set[str]] = {}
    for request in requests:
        wanted.setdefault(request.resource.id, set()).update(request.claims)
    catalog = context.federation.catalog
    needs_grants = any(  # conditional in compare, or unconditional on application (the profile)
        needs_grant(catalog, request.resource.items_by_name[name], Mode.COMPARE)
        for request in requests
        for name in request.claims
    )
    grants = await context.federation.grants.grants_for(context.consumer.department) if needs_grants else ()
    context.extra["wanted"] = {rid: frozenset(names) for rid, names in wanted.items()}
    access = await context.access_request(Mode.COMPARE)  # onboarded read where Sanya art. 12 applies
    return plan_access(access, catalog, wanted, grants)


async def _access(context: RequestContext, plan: ResourcePlan, result: CompareResult) -> SubjectAccess:
    """What may be compared for this subject: the plan narrowed by the grants' conditions
    (divisions, daily caps) as for a read (``resolvers.subjects``)."""
    code = result.request.subject
    if not plan.per_subject:
        return plan.plain
    access = subject_access(plan, region_of(code, kind=_KINDS[plan.resource.subject]))
    if access.capped or access.capped_refusals:
        access = await admit_capped(context, plan, access, code)
    return access


_KINDS: dict[str, Any] = {"organization": "USCC", "person": "CitizenID"}


async def _fetch(
    context: RequestContext, results: Sequence[CompareResult], accesses: Sequence[SubjectAccess]
) -> dict[str, dict[str, Row] | SourceUnavailable]:
    """Per resource, the subjects' rows with only comparable items: one fetch per resource and
    item set, so that a subject's row is asked (and kept in the row cache) with the items it may
    be compared on, never another subject's (a grant scoped to divisions allows an item for some
    subjects only); ``ResourceSource`` still makes one source call of one tick's fetches. A source
    that fails is that resource's ``SourceUnavailable`` (the others still answer)."""
    wanted = _wanted_rows(results, accesses)
    sources = context.federation.sources
    calls = [sources[rid].fetch(list(codes), sorted(items)) for (rid, items), codes in wanted.items()]
    fetched = await asyncio.gather(*calls, return_exceptions=True)
    _note_subjects(context, _by_resource(wanted))
    rows: dict[str, dict[str, Row] | SourceUnavailable] = {}
    for (rid, _), outcome in zip(wanted, fetched, strict=True):
        if isinstance(outcome, SourceUnavailable):  # a failing department is the operator's business
            log.warning("source unavailable for compare: %s (%r)", outcome.message, outcome.__cause__)
            rows[rid] = outcome
        elif isinstance(outcome, BaseException):
            raise outcome
        elif not isinstance(rows.get(rid), SourceUnavailable):
            rows.setdefault(rid, {}).update(outcome)  # type: ignore[union-attr]
    return rows


def _wanted_rows(
    results: Sequence[CompareResult], accesses: Sequence[SubjectAccess]
) -> dict[tuple[str, frozenset[str]], dict[str, None]]:
    """(resource, items to fetch) -> subjects (in order, once each) with exactly those items."""
    wanted: dict[tuple[str, frozenset[str]], dict[str, None]] = {}
    items: dict[tuple[str, str], set[str]] = {}
    for result, access in zip(results, accesses, strict=True):
        names = [name for name in result.request.claims if name in access.items]
        if names:
            items.setdefault((result.request.resource.id, result.request.subject), set()).update(names)
    for (rid, subject), comparable in items.items():
        wanted.setdefault((rid, frozenset(comparable)), {})[subject] = None
    return wanted


def _by_resource(
    wanted: Mapping[tuple[str, frozenset[str]], Mapping[str, None]],
) -> dict[str, dict[str, None]]:
    found: dict[str, dict[str, None]] = {}
    for (rid, _), codes in wanted.items():
        found.setdefault(rid, {}).update(codes)
    return found


def _note_subjects(context: RequestContext, keys: Mapping[str, Mapping[str, None]]) -> None:
    """Where each subject was looked up: a provider's audit view shows only its own."""
    for rid, codes in keys.items():
        context.extra.setdefault("subjects_at", {}).setdefault(rid, []).extend(codes)
    for codes in keys.values():
        context.subjects.extend(codes)


_SLICE = 0.005  # seconds of comparing before other requests get the event loop


async def _compare_all(
    results: Sequence[CompareResult],
    accesses: Sequence[SubjectAccess],
    rows: Mapping[str, dict[str, Row] | SourceUnavailable],
) -> None:
    """Every comparison, letting the event loop run others every ``_SLICE`` seconds: a batch
    of claims that are costly to normalise (NFKC makes U+FDFA 18 characters) takes up to a
    second of CPU, and one request must never stall the others."""
    loop = asyncio.get_running_loop()
    until = loop.time() + _SLICE
    for result, access in zip(results, accesses, strict=True):
        _compare(result, access, rows.get(result.request.resource.id))
        if loop.time() > until:
            await asyncio.sleep(0)
            until = loop.time() + _SLICE


def _compare(
    result: CompareResult, access: SubjectAccess, rows: dict[str, Row] | SourceUnavailable | None
) -> None:
    request = result.request
    resource = request.resource
    compared = [name for name in request.claims if name in access.items]
    result.errors = [access.denied[name] for name in request.claims if name not in access.items]
    if not compared:
        return
    if isinstance(rows, SourceUnavailable) or rows is None:
        result.errors += [_unavailable(resource, name) for name in compared]
        return
    row = rows.get(request.subject)
    found = row is not None
    held: Row = row or {}
    for name in compared:  # an unknown subject is compared too, against nothing: same steps
        same = matches(request.claims[name], held.get(name), resource.items_by_name[name])
        result.items[name] = MATCH if same and found else MISMATCH
    result.found = found if resource.compare_disclosure == "full" else None


def _where(request: CompareRequest, name: str) -> tuple[Resource, str, str]:
    return request.resource, request.subject, name


def _budgeted(result: CompareResult, access: SubjectAccess) -> list[str]:
    """The claimed items the access lets be compared whose mismatches the guess budget counts."""
    items = result.request.resource.items_by_name
    return [n for n in result.request.claims if n in access.items and budgets_guesses(items[n])]


def _guesses_used(resource: Resource, name: str) -> RateLimited:
    return RateLimited(
        f"{resource.id}.{name}: too many mismatching claims of this item of this subject this "
        "hour (GOVSHARE_COMPARE_GUESSES); compare the value you hold, or read it under a grant",
        resource=resource.id,
        item=name,
        provider=resource.provider,
        reasons=["compare_guesses"],
    )


def _unavailable(resource: Resource, name: str) -> SourceUnavailable:
    return SourceUnavailable(
        f"{resource.id}: the providing department's source is unavailable; retry later",
        resource=resource.id,
        item=name,
        provider=resource.provider,
    )


async def annotate_items(context: RequestContext, results: Sequence[CompareResult]) -> None:
    """THE one place where per-item annotations are added to compare answers, after the
    comparisons and before the audit event: each ``result.annotations[item]`` is a dict of
    flags answered beside the item (``POST /compare``: ``"annotations": {item: {...}}``;
    GraphQL: ``CompareItem.annotations``). Objections (issue 8 section 3; Hubei art. 23): an
    item compared while an objection on (resource, subject, item) is open gets
    ``{"disputed": true, "objection": id}``; one lookup for the whole batch. Not on a
    ``compare_disclosure: match_only`` resource: a mark would tell a known subject from an
    unknown one, which that setting hides."""
    service = context.federation.objections
    pairs = {(r.request.resource.id, r.request.subject) for r in results if _markable(r)}
    found = await service.open_for(pairs) if service is not None and pairs else {}
    for result in results if found else ():
        disputed = found.get((result.request.resource.id, result.request.subject), {})
        for item, objection in disputed.items():
            if item in result.items:
                result.annotations[item] = {"disputed": True, "objection": objection}


def _markable(result: CompareResult) -> bool:
    return bool(result.items) and result.request.resource.compare_disclosure != "match_only"
