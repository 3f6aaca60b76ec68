"""Static GraphQL pieces: identity and date-time scalars, schema directives and the share-class enum."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import NewType

import strawberry
from strawberry.schema_directive import Location
from strawberry.types.scalar import ScalarDefinition

from errors import BadRequest, InvalidCode, shown
from policies.chinatime import EARLIEST, LATEST, parse_instant
from policies.codes import validate_citizen_id, validate_uscc
from policies.share import Mode, Share


def _text(value: object, kind: str) -> str:
    if not isinstance(value, str):
        raise InvalidCode(f"a {kind} is text: quote it as a string", kind=kind, rule="type")
    return value


def _instant(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise BadRequest(f'a DateTime is text, e.g. "2026-12-31T18:00:00+08:00", not {shown(value)}')
    return parse_instant(value, "the DateTime")


def _utc_text(moment: dt.datetime) -> str:
    return moment.isoformat() if moment.tzinfo is None else moment.astimezone(dt.UTC).isoformat()


USCC = NewType("USCC", str)
CitizenID = NewType("CitizenID", str)

SCALARS: dict[object, ScalarDefinition] = {
    USCC: strawberry.scalar(
        name="USCC",
        description="Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters, "
        "normalized (spaces removed, full-width to half-width, upper case) and check-verified.",
        serialize=str,
        parse_value=lambda value: validate_uscc(_text(value, "USCC")),
    ),
    CitizenID: strawberry.scalar(
        name="CitizenID",
        description="Citizen identity number (公民身份号码, GB 11643-1999): 18 characters with "
        "check character; a 15-digit legacy number is converted to 18.",
        serialize=str,
        parse_value=lambda value: validate_citizen_id(_text(value, "CitizenID")),
    ),
    dt.datetime: strawberry.scalar(
        name="DateTime",
        description="An instant, ISO 8601 (RFC 3339), e.g. 2026-12-31T18:00:00+08:00. Without an offset "
        "it is China time (Asia/Shanghai). Answers are in UTC. Accepted from "
        f"{EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d} (UTC); outside that: BAD_REQUEST.",
        serialize=_utc_text,
        parse_value=_instant,
    ),
}


@strawberry.enum(
    description="Share class: UNCONDITIONAL 无条件共享, CONDITIONAL 有条件共享, NOT_SHARED 不予共享"
)
class ShareClass(Enum):
    UNCONDITIONAL = Share.UNCONDITIONAL.value
    CONDITIONAL = Share.CONDITIONAL.value
    NOT_SHARED = Share.NOT_SHARED.value


@strawberry.enum(
    description="Service modes (Zhejiang art. 27): COMPARE 比对验证, QUERY 查询引用, BULK 批量复制"
)
class ServiceMode(Enum):
    COMPARE = Mode.COMPARE.value
    QUERY = Mode.QUERY.value
    BULK = Mode.BULK.value


def share_class(share: Share) -> ShareClass:
    return ShareClass[share.name]


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="share",
    description="The item's share class and, for conditional items, the condition to meet.",
)
class ShareDirective:
    class_: ShareClass = strawberry.directive_field(name="class")
    condition: str | None = None


@strawberry.schema_directive(
    locations=[Location.OBJECT],
    name="provider",
    description="The department that provides this resource, by its USCC.",
)
class ProviderDirective:
    code: str
    name: str
    update_cycle: str = strawberry.directive_field(name="updateCycle")
