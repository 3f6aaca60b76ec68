"""Catalog -> strawberry schema.

Subject types (``Organization``, ``Person``) get one field per resource keyed on that
subject kind; each resource type gets one field per shared item. Non-shared items are
left out of the schema altogether. Item fields have no resolver: a resource resolves
to a ``Record`` whose attributes are the allowed values, and whose missing attributes
raise the decision's error, so the per-item hot path is a plain attribute read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, MaxTokensLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import ExecutionResult, Info
from strawberry.types.graphql import OperationType

from errors import GovshareError, QueryTooComplex, SourceUnavailable, root_cause
from policies.catalog import Catalog, Item, Resource
from policies.decision import needs_grant
from policies.share import Share
from resolvers import catalog_read
from resolvers.arguments import TEXT_RULES, TextVariables
from resolvers.catalog_workflow import CatalogWorkflowMutation, CatalogWorkflowQuery
from resolvers.compare_field import CompareQuery
from resolvers.compiled_query import Caches, CompiledQueries, resolves_per_field
from resolvers.context import RequestContext
from resolvers.disputes import DisputedMarks
from resolvers.evidence import EvidenceQuery
from resolvers.extensions import (
    AccessPlanner,
    DocumentCache,
    ForwardedConsumer,
    Validation,
    document_cache,
    plan_cache,
    validation_cache,
)
from resolvers.fastpath import RecordFields
from resolvers.hooks import CachedHooksRunner
from resolvers.limits import OperationLimits, ParseBudget, too_complex
from resolvers.objections import ObjectionMutation, ObjectionQuery, Subscription
from resolvers.org_codes import org_code_fields
from resolvers.oversight import OversightQuery
from resolvers.planning import ItemIndex
from resolvers.profile_mutations import ProfileMutation
from resolvers.stats import StatsQuery
from resolvers.subjects import (
    Record,
    ResourceReader,
    Subject,
    look_up,
    lookup,
    resolver_of,
    resource_reader,
    selected_resources,
)
from resolvers.types import (
    SCALARS,
    USCC,
    CitizenID,
    ProviderDirective,
    ShareDirective,
    share_class,
)
from resolvers.vocabulary import apply_vocabulary
from resolvers.workflow import Mutation, WorkflowQuery

MAX_SUBJECTS = 1000
log = logging.getLogger("govshare.sources")
requests_log = logging.getLogger("govshare.requests")
SUBJECT_KINDS = {"organization": ("Organization", "code"), "person": ("Person", "id")}
_PY_TYPES: dict[str, type] = {
    "string": str, "integer": int, "number": float, "boolean": bool, "date": str, "datetime": str,
}  # fmt: skip


class GovshareSchema(strawberry.Schema):
    compiled_queries: CompiledQueries | None = None  # the whole-operation fast path

    async def execute(  # type: ignore[override]
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """strawberry's ``Schema.execute``; a compiled subject look-up query takes the fast
        path (``resolvers.compiled_query``), which answers it the same."""
        fast = self.compiled_queries
        plain = root_value is None and operation_extensions is None
        if (
            fast is not None
            and plain
            and OperationType.QUERY
            in ((OperationType.QUERY,) if allowed_operation_types is None else allowed_operation_types)
        ):
            result = await fast.execute(query, variable_values, context_value, operation_name)
            if result is not None:
                return result
        return await super().execute(query, variable_values, context_value, root_value, operation_name,
                                     allowed_operation_types, operation_extensions)  # fmt: skip

    def create_extensions_runner(self, execution_context: Any, extensions: list[Any]) -> CachedHooksRunner:
        """Strawberry's runner with hooks inspected once per extension class (resolvers.hooks)."""
        return CachedHooksRunner(execution_context=execution_context, extensions=extensions)

    def process_errors(self, errors: list[Any], execution_context: Any = None) -> None:
        """Refusals and client mistakes are answers, not incidents: only the unexpected
        (an exception of our own code or a source) is an ERROR line, with its traceback.

        A client mistake is a GraphQL error of its own (syntax, validation, variable
        coercion: no other exception behind it) or a ``GovshareError``; it is a DEBUG line
        with its message only: never the document text, which may quote identity codes."""
        unexpected = []
        for error in errors:
            cause = root_cause(error)
            if isinstance(cause, GovshareError | GraphQLError):
                requests_log.debug("request not answered in full: %s", error.message)
            else:
                unexpected.append(error)
        if unexpected:
            super().process_errors(unexpected, execution_context)
        for error in errors:  # a failing department is the operator's business
            cause = root_cause(error)
            if isinstance(cause, SourceUnavailable):
                log.warning("source unavailable: %s (%r)", cause.message, cause.__cause__)


