"""The catalog store: the resource catalog (资源目录) kept in the platform database, entry by
entry, with every version (issue 11 §1-2; rules in :mod:`policies.catalog_workflow`).

Tables (created with the platform database's others):

- ``catalog_entries``: one row per entry, keyed ``(resource, item)``; ``item`` is ``""``
  for the resource's own fields (its *header*: every key of the YAML resource but
  ``items``). ``published`` holds the body the catalog serves (the YAML mapping as read:
  dates as text, ``${NAME}`` secrets unresolved), ``proposed`` a pending change (draft,
  submitted, approved or returned), ``state`` the entry's state, ``version`` how many times
  it was published, ``position`` its place for export.
- ``catalog_events``: the history, append-only: who (department, client, user), what
  (action, the body proposed or published, the keys changed), when, why (reasons).
- ``catalog_meta``: the profile, the departments (imported, operator-managed), and the last
  import (source path, SHA-256 of its files) with whether the workflow published since.

The published catalog is rebuilt from the published bodies and validated by
:func:`policies.catalog.catalog_from_documents`, the checks of ``load_catalog``, every problem
at once: a draft, a publication or a withdrawal that would leave an invalid catalog is
refused whole (BadRequest listing each problem) and nothing is stored.

**Start-up** (:meth:`CatalogStore.ensure`): a database without a catalog imports the
configured YAML (``GOVSHARE_CATALOG`` / ``--catalog``) as the published version. Later, the
file is imported again on start only when it changed since its last import AND nothing was
published through the workflow since; otherwise the stored catalog is served and a warning
says how to replace it (``govshare catalog import PATH``, which keeps every earlier version
in the history). Database edits are never overwritten silently.

**Publication** calls the injected ``on_publish(catalog)`` (async) after the transaction
commits: the gateway swaps its schema there (``Gateway.swap_catalog``). Every transaction
that changes what is published (a publication, a withdrawal, an import: a ``published`` body,
the profile or the departments) also bumps the catalog's generation
(``gateway.platform.CATALOG``) before it commits: every other process and host, and a
gateway running while the CLI publishes, follows it on its next request
(gateway.catalog_follow).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from errors import BadRequest, CatalogError, CatalogErrors, InvalidCode
from gateway.audit import AuditEvent, AuditLog
from gateway.platform import CATALOG, Base, PlatformDB, PlatformSession, UTCDateTime, bump_generation
from policies.catalog import Catalog, catalog_from_documents, read_catalog_documents
from policies.catalog_impact import Impact, impact
from policies.catalog_workflow import (
    PENDING,
    Action,
    EntryState,
    change_due,
    change_overdue,
    changed_keys,
    entry_id,
    may_read,
    next_state,
    reasons_for,
    require_may,
    require_other_reviewer,
    require_reader,
    require_role,
)
from policies.chinatime import today_in_china, utc_now
from policies.codes import validate_uscc
from policies.decision import Consumer
from policies.profile import Profile, load_profile
from policies.timeliness import judge_review
from policies.workdays import WorkdayCalendar
from policies.workflow import Actor

log = logging.getLogger("govshare.catalog")
HEADER = ""  # the item key of a resource's own fields
OnPublish = Callable[[Catalog], Awaitable[None]]
CheckSource = Callable[[Catalog, str], Awaitable[None]]  # CatalogError: a resource it cannot serve
SYSTEM = Actor(Consumer("govshare", "govshare", frozenset({"operator"})))  # start-up and CLI imports


class CatalogEntryRow(Base):
    __tablename__ = "catalog_entries"

    resource: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    item: Mapped[str] = mapped_column(sa.String(128), primary_key=True)  # "" = the resource's header
    provider: Mapped[str] = mapped_column(sa.String(18), index=True)
    position: Mapped[int] = mapped_column(sa.Integer)
    state: Mapped[str] = mapped_column(sa.String(16))
    version: Mapped[int] = mapped_column(sa.Integer, default=0)
    published: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    proposed: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)
    reasons: Mapped[list[str] | None] = mapped_column(sa.JSON, nullable=True)  # of the last return
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CatalogEventRow(Base):
    __tablename__ = "catalog_events"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    resource: Mapped[str] = mapped_column(sa.String(128), index=True)
    item: Mapped[str] = mapped_column(sa.String(128))
    action: Mapped[str] = mapped_column(sa.String(16))
    state: Mapped[str] = mapped_column(sa.String(16))
    version: Mapped[int] = mapped_column(sa.Integer)
    department: Mapped[str] = mapped_column(sa.String(64))
    client: Mapped[str] = mapped_column(sa.String(64))
    user: Mapped[str | None] = mapped_column(sa.String(500), nullable=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reasons: Mapped[list[str]] = mapped_column(sa.JSON)
    changed: Mapped[list[str]] = mapped_column(sa.JSON)
    body: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, nullable=True)


class CatalogMetaRow(Base):
    __tablename__ = "catalog_meta"

    key: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    value: Mapped[Any] = mapped_column(sa.JSON)


@dataclass(frozen=True)
class EntryView:
    """One entry as the register shows it: ``item`` None for the resource's header; ``due``
    the last day to publish a submitted change (Shanghai art. 10), ``overdue`` past it."""

    resource: str
    item: str | None
    provider: str
    state: EntryState
    version: int
    published: Mapping[str, Any] | None
    proposed: Mapping[str, Any] | None
    reasons: tuple[str, ...]
    submitted_at: dt.datetime | None
    updated_at: dt.datetime
    due: dt.date | None = None
    overdue: bool = False
    upkeep_due: dt.date | None = None  # a resource's next yearly upkeep (header entries only)
    upkeep_overdue: bool | None = None  # None where the profile sets no yearly upkeep


@dataclass(frozen=True)
class EventView:
    """One step of an entry's history: who, what (action, body, keys changed), when, why."""

    resource: str
    item: str | None
    action: str
    state: str
    version: int
    department: str
    client: str
    user: str | None
    at: dt.datetime
    reasons: tuple[str, ...]
    changed: tuple[str, ...]
    body: Mapping[str, Any] | None


