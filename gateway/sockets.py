"""GraphQL subscriptions over WebSocket (``graphql-transport-ws``) on ``/graphql``.

Strawberry's own ASGI view runs the protocol (strawberry.asgi.GraphQL with its
graphql-transport-ws handler); HTTP on the same path stays with :mod:`gateway.http`
(Starlette routes a websocket scope to this endpoint and an http scope to that one).

Authentication: the ``connection_init`` payload carries the same bearer token as the
``Authorization`` header of HTTP requests, as ``{"Authorization": "Bearer <token>"}``
(optionally ``"X-Purpose"``). A missing or refused token closes the socket with 4403
Forbidden, as the protocol says for a refused ``connection_init``; a ``subscribe`` before
the acknowledgement is closed with 4401 Unauthorized (strawberry). Only subscriptions run
here: a query or mutation is answered with an ``error`` message naming HTTP POST, since
reads are audited and answered by the HTTP endpoint. The token is checked at
``connection_init`` and again before each notice is sent: once it has expired (or its
signing key was rotated away) the subscription ends with an ``UNAUTHENTICATED`` error and
nothing more is sent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, OperationType, parse
from graphql.utilities import get_operation_ast
from starlette.requests import Request
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler

from errors import BadRequest, GovshareError, RateLimited
from gateway.auth import bearer_token
from gateway.http import header_value
from policies.decision import Consumer, canonical_purpose
from resolvers.context import RequestContext
from resolvers.limits import HOW_TO_FIT, OperationLimits, too_complex

if TYPE_CHECKING:
    from gateway.app import Gateway

NOBODY = Consumer("", "", frozenset())  # before connection_init: nothing may run (4401)
ONLY_SUBSCRIPTIONS = "only subscriptions are served over WebSocket; send queries and mutations by HTTP POST"


@dataclass(eq=False)
class SocketContext(RequestContext):
    """The request context of one WebSocket connection (shared by its subscriptions)."""

    connection_params: dict[str, Any] | None = None
    token: str | None = None  # the bearer token of connection_init, checked again per notice
    gateway: Gateway | None = None

    async def recheck_credentials(self) -> None:
        """Before each notice is decided. The connection's token again (the authenticator
        remembers it: cheap): a token expired, or of a rotated-away key, ends the
        subscriptions (``Unauthenticated``). And the catalog, as for an HTTP data request
        (gateway.catalog_follow): a catalog published by another process is served first,
        and while this process cannot serve it the subscriptions end
        (``CatalogOutOfDate``): the old catalog may still share an item since withdrawn."""
        if self.gateway is None:
            return
        if self.token is not None:
            await self.gateway.authenticator.authenticate(self.token)
        await self.gateway.keep_current()


class SubscriptionsOnly(BaseGraphQLTransportWSHandler[SocketContext, None]):
    """Strawberry's graphql-transport-ws handler, refusing anything but a subscription, a
    document past the document limits before it is parsed whole, and a subscription past
    ``max_subscriptions`` live ones of its consumer department in this process (an
    ``error`` message): every notice costs each subscription a token check, a grants and
    holdings read and an audit event, so one consumer's thousands would delay the others'."""

    async def handle_subscribe(self, message: Any) -> None:
        gateway: Gateway = self.view.gateway  # type: ignore[attr-defined]
        refusal = self._refusal(message, gateway) if self.connection_acknowledged else None
        if refusal is not None:
            error = GraphQLError(refusal.message, extensions=refusal.extensions)
            await self.send_message({"id": message["id"], "type": "error", "payload": [error.formatted]})
            return
        counted = self.connection_acknowledged and message["id"] not in self.operations  # else closed
        await super().handle_subscribe(message)
        if counted and message["id"] in self.operations:
            self._hold(gateway, self.operations[message["id"]].task)

    def _refusal(self, message: Any, gateway: Gateway) -> GovshareError | None:
        limits = gateway.settings.limits
        held = gateway.subscriptions[self.context.consumer.department]
        return _refusal(message.get("payload") or {}, limits) or _over_bound(held, limits)

    def _hold(self, gateway: Gateway, task: asyncio.Task[Any] | None) -> None:
        """Count the subscription against its department until its task ends, however."""
        department = self.context.consumer.department
        gateway.subscriptions[department] += 1
        if task is not None:
            task.add_done_callback(lambda _: gateway.subscriptions.subtract((department,)))


def _over_bound(held: int, limits: OperationLimits) -> RateLimited | None:
    """``RATE_LIMITED`` once a department holds ``max_subscriptions`` live subscriptions here."""
    if held < limits.max_subscriptions:
        return None
    maximum, fit = limits.max_subscriptions, HOW_TO_FIT["max_subscriptions"]
    return RateLimited(
        f"too many live subscriptions: this consumer department holds {held} in this gateway process, "
        f"the limit is {maximum} (max_subscriptions, GOVSHARE_MAX_SUBSCRIPTIONS); {fit}",
        limit="max_subscriptions", maximum=maximum, variable="GOVSHARE_MAX_SUBSCRIPTIONS",
    )  # fmt: skip


def _refusal(payload: dict[str, Any], limits: OperationLimits) -> GovshareError | None:
    """Why this operation may not run here: past ``max_document_chars`` or ``max_tokens``
    (QUERY_TOO_COMPLEX), or not a subscription (BAD_REQUEST). A syntax error is left to
    strawberry, which answers it."""
    text = str(payload.get("query", ""))
    if len(text) > limits.max_document_chars:
        return too_complex("max_document_chars", limits.max_document_chars, "characters", len(text))
    try:
        operation = get_operation_ast(parse(text, max_tokens=limits.max_tokens), payload.get("operationName"))
    except GraphQLError as exc:
        tokens = "Document contains more than" in exc.message
        return too_complex("max_tokens", limits.max_tokens, "tokens") if tokens else None
    if operation is None or operation.operation is OperationType.SUBSCRIPTION:
        return None
    return BadRequest(ONLY_SUBSCRIPTIONS)


class SubscriptionView(GraphQL[SocketContext, None]):
    graphql_transport_ws_handler_class = SubscriptionsOnly  # type: ignore[assignment]

    def __init__(self, gateway: Gateway) -> None:
        super().__init__(
            gateway.schema,
            graphql_ide=None,
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            # never below the department's bound, so that bound refuses first, with its code
            max_subscriptions_per_connection=gateway.settings.limits.max_subscriptions,
        )
        self.gateway = gateway

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> SocketContext:
        return SocketContext(federation=self.gateway.federation, consumer=NOBODY, gateway=self.gateway)

    async def on_ws_connect(self, context: SocketContext) -> None:
        """Authenticate the connection_init payload's bearer token, or refuse (4403)."""
        params = context.connection_params or {}
        header = _param(params, "authorization")
        try:
            context.token = bearer_token(header)
            context.consumer = await self.gateway.authenticator.authenticate(context.token)
        except GovshareError as exc:
            raise ConnectionRejectionError({"message": exc.message, "code": exc.code}) from None
        try:
            context.purpose = _purpose(params, self.gateway.settings.limits)
        except GovshareError as exc:
            raise ConnectionRejectionError({"message": exc.message, "code": exc.code}) from None


