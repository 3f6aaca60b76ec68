"""Tests for policies.codes: USCC and citizen ID validation, normalization, builders."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from errors import InvalidCode
from policies import codes
from policies.chinatime import today_in_china

DATA = Path(__file__).parent / "data" / "codes.yaml"
CASES: list[dict[str, Any]] = yaml.safe_load(DATA.read_text(encoding="utf-8"))
RULES = {"length", "charset", "division", "org_code_check", "check_char", "birth_date"}
DIGITS = "0123456789"
WHITESPACE = [" ", "\t", "\n", "\u3000", "\u00a0"]

# GB/T 2260 province-level divisions, written out from the standard (not from policies.codes);
# 83: residence permits of Taiwan residents.  A USCC may also carry 100000 (GB 32100-2015).
GB_T_2260_PROVINCES = {
    "11": "北京", "12": "天津", "13": "河北", "14": "山西", "15": "内蒙古",
    "21": "辽宁", "22": "吉林", "23": "黑龙江",
    "31": "上海", "32": "江苏", "33": "浙江", "34": "安徽", "35": "福建", "36": "江西", "37": "山东",
    "41": "河南", "42": "湖北", "43": "湖南", "44": "广东", "45": "广西", "46": "海南",
    "50": "重庆", "51": "四川", "52": "贵州", "53": "云南", "54": "西藏",
    "61": "陕西", "62": "甘肃", "63": "青海", "64": "宁夏", "65": "新疆",
    "71": "台湾", "81": "香港", "82": "澳门", "83": "台湾居民居住证",
}  # fmt: skip
digit_strings = st.text(alphabet=DIGITS, min_size=6, max_size=6)
four_digits = st.text(alphabet=DIGITS, min_size=4, max_size=4)
divisions = st.builds(lambda p, rest: p + rest, st.sampled_from(sorted(GB_T_2260_PROVINCES)), four_digits)
not_divisions = digit_strings.filter(lambda d: d[:2] not in GB_T_2260_PROVINCES and d != "100000")
seq3s = st.text(alphabet=DIGITS, min_size=3, max_size=3)
charset_chars = st.sampled_from(codes.USCC_CHARSET)
org_bases = st.text(alphabet=codes.USCC_CHARSET, min_size=8, max_size=8)
births = st.dates(min_value=datetime.date(1900, 1, 1), max_value=today_in_china())
legacy_births = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(1999, 12, 31))


@st.composite
def usccs(draw: st.DrawFn) -> str:
    parts = (draw(charset_chars), draw(charset_chars), draw(divisions), draw(org_bases))
    return codes.make_uscc(*parts)


@st.composite
def citizen_ids(draw: st.DrawFn) -> str:
    return codes.make_citizen_id(draw(divisions), draw(births), draw(seq3s))


def validator(kind: str) -> Any:
    return codes.validate_uscc if kind == "USCC" else codes.validate_citizen_id


def rule_of(kind: str, code: str) -> str:
    with pytest.raises(InvalidCode) as caught:
        validator(kind)(code)
    assert caught.value.kind == kind
    return caught.value.rule


def variant(draw: st.DrawFn, code: str) -> str:
    """Each character full-width, lower-case or as is, with whitespace sprinkled in."""
    out = []
    for ch in code:
        form = draw(st.sampled_from(["same", "full", "lower"]))
        ch = {"same": ch, "full": chr(ord(ch) + 0xFEE0), "lower": ch.lower()}[form]
        out.append(draw(st.sampled_from(["", *WHITESPACE])) + ch)
    return "".join(out) + draw(st.sampled_from(["", *WHITESPACE]))


# --- the GB examples -----------------------------------------------------------


def test_published_examples_reproduce() -> None:
    assert codes.org_code_check_char("M000100Y") == "4"
    assert codes.uscc_check_char("91350100M000100Y4") == "3"
    assert codes.citizen_id_check_char("11010519491231002") == "X"
    assert codes.validate_uscc("91350100M000100Y43") == "91350100M000100Y43"
    assert codes.validate_citizen_id("11010519491231002X") == "11010519491231002X"


def test_org_code_check_maps_ten_and_eleven() -> None:
    assert codes.org_code_check_char("X0000000") == "0"  # X=33, sum 99: 11 - 0 = 11
    assert codes.org_code_check_char("00000001") == "9"  # sum 2: 11 - 2 = 9
    assert codes.org_code_check_char("00009000") == "X"  # sum 45: 11 - 1 = 10
    assert codes.make_uscc("5", "3", "440300", "X0000000")[16] == "0"


def test_uscc_weights_are_powers_of_three() -> None:
    expected = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    for i, weight in enumerate(expected):
        first17 = "0" * i + "1" + "0" * (16 - i)
        value = (31 - weight) % 31
        assert codes.uscc_check_char(first17) == codes.USCC_CHARSET[value]


# --- table-driven cases ---------------------------------------------------------


def test_data_file_is_broad_enough() -> None:
    assert sum(case["valid"] for case in CASES) >= 12
    assert sum(not case["valid"] for case in CASES) >= 15
    assert {case["rule"] for case in CASES if not case["valid"]} == RULES
    for kind in ("USCC", "CitizenID"):
        assert any(c["kind"] == kind and not c["code"].isascii() for c in CASES)
    assert any("2999" in case["code"] and case["rule"] == "birth_date" for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[f"{c['kind']}:{c['code']!r}" for c in CASES])
def test_known_codes(case: dict[str, Any]) -> None:
    kind, code = case["kind"], case["code"]
    is_valid = codes.is_valid_uscc if kind == "USCC" else codes.is_valid_citizen_id
    assert is_valid(code) is case["valid"]
    if case["valid"]:
        assert case["rule"] is None
        assert validator(kind)(code) == case.get("normalized", code)
    else:
        assert rule_of(kind, code) == case["rule"]


@pytest.mark.parametrize("case", [c for c in CASES if not c["valid"]], ids=repr)
def test_messages_name_rule_code_and_fix(case: dict[str, Any]) -> None:
    with pytest.raises(InvalidCode) as caught:
        validator(case["kind"])(case["code"])
    err = caught.value
    assert f'{case["kind"]} "{codes.normalize(case["code"])}" failed {case["rule"]}: ' in str(err)
    assert "re-enter the" in err.message
    assert err.extensions == {"code": "INVALID_CODE", "kind": case["kind"], "rule": case["rule"]}


def test_check_char_message_format() -> None:
    with pytest.raises(InvalidCode) as caught:
        codes.validate_uscc("91350100M000100Y44")
    assert caught.value.message == (
        'USCC "91350100M000100Y44" failed check_char: the 18th character should be "3" '
        'but is "4"; re-enter the code from the business licence'
    )


def test_long_input_is_shortened_in_message() -> None:
    with pytest.raises(InvalidCode) as caught:
        codes.validate_uscc("9" * 5000)
    assert caught.value.rule == "length"
    assert len(caught.value.message) < 300


# --- builders, round trips and mutations ----------------------------------------


@given(charset_chars, charset_chars, divisions, org_bases)
def test_make_uscc_validates_and_round_trips(auth: str, cat: str, region: str, org: str) -> None:
    code = codes.make_uscc(auth, cat, region, org)
    assert len(code) == 18
    assert code[:16] == auth + cat + region + org
    assert codes.validate_uscc(code) == code
    assert codes.org_code_of(code) == code[8:17] == org + codes.org_code_check_char(org)
    assert codes.region_of(code, kind="USCC") == region


@given(divisions, births, seq3s)
def test_make_citizen_id_validates_and_round_trips(region: str, birth: datetime.date, seq3: str) -> None:
    code = codes.make_citizen_id(region, birth, seq3)
    assert code[:17] == region + birth.strftime("%Y%m%d") + seq3
    assert codes.validate_citizen_id(code) == code
    assert codes.region_of(code) == codes.region_of(code, kind="CitizenID") == region


@given(usccs(), st.data())
def test_any_single_uscc_change_is_caught(code: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, 17))
    other = data.draw(st.sampled_from([c for c in codes.USCC_CHARSET if c != code[i]]))
    changed = code[:i] + other + code[i + 1 :]
    assert not codes.is_valid_uscc(changed)
    assert rule_of("USCC", changed) in {"division", "org_code_check", "check_char"}


@given(citizen_ids(), st.data())
def test_any_single_citizen_id_digit_change_is_caught(code: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, 17))
    other = data.draw(st.sampled_from([d for d in DIGITS if d != code[i]]))
    changed = code[:i] + other + code[i + 1 :]
    assert not codes.is_valid_citizen_id(changed)
    assert rule_of("CitizenID", changed) in {"division", "birth_date", "check_char"}


# --- normalization ----------------------------------------------------------------


@given(st.text())
def test_normalize_is_idempotent(raw: str) -> None:
    once = codes.normalize(raw)
    assert codes.normalize(once) == once
    assert not any(ch.isspace() for ch in once)


@given(usccs(), st.data())
def test_uscc_variants_validate_to_same_code(code: str, data: st.DataObject) -> None:
    assert codes.validate_uscc(variant(data.draw, code)) == code


@given(citizen_ids(), st.data())
def test_citizen_id_variants_validate_to_same_code(code: str, data: st.DataObject) -> None:
    assert codes.validate_citizen_id(variant(data.draw, code)) == code


# --- legacy IDs and regions ---------------------------------------------------------


@given(divisions, legacy_births, seq3s)
def test_legacy_ids_convert(region: str, birth: datetime.date, seq3: str) -> None:
    id15 = region + birth.strftime("%Y%m%d")[2:] + seq3
    converted = codes.convert_legacy_id(id15)
    assert converted == codes.validate_citizen_id(id15) == codes.make_citizen_id(region, birth, seq3)
    assert converted[6:14] == birth.strftime("%Y%m%d")
    assert converted[6:8] == "19"
    assert codes.region_of(id15) == region


def test_convert_legacy_id_rejects_other_lengths() -> None:
    assert rule_of("CitizenID", "11010519491231002") == "length"
    with pytest.raises(InvalidCode) as caught:
        codes.convert_legacy_id("11010519491231002X")
    assert caught.value.rule == "length"


@given(usccs())
def test_region_of_uscc_is_chars_3_to_8(code: str) -> None:
    assert codes.region_of(code, kind="USCC") == code[2:8]
    if not codes.is_valid_citizen_id(code):
        assert codes.region_of(code) == code[2:8]


@given(citizen_ids())
def test_region_of_citizen_id_is_chars_1_to_6(code: str) -> None:
    assert codes.region_of(code) == code[:6]


@pytest.mark.parametrize(
    ("code", "kind", "rule"),
    [
        ("91350100M000100Y44", "USCC", "check_char"),
        ("110105194912310021", "CitizenID", "check_char"),
        ("110105299912310020", "CitizenID", "birth_date"),
        ("9135010AM000100Y43", "USCC", "division"),
    ],
)
def test_region_of_validates_first(code: str, kind: str, rule: str) -> None:
    with pytest.raises(InvalidCode) as caught:
        codes.region_of(code)
    assert (caught.value.kind, caught.value.rule) == (kind, rule)


# --- divisions (GB/T 2260) ---------------------------------------------------------------


@given(digit_strings)
def test_division_is_a_province_level_prefix(division: str) -> None:
    province = division[:2] in GB_T_2260_PROVINCES
    assert codes.is_division(division) is province
    assert codes.is_division(division, national=True) is (province or division == "100000")


@given(divisions, charset_chars, charset_chars, org_bases)
def test_any_county_code_of_a_province_is_valid(division: str, auth: str, cat: str, org: str) -> None:
    """Abolished and renumbered county codes stay valid: only the province level is checked."""
    assert codes.validate_uscc(codes.make_uscc(auth, cat, division, org))[2:8] == division
    code = codes.make_citizen_id(division, datetime.date(1985, 1, 1), "430")
    assert codes.region_of(code, kind="CitizenID") == division


def _with_division_uscc(code: str, division: str) -> str:
    first17 = code[:2] + division + code[8:17]  # the org code is untouched: only the division is wrong
    return first17 + codes.uscc_check_char(first17)


def _with_division_id(code: str, division: str) -> str:
    first17 = division + code[6:17]
    return first17 + codes.citizen_id_check_char(first17)


@given(usccs(), not_divisions)
def test_uscc_outside_every_province_is_refused(code: str, division: str) -> None:
    changed = _with_division_uscc(code, division)
    with pytest.raises(InvalidCode) as caught:
        codes.validate_uscc(changed)
    assert caught.value.rule == "division"
    assert f'"{division}"' in caught.value.message


@given(usccs())
def test_uscc_of_national_registration_is_valid(code: str) -> None:
    changed = _with_division_uscc(code, "100000")
    assert codes.validate_uscc(changed) == changed
    assert codes.region_of(changed, kind="USCC") == "100000"


@given(citizen_ids(), st.one_of(not_divisions, st.just("100000")))
def test_citizen_id_outside_every_province_is_refused(code: str, division: str) -> None:
    assert rule_of("CitizenID", _with_division_id(code, division)) == "division"


@given(citizen_ids())
def test_citizen_id_is_not_a_uscc_when_its_chars_3_to_8_are_no_division(code: str) -> None:
    """The issue's example: 110105198501014304, a valid ID, was accepted as a USCC."""
    if code[2:4] not in GB_T_2260_PROVINCES:
        assert rule_of("USCC", code) == "division"


