"""China time (policies/chinatime.py), checked against the rule itself, not the code.

China Standard Time is UTC+8 with no daylight saving time since September 1991 (the IANA
zone Asia/Shanghai: UTC+9 in the summers of 1986-1991). An ISO 8601 instant with an offset
is that instant; without one it is China time. Every "today" is China's date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from errors import BadRequest
from policies.chinatime import as_utc, china_day, parse_instant, today_in_china

EIGHT_HOURS = dt.timedelta(hours=8)
SINCE_1992 = st.datetimes(min_value=dt.datetime(1992, 1, 1), max_value=dt.datetime(9998, 12, 30))
OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda minutes: dt.timezone(dt.timedelta(minutes=minutes)))


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-12-01T17:00:00+08:00", dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)),
        ("2026-12-01T09:00:00Z", dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)),
        ("2026-12-01T17:00:00", dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)),  # no offset: China time
        ("2026-12-01 17:00", dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)),
        ("2026-12-01", dt.datetime(2026, 11, 30, 16, tzinfo=dt.UTC)),  # midnight in China
        ("1990-07-01T12:00:00", dt.datetime(1990, 7, 1, 3, tzinfo=dt.UTC)),  # summer time then: UTC+9
        # RFC 3339 section 5.6, NOTE: "T" and "Z" may alternatively be lower case
        ("2026-12-01t09:00:00z", dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)),
        ("2026-12-01t17:00:00+08:00", dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)),
    ],
)
def test_examples(text: str, utc: dt.datetime) -> None:
    parsed = parse_instant(text)
    assert parsed == utc and parsed.utcoffset() == dt.timedelta(0)


@given(SINCE_1992)
def test_an_instant_without_an_offset_is_utc_plus_8(moment: dt.datetime) -> None:
    assert parse_instant(moment.isoformat()) == (moment - EIGHT_HOURS).replace(tzinfo=dt.UTC)


@given(SINCE_1992, OFFSETS)
def test_an_instant_with_an_offset_keeps_it(moment: dt.datetime, offset: dt.timezone) -> None:
    given_instant = moment.replace(tzinfo=offset)
    parsed = parse_instant(given_instant.isoformat())
    assert parsed == given_instant and parsed.utcoffset() == dt.timedelta(0)


YEAR_1 = dt.datetime(1, 1, 1)
MINUTE = dt.timedelta(minutes=1)


def utc_minutes(local: dt.datetime, offset: dt.timezone) -> int:
    """Minutes from 0001-01-01T00:00Z to ``local`` at ``offset``, in integers: nothing overflows."""
    return (local - YEAR_1) // MINUTE - offset.utcoffset(None) // MINUTE


ACCEPTED = range(utc_minutes(dt.datetime(1900, 1, 1), dt.UTC), utc_minutes(dt.datetime(9999, 1, 1), dt.UTC))


@given(st.datetimes(min_value=YEAR_1, max_value=dt.datetime(9999, 12, 31, 23, 59, 59)), OFFSETS)
def test_any_instant_is_accepted_in_range_and_refused_outside_never_overflows(
    moment: dt.datetime, offset: dt.timezone
) -> None:
    written = moment.replace(tzinfo=offset)
    if utc_minutes(moment, offset) in ACCEPTED:
        assert parse_instant(written.isoformat()) == written
    else:
        with pytest.raises(BadRequest, match="out of range"):
            parse_instant(written.isoformat())


@given(st.text(max_size=40))
def test_any_text_is_an_instant_or_bad_request(text: str) -> None:
    try:
        parsed = parse_instant(text)
    except BadRequest as refused:
        assert "ISO 8601" in refused.message or "out of range" in refused.message
    else:
        assert parsed.utcoffset() == dt.timedelta(0)


@given(SINCE_1992, OFFSETS)
def test_china_day_is_the_date_at_utc_plus_8(moment: dt.datetime, offset: dt.timezone) -> None:
    instant = moment.replace(tzinfo=offset)
    assert china_day(instant) == (instant.astimezone(dt.UTC) + EIGHT_HOURS).date()
    assert china_day(instant.date()) == instant.date()  # a date is a day already


@pytest.mark.parametrize(
    ("now", "today"),
    [
        (dt.datetime(2026, 11, 30, 15, 59, 59, tzinfo=dt.UTC), dt.date(2026, 11, 30)),
        (dt.datetime(2026, 11, 30, 16, 0, tzinfo=dt.UTC), dt.date(2026, 12, 1)),
        (dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.timezone(dt.timedelta(hours=-12))), dt.date(2026, 12, 2)),
    ],
)
def test_today_in_china_at_a_given_instant(now: dt.datetime, today: dt.date) -> None:
    assert today_in_china(now) == today


def test_as_utc_refuses_the_issues_examples() -> None:
    for moment in (
        dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))),
        dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=-12))),
    ):
        with pytest.raises(BadRequest, match="out of range"):
            as_utc(moment)


@pytest.fixture
def far_local_zone(server_time_zone: Callable[[str], None]) -> str:
    """The process's TZ set so that its local date is not China's date (restored after)."""
    china_hour = (dt.datetime.now(dt.UTC) + EIGHT_HOURS).hour
    zone = "Etc/GMT+12" if china_hour < 20 else "Etc/GMT-14"
    server_time_zone(zone)
    return zone


def test_today_ignores_the_server_time_zone(far_local_zone: str) -> None:
    china_today = (dt.datetime.now(dt.UTC) + EIGHT_HOURS).date()
    assert dt.date.today() != china_today, f"premise: {far_local_zone} is another day"
    assert today_in_china() == china_today
