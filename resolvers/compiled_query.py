"""Whole-operation fast path: subject look-up queries answered without strawberry's
``Schema.execute`` and graphql-core's field-by-field walk.

Most operations a gateway serves are the same few documents over and over: a query of
subject look-ups (``organization(code:)``, ``persons(ids:)`` ...) selecting resources of
plain items. For such a document, already parsed, validated and planned (the caches of
``resolvers.extensions``), every field is known before the request arrives. Profiled on the
S1 workload (one organization, three resources), strawberry's per-request set-up (extension
contexts, resolver wrappers, argument conversion) and graphql-core's executor (a resolve
info, a path and a dispatch per field) were ~25% of the event loop's thread, more than the
look-up itself.

``CompiledQueries.execute`` runs such an operation from its compiled form, in the normal
path's order and with its functions:

1. What the extensions check before execution, read from their caches without side
   effects: the document parsed (``DocumentCache``: a text not cached takes the normal
   path, which charges the parse budget), validated without error or refusal
   (``Validation``), the operation selected (``AccessPlanner``), the variables free of
   control characters (``TextVariables``) and coerced without error. Anything else takes
   the normal path, which answers it as before; nothing has happened yet.
2. The access plan (``resolvers.extensions.plan_operation``, the planner's own function),
   all-or-nothing refusals, and ``on_behalf_of`` set for the source calls
   (``ForwardedConsumer``); errors from planning answer as strawberry answers them.
3. The root fields, completed as graphql-core's executor completes them (the same
   ``execute_fields`` counting ``max_result_values``, ``handle_field_error`` with
   ``max_errors``, error locations and paths, null propagation, ``gather_with_cancel`` for
   concurrent fields), calling the root resolvers' own look-ups
   (``resolvers.subjects.look_up``, ``resolvers.schema.look_up_many``) and the resource
   fields' own readers (``resolvers.subjects.resource_reader``); records are completed by
   ``resolvers.fastpath.RecordFields`` inside the same executor.
4. ``process_errors`` (the request log), the disputed marks
   (``resolvers.disputes.disputed_marks``) and the extensions' results, as strawberry does.

A document compiles only when its chosen operation is a query without directives, without
fragment variables, whose root fields are all subject look-ups selecting only the code,
``__typename`` and resources (with or without ``@skip``/``@include``: the compiled form is
kept per value of the variables those conditions use, as ``resolvers.planning`` keys its
walk); anything else (introspection, catalog reads, mutations, other roots, field
middleware, a subject type with an ``is_type_of``) is never compiled and always takes the
normal path. ``tests/resolvers/test_compiled_query.py`` proves both paths answer byte-
identical JSON, errors, audit events and voucher inputs over generated documents,
refusals included. Own code: it is the hot path, and strawberry offers no hook below
``Schema.execute`` that skips its per-request machinery.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    TypeNameMetaFieldDef,
    Visitor,
    get_named_type,
    is_nullable_type,
    is_object_type,
    visit,
)
from graphql import ExecutionResult as CoreResult
from graphql.execution.collect_fields import (
    FieldDetailsList,
    FragmentDetails,
    GroupedFieldSet,
    collect_fields,
    collect_subfields,
)
from graphql.execution.executor import default_field_resolver, default_type_resolver
from graphql.execution.values import VariableValues, get_argument_values
from graphql.pyutils import Path, gather_with_cancel
from graphql.type import GraphQLIncludeDirective, GraphQLSkipDirective
from strawberry.execution import optimized_is_awaitable
from strawberry.types.execution import ExecutionResult, PreExecutionError

from connectors.forwarding import on_behalf_of
from resolvers.arguments import text_variables_ok
from resolvers.context import RequestContext
from resolvers.disputes import DISPUTED, disputed_marks
from resolvers.extensions import (
    Checked,
    Operation,
    PlanKey,
    coerced_variables,
    plan_operation,
    request_error,
)
from resolvers.fastpath import PlannedFields, RecordItems
from resolvers.limits import ByteBoundedCache, OperationLimits, document_bytes, text_bytes
from resolvers.planning import (
    ItemIndex,
    OperationNotFound,
    condition_variables,
    select_operation,
    selected_fields,
)
from resolvers.subjects import CarriedAt, ResourceReader, Subject, look_up, resources_named

log = logging.getLogger("govshare.compiled")
# root field -> (subject kind, whether it takes a list of codes)
SUBJECT_ROOTS: Mapping[str, tuple[str, bool]] = {
    "organization": ("organization", False),
    "organizations": ("organization", True),
    "person": ("person", False),
    "persons": ("person", True),
}
CODE_FIELDS = {"organization": "code", "person": "id"}  # the subject's own code field
_CONDITIONS = frozenset({GraphQLSkipDirective.name, GraphQLIncludeDirective.name})
ManyLookUp = Callable[[RequestContext, str, Sequence[str], frozenset[str]], Awaitable[list[Subject | None]]]
Readers = Mapping[tuple[str, str], ResourceReader]  # (subject type, resource field) -> reader


@dataclass(frozen=True, eq=False)
class ResourcePlan:
    """A resource field under a subject: its reader and its record's collected items."""

    read: ResourceReader
    record_type: GraphQLObjectType
    grouped: GroupedFieldSet


