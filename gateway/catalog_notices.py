"""Who is told when a publication breaks what consumers hold (issue 11: change notices).

A publication that narrows what a grant or a live application covers (an item withdrawn or
made stricter, a resource removed: ``policies.catalog_impact``) is told to each consumer it
touches: a ``catalog.notice`` workflow event the consumer reads among its own events, and a
``catalog_change`` step in the history of each application touched. A serving gateway tells
them when it swaps the catalog in (``gateway.catalog_swap``); the command line, which serves
nothing, tells them when it publishes (:func:`told_on_publish`). The gateways that follow a
publication made elsewhere (``gateway.catalog_follow``) tell nobody: the publisher did.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from gateway.audit import AuditEvent, AuditLog
from policies.catalog import Catalog
from policies.catalog_impact import ApplicationRef, Impact, impact
from policies.share import Mode

if TYPE_CHECKING:
    from gateway.platform import PlatformDB

log = logging.getLogger("govshare.catalog")
PUBLISHER = "catalog"  # the actor of a catalog_change step: the publication, not a department


def told_on_publish(
    platform: PlatformDB, audit_url: str | None, published: Catalog | None
) -> Callable[[Catalog], Awaitable[None]]:
    """A catalog store's ``on_publish`` for a process that serves no catalog (the command
    line): each newly published catalog is compared with the one published before it
    (``published`` at first) and the consumers its breaking changes touch are told
    (:func:`tell_consumers`), under the store's catalog generation as the version. The
    notices go to the command line's audit chain (instance ``cli``) at ``audit_url``
    (None: audit off), opened only when there is something to tell."""
    last = [published]

    async def told(new: Catalog) -> None:
        old, last[0] = last[0], new
        if old is None:
            return
        found = impact(old, new, await platform.all_grants(), await applications_on_file(platform))
        if not found.breaking:
            return
        version = (await platform.generations()).catalog or 0
        if audit_url is None:
            await tell_consumers(platform, None, version, found)
            return
        async with AuditLog(audit_url, instance="cli") as audit:  # gateway.cli.admin_audit's chain
            await tell_consumers(platform, audit, version, found)

    return told


async def tell_consumers(platform: PlatformDB, audit: AuditLog | None, version: int, found: Impact) -> None:
    """One ``catalog.notice`` per consumer ``found`` touches (workflow events, on ``audit``),
    and a ``catalog_change`` step in each touched application's history, naming the catalog
    ``version``. The publication is done already: a failure here is logged, not raised."""
    try:
        for consumer in found.consumers:
            if audit is not None:
                await audit.append(_notice(version, found, consumer))
        await _tell_applications(platform, version, found)
    except Exception:
        log.exception("catalog version %d: telling the consumers touched failed", version)


async def _tell_applications(platform: PlatformDB, version: int, found: Impact) -> None:
    """A ``catalog_change`` step in the history of each application touched (an affected
    grant's application, or the grant itself when it came without one, as a revocation is
    kept): the consumer reads what changed where it follows its application."""
    from gateway.workflow import ApplicationEventRow  # gateway.workflow imports gateway.app

    now = dt.datetime.now(dt.UTC)
    statuses = {a.id: a.status for a in await applications_on_file(platform)}
    async with platform.session.begin() as session:
        for key, changes in (await _histories(platform, found)).items():
            status = statuses.get(key, "approved")  # a grant without an application: granted
            reasons = [f"catalog version {version}: {found.changes[i].describe()}" for i in changes]
            session.add(ApplicationEventRow(application=key, at=now, actor=PUBLISHER, client="govshare",
                                            action="catalog_change", from_status=status, to_status=status,
                                            reasons=reasons))  # fmt: skip


async def _histories(platform: PlatformDB, found: Impact) -> dict[str, list[int]]:
    """Application id (or grant id) -> the indexes of the changes that touch it."""
    applications = {g.id: g.application for g in await platform.all_grants()}
    keyed: dict[str, set[int]] = {}
    for affected in found.applications:
        keyed.setdefault(affected.id, set()).update(affected.changes)
    for affected in found.grants:
        keyed.setdefault(applications.get(affected.id) or affected.id, set()).update(affected.changes)
    return {key: sorted(changes) for key, changes in keyed.items()}


def _notice(version: int, found: Impact, consumer: str) -> AuditEvent:
    """The notice one consumer reads (its own events): its grants and applications touched,
    and what changed for them."""
    held = [a for a in (*found.grants, *found.applications) if a.consumer == consumer]
    changes = sorted({i for a in held for i in a.changes})
    return AuditEvent(
        kind="workflow",
        outcome="catalog.notice",
        consumer=consumer,
        resources=tuple(sorted({a.resource for a in held})),
        detail={
            "version": version,
            "grants": [a.id for a in found.grants if a.consumer == consumer],
            "applications": [a.id for a in found.applications if a.consumer == consumer],
            "changes": [found.changes[i].as_json() for i in changes],
        },
    )


async def applications_on_file(platform: PlatformDB) -> list[ApplicationRef]:
    """Every application on file, as the rule reads it (gateway.workflow.ApplicationRow)."""
    import sqlalchemy as sa

    from gateway.workflow import ApplicationRow

    async with platform.session() as session:
        rows = (await session.scalars(sa.select(ApplicationRow))).all()
    return [_application(r) for r in rows]


def _application(row: Any) -> ApplicationRef:
    modes = frozenset(Mode(m) for m in row.modes)
    return ApplicationRef(row.id, row.consumer, row.resource, frozenset(row.items), modes, row.status)
