"""Objection and change-notice rules (policies.objections), over data/objections.yaml.

Table-driven: the deadline per profile (Zhejiang art. 28: 5 working days; elsewhere
"promptly", the operator's default, marked non-statutory), the due day across the 2025
holidays, the notice limit (Shanghai art. 16: 2 working days) and lateness at the edge of
a China day. Properties: overdue is monotone in time; a notice never names a subject the
consumer has not read; reasons with control characters are refused.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from errors import BadRequest, Forbidden
from policies.catalog import load_catalog
from policies.chinatime import CHINA_TIME
from policies.objections import (
    MAX_OPEN_PER_CONSUMER,
    MAX_REASON_CHARS,
    hidden_character,
    holding_kinds,
    is_overdue,
    notice_due,
    notice_for,
    notice_items_for,
    notice_late,
    notice_limit,
    objection_due,
    objection_limit,
    require_answerer,
    require_not_repeated,
    require_notifier,
    require_raiser,
    require_text,
)
from policies.profile import load_profile
from policies.workdays import WorkdayCalendar
from tests.conftest import CATALOG

CASES: dict[str, list[dict[str, Any]]] = yaml.safe_load(
    (Path(__file__).parent / "data" / "objections.yaml").read_text("utf-8")
)
CALENDAR = WorkdayCalendar()
OBJECTION_DEFAULT, NOTICE_DEFAULT = 3, 4


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.mark.parametrize("case", CASES["objection_limits"], ids=lambda c: c["profile"])
def test_objection_limit_per_profile(case: dict[str, Any]) -> None:
    limit = objection_limit(load_profile(case["profile"]), OBJECTION_DEFAULT)
    assert (limit.days, limit.statutory) == (case["days"], case["statutory"])
    if case["article"]:
        assert case["article"] in limit.basis
    assert ("promptly" in limit.basis) is (not case["statutory"] and case["article"] is not None)
    assert ("operator default" in limit.basis) is not case["statutory"]


@pytest.mark.parametrize("case", CASES["objection_due"], ids=lambda c: c["why"])
def test_objection_due_day(case: dict[str, Any]) -> None:
    limit = objection_limit(load_profile(case["profile"]), OBJECTION_DEFAULT)
    assert objection_due(CALENDAR, instant(case["raised"]), limit) == case["due"]


@pytest.mark.parametrize("case", CASES["notice_limits"], ids=lambda c: c["profile"])
def test_notice_limit_per_profile(case: dict[str, Any]) -> None:
    assert notice_limit(load_profile(case["profile"]), NOTICE_DEFAULT) == case["days"]


@pytest.mark.parametrize("case", CASES["notices"], ids=lambda c: c["why"])
def test_late_notices(case: dict[str, Any]) -> None:
    days = notice_limit(load_profile(case["profile"]), NOTICE_DEFAULT)
    due = notice_due(CALENDAR, instant(case["changed"]), days)
    assert notice_late(due, instant(case["notified"])) is case["late"]


def test_no_limit_is_never_late() -> None:
    assert notice_late(None, dt.datetime(2099, 1, 1, tzinfo=dt.UTC)) is False


moments = st.datetimes(
    min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2026, 12, 31), timezones=st.just(CHINA_TIME)
)


@given(due=st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2026, 12, 31)), a=moments, b=moments)
def test_overdue_is_monotone_in_time(due: dt.date, a: dt.datetime, b: dt.datetime) -> None:
    early, late = sorted((a, b))
    assert not (is_overdue(due, None, early) and not is_overdue(due, None, late))
    assert is_overdue(due, None, late) is (late.date() > due)


codes = st.lists(st.sampled_from([f"S{i}" for i in range(12)]), max_size=12, unique=True)


@given(subjects=codes, read=codes)
def test_a_notice_names_only_subjects_read_in_order(subjects: list[str], read: list[str]) -> None:
    sent = notice_for(subjects, set(read))
    assert set(sent) <= set(read) and set(sent) <= set(subjects)
    assert sent == [s for s in subjects if s in set(read)]


@given(st.text(min_size=1, max_size=40))
def test_reasons_are_visible_text_or_refused(text: str) -> None:
    try:
        kept = require_text(text, "reason")
    except BadRequest as refused:
        stripped = text.strip()
        assert not stripped or refused.extensions["position"] == hidden_character(stripped) + 1  # type: ignore[operator]
    else:
        assert kept == text.strip() and hidden_character(kept) is None
        assert all(ch in "\t\n\r" or ch.isprintable() or ch.isspace() for ch in kept)


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("名称有误\n见执照", None),
        ("名称\u3000有误", None),  # ideographic space: typed by Chinese input methods
        ("a\tb\r\nc", None),
        ("\u202e反向", 0),  # bidi override
        ("零宽\u200b", 2),
        ("\ufeff标记", 0),
        ("段\u2029落", 1),
        ("a\x00b", 1),
    ],
)
def test_hidden_characters(text: str, hidden: int | None) -> None:
    assert hidden_character(text) == hidden


def test_overlong_reasons_are_refused() -> None:
    with pytest.raises(BadRequest, match=str(MAX_REASON_CHARS)):
        require_text("很" * (MAX_REASON_CHARS + 1), "reason")


def test_who_raises_answers_and_notifies() -> None:
    resource = load_catalog(CATALOG).resources["amr.enterprise_registration"]
    require_raiser({"consumer"})
    with pytest.raises(Forbidden):
        require_raiser({"provider", "operator"})
    require_answerer(resource.provider, {"provider"}, resource)
    require_notifier(resource.provider, {"provider"}, resource)
    for department, roles in ((resource.provider, {"consumer", "operator"}), ("other", {"provider"})):
        with pytest.raises(Forbidden):
            require_answerer(department, roles, resource)
        with pytest.raises(Forbidden):
            require_notifier(department, roles, resource)


items_st = st.lists(st.sampled_from(["name", "status", "legal_representative", "capital"]), unique=True)


@given(items=items_st, readable=items_st)
def test_a_notice_names_only_items_the_consumer_may_read(items: list[str], readable: list[str]) -> None:
    sent = notice_items_for(items, set(readable))
    if not readable or (items and not set(items) & set(readable)):
        assert sent is None  # nothing it may read changed: no notice at all
    else:
        assert sent == [i for i in items if i in readable]  # [] (the whole record) only when items == []


def test_an_open_objection_is_not_repeated_nor_are_objections_flooded() -> None:
    require_not_repeated([], MAX_OPEN_PER_CONSUMER - 1)
    with pytest.raises(BadRequest, match="obj-1") as repeated:
        require_not_repeated(["obj-1"], 1)
    assert repeated.value.extensions["objection"] == "obj-1"
    with pytest.raises(BadRequest, match=str(MAX_OPEN_PER_CONSUMER)):
        require_not_repeated([], MAX_OPEN_PER_CONSUMER)


def test_a_compare_holds_a_subject_for_notices_unless_the_resource_is_match_only() -> None:
    demo = load_catalog(Path(__file__).parents[2] / "gateway" / "demo_catalog.yaml")
    resources = [*load_catalog(CATALOG).resources.values(), *demo.resources.values()]
    assert any(r.compare_disclosure == "match_only" for r in resources)  # psb.resident of the demo
    for resource in resources:
        kinds = holding_kinds(resource)
        assert {"query", "export"} <= set(kinds)
        assert ("compare" in kinds) is (resource.compare_disclosure != "match_only"), resource.id
