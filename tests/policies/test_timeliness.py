"""Update limits, catalog upkeep and objection deadline data per profile (policies.timeliness),
table-driven over tests/policies/data/timeliness/*.yaml, plus property tests of the lateness rule."""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from errors import ConfigurationError
from policies.profile import load_profile, load_profile_file, profile_names
from policies.timeliness import (
    CYCLE_DAYS,
    REALTIME_GRACE,
    add_months,
    judge_review,
    judge_update,
    update_rule,
)
from policies.workdays import WorkdayCalendar

DATA = Path(__file__).parent / "data" / "timeliness"
CALENDAR = WorkdayCalendar()


def cases(name: str) -> list[dict[str, Any]]:
    document = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    return list(document["cases"])


def instant(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


@pytest.mark.parametrize("case", cases("update_limits.yaml"), ids=lambda case: case["name"])
def test_update_limit(case: dict[str, Any]) -> None:
    profile = load_profile(case["profile"])
    rule = update_rule(profile, case["cycle"], case["content"])
    assert (rule.kind, rule.limit_working_days) == (case["rule"], case["limit"])
    assert rule.basis == profile.cite("update") and "art. " in rule.basis
    found = judge_update(
        rule, instant(case["last_update"]), instant(case["last_notice"]), instant(case["now"]), CALENDAR
    )
    assert found.due_by == instant(case["due_by"])
    assert found.late is case["late"]


def test_every_profile_has_update_cases() -> None:
    assert {case["profile"] for case in cases("update_limits.yaml")} == set(profile_names())


@pytest.mark.parametrize("case", cases("catalog_upkeep.yaml"), ids=lambda case: case["name"])
def test_catalog_upkeep(case: dict[str, Any]) -> None:
    profile = load_profile(case["profile"])
    found = judge_review(profile, case["reviewed"], case["published"], case["today"])
    assert (found.last_review, found.due, found.overdue) == (
        case["last_review"],
        case["due"],
        case["overdue"],
    )
    assert found.basis == profile.cite("catalog_update")


PROFILES = yaml.safe_load((DATA / "profiles.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_objection_deadline_and_evaluation(name: str) -> None:
    profile, expected = load_profile(name), PROFILES[name]
    assert profile.deadlines.objection == expected["objection_working_days"]
    assert profile.articles.get("objection") == expected["objection_article"]
    assert profile.oversight.catalog_change_days == expected["catalog_change_days"]
    assert dict(profile.oversight.evaluation.figures) == expected["evaluation"]
    assert list(profile.oversight.evaluation.figures) == list(expected["evaluation"])  # the article's order
    assert profile.articles["statistics"] == expected["article"]


def test_an_unknown_cycle_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="daily, weekly"):
        update_rule(load_profile("shanghai"), "hourly")


# --- properties of the lateness rule ------------------------------------------------------

instants = st.datetimes(
    min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2026, 12, 31), timezones=st.just(dt.UTC)
)
cycled = st.sampled_from(sorted(CYCLE_DAYS))
profiles = st.sampled_from(["shanghai", "hubei", "sanya"])  # profiles where a cycle applies to "other"


@given(
    profiles,
    cycled,
    instants,
    instants,
    st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=30)),
)
def test_later_is_never_less_late(name: str, cycle: str, last: dt.datetime, now: dt.datetime,
                                  wait: dt.timedelta) -> None:  # fmt: skip
    """Monotone in time: once late, a resource stays late until its next update."""
    rule = update_rule(load_profile(name), cycle)
    before = judge_update(rule, last, None, now, CALENDAR)
    after = judge_update(rule, last, None, now + wait, CALENDAR)
    assert not before.late or after.late


@given(profiles, cycled, instants, st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=30)))
def test_a_newer_update_is_never_later(name: str, cycle: str, last: dt.datetime, gap: dt.timedelta) -> None:
    """Monotone in the stamp: updating the source moves the due date forward, never back."""
    rule = update_rule(load_profile(name), cycle)
    now = last + dt.timedelta(days=40)
    older = judge_update(rule, last, None, now, CALENDAR)
    newer = judge_update(rule, last + gap, None, now, CALENDAR)
    assert older.due_by is not None and newer.due_by is not None and newer.due_by >= older.due_by
    assert not newer.late or older.late


@given(profiles, cycled, instants)
def test_due_at_least_a_cycle_after_the_update(name: str, cycle: str, last: dt.datetime) -> None:
    rule = update_rule(load_profile(name), cycle)
    found = judge_update(rule, last, None, last, CALENDAR)
    assert found.due_by is not None and found.due_by >= last + dt.timedelta(days=CYCLE_DAYS[cycle])
    assert found.late is False  # just updated: never late


@given(instants, st.one_of(st.none(), instants), instants)
def test_realtime_is_late_only_for_a_change_without_a_later_notice(
    last: dt.datetime, notice: dt.datetime | None, now: dt.datetime
) -> None:
    rule = update_rule(load_profile("zhengzhou"), "daily")
    found = judge_update(rule, last, notice, now, CALENDAR)
    covered = notice is not None and notice >= last
    assert found.due_by is None
    assert found.late is (not covered and now > last + REALTIME_GRACE)


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1)), st.integers(1, 36))
def test_add_months_lands_in_the_right_month_never_past_the_day(day: dt.date, months: int) -> None:
    found = add_months(day, months)
    assert (found.year * 12 + found.month) - (day.year * 12 + day.month) == months
    assert found.day <= day.day and (found.day == day.day or found.day >= 28)


# --- the profile's oversight block is validated at load -------------------------------------

BAD = yaml.safe_load((DATA / "bad_oversight.yaml").read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", BAD, ids=lambda case: case["name"])
def test_a_malformed_oversight_block_names_file_and_key(tmp_path: Path, case: dict[str, Any]) -> None:
    source = resources.files("policies.profiles") / "shanghai.yaml"
    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    *parents, last = case["key"].split(".")
    node = document
    for key in parents:
        node = node[key]
    if case.get("drop"):
        del node[last]
    else:
        node[last] = case["set"]
    path = tmp_path / "shanghai.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_profile_file(path)
    assert caught.value.message.startswith(f"{path}: {case['key']}: "), caught.value.message
    assert case["problem"] in caught.value.message


@pytest.mark.parametrize("name", ["shanghai", "hubei", "zhengzhou"])
@pytest.mark.parametrize("cycle", sorted(CYCLE_DAYS))
def test_a_stamp_near_the_end_of_time_is_unknown_not_an_overflow(name: str, cycle: str) -> None:
    """A source stamp inside the accepted range (before chinatime.LATEST, 9999-01-01) whose due
    instant falls past datetime.max: unknown (a crash here was a 500 on /readyz and stats)."""
    last = dt.datetime(9998, 12, 31, 23, 59, tzinfo=dt.UTC)
    rule = update_rule(load_profile(name), cycle)
    verdict = judge_update(rule, last, None, dt.datetime(2026, 11, 30, tzinfo=dt.UTC), CALENDAR)
    assert verdict.late in (None, False)


@given(profiles, st.dates(min_value=dt.date(9990, 1, 1)))
def test_a_review_date_near_the_end_of_time_is_never_an_error(name: str, reviewed: dt.date) -> None:
    """``reviewed: 9999-06-01`` (a typo the catalog loader accepts): not overdue, no crash."""
    verdict = judge_review(load_profile(name), reviewed, None, dt.date(2026, 11, 30))
    assert verdict.overdue in (None, False)
