"""Conditional-access applications (Hubei art. 18-22; Shanghai art. 14; Zhejiang art. 26;
Sanya art. 12; Zhengzhou art. 18): the states, who may move them, and what each step needs.

    SUBMITTED --check(accept)--> ACCEPTED --decide(approve)--> APPROVED  (a grant is made)
        |                           |  \\--decide(refuse, reasons)--> REFUSED
        |                           \\--(all items unconditional and the profile lets the
        |                               platform grant) check(accept) --> APPROVED
        \\--check(return, reasons)--> RETURNED
    RETURNED, REFUSED, or an overdue SUBMITTED/ACCEPTED --escalate(reasons)--> ESCALATED
    ESCALATED --decide by the operator (the authority)--> APPROVED | REFUSED

Where the profile sets ``access.refusal_confirmation`` (Sanya art. 12: a refusal is written,
with reasons, and needs the informatization department's consent), a provider's refusal is
not final at once:

    ACCEPTED --decide(refuse, reasons)--> REFUSAL_PENDING
    REFUSAL_PENDING --confirm_refusal(consent, reasons) by the operator--> REFUSED
    REFUSAL_PENDING --confirm_refusal(withheld, reasons) by the operator--> ACCEPTED (decide again)

Every refusal, return and withheld consent states reasons, under every profile.

Roles: consumers submit and escalate their own; operators check and settle escalations;
a provider decides only on its own department's resources. Reading an application is
for its consumer, its resource's provider and operators.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from errors import BadRequest, Forbidden, shown
from policies.catalog import Catalog
from policies.chinatime import as_utc
from policies.codes import is_division_prefix
from policies.decision import Consumer, GrantConditions, check_grantable, has_purpose, share_in_mode
from policies.share import Mode, Share


class Status(StrEnum):
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"
    APPROVED = "approved"
    REFUSED = "refused"
    ESCALATED = "escalated"
    REFUSAL_PENDING = "refusal_pending"  # refused by the provider, awaiting the operator's consent


OPEN = frozenset({Status.SUBMITTED, Status.ACCEPTED, Status.ESCALATED, Status.REFUSAL_PENDING})


@dataclass(frozen=True)
class Submission:
    resource: str
    items: tuple[str, ...]
    modes: tuple[Mode, ...]
    purpose: str
    scope_of_knowledge: str  # 知悉范围
    security_measures: str  # 安全措施
    legal_basis: str
    valid_from: dt.datetime
    valid_until: dt.datetime


@dataclass(frozen=True)
class Actor:
    """Who acts: the authenticated department and client, and the civil servant if named."""

    consumer: Consumer
    user: str | None = None


@dataclass(frozen=True)
class Approval:
    """What a decider grants: by default all that was applied for; it may narrow."""

    items: Sequence[str] | None = None
    modes: Sequence[Mode] | None = None
    valid_until: dt.datetime | None = None
    conditions: GrantConditions = field(default_factory=GrantConditions)


def check_submission(catalog: Catalog, submission: Submission) -> None:
    """Refuse an application the platform could only return: say what to fix."""
    check_grantable(catalog, submission.resource, submission.items, submission.modes)
    for name in ("purpose", "scope_of_knowledge", "security_measures", "legal_basis"):
        if not has_purpose(getattr(submission, name)):  # invisible or blank of any kind
            raise BadRequest(f"an application needs {name.replace('_', ' ')}; fill it in", field=name)
    if not submission.items or not submission.modes:
        raise BadRequest("an application names at least one item and one mode")
    if as_utc(submission.valid_until) <= as_utc(submission.valid_from):  # naive: China time
        raise BadRequest("the requested period must end after it starts")


def all_unconditional(
    catalog: Catalog, resource_id: str, items: Iterable[str], modes: Iterable[Mode] = (Mode.QUERY,)
) -> bool:
    """Whether every item is unconditional in every mode applied for (``share_in_mode``: an
    item with ``compare: unconditional`` is so in mode compare only); such an application is
    the platform's to grant where the profile says so (Hubei art. 12, 21; Zhejiang art. 26)."""
    resource = catalog.resources[resource_id]
    return all(
        share_in_mode(resource.items_by_name[name], mode) is Share.UNCONDITIONAL
        for name in items
        for mode in modes
    )