def _purpose(params: dict[str, Any], limits: OperationLimits) -> str | None:
    """The payload's ``X-Purpose`` under the rules of the HTTP header (gateway.http.header_value:
    no control or format character, percent-encoded UTF-8 allowed) and the HTTP head limit
    (``max_head_bytes``), canonical as the policy compares it; None when absent or blank.
    Raises ``BadRequest`` (``InvalidHeader``, ``QueryTooComplex``)."""
    purpose = _param(params, "x-purpose")
    if purpose is None:
        return None
    if len(purpose.encode()) > limits.max_head_bytes:
        raise too_complex(
            "max_head_bytes", limits.max_head_bytes, "bytes in X-Purpose", len(purpose.encode())
        )
    as_on_the_wire = purpose.encode().decode("latin-1")  # header_value reads Latin-1-decoded octets
    return canonical_purpose(header_value({"x-purpose": as_on_the_wire}, "x-purpose")) or None


def _param(params: dict[str, Any], name: str) -> str | None:
    """A payload entry by case-insensitive name, as text (headers are case-insensitive)."""
    value = next((v for k, v in params.items() if isinstance(k, str) and k.lower() == name), None)
    return value if isinstance(value, str) else None


class SocketEndpoint:
    """The ASGI app of the websocket route: one strawberry view per gateway, made on first use
    (the gateway starts in the app's lifespan, after the routes are made)."""

    def __init__(self) -> None:
        self._view: SubscriptionView | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # the connection's snapshot (gateway.catalog_swap.PinnedGateway); a new view once a
        # catalog swap brought a new schema (connections already open keep theirs)
        gateway: Gateway = scope.get("state", {}).get("gateway") or scope["app"].state.gateway
        if self._view is None or self._view.schema is not gateway.schema:
            self._view = SubscriptionView(gateway)
        await self._view(scope, receive, send)
