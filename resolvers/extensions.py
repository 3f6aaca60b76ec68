"""Strawberry schema extensions: the per-operation access plan, and NOT_SHARED errors.

Both run once per operation, never per field.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, Mapping

from graphql import ExecutionResult, GraphQLError

from errors import AccessDenied, NotShared
from policies.catalog import Item, Resource
from policies.decision import plan_access
from policies.share import Mode, Share
from resolvers.context import RequestContext
from resolvers.planning import ItemIndex
from strawberry.extensions import SchemaExtension

_UNKNOWN_FIELD = re.compile(r"^Cannot query field '(\w+)' on type '(\w+)'")


class AccessPlanner(SchemaExtension):
    """Decide every requested item before execution; refuse the operation if asked to."""

    def __init__(self, index: ItemIndex) -> None:
        self.index = index

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        ctx = self.execution_context
        context: RequestContext = ctx.context
        assert ctx.graphql_document is not None
        wanted = self.index.wanted(ctx.query or "", ctx.graphql_document, ctx.operation_name)
        needs_grants = any(_has_conditional(context, rid, names) for rid, names in wanted.items())
        grants = (
            await context.federation.grants.grants_for(context.consumer.department)
            if needs_grants
            else []
        )
        context.plan = plan_access(
            context.access_request(Mode.QUERY), context.federation.catalog, wanted, grants
        )
        denials = context.plan.denials()
        if denials and context.reject_unauthorized:
            ctx.result = ExecutionResult(data=None, errors=[_request_error(e) for e in denials])
        yield


def _has_conditional(context: RequestContext, rid: str, names: frozenset[str]) -> bool:
    resource = context.federation.catalog.resources[rid]
    return any(resource.items_by_name[n].share is Share.CONDITIONAL for n in names)


def _request_error(error: AccessDenied) -> GraphQLError:
    return GraphQLError(error.message, original_error=error, extensions=error.extensions)


class NotSharedErrors(SchemaExtension):
    """Name the legal basis when a query asks for an item that is kept out of the schema."""

    def __init__(self, not_shared: Mapping[tuple[str, str], tuple[Resource, Item]]) -> None:
        self.not_shared = not_shared

    def on_validate(self) -> Iterator[None]:
        yield
        errors = self.execution_context.pre_execution_errors
        if errors:  # in place: strawberry already holds this list (and may cache it)
            errors[:] = [self._rewrite(e) for e in errors]

    def _rewrite(self, error: GraphQLError) -> GraphQLError:
        match = _UNKNOWN_FIELD.match(error.message)
        hit = self.not_shared.get((match.group(2), match.group(1))) if match else None
        if hit is None:
            return error
        resource, item = hit
        denial = NotShared(
            f"{resource.id}.{item.name} ({item.title}) is not shared (不予共享) and is not in the "
            f"schema; legal basis: {item.basis}. Remove {item.field} from the query.",
            resource=resource.id,
            item=item.name,
            field=item.field,
            provider=resource.provider,
            basis=item.basis,
        )
        return GraphQLError(
            denial.message, error.nodes, original_error=denial, extensions=denial.extensions
        )
