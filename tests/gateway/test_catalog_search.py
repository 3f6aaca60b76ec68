"""gateway.catalog_search on SQLite (FTS5 trigram) and PostgreSQL (pg_trgm): Chinese
substrings, every filter, paging, rebuilds; and the index against the reference rule
(policies.catalog_query.scan) on generated searches (hypothesis)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from errors import BadRequest
from gateway.bench_search import generated_catalog
from gateway.catalog_search import CatalogSearch, create_tables
from policies.catalog import Catalog, load_catalog
from policies.catalog_query import CatalogQuery, catalog_query, scan_page
from policies.share import Share
from tests.conftest import postgres_url_or_skip

DEMO = Path(__file__).parents[2] / "gateway" / "demo_catalog.yaml"
BACKENDS = ["sqlite", "postgresql"]
AMR = "amr.enterprise_registration"


def _url(backend: str, folder: Path) -> str:
    return f"sqlite+aiosqlite:///{folder}/platform.db" if backend == "sqlite" else postgres_url_or_skip()


@pytest.fixture(scope="module")
def demo_catalog() -> Catalog:
    base = load_catalog(DEMO)
    opened = {rid: dataclasses.replace(r, open=rid == "hpf.deposit") for rid, r in base.resources.items()}
    return dataclasses.replace(base, resources=opened)


@pytest.fixture(params=BACKENDS)
async def search(
    request: pytest.FixtureRequest, tmp_path: Path, demo_catalog: Catalog
) -> AsyncIterator[CatalogSearch]:
    engine = create_async_engine(_url(request.param, tmp_path))
    index = CatalogSearch(engine)
    await index.create_tables()
    await index.index(demo_catalog)
    yield index
    await engine.dispose()


async def _ids(search: CatalogSearch, query: CatalogQuery, first: int = 100) -> list[str]:
    return [hit.resource for hit in (await search.find(query, first)).hits]


async def test_search_of_a_chinese_item_title_finds_the_item(
    search: CatalogSearch, demo_catalog: Catalog
) -> None:
    page = await search.find(catalog_query(demo_catalog, search="法定代表人"), 10)
    assert [(h.resource, h.items) for h in page.hits] == [
        ("amr.enterprise_registration", ("legal_representative",))
    ]
    assert page.total == 1 and not page.more


@pytest.mark.parametrize("text", ["代表人", "定代表", "代表"])  # inside the title, 3 and 2 characters
async def test_a_substring_of_a_title_finds_the_item(
    search: CatalogSearch, demo_catalog: Catalog, text: str
) -> None:
    page = await search.find(catalog_query(demo_catalog, search=text), 10)
    hit = next(h for h in page.hits if h.resource == "amr.enterprise_registration")
    assert "legal_representative" in hit.items


async def test_resource_name_and_summary_match_without_items(
    search: CatalogSearch, demo_catalog: Catalog
) -> None:
    by_summary = await search.find(catalog_query(demo_catalog, search="变更、注销登记"), 10)  # summary only
    assert [(h.resource, h.items) for h in by_summary.hits] == [("amr.enterprise_registration", ())]
    by_name = await _ids(
        search, catalog_query(demo_catalog, search=demo_catalog.resources["mca.marriage"].name)
    )
    assert by_name == ["mca.marriage"]
    by_id = await _ids(
        search, catalog_query(demo_catalog, search="ＴＡＸ.TAX_CREDIT")
    )  # full-width, any case
    assert by_id == ["tax.tax_credit"]


async def test_wildcards_and_quotes_are_text(search: CatalogSearch, demo_catalog: Catalog) -> None:
    assert await _ids(search, catalog_query(demo_catalog, search="_")) == list(
        demo_catalog.resources
    )  # in ids
    for text in ("%", '"', "%代表%", '"法定" OR "企业"', "NEAR(a b)", "\\"):
        assert await _ids(search, catalog_query(demo_catalog, search=text)) == []


def _expected(catalog: Catalog, keep: Any) -> list[str]:
    return [rid for rid, r in catalog.resources.items() if keep(r)]


async def test_every_filter(search: CatalogSearch, demo_catalog: Catalog) -> None:
    amr = demo_catalog.resources["amr.enterprise_registration"].provider
    amr_name = demo_catalog.departments[amr].name
    cases = {
        "provider by USCC": ({"provider": amr.lower()}, lambda r: r.provider == amr),
        "provider by name": ({"provider": amr_name}, lambda r: r.provider == amr),
        "share": ({"share": "NOT_SHARED"}, lambda r: any(i.share is Share.NOT_SHARED for i in r.items)),
        "share in the profile's term": (
            {"share": "有条件共享"},
            lambda r: any(i.share is Share.CONDITIONAL for i in r.items),
        ),
        "subject": ({"subject": "PERSON"}, lambda r: r.subject == "person"),
        "mode": ({"mode": "COMPARE"}, lambda r: any(m.value == "compare" for m in r.modes)),
        "open": ({"open": True}, lambda r: r.open),
        "not open": ({"open": False}, lambda r: not r.open),
    }
    for name, (arguments, keep) in cases.items():
        expected = _expected(demo_catalog, keep)
        assert expected and len(expected) < len(demo_catalog.resources), name  # the filter selects
        assert await _ids(search, catalog_query(demo_catalog, **arguments)) == expected, name


async def test_filters_combine(search: CatalogSearch, demo_catalog: Catalog) -> None:
    query = catalog_query(demo_catalog, subject="organization", share="not_shared", mode="bulk")
    expected = _expected(
        demo_catalog,
        lambda r: (
            r.subject == "organization"
            and any(i.share is Share.NOT_SHARED for i in r.items)
            and "bulk" in {m.value for m in r.modes}
        ),
    )
    assert await _ids(search, query) == expected


async def test_pages_follow_catalog_order(search: CatalogSearch, demo_catalog: Catalog) -> None:
    query, seen, after = catalog_query(demo_catalog), [], None
    while True:
        page = await search.find(query, 3, after)
        assert page.total == len(demo_catalog.resources)
        seen += [h.resource for h in page.hits]
        if not page.more:
            break
        after = page.hits[-1].resource
    assert seen == list(demo_catalog.resources)


async def test_an_unknown_after_is_a_bad_request(search: CatalogSearch, demo_catalog: Catalog) -> None:
    with pytest.raises(BadRequest, match="argument after") as refused:
        await search.find(catalog_query(demo_catalog), 3, "no.such_resource")
    assert refused.value.extensions["argument"] == "after"


async def test_a_rebuild_replaces_the_index(search: CatalogSearch, demo_catalog: Catalog) -> None:
    fewer = {rid: r for rid, r in demo_catalog.resources.items() if rid != "amr.enterprise_registration"}
    await search.index(dataclasses.replace(demo_catalog, resources=fewer))
    assert await _ids(search, catalog_query(demo_catalog, search="法定代表人")) == []
    assert await _ids(search, catalog_query(demo_catalog)) == list(fewer)
    await search.index(demo_catalog)
    assert await _ids(search, catalog_query(demo_catalog, search="法定代表人")) == [
        "amr.enterprise_registration"
    ]


async def test_concurrent_rebuilds_leave_one_copy(search: CatalogSearch, demo_catalog: Catalog) -> None:
    await asyncio.gather(*(search.index(demo_catalog) for _ in range(4)))  # two workers starting at once
    page = await search.find(catalog_query(demo_catalog), 100)
    assert [h.resource for h in page.hits] == list(demo_catalog.resources)
    assert (await search.find(catalog_query(demo_catalog, search="法定代表人"), 5)).hits[0].items == (
        "legal_representative",
    )


# --- the index agrees with the reference rule ----------------------------------------------


GENERATED = generated_catalog(120)
_TEXTS = sorted(
    {t for r in GENERATED.resources.values() for t in (r.name, r.summary, *(i.title for i in r.items))}
)


@st.composite
def _search_texts(draw: st.DrawFn) -> str:
    """A slice of a real text (so that searches find things), or any text."""
    if draw(st.booleans()):
        text = draw(st.sampled_from(_TEXTS))
        start = draw(st.integers(0, len(text) - 1))
        return text[start : start + draw(st.integers(1, 6))]
    return draw(
        st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=8)
    )


QUERIES = st.fixed_dictionaries(
    {},
    optional={
        "search": _search_texts(),
        "share": st.sampled_from(["UNCONDITIONAL", "CONDITIONAL", "NOT_SHARED"]),
        "subject": st.sampled_from(["ORGANIZATION", "PERSON", "NONE"]),
        "mode": st.sampled_from(["QUERY", "COMPARE", "BULK"]),
        "open": st.booleans(),
        "provider": st.sampled_from(sorted(GENERATED.departments)),
    },
)


@pytest.fixture(params=BACKENDS)
def runner_index(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[asyncio.Runner, CatalogSearch]]:
    url = _url(request.param, tmp_path)
    with asyncio.Runner() as runner:
        engine = create_async_engine(url)
        index = CatalogSearch(engine)
        runner.run(index.create_tables())
        runner.run(index.index(GENERATED))
        yield runner, index
        runner.run(engine.dispose())


def test_the_index_answers_as_the_reference_scan(runner_index: tuple[asyncio.Runner, CatalogSearch]) -> None:
    runner, index = runner_index

    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(arguments=QUERIES, first=st.integers(1, 30))
    def agrees(arguments: dict[str, Any], first: int) -> None:
        try:
            query = catalog_query(GENERATED, **arguments)
        except BadRequest:
            return  # a search that folds to nothing: refused before any database (tested elsewhere)
        expected = scan_page(GENERATED, query, first)
        found = runner.run(index.find(query, first))
        assert [h.resource for h in found.hits] == [h.resource for h in expected.hits]
        assert [set(h.items) for h in found.hits] == [set(h.items) for h in expected.hits]
        assert (found.total, found.more) == (expected.total, expected.more)

    agrees()


# --- PostgreSQL without the right to create pg_trgm ----------------------------------------

NOEXT_ROLE = "govshare_search_noext"


async def test_without_pg_trgm_search_warns_and_still_answers(
    tmp_path: Path, demo_catalog: Catalog, caplog: pytest.LogCaptureFixture
) -> None:
    """A role that may not create extensions (no CREATE on the database): the tables are made
    without the trigram index, a warning names the fix, and search gives the same answers."""
    admin_url = postgres_url_or_skip()
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        if not (
            await conn.exec_driver_sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ).scalar():
            pytest.skip("needs a superuser to make a role without CREATE")
        database = (await conn.exec_driver_sql("SELECT current_database()")).scalar()
        for statement in _noext_setup(str(database)):
            await conn.exec_driver_sql(statement)
    url = make_url(admin_url).set(username=NOEXT_ROLE, password="noext")
    engine = create_async_engine(url)
    try:
        index = CatalogSearch(engine)
        with caplog.at_level("WARNING", logger="govshare.catalog"):
            await index.create_tables()
        assert "CREATE EXTENSION pg_trgm" in caplog.text
        await index.index(demo_catalog)
        page = await index.find(catalog_query(demo_catalog, search="代表人"), 10)
        assert [(h.resource, h.items) for h in page.hits] == [
            ("amr.enterprise_registration", ("legal_representative",))
        ]
    finally:
        await engine.dispose()
        async with admin.connect() as conn:
            for statement in _noext_teardown():
                await conn.exec_driver_sql(statement)
            await conn.run_sync(create_tables)  # as a migrated database has them
        await admin.dispose()


def _noext_setup(database: str) -> list[str]:
    return [
        *_noext_teardown(),
        "DROP EXTENSION IF EXISTS pg_trgm CASCADE",
        f"CREATE ROLE {NOEXT_ROLE} LOGIN PASSWORD 'noext'",
        f"GRANT CONNECT ON DATABASE {database} TO {NOEXT_ROLE}",
        f"GRANT USAGE, CREATE ON SCHEMA public TO {NOEXT_ROLE}",
        "DROP TABLE IF EXISTS catalog_search_text, catalog_search_resources",
    ]


def _noext_teardown() -> list[str]:
    return [
        "DROP TABLE IF EXISTS catalog_search_text, catalog_search_resources",
        f"DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{NOEXT_ROLE}') THEN "
        f"EXECUTE 'DROP OWNED BY {NOEXT_ROLE}'; EXECUTE 'DROP ROLE {NOEXT_ROLE}'; END IF; END $$",
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    ]