class LimitedExecution(RecordFields, StrawberryGraphQLCoreExecutionContext):
    """Stops an operation at ``max_errors`` field errors instead of locating thousands
    (each error's location scans the document), and at ``max_result_values`` values
    completed: the operation is refused whole.

    Result values: the document limits bound the fields of a document, not how often a
    list repeats them (1,000 ``organizations`` times 100 aliases held the event loop 2.2 s;
    45 aliases of an introspection fragment 0.5 s). They are counted once per object
    completed (``execute_fields`` gets its fields together), not per field."""

    max_errors: int = OperationLimits.max_errors
    max_result_values: int = OperationLimits.max_result_values
    _result_values: int = 0

    def execute_fields(self, parent_type: Any, source_value: Any, path: Any, grouped_field_set: Any,
                       position_context: Any) -> Any:  # fmt: skip
        self.count_values(len(grouped_field_set))
        if self.record_fast_path and type(source_value) is Record:  # items read at once (resolvers.fastpath)
            completed = self.record_fields(parent_type, source_value, path, grouped_field_set)
            if completed is not None:
                return completed
        return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)

    def count_values(self, values: int) -> None:
        """Count the values of one object completed; ``QueryTooComplex`` past the cap."""
        self._result_values += values
        if self._result_values > self.max_result_values:
            raise too_complex("max_result_values", self.max_result_values, "values in the result")

    def handle_field_error(self, raw_error: Exception, return_type: Any, field_details_list: Any,
                           path: Any) -> None:  # fmt: skip
        if isinstance(raw_error, QueryTooComplex) and raw_error.extensions.get("limit") in _WHOLE_OPERATION:
            raise raw_error  # already refused below: pass it up unchanged
        if len(self.collected_errors.errors) >= self.max_errors:
            raise too_complex("max_errors", self.max_errors, "errors in the operation")
        super().handle_field_error(raw_error, return_type, field_details_list, path)

    @staticmethod
    def complete_leaf_value(return_type: Any, result: Any) -> Any:
        """``result`` as its scalar or enum type, else ``SourceUnavailable`` naming the type
        only: graphql-core's own error quotes the value (``String cannot represent value:
        {...}``), and a leaf's value is what a department answered, an object or list
        included (errors.py: a stored value never goes into error text)."""
        try:
            return StrawberryGraphQLCoreExecutionContext.complete_leaf_value(return_type, result)
        except Exception:
            raise SourceUnavailable(
                f"the providing department's source answered a value that is not a {return_type.name}"
                " (not shown); the department must correct its data"
            ) from None


_MUTATIONS = (Mutation, ObjectionMutation, ProfileMutation, CatalogWorkflowMutation)
_WHOLE_OPERATION = frozenset({"max_errors", "max_result_values"})  # refusals that end the operation


