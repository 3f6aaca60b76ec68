"""``GET /export/{resource}``: bulk copy and file download (批量复制 / 文件下载, Zhejiang art. 27;
Shanghai art. 15), and the offline exchange package (离线交换).

Query parameters (``EXPORT_PARAMETERS``, each at most once): ``items`` (comma-separated item names, required),
``format`` (``ndjson`` default, ``csv``, ``package``), ``since`` (ISO 8601; rows changed
at or after it, by the source's ``updated_at``; no offset = China time), ``after`` (a subject
key: rows after it, to resume), ``limit`` (at most this many rows), ``bom=1`` and
``titles=1`` (CSV: a UTF-8 BOM; Chinese titles as the header), ``data`` (``ndjson`` or
``csv``: the data file of a package). Headers: ``Authorization``, ``X-Purpose``, optionally
``X-Request-User`` and ``X-Application-Id``.

Order of work: authenticate (401), read the parameters (400 naming the parameter and the
fix), decide every item in mode bulk (``policies.bulk.plan_export``; 403 listing every
refusal with the code and detail a GraphQL field error carries), record the start event
(503 AUDIT_UNAVAILABLE if it cannot be), then stream (``gateway.export_stream``). The end
event (rows, last key, keyed digest of the bytes sent; ``partial`` when the client went
away) is recorded before the stream's last chunk. Every refusal after authentication is an
audit event (kind ``export``, mode ``bulk``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from errors import AuditUnavailable, BadRequest, GovshareError, shown
from gateway import evidence
from gateway.audit import AuditEvent, AuditLog
from gateway.export_stream import (
    CSVEncoder,
    ExportJob,
    ExportResponse,
    PageAnnotator,
    Piece,
    Sent,
    csv_pieces,
    ndjson_pieces,
)
from gateway.http import JSONResponse, authenticate, gateway_of, header_value, refuse_forwarding
from gateway.objections import DisputedRows, Objections
from gateway.package import PackageHeader, package_pieces
from policies.bulk import ExportPlan, plan_export, still_granted
from policies.catalog import Resource
from policies.chinatime import CHINA_TIME, parse_instant
from policies.decision import AccessRequest, Consumer, canonical_purpose
from policies.share import Mode

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from gateway.app import Gateway

EXPORT_PARAMETERS = ("items", "format", "since", "after", "limit", "bom", "titles", "data")
FORMATS = ("ndjson", "csv", "package")
MEDIA_TYPES = {
    "ndjson": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8; header=present",  # RFC 4180 section 3
    "package": "application/zip",
}
EXTENSIONS = {"ndjson": "ndjson", "csv": "csv", "package": "zip"}
MAX_KEY_LENGTH = 64  # an ``after`` key longer than any subject code is a mistake
MAX_LIMIT = 1_000_000_000
_FLAGS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


@dataclass(frozen=True)
class ExportParams:
    """The query parameters of one export, checked (``read_params``)."""

    resource: Resource
    items: tuple[str, ...]
    format: str = "ndjson"
    data: str = "ndjson"  # the data file's format inside a package
    since: dt.datetime | None = None  # aware UTC
    after: str | None = None
    limit: int | None = None
    bom: bool = False
    titles: bool = False

    def filters(self) -> dict[str, Any]:
        """The filters as recorded (audit, manifest): only those given."""
        found = {
            "since": self.since.isoformat() if self.since else None,
            "after": self.after,
            "limit": self.limit,
        }
        return {name: value for name, value in found.items() if value is not None}

    @property
    def text_format(self) -> str:
        return self.data if self.format == "package" else self.format


def read_params(
    resources: Mapping[str, Resource], resource_id: str, query: Mapping[str, str]
) -> ExportParams:
    """Check every parameter; raises ``BadRequest`` whose ``extensions.parameter`` names the
    one at fault, and whose message says how to fix it."""
    unknown = sorted(set(query) - set(EXPORT_PARAMETERS))
    if unknown:
        raise _bad(unknown[0], f"unknown parameter {shown(unknown[0])}; use: {', '.join(EXPORT_PARAMETERS)}")
    resource = resources.get(resource_id)
    if resource is None:
        raise _bad(
            "resource", f"unknown resource {shown(resource_id)}; see the catalog query for resource ids"
        )
    params = ExportParams(
        resource,
        _items(resource, query.get("items")),
        _choice(query, "format", FORMATS),
        _choice(query, "data", ("ndjson", "csv")),
        _since(query.get("since")),
        _after(query.get("after")),
        _limit(query.get("limit")),
        _flag(query, "bom"),
        _flag(query, "titles"),
    )
    _check_applies(params, query)
    return params


def _check_applies(params: ExportParams, query: Mapping[str, str]) -> None:
    """A parameter the format has no use for is a mistake, not silently ignored: titles
    asked with NDJSON would otherwise come back without them."""
    if "data" in query and params.format != "package":
        raise _bad("data", "data= names the data file of a package: send it with format=package")
    for name in ("bom", "titles"):
        if getattr(params, name) and params.text_format != "csv":
            raise _bad(name, f"{name}=1 applies to CSV: send format=csv (or format=package&data=csv)")


def single_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The query's parameters as a mapping; raises ``BadRequest`` naming a parameter sent more
    than once (which value counts would be a guess: Starlette keeps the last, a proxy or a log
    reader may take the first; as ``POST /oauth/token``, RFC 6749 section 3.2)."""
    query: dict[str, str] = {}
    for name, value in pairs:
        if name in query:
            raise _bad(name, f"the parameter {shown(name)} is sent more than once; send it once "
                       "(items takes a comma-separated list: items=a,b)")  # fmt: skip
        query[name] = value
    return query


