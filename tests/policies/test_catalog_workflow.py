"""Catalog register rules, table-driven over tests/policies/data/catalog_workflow.yaml, and
the state machine checked with hypothesis: whatever sequence of actions, an entry only moves
along the table, publication only follows an approval, and a refused action changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from errors import BadRequest, Forbidden
from policies.catalog_workflow import (
    TRANSITIONS,
    Action,
    EntryState,
    change_due,
    change_overdue,
    changed_keys,
    entry_id,
    may_read,
    next_state,
    reasons_for,
    require_may,
)
from policies.decision import Consumer
from policies.profile import load_profile
from policies.workdays import WorkdayCalendar

CASES = yaml.safe_load((Path(__file__).parent / "data" / "catalog_workflow.yaml").read_text(encoding="utf-8"))


def _state(name: str | None) -> EntryState | None:
    return None if name is None else EntryState(name)


@pytest.mark.parametrize(("before", "action", "after"), CASES["transitions"])
def test_transition(before: str | None, action: str, after: str) -> None:
    if after == "refused":
        with pytest.raises(BadRequest, match=f"cannot {action}"):
            next_state(_state(before), Action(action))
    else:
        assert next_state(_state(before), Action(action)) is EntryState(after)


@pytest.mark.parametrize(("roles", "department", "provider", "action", "expected"), CASES["permissions"])
def test_permission(roles: list[str], department: str, provider: str, action: str, expected: str) -> None:
    actor = Consumer(department, "client", frozenset(roles))
    if expected == "allowed":
        require_may(actor, Action(action), provider)
    else:
        with pytest.raises(Forbidden) as refused:
            require_may(actor, Action(action), provider)
        assert refused.value.extensions["code"] == expected


@pytest.mark.parametrize(("roles", "department", "provider", "expected"), CASES["readers"])
def test_reader(roles: list[str], department: str, provider: str, expected: bool) -> None:
    assert may_read(Consumer(department, "client", frozenset(roles)), provider) is expected


@pytest.mark.parametrize(("profile", "submitted", "due"), CASES["change_due"])
def test_change_due(profile: str, submitted: str, due: str | None) -> None:
    found = change_due(load_profile(profile), dt.date.fromisoformat(submitted), WorkdayCalendar())
    assert found == (dt.date.fromisoformat(due) if due else None)


def test_a_change_past_its_due_day_is_overdue_only_while_awaiting_review_or_publication() -> None:
    due, late = dt.date(2026, 12, 1), dt.date(2026, 12, 2)
    assert change_overdue(due, late, EntryState.SUBMITTED)
    assert change_overdue(due, late, EntryState.APPROVED)
    assert not change_overdue(due, late, EntryState.PUBLISHED)
    assert not change_overdue(due, due, EntryState.SUBMITTED)
    assert not change_overdue(None, late, EntryState.SUBMITTED)


def test_returning_or_withdrawing_needs_reasons() -> None:
    with pytest.raises(BadRequest, match="reasons"):
        reasons_for(Action.RETURN, ["  ", ""])
    assert reasons_for(Action.RETURN, [" 缺少法律依据 "]) == ("缺少法律依据",)
    assert reasons_for(Action.APPROVE, []) == ()


def test_changed_keys_name_what_differs() -> None:
    assert changed_keys({"share": "conditional", "title": "a"}, {"share": "not_shared", "title": "a"}) == [
        "share"
    ]
    assert changed_keys(None, {"name": "x"}) == ["name"]


ACTIONS = st.sampled_from(list(Action))


@given(st.lists(ACTIONS, max_size=30))
def test_any_sequence_of_actions_moves_only_along_the_table(actions: list[Action]) -> None:
    state: EntryState | None = None
    for action in actions:
        try:
            after = next_state(state, action)
        except BadRequest:
            assert state not in TRANSITIONS[action]  # refused exactly when the table has no row
            continue
        assert TRANSITIONS[action][state] is after
        if action is Action.PUBLISH:
            assert state is EntryState.APPROVED  # never published without a review (art. 10)
        state = after


@given(
    st.sampled_from([None, *EntryState]),
    ACTIONS,
    st.sampled_from(["A", "B"]),
    st.sampled_from(["provider", "operator", "consumer"]),
)
def test_a_provider_never_acts_on_another_departments_entry(
    state: Any, action: Action, department: str, role: str
) -> None:
    actor = Consumer(department, "client", frozenset({role}))
    try:
        require_may(actor, action, "A")
    except Forbidden:
        return
    assert role == "operator" or department == "A"
    assert role != "consumer"


@given(st.text(max_size=200))
def test_an_entry_id_is_refused_or_kept_as_given(text: str) -> None:
    """Whatever text: refused (BadRequest) or returned unchanged, never with NUL, spaces around
    or over the tables' 128 characters (PostgreSQL refused those with a 500)."""
    try:
        kept = entry_id(text, "resource")
    except BadRequest as refused:
        assert refused.extensions["argument"] == "resource"
        return
    assert kept == text and "\x00" not in kept and kept == kept.strip() and 0 < len(kept) <= 128
