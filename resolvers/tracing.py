"""OpenTelemetry traces, optional and off by default (extra ``otel``).

With ``GOVSHARE_OTEL_ENDPOINT`` (or the standard ``OTEL_EXPORTER_OTLP_ENDPOINT``) set, the
gateway makes one span per HTTP request (``gateway.metrics_endpoint.RequestMetrics``), a child
span per source round trip (``source.fetch``, resolvers.batching) and one for the wait on
the audit commit (``audit.commit``, gateway.audit), exported over OTLP/HTTP
(``opentelemetry-exporter-otlp-proto-http``, batched in a background thread). A span that
an exception leaves is marked ERROR with the error's code or class name only.

Span attributes are bounded catalog and protocol facts only: route, method, status,
operation type, mode, outcome code, providing department, resource id, number of keys or
events. Never a subject code, a purpose, a user, a consumer, a query or a value: a trace
collector is outside the platform's protection level.

Off (no endpoint, or the extra not installed), :func:`span` hands back one shared
``nullcontext``: a call and a ``with`` on the hot path, nothing else.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from typing import Any

from errors import ConfigurationError, GovshareError

log = logging.getLogger("govshare.tracing")

TRACER: Any = None  # an opentelemetry Tracer while tracing is on
_OFF = contextlib.nullcontext()
TRACES_PATH = "/v1/traces"  # OTLP/HTTP (OpenTelemetry protocol specification, "OTLP/HTTP")


def span(name: str, attributes: Mapping[str, str | int] | None = None) -> Any:
    """A context manager for a span named ``name``, child of the current one; the shared
    ``nullcontext`` while tracing is off. ``attributes``: bounded values only (module docstring)."""
    if TRACER is None:
        return _OFF
    return _traced(name, attributes)


@contextlib.contextmanager
def _traced(name: str, attributes: Mapping[str, str | int] | None) -> Iterator[Any]:
    """The span of :func:`span` while tracing is on. An exception's text is neither recorded
    nor put in the status description (the SDK's default ``"Type: text"``): a source error
    may quote a value it could not read. The status says only :func:`error_kind`."""
    with TRACER.start_as_current_span(
        name, attributes=attributes, record_exception=False, set_status_on_exception=False
    ) as current:
        try:
            yield current
        except Exception as exc:
            from opentelemetry.trace import Status, StatusCode

            current.set_status(Status(StatusCode.ERROR, error_kind(exc)))
            raise


def error_kind(exc: BaseException) -> str:
    """What a span may say of an error: its code in errors.py's table (a GovshareError), else
    its class name; never its message."""
    return exc.code if isinstance(exc, GovshareError) else type(exc).__name__


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL of a collector's base URL (``http://host:4318`` ->
    ``http://host:4318/v1/traces``), as the SDK does for ``OTEL_EXPORTER_OTLP_ENDPOINT``."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(TRACES_PATH) else endpoint + TRACES_PATH


def start(endpoint: str | None, exporter: Any = None) -> Any:
    """Turn tracing on: spans batched to the OTLP/HTTP ``endpoint``, or handed to ``exporter``
    at once (tests: the SDK's ``InMemorySpanExporter``). The tracer provider, for :func:`stop`;
    None (tracing stays off) without either. Raises ``ConfigurationError`` when the ``otel``
    extra is not installed."""
    global TRACER
    if endpoint is None and exporter is None:
        return None
    provider = _provider(endpoint, exporter)
    TRACER = provider.get_tracer("govshare")
    log.info("tracing on: spans exported over OTLP/HTTP to %s", endpoint or type(exporter).__name__)
    return provider


def _provider(endpoint: str | None, exporter: Any) -> Any:
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError as exc:
        raise ConfigurationError(
            "GOVSHARE_OTEL_ENDPOINT is set but OpenTelemetry is not installed: "
            "pip install 'govshare[otel]', or unset the variable"
        ) from exc
    provider = TracerProvider(resource=Resource.create({"service.name": "govshare"}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        assert endpoint is not None
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url(endpoint))))
    return provider


def stop(provider: Any) -> None:
    """Export the spans still queued of ``provider`` (None: nothing to do), then turn tracing
    off (blocking: at shutdown only)."""
    global TRACER
    if provider is not None:
        TRACER = None
        provider.shutdown()


def record_outcome(current: Any, status: int, attributes: Mapping[str, str | int]) -> None:
    """Set the request span's final attributes and, for a 5xx, its error status."""
    if current is None:
        return
    current.set_attributes(dict(attributes))
    if status >= 500:
        from opentelemetry.trace import Status, StatusCode

        current.set_status(Status(StatusCode.ERROR))
