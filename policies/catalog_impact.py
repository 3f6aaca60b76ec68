"""What a new catalog breaks: the rule behind a publication's operator review (issue 11 §2).

Shanghai art. 10 has reviewed entries published promptly; a published change that takes
something away from consumers (an item or resource removed, a class made stricter, a mode
withdrawn, a condition changed) must list, before publication, the grants and applications
it affects, and their consumers are told once it is published.

``impact(old, new, grants, applications)`` is pure: it compares two validated catalogs and
answers an :class:`Impact` (the breaking changes, each with the grants and applications it
touches, and every consumer department concerned). Classes are ordered
unconditional < conditional < non-shared (the three classes of every profile: 无条件 /
有条件 / 不予共享); moving up that order is stricter. A condition whose text changed on an
item that stays conditional counts as tightened: the rule cannot tell a looser wording from
a stricter one, so the provider's grants are reviewed either way. A catalog mask that keeps
fewer characters at either end (or a mask where there was none) shows readers less; a
resource moved to another provider is answered by a department that approved none of the
grants and applications on it (Hubei art. 20: the provider decides conditional use), so
every one of them is listed.

An unconditional item that now needs a grant (made conditional or non-shared, or under a
profile that reads unconditional items on application) also breaks consumers that read it
without a grant: no grant names them, so ``ungranted_readers`` marks the change and the
notice goes to every consumer holding a grant on the resource, the review naming the rest
as "every department reading it without a grant".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from policies.catalog import Catalog, Item, Mask, Resource
from policies.decision import Grant, needs_grant
from policies.share import Mode, Share

STRICTNESS: Mapping[Share, int] = {Share.UNCONDITIONAL: 0, Share.CONDITIONAL: 1, Share.NOT_SHARED: 2}
# applications whose consumers still count on the resource: refused ones are closed
LIVE_APPLICATIONS = frozenset(
    {"submitted", "accepted", "escalated", "refusal_pending", "returned", "approved"}
)


class ChangeKind(StrEnum):
    RESOURCE_REMOVED = "resource_removed"
    ITEM_REMOVED = "item_removed"
    CLASS_STRICTER = "class_stricter"  # unconditional -> conditional -> non-shared
    COMPARE_STRICTER = "compare_stricter"  # the item's compare class moved up the same order
    MODE_REMOVED = "mode_removed"
    CONDITION_CHANGED = "condition_changed"  # still conditional, the condition text differs
    SUBJECT_CHANGED = "subject_changed"  # keyed on another subject kind: every query breaks
    MASK_TIGHTENED = "mask_tightened"  # the catalog's mask now keeps fewer characters at an end
    PROVIDER_CHANGED = "provider_changed"  # another department answers: its grants were not its own


@dataclass(frozen=True)
class ApplicationRef:
    """An application as the rule reads it (``gateway.workflow.ApplicationRow``'s fields)."""

    id: str
    consumer: str
    resource: str
    items: frozenset[str]
    modes: frozenset[Mode]
    status: str


@dataclass(frozen=True)
class Change:
    """One breaking change. ``item`` None: the whole resource; ``mode`` for a mode removed;
    ``before``/``after`` the class (or condition text) on either side."""

    kind: ChangeKind
    resource: str
    item: str | None = None
    mode: Mode | None = None
    before: str | None = None
    after: str | None = None
    ungranted_readers: bool = False

    def touches(self, resource: str, items: frozenset[str], modes: frozenset[Mode]) -> bool:
        """Whether a grant or application on ``resource`` for ``items`` and ``modes`` loses by it."""
        if resource != self.resource:
            return False
        if self.item is not None and self.item not in items:
            return False
        if self.kind is ChangeKind.COMPARE_STRICTER:
            return Mode.COMPARE in modes
        return self.mode is None or self.mode in modes

    def describe(self) -> str:
        """One line for the consumer's application history, e.g. ``amr.enterprise_registration.
        business_scope: class_stricter (unconditional -> not_shared)``."""
        where = self.resource + (f".{self.item}" if self.item else "")
        where += f" mode {self.mode}" if self.mode else ""
        moved = f" ({self.before} -> {self.after})" if self.before or self.after else ""
        return f"{where}: {self.kind.value}{moved}"

    def as_json(self) -> dict[str, object]:
        shown = {"item": self.item, "mode": self.mode, "before": self.before, "after": self.after}
        body: dict[str, object] = {"kind": self.kind.value, "resource": self.resource}
        body.update({k: str(v) for k, v in shown.items() if v is not None})
        if self.ungranted_readers:
            body["ungrantedReaders"] = True
        return body


@dataclass(frozen=True)
class Affected:
    """A grant or application some change touches, with its consumer and the changes."""

    id: str
    consumer: str
    resource: str
    changes: tuple[int, ...]  # indexes into Impact.changes


@dataclass(frozen=True)
class Impact:
    changes: tuple[Change, ...]
    grants: tuple[Affected, ...]
    applications: tuple[Affected, ...]

    @property
    def breaking(self) -> bool:
        return bool(self.changes)

    @property
    def consumers(self) -> tuple[str, ...]:
        """Every consumer department a grant or application of which is affected, sorted."""
        return tuple(sorted({a.consumer for a in (*self.grants, *self.applications)}))

    def as_json(self) -> dict[str, object]:
        def listed(found: tuple[Affected, ...]) -> list[dict[str, object]]:
            return [{"id": a.id, "consumer": a.consumer, "resource": a.resource,
                     "changes": list(a.changes)} for a in found]  # fmt: skip

        return {
            "breaking": self.breaking,
            "changes": [c.as_json() for c in self.changes],
            "grants": listed(self.grants),
            "applications": listed(self.applications),
            "consumers": list(self.consumers),
        }


def impact(
    old: Catalog, new: Catalog, grants: Iterable[Grant], applications: Iterable[ApplicationRef] = ()
) -> Impact:
    """The breaking changes from ``old`` to ``new`` (catalog order) and the grants (revoked
    ones left out) and live applications (``LIVE_APPLICATIONS``) each one touches.

    Nothing added or loosened is listed: it breaks no one. Raises nothing: both catalogs
    were validated when loaded."""
    changes = tuple(breaking_changes(old, new))
    live_grants = [(g.id, g.consumer, g.resource, g.items, g.modes) for g in grants if not g.revoked]
    live = [a for a in applications if a.status in LIVE_APPLICATIONS]
    live_apps = [(a.id, a.consumer, a.resource, a.items, a.modes) for a in live]
    return Impact(changes, _affected(changes, live_grants), _affected(changes, live_apps))


Holding = tuple[str, str, str, frozenset[str], frozenset[Mode]]


def _affected(changes: tuple[Change, ...], held: list[Holding]) -> tuple[Affected, ...]:
    found = []
    for hid, consumer, resource, items, modes in held:
        hits = tuple(i for i, c in enumerate(changes) if c.touches(resource, items, modes))
        if hits:
            found.append(Affected(hid, consumer, resource, hits))
    return tuple(sorted(found, key=lambda a: (a.consumer, a.id)))


def breaking_changes(old: Catalog, new: Catalog) -> list[Change]:
    """Every change that takes something from a consumer, resource by resource in ``old``'s order."""
    found: list[Change] = []
    for rid, before in old.resources.items():
        after = new.resources.get(rid)
        if after is None:
            freely = _read_freely(old, before)
            found.append(Change(ChangeKind.RESOURCE_REMOVED, rid, ungranted_readers=freely))
        else:
            found.extend(_resource_changes(old, new, before, after))
    return found


def _resource_changes(old: Catalog, new: Catalog, before: Resource, after: Resource) -> list[Change]:
    rid = before.id
    if before.subject != after.subject:
        return [Change(ChangeKind.SUBJECT_CHANGED, rid, before=before.subject, after=after.subject,
                       ungranted_readers=_read_freely(old, before))]  # fmt: skip
    found = []
    if before.provider != after.provider:
        found.append(Change(ChangeKind.PROVIDER_CHANGED, rid, before=before.provider, after=after.provider))
    found += [Change(ChangeKind.MODE_REMOVED, rid, mode=m) for m in sorted(before.modes - after.modes)]
    for item in before.items:
        if item.share is Share.NOT_SHARED:  # never served: nothing to take away
            continue
        found.extend(_item_changes(old, new, rid, item, after.items_by_name.get(item.name)))
    return found


def _item_changes(old: Catalog, new: Catalog, rid: str, before: Item, after: Item | None) -> list[Change]:
    freely = not needs_grant(old, before)
    if after is None:
        return [Change(ChangeKind.ITEM_REMOVED, rid, before.name, ungranted_readers=freely)]
    found = []
    if STRICTNESS[after.share] > STRICTNESS[before.share] or (freely and needs_grant(new, after)):
        lost = freely and (after.share is Share.NOT_SHARED or needs_grant(new, after))
        found.append(Change(ChangeKind.CLASS_STRICTER, rid, before.name, before=before.share.value,
                            after=after.share.value, ungranted_readers=lost))  # fmt: skip
    elif after.share is Share.CONDITIONAL and before.condition != after.condition:
        found.append(Change(ChangeKind.CONDITION_CHANGED, rid, before.name, before=before.condition,
                            after=after.condition))  # fmt: skip
    if after.share is not Share.NOT_SHARED and _masks_more(before.mask, after.mask):
        found.append(Change(ChangeKind.MASK_TIGHTENED, rid, before.name, before=_mask_text(before.mask),
                            after=_mask_text(after.mask)))  # fmt: skip
    was, now = _compare_class(before), _compare_class(after)
    if after.share is not Share.NOT_SHARED and STRICTNESS[now] > STRICTNESS[was]:
        found.append(Change(ChangeKind.COMPARE_STRICTER, rid, before.name, before=was.value, after=now.value))
    return found


def _masks_more(before: Mask | None, after: Mask | None) -> bool:
    """Whether ``after`` hides a character ``before`` showed (fewer kept at either end)."""
    if after is None:
        return False
    return before is None or after.keep_first < before.keep_first or after.keep_last < before.keep_last


def _mask_text(mask: Mask | None) -> str:
    return "unmasked" if mask is None else f"keep_first {mask.keep_first}, keep_last {mask.keep_last}"


def _compare_class(item: Item) -> Share:
    """The class that decides comparing the item (its ``compare`` override, else its class)."""
    return item.compare or item.share


def _read_freely(catalog: Catalog, resource: Resource) -> bool:
    """Whether some item of the resource was read without any grant."""
    return any(not needs_grant(catalog, item) for item in resource.shared_items)
