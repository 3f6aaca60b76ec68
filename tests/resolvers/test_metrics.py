"""resolvers.metrics: outcome labels stay in the code table, the switch, and what the
circuit breaker and the row cache record (one call each, labelled by department / resource)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from resolvers import metrics
from resolvers.breaker import OPEN, BreakerSettings, CircuitBreaker
from resolvers.rowcache import BoundedMemoryCache, RowCache

DEPARTMENT = "11420100MB0009999T"  # a providing department of this test only


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def metrics_on() -> Iterator[None]:
    before = metrics.ON
    metrics.switch(True)
    yield
    metrics.switch(before)


@pytest.mark.parametrize(
    ("code", "status", "label"),
    [
        ("NOT_SHARED", 403, "NOT_SHARED"),
        ("CONDITIONAL_ACCESS_REQUIRED", 403, "CONDITIONAL_ACCESS_REQUIRED"),
        ("AUDIT_UNAVAILABLE", 503, "AUDIT_UNAVAILABLE"),
        ("invalid_client", 401, "invalid_client"),
        ("OK", 200, "OK"),
        ("91420103MA0000015T", 400, "HTTP_400"),  # text from a request never becomes a label
        (None, 404, "HTTP_404"),
        (7, 500, "HTTP_500"),
    ],
)
def test_outcome_is_a_code_of_the_table_or_the_status(code: object, status: int, label: str) -> None:
    assert metrics.outcome_code(code, status) == label


@given(st.one_of(st.text(max_size=40), st.none(), st.integers()), st.integers(100, 599))
def test_any_outcome_label_is_bounded(code: object, status: int) -> None:
    label = metrics.outcome_code(code, status)
    assert label in metrics.CODES or re.fullmatch(r"HTTP_\d{3}", label)


def test_the_code_table_is_every_error_of_the_hierarchy() -> None:
    assert {"BAD_REQUEST", "NOT_SHARED", "UNAUTHENTICATED", "RATE_LIMITED", "INTERNAL"} <= metrics.CODES
    assert "invalid_grant" in metrics.CODES and "OK" in metrics.CODES


def test_switched_off_nothing_is_recorded(metrics_on: None) -> None:
    before = sample("govshare_source_calls_total", department=DEPARTMENT, outcome="answered")
    metrics.switch(False)
    metrics.source_call(DEPARTMENT, "answered", 0.01)
    assert sample("govshare_source_calls_total", department=DEPARTMENT, outcome="answered") == before
    metrics.switch(True)
    metrics.source_call(DEPARTMENT, "answered", 0.01)
    assert sample("govshare_source_calls_total", department=DEPARTMENT, outcome="answered") == before + 1


def test_a_departments_circuit_is_a_gauge_and_its_refusals_are_counted(metrics_on: None) -> None:
    circuit = CircuitBreaker(DEPARTMENT, BreakerSettings(failures=2, open_seconds=60), department=DEPARTMENT)
    assert sample("govshare_source_circuit_state", department=DEPARTMENT) == 0
    opened = sample("govshare_source_circuit_opened_total", department=DEPARTMENT)
    rejected = sample("govshare_source_calls_total", department=DEPARTMENT, outcome="rejected")
    for _ in range(2):
        circuit.allow()
        circuit.failed("timeout")
    assert circuit.state == OPEN
    assert sample("govshare_source_circuit_state", department=DEPARTMENT) == 2
    assert sample("govshare_source_circuit_opened_total", department=DEPARTMENT) == opened + 1
    with pytest.raises(Exception, match="circuit open"):
        circuit.allow()
    assert sample("govshare_source_calls_total", department=DEPARTMENT, outcome="rejected") == rejected + 1


def test_a_breaker_without_a_department_records_nothing(metrics_on: None) -> None:
    circuit = CircuitBreaker("row cache (memory)", BreakerSettings(failures=1))
    circuit.failed("down")
    assert (
        REGISTRY.get_sample_value("govshare_source_circuit_state", {"department": "row cache (memory)"})
        is None
    )


async def test_row_cache_lookups_count_hits_and_misses_per_resource(metrics_on: None) -> None:
    cache = RowCache(BoundedMemoryCache())
    resource = "metrics.test_resource"
    await cache.put(resource, ["A1"], ["name"], {"A1": {"name": "x"}}, 60)
    hits = sample("govshare_row_cache_lookups_total", resource=resource, result="hit")
    misses = sample("govshare_row_cache_lookups_total", resource=resource, result="miss")
    found, missing = await cache.get(resource, ["A1", "B2", "C3"], ["name"])
    assert list(found) == ["A1"] and missing == ["B2", "C3"]
    assert sample("govshare_row_cache_lookups_total", resource=resource, result="hit") == hits + 1
    assert sample("govshare_row_cache_lookups_total", resource=resource, result="miss") == misses + 2
    await cache.close()
