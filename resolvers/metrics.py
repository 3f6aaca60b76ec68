"""The process's Prometheus metric families (prometheus-client), and the one-line calls that
record into them.

A leaf module: the gateway (requests, audit) and the resolvers (source calls, circuits, row
cache) record here, ``gateway.metrics_endpoint`` exposes it. Each call is made once per
request, per source round trip, per cache lookup or per audit batch, never per field; with
metrics off (``GOVSHARE_METRICS=off``, :func:`switch`) every call returns at once.

Labels are bounded sets, never a subject code, a purpose, a user, a consumer or a stored
value (README "Metrics and tracing"):

- ``operation``: ``query`` / ``mutation`` / ``subscription`` (the GraphQL operation type),
  ``batch``, ``rest`` (``/compare``, ``/export``), ``none`` (refused before it was known);
- ``mode``: the endpoint's service mode, :data:`MODES` (``query`` = ``/graphql``);
- ``outcome``: ``OK`` or a code of the fixed code table (errors.py, OAuth RFC 6749 §5.2),
  else ``HTTP_<status>`` (:func:`outcome_code`);
- ``department``: a PROVIDING department's USCC, catalog data (a department of state,
  category 11, public); ``resource``: a catalog resource id.

Multiprocess mode (several workers): prometheus-client keeps each value in a memory-mapped
file under ``PROMETHEUS_MULTIPROC_DIR`` when that variable is set BEFORE this module is
imported; gauges say how workers combine (``livemax``, ``livesum``: a dead worker's value
goes with ``mark_process_dead``). See README "Metrics and tracing" for the supervisor's part.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping
from typing import Any, Final

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

import errors

disable_created_metrics()  # no *_created series: a scrape reads half as many lines


def ensure_multiproc_dir(environment: dict[str, str] | os._Environ[str] = os.environ) -> None:
    """Make ``PROMETHEUS_MULTIPROC_DIR`` when it is set but missing, before any family is made:
    prometheus-client opens a file there for the first value (a label-less gauge: at import),
    and a missing folder was a ``FileNotFoundError`` traceback out of every govshare command.
    Raises ``ConfigurationError`` naming the variable when it cannot be made."""
    folder = environment.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise errors.ConfigurationError(
            f"PROMETHEUS_MULTIPROC_DIR={folder} is not a folder and cannot be made ({exc.strerror}); "
            "point it at a writable folder or unset it"
        ) from exc


ensure_multiproc_dir()

ON = True  # GOVSHARE_METRICS; switch() sets it once at start (benchmarks flip it)

MODES: Final = frozenset({"query", "compare", "export", "token", "other"})
OPERATIONS: Final = frozenset({"query", "mutation", "subscription", "batch", "rest", "none"})
# OAuth 2.0 token endpoint errors (RFC 6749 section 5.2), the token endpoint's outcome codes
OAUTH_CODES: Final = frozenset({"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                                "unsupported_grant_type", "invalid_scope"})  # fmt: skip
CIRCUIT_VALUES: Final = {"closed": 0.0, "half_open": 1.0, "open": 2.0}
# seconds; a cached query answers in about a millisecond, a slow source in its timeout (5 s)
LATENCY_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _codes(cls: type[errors.GovshareError]) -> Iterable[str]:
    yield cls.code
    for sub in cls.__subclasses__():
        yield from _codes(sub)


CODES: Final = frozenset(_codes(errors.GovshareError)) | OAUTH_CODES | {"OK"}

REQUESTS = Counter(
    "govshare_requests", "HTTP requests answered, by GraphQL operation type, service mode and outcome code",
    ["operation", "mode", "outcome"],
)  # fmt: skip
REQUEST_SECONDS = Histogram(
    "govshare_request_duration_seconds", "Time to answer an HTTP request, by operation type and mode",
    ["operation", "mode"], buckets=LATENCY_BUCKETS,
)  # fmt: skip
SOURCE_CALLS = Counter(
    "govshare_source_calls", "Round trips to a providing department's source, by outcome "
    "(answered, failed, not_asked: policies.resilience; rejected: circuit open, not sent)",
    ["department", "outcome"],
)  # fmt: skip
SOURCE_SECONDS = Histogram(
    "govshare_source_call_duration_seconds", "Time of one round trip to a department's source",
    ["department"], buckets=LATENCY_BUCKETS,
)  # fmt: skip
CIRCUIT_STATE = Gauge(
    "govshare_source_circuit_state", "A department's circuit breaker: 0 closed, 1 half open, 2 open "
    "(the worst among live workers)", ["department"], multiprocess_mode="livemax",
)  # fmt: skip
CIRCUIT_OPENED = Counter(
    "govshare_source_circuit_opened", "Times a department's circuit opened", ["department"]
)
LAST_UPDATE = Gauge(
    "govshare_source_last_update_timestamp_seconds", "A resource's last change at its source "
    "(Connector.freshness), Unix time; absent while unknown", ["department", "resource"],
    multiprocess_mode="livemax",
)  # fmt: skip
ON_TIME = Gauge(
    "govshare_source_on_time", "1 when the resource's source was updated within its update cycle, "
    "0 when late (policies.timeliness); absent while unknown", ["department", "resource"],
    multiprocess_mode="livemin",
)  # fmt: skip
CACHE_LOOKUPS = Counter(
    "govshare_row_cache_lookups", "Row cache lookups per subject key: hit, miss, error (counted as miss)",
    ["resource", "result"],
)  # fmt: skip
AUDIT_QUEUE = Gauge(
    "govshare_audit_queue_depth", "Audit events waiting for the group commit (all live workers)",
    multiprocess_mode="livesum",
)  # fmt: skip
AUDIT_COMMIT_SECONDS = Histogram(
    "govshare_audit_commit_duration_seconds", "Time of one audit group commit (one transaction)",
    buckets=LATENCY_BUCKETS,
)  # fmt: skip
AUDIT_BATCH = Histogram(
    "govshare_audit_batch_events", "Events written by one audit group commit",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)  # fmt: skip
AUDIT_FAILURES = Counter("govshare_audit_commit_failures", "Audit group commits that failed (fail closed)")


def switch(on: bool) -> None:
    """Record (True) or not (False); the families stay registered either way."""
    global ON
    ON = on


def outcome_code(code: object, status: int) -> str:
    """``code`` when it is one of :data:`CODES`, else ``HTTP_<status>`` (bounded either way:
    a label never takes text from a request)."""
    return code if isinstance(code, str) and code in CODES else f"HTTP_{status}"


# Children by label values, kept here: ``family.labels(...)`` takes a lock and checks its
# arguments on every call, the largest part of recording (python -m gateway.bench_metrics).
# Label sets are bounded, so are these; no series is ever removed.
_REQUEST_CHILDREN: dict[tuple[str, str, str], tuple[Any, Any]] = {}
_SOURCE_CHILDREN: dict[tuple[str, str], tuple[Any, Any]] = {}


def request(operation: str, mode: str, outcome: str, seconds: float) -> None:
    """One HTTP request answered (``gateway.metrics_endpoint.RequestMetrics``)."""
    if not ON:
        return
    key = (operation, mode, outcome)
    children = _REQUEST_CHILDREN.get(key)
    if children is None:
        children = (REQUESTS.labels(*key), REQUEST_SECONDS.labels(operation, mode))
        _REQUEST_CHILDREN[key] = children
    children[0].inc()
    children[1].observe(seconds)


def source_call(department: str, outcome: str, seconds: float) -> None:
    """One round trip to ``department``'s source; ``outcome`` of policies.resilience.call_outcome."""
    if not ON:
        return
    key = (department, outcome)
    children = _SOURCE_CHILDREN.get(key)
    if children is None:
        children = (SOURCE_CALLS.labels(*key), SOURCE_SECONDS.labels(department))
        _SOURCE_CHILDREN[key] = children
    children[0].inc()
    children[1].observe(seconds)


