"""Working days: the real 2025/2026 schedules, an operator calendar for 2027, fallback after.

The expected dates live in ``data/calendar_cases.yaml``, computed by hand from the State
Council notices; ``test_table_agrees_with_chinesecalendar`` re-derives them from the
package with an independent loop, so a wrong row is caught whichever side is wrong.
"""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import chinese_calendar
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from errors import ConfigurationError
from policies.profile import load_profile
from policies.workdays import (
    BASIS_FALLBACK,
    BASIS_PACKAGE,
    OperatorCalendar,
    WorkdayCalendar,
    deadline,
    load_operator_calendar,
)

DATA = Path(__file__).parent / "data"
CASES: dict[str, list[dict[str, Any]]] = yaml.safe_load((DATA / "calendar_cases.yaml").read_text("utf-8"))
CALENDAR_2027 = DATA / "calendar_2027.yaml"

PLAIN = WorkdayCalendar()
WITH_2027 = WorkdayCalendar(load_operator_calendar(CALENDAR_2027))
BEIJING = timezone(timedelta(hours=8))


def _rows(section: str) -> list[Any]:
    """The rows of one table as pytest params, named after the start day and n."""
    rows = CASES[section]
    return [pytest.param(row, id=_key(row)) for row in rows]


def _key(row: dict[str, Any]) -> str:
    first = row.get("day", row.get("start"))
    extra = row.get("n", row.get("end", row.get("step", "")))
    return f"{row.get('profile', '')}{first}+{extra}".replace(" ", "T")


def _china_day(value: date) -> date:
    if isinstance(value, datetime):
        return value.astimezone(BEIJING).date() if value.tzinfo else value.date()
    return value


# --- the 2025/2026 tables (chinesecalendar) ---------------------------------------------


@pytest.mark.parametrize("row", _rows("workdays"))
def test_workday_table(row: dict[str, Any]) -> None:
    assert PLAIN.is_workday(row["day"]) is row["workday"], row["why"]
    assert PLAIN.basis(row["day"]) == BASIS_PACKAGE


@pytest.mark.parametrize("row", _rows("due"))
def test_due_table(row: dict[str, Any]) -> None:
    assert PLAIN.add_workdays(row["start"], row["n"]) == row["due"], row["why"]


@pytest.mark.parametrize("row", _rows("between"))
def test_between_table(row: dict[str, Any]) -> None:
    assert PLAIN.workdays_between(row["start"], row["end"]) == row["count"], row["why"]


def _oracle_due(start: date, n: int) -> date:
    """The due date straight from chinese_calendar.is_workday, by the simplest loop."""
    day = _china_day(start)
    while n == 0 and not chinese_calendar.is_workday(day):
        day += timedelta(days=1)
    while n > 0:
        day += timedelta(days=1)
        n -= int(chinese_calendar.is_workday(day))
    return day


def test_table_agrees_with_chinesecalendar() -> None:
    for row in CASES["workdays"]:
        assert chinese_calendar.is_workday(row["day"]) is row["workday"], row
        assert row["why"].startswith(row["day"].strftime("%a")), row  # the weekday in "why" is right
    for row in CASES["due"]:
        assert _oracle_due(row["start"], row["n"]) == row["due"], row
    for row in CASES["profiles"]:
        days = getattr(load_profile(row["profile"]).deadlines, row["step"])
        expected = None if days is None else _oracle_due(row["start"], days)
        assert expected == row["due"], row


def test_the_brief_example_national_day_2026() -> None:
    submitted = datetime(2026, 9, 30, 10, 0)  # Wednesday
    assert [PLAIN.add_workdays(submitted, n) for n in (3, 5, 10)] == [
        date(2026, 10, 10),  # Thu 8, Fri 9, adjusted Sat 10
        date(2026, 10, 13),
        date(2026, 10, 20),
    ]
    assert PLAIN.workdays_between(submitted.date(), date(2026, 10, 10)) == 3


# --- profiles -----------------------------------------------------------------------------


def test_profile_limits_used_by_the_table() -> None:
    hubei, zhejiang = load_profile("hubei").deadlines, load_profile("zhejiang").deadlines
    assert (hubei.check, hubei.decide, hubei.notify) == (3, 10, 1)
    assert (zhejiang.decide, zhejiang.platform_grant, zhejiang.objection) == (5, 0, 5)


@pytest.mark.parametrize("row", _rows("profiles"))
def test_profile_deadlines(row: dict[str, Any]) -> None:
    days = getattr(load_profile(row["profile"]).deadlines, row["step"])
    assert deadline(PLAIN, row["start"], days) == row["due"]


def test_deadline_without_a_limit_is_none() -> None:
    assert deadline(PLAIN, datetime(2026, 10, 1), None) is None
    assert deadline(PLAIN, datetime(2026, 10, 1), 0) == date(2026, 10, 8)


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        PLAIN.add_workdays(date(2026, 3, 9), -1)


# --- the operator calendar for 2027 -------------------------------------------------------


