"""Chinese working days (工作日), for the application and objection deadlines (DESIGN section 8).

A day is a working day by the first source that knows its year:

1. an operator-supplied calendar file (:func:`load_operator_calendar`) for the years it
   declares; it may also override a year the package knows (a corrected notice);
2. the ``chinesecalendar`` package (holidays and adjusted weekend workdays, 调休, from the
   State Council notices; it knows 2004-2026 and raises NotImplementedError beyond);
3. otherwise Monday-Friday. No Python warning is emitted: :meth:`WorkdayCalendar.basis`
   and :meth:`WorkdayCalendar.fallback_years` report it, so the application and
   ``/readyz`` can say that a deadline was counted without the official holidays.

Counting (``add_workdays``): the due date of a step with a limit of ``n`` working days is
the ``n``-th working day AFTER the day it started; the start day itself is not counted,
whatever the hour. ``n = 0`` ("at once") is the start day if it is a working day, else the
next working day. A :class:`datetime` with a timezone is first converted to China time
(:mod:`policies.chinatime`); a naive one is taken as China time already.

Operator calendar file (YAML), one list per key, all three keys required::

    years: [2027]                 # the years this file decides, each in full
    holidays: [2027-01-01, ...]   # days off, including the weekend days of a holiday block
    workdays: [2027-02-14, ...]   # adjusted weekend workdays (调休上班), Saturdays/Sundays

Any other day of a declared year is a working day if and only if it is Monday-Friday.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import yaml

from errors import ConfigurationError
from policies.chinatime import CHINA_TIME, china_day
from policies.yamlfiles import StrictTextDatesLoader, describe

__all__ = [
    "BASIS_FALLBACK",
    "BASIS_PACKAGE",
    "CHINA_TIME",
    "OPERATOR_PREFIX",
    "OperatorCalendar",
    "WorkdayCalendar",
    "deadline",
    "load_operator_calendar",
]

BASIS_PACKAGE = "chinesecalendar"
BASIS_FALLBACK = "fallback"
OPERATOR_PREFIX = "operator:"

_KEYS = ("years", "holidays", "workdays")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SATURDAY = 5


@dataclass(frozen=True)
class OperatorCalendar:
    """Holidays and adjusted workdays of the ``years`` an operator declares, from ``source``."""

    holidays: frozenset[date]
    workdays: frozenset[date]
    years: frozenset[int]
    source: str

    def __post_init__(self) -> None:
        problem = _calendar_problem(self)
        if problem:
            raise ConfigurationError(f"{self.source}: {problem}", file=self.source)

    def covers(self, year: int) -> bool:
        """Whether this calendar decides the days of ``year``."""
        return year in self.years

    def is_workday(self, day: date) -> bool:
        """Working day by this calendar; only meaningful for a covered year."""
        if day in self.workdays:
            return True
        return day not in self.holidays and _is_weekday(day)


def _calendar_problem(calendar: OperatorCalendar) -> str | None:
    """What makes ``calendar`` inconsistent, or None (a backstop for direct construction)."""
    if not calendar.years:
        return "declares no years"
    outside = sorted(d for d in calendar.holidays | calendar.workdays if d.year not in calendar.years)
    if outside:
        return f"{outside[0].isoformat()} is outside the declared years"
    both = sorted(calendar.holidays & calendar.workdays)
    if both:
        return f"{both[0].isoformat()} is listed both as a holiday and as a workday"
    weekdays = sorted(d for d in calendar.workdays if _is_weekday(d))
    if weekdays:
        return f"adjusted workday {weekdays[0].isoformat()} is not a Saturday or Sunday"
    return None


class WorkdayCalendar:
    """Working days: operator calendar, then ``chinesecalendar``, then Monday-Friday."""

    def __init__(self, operator: OperatorCalendar | None = None) -> None:
        self.operator = operator

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` (a date, or a datetime taken in China time) is a working day."""
        day = _china_day(day)
        if self.operator is not None and self.operator.covers(day.year):
            return self.operator.is_workday(day)
        if _package_knows(day.year):
            return bool(chinese_calendar.is_workday(day))
        return _is_weekday(day)

    def basis(self, day: date) -> str:
        """Which source decides ``day``: ``chinesecalendar``, ``operator:<source>`` or ``fallback``."""
        return self._year_basis(_china_day(day).year)

    def add_workdays(self, start: datetime | date, n: int) -> date:
        """The due date: the ``n``-th working day after ``start``'s day (see the module docs)."""
        if n < 0:
            raise ValueError(f"working days must be >= 0, got {n}")
        day = _china_day(start)
        if n == 0:
            return self._first_workday_from(day)
        while n > 0:
            day += timedelta(days=1)
            if self.is_workday(day):
                n -= 1
        return day

    def workdays_between(self, start: date, end: date) -> int:
        """The number of working days in ``(start, end]``; 0 when ``end <= start``."""
        first, last = _china_day(start), _china_day(end)
        return sum(self.is_workday(day) for day in _days_after(first, last))

    def fallback_years(self, start: date, end: date) -> list[int]:
        """The years in ``[start, end]`` decided by the Monday-Friday fallback, ascending."""
        years = range(_china_day(start).year, _china_day(end).year + 1)
        return [year for year in years if self._year_basis(year) == BASIS_FALLBACK]

    def _year_basis(self, year: int) -> str:
        if self.operator is not None and self.operator.covers(year):
            return OPERATOR_PREFIX + self.operator.source
        return BASIS_PACKAGE if _package_knows(year) else BASIS_FALLBACK

    def _first_workday_from(self, day: date) -> date:
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def __repr__(self) -> str:
        source = self.operator.source if self.operator else None
        return f"WorkdayCalendar(operator={source!r})"