def test_citizen_id_example_is_refused_as_uscc() -> None:
    assert codes.is_valid_citizen_id("110105198501014304")
    assert rule_of("USCC", "110105198501014304") == "division"


@given(st.text(alphabet=DIGITS, min_size=1, max_size=8))
def test_division_prefixes(prefix: str) -> None:
    expected = 2 <= len(prefix) <= 6 and (prefix[:2] in GB_T_2260_PROVINCES or "100000".startswith(prefix))
    assert codes.is_division_prefix(prefix) is expected


# --- builder input errors -------------------------------------------------------------


def test_builders_reject_bad_parts() -> None:
    with pytest.raises(InvalidCode) as caught:
        codes.make_uscc("9", "1", "35010A", "M000100Y")
    assert caught.value.rule == "division"
    with pytest.raises(InvalidCode) as caught:
        codes.make_uscc("91", "1", "350100", "M000100Y")
    assert caught.value.rule == "length"
    with pytest.raises(InvalidCode) as caught:
        codes.make_uscc("9", "1", "350100", "M000100O")  # GB 11714 allows O, USCC does not
    assert caught.value.rule == "charset"
    with pytest.raises(InvalidCode) as caught:
        codes.make_citizen_id("110105", datetime.date(2999, 1, 1), "001")
    assert caught.value.rule == "birth_date"
    with pytest.raises(InvalidCode) as caught:
        codes.make_citizen_id("1101", datetime.date(1990, 1, 1), "001")
    assert caught.value.rule == "division"
    with pytest.raises(InvalidCode) as caught:
        codes.make_citizen_id("100000", datetime.date(1990, 1, 1), "001")
    assert caught.value.rule == "division"
    with pytest.raises(InvalidCode) as caught:
        codes.make_uscc("9", "1", "990100", "M000100Y")
    assert caught.value.rule == "division"


@given(st.one_of(usccs(), st.text(max_size=24)))
def test_remembered_uscc_answers_as_the_checks(raw: str) -> None:
    """The cache of valid codes (validate_uscc) answers exactly as the checks themselves,
    the first time and again; a refused code is refused again with the same message."""
    for _ in range(2):
        try:
            expected: str | InvalidCode = codes._check_uscc(codes.normalize(raw))
        except InvalidCode as refused:
            expected = refused
        if isinstance(expected, InvalidCode):
            with pytest.raises(InvalidCode) as caught:
                codes.validate_uscc(raw)
            assert (caught.value.message, caught.value.extensions) == (expected.message, expected.extensions)
        else:
            assert codes.validate_uscc(raw) == expected


def test_refused_code_is_not_remembered() -> None:
    codes._valid_uscc.cache_clear()
    for _ in range(3):
        with pytest.raises(InvalidCode):
            codes.validate_uscc("91110000MA0000000X")
    assert codes._valid_uscc.cache_info().currsize == 0
