"""The profile's terms in what introspection and ``/schema.graphql`` show (issue 10 section 1).

The ``ShareClass`` enum, the ``@share`` directive and the statistics' ``ItemCounts`` are
declared once (``resolvers.types``, ``resolvers.stats``) with stable English values for
programs; each built schema gets the descriptions of its
catalog's profile: under zhejiang ``CONDITIONAL`` reads 受限共享类, under shanghai 按需共享.
The descriptions are set on the schema's own graphql-core objects (strawberry makes them per
schema), so two schemas of different profiles in one process do not see each other's words.
"""

from __future__ import annotations

from typing import Any

from policies.catalog import Catalog
from policies.profile import Profile, load_profile, profile_names
from policies.share import Share


def share_terms_text(profile: Profile) -> str:
    """``"UNCONDITIONAL 非受限共享类, CONDITIONAL 受限共享类, NOT_SHARED 非共享类"``."""
    return ", ".join(f"{share.name} {profile.class_name(share.value)}" for share in Share)


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
    _describe_open(graphql_schema, profile)
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
