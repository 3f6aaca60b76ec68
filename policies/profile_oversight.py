"""The ``oversight`` block of a jurisdiction profile (issue 10 sections 3-4): catalog upkeep
and the figures the regulation's evaluation article names. Read here so that
``policies.profile`` stays the loader of the regulation's numbers::

    oversight:
      catalog_change_days: 2      # working days to update the catalog after a change, or null
      catalog_review_months: 12   # months within which every entry is maintained again, or null
      evaluation:
        cadence: 定期通报           # how often, in the article's words
        figures:                  # EVALUATION_FIGURES named by the article, in its order
          catalog_upkeep: 目录编制  # figure -> the article's own term

Sources: Shanghai art. 10 and 22, Zhejiang art. 10 and 35, Zhengzhou art. 31, Hubei art. 26,
Sanya art. 27 (the comments of each profile file quote them). Every value is validated once
at load; a problem raises the loader's ``ConfigurationError`` naming the file and the key
path (the ``fail`` callback builds it).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from errors import ConfigurationError
from policies.yamlfiles import describe

EVALUATION_FIGURES = ("quantity", "timeliness", "use", "authorizations", "availability", "catalog_upkeep")
_OVERSIGHT_KEYS = ("catalog_change_days", "catalog_review_months", "evaluation")
_EVALUATION_KEYS = ("cadence", "figures")

Fail = Callable[[str, str], ConfigurationError]


@dataclass(frozen=True)
class Evaluation:
    """What the regulation's evaluation article reads (e.g. Zhejiang art. 35: 提供信息的数量、
    更新时效和使用情况): ``figures`` maps each figure of ``EVALUATION_FIGURES`` it names, in the
    article's order, to the article's own term; ``cadence`` is how often, in its words."""

    cadence: str
    figures: Mapping[str, str] = field(hash=False)


@dataclass(frozen=True)
class Oversight:
    """Time limits on the catalog and the evaluation's figures.

    ``catalog_change_days``: working days to update the catalog after a change (Shanghai
    art. 10: 2); ``catalog_review_months``: months within which every catalog entry is
    maintained again (Shanghai art. 10, Zhejiang art. 10: yearly, 12); None = the text sets
    none."""

    catalog_change_days: int | None
    catalog_review_months: int | None
    evaluation: Evaluation


def read_oversight(fail: Fail, value: object, path: str) -> Oversight:
    """The ``oversight`` block at ``path``; ``fail(path, problem)`` builds the error."""
    raw = _mapping(fail, value, path, _OVERSIGHT_KEYS, _OVERSIGHT_KEYS)
    change, review = "catalog_change_days", "catalog_review_months"
    return Oversight(
        catalog_change_days=_count(fail, raw[change], f"{path}.{change}", 0, "working days"),
        catalog_review_months=_count(fail, raw[review], f"{path}.{review}", 1, "months"),
        evaluation=_evaluation(fail, raw["evaluation"], f"{path}.evaluation"),
    )


def _evaluation(fail: Fail, value: object, path: str) -> Evaluation:
    raw = _mapping(fail, value, path, _EVALUATION_KEYS, _EVALUATION_KEYS)
    where = f"{path}.figures"
    figures = _mapping(fail, raw["figures"], where, (), EVALUATION_FIGURES)
    if not figures:
        raise fail(where, f"expected at least one of {', '.join(EVALUATION_FIGURES)}")
    terms = {key: _text(fail, term, f"{where}.{key}") for key, term in figures.items()}
    return Evaluation(_text(fail, raw["cadence"], f"{path}.cadence"), MappingProxyType(terms))


def _mapping(
    fail: Fail, value: object, path: str, required: Collection[str], allowed: Collection[str]
) -> dict[str, object]:
    """A mapping with every ``required`` key and no key outside ``allowed``."""
    if not isinstance(value, dict):
        raise fail(path, f"expected a mapping, got {describe(value)}")
    for key in value:
        if key not in allowed:
            raise fail(f"{path}.{key}", f"unknown key; allowed: {', '.join(allowed)}")
    for key in required:
        if key not in value:
            raise fail(f"{path}.{key}", "missing required key")
    return {str(key): item for key, item in value.items()}


def _count(fail: Fail, value: object, path: str, least: int, unit: str) -> int | None:
    if value is not None and (type(value) is not int or value < least):
        raise fail(path, f"expected {unit} (an integer >= {least}) or null, got {describe(value)}")
    return value


def _text(fail: Fail, value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail(path, f"expected a non-empty string, got {describe(value)}")
    return value.strip()
