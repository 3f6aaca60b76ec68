"""Jurisdiction profiles: each regulation's vocabulary, time limits and article references.

A profile is data (``policies/profiles/<name>.yaml``, shipped as package data) read into
frozen dataclasses by a strict loader: unknown keys, missing keys and wrong types are
refused with a :class:`errors.ConfigurationError` naming the file and the key path.

Conventions of the data:

- Deadlines and update limits are Chinese working days. ``None`` means the regulation sets
  no number; ``0`` means "at once" (即时 / 实时).
- ``service_modes``, ``identifiers`` and ``realtime_required`` list only what the
  regulation's text names; an empty tuple means the text names none (the catalog decides).
- ``levels`` are the administrative tiers of the sharing platform, in the catalog's
  vocabulary (province / city / county; a district counts as county level).
- ``articles`` maps a topic (see ``ARTICLE_TOPICS``) to an article reference such as
  ``"art. 19-21"`` (validated: ``art. N``, ``art. N-M``, comma-separated), for citing in
  errors and overdue warnings; ``chinese_articles`` writes it as the texts do (第十九条至第二十一条).
- ``vocabulary`` and ``access`` (issue 10 sections 1-2) are read by ``policies.profile_rules``:
  the terms a catalog may use and the citation of each refusal; who reads unconditional
  items without applying, onboarding and the consent to refusals.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType

import yaml

from errors import ConfigurationError
from policies.codes import division_rule, is_division
from policies.profile_oversight import Oversight, read_oversight
from policies.profile_rules import AccessRules, Vocabulary, read_access, read_vocabulary
from policies.share import Share
from policies.yamlfiles import StrictLoader, describe

SHARES = ("unconditional", "conditional", "not_shared")
SERVICE_MODES = ("compare", "query", "bulk")
IDENTIFIERS = ("USCC", "CitizenID", "OrgCode", "BusinessLicence")
LEVELS = ("province", "city", "county")
REALTIME_KINDS = ("online_case", "licence", "document")
REQUIRED_TOPICS = (
    "classes",
    "basis",
    "application",
    "unconditional",
    "dispute",
    "update",
    "security",
    "statistics",
    "purpose",
    "levels",
)
OPTIONAL_TOPICS = (
    "effective",
    "objection",
    "catalog_update",
    "change_notice",
    "service_modes",
    "identifiers",
    "voucher",
    "e_seal",
    "secrets",
    "complaint",
    "onboarding",
    "refusal",
    "open",  # 可否向社会开放 as a catalog element (Zhejiang art. 8)
)
ARTICLE_TOPICS = REQUIRED_TOPICS + OPTIONAL_TOPICS

_PACKAGE = "policies.profiles"
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_REGION = re.compile(r"\d{6}")
_TOP_KEYS = (
    "name",
    "title",
    "region",
    "effective",
    "class_names",
    "basis_required",
    "deadlines",
    "update_limit_days",
    "realtime_required",
    "service_modes",
    "identifiers",
    "levels",
    "articles",
    "notes",
    "oversight",  # issue 10 sections 3-4 (catalog upkeep, evaluation): policies/profile_oversight.py
    # issue 10 sections 1-2 (vocabulary and access rules): see policies/profile_rules.py
    "vocabulary",
    "access",
)
_DEADLINE_KEYS = ("check", "decide", "notify", "platform_grant", "objection")


@dataclass(frozen=True)
class ClassNames:
    """The regulation's own terms for the three share classes."""

    unconditional: str
    conditional: str
    not_shared: str


@dataclass(frozen=True)
class Deadlines:
    """Working-day limits of the application and objection workflow; None = none set."""

    check: int | None  # platform checks the application form
    decide: int | None  # provider decides a conditional application
    notify: int | None  # platform tells the consumer the decision
    platform_grant: int | None  # platform grants unconditional access (0 = at once)
    objection: int | None  # a disputed value is checked and answered