@dataclass(frozen=True, eq=False)
class SubjectField:
    """One response key under a subject: ``__typename``, the code, or a resource."""

    key: str
    details: FieldDetailsList
    nodes: list[FieldNode]
    return_type: GraphQLOutputType
    resource: ResourcePlan | None  # None: __typename or the code field
    code: bool = False


@dataclass(frozen=True, eq=False)
class RootField:
    """One root response key: a subject look-up by one code or a list of codes."""

    key: str
    details: FieldDetailsList
    field: Any  # GraphQLField
    kind: str
    many: bool
    argument: str
    subject_type: GraphQLObjectType
    fields: tuple[SubjectField, ...]
    selected: frozenset[str]  # resource ids selected under it (resolvers.subjects.selected_resources)


@dataclass(frozen=True, eq=False)
class CompiledQuery:
    """A document's chosen operation, compiled for the values of its condition variables."""

    document: DocumentNode
    operation: OperationDefinitionNode
    planned_name: str | None  # strawberry's operation_name: the one sent, else the first operation's
    fragment_definitions: dict[str, FragmentDefinitionNode]
    fragments: dict[str, FragmentDetails]
    roots: tuple[RootField, ...]


_NOT_COMPILED = object()  # cached: this document (for these condition values) always takes the normal path


class _Refused(Exception):
    """A shape the compiled form does not know: the document is not compiled."""


@dataclass(frozen=True)
class Caches:
    """The caches the extensions fill (resolvers.extensions): read, never filled, here."""

    documents: ByteBoundedCache[str, DocumentNode]
    validated: ByteBoundedCache[str, Checked]
    index: ItemIndex
    plans: ByteBoundedCache[PlanKey, Any]


