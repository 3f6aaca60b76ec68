"""The profile's terms in what introspection and ``/schema.graphql`` show (issue 10 section 1).

The ``ShareClass`` enum, the ``@share`` directive and the statistics' ``ItemCounts`` are
declared once (``resolvers.types``, ``resolvers.stats``) with stable English values for
programs; each built schema gets the descriptions of its
catalog's profile: under zhejiang ``CONDITIONAL`` reads 受限共享类, under shanghai 按需共享.
The descriptions are set on the schema's own graphql-core objects (strawberry makes them per
schema), so two schemas of different profiles in one process do not see each other's words.

The code's docstrings cite the article of every regulation a feature rests on ("Hubei art.
26, Zhejiang art. 35, ..."); a schema keeps only its own profile's citations
(``own_citations``), so that a Sanya gateway's users do not read Hubei's articles as theirs.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

from policies.catalog import Catalog
from policies.profile import Profile, load_profile, profile_names
from policies.share import Share


def share_terms_text(profile: Profile) -> str:
    """``"UNCONDITIONAL 非受限共享类, CONDITIONAL 受限共享类, NOT_SHARED 非共享类"``."""
    return ", ".join(f"{share.name} {profile.class_name(share.value)}" for share in Share)


_PROFILES = "Hubei|Sanya|Shanghai|Zhejiang|Zhengzhou"
_NUMBERS = r"art\. \d+(?:-\d+)?(?:, \d+(?:-\d+)?(?! *[A-Z]))*"
_CITATION = rf"(?:{_PROFILES})(?: / (?:{_PROFILES}))* {_NUMBERS}"
_RUN = re.compile(rf"(?P<before>[,;] )?(?P<run>{_CITATION}(?:, {_CITATION})*)(?P<after>: |, )?")
_NAMES = re.compile(rf"\b({_PROFILES})\b")


def own_citations(text: str, profile: str) -> str:
    """``text`` with only ``profile``'s citations: ``"(Hubei art. 26, Sanya art. 27)"`` reads
    ``"(Sanya art. 27)"`` under sanya and disappears under shanghai, with its separator."""
    own = profile.title()

    def keep(match: re.Match[str]) -> str:
        cited = [c for c in re.findall(_CITATION, match["run"]) if own in _NAMES.findall(c)]
        if cited:
            kept = ", ".join(f"{own} art.{c.split(' art.')[1]}" for c in cited)
            return (match["before"] or "") + kept + (match["after"] or "")
        # the citations go with one separator; between two clauses the first one stays
        return match["before"] if match["before"] and match["after"] else ""

    rewritten = _RUN.sub(keep, text)
    return re.sub(r":\s*(?=[.)]|$)", "", re.sub(r" ?\(\s*\)", "", rewritten))


def own_terms(text: str, profile: Profile) -> str:
    """``text`` with every other regulation's class term (``class_names``) replaced by
    ``profile``'s term for the same class: an example written once ("the profile's term
    (受限共享类)") reads 条件共享类 under sanya."""
    for term, share in _foreign_terms(profile.name):
        text = text.replace(term, profile.class_name(share.value))
    return text


@functools.cache
def _foreign_terms(name: str) -> tuple[tuple[str, Share], ...]:
    """Other profiles' class terms that are not part of ``name``'s own, longest first."""
    own = [load_profile(name).class_name(share.value) for share in Share]
    found = {
        (load_profile(other).class_name(share.value), share) for other in profile_names() for share in Share
    }
    foreign = [(term, share) for term, share in found if not any(term in mine for mine in own)]
    return tuple(sorted(foreign, key=lambda pair: -len(pair[0])))


def apply_vocabulary(graphql_schema: Any, catalog: Catalog) -> None:
    """Describe ``ShareClass`` and ``@share`` of ``graphql_schema`` in the profile's terms,
    citing the article that defines them (``articles.classes``)."""
    if catalog.profile not in profile_names():
        return
    profile = load_profile(catalog.profile)
    source = profile.cite("classes")
    enum = graphql_schema.type_map.get("ShareClass")
    if enum is not None:
        enum.description = f"Share class ({source}): {share_terms_text(profile)}"
        for share in Share:
            enum.values[share.name].description = profile.class_name(share.value)
    counts = graphql_schema.type_map.get("ItemCounts")  # stats: items by class
    if counts is not None:
        counts.description = f"Items of a department's resources by share class ({source})."
        for share in Share:
            counts.fields[
                _camel(share.value)
            ].description = f"Items of class {profile.class_name(share.value)}."
    _own_citations_everywhere(graphql_schema, profile)
    item = graphql_schema.type_map.get("CatalogItem")
    if item is not None and "shareTerm" in item.fields:
        item.fields[
            "shareTerm"
        ].description = (
            f"The share class in the profile's own term, e.g. {profile.class_name('conditional')}."
        )
    _describe_open(graphql_schema, profile)  # after: it names Zhejiang art. 8 on purpose
    directive = graphql_schema.get_directive("share")
    if directive is not None:
        directive.description = (
            f"The item's share class ({share_terms_text(profile)}; {source}) and, for "
            f"{profile.class_name('conditional')} items, the condition to meet."
        )


def _describe_open(graphql_schema: Any, profile: Profile) -> None:
    """``CatalogResource.open`` cites the profile's article for 可否向社会开放 where its
    regulation has one (Zhejiang art. 8); elsewhere it says whose element it is."""
    resource = graphql_schema.type_map.get("CatalogResource")
    if resource is None:
        return
    source = profile.cite("open") if "open" in profile.articles else "an element of Zhejiang art. 8"
    resource.fields["open"].description = f"可否向社会开放: may be opened to the public ({source})."


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _own_citations_everywhere(graphql_schema: Any, profile: Profile) -> None:
    """Every description of the schema (types, fields, arguments, enum values, directives)
    keeps only ``profile``'s citations (``own_citations``)."""
    for described in _described(graphql_schema):
        if described.description:
            described.description = own_terms(own_citations(described.description, profile.name), profile)


def _described(graphql_schema: Any) -> list[Any]:
    found: list[Any] = list(graphql_schema.directives)
    found += [arg for d in graphql_schema.directives for arg in d.args.values()]
    for named in graphql_schema.type_map.values():
        found.append(named)
        if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            for f in named.fields.values():
                found.append(f)
                found += list(getattr(f, "args", {}).values())
        if isinstance(named, GraphQLEnumType):
            found += list(named.values.values())
    return found