@dataclass(frozen=True)
class ImportResult:
    """What an import changed: entries published anew, withdrawn, unchanged."""

    published: int
    withdrawn: int
    unchanged: int
    catalog: Catalog


@dataclass
class _Register:
    """Every entry row, read in one transaction, by key."""

    rows: dict[tuple[str, str], CatalogEntryRow] = field(default_factory=dict)

    def of(self, resource: str) -> list[CatalogEntryRow]:
        return sorted((r for r in self.rows.values() if r.resource == resource), key=_row_order)

    def grouped(self) -> dict[str, list[CatalogEntryRow]]:
        """Every resource's rows in ``of``'s order, in one pass over the register (``of`` for
        each resource would read every row once per resource)."""
        groups: dict[str, list[CatalogEntryRow]] = {}
        for row in self.rows.values():
            groups.setdefault(row.resource, []).append(row)
        for rows in groups.values():
            rows.sort(key=_row_order)
        return groups


def _row_order(row: CatalogEntryRow) -> tuple[int, str]:
    return (-1 if row.item == HEADER else row.position, row.item)


class CatalogStore:
    """The stored catalog over a ``PlatformDB``; see the module docs. ``calendar`` counts the
    working days of Shanghai art. 10's limit; ``on_publish`` is awaited with each newly
    published catalog (after commit)."""

    def __init__(
        self,
        platform: PlatformDB,
        calendar: WorkdayCalendar | None = None,
        on_publish: OnPublish | None = None,
    ) -> None:
        self.platform = platform
        self.calendar = calendar or WorkdayCalendar()
        self.on_publish = on_publish
        self.profile: Profile | None = None  # the served catalog's: its time limits date changes
        self.audit: AuditLog | None = None  # every step recorded once committed (kind workflow)
        self._lock = asyncio.Lock()  # one change of the published catalog at a time per process
        # the gateway's check that the provider's connector binds a resource's source (its
        # keys, table, relative URL): a draft or publication it refuses is never stored
        self.check_source: CheckSource | None = None

    # --- the published catalog ----------------------------------------------------------

    async def has_catalog(self) -> bool:
        async with self.platform.session() as session:
            return await session.get(CatalogMetaRow, "profile") is not None

    async def published_catalog(self) -> Catalog:
        """The published catalog, validated (CatalogErrors if the store was corrupted by hand)."""
        async with self.platform.session() as session:
            return catalog_from_documents(await _documents(session, _published))

    async def export_yaml(self) -> bytes:
        """The published catalog as one YAML document (UTF-8): profile, departments, resources
        with their items, in stored order; the same bytes for the same catalog."""
        async with self.platform.session() as session:
            meta = await _meta(session)
            register = await _read_register(session)
        document = {
            "profile": meta["profile"],
            "departments": meta["departments"],
            "resources": _resources(register, _published),
        }
        return dump_yaml(document)

    async def fingerprint(self) -> dict[str, Any]:
        """What the audit trail records of the catalog in force: ``files`` (the last imported
        file or folder and its SHA-256) and ``stored`` (SHA-256 of the published catalog's
        export, which changes with every publication)."""
        async with self.platform.session() as session:
            last = (await _meta(session)).get("import") or {}
        stored = hashlib.sha256(await self.export_yaml()).hexdigest()
        return {"files": {last["source"]: last["digest"]} if last else {}, "stored": stored}

    # --- import -------------------------------------------------------------------------

    async def ensure(self, path: Path) -> Catalog:
        """The catalog to serve at start-up: the configured file imported when the store has
        none, or when the file changed since its import and nothing was published through
        the workflow since (module docs); else the stored one, with a warning if the file
        differs."""
        async with self.platform.session() as session:
            meta = await _meta(session, required=False)
        last = meta.get("import") or {}
        fresh = meta.get("profile") is None
        if fresh or (path.exists() and last.get("digest") != files_digest(path)):
            if fresh or not last.get("edited"):
                return await self._import_at_start(path)
            log.warning(
                "catalog %s changed since its import, but entries were published through the "
                "workflow since: serving the stored catalog; `govshare catalog import %s` replaces "
                "it (earlier versions stay in the history)", path, path,
            )  # fmt: skip
        catalog = await self.published_catalog()
        self.use_profile(catalog.profile)
        return catalog

    async def _import_at_start(self, path: Path) -> Catalog:
        try:
            return (await self.import_catalog(path, SYSTEM)).catalog
        except sa.exc.IntegrityError:  # another process of the same database imported it first
            return await self.published_catalog()

    async def import_catalog(self, path: Path, actor: Actor) -> ImportResult:
        """Import a catalog file or folder as the published version: validated exactly as
        ``load_catalog`` does (CatalogError / CatalogErrors naming file and path, nothing
        stored); entries it lacks are withdrawn, pending changes stay for review."""
        documents = read_catalog_documents(path)
        joined = _joined(documents)
        async with self._lock, self.platform.session.begin() as session:
            counts = await _apply_import(session, joined, actor)
            await _set_meta(session, "profile", joined["profile"])
            await _set_meta(session, "departments", joined["departments"])
            record = {"source": str(path), "digest": files_digest(path), "edited": False}
            await _set_meta(session, "import", record)
            catalog = catalog_from_documents(await _documents(session, _published))
        self.use_profile(catalog.profile)  # no on_publish: imports happen before a gateway serves
        return ImportResult(*counts, catalog=catalog)

    # --- the workflow -------------------------------------------------------------------

    async def draft(self, actor: Actor, body: Mapping[str, Any], reason: str = "") -> list[EntryView]:
        """Draft a new resource or a change of one: ``body`` is the resource as in the YAML
        catalog (``items`` optional for a change of its own fields only). The header is always
        drafted (a change, or a yearly upkeep confirming it unchanged), items when new or
        changed. The catalog the drafts would make is validated now: BadRequest listing every
        problem, Forbidden for another department's resource."""
        rid, header, items = _split_body(body)
        async with self._lock, self.platform.session.begin() as session:
            register = await _read_register(session, for_update=True)
            existing = register.rows.get((rid, HEADER))
            for provider in _providers(existing, header.get("provider"), actor.consumer.department):
                require_may(actor.consumer, Action.DRAFT, provider, f"resource {rid}")
            changed = _draft_rows(register, rid, header, items, actor)
            await self._check_source(await _validate(session, register, _with_pending(rid)), rid)
            for row in changed:
                session.add(row)
                session.add(
                    _event(row, Action.DRAFT, actor, [reason] if reason.strip() else [], row.proposed)
                )
            views = [self._view(row) for row in register.of(rid) if row in changed]
        await self._audit_step(actor, Action.DRAFT, views)
        return views

    async def submit(self, actor: Actor, resource: str) -> list[EntryView]:
        """Submit every draft entry of ``resource`` for review (its provider only)."""
        require_role(actor.consumer, Action.SUBMIT)  # before the lookup: no existence oracle
        entry_id(resource, "resource")
        async with self._lock, self.platform.session.begin() as session:
            register = await _read_register(session, for_update=True)
            require_may(actor.consumer, Action.SUBMIT, _provider(register, resource), f"resource {resource}")
            rows = [row for row in _of_resource(register, resource) if row.state == EntryState.DRAFT]
            if not rows:
                raise BadRequest(f"resource {resource} has no draft entries to submit; draft a change first")
            for row in rows:
                _move(row, Action.SUBMIT)
                row.submitted_at = utc_now()
                session.add(_event(row, Action.SUBMIT, actor, [], row.proposed))
            views = [self._view(row) for row in rows]
        await self._audit_step(actor, Action.SUBMIT, views)
        return views

    async def review(
        self, actor: Actor, resource: str, item: str | None, approve: bool, reasons: Sequence[str]
    ) -> EntryView:
        """The reviewer's verdict on ONE submitted entry (Shanghai art. 10, 逐条审核): approved
        (awaiting publication) or returned to the provider with reasons."""
        action = Action.APPROVE if approve else Action.RETURN
        require_may(actor.consumer, action, "")
        _ids(resource, item)
        cleaned = reasons_for(action, reasons)
        async with self._lock, self.platform.session.begin() as session:
            row = await _entry(session, resource, item)
            _move(row, action)
            require_other_reviewer(_author(actor), await _authors(session, row))
            row.reasons = list(cleaned) if action is Action.RETURN else None
            session.add(_event(row, action, actor, cleaned, row.proposed))
            view = self._view(row)
        await self._audit_step(actor, action, [view])
        return view

    async def publish(self, actor: Actor, resource: str) -> Catalog:
        """Publish every approved entry of ``resource`` as one new version: the whole catalog
        is validated first (BadRequest listing each problem; nothing changes), the resource's
        ``reviewed`` date becomes today (China; its yearly upkeep, Shanghai / Zhejiang art. 10)
        and ``on_publish`` gets the new catalog."""
        require_may(actor.consumer, Action.PUBLISH, "")
        entry_id(resource, "resource")
        async with self._lock, self.platform.session.begin() as session:
            register = await _read_register(session, for_update=True)
            rows = [r for r in _of_resource(register, resource) if r.state == EntryState.APPROVED]
            if not rows:
                raise BadRequest(
                    f"resource {resource} has no approved entries; review its submitted ones first"
                )
            before = {row.item: row.published for row in register.of(resource)}
            for row in rows:
                _publish_row(row)
            _stamp_review(register, resource)
            catalog = await _validate(session, register, _published)
            await self._check_source(catalog, resource)
            for row in register.of(resource):
                if row in rows or row.item == HEADER:
                    session.add(_event(row, Action.PUBLISH, actor, [], row.published, before[row.item]))
            await _set_edited(session)
            views = [self._view(row) for row in rows]
        await self._audit_step(actor, Action.PUBLISH, views)
        await self._published(catalog)
        return catalog

    async def withdraw(
        self, actor: Actor, resource: str, item: str | None, reasons: Sequence[str]
    ) -> list[EntryView]:
        """Take an entry out of the catalog at once (a resource's header: the whole resource),
        its pending change dropped; by its provider or an operator. Withdrawing narrows what
        is shared, so it needs no review; the catalog left must still validate (e.g. not the
        key item: withdraw the resource)."""
        require_role(actor.consumer, Action.WITHDRAW)  # before the lookup: no existence oracle
        _ids(resource, item)
        cleaned = reasons_for(Action.WITHDRAW, reasons)
        async with self._lock, self.platform.session.begin() as session:
            register = await _read_register(session, for_update=True)
            target = register.rows.get((resource, item or HEADER)) or _unknown(resource, item)
            require_may(actor.consumer, Action.WITHDRAW, target.provider, _label(resource, item))
            next_state(EntryState(target.state), Action.WITHDRAW, _label(resource, item))  # not twice
            rows = _of_resource(register, resource) if item is None else [target]
            was_published = any(row.published is not None for row in rows)
            for row in rows:
                if row.state != EntryState.WITHDRAWN:
                    session.add(_event(row, Action.WITHDRAW, actor, cleaned, None))
                    _move(row, Action.WITHDRAW)
                    row.published = row.proposed = None
            if item is not None:  # the provider withdrew the item, not its source: unmap its column
                _unmap(register.rows.get((resource, HEADER)), item)
            catalog = await _validate(session, register, _published)
            await _set_edited(session)
            views = [self._view(row) for row in rows]
        await self._audit_step(actor, Action.WITHDRAW, views)
        if was_published:
            await self._published(catalog)
        return views

    # --- reading ------------------------------------------------------------------------

    async def entries(
        self, actor: Consumer, resource: str | None = None, state: EntryState | None = None
    ) -> list[EntryView]:
        """The register's entries ``actor`` may read (operators all, a provider its own), in
        catalog order; FORBIDDEN for anyone else."""
        require_reader(actor)
        if resource is not None:
            entry_id(resource, "resource")
        async with self.platform.session() as session:
            register = await _read_register(session)
        rows = sorted(
            register.rows.values(), key=lambda r: (_resource_order(register, r.resource), _row_order(r))
        )
        return [
            self._view(row)
            for row in rows
            if may_read(actor, row.provider)
            and (resource is None or row.resource == resource)
            and (state is None or row.state == state)
        ]

    async def impact(self, actor: Consumer, resource: str) -> Impact:
        """What publishing ``resource``'s pending changes would break, before the review
        decides (issue 11 §2): the published catalog against the one with those changes, over
        every grant and application on file (``policies.catalog_impact.impact``). For its
        provider and the operators (Forbidden otherwise); BadRequest when it has nothing
        pending or the changes would not validate. Reads only."""
        from gateway.catalog_notices import applications_on_file  # it reads gateway.workflow's rows

        require_reader(actor)  # a consumer learns nothing, not even whether the resource exists
        async with self.platform.session() as session:
            register = await _read_register(session)
            rows = register.of(resource)
            if not actor.has("operator"):  # another provider: Forbidden, known resource or not
                require_reader(actor, rows[0].provider if rows else "")
            if not any(row.state in PENDING for row in rows or _unknown(resource, None)):
                raise BadRequest(f"resource {resource} has no pending change; draft one first")
            published = await _validate(session, register, _published)
            pending = await _validate(session, register, _with_pending(resource))
        grants = await self.platform.all_grants()
        return impact(published, pending, grants, await applications_on_file(self.platform))

    async def history(self, actor: Consumer, resource: str, item: str | None = None) -> list[EventView]:
        """Every step of a resource's entries (or of one item), oldest first: its provider and
        operators only (FORBIDDEN otherwise; an unknown resource is BadRequest)."""
        require_reader(actor)  # before the lookup: no existence oracle
        _ids(resource, item)
        async with self.platform.session() as session:
            header = await session.get(CatalogEntryRow, (resource, HEADER)) or _unknown(resource, None)
            require_reader(actor, header.provider)
            query = sa.select(CatalogEventRow).where(CatalogEventRow.resource == resource)
            if item is not None:
                query = query.where(CatalogEventRow.item == item)
            events = (await session.scalars(query.order_by(CatalogEventRow.id))).all()
        return [_event_view(event) for event in events]

    def _view(self, row: CatalogEntryRow) -> EntryView:
        state = EntryState(row.state)
        due = None
        if row.submitted_at is not None and state in PENDING and self.profile is not None:
            due = change_due(self.profile, today_in_china(row.submitted_at), self.calendar)
        upkeep = self._upkeep(row)
        return EntryView(
            row.resource, row.item or None, row.provider, state, row.version, row.published,
            row.proposed, tuple(row.reasons or ()), row.submitted_at, row.updated_at, due,
            change_overdue(due, today_in_china(), state), upkeep[0], upkeep[1],
        )  # fmt: skip

    def _upkeep(self, row: CatalogEntryRow) -> tuple[dt.date | None, bool | None]:
        """A published resource's yearly upkeep (Shanghai / Zhejiang art. 10), judged by
        ``policies.timeliness.judge_review`` as ``lateResources`` does: shown to its provider too."""
        if row.item != HEADER or row.published is None or self.profile is None:
            return None, None
        verdict = judge_review(
            self.profile, _day(row.published.get("reviewed")), _day(row.published.get("published")),
            today_in_china(),
        )  # fmt: skip
        return verdict.due, verdict.overdue

    async def _check_source(self, catalog: Catalog, resource: str) -> None:
        """BadRequest listing the problem when ``check_source`` refuses ``resource`` of ``catalog``."""
        if self.check_source is None or resource not in catalog.resources:
            return
        try:
            await self.check_source(catalog, resource)
        except CatalogError as error:
            raise _rejected([error]) from None

    def use_profile(self, name: str) -> None:
        """The profile whose ``catalog_change_days`` dates submitted changes."""
        self.profile = load_profile(name)

    async def _published(self, catalog: Catalog) -> None:
        self.use_profile(catalog.profile)
        if self.on_publish is not None:
            await self.on_publish(catalog)

    async def _audit_step(self, actor: Actor, action: Action, entries: Sequence[EntryView]) -> None:
        """Audited after commit (kind ``workflow``, outcome ``catalog.<action>``): names the
        resource and items, never a body; an audit store that fails is AUDIT_UNAVAILABLE."""
        if self.audit is None or not entries:
            return
        items = sorted(f"{e.resource}.{e.item}" for e in entries if e.item is not None)
        event = AuditEvent(
            kind="workflow", outcome=f"catalog.{action.value}", consumer=actor.consumer.department,
            client=actor.consumer.client_id, user=actor.user, resources=(entries[0].resource,),
            items=tuple(items), detail={"state": entries[0].state.value, "header": entries[0].item is None},
        )  # fmt: skip
        await self.audit.append(event)


