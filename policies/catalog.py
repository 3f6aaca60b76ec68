"""The resource catalog (资源目录): departments, resources and items, validated once.

A catalog is YAML, one file or a folder of files whose ``departments`` and
``resources`` lists are joined. ``load_catalog`` refuses anything a consumer could
later trip over (unknown provider, invalid code, non-shared item without legal basis,
conditional item without condition, duplicate or non-GraphQL-safe names, a missing
key item) with a ``CatalogError`` naming the file, the path inside it and the fix.
Every department, resource, item and field is checked even after a problem is found, so
that one run lists them all (``CatalogErrors`` when there are several); only what depends
on a broken part (a resource whose provider is broken, say) goes unchecked until it is fixed.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from errors import CatalogError, CatalogErrors, InvalidCode
from policies.codes import division_rule, is_division, validate_uscc
from policies.profile import REALTIME_KINDS, Profile, load_profile, profile_names
from policies.share import Mode, Share
from policies.yamlfiles import StrictTextDatesLoader

SUBJECTS = ("organization", "person", "none")
LEVELS = ("province", "city", "county", "district")
CATEGORIES = ("base", "theme", "department")
CONTENT_KINDS = (*REALTIME_KINDS, "other")
UPDATE_CYCLES = ("realtime", "daily", "weekly", "monthly", "quarterly", "yearly")
ITEM_TYPES = ("string", "integer", "number", "boolean", "date", "datetime")
NORMALIZERS = ("nfkc", "strip", "upper")
RESERVED_FIELDS = ("code", "id", "disputed")
RESERVED_TYPES = (
    "Query", "Mutation", "Organization", "Person", "Catalog", "CatalogResource", "CatalogItem",
    "Department", "USCC", "CitizenID", "ShareClass", "ServiceMode", "Date", "String", "Int",
    "Float", "Boolean", "ID", "Application", "ApplicationEvent", "ApplicationStatus", "Grant",
    "AuditEventView", "AuditPage", "DepartmentStats", "ItemCounts", "ModeCount", "AuthorizationStats",
    "ResourceTimeliness", "JSON", "DateTime", "ApplicationInput", "ConditionsInput", "MaskInput",
    "CompareResult", "CompareItem", "CompareOutcome", "SourceCircuit",
    "Subscription", "Objection", "ObjectionEvent", "ObjectionStatus", "ObjectionOutcome", "Change",
    "ChangeNotice",
    "LateResource", "LateReason", "EvaluationFigure",
    "DepartmentOnboarding",
    "CatalogEntry", "CatalogEntryEvent", "CatalogEntryState",
)  # fmt: skip
# \Z, not $: "$" also matches before a final newline ("amr.x\n" would pass and be stored)
_ITEM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,127}\Z")  # 128: the platform tables' column width
_RESOURCE_ID = re.compile(r"^(?=.{1,128}\Z)[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\Z")
_FIELD_NAME = re.compile(r"^[a-z][A-Za-z0-9]*\Z")
_REGION = re.compile(r"^\d{6}\Z")


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclass(frozen=True)
class Mask:
    """Keep the first and last characters of a value, star the rest."""

    keep_first: int
    keep_last: int

    def __post_init__(self) -> None:
        if self.keep_first < 0 or self.keep_last < 0:
            raise ValueError("a mask keeps zero or more characters at each end")

    def stricter(self, other: Mask) -> Mask:
        """Both masks applied: the fewer kept characters at each end."""
        return Mask(min(self.keep_first, other.keep_first), min(self.keep_last, other.keep_last))

    def apply(self, value: Any) -> Any:
        if value is None:
            return None
        text = str(value)
        hidden = len(text) - self.keep_first - self.keep_last
        if hidden <= 0:
            return "*" * len(text)
        return text[: self.keep_first] + "*" * hidden + text[len(text) - self.keep_last :]


@dataclass(frozen=True)
class CompareRate:
    """How many subjects a second one consumer may compare at one resource (``per_second``),
    and how many it may compare at once after a pause (``burst``): on average never more
    than ``per_second``, at once never more than ``burst``."""

    per_second: int
    burst: int


COMPARE_DISCLOSURES = ("full", "match_only")


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    region: str
    level: str
    connector: Mapping[str, Any] | None = None  # consumers that provide nothing have none


@dataclass(frozen=True)
class Item:
    name: str
    title: str
    type: str
    share: Share
    condition: str | None = None
    basis: str | None = None
    mask: Mask | None = None
    normalize: tuple[str, ...] = ()
    compare: Share | None = None

    @property
    def field(self) -> str:
        return camel(self.name)


@dataclass(frozen=True)
class Resource:
    id: str
    code: str
    name: str
    provider: str
    subject: str
    key: str
    share: Share
    items: tuple[Item, ...]
    source: Mapping[str, Any]
    summary: str = ""
    category: str = "department"
    format: str = "table"
    update_cycle: str = "daily"
    condition: str | None = None
    basis: str | None = None
    modes: frozenset[Mode] = frozenset({Mode.QUERY})
    open: bool = False  # 可否向社会开放 (Zhejiang art. 8)
    published: dt.date | None = None
    cache_ttl: int | None = None
    field: str = ""
    # compare: "match_only" folds an unknown subject into "mismatch" (anti-enumeration)
    compare_disclosure: str = "full"
    compare_rate: CompareRate | None = None  # None: the gateway's default (GOVSHARE_COMPARE_RATE)
    # content kind: some regulations require realtime updates by kind (Zhejiang art. 25)
    content: str = "other"
    reviewed: dt.date | None = None  # last catalog upkeep of the entry (Shanghai / Zhejiang art. 10)
    items_by_name: Mapping[str, Item] = dataclass_field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "items_by_name", {item.name: item for item in self.items})
        if not self.field:
            object.__setattr__(self, "field", camel(self.id.split(".")[-1]))

    @property
    def type_name(self) -> str:
        return self.field[:1].upper() + self.field[1:]

    @property
    def shared_items(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.share is not Share.NOT_SHARED)


@dataclass(frozen=True)
class Catalog:
    profile: str
    departments: Mapping[str, Department]
    resources: Mapping[str, Resource]
    files: tuple[str, ...] = ()

    def resources_on(self, subject: str) -> tuple[Resource, ...]:
        return tuple(r for r in self.resources.values() if r.subject == subject)

    def provider_of(self, resource: Resource) -> Department:
        return self.departments[resource.provider]

    def share_term(self, share: Share) -> str:
        """The catalog's profile's term for ``share`` (Zhejiang: 受限共享类 for conditional),
        for every text a person reads; the English value when the profile is unknown."""
        if self.profile not in profile_names():
            return share.value
        return load_profile(self.profile).class_name(share.value)


# --- loading --------------------------------------------------------------------------


@dataclass
class _Node:
    """A mapping read from a file, remembering where it came from, for error messages."""

    file: str
    path: str
    data: Mapping[str, Any]
    profile: Profile | None = None  # set once the catalog's profile is known: its terms parse

    def fail(self, key: str | None, problem: str, fix: str) -> CatalogError:
        where = f"{self.path}.{key}" if key and self.path else (key or self.path or "(top)")
        return CatalogError(self.file, where, problem, fix)

    def check_keys(self, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for key in self.data:
            if key not in allowed:
                raise self.fail(str(key), "unknown key", f"use one of: {', '.join(allowed)}")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            raise self.fail(key, "is missing", f"add `{key}:` with a non-empty text")
        if not isinstance(value, str | int) or not str(value).strip():
            raise self.fail(key, f"must be a non-empty text, got {value!r}", "quote it as text")
        return str(value).strip()

    def optional_text(self, key: str) -> str | None:
        return self.text(key) if self.data.get(key) is not None else None

    def choice(self, key: str, options: Iterable[str], default: str | None = None) -> str:
        options = tuple(options)
        value = self.text(key, default)
        if value not in options:
            raise self.fail(key, f"{value!r} is not allowed", f"use one of: {', '.join(options)}")
        return value

    def share(self, key: str, default: Share | None = None) -> Share:
        raw = self.data.get(key)
        if raw is None and default is not None:
            return default
        term = str(self.text(key))
        profile = self.profile or load_profile("hubei")
        parsed = profile.share_of(term)
        if parsed is None:
            raise self.fail(
                key, f"{raw!r} is not a share class of profile {profile.name}", _share_fix(profile)
            )
        return parsed

    def child(self, key: str, index: int | None = None) -> _Node:
        value = self.data.get(key) if index is None else self.data[key][index]
        path = f"{self.path}.{key}" if self.path else key
        path = path if index is None else f"{path}[{index}]"
        if not isinstance(value, Mapping):
            raise CatalogError(self.file, path, "must be a mapping", "write `key: value` lines")
        return _Node(self.file, path, value, self.profile)

    def children(self, key: str) -> list[_Node]:
        value = self.data.get(key)
        if not isinstance(value, list) or not value:
            raise self.fail(key, "must be a non-empty list", f"add `{key}:` with `- ...` entries")
        return [self.child(key, i) for i in range(len(value))]

    def entries(self, key: str, problems: _Problems) -> list[_Node]:
        """Like ``children``, recording a bad list or entry in ``problems``: the good entries
        are still returned and checked."""
        value = self.data.get(key)
        if not isinstance(value, list) or not value:
            problems.append(self.fail(key, "must be a non-empty list", f"add `{key}:` with `- ...` entries"))
            return []
        found = (problems.attempt(functools.partial(self.child, key, i), None) for i in range(len(value)))
        return [node for node in found if node is not None]


def _share_fix(profile: Profile) -> str:
    """Name the profile's own terms: another regulation's term is refused (issue 10 section 1)."""
    terms = profile.own_terms()
    return f"use unconditional, conditional or not_shared, or profile {profile.name}'s terms: {terms}"


_DEPARTMENT_KEYS = ("code", "name", "region", "level", "connector")
_RESOURCE_KEYS = (
    "id", "code", "name", "summary", "provider", "category", "subject", "key", "format",
    "update_cycle", "share", "condition", "basis", "modes", "open", "published", "source",
    "cache_ttl", "items", "field", "compare_disclosure", "compare_rate",
    "cache_ttl", "items", "field",
    "content", "reviewed",  # update limits by content kind, catalog upkeep (policies.timeliness)
)  # fmt: skip
_ITEM_KEYS = (
    "name", "title", "type", "share", "condition", "basis", "mask", "normalize", "compare",
)  # fmt: skip


T = TypeVar("T")


class _Problems(list[CatalogError]):
    """The problems found so far; ``attempt`` records one and goes on with a stand-in value."""

    def attempt(self, check: Callable[[], T], fallback: T) -> T:
        try:
            return check()
        except CatalogErrors as errors:
            self.extend(errors.errors)
        except CatalogError as error:
            self.append(error)
        return fallback

    def passes(self, check: Callable[[], None]) -> bool:
        """Run a check that returns nothing; False (and the problem recorded) when it fails."""
        before = len(self)
        self.attempt(check, None)
        return len(self) == before

    def raise_any(self) -> None:
        if len(self) == 1:
            raise self[0]
        if self:
            raise CatalogErrors(list(self))


def load_catalog(path: str | Path) -> Catalog:
    """Load and validate a catalog file or folder. Raise ``CatalogError`` naming file, path
    and fix when there is one problem, ``CatalogErrors`` listing each when there are more."""
    files = _catalog_files(Path(path))
    problems = _Problems()
    roots = [root for file in files if (root := problems.attempt(functools.partial(_read_yaml, file), None))]
    return _validated(roots, problems, tuple(str(f) for f in files))


def read_catalog_documents(path: str | Path) -> list[tuple[str, Mapping[str, Any]]]:
    """The YAML documents of a catalog file or folder as read (``(file, mapping)`` each, in
    the order ``load_catalog`` joins them), after ``load_catalog(path)`` has accepted them:
    what the catalog store keeps. Raises as ``load_catalog`` does."""
    load_catalog(path)
    return [(str(file), _read_yaml(file).data) for file in _catalog_files(Path(path))]


def catalog_from_documents(documents: Iterable[tuple[str, Mapping[str, Any]]]) -> Catalog:
    """Validate catalog documents already read (``(label, mapping)`` pairs, e.g. the catalog
    store's published entries) exactly as ``load_catalog`` validates files: the same checks,
    every problem at once, each naming its label (as the file), path and fix."""
    problems = _Problems()
    roots = []
    for label, data in documents:
        node = _Node(label, "", data)
        if problems.passes(functools.partial(node.check_keys, ("profile", "departments", "resources"))):
            roots.append(node)
    return _validated(roots, problems, ())


def _validated(roots: list[_Node], problems: _Problems, files: tuple[str, ...]) -> Catalog:
    profile = problems.attempt(lambda: _profile_of(roots), "") if roots else ""
    for root in roots:
        root.profile = load_profile(profile) if profile else None
    departments = _load_departments(roots, problems)
    resources = _load_resources(roots, departments, problems)
    problems.raise_any()
    return Catalog(profile, departments, resources, files)


def _catalog_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
        if not files:
            raise CatalogError(str(path), "(folder)", "holds no .yaml files", "add catalog files")
        return files
    if not path.exists():
        raise CatalogError(str(path), "(file)", "does not exist", "give a catalog file or folder")
    return [path]


def _read_yaml(file: Path) -> _Node:
    try:
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=StrictTextDatesLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        raise CatalogError(str(file), where, f"is not valid YAML: {exc}", "fix the syntax") from exc
    if not isinstance(data, Mapping):
        raise CatalogError(str(file), "(top)", "must be a mapping", "start with `profile:`")
    node = _Node(str(file), "", data)
    node.check_keys(("profile", "departments", "resources"))
    return node


def _profile_of(roots: list[_Node]) -> str:
    named = {root.text("profile") for root in roots if "profile" in root.data}
    if len(named) != 1:
        first = roots[0]
        problem = "no profile named" if not named else f"files name different profiles {named}"
        raise first.fail("profile", problem, "set `profile:` once, e.g. `profile: hubei`")
    profile = named.pop()
    if profile not in profile_names():
        node = next(root for root in roots if "profile" in root.data)
        raise node.fail(
            "profile", f"{profile!r} is not a known profile", f"use one of: {', '.join(profile_names())}"
        )
    return profile


def _entries(roots: list[_Node], key: str, problems: _Problems) -> list[_Node]:
    return [node for root in roots if key in root.data for node in root.entries(key, problems)]


def _load_departments(roots: list[_Node], problems: _Problems) -> dict[str, Department]:
    departments: dict[str, Department] = {}
    for node in _entries(roots, "departments", problems):
        department = _department(node, problems)
        if department is None:
            continue
        if department.code in departments:
            problems.append(node.fail("code", f"department {department.code} is defined twice", "merge them"))
            continue
        departments[department.code] = department
    return departments


def _department(node: _Node, problems: _Problems) -> Department | None:
    before = len(problems)
    problems.passes(lambda: node.check_keys(_DEPARTMENT_KEYS))
    department = Department(
        code=problems.attempt(lambda: _uscc(node, "code"), ""),
        name=problems.attempt(lambda: node.text("name"), ""),
        region=problems.attempt(lambda: _region(node), ""),
        level=problems.attempt(lambda: node.choice("level", LEVELS, "city"), "city"),
        connector=problems.attempt(lambda: _connector(node), None),
    )
    return department if len(problems) == before else None


def _region(node: _Node) -> str:
    region = node.text("region")
    if not _REGION.match(region) or not is_division(region, national=True):
        raise node.fail("region", f"{region!r} is not {division_rule(national=True)}", "e.g. 420100")
    return region


def _connector(node: _Node) -> dict[str, Any] | None:
    if node.data.get("connector") is None:
        return None
    connector = node.child("connector").data
    if "kind" not in connector:
        raise node.fail("connector", "has no `kind`", "add e.g. `kind: sql` and its `url`")
    return dict(connector)


def _uscc(node: _Node, key: str) -> str:
    try:
        return validate_uscc(node.text(key))
    except InvalidCode as exc:
        raise node.fail(key, exc.message, "give the department's own 18-character USCC") from exc


def _load_resources(
    roots: list[_Node], departments: Mapping[str, Department], problems: _Problems
) -> dict[str, Resource]:
    resources: dict[str, Resource] = {}
    fields: dict[tuple[str, str], str] = {}
    for node in _entries(roots, "resources", problems):
        resource = _resource(node, departments, problems)
        if resource is None:
            continue
        if resource.id in resources:
            problems.append(
                node.fail("id", f"resource {resource.id} is defined twice", "give each a unique id")
            )
            continue
        if problems.passes(functools.partial(_claim_field, node, fields, resource)):
            resources[resource.id] = resource
    return resources


def _claim_field(node: _Node, taken: dict[tuple[str, str], str], resource: Resource) -> None:
    """A resource's field is unique on its subject type, and its type name in the schema."""
    builtin = resource.field in RESERVED_FIELDS or resource.type_name in RESERVED_TYPES
    for slot in ((resource.subject, resource.field), ("(type)", resource.type_name)):
        if slot in taken or builtin:
            taken_by = taken.get(slot, "a built-in name")
            name = f"GraphQL {'type' if slot[0] == '(type)' else 'field'} {slot[1]}"
            raise node.fail("id", f"{name} is taken by {taken_by}", "set a distinct `field:`")
    taken[(resource.subject, resource.field)] = taken[("(type)", resource.type_name)] = resource.id


def _resource(node: _Node, departments: Mapping[str, Department], problems: _Problems) -> Resource | None:
    """The resource, or None when it has problems (each recorded)."""
    before = len(problems)
    take = problems.attempt
    problems.passes(lambda: node.check_keys(_RESOURCE_KEYS))
    rid = take(lambda: _resource_id(node), "")
    share = take(lambda: node.share("share", Share.UNCONDITIONAL), Share.UNCONDITIONAL)
    condition = take(lambda: node.optional_text("condition"), None)
    basis = take(lambda: node.optional_text("basis"), None)
    items = _items(node, share, condition, basis, problems)
    resource = Resource(
        id=rid,
        code=take(lambda: node.text("code"), ""),
        name=take(lambda: node.text("name"), ""),
        provider=take(lambda: _provider(node, departments), ""),
        subject=take(lambda: node.choice("subject", SUBJECTS), "none"),
        key=take(lambda: node.text("key"), ""),
        share=share,
        items=items,
        source=take(lambda: node.child("source").data, {}),
        summary=take(lambda: node.optional_text("summary"), None) or "",
        category=take(lambda: node.choice("category", CATEGORIES, "department"), "department"),
        format=take(lambda: node.text("format", "table"), "table"),
        update_cycle=take(lambda: node.choice("update_cycle", UPDATE_CYCLES, "daily"), "daily"),
        condition=condition,
        basis=basis,
        modes=take(lambda: _modes(node), frozenset({Mode.QUERY})),
        open=take(lambda: _open(node), False),
        published=take(lambda: _date(node, "published"), None),
        cache_ttl=take(lambda: _cache_ttl(node), None),
        field=take(lambda: _field_override(node), ""),
        compare_disclosure=take(lambda: _compare_disclosure(node), "full"),
        compare_rate=take(lambda: _compare_rate(node), None),
        content=take(lambda: node.choice("content", CONTENT_KINDS, "other"), "other"),
        reviewed=take(lambda: _date(node, "reviewed"), None),
    )
    if len(problems) > before:
        return None
    problems.passes(lambda: _check_compare_options(node, resource))
    if len(problems) > before:
        return None
    return resource if problems.passes(lambda: _check_key(node, resource)) else None


def _compare_disclosure(node: _Node) -> str:
    return node.choice("compare_disclosure", COMPARE_DISCLOSURES, "full")


def _compare_rate(node: _Node) -> CompareRate | None:
    if node.data.get("compare_rate") is None:
        return None
    child = node.child("compare_rate")
    child.check_keys(("per_second", "burst"))
    fix = "e.g. `compare_rate: {per_second: 50, burst: 1000}`"
    rate, burst = child.data.get("per_second"), child.data.get("burst", child.data.get("per_second"))
    for key, value in (("per_second", rate), ("burst", burst)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise child.fail(key, f"{value!r} is not a whole number of subjects, at least 1", fix)
    assert isinstance(rate, int) and isinstance(burst, int)
    if burst < rate:
        raise child.fail("burst", f"{burst} is less than per_second ({rate})", "make it at least per_second")
    return CompareRate(rate, burst)


def _check_compare_options(node: _Node, resource: Resource) -> None:
    """Compare settings only on a resource that offers compare: elsewhere they would mislead."""
    if Mode.COMPARE in resource.modes:
        return
    for key in ("compare_disclosure", "compare_rate"):
        if key in node.data:
            raise node.fail(key, "is set but the resource does not offer compare", "add compare to `modes:`")


def _resource_id(node: _Node) -> str:
    rid = node.text("id")
    if not _RESOURCE_ID.match(rid):
        raise node.fail(
            "id",
            f"{rid!r} is not a dotted lower_snake id",
            "e.g. amr.enterprise_registration (at most 128 characters)",
        )
    return rid


def _provider(node: _Node, departments: Mapping[str, Department]) -> str:
    code = _uscc(node, "provider")
    if code not in departments:
        raise node.fail("provider", f"unknown provider {code}", "add it under `departments:`")
    if departments[code].connector is None:
        raise node.fail("provider", f"provider {code} has no connector", "give the department `connector:`")
    return code


def _modes(node: _Node) -> frozenset[Mode]:
    raw = node.data.get("modes", ["query"])
    if not isinstance(raw, list) or not raw:
        raise node.fail("modes", "must be a non-empty list", "e.g. `modes: [query, compare]`")
    known = {m.value: m for m in Mode}
    for value in raw:
        if not isinstance(value, str) or value not in known:
            raise node.fail("modes", f"{value!r} is not a mode", "use compare, query or bulk")
    return frozenset(known[v] for v in raw)


def _date(node: _Node, key: str) -> dt.date | None:
    value = node.data.get(key)
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise node.fail(key, f"{value!r} is not a date", "write YYYY-MM-DD") from exc


def _open(node: _Node) -> bool:
    """可否向社会开放: whether the entry may be opened to the public (Zhejiang art. 8 lists it
    among a catalog entry's contents); false unless the catalog says ``open: true``. Only a
    YAML boolean: ``open: "no"`` or ``open: 0`` would read as a wish the file did not state."""
    value = node.data.get("open", False)
    if not isinstance(value, bool):
        raise node.fail("open", f"{value!r} is not true or false", "write `open: true` or `open: false`")
    return value


def _cache_ttl(node: _Node) -> int | None:
    value = node.data.get("cache_ttl")
    if value is not None and (not isinstance(value, int) or value < 0):
        raise node.fail("cache_ttl", f"{value!r} is not whole seconds", "e.g. `cache_ttl: 300`")
    return value


def _field_override(node: _Node) -> str:
    value = node.optional_text("field") or ""
    if value and not _FIELD_NAME.match(value):
        raise node.fail("field", f"{value!r} is not a GraphQL field name", "use lowerCamelCase")
    return value


def _check_key(node: _Node, resource: Resource) -> None:
    key_item = resource.items_by_name.get(resource.key)
    if resource.subject != "none" and key_item is None:
        raise node.fail("key", f"names no item ({resource.key!r})", "list the key item under items")
    if key_item is not None and key_item.share is Share.NOT_SHARED:
        raise node.fail("key", "the key item cannot be not_shared", "share the subject's code")


def _items(
    node: _Node, share: Share, condition: str | None, basis: str | None, problems: _Problems
) -> tuple[Item, ...]:
    items: list[Item] = []
    for child in node.entries("items", problems):
        item = _item(child, share, condition, basis, problems)
        if item is None:
            continue
        if any(other.name == item.name for other in items):
            problems.append(child.fail("name", f"item {item.name} is listed twice", "remove one"))
            continue
        clash = next((other.name for other in items if other.field == item.field), None)
        if clash:
            problems.append(
                child.fail("name", f"{item.name} and {clash} both become field {item.field}", "rename one")
            )
            continue
        items.append(item)
    return tuple(items)


def _item(
    node: _Node, default: Share, condition: str | None, basis: str | None, problems: _Problems
) -> Item | None:
    before = len(problems)
    take = problems.attempt
    problems.passes(lambda: node.check_keys(_ITEM_KEYS))
    name = take(lambda: _item_name(node), "")
    share = take(lambda: node.share("share", default), default)
    item = Item(
        name=name,
        title=take(lambda: node.text("title", name or "-"), ""),
        type=take(lambda: node.choice("type", ITEM_TYPES, "string"), "string"),
        share=share,
        condition=take(lambda: node.optional_text("condition"), None) or condition,
        basis=take(lambda: node.optional_text("basis"), None) or basis,
        mask=take(lambda: _mask(node), None),
        normalize=take(lambda: _normalizers(node), ()),
        compare=take(lambda: node.share("compare") if "compare" in node.data else None, None),
    )
    problems.passes(lambda: _check_class_needs(node, item))
    return item if len(problems) == before else None


def _item_name(node: _Node) -> str:
    name = node.text("name")
    if not _ITEM_NAME.match(name) or name in RESERVED_FIELDS:
        raise node.fail(
            "name", f"{name!r} is not a GraphQL-safe name", "use lower_snake_case, at most 128 characters"
        )
    return name


def _check_class_needs(node: _Node, item: Item) -> None:
    if item.share is Share.NOT_SHARED and not item.basis:
        raise node.fail("basis", "a not_shared item needs its legal basis", _BASIS_FIX)
    if Share.CONDITIONAL in (item.share, item.compare) and not item.condition:
        raise node.fail("condition", "a conditional item needs its condition", _CONDITION_FIX)
    _check_compare_class(node, item)


def _check_compare_class(node: _Node, item: Item) -> None:
    """``compare:`` opens comparing wider than reading, or narrows it to a grant; it cannot
    make a non-shared item comparable (never compared), nor hide a shared one from compare
    alone (leave compare out of the resource's modes instead)."""
    if item.compare is None:
        return
    if item.share is Share.NOT_SHARED:
        raise node.fail("compare", "a not_shared item is never compared", "remove `compare:`")
    if item.compare is Share.NOT_SHARED:
        fix = "use conditional, or drop compare from `modes:`"
        raise node.fail("compare", "cannot be not_shared on a shared item", fix)


_BASIS_FIX = "cite the law, regulation, rule or policy, e.g. `basis: 《统计法》第三十九条`"
_CONDITION_FIX = "say what an applicant needs, e.g. `condition: 用于行政审批核验`"


def _mask(node: _Node) -> Mask | None:
    raw = node.data.get("mask")
    if raw is None:
        return None
    child = node.child("mask")
    child.check_keys(("keep_first", "keep_last"))
    first, last = raw.get("keep_first", 0), raw.get("keep_last", 0)
    if not all(isinstance(n, int) and n >= 0 for n in (first, last)):
        raise node.fail("mask", "keep_first/keep_last must be whole numbers", "e.g. keep_first: 6")
    return Mask(first, last)


def _normalizers(node: _Node) -> tuple[str, ...]:
    raw = node.data.get("normalize", [])
    raw = [raw] if isinstance(raw, str) else raw
    if not isinstance(raw, list):
        raise node.fail(
            "normalize", f"{raw!r} is not a list", f"e.g. `normalize: [{', '.join(NORMALIZERS)}]`"
        )
    for value in raw:
        if value not in NORMALIZERS:
            raise node.fail("normalize", f"{value!r} is unknown", f"use {', '.join(NORMALIZERS)}")
    return tuple(raw)