def _bad(parameter: str, message: str) -> BadRequest:
    return BadRequest(message, parameter=parameter)


def _items(resource: Resource, raw: str | None) -> tuple[str, ...]:
    names = [name.strip() for name in (raw or "").split(",") if name.strip()]
    known = ", ".join(resource.items_by_name)
    if not names:
        raise _bad(
            "items", f"name the items to export: items=a,b (comma-separated); {resource.id} has: {known}"
        )
    for name in names:
        if name not in resource.items_by_name:
            raise _bad("items", f"{resource.id} has no item {shown(name)}; it has: {known}")
    return tuple(dict.fromkeys(names))


def _choice(query: Mapping[str, str], name: str, options: tuple[str, ...]) -> str:
    value = query.get(name, options[0]).strip().lower()
    if value not in options:
        raise _bad(name, f"{name}={shown(query[name])} is not supported; use one of: {', '.join(options)}")
    return value


def _since(raw: str | None) -> dt.datetime | None:
    if raw is None:
        return None
    try:
        return parse_instant(raw, "since")
    except BadRequest as exc:
        raise _bad("since", exc.message) from exc


def _after(raw: str | None) -> str | None:
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise _bad("after", f"after={shown(raw)} is not a subject key; send the key of the last row received "
                   f"(at most {MAX_KEY_LENGTH} visible characters)")  # fmt: skip
    return key


def _limit(raw: str | None) -> int | None:
    if raw is None:
        return None
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_LIMIT:  # "²" is a digit
        raise _bad(
            "limit", f"limit={shown(raw)} is not a row count; send a whole number from 1 to {MAX_LIMIT:,}"
        )
    return int(text)


def _flag(query: Mapping[str, str], name: str) -> bool:
    raw = query.get(name, "0").strip().lower()
    if raw not in _FLAGS:
        raise _bad(name, f"{name}={shown(query[name])} is not a flag; send {name}=1 or {name}=0")
    return _FLAGS[raw]


# --- the endpoint -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """Who asks and why: the consumer and the headers an export reads."""

    consumer: Consumer
    purpose: str | None
    user: str | None
    application: str | None


async def export_endpoint(request: Request) -> Response:
    if request.method != "GET":  # Starlette adds HEAD to a GET route: it would run the export for nothing
        refusal = refused(BadRequest("an export is read with GET only"))
        refusal.status_code, refusal.headers["Allow"] = 405, "GET"
        return refusal
    try:
        consumer = await authenticate(request)
    except GovshareError as exc:  # no accountable caller: not audited (gateway.evidence)
        return refused(exc)
    gateway = gateway_of(request)
    rid = request.path_params["resource"]
    caller: Caller | None = None
    try:
        refuse_forwarding(request)
        caller = _caller(request, consumer)
        query = single_values(request.query_params.multi_items())
        params = read_params(gateway.catalog.resources, rid, query)
        plan = await _plan(gateway, caller, params)
    except GovshareError as exc:
        await _record_refusal(gateway.audit, consumer, caller, exc)
        return refused(exc)
    if plan.refusals:
        await evidence.record_refusal(gateway.audit, _refused_plan(caller, plan))
        return refused(*plan.refusals)
    try:
        start_id = await _record_start(gateway.audit, caller, params, plan)
    except AuditUnavailable as exc:  # fail closed: nothing leaves unaudited
        return refused(exc)
    return _response(gateway, caller, params, plan, start_id)


