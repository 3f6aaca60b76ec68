"""The parts of a jurisdiction profile that change what the gateway does (issue 10 sections 1-2).

Two blocks of ``policies/profiles/<name>.yaml``, read here so that ``policies.profile``
stays the loader of the regulation's numbers:

``vocabulary``
    ``short_name`` (``浙江省``: how a citation names the regulation, ``浙江省 第二十六条``),
    ``share_terms`` (further spellings a catalog may use for each class, beside the English
    value and ``class_names``) and ``refusal_topics`` (refusal code -> ``articles`` topic,
    for ``extensions.article``).
``access``
    ``unconditional_access``: ``open`` (any authenticated department reads unconditional
    items directly: Shanghai art. 14, Zhengzhou art. 18, Sanya art. 12) or
    ``on_application`` (every use needs an approved application: Hubei art. 13, 18-21,
    Zhejiang art. 26). ``onboarding``: a department's first use needs a written access
    application with a commitment (Sanya art. 12). ``refusal_confirmation``: a provider's
    refusal needs the informatization department's consent before it is final (Sanya art. 12).

Every value is validated once at load; a problem raises the loader's ``ConfigurationError``
naming the file and the key path (the ``fail`` callback builds it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from errors import ConfigurationError
from policies.share import Share
from policies.yamlfiles import describe

UNCONDITIONAL_ACCESS = ("open", "on_application")
# The refusal codes a profile may cite an article for (errors.py holds the classes).
REFUSAL_CODES = (
    "CONDITIONAL_ACCESS_REQUIRED",
    "APPLICATION_REQUIRED",
    "ONBOARDING_REQUIRED",
    "GRANT_EXPIRED",
    "OUT_OF_SCOPE",
    "MODE_NOT_ALLOWED",
    "NOT_SHARED",
)
_VOCABULARY_KEYS = ("short_name", "share_terms", "refusal_topics")
_ACCESS_KEYS = ("unconditional_access", "onboarding", "refusal_confirmation")

Fail = Callable[[str, str], ConfigurationError]


@dataclass(frozen=True)
class Vocabulary:
    """How the regulation names things where a person reads them."""

    short_name: str
    share_terms: Mapping[Share, tuple[str, ...]] = field(hash=False)
    refusal_topics: Mapping[str, str] = field(hash=False)

    def share_of(self, term: str, class_names: Mapping[Share, str]) -> Share | None:
        """The class ``term`` names: an English value (any case) or one of this profile's own
        terms; None otherwise."""
        text = term.strip()
        if text.lower() in {s.value for s in Share}:
            return Share(text.lower())
        for share in Share:
            if text == class_names[share] or text in self.share_terms.get(share, ()):
                return share
        return None


@dataclass(frozen=True)
class AccessRules:
    """Who may read what without asking, and what a refusal needs, under this regulation."""

    unconditional_access: str  # open | on_application
    onboarding: bool  # a department's first use needs onboarding (Sanya art. 12)
    refusal_confirmation: bool  # a refusal waits for the operator's consent (Sanya art. 12)

    @property
    def unconditional_on_application(self) -> bool:
        return self.unconditional_access == "on_application"


def read_vocabulary(fail: Fail, value: object, path: str) -> Vocabulary:
    raw = _mapping(fail, value, path, _VOCABULARY_KEYS)
    return Vocabulary(
        short_name=_text(fail, raw["short_name"], f"{path}.short_name"),
        share_terms=_share_terms(fail, raw["share_terms"], f"{path}.share_terms"),
        refusal_topics=_refusal_topics(fail, raw["refusal_topics"], f"{path}.refusal_topics"),
    )


def read_access(fail: Fail, value: object, path: str) -> AccessRules:
    raw = _mapping(fail, value, path, _ACCESS_KEYS)
    access = raw["unconditional_access"]
    if access not in UNCONDITIONAL_ACCESS:
        raise fail(
            f"{path}.unconditional_access",
            f"expected one of {', '.join(UNCONDITIONAL_ACCESS)}, got {describe(access)}",
        )
    return AccessRules(
        unconditional_access=str(access),
        onboarding=_flag(fail, raw["onboarding"], f"{path}.onboarding"),
        refusal_confirmation=_flag(fail, raw["refusal_confirmation"], f"{path}.refusal_confirmation"),
    )


def _share_terms(fail: Fail, value: object, path: str) -> Mapping[Share, tuple[str, ...]]:
    raw = _mapping(fail, value, path, (), optional=tuple(s.value for s in Share))
    terms: dict[Share, tuple[str, ...]] = {}
    for key, spellings in raw.items():
        if not isinstance(spellings, list):
            raise fail(f"{path}.{key}", f"expected a list of terms, got {describe(spellings)}")
        terms[Share(key)] = tuple(_text(fail, t, f"{path}.{key}[{i}]") for i, t in enumerate(spellings))
    return MappingProxyType(terms)


def _refusal_topics(fail: Fail, value: object, path: str) -> Mapping[str, str]:
    raw = _mapping(fail, value, path, (), optional=REFUSAL_CODES)
    return MappingProxyType({code: _text(fail, topic, f"{path}.{code}") for code, topic in raw.items()})


def _mapping(
    fail: Fail, value: object, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, object]:
    if not isinstance(value, dict):
        raise fail(path, f"expected a mapping, got {describe(value)}")
    for key in value:
        if key not in (*required, *optional):
            raise fail(f"{path}.{key}", f"unknown key; allowed: {', '.join((*required, *optional))}")
    for key in required:
        if key not in value:
            raise fail(f"{path}.{key}", "missing required key")
    return {str(k): v for k, v in value.items()}


def _text(fail: Fail, value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail(path, f"expected a non-empty string, got {describe(value)}")
    return value.strip()


def _flag(fail: Fail, value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise fail(path, f"expected true or false, got {describe(value)}")
    return value
