"""The catalog as a living register (资源目录管理): who may change which entry, the states an
entry passes through, and the time limits of a change (Shanghai art. 10; Zhejiang art. 9-11).

    第十条 ……审核人员应当逐条审核已提交的目录信息……审核通过的目录,应当及时发布;审核未通过的
    目录,应当及时退回修改。……应当在2个工作日内,进行资源目录的更新操作。(Shanghai)
    第十条 ……经省政府办公厅审核通过后予以发布。(Zhejiang: the operator role reviews)

An *entry* is one resource's own fields (its header, ``item`` None) or one of its items. A
provider drafts and submits changes to its own department's entries; the operator (the
reviewer: the platform office, Zhejiang's provincial office) reviews each submitted entry
on its own, approving or returning it with reasons, and publishes the approved ones:

    (new) | PUBLISHED | WITHDRAWN | DRAFT | SUBMITTED | RETURNED --draft--> DRAFT
    DRAFT --submit--> SUBMITTED --approve--> APPROVED --publish--> PUBLISHED
    SUBMITTED | APPROVED --return(reasons)--> RETURNED
    any state but WITHDRAWN --withdraw(reasons)--> WITHDRAWN  (leaves the catalog at once)
    (new) | PUBLISHED | WITHDRAWN --import--> PUBLISHED; a pending change keeps its state

``approved`` is the one state beyond the issue's five: reviewed, not yet published
(Shanghai art. 10 separates 审核 from 发布). While a change is pending (draft ... returned)
the entry's published body, if any, is still what the catalog serves.

Table-driven tests: ``tests/policies/data/catalog_workflow.yaml``; property tests of the
machine in ``tests/policies/test_catalog_workflow.py``.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from errors import BadRequest, Forbidden
from policies.decision import Consumer
from policies.profile import Profile
from policies.workdays import WorkdayCalendar, deadline


class EntryState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"  # reviewed and passed, awaiting publication
    PUBLISHED = "published"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"


class Action(StrEnum):
    IMPORT = "import"
    DRAFT = "draft"
    SUBMIT = "submit"
    APPROVE = "approve"
    RETURN = "return"
    PUBLISH = "publish"
    WITHDRAW = "withdraw"


NEW = None  # an entry not yet in the store
PENDING = frozenset({EntryState.DRAFT, EntryState.SUBMITTED, EntryState.APPROVED, EntryState.RETURNED})
_DRAFTABLE = (NEW, EntryState.PUBLISHED, EntryState.WITHDRAWN, *PENDING)
TRANSITIONS: Mapping[Action, Mapping[EntryState | None, EntryState]] = {
    Action.DRAFT: {state: EntryState.DRAFT for state in _DRAFTABLE},
    Action.SUBMIT: {EntryState.DRAFT: EntryState.SUBMITTED},
    Action.APPROVE: {EntryState.SUBMITTED: EntryState.APPROVED},
    Action.RETURN: {EntryState.SUBMITTED: EntryState.RETURNED, EntryState.APPROVED: EntryState.RETURNED},
    Action.PUBLISH: {EntryState.APPROVED: EntryState.PUBLISHED},
    Action.WITHDRAW: {state: EntryState.WITHDRAWN for state in (EntryState.PUBLISHED, *PENDING)},
    Action.IMPORT: {
        NEW: EntryState.PUBLISHED,
        EntryState.PUBLISHED: EntryState.PUBLISHED,
        EntryState.WITHDRAWN: EntryState.PUBLISHED,
        **{state: state for state in PENDING},  # the pending change stays for review
    },
}
PROVIDER_ACTIONS = frozenset({Action.DRAFT, Action.SUBMIT, Action.WITHDRAW})
OPERATOR_ACTIONS = frozenset({Action.APPROVE, Action.RETURN, Action.PUBLISH, Action.WITHDRAW, Action.IMPORT})
NEEDS_REASONS = frozenset({Action.RETURN, Action.WITHDRAW})


def next_state(state: EntryState | None, action: Action, entry: str = "the entry") -> EntryState:
    """The state ``action`` moves an entry in ``state`` to (None: not yet in the store).
    BadRequest naming the states the action is allowed from, e.g. publishing a draft."""
    allowed = TRANSITIONS[action]
    if state not in allowed:
        names = ", ".join("(new)" if s is None else s.value for s in allowed)
        now = "not in the catalog" if state is None else state.value
        raise BadRequest(f"cannot {action.value} {entry}: it is {now}; only when: {names}", state=now)
    return allowed[state]


def require_may(actor: Consumer, action: Action, provider: str, entry: str = "this entry") -> None:
    """A provider drafts, submits and withdraws its OWN department's entries only; the operator
    reviews (approves, returns), publishes, withdraws and imports (Shanghai art. 10: the
    reviewer checks entry by entry; Zhejiang art. 10: publication after the provincial
    office's review). Forbidden naming the role or the providing department."""
    require_role(actor, action)
    if action in OPERATOR_ACTIONS and actor.has("operator"):
        return
    if actor.department != provider:  # the provider role, then: its own department's only
        raise Forbidden(
            f"{entry} belongs to department {provider}; a provider changes its own entries only",
            provider=provider,
        )


def require_role(actor: Consumer, action: Action) -> None:
    """Forbidden unless ``actor`` holds a role that may take ``action`` on some entry: checked
    before the entry is looked up, so that a department without the role cannot tell an
    unpublished draft's id from an unknown one (issue 11 §3: drafts stay with the provider)."""
    if (action in OPERATOR_ACTIONS and actor.has("operator")) or (
        action in PROVIDER_ACTIONS and actor.has("provider")
    ):
        return
    role = "provider" if action in PROVIDER_ACTIONS - OPERATOR_ACTIONS else "operator"
    raise Forbidden(f"{action.value} of a catalog entry needs the {role} role", role=role)


Author = tuple[str, str, str | None]  # (department, client, user) of a draft or submission


def require_other_reviewer(reviewer: Author, authors: Iterable[Author]) -> None:
    """Forbidden when the reviewer drafted or submitted the change it reviews: the cataloguer
    and the reviewer are different people (Shanghai art. 10: 审核人员逐条审核 the entries
    others submitted; Zhejiang art. 10: the provincial office reviews the department's). A
    person is the department, client and request user together."""
    if reviewer in set(authors):
        raise Forbidden(
            "you drafted or submitted this change: another operator must review it (four eyes)",
            role="operator",
        )


def may_read(actor: Consumer, provider: str) -> bool:
    """Drafts and review history stay with the entry's provider and the operators (issue 11 §3)."""
    return actor.has("operator") or (actor.has("provider") and actor.department == provider)


def require_reader(actor: Consumer, provider: str | None = None) -> None:
    """Forbidden unless ``actor`` may read the register: an operator, or a provider (of
    ``provider`` when named)."""
    if actor.has("operator"):
        return
    if actor.has("provider") and (provider is None or actor.department == provider):
        return
    raise Forbidden("catalog drafts and history are for the providing department and operators")


ENTRY_ID_MAX = 128  # the platform tables' width of a resource id and an item name


def entry_id(text: str, argument: str) -> str:
    """``text`` as a resource id or item name to look up or store: BadRequest naming
    ``argument`` for surrounding spaces, a control character (NUL: PostgreSQL refuses it in
    text) or more than ``ENTRY_ID_MAX`` characters. The catalog's own pattern
    (``policies.catalog``) is checked when a draft is validated."""
    odd = any(unicodedata.category(char) == "Cc" for char in text)
    if odd or text != text.strip() or not text or len(text) > ENTRY_ID_MAX:
        raise BadRequest(
            f"{argument} {text[:40]!r} is not a catalog id: give it as listed by catalogEntries or "
            f"the catalog (1 to {ENTRY_ID_MAX} characters, no spaces around, no control characters)",
            argument=argument,
        )
    return text


def reasons_for(action: Action, reasons: Sequence[str]) -> tuple[str, ...]:
    """The reasons given, stripped; a return or withdrawal without any is BadRequest
    (Shanghai art. 10: a failed entry is returned for correction: say what to correct)."""
    cleaned = tuple(text.strip() for text in reasons if text.strip())
    if action in NEEDS_REASONS and not cleaned:
        raise BadRequest(f"{action.value} needs written reasons: say what to correct", argument="reasons")
    return cleaned


def change_due(profile: Profile, submitted: dt.date, calendar: WorkdayCalendar) -> dt.date | None:
    """The last day (China) for a submitted change to be published: the profile's
    ``oversight.catalog_change_days`` working days (Shanghai art. 10: 2) after submission;
    None where the regulation sets no number (its update is "及时")."""
    return deadline(calendar, submitted, profile.oversight.catalog_change_days)


def change_overdue(due: dt.date | None, today: dt.date, state: EntryState) -> bool:
    """A change still awaiting review or publication after its due day."""
    return due is not None and today > due and state in (EntryState.SUBMITTED, EntryState.APPROVED)


def changed_keys(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[str]:
    """The keys whose values differ between two bodies of an entry ("what changed"), sorted;
    every key of the one present when the other is None."""
    before, after = before or {}, after or {}
    return sorted(key for key in {*before, *after} if before.get(key) != after.get(key))
