"""``govshare notify-change``: a provider's change notice from the command line (Shanghai art. 16).

Run on the gateway's host by its operator for a providing department (like ``govshare
grant add``): the change is stored in the platform database with the change time stated
(``--changed-at``, default now) and recorded in the audit trail (chain ``cli``). Running
gateways push it to their ``changeNotices`` subscribers within a second (they follow the
table, ``gateway.changes.ChangeRelay``); the ``changes`` query sees it at once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable
from typing import Any

from gateway.changes import ChangeNotices, ChangeRow
from gateway.platform import PlatformDB
from gateway.settings import Settings
from policies.catalog import Catalog
from policies.chinatime import parse_instant
from policies.decision import Consumer
from policies.objections import known_resource, notice_limit
from policies.profile import load_profile
from policies.workdays import WorkdayCalendar, load_operator_calendar
from policies.workflow import Actor

CLI_CLIENT = "cli"


def add_parser(commands: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    """The ``notify-change`` subcommand (``command`` is gateway.cli's ``_command``)."""
    parser = command(commands, "notify-change", "announce changed subjects of a resource (provider)", run)
    parser.add_argument("--resource", required=True, help="resource id, e.g. amr.enterprise_registration")
    parser.add_argument("--subjects", required=True, help="comma-separated subject codes (USCC / citizen ID)")
    parser.add_argument(
        "--items", default="", help="comma-separated changed items (default: the whole record)"
    )
    parser.add_argument(
        "--changed-at", default=None, help="when the data changed, ISO date-time; no offset = China time"
    )
    parser.add_argument("--catalog", default=None, help="catalog file or folder (default: GOVSHARE_CATALOG)")


def run(args: argparse.Namespace) -> None:
    # imported when run: gateway.cli imports this module to register the command
    from gateway.cli import _catalog, _require_platform, _settings, _split, admin_audit

    settings = _settings(args)
    catalog = _catalog(settings)
    _require_platform(settings)
    provider = known_resource(catalog, args.resource).provider
    changed = parse_instant(args.changed_at, "--changed-at") if args.changed_at else None
    actor = Actor(Consumer(provider, CLI_CLIENT, frozenset({"provider"})))
    row = asyncio.run(
        _notify(settings, catalog, actor, args.resource, _split(args.subjects), _split(args.items), changed)
    )
    admin_audit(settings, "change.notify", row.resource, {"change": row.id, "late": row.late})
    print(json.dumps(change_json(row), ensure_ascii=False))


async def _notify(
    settings: Settings,
    catalog: Catalog,
    actor: Actor,
    resource: str,
    subjects: list[str],
    items: list[str],
    changed: Any,
) -> ChangeRow:
    platform = PlatformDB(settings.database_url)
    try:
        await platform.create_schema()
        calendar = WorkdayCalendar(load_operator_calendar(settings.calendar) if settings.calendar else None)
        limit = notice_limit(load_profile(catalog.profile), settings.notice_days)
        notices = ChangeNotices(platform, catalog, calendar, limit)
        return await notices.notify(actor, resource, subjects, items or None, changed)
    finally:
        await platform.close()


def change_json(row: ChangeRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "resource": row.resource,
        "subjects": list(row.subjects),
        "items": list(row.items),
        "changed_at": row.changed_at.isoformat(),
        "notified_at": row.notified_at.isoformat(),
        "due": row.due.isoformat() if row.due else None,
        "late": row.late,
    }
