"""What resolvers see: the federation (process-wide) and the request context."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from strawberry.dataloader import DataLoader

from connectors.base import Row
from connectors.forwarding import AssertionSigner, OnBehalfOf
from policies.catalog import Catalog
from policies.catalog_query import CatalogQuery, SearchPage
from policies.decision import AccessPlan, AccessRequest, Consumer, Grant, needs_onboarding
from policies.share import Mode
from policies.workflow import Actor, Approval, Status, Submission
from resolvers.batching import ResourceSource

if TYPE_CHECKING:
    from resolvers.compare import Comparer


class GrantStore(Protocol):
    async def grants_for(self, department: str) -> list[Grant]: ...

    async def admit(self, grant: Grant, subject: str, day: dt.date, *, count: bool = True) -> bool:
        """Count a subject against the grant's daily cap (``count=False``: only look);
        False when it is used up."""
        ...

    async def admit_many(
        self, grant: Grant, subjects: Sequence[str], day: dt.date, *, count: bool = True
    ) -> int:
        """How many of ``subjects``, in order, the daily cap admits (stopping at the first
        refused); those are counted unless ``count=False``. One call for a page of an export."""
        ...


class OnboardingService(Protocol):
    """Onboarding of consumer departments, Sanya art. 12 (implemented by gateway.onboarding)."""

    async def onboarded(self, department: str) -> bool: ...

    async def onboard(self, department: str, commitment: str, operator: str) -> Any:
        """Record the department's written access application and commitment (idempotent);
        returns ``gateway.onboarding.Onboarding``."""
        ...


class CatalogStoreService(Protocol):
    """The stored catalog's register and workflow (implemented by gateway.catalog_store):
    entries are ``EntryView``, history steps ``EventView`` records."""

    async def draft(self, actor: Actor, body: Mapping[str, Any], reason: str = "") -> list[Any]: ...
    async def submit(self, actor: Actor, resource: str) -> list[Any]: ...
    async def review(
        self, actor: Actor, resource: str, item: str | None, approve: bool, reasons: Sequence[str]
    ) -> Any: ...
    async def publish(self, actor: Actor, resource: str) -> Catalog: ...
    async def withdraw(
        self, actor: Actor, resource: str, item: str | None, reasons: Sequence[str]
    ) -> list[Any]: ...
    async def entries(self, actor: Consumer, resource: str | None = None, state: Any = None) -> list[Any]: ...
    async def history(self, actor: Consumer, resource: str, item: str | None = None) -> list[Any]: ...
    async def impact(self, actor: Consumer, resource: str) -> Any:
        """``policies.catalog_impact.Impact`` of publishing the resource's pending changes."""
        ...


