"""connectors/records.py: singular JSON paths (RFC 9535 section 2.3.5) and the cut of a
source's answer to the scan contract, as properties over generated records and rows."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.records import MISSING, RecordPath, as_stamp, only_asked, scan_window
from errors import ConfigurationError

NAMES = st.text(alphabet="abcxyz_名称", min_size=1, max_size=6).filter(lambda n: not n[0].isdigit())
QUOTED = st.text(alphabet="ab -.名", min_size=1, max_size=6)
STEPS = st.lists(st.one_of(NAMES, QUOTED, st.integers(0, 3)), max_size=5)


def written(steps: list[Any]) -> str:
    """The path as a catalog writes it: `.name`, `['quoted name']`, `[index]`."""
    parts = []
    for step in steps:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif step.replace("_", "a").isalnum():
            parts.append(f".{step}")
        else:
            parts.append(f"['{step}']")
    return "$" + "".join(parts)


def nest(steps: list[Any], value: Any) -> Any:
    for step in reversed(steps):
        value = [None] * step + [value] if isinstance(step, int) else {step: value}
    return value


@given(STEPS, st.one_of(st.none(), st.integers(), st.text(max_size=5)))
def test_a_written_path_reads_back_what_was_nested_under_it(steps: list[Any], value: Any) -> None:
    path = RecordPath.parse(written(steps))
    assert path.steps == tuple(steps)
    assert path.find(nest(steps, value)) == value


@given(STEPS.filter(bool), st.integers())
def test_a_record_lacking_the_path_is_missing_not_an_error(steps: list[Any], value: int) -> None:
    path = RecordPath.parse(written(steps))
    for record in ({}, [], "text", 5, None, nest(steps[:-1], "leaf")):
        assert path.find(record) is MISSING and path.get(record) is None


@pytest.mark.parametrize("text", ["", "$.", "$..name", "$.a[*]", "$[?(@.a)]", "$.a[-1]", "$['a", "a b", "$a"])
def test_what_is_not_a_singular_query_is_refused_naming_it(text: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        RecordPath.parse(text)
    assert repr(text) in caught.value.message


def test_dotted_shorthand_without_dollar() -> None:
    assert RecordPath.parse("unit.uscc").steps == ("unit", "uscc")
    assert RecordPath.parse("$").find({"a": 1}) == {"a": 1}


KEYS = st.text(alphabet="ABK0123", min_size=1, max_size=4)
STAMPS = st.one_of(st.none(), st.datetimes(dt.datetime(2024, 1, 1), dt.datetime(2024, 12, 31)))


@given(
    st.lists(st.tuples(KEYS, STAMPS), max_size=40),
    st.one_of(st.none(), KEYS),
    st.one_of(st.none(), st.datetimes(dt.datetime(2024, 1, 1), dt.datetime(2024, 12, 31))),
    st.integers(0, 50),
    st.booleans(),
)
def test_scan_window_is_exactly_the_contracts_rows(
    rows: list[tuple[str, dt.datetime | None]],
    after: str | None,
    since: dt.datetime | None,
    limit: int,
    stamped: bool,
) -> None:
    stamp = (lambda record: record) if stamped else None
    window = scan_window(rows, stamp, after=after, since=since, limit=limit)
    firsts = {}
    for key, record in rows:
        firsts.setdefault(key, record)  # a repeated key counts once: its first record
    wanted = sorted(
        (k, r) for k, r in firsts.items()
        if (after is None or k > after) and (since is None or not stamped or (r is not None and r >= since))
    )[:limit]  # fmt: skip
    assert [k for k, _ in window] == [k for k, _ in wanted]


@given(st.dictionaries(KEYS, st.integers()), st.lists(KEYS))
def test_only_asked_keeps_the_asked_keys_in_asking_order(found: dict[str, int], keys: list[str]) -> None:
    rows = {k: {"v": v} for k, v in found.items()}
    kept = only_asked(rows, keys)
    assert list(kept) == [k for k in dict.fromkeys(keys) if k in found]


@pytest.mark.parametrize(
    ("value", "stamp"),
    [("2024-01-02T03:04:05", dt.datetime(2024, 1, 2, 3, 4, 5)), ("yesterday", None), (None, None),
     (dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1))],
)  # fmt: skip
def test_as_stamp(value: Any, stamp: dt.datetime | None) -> None:
    assert as_stamp(value) == stamp


OFFSETS = st.sampled_from(
    [dt.UTC, dt.timezone(dt.timedelta(hours=-5)), dt.timezone(dt.timedelta(hours=8)), None]
)


@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), timezones=OFFSETS))
def test_a_stamp_with_an_offset_is_china_time_and_compares_with_naive_ones(moment: dt.datetime) -> None:
    """A naive stamp is China time, as the gateway's ``since`` is (gateway/export.py); an
    ISO 8601 offset (``+08:00``, ``Z``) is turned into it, never left to fail a comparison."""
    stamp = as_stamp(moment.isoformat())
    assert stamp is not None and stamp.tzinfo is None
    expected = moment if moment.tzinfo is None else moment.astimezone(ZoneInfo("Asia/Shanghai"))
    assert stamp == expected.replace(tzinfo=None)
    assert as_stamp(moment) == stamp
    assert stamp < dt.datetime.max  # comparable with the naive `since` of a scan
