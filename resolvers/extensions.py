"""Strawberry schema extensions, each run once per operation, never per field.

- ``DocumentCache``: parses a document once per query text, after refusing one longer
  than ``max_document_chars``; ``MaxTokensLimiter`` (before it in the list) makes the
  parser stop at ``max_tokens``. Documents are kept within ``cache_bytes``.
- ``Validation``: checks the cost limits of ``resolvers.limits`` in one linear walk, then
  validates a document once per query text (the parser cache maps one text to one
  document, so the text is the cheapest sound key; hashing the document walks the whole
  tree), stopping at ``max_errors``, and turns "Cannot query field" on a non-shared item
  into a ``NOT_SHARED`` error citing the legal basis.
- ``AccessPlanner``: picks the operation and coerces its variables as execution will
  (a failure there is a request error: nothing runs, and the answer has no ``data``),
  then decides every requested item before execution, and refuses the whole operation
  when the request asked for all-or-nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, ExecutionResult, GraphQLError, GraphQLSchema, parse, validate
from graphql.execution.values import VariableValues, get_variable_values
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionContext, PreExecutionError

from connectors.forwarding import on_behalf_of
from errors import AccessDenied, OperationNotSelected, QueryTooComplex
from policies.catalog import Catalog, Item, Resource
from policies.decision import (
    AccessPlan,
    has_purpose,
    needs_grant,
    not_shared_refusal,
    plan_access,
    require_onboarded,
)
from policies.share import Mode
from resolvers.context import RequestContext
from resolvers.limits import (
    ByteBoundedCache,
    OperationLimits,
    ParseBudget,
    check_document,
    document_bytes,
    text_bytes,
    too_complex,
)
from resolvers.planning import ItemIndex, OperationNotFound, Wanted, select_operation

_UNKNOWN_FIELD = re.compile(r"^Cannot query field '(\w+)' on type '(\w+)'")
_TOO_MANY_TOKENS = re.compile(r"^Syntax Error: Document contains more than (\d+) tokens")
_NESTED_TOO_DEEPLY = "Document is nested too deeply"
# The lexical tokens of GraphQL (spec, section 2.1.6 Lexical Tokens) and comments, as the
# parser counts them for max_tokens: one C-speed pass that spares the Python lexer any
# document over the limit. Strings are matched whole, so their contents count once. A
# string left open (the parser refuses it) runs to the end of its line, a block string to
# the end of the document: matched that far as one token, so the scan never restarts
# inside it. Requiring the closing quote made the scan restart at every escaped quote of
# an open string: quadratic, ~0.8 s for 16 KB of '"\' counted as a handful of tokens.
_TOKEN = re.compile(
    r'"""(?:\\"""|[^"]|"(?!""))*(?:"""|\Z)|"(?:\\.|[^"\\\n\r])*"?|#[^\n\r]*|\.\.\.|[!$&():=@\[\]{|}]'
    r"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|[_A-Za-z][_0-9A-Za-z]*"
)
_TOO_MANY_ERRORS = "Too many validation errors"
NotSharedIndex = Mapping[tuple[str, str], tuple[Catalog, Resource, Item]]
PLAN_BYTES = 16_384  # an access plan or a wanted-items map: a few objects per catalog item


@dataclass(frozen=True)
class Checked:
    """A document's validation outcome: its errors, or the cost limit it exceeds."""

    errors: tuple[GraphQLError, ...]
    refusal: QueryTooComplex | None
    bytes: int  # what the entry keeps alive: errors point into the document


def document_cache(limits: OperationLimits) -> ByteBoundedCache[str, DocumentNode]:
    return ByteBoundedCache(limits.cache_bytes, document_bytes)


def validation_cache(limits: OperationLimits) -> ByteBoundedCache[str, Checked]:
    return ByteBoundedCache(limits.cache_bytes, lambda _, checked: checked.bytes)


PlanKey = tuple[object, ...]  # (resource id, item names) pairs and whether a purpose was sent


def plan_cache(limits: OperationLimits) -> ByteBoundedCache[PlanKey, AccessPlan]:
    return ByteBoundedCache(limits.cache_bytes, lambda key, _: PLAN_BYTES + 256 * len(key))