class CompiledQueries:
    """The whole-operation fast path of one schema (built by ``resolvers.schema.build_schema``).

    ``enabled`` switches it off (the differential test runs both paths)."""

    enabled: bool = True

    def __init__(
        self, schema: Any, executor_class: type, limits: OperationLimits, caches: Caches, readers: Readers,
        catalog: Any, many: ManyLookUp,
    ) -> None:  # fmt: skip
        self.schema = schema  # the GovshareSchema: process_errors
        self.core: GraphQLSchema = schema._schema
        walk = {"_many": staticmethod(many)}  # the list roots' own look-up (resolvers.schema)
        self.executor_class = type("CompiledExecution", (CompiledWalk, executor_class), walk)
        self.limits, self.caches, self.readers, self.catalog, self.many = (
            limits,
            caches,
            readers,
            catalog,
            many,
        )
        self._compiled: ByteBoundedCache[tuple[object, ...], object] = ByteBoundedCache(
            limits.cache_bytes, lambda key, value: _compiled_bytes(key, value)
        )
        self._depends: ByteBoundedCache[tuple[str, str | None], tuple[str, ...]] = ByteBoundedCache(
            limits.cache_bytes, lambda key, depends: text_bytes(key[0]) + 64 * len(depends)
        )

    async def execute(
        self, query: Any, raw_variables: Any, context: Any, requested: str | None
    ) -> ExecutionResult | None:
        """The operation's result as ``Schema.execute`` returns it, or None (nothing done):
        the normal path must run it."""
        if not self.enabled or not isinstance(query, str) or not isinstance(context, RequestContext):
            return None
        ready = self._ready(query, raw_variables, requested)
        if ready is None:
            return None
        compiled, variables = ready
        context.operation = OperationType.QUERY.value  # as AccessPlanner.on_parse notes it
        return await self._run(compiled, query, variables, context)

    def _ready(
        self, query: str, raw_variables: Any, requested: str | None
    ) -> tuple[CompiledQuery, VariableValues] | None:
        """The compiled operation and its coerced variables when every check before execution
        passes as the extensions would pass it; None otherwise (no side effect)."""
        if len(query) > self.limits.max_document_chars:
            return None
        document = self.caches.documents.get(query)
        checked = self.caches.validated.get(query) if document is not None else None
        if document is None or checked is None or checked.refusal is not None or checked.errors:
            return None
        if not text_variables_ok(raw_variables or {}):
            return None
        variables = coerced_variables(self.core, document, requested, raw_variables)
        if isinstance(variables, list):
            return None
        compiled = self._compiled_for(query, document, requested, variables)
        return None if compiled is None else (compiled, variables)

    def _compiled_for(
        self, query: str, document: DocumentNode, requested: str | None, variables: VariableValues
    ) -> CompiledQuery | None:
        depends = self._depends.get((query, requested))
        if depends is None:
            depends = condition_variables(document)
            self._depends.put((query, requested), depends)
        key = (query, requested, *(variables.coerced.get(name) for name in depends))
        found = self._compiled.get(key)
        if found is None or (found is not _NOT_COMPILED and found.document is not document):  # type: ignore[attr-defined]
            found = self._compile(document, requested, variables)
            self._compiled.put(key, found)
        return None if found is _NOT_COMPILED else found  # type: ignore[return-value]

    def _compile(self, document: DocumentNode, requested: str | None, variables: VariableValues) -> object:
        try:
            items = self.executor_class.record_items  # type: ignore[attr-defined]
            return compile_query(self.core, self.readers, self.catalog, document, requested, variables, items)
        except (_Refused, GraphQLError):  # e.g. @skip(if: $s) with $s null: the normal path refuses it
            return _NOT_COMPILED

    async def _run(
        self, compiled: CompiledQuery, query: str, variables: VariableValues, context: RequestContext
    ) -> ExecutionResult:
        """AccessPlanner.on_execute, ForwardedConsumer, the execution and DisputedMarks, in
        the order strawberry runs them; an exception is answered as ``Schema.execute``
        answers one (a request error, no ``data``)."""
        try:
            context.extra["variables"] = variables  # the values planned with, for resolvers.subjects
            operation = Operation(self.core, query, compiled.document, compiled.planned_name)
            context.plan = await plan_operation(
                self.caches.index, self.caches.plans, operation, context, variables
            )
            denials = context.plan.denials()
            if denials and context.reject_unauthorized:
                refused = CoreResult(data=None, errors=[request_error(e) for e in denials])
                self.schema.process_errors(refused.errors)
                return ExecutionResult(data=None, errors=refused.errors, extensions={})
            token = on_behalf_of.set(context.on_behalf())
            try:
                result = await self._executor(compiled, context, variables).run(compiled)
                if result.errors:
                    self.schema.process_errors(result.errors)
                marks = await disputed_marks(context, result)
            finally:
                on_behalf_of.reset(token)
        except Exception as exc:  # as Schema.execute: the whole request fails with it
            error = exc if isinstance(exc, GraphQLError) else GraphQLError(str(exc), original_error=exc)
            self.schema.process_errors([error])
            return PreExecutionError(data=None, errors=[error], extensions={})
        return ExecutionResult(
            data=result.data, errors=result.errors, extensions={DISPUTED: marks} if marks else {}
        )

    def _executor(
        self, compiled: CompiledQuery, context: RequestContext, variables: VariableValues
    ) -> CompiledWalk:
        """graphql-core's executor for the operation, as ``Executor.build`` makes it (less the
        second variable coercion: these are the values planned with)."""
        return self.executor_class(  # type: ignore[no-any-return]
            self.core, compiled.fragment_definitions, compiled.fragments, None, context, compiled.operation,
            variables, default_field_resolver, default_type_resolver, default_field_resolver, False, None,
            optimized_is_awaitable, None, hide_suggestions=False, abort_signal=None, hooks=None,
        )  # fmt: skip


def resolves_per_field(schema: Any) -> bool:
    """Whether one of the strawberry schema's extensions resolves per field (strawberry's
    field middleware, e.g. its operation-directives extension): the compiled walk does not
    run field middleware, so such a schema gets no fast path."""
    return any(extension._implements_resolve() for extension in schema.get_extensions())