def deadline(calendar: WorkdayCalendar, start: datetime | date, days: int | None) -> date | None:
    """The due date of a step started at ``start`` with a limit of ``days``; None = no limit."""
    return None if days is None else calendar.add_workdays(start, days)


@functools.cache
def _package_knows(year: int) -> bool:
    """Whether ``chinesecalendar`` has the holiday schedule of ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _china_day(value: date) -> date:
    """The calendar day of ``value`` in China (the rule of :func:`policies.chinatime.china_day`)."""
    return china_day(value)


def _is_weekday(day: date) -> bool:
    return day.weekday() < _SATURDAY


def _days_after(first: date, last: date) -> Iterable[date]:
    """The days in ``(first, last]``."""
    return (first + timedelta(days=k) for k in range(1, (last - first).days + 1))


# --- loading an operator calendar file -------------------------------------------------


def load_operator_calendar(path: str | Path) -> OperatorCalendar:
    """Read and strictly validate an operator calendar file (see the module docs)."""
    src = _Source(str(path))
    top = _mapping(src, _read_yaml(src, path))
    years = _years(src, top["years"])
    holidays = _dates(src, top["holidays"], "holidays", years)
    workdays = _dates(src, top["workdays"], "workdays", years)
    _check_disjoint(src, holidays, workdays)
    _check_weekends(src, workdays)
    return OperatorCalendar(
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
        years=frozenset(years),
        source=src.file,
    )


@dataclass(frozen=True)
class _Source:
    """The calendar file being read, for error messages."""

    file: str

    def error(self, path: str, problem: str, fix: str) -> ConfigurationError:
        return ConfigurationError(f"{self.file}: {path}: {problem} (fix: {fix})", file=self.file, path=path)


def _read_yaml(src: _Source, path: str | Path) -> object:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise src.error("(file)", f"cannot be read: {exc}", "give the path of a UTF-8 YAML file") from exc
    try:
        return yaml.load(text, Loader=StrictTextDatesLoader)
    except yaml.YAMLError as exc:
        raise src.error("(file)", f"is not valid YAML: {exc}", "correct the YAML syntax") from exc


def _mapping(src: _Source, document: object) -> dict[str, object]:
    """The top-level mapping, with exactly the keys years, holidays and workdays."""
    if not isinstance(document, dict):
        raise src.error("(top level)", f"expected a mapping, got {describe(document)}", _keys_fix())
    for key in document:
        if key not in _KEYS:
            raise src.error(str(key), "unknown key", _keys_fix())
    for key in _KEYS:
        if key not in document:
            raise src.error(key, "missing required key", _keys_fix())
    return {str(key): value for key, value in document.items()}


def _keys_fix() -> str:
    return f"use exactly the keys {', '.join(_KEYS)}, each a list (workdays may be [])"


def _years(src: _Source, value: object) -> list[int]:
    if not isinstance(value, list) or not value:
        raise src.error(
            "years", f"expected a non-empty list, got {describe(value)}", "write e.g. years: [2027]"
        )
    for index, year in enumerate(value):
        if type(year) is not int or not 1 <= year <= 9999:
            raise src.error(f"years[{index}]", f"expected a year, got {describe(year)}", "write e.g. 2027")
        if value.index(year) != index:
            raise src.error(f"years[{index}]", f"{year} is listed twice", "list each year once")
    return list(value)


def _dates(src: _Source, value: object, key: str, years: list[int]) -> list[date]:
    if not isinstance(value, list):
        raise src.error(
            key, f"expected a list, got {describe(value)}", f"write {key}: [YYYY-MM-DD, ...] or []"
        )
    days: list[date] = []
    for index, item in enumerate(value):
        where = f"{key}[{index}]"
        day = _date(src, item, where)
        if day.year not in years:
            raise src.error(
                where, f"{day} is outside the declared years", "add its year to years or remove it"
            )
        if day in days:
            raise src.error(where, f"{day} is listed twice", "list each date once")
        days.append(day)
    return days


def _date(src: _Source, value: object, where: str) -> date:
    fix = "write an existing date as YYYY-MM-DD, e.g. 2027-01-01"
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise src.error(where, f"expected a date YYYY-MM-DD, got {describe(value)}", fix)
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise src.error(where, f"{value} is not a valid date: {exc}", fix) from exc


def _check_disjoint(src: _Source, holidays: list[date], workdays: list[date]) -> None:
    for index, day in enumerate(workdays):
        if day in holidays:
            raise src.error(
                f"workdays[{index}]",
                f"{day} is also holidays[{holidays.index(day)}]",
                "keep the date in only one of holidays and workdays",
            )


def _check_weekends(src: _Source, workdays: list[date]) -> None:
    for index, day in enumerate(workdays):
        if _is_weekday(day):
            raise src.error(
                f"workdays[{index}]",
                f"{day} is a {day.strftime('%A')}; Monday-Friday are working days anyway",
                "list only adjusted Saturday/Sunday workdays (调休上班) here",
            )
