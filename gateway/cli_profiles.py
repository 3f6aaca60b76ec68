"""``govshare onboard``: the profile's access rules on the command line (issue 10 section 2).

``govshare onboard CODE --commitment TEXT`` records a consumer department's written access
application and commitment (Sanya art. 12), as the ``onboardDepartment`` mutation does; it
prints the record as JSON. Where the catalog's profile does not require onboarding it says so
on stderr and records nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any

from gateway.onboarding import OnboardingStore
from gateway.platform import PlatformDB
from policies.profile import load_profile

Command = Callable[[Any, str, str, Callable[[argparse.Namespace], Any]], argparse.ArgumentParser]


def add_parsers(
    commands: Any, command: Command, catalog_option: Callable[[argparse.ArgumentParser], None]
) -> None:
    onboard = command(commands, "onboard", "record a department's onboarding (Sanya art. 12)", run_onboard)
    onboard.add_argument("code", help="the consumer department's USCC")
    onboard.add_argument(
        "--commitment", required=True, help="its written commitment to the sharing and secrecy rules"
    )
    catalog_option(onboard)


def run_onboard(args: argparse.Namespace) -> int:
    from gateway import cli  # the shared helpers: settings, catalog, platform checks, audit

    settings = cli._settings(args)
    cli._require_platform(settings)  # a folder no gateway uses is refused before anything is read
    profile = load_profile(cli._catalog(settings).profile)
    if not profile.access.onboarding:
        print(f"govshare: profile {profile.name} ({profile.title}) requires no onboarding; nothing recorded",
              file=sys.stderr)  # fmt: skip
        return 1

    async def onboard(platform: PlatformDB) -> Any:
        return await OnboardingStore(platform).onboard(args.code, args.commitment, "cli")

    record = asyncio.run(cli._with_platform(settings, onboard))
    cli.admin_audit(settings, "department.onboard", None, {"department": record.department})
    print(json.dumps({"department": record.department, "commitment": record.commitment,
                      "onboarded_at": record.onboarded_at.isoformat(), "onboarded_by": record.onboarded_by},
                     ensure_ascii=False))  # fmt: skip
    return 0