class DocumentCache(SchemaExtension):
    """Parse once per text, within the document limits (replaces strawberry's ParserCache,
    which bounds entries but not bytes); a text not parsed before is charged to the
    client's ``ParseBudget``."""

    def __init__(
        self, limits: OperationLimits, cache: ByteBoundedCache[str, DocumentNode], budget: ParseBudget
    ) -> None:
        self.limits = limits
        self.cache = cache
        self.budget = budget

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        text = ctx.query
        if text:
            if len(text) > self.limits.max_document_chars:
                raise too_complex("max_document_chars", self.limits.max_document_chars, "characters",
                                  len(text))  # fmt: skip
            document = self.cache.get(text)
            if document is None:
                tokens = len(_TOKEN.findall(text))
                if tokens > self.limits.max_tokens:
                    raise too_complex("max_tokens", self.limits.max_tokens, "tokens", tokens)
                self.budget.take(_client(ctx.context), tokens, time.monotonic())
                document = self._parse(text)
                self.cache.put(text, document)
            ctx.graphql_document = document
        yield

    def _parse(self, text: str) -> DocumentNode:
        try:
            return parse(text, **self.execution_context.parse_options)
        except GraphQLError as error:
            tokens = _TOO_MANY_TOKENS.match(error.message)
            if tokens:
                raise too_complex("max_tokens", int(tokens.group(1)), "tokens") from None
            if error.message.startswith(f"Syntax Error: {_NESTED_TOO_DEEPLY}"):
                raise too_complex("max_depth", self.limits.max_depth, "levels of nesting") from None
            raise


def _client(context: object) -> str:
    """Whose budget a new document is charged to: the calling client system."""
    consumer = getattr(context, "consumer", None)
    return f"{consumer.department}/{consumer.client_id}" if consumer is not None else ""


class Validation(SchemaExtension):
    def __init__(
        self, not_shared: NotSharedIndex, cache: ByteBoundedCache[str, Checked], limits: OperationLimits
    ) -> None:
        self.not_shared = not_shared
        self.cache = cache
        self.limits = limits

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        key = ctx.query
        checked = self.cache.get(key) if key else None
        if checked is None:
            assert ctx.graphql_document is not None
            checked = self._check(ctx.graphql_document)
            if key:
                self.cache.put(key, checked)
        if checked.refusal is not None:
            raise checked.refusal
        ctx.pre_execution_errors = list(checked.errors)
        yield

    def _check(self, document: DocumentNode) -> Checked:
        """The cost limits first (one linear walk), then validation, at most max_errors."""
        ctx = self.execution_context
        try:
            check_document(document, self.limits)
        except QueryTooComplex as refusal:
            return Checked((), refusal, text_bytes(ctx.query))
        found = validate(
            ctx.schema._schema, document, ctx.validation_rules, max_errors=self.limits.max_errors
        )
        if found and isinstance(found[-1], ValidationAbortedError):
            return Checked((), self._aborted(found[-1], len(found) - 1), text_bytes(ctx.query))
        errors = tuple(self._rewrite(e) for e in found)
        size = document_bytes(ctx.query, document) + 2_048 * len(errors) if errors else text_bytes(ctx.query)
        return Checked(errors, None, size)

    def _aborted(self, error: ValidationAbortedError, found: int) -> QueryTooComplex:
        """graphql-core stops at max_errors, or when fragments nest beyond its recursion limit."""
        if error.message.startswith(_TOO_MANY_ERRORS):
            return too_complex("max_errors", self.limits.max_errors, "validation errors")
        return too_complex("max_depth", self.limits.max_depth, "levels of nesting (through fragments)")

    def _rewrite(self, error: GraphQLError) -> GraphQLError:
        match = _UNKNOWN_FIELD.match(error.message)
        hit = self.not_shared.get((match.group(2), match.group(1))) if match else None
        if hit is None:
            return error
        denial = not_shared_refusal(*hit)  # the decision's words, in the profile's terms
        return GraphQLError(denial.message, error.nodes, original_error=denial, extensions=denial.extensions)


class ForwardedConsumer(SchemaExtension):
    """While an operation runs, its source calls carry its consumer
    (``connectors.forwarding.on_behalf_of``): a connector reading an upstream gateway forwards
    it, so the upstream decides on this consumer's grants (cascading gateways). Set in the
    executing task, inherited by the DataLoader tasks it starts, reset when it ends."""

    def on_execute(self) -> Iterator[None]:
        context: RequestContext = self.execution_context.context
        token = on_behalf_of.set(context.on_behalf())
        try:
            yield
        finally:
            on_behalf_of.reset(token)