def source_rejected(department: str) -> None:
    """A call not sent: the department's circuit is open (resolvers.breaker)."""
    if ON:
        SOURCE_CALLS.labels(department, "rejected").inc()


def circuit(department: str, state: str, opened: bool = False) -> None:
    """A circuit moved to ``state`` (closed / half_open / open); ``opened``: it just opened."""
    if ON:
        CIRCUIT_STATE.labels(department).set(CIRCUIT_VALUES[state])
        if opened:
            CIRCUIT_OPENED.labels(department).inc()


def freshness(department: str, resource: str, stamp: float | None, on_time: bool | None) -> None:
    """A resource's last change read by the freshness watch (Unix seconds; None: the source has
    no change stamp, nothing is set) and whether it is on time (None: unknown, nothing set)."""
    if not ON:
        return
    if stamp is not None:
        LAST_UPDATE.labels(department, resource).set(stamp)
    if on_time is not None:
        ON_TIME.labels(department, resource).set(1.0 if on_time else 0.0)


def cache_lookup(resource: str, hits: int, misses: int, failed: bool = False) -> None:
    """One row cache lookup of ``hits + misses`` subject keys; ``failed``: the backend failed
    and every key counts as an error (and is fetched as a miss)."""
    if not ON:
        return
    if failed:
        _lookups(resource, "error").inc(misses)
        return
    if hits:
        _lookups(resource, "hit").inc(hits)
    if misses:
        _lookups(resource, "miss").inc(misses)


_CACHE_CHILDREN: dict[tuple[str, str], Any] = {}


def _lookups(resource: str, result: str) -> Any:
    key = (resource, result)
    child = _CACHE_CHILDREN.get(key)
    if child is None:
        child = _CACHE_CHILDREN[key] = CACHE_LOOKUPS.labels(*key)
    return child


def audit_batch(events: int, seconds: float, waiting: int, failed: bool = False) -> None:
    """One audit group commit of ``events`` in ``seconds``; ``waiting`` events queued behind it."""
    if not ON:
        return
    AUDIT_QUEUE.set(waiting)
    AUDIT_BATCH.observe(events)
    AUDIT_COMMIT_SECONDS.observe(seconds)
    if failed:
        AUDIT_FAILURES.inc()


def forget_withdrawn(providers: Mapping[str, str]) -> list[tuple[str, str]]:
    """After a catalog swap: drop the freshness gauges (last update, on time) of every
    (department, resource) the new catalog no longer has, ``providers`` its resource id ->
    providing USCC; the pairs dropped. A withdrawn resource's last value would otherwise read
    as live forever (and a late one alert forever). Counters stay, as counters must. In
    multiprocess mode a worker's file keeps the value until that worker ends (prometheus-client
    cannot remove a series there)."""
    gone = {
        (sample.labels["department"], sample.labels["resource"])
        for family in (LAST_UPDATE, ON_TIME)
        for metric in family.collect()
        for sample in metric.samples
        if providers.get(sample.labels["resource"]) != sample.labels["department"]
    }
    for family in (LAST_UPDATE, ON_TIME):
        for pair in gone:
            with contextlib.suppress(KeyError):  # set in one family only
                family.remove(*pair)
    return sorted(gone)
