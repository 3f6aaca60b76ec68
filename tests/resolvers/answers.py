"""What the differential tests of both fast paths (``test_fastpath.py``,
``test_compiled_query.py``) compare of one execution: the response body as ``/graphql``
sends it and the audit event as ``gateway.evidence`` builds it."""

from __future__ import annotations

import dataclasses
from typing import Any

from graphql import GraphQLError

from gateway.evidence import own_errors, query_event
from gateway.http import format_error
from resolvers.context import RequestContext


def response_body(result: Any, data: bool = True) -> dict[str, Any]:
    """``{"data", "errors", "extensions"}`` of an execution result; no ``data`` key when
    ``data`` is False (a refusal before execution)."""
    body: dict[str, Any] = {"data": result.data} if data else {}
    if result.errors:
        body["errors"] = [format_error(e) for e in result.errors]
    if result.extensions:
        body["extensions"] = result.extensions
    return body


def audit_event(context: RequestContext, result: Any) -> tuple[list[GraphQLError], dict[str, Any]]:
    """The request's own errors and its audit event as a dict, with the subjects' places
    sorted: the normal path alone varies there from run to run (concurrent look-ups finish
    in any order: ``subjects._exists`` awaits the grants)."""
    errors = own_errors(context, result.errors or [])
    event = dataclasses.asdict(query_event(context, errors, None, "Q", result.data is not None))
    where = event["detail"].get("subjects_at", {})
    event["detail"] = {**event["detail"], "subjects_at": {k: sorted(v) for k, v in where.items()}}
    return errors, event
