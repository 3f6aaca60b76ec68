"""Wiring of objections and change notices into a running gateway (kept out of gateway.app).

``start_notices`` makes the objection and change-notice services over the platform
database, hands them to the federation (resolvers), the statistics and the audit trail, and
starts the change poller when ``GOVSHARE_CHANGE_POLL_SECONDS`` is above 0.
"""

from __future__ import annotations

from typing import Any

from gateway.audit import AuditLog
from gateway.changes import ChangeNotices, ChangePoller
from gateway.objections import Objections
from gateway.platform import PlatformDB
from gateway.settings import Settings
from gateway.workflow import Workflow
from policies.objections import objection_limit
from resolvers.context import Federation

_POLLERS: dict[int, ChangePoller] = {}  # by id(federation): one poller per running gateway


def start_notices(
    settings: Settings,
    federation: Federation,
    platform: PlatformDB,
    workflow: Workflow,
    audit: AuditLog | None,
) -> tuple[Objections, ChangeNotices]:
    """The two services, attached; the poller started when configured."""
    profile, calendar, clock = workflow.profile, workflow.calendar, workflow.clock
    limit = objection_limit(profile, settings.objection_days)
    objections = Objections(platform, federation.catalog, calendar, limit, clock)
    changes = ChangeNotices(platform, federation.catalog, calendar, profile.update_limit_days, clock)
    objections.audit = changes.audit = audit
    federation.objections, federation.changes = objections, changes
    stats: Any = federation.stats
    if stats is not None:
        stats.objections, stats.changes = objections, changes
    if settings.change_poll_seconds > 0:
        poller = ChangePoller(changes, federation.sources, settings.change_poll_seconds)
        poller.start()
        _POLLERS[id(federation)] = poller
    return objections, changes


async def stop_notices(federation: Federation) -> None:
    poller = _POLLERS.pop(id(federation), None)
    if poller is not None:
        await poller.stop()