def refused(*errors: GovshareError) -> Response:
    """``{"errors": [{message, extensions}]}`` as a GraphQL error list; the first one's status."""
    body = {"errors": [{"message": e.message, "extensions": dict(e.extensions)} for e in errors]}
    return JSONResponse(body, errors[0].status)


def _caller(request: Request, consumer: Consumer) -> Caller:
    headers = request.headers
    purpose = header_value(headers, "x-purpose")
    return Caller(
        consumer,
        canonical_purpose(purpose) if purpose is not None else None,
        header_value(headers, "x-request-user"),
        header_value(headers, "x-application-id"),
    )


async def _plan(gateway: Gateway, caller: Caller, params: ExportParams) -> ExportPlan:
    grants = await gateway.federation.grants.grants_for(caller.consumer.department)
    onboarding = gateway.federation.onboarding  # Sanya art. 12: plan_access refuses the others
    onboarded = onboarding is not None and await onboarding.onboarded(caller.consumer.department)
    access = AccessRequest(
        caller.consumer, caller.purpose, Mode.BULK, dt.datetime.now(dt.UTC), caller.application, onboarded
    )
    plan = plan_export(access, gateway.catalog, params.resource.id, params.items, grants)
    if params.since is not None and not gateway.federation.sources[params.resource.id].binding.updated_at:
        raise _bad("since", f"{params.resource.id} has no change stamp (source updated_at), so since= cannot "
                   "select changed rows; export without since")  # fmt: skip
    return plan


def _job(gateway: Gateway, params: ExportParams, plan: ExportPlan) -> ExportJob:
    since = params.since.astimezone(CHINA_TIME).replace(tzinfo=None) if params.since else None
    today = dt.datetime.now(CHINA_TIME).date()
    source = gateway.federation.sources[params.resource.id]
    # per-row annotations (objections' ``_disputed`` list) join here as PageAnnotators:
    # ExportJob.annotators, applied by gateway.export_stream.annotate_page to each page
    objections = gateway.federation.objections
    annotators: tuple[PageAnnotator, ...] = (
        (DisputedRows(objections),) if isinstance(objections, Objections) else ()
    )
    recheck = _recheck(gateway, plan)  # a grant revoked, or the item withdrawn from the catalog
    return ExportJob(
        plan, source, gateway.federation.grants, today, params.after, since, params.limit, annotators, recheck
    )


def _recheck(gateway: Gateway, plan: ExportPlan) -> Callable[[], Awaitable[None]]:
    """The export's grants read again and the decision re-made (``still_granted``) on the
    catalog served now, after catching up with one published elsewhere (``keep_current``:
    CATALOG_OUT_OF_DATE while this process cannot); raises the refusal that ends it. A
    revocation or a withdrawal is effective at once, also for a long export."""

    live = gateway.live or gateway  # the catalog served now, not the one the export began on
    started = gateway.catalog  # the one it was planned on (the request's snapshot)

    async def recheck() -> None:
        await live.keep_current()  # a withdrawal published by another process: this page sees it
        catalog = live.catalog
        if not plan.plan.relied and catalog is started:  # unconditional, no catalog swap: nothing to lose
            return
        grants = await gateway.federation.grants.grants_for(plan.request.consumer.department)
        refusal = still_granted(plan, catalog, grants, dt.datetime.now(dt.UTC))
        if refusal is not None:
            raise refusal

    return recheck


def _response(
    gateway: Gateway, caller: Caller, params: ExportParams, plan: ExportPlan, start_id: str
) -> Response:
    job = _job(gateway, params, plan)
    encoder = _csv_encoder(params, plan) if params.text_format == "csv" else None
    pieces: AsyncIterator[Piece]
    if params.format == "package":
        header = _package_header(caller, params, plan, start_id)
        pieces = package_pieces(job, header, gateway.signer, encoder)
    elif encoder is not None:
        pieces = csv_pieces(job, encoder)
    else:
        pieces = ndjson_pieces(job)
    audit = gateway.audit
    sent = Sent(hasher=audit.keyed_hasher() if audit is not None else None)

    async def finish(done: Sent) -> None:
        await _record_end(audit, caller, params, plan, start_id, job, done)

    filename = f"{params.resource.id}.{EXTENSIONS[params.format]}"
    headers = {
        "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Export-Audit-Id": start_id,
    }
    return ExportResponse(pieces, headers, MEDIA_TYPES[params.format], finish, sent)