class AuditReader(Protocol):
    """The audit trail as resolvers read it (implemented by gateway.audit.AuditLog)."""

    async def events(
        self,
        *,
        consumer: str | None = None,
        provider_resources: Collection[str] | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        after_seq: int | None = None,
        instance: str | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> list[dict[str, Any]]: ...


class WorkflowService(Protocol):
    """The application workflow as resolvers use it (implemented by gateway.workflow)."""

    async def submit(self, actor: Actor, submission: Submission) -> Any: ...
    async def check(self, actor: Actor, app_id: str, accept: bool, reasons: Sequence[str]) -> Any: ...
    async def decide(
        self, actor: Actor, app_id: str, approve: bool, reasons: Sequence[str], approval: Approval
    ) -> Any: ...
    async def escalate(self, actor: Actor, app_id: str, reasons: Sequence[str]) -> Any: ...
    async def get(self, actor: Actor, app_id: str) -> Any: ...
    async def applications(
        self,
        actor: Actor,
        *,
        status: Status | None = None,
        consumer: str | None = None,
        resource: str | None = None,
        overdue: bool | None = None,
    ) -> list[Any]: ...
    async def history(self, app_id: str) -> list[Any]: ...
    def overdue_steps(self, row: Any, today: dt.date | None = None) -> list[str]: ...
    def calendar_warnings(self, start: dt.date, end: dt.date) -> list[str]: ...
    def upcoming_calendar_warnings(self) -> list[str]: ...
    async def grants(
        self, actor: Actor, consumer: str | None = None, resource: str | None = None
    ) -> list[Grant]: ...
    async def revoke(self, actor: Actor, grant_id: str, reasons: Sequence[str]) -> Grant: ...
    async def confirm_refusal(
        self, actor: Actor, app_id: str, consent: bool, reasons: Sequence[str]
    ) -> Any: ...


class StatsService(Protocol):
    """Per-department statistics for the evaluation articles (implemented by gateway.stats).

    Returns ``gateway.stats.DepartmentStats`` records for the departments ``actor`` may see:
    operators all (or ``department``), a provider its own; anyone else is refused (FORBIDDEN)."""

    async def department_stats(
        self,
        actor: Consumer,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        department: str | None = None,
    ) -> Sequence[Any]: ...


class ObjectionService(Protocol):
    """Objections (疑义) as resolvers use them (implemented by gateway.objections).

    Rows are ``gateway.objections.ObjectionRow`` records; ``open_for`` maps
    (resource, subject) pairs to {item: objection id} of open objections, in one query."""

    async def raise_objection(self, actor: Actor, raised: Any, purpose: str | None) -> Any: ...
    async def answer(self, actor: Actor, objection_id: str, outcome: Any, note: str) -> Any: ...
    async def objections(
        self,
        actor: Consumer,
        status: Any = None,
        overdue: bool | None = None,
        resource: str | None = None,
    ) -> list[Any]: ...
    async def get(self, actor: Consumer, objection_id: str) -> Any: ...
    async def history(self, objection_id: str) -> list[Any]: ...
    def overdue(self, row: Any) -> bool: ...
    async def open_for(
        self, pairs: Collection[tuple[str, str]]
    ) -> Mapping[tuple[str, str], Mapping[str, str]]: ...


class ChangeService(Protocol):
    """Change notices (Shanghai art. 16) as resolvers use them (gateway.changes)."""

    async def notify(
        self,
        actor: Actor,
        resource_id: str,
        subjects: Sequence[str],
        items: Sequence[str] | None = None,
        changed_at: dt.datetime | None = None,
    ) -> Any: ...
    async def changes(
        self, consumer: Consumer, resource: str, since: dt.datetime | None, purpose: str | None = None
    ) -> list[Any]: ...
    def stream(
        self,
        consumer: Consumer,
        resources: Collection[str] | None,
        purpose: str | None,
        recheck: Callable[[], Awaitable[None]] | None = None,
    ) -> Any:
        """An async iterator of the notices this consumer may hear of; ``recheck`` is awaited
        before each (it raises to end the stream: expired credentials)."""
        ...


class CatalogSearchService(Protocol):
    """Search over the published catalog (implemented by gateway.catalog_search.CatalogSearch;
    the matching rule is policies.catalog_query's)."""

    async def find(self, query: CatalogQuery, first: int, after: str | None = None) -> SearchPage:
        """At most ``first`` hits after resource ``after``, in catalog order; ``BadRequest``
        when ``after`` names no indexed resource."""
        ...

    async def index(self, catalog: Catalog) -> None:
        """Replace the index with ``catalog`` (at start and on each publication)."""
        ...


class OversightService(Protocol):
    """Late resources and overdue catalog entries (implemented by gateway.oversight.Oversight):
    ``late`` returns ``gateway.oversight.ResourceOversight`` records, in catalog order."""

    async def late(self) -> Sequence[Any]: ...

    async def close(self) -> None: ...


@dataclass(eq=False)
class Federation:
    """The catalog with a live source per resource: built once, shared by all requests."""

    catalog: Catalog
    sources: Mapping[str, ResourceSource]
    grants: GrantStore
    workflow: WorkflowService | None = None
    audit: AuditReader | None = None
    stats: StatsService | None = None
    comparer: Comparer | None = None  # compare / verify (resolvers.compare), set by the gateway
    assertion_signer: AssertionSigner | None = None  # signs forwarded identities (upstream gateways)
    objections: ObjectionService | None = None
    changes: ChangeService | None = None
    oversight: OversightService | None = None  # late resources (gateway.oversight)
    onboarding: OnboardingService | None = None  # where the profile requires it (Sanya art. 12)
    catalog_store: CatalogStoreService | None = None  # the stored catalog's workflow (issue 11)
    catalog_search: CatalogSearchService | None = None  # the published catalog's index (issue 11 section 3)

    def round_trips(self) -> int:
        return sum(source.round_trips for source in self.sources.values())

    async def invalidate_rows(self, resource_id: str, subjects: Collection[str]) -> int:
        """Drop the cached rows of ``subjects`` (codes) of a resource: the hook change notices
        (``notifyChange``, issue 8) call once the provider says the rows changed. Every
        resource read from the same table of the same connector is dropped too: its rows
        changed with it, though cached under its own keys. The keys deleted; unknown
        resources delete nothing."""
        source = self.sources.get(resource_id)
        if source is None:
            return 0
        same_table = [s for s in self.sources.values() if s.reads_same_table(source)]
        return sum([await s.invalidate(subjects) for s in same_table])


@dataclass(eq=False)
class RequestContext:
    federation: Federation
    consumer: Consumer
    purpose: str | None = None
    request_user: str | None = None
    application_id: str | None = None
    reject_unauthorized: bool = False
    sent_in_url: bool = False  # the operation came by GET / HEAD: its arguments are in logs
    operation: str = "none"  # its GraphQL operation type once picked (metrics and traces)
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    plan: AccessPlan | None = None
    subjects: list[str] = field(default_factory=list)  # codes looked up, for the audit trail
    extra: dict[str, Any] = field(default_factory=dict)
    _loaders: dict[tuple[str, tuple[str, ...]], DataLoader[str, Row | None]] = field(default_factory=dict)

    def record_read(self, what: str) -> None:
        """An operator-side read (audit trail, grants, applications, statistics): audited too."""
        reads = self.extra.setdefault("reads", [])
        if what not in reads:
            reads.append(what)

    async def recheck_credentials(self) -> None:
        """Raise ``Unauthenticated`` when the credentials this context was opened with no
        longer hold. An HTTP request is checked once, before it runs: nothing to do; a
        long-lived context (a WebSocket connection, gateway.sockets) checks again."""

    def on_behalf(self) -> OnBehalfOf:
        """This request's consumer as a forwarding connector passes it on (connectors.forwarding)."""
        return OnBehalfOf(
            self.consumer.department,
            self.consumer.client_id,
            self.request_user,
            self.purpose,
            self.application_id,
            self.federation.assertion_signer,
        )

    async def onboarded(self) -> bool:
        """Whether the consumer's department is onboarded (Sanya art. 12; asked only where the
        profile requires it: ``policies.decision.needs_onboarding``)."""
        if "onboarded" not in self.extra:  # asked once per request, whatever path asks
            store = self.federation.onboarding
            self.extra["onboarded"] = store is not None and await store.onboarded(self.consumer.department)
        return bool(self.extra["onboarded"])

    async def access_request(self, mode: Mode) -> AccessRequest:
        """The operation's who, why and how, with whether its department is onboarded read
        from the store where the profile requires onboarding (Sanya art. 12), so that no
        decision made from a request context rests on the dataclass's default."""
        onboarded = not needs_onboarding(self.federation.catalog) or await self.onboarded()
        return AccessRequest(self.consumer, self.purpose, mode, self.now, self.application_id, onboarded)

    def loader(self, resource_id: str, items: tuple[str, ...] | None = None) -> DataLoader[str, Row | None]:
        """One DataLoader per (resource, item set) per request; by default the plan's allowed items."""
        if items is None:
            assert self.plan is not None, "the access plan is made before any source is called"
            items = self.plan.resources[resource_id].allowed
        loader = self._loaders.get((resource_id, items))
        if loader is None:
            loader = self._loaders[(resource_id, items)] = self._new_loader(resource_id, items)
        return loader

    def _new_loader(self, resource_id: str, items: tuple[str, ...]) -> DataLoader[str, Row | None]:
        source = self.federation.sources[resource_id]

        async def load(keys: Sequence[str]) -> list[Row | None]:
            rows = await source.fetch(keys, items)
            return [rows.get(key) for key in keys]

        return DataLoader(load_fn=load)
