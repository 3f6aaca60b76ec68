"""Searching the published catalog (issue 11 section 3): what a search asks, which resources
answer it, and the ids an application may name. The rule is stated here once.

``catalog_query`` validates the arguments of the ``catalog`` query once and raises
``BadRequest`` naming the argument and its allowed values. A resource answers a
``CatalogQuery`` when every filter given holds:

- ``search``: one of its texts (``searchable_texts``: name, summary, id and code of the
  resource; title and name of each item) contains the text, compared after NFKC and lower
  case (a search of 代表人 finds 法定代表人; ＡＭＲ finds amr);
- ``providers``: its provider is one of them (a USCC, or every department whose name
  contains the text given);
- ``share``: one of its items has that class (the English value or the profile's term);
- ``subject``, ``mode``, ``open`` (可否向社会开放, Zhejiang art. 8): the resource's own.

``scan`` answers a query by reading a ``Catalog`` object: it is the reference the database
index (``gateway.catalog_search``) is tested against and the baseline of
``gateway.bench_search``; the gateway answers from the index, never from a scan.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from errors import BadRequest, InvalidCode
from policies.catalog import SUBJECTS, Catalog, Resource
from policies.codes import validate_uscc
from policies.profile import load_profile, profile_names
from policies.share import Mode, Share

SEARCH_MAX_CHARS = 100  # a name, title or phrase; longer texts are not what a catalog holds
TRIGRAM = 3  # shortest text a trigram index answers; shorter ones are scanned by the database
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class CatalogQuery:
    """A validated search: ``search`` folded (``fold``) or None; ``providers`` USCCs or None
    (any); the rest None when not asked."""

    search: str | None = None
    providers: frozenset[str] | None = None
    share: Share | None = None
    subject: str | None = None
    mode: Mode | None = None
    open: bool | None = None


@dataclass(frozen=True)
class Hit:
    """A resource that answers, and the names of its items whose texts matched the search."""

    resource: str
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchPage:
    """Hits of one page in catalog order, how many answer in all, and whether more follow."""

    hits: list[Hit]
    total: int
    more: bool


def fold(text: str) -> str:
    """The form texts are compared in: NFKC (full-width letters and digits as ASCII),
    lower case, runs of white space as one space, trimmed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().lower()


def searchable_texts(resource: Resource) -> Iterator[tuple[str, str]]:
    """``("", resource text)`` then ``(item name, item text)`` per item, each folded, fields
    joined by a newline (a search never spans two fields: ``fold`` removes newlines from it)."""
    fields = (resource.name, resource.summary, resource.id, resource.code)
    yield "", "\n".join(fold(f) for f in fields)
    for item in resource.items:
        yield item.name, f"{fold(item.title)}\n{fold(item.name)}"


def catalog_query(
    catalog: Catalog,
    *,
    search: str | None = None,
    provider: str | None = None,
    share: str | None = None,
    subject: str | None = None,
    mode: str | None = None,
    open: bool | None = None,
) -> CatalogQuery:
    """The arguments of ``catalog(...)`` validated; ``BadRequest`` (``argument`` and
    ``allowed`` in its extensions) names the first bad one and what it accepts."""
    return CatalogQuery(
        search=None if search is None else _search(search),
        providers=None if provider is None else _providers(catalog, provider),
        share=None if share is None else _share(catalog, share),
        subject=None if subject is None else _choice("subject", subject, SUBJECTS),
        mode=None if mode is None else Mode(_choice("mode", mode, [m.value for m in Mode])),
        open=open,
    )


def _refuse(argument: str, problem: str, allowed: Iterable[str]) -> BadRequest:
    allowed = list(allowed)
    message = f"catalog argument {argument}: {problem}; use one of: {', '.join(allowed)}"
    return BadRequest(message, argument=argument, allowed=allowed)


def _control(text: str) -> bool:
    """A control character (NUL, a newline ...): no name, title or summary searched holds one,
    and PostgreSQL refuses NUL in text (SQLite's FTS5 a NUL in a phrase)."""
    return any(unicodedata.category(char) == "Cc" for char in text)


def page_after(text: str) -> str:
    """The ``after`` cursor of ``catalog(...)``: a resource id as the previous page's
    ``nextAfter`` gave it; BadRequest for text no id can be (control characters, over 128)."""
    if _control(text) or len(text) > 128:
        raise BadRequest(
            f"catalog argument after: {text[:40]!r} is no resource id; pass the previous page's "
            "nextAfter, or leave after out for the first page",
            argument="after",
        )
    return text


