"""The consumer a source call is made for, as data a forwarding connector can pass on.

Most connectors read a department's own store and never need to know who asked: the
gateway decides what a consumer may see and asks the source for exactly that. A
connector that reads ANOTHER gateway (kind ``graphql``: a city gateway federating a
provincial one, Hubei art. 9 and 12, Zhejiang art. 37, Zhengzhou art. 6) must instead let
that gateway decide on the ORIGINAL consumer's grants, so each call carries an
``OnBehalfOf``: the consumer's department (USCC), client system, civil servant, purpose and
application id, with a ``sign`` function that turns claims into a compact JWS by the
forwarding gateway's own key (the gateway provides it; connectors never import gateway).

It reaches the connector through the context variable ``on_behalf_of``, set by
``resolvers.batching.ResourceSource`` around each call of a connector whose class says
``forwards_identity = True``; such a connector's calls are never coalesced across
consumers. A forwarding connector called without one (an export, a health check) must
refuse rather than read as the gateway itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

AssertionSigner = Callable[[Mapping[str, Any]], str]  # claims -> compact JWS (RFC 7515 §7.1)


@dataclass(frozen=True)
class OnBehalfOf:
    """The original consumer of a forwarded call. ``key`` identifies it for grouping calls:
    two waiters with equal keys may share one upstream request."""

    department: str  # USCC of the consuming department (GB 32100)
    client_id: str
    user: str | None = None  # X-Request-User
    purpose: str | None = None  # canonical purpose (policies.decision.canonical_purpose)
    application_id: str | None = None  # X-Application-Id
    sign: AssertionSigner | None = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> tuple[str, str, str | None, str | None, str | None]:
        return (self.department, self.client_id, self.user, self.purpose, self.application_id)


on_behalf_of: ContextVar[OnBehalfOf | None] = ContextVar("govshare_on_behalf_of", default=None)
