"""Objections (疑义) and change notices: who may do what, and by when.

Objections (Hubei art. 23; Zhejiang art. 28; Zhengzhou art. 21):

    OPEN --answer(CORRECTED | CONFIRMED, note) by the resource's provider--> ANSWERED

- a consumer raises one on (resource, subject, item) when it has read that item of that
  subject (the audit trail says so) or may read it now (the access decision,
  :func:`may_read_item`); anyone else is refused with the same words whether the subject
  exists or not (:func:`not_holder`);
- only the providing department of the resource answers (:func:`require_answerer`);
- the answer is due within the profile's ``deadlines.objection`` working days (Zhejiang
  art. 28: 5); a profile without a number says "promptly" (及时), and the operator's
  configured default applies, marked ``statutory=False`` (:func:`objection_limit`);
- while open, the value is still served (Hubei art. 23: business continues) and marked
  disputed.

Change notices (Shanghai art. 16): a provider updates within the profile's
``update_limit_days`` working days of a change (2 in Shanghai and Zhejiang); a notice
given later than that after the change time the provider states is late
(:func:`notice_due`, :func:`notice_late`). A consumer hears only of subjects it has read
(:func:`notice_for`).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from errors import BadRequest, Forbidden, InvalidCode, shown
from policies.catalog import Catalog, Resource
from policies.chinatime import china_day
from policies.codes import region_of, validate_citizen_id, validate_uscc
from policies.decision import AccessRequest, Grant, plan_access, subject_access
from policies.profile import Profile
from policies.workdays import WorkdayCalendar

DEFAULT_PROMPT_DAYS = 5  # "promptly" (及时) when the profile sets no number: operator-configurable
MAX_REASON_CHARS = 2000
MAX_NOTICE_SUBJECTS = 1000
MAX_OPEN_PER_CONSUMER = 500  # open objections one consumer department may have at a time


class ObjectionStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


class Outcome(StrEnum):
    """How the provider settled the disputed value."""

    CORRECTED = "corrected"  # the value was wrong and is now corrected at the source
    CONFIRMED = "confirmed"  # the value was checked and stands


@dataclass(frozen=True)
class Raised:
    """What a consumer disputes: resource id, subject code (as sent), item name, why."""

    resource: str
    subject: str
    item: str
    reason: str


@dataclass(frozen=True)
class ObjectionLimit:
    """Working days to answer, whether the regulation sets them, and the article cited."""

    days: int
    statutory: bool
    basis: str


def objection_limit(profile: Profile, default_days: int = DEFAULT_PROMPT_DAYS) -> ObjectionLimit:
    """The profile's ``deadlines.objection`` (Zhejiang art. 28: 5 working days), else
    ``default_days`` marked non-statutory: the other texts say only "promptly" (及时)."""
    days = profile.deadlines.objection
    basis = profile.cite("objection")
    if days is not None:
        return ObjectionLimit(days, True, basis)
    if "objection" in profile.articles:
        return ObjectionLimit(default_days, False, f"{basis}: promptly (及时); operator default")
    return ObjectionLimit(default_days, False, f"{basis}: no objection procedure; operator default")


def objection_due(calendar: WorkdayCalendar, raised: dt.datetime, limit: ObjectionLimit) -> dt.date:
    """The last day (China time) to answer an objection raised at ``raised``."""
    return calendar.add_workdays(raised, limit.days)


def is_overdue(due: dt.date, answered: dt.datetime | None, now: dt.datetime) -> bool:
    """Past its due day: still open after it, or answered after it."""
    return china_day(answered or now) > due


def require_raiser(consumer_roles: Collection[str]) -> None:
    """Only a consumer department raises an objection (it holds the data it disputes)."""
    if "consumer" not in consumer_roles:
        raise Forbidden("only a consumer department raises an objection; use a token with the consumer role")


def require_answerer(department: str, roles: Collection[str], resource: Resource) -> None:
    """Only the resource's providing department answers (Zhejiang art. 28: 核实或更正)."""
    if "provider" not in roles or department != resource.provider:
        raise Forbidden(
            f"only the providing department of {resource.id} ({resource.provider}) answers its objections",
            resource=resource.id,
        )


LINE_BREAKS = "\t\n\r"  # typed text may span lines (policies.text allows these too)
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def hidden_character(text: str) -> int | None:
    """The index of the first character a reader cannot see in ``text``, or None: control
    and format characters (Unicode C*: bidi overrides, zero-width, BOM) and the line and
    paragraph separators. Spaces of every width (Zs, e.g. U+3000 ideographic space, typed by
    Chinese input methods) and tab and line breaks are text."""
    return next(
        (
            i
            for i, ch in enumerate(text)
            if ch not in LINE_BREAKS and unicodedata.category(ch) in HIDDEN_CATEGORIES
        ),
        None,
    )