def _search(text: str) -> str:
    folded = fold(text)
    if not folded or len(folded) > SEARCH_MAX_CHARS or _control(folded):
        raise BadRequest(
            f"catalog argument search: give 1 to {SEARCH_MAX_CHARS} characters of a name, title or "
            "summary (e.g. 法定代表人) without control characters, or leave search out to list every entry",
            argument="search",
        )
    return folded


def _choice(argument: str, value: str, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    folded = fold(value)
    if folded not in allowed:
        raise _refuse(argument, f"{value[:40]!r} is not allowed", [a.upper() for a in allowed])
    return folded


def _share(catalog: Catalog, value: str) -> Share:
    """A class by its GraphQL name (CONDITIONAL), English value or the profile's term."""
    known = catalog.profile in profile_names()
    found = load_profile(catalog.profile).share_of(value.strip()) if known else None
    found = found or next((s for s in Share if fold(value) in (s.value, s.name.lower())), None)
    if found is None:
        terms = [f"{s.name} ({catalog.share_term(s)})" for s in Share]
        raise _refuse("share", f"{value[:40]!r} is not a share class", terms)
    return found


def _providers(catalog: Catalog, value: str) -> frozenset[str]:
    """The departments ``value`` names: by USCC (any spelling ``validate_uscc`` accepts), else
    every department whose name contains it."""
    try:
        code = validate_uscc(value)
    except InvalidCode:
        wanted = fold(value)
        named = frozenset(d.code for d in catalog.departments.values() if wanted and wanted in fold(d.name))
    else:
        named = frozenset({code}) & frozenset(catalog.departments)
    if not named:
        hint = ["a department's USCC or part of its name, as `catalog { departments { code name } }` lists"]
        raise _refuse("provider", f"{value[:40]!r} names no department of the catalog", hint)
    return named


def matches(resource: Resource, query: CatalogQuery) -> bool:
    """Whether ``resource`` answers every filter of ``query`` but the search text."""
    return (
        (query.providers is None or resource.provider in query.providers)
        and (query.share is None or any(item.share is query.share for item in resource.items))
        and (query.subject is None or resource.subject == query.subject)
        and (query.mode is None or query.mode in resource.modes)
        and (query.open is None or resource.open is query.open)
    )


def scan(catalog: Catalog, query: CatalogQuery) -> list[Hit]:
    """Every resource answering ``query``, in catalog order, by reading the catalog (the
    reference; see the module docstring)."""
    hits = []
    for resource in catalog.resources.values():
        if not matches(resource, query):
            continue
        if query.search is None:
            hits.append(Hit(resource.id))
            continue
        found = [name for name, text in searchable_texts(resource) if query.search in text]
        if found:
            hits.append(Hit(resource.id, tuple(name for name in found if name)))
    return hits


def scan_page(catalog: Catalog, query: CatalogQuery, first: int, after: str | None = None) -> SearchPage:
    """``scan`` paged like the index pages (``first`` hits after the resource ``after``)."""
    hits = everything = scan(catalog, query)
    if after is not None:
        ids = list(catalog.resources)
        if after not in catalog.resources:
            raise BadRequest(
                f"catalog argument after: {after[:80]!r} is no resource of the catalog", argument="after"
            )
        hits = [hit for hit in hits if ids.index(hit.resource) > ids.index(after)]
    return SearchPage(hits[:first], len(everything), len(hits) > first)


def item_id(resource: Resource, item_name: str) -> str:
    """The id ``catalog`` gives an item: ``<resource id>.<item name>`` (one dot more than the
    resource id; item names have none)."""
    return f"{resource.id}.{item_name}"


def item_names(catalog: Catalog, resource_id: str, given: Iterable[str]) -> tuple[str, ...]:
    """The item names an application names, given as names or as the ids ``catalog`` returned
    (``item_id``). ``BadRequest`` for an id of another resource or of no resource; an unknown
    name is left for ``check_grantable`` to refuse with the known ones."""
    names = []
    for value in given:
        owner, _, name = value.rpartition(".")
        if owner and owner != resource_id:
            raise BadRequest(
                f"item {value[:120]!r} is not an item of {resource_id[:80]}: apply for one resource "
                "at a time, with that resource's item ids as `catalog` returns them",
                field="items",
            )
        names.append(name if owner else value)
    return tuple(names)
