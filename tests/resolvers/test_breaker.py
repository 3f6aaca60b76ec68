"""The circuit breaker: closed -> open -> half open -> closed with a log line each, the
failure ratio, one probe at a time, and failing fast in front of a hung source."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from connectors.mock import MockConnector
from errors import SourceUnavailable
from resolvers.batching import ResourceSource
from resolvers.breaker import CLOSED, HALF_OPEN, OPEN, BreakerSettings, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, **settings: float) -> CircuitBreaker:
    return CircuitBreaker("11420100MB0001011X", BreakerSettings(**settings), clock=clock)  # type: ignore[arg-type]


def transitions(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [(r.fields["from"], r.fields["to"]) for r in caplog.records if r.name == "govshare.circuit"]  # type: ignore[attr-defined]


def test_it_opens_probes_and_closes_with_a_log_line_each(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "govshare.circuit")
    clock = Clock()
    circuit = breaker(clock, failures=3, open_seconds=10)
    for _ in range(3):
        circuit.allow()
        circuit.failed("timeout")
    assert circuit.state == OPEN
    with pytest.raises(SourceUnavailable) as refused:
        circuit.allow()
    assert refused.value.extensions["circuit"] == "open" and refused.value.extensions["retryAfter"] == 10
    clock.now += 10
    circuit.allow()  # the probe
    assert circuit.state == HALF_OPEN
    with pytest.raises(SourceUnavailable):  # one probe at a time
        circuit.allow()
    circuit.succeeded()
    assert circuit.state == CLOSED
    circuit.allow()
    assert transitions(caplog) == [(CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, CLOSED)]
    record = next(r for r in caplog.records if r.name == "govshare.circuit")
    fields = record.fields  # type: ignore[attr-defined]
    assert fields["source"] == "11420100MB0001011X" and "3 consecutive failures" in fields["reason"]
    snapshot = circuit.snapshot()
    assert (snapshot.calls, snapshot.failures, snapshot.rejected, snapshot.opened) == (4, 3, 2, 1)
    assert snapshot.seconds_open == pytest.approx(10)
    assert snapshot.availability == pytest.approx(1 / 6)


def test_a_failed_probe_opens_it_again(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "govshare.circuit")
    clock = Clock()
    circuit = breaker(clock, failures=1, open_seconds=5)
    circuit.failed("refused")
    clock.now += 5
    circuit.allow()
    circuit.failed("refused again")
    assert circuit.state == OPEN
    with pytest.raises(SourceUnavailable):
        circuit.allow()
    assert transitions(caplog) == [(CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, OPEN)]


def test_it_opens_on_a_failure_ratio_without_a_streak() -> None:
    circuit = breaker(Clock(), failures=100, ratio=0.5, window=10)
    for n in range(10):
        circuit.allow()
        circuit.failed("flaky") if n % 2 else circuit.succeeded()  # the 10th fails: 5 of 10
    assert circuit.state == OPEN and circuit.streak < 100


def test_successes_reset_the_streak() -> None:
    circuit = breaker(Clock(), failures=3, window=100)
    for _ in range(10):
        circuit.failed("once")
        circuit.failed("twice")
        circuit.succeeded()
    assert circuit.state == CLOSED


def test_a_probe_whose_outcome_never_came_frees_the_slot_after_an_open_period() -> None:
    clock = Clock()
    circuit = breaker(clock, failures=1, open_seconds=5)
    circuit.failed("down")
    clock.now += 5
    circuit.allow()  # the probe's caller gave up before calling
    clock.now += 5
    circuit.allow()


async def test_with_the_circuit_open_a_hung_source_fails_at_once() -> None:
    connector = MockConnector({"t": [{"k": "A", "v": 1}]}, delay=60, timeout=0.2)  # hung
    binding = connector.bind({"table": "t", "key": "k"}, ("k", "v"), "k")
    circuit = CircuitBreaker("hung", BreakerSettings(failures=2, open_seconds=60))
    source = ResourceSource(connector, binding, resource="r.t", breaker=circuit)
    for _ in range(2):
        started = time.perf_counter()
        with pytest.raises(SourceUnavailable):
            await source.fetch(["A"], ("v",))
        assert 0.15 < time.perf_counter() - started < 0.5  # a whole timeout each
    await asyncio.sleep(0.05)  # the source call's own timeout is noted a tick after its caller's
    assert circuit.state == OPEN
    started = time.perf_counter()
    results = await asyncio.gather(*(source.fetch(["A"], ("v",)) for _ in range(100)), return_exceptions=True)
    assert time.perf_counter() - started < 0.05
    assert all(isinstance(r, SourceUnavailable) and r.extensions["circuit"] == "open" for r in results)
    assert source.round_trips == 2


def test_a_call_not_asked_of_the_source_neither_closes_nor_reopens_a_half_open_circuit() -> None:
    """A probe slot taken by a call the connector refuses before asking the source (an
    export's scan over a graphql connector) closed the circuit as if the source had answered;
    it is now given back, uncounted, and the next call probes."""
    clock = [0.0]
    breaker = CircuitBreaker("dept", BreakerSettings(failures=1, open_seconds=5), lambda: clock[0])
    breaker.failed("down")
    clock[0] = 6.0
    breaker.allow()  # the probe slot
    breaker.record("not_asked")
    assert breaker.state == "half_open" and breaker.calls == 1
    breaker.allow()  # free again: this call probes
    with pytest.raises(SourceUnavailable):
        breaker.allow()  # and only this one
    breaker.record("answered")
    assert breaker.state == "closed"
