"""The five jurisdiction profiles load with the regulations' terms and numbers; bad files fail."""

from __future__ import annotations

import copy
import datetime
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from errors import ConfigurationError
from policies.profile import (
    REQUIRED_TOPICS,
    ClassNames,
    Deadlines,
    Profile,
    load_profile,
    load_profile_file,
    profile_names,
)

NAMES = ("hubei", "sanya", "shanghai", "zhejiang", "zhengzhou")

# name -> (title, region, effective, class names, deadlines), all from the regulation texts.
EXPECTED: dict[str, tuple[str, str, datetime.date, ClassNames, Deadlines]] = {
    "hubei": (
        "湖北省政务信息资源共享管理办法",
        "420000",
        datetime.date(2018, 10, 8),
        ClassNames("无条件共享", "有条件共享", "不予共享"),
        Deadlines(check=3, decide=10, notify=1, platform_grant=3, objection=None),
    ),
    "sanya": (
        "三亚市政务信息资源共享管理办法",
        "460200",
        datetime.date(2016, 1, 22),
        ClassNames("无条件共享类", "条件共享类", "不予共享类"),
        Deadlines(check=None, decide=10, notify=None, platform_grant=None, objection=None),
    ),
    "shanghai": (
        "上海市政务数据资源共享管理办法",
        "310000",
        datetime.date(2016, 3, 1),
        ClassNames("普遍共享", "按需共享", "不共享"),
        Deadlines(check=None, decide=10, notify=None, platform_grant=None, objection=None),
    ),
    "zhejiang": (
        "浙江政务服务网信息资源共享管理暂行办法",
        "330000",
        datetime.date(2014, 11, 28),
        ClassNames("非受限共享类", "受限共享类", "非共享类"),
        Deadlines(check=None, decide=5, notify=None, platform_grant=0, objection=5),
    ),
    "zhengzhou": (
        "郑州市政府信息资源共享管理办法",
        "410100",
        datetime.date(2015, 5, 1),
        ClassNames("无条件共享类", "附条件共享类", "不予共享类"),
        Deadlines(check=None, decide=None, notify=None, platform_grant=None, objection=None),
    ),
}

# name -> (update_limit_days, realtime_required, service_modes, identifiers, levels)
Names = tuple[str, ...]
EXPECTED_SERVICE: dict[str, tuple[int | None, Names, Names, Names, Names]] = {
    "hubei": (None, (), (), (), ("province", "city")),
    "sanya": (None, (), (), (), ("city", "county")),
    "shanghai": (2, (), ("query", "bulk"), ("USCC", "CitizenID"), ("city", "county")),
    "zhejiang": (
        2,
        ("online_case", "licence", "document"),
        ("compare", "query", "bulk"),
        ("CitizenID", "OrgCode", "BusinessLicence"),
        ("province", "city", "county"),
    ),
    "zhengzhou": (0, (), (), (), ("city", "county")),
}


def _profile_path(name: str) -> Path:
    return Path(str(resources.files("policies.profiles") / f"{name}.yaml"))


def test_profile_names_are_the_five_sorted() -> None:
    assert profile_names() == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_profile_matches_the_regulation(name: str) -> None:
    title, region, effective, class_names, deadlines = EXPECTED[name]
    profile = load_profile(name)
    assert isinstance(profile, Profile)
    assert (profile.name, profile.title, profile.region) == (name, title, region)
    assert profile.effective == effective
    assert profile.class_names == class_names
    assert profile.deadlines == deadlines


@pytest.mark.parametrize("name", NAMES)
def test_profile_service_rules(name: str) -> None:
    profile = load_profile(name)
    got = (
        profile.update_limit_days,
        profile.realtime_required,
        profile.service_modes,
        profile.identifiers,
        profile.levels,
    )
    assert got == EXPECTED_SERVICE[name]


@pytest.mark.parametrize("name", NAMES)
def test_class_name_maps_share_to_the_regulation_term(name: str) -> None:
    profile = load_profile(name)
    names = EXPECTED[name][3]
    assert profile.class_name("unconditional") == names.unconditional
    assert profile.class_name("conditional") == names.conditional
    assert profile.class_name("not_shared") == names.not_shared
    with pytest.raises(ValueError, match="not_shared"):
        profile.class_name("secret")


