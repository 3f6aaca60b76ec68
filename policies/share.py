"""Share classes and service modes: the stable English values programs read.

Each regulation names the three classes differently (Hubei 无条件/有条件/不予共享,
Shanghai 普遍/按需/不共享, Zhejiang 非受限/受限/非共享, ...). A catalog may use the English
value or its own profile's terms (``Profile.share_of``, issue 10 section 1); every text a
person reads says the profile's term; ``extensions`` and the GraphQL enum keep these values.
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