# --- rows ----------------------------------------------------------------------------


def _published(row: CatalogEntryRow) -> Mapping[str, Any] | None:
    return row.published


def _with_pending(resource: str) -> Callable[[CatalogEntryRow], Mapping[str, Any] | None]:
    """The body a draft of ``resource`` would publish: its pending proposals over the rest."""

    def body(row: CatalogEntryRow) -> Mapping[str, Any] | None:
        if row.resource == resource and row.state in PENDING:
            return row.proposed
        return row.published

    return body


def _ids(resource: str, item: str | None) -> None:
    """BadRequest for an odd resource id or item name (``entry_id``)."""
    entry_id(resource, "resource")
    if item is not None:
        entry_id(item, "item")


def _split_body(body: Mapping[str, Any]) -> tuple[str, dict[str, Any], list[dict[str, Any]] | None]:
    """The resource id, header and items of a drafted resource; BadRequest naming the field."""
    if not isinstance(body, Mapping):
        raise BadRequest(
            "resource must be a JSON object: the resource as in the YAML catalog", field="resource"
        )
    try:
        body = _plain(body, "resource")
    except CatalogError as exc:
        raise BadRequest(f"resource {exc.problem}: {exc.fix}", field="resource") from None
    rid = body.get("id")
    if not isinstance(rid, str) or not rid.strip():
        raise BadRequest("resource.id is missing: give the resource's id", field="resource.id")
    entry_id(rid, "resource.id")
    items = body.get("items")
    if items is not None and not (isinstance(items, list) and all(isinstance(i, Mapping) for i in items)):
        raise BadRequest("resource.items must be a list of objects, one per item", field="resource.items")
    header = {key: value for key, value in body.items() if key != "items"}
    return rid, header, None if items is None else _named_items(items)