def _compiled_bytes(key: tuple[object, ...], value: object) -> int:
    """What an entry keeps alive: its text, and its document's nodes when compiled."""
    if isinstance(value, CompiledQuery):
        return document_bytes(str(key[0]), value.document)
    return text_bytes(str(key[0]))


class CompiledWalk:
    """graphql-core's execution of a compiled operation: mixed into the schema's executor
    class (``resolvers.schema.LimitedExecution``), whose ``execute_fields`` (the result
    values cap, records), ``handle_field_error`` (the error cap, locations, null
    propagation) and ``collected_errors`` it uses. Each method names the graphql-core
    ``Executor`` method whose steps it takes, in the same order."""

    context_value: RequestContext
    fragment_definitions: dict[str, FragmentDefinitionNode]
    variable_values: VariableValues
    collected_errors: Any
    execute_fields: Callable[..., Any]
    handle_field_error: Callable[..., None]
    complete_leaf_value: Callable[..., Any]
    count_values: Callable[[int], None]
    build_response: Callable[[Any], CoreResult]
    settle_in_background: Callable[[list[Any]], None]
    cancel_incremental_work: Callable[[], Awaitable[None]]
    run_async_work_finished_hook: Callable[[], None]

    async def run(self, compiled: CompiledQuery) -> CoreResult:
        """``execute_operation`` of a query (no abort signal, no incremental delivery)."""
        try:
            data = await self._roots(compiled.roots)
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            return self.build_response(None)
        except Exception:
            await self.cancel_incremental_work()
            self.run_async_work_finished_hook()
            raise
        return self.build_response(data)

    async def _roots(self, roots: tuple[RootField, ...]) -> dict[str, Any]:
        """``execute_fields`` over the root fields: counted, then each started."""
        self.count_values(len(roots))
        results: dict[str, Any] = {}
        pending: list[str] = []
        try:
            for root in roots:
                results[root.key] = value = self._root(root, Path(None, root.key, "Query"))
                if optimized_is_awaitable(value):
                    pending.append(root.key)
        except Exception:
            if pending:
                self.settle_in_background([results[key] for key in pending])
            raise
        await self._settle(results, pending)
        return results

    async def _settle(self, results: dict[Any, Any], pending: list[Any]) -> None:
        """``get_results``: one pending value awaited, several gathered (first error cancels)."""
        if len(pending) == 1:
            results[pending[0]] = await results[pending[0]]
        elif pending:
            done = await gather_with_cancel(*(results[key] for key in pending))
            for key, value in zip(pending, done, strict=True):
                results[key] = value

    def _root(self, root: RootField, path: Path) -> Any:
        """``execute_field`` of a root look-up: arguments, then the resolver's coroutine."""
        try:
            first = root.details[0]
            args = get_argument_values(
                root.field, first.node, self.variable_values, first.fragment_variable_values
            )
            context = self.context_value
            looked_up: Awaitable[Any]
            if root.many:
                looked_up = self._many(context, root.kind, list(args[root.argument]), root.selected)
            else:
                looked_up = look_up(context, root.kind, args[root.argument], root.selected)
            return self._complete_root(root, path, looked_up)
        except Exception as raw_error:
            self.handle_field_error(raw_error, root.field.type, root.details, path)
            return None

    _many: ManyLookUp

    async def _complete_root(self, root: RootField, path: Path, looked_up: Awaitable[Any]) -> Any:
        """``complete_awaitable_value``: the look-up awaited, then completed."""
        try:
            resolved = await looked_up
            if isinstance(resolved, Exception):
                raise resolved
            completed = self._list(root, path, resolved) if root.many else self._subject(root, path, resolved)
            if optimized_is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, root.field.type, root.details, path)
            completed = None
        return completed

    def _list(self, root: RootField, path: Path, subjects: list[Any] | None) -> Any:
        """``complete_value`` of ``[Subject]!`` (``complete_iterable_value``): each item
        completed in order, its errors at its index."""
        if subjects is None:
            raise TypeError(
                f"Cannot return null for non-nullable field Query.{root.details[0].node.name.value}."
            )
        item_type = root.field.type.of_type.of_type
        completed: list[Any] = []
        pending: list[int] = []
        try:
            for index, item in enumerate(subjects):
                item_path = path.add_key(index, None)
                try:
                    value = self._subject(root, item_path, item)
                    if optimized_is_awaitable(value):
                        value = self._item_awaited(root, item_type, item_path, value)
                        pending.append(index)
                    completed.append(value)
                except Exception as raw_error:
                    self.handle_field_error(raw_error, item_type, root.details, item_path)
                    completed.append(None)
        except Exception:
            if pending:
                self.settle_in_background([completed[index] for index in pending])
            raise
        if not pending:
            return completed
        return self._list_settled(completed, pending)

    async def _list_settled(self, completed: list[Any], pending: list[int]) -> list[Any]:
        await self._settle(completed, pending)  # type: ignore[arg-type]
        return completed

    async def _item_awaited(self, root: RootField, item_type: Any, item_path: Path, value: Any) -> Any:
        """``complete_list_item_value``'s ``await_completed``."""
        try:
            return await value
        except Exception as raw_error:
            self.handle_field_error(raw_error, item_type, root.details, item_path)
            return None

    def _subject(self, root: RootField, path: Path, subject: Any) -> Any:
        """``complete_value`` of a nullable subject: None, or its fields (``execute_fields``)."""
        if isinstance(subject, Exception):
            raise subject
        if subject is None:
            return None
        self.count_values(len(root.fields))
        results: dict[str, Any] = {}
        pending: list[str] = []
        try:
            for field in root.fields:
                results[field.key] = value = self._subject_field(
                    root, field, Path(path, field.key, root.subject_type.name), subject
                )
                if optimized_is_awaitable(value):
                    pending.append(field.key)
        except Exception:
            if pending:
                self.settle_in_background([results[key] for key in pending])
            raise
        if not pending:
            return results
        return self._subject_settled(results, pending)

    async def _subject_settled(self, results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
        await self._settle(results, pending)
        return results

    def _subject_field(self, root: RootField, field: SubjectField, path: Path, subject: Subject) -> Any:
        """``execute_field`` of a field under a subject."""
        if field.resource is None:
            return self._leaf(root, field, path, subject)
        try:
            resource = field.resource
            carried = CarriedAt(path, field.nodes, self.fragment_definitions)
            value = resource.read(subject, self.context_value, carried)
            if optimized_is_awaitable(value):
                return self._resource_awaited(field, path, value)
            return self._record(field, path, value)
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.return_type, field.details, path)
            return None

    def _leaf(self, root: RootField, field: SubjectField, path: Path, subject: Subject) -> Any:
        """``__typename`` (its type's name) or the code (``String!``/``USCC!`` completed)."""
        if not field.code:
            return root.subject_type.name
        try:
            value = subject.code
            if isinstance(value, Exception):
                raise value
            completed = None if value is None else self.complete_leaf_value(field.return_type.of_type, value)  # type: ignore[union-attr]
            if completed is None:
                name = field.details[0].node.name.value
                raise TypeError(f"Cannot return null for non-nullable field {root.subject_type.name}.{name}.")
            return completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.return_type, field.details, path)
            return None

    async def _resource_awaited(self, field: SubjectField, path: Path, value: Awaitable[Any]) -> Any:
        """``complete_awaitable_value`` of a resource read from its source now."""
        try:
            completed = self._record(field, path, await value)
            if optimized_is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, field.return_type, field.details, path)
            completed = None
        return completed

    def _record(self, field: SubjectField, path: Path, record: Any) -> Any:
        """``complete_value`` of a nullable resource: None, or the executor's ``execute_fields``
        (which completes a Record's items in one loop: resolvers.fastpath)."""
        if isinstance(record, Exception):
            raise record
        if record is None:
            return None
        resource = field.resource
        assert resource is not None
        return self.execute_fields(resource.record_type, record, path, resource.grouped, None)