@dataclass(frozen=True)
class Profile:
    """One jurisdiction's regulation, as the gateway applies it."""

    name: str
    title: str
    region: str
    effective: datetime.date
    class_names: ClassNames
    basis_required: str
    deadlines: Deadlines
    update_limit_days: int | None
    realtime_required: tuple[str, ...]
    service_modes: tuple[str, ...]
    identifiers: tuple[str, ...]
    levels: tuple[str, ...]
    articles: Mapping[str, str] = field(hash=False)
    notes: str
    oversight: Oversight  # issue 10 sections 3-4: catalog upkeep and the evaluation's figures
    # issue 10 sections 1-2: the regulation's words where a person reads, and its access rules
    vocabulary: Vocabulary = field(hash=False)
    access: AccessRules

    def class_name(self, share: str) -> str:
        """The regulation's term for ``share`` (unconditional, conditional, not_shared)."""
        if share not in SHARES:
            raise ValueError(f"unknown share class {share!r}; expected one of {', '.join(SHARES)}")
        name: str = getattr(self.class_names, share)
        return name

    def cite(self, topic: str) -> str:
        """``《title》 art. N`` for ``topic``, or just the title when the text has no article."""
        article = self.articles.get(topic)
        return f"《{self.title}》 {article}" if article else f"《{self.title}》"

    def share_of(self, term: str) -> Share | None:
        """The class a catalog term names under this profile: the English value or one of
        this regulation's own terms (``class_names`` and ``vocabulary.share_terms``); None for
        anything else, another regulation's term included (issue 10 section 1)."""
        return self.vocabulary.share_of(term, self.class_names_by_share)

    @property
    def class_names_by_share(self) -> Mapping[Share, str]:
        """Share -> this regulation's term for it."""
        return {share: self.class_name(share.value) for share in Share}

    def own_terms(self) -> str:
        """``"无条件共享 / 有条件共享 / 不予共享"``: the three terms, for messages."""
        return " / ".join(self.class_names_by_share.values())

    def article_for(self, code: str) -> str | None:
        """``"浙江省 第二十六条"``: the article a refusal with ``extensions.code`` rests on,
        from ``vocabulary.refusal_topics`` and the ``articles`` table; None when the
        regulation has none for it."""
        topic = self.vocabulary.refusal_topics.get(code)
        reference = self.articles.get(topic) if topic else None
        return f"{self.vocabulary.short_name} {chinese_articles(reference)}" if reference else None


@functools.cache
def profile_names() -> tuple[str, ...]:
    """The names of the shipped profiles, sorted. Cached: the package's files do not change
    while the process runs, and the access decision asks for every item (a directory
    listing per item decision cost the hot path)."""
    folder = resources.files(_PACKAGE)
    return tuple(sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if _is_profile(p.name)))


def _is_profile(filename: str) -> bool:
    return filename.endswith(".yaml") and bool(_NAME.fullmatch(filename[: -len(".yaml")]))


@functools.cache
def load_profile(name: str) -> Profile:
    """The shipped profile ``name``; ConfigurationError when unknown or malformed."""
    known = profile_names()
    if name not in known:
        raise ConfigurationError(
            f"unknown jurisdiction profile {name!r}; known profiles: {', '.join(known)}",
            profile=name,
            known=list(known),
        )
    with resources.as_file(resources.files(_PACKAGE) / f"{name}.yaml") as path:
        profile = load_profile_file(path)
    if profile.name != name:
        raise _Source(str(path)).error("name", f"is {profile.name!r} but the file is {name}.yaml")
    return profile


def load_profile_file(path: str | Path) -> Profile:
    """Read and strictly validate one profile file."""
    source = _Source(str(path))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise source.error("(file)", f"cannot be read: {exc}") from exc
    try:
        document = yaml.load(text, Loader=StrictLoader)
    except yaml.YAMLError as exc:
        raise source.error("(file)", f"is not valid YAML: {exc}") from exc
    return _profile(source, document)


@dataclass(frozen=True)
class _Source:
    """The file being read, for error messages."""

    file: str

    def error(self, path: str, problem: str) -> ConfigurationError:
        return ConfigurationError(f"{self.file}: {path}: {problem}", file=self.file, path=path)


def _profile(src: _Source, document: object) -> Profile:
    top = _fields(src, document, "", _TOP_KEYS)
    profile = Profile(
        name=_name(src, top["name"], "name"),
        title=_text(src, top["title"], "title"),
        region=_region(src, top["region"], "region"),
        effective=_date(src, top["effective"], "effective"),
        class_names=_class_names(src, top["class_names"], "class_names"),
        basis_required=_text(src, top["basis_required"], "basis_required"),
        deadlines=_deadlines(src, top["deadlines"], "deadlines"),
        update_limit_days=_days(src, top["update_limit_days"], "update_limit_days"),
        realtime_required=_choices(src, top["realtime_required"], "realtime_required", REALTIME_KINDS),
        service_modes=_choices(src, top["service_modes"], "service_modes", SERVICE_MODES),
        identifiers=_choices(src, top["identifiers"], "identifiers", IDENTIFIERS),
        levels=_choices(src, top["levels"], "levels", LEVELS, nonempty=True),
        articles=_articles(src, top["articles"], "articles"),
        notes=_text(src, top["notes"], "notes"),
        oversight=read_oversight(src.error, top["oversight"], "oversight"),
        vocabulary=read_vocabulary(src.error, top["vocabulary"], "vocabulary"),
        access=read_access(src.error, top["access"], "access"),
    )
    for code, topic in profile.vocabulary.refusal_topics.items():
        if topic not in profile.articles:
            raise src.error(
                f"vocabulary.refusal_topics.{code}", f"names topic {topic!r}, which `articles` lacks"
            )
    return profile


