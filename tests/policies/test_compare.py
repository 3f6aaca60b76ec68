"""Tests for policies.compare (normalisation, constant-time match) and the compare decision
(``policies.decision.share_in_mode`` through ``decide_item`` in mode compare).

The normalisation cases are a table (``data/compare_cases.yaml``); the properties check
that values are compared as values (dates, numbers), that normalisation does what the
catalog's steps say whatever the input, and that the decision follows the rule of issue 8:
the resource must offer compare, unconditional items any department, conditional items a
grant covering mode compare unless the item says ``compare: unconditional``, non-shared
items never.
"""

from __future__ import annotations

import datetime as dt
import hmac
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from errors import ApplicationRequired, ConditionalAccessRequired, ModeNotAllowed, NotShared
from policies.catalog import Catalog, Department, Item, Resource
from policies.compare import (
    budgets_guesses,
    canonical,
    claim_problem,
    fold_whitespace,
    matches,
    normalize_text,
)
from policies.decision import AccessRequest, Consumer, Grant, decide_item, share_in_mode
from policies.profile import load_profile, profile_names
from policies.share import Mode, Share

CASES = yaml.safe_load((Path(__file__).parent / "data" / "compare_cases.yaml").read_text(encoding="utf-8"))
WHITE = st.sampled_from([" ", "  ", "\t", "\u3000", "\n", "\xa0", "\u2003", " \u3000 "])


def item(kind: str = "string", normalize: tuple[str, ...] = (), **extra: Any) -> Item:
    return Item("x", "x", kind, extra.pop("share", Share.UNCONDITIONAL), normalize=normalize, **extra)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['type']}:{c['claim']!r}~{c['stored']!r}" for c in CASES])
def test_compare_cases(case: dict[str, Any]) -> None:
    one = item(case["type"], tuple(case.get("normalize", ())))
    assert matches(case["claim"], case["stored"], one) is case["match"]


def test_the_table_covers_every_type() -> None:
    assert {c["type"] for c in CASES} == {"string", "date", "integer", "number", "boolean", "datetime"}


@given(st.dates(min_value=dt.date(1, 1, 1)), st.booleans(), st.sampled_from(["-", "/", "."]))
def test_a_date_matches_however_it_is_padded_or_separated(day: dt.date, pad: bool, sep: str) -> None:
    width = 2 if pad else 1
    written = f"{day.year:04d}{sep}{day.month:0{width}d}{sep}{day.day:0{width}d}"
    assert matches(written, day.isoformat(), item("date"))
    assert matches(written, day, item("date"))  # a source that hands over a date object


@given(st.dates(), st.dates())
def test_different_dates_never_match(a: dt.date, b: dt.date) -> None:
    assert matches(a.isoformat(), b.isoformat(), item("date")) is (a == b)


@given(st.integers(-(10**15), 10**15), st.integers(0, 6))
def test_a_number_matches_with_trailing_zeros(value: int, zeros: int) -> None:
    written = f"{value}.{'0' * zeros}" if zeros else str(value)
    assert matches(written, value, item("integer"))
    assert matches(written, value + 1, item("integer")) is False


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4), st.decimals(allow_nan=False, places=4))
def test_numbers_match_exactly_when_their_values_are_equal(a: Decimal, b: Decimal) -> None:
    assert matches(str(a), str(b), item("number")) is (a == b)


@given(st.text(max_size=20), WHITE, WHITE)
def test_strip_ignores_whitespace_around_and_folds_it_inside(text: str, before: str, after: str) -> None:
    stripped = item(normalize=("strip",))
    assert matches(before + text + after, text, stripped) is matches(text, text, stripped)
    assert normalize_text(before + text + after, ("strip",)) == fold_whitespace(text)


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=20))
def test_nfkc_folds_full_width_forms(text: str) -> None:
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in text)  # U+FF01..FF5E
    assert matches(full_width, text, item(normalize=("nfkc",)))
    assert matches(full_width, text, item()) is False  # without the step, they differ


