"""policies.resilience: what a circuit breaker counts as the source's failure."""

from __future__ import annotations

import pytest

import errors
from errors import GovshareError
from policies.resilience import counts_against_source


def _all_errors() -> list[type[errors.GovshareError]]:
    found, pending = [], [errors.GovshareError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize("cls", _all_errors(), ids=lambda c: c.__name__)
def test_only_source_unavailable_among_govshare_errors_counts(cls: type[errors.GovshareError]) -> None:
    exc = cls.__new__(cls)  # the kind decides, not the message (some kinds take more arguments)
    GovshareError.__init__(exc, "x")
    assert counts_against_source(exc) == issubclass(cls, errors.SourceUnavailable)


@pytest.mark.parametrize("exc", [ConnectionResetError("x"), TimeoutError(), KeyError("col"), OSError()])
def test_anything_else_a_source_raises_counts(exc: Exception) -> None:
    assert counts_against_source(exc)


@pytest.mark.parametrize("unsupported", ["scan", "read without a consumer"])
def test_a_call_the_connector_does_not_offer_is_not_the_sources_failure(unsupported: str) -> None:
    """An export of a resource read over a graphql connector (no scan), or a /compare of one
    (no consumer forwarded): the connector refuses the kind of call, the source is fine. Five
    such calls of one consumer opened the upstream's circuit for every consumer."""
    assert not counts_against_source(errors.SourceUnavailable("not offered", unsupported=unsupported))
