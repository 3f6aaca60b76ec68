"""Which outcomes of a source call count against the source's circuit breaker.

A circuit breaker (resolvers.breaker) must open when the SOURCE fails, never because of one
consumer: a source that answers "not for you" is up. An upstream gateway (cascading
gateways, connectors.graphql) decides on the ORIGINAL consumer's grants and raises that
consumer's refusal from ``fetch``: its cap used up (``RATE_LIMITED``), no or an expired
grant (``AccessDenied`` and its kinds), a missing purpose or a bad request
(``BadRequest``). Counted as failures they would let one county consumer without a grant,
asking five times, cut every other consumer off the whole provincial department for the
open period (Hubei art. 26 counts such time against the department's availability).

Nor does a call the connector does not offer say anything about the source: a ``scan``
(export) of a resource read over a ``graphql`` connector, or a read with no consumer to
forward (``/compare``), is refused by the connector before anything is sent, as
``SourceUnavailable`` with ``extensions.unsupported`` naming what is not offered. Counted,
five exports of an imported resource by one consumer opened the upstream's circuit.

A call not offered is neither a failure nor a success: it is not counted, and a half-open
circuit's probe slot it took is given back (the probe must reach the source).

So: a failure is ``SourceUnavailable`` (timeouts included: a hung source is the case the
breaker exists for) other than a call not offered, or any exception that is not a govshare
error (a dropped link, a driver error); every other govshare error is an answer about the
consumer, and the call succeeded.
"""

from __future__ import annotations

from typing import Final

from errors import GovshareError, SourceUnavailable

FAILED: Final = "failed"  # the source failed: the breaker counts it
ANSWERED: Final = "answered"  # the source answered (rows, or a refusal of the consumer)
NOT_ASKED: Final = "not_asked"  # the connector refused the call before asking: no evidence


def call_outcome(exc: BaseException | None) -> str:
    """What a source call that ended with ``exc`` (None: rows) says about the source:
    ``FAILED``, ``ANSWERED`` or ``NOT_ASKED`` (see the module docstring)."""
    if exc is None:
        return ANSWERED
    if isinstance(exc, SourceUnavailable):
        return NOT_ASKED if "unsupported" in exc.extensions else FAILED
    return ANSWERED if isinstance(exc, GovshareError) else FAILED


def counts_against_source(exc: BaseException) -> bool:
    """True when ``exc`` raised by a source call means the source failed."""
    return call_outcome(exc) == FAILED