def compile_query(
    schema: GraphQLSchema,
    readers: Readers,
    catalog: Any,
    document: DocumentNode,
    requested: str | None,
    variables: VariableValues,
    record_items: RecordItems,
) -> CompiledQuery:
    """The compiled form of the operation ``requested`` of a valid ``document``, its fields
    collected as graphql-core collects them with these ``variables``. Raises ``_Refused``
    for any shape it does not know."""
    try:
        operation = select_operation(document, requested)
    except OperationNotFound:
        raise _Refused from None
    if operation.operation is not OperationType.QUERY or operation.directives or _other_directives(document):
        raise _Refused
    definitions = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    if any(d.variable_definitions for d in definitions.values()):
        raise _Refused
    fragments = {name: FragmentDetails(d, None) for name, d in definitions.items()}
    root_type = schema.query_type
    assert root_type is not None
    grouped, defers, _ = collect_fields(schema, fragments, variables, root_type, operation)
    if defers:
        raise _Refused
    compiler = _Compiler(schema, readers, catalog, fragments, definitions, operation, variables, record_items)
    roots = tuple(compiler.root(root_type, key, details) for key, details in grouped.items())
    return CompiledQuery(
        document, operation, _planned_name(document, requested), definitions, fragments, roots
    )


def _planned_name(document: DocumentNode, requested: str | None) -> str | None:
    """strawberry's ``ExecutionContext.operation_name``: the name sent, else the first
    operation's name (what AccessPlanner plans with)."""
    if requested is not None:
        return requested
    first = next((d for d in document.definitions if isinstance(d, OperationDefinitionNode)), None)
    return first.name.value if first is not None and first.name is not None else None