def test_operator_calendar_is_read() -> None:
    operator = load_operator_calendar(CALENDAR_2027)
    assert operator.years == frozenset({2027})
    assert operator.source == str(CALENDAR_2027)
    assert len(operator.holidays) == 29  # 3 + 9 + 3 + 5 + 1 + 1 + 7
    assert operator.workdays == {
        date(2027, 2, 14),
        date(2027, 2, 20),
        date(2027, 5, 8),
        date(2027, 9, 26),
        date(2027, 10, 9),
    }


@pytest.mark.parametrize("row", _rows("operator_2027"))
def test_2027_follows_the_operator_calendar(row: dict[str, Any]) -> None:
    assert WITH_2027.add_workdays(row["start"], row["n"]) == row["due"], row["why"]


def test_2027_days_and_basis() -> None:
    operator = load_operator_calendar(CALENDAR_2027)
    for day in operator.holidays:
        assert not WITH_2027.is_workday(day), day
    for day in operator.workdays:
        assert WITH_2027.is_workday(day), day
    assert WITH_2027.is_workday(date(2027, 3, 10))  # a plain Wednesday
    assert not WITH_2027.is_workday(date(2027, 3, 13))  # a plain Saturday
    assert WITH_2027.basis(date(2027, 6, 9)) == f"operator:{CALENDAR_2027}"
    assert WITH_2027.basis(date(2026, 12, 31)) == BASIS_PACKAGE
    assert WITH_2027.basis(datetime(2026, 12, 31, 20, 0, tzinfo=UTC)) == f"operator:{CALENDAR_2027}"
    assert WITH_2027.fallback_years(date(2026, 1, 1), date(2027, 12, 31)) == []


def test_operator_calendar_overrides_a_package_year(tmp_path: Path) -> None:
    path = tmp_path / "calendar_2026_fix.yaml"
    path.write_text("years: [2026]\nholidays: [2026-10-08]\nworkdays: [2026-10-11]\n", "utf-8")
    calendar = WorkdayCalendar(load_operator_calendar(path))
    assert calendar.basis(date(2026, 10, 8)) == f"operator:{path}"
    assert not calendar.is_workday(date(2026, 10, 8))
    assert calendar.is_workday(date(2026, 10, 11))
    assert calendar.is_workday(date(2026, 10, 1))  # the operator file decides the whole year
    assert calendar.basis(date(2025, 10, 8)) == BASIS_PACKAGE


# --- fallback (no calendar knows the year) ------------------------------------------------


@pytest.mark.parametrize("row", _rows("fallback"))
def test_fallback_is_monday_to_friday(row: dict[str, Any]) -> None:
    assert PLAIN.add_workdays(row["start"], row["n"]) == row["due"], row["why"]


def test_fallback_is_reported_not_warned() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert PLAIN.basis(date(2028, 10, 2)) == BASIS_FALLBACK
        assert WITH_2027.basis(date(2028, 10, 2)) == BASIS_FALLBACK
        assert PLAIN.is_workday(date(2028, 10, 2))  # National Day is unknown: a plain Monday
        assert not PLAIN.is_workday(date(2028, 1, 1))
        assert PLAIN.add_workdays(date(2028, 9, 29), 3) == date(2028, 10, 4)
    assert caught == []
    assert PLAIN.fallback_years(date(2026, 9, 30), date(2028, 3, 1)) == [2027, 2028]
    assert WITH_2027.fallback_years(date(2026, 9, 30), date(2028, 3, 1)) == [2028]
    assert PLAIN.fallback_years(date(2025, 1, 1), date(2026, 12, 31)) == []
    assert PLAIN.fallback_years(date(2028, 1, 1), date(2027, 1, 1)) == []
    assert PLAIN.fallback_years(date(2003, 12, 1), date(2004, 2, 1)) == [2003]


# --- malformed operator calendars ---------------------------------------------------------

GOOD = "years: [2027]\nholidays: [2027-01-01]\nworkdays: [2027-02-14]\n"