def build_schema(catalog: Catalog, limits: OperationLimits | None = None) -> GovshareSchema:
    """The schema of ``catalog``, its caches and cost checks sized by ``limits``."""
    limits = limits or OperationLimits()
    resource_types = {rid: _resource_type(catalog, r) for rid, r in catalog.resources.items()}
    readers: dict[tuple[str, str], ResourceReader] = {}
    subjects = {kind: _subject_type(catalog, kind, resource_types, readers) for kind in SUBJECT_KINDS}
    index, not_shared = ItemIndex(_item_index(catalog), limits.cache_bytes), _not_shared_index(catalog)
    documents, validated, plans = document_cache(limits), validation_cache(limits), plan_cache(limits)
    budget = ParseBudget(limits.new_tokens_per_second, limits.new_tokens_burst)
    caps = {"max_errors": limits.max_errors, "max_result_values": limits.max_result_values,
            "record_items": _record_items(catalog)}  # fmt: skip
    executor = type("LimitedExecution", (LimitedExecution,), caps)
    schema = GovshareSchema(
        query=_query_type(subjects, catalog),
        mutation=strawberry.type(type("Mutation", _MUTATIONS, {})),
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALARS),
        execution_context_class=executor,
        extensions=[
            lambda: MaxTokensLimiter(limits.max_tokens),
            lambda: DocumentCache(limits, documents, budget),
            lambda: AddValidationRules(TEXT_RULES),
            TextVariables,
            lambda: Validation(not_shared, validated, limits),
            lambda: AccessPlanner(index, plans),
            ForwardedConsumer,
            DisputedMarks,
        ],
    )
    apply_vocabulary(schema._schema, catalog)  # the profile's terms in ShareClass and @share
    caches = Caches(documents, validated, index, plans)
    if resolves_per_field(schema):  # field middleware runs on the normal path only
        return schema
    schema.compiled_queries = CompiledQueries(
        schema, executor, limits, caches, readers, catalog, look_up_many
    )
    return schema


def _item_index(catalog: Catalog) -> dict[tuple[str, str], tuple[str, str]]:
    return {
        (r.type_name, item.field): (r.id, item.name)
        for r in catalog.resources.values()
        for item in r.shared_items
    }


def _record_items(catalog: Catalog) -> dict[str, dict[str, str]]:
    """Resource type -> {item field: Record attribute}: what the fast path reads (resolvers.fastpath)."""
    return {
        r.type_name: {item.field: item.name for item in r.shared_items} for r in catalog.resources.values()
    }


def _not_shared_index(catalog: Catalog) -> dict[tuple[str, str], tuple[Catalog, Resource, Item]]:
    return {
        (r.type_name, item.field): (catalog, r, item)
        for r in catalog.resources.values()
        for item in r.items
        if item.share is Share.NOT_SHARED
    }


def _describe_resource(catalog: Catalog, resource: Resource) -> str:
    provider = catalog.provider_of(resource)
    return (
        f"{resource.name} ({resource.id}, 资源代码 {resource.code}). Provider: {provider.name} "
        f"({provider.code}). Default class: {catalog.share_term(resource.share)} ({resource.share.value}). "
        f"Update cycle: {resource.update_cycle}. Modes: "
        f"{', '.join(sorted(m.value for m in resource.modes))}. {resource.summary}".strip()
    )


def _describe_item(catalog: Catalog, resource: Resource, item: Item) -> str:
    text = f"{item.title} ({item.name}). Class: {catalog.share_term(item.share)} ({item.share.value})."
    if item.share is Share.CONDITIONAL:
        text += f" Condition: {item.condition}. Needs a grant covering this item."
    elif needs_grant(catalog, item):
        text += " Needs an approved application covering this item (the profile's rule)."
    if item.mask:
        text += f" Masked: first {item.mask.keep_first}, last {item.mask.keep_last} kept."
    return f"{text} Update cycle: {resource.update_cycle}."


def _item_field(catalog: Catalog, resource: Resource, item: Item) -> Any:
    condition = item.condition if item.share is Share.CONDITIONAL else None
    return strawberry.field(
        name=item.field,
        description=_describe_item(catalog, resource, item),
        directives=[ShareDirective(class_=share_class(item.share), condition=condition)],
    )


