"""Time limits beyond applications: when shared data or a catalog entry is late (更新时效).

Two rules, each reading the regulation's numbers from the profile (``policies/profiles``):

**Data update limit** (:func:`update_rule`, :func:`judge_update`). Shanghai art. 16: shared
data are updated within 2 working days of being produced or changed. Zhejiang art. 25:
online cases, electronic licences and documents in real time, other information within 2
working days of being produced. Zhengzhou art. 24: everything in real time. Hubei art. 17,
Sanya art. 17: within the time limit the catalog sets. So:

- a resource is *realtime* when its catalog ``update_cycle`` is ``realtime``, when the
  profile's ``update_limit_days`` is 0 (Zhengzhou), or when its catalog ``content`` kind is
  in the profile's ``realtime_required`` (Zhejiang). A realtime resource is judged by change
  notices, not by a zero-day cycle (which would make every source late the moment it
  was stamped): it is late when its source changed (``last_update``) and no change notice
  at or after that change came within ``grace`` (default :data:`REALTIME_GRACE`);
- any other resource produces new data once per ``update_cycle`` (calendar days,
  :data:`CYCLE_DAYS`): its next update is due ``cycle`` after the source's last update, plus
  the profile's ``update_limit_days`` in Chinese working days to share it (to the end of
  that China day); with no profile limit (Hubei, Sanya: the catalog's limit) the cycle alone.

**Catalog upkeep** (:func:`judge_review`). Shanghai art. 10 (每年应当至少进行一次全面维护)
and Zhejiang art. 10 (每年...进行一次维护和整合): every catalog entry is maintained again within
``oversight.catalog_review_months`` of its last review (its ``reviewed`` date, else its
``published`` date). An entry with neither date is overdue. Profiles without the rule:
unknown (None), never flagged.

The objection deadline is profile data too (``deadlines.objection``: Zhejiang art. 28, 5
working days; null where the text says only "及时"); the objections workflow applies it, with
its configurable default where it is null.

Pure functions over dates: the caller supplies ``now`` and the last change notice time
(the change-notice store, issue 8 section 4); nothing here reads a clock or a database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from policies.chinatime import CHINA_TIME
from policies.profile import Profile
from policies.workdays import WorkdayCalendar

CYCLE_DAYS: Final = {
    "daily": 1, "weekly": 7, "monthly": 31, "quarterly": 92, "yearly": 366,
}  # fmt: skip
REALTIME: Final = "realtime"
CYCLE: Final = "cycle"
REALTIME_GRACE: Final = dt.timedelta(hours=1)


@dataclass(frozen=True)
class UpdateRule:
    """How one resource's updates are judged under a profile.

    ``kind``: ``realtime`` or ``cycle``; ``cycle_days``: calendar days between updates (None
    for realtime); ``limit_working_days``: working days after the cycle to share the new data
    (None: the cycle is the limit); ``basis``: the citation, e.g. ``《...》 art. 16``."""

    kind: str
    cycle_days: int | None
    limit_working_days: int | None
    basis: str


@dataclass(frozen=True)
class UpdateVerdict:
    """Whether a resource is late. ``due_by``: the last on-time instant (None when unknown
    or realtime); ``late``: None when it cannot be told (no source stamp and no notice)."""

    rule: UpdateRule
    last_update: dt.datetime | None
    last_notice: dt.datetime | None
    due_by: dt.datetime | None
    late: bool | None


def is_realtime(profile: Profile, update_cycle: str, content: str) -> bool:
    """Realtime by the catalog (``update_cycle: realtime``), by the profile for everything
    (``update_limit_days: 0``, Zhengzhou art. 24) or for the content kind (Zhejiang art. 25)."""
    return update_cycle == REALTIME or profile.update_limit_days == 0 or content in profile.realtime_required


def update_rule(profile: Profile, update_cycle: str, content: str = "other") -> UpdateRule:
    """The rule for a resource of ``update_cycle`` (policies.catalog.UPDATE_CYCLES) and
    ``content`` kind under ``profile``; ValueError for a cycle this module does not know."""
    basis = profile.cite("update")
    if is_realtime(profile, update_cycle, content):
        return UpdateRule(REALTIME, None, None, basis)
    if update_cycle not in CYCLE_DAYS:
        raise ValueError(f"unknown update cycle {update_cycle!r}; expected one of {', '.join(CYCLE_DAYS)}")
    return UpdateRule(CYCLE, CYCLE_DAYS[update_cycle], profile.update_limit_days, basis)


def catalog_rule(update_cycle: str) -> UpdateRule:
    """The rule of the catalog alone (no profile limit): for callers that have no profile."""
    if update_cycle == REALTIME:
        return UpdateRule(REALTIME, None, None, "catalog update_cycle")
    if update_cycle not in CYCLE_DAYS:
        raise ValueError(f"unknown update cycle {update_cycle!r}; expected one of {', '.join(CYCLE_DAYS)}")
    return UpdateRule(CYCLE, CYCLE_DAYS[update_cycle], None, "catalog update_cycle")


def judge_update(
    rule: UpdateRule,
    last_update: dt.datetime | None,
    last_notice: dt.datetime | None,
    now: dt.datetime,
    calendar: WorkdayCalendar,
    grace: dt.timedelta = REALTIME_GRACE,
) -> UpdateVerdict:
    """Judge one resource at ``now`` (aware datetimes; the source's last change stamp and the
    last change notice on the resource, either None when there is none). A stamp whose due
    instant would pass ``datetime.max`` is unknown (``late`` None), never an OverflowError."""
    if rule.kind == REALTIME:
        return UpdateVerdict(
            rule, last_update, last_notice, None, _realtime_late(last_update, last_notice, now, grace)
        )
    if last_update is None:
        return UpdateVerdict(rule, None, last_notice, None, None)
    try:
        due_by = cycle_due_by(rule, last_update, calendar)
    except OverflowError:  # a stamp within a cycle of datetime.max (e.g. 9998-12-31): unknown
        return UpdateVerdict(rule, last_update, last_notice, None, None)
    return UpdateVerdict(rule, last_update, last_notice, due_by, now > due_by)


def cycle_due_by(rule: UpdateRule, last_update: dt.datetime, calendar: WorkdayCalendar) -> dt.datetime:
    """``last_update`` + the cycle, then + the limit in working days to the end of that China day."""
    assert rule.cycle_days is not None, "realtime resources have no cycle"
    produced = last_update + dt.timedelta(days=rule.cycle_days)
    if rule.limit_working_days is None:
        return produced
    day = calendar.add_workdays(produced, rule.limit_working_days)
    return dt.datetime.combine(day, dt.time.max, CHINA_TIME)


def _realtime_late(
    last_update: dt.datetime | None, last_notice: dt.datetime | None, now: dt.datetime, grace: dt.timedelta
) -> bool | None:
    """Late when the source changed and no notice at or after that change came within ``grace``."""
    if last_update is None:
        return None if last_notice is None else False
    if last_notice is not None and last_notice >= last_update:
        return False
    return now > last_update + grace


@dataclass(frozen=True)
class ReviewVerdict:
    """A catalog entry's upkeep: ``last_review`` (reviewed, else published), ``due`` (the day
    by which it is maintained again), ``overdue`` (None where the profile sets no upkeep)."""

    last_review: dt.date | None
    due: dt.date | None
    overdue: bool | None
    basis: str


def judge_review(
    profile: Profile, reviewed: dt.date | None, published: dt.date | None, today: dt.date
) -> ReviewVerdict:
    """Whether a catalog entry was maintained within the profile's ``catalog_review_months``;
    a last review so late that its due day passes year 9999 is unknown (``overdue`` None)."""
    months = profile.oversight.catalog_review_months
    last = reviewed or published
    basis = profile.cite("catalog_update")
    if months is None:
        return ReviewVerdict(last, None, None, basis)
    if last is None:
        return ReviewVerdict(None, None, True, basis)
    if last.year + (last.month - 1 + months) // 12 > dt.MAXYEAR:  # e.g. reviewed: 9999-06-01
        return ReviewVerdict(last, None, None, basis)  # not yet due at any date there is: unknown
    due = add_months(last, months)
    return ReviewVerdict(last, due, today > due, basis)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months; the 31st of a shorter month is its last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last_day in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last_day))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")