# (id, file text, key named in the error, words of the problem)
BAD: list[tuple[str, str, str, str]] = [
    ("unknown-key", GOOD + "holiday: [2027-01-02]\n", "holiday", "unknown key"),
    ("missing-key", "years: [2027]\nholidays: []\n", "workdays", "missing required key"),
    ("duplicate-key", GOOD + "years: [2028]\n", "(file)", "duplicate key 'years'"),
    ("not-yaml", "years: [2027\n", "(file)", "not valid YAML"),
    ("not-a-mapping", "- 2027-01-01\n", "(top level)", "expected a mapping"),
    ("empty-file", "", "(top level)", "expected a mapping, got null"),
    ("no-years", "years: []\nholidays: []\nworkdays: []\n", "years", "non-empty list"),
    ("year-not-int", "years: ['2027']\nholidays: []\nworkdays: []\n", "years[0]", "expected a year"),
    ("year-twice", "years: [2027, 2027]\nholidays: []\nworkdays: []\n", "years[1]", "listed twice"),
    ("dates-not-list", "years: [2027]\nholidays: 2027-01-01\nworkdays: []\n", "holidays", "expected a list"),
    (
        "bad-date",
        "years: [2027]\nholidays: [2027-01-01, 2027-02-30]\nworkdays: []\n",
        "holidays[1]",
        "2027-02-30",
    ),
    ("not-a-date", "years: [2027]\nholidays: [2027/01/01]\nworkdays: []\n", "holidays[0]", "YYYY-MM-DD"),
    (
        "a-datetime",
        "years: [2027]\nholidays: [2027-01-01 10:00]\nworkdays: []\n",
        "holidays[0]",
        "YYYY-MM-DD",
    ),
    ("a-number", "years: [2027]\nholidays: [20270101]\nworkdays: []\n", "holidays[0]", "YYYY-MM-DD"),
    ("outside-years", "years: [2027]\nholidays: [2028-01-01]\nworkdays: []\n", "holidays[0]", "outside"),
    ("workday-outside", "years: [2027]\nholidays: []\nworkdays: [2026-10-10]\n", "workdays[0]", "outside"),
    (
        "date-twice",
        "years: [2027]\nholidays: [2027-01-01, 2027-01-01]\nworkdays: []\n",
        "holidays[1]",
        "twice",
    ),
    (
        "both-lists",
        "years: [2027]\nholidays: [2027-01-01, 2027-02-14]\nworkdays: [2027-02-14]\n",
        "workdays[0]",
        "also holidays[1]",
    ),
    ("weekday-workday", "years: [2027]\nholidays: []\nworkdays: [2027-02-15]\n", "workdays[0]", "Monday"),
]


@pytest.mark.parametrize(("text", "key", "problem"), [pytest.param(*case[1:], id=case[0]) for case in BAD])
def test_malformed_calendar_is_refused(tmp_path: Path, text: str, key: str, problem: str) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_operator_calendar(path)
    error = caught.value
    assert error.message.startswith(f"{path}: {key}: ")
    assert problem in error.message
    assert "(fix: " in error.message
    assert error.extensions["file"] == str(path)
    assert error.extensions["path"] == key


def test_good_calendar_text_loads(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(GOOD, "utf-8")
    operator = load_operator_calendar(path)
    assert (operator.holidays, operator.workdays) == ({date(2027, 1, 1)}, {date(2027, 2, 14)})


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"\(file\): cannot be read"):
        load_operator_calendar(tmp_path / "nowhere.yaml")


@pytest.mark.parametrize(
    ("holidays", "workdays", "years", "problem"),
    [
        ({date(2028, 1, 1)}, set(), {2027}, "outside the declared years"),
        ({date(2027, 2, 14)}, {date(2027, 2, 14)}, {2027}, "both"),
        (set(), {date(2027, 2, 15)}, {2027}, "not a Saturday or Sunday"),
        (set(), set(), set(), "no years"),
    ],
)
def test_inconsistent_calendar_cannot_be_built(
    holidays: set[date], workdays: set[date], years: set[int], problem: str
) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        OperatorCalendar(frozenset(holidays), frozenset(workdays), frozenset(years), "inline")


# --- properties ---------------------------------------------------------------------------

DAYS = st.dates(min_value=date(2004, 1, 1), max_value=date(2029, 12, 31))
CALENDARS = st.sampled_from([PLAIN, WITH_2027])
COUNTS = st.integers(min_value=1, max_value=40)


@settings(max_examples=300)
@given(calendar=CALENDARS, start=DAYS, n=COUNTS)
def test_due_date_is_a_later_workday(calendar: WorkdayCalendar, start: date, n: int) -> None:
    due = calendar.add_workdays(start, n)
    assert due > start
    assert calendar.is_workday(due)


@settings(max_examples=300)
@given(calendar=CALENDARS, start=DAYS, n=st.integers(min_value=0, max_value=40))
def test_due_date_is_monotonic_in_n(calendar: WorkdayCalendar, start: date, n: int) -> None:
    assert calendar.add_workdays(start, n) <= calendar.add_workdays(start, n + 1)
    if n >= 1:
        assert calendar.add_workdays(start, n) < calendar.add_workdays(start, n + 1)


@settings(max_examples=300)
@given(calendar=CALENDARS, start=DAYS, n=COUNTS)
def test_counting_back_gives_n(calendar: WorkdayCalendar, start: date, n: int) -> None:
    assert calendar.workdays_between(start, calendar.add_workdays(start, n)) == n


@settings(max_examples=200)
@given(calendar=CALENDARS, start=DAYS)
def test_zero_days_is_the_first_workday_from_start(calendar: WorkdayCalendar, start: date) -> None:
    due = calendar.add_workdays(start, 0)
    assert calendar.is_workday(due)
    assert (due == start) is calendar.is_workday(start)
    assert calendar.workdays_between(start, due) == (0 if due == start else 1)


@settings(max_examples=200)
@given(start=st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 12, 1)))
def test_package_years_match_chinesecalendar(start: date) -> None:
    assert PLAIN.is_workday(start) is chinese_calendar.is_workday(start)
    assert PLAIN.add_workdays(start, 7) == _oracle_due(start, 7)