def require_text(text: str | None, what: str) -> str:
    """A reason or note: text a reader sees whole (:func:`hidden_character`), stripped, at
    most ``MAX_REASON_CHARS`` characters; ``BadRequest`` naming the field otherwise."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise BadRequest(f"{what} is empty; say what is wrong", field=what)
    index = hidden_character(cleaned)
    if index is not None:
        code = f"U+{ord(cleaned[index]):04X}"
        raise BadRequest(
            f"{what} holds the invisible character {code} at position {index + 1}: text may hold "
            "spaces, tab and line breaks but no control or format characters; remove it",
            field=what,
            character=code,
            position=index + 1,
        )
    if len(cleaned) > MAX_REASON_CHARS:
        raise BadRequest(f"{what} is {len(cleaned)} characters; at most {MAX_REASON_CHARS}", field=what)
    return cleaned


def known_resource(catalog: Catalog, resource_id: str) -> Resource:
    """The resource by id; ``BadRequest`` naming the argument when there is none."""
    resource = catalog.resources.get(resource_id)
    if resource is None:
        raise BadRequest(
            f"no resource {shown(resource_id)}; see the catalog query or the schema", argument="resource"
        )
    return resource


def disputed_item(catalog: Catalog, resource_id: str, item: str) -> Resource:
    """The resource, once ``item`` is one of its shared items (the catalog is public)."""
    resource = known_resource(catalog, resource_id)
    shared = {i.name for i in resource.shared_items}
    if item not in shared:
        raise BadRequest(
            f"{shown(item)} is not a shared item of {resource.id}; name one of: {', '.join(sorted(shared))}",
            argument="item",
        )
    return resource


def subject_code(resource: Resource, raw: str) -> str:
    """The subject's code validated for the resource's kind (GB 32100 USCC, GB 11643 ID)."""
    try:
        return validate_uscc(raw) if resource.subject == "organization" else validate_citizen_id(raw)
    except InvalidCode as exc:
        raise InvalidCode(
            exc.message, **{k: v for k, v in exc.extensions.items() if k != "code"}, argument="subject"
        ) from None


def may_read_item(
    request: AccessRequest,
    catalog: Catalog,
    resource: Resource,
    item: str,
    subject: str,
    grants: Iterable[Grant],
) -> bool:
    """Whether the access decision lets ``request`` read ``item`` of ``subject`` now (mode
    query, grant conditions by the subject's division; a daily cap is not spent here)."""
    plan = plan_access(request, catalog, {resource.id: {item}}, grants).resources[resource.id]
    if item not in plan.allowed:
        return False
    kind = "USCC" if resource.subject == "organization" else "CitizenID"
    region = region_of(subject, kind=kind) if plan.per_subject else ""  # type: ignore[arg-type]
    return item in subject_access(plan, region).items


def readable_items(
    request: AccessRequest, catalog: Catalog, resource: Resource, grants: Iterable[Grant]
) -> frozenset[str]:
    """The shared items of ``resource`` that ``request`` may read (mode query), with its key
    when any other item is readable (the key alone tells only that a record exists): empty
    when none is. What a change notice may name (Shanghai art. 16 notices go to holders of
    the data, never about data they may not hold)."""
    names = {i.name for i in resource.shared_items if i.name != resource.key}
    if not names:
        return frozenset()
    allowed = plan_access(request, catalog, {resource.id: names}, grants).resources[resource.id].allowed
    return frozenset({*allowed, resource.key}) if allowed else frozenset()


def may_read_resource(
    request: AccessRequest, catalog: Catalog, resource: Resource, grants: Iterable[Grant]
) -> bool:
    """Whether any shared item of ``resource`` besides its key may be read by ``request``
    (mode query): the key alone tells only that a record exists."""
    return bool(readable_items(request, catalog, resource, grants))


def require_not_repeated(open_ids: Iterable[str], open_count: int) -> None:
    """A consumer keeps one open objection per value (resource, subject, item), and at most
    ``MAX_OPEN_PER_CONSUMER`` in all: a second one would only repeat the first, and a flood
    of them would bury the provider's queue and inflate its overdue count in ``stats``
    (Zhejiang art. 28 asks the provider to answer each one within its days). ``open_ids``:
    the consumer's open objections on this value; ``open_count``: all its open ones."""
    existing = next(iter(open_ids), None)
    if existing is not None:
        raise BadRequest(
            f"your objection {existing} on this value is still open; wait for its answer "
            "(objection query) or add to it there",
            objection=existing,
        )
    if open_count >= MAX_OPEN_PER_CONSUMER:
        raise BadRequest(
            f"your department has {open_count} open objections, the most allowed "
            f"({MAX_OPEN_PER_CONSUMER}); wait for the providers' answers before raising more"
        )


def not_holder(resource: Resource, subject: str, item: str) -> Forbidden:
    """The one refusal for a consumer that neither read nor may read the value: the same
    whether or not the subject exists (nothing is looked up to say it)."""
    return Forbidden(
        f"you may object only to a value you have read or may read: {resource.id}.{item} of this "
        "subject is neither in your audit trail nor readable under your grants",
        resource=resource.id,
        item=item,
    )


def notice_subjects(subjects: Iterable[str], resource: Resource) -> list[str]:
    """A notice's subjects: validated codes, once each, at most ``MAX_NOTICE_SUBJECTS``."""
    codes = list(dict.fromkeys(subject_code(resource, s) for s in subjects))
    if not codes:
        raise BadRequest("a change notice names at least one subject", argument="subjects")
    if len(codes) > MAX_NOTICE_SUBJECTS:
        raise BadRequest(f"at most {MAX_NOTICE_SUBJECTS} subjects per notice; split it", argument="subjects")
    return codes


def notice_items(items: Iterable[str] | None, resource: Resource) -> list[str]:
    """The changed items (shared ones only); none given means the whole record."""
    names = sorted(set(items or ()))
    shared = {i.name for i in resource.shared_items}
    unknown = [n for n in names if n not in shared]
    if unknown:
        raise BadRequest(
            f"{', '.join(map(shown, unknown))} not shared items of {resource.id}", argument="items"
        )
    return names


def require_notifier(department: str, roles: Collection[str], resource: Resource) -> None:
    """Only the resource's provider announces its changes (Shanghai art. 16)."""
    if "provider" not in roles or department != resource.provider:
        raise Forbidden(
            f"only the providing department of {resource.id} ({resource.provider}) gives its change notices",
            resource=resource.id,
        )


DEFAULT_NOTICE_DAYS = 2  # Shanghai art. 16's number, where a profile sets none (operator-configurable)


def notice_limit(profile: Profile, default_days: int = DEFAULT_NOTICE_DAYS) -> int:
    """Working days to notify a change: the profile's ``update_limit_days`` (Shanghai art.
    16 and Zhejiang art. 25: 2; Zhengzhou: 0, realtime), else ``default_days`` (Hubei and
    Sanya leave it to the catalog; the operator's default stands in)."""
    return profile.update_limit_days if profile.update_limit_days is not None else default_days


def notice_due(calendar: WorkdayCalendar, changed: dt.datetime, limit_days: int | None) -> dt.date | None:
    """The last day to notify a change made at ``changed`` (Shanghai art. 16: 2 working
    days); None when the profile sets no update limit."""
    return None if limit_days is None else calendar.add_workdays(changed, limit_days)


def notice_late(due: dt.date | None, notified: dt.datetime) -> bool:
    return due is not None and china_day(notified) > due


def notice_for(subjects: Iterable[str], read: Collection[str]) -> list[str]:
    """The subjects of a notice a consumer may hear of: those it has read, in order."""
    return [s for s in subjects if s in read]


READ_KINDS = ("query", "compare", "export")  # audit event kinds that served a subject's item


def holding_kinds(resource: Resource) -> tuple[str, ...]:
    """The kinds of audit events by which a consumer holds a subject of ``resource`` for
    change notices (Shanghai art. 16: notice to those who hold the data). A compare on a
    ``compare_disclosure: match_only`` resource is not one: it never told whether the
    subject exists, and a notice of that subject would tell it."""
    if resource.compare_disclosure == "match_only":
        return tuple(kind for kind in READ_KINDS if kind != "compare")
    return READ_KINDS


def notice_items_for(items: Sequence[str], readable: Collection[str]) -> list[str] | None:
    """The changed items of a notice a consumer may hear of: those it may read (``readable``,
    :func:`readable_items`). A notice of the whole record (no items) stays whole while the
    consumer may read any item; None (send nothing) when it may read none of the changed
    items: that an item it has no grant for changed is itself not its to know."""
    if not readable:
        return None
    if not items:
        return []
    kept = [i for i in items if i in readable]
    return kept or None


def check_changed_at(changed: dt.datetime, now: dt.datetime) -> dt.datetime:
    """A stated change time may not lie in the future (a clock skew of a minute allowed)."""
    if changed > now + dt.timedelta(minutes=1):
        raise BadRequest("changedAt lies in the future; give the time the data changed", argument="changedAt")
    return changed