class AccessPlanner(SchemaExtension):
    def __init__(self, index: ItemIndex, plans: ByteBoundedCache[PlanKey, AccessPlan]) -> None:
        self.index = index
        self.plans = plans  # plans that need no grant are the same for every consumer

    def on_parse(self) -> Iterator[None]:
        """Pick the operation as soon as the document is parsed (GraphQL spec 6.1
        GetOperation): before strawberry checks the operation type of the first operation
        (a GET of "mutation A ... query B ..." without a name is 400, not 405), and before
        validation spends work on a request that cannot run."""
        yield
        ctx = self.execution_context
        if ctx.graphql_document is not None:  # a syntax error is answered as such
            try:
                chosen = select_operation(ctx.graphql_document, _requested_operation(ctx))
            except OperationNotFound as exc:
                raise OperationNotSelected(str(exc)) from None
            if isinstance(ctx.context, RequestContext):  # for metrics and traces (resolvers.metrics)
                ctx.context.operation = chosen.operation.value

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        ctx = self.execution_context
        context: RequestContext = ctx.context
        variables = self._coerced_variables()
        if isinstance(variables, list):  # a request error: execution must not start (spec 6.1)
            ctx.result = PreExecutionError(data=None, errors=variables)
            yield
            return
        context.extra["variables"] = variables  # the values planned with, for resolvers.subjects
        context.plan = await self._plan(context, variables)
        denials = context.plan.denials()
        if denials and context.reject_unauthorized:
            ctx.result = ExecutionResult(data=None, errors=[request_error(e) for e in denials])
        yield

    def _coerced_variables(self) -> VariableValues | list[GraphQLError]:
        ctx = self.execution_context
        assert ctx.graphql_document is not None
        return coerced_variables(
            ctx.schema._schema, ctx.graphql_document, _requested_operation(ctx), ctx.variables
        )

    async def _plan(self, context: RequestContext, variables: VariableValues) -> AccessPlan:
        ctx = self.execution_context
        assert ctx.graphql_document is not None
        operation = Operation(ctx.schema._schema, ctx.query or "", ctx.graphql_document, ctx.operation_name)
        return await plan_operation(self.index, self.plans, operation, context, variables)


def coerced_variables(
    schema: GraphQLSchema, document: DocumentNode, requested: str | None, raw: dict[str, Any] | None
) -> VariableValues | list[GraphQLError]:
    """The variables of the operation ``requested`` (the operationName sent) coerced (GraphQL
    spec 6.1 GetOperation and 6.1.2 CoerceVariableValues), or the request errors that stop
    the request."""
    try:
        operation = select_operation(document, requested)
    except OperationNotFound as exc:
        error = OperationNotSelected(str(exc))
        return [GraphQLError(error.message, original_error=error, extensions=error.extensions)]
    definitions = operation.variable_definitions or ()
    return get_variable_values(schema, definitions, raw or {}, max_errors=50)


@dataclass(frozen=True)
class Operation:
    """What planning reads of a request's operation: its schema, text, document and name
    (strawberry's ``operation_name``: the one sent, else the first operation's)."""

    schema: GraphQLSchema
    query: str
    document: DocumentNode
    name: str | None


async def plan_operation(
    index: ItemIndex,
    plans: ByteBoundedCache[PlanKey, AccessPlan],
    operation: Operation,
    context: RequestContext,
    variables: VariableValues,
) -> AccessPlan:
    """The access plan of ``operation`` for ``context``'s consumer and purpose: every item
    it wants decided (policies.decision.plan_access), cached when no item needs a grant.
    Raises ``OnboardingRequired`` (Sanya art. 12) for a department not onboarded."""
    wanted = index.wanted(operation.schema, operation.query, operation.document, operation.name, variables)
    context.extra["wanted"] = wanted  # the audit event names them even if planning refuses
    request = await context.access_request(Mode.QUERY)
    if any(wanted.values()):  # before the plan cache: a cached plan was made for an onboarded department
        require_onboarded(request, context.federation.catalog)
    if any(_has_conditional(context, rid, names) for rid, names in wanted.items()):
        grants = await context.federation.grants.grants_for(context.consumer.department)
        return plan_access(request, context.federation.catalog, wanted, grants)
    # the same items (whatever the text or the skipped selections) need the same decisions
    key = (*sorted(wanted.items()), has_purpose(request.purpose))
    plan = plans.get(key)
    if plan is None:
        plan = plan_access(request, context.federation.catalog, wanted, ())
        plans.put(key, plan)
    return plan


def _requested_operation(ctx: ExecutionContext) -> str | None:
    """The operationName the request sent. Strawberry's ``operation_name`` falls back to the
    first operation's name, which would run one of several operations nobody chose."""
    return getattr(ctx, "_provided_operation_name", ctx.operation_name)  # type: ignore[no-any-return]


def _has_conditional(context: RequestContext, rid: str, names: frozenset[str]) -> bool:
    """Whether some item needs a grant (conditional, or unconditional on application)."""
    catalog = context.federation.catalog
    resource = catalog.resources[rid]
    return any(needs_grant(catalog, resource.items_by_name[n]) for n in names)


def request_error(error: AccessDenied) -> GraphQLError:
    """A refusal of the whole operation (all-or-nothing) as the request error it answers with."""
    return GraphQLError(error.message, original_error=error, extensions=error.extensions)


__all__ = [
    "AccessPlanner",
    "Checked",
    "DocumentCache",
    "Operation",
    "Validation",
    "Wanted",
    "coerced_variables",
    "plan_operation",
    "request_error",
]