class _DirectiveFinder(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.other = False

    def enter_directive(self, node: DirectiveNode, *_: object) -> None:
        if node.name.value not in _CONDITIONS:
            self.other = True


def _other_directives(document: DocumentNode) -> bool:
    """Whether any directive but ``@skip``/``@include`` appears in the document."""
    finder = _DirectiveFinder()
    visit(document, finder)
    return finder.other


@dataclass
class _Compiler:
    schema: GraphQLSchema
    readers: Readers
    catalog: Any
    fragments: dict[str, FragmentDetails]
    definitions: dict[str, FragmentDefinitionNode]
    operation: OperationDefinitionNode
    variables: VariableValues
    record_items: RecordItems

    def root(self, root_type: GraphQLObjectType, key: str, details: FieldDetailsList) -> RootField:
        node = _plain_node(details)
        if node.name.value not in SUBJECT_ROOTS:
            raise _Refused
        kind, many = SUBJECT_ROOTS[node.name.value]
        field = root_type.fields[node.name.value]
        subject_type = get_named_type(field.type)
        if len(field.args) != 1 or not is_object_type(subject_type) or subject_type.is_type_of is not None:
            raise _Refused
        assert isinstance(subject_type, GraphQLObjectType)
        grouped = self._sub(subject_type, details)
        fields = tuple(self.subject_field(kind, subject_type, k, d) for k, d in grouped.items())
        names = selected_fields(
            self.schema, self.definitions, self.variables, subject_type, [d.node for d in details]
        )
        selected = resources_named(self.catalog, kind, names)
        return RootField(
            key, details, field, kind, many, next(iter(field.args)), subject_type, fields, selected
        )

    def subject_field(
        self, kind: str, subject_type: GraphQLObjectType, key: str, details: FieldDetailsList
    ) -> SubjectField:
        node = _plain_node(details)
        name = node.name.value
        nodes = [d.node for d in details]
        if name == "__typename":
            return SubjectField(key, details, nodes, TypeNameMetaFieldDef.type, None)
        field = subject_type.fields.get(name)
        if field is None or node.arguments:
            raise _Refused
        if (
            name == CODE_FIELDS[kind]
            and node.selection_set is None
            and getattr(field.resolve, "_is_default", False)
        ):
            if is_nullable_type(field.type):
                raise _Refused
            return SubjectField(key, details, nodes, field.type, None, code=True)
        read = self.readers.get((subject_type.name, name))
        record_type = get_named_type(field.type)
        if read is None or not is_nullable_type(field.type) or not is_object_type(record_type):
            raise _Refused
        assert isinstance(record_type, GraphQLObjectType)
        if record_type.is_type_of is not None:
            raise _Refused
        grouped = PlannedFields.of(
            record_type, self.record_items.get(record_type.name), self._sub(record_type, details)
        )
        return SubjectField(key, details, nodes, field.type, ResourcePlan(read, record_type, grouped))  # type: ignore[arg-type]

    def _sub(self, parent: GraphQLObjectType, details: FieldDetailsList) -> GroupedFieldSet:
        grouped, defers, _ = collect_subfields(
            self.schema, self.fragments, self.variables, self.operation, parent, details
        )
        if defers or any(d.defer_usage or d.fragment_variable_values for ds in grouped.values() for d in ds):
            raise _Refused
        return grouped


def _plain_node(details: FieldDetailsList) -> FieldNode:
    if any(d.defer_usage or d.fragment_variable_values for d in details):
        raise _Refused
    return details[0].node


__all__ = ["Caches", "CompiledQueries", "CompiledQuery", "compile_query", "resolves_per_field"]