def escalable_from(status: Status, overdue: bool, decision_due: dt.date | None) -> tuple[Status, ...]:
    """The statuses an applicant may escalate from: a return or a refusal always (Shanghai
    art. 14, Zhejiang art. 26, Zhengzhou art. 18, Hubei art. 25: disputes go to the
    authority); an open application with a step past due; and an accepted application whose
    decision has no due date because the regulation sets none (Zhengzhou art. 18: "per the
    conditions set"), which could otherwise wait for ever."""
    allowed = [Status.RETURNED, Status.REFUSED]
    if status in OPEN and overdue:
        allowed.append(status)
    if status is Status.ACCEPTED and decision_due is None:
        allowed.append(status)
    return tuple(allowed)


def require_role(actor: Consumer, role: str, doing: str) -> None:
    if not actor.has(role):
        raise Forbidden(f"{doing} needs the {role} role; use a client or token that has it", role=role)


def may_read(actor: Consumer, consumer: str, provider: str) -> bool:
    return (
        actor.has("operator")
        or (actor.has("provider") and actor.department == provider)
        or actor.department == consumer
    )


def require_reader(actor: Consumer, consumer: str, provider: str) -> None:
    if not may_read(actor, consumer, provider):
        raise Forbidden("this application belongs to another department; you may read your own")


def require_decider(
    actor: Consumer, status: Status, provider: str, doing: str = "deciding an application"
) -> None:
    """Providers decide on their own resources (and revoke their grants: ``doing`` names the
    act in the refusal); an escalated dispute goes to the operator."""
    if status is Status.ESCALATED:
        require_role(actor, "operator", "settling an escalated application")
        return
    require_role(actor, "provider", doing)
    if actor.department != provider:
        raise Forbidden(f"only the providing department may do this ({doing})", provider=provider)


def require_status(status: Status, allowed: Iterable[Status], doing: str) -> None:
    allowed = tuple(allowed)
    if status not in allowed:
        names = ", ".join(s.value for s in allowed)
        raise BadRequest(f"cannot {doing} an application that is {status.value}; only when: {names}")


def require_reasons(reasons: Sequence[str], doing: str) -> tuple[str, ...]:
    cleaned = tuple(r.strip() for r in reasons if r.strip())
    if not cleaned:
        raise BadRequest(f"{doing} needs written reasons (e.g. Sanya art. 12: refusal in writing)")
    return cleaned


def check_conditions(conditions: GrantConditions, items: Sequence[str]) -> None:
    """Conditions must make sense for what is granted: a mistyped mask would hide nothing."""
    stray = sorted(set(conditions.masks) - set(items))
    if stray:
        raise BadRequest(f"masks name items the grant does not hold: {stray}; mask granted items")
    if conditions.daily_cap is not None and conditions.daily_cap < 1:
        raise BadRequest("a daily cap is at least 1 subject a day; leave it out for no cap")
    for region in conditions.regions:
        if not is_division_prefix(region):
            raise BadRequest(
                f"region {shown(region)} is not a division-code prefix: 2 to 6 digits beginning with a "
                "GB/T 2260 province-level code (11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71, 81-83) "
                "or a prefix of 100000, e.g. 4201"
            )


def narrow(requested: Sequence[str], granted: Sequence[str] | None, what: str) -> tuple[str, ...]:
    """An approval may narrow what was asked, never widen it."""
    if granted is None:
        return tuple(requested)
    extra = sorted(str(getattr(one, "value", one)) for one in set(granted) - set(requested))
    if extra:
        raise BadRequest(f"an approval cannot add {what} that were not applied for: {extra}")
    if not granted:
        raise BadRequest(f"an approval keeps at least one of the {what}")
    return tuple(granted)
