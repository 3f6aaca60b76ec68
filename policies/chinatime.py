"""China time: the one rule for instants and calendar days.

- **Stored instants are UTC.** Every instant is converted to UTC (:func:`as_utc`) before it is
  stored or compared, on every database, and is read back aware (``tzinfo=UTC``).
- **An input without an offset means China time.** ``2026-12-01T17:00:00`` is 17:00 in
  ``Asia/Shanghai`` (UTC+8; China has kept no daylight saving time since 1991, and the IANA
  zone also knows the 1986-1991 summers), i.e. ``2026-12-01T09:00:00Z``. An input with an
  offset (``+08:00``, ``Z``, ``-05:00``...) keeps it (ISO 8601 / RFC 3339 section 4.2).
- **"Today" is today in China.** A citizen ID's birth date not in the future, a grant's
  daily cap, an application's working-day deadlines and the statistics' days are all counted
  on China's calendar day (:func:`today_in_china`, :func:`china_day`), whatever the server's
  ``TZ`` or local clock.
- **Instants lie between** :data:`EARLIEST` **and** :data:`LATEST` (years 1900 to 9998, in
  UTC): anything else is refused as BAD_REQUEST (:func:`check_range`) so that converting it,
  storing it (PostgreSQL, SQLite) and adding days and years to it can never overflow Python's
  ``datetime`` (years 1-9999).

Nothing here reads the process's local time zone: ``datetime.now()`` without a zone and
``date.today()`` are never used, since they follow the server's ``TZ``.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from errors import BadRequest, shown

__all__ = [
    "CHINA_TIME",
    "EARLIEST",
    "LATEST",
    "as_utc",
    "check_range",
    "china_day",
    "parse_instant",
    "today_in_china",
    "utc_now",
]

CHINA_TIME = ZoneInfo("Asia/Shanghai")
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)  # a year short of datetime.max, for arithmetic

EXAMPLE = "2026-12-31T18:00:00+08:00"


def utc_now() -> dt.datetime:
    """The current instant, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def as_utc(moment: dt.datetime, what: str = "a date-time") -> dt.datetime:
    """``moment`` in UTC, aware; a naive ``moment`` is China time.

    Raises BadRequest (naming ``what``) when the instant is outside [EARLIEST, LATEST)."""
    local = moment if moment.tzinfo is not None else moment.replace(tzinfo=CHINA_TIME)
    try:
        utc = local.astimezone(dt.UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00 is before year 1 in UTC
        raise _out_of_range(moment.isoformat(), what) from None
    return check_range(utc, what)


def check_range(moment: dt.datetime, what: str = "a date-time") -> dt.datetime:
    """``moment`` (aware) unchanged if it lies in [EARLIEST, LATEST); else BadRequest."""
    if not EARLIEST <= moment < LATEST:
        raise _out_of_range(moment.isoformat(), what)
    return moment


def parse_instant(text: str, what: str = "a date-time") -> dt.datetime:
    """An ISO 8601 date-time text (``T`` or space between date and time; offset optional,
    China time without one) as an aware UTC datetime.

    Raises BadRequest naming ``what`` for text that is not such a date-time, or out of range."""
    try:
        # RFC 3339 section 5.6: "t" and "z" may be lower case (fromisoformat takes upper only)
        moment = dt.datetime.fromisoformat(text.strip().upper())
    except ValueError:
        raise BadRequest(
            f"{what} {shown(text)} is not an ISO 8601 date-time; write e.g. {EXAMPLE} "
            "(without an offset it is China time, Asia/Shanghai)",
            value=shown(text),
        ) from None
    try:
        return as_utc(moment, what)
    except BadRequest as refused:  # name the instant as it was written
        raise _out_of_range(text, what) from refused


def china_day(moment: dt.datetime | dt.date) -> dt.date:
    """The calendar day in China of an instant (a naive datetime is China time already);
    a date is returned as it is."""
    if isinstance(moment, dt.datetime):
        return moment.astimezone(CHINA_TIME).date() if moment.tzinfo is not None else moment.date()
    return moment


def today_in_china(now: dt.datetime | None = None) -> dt.date:
    """Today's date in China (at ``now``, aware, default the current instant)."""
    return china_day(now if now is not None else utc_now())


def _out_of_range(shown: str, what: str) -> BadRequest:
    return BadRequest(
        f"{what} {shown} is out of range: give an instant from {EARLIEST:%Y-%m-%d} to "
        f"{LATEST:%Y-%m-%d} (UTC), e.g. {EXAMPLE}",
        value=shown,
        earliest=EARLIEST.isoformat(),
        latest=LATEST.isoformat(),
    )
