"""Who holds what, per the audit trail: the subjects a consumer has read at a resource.

Objections (a consumer disputes a value it has read) and change notices (a consumer hears
of changes to subjects it has read, Shanghai art. 16) both ask the audit trail, not a
second record of reads: the trail is what the gateway answered, durably, before answering.

A subject counts as read at resource R by consumer C when an event of C of kind query,
compare or export (:data:`policies.objections.READ_KINDS`; change notices leave out a
compare on a ``match_only`` resource, :func:`policies.objections.holding_kinds`) touched R
(the trail's resource index), listed the subject as looked up
at R (``detail.subjects_at[R]``; events without it list ``subjects``), and allowed at least
one item of R (``decisions["R.item"] == "ALLOWED"``); with ``item`` given, that item.
The query reads only C's events on R (both columns are indexed), newest last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from errors import AuditUnavailable
from gateway.audit import AuditLog
from policies.objections import READ_KINDS

ALLOWED = "ALLOWED"
_PAGE = 2000


async def subjects_read(
    audit: AuditLog | None,
    consumer: str,
    resource: str,
    among: Collection[str] | None = None,
    *,
    item: str | None = None,
    kinds: Collection[str] = READ_KINDS,
) -> set[str]:
    """The subjects (codes) ``consumer`` has read at ``resource`` (an ``item`` of it, if
    given), restricted to ``among`` when given, by events of ``kinds``. Empty without an
    audit log (GOVSHARE_AUDIT=off: nothing is known to be held). Raises
    ``AuditUnavailable`` when the trail cannot be read."""
    found, _ = await _read_since(audit, consumer, resource, None, item, kinds)
    return found if among is None else found & set(among)


class Holdings:
    """The subjects one consumer has read, per resource, kept up to date: each look reads only
    the events since the previous one (from the newest event time seen, inclusive: an event
    of that same instant written later is not missed). For a subscription, whose consumer
    may have a long trail and hears many notices."""

    def __init__(self, audit: AuditLog | None, consumer: str) -> None:
        self.audit, self.consumer = audit, consumer
        self._held: dict[str, tuple[set[str], dt.datetime | None]] = {}

    async def of(self, resource: str, kinds: Collection[str] = READ_KINDS) -> set[str]:
        """By events of ``kinds`` (the same for a resource at every look). Raises
        ``AuditUnavailable`` when the trail cannot be read."""
        held, cursor = self._held.get(resource, (set(), None))
        found, newest = await _read_since(self.audit, self.consumer, resource, cursor, None, kinds)
        held |= found
        self._held[resource] = (held, newest or cursor)
        return held


async def _read_since(
    audit: AuditLog | None,
    consumer: str,
    resource: str,
    since: dt.datetime | None,
    item: str | None,
    kinds: Collection[str],
) -> tuple[set[str], dt.datetime | None]:
    """The subjects read in events from ``since`` on (all when None), and the newest event time."""
    if audit is None:
        return set(), None
    found: set[str] = set()
    newest = since
    try:
        async with audit.engine.connect() as conn:
            async for event in _events(conn, audit, consumer, resource, since, kinds):
                found.update(_read_in(event, resource, item))
                newest = event["time"] if newest is None else max(newest, event["time"])
    except sa.exc.SQLAlchemyError as exc:
        raise AuditUnavailable(f"the audit store cannot be read: {exc.__class__.__name__}") from exc
    return found, newest


async def _events(
    conn: Any,
    audit: AuditLog,
    consumer: str,
    resource: str,
    since: dt.datetime | None,
    kinds: Collection[str],
) -> Any:
    events, index = audit._events, audit._resources  # one query: this consumer's events on R
    touched = sa.select(index.c.event_id).where(index.c.resource == resource)
    columns = (
        events.c.id,
        events.c.time,
        events.c.subjects,
        events.c.decisions,
        events.c.detail,
        events.c.resources,
    )
    query = sa.select(*columns).where(
        events.c.consumer == consumer, events.c.kind.in_(list(kinds)), events.c.id.in_(touched)
    )
    if since is not None:
        query = query.where(events.c.time >= since)
    query = query.order_by(events.c.id)
    last = None
    while True:
        page = query if last is None else query.where(events.c.id > last)
        rows = list((await conn.execute(page.limit(_PAGE))).mappings())
        for row in rows:
            yield row
        if len(rows) < _PAGE:
            return
        last = rows[-1]["id"]


def _read_in(event: Mapping[str, Any], resource: str, item: str | None) -> Iterable[str]:
    """The subjects this event read at ``resource`` (none when no item of it was allowed):
    the resource is re-checked against the hashed ``resources`` (the index is not hashed)."""
    if resource not in (event["resources"] or ()):
        return ()
    decisions: Mapping[str, str] = event["decisions"] or {}
    wanted = (f"{resource}.{item}",) if item else [k for k in decisions if k.startswith(f"{resource}.")]
    if not any(decisions.get(key) == ALLOWED for key in wanted):
        return ()
    detail: Mapping[str, Any] = event["detail"] or {}
    at = detail.get("subjects_at")
    if isinstance(at, Mapping):
        return at.get(resource) or ()
    return event["subjects"] or ()