@pytest.mark.parametrize("name", NAMES)
def test_profile_cites_articles(name: str) -> None:
    profile = load_profile(name)
    assert set(REQUIRED_TOPICS) <= set(profile.articles)
    assert all(re.fullmatch(r"art\. \d+.*", ref) for ref in profile.articles.values())
    assert profile.cite("application") == f"《{profile.title}》 {profile.articles['application']}"
    assert profile.basis_required and profile.notes


@pytest.mark.parametrize("name", NAMES)
def test_every_number_in_the_file_cites_an_article(name: str) -> None:
    lines = _profile_path(name).read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if re.match(r"\s*\w+: \d+\s*(#|$)", line) and "region" not in line:
            block = [line, *_comments_above(lines, index)]
            assert any("art. " in text for text in block), f"{name}.yaml:{index + 1}: {line}"


def _comments_above(lines: list[str], index: int) -> list[str]:
    above: list[str] = []
    while index > 0 and lines[index - 1].lstrip().startswith("#"):
        index -= 1
        above.append(lines[index])
    return above


def test_sanya_notes_secret_data_outside_sharing() -> None:
    assert "secret" in load_profile("sanya").notes


def test_profile_is_frozen_and_cached() -> None:
    profile = load_profile("hubei")
    assert load_profile("hubei") is profile
    with pytest.raises(AttributeError):
        profile.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        profile.articles["classes"] = "art. 1"  # type: ignore[index]
    assert hash(profile) == hash(load_profile("hubei"))


def test_unknown_name_is_refused_listing_the_five() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_profile("beijing")
    message = caught.value.message
    assert "'beijing'" in message
    assert all(name in message for name in NAMES)
    assert caught.value.extensions["known"] == list(NAMES)


def _hubei_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(_profile_path("hubei").read_text(encoding="utf-8"))
    return document


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for key in parents:
            document = document[key]
        document[last] = value

    return change


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for key in parents:
            document = document[key]
        del document[last]

    return change


MALFORMED = [
    ("unknown top key", _set("deadline_days", 3), "deadline_days", "unknown key"),
    ("unknown nested key", _set("deadlines.appeal", 3), "deadlines.appeal", "unknown key"),
    ("missing top key", _drop("title"), "title", "missing"),
    ("missing nested key", _drop("deadlines.decide"), "deadlines.decide", "missing"),
    ("days as text", _set("deadlines.decide", "ten"), "deadlines.decide", "working days"),
    ("negative days", _set("deadlines.check", -1), "deadlines.check", "working days"),
    ("days as bool", _set("deadlines.notify", True), "deadlines.notify", "working days"),
    ("region as int", _set("region", 420000), "region", "6-digit"),
    ("region outside every province", _set("region", "160000"), "region", "province-level"),
    ("date as text", _set("effective", "soon"), "effective", "date"),
    ("class as list", _set("class_names.conditional", ["a"]), "class_names.conditional", "string"),
    ("mode unknown", _set("service_modes", ["query", "fax"]), "service_modes[1]", "compare"),
    ("mode repeated", _set("service_modes", ["query", "query"]), "service_modes[1]", "once"),
    ("levels empty", _set("levels", []), "levels", "non-empty list"),
    ("unknown topic", _set("articles.weather", "art. 1"), "articles.weather", "unknown key"),
    ("missing topic", _drop("articles.classes"), "articles.classes", "missing"),
    ("deadlines scalar", _set("deadlines", 3), "deadlines", "mapping"),
]


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [case[1:] for case in MALFORMED],
    ids=[case[0] for case in MALFORMED],
)
def test_malformed_profile_is_refused_naming_file_and_key(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], key: str, problem: str
) -> None:
    document = copy.deepcopy(_hubei_document())
    change(document)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_profile_file(path)
    message = caught.value.message
    assert message.startswith(f"{path}: {key}: "), message
    assert problem in message
    assert caught.value.extensions["path"] == key


def test_unchanged_copy_loads(tmp_path: Path) -> None:
    path = tmp_path / "copy.yaml"
    path.write_text(yaml.safe_dump(_hubei_document(), allow_unicode=True), encoding="utf-8")
    assert load_profile_file(path) == load_profile("hubei")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name: a\nname: b\n", "duplicate key 'name'"),
        ("name: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "(top level): expected a mapping"),
    ],
)
def test_unparseable_profile_is_refused_naming_file(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=re.escape(problem)) as caught:
        load_profile_file(path)
    assert caught.value.message.startswith(str(path))


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_profile_file(tmp_path / "absent.yaml")