def _csv_encoder(params: ExportParams, plan: ExportPlan) -> CSVEncoder:
    items = plan.resource.items_by_name
    header = [items[name].title for name in plan.items] if params.titles else list(plan.items)
    return CSVEncoder(plan.items, header, params.bom)


def _package_header(caller: Caller, params: ExportParams, plan: ExportPlan, start_id: str) -> PackageHeader:
    resource = plan.resource
    return PackageHeader(
        resource={
            "id": resource.id,
            "name": resource.name,
            "provider": resource.provider,
            "code": resource.code,
        },
        items=list(plan.items),
        titles={name: resource.items_by_name[name].title for name in plan.items},
        filters=params.filters(),
        consumer=caller.consumer.department,
        client=caller.consumer.client_id,
        purpose=caller.purpose,
        grants=list(plan.grants),
        audit_id=start_id,
        data_format=params.data,
        extra={"bom": params.bom, "titles": params.titles} if params.data == "csv" else {},
    )


# --- audit ------------------------------------------------------------------------------------


def _event(caller: Caller, plan: ExportPlan, outcome: str, **fields: Any) -> AuditEvent:
    rid = plan.resource.id
    return AuditEvent(
        kind="export",
        outcome=outcome,
        consumer=caller.consumer.department,
        client=caller.consumer.client_id,
        user=caller.user,
        purpose=caller.purpose,
        application=caller.application,
        mode="bulk",
        resources=(rid,),
        items=tuple(f"{rid}.{name}" for name in plan.items),
        **fields,
    )


async def _record_start(
    audit: AuditLog | None, caller: Caller, params: ExportParams, plan: ExportPlan
) -> str:
    """The start event, durably; its id names the export (header, manifest, end event)."""
    if audit is None:
        return "unaudited"
    decisions = {f"{plan.resource.id}.{name}": evidence.ALLOWED for name in plan.items}
    detail = {"format": params.format, "filters": params.filters(), "grants": list(plan.grants)}
    if params.format == "package":
        detail["data"] = params.data
    receipt = await audit.append(_event(caller, plan, "started", decisions=decisions, detail=detail))
    return receipt.id


async def _record_end(
    audit: AuditLog | None,
    caller: Caller,
    params: ExportParams,
    plan: ExportPlan,
    start_id: str,
    job: ExportJob,
    sent: Sent,
) -> None:
    """The end event: rows and bytes sent, key range, keyed digest of the bytes; ``partial``
    when the client went away (the counts are what reached the server)."""
    if audit is None:
        return
    detail: dict[str, Any] = {"start": start_id, "format": params.format, "filters": params.filters(),
                              "rows": sent.rows, "bytes": sent.bytes, "lastKey": sent.last_key,
                              "keyRange": [sent.first_key, sent.last_key],
                              "leftOut": job.left_out}  # fmt: skip
    if job.stopped:
        detail["stopped"] = job.stopped
    digest = sent.hasher.hexdigest() if sent.hasher is not None else None
    decisions = {f"{plan.resource.id}.{name}": _end_decision(sent) for name in plan.items}
    event = _event(caller, plan, sent.outcome, decisions=decisions, response_digest=digest, detail=detail)
    await audit.append(event)


def _end_decision(sent: Sent) -> str:
    """``ALLOWED``; an export cut by an error (a source down, a cap) carries its code, after
    ``ALLOWED|`` when rows were sent all the same (as a per-subject refusal in a query)."""
    if sent.outcome in ("answered", "partial"):
        return evidence.ALLOWED
    return f"{evidence.ALLOWED}|{sent.outcome}" if sent.rows else sent.outcome


def _refused_plan(caller: Caller | None, plan: ExportPlan) -> AuditEvent:
    assert caller is not None
    first = plan.refusals[0].code
    decisions = {evidence.REQUEST: first}
    for name in plan.items:
        error = plan.plan.denied.get(name)
        decisions[f"{plan.resource.id}.{name}"] = error.code if error is not None else first
    detail = {"refused": first, "codes": sorted({e.code for e in plan.refusals})}
    return _event(caller, plan, "refused", decisions=decisions, detail=detail)


async def _record_refusal(
    audit: AuditLog | None, consumer: Consumer, caller: Caller | None, error: GovshareError
) -> None:
    """A refusal before the plan (a header, a parameter, no purpose): an export event."""
    event = evidence.refused_request(
        consumer,
        error,
        purpose=caller.purpose if caller else None,
        user=caller.user if caller else None,
        application=caller.application if caller else None,
    )
    await evidence.record_refusal(audit, dataclasses.replace(event, kind="export", mode="bulk"))
