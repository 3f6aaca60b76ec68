"""A circuit breaker per source (one per providing department's connector).

States (Nygard's circuit breaker, as in e.g. resilience4j):

- ``closed``: calls go through; the outcomes are counted. It opens after ``failures``
  consecutive failures, or when at least ``ratio`` of the last ``window`` calls failed.
- ``open``: calls fail at once with ``SourceUnavailable`` (``extensions.circuit``
  ``"open"``, ``retryAfter`` seconds) for ``open_seconds``: a hung department costs its
  fields nothing, instead of one source timeout per request.
- ``half_open``: after ``open_seconds`` ONE call goes through as a probe while the others
  still fail at once; the probe's success closes the circuit, its failure opens it again.

Every transition is one log line (logger ``govshare.circuit``, fields ``source``, ``from``,
``to``, ``reason``) and is counted; ``snapshot`` gives the state and the counts for
``/readyz`` and ``stats`` (Hubei art. 26: 数据可用性, availability of each department's data).

Why our own and not ``purgatory`` or ``aiobreaker``: both let every call through while
half-open (with a hung source each of them would wait a whole timeout), neither opens on a
failure ratio, and purgatory reads and saves its state through an async repository on every
call: this sits on the hot path of every source call, where it costs two attribute reads.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from errors import SourceUnavailable
from resolvers import metrics

log = logging.getLogger("govshare.circuit")

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass(frozen=True)
class BreakerSettings:
    """Thresholds of every source's breaker (``GOVSHARE_BREAKER_*``)."""

    failures: int = 5  # consecutive failures that open the circuit
    ratio: float = 0.5  # or this share of failed calls among the last ``window``
    window: int = 20
    open_seconds: float = 30.0  # how long it stays open before a probe


@dataclass(frozen=True)
class BreakerSnapshot:
    """A breaker's state and counts since the process started (calls = source calls made)."""

    source: str
    state: str
    calls: int
    failures: int
    rejected: int
    opened: int
    seconds_open: float  # not closed (open or half open), in all

    @property
    def availability(self) -> float:
        """Share of source calls that succeeded, fast failures counted as failed (1.0 with none)."""
        asked = self.calls + self.rejected
        return 1.0 if asked == 0 else (self.calls - self.failures) / asked

    def as_json(self) -> dict[str, object]:
        return {"state": self.state, "calls": self.calls, "failures": self.failures,
                "rejected": self.rejected, "opened": self.opened,
                "secondsOpen": round(self.seconds_open, 3),
                "availability": round(self.availability, 6)}  # fmt: skip


class CircuitBreaker:
    """One source's circuit. ``allow()`` before a call (raises when open), then
    ``succeeded()`` or ``failed(reason)`` once per call that went through."""

    def __init__(
        self,
        source: str,
        settings: BreakerSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        department: str | None = None,
    ) -> None:
        self.source, self.settings, self.clock = source, settings or BreakerSettings(), clock
        self.department = department  # a providing department's: counted in resolvers.metrics
        if department is not None:
            metrics.circuit(department, CLOSED)
        self.state = CLOSED
        self.streak = 0
        self.recent: deque[bool] = deque(maxlen=self.settings.window)  # True: failed
        self.opened_at = 0.0
        self.probe_started: float | None = None
        self.calls = self.failures = self.rejected = self.opened = 0
        self._open_total = 0.0  # seconds not closed, ended periods
        self._down_since = 0.0

    def allow(self) -> None:
        """Let a call through, or raise ``SourceUnavailable`` at once while the circuit is open."""
        if self.state == CLOSED:
            return
        now = self.clock()
        if self.state == OPEN and now - self.opened_at >= self.settings.open_seconds:
            self._move(HALF_OPEN, "probing after the open period")
        if self.state == HALF_OPEN and self._probe_free(now):
            self.probe_started = now
            return
        self.rejected += 1
        if self.department is not None:
            metrics.source_rejected(self.department)
        wait = max(0.0, self.settings.open_seconds - (now - self.opened_at))
        raise SourceUnavailable(
            f"{self.source}: the source failed repeatedly and is not asked for {wait:.0f} s more "
            "(circuit open); retry later",
            circuit=self.state,
            retryAfter=round(wait, 1),
        )

    def _probe_free(self, now: float) -> bool:
        """One probe at a time; a probe whose outcome never came (its caller gave up before
        the call was made) frees the slot after an open period."""
        started = self.probe_started
        return started is None or now - started >= self.settings.open_seconds

    def record(self, outcome: str, reason: str = "") -> None:
        """One call's outcome as ``policies.resilience.call_outcome`` names it: ``answered``
        (succeeded), ``failed`` (failed, ``reason``) or ``not_asked``: not counted, and a probe
        slot it took is given back."""
        if outcome == "answered":
            self.succeeded()
        elif outcome == "failed":
            self.failed(reason)
        elif self.state == HALF_OPEN:
            self.probe_started = None

    def succeeded(self) -> None:
        self.calls += 1
        self.streak = 0
        self.recent.append(False)
        if self.state != CLOSED:
            self._move(CLOSED, "a probe succeeded")

    def failed(self, reason: str) -> None:
        self.calls += 1
        self.failures += 1
        self.streak += 1
        self.recent.append(True)
        if self.state == HALF_OPEN:
            self._move(OPEN, f"the probe failed: {reason}")
        elif self.state == CLOSED and self._tripped():
            self._move(OPEN, f"{self._why()}; last: {reason}")

    def _tripped(self) -> bool:
        full = len(self.recent) == self.recent.maxlen
        return self.streak >= self.settings.failures or (full and self._failed_share() >= self.settings.ratio)

    def _failed_share(self) -> float:
        return sum(self.recent) / len(self.recent)

    def _why(self) -> str:
        if self.streak >= self.settings.failures:
            return f"{self.streak} consecutive failures"
        return f"{self._failed_share():.0%} of the last {len(self.recent)} calls failed"

    def _move(self, state: str, reason: str) -> None:
        now = self.clock()
        if self.state == CLOSED:
            self._down_since = now
        if state == CLOSED:
            self._open_total += now - self._down_since
        if state == OPEN:
            self.opened += 1
            self.opened_at = now
        if state == CLOSED:
            self.recent.clear()
        self.probe_started = None
        fields = {"source": self.source, "from": self.state, "to": state, "reason": reason}
        self.state = state
        if self.department is not None:
            metrics.circuit(self.department, state, opened=state == OPEN)
        log.warning("circuit %s: %s -> %s (%s)", self.source, fields["from"], state, reason,
                    extra={"fields": fields})  # fmt: skip

    def snapshot(self) -> BreakerSnapshot:
        open_now = self.clock() - self._down_since if self.state != CLOSED else 0.0
        return BreakerSnapshot(self.source, self.state, self.calls, self.failures, self.rejected,
                               self.opened, self._open_total + open_now)  # fmt: skip
