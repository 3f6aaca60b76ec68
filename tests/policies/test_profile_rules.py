"""Each profile's vocabulary and access rules (issue 10 sections 1-2), table-driven: the
expectations are data (tests/policies/data/profiles/<profile>.yaml), the catalogs are the
per-profile demo catalogs (tests/data/profiles/<profile>.yaml)."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from errors import AccessDenied, CatalogError, ConfigurationError, InvalidCode, OnboardingRequired
from policies.catalog import Catalog, load_catalog
from policies.codes import make_uscc
from policies.decision import AccessRequest, Consumer, Grant, check_grantable, plan_access
from policies.identifiers import accepts_org_code, usccs_embedding, validate_org_code
from policies.profile import chinese_articles, chinese_number, load_profile, load_profile_file, profile_names
from policies.share import Mode, Share

EXPECTED = Path(__file__).parent / "data" / "profiles"
CATALOGS = Path(__file__).parents[1] / "data" / "profiles"
AMR = "amr.enterprise_registration"
CONSUMER = "11420100MB0002022L"
NOW = dt.datetime(2026, 11, 30, 8, tzinfo=dt.UTC)
PURPOSE = "行政审批核验"


def expected(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXPECTED / f"{name}.yaml").read_text(encoding="utf-8"))
    return data


def catalog_of(name: str) -> Catalog:
    return load_catalog(CATALOGS / f"{name}.yaml")


def ask(onboarded: bool = True, mode: Mode = Mode.QUERY) -> AccessRequest:
    return AccessRequest(
        Consumer(CONSUMER, "c1", frozenset({"consumer"})), PURPOSE, mode, NOW, onboarded=onboarded
    )


def approved(items: set[str]) -> Grant:
    """A grant as the workflow makes it when the application is approved."""
    return Grant(
        "g1", CONSUMER, AMR, frozenset(items), frozenset({Mode.QUERY}), PURPOSE,
        NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=1), application="app-1",
    )  # fmt: skip


def outcome(catalog: Catalog, item: str, grants: list[Grant], request: AccessRequest | None = None) -> str:
    plan = plan_access(request or ask(), catalog, {AMR: [item]}, grants).resources[AMR]
    return "allowed" if item in plan.allowed else str(plan.denied[item].extensions["code"])


def refusal(catalog: Catalog, item: str, request: AccessRequest | None = None) -> AccessDenied:
    return plan_access(request or ask(), catalog, {AMR: [item]}, []).resources[AMR].denied[item]


def test_every_profile_has_a_table() -> None:
    assert sorted(p.stem for p in EXPECTED.glob("*.yaml")) == sorted(profile_names())
    assert sorted(p.stem for p in CATALOGS.glob("*.yaml")) == sorted(profile_names())


# --- section 1: vocabulary --------------------------------------------------------------


@pytest.mark.parametrize("name", profile_names())
def test_the_profile_names_the_classes_in_its_own_terms(name: str) -> None:
    profile, want = load_profile(name), expected(name)
    assert {share.value: profile.class_name(share.value) for share in Share} == want["terms"]
    assert catalog_of(name).share_term(Share.CONDITIONAL) == want["terms"]["conditional"]


@pytest.mark.parametrize("name", profile_names())
def test_a_catalog_accepts_english_and_its_own_terms(name: str) -> None:
    profile = load_profile(name)
    for term, share in {
        **expected(name)["accepted"],
        **{v: k for k, v in expected(name)["terms"].items()},
    }.items():
        assert profile.share_of(term) is Share(share), term


@pytest.mark.parametrize("name", profile_names())
def test_another_regulations_term_is_refused_naming_the_profiles_own(name: str, tmp_path: Path) -> None:
    terms = expected(name)["terms"]
    source = (CATALOGS / f"{name}.yaml").read_text(encoding="utf-8")
    for term in expected(name)["refused"]:
        bad = tmp_path / f"{name}.yaml"
        bad.write_text(source.replace(f"share: {terms['conditional']},", f"share: {term},"), encoding="utf-8")
        with pytest.raises(CatalogError) as caught:
            load_catalog(bad)
        assert caught.value.path == "resources[0].items[2].share", caught.value.message
        assert f"is not a share class of profile {name}" in caught.value.problem
        assert all(own in caught.value.fix for own in terms.values()), caught.value.fix


@pytest.mark.parametrize("name", profile_names())
def test_refusals_speak_the_profiles_terms_and_cite_its_articles(name: str) -> None:
    catalog, want = catalog_of(name), expected(name)
    conditional = refusal(catalog, "legal_representative")
    not_shared = refusal(catalog, "inner_note")
    assert f"({want['terms']['conditional']})" in conditional.message
    assert f"({want['terms']['not_shared']})" in not_shared.message
    others = {t for n in profile_names() if n != name for t in expected(n)["terms"].values()} - set(
        want["terms"].values()
    )
    assert not any(f"({term})" in conditional.message + not_shared.message for term in others)
    for error in (conditional, not_shared):
        assert error.extensions.get("article") == want["articles"][error.code]
        assert error.extensions["code"] == error.code  # codes stay English


@pytest.mark.parametrize("name", profile_names())
def test_mode_refusals_cite_the_service_mode_article_where_there_is_one(name: str) -> None:
    error = refusal(catalog_of(name), "uscc", ask(mode=Mode.BULK))
    assert error.code == "MODE_NOT_ALLOWED"
    assert error.extensions.get("article") == expected(name)["articles"].get("MODE_NOT_ALLOWED")


@pytest.mark.parametrize("name", profile_names())
def test_granting_a_non_shared_item_is_refused_in_the_profiles_terms(name: str) -> None:
    with pytest.raises(AccessDenied) as caught:
        check_grantable(catalog_of(name), AMR, ["inner_note"], [Mode.QUERY])
    assert expected(name)["terms"]["not_shared"] in caught.value.message
    assert caught.value.extensions["article"] == expected(name)["articles"]["NOT_SHARED"]


# --- section 2: access rules ------------------------------------------------------------


@pytest.mark.parametrize("name", profile_names())
def test_access_outcomes(name: str) -> None:
    catalog, want = catalog_of(name), expected(name)["access"]
    assert outcome(catalog, "name", []) == want["unconditional_without_application"]
    assert outcome(catalog, "name", [approved({"uscc", "name"})]) == want["unconditional_with_application"]
    assert (
        outcome(catalog, "legal_representative", [approved({"uscc", "name"})])
        == want["conditional_without_grant"]
    )
    assert outcome(catalog, "legal_representative", [approved({"legal_representative"})]) == "allowed"
    assert outcome(catalog, "inner_note", [approved({"inner_note"})]) == want["not_shared"]


ON_APPLICATION = [n for n in profile_names() if load_profile(n).access.unconditional_on_application]


def test_the_profiles_on_application_are_hubei_and_zhejiang() -> None:
    assert ON_APPLICATION == ["hubei", "zhejiang"]  # Hubei art. 13, 18-21; Zhejiang art. 26


@pytest.mark.parametrize("name", ON_APPLICATION)
def test_application_required_names_the_remedy_and_the_article(name: str) -> None:
    catalog, want = catalog_of(name), expected(name)
    error = refusal(catalog, "name")
    assert error.extensions["reasons"] == ["no_application"]
    assert f"shared on application ({want['terms']['unconditional']})" in error.message
    assert "apply through the platform" in error.message
    assert error.extensions["article"] == want["articles"]["APPLICATION_REQUIRED"]


@pytest.mark.parametrize("name", profile_names())
def test_onboarding(name: str) -> None:
    catalog, want = catalog_of(name), expected(name)
    assert load_profile(name).access.onboarding is want["onboarding"]
    if not want["onboarding"]:
        assert outcome(catalog, "uscc", [approved({"uscc"})], ask(onboarded=False)) == "allowed"
        return
    with pytest.raises(OnboardingRequired) as caught:
        plan_access(ask(onboarded=False), catalog, {AMR: ["uscc"]}, [])
    article = want["articles"]["ONBOARDING_REQUIRED"]
    assert caught.value.extensions == {
        "code": "ONBOARDING_REQUIRED",
        "department": CONSUMER,
        "article": article,
    }
    assert (
        plan_access(ask(onboarded=False), catalog, {AMR: []}, []).resources[AMR].allowed == ()
    )  # asks nothing
    assert outcome(catalog, "uscc", [], ask(onboarded=True)) == "allowed"


@pytest.mark.parametrize("name", profile_names())
def test_refusal_confirmation_and_platform_grant_rules(name: str) -> None:
    profile, want = load_profile(name), expected(name)
    assert profile.access.refusal_confirmation is want["refusal_confirmation"]
    assert (profile.deadlines.platform_grant is not None) is want["platform_grants_unconditional"]


# --- the data: validated at load, file and path named -------------------------------------


def shipped(name: str) -> dict[str, Any]:
    text = (resources.files("policies.profiles") / f"{name}.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


BAD = [
    ("access.unconditional_access", "sometimes", "expected one of open, on_application"),
    ("access.onboarding", "yes", "expected true or false"),
    ("access.refusal_confirmation", None, "expected true or false"),
    ("vocabulary.short_name", "", "expected a non-empty string"),
    ("vocabulary.share_terms.conditional", "受限共享", "expected a list of terms"),
    ("vocabulary.share_terms.secret", ["秘密"], "unknown key"),
    ("vocabulary.refusal_topics.NOT_SHARED", "weather", "which `articles` lacks"),
    ("vocabulary.refusal_topics.TEAPOT", "basis", "unknown key"),
    ("articles.basis", "article 6", "expected 'art. N'"),
]


@pytest.mark.parametrize(("path", "value", "problem"), BAD)
def test_a_bad_rule_is_refused_naming_file_and_path(
    path: str, value: object, problem: str, tmp_path: Path
) -> None:
    data = copy.deepcopy(shipped("zhejiang"))
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    file = tmp_path / "zhejiang.yaml"
    file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_profile_file(file)
    assert caught.value.extensions["file"] == str(file)
    assert caught.value.extensions["path"] == path
    assert problem in caught.value.message


@pytest.mark.parametrize("block", ["vocabulary", "access"])
def test_a_missing_block_is_refused(block: str, tmp_path: Path) -> None:
    data = shipped("sanya")
    del data[block]
    file = tmp_path / "sanya.yaml"
    file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigurationError, match=f"{block}: missing required key"):
        load_profile_file(file)


# --- article numbers as the texts write them ------------------------------------------------

NUMBERS = {1: "一", 8: "八", 10: "十", 12: "十二", 20: "二十", 26: "二十六", 37: "三十七", 99: "九十九"}


@pytest.mark.parametrize(("n", "text"), NUMBERS.items())
def test_chinese_article_numbers(n: int, text: str) -> None:
    assert chinese_number(n) == text


def test_chinese_article_references() -> None:
    assert chinese_articles("art. 26") == "第二十六条"
    assert chinese_articles("art. 11-13, 18, 21") == "第十一条至第十三条、第十八条、第二十一条"


@given(st.integers(min_value=1, max_value=99))
def test_chinese_numbers_are_unique_and_read_back(n: int) -> None:
    text = chinese_number(n)
    digits = "零一二三四五六七八九"
    tens, _, ones = text.rpartition("十") if "十" in text else ("", "", text)
    value = (digits.index(tens) if tens else 1) * 10 * ("十" in text) + (digits.index(ones) if ones else 0)
    assert value == n


@given(st.sampled_from(profile_names()), st.text(min_size=1, max_size=8))
def test_a_term_is_accepted_only_if_it_is_english_or_the_profiles_own(name: str, term: str) -> None:
    profile = load_profile(name)
    own = {profile.class_name(s.value) for s in Share} | {
        t for ts in profile.vocabulary.share_terms.values() for t in ts
    }
    english = term.strip().lower() in {s.value for s in Share}
    assert (profile.share_of(term) is not None) == (english or term.strip() in own)


# --- identifiers (Zhejiang art. 21; DESIGN section 6) ----------------------------------------

ORG_CODES = [  # raw, rule (None: valid, then the code's one form)
    ("MA000001-5", None),
    ("ma0000015", None),
    ("MA000001", "length"),
    ("MA00000I5", "charset"),
    ("MA0000018", "org_code_check"),
]


@pytest.mark.parametrize(("raw", "rule"), ORG_CODES)
def test_organization_codes(raw: str, rule: str | None) -> None:
    if rule is None:
        assert validate_org_code(raw) == raw.upper().replace("-", "")
        return
    with pytest.raises(InvalidCode) as caught:
        validate_org_code(raw)
    assert (caught.value.kind, caught.value.rule) == ("OrgCode", rule)


def test_only_zhejiang_accepts_organization_codes() -> None:
    assert [n for n in profile_names() if accepts_org_code(load_profile(n))] == ["zhejiang"]


@given(
    st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUWXY"),
    st.text("0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8),
    st.sampled_from(["330100", "330102", "420100", "100000"]),
)
def test_an_organization_code_resolves_to_the_uscc_embedding_it(
    category: str, body: str, region: str
) -> None:
    uscc = make_uscc("9", category, region, body)
    other = make_uscc("9", category, "310000", "0" + body[1:] if body[0] != "0" else "1" + body[1:])
    org_code = validate_org_code(uscc[8:17])
    assert usccs_embedding(org_code, [other, uscc]) == (uscc,)
    assert usccs_embedding(org_code, [other]) == ()


@pytest.mark.parametrize("name", ON_APPLICATION)
def test_an_application_for_unconditional_items_attaches_no_purpose_condition(name: str) -> None:
    """无条件共享: the grant's state counts (revoked, expired), not the purpose it named."""
    catalog = catalog_of(name)
    other = dataclasses.replace(approved({"name"}), purpose="另一用途")
    assert outcome(catalog, "name", [other]) == "allowed"
    assert (
        outcome(
            catalog,
            "legal_representative",
            [dataclasses.replace(other, items=frozenset({"legal_representative"}))],
        )
        == "CONDITIONAL_ACCESS_REQUIRED"
    )
    revoked = refusal_with(catalog, "name", [dataclasses.replace(other, revoked=True)])
    assert (revoked.code, revoked.extensions["reasons"]) == ("APPLICATION_REQUIRED", ["revoked"])
    expired = dataclasses.replace(other, valid_until=NOW - dt.timedelta(hours=1))
    assert refusal_with(catalog, "name", [expired]).code == "GRANT_EXPIRED"


def refusal_with(catalog: Catalog, item: str, grants: list[Grant]) -> AccessDenied:
    return plan_access(ask(), catalog, {AMR: [item]}, grants).resources[AMR].denied[item]
