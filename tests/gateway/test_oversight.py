"""gateway.oversight over the in-process demo (its real SQLite sources): the last change
notice is an input of the realtime rule; verdicts are kept ``ttl`` seconds; a source that
fails counts as unknown, never as an error."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from gateway.oversight import CATALOG_REVIEW_OVERDUE, UPDATE_LATE, ChangeNoticeReader, Oversight
from policies.profile import load_profile
from policies.workdays import WorkdayCalendar

REALTIME = "psb.resident"  # update_cycle: realtime in the demo catalog
NOW = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)  # after every demo stamp (they end mid-November)


class Notices:
    """A change-notice store as oversight reads it; counts its reads."""

    def __init__(self, last: Mapping[str, dt.datetime]) -> None:
        self.last, self.reads = dict(last), 0

    async def last_notices(self, resources: Collection[str]) -> Mapping[str, dt.datetime]:
        self.reads += 1
        return {rid: moment for rid, moment in self.last.items() if rid in resources}


def oversight(
    gateway: Any, notices: ChangeNoticeReader | None = None, profile: str = "hubei", ttl: float = 60
) -> Oversight:
    return Oversight(gateway.catalog, gateway.federation.sources, load_profile(profile), WorkdayCalendar(),
                     notices=notices, clock=lambda: NOW, ttl=ttl)  # fmt: skip


async def test_a_realtime_resource_is_late_without_a_notice_covering_its_last_change(served) -> None:
    _, gateway, _ = served
    found = await oversight(gateway).verdicts()
    stamp = found[REALTIME].update.last_update
    assert stamp is not None and found[REALTIME].update.rule.kind == "realtime"
    assert found[REALTIME].update.late is True and UPDATE_LATE in found[REALTIME].reasons
    covered = await oversight(gateway, Notices({REALTIME: stamp})).verdicts()
    assert covered[REALTIME].update.late is False and covered[REALTIME].update.last_notice == stamp
    older = await oversight(gateway, Notices({REALTIME: stamp - dt.timedelta(seconds=1)})).verdicts()
    assert older[REALTIME].update.late is True


async def test_under_zhengzhou_every_resource_is_judged_by_notices(served) -> None:
    _, gateway, _ = served
    found = await oversight(gateway, profile="zhengzhou").verdicts()
    assert {v.update.rule.kind for v in found.values()} == {"realtime"}
    stamps = {rid: v.update.last_update for rid, v in found.items() if v.update.last_update is not None}
    assert stamps and all(found[rid].update.late for rid in stamps)
    notified = await oversight(gateway, Notices(stamps), profile="zhengzhou").verdicts()
    assert not any(v.update.late for v in notified.values())
    assert not any(v.review.overdue for v in notified.values())  # zhengzhou sets no yearly upkeep


async def test_verdicts_are_kept_for_the_ttl(served) -> None:
    _, gateway, _ = served
    notices = Notices({})
    kept = oversight(gateway, notices, ttl=60)
    first = await kept.verdicts()
    assert await kept.verdicts() is first and notices.reads == 1
    fresh = oversight(gateway, notices, ttl=0)
    await fresh.verdicts()
    await fresh.verdicts()  # expired: served as kept, renewed by one background task
    await fresh.verdicts()  # that task not done yet: no second one
    for _ in range(100):
        if notices.reads == 3:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.05)
    assert notices.reads == 3
    await fresh.close()


async def test_a_failing_source_is_unknown_not_an_error(served) -> None:
    _, gateway, _ = served
    source = gateway.federation.sources["amr.enterprise_registration"]

    async def broken(binding: Any) -> dt.datetime | None:
        raise OSError("disk gone")

    original = source.connector.freshness
    source.connector.freshness = broken  # the department's database failing under us
    try:
        found = await oversight(gateway, profile="shanghai").verdicts()
    finally:
        source.connector.freshness = original
    amr = found["amr.enterprise_registration"]
    assert (amr.update.last_update, amr.update.late) == (None, None)
    assert amr.reasons == (CATALOG_REVIEW_OVERDUE,)  # published 2024-01-01, shanghai art. 10


class FailingNotices:
    async def last_notices(self, resources: Collection[str]) -> Mapping[str, dt.datetime]:
        raise ConnectionError("platform database gone")


async def test_a_failing_notice_store_judges_as_if_never_notified(served) -> None:
    _, gateway, _ = served
    found = await oversight(gateway, FailingNotices()).verdicts()
    assert found[REALTIME].update.last_notice is None and found[REALTIME].update.late is True


async def test_a_hung_source_stalls_only_the_first_judgement_not_later_reads(served) -> None:
    """Once verdicts are kept, an expired set is served at once and renewed in the background:
    a source that never answers holds no /readyz or stats request for its timeout again."""
    import time

    _, gateway, _ = served
    source = gateway.federation.sources["amr.enterprise_registration"]
    notices = Notices({})

    async def hung(binding: Any) -> dt.datetime | None:
        await asyncio.Event().wait()
        return None

    original = source.connector.freshness
    source.connector.freshness = hung
    try:
        watched = Oversight(gateway.catalog, gateway.federation.sources, load_profile("hubei"),
                            WorkdayCalendar(), notices=notices, clock=lambda: NOW, ttl=0,
                            freshness_timeout=0.3)  # fmt: skip
        first = await watched.verdicts()  # nothing kept yet: waits for the timeout once
        started = time.monotonic()
        again = await asyncio.gather(*(watched.verdicts() for _ in range(5)))
        assert time.monotonic() - started < 0.2  # the timeout is 0.3 s: none of them waited for it
        assert all(found is first for found in again)  # the kept verdicts, expired or not
        await asyncio.sleep(0.5)  # one renewal in the background, not one per read
        assert notices.reads == 2
        assert await watched.verdicts() is not first
    finally:
        await watched.close()
        source.connector.freshness = original