@given(st.text(max_size=30), st.sampled_from(["nfkc", "strip", "upper"]))
def test_each_step_is_idempotent(text: str, step: str) -> None:
    once = normalize_text(text, (step,))
    assert normalize_text(once, (step,)) == once


@given(st.text(max_size=30), st.sampled_from(["string", "date", "integer", "number", "boolean", "datetime"]))
def test_nothing_stored_never_matches_whatever_the_claim(claim: str, kind: str) -> None:
    assert matches(claim, None, item(kind)) is False


@given(st.text(max_size=30), st.text(max_size=30))
def test_a_string_without_steps_matches_only_itself(a: str, b: str) -> None:
    assert matches(a, b, item()) is (a == b and not a.isspace() and a != "")


BLANK = st.text(alphabet=st.sampled_from(" \t\n\r\x0b\x0c\xa0\u1680\u2000\u2003\u2028\u3000"), max_size=5)
STEPS = st.lists(st.sampled_from(["nfkc", "strip", "upper"]), unique=True).map(tuple)


@given(BLANK, BLANK, STEPS, st.sampled_from(["string", "date", "integer", "number", "boolean", "datetime"]))
def test_a_blank_value_is_no_value(claim: str, held: str, steps: tuple[str, ...], kind: str) -> None:
    """An empty or whitespace-only claim never matches, not even an empty stored value
    (which some sources hold for NULL: Oracle's '' is NULL), whatever the steps: a blank
    claim would otherwise tell a stored "nothing" from a stored NULL."""
    assert matches(claim, held, item(kind, steps)) is False
    assert canonical(held, item(kind, steps)) == canonical(None, item(kind, steps))


def test_the_subjects_key_is_never_claimed() -> None:
    """The key item holds the subject's own code: a claim of it would match exactly when the
    subject is on record, which ``compare_disclosure: match_only`` exists to hide."""
    key = Item("uscc", "code", "string", Share.UNCONDITIONAL)
    resource = Resource("amr.reg", "c", "n", PROVIDER, "organization", "uscc", Share.UNCONDITIONAL,
                        (key, item()), {}, modes=frozenset({Mode.COMPARE}))  # fmt: skip
    problem = claim_problem(resource, "uscc")
    assert problem is not None and "key" in problem and "subject" in problem
    assert claim_problem(resource, "x") is None


def test_canonical_forms_stay_short_whatever_the_exponent() -> None:
    assert len(canonical("1e999999999", item("integer"))) < 40


