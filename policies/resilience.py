"""Which outcomes of a source call count against the source's circuit breaker.

A circuit breaker (resolvers.breaker) must open when the SOURCE fails, never because of one
consumer: a source that answers "not for you" is up. An upstream gateway (cascading
gateways, connectors.graphql) decides on the ORIGINAL consumer's grants and raises that
consumer's refusal from ``fetch``: its cap used up (``RATE_LIMITED``), no or an expired
grant (``AccessDenied`` and its kinds), a missing purpose or a bad request
(``BadRequest``). Counted as failures they would let one county consumer without a grant,
asking five times, cut every other consumer off the whole provincial department for the
open period (Hubei art. 26 counts such time against the department's availability).

So: a failure is ``SourceUnavailable`` (timeouts included: a hung source is the case the
breaker exists for) or any exception that is not a govshare error (a dropped link, a driver
error); every other govshare error is an answer about the consumer, and the call succeeded.
"""

from __future__ import annotations

from errors import GovshareError, SourceUnavailable


def counts_against_source(exc: BaseException) -> bool:
    """True when ``exc`` raised by a source call means the source failed (the breaker counts
    it); False for a refusal of the consumer the call was made for (the source answered)."""
    return isinstance(exc, SourceUnavailable) or not isinstance(exc, GovshareError)