def _class_names(src: _Source, value: object, path: str) -> ClassNames:
    raw = _fields(src, value, path, SHARES)
    return ClassNames(**{key: _text(src, raw[key], _join(path, key)) for key in SHARES})


def _deadlines(src: _Source, value: object, path: str) -> Deadlines:
    raw = _fields(src, value, path, _DEADLINE_KEYS)
    return Deadlines(**{key: _days(src, raw[key], _join(path, key)) for key in _DEADLINE_KEYS})


def _articles(src: _Source, value: object, path: str) -> Mapping[str, str]:
    raw = _fields(src, value, path, REQUIRED_TOPICS, optional=OPTIONAL_TOPICS)
    articles = {key: _text(src, raw[key], _join(path, key)) for key in raw}
    for key, reference in articles.items():
        if not _REFERENCE.fullmatch(reference):
            raise src.error(
                _join(path, key), f"expected 'art. N', 'art. N-M' or a list of them, got {reference!r}"
            )
    return MappingProxyType(articles)


_REFERENCE = re.compile(r"art\. \d+(-\d+)?(, \d+(-\d+)?)*")


def chinese_articles(reference: str) -> str:
    """``"art. 11-12, 21"`` -> ``"第十一条至第十二条、第二十一条"`` (the texts' own numbering)."""
    parts = reference.removeprefix("art. ").split(", ")
    return "、".join("至".join(f"第{chinese_number(int(n))}条" for n in part.split("-")) for part in parts)


_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1..99 in Chinese numerals as article numbers are written (十, 十二, 二十, 二十六)."""
    if not 0 < n < 100:
        raise ValueError(f"article number {n} is out of 1..99")
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")
    return head + (_DIGITS[ones] if ones else "")


def _fields(
    src: _Source,
    value: object,
    path: str,
    required: Collection[str],
    optional: Collection[str] = (),
) -> dict[str, object]:
    """A mapping with exactly the ``required`` keys and any of the ``optional`` ones."""
    where = path or "(top level)"
    if not isinstance(value, dict):
        raise src.error(where, f"expected a mapping, got {describe(value)}")
    allowed = [*required, *optional]
    for key in value:
        if key not in allowed:
            raise src.error(_join(path, str(key)), f"unknown key; allowed: {', '.join(allowed)}")
    for key in required:
        if key not in value:
            raise src.error(_join(path, key), "missing required key")
    return {str(key): item for key, item in value.items()}


def _text(src: _Source, value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise src.error(path, f"expected a non-empty string, got {describe(value)}")
    return value.strip()


def _name(src: _Source, value: object, path: str) -> str:
    text = _text(src, value, path)
    if not _NAME.fullmatch(text):
        raise src.error(path, "expected a lower-case identifier such as 'hubei'")
    return text


def _region(src: _Source, value: object, path: str) -> str:
    if not isinstance(value, str) or not _REGION.fullmatch(value) or not is_division(value):
        raise src.error(path, f"expected {division_rule()}, quoted, such as '420000', got {describe(value)}")
    return value


def _date(src: _Source, value: object, path: str) -> datetime.date:
    if type(value) is not datetime.date:
        raise src.error(path, f"expected a date YYYY-MM-DD, got {describe(value)}")
    return value


def _days(src: _Source, value: object, path: str) -> int | None:
    if value is None:
        return None
    if type(value) is not int or value < 0:
        raise src.error(path, f"expected working days (an integer >= 0) or null, got {describe(value)}")
    return value


def _choices(
    src: _Source, value: object, path: str, allowed: tuple[str, ...], *, nonempty: bool = False
) -> tuple[str, ...]:
    """A list of distinct values out of ``allowed``."""
    if not isinstance(value, list) or (nonempty and not value):
        raise src.error(path, f"expected a {'non-empty ' * nonempty}list, got {describe(value)}")
    for index, item in enumerate(value):
        if item not in allowed or value.index(item) != index:
            raise src.error(
                f"{path}[{index}]",
                f"expected one of {', '.join(allowed)} (each once), got {describe(item)}",
            )
    return tuple(value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