def _resource_type(catalog: Catalog, resource: Resource) -> type:
    items = resource.shared_items
    namespace: dict[str, Any] = {item.name: _item_field(catalog, resource, item) for item in items}
    namespace["__annotations__"] = {item.name: _PY_TYPES[item.type] | None for item in items}
    provider = catalog.provider_of(resource)
    cls = type(resource.type_name, (), namespace)
    directive = ProviderDirective(code=provider.code, name=provider.name, update_cycle=resource.update_cycle)
    return strawberry.type(cls, description=_describe_resource(catalog, resource), directives=[directive])


def _subject_type(
    catalog: Catalog,
    kind: str,
    resource_types: dict[str, type],
    readers: dict[tuple[str, str], ResourceReader],
) -> type:
    """The subject type of ``kind``; its resources' readers go into ``readers`` (the fast path's)."""
    type_name, code_field = SUBJECT_KINDS[kind]
    scalar = USCC if kind == "organization" else CitizenID
    namespace: dict[str, Any] = {"__annotations__": {code_field: scalar}}
    for resource in catalog.resources_on(kind):
        read = readers[(type_name, resource.field)] = resource_reader(resource)
        namespace[resource.field] = strawberry.field(
            name=resource.field,
            resolver=resolver_of(read),
            graphql_type=resource_types[resource.id] | None,
            description=_describe_resource(catalog, resource),
        )
    code_name = "USCC" if kind == "organization" else "citizen ID"
    description = f"A {kind} addressed by its {code_name}; one field per resource keyed on it."
    return strawberry.type(type(type_name, (), namespace), description=description)


def _check_count(codes: Sequence[str]) -> None:
    if len(codes) > MAX_SUBJECTS:
        raise QueryTooComplex(f"at most {MAX_SUBJECTS} codes per list; split the request", limit=MAX_SUBJECTS)


async def look_up_many(
    context: RequestContext, kind: str, codes: Sequence[str], selected: frozenset[str]
) -> list[Subject | None]:
    """The subjects of a list root field (``organizations``, ``persons``), in order; refused
    whole (``QueryTooComplex``) beyond ``MAX_SUBJECTS`` codes."""
    _check_count(codes)
    return await asyncio.gather(*(look_up(context, kind, c, selected) for c in codes))


def _query_type(subjects: dict[str, type], catalog: Catalog) -> type:
    organization_type: Any = subjects["organization"]
    person_type: Any = subjects["person"]

    async def organization(info: Info, code: USCC) -> Any:
        return await lookup(info, "organization", code)

    async def organizations(info: Info, codes: list[USCC]) -> Any:
        return await look_up_many(
            info.context, "organization", codes, selected_resources(info, "organization")
        )

    async def person(info: Info, id: CitizenID) -> Any:
        return await lookup(info, "person", id)

    async def persons(info: Info, ids: list[CitizenID]) -> Any:
        return await look_up_many(info.context, "person", ids, selected_resources(info, "person"))

    def root(resolver: Callable[..., Any], graphql_type: Any, description: str) -> Any:
        return strawberry.field(resolver=resolver, graphql_type=graphql_type, description=description)

    many = f"(at most {MAX_SUBJECTS}), in order; null where no source holds the code"
    namespace = {
        "organization": root(organization, organization_type | None, "An organization by USCC."),
        "organizations": root(organizations, list[organization_type | None], f"By USCC {many}."),
        "person": root(person, person_type | None, "A person by citizen ID."),
        "persons": root(persons, list[person_type | None], f"By citizen ID {many}."),
        "catalog": strawberry.field(resolver=catalog_read.catalog, description=catalog_read.CATALOG_HELP),
        **org_code_fields(catalog, organization_type),  # zhejiang only (art. 21)
    }
    roots = (WorkflowQuery, EvidenceQuery, StatsQuery, CompareQuery, ObjectionQuery, OversightQuery,
             CatalogWorkflowQuery)  # fmt: skip
    return strawberry.type(type("Query", roots, namespace))
