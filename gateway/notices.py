"""Wiring of objections and change notices into a running gateway (kept out of gateway.app).

``start_notices`` makes the objection and change-notice services over the platform
database, hands them to the federation (resolvers), the statistics and the audit trail, and
starts the change relay (notices stored by other processes) and, when
``GOVSHARE_CHANGE_POLL_SECONDS`` is above 0, the change poller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.audit import AuditLog
from gateway.changes import ChangeNotices, ChangePoller, ChangeRelay
from gateway.objections import Objections
from gateway.platform import PlatformDB
from gateway.settings import Settings
from gateway.workflow import Workflow
from policies.objections import notice_limit, objection_limit
from resolvers.context import Federation


@dataclass(eq=False)
class NoticeTasks:
    """The background tasks of a running gateway's change notices; ``stop`` ends them."""

    tasks: list[ChangePoller | ChangeRelay]

    async def stop(self) -> None:
        for task in self.tasks:
            await task.stop()


def start_notices(
    settings: Settings,
    federation: Federation,
    platform: PlatformDB,
    workflow: Workflow,
    audit: AuditLog | None,
) -> NoticeTasks:
    """Make the two services and attach them (federation, statistics, audit); start the relay,
    and the poller when configured."""
    profile, calendar, clock = workflow.profile, workflow.calendar, workflow.clock
    limit = objection_limit(profile, settings.objection_days)
    objections = Objections(platform, federation.catalog, calendar, limit, clock)
    changes = ChangeNotices(
        platform, federation.catalog, calendar, notice_limit(profile, settings.notice_days), clock
    )
    objections.audit = changes.audit = audit
    changes.invalidate = federation.invalidate_rows  # a notice drops the subjects' cached rows
    federation.objections, federation.changes = objections, changes
    oversight: Any = federation.oversight
    if oversight is not None:  # realtime resources are judged by their change notices
        oversight.notices = changes
    stats: Any = federation.stats
    if stats is not None:
        stats.objections, stats.changes = objections, changes
    tasks: list[ChangePoller | ChangeRelay] = [ChangeRelay(changes)]
    if settings.change_poll_seconds > 0:
        tasks.append(ChangePoller(changes, federation.sources, settings.change_poll_seconds))
    for task in tasks:
        task.start()
    return NoticeTasks(tasks)
