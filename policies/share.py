"""Share classes and service modes, with the vocabulary of the five regulations.

Each regulation names the three classes differently (Hubei 无条件/有条件/不予共享,
Shanghai 普遍/按需/不共享, Zhejiang 非受限/受限/非共享, ...). A catalog may use any
of those terms or the English names; they all parse to one ``Share`` value.
"""

from __future__ import annotations

from enum import StrEnum


class Share(StrEnum):
    UNCONDITIONAL = "unconditional"
    CONDITIONAL = "conditional"
    NOT_SHARED = "not_shared"


class Mode(StrEnum):
    """Service modes of Zhejiang art. 27: 比对验证, 查询引用, 批量复制."""

    COMPARE = "compare"
    QUERY = "query"
    BULK = "bulk"


_SHARE_TERMS: dict[Share, tuple[str, ...]] = {
    Share.UNCONDITIONAL: (
        "unconditional",
        "无条件共享",
        "无条件共享类",
        "无条件",
        "普遍共享",
        "非受限共享类",
        "非受限共享",
        "非受限",
    ),
    Share.CONDITIONAL: (
        "conditional",
        "有条件共享",
        "有条件",
        "条件共享类",
        "条件共享",
        "按需共享",
        "受限共享类",
        "受限共享",
        "受限",
        "附条件共享类",
        "附条件共享",
        "附条件",
    ),
    Share.NOT_SHARED: (
        "not_shared",
        "non_shared",
        "不予共享",
        "不予共享类",
        "不共享",
        "非共享类",
        "非共享",
    ),
}
_BY_TERM = {term: share for share, terms in _SHARE_TERMS.items() for term in terms}


def parse_share(term: str) -> Share | None:
    """The class a catalog term names, or None when the term is unknown."""
    return _BY_TERM.get(term.strip().lower() if term.isascii() else term.strip())


def share_terms() -> tuple[str, ...]:
    return tuple(_BY_TERM)