def test_matching_goes_through_compare_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Constant time: the comparison is hmac.compare_digest on equal-length digests."""
    seen: list[tuple[int, int]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert matches("abc", "abc", item()) and not matches("a", "a much longer stored value", item())
    assert seen and all(a == b for a, b in seen)


# --- the decision in mode compare ------------------------------------------------------------

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
PROVIDER = "11420000MB00000191"
CONSUMER = Consumer("11420100MB0000035U", "client", frozenset({"consumer"}))
PURPOSE = "行政审批核验"
SHARES = st.sampled_from(list(Share))
COMPARE_CLASSES = st.sampled_from([None, Share.UNCONDITIONAL, Share.CONDITIONAL])
MODE_SETS = st.sets(st.sampled_from(list(Mode)), min_size=1)
GRANT_MODES = st.one_of(st.none(), st.sets(st.sampled_from(list(Mode)), min_size=1))


def _catalog(one: Item, modes: frozenset[Mode], profile: str = "hubei") -> tuple[Catalog, Resource]:
    key = Item("uscc", "code", "string", Share.UNCONDITIONAL)
    resource = Resource("amr.reg", "c", "n", PROVIDER, "organization", "uscc", Share.UNCONDITIONAL,
                        (key, one), {}, modes=modes)  # fmt: skip
    department = Department(PROVIDER, "amr", "420000", "province", {"kind": "mock"})
    return Catalog(profile, {PROVIDER: department}, {resource.id: resource}), resource


def _grant(modes: set[Mode]) -> Grant:
    return Grant("g1", CONSUMER.department, "amr.reg", frozenset({"x"}), frozenset(modes), PURPOSE,
                 NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=1))  # fmt: skip


@given(SHARES, COMPARE_CLASSES, MODE_SETS, GRANT_MODES, st.sampled_from(profile_names()))
def test_the_compare_decision_follows_the_rule(
    share: Share, compare: Share | None, modes: set[Mode], granted: set[Mode] | None, profile: str
) -> None:
    if share is Share.NOT_SHARED and compare is not None:
        compare = None  # the catalog refuses compare: on a non-shared item
    condition = "用于核验" if Share.CONDITIONAL in (share, compare) else None
    one = Item("x", "x", "string", share, condition=condition, basis="法", compare=compare)
    catalog, resource = _catalog(one, frozenset(modes), profile)
    grants = [_grant(granted)] if granted else []
    request = AccessRequest(CONSUMER, PURPOSE, Mode.COMPARE, NOW)
    # hubei, zhejiang: unconditional items too need an approved application (issue 10 section 2)
    on_application = load_profile(profile).access.unconditional_on_application
    refusal = decide_item(request, catalog, resource, one, grants)
    # the model, written from the words
    if share is Share.NOT_SHARED:
        assert isinstance(refusal, NotShared)
    elif Mode.COMPARE not in modes:
        assert isinstance(refusal, ModeNotAllowed)
    elif granted and Mode.COMPARE in granted:
        assert refusal is None  # a grant covers mode compare
    elif (compare or share) is Share.UNCONDITIONAL and not on_application:
        assert refusal is None  # open for comparing
    elif (compare or share) is Share.UNCONDITIONAL:
        assert isinstance(refusal, ApplicationRequired)
    else:
        assert isinstance(refusal, ConditionalAccessRequired)


@given(SHARES, COMPARE_CLASSES, st.sampled_from([Mode.QUERY, Mode.BULK]))
def test_compare_class_never_changes_reading(share: Share, compare: Share | None, mode: Mode) -> None:
    """``compare: unconditional`` opens comparing only: a read still needs its grant."""
    one = Item("x", "x", "string", share, compare=compare)
    assert share_in_mode(one, mode) is share


def test_a_compare_grant_does_not_open_reading() -> None:
    one = Item("x", "x", "string", Share.CONDITIONAL, condition="用于核验")
    catalog, resource = _catalog(one, frozenset({Mode.QUERY, Mode.COMPARE}))
    grants = [_grant({Mode.COMPARE})]
    read = decide_item(AccessRequest(CONSUMER, PURPOSE, Mode.QUERY, NOW), catalog, resource, one, grants)
    compare = decide_item(AccessRequest(CONSUMER, PURPOSE, Mode.COMPARE, NOW), catalog, resource, one, grants)
    assert isinstance(read, ConditionalAccessRequired) and compare is None


def test_the_refusal_detail_is_the_same_as_for_a_read() -> None:
    """The compare answer's errors carry what a GraphQL field error carries."""
    one = Item("x", "x", "string", Share.NOT_SHARED, basis="《统计法》第三十九条")
    catalog, resource = _catalog(one, frozenset({Mode.QUERY, Mode.COMPARE}))
    read = decide_item(AccessRequest(CONSUMER, PURPOSE, Mode.QUERY, NOW), catalog, resource, one, [])
    compare = decide_item(AccessRequest(CONSUMER, PURPOSE, Mode.COMPARE, NOW), catalog, resource, one, [])
    assert read is not None and compare is not None
    assert (compare.code, compare.extensions, compare.message) == (read.code, read.extensions, read.message)


@given(SHARES, COMPARE_CLASSES)
def test_mismatches_are_budgeted_where_reading_is_not_open_to_all(
    share: Share, compare: Share | None
) -> None:
    """Whatever opens comparing (``compare:``, a compare grant), an item that not every
    department may read could be learned by claiming value after value: it is budgeted."""
    one = item(share=share, compare=compare)
    assert budgets_guesses(one) is (share is not Share.UNCONDITIONAL)