def _named_items(items: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The drafted items, each named once by a non-empty text ``name`` (an entry's key: a
    nameless item would be the resource's own fields); BadRequest naming the item."""
    seen: set[str] = set()
    for index, item in enumerate(items):
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise BadRequest(
                f"resource.items[{index}].name is missing or not text: give each item its name",
                field=f"resource.items[{index}].name",
            )
        entry_id(name, f"resource.items[{index}].name")
        if name in seen:
            raise BadRequest(
                f"resource.items[{index}].name {name!r} is drafted twice: give each item once",
                field=f"resource.items[{index}].name",
            )
        seen.add(name)
    return [dict(item) for item in items]


def _draft_rows(
    register: _Register, rid: str, header: dict[str, Any], items: list[dict[str, Any]] | None, actor: Actor
) -> list[CatalogEntryRow]:
    """The rows a draft changes (new or updated in ``register``): the header, items new or changed."""
    provider = actor.consumer.department
    changed = [_propose(register, rid, HEADER, header, provider, _resource_position(register, rid))]
    next_position = max((r.position for r in register.of(rid) if r.item != HEADER), default=-1) + 1
    for item in items or []:
        name = str(item.get("name", ""))
        row = register.rows.get((rid, name))
        current = (
            row.proposed if row is not None and row.state in PENDING else (row.published if row else None)
        )
        if row is not None and current == item:
            continue
        position = row.position if row is not None else next_position
        next_position += row is None
        changed.append(_propose(register, rid, name, item, provider, position))
    return changed


def _day(value: Any) -> dt.date | None:
    """A date as the catalog writes it (text), None when absent or not a date."""
    try:
        return dt.date.fromisoformat(str(value)) if value is not None else None
    except ValueError:
        return None


def _propose(
    register: _Register, rid: str, item: str, body: dict[str, Any], provider: str, position: int
) -> CatalogEntryRow:
    row = register.rows.get((rid, item))
    if row is None:
        row = CatalogEntryRow(resource=rid, item=item, provider=provider, position=position, version=0)
        row.state, row.published = None, None  # type: ignore[assignment]
        register.rows[(rid, item)] = row
    _move(row, Action.DRAFT)
    row.proposed, row.reasons, row.submitted_at = body, None, None
    return row


def _resource_position(register: _Register, rid: str) -> int:
    header = register.rows.get((rid, HEADER))
    if header is not None:
        return header.position
    return max((r.position for r in register.rows.values() if r.item == HEADER), default=-1) + 1


def _resource_order(register: _Register, rid: str) -> int:
    header = register.rows.get((rid, HEADER))
    return header.position if header is not None else 0


def _move(row: CatalogEntryRow, action: Action) -> None:
    state = EntryState(row.state) if row.state else None
    row.state = next_state(state, action, _label(row.resource, row.item or None)).value
    row.updated_at = utc_now()


def _publish_row(row: CatalogEntryRow) -> None:
    _move(row, Action.PUBLISH)
    row.published, row.proposed, row.reasons = row.proposed, None, None
    row.version += 1


def _stamp_review(register: _Register, resource: str) -> None:
    """The resource's ``reviewed`` date: today (China), and ``published`` on first publication."""
    header = register.rows[(resource, HEADER)]
    if header.published is None:
        raise BadRequest(
            f"resource {resource} is new: approve its own fields (item null) with its items, then publish",
            field="item",
        )
    today = today_in_china().isoformat()
    stamped = {**header.published, "reviewed": today}
    stamped.setdefault("published", today)
    header.published = stamped


def _of_resource(register: _Register, resource: str) -> list[CatalogEntryRow]:
    rows = register.of(resource)
    return rows or _unknown(resource, None)


def _providers(existing: CatalogEntryRow | None, claimed: Any, drafter: str) -> list[str]:
    """The departments a draft touches: the drafter's own (new entries are stored as its), the
    resource's provider now and the one it names (a provider cannot hand a resource to
    another department); a missing or malformed claim the validation reports."""
    found = [drafter] + ([existing.provider] if existing is not None else [])
    return found + ([_normal_code(claimed)] if isinstance(claimed, str) else [])


def _normal_code(code: Any) -> str:
    try:
        return validate_uscc(str(code))
    except InvalidCode:
        return str(code)


def _provider(register: _Register, resource: str) -> str:
    return _of_resource(register, resource)[0].provider


def _unknown(resource: str, item: str | None) -> Any:
    what = _label(resource, item)
    raise BadRequest(
        f"{what} is not in the catalog register; list entries with catalogEntries", field="resource"
    )


def _label(resource: str, item: str | None) -> str:
    return f"resource {resource}" if item is None else f"item {item} of resource {resource}"


def _event(
    row: CatalogEntryRow,
    action: Action,
    actor: Actor,
    reasons: Iterable[str],
    body: Mapping[str, Any] | None,
    before: Mapping[str, Any] | None = None,
) -> CatalogEventRow:
    """The history step of ``action`` on ``row``; ``changed``: the keys ``body`` changes from
    ``before`` (default: the body published now)."""
    before = row.published if before is None else before
    state = row.state if action is not Action.WITHDRAW else EntryState.WITHDRAWN.value
    return CatalogEventRow(
        resource=row.resource, item=row.item, action=action.value, state=state, version=row.version,
        department=actor.consumer.department, client=actor.consumer.client_id, user=actor.user,
        at=utc_now(), reasons=list(reasons), changed=changed_keys(before, body), body=body,
    )  # fmt: skip


def _event_view(event: CatalogEventRow) -> EventView:
    return EventView(
        event.resource, event.item or None, event.action, event.state, event.version, event.department,
        event.client, event.user, event.at, tuple(event.reasons), tuple(event.changed), event.body,
    )  # fmt: skip


def _author(actor: Actor) -> tuple[str, str, str | None]:
    return actor.consumer.department, actor.consumer.client_id, actor.user


async def _authors(session: AsyncSession, row: CatalogEntryRow) -> list[tuple[str, str, str | None]]:
    """Who drafted or submitted ``row``'s pending change: the draft and submit steps since its
    last publication, import or withdrawal."""
    query = sa.select(CatalogEventRow).where(
        CatalogEventRow.resource == row.resource, CatalogEventRow.item == row.item
    )
    authors: list[tuple[str, str, str | None]] = []
    for event in (await session.scalars(query.order_by(CatalogEventRow.id))).all():
        if event.action in (Action.PUBLISH, Action.IMPORT, Action.WITHDRAW):
            authors = []
        elif event.action in (Action.DRAFT, Action.SUBMIT):
            authors.append((event.department, event.client, event.user))
    return authors


async def _entry(session: AsyncSession, resource: str, item: str | None) -> CatalogEntryRow:
    row = await session.get(CatalogEntryRow, (resource, item or HEADER), with_for_update=True)
    return row if row is not None else _unknown(resource, item)


async def _read_register(session: AsyncSession, *, for_update: bool = False) -> _Register:
    """Every entry row; ``for_update`` locks them (PostgreSQL) so that two writers, in two
    processes, never both act on the state they read (a return racing a publication)."""
    query = sa.select(CatalogEntryRow)
    rows = (await session.scalars(query.with_for_update() if for_update else query)).all()
    return _Register({(row.resource, row.item): row for row in rows})


async def _meta(session: AsyncSession, *, required: bool = True) -> dict[str, Any]:
    rows = (await session.scalars(sa.select(CatalogMetaRow))).all()
    meta = {row.key: row.value for row in rows}
    if required and "profile" not in meta:
        raise BadRequest("the platform database holds no catalog yet: `govshare catalog import PATH`")
    return meta


async def _set_meta(session: AsyncSession, key: str, value: Any) -> None:
    row = await session.get(CatalogMetaRow, key)
    if row is None:
        session.add(CatalogMetaRow(key=key, value=value))
    else:
        row.value = value


async def _set_edited(session: AsyncSession) -> None:
    """Remember that the workflow published since the last import (start-up keeps the store)."""
    row = await session.get(CatalogMetaRow, "import")
    if row is not None:
        row.value = {**row.value, "edited": True}


# --- documents -----------------------------------------------------------------------


BodyOf = Callable[[CatalogEntryRow], Mapping[str, Any] | None]


def _resources(register: _Register, body_of: BodyOf) -> list[dict[str, Any]]:
    """The resources ``body_of`` makes, in order, each with its items (``items`` last)."""
    headers = sorted((r for r in register.rows.values() if r.item == HEADER), key=lambda r: r.position)
    groups = register.grouped()
    resources = []
    for header in headers:
        head = body_of(header)
        if head is None:
            continue
        items = [body for row in groups[header.resource] if row.item != HEADER if (body := body_of(row))]
        resources.append({**head, "items": items})
    return resources


async def _documents(session: AsyncSession, body_of: BodyOf, register: _Register | None = None) -> list[Any]:
    """The documents to validate: the departments, then one per resource (its label names it)."""
    meta = await _meta(session)
    register = register or await _read_register(session)
    first = ("catalog store: departments", {"profile": meta["profile"], "departments": meta["departments"]})
    return [first] + [
        (f"catalog store: resource {resource['id']}", {"resources": [resource]})
        for resource in _resources(register, body_of)
    ]


async def _validate(session: AsyncSession, register: _Register, body_of: BodyOf) -> Catalog:
    """The catalog ``body_of`` makes of ``register``, validated; BadRequest listing each problem."""
    try:
        catalog = catalog_from_documents(await _documents(session, body_of, register))
    except CatalogErrors as errors:
        raise _rejected(errors.errors) from None
    except CatalogError as error:
        raise _rejected([error]) from None
    unbindable = _unbindable(catalog)
    if unbindable:
        raise _rejected(unbindable)
    return catalog


def _unmap(header: CatalogEntryRow | None, item: str) -> None:
    """Drop ``item`` from the header's ``source.columns`` (published and pending): a catalog
    mapping a column to an item it no longer has cannot be bound by any process."""
    for side in ("published", "proposed"):
        body: Any = getattr(header, side, None)
        source: Any = body.get("source") if isinstance(body, Mapping) else None
        columns = source.get("columns") if isinstance(source, Mapping) else None
        if isinstance(columns, Mapping) and item in columns:
            kept = {name: column for name, column in columns.items() if name != item}
            setattr(header, side, {**body, "source": {**source, "columns": kept}})


def _unbindable(catalog: Catalog) -> list[CatalogError]:
    """Each resource whose ``source.columns`` maps an item it does not have: the check every
    connector's ``bind`` makes (connectors.base.bind_columns), made before storing, no network."""
    problems = []
    for resource in catalog.resources.values():
        columns = resource.source.get("columns")
        names = {item.name for item in resource.items}
        unknown = sorted(set(columns) - names) if isinstance(columns, Mapping) else []
        if unknown:
            problems.append(CatalogError(
                f"catalog store: resource {resource.id}", "source.columns",
                f"maps items the resource does not have: {unknown}; no gateway could bind it",
                f"remove {unknown} from source.columns of {resource.id} (or keep those items)",
            ))  # fmt: skip
    return problems


def _rejected(errors: Sequence[CatalogError]) -> BadRequest:
    problems = [{"where": e.file, "path": e.path, "problem": e.problem, "fix": e.fix} for e in errors]
    text = "; ".join(f"{p['where']} {p['path']}: {p['problem']} ({p['fix']})" for p in problems)
    return BadRequest(f"the catalog would not be valid: {text}", problems=problems)


def _joined(documents: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """The documents of a catalog folder as one: its profile, departments and resources."""
    joined: dict[str, Any] = {"profile": None, "departments": [], "resources": []}
    for file, data in documents:
        plain = _plain(data, file)
        joined["profile"] = plain.get("profile", joined["profile"])
        joined["departments"] += plain.get("departments") or []
        joined["resources"] += plain.get("resources") or []
    return joined


def _plain(value: Any, where: str) -> Any:
    """``value`` as JSON holds it (text keys; text, numbers, booleans, null, lists, mappings);
    CatalogError naming ``where`` for anything else YAML can write (a set, binary, a number key)."""
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise CatalogError(where, "(mapping)", "has a key that is not text", "quote every key")
        return {key: _plain(item, where) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item, where) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise CatalogError(
        where, "(value)", f"holds a {type(value).__name__}, which JSON cannot", "write it as text"
    )


async def _apply_import(
    session: AsyncSession, joined: Mapping[str, Any], actor: Actor
) -> tuple[int, int, int]:
    register = await _read_register(session, for_update=True)
    seen: set[tuple[str, str]] = set()
    counts = [0, 0, 0]
    for position, resource in enumerate(joined["resources"]):
        header = {key: value for key, value in resource.items() if key != "items"}
        entries = [(HEADER, header, position)] + [
            (str(item["name"]), item, index) for index, item in enumerate(resource["items"])
        ]
        for name, body, place in entries:
            seen.add((resource["id"], name))
            counts[_import_row(session, register, resource, name, body, place, actor)] += 1
    for key, row in register.rows.items():
        if key not in seen and row.published is not None:
            session.add(_event(row, Action.WITHDRAW, actor, ["not in the imported catalog"], None))
            _move(row, Action.WITHDRAW)
            row.published = row.proposed = None
            counts[1] += 1
    return counts[0], counts[1], counts[2]


def _import_row(
    session: AsyncSession,
    register: _Register,
    resource: Mapping[str, Any],
    name: str,
    body: Mapping[str, Any],
    position: int,
    actor: Actor,
) -> int:
    """Import one entry; 0 published anew, 2 unchanged."""
    row = register.rows.get((resource["id"], name))
    if row is not None and row.published == body and row.position == position:
        return 2
    if row is None:
        row = CatalogEntryRow(resource=resource["id"], item=name, version=0, published=None)
        row.state = None  # type: ignore[assignment]
        session.add(row)
    before = row.published or {}
    row.provider, row.position = _normal_code(resource["provider"]), position
    _move(row, Action.IMPORT)
    row.published, row.version = dict(body), row.version + 1
    session.add(_event(row, Action.IMPORT, actor, [], row.published, before))
    return 0


# --- the catalog's generation --------------------------------------------------------


def _bump_catalog_generation(session: Any, _context: Any, _instances: Any) -> None:
    """``before_flush``: a flush changing what is published bumps the catalog's generation in
    its transaction (drafts, submissions and reviews do not: nothing served changes)."""
    if any(_changes_published(row, row in session.new) for row in (*session.new, *session.dirty)) or any(
        isinstance(row, (CatalogEntryRow, CatalogMetaRow)) for row in session.deleted
    ):
        bump_generation(session, CATALOG)


def _changes_published(row: Any, new: bool) -> bool:
    if isinstance(row, CatalogMetaRow):
        return row.key in ("profile", "departments")
    if not isinstance(row, CatalogEntryRow):
        return False
    return row.published is not None if new else sa.inspect(row).attrs.published.history.has_changes()


sa.event.listen(PlatformSession, "before_flush", _bump_catalog_generation)


# --- files ---------------------------------------------------------------------------


def files_digest(path: Path) -> str:
    """SHA-256 (hex) of the catalog's YAML as ``load_catalog`` reads it: a file's bytes, or
    over a folder's ``*.yaml`` / ``*.yml`` names and bytes in name order; "" when there is
    nothing to read (a file being replaced: the catalog served is kept). The store keeps it
    with each import, so its formula is stored data: change it and every store re-imports."""
    if not path.is_dir():
        data = _bytes_of(path)
        return hashlib.sha256(data).hexdigest() if data is not None else ""
    digest, read = hashlib.sha256(), False
    for file in sorted([*path.glob("*.yaml"), *path.glob("*.yml")]):
        if (data := _bytes_of(file)) is not None:
            digest.update(file.name.encode() + b"\0" + data + b"\0")
            read = True
    return digest.hexdigest() if read else ""


def _bytes_of(file: Path) -> bytes | None:
    try:
        return file.read_bytes()
    except FileNotFoundError:  # removed meanwhile (being replaced): read as it is next time
        return None


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key, as the hand-written catalogs are."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


def dump_yaml(document: Mapping[str, Any]) -> bytes:
    """``document`` as YAML (UTF-8, Chinese as is, keys in their stored order)."""
    text = yaml.dump(
        document, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False, width=100
    )
    return text.encode("utf-8")
