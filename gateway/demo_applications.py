"""The demo's consumers apply for unconditional items, and get them, when the demo is built.

Under a profile with ``access.unconditional_access: on_application`` (the demo's Hubei:
art. 13, 18-21) every use needs an approved application, unconditional items included. So
that the demo works out of the box, each demo consumer submits one application per resource
for its unconditional items (every mode the resource offers, the demo purpose, one year), the
platform operator accepts it, and the platform grants it on acceptance (art. 21: unconditional
data without control parameters are authorized by the platform). It goes through the real
workflow service, so the demo's applications, events and grants are what a user would make.
Running it again on the same data folder adds nothing where a consumer's grant still covers
the resource. Under an ``open`` profile nothing is done.
"""

from __future__ import annotations

import datetime as dt

from gateway.app import workday_calendar
from gateway.platform import PlatformDB
from gateway.settings import Settings
from gateway.workflow import Workflow
from policies.catalog import Resource, load_catalog
from policies.chinatime import utc_now
from policies.decision import Consumer
from policies.profile import load_profile
from policies.share import Mode, Share
from policies.workflow import Actor, Submission

DEMO_APPLICATION_DAYS = 365


async def approve_unconditional(
    settings: Settings, consumers: tuple[str, ...], operator: str, purpose: str
) -> list[str]:
    """Submit and accept (platform grant) an application per resource for each consumer's
    unconditional items; returns the ids of the applications made (none under ``open``)."""
    catalog = load_catalog(settings.catalog)
    profile = load_profile(catalog.profile)
    if not profile.access.unconditional_on_application:
        return []
    platform = PlatformDB(settings.database_url)
    try:
        await platform.create_schema()
        workflow = Workflow(platform, catalog, profile, workday_calendar(settings))
        made = []
        for consumer in consumers:
            made += await _apply_all(workflow, consumer, operator, purpose)
        return made
    finally:
        await platform.close()


async def _apply_all(workflow: Workflow, consumer: str, operator: str, purpose: str) -> list[str]:
    covered = {g.resource for g in await workflow.platform.grants_for(consumer) if g.application}
    applicant = Actor(Consumer(consumer, "govshare-demo", frozenset({"consumer"})))
    platform = Actor(Consumer(operator, "govshare-demo", frozenset({"operator"})))
    made = []
    basis = workflow.profile.cite("application")
    for resource in workflow.catalog.resources.values():
        if resource.id in covered:
            continue
        for items, modes in _unconditional(resource):  # read (every mode), and compare only
            row = await workflow.submit(applicant, _submission(resource, items, modes, purpose, basis))
            if row.status == "submitted":  # a platform check step (Hubei art. 19): the operator accepts
                row = await workflow.check(platform, row.id, True, ["demo: application accepted"])
            made.append(row.id)
    return made


def _unconditional(resource: Resource) -> list[tuple[list[str], tuple[Mode, ...]]]:
    """The resource's unconditional items in every mode it offers, then those unconditional
    for comparing only (``compare: unconditional``), each an application of its own."""
    modes = tuple(sorted(resource.modes))
    read = [item.name for item in resource.items if item.share is Share.UNCONDITIONAL]
    compare = [
        i.name
        for i in resource.items
        if i.share is not Share.UNCONDITIONAL and i.compare is Share.UNCONDITIONAL
    ]
    batches = [(read, modes)] if read else []
    if compare and Mode.COMPARE in resource.modes:
        batches.append((compare, (Mode.COMPARE,)))
    return batches


def _submission(
    resource: Resource, items: list[str], modes: tuple[Mode, ...], purpose: str, basis: str
) -> Submission:
    now = utc_now()
    return Submission(
        resource=resource.id,
        items=tuple(items),
        modes=modes,
        purpose=purpose,
        scope_of_knowledge="本部门业务经办人员",
        security_measures="专网访问,按岗位授权,全程留痕",
        legal_basis=basis,
        valid_from=now,
        valid_until=now + dt.timedelta(days=DEMO_APPLICATION_DAYS),
    )


async def approve_demo_consumers(settings: Settings) -> list[str]:
    """``approve_unconditional`` for the departments the demo issues tokens to (the consumers
    DRC and HOUSING, the operator BIGDATA and the provider AMR, which read data too), the demo
    operator accepting, the demo purpose: what ``govshare demo`` does after building it."""
    from gateway.demo import AMR, BIGDATA, DRC, GRANT_PURPOSE, HOUSING

    readers = (DRC.code, HOUSING.code, BIGDATA.code, AMR.code)
    return await approve_unconditional(settings, readers, BIGDATA.code, GRANT_PURPOSE)
