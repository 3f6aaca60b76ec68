"""The catalog query's schema: the open flag cites the profile's article (Zhejiang art. 8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies.catalog import load_catalog
from resolvers.schema import build_schema

PROFILES = Path(__file__).parents[1] / "data" / "profiles"


@pytest.mark.parametrize(
    ("profile", "cited"),
    [
        ("zhejiang", "《浙江政务服务网信息资源共享管理暂行办法》 art. 8"),
        ("hubei", "an element of Zhejiang art. 8"),
    ],
)
def test_open_cites_the_profiles_article(profile: str, cited: str) -> None:
    schema = build_schema(load_catalog(PROFILES / f"{profile}.yaml"))._schema
    description = schema.type_map["CatalogResource"].fields["open"].description  # type: ignore[union-attr]
    assert description == f"可否向社会开放: may be opened to the public ({cited})."


def test_the_catalog_query_takes_every_filter_and_pages() -> None:
    schema = build_schema(load_catalog(PROFILES / "hubei.yaml"))._schema
    field = schema.query_type.fields["catalog"]  # type: ignore[union-attr]
    assert list(field.args) == ["search", "provider", "share", "subject", "mode", "open", "first", "after"]
    assert str(field.type) == "Catalog!"
